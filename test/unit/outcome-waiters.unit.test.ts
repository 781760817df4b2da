// Outcome waiters: an HTTP write is answered once its command's whole outcome
// is read and applied by the projections its answer reads; a command answered
// 202 stays outstanding (what admission control counts) until its outcome shows.
import { expect } from 'chai';
import type { MessageMetadata } from '../../services/platform/headers.ts';
import { createOutcomeWaiters } from '../../services/platform/projections/outcome-waiters.ts';
import type { ProjectedEvent } from '../../services/platform/projections/projection.ts';

const event = (causationId: string, offset: number, index = 0, count = 1): ProjectedEvent => ({
  topic: 'order.events',
  type: 'OrderCreated',
  data: {},
  partition: 0,
  offset: BigInt(offset),
  key: 'o-1',
  meta: { id: `e${offset}`, type: 'commerce.order.OrderCreated', source: 'order', time: 0, correlationId: 'c', causationId, outcome: { index, count } } satisfies MessageMetadata,
});
const settled = async (promise: Promise<unknown>) => Promise.race([promise.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 20))]);

describe('outcome waiters', () => {
  it('answers once the outcome is read and applied by the projections the answer reads, not the others', async () => {
    const waiters = createOutcomeWaiters();
    const answer = waiters.wait('cmd', 1000, ['orders', 'order-items']);
    const outcome = [event('cmd', 10, 0, 2), event('cmd', 11, 1, 2)];
    for (const e of outcome) waiters.observe(e);
    waiters.applied('catalogue-snapshot', outcome);
    waiters.applied('orders', outcome);
    expect(await settled(answer), 'order-items has not applied it yet').to.equal(false);
    waiters.applied('order-items', outcome);
    expect(await answer).to.deep.equal(outcome);
    expect(waiters.pending()).to.equal(0);
  });

  it('answers from the outcome alone when the answer reads no projection', async () => {
    const waiters = createOutcomeWaiters();
    const answer = waiters.wait('cmd', 1000);
    waiters.observe(event('cmd', 1));
    expect(await answer).to.have.length(1);
  });

  it('waits for every event of the outcome, counting an event read twice (a batch retried) once', async () => {
    const waiters = createOutcomeWaiters();
    const answer = waiters.wait('cmd', 1000);
    waiters.observe(event('cmd', 5, 0, 2));
    waiters.observe(event('cmd', 5, 0, 2));
    expect(await settled(answer)).to.equal(false);
    waiters.observe(event('cmd', 6, 1, 2));
    expect(await answer).to.have.length(2);
  });

  it('gives up after the timeout, keeping the command outstanding until its outcome shows', async () => {
    const waiters = createOutcomeWaiters();
    expect(await waiters.wait('cmd', 5)).to.equal(undefined);
    expect(waiters.pending()).to.equal(0);
    expect(waiters.outstanding()).to.equal(1);
    waiters.observe(event('cmd', 1));
    expect(waiters.outstanding()).to.equal(0);
  });

  it('forgets an outstanding command whose outcome never shows, after a while', async () => {
    let clock = 0;
    const waiters = createOutcomeWaiters({ forgetAfterMs: 10_000, now: () => clock });
    await waiters.wait('cmd', 1);
    clock += 10_001;
    expect(waiters.outstanding()).to.equal(0);
  });

  it('stops waiting for a command that was never sent', async () => {
    const waiters = createOutcomeWaiters();
    const answer = waiters.wait('cmd', 1000);
    waiters.cancel('cmd');
    expect(await answer).to.equal(undefined);
    expect(waiters.outstanding()).to.equal(0);
  });

  it('counts as late the outstanding commands sent longer ago than asked', async () => {
    let clock = 0;
    const waiters = createOutcomeWaiters({ now: () => clock });
    void waiters.wait('old', 1);
    clock = 400;
    void waiters.wait('newer', 1);
    clock = 1200;
    void waiters.wait('newest', 1);
    expect(waiters.late(1000)).to.equal(1);
    expect(waiters.late(500)).to.equal(2);
    waiters.observe(event('old', 1)); // its outcome: no longer outstanding
    expect(waiters.late(500)).to.equal(1);
  });
});
