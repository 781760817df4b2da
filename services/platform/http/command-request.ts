// The write side of an HTTP endpoint: register a waiter for the command's
// outcome, append the command, and report the outcome once the read models have
// applied it (so the caller can read its own write), or that it is still
// pending after the timeout instead of hanging. Every decided command has an
// outcome on the log (decider.ts), so only a slow one is ever pending.
import type { UnchangedReason } from '../decider.ts';
import { newId } from '../headers.ts';
import type { Metrics } from '../metrics.ts';
import type { CommandSender } from '../messaging/command-sender.ts';
import type { OutcomeWaiters } from '../projections/outcome-waiters.ts';
import type { ProjectedEvent } from '../projections/projection.ts';
import type { RecordMap, TopicDescriptor, TopicMessage } from '../topics.ts';

export type CommandOutcome =
  | { status: 'pending'; commandId: string }
  | { status: 'accepted'; commandId: string; events: ProjectedEvent[] }
  | { status: 'unchanged'; commandId: string; reason: UnchangedReason; message: string }
  /** `code` as the log carries it: one of the deciding aggregate's rejection codes. */
  | { status: 'rejected'; commandId: string; code: string; message: string };

/** An outcome that was decided and changes nothing, or changed something: either way the caller gets the current state. */
export type DecidedOutcome = Extract<CommandOutcome, { status: 'accepted' | 'unchanged' }>;

export interface CommandRequests {
  send<M extends RecordMap>(topic: TopicDescriptor<M>, message: TopicMessage<M>, correlationId: string): Promise<CommandOutcome>;
}

/** The outcome a command's events on the log stand for. */
export function outcomeOf(commandId: string, events: ProjectedEvent[]): CommandOutcome {
  const [first] = events;
  if (first?.type === 'CommandRejected') return { status: 'rejected', commandId, code: String(first.data.code), message: String(first.data.message) };
  if (first?.type === 'CommandUnchanged') return { status: 'unchanged', commandId, reason: first.data.reason as UnchangedReason, message: String(first.data.message) };
  return { status: 'accepted', commandId, events };
}

export function createCommandRequests(sender: CommandSender, waiters: OutcomeWaiters, timeoutMs: number, metrics?: Metrics): CommandRequests {
  return {
    async send(topic, message, correlationId) {
      const commandId = newId();
      const stop = metrics?.commandRequests.startTimer();
      const waiting = waiters.wait(commandId, timeoutMs);
      try {
        await sender.send(topic, message, { correlationId, commandId });
      } catch (error) {
        waiters.cancel(commandId);
        throw error;
      }
      const events = await waiting;
      const outcome: CommandOutcome = events ? outcomeOf(commandId, events) : { status: 'pending', commandId };
      stop?.({ outcome: outcome.status });
      return outcome;
    },
  };
}
