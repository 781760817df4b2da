// Each integration suite provisions its own namespace under the run's
// TOPIC_PREFIX: topics from topology/ and every schema, on the shared broker and
// registry. Suites never see each other's data.
import crypto from 'node:crypto';
import type { Admin } from 'kafkajs';
import { loadConfig, type PlatformConfig } from '../../services/platform/config.ts';
import { connectAdminFor } from '../../services/platform/kafka/admin.ts';
import { topicsFor, type Topics } from '../../services/topics.ts';
import { prepareNamespace } from '../../services/platform/topology/prepare.ts';

export const runPrefix = process.env.TOPIC_PREFIX || `dev-${crypto.randomBytes(3).toString('hex')}.`;

export interface TestEnvironment {
  prefix: string;
  config: PlatformConfig;
  topics: Topics;
  admin: Admin;
  close(): Promise<void>;
}

export function uniquePrefix(name: string): string {
  return `${runPrefix}${name}-${crypto.randomBytes(2).toString('hex')}.`;
}

export function configFor(prefix: string, overrides: Record<string, string> = {}): PlatformConfig {
  return loadConfig({ ...process.env, TOPIC_PREFIX: prefix, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...overrides });
}

export async function adminFor(config: PlatformConfig): Promise<Admin> {
  return connectAdminFor(config, 'test');
}

/** Topics, ACLs (when overrides bring credentials) and schemas for a fresh namespace. */
export async function provision(name: string, overrides: Record<string, string> = {}): Promise<TestEnvironment> {
  const prefix = uniquePrefix(name);
  const config = configFor(prefix, overrides);
  await prepareNamespace(config, { clientId: 'test' });
  const admin = await adminFor(config);
  return { prefix, config, topics: topicsFor(prefix), admin, close: () => admin.disconnect() };
}

export function isEmbedded(): boolean {
  return !process.env.KAFKA_BROKERS;
}
