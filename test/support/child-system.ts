// The three services as separate processes on free ports, as in production,
// ready before the test goes on; for tests that read their logs, kill them, or
// need one process per service (tracing).
import { expect } from 'chai';
import { startChild, type ChildService } from './child-service.ts';
import { eventually } from './eventually.ts';
import { call, freePort } from './http.ts';

export const SERVICES = ['inventory', 'product', 'order'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ChildSystem {
  base: Record<ServiceName, string>;
  services: Record<ServiceName, ChildService>;
  stop(): Promise<void>;
}

/** `env` goes to every service, `envFor` to one; logs are named `<name>-<service>`. */
export async function startChildSystem(
  name: string,
  env: Record<string, string>,
  options: { envFor?: (service: ServiceName) => Record<string, string>; readyWithinMs?: number } = {},
): Promise<ChildSystem> {
  const ports = { inventory: await freePort(), product: await freePort(), order: await freePort() };
  const common = { ...env, PRODUCT_PORT: String(ports.product), INVENTORY_PORT: String(ports.inventory), ORDER_PORT: String(ports.order) };
  const start = (service: ServiceName) => startChild(`services/${service}/main.ts`, { ...common, ...options.envFor?.(service) }, `${name}-${service}`);
  const services = { inventory: start('inventory'), product: start('product'), order: start('order') };
  const base = { inventory: `http://127.0.0.1:${ports.inventory}`, product: `http://127.0.0.1:${ports.product}`, order: `http://127.0.0.1:${ports.order}` };
  const stop = async () => void (await Promise.all(SERVICES.map((s) => services[s].kill('SIGTERM'))));
  try {
    for (const url of Object.values(base)) await eventually(async () => expect((await call(url, 'GET', '/health/ready')).status).to.equal(200), options.readyWithinMs ?? 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, services, stop };
}
