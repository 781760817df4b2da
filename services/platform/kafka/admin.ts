import type { Admin } from 'kafkajs';
import type { PlatformConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createKafka, type KafkaClientOptions } from './client.ts';

/** A connected admin client; the caller disconnects it. */
export async function connectAdmin(options: KafkaClientOptions): Promise<Admin> {
  const admin = createKafka(options).admin({ retry: { retries: 2 } });
  await admin.connect();
  return admin;
}

/** An admin for scripts and tests: the configured brokers and security, quiet logs. */
export function connectAdminFor(config: PlatformConfig, clientId: string): Promise<Admin> {
  return connectAdmin({ brokers: config.kafka.brokers, clientId, security: config.kafka.security, logger: createLogger(clientId, 'error') });
}
