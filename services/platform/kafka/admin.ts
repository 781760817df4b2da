import type { Admin } from 'kafkajs';
import { createKafka, type KafkaClientOptions } from './client.ts';

/** A connected admin client; the caller disconnects it. */
export async function connectAdmin(options: KafkaClientOptions): Promise<Admin> {
  const admin = createKafka(options).admin({ retry: { retries: 2 } });
  await admin.connect();
  return admin;
}
