import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isScanFallback, scanMessages } from '../../src/sources/mcp/envelope-scan.ts';
import { JsonCursor } from '../../src/sources/mcp/json-scan.ts';
import { WASM_SKIP_MAX_BYTES, WASM_SKIP_MIN_BYTES, wasmSkipFits, wasmSkipValue, wasmStringEnd } from '../../src/sources/mcp/json-skip.ts';
import { JSON_SKIP_SOURCE_SHA256 } from '../../src/sources/mcp/json-skip-wasm.ts';
import { parseMessages } from '../../src/sources/mcp/jsonrpc.ts';
import { jsSkip, jsStringEnd } from '../fuzz/targets-skip.ts';

function parses(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

const who = {};

/** The WebAssembly answers for `b` from 0, checked against the JavaScript skips and JSON.parse. */
function agree(b: Buffer): number {
  const got = wasmSkipValue(who, b, 0);
  expect(got, `wasmSkipValue of ${JSON.stringify(b.toString('latin1'))}`).toBe(jsSkip(b, 0));
  if (got !== -2) expect(got === b.length, `JSON.parse of ${JSON.stringify(b.toString('latin1'))}`).toBe(parses(b));
  if (b[0] === 0x22) expect(wasmStringEnd(who, b, 1)).toBe(jsStringEnd(b, 1));
  return got;
}

/** A tool's answer as calc_blob gives it: rows as structured content, and the same JSON again as text. */
function blobAnswer(rows: number): Buffer {
  const rs = Array.from({ length: rows }, (_, i) => ({ id: `row-${i}`, name: `Zoë ${i} "q"`, v: i / 7, tags: ['a', `t${i % 5}`], ok: i % 2 === 0, n: null }));
  return Buffer.from(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 9,
      result: { content: [{ type: 'text', text: JSON.stringify(rs) }], structuredContent: { rows: rs }, isError: true },
    }),
  );
}

describe('the WebAssembly skips of large values (json-skip)', () => {
  it('runs the module built from the json-skip.c beside it (npm run build:wasm after any change to it)', () => {
    const source = readFileSync(new URL('../../src/sources/mcp/json-skip.c', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(JSON_SKIP_SOURCE_SHA256);
    expect(wasmSkipFits(WASM_SKIP_MIN_BYTES)).toBe(true);
  });

  it('ends a string where the JavaScript read does for a backslash run of every length before a quote, at every 16-byte alignment', () => {
    for (let lead = 0; lead < 34; lead++)
      for (let run = 0; run < 8; run++)
        for (const tail of ['', '"', 'x"', '\\"', 'abcdefghijklmnopqrstuvwxyz"']) agree(Buffer.from(`"${'a'.repeat(lead)}${'\\'.repeat(run)}"${tail}`));
  });

  it('refuses a raw control character, a bad escape or a bad \\u digit wherever it falls in a block, and accepts the good ones there', () => {
    for (let at = 0; at < 40; at++) {
      const around = (s: string) => Buffer.from(`"${'a'.repeat(at)}${s}${'b'.repeat(40 - at)}"`);
      for (const bad of ['\u0000', '\u001f', '\n', '\\x', '\\U0041', '\\u00g0', '\\u12 ', '\\\u0001']) expect(agree(around(bad))).toBe(-1);
      for (const good of ['\\n', '\\/', '\\u00e9', '\\uD83D\\uDE00', '\u007f', 'é', '\\\\\\"']) expect(agree(around(good))).toBeGreaterThan(0);
    }
    // Bytes >= 0x80 are content inside a string (invalid UTF-8 becomes U+FFFD) and refused outside one.
    expect(agree(Buffer.from([0x22, 0xff, 0xc3, 0x22]))).toBe(4);
    expect(agree(Buffer.from([0x5b, 0xff, 0x5d]))).toBe(-1);
  });

  it('skips numbers, literals and containers as JSON.parse reads them, and stops at a cut anywhere', () => {
    const doc = '{"a":[1,-0,0.5,-1.25e+3,2E-7,true,false,null,"s\\"",{},[],{"b":{"c":[[]]}}], "d" : { } }';
    for (let cut = 0; cut <= doc.length; cut++) agree(Buffer.from(doc.slice(0, cut)));
    for (const odd of ['01', '-', '1.', '.5', '1e', '+1', 'tru', 'nulll', '[1,]', '{"a"}', '{"a":1,}', '[1 2]', '{,}', '\u00a01']) agree(Buffer.from(odd));
  });

  it('skips 512 nested containers and answers too deep for 513, as the JavaScript skip does (a nesting bomb is not followed)', () => {
    for (const d of [511, 512, 513, 100_000]) {
      // The innermost `[]` is empty: it opens nothing.
      expect(agree(Buffer.from(`${'['.repeat(d + 1)}${']'.repeat(d + 1)}`))).toBe(d > 512 ? -2 : 2 * d + 2);
      expect(agree(Buffer.from(`${'{"k":'.repeat(d)}0${'}'.repeat(d)}`))).toBe(d > 512 ? -2 : 6 * d + 1);
    }
  });

  it('gives the envelope scanner the same answers as parseMessages on a 64 KiB tool answer, below the threshold and past the largest document it copies', () => {
    for (const rows of [3, 400]) {
      const b = blobAnswer(rows);
      expect(wasmSkipFits(b.length)).toBe(rows > 3);
      const got = scanMessages(b);
      expect(isScanFallback(got)).toBe(false);
      expect(isDeepStrictEqual(got, parseMessages(b.toString('utf8')))).toBe(true);
    }
    const huge = Buffer.concat([blobAnswer(3), Buffer.alloc(WASM_SKIP_MAX_BYTES, 0x20)]);
    expect(wasmSkipFits(huge.length)).toBe(false);
    expect(isDeepStrictEqual(scanMessages(huge), parseMessages(huge.toString('utf8')))).toBe(true);
    // A document near the largest grows the module's memory, and one after it still reads right.
    const large = Buffer.concat([blobAnswer(400), Buffer.alloc(WASM_SKIP_MAX_BYTES - 100_000, 0x20)]);
    expect(isDeepStrictEqual(scanMessages(large), parseMessages(large.toString('utf8')))).toBe(true);
    expect(isDeepStrictEqual(scanMessages(blobAnswer(300)), parseMessages(blobAnswer(300).toString('utf8')))).toBe(true);
  });

  it('keeps two cursors reading in turn to their own documents, and a reset cursor to its new bytes in the same buffer (no stale copy)', () => {
    const good = Buffer.from(`{"a":"${'x'.repeat(2000)}","b":[${'1,'.repeat(500)}1]}`);
    const bad = Buffer.from(`{"a":"${'x'.repeat(2000)}","b":[${'1,'.repeat(500)}1,]}`);
    const a = new JsonCursor(good);
    const b = new JsonCursor(bad);
    const member = (c: JsonCursor) => {
      if (c.i === 0) c.objectStart();
      else c.memberEnd();
      c.memberName();
      c.skip();
    };
    member(a);
    member(b);
    member(a);
    member(b);
    expect([a.bad, a.i]).toEqual([false, good.length - 1]);
    expect(b.bad).toBe(true);
    // The same Buffer, its bytes changed between two documents.
    const buf = Buffer.from(good);
    const c = new JsonCursor(buf);
    c.skip();
    expect(c.bad).toBe(false);
    bad.copy(buf, 0, 0, good.length);
    buf[good.length - 2] = 0x2c; // `1]}` becomes `1,}`
    c.reset(buf);
    c.skip();
    expect(c.bad).toBe(true);
  });
});
