// The schemas each topic may carry, read from schemas/<topic>/*.avsc, the only
// source of event and command shapes. Records in schemas/shared/ travel on
// every `.events` topic (a command refused without a state change is answered
// there, so whoever waits for an outcome gets one).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

export const SCHEMAS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../schemas');
const SHARED = 'shared';

export interface RecordSchema {
  /** Short record name, unique on its topic; the `type` of decoded messages. */
  name: string;
  /** Namespaced name, e.g. commerce.inventory.StockReserved; the `ce_type` header. */
  fullName: string;
  /** The .avsc document as parsed JSON. */
  schema: avro.Schema & { name: string; namespace?: string };
  type: avro.Type;
  file: string;
}

export interface TopicSchemas {
  /** Topic name without prefix, e.g. inventory.events. */
  topic: string;
  records: RecordSchema[];
}

export function readRecordSchema(file: string): RecordSchema {
  const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as RecordSchema['schema'];
  const fullName = schema.namespace ? `${schema.namespace}.${schema.name}` : schema.name;
  return { name: schema.name, fullName, schema, type: avro.Type.forSchema(schema), file };
}

function readDir(dir: string): RecordSchema[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((f) => readRecordSchema(path.join(dir, f)));
}

let cached: TopicSchemas[] | undefined;

export function schemaCatalog(dir = SCHEMAS_DIR): TopicSchemas[] {
  if (dir === SCHEMAS_DIR && cached) return cached;
  const shared = readDir(path.join(dir, SHARED));
  const topics = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== SHARED && e.name !== 'generated')
    .map((e) => e.name)
    .sort()
    .map((topic) => ({
      topic,
      records: [...readDir(path.join(dir, topic)), ...(topic.endsWith('.events') ? shared : [])],
    }));
  for (const t of topics) {
    const names = t.records.map((r) => r.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new Error(`schemas/${t.topic}: two records are named ${dup}; record names must be unique per topic`);
  }
  if (dir === SCHEMAS_DIR) cached = topics;
  return topics;
}

export function topicSchemas(topic: string): TopicSchemas {
  const found = schemaCatalog().find((t) => t.topic === topic);
  if (!found) throw new Error(`no schemas for topic '${topic}' under ${SCHEMAS_DIR}`);
  return found;
}

/** TopicRecordNameStrategy: one subject per record type per topic. */
export function subjectName(prefixedTopic: string, record: RecordSchema): string {
  return `${prefixedTopic}-${record.fullName}`;
}
