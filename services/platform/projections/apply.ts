// Applying events to a projection's database: the one piece the live runner and
// the rebuild tool share. A fetched batch goes into one SQLite transaction per
// projection together with its checkpoint, through prepared statements; every
// event below the projection's checkpoint is skipped, so re-reading is harmless.
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { KafkaMessage } from 'kafkajs';
import type { IHeaders } from 'kafkajs';
import { fromHeaders, HEADER, headerText, type MessageMetadata } from '../headers.ts';
import type { Codec } from '../schemas/codec.ts';
import { decodeOrPoison } from '../schemas/decode-or-poison.ts';
import type { TopicDescriptor } from '../topics.ts';
import { partitionKey, type PartitionKey } from './partition-key.ts';
import type { ProjectedEvent, Projection } from './projection.ts';
import { checkpoints, openDatabase, projectionDir, type OpenOptions } from './store.ts';

export interface ProjectionHandle {
  projection: Projection;
  file: string;
  db: Database.Database;
  apply: (event: ProjectedEvent) => void;
  /** Next offset to apply, per partition. */
  checkpoints: Map<PartitionKey, bigint>;
  saveCheckpoint: Database.Statement;
}

/** Thrown inside a projection's transaction to roll the whole batch back. */
export class BatchFailed extends Error {
  constructor(
    readonly failed: ProjectedEvent[],
    readonly reason: string,
  ) {
    super(`${failed.length} event(s) failed, the first at ${failed[0]?.topic}[${failed[0]?.partition}]@${failed[0]?.offset} (${failed[0]?.type}): ${reason}`);
  }
}

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

/** An event as projections see it; its metadata is parsed from the headers only if asked for. */
class DecodedEvent implements ProjectedEvent {
  #meta: MessageMetadata | undefined;
  constructor(
    readonly topic: string,
    readonly type: string,
    readonly data: Record<string, unknown>,
    readonly partition: number,
    readonly offset: bigint,
    readonly key: string | undefined,
    private readonly headers: IHeaders | undefined,
    private readonly timestamp: string,
  ) {}
  get meta(): MessageMetadata {
    return (this.#meta ??= fromHeaders(this.headers, Number(this.timestamp)));
  }
}

/** Record types wanted from a topic by a set of projections; undefined when one wants them all. */
export function wantedTypes(projections: Projection[], topic: TopicDescriptor): Set<string> | undefined {
  const readers = projections.filter((p) => p.topics.some((t) => t.name === topic.name));
  if (readers.some((p) => !p.handles)) return undefined;
  return new Set(readers.flatMap((p) => p.handles!));
}

/**
 * Decodes a batch; poison goes to `onPoison` (which must dead-letter it) and is
 * left out. With `wanted`, messages whose ce_type names another record are
 * skipped undecoded.
 */
export async function decodeBatch(
  codec: Codec,
  topic: TopicDescriptor,
  partition: number,
  messages: KafkaMessage[],
  onPoison: (message: KafkaMessage, reason: string) => Promise<void>,
  wanted?: ReadonlySet<string>,
): Promise<ProjectedEvent[]> {
  const events: ProjectedEvent[] = [];
  for (const message of messages) {
    if (wanted) {
      const type = headerText(message.headers, HEADER.type);
      if (type && !wanted.has(type.slice(type.lastIndexOf('.') + 1))) continue;
    }
    const decoded = await decodeOrPoison(codec, topic, message.value);
    if (decoded.ok)
      events.push(
        new DecodedEvent(
          topic.baseName,
          decoded.message.type,
          decoded.message.data as Record<string, unknown>,
          partition,
          BigInt(message.offset),
          message.key?.toString(),
          message.headers,
          message.timestamp,
        ),
      );
    else await onPoison(message, decoded.poison);
  }
  return events;
}

/**
 * Applies a batch to one projection in one transaction, with its checkpoint
 * moved to `next`, or throws BatchFailed having changed nothing. Returns how
 * many events were applied.
 */
export function applyBatch(handle: ProjectionHandle, topic: TopicDescriptor, partition: number, events: ProjectedEvent[], next: bigint, skip: ReadonlySet<bigint> = new Set()): number {
  const key = partitionKey(topic, partition);
  const from = handle.checkpoints.get(key) ?? 0n;
  if (next <= from) return 0;
  const due = events.filter((e) => e.offset >= from && !skip.has(e.offset));
  try {
    handle.db.transaction(() => {
      for (const event of due) handle.apply(event);
      handle.saveCheckpoint.run(topic.baseName, partition, next);
    })();
  } catch (error) {
    // Something threw and the transaction rolled back. Redo it with a
    // savepoint per event, only to learn which events fail.
    const failed: ProjectedEvent[] = [];
    let reason = (error as Error).message;
    handle.db.transaction(() => {
      for (const event of due) {
        try {
          handle.db.transaction(() => handle.apply(event))();
        } catch (eventError) {
          if (failed.length === 0) reason = (eventError as Error).message;
          failed.push(event);
        }
      }
      throw new BatchFailed(failed.length ? failed : due, reason);
    })();
  }
  handle.checkpoints.set(key, next);
  return due.length;
}
