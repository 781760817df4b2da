// Everything a TOPIC_PREFIX needs before services run in it: its topics as
// declared, its principals' ACLs (when we connect with credentials, i.e. to a
// broker that authenticates), and its schemas. npm start, the topology script,
// tests and benchmarks all go through here.
import type { PlatformConfig } from '../config.ts';
import { connectAdminFor } from '../kafka/admin.ts';
import { createRegistryClient } from '../schemas/codec.ts';
import { registerAll } from '../schemas/register.ts';
import { applyAcls, readAccessFile, serviceAcls, type AclOutcome } from './access.ts';
import { applyTopology } from './apply.ts';
import { readTopologyFile, resolveTopology } from './declaration.ts';
import type { TopologyPlan } from './plan.ts';

export interface PrepareOptions {
  dryRun?: boolean;
  allowRepartition?: boolean;
  /** Register every schema too (default true). */
  schemas?: boolean;
  clientId?: string;
}

export interface Prepared {
  plan: TopologyPlan;
  /** Undefined when not connected with credentials (nothing to grant). */
  acls?: AclOutcome;
  subjects?: number;
}

export async function prepareNamespace(config: PlatformConfig, options: PrepareOptions = {}): Promise<Prepared> {
  const topology = readTopologyFile();
  const admin = await connectAdminFor(config, options.clientId ?? 'prepare');
  let prepared: Prepared;
  try {
    const declared = resolveTopology(topology, { profile: config.kafka.profile, prefix: config.topicPrefix });
    const { plan } = await applyTopology(admin, declared, { dryRun: options.dryRun ?? false, allowRepartition: options.allowRepartition ?? false });
    if (plan.refusals.length > 0) throw new Error(`refused, nothing changed: ${plan.refusals.join('; ')}`);
    prepared = { plan };
    // MSK ignores Kafka ACLs for IAM clients: their IAM policies grant access instead.
    if (config.kafka.security.sasl?.mechanism === 'aws-msk-iam') {
      prepared.acls = { applied: false, reason: "IAM access control: each service's IAM policy grants its access (docs/msk-iam.md)" };
    } else if (config.kafka.security.sasl && !options.dryRun) {
      prepared.acls = await applyAcls(admin, serviceAcls(readAccessFile(), topology, config.topicPrefix));
    }
  } finally {
    await admin.disconnect();
  }
  if (options.schemas !== false && !options.dryRun) {
    prepared.subjects = (await registerAll(createRegistryClient(config.schemaRegistryUrl), config.schemaRegistryUrl, config.topicPrefix)).length;
  }
  return prepared;
}

export function describeAcls(outcome: AclOutcome | undefined): string {
  if (!outcome) return 'ACLs: none applied (no credentials configured)';
  return outcome.applied ? `ACLs: ${outcome.count} granted as topology/access.yaml declares` : `ACLs: not applied (${outcome.reason})`;
}
