// Least privilege on the broker: topology/access.yaml says which topics each
// principal reads and writes; this turns it into ACLs for one TOPIC_PREFIX and
// applies them. Creating an ACL that exists changes nothing, so applying is
// idempotent. The broker denies whatever no ACL allows.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import kafkajs, { type AclEntry, type Admin } from 'kafkajs';
import { parse } from 'yaml';
import { compileValidator } from '../validation.ts';
import { TopologyError, type TopologyFile } from './declaration.ts';

// kafkajs is CommonJS: its enums come off the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;
type AclOperationTypes = kafkajs.AclOperationTypes;
type AclResourceTypes = kafkajs.AclResourceTypes;
type ResourcePatternTypes = kafkajs.ResourcePatternTypes;

const Access = Type.Object({ reads: Type.Array(Type.String()), writes: Type.Array(Type.String()) }, { additionalProperties: false });

const AccessFile = Type.Object(
  {
    services: Type.Record(Type.String(), Access),
    registry: Type.Object({ reads: Type.Array(Type.String()), writes: Type.Array(Type.String()), groupPrefix: Type.String() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);

export type AccessFile = Static<typeof AccessFile>;

export const DEFAULT_ACCESS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../topology/access.yaml');

const validate = compileValidator(AccessFile, 'access');

export function readAccessFile(file = DEFAULT_ACCESS_FILE): AccessFile {
  const result = validate(parse(fs.readFileSync(file, 'utf8')));
  if (!result.ok) throw new TopologyError(`${file}: ${result.errors.join('; ')}`);
  return result.value;
}

function entry(principal: string, resourceType: AclResourceTypes, resourceName: string, pattern: ResourcePatternTypes, operation: AclOperationTypes): AclEntry {
  return { principal: `User:${principal}`, host: '*', resourceType, resourceName, resourcePatternType: pattern, operation, permissionType: AclPermissionTypes.ALLOW };
}

/** The ACLs of every service principal (named as the service) under one topic prefix. */
export function serviceAcls(access: AccessFile, topology: TopologyFile, prefix: string): AclEntry[] {
  const acls: AclEntry[] = [];
  for (const [service, { reads, writes }] of Object.entries(access.services)) {
    for (const topic of [...reads, ...writes]) {
      if (!topology.topics[topic]) throw new TopologyError(`access.yaml: ${service} names '${topic}', which topics.yaml does not declare`);
    }
    const deadLetters = reads.filter((t) => topology.topics[t]!.deadLetters).map((t) => `${t}.dlq`);
    for (const topic of reads) acls.push(entry(service, AclResourceTypes.TOPIC, `${prefix}${topic}`, ResourcePatternTypes.LITERAL, AclOperationTypes.READ));
    for (const topic of new Set([...writes, ...deadLetters])) acls.push(entry(service, AclResourceTypes.TOPIC, `${prefix}${topic}`, ResourcePatternTypes.LITERAL, AclOperationTypes.WRITE));
    // Its processor, translators, read models and restores: groups and transactional ids named "<prefix><service>-...".
    acls.push(entry(service, AclResourceTypes.GROUP, `${prefix}${service}-`, ResourcePatternTypes.PREFIXED, AclOperationTypes.READ));
    acls.push(entry(service, AclResourceTypes.TRANSACTIONAL_ID, `${prefix}${service}-`, ResourcePatternTypes.PREFIXED, AclOperationTypes.WRITE));
  }
  return acls;
}

/** The registry principal's ACLs: its own topics (never prefixed) and groups. */
export function registryAcls(access: AccessFile): AclEntry[] {
  const { reads, writes, groupPrefix } = access.registry;
  return [
    ...reads.map((t) => entry('registry', AclResourceTypes.TOPIC, t, ResourcePatternTypes.LITERAL, AclOperationTypes.READ)),
    ...writes.map((t) => entry('registry', AclResourceTypes.TOPIC, t, ResourcePatternTypes.LITERAL, AclOperationTypes.WRITE)),
    entry('registry', AclResourceTypes.GROUP, groupPrefix, ResourcePatternTypes.PREFIXED, AclOperationTypes.READ),
  ];
}

export type AclOutcome = { applied: true; count: number } | { applied: false; reason: string };

/** Creates the ACLs (existing ones are left as they are). A broker without an authorizer is reported, not an error. */
export async function applyAcls(admin: Admin, acls: AclEntry[]): Promise<AclOutcome> {
  try {
    await admin.createAcls({ acl: acls });
    return { applied: true, count: acls.length };
  } catch (error) {
    if ((error as { type?: string }).type === 'SECURITY_DISABLED') return { applied: false, reason: 'the broker has no authorizer' };
    throw error;
  }
}
