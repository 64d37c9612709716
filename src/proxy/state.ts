/**
 * State shared by every exchange of one proxy: upstream health, the open long-lived streams (closed on
 * shutdown), the in-flight count (awaited on shutdown) and the observation bus every step is reported to.
 */
import type { ExchangeEvents } from '../observe/bus.ts';
import type { Exchange } from '../observe/exchange.ts';
import type { UpstreamHealth } from './health.ts';

/**
 * Kinds of `sidecar_proxy_errors_total`: the upstream failing (`upstream_*`), a request refused before it
 * reached the upstream (`bad_request`), a malformed or timed-out client request (`client_error`), a
 * connection closed at once because `--max-connections` were open (`connection_limit`), and an idempotent
 * request resent once after the upstream closed its connection under it (`upstream_retried`; the client
 * saw the answer of the second attempt).
 */
export type ProxyErrorKind =
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_aborted'
  | 'bad_request'
  | 'client_error'
  | 'connection_limit'
  | 'upstream_retried';

/** Given to observers (and published on the public `error` channel) for every proxy failure; `code` is the error's code, never its message. */
export interface ProxyErrorEvent {
  readonly kind: ProxyErrorKind;
  readonly code: string | undefined;
}

/** A long-lived stream the proxy can end at shutdown. */
export interface ShutdownClosable {
  closeForShutdown(): void;
}

export class ProxyState {
  readonly health: UpstreamHealth;
  /** Where every step of every exchange is reported (bus.ts). */
  readonly bus: ExchangeEvents;
  readonly streams = new Set<ShutdownClosable>();
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(health: UpstreamHealth, bus: ExchangeEvents) {
    this.health = health;
    this.bus = bus;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  exchangeStarted(ex: Exchange): void {
    this.#inFlight++;
    this.bus.start(ex);
  }

  exchangeEnded(ex: Exchange): void {
    this.#inFlight--;
    this.bus.end(ex);
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  reportError(kind: ProxyErrorKind, err?: unknown): void {
    this.bus.error(kind, err);
  }

  /** Resolves when no exchange is in flight. */
  whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Ends every long-lived stream (SSE, WebSocket). */
  closeStreams(): void {
    for (const s of [...this.streams]) s.closeForShutdown();
  }
}
