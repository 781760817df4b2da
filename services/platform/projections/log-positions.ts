// Where the live runner stands in the log, per partition: the next offset it
// reads, the log's end when the service started (the runner has caught up
// once it read that far everywhere), the end as last fetched, and how far
// waiting writers have been shown events (events re-read for a rebuild are not
// news to them).
import type { Logger } from '../logger.ts';
import type { PartitionKey } from './partition-key.ts';

export interface LogPositions {
  /** Next offset to read. */
  readonly read: Map<PartitionKey, bigint>;
  /** The log's end when the runner started. */
  readonly startEnds: Map<PartitionKey, bigint>;
  /** The log's end as last fetched. */
  readonly ends: Map<PartitionKey, bigint>;
  /** Offsets below this were shown to waiting writers already. */
  readonly observedUpTo: Map<PartitionKey, bigint>;
  caughtUp(): boolean;
  /** Checks whether every partition reached its start end (once true, stays true). */
  updateCaughtUp(): void;
}

export function createLogPositions(logger: Logger, service: string): LogPositions {
  const read = new Map<PartitionKey, bigint>();
  const startEnds = new Map<PartitionKey, bigint>();
  let caughtUp = false;
  return {
    read,
    startEnds,
    ends: new Map(),
    observedUpTo: new Map(),
    caughtUp: () => caughtUp,
    updateCaughtUp() {
      if (caughtUp) return;
      for (const [k, end] of startEnds) if ((read.get(k) ?? 0n) < end) return;
      caughtUp = true;
      logger.info({ service }, 'read models caught up with the log');
    },
  };
}
