// Reorder suggestions as a table: sales over a window, lead time and cover,
// stock free to sell and the safety threshold -> units to reorder.
import { expect } from 'chai';
import { suggestReorder } from '../../services/inventory/reorder.ts';

describe('reorder suggestion', () => {
  const cases = [
    {
      why: 'no sales: only the safety threshold, less what is free',
      given: { unitsSold: 0, windowDays: 14, leadTimeDays: 7, coverDays: 14, available: 3, lowStockThreshold: 10 },
      then: { dailySalesVelocity: 0, suggestedQuantity: 7 },
    },
    {
      why: 'two a day for 21 days plus 10 safety, 12 free',
      given: { unitsSold: 28, windowDays: 14, leadTimeDays: 7, coverDays: 14, available: 12, lowStockThreshold: 10 },
      then: { dailySalesVelocity: 2, suggestedQuantity: 40 },
    },
    {
      why: 'enough on hand: nothing, never negative',
      given: { unitsSold: 7, windowDays: 7, leadTimeDays: 3, coverDays: 4, available: 500, lowStockThreshold: 5 },
      then: { dailySalesVelocity: 1, suggestedQuantity: 0 },
    },
    {
      why: 'a fractional need rounds up',
      given: { unitsSold: 1, windowDays: 3, leadTimeDays: 1, coverDays: 1, available: 0, lowStockThreshold: 0 },
      then: { dailySalesVelocity: 0.333, suggestedQuantity: 1 },
    },
  ];
  for (const c of cases) {
    it(c.why, () => expect(suggestReorder(c.given)).to.deep.equal(c.then));
  }
});
