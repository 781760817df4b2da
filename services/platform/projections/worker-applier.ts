// The main-thread side of a rebuild's workers: packs each fetched batch's values
// into one transferable buffer and hands it over without waiting, up to a few
// batches ahead, so fetching and applying overlap. Order is kept: a worker
// applies requests one after another. The projections are spread over several
// workers (each decodes for itself), so more than one core writes SQLite.
import { Worker } from 'node:worker_threads';
import type { KafkaMessage } from 'kafkajs';
import type { Applier, WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.ts';

const AHEAD = 8;

export interface WorkerApplier extends Applier {
  close(): Promise<void>;
}

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;

/** Projections spread over `count` workers, each with the topics its own projections read. */
export function createWorkerAppliers(init: WorkerInit, topicsOf: (projection: string) => string[], count: number, onApplied: (counts: Record<string, number>) => void): WorkerApplier {
  const groups = Array.from({ length: Math.max(1, Math.min(count, init.projections.length)) }, () => [] as WorkerInit['projections']);
  init.projections.forEach((p, i) => groups[i % groups.length]!.push(p));
  const workers = groups.map((projections) => ({
    topics: new Set(projections.flatMap((p) => topicsOf(p.name))),
    applier: createWorkerApplier({ ...init, projections }, onApplied),
  }));
  const readers = (topic: string) => workers.filter((w) => w.topics.has(topic));
  return {
    apply: async (topic, partition, messages) => {
      await Promise.all(readers(topic.baseName).map((w) => w.applier.apply(topic, partition, messages)));
    },
    finish: async (topic, partition, high) => {
      await Promise.all(readers(topic.baseName).map((w) => w.applier.finish(topic, partition, high)));
    },
    drain: async () => {
      await Promise.all(workers.map((w) => w.applier.drain()));
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.applier.close()));
    },
  };
}

function createWorkerApplier(init: WorkerInit, onApplied: (counts: Record<string, number>) => void): WorkerApplier {
  const worker = new Worker(new URL('../runtime/worker-bootstrap.mjs', import.meta.url), {
    workerData: { entry: new URL('./rebuild-worker.ts', import.meta.url).href, init },
    // Decoding a million events is allocation-heavy: a larger young generation
    // means far fewer scavenges.
    resourceLimits: { maxYoungGenerationSizeMb: 96 },
  });
  const pending = new Map<number, () => void>();
  let failure: Error | undefined;
  let nextId = 1;
  // Every caller held back (topics are read in parallel) waits here for an acknowledgement.
  let waiting: (() => void)[] = [];
  const wakeAll = () => {
    const woken = waiting;
    waiting = [];
    for (const wake of woken) wake();
  };
  const acknowledged = () => new Promise<void>((resolve) => waiting.push(resolve));
  // Requests sent before the worker has started wait in its port: reading need
  // not wait for it to load.
  worker.on('message', (message: WorkerReply) => {
    switch (message.type) {
      case 'ready':
        return;
      case 'error':
        failure = new Error(`rebuild worker failed: ${message.message}`);
        for (const done of pending.values()) done();
        pending.clear();
        wakeAll();
        return;
      case 'applied':
        onApplied(message.applied);
        break;
    }
    const done = pending.get(message.id);
    pending.delete(message.id);
    done?.();
    wakeAll();
  });
  worker.once('error', (error) => {
    failure = error;
    for (const done of pending.values()) done();
    pending.clear();
    wakeAll();
  });

  const send = (request: Distribute<WorkerRequest>, transfer: ArrayBuffer[] = []): Promise<void> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    const done = new Promise<void>((resolve) => pending.set(id, resolve));
    worker.postMessage({ ...request, id }, transfer);
    return done.then(() => {
      if (failure) throw failure;
    });
  };

  return {
    async apply(topic, partition, messages: KafkaMessage[]) {
      const lengths = new Int32Array(messages.length);
      const offsets = new Float64Array(messages.length);
      let size = 0;
      messages.forEach((m, i) => {
        lengths[i] = m.value?.length ?? 0;
        offsets[i] = Number(m.offset);
        size += lengths[i];
      });
      const values = new Uint8Array(size);
      let at = 0;
      for (const m of messages) {
        if (m.value) values.set(m.value, at);
        at += m.value?.length ?? 0;
      }
      const next = String(BigInt(messages[messages.length - 1]!.offset) + 1n);
      void send({ type: 'batch', topic: topic.baseName, partition, next, offsets, lengths, values: values.buffer }, [values.buffer, lengths.buffer, offsets.buffer]).catch(() => {});
      while (pending.size >= AHEAD && !failure) await acknowledged();
      if (failure) throw failure;
    },
    finish: (topic, partition, high) => send({ type: 'finish', topic: topic.baseName, partition, high: String(high) }),
    async drain() {
      while (pending.size > 0 && !failure) await acknowledged();
      if (failure) throw failure;
    },
    async close() {
      if (!failure) await send({ type: 'close' }).catch(() => {});
      await worker.terminate();
    },
  };
}
