import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { schemaCatalog, subjectName } from '../../services/platform/schemas/catalog.ts';
import { fieldsNamedIn } from '../../services/platform/schemas/register.ts';
import { GENERATED_DIR, generatedPathFor, headerFor } from '../../scripts/schema-types.ts';

const catalog = schemaCatalog();
const records = catalog.flatMap((t) => t.records.map((r) => ({ topic: t.topic, record: r })));

interface Field { name: string; doc?: string; type: unknown }

function undocumented(schema: unknown, where: string, out: string[]): void {
  if (Array.isArray(schema)) return schema.forEach((s) => undocumented(s, where, out));
  if (!schema || typeof schema !== 'object') return;
  const s = schema as { type?: unknown; name?: string; doc?: string; fields?: Field[]; items?: unknown; values?: unknown };
  if ((s.type === 'record' || s.type === 'enum') && !s.doc) out.push(`${where}.${s.name} has no doc`);
  for (const f of s.fields ?? []) {
    if (!f.doc) out.push(`${where}.${f.name} has no doc`);
    undocumented(f.type, `${where}.${f.name}`, out);
  }
  if (s.items) undocumented(s.items, where, out);
  if (s.values) undocumented(s.values, where, out);
  if (typeof s.type === 'object') undocumented(s.type, where, out);
}

describe('schemas/', () => {
  it('has the events and commands the contract names', () => {
    const names = (topic: string) => catalog.find((t) => t.topic === topic)!.records.map((r) => r.name);
    expect(names('product.events')).to.include.members(['ProductCreated', 'ProductUpdated', 'ProductPriceChanged', 'ProductDiscontinued', 'ProductVariantCreated', 'ProductVariantUpdated', 'ProductVariantDeleted']);
    expect(names('inventory.events')).to.include.members(['InventoryRecordInitialized', 'StockReserved', 'ReservationRejected', 'StockReleased', 'ReservationExpired', 'StockLevelChanged', 'StockStatusChanged', 'LowStockThresholdReached', 'OutOfStock', 'StockReplenished']);
    expect(names('order.events')).to.include.members(['OrderCreated', 'OrderConfirmed', 'OrderRejected', 'OrderCancelled', 'OrderPaid', 'OrderReturned', 'OrderFlaggedForReview']);
    expect(names('inventory.commands')).to.include.members(['ReserveStock', 'ReleaseReservation', 'AdjustStock', 'InitializeInventory']);
  });

  it('namespaces every record and documents every record, enum and field', () => {
    const problems: string[] = [];
    for (const { topic, record } of records) {
      if (!record.schema.namespace?.startsWith('commerce.')) problems.push(`${topic}/${record.name} is not in a commerce.* namespace`);
      undocumented(record.schema, `${topic}/${record.name}`, problems);
    }
    expect(problems).to.deep.equal([]);
  });

  it('names subjects by TopicRecordNameStrategy', () => {
    const reserved = records.find((r) => r.record.name === 'StockReserved')!.record;
    expect(subjectName('x.inventory.events', reserved)).to.equal('x.inventory.events-commerce.inventory.StockReserved');
  });

  it('has generated TypeScript for every schema, regenerated since the schema last changed', () => {
    const stale: string[] = [];
    const expected = new Set<string>();
    for (const { record } of records) {
      const file = generatedPathFor(record);
      expected.add(file);
      const header = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n')[0] + '\n' : '';
      if (header !== headerFor(record)) stale.push(path.relative(process.cwd(), file));
    }
    const generated = fs.readdirSync(GENERATED_DIR, { recursive: true, encoding: 'utf8' })
      .map((f) => path.join(GENERATED_DIR, f))
      .filter((f) => f.endsWith('.ts') && path.dirname(f) !== GENERATED_DIR);
    const orphans = generated.filter((f) => !expected.has(f)).map((f) => path.relative(process.cwd(), f));
    expect({ stale, orphans }, 'run npm run schemas:types').to.deep.equal({ stale: [], orphans: [] });
  });

  it('reads the field names out of a registry incompatibility message', () => {
    const record = records.find((r) => r.record.name === 'ReserveStock')!.record;
    expect(fieldsNamedIn('Incompatible artifact: x [AVRO], num of incompatible diffs: {1}, list of diff types: [extra at /fields/5]', record)).to.deep.equal(['extra']);
    expect(fieldsNamedIn('READER_FIELD_MISSING_DEFAULT_VALUE at /fields/3', record)).to.deep.equal(['quantity']);
  });
});
