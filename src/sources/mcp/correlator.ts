/**
 * The one owner of MCP session state: a state machine that correlates MCP requests with their responses
 * by (session, JSON-RPC id) and keeps the sessions. No sockets, no timers, no bytes: its inputs are events
 * — an exchange's request head ({@link Correlator.begin}), its request body read, its response head, an
 * SSE event or JSON answer read, its end, and a sweep tick — and its outputs are decisions, told to its
 * {@link CorrelatorSink}: operations started and ended with their outcome, sessions ended, dropped,
 * unmatched and unparsed counts, list pages for the inventory, endpoint paths learned. The tap's exchange
 * adapters (exchange-state.ts) turn bytes into these events; the tap's timer calls {@link Correlator.sweep}.
 *
 * - Sessions are keyed by an opaque key: an HMAC of the transport and session id under a random
 *   per-process key, so the session id itself is never stored, exported or logged.
 * - Each session holds at most `maxPendingPerSession` pending requests; a request beyond that, or one that
 *   reuses the id of a pending request, is not tracked (counted as dropped `limit` / `duplicate_id`).
 * - A request unanswered for `pendingTimeoutMs` ends as `timeout`. The sweep walks each session's pending
 *   requests in the order they were seen and stops at the first one not yet due, so a request may be
 *   noticed up to the skew between concurrent POSTs late.
 * - A response whose request may still be in a body not read yet (a POST without `Content-Length`, read
 *   at its response head) waits for those bodies, at most `maxPendingPerSession` per session; it is
 *   unmatched once none is left unread.
 * - A session that closes ends its pending requests as `cancelled` (or `upstream_unavailable` when the
 *   upstream failed) and counts them as dropped `session_closed`; its duration is recorded if the upstream
 *   ever confirmed it.
 * - A streamable-HTTP session never deleted by its client closes after `sessionIdleTimeoutMs` without
 *   traffic, open stream or pending request; its duration is measured to its last activity.
 *
 * How each transport is correlated is in tap.ts and docs/mcp-latency.md.
 */
import type { ExchangeOutcome } from '../../observe/exchange.ts';
import type { McpMessage, ResponseMessage } from './jsonrpc.ts';
import { LIST_CHANGED } from './listing.ts';
import type { McpTransport } from './operations.ts';
import { isOwnId } from './own-ids.ts';
import { noResponseOutcome, refusedErrorType, refusedOutcome, responseOutcome, type Outcome } from './outcome.ts';
import { sessionIdOfUrl } from './routes.ts';
import { SessionTable } from './session-table.ts';
import { FlowState, type CorrelatorOptions, type CorrelatorSink, type DropReason, type Flow, type Read, type RequestHead, type Session } from './session.ts';

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

export class Correlator {
  readonly #sink: CorrelatorSink;
  readonly #table: SessionTable;

  constructor(opts: CorrelatorOptions, sink: CorrelatorSink) {
    this.#sink = sink;
    this.#table = new SessionTable(opts, sink);
  }

  /** Sessions open now (ephemeral ones excluded). */
  sessionsActive(transport: McpTransport): number {
    return this.#table.active[transport];
  }

  /** Requests waiting for their response now. */
  pendingRequests(transport: McpTransport): number {
    return this.#table.pending[transport];
  }

  /** What is held now, for bounds and tests: sessions (ephemeral included) and responses waiting for a body. */
  get held(): { readonly sessions: number; readonly deferred: number } {
    return { sessions: this.#table.size, deferred: this.#table.deferred };
  }

  // Events of an exchange ---------------------------------------------------------------------------------

  /** A request head on an MCP route: the exchange to follow, or `undefined` if it carries nothing to follow. */
  begin(head: RequestHead): Flow | undefined {
    const method = head.exchange.method;
    const table = this.#table;
    if (head.route === 'sse') return method === 'GET' ? new FlowState(head, false) : undefined;
    if (head.route === 'messages') {
      if (method !== 'POST') return undefined;
      const flow = new FlowState(head, true);
      const session = head.sessionId === undefined ? undefined : table.find('sse', head.sessionId, head.exchange.connection);
      if (session !== undefined) this.#attach(flow, session, false);
      return flow;
    }
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') return undefined;
    const flow = new FlowState(head, method === 'POST');
    if (head.sessionId !== undefined) {
      const at = head.exchange.startTime;
      const connection = head.exchange.connection;
      const session =
        method === 'DELETE'
          ? table.find('streamable_http', head.sessionId, connection)
          : table.openStreamable(head.sessionId, head.protocolVersion, at, connection);
      if (session !== undefined) this.#attach(flow, session, method !== 'DELETE');
    }
    return flow;
  }

  /** The exchange's request body was read (complete by `Content-Length`, or at its response head or end). */
  requestRead(f: Flow, read: Read, at: number): void {
    const flow = this.#state(f);
    if (flow === undefined || !flow.awaitingBody) return;
    flow.awaitingBody = false;
    const session = flow.session;
    if (session !== undefined) session.unread--;
    const messages = this.#messagesOf(read);
    if (messages !== undefined && messages.length > 0) {
      if (session !== undefined) this.#dispatch(flow, session, messages, at);
      else if (flow.route === 'messages') {
        if (messages.some((m) => m.kind === 'request')) this.#sink.unparsed('unknown_session', 1);
      } else if (flow.named) this.#sink.unparsed('session_limit', 1);
      else flow.held = messages;
    }
    if (session !== undefined && session.deferred !== undefined) this.#table.retryDeferred(session);
  }

  /**
   * The response head went out. Read the request body first (what came of it), then tell this.
   * @param assigned the response's `Mcp-Session-Id`, bounded.
   */
  responseHead(f: Flow, status: number, assigned: string | undefined, at: number): void {
    const flow = this.#state(f);
    if (flow === undefined) return;
    if (flow.route === 'streamable' && flow.exchange.method === 'POST' && flow.session === undefined) this.#assign(flow, status, assigned, at);
    // The upstream answered for this session: it exists (a session first seen in a request header may not).
    if (flow.session !== undefined && is2xx(status)) flow.session.confirmed = true;
  }

  /** A legacy stream's `endpoint` event (its data: the URL to POST to, naming the session). */
  endpoint(f: Flow, data: string, at: number): void {
    const flow = this.#state(f);
    if (flow === undefined || flow.route !== 'sse' || flow.session !== undefined) return;
    this.#sink.endpoint(data);
    const id = sessionIdOfUrl(data);
    if (id === undefined) return;
    const session = this.#table.open('sse', id, at);
    if (session === undefined) {
      this.#sink.unparsed('session_limit', 1);
      return;
    }
    session.confirmed = true;
    this.#attach(flow, session, true);
  }

  /** A message event of the response's SSE stream, or its JSON answer, was read. */
  responseRead(f: Flow, read: Read, at: number): void {
    const flow = this.#state(f);
    if (flow === undefined) return;
    const messages = this.#messagesOf(read);
    const session = flow.session;
    if (messages === undefined || session === undefined) return;
    for (const msg of messages) {
      if (msg.kind === 'notification') {
        const kind = LIST_CHANGED.get(msg.method);
        if (kind !== undefined) this.#sink.listChanged(kind);
        continue;
      }
      if (msg.kind !== 'response') continue;
      if (isOwnId(msg.id)) {
        // Not the client's: the answer to the sidecar's own request, sent to every session (never correlated).
        this.#sink.ownResponse();
        continue;
      }
      if (msg.id === null && flow.route === 'streamable' && flow.exchange.method === 'POST') {
        this.#settleAll(flow, responseOutcome('', msg.response), at);
        continue;
      }
      this.#respond(session, msg, at);
    }
  }

  /** The exchange ended (after its last body was read), with the outcome and status the proxy saw. */
  end(f: Flow, outcome: ExchangeOutcome, status: number, at: number): void {
    const flow = this.#state(f);
    if (flow === undefined || flow.ended) return;
    flow.ended = true;
    if (flow.awaitingBody) this.requestRead(flow, 'empty', at);
    const table = this.#table;
    if (flow.session === undefined && flow.held !== undefined) {
      // A streamable POST that got no answer naming a session: its requests end with the exchange.
      const ephemeral = table.ephemeral('streamable_http', flow.exchange.id, flow.exchange.startTime);
      this.#attach(flow, ephemeral, true, at);
      this.#dispatch(flow, ephemeral, flow.held, at);
      flow.held = undefined;
    }
    const session = flow.session;
    if (session !== undefined && flow.busy) {
      session.busy--;
      session.lastActivity = at;
    }
    this.#failPending(flow, outcome, status, at);
    if (session === undefined) return;
    const upstreamFailed = outcome === 'upstream_unavailable' || outcome === 'upstream_aborted' || outcome === 'upstream_timeout';
    if (session.ephemeral) table.close(session, at);
    else if (flow.route === 'sse') table.close(session, at, upstreamFailed ? 'upstream_unavailable' : 'cancelled');
    else if (flow.route === 'streamable' && flow.named && (status === 404 || (flow.exchange.method === 'DELETE' && is2xx(status)))) table.close(session, at);
  }

  // Ticks -------------------------------------------------------------------------------------------------

  /** Ends requests past the pending timeout and closes idle streamable-HTTP sessions. */
  sweep(now: number): void {
    this.#table.sweep(now);
  }

  /** Closes every session (shutdown, or the tap detached). */
  closeAll(now: number): void {
    this.#table.closeAll(now);
  }

  // Inside ------------------------------------------------------------------------------------------------

  /** The state behind a flow this correlator handed out (a narrowing, never a cast). */
  #state(flow: Flow): FlowState | undefined {
    return flow instanceof FlowState ? flow : undefined;
  }

  /** `flow` is on `session` from now on; `hold`: it keeps the session busy until it ends. */
  #attach(flow: FlowState, session: Session, hold: boolean, at = flow.exchange.startTime): void {
    flow.session = session;
    if (flow.awaitingBody) session.unread++;
    if (!hold) return;
    session.busy++;
    session.lastActivity = at;
    flow.busy = true;
  }

  /** A streamable POST without a session header: the answer names the session (or there is none). */
  #assign(flow: FlowState, status: number, assigned: string | undefined, at: number): void {
    const table = this.#table;
    const session =
      assigned !== undefined && is2xx(status)
        ? table.openStreamable(assigned, flow.protocolVersion, at, flow.exchange.connection)
        : table.ephemeral('streamable_http', flow.exchange.id, at);
    const held = flow.held;
    flow.held = undefined;
    if (session === undefined) {
      if (held !== undefined) this.#sink.unparsed('session_limit', 1);
      return;
    }
    this.#attach(flow, session, true, at);
    if (held !== undefined) this.#dispatch(flow, session, held, at);
  }

  #messagesOf(read: Read): McpMessage[] | undefined {
    if (read === 'empty') return undefined;
    if (read === 'too_large' || read === 'stream_cut') {
      this.#sink.unparsed(read, 1);
      return undefined;
    }
    if (read.invalid > 0) this.#sink.unparsed(read.problem ?? 'not_jsonrpc', read.invalid);
    return read.messages;
  }

  #dispatch(flow: FlowState, session: Session, messages: readonly McpMessage[], at: number): void {
    const table = this.#table;
    for (const msg of messages) {
      if (msg.kind === 'request') {
        const pending = table.request(session, msg, flow.exchange, at);
        if (pending !== undefined) flow.registered.push(pending);
      } else if (msg.kind === 'notification' && msg.cancelledId !== undefined) {
        table.cancel(session, msg.cancelledId, at);
      }
      // Other notifications, and the client's answers to the server's own requests, are not operations.
    }
  }

  /** A response read on `session`: correlated, held for bodies not read yet, or unmatched. */
  #respond(session: Session, msg: ResponseMessage, at: number): void {
    const table = this.#table;
    if (table.response(session, msg, at) || msg.id === null) return;
    if (!table.defer(session, msg, at)) this.#sink.unmatched();
  }

  /** Ends every request this exchange started that is still pending. */
  #settleAll(flow: FlowState, outcome: Outcome, at: number, drop?: DropReason): void {
    flow.settledAll = true;
    for (const pending of flow.registered) this.#table.settle(pending, outcome, at, drop);
  }

  /** Ends the requests of a POST that failed: refused, cut by the client, or lost upstream. */
  #failPending(flow: FlowState, outcome: ExchangeOutcome, status: number, at: number): void {
    if (flow.registered.length === 0 || flow.settledAll) return;
    const delivered = is2xx(status);
    switch (outcome) {
      case 'ok':
        if (!delivered) this.#settleAll(flow, refusedOutcome(refusedErrorType(status), status), at);
        // Delivered and unanswered: left to the pending timeout (an unreadable answer, or one still to come).
        return;
      case 'client_abort':
        // A legacy POST that was accepted has been delivered: its answer comes on the stream.
        if (flow.route === 'messages' && delivered) return;
        this.#settleAll(flow, noResponseOutcome('cancelled'), at, 'client_gone');
        return;
      case 'upstream_timeout':
        this.#settleAll(flow, noResponseOutcome('timeout'), at);
        return;
      case 'upstream_unavailable':
      case 'upstream_aborted':
        this.#settleAll(flow, noResponseOutcome('upstream_unavailable'), at);
        return;
      case 'bad_request':
        this.#settleAll(flow, refusedOutcome('invalid_request', 400), at);
        return;
    }
  }
}
