// Live updates as server-sent events: a hub of the clients watching one
// aggregate each (an order, a variant), one hub per service instance. Updates
// reach it once the read models have applied their event (createApi's
// onEvent), so a client that reads the resource after an update sees at least
// that state; and since every instance holds full read models, any instance can
// serve any stream. Event ids are the aggregate's version: a client that
// reconnects with Last-Event-ID is sent only what is newer.
import type { ServerResponse } from 'node:http';
import client from 'prom-client';
import type { Metrics } from '../metrics.ts';
import { HttpError } from './errors.ts';

export interface LiveUpdate<T> {
  /** The aggregate's version once the change is applied: the event's id. */
  id: number;
  /** The SSE event name. */
  event: string;
  data: T;
  /** Nothing follows: the stream ends after this one. */
  last?: boolean;
}

export interface LiveHubOptions {
  /** Streams this instance holds open at once (SSE_MAX_CONNECTIONS); more are refused with 503. */
  maxConnections: number;
  /** A comment line this often, so proxies and load balancers keep an idle stream. */
  heartbeatMs?: number;
  /** Bytes a client may leave unread; one that leaves more is dropped. */
  maxBufferedBytes?: number;
  /** How long clients wait before reconnecting (the SSE retry field). */
  retryMs?: number;
  /** Retry-After of a refusal past the cap, in seconds. */
  retryAfterSeconds?: number;
  metrics?: Metrics;
}

export interface StreamStart<T> {
  /** The aggregate watched. */
  key: string;
  /** The client's Last-Event-ID: only updates with a greater id are sent. */
  after: number | undefined;
  /** The state as it stands, from the read model: sent first, if newer than `after`. */
  current: LiveUpdate<T>;
}

export interface LiveHub<T> {
  /**
   * Answers a stream request: 204 when the stream has ended and the client saw
   * its end (EventSource then stops reconnecting); else the current state, if
   * newer than the client's, and every later update. Throws a 503
   * TOO_MANY_STREAMS HttpError, before writing anything, past the cap.
   */
  open(res: ServerResponse, start: StreamStart<T>): void;
  /** Sends an update to every watcher of `key` that has not had its id yet. */
  publish(key: string, update: LiveUpdate<T>): void;
  /** Whether anyone watches `key`, so that nobody builds updates nobody reads. */
  watching(key: string): boolean;
  /** Streams open now. */
  count(): number;
}

interface Watcher {
  res: ServerResponse;
  key: string;
  /** The greatest id this client has. */
  seen: number;
}

const HEARTBEAT = ': keep-alive\n\n';

/** One event in the wire format; JSON.stringify escapes newlines, so data is one line. */
function frame(update: LiveUpdate<unknown>): string {
  return `id: ${update.id}\nevent: ${update.event}\ndata: ${JSON.stringify(update.data)}\n\n`;
}

export function createLiveHub<T>(options: LiveHubOptions): LiveHub<T> {
  const { maxConnections, heartbeatMs = 15_000, maxBufferedBytes = 64 * 1024, retryMs = 2_000, retryAfterSeconds = 5, metrics } = options;
  const byKey = new Map<string, Set<Watcher>>();
  let open = 0;
  let heartbeat: NodeJS.Timeout | undefined;

  const dropped =
    metrics && new client.Counter({ name: 'http_live_streams_dropped_total', help: 'Live-update streams dropped because their client left too much unread', registers: [metrics.registry] });
  if (metrics) {
    const gauge = new client.Gauge({ name: 'http_live_streams', help: 'Live-update (server-sent event) streams open on this instance', registers: [metrics.registry] });
    metrics.beforeScrape(() => gauge.set(open));
  }

  const remove = (w: Watcher) => {
    const set = byKey.get(w.key);
    if (!set?.delete(w)) return;
    open--;
    if (set.size === 0) byKey.delete(w.key);
    if (open === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
  };
  // write() returning false means the socket's buffer is full; past the bound
  // the client is dropped, so what a slow or vanished client costs is bounded.
  const send = (w: Watcher, text: string): boolean => {
    // Ended (the server is stopping) but not yet closed: a write now would be an error.
    if (w.res.writableEnded || w.res.destroyed) {
      remove(w);
      return false;
    }
    if (w.res.write(text) || w.res.writableLength <= maxBufferedBytes) return true;
    remove(w);
    w.res.destroy();
    dropped?.inc();
    return false;
  };
  const beat = () => {
    for (const set of byKey.values()) for (const w of [...set]) send(w, HEARTBEAT);
  };

  return {
    open(res, { key, after, current }) {
      // Gone while it was being authenticated: its 'close' has been and gone, so it must take no slot.
      if (res.destroyed) return;
      const newer = after === undefined || current.id > after;
      if (current.last && !newer) {
        res.statusCode = 204;
        res.end();
        return;
      }
      if (open >= maxConnections) {
        metrics?.shed.inc({ reason: 'too-many-streams' });
        throw new HttpError(
          503,
          'TOO_MANY_STREAMS',
          `this instance already holds its ${maxConnections} live-update streams; retry after ${retryAfterSeconds}s (another instance may have room)`,
          { limit: maxConnections },
          { 'retry-after': String(retryAfterSeconds) },
        );
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // Proxies such as nginx would otherwise buffer the stream.
        'x-accel-buffering': 'no',
      });
      // The first write also sends the headers, so the client knows at once it is connected.
      res.write(`retry: ${retryMs}\n\n`);
      if (newer) res.write(frame(current));
      if (current.last) {
        res.end();
        return;
      }
      const w: Watcher = { res, key, seen: Math.max(after ?? 0, current.id) };
      const set = byKey.get(key) ?? new Set<Watcher>();
      set.add(w);
      byKey.set(key, set);
      open++;
      heartbeat ??= setInterval(beat, heartbeatMs).unref();
      // 'close' comes when the client goes away as well as when the response ends.
      res.once('close', () => remove(w));
    },
    publish(key, update) {
      const set = byKey.get(key);
      if (!set) return;
      const text = frame(update);
      for (const w of [...set]) {
        if (update.id <= w.seen) continue;
        w.seen = update.id;
        if (send(w, text) && update.last) {
          remove(w);
          w.res.end();
        }
      }
    },
    watching: (key) => byKey.has(key),
    count: () => open,
  };
}
