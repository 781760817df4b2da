// The inventory service's own settings (the platform's are in platform/config.ts).
import type { EnvReader } from '../platform/env.ts';

export interface InventorySettings {
  port: number;
}

export function inventorySettings(reader: EnvReader): InventorySettings {
  return { port: reader.port('INVENTORY_PORT', 3002) };
}
