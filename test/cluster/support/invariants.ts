// What must hold after any fault, read back from the log itself: every
// acknowledged checkout and reservation has exactly one outcome, no variant is
// oversold, no reservation is decided twice, every aggregate's versions run
// 1..n without a gap or a repeat.
import type { InventoryEvents } from '../../../schemas/generated/inventory.events.ts';
import type { OrderEvents } from '../../../schemas/generated/order.events.ts';
import type { Recorded } from '../../support/events.ts';
import type { Attempted } from './checkout-load.ts';

export interface Verdict {
  acknowledgedOrders: number;
  acknowledgedReservations: number;
  /** Acknowledged but without an outcome in the log. */
  lost: number;
  /** More than one outcome for one order, or one reservation decided twice. */
  duplicates: number;
  /** Events that left a variant with negative available stock. */
  oversold: number;
  /** Aggregates whose versions are not 1..n. */
  versionGaps: number;
  /** Requests never acknowledged, however often retried. */
  failed: number;
  /** Requests acknowledged only after a retry. */
  retried: number;
  problems: string[];
}

type Versioned = { key?: string; data: object; partition: number; offset: string };

/** Names each offending aggregate with the offsets of its events, so a repeat read tells from a repeat write. */
function versionProblems(events: Versioned[], topic: string): string[] {
  const byKey = new Map<string, { version: number; at: string }[]>();
  for (const e of events) {
    if (!e.key || !('version' in e.data) || typeof e.data.version !== 'number') continue;
    byKey.set(e.key, [...(byKey.get(e.key) ?? []), { version: e.data.version, at: `${e.partition}@${e.offset}` }]);
  }
  const problems: string[] = [];
  for (const [key, versions] of byKey) {
    const wrong = versions.findIndex((v, i) => v.version !== i + 1);
    if (wrong < 0) continue;
    const around = versions.slice(Math.max(0, wrong - 2), wrong + 3).map((v) => `${v.version}@${v.at}`);
    problems.push(`${topic} ${key}: version ${versions[wrong]!.version} where ${wrong + 1} belongs (version@partition@offset: …${around.join(', ')}…)`);
  }
  return problems;
}

export function verify(orders: Attempted[], reservations: Attempted[], orderEvents: Recorded<OrderEvents>[], inventoryEvents: Recorded<InventoryEvents>[]): Verdict {
  const problems: string[] = [];
  const outcomes = new Map<string, number>();
  for (const e of orderEvents) if ((e.type === 'OrderConfirmed' || e.type === 'OrderRejected') && e.key) outcomes.set(e.key, (outcomes.get(e.key) ?? 0) + 1);
  const decisions = new Map<string, number>();
  for (const e of inventoryEvents) if (e.type === 'StockReserved' || e.type === 'ReservationRejected') decisions.set(e.data.reservationId, (decisions.get(e.data.reservationId) ?? 0) + 1);

  const ackedOrders = orders.filter((o) => o.status !== undefined && o.id);
  const ackedReservations = reservations.filter((r) => r.status !== undefined);
  let lost = 0;
  let duplicates = 0;
  for (const o of ackedOrders) {
    const n = outcomes.get(o.id!) ?? 0;
    if (n === 0) {
      lost++;
      problems.push(`order ${o.id} (${o.key}) acknowledged ${o.status} has no outcome`);
    }
    if (n > 1) {
      duplicates++;
      problems.push(`order ${o.id} has ${n} outcomes`);
    }
  }
  for (const r of ackedReservations) {
    const n = decisions.get(r.key) ?? 0;
    if (n === 0) {
      lost++;
      problems.push(`reservation ${r.key} acknowledged ${r.status} was never decided`);
    }
  }
  // Every reservation in the log, the saga's too, is decided at most once.
  for (const [id, n] of decisions)
    if (n > 1) {
      duplicates++;
      problems.push(`reservation ${id} decided ${n} times`);
    }

  let oversold = 0;
  for (const e of inventoryEvents) {
    if ('availableQuantity' in e.data && typeof e.data.availableQuantity === 'number' && e.data.availableQuantity < 0) {
      oversold++;
      problems.push(`${e.key} oversold: ${e.type} leaves ${e.data.availableQuantity} available`);
    }
  }
  const gaps = [...versionProblems(orderEvents, 'order.events'), ...versionProblems(inventoryEvents, 'inventory.events')];
  problems.push(...gaps);
  const all = [...orders, ...reservations];
  const failed = all.filter((a) => a.status === undefined);
  problems.push(...failed.slice(0, 5).map((a) => `${a.key} failed after ${a.attempts} attempts: ${a.failure}`));
  return {
    acknowledgedOrders: ackedOrders.length,
    acknowledgedReservations: ackedReservations.length,
    lost,
    duplicates,
    oversold,
    versionGaps: gaps.length,
    failed: failed.length,
    retried: all.filter((a) => a.status !== undefined && a.attempts > 1).length,
    problems,
  };
}
