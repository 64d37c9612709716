/**
 * Reads the JSON-RPC envelope of a body or an SSE event's data straight from its UTF-8 bytes: the fields
 * jsonrpc.ts keeps, and nothing else. Pure; never throws. Its answer is the `ParsedMessages` that
 * `parseMessages(bytes.toString('utf8'))` returns — or a {@link ScanFallback} where it cannot decide
 * cheaply, and the caller then runs that full parser (and counts the fallback).
 *
 * What it reads, per message (the top level, or each member of a batch): `jsonrpc`, `id`, `method`; in
 * `params`: `name`, `uri`, `requestId`, `_meta.traceparent`, `_meta.tracestate`; in `result`: `isError`,
 * `protocolVersion` and the first string `text` of the first four `content` items (the unknown-tool
 * heuristic's input, decoded — its first 300 characters — only when `isError` is true); in `error`:
 * `code`. Every other value — arguments, nested results, large tool outputs — is validated byte by byte
 * and skipped (json-scan.ts): no object built, no string decoded. Kept strings are decoded bounded, as
 * jsonrpc.ts bounds them (json-span.ts).
 *
 * It falls back (see {@link ScanFallbackReason}) on a name it reads given twice in one object (JSON.parse
 * keeps the last; rare enough not to replicate), a value nested deeper than 512, a list result (the
 * inventory reads its items), a resource URI or a kept number too long to judge within bounds, a kept
 * string of a text source that had a lone surrogate, and on any internal error. Invalid JSON is refused
 * (`problem: 'not_json'`) exactly where JSON.parse refuses it. test/fuzz/targets-scan.ts holds it to
 * parseMessages as the oracle.
 */
import { MAX_URI_LENGTH } from '../../ledger/name-bounds.ts';
import { resourceUriLabel } from '../../ledger/uri.ts';
import { EnvelopeReader, type ScanFallbackReason } from './envelope-read.ts';
import type { JsonRpcId, McpMessage, ParsedMessages, RequestMessage } from './jsonrpc.ts';
import { LBRACE, LBRACKET } from './json-scan.ts';
import { looksLikeUnknownTool, UNKNOWN_TOOL_SCAN_CHARS, type ResponseInfo } from './outcome.ts';

export type { ScanFallbackReason };

export interface ScanFallback {
  readonly fallback: ScanFallbackReason;
}

const FALLBACKS: { readonly [R in ScanFallbackReason]: ScanFallback } = {
  duplicate_key: { fallback: 'duplicate_key' },
  depth: { fallback: 'depth' },
  list_result: { fallback: 'list_result' },
  long_value: { fallback: 'long_value' },
  replacement_char: { fallback: 'replacement_char' },
  internal: { fallback: 'internal' },
};

export function isScanFallback(r: ParsedMessages | ScanFallback): r is ScanFallback {
  return 'fallback' in r;
}

/** Longest resource URI decoded to take its label; a longer one falls back. */
const MAX_SCANNED_URI = 4096;

const NOT_JSON: ParsedMessages = { messages: [], invalid: 1, problem: 'not_json', batch: false };
const NOT_JSONRPC: ParsedMessages = { messages: [], invalid: 1, problem: 'not_jsonrpc', batch: false };

/** A document's scan: the reader's fields classified as jsonrpc.ts classifies messages, and the batch around them. */
class EnvelopeScan extends EnvelopeReader {
  /** The message, as classifyMessage (jsonrpc.ts) would classify it. */
  classify(): McpMessage | undefined {
    if (!this.jsonrpcOk) return undefined;
    const method = this.method;
    if (method !== undefined) {
      if (!this.hasId) {
        if (method === 'notifications/cancelled' && this.requestId !== undefined) return { kind: 'notification', method, cancelledId: this.requestId };
        return { kind: 'notification', method };
      }
      return this.id === undefined || this.id === null ? undefined : this.request(this.id, method);
    }
    if (!this.hasId || this.id === undefined) return undefined;
    const info = this.responseInfo();
    return info === undefined ? undefined : { kind: 'response', id: this.id, response: info };
  }

  request(id: JsonRpcId, method: string): RequestMessage {
    const out: { -readonly [K in keyof RequestMessage]: RequestMessage[K] } = { kind: 'request', id, method };
    if (!this.paramsObject) return out;
    if (method === 'tools/call') {
      if (this.name !== undefined) out.toolName = this.name;
    } else if (method === 'prompts/get') {
      if (this.name !== undefined) out.promptName = this.name;
    } else if (method === 'resources/read' && this.uri0 >= 0) {
      const uri = this.spanPrefix(this.uri0, this.uri1, MAX_SCANNED_URI + 1, true);
      if (uri.length > MAX_SCANNED_URI) this.giveUp('long_value');
      out.resourceUri = resourceUriLabel(uri, MAX_URI_LENGTH);
    }
    if (this.traceparent !== undefined) out.traceparent = this.traceparent;
    if (this.tracestate !== undefined) out.tracestate = this.tracestate;
    return out;
  }

  responseInfo(): ResponseInfo | undefined {
    if (this.hasError) return this.errorObject ? { kind: 'error', code: this.code } : undefined;
    if (!this.hasResult) return undefined;
    if (!this.resultObject) return { kind: 'result', isError: false, unknownTool: false };
    let unknownTool = false;
    if (this.isError && this.text0 >= 0) {
      const text = this.spanPrefix(this.text0, this.text1, UNKNOWN_TOOL_SCAN_CHARS, false);
      unknownTool = looksLikeUnknownTool({ content: [{ text }] });
    }
    const version = this.protocolVersion;
    return version === undefined
      ? { kind: 'result', isError: this.isError, unknownTool }
      : { kind: 'result', isError: this.isError, unknownTool, protocolVersion: version };
  }

  /** The whole document. */
  document(): ParsedMessages | ScanFallback {
    const c = this.peek();
    let out: ParsedMessages;
    if (c === LBRACKET) {
      const messages: McpMessage[] = [];
      let invalid = 0;
      if (this.arrayStart()) {
        do {
          let m: McpMessage | undefined;
          if (this.peek() === LBRACE) m = this.message();
          else this.skip();
          if (m === undefined) invalid++;
          else messages.push(m);
        } while (!this.stopped && this.elementEnd());
      } else invalid = 1;
      out = messages.length === 0 ? { messages, invalid, problem: 'not_jsonrpc', batch: true } : { messages, invalid, batch: true };
    } else if (c === LBRACE) {
      const m = this.message();
      out = m === undefined ? NOT_JSONRPC : { messages: [m], invalid: 0, batch: false };
    } else {
      this.skip();
      out = NOT_JSONRPC;
    }
    if (this.fallback !== undefined) return FALLBACKS[this.fallback];
    if (this.deep) return FALLBACKS.depth;
    if (!this.bad && this.peek() !== -1) this.fail();
    return this.bad ? NOT_JSON : out;
  }
}

/** One scanner, reused: a scan runs to its end without calling out, so no two ever overlap. */
const EMPTY = Buffer.alloc(0);
const SCAN = new EnvelopeScan(EMPTY);

/**
 * Reads a body (bytes) or an SSE event's data (text) as one JSON-RPC message or a batch, from its bytes;
 * the same answer as `parseMessages(text)` (for bytes: of `bytes.toString('utf8')`), or a fallback.
 * Text is encoded to UTF-8 first. Never throws.
 */
export function scanMessages(body: Uint8Array | string): ParsedMessages | ScanFallback {
  try {
    if (typeof body === 'string') SCAN.start(Buffer.from(body, 'utf8'), body);
    else SCAN.start(Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength), undefined);
    return SCAN.document();
  } catch {
    return FALLBACKS.internal;
  } finally {
    // Holds no body between scans.
    SCAN.start(EMPTY, undefined);
  }
}
