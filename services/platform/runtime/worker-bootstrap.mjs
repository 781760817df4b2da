// Starts a TypeScript worker thread: workers do not inherit the tsx loader of
// the process that creates them, so the worker registers it before loading its
// entry module (workerData.entry, a file URL).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
