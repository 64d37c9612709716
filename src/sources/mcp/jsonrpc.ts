/**
 * JSON-RPC 2.0 messages as MCP carries them, read just enough to count and correlate them. Pure, and it
 * never throws: any text in, a classification out.
 *
 * What is kept of a message: its kind, id and method; for the methods the sidecar labels by, the names it
 * labels with (`tools/call` and `prompts/get` → `params.name`, `resources/read` → `params.uri` without
 * query or fragment); W3C trace context from `params._meta`; the `requestId` of `notifications/cancelled`;
 * the `cursor` of a list request; and what {@link ResponseInfo} says of a response — of a list result only
 * its item count, bounded names and URIs and `nextCursor`, of an `initialize` result only the server's
 * name and capability kinds (listing.ts). Arguments, descriptions, other results and error messages are
 * never kept.
 */
import { cutPast, MAX_NAME_LENGTH, MAX_URI_LENGTH } from '../../ledger/name-bounds.ts';
import { resourceUriLabel } from '../../ledger/uri.ts';
import { cursorOf, LIST_METHODS, listPageOf, serverIdentityOf } from './listing.ts';
import { looksLikeUnknownTool, type ResponseInfo } from './outcome.ts';

export type JsonRpcId = string | number;

export interface RequestMessage {
  readonly kind: 'request';
  readonly id: JsonRpcId;
  readonly method: string;
  /** `params.name` of `tools/call`. */
  readonly toolName?: string;
  /** `params.name` of `prompts/get`. */
  readonly promptName?: string;
  /** `params.uri` of `resources/read`, without query string or fragment. */
  readonly resourceUri?: string;
  /** `params.cursor` of `tools/list`, `prompts/list`, `resources/list`; `false` when unusable (listing.ts). */
  readonly cursor?: string | false;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface NotificationMessage {
  readonly kind: 'notification';
  readonly method: string;
  /** `params.requestId` of `notifications/cancelled`. */
  readonly cancelledId?: JsonRpcId;
}

export interface ResponseMessage {
  readonly kind: 'response';
  /** `null` when the peer could not tell which request failed (e.g. a parse error). */
  readonly id: JsonRpcId | null;
  readonly response: ResponseInfo;
}

export type McpMessage = RequestMessage | NotificationMessage | ResponseMessage;

/** Why a body or event could not be read as MCP messages. */
export type ParseProblem = 'not_json' | 'not_jsonrpc';

export interface ParsedMessages {
  readonly messages: McpMessage[];
  /** Elements that are not JSON-RPC messages (the whole body, or members of a batch). */
  readonly invalid: number;
  /** Set when nothing could be read: the body is not JSON, or not JSON-RPC at all. */
  readonly problem?: ParseProblem;
  /** The body was a JSON array (a batch). */
  readonly batch: boolean;
}

/**
 * Longest name (tool, prompt, method) and URI kept as they are; a longer one is cut to one character past
 * its bound, which its label folds into `__other__` as too long (ledger/name-bounds.ts).
 */
export { MAX_NAME_LENGTH, MAX_URI_LENGTH };

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_TRACESTATE = 512;
const MAX_ID_LENGTH = 256;
const MAX_VERSION_LENGTH = 32;
/** The bounds above, shared with the envelope scanner (envelope-scan.ts), which must judge exactly alike. */
export { MAX_ID_LENGTH, MAX_TRACESTATE, MAX_VERSION_LENGTH, TRACEPARENT };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function bounded(v: unknown, max: number): string | undefined {
  return typeof v === 'string' ? cutPast(v, max) : undefined;
}

function validId(v: unknown): v is JsonRpcId {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= MAX_ID_LENGTH);
}

/** A resource URI without its query string, fragment and credentials, bounded (ledger/uri.ts). */
export function resourceUriOf(uri: unknown): string | undefined {
  return typeof uri === 'string' ? resourceUriLabel(uri, MAX_URI_LENGTH) : undefined;
}

function request(id: JsonRpcId, method: string, params: unknown): RequestMessage {
  const out: { -readonly [K in keyof RequestMessage]: RequestMessage[K] } = { kind: 'request', id, method };
  if (!isObject(params)) return out;
  if (method === 'tools/call') {
    const name = bounded(params['name'], MAX_NAME_LENGTH);
    if (name !== undefined) out.toolName = name;
  } else if (method === 'prompts/get') {
    const name = bounded(params['name'], MAX_NAME_LENGTH);
    if (name !== undefined) out.promptName = name;
  } else if (method === 'resources/read') {
    const uri = resourceUriOf(params['uri']);
    if (uri !== undefined) out.resourceUri = uri;
  } else if (LIST_METHODS.has(method)) {
    const cursor = cursorOf(params);
    if (cursor !== undefined) out.cursor = cursor;
  }
  const meta = params['_meta'];
  if (isObject(meta)) {
    const tp = meta['traceparent'];
    if (typeof tp === 'string' && TRACEPARENT.test(tp)) out.traceparent = tp;
    const ts = meta['tracestate'];
    if (typeof ts === 'string' && ts.length <= MAX_TRACESTATE) out.tracestate = ts;
  }
  return out;
}

function responseInfo(msg: Record<string, unknown>): ResponseInfo | undefined {
  if ('error' in msg) {
    const error = msg['error'];
    if (!isObject(error)) return undefined;
    const code = error['code'];
    return { kind: 'error', code: typeof code === 'number' && Number.isInteger(code) ? code : undefined };
  }
  if (!('result' in msg)) return undefined;
  const result = msg['result'];
  if (!isObject(result)) return { kind: 'result', isError: false, unknownTool: false };
  const isError = result['isError'] === true;
  const version = result['protocolVersion'];
  const protocolVersion = typeof version === 'string' && version.length <= MAX_VERSION_LENGTH ? version : undefined;
  const server = protocolVersion === undefined ? undefined : serverIdentityOf(result);
  const listPage = listPageOf(result);
  return {
    kind: 'result',
    isError,
    unknownTool: isError && looksLikeUnknownTool(result),
    ...(protocolVersion === undefined ? {} : { protocolVersion }),
    ...(server === undefined ? {} : { server }),
    ...(listPage === undefined ? {} : { listPage }),
  };
}

/** Classifies one decoded JSON value as a JSON-RPC message, or `undefined` if it is not one. */
export function classifyMessage(value: unknown): McpMessage | undefined {
  if (!isObject(value) || value['jsonrpc'] !== '2.0') return undefined;
  const method = value['method'];
  if (typeof method === 'string') {
    const name = cutPast(method, MAX_NAME_LENGTH);
    if (!('id' in value)) {
      if (name === 'notifications/cancelled') {
        const params = value['params'];
        const rid = isObject(params) ? params['requestId'] : undefined;
        return validId(rid) ? { kind: 'notification', method: name, cancelledId: rid } : { kind: 'notification', method: name };
      }
      return { kind: 'notification', method: name };
    }
    const id = value['id'];
    return validId(id) ? request(id, name, value['params']) : undefined;
  }
  const id = value['id'];
  if (id !== null && !validId(id)) return undefined;
  const info = responseInfo(value);
  return info === undefined ? undefined : { kind: 'response', id: id as JsonRpcId | null, response: info };
}

const NOT_JSON: ParsedMessages = { messages: [], invalid: 1, problem: 'not_json', batch: false };
const NOT_JSONRPC: ParsedMessages = { messages: [], invalid: 1, problem: 'not_jsonrpc', batch: false };

/** Reads a body or SSE event data as one JSON-RPC message or a batch. Never throws. */
export function parseMessages(text: string): ParsedMessages {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
  if (!Array.isArray(value)) {
    const msg = classifyMessage(value);
    return msg === undefined ? NOT_JSONRPC : { messages: [msg], invalid: 0, batch: false };
  }
  if (value.length === 0) return { ...NOT_JSONRPC, batch: true };
  const messages: McpMessage[] = [];
  let invalid = 0;
  for (const element of value as unknown[]) {
    const msg = classifyMessage(element);
    if (msg === undefined) invalid++;
    else messages.push(msg);
  }
  return messages.length === 0 ? { messages, invalid, problem: 'not_jsonrpc', batch: true } : { messages, invalid, batch: true };
}

/** Map key of a JSON-RPC id: the number 1 and the string "1" are different ids. */
export function idKey(id: JsonRpcId): string {
  return typeof id === 'number' ? `n${id}` : `s${id}`;
}
