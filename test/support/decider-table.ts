// Given events / when command / then events (or a refusal), for any decider.
import { expect } from 'chai';
import { fold, type Decider } from '../../services/platform/decider.ts';

export interface Case<C, E> {
  name: string;
  given: E[];
  when: C;
  /** Expected events, in order. */
  then?: E[];
  /** Expected refusal code (and, optionally, a fragment of its message). */
  rejected?: string | [code: string, message: string];
  now?: number;
  /** Unique keys already held by other aggregates of the partition (key -> aggregate id). */
  owners?: Record<string, string>;
}

export const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

export function runTable<S, C, E>(decider: Decider<S, C, E>, cases: Case<C, E>[]): void {
  for (const c of cases) {
    it(c.name, () => {
      const state = fold(decider, decider.initialState, c.given);
      const decision = decider.decide(state, c.when, { now: c.now ?? NOW, owner: (key) => c.owners?.[key] });
      if (c.rejected !== undefined) {
        const [code, fragment] = Array.isArray(c.rejected) ? c.rejected : [c.rejected, ''];
        expect(decision, 'a refusal').to.deep.include({ ok: false, code });
        if (fragment && !decision.ok) expect(decision.message).to.contain(fragment);
      } else {
        expect(decision.ok, decision.ok ? '' : `refused: ${decision.code} ${decision.message}`).to.equal(true);
        if (decision.ok) expect(decision.events).to.deep.equal(c.then ?? []);
      }
    });
  }
}
