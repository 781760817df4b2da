import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { schemaCatalog, subjectName } from '../../services/platform/schemas/catalog.ts';
import { fieldsNamedIn } from '../../services/platform/schemas/register.ts';
import { GENERATED_DIR, generatedPathFor, headerFor } from '../../scripts/schema-types.ts';

const catalog = schemaCatalog();
const records = catalog.flatMap((t) => t.records.map((r) => ({ topic: t.topic, record: r })));

interface Field {
  name: string;
  doc?: string;
  type: unknown;
}

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
    expect(names('product.events')).to.include.members([
      'ProductCreated',
      'ProductUpdated',
      'ProductPriceChanged',
      'ProductDiscontinued',
      'ProductVariantCreated',
      'ProductVariantUpdated',
      'ProductVariantDeleted',
    ]);
    expect(names('inventory.events')).to.include.members([
      'InventoryRecordInitialized',
      'StockReserved',
      'ReservationRejected',
      'StockReleased',
      'ReservationExpired',
      'StockLevelChanged',
      'StockStatusChanged',
      'LowStockThresholdReached',
      'OutOfStock',
      'StockReplenished',
    ]);
    expect(names('order.events')).to.include.members(['OrderCreated', 'OrderConfirmed', 'OrderRejected', 'OrderCancelled', 'OrderPaid', 'OrderReturned', 'OrderFlaggedForReview']);
    expect(names('inventory.commands')).to.include.members(['ReserveStock', 'ReleaseReservation', 'AdjustStock', 'InitializeInventory']);
  });

  it('carries every field the seed documents name for an event (as we call it, where our name differs)', () => {
    // [topic, record, field path, the seed and the name it uses there]
    const named: [string, string, string, string][] = [
      ['product.events', 'ProductVariantCreated', 'variantId', '000 §2.1 variantId, 001 §2.1 productVariantId'],
      ['product.events', 'ProductVariantCreated', 'productId', '000 §2.1'],
      ['product.events', 'ProductVariantCreated', 'sku', '000 §2.1, 001 §2.1'],
      ['product.events', 'ProductVariantCreated', 'initialStock', '001 §2.1'],
      ['product.events', 'ProductVariantUpdated', 'variantId', '001 §2.1 productVariantId'],
      ['product.events', 'ProductVariantUpdated', 'status', '001 §2.1'],
      ['product.events', 'ProductVariantDeleted', 'variantId', '001 §2.1 productVariantId'],
      ['product.events', 'ProductUpdated', 'productId', '004 §4.1'],
      ['product.events', 'ProductUpdated', 'name', '004 §4.1'],
      ['product.events', 'ProductPriceChanged', 'newPriceMinor', '004 §4.1 price'],
      ['inventory.events', 'StockLevelChanged', 'productVariantId', '000 §2.2'],
      ['inventory.events', 'StockLevelChanged', 'availableQuantity', '000 §2.2'],
      ['inventory.events', 'StockLevelChanged', 'status', '000 §2.2'],
      ['inventory.events', 'StockLevelChanged', 'occurredAt', '000 §2.2 updatedAt'],
      ['inventory.events', 'StockLevelChanged', 'delta', '001 §2.2 quantityReturned, §3.1 quantitySold (with changeType RETURN / SALE)'],
      ['inventory.events', 'StockLevelChanged', 'changeType', '001 §3.3 changeType'],
      ['inventory.events', 'StockLevelChanged', 'orderId', '001 §3.1'],
      ['inventory.events', 'StockStatusChanged', 'productVariantId', '000 §2.2 InventoryStatusUpdated'],
      ['inventory.events', 'StockStatusChanged', 'status', '000 §2.2 InventoryStatusUpdated'],
      ['inventory.events', 'StockStatusChanged', 'availableQuantity', '000 §2.2 InventoryStatusUpdated'],
      ['inventory.events', 'StockStatusChanged', 'occurredAt', '000 §2.2 InventoryStatusUpdated updatedAt'],
      ['order.events', 'OrderCreated', 'orderId', '004 §4.5'],
      ['order.events', 'OrderCreated', 'customerId', '004 §4.5 userId'],
      ['order.events', 'OrderCreated', 'lines.productId', '004 §4.5 items.productId'],
      ['order.events', 'OrderCreated', 'lines.variantId', '004 §4.5 items.variantId'],
      ['order.events', 'OrderCreated', 'lines.quantity', '004 §4.5 items.quantity'],
      ['order.events', 'OrderCreated', 'lines.unitPriceMinor', '004 §4.5 items.unitPrice'],
      ['order.events', 'OrderCreated', 'totalMinor', '004 §4.5 totalAmount'],
      ['order.events', 'OrderCreated', 'occurredAt', '004 §4.5 timestamp'],
      ['product.details.requests', 'ProductDetailsRequested', 'requestId', '004 §4.2'],
      ['product.details.requests', 'ProductDetailsRequested', 'variantIds', '004 §4.2 productId, §4.4 productIds (we ask by variant)'],
      ['product.details.replies', 'ProductDetailsProvided', 'requestId', '004 §4.3'],
      ['product.details.replies', 'ProductDetailsProvided', 'variants.productId', '004 §4.3 productId, productDetails'],
    ];
    const fieldsAt = (schema: unknown, path: string[]): boolean => {
      const [head, ...rest] = path;
      const fields = (schema as { fields?: Field[] }).fields ?? [];
      const field = fields.find((f) => f.name === head);
      if (!field) return false;
      if (rest.length === 0) return true;
      const types = Array.isArray(field.type) ? field.type : [field.type];
      return types.some((t) => {
        const inner = (t as { type?: string; items?: unknown }).type === 'array' ? (t as { items: unknown }).items : t;
        return typeof inner === 'object' && fieldsAt(inner, rest);
      });
    };
    const missing = named.filter(([topic, record, path]) => {
      const found = records.find((r) => r.topic === topic && r.record.name === record);
      return !found || !fieldsAt(found.record.schema, path.split('.'));
    });
    expect(missing.map(([topic, record, path, seed]) => `${topic}/${record}.${path} (seed ${seed})`)).to.deep.equal([]);
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
    const generated = fs
      .readdirSync(GENERATED_DIR, { recursive: true, encoding: 'utf8' })
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
