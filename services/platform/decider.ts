// A decider holds an aggregate's business rules with no I/O: from the current
// state and a command it decides what happens, and from an event it computes
// the next state. The command processor feeds it; tests drive it with
// given-events / when-command / then-events tables.
//
// Every decision has exactly one of three outcomes, and every outcome reaches
// the log (command-processor.ts), so whoever waits for a command gets an answer:
//   accepted   events happen (at least one);
//   unchanged  nothing needs to happen: the command repeats one already
//              decided, or asks for what already holds;
//   rejected   the command may not happen, for a reason from the decider's
//              closed set of codes.

/** Why a command changed nothing without being refused. */
export const UNCHANGED = {
  /** The command repeats one already decided: same answer, no second effect. */
  alreadyApplied: 'ALREADY_APPLIED',
  /** The command asks for what already holds (the same name, the same price, nothing due). */
  noChange: 'NO_CHANGE',
} as const;
export type UnchangedReason = (typeof UNCHANGED)[keyof typeof UNCHANGED];

export type Decision<E, R extends string = string> =
  { outcome: 'accepted'; events: E[] } | { outcome: 'unchanged'; reason: UnchangedReason; message: string } | { outcome: 'rejected'; code: R; message: string };

/** Facts about the command that are not in its payload: when it was issued. */
export interface CommandContext {
  /** The command's time (its ce_time), epoch milliseconds. Deciders never read a clock. */
  now: number;
  /**
   * Which aggregate of this partition holds a unique key (see
   * AggregateDefinition.uniqueKeys), as of this command: a rule that spans
   * aggregates, decided by the partition's single owner.
   */
  owner?(key: string): string | undefined;
}

export interface Decider<S, C, E, R extends string = string> {
  initialState: S;
  decide(state: S, command: C, context: CommandContext): Decision<E, R>;
  /** Must not mutate `state`: an aborted batch is rolled back by dropping new states. */
  evolve(state: S, event: E): S;
}

/** Events happen; a decision with none is `unchanged`, so this refuses an empty list. */
export function accept<E>(...events: E[]): Decision<E, never> {
  if (events.length === 0) throw new Error('accept() needs at least one event; a decision that changes nothing is unchanged()');
  return { outcome: 'accepted', events };
}

export function unchanged(reason: UnchangedReason, message: string): Decision<never, never> {
  return { outcome: 'unchanged', reason, message };
}

export function reject<R extends string>(code: R, message: string): Decision<never, R> {
  return { outcome: 'rejected', code, message };
}

export function fold<S, E>(decider: Pick<Decider<S, unknown, E>, 'evolve'>, state: S, events: readonly E[]): S {
  return events.reduce((s, e) => decider.evolve(s, e), state);
}
