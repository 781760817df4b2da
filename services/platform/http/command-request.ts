// The write side of an HTTP endpoint: register a waiter for the command's
// outcome, append the command, and report the outcome once the read models have
// applied it (so the caller can read its own write), or that it is still
// pending after the timeout instead of hanging. Every decided command has an
// outcome on the log (decider.ts), so only a slow one is ever pending.
import type { UnchangedReason } from '../decider.ts';
import { newId } from '../headers.ts';
import { HttpError } from './errors.ts';
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
  /**
   * Appends a command and waits for its outcome to be applied by `answerFrom`,
   * the projections the caller's answer reads (none: answered from the outcome
   * events alone). Refused at once (503) while too many commands are outstanding.
   */
  send<M extends RecordMap>(topic: TopicDescriptor<M>, message: TopicMessage<M>, correlationId: string, answerFrom?: readonly string[]): Promise<CommandOutcome>;
  /** Throws a 503 (with Retry-After) now if a command sent now would be refused: check before costly work. */
  admit(): void;
}

/** Commands appended but not yet decided, per instance, beyond which writes are refused. */
export const DEFAULT_MAX_OUTSTANDING = 1000;
/**
 * Commands undecided for more than a second, beyond which writes are refused:
 * a backlog has formed, and a command accepted now would wait behind it. A few
 * stuck commands do not count against everyone; a backlog does, at once, on
 * any machine, whatever its capacity.
 */
export const DEFAULT_LATE = { afterMs: 1000, max: 100 };

export const overloaded = (reason: string) => new HttpError(503, 'OVERLOADED', `too much work in progress (${reason}); retry after 1 s`, {}, { 'retry-after': '1' });

/** The outcome a command's events on the log stand for. */
export function outcomeOf(commandId: string, events: ProjectedEvent[]): CommandOutcome {
  const [first] = events;
  if (first?.type === 'CommandRejected') return { status: 'rejected', commandId, code: String(first.data.code), message: String(first.data.message) };
  if (first?.type === 'CommandUnchanged') return { status: 'unchanged', commandId, reason: first.data.reason as UnchangedReason, message: String(first.data.message) };
  return { status: 'accepted', commandId, events };
}

export interface CommandRequestOptions {
  timeoutMs: number;
  /** Commands sent and not yet decided at most; past it writes get 503 at once (no unbounded queue). */
  maxOutstanding?: number;
  /** Commands undecided for longer than `afterMs` at most; past it writes get 503 at once. */
  late?: { afterMs: number; max: number };
  metrics?: Metrics;
}

export function createCommandRequests(sender: CommandSender, waiters: OutcomeWaiters, options: CommandRequestOptions): CommandRequests {
  const { timeoutMs, metrics } = options;
  const maxOutstanding = options.maxOutstanding ?? DEFAULT_MAX_OUTSTANDING;
  const late = options.late ?? DEFAULT_LATE;
  const admit = () => {
    const outstanding = waiters.outstanding();
    if (outstanding >= maxOutstanding) {
      metrics?.shed.inc({ reason: 'outstanding-commands' });
      throw overloaded(`${outstanding} commands are waiting to be decided`);
    }
    const behind = waiters.late(late.afterMs);
    if (behind >= late.max) {
      metrics?.shed.inc({ reason: 'late-commands' });
      throw overloaded(`${behind} commands have waited more than ${late.afterMs} ms to be decided`);
    }
  };
  return {
    admit,
    async send(topic, message, correlationId, answerFrom = []) {
      admit();
      const commandId = newId();
      const stop = metrics?.commandRequests.startTimer();
      const waiting = waiters.wait(commandId, timeoutMs, answerFrom);
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
