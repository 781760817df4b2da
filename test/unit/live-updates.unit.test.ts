// The live-update hub over a real HTTP server, without Kafka: the current state
// first, then only newer updates (what Last-Event-ID relies on); the end of a
// settled stream; the connection cap; heartbeats; a slow client dropped; and
// no watcher left behind by a client that goes away.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import { HttpError } from '../../services/platform/http/errors.ts';
import { createLiveHub, type LiveHub, type LiveHubOptions, type LiveUpdate } from '../../services/platform/http/live-updates.ts';
import { createMetrics } from '../../services/platform/metrics.ts';
import { eventually } from '../support/eventually.ts';

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

/** A client reading a stream with fetch, and parsing its frames as they come. */
async function connect(base: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(base, { headers, signal: abort.signal });
  const frames: Frame[] = [];
  let buffered = '';
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let at: number;
        while ((at = buffered.indexOf('\n\n')) >= 0) {
          const frame: Frame = {};
          for (const line of buffered.slice(0, at).split('\n')) {
            if (line.startsWith(':')) frame.comment = line.slice(1).trim();
            else {
              const [field, ...rest] = line.split(': ');
              if (field === 'id' || field === 'event' || field === 'data' || field === 'retry') frame[field] = rest.join(': ');
            }
          }
          frames.push(frame);
          buffered = buffered.slice(at + 2);
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  const events = () =>
    frames
      .filter((f) => f.event)
      .map((f) => {
        const data: unknown = JSON.parse(f.data ?? 'null');
        return { id: Number(f.id), event: f.event, data };
      });
  return { res, frames, events, ended, close: () => abort.abort() };
}

const update = (id: number, data: unknown = { at: id }, last = false): LiveUpdate<unknown> => ({ id, event: 'change', data, ...(last ? { last } : {}) });

describe('live-update hub', () => {
  let server: Server;
  let base: string;
  let hub: LiveHub<unknown>;
  /** What the "read model" holds for the one aggregate, k. */
  let current: LiveUpdate<unknown>;

  const start = async (options: Partial<LiveHubOptions> = {}) => {
    hub = createLiveHub({ maxConnections: 10, ...options });
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['last-event-id'];
      try {
        hub.open(res, { key: 'k', after: typeof given === 'string' ? Number(given) : undefined, current });
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        res.writeHead(error.status, { ...error.headers, 'content-type': 'application/json' }).end(JSON.stringify({ error: error.code, message: error.message }));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  };

  beforeEach(() => {
    current = update(2, { at: 2 });
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the current state, then only updates newer than what the client has', async () => {
    await start();
    const client = await connect(base);
    expect(client.res.status).to.equal(200);
    expect(client.res.headers.get('content-type')).to.match(/^text\/event-stream/);
    await eventually(() => expect(client.events()).to.deep.equal([{ id: 2, event: 'change', data: { at: 2 } }]), 2000);
    expect(client.frames[0]).to.deep.equal({ retry: '2000' });
    // Already applied before the client read the state, and published late: not sent again.
    hub.publish('k', update(1));
    hub.publish('k', update(2));
    hub.publish('k', update(3));
    hub.publish('other', update(9));
    hub.publish('k', update(3));
    await eventually(() => expect(client.events().map((e) => e.id)).to.deep.equal([2, 3]), 2000);
    client.close();
  });

  it('resumes after Last-Event-ID: no current state the client has, then only later updates', async () => {
    await start();
    const client = await connect(base, { 'last-event-id': '2' });
    await eventually(() => expect(hub.watching('k')).to.equal(true), 2000);
    hub.publish('k', update(2));
    hub.publish('k', update(4));
    await eventually(() => expect(client.events().map((e) => e.id)).to.deep.equal([4]), 2000);
    client.close();
    const behind = await connect(base, { 'last-event-id': '1' });
    await eventually(() => expect(behind.events().map((e) => e.id)).to.deep.equal([2]), 2000);
    behind.close();
  });

  it('ends the stream after its last update; a client that had it gets 204', async () => {
    await start();
    const client = await connect(base);
    await eventually(() => expect(hub.count()).to.equal(1), 2000);
    hub.publish('k', update(3, { settled: true }, true));
    await client.ended;
    expect(client.events().map((e) => e.id)).to.deep.equal([2, 3]);
    expect(hub.count()).to.equal(0);
    current = update(3, { settled: true }, true);
    const late = await connect(base, { 'last-event-id': '2' });
    await late.ended;
    expect(
      late.events().map((e) => e.id),
      'the last state, then the end',
    ).to.deep.equal([3]);
    const done = await connect(base, { 'last-event-id': '3' });
    expect(done.res.status).to.equal(204);
    expect(hub.count()).to.equal(0);
  });

  it('refuses streams past the cap with 503 TOO_MANY_STREAMS and Retry-After, and has room again once one closes', async () => {
    const metrics = createMetrics('unit');
    await start({ maxConnections: 1, metrics });
    const first = await connect(base);
    await eventually(() => expect(hub.count()).to.equal(1), 2000);
    const second = await fetch(base);
    expect(second.status).to.equal(503);
    expect(second.headers.get('retry-after')).to.equal('5');
    expect(await second.json()).to.include({ error: 'TOO_MANY_STREAMS' });
    expect(await metrics.render()).to.match(/^http_live_streams{service="unit"} 1$/m);
    first.close();
    await eventually(() => expect(hub.count()).to.equal(0), 2000);
    expect(await metrics.render()).to.match(/^http_live_streams{service="unit"} 0$/m);
    const third = await connect(base);
    expect(third.res.status).to.equal(200);
    third.close();
  });

  it('removes a client that goes away at once, leaving nothing behind', async () => {
    await start();
    const clients = await Promise.all([connect(base), connect(base), connect(base)]);
    await eventually(() => expect(hub.count()).to.equal(3), 2000);
    for (const c of clients) c.close();
    await eventually(() => expect(hub.count()).to.equal(0), 2000);
    expect(hub.watching('k')).to.equal(false);
  });

  it('keeps an idle stream alive with comment lines', async () => {
    await start({ heartbeatMs: 30 });
    const client = await connect(base);
    await eventually(() => expect(client.frames.filter((f) => f.comment === 'keep-alive').length).to.be.at.least(2), 2000);
    client.close();
  });

  it('drops a client that does not read, once more than the bound is left unread', async () => {
    const metrics = createMetrics('unit');
    await start({ maxBufferedBytes: 64 * 1024, metrics });
    // A client that sends its request and then reads nothing.
    const socket = net.connect(Number(new URL(base).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n');
    socket.pause();
    await eventually(() => expect(hub.count()).to.equal(1), 2000);
    const big = 'x'.repeat(16 * 1024);
    let sent = 0;
    // The kernel's socket buffers take some megabytes first; then it is dropped.
    for (let id = 3; id < 5000 && hub.count() > 0; id++, sent++) hub.publish('k', update(id, big));
    expect(hub.count()).to.equal(0);
    expect(sent).to.be.below(4997);
    expect(await metrics.render()).to.match(/^http_live_streams_dropped_total{service="unit"} 1$/m);
    socket.destroy();
  });
});
