// Placements are refused at once, with Retry-After, while too many sagas are
// open, or too many have been open for longer than they should take.
import { expect } from 'chai';
import { createSagaAdmission } from '../../services/order/saga-admission.ts';
import { HttpError } from '../../services/platform/http/errors.ts';

const limits = { maxOpen: 2, maxLate: 2, lateAfterMs: 1500 };

function refusal(admit: () => void): HttpError | undefined {
  try {
    admit();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  return undefined;
}

describe('saga admission', () => {
  it('admits below the limit and refuses with 503 and Retry-After at it, counting at most every refreshMs', () => {
    let open = 1;
    let counts = 0;
    let clock = 0;
    const admission = createSagaAdmission(() => (counts++, { open, late: 0 }), limits, { refreshMs: 100, now: () => clock });
    admission.admit();
    open = 2;
    admission.admit(); // the count is fresh: not read again
    expect(counts).to.equal(1);
    clock += 100;
    const refused = refusal(() => admission.admit());
    expect(refused).to.include({ status: 503, code: 'OVERLOADED' });
    expect(refused!.headers).to.deep.equal({ 'retry-after': '1' });
    expect(refused!.message).to.contain('2 orders are still being reserved');
  });

  it('counts a placement it admitted until the next count', () => {
    const admission = createSagaAdmission(() => ({ open: 0, late: 0 }), limits, { refreshMs: 60_000, now: () => 0 });
    admission.admit();
    admission.opened();
    admission.admit();
    admission.opened();
    expect(refusal(() => admission.admit())).to.include({ status: 503 });
  });

  it('refuses once too many sagas are late, asking for those placed before now - lateAfterMs', () => {
    const asked: number[] = [];
    let late = 1;
    const admission = createSagaAdmission((lateBefore) => (asked.push(lateBefore), { open: 1, late }), { maxOpen: 100, maxLate: 2, lateAfterMs: 1500 }, { refreshMs: 0, now: () => 10_000 });
    admission.admit();
    late = 2;
    expect(refusal(() => admission.admit())?.message).to.contain('2 orders have waited more than 1500 ms');
    expect(asked).to.deep.equal([8500, 8500]);
  });
});
