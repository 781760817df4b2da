// Bounded retries for a message whose handler throws. The consumer re-reads
// the message after kafkajs' backoff; once the budget is spent the caller
// dead-letters it and goes on, so one bad message cannot stall its partition.
export interface RetryBudget {
  /** Records a failure; true when the message has now failed `max` times. */
  exhausted(key: string): boolean;
  /** Attempts so far for the message. */
  attempts(key: string): number;
  /** The message was handled or dead-lettered. */
  settle(key: string): void;
}

export function createRetryBudget(max = 5): RetryBudget {
  const failures = new Map<string, number>();
  return {
    exhausted(key) {
      const n = (failures.get(key) ?? 0) + 1;
      failures.set(key, n);
      // Keys of messages another member finished are never settled here: bound the map.
      if (failures.size > 10_000) failures.delete(failures.keys().next().value!);
      return n >= max;
    },
    attempts: (key) => failures.get(key) ?? 0,
    settle(key) {
      failures.delete(key);
    },
  };
}
