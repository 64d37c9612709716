/**
 * The state the {@link Correlator} (correlator.ts) keeps, and the vocabulary of its inputs and outputs:
 * sessions, their pending requests, and the exchanges it follows. Only correlator.ts writes any of it;
 * everything else sees an exchange it follows as the read-only {@link Flow} it handed out.
 */
import type { Exchange } from '../../observe/exchange.ts';
import type { McpMessage, ParsedMessages, ResponseMessage } from './jsonrpc.ts';
import type { ListKind, ListPage, ServerIdentity } from './listing.ts';
import type { McpOperation, McpTransport } from './operations.ts';
import type { Outcome } from './outcome.ts';
import type { McpRoute } from './routes.ts';

/** Every MCP transport the sidecar proxies. */
export const MCP_TRANSPORTS: readonly McpTransport[] = ['sse', 'streamable_http'];

/** Why a request stopped being tracked without its response (`sidecar_mcp_pending_dropped_total{reason}`). */
export type DropReason = 'timeout' | 'session_closed' | 'client_gone' | 'limit' | 'duplicate_id';

/**
 * Why MCP traffic could not be read (`sidecar_mcp_unparsed_total{reason}`); it passed through unchanged.
 * - `too_large`: a message (body or SSE event) over the size bound (`--body-capture-limit`);
 * - `not_json`, `not_jsonrpc`: not JSON, or JSON that is not a JSON-RPC 2.0 message (per batch member);
 * - `stream_cut`: an SSE stream or JSON body that ended in the middle of a message;
 * - `unknown_session`: a legacy-SSE POST for a session whose stream the sidecar never saw;
 * - `session_limit`: a session beyond `--mcp-max-sessions`;
 * - `internal`: the timeout sweep failed (a bug; no stream was affected). A failure while reading an
 *   exchange is counted by the bus, as `sidecar_observer_errors_total{observer="mcp_tap"}`.
 */
export type UnparsedReason = 'too_large' | 'not_json' | 'not_jsonrpc' | 'stream_cut' | 'unknown_session' | 'session_limit' | 'internal';

export interface SessionEnd {
  readonly transport: McpTransport;
  readonly protocolVersion: string | undefined;
  readonly durationSeconds: number;
  /** Set when the session ended because the upstream failed. */
  readonly errorType: string | undefined;
}

/**
 * What one read of a body or an SSE event gave: its messages (or why there were none to read), `empty`
 * (nothing), `too_large` (over the bound, not read) or `stream_cut` (it ended in the middle of a message).
 */
export type Read = ParsedMessages | 'too_large' | 'empty' | 'stream_cut';

/** The decisions of the correlator (implemented by report.ts: the ledger, metrics, the bus, the inventory). */
export interface CorrelatorSink {
  started(op: McpOperation): void;
  /** An operation ended; `outcome` also carries its semantic-convention attributes. */
  ended(op: McpOperation, outcome: Outcome): void;
  sessionEnded(end: SessionEnd): void;
  dropped(reason: DropReason): void;
  /** A response that no pending request waited for. */
  unmatched(): void;
  /** `n` messages (or bodies, or events) could not be read, for `reason`. */
  unparsed(reason: UnparsedReason, n: number): void;
  /** A list request of `session` was answered with `page`; `cursor` is the request's (listing.ts). */
  listed(session: string, cursor: string | false | undefined, page: ListPage, at: number): void;
  /** An `initialize` request was answered. */
  initialized(server: ServerIdentity): void;
  /** A legacy stream announced where to POST (its `endpoint` event's data): an MCP route from now on. */
  endpoint(data: string): void;
  /** The server told a client that its list of `kind` changed (`notifications/tools/list_changed`, …). */
  listChanged(kind: ListKind): void;
  /** A response to one of the sidecar's own requests reached a client (the upstream broadcasts). */
  ownResponse(): void;
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

/** The request head of an MCP exchange, as the correlator needs it. */
export interface RequestHead {
  readonly route: McpRoute;
  /** The exchange that carries it: its id, method and start time (operations keep it as `requestExchange`). */
  readonly exchange: Exchange;
  /** The session id the request names (legacy: its URL's `session_id`; streamable: `Mcp-Session-Id`), bounded. */
  readonly sessionId: string | undefined;
  /** The `Mcp-Protocol-Version` header (streamable HTTP), bounded. */
  readonly protocolVersion: string | undefined;
}

/** An exchange the correlator follows, as its caller sees it: read-only. */
export interface Flow {
  readonly route: McpRoute;
  /** Its request body carries JSON-RPC messages to read (a POST). */
  readonly readsBody: boolean;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** A response read before the request it may answer (that request's body was not read yet). */
export interface Deferred {
  readonly msg: ResponseMessage;
  readonly at: number;
}

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
  /** POSTs in flight on this session whose bodies are not read yet. */
  unread = 0;
  /** Responses waiting for those bodies (a response may overtake the read of its request's body). */
  deferred: Deferred[] | undefined = undefined;

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

/** One exchange the correlator follows: what it carries and what it learned. */
export class FlowState implements Flow {
  readonly route: McpRoute;
  readonly readsBody: boolean;
  readonly exchange: Exchange;
  /** The request named a session (URL or header), whether or not the sidecar knows it. */
  readonly named: boolean;
  readonly protocolVersion: string | undefined;
  session: Session | undefined = undefined;
  /** This exchange keeps its session busy (not idle) until it ends. */
  busy = false;
  /** Its request body is still to be read. */
  awaitingBody: boolean;
  /** Messages read before the session was known (a streamable POST without a session header). */
  held: McpMessage[] | undefined = undefined;
  /** The requests it carried that are tracked. */
  readonly registered: Pending[] = [];
  /** An answer applied to the whole exchange (an id-null JSON-RPC error). */
  settledAll = false;
  ended = false;

  constructor(head: RequestHead, readsBody: boolean) {
    this.route = head.route;
    this.exchange = head.exchange;
    this.named = head.sessionId !== undefined;
    this.protocolVersion = head.protocolVersion;
    this.readsBody = readsBody;
    this.awaitingBody = readsBody;
  }
}
