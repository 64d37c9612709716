/**
 * The byte level of the envelope scanner (envelope-scan.ts): a cursor over the UTF-8 bytes of one JSON
 * document that validates every byte it passes and builds nothing for what it skips. Pure; never throws.
 *
 * It accepts exactly what `JSON.parse(bytes.toString('utf8'))` accepts:
 *
 * - the JSON grammar (RFC 8259): whitespace is space, tab, LF and CR only (a leading BOM is refused, as
 *   JSON.parse refuses U+FEFF); numbers `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`; the eight escapes and
 *   `\uXXXX`; no raw control character (U+0000–U+001F) inside a string;
 * - UTF-8 the way `toString('utf8')` decodes it: an invalid sequence becomes U+FFFD, which is a valid
 *   character inside a string and invalid anywhere else, and it never swallows an ASCII byte. So a byte
 *   ≥ 0x80 is accepted inside a string without decoding it, and refused outside one.
 *
 * A string is only delimited while it is read (its span, `s0`–`s1`); the few the envelope keeps are
 * decoded from their span by json-span.ts, bounded.
 *
 * Errors do not throw: the cursor records them (`bad`), jumps to the end, and every loop over it ends.
 */

import { runEnd, WordView } from './json-run.ts';
import { releaseWasmSkip, wasmSkipFits, wasmSkipValue, wasmStringEnd } from './json-skip.ts';
import { BACKSLASH, BAD, ESCAPED, HEX, numberAt, QUOTE, skipBare, skipWs, spelled, stringPrefix } from './json-span.ts';

/** `#skipValue` went deeper than {@link MAX_SKIP_DEPTH} (JSON.parse would not refuse; the caller falls back). */
const TOO_DEEP = -2;

/** Deepest nesting skipped inside one read field (JSON.parse itself has no limit). */
export const MAX_SKIP_DEPTH = 512;

export { QUOTE };
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** Containers open in `#skipValue`: 1 an object, 2 an array. Shared: a skip never calls out. */
const STACK = new Uint8Array(MAX_SKIP_DEPTH + 1);

/**
 * Ordinary bytes of a string scanned one by one before its scan goes four bytes at a time (at about a
 * third of the cost per byte, once the word view is made and aligned). Switching after 16 bytes made the
 * 305-byte tools/call request slower; after 128, short strings stay on the plain loop.
 */
const BYTEWISE = 128;

/** What {@link JsonCursor.scalar} found. */
export const T_BAD = 0;
export const T_STRING = 1;
export const T_NUMBER = 2;
export const T_TRUE = 3;
export const T_FALSE = 4;
export const T_NULL = 5;
export const T_CONTAINER = 6;

/**
 * A position in one document, with the span of the last string or number read. Syntax errors set `bad`
 * and move to the end; a value too deep to skip sets `deep` the same way.
 */
export class JsonCursor {
  b: Buffer;
  n: number;
  i = 0;
  bad = false;
  deep = false;
  /** The last string's content (between its quotes) or the last number, as byte offsets. */
  s0 = 0;
  s1 = 0;
  /** The document as 32-bit words (json-run.ts); made when a long string needs it. */
  #words: WordView | undefined = undefined;
  /** Whether {@link skip} and {@link string} may use the WebAssembly skips (json-skip.ts). */
  readonly #mayWasm: boolean;
  /** They do for this document. */
  #wasm: boolean;

  /**
   * @param b the document
   * @param wasm whether a document of json-skip.ts's `WASM_SKIP_MIN_BYTES` or more is skipped by the WebAssembly
   *   module (json-skip.ts) rather than by this class's own loops; the answers are the same.
   *   @default true
   */
  constructor(b: Buffer, wasm = true) {
    this.b = b;
    this.n = b.length;
    this.#mayWasm = wasm;
    this.#wasm = wasm && wasmSkipFits(b.length);
  }

  /** Starts over on another document. */
  reset(b: Buffer): void {
    this.b = b;
    this.n = b.length;
    this.i = 0;
    this.bad = false;
    this.deep = false;
    this.#words = undefined;
    releaseWasmSkip(this);
    this.#wasm = this.#mayWasm && wasmSkipFits(b.length);
  }

  fail(): void {
    this.bad = true;
    this.i = this.n;
  }

  /** `b[i]` is a backslash: the index past its escape, or {@link BAD}. */
  #escape(i: number): number {
    const b = this.b;
    if (i + 1 >= this.n) return BAD;
    const e = b[i + 1] ?? 0;
    if (e !== 0x75) return ESCAPED[e] === 0 ? BAD : i + 2;
    if (i + 6 > this.n) return BAD;
    return (HEX[b[i + 2] ?? 0] ?? -1) < 0 || (HEX[b[i + 3] ?? 0] ?? -1) < 0 || (HEX[b[i + 4] ?? 0] ?? -1) < 0 || (HEX[b[i + 5] ?? 0] ?? -1) < 0 ? BAD : i + 6;
  }

  /** `i` just past an opening quote: the index of the closing one, or {@link BAD}. */
  #stringEnd(i: number): number {
    const b = this.b;
    const n = this.n;
    for (;;) {
      // biome-ignore lint/complexity/useMathMinMax: the hottest loop of the scanner; a comparison, not a call.
      const stop = i + BYTEWISE < n ? i + BYTEWISE : n;
      let c = 0;
      // Ordinary bytes (not a quote, a backslash or a control character), tested by comparisons, most
      // frequent first, written out here: V8 does not inline a helper into this loop, and it costs a third.
      while (i < stop) {
        c = b[i] ?? 0;
        if (c > BACKSLASH || (c > QUOTE && c !== BACKSLASH) || c === 0x20 || c === 0x21) i++;
        else break;
      }
      if (i === stop) {
        if (i >= n) return BAD;
        i = runEnd(b, n, this.#words ?? (this.#words = new WordView(b)), i);
        if (i >= n) return BAD;
        c = b[i] ?? 0;
      }
      if (c === QUOTE) return i;
      if (c !== BACKSLASH) return BAD;
      const e = b[i + 1];
      if (e === QUOTE || e === BACKSLASH) i += 2;
      else {
        i = this.#escape(i);
        if (i < 0) return BAD;
      }
    }
  }

  /** `b[i]` should open a member name: the index past its colon, or {@link BAD}. */
  #memberName(i: number): number {
    const b = this.b;
    const n = this.n;
    if (i >= n || b[i] !== QUOTE) return BAD;
    i = this.#stringEnd(i + 1);
    if (i < 0) return BAD;
    i++;
    if ((b[i] ?? 0) <= 0x20) i = skipWs(b, i, n);
    return i < n && b[i] === COLON ? i + 1 : BAD;
  }

  /**
   * Skips one value starting at `i` (after optional whitespace), validating it: the index past it,
   * {@link BAD}, or {@link TOO_DEEP}. Iterative: its only memory is {@link STACK}.
   */
  #skipValue(i: number): number {
    const b = this.b;
    const n = this.n;
    let depth = 0;
    for (;;) {
      // A value starts here.
      if ((b[i] ?? 0) <= 0x20) i = skipWs(b, i, n);
      if (i >= n) return BAD;
      const c = b[i] ?? 0;
      if (c === QUOTE) {
        i = this.#stringEnd(i + 1);
        if (i < 0) return BAD;
        i++;
      } else if (c === LBRACE || c === LBRACKET) {
        i++;
        if ((b[i] ?? 0) <= 0x20) i = skipWs(b, i, n);
        if (i < n && b[i] === (c === LBRACE ? RBRACE : RBRACKET)) {
          i++;
        } else {
          if (depth === MAX_SKIP_DEPTH) return TOO_DEEP;
          STACK[++depth] = c === LBRACE ? 1 : 2;
          if (c === LBRACE) {
            i = this.#memberName(i);
            if (i < 0) return BAD;
          }
          continue;
        }
      } else {
        i = skipBare(b, i, n, c);
        if (i < 0) return BAD;
      }
      // A value ended here: close the containers it ends, then go on to the next member or element.
      for (;;) {
        if (depth === 0) return i;
        if ((b[i] ?? 0) <= 0x20) i = skipWs(b, i, n);
        if (i >= n) return BAD;
        const d = b[i];
        const inObject = STACK[depth] === 1;
        if (d === COMMA) {
          i++;
          if (inObject) {
            if ((b[i] ?? 0) <= 0x20) i = skipWs(b, i, n);
            i = this.#memberName(i);
            if (i < 0) return BAD;
          }
          break;
        }
        if (d !== (inObject ? RBRACE : RBRACKET)) return BAD;
        i++;
        depth--;
      }
    }
  }

  /** The next byte after whitespace (the cursor moves to it), or -1 at the end. */
  peek(): number {
    const b = this.b;
    const c = b[this.i];
    if (c !== undefined && c > 0x20) return c;
    const i = skipWs(b, this.i, this.n);
    this.i = i;
    return i < this.n ? (b[i] ?? -1) : -1;
  }

  /** Skips one value, validating it. */
  skip(): void {
    const i = this.#wasm ? wasmSkipValue(this, this.b, this.i) : this.#skipValue(this.i);
    if (i >= 0) this.i = i;
    else if (i === TOO_DEEP) {
      this.deep = true;
      this.i = this.n;
    } else this.fail();
  }

  /** Reads a string whose opening quote is at `i`, recording its span. */
  string(): void {
    const end = this.#wasm ? wasmStringEnd(this, this.b, this.i + 1) : this.#stringEnd(this.i + 1);
    if (end < 0) return this.fail();
    this.s0 = this.i + 1;
    this.s1 = end;
    this.i = end + 1;
  }

  /** Reads the scalar at the cursor (after whitespace), or skips the container there. */
  scalar(): number {
    const c = this.peek();
    if (c === QUOTE) {
      this.string();
      return this.bad ? T_BAD : T_STRING;
    }
    if (c === LBRACE || c === LBRACKET) {
      this.skip();
      return this.bad || this.deep ? T_BAD : T_CONTAINER;
    }
    const start = this.i;
    const end = skipBare(this.b, start, this.n, c);
    if (end < 0) {
      this.fail();
      return T_BAD;
    }
    this.i = end;
    this.s0 = start;
    this.s1 = end;
    return c === 0x74 ? T_TRUE : c === 0x66 ? T_FALSE : c === 0x6e ? T_NULL : T_NUMBER;
  }

  /** At `{`: consumes it; false when the object is empty (its `}` consumed too). */
  objectStart(): boolean {
    this.i++;
    if (this.peek() === RBRACE) {
      this.i++;
      return false;
    }
    return true;
  }

  /** At a member name: reads it (its span is the cursor's string span) and its colon. */
  memberName(): boolean {
    const b = this.b;
    const n = this.n;
    let i = skipWs(b, this.i, n);
    const end = i < n && b[i] === QUOTE ? this.#stringEnd(i + 1) : BAD;
    if (end < 0) {
      this.fail();
      return false;
    }
    this.s0 = i + 1;
    this.s1 = end;
    i = skipWs(b, end + 1, n);
    if (i >= n || b[i] !== COLON) {
      this.fail();
      return false;
    }
    this.i = i + 1;
    return true;
  }

  /** After a member's value: true when another member follows (its comma consumed). */
  memberEnd(): boolean {
    const c = this.peek();
    this.i++;
    if (c === COMMA) return true;
    if (c !== RBRACE) this.fail();
    return false;
  }

  /** At `[`: consumes it; false when the array is empty (its `]` consumed too). */
  arrayStart(): boolean {
    this.i++;
    if (this.peek() === RBRACKET) {
      this.i++;
      return false;
    }
    return true;
  }

  /** After an element: true when another element follows (its comma consumed). */
  elementEnd(): boolean {
    const c = this.peek();
    this.i++;
    if (c === COMMA) return true;
    if (c !== RBRACKET) this.fail();
    return false;
  }

  /** The last number, as JSON.parse reads it; `undefined` when its text is longer than `max` bytes. */
  number(max: number): number | undefined {
    return numberAt(this.b, this.s0, this.s1, max);
  }

  /** The first `max` UTF-16 code units of the last string, as JSON.parse decodes it (json-span.ts). */
  prefix(max: number): string {
    return stringPrefix(this.b, this.s0, this.s1, max);
  }

  /** The last string is spelled exactly `bytes` (so: without escapes). */
  is(bytes: Uint8Array): boolean {
    return spelled(this.b, this.s0, this.s1, bytes);
  }
}
