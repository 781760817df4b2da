// Lookups made while others are under way go out together, and each caller
// gets the part it asked for.
import { expect } from 'chai';
import { createLookupBatcher } from '../../services/platform/messaging/lookup-batcher.ts';

describe('lookup batcher', () => {
  it('sends the first lookup at once, and batches those asked for while it runs', async () => {
    const calls: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const lookup = createLookupBatcher<number>(
      async (keys) => {
        calls.push(keys);
        if (calls.length === 1) await gate;
        return new Map(keys.map((k) => [k, k.length]));
      },
      { maxInFlight: 1 },
    );
    const first = lookup(['a']);
    const second = lookup(['bb', 'a']);
    const third = lookup(['ccc']);
    expect(calls).to.deep.equal([['a']]);
    release();
    expect(await first).to.deep.equal(new Map([['a', 1]]));
    expect(await second).to.deep.equal(
      new Map([
        ['bb', 2],
        ['a', 1],
      ]),
    );
    expect(await third).to.deep.equal(new Map([['ccc', 3]]));
    expect(calls).to.deep.equal([['a'], ['bb', 'a', 'ccc']]);
  });

  it('gives a failure to the callers of that lookup only', async () => {
    let calls = 0;
    const lookup = createLookupBatcher<number>(
      async (keys) => {
        if (calls++ === 0) throw new Error('no reply');
        return new Map(keys.map((k) => [k, 1]));
      },
      { maxInFlight: 1 },
    );
    const failed = lookup(['a']);
    const later = lookup(['b']);
    expect(await failed.catch((e: Error) => e.message)).to.equal('no reply');
    expect(await later).to.deep.equal(new Map([['b', 1]]));
  });

  it('leaves out keys the lookup did not find', async () => {
    const lookup = createLookupBatcher<number>(async () => new Map([['a', 1]]));
    expect(await lookup(['a', 'missing'])).to.deep.equal(new Map([['a', 1]]));
  });
});
