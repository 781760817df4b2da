// What the rebuild's main thread and its worker say to each other.

/** Where the worker finds a service's projections: a module and the function it exports. */
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
  | { type: 'ready' }
  | { type: 'applied'; id: number; applied: Record<string, number> }
  | { type: 'finished'; id: number }
  | { type: 'closed'; id: number }
  | { type: 'error'; message: string };
