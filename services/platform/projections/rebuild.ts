// Rebuilding read models from the log into new database files, while whatever
// serves the current ones keeps serving:
//   1. check that every partition the projections read still starts at offset 0
//      (retention must not have deleted the beginning), before touching anything;
//   2. read every partition from offset 0 to its end, applying each batch to all
//      the projections being rebuilt in one pass, into new files;
//   3. catch up with what was written meanwhile, pass after pass, until close;
//   4. optionally verify: an online copy of the live database and the rebuilt one
//      are both brought to the same position in the log, then compared row by row;
//   5. swap: each projection's pointer file is replaced atomically. A running
//      service sees the new pointer, catches the new file up to its live one and
//      switches between requests; a stopped one opens it on its next start.
// A rebuild killed at any point leaves the pointers, and so the live models,
// untouched; files it left behind are removed by the next rebuild.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Kafka } from 'kafkajs';
import { readPartitions } from '../kafka/partition-reader.ts';
import type { Codec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import { applyBatch, checkpointKey, decodeBatch, openHandle, type ProjectionHandle } from './apply.ts';
import type { Projection } from './projection.ts';
import { projectionDir, readPointer, servingMode, writePointer } from './store.ts';
import { compareDatabases, type Comparison } from './verify.ts';

export class RebuildRefused extends Error {}

export interface PartitionExtent {
  partition: number;
  low: bigint;
  high: bigint;
}

export interface RebuildPlan {
  topics: Map<string, { topic: TopicDescriptor; partitions: PartitionExtent[] }>;
  projections: { projection: Projection; events: bigint }[];
}

export interface Progress {
  projection: string;
  done: number;
  total: number;
}

export interface RebuildResult {
  projection: string;
  file: string;
  events: number;
  seconds: number;
  comparison?: Comparison;
  verifySkipped?: string;
}

export interface RebuildOptions {
  kafka: Kafka;
  codec: Codec;
  service: string;
  dataDir: string;
  projections: Projection[];
  verify?: boolean;
  onProgress?: (progress: Progress) => void;
  /** How close to the live end the catch-up passes must come before the swap. */
  closeEnough?: number;
}

async function extents(kafka: Kafka, topics: TopicDescriptor[]): Promise<Map<string, PartitionExtent[]>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const result = new Map<string, PartitionExtent[]>();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic.name);
      result.set(topic.name, offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })).sort((a, b) => a.partition - b.partition));
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

/** What a rebuild would read; refuses if any partition lost its beginning. */
export async function planRebuild(kafka: Kafka, projections: Projection[]): Promise<RebuildPlan> {
  const topics = new Map<string, TopicDescriptor>();
  for (const p of projections) for (const t of p.topics) topics.set(t.name, t);
  const found = await extents(kafka, [...topics.values()]);
  const truncated: string[] = [];
  for (const [name, partitions] of found) {
    for (const p of partitions) if (p.low > 0n) truncated.push(`${name}[${p.partition}] starts at offset ${p.low}`);
  }
  if (truncated.length) {
    const who = projections.filter((p) => p.topics.some((t) => truncated.some((x) => x.startsWith(`${t.name}[`)))).map((p) => p.name);
    throw new RebuildRefused(`the log no longer starts at offset 0 (retention deleted its beginning): ${truncated.join(', ')}; cannot rebuild ${who.join(', ')}; nothing was changed`);
  }
  return {
    topics: new Map([...topics].map(([name, topic]) => [name, { topic, partitions: found.get(name)! }])),
    projections: projections.map((projection) => ({
      projection,
      events: projection.topics.reduce((n, t) => n + found.get(t.name)!.reduce((m, p) => m + p.high - p.low, 0n), 0n),
    })),
  };
}

const REBUILD_FILE = /\.rebuild-(\d+)\.sqlite(-wal|-shm)?$/;

/** Files earlier rebuilds left behind (their process is gone), never what a pointer names. */
function removeLeftovers(dir: string, projection: Projection, dataDir: string, service: string): void {
  if (!fs.existsSync(dir)) return;
  const live = readPointer(dataDir, service, projection.name)?.file;
  for (const file of fs.readdirSync(dir)) {
    const match = REBUILD_FILE.exec(file);
    // A database's -wal and -shm files belong to it: never remove those of the live one.
    if (!file.startsWith(`${projection.name}.v`) || !match || file.replace(/-(wal|shm)$/, '') === live) continue;
    let alive = false;
    try {
      process.kill(Number(match[1]), 0);
      alive = Number(match[1]) !== process.pid;
    } catch {
      alive = false;
    }
    if (!alive) fs.rmSync(path.join(dir, file), { force: true });
  }
}

/** Reads every partition of the handles' topics from their checkpoints to `ends`, applying as it goes. */
async function catchUp(
  kafka: Kafka,
  codec: Codec,
  handles: ProjectionHandle[],
  topics: TopicDescriptor[],
  ends: Map<string, PartitionExtent[]>,
  /** Events applied, and log offsets read (events, markers and aborted records alike). */
  onProgress: (handle: ProjectionHandle, applied: number, offsets: number) => void,
): Promise<void> {
  await Promise.all(
    topics.map(async (topic) => {
      const readers = handles.filter((h) => h.projection.topics.some((t) => t.name === topic.name));
      const partitions = ends.get(topic.name) ?? [];
      const from = (p: number) => readers.reduce<bigint | undefined>((min, h) => {
        const c = h.checkpoints.get(checkpointKey(topic, p)) ?? 0n;
        return min === undefined || c < min ? c : min;
      }, undefined) ?? 0n;
      const read = new Map(partitions.map((p) => [p.partition, from(p.partition)]));
      const advance = (partition: number, next: bigint) => {
        const offsets = Number(next - (read.get(partition) ?? next));
        read.set(partition, next);
        return offsets;
      };
      await readPartitions({
        kafka,
        topic: topic.name,
        groupPrefix: 'rebuild',
        ranges: partitions.map((p) => ({ partition: p.partition, from: from(p.partition), to: p.high })),
        onBatch: async (partition, messages) => {
          // Poison was dead-lettered by the live consumer already; a rebuild only skips it.
          const events = await decodeBatch(codec, topic, partition, messages, async () => {});
          const next = BigInt(messages[messages.length - 1]!.offset) + 1n;
          const offsets = advance(partition, next);
          for (const h of readers) onProgress(h, applyBatch(h, topic, partition, events, next), offsets);
        },
      });
      // The end may be a transaction marker no batch delivered: checkpoints go to the end.
      for (const p of partitions) {
        const offsets = advance(p.partition, p.high);
        for (const h of readers) {
          applyBatch(h, topic, p.partition, [], p.high);
          onProgress(h, 0, offsets);
        }
      }
    }),
  );
}

export async function rebuildProjections(options: RebuildOptions): Promise<RebuildResult[]> {
  const { kafka, codec, service, dataDir, projections } = options;
  const plan = await planRebuild(kafka, projections);
  const dir = projectionDir(dataDir, service);
  fs.mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const done = new Map<string, number>();
  const applied = new Map<string, number>();
  const handles = projections.map((projection) => {
    removeLeftovers(dir, projection, dataDir, service);
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    return openHandle(projection, dataDir, service, `${projection.name}.v${projection.version}.${stamp}.rebuild-${process.pid}.sqlite`, { bulk: true });
  });
  const totals = new Map(plan.projections.map((p) => [p.projection.name, Number(p.events)]));
  const report = (h: ProjectionHandle, events: number, offsets: number) => {
    const name = h.projection.name;
    applied.set(name, (applied.get(name) ?? 0) + events);
    const count = (done.get(name) ?? 0) + offsets;
    done.set(name, count);
    options.onProgress?.({ projection: name, done: count, total: Math.max(count, totals.get(name) ?? 0) });
  };
  const topics = [...plan.topics.values()].map((t) => t.topic);

  try {
    // Pass after pass until what was written meanwhile is small: the service catches the rest up.
    let ends = new Map([...plan.topics].map(([name, t]) => [name, t.partitions]));
    for (let pass = 0; ; pass++) {
      await catchUp(kafka, codec, handles, topics, ends, report);
      const next = await extents(kafka, topics);
      const behind = [...next].reduce((n, [name, parts]) => n + parts.reduce((m, p) => m + Number(p.high - (ends.get(name)?.find((q) => q.partition === p.partition)?.high ?? 0n)), 0), 0);
      for (const p of plan.projections) totals.set(p.projection.name, (totals.get(p.projection.name) ?? 0) + behind);
      if (behind <= (options.closeEnough ?? 1000) || pass >= 10) break;
      ends = next;
    }

    const results: RebuildResult[] = [];
    for (const handle of handles) {
      const result: RebuildResult = { projection: handle.projection.name, file: handle.file, events: applied.get(handle.projection.name) ?? 0, seconds: (Date.now() - started) / 1000 };
      if (options.verify) Object.assign(result, await verifyAgainstLive(options, handle, topics));
      results.push(result);
    }
    for (const handle of handles) {
      servingMode(handle.db);
      handle.db.close();
      writePointer(dataDir, service, handle.projection.name, { file: handle.file, version: handle.projection.version });
    }
    return results;
  } catch (error) {
    for (const handle of handles) {
      if (handle.db.open) handle.db.close();
      fs.rmSync(path.join(dir, handle.file), { force: true });
    }
    throw error;
  }
}

/**
 * An online copy of the live database (SQLite's backup API, safe while the
 * service writes to it) and the rebuilt one, brought to the same position in
 * the log with the same code, then compared.
 */
async function verifyAgainstLive(options: RebuildOptions, rebuilt: ProjectionHandle, topics: TopicDescriptor[]): Promise<Pick<RebuildResult, 'comparison' | 'verifySkipped'>> {
  const { kafka, codec, service, dataDir } = options;
  const projection = rebuilt.projection;
  const pointer = readPointer(dataDir, service, projection.name);
  if (!pointer) return { verifySkipped: 'there is no live model to compare with' };
  if (pointer.version !== projection.version) return { verifySkipped: `the live model is version ${pointer.version}, the rebuilt one ${projection.version}` };
  const dir = projectionDir(dataDir, service);
  const copyFile = `${projection.name}.verify-${process.pid}.sqlite`;
  const source = new Database(path.join(dir, pointer.file), { readonly: true, fileMustExist: true });
  try {
    await source.backup(path.join(dir, copyFile));
  } finally {
    source.close();
  }
  const copy = openHandle(projection, dataDir, service, copyFile, { bulk: true });
  try {
    const mine = projection.topics.filter((t) => topics.some((x) => x.name === t.name));
    const ends = await extents(kafka, mine);
    await catchUp(kafka, codec, [copy, rebuilt], mine, ends, () => {});
    return { comparison: compareDatabases(copy.db, rebuilt.db) };
  } finally {
    copy.db.close();
    fs.rmSync(path.join(dir, copyFile), { force: true });
  }
}
