// Applying events to a projection's database: the one piece the live runner and
// the rebuild tool share. A fetched batch goes into one SQLite transaction per
// projection together with its checkpoint, through prepared statements; every
// event below the projection's checkpoint is skipped, so re-reading is harmless.
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { KafkaMessage } from 'kafkajs';
import { fromHeaders } from '../headers.ts';
import { DecodeError, type Codec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { checkpoints, openDatabase, projectionDir, type OpenOptions } from './store.ts';

export interface ProjectionHandle {
  projection: Projection;
  file: string;
  db: Database.Database;
  apply: (event: ProjectedEvent) => void;
  /** `topic|partition` (topic without prefix) -> next offset to apply. */
  checkpoints: Map<string, bigint>;
  saveCheckpoint: Database.Statement;
}

/** Thrown inside a projection's transaction to roll the whole batch back. */
export class BatchFailed extends Error {
  constructor(readonly failed: ProjectedEvent[]) {
    super(`${failed.length} event(s) failed`);
  }
}

export const checkpointKey = (topic: TopicDescriptor | string, partition: number) => `${typeof topic === 'string' ? topic : topic.baseName}|${partition}`;

export function openHandle(projection: Projection, dataDir: string, service: string, file: string, options: OpenOptions = {}): ProjectionHandle {
  const db = openDatabase(path.join(projectionDir(dataDir, service), file), projection, options);
  return {
    projection,
    file,
    db,
    apply: projection.handler(db),
    checkpoints: checkpoints(db),
    saveCheckpoint: db.prepare(`INSERT INTO _checkpoints (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset`),
  };
}

/** Decodes a batch; poison goes to `onPoison` (which must dead-letter it) and is left out. */
export async function decodeBatch(
  codec: Codec,
  topic: TopicDescriptor,
  partition: number,
  messages: KafkaMessage[],
  onPoison: (message: KafkaMessage, reason: string) => Promise<void>,
): Promise<ProjectedEvent[]> {
  const events: ProjectedEvent[] = [];
  for (const message of messages) {
    try {
      const decoded = await codec.decode(topic, message.value);
      events.push({
        topic: topic.baseName,
        type: decoded.message.type,
        data: decoded.message.data as Record<string, unknown>,
        meta: fromHeaders(message.headers, Number(message.timestamp)),
        partition,
        offset: BigInt(message.offset),
        key: message.key?.toString(),
      });
    } catch (error) {
      if (!(error instanceof DecodeError) || !error.permanent) throw error;
      await onPoison(message, `undecodable: ${error.message}`);
    }
  }
  return events;
}

/**
 * Applies a batch to one projection in one transaction, with its checkpoint
 * moved to `next`, or throws BatchFailed having changed nothing. Returns how
 * many events were applied.
 */
export function applyBatch(handle: ProjectionHandle, topic: TopicDescriptor, partition: number, events: ProjectedEvent[], next: bigint, skip: ReadonlySet<bigint> = new Set()): number {
  const key = checkpointKey(topic, partition);
  const from = handle.checkpoints.get(key) ?? 0n;
  if (next <= from) return 0;
  const due = events.filter((e) => e.offset >= from && !skip.has(e.offset));
  try {
    handle.db.transaction(() => {
      for (const event of due) handle.apply(event);
      handle.saveCheckpoint.run(topic.baseName, partition, next);
    })();
  } catch {
    // Something threw and the transaction rolled back. Redo it with a
    // savepoint per event, only to learn which events fail.
    const failed: ProjectedEvent[] = [];
    handle.db.transaction(() => {
      for (const event of due) {
        try {
          handle.db.transaction(() => handle.apply(event))();
        } catch {
          failed.push(event);
        }
      }
      throw new BatchFailed(failed.length ? failed : due);
    })();
  }
  handle.checkpoints.set(key, next);
  return due.length;
}
