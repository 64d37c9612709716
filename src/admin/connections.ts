/**
 * The metrics port's connections, bounded in number and in time, so that nobody who can open TCP
 * connections to it can lock out the scrape or kubelet's probes (`/healthz` is the liveness probe: a
 * locked-out port restarts the pod).
 *
 * **In time.** Every connection whose peer is silent, slow or half-closed is reclaimed within a bound
 * ({@link METRICS_PORT_LIMITS}): a TLS handshake within `handshakeTimeoutMs`, a request head within
 * `headersTimeoutMs` of the connection being accepted (of the handshake, with TLS), a whole request within
 * `requestTimeoutMs`, `keepAliveTimeoutMs` idle between requests, and `idleTimeoutMs` without a byte read
 * or written (a client that never reads its answer). A refused connection (400, 408, 431) is destroyed once
 * the refusal is flushed, at the latest after `refusalFlushMs` — never only half-closed, where a peer that
 * never closes its side would hold it.
 *
 * **In number.** At most `maxConnections` are held. When one more arrives, the oldest *idle* connection is
 * closed to make room — idle meaning no request being answered on it: silent since it was accepted, still
 * in its TLS handshake, sending a head that is not complete yet, or waiting between two requests. Only when
 * every held connection is being answered is the new one refused. So a flood of silent or kept-alive
 * connections cannot keep anyone out: each new connection, a probe's included, recycles an attacker's
 * oldest one, and a probe's own connection is idle only for the round trip before its request arrives.
 * Answers on this port take milliseconds (a scrape, a fixed body), so nobody without the token can keep a
 * connection busy.
 *
 * Connections are keyed by their address 4-tuple, which a TLS socket shares with the TCP socket under it:
 * the request that makes a connection busy is seen on the TLS socket, the connection on the TCP one.
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The metrics port's bounds (internal: tests shorten them; the defaults are the product's). */
export interface MetricsPortLimits {
  /** Most connections held at once. @default 256 */
  readonly maxConnections: number;
  /** Time a TLS client has to complete its handshake (Node's default is 120 s). @default 5 s */
  readonly handshakeTimeoutMs: number;
  /** Time a client has to send its request head, from the connection being accepted. @default 5 s */
  readonly headersTimeoutMs: number;
  /** Time a client has to send its whole request. @default 10 s */
  readonly requestTimeoutMs: number;
  /** Idle time of a kept-alive connection between two requests (Prometheus scrapes every 15 s or more, so it opens one per scrape). @default 5 s */
  readonly keepAliveTimeoutMs: number;
  /** Longest time without a byte read or written on a connection. @default 30 s */
  readonly idleTimeoutMs: number;
  /** Longest wait for a refusal to be flushed before the connection is destroyed anyway. @default 1 s */
  readonly refusalFlushMs: number;
}

export const METRICS_PORT_LIMITS: MetricsPortLimits = Object.freeze({
  maxConnections: 256,
  handshakeTimeoutMs: 5_000,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  refusalFlushMs: 1_000,
});

/** Why the guard closed a connection itself: to admit a new one, or a new one when none could give way. */
export type ConnectionShedReason = 'evicted' | 'refused';

function keyOf(socket: Socket): string | undefined {
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  return `${remoteAddress}|${remotePort}|${localAddress ?? ''}|${localPort ?? ''}`;
}

/** Admission and bookkeeping of one port's connections (see the module comment). */
export class ConnectionGuard {
  readonly #max: number;
  readonly #onShed: ((reason: ConnectionShedReason) => void) | undefined;
  /** Held connections by key, oldest first (a Map keeps insertion order). */
  readonly #open = new Map<string, Socket>();
  /** Requests being answered, by connection key (usually none or one). */
  readonly #busy = new Map<string, number>();

  constructor(maxConnections: number, onShed?: (reason: ConnectionShedReason) => void) {
    this.#max = maxConnections;
    this.#onShed = onShed;
  }

  /** Connections held now. */
  get size(): number {
    return this.#open.size;
  }

  /** Call for every accepted TCP connection, before the HTTP or TLS server sees it. */
  admit(socket: Socket): void {
    const key = keyOf(socket);
    if (key === undefined) {
      // Already gone (reset before it was seen).
      socket.destroy();
      return;
    }
    if (this.#open.size >= this.#max && !this.#evictOne()) {
      this.#onShed?.('refused');
      socket.destroy();
      return;
    }
    this.#open.set(key, socket);
    socket.once('close', () => {
      if (this.#open.get(key) === socket) this.#open.delete(key);
    });
  }

  /** Call for every request: its connection is busy until the answer is finished or abandoned. */
  requestStarted(socket: Socket, res: ServerResponse): void {
    const key = keyOf(socket);
    if (key === undefined) return;
    this.#busy.set(key, (this.#busy.get(key) ?? 0) + 1);
    res.once('close', () => {
      const n = (this.#busy.get(key) ?? 1) - 1;
      if (n <= 0) this.#busy.delete(key);
      else this.#busy.set(key, n);
    });
  }

  /** Whether a request is being answered on this connection. */
  isBusy(socket: Socket): boolean {
    const key = keyOf(socket);
    return key !== undefined && this.#busy.has(key);
  }

  /** Destroys every held connection (at shutdown: TLS handshakes in progress are not the HTTP server's to close). */
  closeAll(): void {
    for (const socket of this.#open.values()) socket.destroy();
    this.#open.clear();
  }

  /** Closes the oldest idle connection; `false` when every held connection is busy. */
  #evictOne(): boolean {
    for (const [key, socket] of this.#open) {
      if (this.#busy.has(key)) continue;
      this.#open.delete(key);
      socket.destroy();
      this.#onShed?.('evicted');
      return true;
    }
    return false;
  }
}
