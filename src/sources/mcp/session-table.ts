/**
 * The sessions and pending requests of the {@link Correlator} (correlator.ts), which alone calls this:
 * opening, finding and closing sessions, starting and ending requests, the responses that wait for a
 * body, the sweep. Its rules are the correlator's (see there).
 */
import { hash, randomBytes } from 'node:crypto';
import type { Exchange } from '../../observe/exchange.ts';
import { idKey, type JsonRpcId, type RequestMessage, type ResponseMessage } from './jsonrpc.ts';
import { LIST_METHODS } from './listing.ts';
import type { McpOperation, McpTransport } from './operations.ts';
import { noResponseOutcome, responseOutcome, type Outcome } from './outcome.ts';
import { Session, type CorrelatorOptions, type CorrelatorSink, type DropReason, type Pending } from './session.ts';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The session id a client connection's last request named, and its key ({@link SessionTable}). */
interface ConnectionKey {
  transport: McpTransport;
  sessionId: string;
  key: string;
}

export class SessionTable {
  readonly #opts: CorrelatorOptions;
  readonly #sink: CorrelatorSink;
  /** The per-process key of the session keys (256 random bits), prefixed to what is hashed. */
  readonly #secret = randomBytes(32).toString('base64url');
  readonly #sessions = new Map<string, Session>();
  /**
   * Per client connection ({@link Exchange.connection}), the last session id it named and that id's key:
   * a client sends its session's every request on the connections it keeps open, so a session is hashed
   * once per connection rather than once per request. A connection that names another id (a gateway
   * carrying several clients) gets that id's own key; the entry goes with the connection.
   */
  readonly #connectionKeys = new WeakMap<object, ConnectionKey>();
  readonly active: Record<McpTransport, number> = { sse: 0, streamable_http: 0 };
  readonly pending: Record<McpTransport, number> = { sse: 0, streamable_http: 0 };
  /** Responses waiting for a body, over every session. */
  deferred = 0;

  constructor(opts: CorrelatorOptions, sink: CorrelatorSink) {
    this.#opts = opts;
    this.#sink = sink;
  }

  /** Sessions tracked now, ephemeral included. */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * The key of a session: SHA-256 of the per-process key, the transport and the session id, in one call
   * (`crypto.hash`), 132 bits of it. A keyed hash, as an HMAC is, without the HMAC object and its three
   * updates per request: 0.6 against 6 µs per key on the bench machine. Remembered per client connection
   * (`connection`, when known), for the connection's next request.
   */
  #keyOf(transport: McpTransport, sessionId: string, connection: object | undefined): string {
    const last = connection === undefined ? undefined : this.#connectionKeys.get(connection);
    if (last !== undefined && last.sessionId === sessionId && last.transport === transport) return last.key;
    const key = hash('sha256', `${this.#secret}${transport}\u0000${sessionId}`, 'base64url').slice(0, 22);
    if (last !== undefined) {
      last.transport = transport;
      last.sessionId = sessionId;
      last.key = key;
    } else if (connection !== undefined) this.#connectionKeys.set(connection, { transport, sessionId, key });
    return key;
  }

  /** The open session `sessionId` of `transport`, if the sidecar knows it; `connection` carried the request. */
  find(transport: McpTransport, sessionId: string, connection?: object): Session | undefined {
    return this.#sessions.get(this.#keyOf(transport, sessionId, connection));
  }

  /** The session `sessionId` of `transport`, opened now if new; `undefined` past `maxSessions`. */
  open(transport: McpTransport, sessionId: string, at: number, connection?: object): Session | undefined {
    const key = this.#keyOf(transport, sessionId, connection);
    const existing = this.#sessions.get(key);
    if (existing !== undefined) return existing;
    if (this.#sessions.size >= this.#opts.maxSessions) return undefined;
    const session = new Session(key, transport, false, at);
    this.#sessions.set(key, session);
    this.active[transport]++;
    return session;
  }

  /** A streamable-HTTP session, opened if new; it takes the protocol version its first request names. */
  openStreamable(sessionId: string, protocolVersion: string | undefined, at: number, connection?: object): Session | undefined {
    const session = this.open('streamable_http', sessionId, at, connection);
    if (session !== undefined && session.protocolVersion === undefined && protocolVersion !== undefined) session.protocolVersion = protocolVersion;
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
    const op: Writable<McpOperation> = {
      method: msg.method,
      transport: session.transport,
      sessionKey: session.key,
      requestExchange: exchange,
      startTime: exchange.startTime,
    };
    if (msg.toolName !== undefined) op.toolName = msg.toolName;
    if (msg.promptName !== undefined) op.promptName = msg.promptName;
    if (msg.resourceUri !== undefined) op.resourceUri = msg.resourceUri;
    if (session.protocolVersion !== undefined) op.protocolVersion = session.protocolVersion;
    if (msg.traceparent !== undefined) op.traceparent = msg.traceparent;
    if (msg.tracestate !== undefined) op.tracestate = msg.tracestate;
    const pending: Pending = msg.cursor === undefined ? { key, session, op } : { key, session, op, cursor: msg.cursor };
    session.pending.set(key, pending);
    this.pending[session.transport]++;
    this.#sink.started(op);
    return pending;
  }

  /** Ends the pending request a response answers; false when none is pending under its id. */
  response(session: Session, msg: ResponseMessage, at: number): boolean {
    session.lastActivity = at;
    return this.#match(session, msg, at, Infinity);
  }

  /** Ends the request pending under the response's id if it was seen by `seenBy`. */
  #match(session: Session, msg: ResponseMessage, at: number, seenBy: number): boolean {
    if (msg.id === null) return false;
    const pending = session.pending.get(idKey(msg.id));
    if (pending === undefined || pending.op.startTime > seenBy) return false;
    const info = msg.response;
    const method = pending.op.method;
    if (info.kind === 'result' && info.protocolVersion !== undefined && method === 'initialize') {
      session.protocolVersion = info.protocolVersion;
      pending.op.protocolVersion = info.protocolVersion;
    }
    this.#finish(pending, responseOutcome(method, info), at);
    if (info.kind === 'result') {
      if (method === 'initialize' && info.server !== undefined) this.#sink.initialized(info.server);
      else if (info.listPage !== undefined && LIST_METHODS.get(method) === info.listPage.kind)
        this.#sink.listed(session.key, pending.cursor, info.listPage, at);
    }
    return true;
  }

  /**
   * Holds a response no pending request waits for while bodies of `session` are still to be read (one of
   * them may carry its request); false when none is, or too many responses wait already.
   */
  defer(session: Session, msg: ResponseMessage, at: number): boolean {
    if (session.unread <= 0 || session.closed) return false;
    const deferred = (session.deferred ??= []);
    if (deferred.length >= this.#opts.maxPendingPerSession) return false;
    deferred.push({ msg, at });
    this.deferred++;
    return true;
  }

  /** A body of `session` was read: the responses waiting are matched; with no body left unread, the rest are unmatched. */
  retryDeferred(session: Session): void {
    const deferred = session.deferred;
    if (deferred === undefined) return;
    // A response answers only a request sent before it was seen (its session's activity was noted then).
    const left = deferred.filter((d) => !this.#match(session, d.msg, d.at, d.at));
    this.deferred -= deferred.length - left.length;
    if (left.length > 0 && session.unread > 0 && !session.closed) {
      session.deferred = left;
      return;
    }
    session.deferred = undefined;
    this.deferred -= left.length;
    for (let i = 0; i < left.length; i++) this.#sink.unmatched();
  }

  /** `notifications/cancelled`: the client gave up on request `id`. */
  cancel(session: Session, id: JsonRpcId, at: number): void {
    session.lastActivity = at;
    const pending = session.pending.get(idKey(id));
    if (pending !== undefined) this.#finish(pending, noResponseOutcome('cancelled'), at);
  }

  /** Ends a pending request without a response (e.g. its HTTP exchange failed); counts `drop` if given. */
  settle(pending: Pending, outcome: Outcome, at: number, drop?: DropReason): void {
    if (pending.session.pending.get(pending.key) !== pending) return;
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
    if (session.deferred !== undefined) this.retryDeferred(session);
    if (session.ephemeral) return;
    this.active[session.transport]--;
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

  #finish(pending: Pending, outcome: Outcome, at: number): void {
    const session = pending.session;
    session.pending.delete(pending.key);
    this.pending[session.transport]--;
    const op = pending.op;
    op.endTime = at;
    op.outcome = outcome.outcome;
    if (outcome.errorType !== undefined) op.errorType = outcome.errorType;
    this.#sink.ended(op, outcome);
  }
}
