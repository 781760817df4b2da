// Long-polls on an order's status: a request waits to be told that the order
// changed, and every waiter is removed when it is told, times out, or its
// client goes away, so none is ever left behind.
export interface StatusWatchers {
  /** Resolves when the order changes, after the timeout, or when the signal aborts. */
  changed(orderId: string, timeoutMs: number, signal: AbortSignal): Promise<void>;
  notify(orderId: string): void;
  count(): number;
}

export function createStatusWatchers(): StatusWatchers {
  const watchers = new Map<string, Set<() => void>>();
  const remove = (orderId: string, done: () => void) => {
    const set = watchers.get(orderId);
    set?.delete(done);
    if (set?.size === 0) watchers.delete(orderId);
  };
  return {
    changed(orderId, timeoutMs, signal) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          remove(orderId, done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        signal.addEventListener('abort', done, { once: true });
        if (signal.aborted) return done();
        const set = watchers.get(orderId) ?? new Set();
        set.add(done);
        watchers.set(orderId, set);
      });
    },
    notify(orderId) {
      for (const done of [...(watchers.get(orderId) ?? [])]) done();
    },
    count: () => [...watchers.values()].reduce((n, s) => n + s.size, 0),
  };
}
