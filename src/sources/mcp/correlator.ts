/**
 * Correlates MCP requests with their responses by (session, JSON-RPC id), and keeps the sessions.
 * No sockets and no timers: the tap feeds it what it reads, and calls {@link Correlator.sweep} periodically.
 *
 * - Sessions are keyed by an opaque key: an HMAC of the transport and session id under a random
 *   per-process key, so the session id itself is never stored, exported or logged.
 * - Each session holds at most `maxPendingPerSession` pending requests; a request beyond that, or one that
 *   reuses the id of a pending request, is not tracked (counted as dropped `limit` / `duplicate_id`).
 * - A request unanswered for `pendingTimeoutMs` ends as `timeout`. The sweep walks each session's pending
 *   requests in the order they were seen and stops at the first one not yet due, so a request may be
 *   noticed up to the skew between concurrent POSTs late.
 * - A session that closes ends its pending requests as `cancelled` (or `upstream_unavailable` when the
 *   upstream failed) and counts them as dropped `session_closed`; its duration is recorded if the upstream
 *   ever confirmed it.
 * - A streamable-HTTP session never deleted by its client closes after `sessionIdleTimeoutMs` without
 *   traffic, open stream or pending request; its duration is measured to its last activity.
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { Exchange } from '../../observe/exchange.ts';
import { idKey, type JsonRpcId, type RequestMessage, type ResponseMessage } from './jsonrpc.ts';
import { LIST_METHODS, type ListPage, type ServerIdentity } from './listing.ts';
import type { McpOperation, McpTransport } from './operations.ts';
import { noResponseOutcome, responseOutcome, type Outcome } from './outcome.ts';

/** Why a request stopped being tracked without its response (`sidecar_mcp_pending_dropped_total{reason}`). */
export type DropReason = 'timeout' | 'session_closed' | 'client_gone' | 'limit' | 'duplicate_id';

export interface SessionEnd {
  readonly transport: McpTransport;
  readonly protocolVersion: string | undefined;
  readonly durationSeconds: number;
  /** Set when the session ended because the upstream failed. */
  readonly errorType: string | undefined;
}

/** Where the correlator's results go (the tap: channels, ledger, metrics). */
export interface CorrelatorSink {
  started(op: McpOperation): void;
  /** An operation ended; `outcome` also carries its semantic-convention attributes. */
  ended(op: McpOperation, outcome: Outcome): void;
  sessionEnded(end: SessionEnd): void;
  dropped(reason: DropReason): void;
  unmatched(): void;
  /** A list request of `session` was answered with `page`; `cursor` is the request's (listing.ts). */
  listed(session: string, cursor: string | false | undefined, page: ListPage, at: number): void;
  /** An `initialize` request was answered. */
  initialized(server: ServerIdentity): void;
}

export interface CorrelatorOptions {
  /** Pending requests tracked per session (`--mcp-max-pending`). @default 1000 */
  readonly maxPendingPerSession: number;
  /** A request unanswered this long ends as `timeout` (`--mcp-pending-timeout`). @default 300000 (5 min) */
  readonly pendingTimeoutMs: number;
  /** Sessions tracked at once (`--mcp-max-sessions`). @default 10000 */
  readonly maxSessions: number;
  /** Idle time after which a streamable-HTTP session counts as closed (`--mcp-session-idle-timeout`). @default 1800000 (30 min) */
  readonly sessionIdleTimeoutMs: number;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

export class Session {
  readonly key: string;
  readonly transport: McpTransport;
  /** The one-exchange session of a stateless streamable-HTTP server: not counted, no duration. */
  readonly ephemeral: boolean;
  readonly openedAt: number;
  lastActivity: number;
  protocolVersion: string | undefined = undefined;
  /** Open streams and in-flight exchanges; an idle session is closed only when this is 0. */
  busy = 0;
  /**
   * The upstream answered for this session (it announced it, assigned it, or answered a request on it with
   * a 2xx). A session first seen in a request header and never confirmed records no duration when it
   * closes (e.g. a stale session id the upstream answers with 404).
   */
  confirmed = false;
  closed = false;
  readonly pending = new Map<string, Pending>();

  constructor(key: string, transport: McpTransport, ephemeral: boolean, at: number) {
    this.key = key;
    this.transport = transport;
    this.ephemeral = ephemeral;
    this.openedAt = at;
    this.lastActivity = at;
  }
}

export interface Pending {
  readonly key: string;
  readonly session: Session;
  readonly op: Writable<McpOperation>;
  /** The `cursor` of a list request. */
  readonly cursor?: string | false;
}

/** Every MCP transport the sidecar proxies. */
export const MCP_TRANSPORTS: readonly McpTransport[] = ['sse', 'streamable_http'];

export class Correlator {
  readonly #opts: CorrelatorOptions;
  readonly #sink: CorrelatorSink;
  /** A KeyObject made once: createHmac with a Buffer key would import it again on every call (~7 µs). */
  readonly #secret = createSecretKey(randomBytes(32));
  readonly #sessions = new Map<string, Session>();
  readonly #active: Record<McpTransport, number> = { sse: 0, streamable_http: 0 };
  readonly #pending: Record<McpTransport, number> = { sse: 0, streamable_http: 0 };

  constructor(opts: CorrelatorOptions, sink: CorrelatorSink) {
    this.#opts = opts;
    this.#sink = sink;
  }

  /** Sessions open now (ephemeral ones excluded). */
  sessionsActive(transport: McpTransport): number {
    return this.#active[transport];
  }

  /** Requests waiting for their response now. */
  pendingRequests(transport: McpTransport): number {
    return this.#pending[transport];
  }

  #keyOf(transport: McpTransport, sessionId: string): string {
    return createHmac('sha256', this.#secret).update(transport).update('\u0000').update(sessionId).digest('base64url').slice(0, 22);
  }

  /** The open session `sessionId` of `transport`, if the sidecar knows it. */
  find(transport: McpTransport, sessionId: string): Session | undefined {
    return this.#sessions.get(this.#keyOf(transport, sessionId));
  }

  /** The session `sessionId` of `transport`, opened now if new; `undefined` past `maxSessions`. */
  open(transport: McpTransport, sessionId: string, at: number): Session | undefined {
    const key = this.#keyOf(transport, sessionId);
    const existing = this.#sessions.get(key);
    if (existing !== undefined) return existing;
    if (this.#sessions.size >= this.#opts.maxSessions) return undefined;
    const session = new Session(key, transport, false, at);
    this.#sessions.set(key, session);
    this.#active[transport]++;
    return session;
  }

  /** A session that lives as long as one exchange (a server that assigns no session id). */
  ephemeral(transport: McpTransport, exchangeId: number, at: number): Session {
    const session = new Session(`x${exchangeId}`, transport, true, at);
    this.#sessions.set(session.key, session);
    return session;
  }

  /** Starts tracking a request seen on `session`, carried by `exchange`; `undefined` if it is not tracked. */
  request(session: Session, msg: RequestMessage, exchange: Exchange, at: number): Pending | undefined {
    if (session.closed) return undefined;
    session.lastActivity = at;
    const key = idKey(msg.id);
    if (session.pending.has(key)) {
      this.#sink.dropped('duplicate_id');
      return undefined;
    }
    if (session.pending.size >= this.#opts.maxPendingPerSession) {
      this.#sink.dropped('limit');
      return undefined;
    }
    const op: Writable<McpOperation> = { method: msg.method, transport: session.transport, sessionKey: session.key, requestExchange: exchange, startTime: exchange.startTime };
    if (msg.toolName !== undefined) op.toolName = msg.toolName;
    if (msg.promptName !== undefined) op.promptName = msg.promptName;
    if (msg.resourceUri !== undefined) op.resourceUri = msg.resourceUri;
    if (session.protocolVersion !== undefined) op.protocolVersion = session.protocolVersion;
    if (msg.traceparent !== undefined) op.traceparent = msg.traceparent;
    if (msg.tracestate !== undefined) op.tracestate = msg.tracestate;
    const pending: Pending = msg.cursor === undefined ? { key, session, op } : { key, session, op, cursor: msg.cursor };
    session.pending.set(key, pending);
    this.#pending[session.transport]++;
    this.#sink.started(op);
    return pending;
  }

  /** Ends the pending request a response answers; false when none is pending under its id. */
  response(session: Session, msg: ResponseMessage, at: number): boolean {
    session.lastActivity = at;
    if (msg.id === null) return false;
    const pending = session.pending.get(idKey(msg.id));
    if (pending === undefined) return false;
    const info = msg.response;
    const method = pending.op.method;
    if (info.kind === 'result' && info.protocolVersion !== undefined && method === 'initialize') {
      session.protocolVersion = info.protocolVersion;
      pending.op.protocolVersion = info.protocolVersion;
    }
    this.#finish(pending, responseOutcome(method, info), at);
    if (info.kind === 'result') {
      if (method === 'initialize' && info.server !== undefined) this.#sink.initialized(info.server);
      else if (info.listPage !== undefined && LIST_METHODS.get(method) === info.listPage.kind) this.#sink.listed(session.key, pending.cursor, info.listPage, at);
    }
    return true;
  }

  /** A response nobody waits for (late, after a timeout or cancellation, or for an untracked request). */
  unmatched(): void {
    this.#sink.unmatched();
  }

  /** `notifications/cancelled`: the client gave up on request `id`. */
  cancel(session: Session, id: JsonRpcId, at: number): void {
    session.lastActivity = at;
    const pending = session.pending.get(idKey(id));
    if (pending !== undefined) this.#finish(pending, noResponseOutcome('cancelled'), at);
  }

  /** True while `pending` waits for its response. */
  isPending(pending: Pending): boolean {
    return pending.session.pending.get(pending.key) === pending;
  }

  /** Ends a pending request without a response (e.g. its HTTP exchange failed); counts `drop` if given. */
  settle(pending: Pending, outcome: Outcome, at: number, drop?: DropReason): void {
    if (!this.isPending(pending)) return;
    this.#finish(pending, outcome, at);
    if (drop !== undefined) this.#sink.dropped(drop);
  }

  /** Closes a session: its pending requests end as `why` and count as dropped `session_closed`. */
  close(session: Session, at: number, why: 'cancelled' | 'upstream_unavailable' = 'cancelled'): void {
    if (session.closed) return;
    session.closed = true;
    this.#sessions.delete(session.key);
    const outcome = noResponseOutcome(why);
    for (const pending of [...session.pending.values()]) {
      this.#finish(pending, outcome, at);
      this.#sink.dropped('session_closed');
    }
    if (session.ephemeral) return;
    this.#active[session.transport]--;
    if (!session.confirmed) return;
    this.#sink.sessionEnded({
      transport: session.transport,
      protocolVersion: session.protocolVersion,
      durationSeconds: Math.max(0, at - session.openedAt) / 1000,
      errorType: why === 'upstream_unavailable' ? why : undefined,
    });
  }

  /** Ends requests past the pending timeout and closes idle streamable-HTTP sessions. */
  sweep(now: number): void {
    const timeout = this.#opts.pendingTimeoutMs;
    const outcome = noResponseOutcome('timeout');
    for (const session of [...this.#sessions.values()]) {
      for (const pending of session.pending.values()) {
        if (now - pending.op.startTime < timeout) break;
        this.#finish(pending, outcome, now);
        this.#sink.dropped('timeout');
      }
      if (
        session.transport === 'streamable_http' &&
        !session.ephemeral &&
        session.busy === 0 &&
        session.pending.size === 0 &&
        now - session.lastActivity >= this.#opts.sessionIdleTimeoutMs
      ) {
        this.close(session, session.lastActivity);
      }
    }
  }

  /** Closes every session (shutdown). */
  closeAll(now: number): void {
    for (const session of [...this.#sessions.values()]) this.close(session, now);
  }

  /** Sessions tracked now, ephemeral included (for tests and bounds). */
  get size(): number {
    return this.#sessions.size;
  }

  #finish(pending: Pending, outcome: Outcome, at: number): void {
    const session = pending.session;
    session.pending.delete(pending.key);
    this.#pending[session.transport]--;
    const op = pending.op;
    op.endTime = at;
    op.outcome = outcome.outcome;
    if (outcome.errorType !== undefined) op.errorType = outcome.errorType;
    this.#sink.ended(op, outcome);
  }
}
