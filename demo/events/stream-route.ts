// GET /api/v1/events: the Server-Sent Events stream of event-stream.md.
// On every (re)connect: `retry:`, then `event: reset` when the Last-Event-ID can no longer be honoured,
// then `event: snapshot`, then the replayed events (with their ids), then live events; `: ping` comments
// every keep-alive interval. `reset` and `snapshot` carry no `id:` line (they are per connection, not
// events of the process; the snapshot's data says `last_event_id`, the highest id issued so far).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus, StoredEvent } from './bus.ts';

export interface EventStreamOptions {
  /** Interval of `: ping` comments, in ms. */
  readonly keepaliveMs: number;
  /** `retry:` value, in ms. */
  readonly retryMs: number;
  /** A consumer further behind than this many buffered bytes is dropped instead of slowing the composer. */
  readonly maxBufferedBytes?: number;
}

/** One SSE frame; multi-line data becomes several `data:` lines. */
export function sseFrame(event: string, data: string, id?: number): string {
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}`);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines.join('\n')}\n\n`;
}

/**
 * The transports of `?exclude_transports=a,b` (event-stream contract): `tool.invoked` and `resource.read`
 * events whose `transport` is one of them are not sent. Their ids are still used, so ids stay increasing.
 */
export function excludedTransports(url: string | undefined): ReadonlySet<string> {
  const query = new URL(url ?? '/', 'http://composer').searchParams.get('exclude_transports');
  return new Set(
    query === null
      ? []
      : query
          .split(',')
          .map((t) => t.trim())
          .filter((t) => t !== ''),
  );
}

export class EventStreams {
  #bus: EventBus;
  #options: EventStreamOptions;
  #snapshot: () => Record<string, unknown>;
  #open = new Set<ServerResponse>();

  constructor(bus: EventBus, options: EventStreamOptions, snapshot: () => Record<string, unknown>) {
    this.#bus = bus;
    this.#options = options;
    this.#snapshot = snapshot;
  }

  /** Number of connected consumers. */
  get connected(): number {
    return this.#open.size;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers['last-event-id'];
    const lastEventId = Array.isArray(header) ? header[0] : header;
    const limit = this.#options.maxBufferedBytes ?? 1024 * 1024;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (text: string): void => {
      if (res.writableEnded || res.destroyed) return;
      res.write(text);
      if (res.writableLength > limit) res.destroy();
    };
    const excluded = excludedTransports(req.url);
    const sendEvent = (e: StoredEvent): void => {
      if (e.transport === undefined || !excluded.has(e.transport)) send(sseFrame(e.type, e.data, e.id));
    };
    // All of this runs in one synchronous turn, so no event can slip between the replay and the subscription.
    const plan = this.#bus.planReplay(lastEventId);
    send(`retry: ${this.#options.retryMs}\n\n`);
    if (plan.reset) {
      const oldest = plan.events[0]?.id ?? null;
      send(sseFrame('reset', this.#bus.envelope('reset', { reason: plan.reason, last_event_id: lastEventId ?? null, oldest_available: oldest })));
    }
    send(sseFrame('snapshot', this.#bus.envelope('snapshot', { ...this.#snapshot(), last_event_id: this.#bus.lastId })));
    for (const e of plan.events) sendEvent(e);
    const unsubscribe = this.#bus.subscribe(sendEvent);

    const ping = setInterval(() => send(': ping\n\n'), this.#options.keepaliveMs);
    this.#open.add(res);
    const cleanup = (): void => {
      clearInterval(ping);
      unsubscribe();
      this.#open.delete(res);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
  }

  /** Ends every connection (test control); returns how many were cut. */
  disconnectAll(): number {
    const n = this.#open.size;
    for (const res of [...this.#open]) res.end();
    return n;
  }

  closeAll(): void {
    for (const res of [...this.#open]) res.destroy();
  }
}
