// The worker thread of a rebuild: it owns the new databases, decodes each
// batch of raw Kafka values and applies it, while the main thread goes on
// fetching. Messages arrive and are applied in order; each batch is
// acknowledged with how many events every projection applied.
import { parentPort, workerData } from 'node:worker_threads';
import type { KafkaMessage } from 'kafkajs';
import { createCodec } from '../schemas/codec.ts';
import type { TopicDescriptor } from '../topics.ts';
import { openHandle, type ProjectionHandle } from './apply.ts';
import { createBulkApplier } from './bulk-apply.ts';
import type { Projection } from './projection.ts';
import type { WorkerInit, WorkerRequest, WorkerReply } from './worker-protocol.ts';

const init = (workerData as { init: WorkerInit }).init;
const source = (await import(init.source.module)) as Record<string, (topicPrefix: string) => Projection[]>;
const readModels = source[init.source.export]!;
const projections = readModels(init.topicPrefix).filter((p) => init.projections.some((x) => x.name === p.name));
const handles: ProjectionHandle[] = projections.map((p) => openHandle(p, init.dataDir, init.service, init.projections.find((x) => x.name === p.name)!.file, { bulk: true }));
const topics = new Map<string, TopicDescriptor>();
for (const p of projections) for (const t of p.topics) topics.set(t.baseName, t);
const codec = await createCodec({ registryUrl: init.registryUrl, writes: [] });
const port = parentPort!;
const reply = (message: WorkerReply) => port.postMessage(message);

const bulk = createBulkApplier(codec, handles);

// Requests are handled one after another, in the order they came.
let queue = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  queue = queue.then(() => handle(request)).catch((error: unknown) => reply({ type: 'error', message: (error as Error).stack ?? String(error) }));
});

async function handle(request: WorkerRequest): Promise<void> {
  switch (request.type) {
    case 'batch': {
      const topic = topics.get(request.topic)!;
      const values = new Uint8Array(request.values);
      const messages: KafkaMessage[] = [];
      let at = 0;
      for (let i = 0; i < request.lengths.length; i++) {
        const length = request.lengths[i]!;
        messages.push({ offset: String(request.offsets[i]), value: Buffer.from(values.buffer, values.byteOffset + at, length) } as KafkaMessage);
        at += length;
      }
      return reply({ type: 'applied', id: request.id, applied: await bulk.apply(topic, request.partition, messages, BigInt(request.next)) });
    }
    case 'finish': {
      bulk.finish(topics.get(request.topic)!, request.partition, BigInt(request.high));
      return reply({ type: 'finished', id: request.id });
    }
    case 'close':
      bulk.close();
      return reply({ type: 'closed', id: request.id });
  }
}

reply({ type: 'ready' });
