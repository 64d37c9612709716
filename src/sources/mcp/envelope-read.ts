/**
 * The reading half of the envelope scanner (envelope-scan.ts): walks one document's messages object by
 * object with the cursor of json-scan.ts, reading the fields jsonrpc.ts keeps into plain fields and
 * skipping every other value. Its subclass classifies what was read. Pure; never throws.
 */
import { MAX_NAME_LENGTH } from '../../ledger/name-bounds.ts';
import {
  K_CODE,
  K_CONTENT,
  K_CURSOR,
  K_ERROR,
  K_ID,
  K_IS_ERROR,
  K_JSONRPC,
  K_LIST,
  K_META,
  K_METHOD,
  K_NAME,
  K_PARAMS,
  K_PROTOCOL_VERSION,
  K_REQUEST_ID,
  K_RESULT,
  K_TEXT,
  K_TRACEPARENT,
  K_TRACESTATE,
  K_URI,
  keyId,
  wellKnown,
} from './envelope-keys.ts';
import { JsonCursor, LBRACE, LBRACKET, T_NUMBER, T_NULL, T_STRING, T_TRUE } from './json-scan.ts';
import { isTraceparent } from './json-span.ts';
import { MAX_ID_LENGTH, MAX_TRACESTATE, MAX_VERSION_LENGTH, TRACEPARENT, type JsonRpcId, type McpMessage } from './jsonrpc.ts';

/**
 * Why the scanner left a body to the full parser:
 * - `duplicate_key`: a key it reads appears twice in one object;
 * - `depth`: a skipped value nests deeper than 512;
 * - `list_result`: what the inventory reads — a result with `tools`, `prompts`, `resources`,
 *   `resourceTemplates`, `nextCursor` or `serverInfo`, or a request whose `params` has a `cursor`;
 * - `long_value`: a resource URI over 4096 characters, or a kept number over 64 characters;
 * - `replacement_char`: a kept string of a text source with a lone surrogate decodes to U+FFFD;
 * - `internal`: the scanner itself failed (a defect; never expected).
 */
export type ScanFallbackReason = 'duplicate_key' | 'depth' | 'list_result' | 'long_value' | 'replacement_char' | 'internal';

/** Longest number token (an id, a code) converted; a longer one falls back. */
const MAX_NUMBER_TEXT = 64;

const MESSAGE_KEYS = (1 << K_JSONRPC) | (1 << K_ID) | (1 << K_METHOD) | (1 << K_PARAMS) | (1 << K_RESULT) | (1 << K_ERROR);
const PARAMS_KEYS = (1 << K_NAME) | (1 << K_URI) | (1 << K_REQUEST_ID) | (1 << K_META) | (1 << K_CURSOR);
const META_KEYS = (1 << K_TRACEPARENT) | (1 << K_TRACESTATE);
const RESULT_KEYS = (1 << K_IS_ERROR) | (1 << K_PROTOCOL_VERSION) | (1 << K_CONTENT) | (1 << K_LIST);
const ERROR_KEYS = 1 << K_CODE;
const ITEM_KEYS = 1 << K_TEXT;
const VERSION_2_0 = Buffer.from('2.0', 'latin1');

/** A UTF-16 code unit that is half of no pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One document's reading; the fields of the message being read are reset per message. */
export abstract class EnvelopeReader extends JsonCursor {
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
      } else if (k === K_CURSOR) this.giveUp('list_result');
      else if (this.peek() === LBRACE) this.#meta();
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

  /** The message just read, as classifyMessage (jsonrpc.ts) would classify it. */
  abstract classify(): McpMessage | undefined;
}
