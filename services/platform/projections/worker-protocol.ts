// What the rebuild's main thread and its appliers (in-thread or worker threads)
// say to each other.
import type { KafkaMessage } from 'kafkajs';
import type { TopicDescriptor } from '../topics.ts';

/** Where fetched batches go: applied here, or handed to a worker thread. */
export interface Applier {
  /** Hands a batch over; may resolve before it is applied (the worker bounds how far ahead). */
  apply(topic: TopicDescriptor, partition: number, messages: KafkaMessage[]): Promise<void>;
  /** Moves checkpoints to a partition's end (past markers no batch delivers). */
  finish(topic: TopicDescriptor, partition: number, high: bigint): Promise<void>;
  drain(): Promise<void>;
}

/** Where the worker finds a service's projections: a module and the function it exports, (topicPrefix) => Projection[]. */
export interface ReadModelSource {
  module: string;
  export: string;
}

export interface WorkerInit {
  service: string;
  topicPrefix: string;
  registryUrl: string;
  dataDir: string;
  source: ReadModelSource;
  projections: { name: string; file: string }[];
}

export type WorkerRequest =
  /** One fetched batch: its values packed end to end, with their lengths and offsets. */
  | { type: 'batch'; id: number; topic: string; partition: number; next: string; offsets: Float64Array; lengths: Int32Array; values: ArrayBuffer }
  /** Checkpoints of every projection reading the topic move to the partition's end. */
  | { type: 'finish'; id: number; topic: string; partition: number; high: string }
  | { type: 'close'; id: number };

export type WorkerReply =
  { type: 'ready' } | { type: 'applied'; id: number; applied: Record<string, number> } | { type: 'finished'; id: number } | { type: 'closed'; id: number } | { type: 'error'; message: string };
