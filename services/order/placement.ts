// Placing an order, as pure rules: the order id an Idempotency-Key names, the
// digest that tells a retry from a different request, and the PlaceOrder
// command with every line priced (seed 004): from the product service's latest
// data when it answered in time, else from the order service's own copy of the
// catalogue, each line saying which. A variant neither knows stays UNKNOWN,
// which the decider refuses (422), naming the line.
import crypto from 'node:crypto';
import type { PlaceOrder, PlacedLine } from '../../schemas/generated/order.commands.ts';
import type { ProductDetailsProvided } from '../../schemas/generated/product.details.replies.ts';
import { checkPrices, type ComparedLine } from './price-check.ts';

export interface CheckoutRequest {
  customerId: string;
  items: { variantId: string; quantity: number }[];
  idempotencyKey: string;
}

/** A variant as the order service's catalogue copy holds it. */
export interface CopiedVariant {
  productId: string;
  sku: string;
  priceMinor: number;
  currency: string;
  status: string;
}

export type VariantDetails = ProductDetailsProvided['variants'][number];

/** The product service's answer for the order's variants, or why there is none. */
export type LatestDetails = { answered: true; variants: ReadonlyMap<string, VariantDetails> } | { answered: false; reason: string };

/** Used when no line says which currency the order is in (every variant unknown: the decider refuses it anyway). */
export const FALLBACK_CURRENCY = 'EUR';

/** The same customer and Idempotency-Key always name the same order. */
export function orderIdFor(customerId: string, idempotencyKey: string): string {
  const hex = crypto.createHash('sha256').update(`${customerId}\n${idempotencyKey}`).digest('hex');
  // Shaped as a name-based UUID (version 5 layout, SHA-256 digest).
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Digest of what was asked: the same key with another request is a conflict, not a retry. */
export function requestHashOf(request: Pick<CheckoutRequest, 'customerId' | 'items'>): string {
  return crypto
    .createHash('sha256')
    .update(JSON.stringify({ customerId: request.customerId, items: request.items }))
    .digest('hex');
}

function priceLine(item: CheckoutRequest['items'][number], copy: CopiedVariant | undefined, latest: VariantDetails | undefined): PlacedLine {
  if (latest?.found && latest.productId !== null && latest.sku !== null && latest.priceMinor !== null && latest.status !== null) {
    return {
      variantId: item.variantId,
      productId: latest.productId,
      sku: latest.sku,
      quantity: item.quantity,
      unitPriceMinor: latest.priceMinor,
      currency: latest.currency,
      variantStatus: latest.status,
      priceSource: 'PRODUCT_SERVICE',
    };
  }
  if (copy) {
    return {
      variantId: item.variantId,
      productId: copy.productId,
      sku: copy.sku,
      quantity: item.quantity,
      unitPriceMinor: copy.priceMinor,
      currency: copy.currency,
      variantStatus: copy.status,
      priceSource: 'CATALOGUE_COPY',
    };
  }
  return { variantId: item.variantId, productId: null, sku: null, quantity: item.quantity, unitPriceMinor: null, currency: null, variantStatus: 'UNKNOWN', priceSource: null };
}

export function placeOrderCommand(request: CheckoutRequest, copy: ReadonlyMap<string, CopiedVariant>, latest: LatestDetails): PlaceOrder {
  const found = latest.answered ? latest.variants : new Map<string, VariantDetails>();
  const lines = request.items.map((item) => priceLine(item, copy.get(item.variantId), found.get(item.variantId)));
  const currency = lines.find((l) => l.currency)?.currency ?? FALLBACK_CURRENCY;
  const compared: ComparedLine[] = lines.flatMap((line, index) => {
    const copied = copy.get(line.variantId);
    return line.priceSource === 'PRODUCT_SERVICE' && copied && line.unitPriceMinor !== null && line.sku !== null
      ? [{ index, sku: line.sku, quantity: line.quantity, copyPriceMinor: copied.priceMinor, latestPriceMinor: line.unitPriceMinor }]
      : [];
  });
  const check = checkPrices(currency, compared);
  const fromCopy = lines.flatMap((l, i) => (l.priceSource === 'CATALOGUE_COPY' ? [`lines[${i}] (${l.sku})`] : []));
  const notes = [
    ...check.notes,
    ...(fromCopy.length && !latest.answered ? [`priced from the order service's catalogue copy: the product service did not answer in time (${latest.reason})`] : []),
    ...(fromCopy.length && latest.answered ? [`${fromCopy.join(', ')}: priced from the order service's catalogue copy: the product service does not know the variant`] : []),
  ];
  return {
    orderId: orderIdFor(request.customerId, request.idempotencyKey),
    customerId: request.customerId,
    currency,
    lines,
    idempotencyKey: request.idempotencyKey,
    requestHash: requestHashOf(request),
    priceNotes: notes,
    reviewReasons: check.reviewReasons,
  };
}
