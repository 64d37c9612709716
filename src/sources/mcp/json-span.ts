/**
 * The scalars of a JSON document in its UTF-8 bytes, for the envelope scanner (envelope-scan.ts):
 * whitespace, numbers and literals skipped (validated), and values taken from their spans — a string's
 * content between its quotes, a number's text — once json-scan.ts has validated them. Pure; never throws.
 *
 * Every decoding is bounded: {@link stringPrefix} builds at most `max` UTF-16 code units of a string of
 * any length, from at most 6 × (max + 2) of its bytes, and gives exactly what JSON.parse of
 * `bytes.toString('utf8')` gives for those units (escapes decoded; invalid UTF-8 as U+FFFD, the way
 * `toString('utf8')` replaces it).
 */

export const BACKSLASH = 0x5c;
export const QUOTE = 0x22;
/** A syntax error, as the skipping functions answer it. */
export const BAD = -1;

/** Value of a hex digit, or -1. */
export const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = 10 + c;
  HEX[0x61 + c] = 10 + c;
}

/** The character a one-letter escape stands for, or 0 (`u` is handled apart). */
export const ESCAPED = new Uint8Array(256);
ESCAPED[0x22] = 0x22;
ESCAPED[BACKSLASH] = BACKSLASH;
ESCAPED[0x2f] = 0x2f;
ESCAPED[0x62] = 0x08;
ESCAPED[0x66] = 0x0c;
ESCAPED[0x6e] = 0x0a;
ESCAPED[0x72] = 0x0d;
ESCAPED[0x74] = 0x09;

/** 1 for `0-9` and `a-f` (a traceparent's digits), else 0. */
const LOWER_HEX = new Uint8Array(256);
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function skipWs(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = b[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else break;
  }
  return i;
}

/** `b[i]` starts a number (`-` or a digit): the index past it, or {@link BAD}. (Digit tests written out: V8 does not inline a helper into such loops.) */
function skipNumber(b: Uint8Array, i: number, n: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= n) return BAD;
  let c = b[i] ?? 0;
  if (c === 0x30) c = b[++i] ?? 0;
  else if (c > 0x30 && c <= 0x39) {
    do c = b[++i] ?? 0;
    while (i < n && c >= 0x30 && c <= 0x39);
  } else return BAD;
  if (i < n && c === 0x2e) {
    c = b[++i] ?? 0;
    if (i >= n || c < 0x30 || c > 0x39) return BAD;
    do c = b[++i] ?? 0;
    while (i < n && c >= 0x30 && c <= 0x39);
  }
  if (i < n && (c === 0x65 || c === 0x45)) {
    c = b[++i] ?? 0;
    if (i < n && (c === 0x2b || c === 0x2d)) c = b[++i] ?? 0;
    if (i >= n || c < 0x30 || c > 0x39) return BAD;
    do c = b[++i] ?? 0;
    while (i < n && c >= 0x30 && c <= 0x39);
  }
  return i;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function skipWord(b: Uint8Array, i: number, n: number, word: readonly number[]): number {
  if (i + word.length > n) return BAD;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return BAD;
  return i + word.length;
}

/** A number or a literal `b[i]` starts (after whitespace): the index past it, or {@link BAD}. */
export function skipBare(b: Uint8Array, i: number, n: number, c: number): number {
  if (c === 0x2d || isDigit(c)) return skipNumber(b, i, n);
  if (c === 0x74) return skipWord(b, i, n, TRUE);
  if (c === 0x66) return skipWord(b, i, n, FALSE);
  if (c === 0x6e) return skipWord(b, i, n, NULL);
  return BAD;
}

/** The number spelled `[s0, s1)`, as JSON.parse reads it; `undefined` when its text is longer than `max`. */
export function numberAt(b: Buffer, s0: number, s1: number, max: number): number | undefined {
  if (s1 - s0 > max) return undefined;
  // An integer of up to 15 digits is exact as it is summed; anything else is left to Number().
  let i = s0;
  const negative = b[i] === 0x2d;
  if (negative) i++;
  if (s1 - i <= 15) {
    let v = 0;
    for (; i < s1; i++) {
      const d = (b[i] ?? 0) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === s1) return negative ? -v : v;
  }
  return Number(b.toString('latin1', s0, s1));
}

/** `[s0, s1)` is spelled exactly `bytes` (so: without escapes). */
export function spelled(b: Buffer, s0: number, s1: number, bytes: Uint8Array): boolean {
  const len = bytes.length;
  if (s1 - s0 !== len) return false;
  for (let j = 0; j < len; j++) if (b[s0 + j] !== bytes[j]) return false;
  return true;
}

/** `[s0, s1)` has a backslash (an escape); for short spans. */
export function hasEscape(b: Buffer, s0: number, s1: number): boolean {
  for (let j = s0; j < s1; j++) if (b[j] === BACKSLASH) return true;
  return false;
}

/**
 * `[s0, s1)` is a W3C `traceparent` as jsonrpc.ts accepts one
 * (`/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/`) spelled without escapes. One spelled with
 * escapes is judged by the caller on its decoding.
 */
export function isTraceparent(b: Buffer, s0: number, s1: number): boolean {
  if (s1 - s0 !== 55) return false;
  for (let j = 0; j < 55; j++) {
    const c = b[s0 + j] ?? 0;
    if (j === 2 || j === 35 || j === 52 ? c !== 0x2d : LOWER_HEX[c] === 0) return false;
  }
  return true;
}

/**
 * The first `max` UTF-16 code units of the string whose content is `[s0, s1)`, decoded as JSON.parse
 * decodes it (the whole string when it is shorter). A unit takes at most six bytes (`\uXXXX`), so only
 * the first 6 × (max + 2) bytes are looked at.
 */
export function stringPrefix(b: Buffer, s0: number, s1: number, max: number): string {
  const e = Math.min(s1, s0 + 6 * (max + 2));
  let escaped = false;
  let high = 0;
  for (let j = s0; j < e; j++) {
    const c = b[j] ?? 0;
    if (c === BACKSLASH) escaped = true;
    high |= c;
  }
  const utf8 = (high & 0x80) !== 0;
  return escaped ? unescaped(b, s0, s1, max, utf8) : raw(b, s0, s1, max, utf8);
}

/** Bytes `[a, e)` without escapes, decoded, at most `max` units. */
function raw(b: Buffer, a: number, e: number, max: number, utf8: boolean): string {
  if (a >= e || max <= 0) return '';
  if (!utf8) return b.toString('latin1', a, Math.min(e, a + max));
  // A code point takes at most 4 bytes and an invalid sequence at most 3 for one U+FFFD; cutting the
  // bytes changes only the units of the sequence cut (the decoder never lets an invalid sequence take
  // the next byte), so 4 × (max + 2) bytes give at least max exact units.
  const s = b.toString('utf8', a, Math.min(e, a + 4 * (max + 2)));
  return s.length > max ? s.slice(0, max) : s;
}

function unescaped(b: Buffer, a: number, e: number, max: number, utf8: boolean): string {
  let out = '';
  let i = a;
  while (i < e && out.length < max) {
    // The run up to the next backslash, looked at no further than its bound can need.
    const budget = max - out.length;
    const stop = Math.min(e, i + 4 * (budget + 2));
    let j = i;
    while (j < stop && b[j] !== BACKSLASH) j++;
    if (j > i) {
      out += raw(b, i, j, budget, utf8);
      i = j;
      continue;
    }
    const c = b[i + 1] ?? 0;
    if (c === 0x75) {
      out += String.fromCharCode(
        ((HEX[b[i + 2] ?? 0] ?? 0) << 12) | ((HEX[b[i + 3] ?? 0] ?? 0) << 8) | ((HEX[b[i + 4] ?? 0] ?? 0) << 4) | (HEX[b[i + 5] ?? 0] ?? 0),
      );
      i += 6;
    } else {
      out += String.fromCharCode(ESCAPED[c] ?? 0);
      i += 2;
    }
  }
  return out.length > max ? out.slice(0, max) : out;
}
