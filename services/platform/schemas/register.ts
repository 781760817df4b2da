// Registers every schema of schemas/ under TopicRecordNameStrategy subjects
// (`<topic>-<full record name>`), each with BACKWARD_TRANSITIVE compatibility.
//
// The compatibility rule is set explicitly before the first registration:
// Apicurio answers GET /config/<subject> with 200 and NONE for a subject that
// exists without a rule, which the client reads as "already configured, but
// differently" and refuses. Setting it first is idempotent on every registry.
import { COMPATIBILITY, SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { schemaCatalog, subjectName, type RecordSchema } from './catalog.ts';

export const SUBJECT_COMPATIBILITY = COMPATIBILITY.BACKWARD_TRANSITIVE;

export class IncompatibleSchemaError extends Error {
  constructor(
    readonly subject: string,
    readonly fields: string[],
    detail: string,
  ) {
    super(`${subject}: incompatible change${fields.length ? ` to field ${fields.map((f) => `'${f}'`).join(', ')}` : ''} (${detail})`);
  }
}

export interface Registration {
  subject: string;
  id: number;
}

/** Field names that a registry message points at, e.g. "[b at /fields/1]" or Confluent's "/fields/1". */
export function fieldsNamedIn(message: string, record: RecordSchema): string[] {
  const fields = (record.schema as { fields?: { name: string }[] }).fields ?? [];
  const named = new Set<string>();
  for (const match of message.matchAll(/(?:([A-Za-z_][A-Za-z0-9_]*) at )?\/fields\/(\d+)/g)) {
    const byIndex = fields[Number(match[2])]?.name;
    // Apicurio writes "<field> at /fields/<i>"; Confluent puts an error code there.
    const name = fields.some((f) => f.name === match[1]) ? match[1] : (byIndex ?? match[1]);
    if (name) named.add(name);
  }
  return [...named];
}

function errorText(error: unknown): string {
  const e = error as { message?: string; status?: number };
  return e?.message ?? String(error);
}

/** PUT /config/<subject>: the client only exposes this after a first registration. */
export async function setCompatibility(registryUrl: string, subject: string, compatibility: string = SUBJECT_COMPATIBILITY): Promise<void> {
  const res = await fetch(`${registryUrl}/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`could not set ${compatibility} on ${subject}: HTTP ${res.status} ${await res.text()}`);
}

export async function registerRecord(registry: SchemaRegistry, registryUrl: string, subject: string, record: RecordSchema): Promise<Registration> {
  await setCompatibility(registryUrl, subject);
  try {
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(record.schema) }, { subject, compatibility: SUBJECT_COMPATIBILITY });
    return { subject, id };
  } catch (error) {
    const text = errorText(error);
    if ((error as { status?: number }).status === 409 || /incompatible/i.test(text)) {
      throw new IncompatibleSchemaError(subject, fieldsNamedIn(text, record), text.replace(/^.*?Error, status \d+: /, ''));
    }
    throw error;
  }
}

/** Registers every record of every topic under the given prefix, topics in parallel. */
export async function registerAll(registry: SchemaRegistry, registryUrl: string, prefix: string): Promise<Registration[]> {
  const perTopic = await Promise.all(
    schemaCatalog().map(async ({ topic, records }) => {
      const results: Registration[] = [];
      for (const record of records) {
        results.push(await registerRecord(registry, registryUrl, subjectName(`${prefix}${topic}`, record), record));
      }
      return results;
    }),
  );
  return perTopic.flat();
}
