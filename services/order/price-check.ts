// The price check at placement (seed 004 §6.2): each line is priced from the
// product service's latest data when it answered in time; where the order
// service's own catalogue copy says otherwise, the difference is recorded. A
// line more than 1% off is noted; the order is flagged for review when a line
// is more than 10% off or its total differs by more than 10 currency units.
import { fromMinor, minorDigits } from '../platform/money.ts';

export interface ComparedLine {
  /** Position in the order, for messages: lines[i]. */
  index: number;
  sku: string;
  quantity: number;
  /** What the order service's copy of the catalogue says. */
  copyPriceMinor: number;
  /** What the product service says now: the price the line gets. */
  latestPriceMinor: number;
}

export interface PriceCheck {
  notes: string[];
  reviewReasons: string[];
}

export const LINE_NOTE_RATIO = 0.01;
export const LINE_REVIEW_RATIO = 0.1;
export const TOTAL_REVIEW_UNITS = 10;

export function checkPrices(currency: string, lines: ComparedLine[]): PriceCheck {
  const notes: string[] = [];
  const reviewReasons: string[] = [];
  let copyTotal = 0;
  let latestTotal = 0;
  const money = (minor: number) => fromMinor(minor, currency).toFixed(minorDigits(currency));
  for (const line of lines) {
    copyTotal += line.quantity * line.copyPriceMinor;
    latestTotal += line.quantity * line.latestPriceMinor;
    if (line.copyPriceMinor === line.latestPriceMinor) continue;
    const off = line.latestPriceMinor === 0 ? 1 : Math.abs(line.copyPriceMinor - line.latestPriceMinor) / line.latestPriceMinor;
    const text = `lines[${line.index}] (${line.sku}): the order service's copy said ${money(line.copyPriceMinor)} ${currency}, the product service ${money(line.latestPriceMinor)} (${(off * 100).toFixed(1)}% off); priced at ${money(line.latestPriceMinor)}`;
    if (off > LINE_NOTE_RATIO) notes.push(text);
    if (off > LINE_REVIEW_RATIO) reviewReasons.push(text);
  }
  const totalDiff = Math.abs(copyTotal - latestTotal);
  if (totalDiff > TOTAL_REVIEW_UNITS * 10 ** minorDigits(currency)) {
    reviewReasons.push(`total ${money(latestTotal)} ${currency} differs from the order service's copy (${money(copyTotal)}) by ${money(totalDiff)}`);
  }
  return { notes, reviewReasons };
}
