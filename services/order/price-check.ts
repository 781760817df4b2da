// The price check at order creation: each line's snapshot (from the order
// service's own view of the catalogue) against the product service's current
// answer. A line more than 1% off is noted; the order is flagged for review
// when its total differs by more than 10 currency units or any line by more
// than 10%, or when the product service says a variant no longer sells.
import { fromMinor, minorDigits } from '../platform/money.ts';

export interface SnapshotLine {
  variantId: string;
  sku: string;
  quantity: number;
  unitPriceMinor: number;
}

export interface CurrentPrice {
  variantId: string;
  found: boolean;
  priceMinor: number | null;
  status: string | null;
}

export interface PriceCheck {
  notes: string[];
  reviewReasons: string[];
}

export const LINE_NOTE_RATIO = 0.01;
export const LINE_REVIEW_RATIO = 0.1;
export const TOTAL_REVIEW_UNITS = 10;

export function checkPrices(currency: string, lines: SnapshotLine[], current: CurrentPrice[]): PriceCheck {
  const byVariant = new Map(current.map((c) => [c.variantId, c]));
  const notes: string[] = [];
  const reviewReasons: string[] = [];
  let snapshotTotal = 0;
  let currentTotal = 0;
  const money = (minor: number) => fromMinor(minor, currency).toFixed(minorDigits(currency));
  lines.forEach((line, i) => {
    const now = byVariant.get(line.variantId);
    snapshotTotal += line.quantity * line.unitPriceMinor;
    if (!now?.found || now.priceMinor === null) {
      notes.push(`lines[${i}] (${line.sku}): the product service does not know this variant`);
      currentTotal += line.quantity * line.unitPriceMinor;
      return;
    }
    currentTotal += line.quantity * now.priceMinor;
    if (now.status === 'DISCONTINUED' || now.status === 'DELETED') reviewReasons.push(`lines[${i}] (${line.sku}): the product service reports the variant ${now.status.toLowerCase()}`);
    if (now.priceMinor === line.unitPriceMinor) return;
    const off = now.priceMinor === 0 ? 1 : Math.abs(line.unitPriceMinor - now.priceMinor) / now.priceMinor;
    const text = `lines[${i}] (${line.sku}): priced ${money(line.unitPriceMinor)} ${currency}, catalogue says ${money(now.priceMinor)} (${(off * 100).toFixed(1)}% off)`;
    if (off > LINE_NOTE_RATIO) notes.push(text);
    if (off > LINE_REVIEW_RATIO) reviewReasons.push(text);
  });
  const totalDiff = Math.abs(snapshotTotal - currentTotal);
  if (totalDiff > TOTAL_REVIEW_UNITS * 10 ** minorDigits(currency)) {
    reviewReasons.push(`total ${money(snapshotTotal)} ${currency} differs from the catalogue's ${money(currentTotal)} by ${money(totalDiff)}`);
  }
  return { notes, reviewReasons };
}
