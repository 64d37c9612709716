/**
 * State shared by every exchange of one proxy: upstream health, the open long-lived streams (closed on
 * shutdown), the event-stream headers held for their body, the in-flight count (awaited on shutdown) and
 * the observation bus every step is reported to.
 */
import type { ExchangeEvents } from '../observe/bus.ts';
import type { Exchange, ProxyErrorKind } from '../observe/exchange.ts';
import { HeaderHold } from './header-hold.ts';
import type { UpstreamHealth } from './health.ts';

/** A long-lived stream the proxy can end at shutdown. */
export interface ShutdownClosable {
  closeForShutdown(): void;
}

export class ProxyState {
  readonly health: UpstreamHealth;
  /** Where every step of every exchange is reported (bus.ts). */
  readonly bus: ExchangeEvents;
  readonly streams = new Set<ShutdownClosable>();
  /** Event-stream headers waiting for their body (header-hold.ts). */
  readonly heldHeaders = new HeaderHold();
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
