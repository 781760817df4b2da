// How many units of a variant to reorder: enough to cover the supplier's lead
// time and the period to cover at the recent daily sales velocity, plus the
// low-stock threshold as safety, less what is already free to sell.

export interface ReorderInput {
  unitsSold: number;
  /** Days the sales were counted over (at least 1). */
  windowDays: number;
  leadTimeDays: number;
  coverDays: number;
  available: number;
  lowStockThreshold: number;
}

export function suggestReorder(input: ReorderInput): { dailySalesVelocity: number; suggestedQuantity: number } {
  const velocity = input.unitsSold / input.windowDays;
  const target = Math.ceil(velocity * (input.leadTimeDays + input.coverDays)) + input.lowStockThreshold;
  return { dailySalesVelocity: Number(velocity.toFixed(3)), suggestedQuantity: Math.max(0, target - input.available) };
}
