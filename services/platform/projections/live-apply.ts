// The live path's answer to a projection handler that throws: the batch rolls
// back and is tried again (the consumer re-fetches it); after a bounded number
// of attempts at the same first event, the events that keep failing go to the
// dead-letter topic and the batch is applied without them.
import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { HandlerObserver } from '../metrics.ts';
import { createRetryBudget } from '../processing/retry-budget.ts';
import type { TopicDescriptor } from '../topics.ts';
import { applyBatch, BatchFailed, type ProjectionHandle } from './apply.ts';
import type { ProjectedEvent } from './projection.ts';
import { end, startApplySpans } from '../tracing/spans.ts';

export type DeadLetter = (topic: TopicDescriptor, partition: number, message: KafkaMessage, reason: string, observer?: HandlerObserver) => Promise<void>;

export interface LiveBatch {
  topic: TopicDescriptor;
  partition: number;
  events: ProjectedEvent[];
  /** Offset after the batch: the checkpoint once it is applied. */
  next: bigint;
  messages: KafkaMessage[];
}

export function createLiveApplier(options: { maxAttempts: number; logger: Logger; deadLetter: DeadLetter }) {
  const { maxAttempts, logger, deadLetter } = options;
  const budget = createRetryBudget(maxAttempts);
  return {
    /** Applies a batch to a live database; returns how many events it applied. */
    async apply(name: string, handle: ProjectionHandle, observer: HandlerObserver, batch: LiveBatch): Promise<number> {
      const { topic, partition, events, next, messages } = batch;
      const skip = new Set<bigint>();
      const spans = startApplySpans(name, topic.name, partition, events);
      for (;;) {
        try {
          const applied = applyBatch(handle, topic, partition, events, next, skip);
          for (const span of spans) end(span);
          return applied;
        } catch (error) {
          if (!(error instanceof BatchFailed)) {
            for (const span of spans) end(span, error);
            throw error;
          }
          const first = error.failed[0]!;
          const attemptKey = `${name}|${topic.name}|${partition}|${first.offset}`;
          observer.failed('handler-error');
          const exhausted = budget.exhausted(attemptKey);
          const attempt = budget.attempts(attemptKey);
          logger.warn({ projection: name, topic: topic.name, offset: String(first.offset), attempt, reason: error.reason, correlationId: first.meta.correlationId }, 'projection handler failed');
          if (!exhausted) {
            const failure = new Error(`projection ${name} failed on ${topic.name}[${partition}]@${first.offset} (attempt ${attempt}/${maxAttempts}): ${error.reason}`);
            for (const span of spans) end(span, failure);
            throw failure;
          }
          // Still failing after bounded retries: dead-letter those events and go on.
          for (const event of error.failed) {
            await deadLetter(
              topic,
              partition,
              messages.find((m) => BigInt(m.offset) === event.offset)!,
              `projection ${name} kept failing: ${error.reason}`,
              observer,
            );
            skip.add(event.offset);
          }
          budget.settle(attemptKey);
        }
      }
    },
  };
}
