// Request-reply over the log: an HTTP write registers the id of the command it
// is about to send, and is answered once the command's whole outcome (every
// event it caused, in one transaction) is on the log and has been applied by
// the projections the answer reads, so the caller can read its own write
// straight away, without waiting for projections it does not read.
//
// A command whose waiter timed out (the caller got 202) stays outstanding until
// its outcome is seen, or for `forgetAfterMs`: the number of outstanding
// commands is what admission control bounds (http/command-request.ts).
import type { ProjectedEvent } from './projection.ts';

export interface OutcomeWaiters {
  /**
   * Resolves with the command's outcome events once `projections` have applied
   * them (none: as soon as they are read), or with undefined after the timeout.
   */
  wait(commandId: string, timeoutMs: number, projections?: readonly string[]): Promise<ProjectedEvent[] | undefined>;
  /** An event was read from the log (before any projection applied it). */
  observe(event: ProjectedEvent): void;
  /** A projection applied these events (or, frozen, will not). */
  applied(projection: string, events: readonly ProjectedEvent[]): void;
  /** Stops waiting (the command was never sent): the wait resolves with undefined. */
  cancel(commandId: string): void;
  /** Waiters an HTTP request is blocked on. */
  pending(): number;
  /** Commands sent whose outcome has not been seen yet (waited for or not). */
  outstanding(): number;
  /** Of those, the ones sent more than `olderThanMs` ago: a backlog forming, not just work in flight. */
  late(olderThanMs: number): number;
}

interface Waiter {
  events: ProjectedEvent[];
  /** Outcome events in all, once one of them told. */
  count?: number;
  needs: readonly string[];
  appliedBy: Map<string, number>;
  resolve?: (events: ProjectedEvent[] | undefined) => void;
  timer?: NodeJS.Timeout;
  since: number;
}

export function createOutcomeWaiters(options: { forgetAfterMs?: number; now?: () => number } = {}): OutcomeWaiters {
  const forgetAfterMs = options.forgetAfterMs ?? 120_000;
  const now = options.now ?? Date.now;
  const waiters = new Map<string, Waiter>();
  let lastSweep = now();

  const done = (commandId: string, waiter: Waiter, events: ProjectedEvent[] | undefined) => {
    if (waiter.timer) clearTimeout(waiter.timer);
    waiters.delete(commandId);
    waiter.resolve?.(events);
  };
  const settleIfComplete = (commandId: string, waiter: Waiter) => {
    const { count } = waiter;
    if (count === undefined || waiter.events.length < count) return;
    if (waiter.needs.every((p) => (waiter.appliedBy.get(p) ?? 0) >= count)) done(commandId, waiter, waiter.events);
  };
  // Outstanding commands whose outcome never showed (their partition moved on without us): forgotten after a while.
  const sweep = () => {
    const t = now();
    if (t - lastSweep < 1_000) return;
    lastSweep = t;
    for (const [id, w] of waiters) if (!w.resolve && t - w.since > forgetAfterMs) waiters.delete(id);
  };

  return {
    wait(commandId, timeoutMs, projections = []) {
      sweep();
      return new Promise((resolve) => {
        const waiter: Waiter = { events: [], needs: projections, appliedBy: new Map(), resolve, since: now() };
        waiter.timer = setTimeout(() => {
          // The caller gets 202; the command stays outstanding until its outcome shows.
          waiter.resolve = undefined;
          waiter.timer = undefined;
          resolve(undefined);
        }, timeoutMs);
        waiters.set(commandId, waiter);
      });
    },
    observe(event) {
      const id = event.meta.causationId;
      const waiter = id ? waiters.get(id) : undefined;
      if (!waiter || !id) return;
      // A batch that failed to apply is read again: each event counts once.
      if (waiter.events.some((e) => e.topic === event.topic && e.partition === event.partition && e.offset === event.offset)) return;
      waiter.events.push(event);
      waiter.count = event.meta.outcome?.count ?? 1;
      if (!waiter.resolve) {
        if (waiter.events.length >= waiter.count) waiters.delete(id); // no one waits: it only counted as outstanding
        return;
      }
      settleIfComplete(id, waiter);
    },
    applied(projection, events) {
      for (const event of events) {
        const id = event.meta.causationId;
        const waiter = id ? waiters.get(id) : undefined;
        if (!waiter || !id || !waiter.needs.includes(projection)) continue;
        waiter.appliedBy.set(projection, (waiter.appliedBy.get(projection) ?? 0) + 1);
        settleIfComplete(id, waiter);
      }
    },
    cancel(commandId) {
      const waiter = waiters.get(commandId);
      if (waiter) done(commandId, waiter, undefined);
    },
    pending: () => [...waiters.values()].filter((w) => w.resolve).length,
    outstanding: () => {
      sweep();
      return waiters.size;
    },
    late(olderThanMs) {
      // Insertion order is sending order: count from the oldest until one is young enough.
      const before = now() - olderThanMs;
      let n = 0;
      for (const w of waiters.values()) {
        if (w.since > before) break;
        n++;
      }
      return n;
    },
  };
}
