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
import { MAX_NAME_LENGTH, MAX_URI_LENGTH } from '../ledger/name-bounds.ts';
import { resourceUriLabel } from '../ledger/uri.ts';
import { MAX_ID_LENGTH, MAX_TRACESTATE, MAX_VERSION_LENGTH, TRACEPARENT, type JsonRpcId, type McpMessage, type ParsedMessages, type RequestMessage } from './jsonrpc.ts';
import {
  K_CODE, K_CONTENT, K_ERROR, K_ID, K_IS_ERROR, K_JSONRPC, K_LIST, K_META, K_METHOD, K_NAME, K_PARAMS, K_PROTOCOL_VERSION,
  K_REQUEST_ID, K_RESULT, K_TEXT, K_TRACEPARENT, K_TRACESTATE, K_URI, keyId, wellKnown,
} from './envelope-keys.ts';
import { JsonCursor, LBRACE, LBRACKET, T_NUMBER, T_NULL, T_STRING, T_TRUE } from './json-scan.ts';
import { isTraceparent } from './json-span.ts';
import { looksLikeUnknownTool, UNKNOWN_TOOL_SCAN_CHARS, type ResponseInfo } from './outcome.ts';

/**
 * Why the scanner left a body to the full parser:
 * - `duplicate_key`: a key it reads appears twice in one object;
 * - `depth`: a skipped value nests deeper than 512;
 * - `list_result`: a result with `tools`, `prompts`, `resources`, `resourceTemplates` or `nextCursor`;
 * - `long_value`: a resource URI over 4096 characters, or a kept number over 64 characters;
 * - `replacement_char`: a kept string of a text source with a lone surrogate decodes to U+FFFD;
 * - `internal`: the scanner itself failed (a defect; never expected).
 */
export type ScanFallbackReason = 'duplicate_key' | 'depth' | 'list_result' | 'long_value' | 'replacement_char' | 'internal';

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
/** Longest number token (an id, a code) converted; a longer one falls back. */
const MAX_NUMBER_TEXT = 64;

const MESSAGE_KEYS = (1 << K_JSONRPC) | (1 << K_ID) | (1 << K_METHOD) | (1 << K_PARAMS) | (1 << K_RESULT) | (1 << K_ERROR);
const PARAMS_KEYS = (1 << K_NAME) | (1 << K_URI) | (1 << K_REQUEST_ID) | (1 << K_META);
const META_KEYS = (1 << K_TRACEPARENT) | (1 << K_TRACESTATE);
const RESULT_KEYS = (1 << K_IS_ERROR) | (1 << K_PROTOCOL_VERSION) | (1 << K_CONTENT) | (1 << K_LIST);
const ERROR_KEYS = 1 << K_CODE;
const ITEM_KEYS = 1 << K_TEXT;
const VERSION_2_0 = Buffer.from('2.0', 'latin1');

const NOT_JSON: ParsedMessages = { messages: [], invalid: 1, problem: 'not_json', batch: false };
const NOT_JSONRPC: ParsedMessages = { messages: [], invalid: 1, problem: 'not_jsonrpc', batch: false };

/** A UTF-16 code unit that is half of no pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One document's scan; the fields of the message being read are reset per message. */
class EnvelopeScan extends JsonCursor {
  /** The text the bytes were encoded from, if any. */
  source: string | undefined = undefined;
  /** Whether {@link source} has a lone surrogate (looked at only when a kept string meets U+FFFD). */
  lone: boolean | undefined = undefined;
  fallback: ScanFallbackReason | undefined = undefined;

  // The message being read.
  jsonrpcOk = false;
  method: string | undefined = undefined;
  hasId = false;
  /** The id when it is valid (a finite number, a string of at most 256 units) or null; else undefined. */
  id: JsonRpcId | null | undefined = undefined;
  paramsObject = false;
  name: string | undefined = undefined;
  uri0 = -1;
  uri1 = -1;
  requestId: JsonRpcId | undefined = undefined;
  traceparent: string | undefined = undefined;
  tracestate: string | undefined = undefined;
  hasResult = false;
  resultObject = false;
  isError = false;
  protocolVersion: string | undefined = undefined;
  text0 = -1;
  text1 = -1;
  hasError = false;
  errorObject = false;
  code: number | undefined = undefined;

  start(b: Buffer, source: string | undefined): void {
    this.reset(b);
    this.source = source;
    this.lone = undefined;
    this.fallback = undefined;
  }

  #clearMessage(): void {
    this.jsonrpcOk = false;
    this.method = undefined;
    this.hasId = false;
    this.id = undefined;
    this.paramsObject = false;
    this.name = undefined;
    this.uri0 = -1;
    this.requestId = undefined;
    this.traceparent = undefined;
    this.tracestate = undefined;
    this.hasResult = false;
    this.resultObject = false;
    this.isError = false;
    this.protocolVersion = undefined;
    this.text0 = -1;
    this.hasError = false;
    this.errorObject = false;
    this.code = undefined;
  }

  /** Leaves the body to the full parser. */
  giveUp(reason: ScanFallbackReason): void {
    if (this.fallback === undefined) this.fallback = reason;
    this.i = this.n;
  }

  get stopped(): boolean {
    return this.bad || this.deep || this.fallback !== undefined;
  }

  /**
   * Reads a member name and its colon: the name's key id when it is one of `read`, else -1 (the caller
   * skips the value). `seen` holds the ids read so far in this object; a repeated one gives up.
   */
  memberKey(read: number, seen: number): number {
    if (!this.memberName()) return -1;
    const k = keyId(this.b, this.s0, this.s1);
    if (k < 0 || ((read >> k) & 1) === 0) return -1;
    if (((seen >> k) & 1) === 1) {
      this.giveUp('duplicate_key');
      return -1;
    }
    return k;
  }

  /** The last string, decoded up to `max` units, where it is kept as it is (a label, an id). */
  verbatim(max: number): string {
    const known = wellKnown(this.b, this.s0, this.s1);
    if (known !== undefined) return known.length > max ? known.slice(0, max) : known;
    const s = this.prefix(max);
    // A text source was encoded to UTF-8 first, which turns a lone surrogate into U+FFFD: a kept U+FFFD
    // may have been one, unless the text has none.
    if (this.source !== undefined && s.includes('\uFFFD')) {
      this.lone ??= LONE_SURROGATE.test(this.source);
      if (this.lone) this.giveUp('replacement_char');
    }
    return s;
  }

  /** An id-like value at the cursor: the valid id, null, or undefined (anything else). */
  idValue(): JsonRpcId | null | undefined {
    const t = this.scalar();
    if (t === T_STRING) {
      const s = this.verbatim(MAX_ID_LENGTH + 1);
      return s.length <= MAX_ID_LENGTH ? s : undefined;
    }
    if (t === T_NUMBER) {
      const v = this.number(MAX_NUMBER_TEXT);
      if (v === undefined) this.giveUp('long_value');
      return v !== undefined && Number.isFinite(v) ? v : undefined;
    }
    return t === T_NULL ? null : undefined;
  }

  /** One message object (the cursor at its `{`): the message, or undefined when it is not one. */
  message(): McpMessage | undefined {
    this.#clearMessage();
    if (this.objectStart()) {
      let seen = 0;
      do {
        const k = this.memberKey(MESSAGE_KEYS, seen);
        if (k < 0) {
          this.skip();
          continue;
        }
        seen |= 1 << k;
        if (k === K_JSONRPC) this.jsonrpcOk = this.scalar() === T_STRING && (this.is(VERSION_2_0) || (this.s1 - this.s0 <= 18 && this.prefix(4) === '2.0'));
        else if (k === K_METHOD) this.method = this.scalar() === T_STRING ? this.verbatim(MAX_NAME_LENGTH + 1) : undefined;
        else if (k === K_ID) {
          this.hasId = true;
          this.id = this.idValue();
        } else if (k === K_PARAMS) {
          if (this.peek() === LBRACE) {
            this.paramsObject = true;
            this.#params();
          } else this.skip();
        } else if (k === K_RESULT) {
          this.hasResult = true;
          if (this.peek() === LBRACE) {
            this.resultObject = true;
            this.#result();
          } else this.skip();
        } else {
          this.hasError = true;
          if (this.peek() === LBRACE) {
            this.errorObject = true;
            this.#error();
          } else this.skip();
        }
      } while (this.memberEnd());
    }
    return this.stopped ? undefined : this.classify();
  }

  #params(): void {
    if (!this.objectStart()) return;
    let seen = 0;
    do {
      const k = this.memberKey(PARAMS_KEYS, seen);
      if (k < 0) {
        this.skip();
        continue;
      }
      seen |= 1 << k;
      if (k === K_NAME) this.name = this.scalar() === T_STRING ? this.verbatim(MAX_NAME_LENGTH + 1) : undefined;
      else if (k === K_URI) {
        this.uri0 = this.scalar() === T_STRING ? this.s0 : -1;
        this.uri1 = this.s1;
      } else if (k === K_REQUEST_ID) {
        const id = this.idValue();
        this.requestId = id === null ? undefined : id;
      } else if (this.peek() === LBRACE) this.#meta();
      else this.skip();
    } while (this.memberEnd());
  }

  #meta(): void {
    if (!this.objectStart()) return;
    let seen = 0;
    do {
      const k = this.memberKey(META_KEYS, seen);
      if (k < 0) {
        this.skip();
        continue;
      }
      seen |= 1 << k;
      const str = this.scalar() === T_STRING;
      if (k === K_TRACEPARENT) {
        if (!str) this.traceparent = undefined;
        else if (isTraceparent(this.b, this.s0, this.s1)) this.traceparent = this.b.toString('latin1', this.s0, this.s1);
        else {
          // Spelled with escapes, perhaps: judged on its decoding.
          const tp = this.s1 - this.s0 <= 6 * 55 ? this.prefix(56) : undefined;
          this.traceparent = tp !== undefined && TRACEPARENT.test(tp) ? tp : undefined;
        }
      } else {
        const ts = str ? this.verbatim(MAX_TRACESTATE + 1) : undefined;
        this.tracestate = ts !== undefined && ts.length <= MAX_TRACESTATE ? ts : undefined;
      }
    } while (this.memberEnd());
  }

  #result(): void {
    if (!this.objectStart()) return;
    let seen = 0;
    do {
      const k = this.memberKey(RESULT_KEYS, seen);
      if (k < 0) {
        this.skip();
        continue;
      }
      seen |= 1 << k;
      if (k === K_IS_ERROR) this.isError = this.scalar() === T_TRUE;
      else if (k === K_PROTOCOL_VERSION) {
        const v = this.scalar() === T_STRING ? this.verbatim(MAX_VERSION_LENGTH + 1) : undefined;
        this.protocolVersion = v !== undefined && v.length <= MAX_VERSION_LENGTH ? v : undefined;
      } else if (k === K_CONTENT) {
        if (this.peek() === LBRACKET) this.#content();
        else this.skip();
      } else this.giveUp('list_result');
    } while (this.memberEnd());
  }

  /** `result.content`: the first string `text` of its first four items (looksLikeUnknownTool's input). */
  #content(): void {
    if (!this.arrayStart()) return;
    let index = 0;
    do {
      if (index < 4 && this.text0 < 0 && this.peek() === LBRACE) this.#item();
      else this.skip();
      index++;
    } while (this.elementEnd());
  }

  #item(): void {
    if (!this.objectStart()) return;
    let seen = 0;
    do {
      const k = this.memberKey(ITEM_KEYS, seen);
      if (k < 0) {
        this.skip();
        continue;
      }
      seen |= 1 << k;
      if (this.scalar() === T_STRING) {
        this.text0 = this.s0;
        this.text1 = this.s1;
      }
    } while (this.memberEnd());
  }

  #error(): void {
    if (!this.objectStart()) return;
    let seen = 0;
    do {
      const k = this.memberKey(ERROR_KEYS, seen);
      if (k < 0) {
        this.skip();
        continue;
      }
      seen |= 1 << k;
      if (this.scalar() !== T_NUMBER) continue;
      const v = this.number(MAX_NUMBER_TEXT);
      if (v === undefined) this.giveUp('long_value');
      this.code = v !== undefined && Number.isInteger(v) ? v : undefined;
    } while (this.memberEnd());
  }

  /** Decodes the string span `[s0, s1)` recorded earlier, up to `max` units. */
  spanPrefix(s0: number, s1: number, max: number, verbatim: boolean): string {
    this.s0 = s0;
    this.s1 = s1;
    return verbatim ? this.verbatim(max) : this.prefix(max);
  }

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
    return version === undefined ? { kind: 'result', isError: this.isError, unknownTool } : { kind: 'result', isError: this.isError, unknownTool, protocolVersion: version };
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
          const m = this.peek() === LBRACE ? this.message() : (this.skip(), undefined);
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
