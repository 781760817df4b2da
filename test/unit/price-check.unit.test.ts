import { expect } from 'chai';
import { checkPrices } from '../../services/order/price-check.ts';

const line = (variantId: string, quantity: number, unitPriceMinor: number) => ({ variantId, sku: `SKU-${variantId}`, quantity, unitPriceMinor });
const now = (variantId: string, priceMinor: number | null, status = 'ACTIVE') => ({ variantId, found: priceMinor !== null, priceMinor, status });

describe('price check at order creation', () => {
  it('says nothing when the snapshot matches the catalogue', () => {
    expect(checkPrices('EUR', [line('a', 2, 1000)], [now('a', 1000)])).to.deep.equal({ notes: [], reviewReasons: [] });
  });

  it('notes a line more than 1% off, without flagging it', () => {
    expect(checkPrices('EUR', [line('a', 1, 1000)], [now('a', 1020)])).to.deep.equal({
      notes: ['lines[0] (SKU-a): priced 10.00 EUR, catalogue says 10.20 (2.0% off)'],
      reviewReasons: [],
    });
  });

  it('leaves a line 1% off or less alone', () => {
    expect(checkPrices('EUR', [line('a', 1, 1000)], [now('a', 1010)]).notes).to.deep.equal([]);
  });

  it('flags a line more than 10% off', () => {
    const check = checkPrices('EUR', [line('a', 1, 1000)], [now('a', 1200)]);
    expect(check.reviewReasons).to.deep.equal(['lines[0] (SKU-a): priced 10.00 EUR, catalogue says 12.00 (16.7% off)']);
  });

  it('flags a total more than 10 units off, even when every line is within 10%', () => {
    const check = checkPrices('EUR', [line('a', 20, 1000)], [now('a', 1060)]);
    expect(check.reviewReasons).to.deep.equal(['total 200.00 EUR differs from the catalogue\'s 212.00 by 12.00']);
    expect(check.notes).to.have.length(1);
  });

  it('flags a variant the product service says is discontinued, and notes one it does not know', () => {
    const check = checkPrices('EUR', [line('a', 1, 1000), line('b', 1, 500)], [now('a', 1000, 'DISCONTINUED'), now('b', null)]);
    expect(check.reviewReasons).to.deep.equal(['lines[0] (SKU-a): the product service reports the variant discontinued']);
    expect(check.notes).to.deep.equal(['lines[1] (SKU-b): the product service does not know this variant']);
  });

  it('counts units in the currency\'s own minor unit (JPY has none)', () => {
    expect(checkPrices('JPY', [line('a', 1, 1000)], [now('a', 1011)]).reviewReasons).to.deep.equal(['total 1000 JPY differs from the catalogue\'s 1011 by 11']);
  });
});
