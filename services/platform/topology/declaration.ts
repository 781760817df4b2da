// Reads topology/topics.yaml into typed topic declarations for one profile,
// rejecting a malformed or self-contradictory file before anything is touched.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { parse } from 'yaml';
import { compileValidator } from '../validation.ts';
import type { KafkaProfile } from '../config.ts';

const ConfigMap = Type.Record(Type.String(), Type.String());

const TopicEntry = Type.Object(
  {
    partitions: Type.Integer({ minimum: 1 }),
    key: Type.Optional(Type.String()),
    retention: Type.String(),
    deadLetters: Type.Optional(Type.Boolean()),
    coPartitionGroup: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const TopologyFile = Type.Object(
  {
    profiles: Type.Record(
      Type.String(),
      Type.Object(
        {
          replicationFactor: Type.Integer({ minimum: 1 }),
          minInsyncReplicas: Type.Integer({ minimum: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
    retention: Type.Record(Type.String(), ConfigMap),
    topics: Type.Record(Type.String(), TopicEntry),
    registry: Type.Record(Type.String(), TopicEntry),
  },
  { additionalProperties: false },
);

export type TopologyFile = Static<typeof TopologyFile>;

export interface TopicDeclaration {
  /** Full name, prefix included. */
  name: string;
  /** Name as declared, without prefix. */
  baseName: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
  /** Keyed topics hold aggregates by key: their partition count cannot change safely. */
  keyed: boolean;
  coPartitionGroup?: string;
}

export class TopologyError extends Error {}

export const DEFAULT_TOPOLOGY_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../topology/topics.yaml');

const validateFile = compileValidator(TopologyFile, 'topology');

export function readTopologyFile(file = DEFAULT_TOPOLOGY_FILE): TopologyFile {
  const raw: unknown = parse(fs.readFileSync(file, 'utf8'));
  const result = validateFile(raw);
  if (!result.ok) throw new TopologyError(`${file}: ${result.errors.join('; ')}`);
  return result.value;
}

export interface ResolveOptions {
  profile: KafkaProfile;
  prefix: string;
  /** Which section: the application's topics or the registry's own. */
  section?: 'topics' | 'registry';
}

export function resolveTopology(file: TopologyFile, { profile, prefix, section = 'topics' }: ResolveOptions): TopicDeclaration[] {
  const settings = file.profiles[profile];
  if (!settings) throw new TopologyError(`profile '${profile}' is not declared (have: ${Object.keys(file.profiles).join(', ')})`);
  const declarations: TopicDeclaration[] = [];
  const topicPrefix = section === 'registry' ? '' : prefix;
  for (const [baseName, entry] of Object.entries(file[section])) {
    const retention = file.retention[entry.retention];
    if (!retention) throw new TopologyError(`${baseName}: unknown retention class '${entry.retention}'`);
    const configs = { ...retention, 'min.insync.replicas': String(settings.minInsyncReplicas) };
    declarations.push({
      name: `${topicPrefix}${baseName}`,
      baseName,
      partitions: entry.partitions,
      replicationFactor: settings.replicationFactor,
      configs,
      keyed: entry.key !== undefined,
      ...(entry.coPartitionGroup ? { coPartitionGroup: entry.coPartitionGroup } : {}),
    });
    if (entry.deadLetters) {
      declarations.push({
        name: `${topicPrefix}${baseName}.dlq`,
        baseName: `${baseName}.dlq`,
        partitions: entry.partitions,
        replicationFactor: settings.replicationFactor,
        configs: { ...file.retention.deadLetters, 'min.insync.replicas': String(settings.minInsyncReplicas) },
        keyed: false,
      });
    }
  }
  checkCoPartitioning(declarations);
  return declarations;
}

function checkCoPartitioning(declarations: TopicDeclaration[]): void {
  const groups = new Map<string, TopicDeclaration[]>();
  for (const d of declarations) {
    if (d.coPartitionGroup) groups.set(d.coPartitionGroup, [...(groups.get(d.coPartitionGroup) ?? []), d]);
  }
  for (const [group, members] of groups) {
    const counts = new Set(members.map((m) => m.partitions));
    if (counts.size > 1) {
      throw new TopologyError(`co-partitioned group '${group}' must have one partition count, but declares ${members.map((m) => `${m.baseName}=${m.partitions}`).join(', ')}`);
    }
  }
}
