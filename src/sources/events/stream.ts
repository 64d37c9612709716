/**
 * A resilient client of the composer's event stream (`GET /api/v1/events`, Server-Sent Events): frames are
 * parsed by eventsource-parser (bounded buffer), `Last-Event-ID` is sent on every reconnection, `retry:`
 * is honoured, silence longer than the idle timeout (no event, no `: ping`) is a dead connection — a
 * partition that closes nothing included: undici's `bodyTimeout` runs between any two bytes of the body —
 * and reconnections back off exponentially with jitter up to a cap. A composer that answers 404 has no
 * stream: it is re-probed on a slower period. The client moves bytes into callbacks; what events mean, and
 * where to resume from, is decided by the caller (the event sequence).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Client } from 'undici';
import { PROXIED_TRANSPORTS } from '../../ledger/ledger.ts';

/** The query parameter of the event-stream contract that asks the composer to leave out events by transport. */
export const EXCLUDE_TRANSPORTS_PARAM = 'exclude_transports';

/**
 * The path the stream is asked on: `path` (its own query kept) with `exclude_transports` listing
 * `transports`. `tool.invoked` and `resource.read` events of a transport the sidecar proxies are facts it
 * counts from the traffic itself (the ledger drops them), so a composer that honours the parameter does not
 * send one per proxied call; one that ignores it sends them, and they are dropped after parsing as before.
 */
export function streamRequestPath(path: string, transports: Iterable<string>): string {
  const list = [...transports].join(',');
  if (list === '') return path;
  const param = `${EXCLUDE_TRANSPORTS_PARAM}=${encodeURIComponent(list).replaceAll('%2C', ',')}`;
  const joiner = !path.includes('?') ? '?' : path.endsWith('?') || path.endsWith('&') ? '' : '&';
  return `${path}${joiner}${param}`;
}

export interface EventStreamOptions {
  readonly origin: URL;
  /** @default /api/v1/events */
  readonly path: string;
  /** The upstream's bearer token, read at each connection. */
  readonly token?: () => string | undefined;
  /** Longest silence on a connected stream (the composer sends `: ping` at least every 15 s). @default 45s */
  readonly idleTimeoutMs: number;
  /** First reconnection delay. @default 500ms */
  readonly reconnectInitialMs: number;
  /** Cap of the reconnection delay (and of a server's `retry:`). @default 30s */
  readonly reconnectMaxMs: number;
  /** How often a composer without a stream (404) is asked again. @default 60s */
  readonly reprobeMs: number;
  /** Largest event the parser buffers; a bigger one ends the connection. @default 1mb */
  readonly maxEventBytes: number;
}

export type StreamState = 'connecting' | 'connected' | 'waiting' | 'unavailable' | 'stopped';

export type DisconnectReason = 'ended' | 'idle_timeout' | 'error' | 'oversized_event' | 'stopped';

export interface EventStreamHooks {
  /** The `Last-Event-ID` to send on the next connection (`undefined`: none). */
  resumeFrom(): string | undefined;
  /** Called just before each request is sent. */
  onRequest(): void;
  /**
   * Response headers arrived (`resumed` says whether Last-Event-ID was sent). Returning `false` discards the
   * answer unread: the connection is closed and asked again after the backoff delay.
   */
  onConnected(resumed: boolean): boolean;
  /** One SSE event (`reset`, `snapshot`, lifecycle, …). Called synchronously in stream order. */
  onEvent(message: EventSourceMessage): void;
  onDisconnected(reason: DisconnectReason): void;
  /** The composer answered 404: it serves no stream. */
  onUnavailable(): void;
  /** The composer refused the credentials (401/403) or answered another status. */
  onRefused(status: number): void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    const cancel = (): void => {
      clearTimeout(t);
      resolve();
    };
    signal.addEventListener('abort', cancel, { once: true });
  });

export class EventStreamClient {
  readonly #opts: EventStreamOptions;
  readonly #hooks: EventStreamHooks;
  readonly #client: Client;
  /** {@link streamRequestPath} of the configured path. */
  readonly #path: string;
  readonly #stop = new AbortController();
  #state: StreamState = 'stopped';
  #retryHintMs: number | undefined;
  #attempt = 0;
  #loop: Promise<void> | undefined;

  constructor(opts: EventStreamOptions, hooks: EventStreamHooks) {
    this.#opts = opts;
    this.#hooks = hooks;
    this.#path = streamRequestPath(opts.path, PROXIED_TRANSPORTS);
    this.#client = new Client(opts.origin, { headersTimeout: 10_000, bodyTimeout: opts.idleTimeoutMs, connect: { timeout: 10_000 } });
  }

  get state(): StreamState {
    return this.#state;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    this.#state = 'stopped';
    await this.#client.destroy().catch(() => undefined);
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.#state = 'connecting';
      const result = await this.#connectOnce(signal);
      if (signal.aborted) break;
      if (result === 'unavailable') {
        this.#state = 'unavailable';
        this.#attempt = 0;
        await sleep(this.#opts.reprobeMs, signal);
        continue;
      }
      this.#state = 'waiting';
      await sleep(this.#nextDelay(), signal);
    }
  }

  /** Exponential backoff with full jitter, capped; a server's `retry:` is the floor. */
  #nextDelay(): number {
    const cap = this.#opts.reconnectMaxMs;
    const exp = Math.min(cap, this.#opts.reconnectInitialMs * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    const jittered = exp / 2 + Math.random() * (exp / 2);
    return Math.min(cap, Math.max(this.#retryHintMs ?? 0, jittered));
  }

  async #connectOnce(signal: AbortSignal): Promise<'unavailable' | 'retry'> {
    const token = this.#opts.token?.();
    const lastEventId = this.#hooks.resumeFrom();
    const resumed = lastEventId !== undefined;
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache', 'user-agent': 'mcp-composer-sidecar-events' };
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    let response;
    this.#hooks.onRequest();
    try {
      response = await this.#client.request({ path: this.#path, method: 'GET', headers, signal });
    } catch {
      return 'retry';
    }
    const { statusCode, body } = response;
    const contentType = String(response.headers['content-type'] ?? '');
    if (statusCode !== 200 || !contentType.toLowerCase().startsWith('text/event-stream')) {
      await body.dump().catch(() => undefined);
      if (statusCode === 404) {
        this.#hooks.onUnavailable();
        return 'unavailable';
      }
      this.#hooks.onRefused(statusCode);
      return 'retry';
    }
    if (!this.#hooks.onConnected(resumed)) {
      body.on('error', () => undefined);
      body.destroy();
      return 'retry';
    }
    let reason: DisconnectReason = 'ended';
    let received = false;
    const parser = createParser({
      maxBufferSize: this.#opts.maxEventBytes,
      onEvent: (message) => {
        received = true;
        this.#hooks.onEvent(message);
      },
      onRetry: (ms) => {
        this.#retryHintMs = Math.min(ms, this.#opts.reconnectMaxMs);
      },
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') reason = 'oversized_event';
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        try {
          parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
        } catch {
          reason = 'oversized_event';
        }
        if (reason === 'oversized_event') break;
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      reason = signal.aborted ? 'stopped' : code === 'UND_ERR_BODY_TIMEOUT' ? 'idle_timeout' : 'error';
    } finally {
      body.destroy();
    }
    // A connection that delivered events was healthy: the next reconnection starts from the first delay.
    if (received) this.#attempt = 0;
    this.#hooks.onDisconnected(signal.aborted ? 'stopped' : reason);
    return 'retry';
  }
}
