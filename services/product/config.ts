// The product service's own settings (the platform's are in platform/config.ts).
import type { EnvReader } from '../platform/env.ts';
import { readResilience, type ResilienceSettings } from '../platform/resilience.ts';
import { inventorySettings } from '../inventory/config.ts';

export interface ProductSettings {
  port: number;
  /** Inventory's HTTP API, for real-time stock. */
  inventoryUrl: string;
  /** The bearer token (scope inventory:read) for inventory's API. */
  inventoryToken?: string;
  /** INVENTORY_CLIENT_*: the policy around real-time stock calls. */
  inventoryClient: ResilienceSettings;
}

export function productSettings(reader: EnvReader): ProductSettings {
  const token = reader.text('INVENTORY_API_TOKEN');
  return {
    port: reader.port('PRODUCT_PORT', 3001),
    inventoryUrl: reader.url('INVENTORY_URL', `http://127.0.0.1:${inventorySettings(reader).port}`),
    ...(token ? { inventoryToken: token } : {}),
    inventoryClient: readResilience(reader, 'INVENTORY_CLIENT', { timeoutMs: 800, attempts: 3, breakAfter: 5, halfOpenAfterMs: 10_000 }),
  };
}
