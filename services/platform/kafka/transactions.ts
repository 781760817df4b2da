// kafkajs 2.2.4's Transaction.sendOffsets sends AddOffsetsToTxn outside its
// retrier, so a transaction started right after the previous one committed can
// meet CONCURRENT_TRANSACTIONS (the coordinator is still writing the previous
// markers) and fail. The request is idempotent; retry it briefly.
import type { Offsets, Transaction } from 'kafkajs';

const RETRIABLE = new Set(['CONCURRENT_TRANSACTIONS', 'COORDINATOR_LOAD_IN_PROGRESS', 'NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE']);

export async function sendOffsetsWithRetry(
  transaction: Transaction,
  offsets: Offsets & { consumerGroupId: string },
  attempts = 12,
): Promise<void> {
  let delay = 10;
  for (let attempt = 1; ; attempt++) {
    try {
      await transaction.sendOffsets(offsets);
      return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (!type || !RETRIABLE.has(type) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}
