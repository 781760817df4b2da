// Lookups asked for while others are under way go out together: callers ask
// for keys, and the keys queued while `maxInFlight` lookups run are looked up
// in one call when one returns. Under load a lookup serves many callers (one
// request over the log instead of one per HTTP request); when idle, a caller's
// lookup goes out at once.
export interface LookupBatcherOptions {
  maxInFlight?: number;
  /** Distinct keys per lookup at most. */
  maxKeys?: number;
}

interface Waiting<V> {
  keys: string[];
  resolve(found: Map<string, V>): void;
  reject(error: unknown): void;
}

export function createLookupBatcher<V>(lookup: (keys: string[]) => Promise<Map<string, V>>, options: LookupBatcherOptions = {}): (keys: string[]) => Promise<Map<string, V>> {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxKeys = options.maxKeys ?? 500;
  let queue: Waiting<V>[] = [];
  let inFlight = 0;

  function next(): void {
    if (inFlight >= maxInFlight || queue.length === 0) return;
    const keys = new Set<string>();
    let n = 0;
    while (n < queue.length && (n === 0 || keys.size + queue[n]!.keys.length <= maxKeys)) for (const k of queue[n++]!.keys) keys.add(k);
    const batch = queue.slice(0, n);
    queue = queue.slice(n);
    inFlight++;
    lookup([...keys])
      .then(
        (found) => {
          for (const w of batch) w.resolve(new Map(w.keys.flatMap((k) => (found.has(k) ? [[k, found.get(k)!] as const] : []))));
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      )
      .finally(() => {
        inFlight--;
        next();
      });
  }

  return (keys) =>
    new Promise((resolve, reject) => {
      queue.push({ keys, resolve, reject });
      next();
    });
}
