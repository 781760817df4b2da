// Prices travel as integers of the currency's minor unit (cents); the HTTP API
// speaks decimal amounts. How many decimals a currency has comes from Intl.
const digitsCache = new Map<string, number>();

export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
}

/** ISO 4217 codes this runtime knows (and so can format and scale). */
export const CURRENCIES: readonly string[] = Intl.supportedValuesOf('currency');

export function isCurrency(code: string): boolean {
  return CURRENCIES.includes(code);
}

/** Minor units of a decimal amount, or undefined when it has more decimals than the currency. */
export function toMinor(amount: number, currency: string): number | undefined {
  const factor = 10 ** minorDigits(currency);
  const minor = Math.round(amount * factor);
  return Math.abs(minor - amount * factor) < 1e-6 && Number.isSafeInteger(minor) ? minor : undefined;
}

export function fromMinor(minor: number, currency: string): number {
  const digits = minorDigits(currency);
  return Number((minor / 10 ** digits).toFixed(digits));
}
