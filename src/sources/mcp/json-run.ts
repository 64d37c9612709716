/**
 * The envelope scanner's four-bytes-at-a-time run scan (json-scan.ts uses it past a string's first 128
 * ordinary bytes): a document's bytes read as 32-bit words. Pure; never throws.
 */
import { BACKSLASH, QUOTE } from './json-span.ts';

/** A document as 32-bit words from its first 4-aligned byte, `at` (a view: nothing is copied). */
export class WordView {
  readonly words: Int32Array;
  readonly at: number;

  constructor(b: Buffer) {
    this.at = (4 - (b.byteOffset & 3)) & 3;
    const count = b.length > this.at ? (b.length - this.at) >> 2 : 0;
    this.words = new Int32Array(b.buffer, b.byteOffset + this.at, count);
  }
}

/**
 * From `i` inside a string of `b` (`n` bytes, `view` its words): the index of the first byte that ends
 * its run of ordinary bytes (a quote, a backslash or a control character), or `n`. It reads four bytes at
 * a time and tests them at once (SWAR): a word holds a byte < 0x20 when `(x − 0x20202020) & ~x &
 * 0x80808080` is not 0, and a byte equal to `v` when the same test for 0x01 holds for `x ^ v×0x01010101`
 * (each exact as a whole: a false positive in one byte needs a true one in a lower byte).
 */
export function runEnd(b: Buffer, n: number, view: WordView, i: number): number {
  const { words, at } = view;
  let w = (i - at + 3) >> 2;
  // One by one up to the first whole word.
  for (const e = Math.min(n, at + 4 * w); i < e; i++) {
    const c = b[i] ?? 0;
    if (!(c > BACKSLASH || (c > QUOTE && c !== BACKSLASH) || c === 0x20 || c === 0x21)) return i;
  }
  const wEnd = words.length;
  // Two words a step, then one.
  while (w + 1 < wEnd) {
    const x = words[w] ?? 0;
    const y = words[w + 1] ?? 0;
    const qx = x ^ 0x22222222;
    const sx = x ^ 0x5c5c5c5c;
    const qy = y ^ 0x22222222;
    const sy = y ^ 0x5c5c5c5c;
    const hx = (((x - 0x20202020) | 0) & ~x) | (((qx - 0x01010101) | 0) & ~qx) | (((sx - 0x01010101) | 0) & ~sx);
    const hy = (((y - 0x20202020) | 0) & ~y) | (((qy - 0x01010101) | 0) & ~qy) | (((sy - 0x01010101) | 0) & ~sy);
    if ((hx | hy) & 0x80808080) break;
    w += 2;
  }
  while (w < wEnd) {
    const x = words[w] ?? 0;
    const q = x ^ 0x22222222;
    const s = x ^ 0x5c5c5c5c;
    if (((((x - 0x20202020) | 0) & ~x) | (((q - 0x01010101) | 0) & ~q) | (((s - 0x01010101) | 0) & ~s)) & 0x80808080) break;
    w++;
  }
  i = at + 4 * w;
  while (i < n) {
    const c = b[i] ?? 0;
    if (c > BACKSLASH || (c > QUOTE && c !== BACKSLASH) || c === 0x20 || c === 0x21) i++;
    else break;
  }
  return i;
}
