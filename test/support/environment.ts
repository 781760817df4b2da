// Each integration suite provisions its own namespace under the run's
// TOPIC_PREFIX: topics from topology/ and every schema, on the shared broker and
// registry. Suites never see each other's data.
import crypto from 'node:crypto';
import type { Admin } from 'kafkajs';
import { loadConfig, type PlatformConfig } from '../../services/platform/config.ts';
import { connectAdminFor } from '../../services/platform/kafka/admin.ts';
import { createRegistryClient } from '../../services/platform/schemas/codec.ts';
import { registerAll } from '../../services/platform/schemas/register.ts';
import { topicsFor, type Topics } from '../../services/platform/topics.ts';
import { applyTopology } from '../../services/platform/topology/apply.ts';
import { readTopologyFile, resolveTopology } from '../../services/platform/topology/declaration.ts';

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

/** Topics and schemas for a fresh namespace. */
export async function provision(name: string): Promise<TestEnvironment> {
  const prefix = uniquePrefix(name);
  const config = configFor(prefix);
  const admin = await adminFor(config);
  const declared = resolveTopology(readTopologyFile(), { profile: config.kafka.profile, prefix });
  const { plan } = await applyTopology(admin, declared);
  if (plan.refusals.length) throw new Error(plan.refusals.join('\n'));
  await registerAll(createRegistryClient(config.schemaRegistryUrl), config.schemaRegistryUrl, prefix);
  return { prefix, config, topics: topicsFor(prefix), admin, close: () => admin.disconnect() };
}

export function isEmbedded(): boolean {
  return !process.env.KAFKA_BROKERS;
}
