// The price check at placement: the order service's catalogue copy against the
// product service's latest price, line by line and in total.
import { expect } from 'chai';
import { checkPrices, type ComparedLine } from '../../services/order/price-check.ts';

const line = (index: number, quantity: number, copyPriceMinor: number, latestPriceMinor: number): ComparedLine => ({ index, sku: `SKU-${index}`, quantity, copyPriceMinor, latestPriceMinor });

describe('price check at placement', () => {
  const cases: { name: string; currency?: string; lines: ComparedLine[]; notes: string[]; reviewReasons: string[] }[] = [
    { name: 'nothing when the copy matches', lines: [line(0, 2, 1000, 1000)], notes: [], reviewReasons: [] },
    { name: 'a line 1% off or less: nothing', lines: [line(0, 1, 1000, 1010)], notes: [], reviewReasons: [] },
    {
      name: 'a line more than 1% off: noted, not flagged',
      lines: [line(0, 1, 1000, 1020)],
      notes: ["lines[0] (SKU-0): the order service's copy said 10.00 EUR, the product service 10.20 (2.0% off); priced at 10.20"],
      reviewReasons: [],
    },
    {
      name: 'a line more than 10% off: flagged for review',
      lines: [line(0, 1, 1000, 1200)],
      notes: ["lines[0] (SKU-0): the order service's copy said 10.00 EUR, the product service 12.00 (16.7% off); priced at 12.00"],
      reviewReasons: ["lines[0] (SKU-0): the order service's copy said 10.00 EUR, the product service 12.00 (16.7% off); priced at 12.00"],
    },
    {
      name: 'a total more than 10 units off, every line within 10%: flagged',
      lines: [line(0, 20, 1000, 1060)],
      notes: ["lines[0] (SKU-0): the order service's copy said 10.00 EUR, the product service 10.60 (5.7% off); priced at 10.60"],
      reviewReasons: ["total 212.00 EUR differs from the order service's copy (200.00) by 12.00"],
    },
    {
      name: "units in the currency's own minor unit (JPY has none)",
      currency: 'JPY',
      lines: [line(0, 1, 1000, 1011)],
      notes: ["lines[0] (SKU-0): the order service's copy said 1000 JPY, the product service 1011 (1.1% off); priced at 1011"],
      reviewReasons: ["total 1011 JPY differs from the order service's copy (1000) by 11"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(checkPrices(c.currency ?? 'EUR', c.lines)).to.deep.equal({ notes: c.notes, reviewReasons: c.reviewReasons }));
  }
});
