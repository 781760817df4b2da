// Where the three services listen, as their own settings say (PRODUCT_PORT,
// INVENTORY_PORT, ORDER_PORT): for the scripts that run or drive all three.
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
