// The write side of an HTTP endpoint: register a waiter for the command's
// outcome, append the command, and answer from the outcome once the read
// models have applied it (so the caller can read its own write), or report
// that it is still pending after the timeout instead of hanging.
import { newId } from '../headers.ts';
import type { Metrics } from '../metrics.ts';
import type { CommandSender } from '../messaging/command-sender.ts';
import type { OutcomeWaiters } from '../projections/outcome-waiters.ts';
import type { ProjectedEvent } from '../projections/projection.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';

export type CommandOutcome =
  | { done: true; commandId: string; events: ProjectedEvent[]; rejection?: { code: string; message: string } }
  | { done: false; commandId: string };

export interface CommandRequests {
  send<M extends RecordMap>(topic: TopicDescriptor<M>, message: TopicMessage<M>, correlationId: string): Promise<CommandOutcome>;
}

export function createCommandRequests(sender: CommandSender, waiters: OutcomeWaiters, timeoutMs: number, metrics?: Metrics): CommandRequests {
  return {
    async send(topic, message, correlationId) {
      const commandId = newId();
      const stop = metrics?.commandRequests.startTimer();
      const outcome = waiters.wait(commandId, timeoutMs);
      await sender.send(topic, message, { correlationId, commandId });
      const events = await outcome;
      if (!events) {
        stop?.({ outcome: 'pending' });
        return { done: false, commandId };
      }
      const rejected = events.find((e) => e.type === 'CommandRejected');
      stop?.({ outcome: rejected ? 'rejected' : 'answered' });
      return rejected
        ? { done: true, commandId, events, rejection: { code: String(rejected.data.code), message: String(rejected.data.message) } }
        : { done: true, commandId, events };
    },
  };
}
