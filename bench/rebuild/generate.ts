// A realistic history for the rebuild benchmark, written straight to the
// event topics: variants initialised, reserved, sold and released (with levels
// and versions that add up), the catalogue behind them, and orders.
import type { Kafka } from 'kafkajs';
import { newId, toHeaders } from '../../services/platform/headers.ts';
import type { Codec } from '../../services/platform/schemas/codec.ts';
import type { TopicDescriptor } from '../../services/platform/topics.ts';
import type { Topics } from '../../services/topics.ts';

type Emit = (topic: TopicDescriptor, key: string, message: { type: string; data: object }) => Promise<void>;

function writer(kafka: Kafka, codec: Codec) {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const pending = new Map<string, { key: string; value: Buffer; headers: ReturnType<typeof toHeaders> }[]>();
  let written = 0;
  const flush = async (topic: string) => {
    const messages = pending.get(topic) ?? [];
    pending.set(topic, []);
    if (messages.length) await producer.send({ topic, acks: -1, messages });
    written += messages.length;
  };
  const emit: Emit = async (topic, key, message) => {
    const list = pending.get(topic.name) ?? [];
    list.push({
      key,
      value: codec.encode(topic, message),
      headers: toHeaders({ id: newId(), type: codec.fullName(topic, message.type), source: 'bench', time: Date.now(), correlationId: newId() }),
    });
    pending.set(topic.name, list);
    // A batch per partition must stay under the broker's message.max.bytes (1 MiB).
    if (list.length >= 2000) await flush(topic.name);
  };
  return {
    connect: () => producer.connect(),
    emit,
    async close() {
      for (const topic of [...pending.keys()]) await flush(topic);
      await producer.disconnect();
      return written;
    },
  };
}

export async function generateHistory(kafka: Kafka, codec: Codec, topics: Topics, inventoryEvents: number) {
  const w = writer(kafka, codec);
  await w.connect();
  const variants = Math.max(1000, Math.floor(inventoryEvents / 50));
  const at = Date.UTC(2026, 0, 1);

  // The catalogue: two variants per product.
  for (let p = 0; p < variants / 2; p++) {
    const productId = `product-${p}`;
    await w.emit(topics.productEvents, productId, {
      type: 'ProductCreated',
      data: { productId, version: 1, occurredAt: at, name: `Product ${p}`, description: `A product for the rebuild benchmark, number ${p}`, category: `category-${p % 20}`, currency: 'EUR' },
    });
    for (let v = 0; v < 2; v++) {
      const variantId = `variant-${p * 2 + v}`;
      await w.emit(topics.productEvents, productId, {
        type: 'ProductVariantCreated',
        data: {
          productId,
          version: 2 + v,
          occurredAt: at,
          variantId,
          sku: `SKU-${p * 2 + v}`,
          priceMinor: 1000 + p,
          currency: 'EUR',
          attributes: { size: v ? 'L' : 'M' },
          initialStock: 1000,
          lowStockThreshold: 10,
        },
      });
    }
  }

  // Inventory: each variant initialised, then reserve / sell-or-release cycles.
  const state = Array.from({ length: variants }, () => ({ version: 0, quantity: 1000, reserved: 0 }));
  const perVariant = Math.floor(inventoryEvents / variants);
  for (let round = 0; round < perVariant; round++) {
    for (let i = 0; i < variants; i++) {
      const s = state[i]!;
      const productVariantId = `variant-${i}`;
      const base = { productVariantId, version: ++s.version, occurredAt: at + round * 60_000 };
      const levels = () => ({ quantity: s.quantity, reservedQuantity: s.reserved, availableQuantity: s.quantity - s.reserved });
      let event: { type: string; data: object };
      if (round === 0) {
        event = { type: 'InventoryRecordInitialized', data: { ...base, productId: `product-${Math.floor(i / 2)}`, sku: `SKU-${i}`, lowStockThreshold: 10, ...levels(), status: 'IN_STOCK' } };
      } else if (round % 2 === 1) {
        s.reserved += 2;
        event = {
          type: 'StockReserved',
          data: { ...base, reservationId: `r-${i}-${round}`, orderId: `order-${(i + round) % 30_000}`, reservedUnits: 2, expiresAt: base.occurredAt + 900_000, ...levels() },
        };
      } else if (round % 4 === 2) {
        s.reserved -= 2;
        s.quantity -= 2;
        event = { type: 'StockLevelChanged', data: { ...base, changeType: 'SALE', delta: -2, reservationId: `r-${i}-${round - 1}`, orderId: null, reason: null, ...levels() } };
      } else {
        s.reserved -= 2;
        event = { type: 'StockReleased', data: { ...base, reservationId: `r-${i}-${round - 1}`, orderId: null, releasedUnits: 2, reason: 'cancelled', ...levels() } };
      }
      await w.emit(topics.inventoryEvents, productVariantId, event);
    }
  }

  // Orders: created, both lines reserved, confirmed, paid.
  // Five events per order: every service replays about as many events as inventory does.
  const orders = Math.floor(inventoryEvents / 5);
  for (let o = 0; o < orders; o++) {
    const orderId = `order-${o}`;
    const lines = [0, 1].map((l) => ({
      variantId: `variant-${(o * 2 + l) % variants}`,
      productId: `product-${((o * 2 + l) % variants) >> 1}`,
      sku: `SKU-${(o * 2 + l) % variants}`,
      quantity: 1 + l,
      unitPriceMinor: 1000,
      reservationId: `${orderId}.${l}`,
    }));
    let version = 0;
    const base = () => ({ orderId, version: ++version, occurredAt: at });
    await w.emit(topics.orderEvents, orderId, {
      type: 'OrderCreated',
      data: {
        ...base(),
        customerId: `c-${o % 1000}`,
        currency: 'EUR',
        lines,
        totalMinor: 3000,
        idempotencyKey: `k-${o}`,
        requestHash: 'h',
        priceNotes: [],
        sagaDeadline: at + 30_000,
        paymentDeadline: at + 900_000,
      },
    });
    for (const l of lines)
      await w.emit(topics.orderEvents, orderId, {
        type: 'OrderLineReservationRecorded',
        data: { ...base(), variantId: l.variantId, reservationId: l.reservationId, outcome: 'RESERVED', availableQuantity: 100 },
      });
    await w.emit(topics.orderEvents, orderId, { type: 'OrderConfirmed', data: base() });
    await w.emit(topics.orderEvents, orderId, { type: 'OrderPaid', data: { ...base(), amountMinor: 3000 } });
  }
  return w.close();
}
