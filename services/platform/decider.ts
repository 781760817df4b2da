// A decider holds an aggregate's business rules with no I/O: from the current
// state and a command it decides which events happen (or why none may), and
// from an event it computes the next state. The command processor feeds it;
// tests drive it with given-events / when-command / then-events tables.

/** What a command decided: events to append, or a refusal that changes nothing. */
export type Decision<E> = { ok: true; events: E[] } | { ok: false; code: string; message: string };

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

export interface Decider<S, C, E> {
  initialState: S;
  decide(state: S, command: C, context: CommandContext): Decision<E>;
  /** Must not mutate `state`: an aborted batch is rolled back by dropping new states. */
  evolve(state: S, event: E): S;
}

export function accept<E>(...events: E[]): Decision<E> {
  return { ok: true, events };
}

export function reject<E>(code: string, message: string): Decision<E> {
  return { ok: false, code, message };
}

/** Code for a command that repeats one already decided: no second effect. */
export const ALREADY_APPLIED = 'ALREADY_APPLIED';

export function fold<S, E>(decider: Pick<Decider<S, unknown, E>, 'evolve'>, state: S, events: readonly E[]): S {
  return events.reduce((s, e) => decider.evolve(s, e), state);
}
