// Request-reply over the log: an HTTP write registers the id of the command it
// is about to send, and is answered once the projections have applied the
// command's whole outcome (every event it caused, in one transaction), so the
// caller can read its own write straight away. A waiter that times out is
// removed; none is ever left behind.
import type { ProjectedEvent } from './projection.ts';

export interface OutcomeWaiters {
  /** Resolves with the command's outcome events, or undefined after the timeout. */
  wait(commandId: string, timeoutMs: number): Promise<ProjectedEvent[] | undefined>;
  observe(event: ProjectedEvent): void;
  /** Stops waiting (the command was never sent): the wait resolves with undefined. */
  cancel(commandId: string): void;
  pending(): number;
}

interface Waiter {
  events: ProjectedEvent[];
  resolve(events: ProjectedEvent[] | undefined): void;
  timer: NodeJS.Timeout;
}

export function createOutcomeWaiters(): OutcomeWaiters {
  const waiters = new Map<string, Waiter>();
  return {
    wait(commandId, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(commandId);
          resolve(undefined);
        }, timeoutMs);
        waiters.set(commandId, { events: [], resolve, timer });
      });
    },
    observe(event) {
      const id = event.meta.causationId;
      const waiter = id ? waiters.get(id) : undefined;
      if (!waiter || !id) return;
      waiter.events.push(event);
      const outcome = event.meta.outcome;
      if (!outcome || outcome.index >= outcome.count - 1) {
        clearTimeout(waiter.timer);
        waiters.delete(id);
        waiter.resolve(waiter.events);
      }
    },
    cancel(commandId) {
      const waiter = waiters.get(commandId);
      if (!waiter) return;
      clearTimeout(waiter.timer);
      waiters.delete(commandId);
      waiter.resolve(undefined);
    },
    pending: () => waiters.size,
  };
}
