// Placements are refused at once, with Retry-After, while too many sagas are open.
import { expect } from 'chai';
import { createSagaAdmission } from '../../services/order/saga-admission.ts';
import { HttpError } from '../../services/platform/http/errors.ts';

describe('saga admission', () => {
  it('admits below the limit and refuses with 503 and Retry-After at it, counting at most every refreshMs', () => {
    let open = 1;
    let counts = 0;
    let clock = 0;
    const admission = createSagaAdmission(() => (counts++, open), 2, { refreshMs: 100, now: () => clock });
    admission.admit();
    open = 2;
    admission.admit(); // the count is fresh: not read again
    expect(counts).to.equal(1);
    clock += 100;
    const refusal = (() => {
      try {
        admission.admit();
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).to.be.instanceOf(HttpError);
    expect(refusal).to.include({ status: 503, code: 'OVERLOADED' });
    expect((refusal as HttpError).headers).to.deep.equal({ 'retry-after': '1' });
  });

  it('counts a placement it admitted until the next count', () => {
    const admission = createSagaAdmission(() => 0, 2, { refreshMs: 60_000, now: () => 0 });
    admission.admit();
    admission.opened();
    admission.admit();
    admission.opened();
    expect(() => admission.admit()).to.throw(HttpError);
  });
});
