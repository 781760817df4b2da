// Rebuilding read models from the log into new database files, while whatever
// serves the current ones keeps serving:
//   1. check that every partition the projections read still starts at offset 0
//      (retention must not have deleted the beginning), before touching anything;
//   2. read every partition from offset 0 to its end, applying each batch to all
//      the projections being rebuilt in one pass, into new files. The main thread
//      fetches; a worker thread decodes and writes SQLite, so the two overlap;
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
import { applyBatch, decodeBatch, openHandle, type ProjectionHandle } from './apply.ts';
import { partitionKey } from './partition-key.ts';
import { createBulkApplier } from './bulk-apply.ts';
import type { Projection } from './projection.ts';
import { namespacedDataDir, projectionDir, readPointer, readyToServe, writePointer } from './store.ts';
import { compareDatabases, type Comparison } from './verify.ts';
import { createWorkerAppliers } from './worker-applier.ts';
import type { Applier, ReadModelSource } from './worker-protocol.ts';

import { extents, planRebuild } from './rebuild-plan.ts';

export { planRebuild, RebuildRefused, type PartitionExtent, type RebuildPlan } from './rebuild-plan.ts';

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
  topicPrefix: string;
  registryUrl: string;
  dataDir: string;
  projections: Projection[];
  /** Where the worker thread finds the same projections. */
  source: ReadModelSource;
  verify?: boolean;
  onProgress?: (progress: Progress) => void;
  /** How close to the live end the catch-up passes must come before the swap. */
  closeEnough?: number;
  /** Worker threads the projections are spread over (default one: on two cores, a second loses more to contention and double decoding than it gains). */
  workers?: number;
}

type Ranges = Map<string, { partition: number; from: bigint; to: bigint }[]>;

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

/** Reads the given ranges of every topic (topics in parallel) into the applier. */
/** Readers' groups fall under the service's own ("<prefix><service>-"), which its ACLs allow. */
const readerGroup = (options: { topicPrefix: string; service: string }) => `${options.topicPrefix}${options.service}-rebuild`;

async function catchUp(kafka: Kafka, groupPrefix: string, topics: TopicDescriptor[], ranges: Ranges, applier: Applier, onOffsets: (topic: TopicDescriptor, offsets: number) => void): Promise<void> {
  await Promise.all(
    topics.map(async (topic) => {
      const partitions = ranges.get(topic.name) ?? [];
      const read = new Map(partitions.map((p) => [p.partition, p.from]));
      const advance = (partition: number, next: bigint) => {
        onOffsets(topic, Number(next - (read.get(partition) ?? next)));
        read.set(partition, next);
      };
      await readPartitions({
        kafka,
        topic: topic.name,
        groupPrefix,
        ranges: partitions,
        onBatch: async (partition, messages) => {
          await applier.apply(topic, partition, messages);
          advance(partition, BigInt(messages[messages.length - 1]!.offset) + 1n);
        },
      });
      for (const p of partitions) {
        await applier.finish(topic, p.partition, p.to);
        advance(p.partition, p.to);
      }
    }),
  );
  await applier.drain();
}

/** Applies batches in this thread, to handles it holds (what --verify uses). */
function inThread(codec: Codec, handles: ProjectionHandle[]): Applier {
  const readers = (topic: TopicDescriptor) => handles.filter((h) => h.projection.topics.some((t) => t.name === topic.name));
  return {
    async apply(topic, partition, messages) {
      // Poison was dead-lettered by the live consumer already; a rebuild only skips it.
      const events = await decodeBatch(codec, topic, partition, messages, async () => {});
      const next = BigInt(messages[messages.length - 1]!.offset) + 1n;
      for (const h of readers(topic)) applyBatch(h, topic, partition, events, next);
    },
    async finish(topic, partition, high) {
      for (const h of readers(topic)) applyBatch(h, topic, partition, [], high);
    },
    async drain() {},
  };
}

export async function rebuildProjections(options: RebuildOptions): Promise<RebuildResult[]> {
  const { kafka, service, projections } = options;
  const dataDir = namespacedDataDir(options.dataDir, options.topicPrefix);
  const plan = await planRebuild(kafka, projections);
  const dir = projectionDir(dataDir, service);
  fs.mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const files = new Map(
    projections.map((projection) => {
      removeLeftovers(dir, projection, dataDir, service);
      return [projection.name, `${projection.name}.v${projection.version}.${stamp}.rebuild-${process.pid}.sqlite`];
    }),
  );
  const done = new Map<string, number>();
  const applied = new Map<string, number>();
  const totals = new Map(plan.projections.map((p) => [p.projection.name, Number(p.events)]));
  const report = (name: string) => options.onProgress?.({ projection: name, done: done.get(name) ?? 0, total: Math.max(done.get(name) ?? 0, totals.get(name) ?? 0) });
  const onOffsets = (topic: TopicDescriptor, offsets: number) => {
    for (const p of projections) {
      if (!p.topics.some((t) => t.name === topic.name)) continue;
      done.set(p.name, (done.get(p.name) ?? 0) + offsets);
      report(p.name);
    }
  };
  const topics = [...plan.topics.values()].map((t) => t.topic);
  // The main thread fetches, which keeps it about half busy: it also applies the
  // projection that wants the fewest kinds of events (so it decodes little),
  // the worker all the others.
  const kinds = (p: Projection) => p.handles?.length ?? Number.MAX_SAFE_INTEGER;
  const local = projections.length > 1 ? projections.reduce((a, b) => (kinds(b) < kinds(a) ? b : a)) : undefined;
  const remote = projections.filter((p) => p !== local);
  const localHandle = local ? openHandle(local, dataDir, service, files.get(local.name)!, { bulk: true }) : undefined;
  const worker = createWorkerAppliers(
    {
      service,
      topicPrefix: options.topicPrefix,
      registryUrl: options.registryUrl,
      dataDir,
      source: options.source,
      projections: remote.map((p) => ({ name: p.name, file: files.get(p.name)! })),
    },
    (name) => projections.find((p) => p.name === name)!.topics.map((t) => t.baseName),
    options.workers ?? 1,
    (counts) => countApplied(counts),
  );
  const countApplied = (counts: Record<string, number>) => {
    for (const [name, n] of Object.entries(counts)) applied.set(name, (applied.get(name) ?? 0) + n);
  };
  const here = createBulkApplier(options.codec, localHandle ? [localHandle] : []);
  // Each batch goes to the worker first (so it starts at once), then is applied here.
  const both: Applier = {
    async apply(topic, partition, messages) {
      const handedOver = worker.apply(topic, partition, messages);
      countApplied(await here.apply(topic, partition, messages, BigInt(messages[messages.length - 1]!.offset) + 1n));
      await handedOver;
    },
    async finish(topic, partition, high) {
      here.finish(topic, partition, high);
      await worker.finish(topic, partition, high);
    },
    drain: () => worker.drain(),
  };
  try {
    // Pass after pass until what was written meanwhile is small: the service catches the rest up.
    let ranges: Ranges = new Map([...plan.topics].map(([name, t]) => [name, t.partitions.map((p) => ({ partition: p.partition, from: 0n, to: p.high }))]));
    for (let pass = 0; ; pass++) {
      await catchUp(kafka, readerGroup(options), topics, ranges, both, onOffsets);
      const next = await extents(kafka, topics);
      let behind = 0;
      const more: Ranges = new Map();
      for (const [name, parts] of next) {
        more.set(
          name,
          parts.map((p) => {
            const from = ranges.get(name)?.find((q) => q.partition === p.partition)?.to ?? 0n;
            behind += Number(p.high - from);
            return { partition: p.partition, from, to: p.high };
          }),
        );
      }
      for (const p of projections) totals.set(p.name, (totals.get(p.name) ?? 0) + behind);
      if (behind <= (options.closeEnough ?? 1000) || pass >= 10) break;
      ranges = more;
    }
  } catch (error) {
    await worker.close().catch(() => {});
    if (localHandle?.db.open) localHandle.db.close();
    for (const file of files.values()) fs.rmSync(path.join(dir, file), { force: true });
    throw error;
  }
  await worker.close();
  here.close();

  const results: RebuildResult[] = [];
  for (const projection of projections) {
    const file = files.get(projection.name)!;
    const result: RebuildResult = { projection: projection.name, file, events: applied.get(projection.name) ?? 0, seconds: (Date.now() - started) / 1000 };
    const handle = openHandle(projection, dataDir, service, file, { bulk: true });
    try {
      if (options.verify) Object.assign(result, await verifyAgainstLive(options, handle));
      readyToServe(handle.db, projection);
    } finally {
      handle.db.close();
    }
    results.push(result);
  }
  for (const r of results) writePointer(dataDir, service, r.projection, { file: r.file, version: projections.find((p) => p.name === r.projection)!.version });
  return results;
}

/**
 * An online copy of the live database (SQLite's backup API, safe while the
 * service writes to it) and the rebuilt one, brought to the same position in
 * the log with the same code, then compared.
 */
async function verifyAgainstLive(options: RebuildOptions, rebuilt: ProjectionHandle): Promise<Pick<RebuildResult, 'comparison' | 'verifySkipped'>> {
  const { kafka, codec, service } = options;
  const dataDir = namespacedDataDir(options.dataDir, options.topicPrefix);
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
    const ends = await extents(kafka, projection.topics);
    const ranges: Ranges = new Map(
      [...ends].map(([name, parts]) => {
        const topic = projection.topics.find((t) => t.name === name)!;
        const from = (p: number) =>
          [copy, rebuilt].reduce((min, h) => {
            const c = h.checkpoints.get(partitionKey(topic, p)) ?? 0n;
            return c < min ? c : min;
          }, BigInt(Number.MAX_SAFE_INTEGER));
        return [name, parts.map((p) => ({ partition: p.partition, from: from(p.partition), to: p.high }))];
      }),
    );
    await catchUp(kafka, readerGroup(options), projection.topics, ranges, inThread(codec, [copy, rebuilt]), () => {});
    return { comparison: compareDatabases(copy.db, rebuilt.db) };
  } finally {
    copy.db.close();
    fs.rmSync(path.join(dir, copyFile), { force: true });
  }
}
