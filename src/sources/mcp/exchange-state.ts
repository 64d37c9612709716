/**
 * One proxied MCP exchange, as the MCP tap follows it: the body tap attached to it (so its state lives
 * exactly as long as the exchange), what it carries, and what it learned. See tap.ts for how each
 * transport is correlated.
 */
import type { Exchange, ExchangeTap } from '../../observe/exchange.ts';
import { BodyReader, type BodyRead } from './body-reader.ts';
import type { Correlator, Pending, Session } from './correlator.ts';
import { parseMessages, type McpMessage, type ResponseMessage } from './jsonrpc.ts';
import { noResponseOutcome, refusedErrorType, refusedOutcome, responseOutcome, type Outcome } from './outcome.ts';
import { isOwnId } from './own-ids.ts';
import type { UnparsedReason } from './report.ts';
import { headerValue, sessionIdOfUrl, type McpRoute } from './routes.ts';
import { SseFeed } from './sse-feed.ts';

/** What an exchange's state needs from the tap. */
export interface TapContext {
  readonly correlator: Correlator;
  /** Largest MCP message read (`--body-capture-limit`). */
  readonly captureLimit: number;
  unparsed(reason: UnparsedReason, n?: number): void;
  /** Legacy POSTs in flight on a session, whose bodies may be read early. */
  inflight(session: Session): Set<ExchangeState>;
  /** Correlates a response read on `session` (reading in-flight bodies first if needed); false if unmatched. */
  respond(session: Session, msg: ResponseMessage, at: number): boolean;
  /** A legacy stream announced where to POST: that path is an MCP route from now on. */
  learnEndpoint(data: string): void;
  /** The server sent a client a notification (`notifications/tools/list_changed`, …). */
  notified(method: string): void;
  /** A response to one of the sidecar's own requests reached a client (the upstream broadcasts). */
  ownResponse(): void;
}

const MAX_VERSION_HEADER = 32;

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

function isJson(ex: Exchange): boolean {
  const ct = ex.responseHeaders?.['content-type'];
  return typeof ct === 'string' && ct.toLowerCase().includes('json');
}

/** One proxied MCP exchange: what it carries and what it learned. Also its body tap. */
export class ExchangeState implements ExchangeTap {
  readonly #tap: TapContext;
  readonly #ex: Exchange;
  readonly #route: McpRoute;
  readonly wanted: boolean;
  #session: Session | undefined = undefined;
  /** The session id the request named (legacy: URL; streamable: header). */
  readonly #sessionId: string | undefined;
  #busy = false;
  #reader: BodyReader | undefined = undefined;
  /** Messages read before the session was known (a streamable POST without a session header). */
  #held: McpMessage[] | undefined = undefined;
  readonly #registered: Pending[] = [];
  #feed: SseFeed | undefined = undefined;
  #json: BodyReader | undefined = undefined;
  /** An answer applied to the whole exchange (an id-null JSON-RPC error). */
  #settledAll = false;

  constructor(tap: TapContext, ex: Exchange, route: McpRoute) {
    this.#tap = tap;
    this.#ex = ex;
    this.#route = route;
    const method = ex.method;
    const now = ex.startTime;
    if (route === 'sse') {
      this.#sessionId = undefined;
      this.wanted = method === 'GET';
      return;
    }
    if (route === 'messages') {
      this.#sessionId = sessionIdOfUrl(ex.url);
      this.wanted = method === 'POST';
      if (!this.wanted) return;
      this.#session = this.#sessionId === undefined ? undefined : tap.correlator.find('sse', this.#sessionId);
      if (this.#session !== undefined) tap.inflight(this.#session).add(this);
      this.#reader = new BodyReader(tap.captureLimit, ex.requestHeaders['content-length']);
      return;
    }
    this.#sessionId = headerValue(ex.requestHeaders['mcp-session-id']);
    this.wanted = method === 'POST' || method === 'GET' || method === 'DELETE';
    if (!this.wanted) return;
    if (this.#sessionId !== undefined) {
      this.#session = method === 'DELETE' ? tap.correlator.find('streamable_http', this.#sessionId) : this.#openStreamable(this.#sessionId, now);
      if (this.#session !== undefined && method !== 'DELETE') this.#hold(this.#session, now);
    }
    if (method === 'POST') {
      this.#reader = new BodyReader(tap.captureLimit, ex.requestHeaders['content-length']);
      if (this.#session !== undefined) tap.inflight(this.#session).add(this);
    }
  }

  // ExchangeTap ------------------------------------------------------------------------------------------

  onRequestBody(chunk: Buffer): void {
    const reader = this.#reader;
    if (reader === undefined || reader.taken) return;
    if (reader.push(chunk)) this.readRequest(performance.now());
  }

  onResponseStart(ex: Exchange): void {
    const now = ex.headersTime;
    this.readRequest(now);
    if (this.#route === 'streamable' && ex.method === 'POST' && this.#session === undefined) this.#assignSession(ex, now);
    // The upstream answered for this session: it exists (a session first seen in a request header may not).
    if (this.#session !== undefined && is2xx(ex.status)) this.#session.confirmed = true;
    if (ex.stream === 'sse' && is2xx(ex.status)) {
      this.#feed = new SseFeed(this.#tap.captureLimit, {
        onEvent: (event, data) => this.#event(event, data),
        onProblem: (problem) => this.#tap.unparsed(problem),
      });
    } else if (this.#route === 'streamable' && ex.method === 'POST' && isJson(ex)) {
      this.#json = new BodyReader(this.#tap.captureLimit, ex.responseHeaders?.['content-length']);
    }
  }

  onResponseBody(chunk: Buffer): void {
    const feed = this.#feed;
    if (feed !== undefined) {
      feed.push(chunk);
      return;
    }
    this.#json?.push(chunk);
  }

  onEnd(ex: Exchange): void {
    this.#end(ex);
  }

  // Requests ---------------------------------------------------------------------------------------------

  /** Reads the request body if it was not read yet, and starts its requests. */
  readRequest(at: number): void {
    const reader = this.#reader;
    if (reader === undefined || reader.taken) return;
    if (this.#session !== undefined) this.#tap.inflight(this.#session).delete(this);
    const messages = this.#messagesOf(reader.take());
    if (messages === undefined || messages.length === 0) return;
    if (this.#session === undefined) {
      if (this.#route === 'messages') {
        if (messages.some((m) => m.kind === 'request')) this.#tap.unparsed('unknown_session');
        return;
      }
      if (this.#sessionId !== undefined) {
        this.#tap.unparsed('session_limit');
        return;
      }
      this.#held = messages;
      return;
    }
    this.#dispatch(this.#session, messages, at);
  }

  #messagesOf(read: BodyRead | undefined): McpMessage[] | undefined {
    if (read === undefined || read === 'empty') return undefined;
    if (read === 'too_large') {
      this.#tap.unparsed('too_large');
      return undefined;
    }
    if (read.invalid > 0) this.#tap.unparsed(read.problem ?? 'not_jsonrpc', read.invalid);
    return read.messages;
  }

  #dispatch(session: Session, messages: readonly McpMessage[], at: number): void {
    const correlator = this.#tap.correlator;
    for (const msg of messages) {
      if (msg.kind === 'request') {
        const pending = correlator.request(session, msg, this.#ex, at);
        if (pending !== undefined) this.#registered.push(pending);
      } else if (msg.kind === 'notification' && msg.cancelledId !== undefined) {
        correlator.cancel(session, msg.cancelledId, at);
      }
      // Other notifications, and the client's answers to the server's own requests, are not operations.
    }
  }

  // Sessions ---------------------------------------------------------------------------------------------

  #openStreamable(sessionId: string, at: number): Session | undefined {
    const session = this.#tap.correlator.open('streamable_http', sessionId, at);
    if (session !== undefined && session.protocolVersion === undefined) {
      const version = headerValue(this.#ex.requestHeaders['mcp-protocol-version'], MAX_VERSION_HEADER);
      if (version !== undefined) session.protocolVersion = version;
    }
    return session;
  }

  /** Counts this exchange as keeping `session` busy (not idle) until it ends. */
  #hold(session: Session, at: number): void {
    session.busy++;
    session.lastActivity = at;
    this.#busy = true;
  }

  /** A streamable POST without a session header: the answer names the session (or there is none). */
  #assignSession(ex: Exchange, at: number): void {
    const assigned = headerValue(ex.responseHeaders?.['mcp-session-id']);
    const correlator = this.#tap.correlator;
    const session = assigned !== undefined && is2xx(ex.status) ? this.#openStreamable(assigned, at) : correlator.ephemeral('streamable_http', ex.id, at);
    if (session === undefined) {
      if (this.#held !== undefined) this.#tap.unparsed('session_limit');
      this.#held = undefined;
      return;
    }
    this.#session = session;
    this.#hold(session, at);
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.#dispatch(session, held, at);
  }

  // Responses --------------------------------------------------------------------------------------------

  #event(event: string | undefined, data: string): void {
    const now = performance.now();
    if (this.#route === 'sse' && event === 'endpoint') {
      if (this.#session !== undefined) return;
      this.#tap.learnEndpoint(data);
      const id = sessionIdOfUrl(data);
      if (id === undefined) return;
      const session = this.#tap.correlator.open('sse', id, now);
      if (session === undefined) {
        this.#tap.unparsed('session_limit');
        return;
      }
      session.confirmed = true;
      this.#session = session;
      this.#hold(session, now);
      return;
    }
    if (event !== undefined && event !== 'message') return;
    this.#readResponses(parseMessages(data), now);
  }

  /** Correlates the responses of a JSON text (SSE event data or a JSON answer). */
  #readResponses(read: BodyRead, at: number): void {
    const messages = this.#messagesOf(read);
    const session = this.#session;
    if (messages === undefined || session === undefined) return;
    for (const msg of messages) {
      if (msg.kind === 'notification') {
        this.#tap.notified(msg.method);
        continue;
      }
      if (msg.kind !== 'response') continue;
      if (isOwnId(msg.id)) {
        // Not the client's: the answer to the sidecar's own request, sent to every session (never correlated).
        this.#tap.ownResponse();
        continue;
      }
      if (msg.id === null && this.#route === 'streamable' && this.#ex.method === 'POST') {
        this.#settleAll(responseOutcome('', msg.response), at);
        continue;
      }
      this.#tap.respond(session, msg, at);
    }
  }

  /** Ends every request this exchange started that is still pending. */
  #settleAll(outcome: Outcome, at: number, drop?: 'client_gone'): void {
    this.#settledAll = true;
    for (const pending of this.#registered) this.#tap.correlator.settle(pending, outcome, at, drop);
  }

  // End --------------------------------------------------------------------------------------------------

  #end(ex: Exchange): void {
    const at = ex.endTime;
    this.readRequest(at);
    if (this.#session === undefined && this.#held !== undefined) {
      // A streamable POST that got no answer naming a session: its requests end with the exchange.
      const session = this.#tap.correlator.ephemeral('streamable_http', ex.id, ex.startTime);
      this.#session = session;
      this.#hold(session, at);
      this.#dispatch(session, this.#held, at);
      this.#held = undefined;
    }
    this.#feed?.end();
    const json = this.#json;
    if (json !== undefined) {
      const read = json.take();
      if (read !== undefined) {
        if (ex.outcome !== 'ok' && typeof read !== 'string' && read.problem === 'not_json') this.#tap.unparsed('stream_cut');
        else this.#readResponses(read, at);
      }
    }
    const session = this.#session;
    if (session !== undefined) {
      this.#tap.inflight(session).delete(this);
      if (this.#busy) {
        session.busy--;
        session.lastActivity = at;
      }
    }
    this.#failPending(ex, at);
    if (session === undefined) return;
    const correlator = this.#tap.correlator;
    const upstreamFailed = ex.outcome === 'upstream_unavailable' || ex.outcome === 'upstream_aborted' || ex.outcome === 'upstream_timeout';
    if (session.ephemeral) correlator.close(session, at);
    else if (this.#route === 'sse') correlator.close(session, at, upstreamFailed ? 'upstream_unavailable' : 'cancelled');
    else if (this.#route === 'streamable' && this.#sessionId !== undefined && (ex.status === 404 || (ex.method === 'DELETE' && is2xx(ex.status)))) {
      correlator.close(session, at);
    }
  }

  /** Ends the requests of a POST that failed: refused, cut by the client, or lost upstream. */
  #failPending(ex: Exchange, at: number): void {
    if (this.#registered.length === 0 || this.#settledAll) return;
    const delivered = is2xx(ex.status);
    switch (ex.outcome) {
      case 'ok':
        if (!delivered) this.#settleAll(refusedOutcome(refusedErrorType(ex.status), ex.status), at);
        // Delivered and unanswered: left to the pending timeout (an unreadable answer, or one still to come).
        return;
      case 'client_abort':
        // A legacy POST that was accepted has been delivered: its answer comes on the stream.
        if (this.#route === 'messages' && delivered) return;
        this.#settleAll(noResponseOutcome('cancelled'), at, 'client_gone');
        return;
      case 'upstream_timeout':
        this.#settleAll(noResponseOutcome('timeout'), at);
        return;
      case 'upstream_unavailable':
      case 'upstream_aborted':
        this.#settleAll(noResponseOutcome('upstream_unavailable'), at);
        return;
      case 'bad_request':
        this.#settleAll(refusedOutcome('invalid_request', 400), at);
        return;
    }
  }
}
