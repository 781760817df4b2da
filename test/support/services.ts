// Services started in the test process, each with its own data directory and
// port, under a suite's topic prefix.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { namespacedDataDir } from '../../services/platform/projections/store.ts';
import { startService, type RunningService, type ServiceDefinition } from '../../services/platform/runtime/service.ts';
import { eventually } from './eventually.ts';
import { call, freePort } from './http.ts';

export interface StartedService {
  service: RunningService;
  base: string;
  dataDir: string;
  /** Where its read models live: DATA_DIR under its topic prefix. */
  storeDir: string;
  stop(): Promise<void>;
}

const PORT_VARIABLE: Record<string, string> = { product: 'PRODUCT_PORT', inventory: 'INVENTORY_PORT', order: 'ORDER_PORT' };

export async function startInProcess(definition: ServiceDefinition, prefix: string, env: Record<string, string> = {}): Promise<StartedService> {
  const port = await freePort();
  const dataDir = env.DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), `${definition.name}-`));
  const service = await startService(definition, {
    ...process.env,
    TOPIC_PREFIX: prefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    KAFKAJS_LOG_LEVEL: 'nothing',
    [PORT_VARIABLE[definition.name]!]: String(port),
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  if (!env.SERVICE_ROLES || env.SERVICE_ROLES.includes('api')) {
    await eventually(async () => {
      const ready = await call(base, 'GET', '/health/ready');
      if (ready.status !== 200) throw new Error(`not ready: ${JSON.stringify(ready.body)}`);
    }, 60_000);
  }
  return { service, base, dataDir, storeDir: namespacedDataDir(dataDir, prefix), stop: () => service.stop() };
}
