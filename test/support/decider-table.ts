// Given events / when command / then events (or a refusal, or nothing to do),
// for any decider.
import { expect } from 'chai';
import { fold, type Decider, type Decision, type UnchangedReason } from '../../services/platform/decider.ts';

type Expected<Code extends string> = Code | [code: Code, message: string];

export interface Case<C, E, R extends string = string> {
  name: string;
  given: E[];
  when: C;
  /** Expected events, in order. */
  then?: E[];
  /** Expected refusal code (and, optionally, a fragment of its message). */
  rejected?: Expected<R>;
  /** Expected reason the command changes nothing (and, optionally, a fragment of its message). */
  unchanged?: Expected<UnchangedReason>;
  now?: number;
  /** Unique keys already held by other aggregates of the partition (key -> aggregate id). */
  owners?: Record<string, string>;
}

export const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

function describeDecision<E, R extends string>(decision: Decision<E, R>): string {
  switch (decision.outcome) {
    case 'accepted':
      return `accepted with ${decision.events.length} event(s)`;
    case 'unchanged':
      return `unchanged: ${decision.reason} ${decision.message}`;
    case 'rejected':
      return `rejected: ${decision.code} ${decision.message}`;
  }
}

export function runTable<S, C, E, R extends string>(decider: Decider<S, C, E, R>, cases: Case<C, E, R>[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const state = fold(decider, decider.initialState, c.given);
      const decision = decider.decide(state, c.when, { now: c.now ?? NOW, owner: (key) => c.owners?.[key] });
      const [outcome, expected] = c.rejected !== undefined ? ['rejected', c.rejected] : c.unchanged !== undefined ? ['unchanged', c.unchanged] : ['accepted', undefined];
      expect(decision.outcome, describeDecision(decision)).to.equal(outcome);
      if (decision.outcome === 'accepted') {
        expect(decision.events).to.deep.equal(c.then ?? []);
        return;
      }
      const [code, fragment] = Array.isArray(expected) ? expected : [expected, ''];
      expect(decision.outcome === 'rejected' ? decision.code : decision.reason).to.equal(code);
      if (fragment) expect(decision.message).to.contain(fragment);
    });
  }
}
