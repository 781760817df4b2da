// Placing an order as pure rules: which order an Idempotency-Key names, and
// how each line is priced from the product service's latest data or the order
// service's own copy of the catalogue.
import { expect } from 'chai';
import { orderIdFor, placeOrderCommand, requestHashOf, type CheckoutRequest, type CopiedVariant, type LatestDetails, type VariantDetails } from '../../services/order/placement.ts';

const request = (items: [string, number][]): CheckoutRequest => ({ customerId: 'c-1', idempotencyKey: 'k-1', items: items.map(([variantId, quantity]) => ({ variantId, quantity })) });
const copied = (priceMinor: number, status = 'ACTIVE'): CopiedVariant => ({ productId: 'p-1', sku: 'SKU-A', priceMinor, currency: 'EUR', status });
const latest = (variantId: string, priceMinor: number | null, status = 'ACTIVE'): VariantDetails =>
  priceMinor === null
    ? { variantId, found: false, productId: null, productName: null, sku: null, priceMinor: null, currency: null, status: null }
    : { variantId, found: true, productId: 'p-1', productName: 'Mug', sku: 'SKU-A', priceMinor, currency: 'EUR', status: status as 'ACTIVE' };
const answered = (...variants: VariantDetails[]): LatestDetails => ({ answered: true, variants: new Map(variants.map((v) => [v.variantId, v])) });
const silent: LatestDetails = { answered: false, reason: 'no reply to request r within 1500ms' };

describe('placing an order', () => {
  it('names the same order for the same customer and Idempotency-Key, another for another key', () => {
    expect(orderIdFor('c-1', 'k-1')).to.equal(orderIdFor('c-1', 'k-1'));
    expect(orderIdFor('c-1', 'k-1')).to.not.equal(orderIdFor('c-1', 'k-2'));
    expect(orderIdFor('c-1', 'k-1')).to.not.equal(orderIdFor('c-2', 'k-1'));
    expect(orderIdFor('c-1', 'k-1')).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('tells a retry from another request with the same key', () => {
    expect(requestHashOf(request([['a', 1]]))).to.equal(requestHashOf(request([['a', 1]])));
    expect(requestHashOf(request([['a', 1]]))).to.not.equal(requestHashOf(request([['a', 2]])));
  });

  const cases: { name: string; copy: Record<string, CopiedVariant>; latest: LatestDetails; line: Record<string, unknown>; notes?: RegExp; reviewReasons?: number }[] = [
    {
      name: 'the product service answered: priced from its latest data, the copy ignored',
      copy: { a: copied(1000) },
      latest: answered(latest('a', 1000)),
      line: { unitPriceMinor: 1000, priceSource: 'PRODUCT_SERVICE', variantStatus: 'ACTIVE' },
    },
    {
      name: 'the copy lags (it does not know the variant yet): priced from the product service, not refused',
      copy: {},
      latest: answered(latest('a', 1250)),
      line: { unitPriceMinor: 1250, priceSource: 'PRODUCT_SERVICE', productId: 'p-1', sku: 'SKU-A' },
    },
    {
      name: 'the copy is stale on price: the latest price wins, the difference is flagged',
      copy: { a: copied(1000) },
      latest: answered(latest('a', 1500)),
      line: { unitPriceMinor: 1500, priceSource: 'PRODUCT_SERVICE' },
      notes: /copy said 10\.00 EUR, the product service 15\.00/,
      reviewReasons: 1,
    },
    {
      name: 'the product service says the variant no longer sells: that status goes to the decider',
      copy: { a: copied(1000) },
      latest: answered(latest('a', 1000, 'DISCONTINUED')),
      line: { variantStatus: 'DISCONTINUED', priceSource: 'PRODUCT_SERVICE' },
    },
    {
      name: 'no answer in time: priced from the copy, saying so',
      copy: { a: copied(1000) },
      latest: silent,
      line: { unitPriceMinor: 1000, priceSource: 'CATALOGUE_COPY' },
      notes: /priced from the order service's catalogue copy: the product service did not answer in time \(no reply/,
    },
    {
      name: 'the product service does not know a variant the copy knows: priced from the copy, noted',
      copy: { a: copied(1000) },
      latest: answered(latest('a', null)),
      line: { unitPriceMinor: 1000, priceSource: 'CATALOGUE_COPY' },
      notes: /lines\[0\] \(SKU-A\): priced from the order service's catalogue copy: the product service does not know the variant/,
    },
    {
      name: 'neither knows the variant: UNKNOWN, for the decider to refuse',
      copy: {},
      latest: answered(latest('a', null)),
      line: { unitPriceMinor: null, priceSource: null, variantStatus: 'UNKNOWN', productId: null },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const command = placeOrderCommand(request([['a', 2]]), new Map(Object.entries(c.copy)), c.latest);
      expect(command.lines).to.have.length(1);
      expect(command.lines[0]).to.include(c.line);
      if (c.notes) expect(command.priceNotes.join('\n')).to.match(c.notes);
      else expect(command.priceNotes).to.deep.equal([]);
      expect(command.reviewReasons).to.have.length(c.reviewReasons ?? 0);
      expect(command.orderId).to.equal(orderIdFor('c-1', 'k-1'));
      expect(command.currency).to.equal('EUR');
    });
  }
});
