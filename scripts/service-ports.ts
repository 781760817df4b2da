// Where the three services listen, as their own settings say (PRODUCT_PORT,
// INVENTORY_PORT, ORDER_PORT): for the scripts that run or drive all three.
import fs from 'node:fs';
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import type { PlatformConfig } from '../services/platform/config.ts';
import { inventorySettings } from '../services/inventory/config.ts';
import { orderSettings } from '../services/order/config.ts';
import { createEnvReader, type Env } from '../services/platform/env.ts';
import { productSettings } from '../services/product/config.ts';

export type ServiceName = 'product' | 'inventory' | 'order';

export function servicePorts(env: Env = process.env): Record<ServiceName, number> {
  const reader = createEnvReader(env);
  const ports = { product: productSettings(reader).port, inventory: inventorySettings(reader).port, order: orderSettings(reader).port };
  reader.check();
  return ports;
}

export interface ServiceEndpoints {
  /** Each service's base URL: https when the services serve TLS (HTTP_TLS_CERT_FILE). */
  base: Record<ServiceName, string>;
  /** fetch, trusting HTTP_TLS_CA_FILE (when set) instead of Node's CAs, as the services do. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

export function serviceEndpoints(config: PlatformConfig, env: Env = process.env): ServiceEndpoints {
  const ports = servicePorts(env);
  const url = (port: number) => `${config.http.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const dispatcher = config.http.peerCaFile ? new Agent({ connect: { ca: fs.readFileSync(config.http.peerCaFile, 'utf8') } }) : undefined;
  return {
    base: { product: url(ports.product), inventory: url(ports.inventory), order: url(ports.order) },
    fetch: (target, init = {}) => fetch(target, dispatcher ? { ...init, dispatcher } : init),
  };
}
