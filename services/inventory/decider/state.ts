// The state of one variant's stock, as the inventory decider sees it.
import { Map as ImmutableMap } from 'immutable';
import type { InventoryCommands } from '../../../schemas/generated/inventory.commands.ts';
import type { InventoryEvents, ReservationRejectionReason, StockStatus } from '../../../schemas/generated/inventory.events.ts';
import type { OutcomeRecord, TopicMessage } from '../../platform/topics.ts';

/** Events the decider emits; the outcome records are the processor's, not the decider's. */
export type InventoryEvent = TopicMessage<Omit<InventoryEvents, OutcomeRecord>>;
export type InventoryCommand = TopicMessage<InventoryCommands>;

export const DEFAULT_LOW_STOCK_THRESHOLD = 10;
export const DEFAULT_RESERVATION_TTL_SECONDS = 15 * 60;

export interface OpenReservation {
  units: number;
  orderId: string | null;
  expiresAt: number;
}

/**
 * The first outcome of every reservationId ever seen, so a repeat gets the same
 * answer and no second effect. Kept for the record's lifetime (see README).
 */
export type ReservationOutcome =
  | { kind: 'RESERVED'; units: number; orderId: string | null; expiresAt: number; closedBy?: 'RELEASED' | 'EXPIRED' | 'SOLD' }
  | { kind: 'REJECTED'; requested: number; orderId: string | null; reason: ReservationRejectionReason; available: number };

export type Lifecycle = 'UNINITIALIZED' | 'ACTIVE' | 'RETIREMENT_BLOCKED' | 'RETIRED';

export interface VariantStock {
  lifecycle: Lifecycle;
  productId: string;
  sku: string;
  quantity: number;
  reserved: number;
  lowStockThreshold: number;
  /** Initialised without stock, and none has arrived since. */
  awaitingInitialStock: boolean;
  discontinued: boolean;
  status: StockStatus;
  version: number;
  open: ImmutableMap<string, OpenReservation>;
  outcomes: ImmutableMap<string, ReservationOutcome>;
}

export const initialStock: VariantStock = {
  lifecycle: 'UNINITIALIZED',
  productId: '',
  sku: '',
  quantity: 0,
  reserved: 0,
  lowStockThreshold: DEFAULT_LOW_STOCK_THRESHOLD,
  awaitingInitialStock: false,
  discontinued: false,
  status: 'AWAITING_INITIAL_STOCK',
  version: 0,
  open: ImmutableMap(),
  outcomes: ImmutableMap(),
};

export function available(s: Pick<VariantStock, 'quantity' | 'reserved'>): number {
  return s.quantity - s.reserved;
}

/** Status follows stock: what is free to reserve, against the variant's threshold. */
export function statusOf(s: Pick<VariantStock, 'quantity' | 'reserved' | 'lowStockThreshold' | 'awaitingInitialStock' | 'discontinued' | 'lifecycle'>): StockStatus {
  if (s.discontinued || s.lifecycle === 'RETIREMENT_BLOCKED' || s.lifecycle === 'RETIRED') return 'DISCONTINUED';
  if (s.awaitingInitialStock) return 'AWAITING_INITIAL_STOCK';
  const free = available(s);
  if (free <= 0) return 'OUT_OF_STOCK';
  if (free <= s.lowStockThreshold) return 'LOW_STOCK';
  return 'IN_STOCK';
}

/** Earliest expiry among open reservations: when the processor's timer must act. */
export function nextExpiry(s: VariantStock): number | undefined {
  let next: number | undefined;
  for (const r of s.open.values()) if (next === undefined || r.expiresAt < next) next = r.expiresAt;
  return next;
}
