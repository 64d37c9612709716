/**
 * State shared by every exchange of one proxy: upstream health, the open long-lived streams (closed on
 * shutdown), the in-flight count (awaited on shutdown) and the publication of exchange ends and errors.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { CHANNEL_PREFIX, type Exchange, proxyChannels } from './exchange.ts';
import type { UpstreamHealth } from './health.ts';

/**
 * Kinds of `sidecar_proxy_errors_total`: the upstream failing (`upstream_*`), a request refused before it
 * reached the upstream (`bad_request`), a malformed or timed-out client request (`client_error`), a
 * connection closed at once because `--max-connections` were open (`connection_limit`), an idempotent
 * request resent once after the upstream closed its connection under it (`upstream_retried`; the client
 * saw the answer of the second attempt), and a request refused at the front door for its `Origin`
 * (`origin_not_allowed`, 403) or its `Host` (`host_not_allowed`, 421).
 */
export type ProxyErrorKind =
  | 'upstream_unavailable'
  | 'upstream_timeout'
  | 'upstream_aborted'
  | 'bad_request'
  | 'client_error'
  | 'connection_limit'
  | 'upstream_retried'
  | 'origin_not_allowed'
  | 'host_not_allowed';

/** Published on {@link proxyErrorChannel} for every proxy failure; `code` is the error's code, never its message. */
export interface ProxyErrorEvent {
  readonly kind: ProxyErrorKind;
  readonly code: string | undefined;
}

export const proxyErrorChannel = diagnostics_channel.channel(`${CHANNEL_PREFIX}:error`);

/** A long-lived stream the proxy can end at shutdown. */
export interface ShutdownClosable {
  closeForShutdown(): void;
}

export class ProxyState {
  readonly health: UpstreamHealth;
  readonly streams = new Set<ShutdownClosable>();
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(health: UpstreamHealth) {
    this.health = health;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  exchangeStarted(ex: Exchange): void {
    this.#inFlight++;
    if (proxyChannels.start.hasSubscribers) proxyChannels.start.publish(ex);
  }

  exchangeEnded(ex: Exchange): void {
    this.#inFlight--;
    if (ex.taps !== undefined) {
      for (const t of ex.taps) {
        try {
          t.onEnd?.(ex);
        } catch {
          // A tap's failure never affects the proxy; subscribers count their own errors.
        }
      }
    }
    if (proxyChannels.end.hasSubscribers) proxyChannels.end.publish(ex);
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  reportError(kind: ProxyErrorKind, err?: unknown): void {
    if (!proxyErrorChannel.hasSubscribers) return;
    const code = (err as { code?: unknown } | undefined)?.code;
    proxyErrorChannel.publish({ kind, code: typeof code === 'string' ? code : undefined } satisfies ProxyErrorEvent);
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
