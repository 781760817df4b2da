import { expect } from 'chai';
import { fromHeaders, HEADER, toHeaders } from '../../services/platform/headers.ts';

describe('CloudEvents headers', () => {
  const meta = {
    id: 'e1',
    type: 'commerce.inventory.StockReserved',
    source: 'inventory',
    time: Date.UTC(2026, 10, 22, 12, 0, 0),
    correlationId: 'c1',
    causationId: 'cmd1',
    outcome: { index: 1, count: 3 },
  };

  it('writes the binary-mode attributes', () => {
    const headers = toHeaders(meta);
    expect(headers[HEADER.specVersion]).to.equal('1.0');
    expect(headers[HEADER.time]).to.equal('2026-11-22T12:00:00.000Z');
    expect(headers[HEADER.correlationId]).to.equal('c1');
  });

  it('round-trips through Kafka header buffers', () => {
    const buffers = Object.fromEntries(Object.entries(toHeaders(meta)).map(([k, v]) => [k, Buffer.from(String(v))]));
    expect(fromHeaders(buffers, 0)).to.deep.equal(meta);
  });

  it('tolerates messages from producers that set no headers', () => {
    expect(fromHeaders(undefined, 42)).to.deep.equal({ id: '', type: '', source: '', time: 42, correlationId: '' });
  });
});
