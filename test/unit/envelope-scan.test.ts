import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isScanFallback, scanMessages } from '../../src/sources/mcp/envelope-scan.ts';
import { MAX_NAME_LENGTH, parseMessages, type ParsedMessages } from '../../src/sources/mcp/jsonrpc.ts';
import { runTarget } from '../fuzz/harness.ts';
import { SCAN_TARGETS } from '../fuzz/targets-scan.ts';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** The scanner's answer for these bytes, checked against parseMessages (the oracle) unless it fell back. */
function scan(body: Buffer | string): ParsedMessages {
  const got = scanMessages(body);
  if (isScanFallback(got)) throw new Error(`fell back: ${got.fallback}`);
  const oracle = parseMessages(typeof body === 'string' ? body : body.toString('utf8'));
  expect(isDeepStrictEqual(got, oracle), `scan ${JSON.stringify(got)} vs parseMessages ${JSON.stringify(oracle)}`).toBe(true);
  return got;
}
const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
const fallbackOf = (body: Buffer | string) => {
  const got = scanMessages(body);
  return isScanFallback(got) ? got.fallback : undefined;
};

describe('MCP envelope scanner', () => {
  it('reads a tools/call request as parseMessages does, never the arguments', () => {
    const body = Buffer.from(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'calc_add', arguments: { secret: 'hunter2' }, _meta: { traceparent: TP, tracestate: 'a=b' } },
      }),
    );
    expect(scan(body)).toEqual({
      messages: [{ kind: 'request', id: 7, method: 'tools/call', toolName: 'calc_add', traceparent: TP, tracestate: 'a=b' }],
      invalid: 0,
      batch: false,
    });
    expect(JSON.stringify(scanMessages(body))).not.toContain('hunter2');
  });

  it('reads responses, errors, notifications and batches of them', () => {
    scan('{"result":{"content":[{"type":"text","text":"Unknown tool: calc_mul"}],"isError":true},"jsonrpc":"2.0","id":"a"}');
    scan('{"jsonrpc":"2.0","id":null,"error":{"code":-32700.0,"message":"parse error","data":{"deep":[1,2,3]}}}');
    scan('{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}}}}');
    scan('{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"postgres://admin:secret@db/x?token=t#f"}}');
    expect(scan('[{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":-0}}, 5, {"jsonrpc":"1.0","id":1,"result":1}, []]')).toMatchObject({
      invalid: 3,
      batch: true,
    });
    expect(scan('[]')).toEqual({ messages: [], invalid: 1, problem: 'not_jsonrpc', batch: true });
  });

  it('decodes escapes in the strings it keeps and in member names', () => {
    const got = scan(
      String.raw`{"jsonr\u0070c":"2\u002e0","id":"\ud83d\ude00\"\\\/\b\f\n\r\t","method":"tools\/call","params":{"n\u0061me":"caf\u00e9 \u2028"}}`,
    );
    expect(got.messages[0]).toMatchObject({ id: '😀"\\/\b\f\n\r\t', method: 'tools/call', toolName: 'café \u2028' });
  });

  it('judges a traceparent on its bytes exactly as the pattern does: a dash, a capital or a letter past f where a digit stands is refused', () => {
    const request = (tp: string) => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"traceparent":"${tp}"}}}`;
    const kept = (tp: string) => (scan(request(tp)).messages[0] as { traceparent?: string }).traceparent;
    expect(kept(TP)).toBe(TP);
    for (const at of [0, 1, 3, 20, 34, 36, 51, 53, 54]) expect(kept(`${TP.slice(0, at)}-${TP.slice(at + 1)}`), `dash at ${at}`).toBeUndefined();
    for (const bad of [TP.toUpperCase(), TP.replace('b', 'g'), TP.slice(1), `${TP}0`, TP.replace(/-/g, '_')]) expect(kept(bad), bad).toBeUndefined();
    // Spelled with escapes: still that traceparent.
    expect(kept(String.raw`\u0030${TP.slice(1)}`)).toBe(TP);
  });

  it('recognises jsonrpc "2.0", method names and member names only when spelled exactly (near misses are other values)', () => {
    expect(scan('{"jsonrpc":"2.00","id":1,"result":{}}')).toMatchObject({ problem: 'not_jsonrpc' });
    expect(scan('{"jsonrpc":"2,0","id":1,"result":{}}')).toMatchObject({ problem: 'not_jsonrpc' });
    expect(scan('{"jsonrpc":"2.0","id":1,"method":"tools/cal","params":{"name":"a"}}').messages[0]).toEqual({ kind: 'request', id: 1, method: 'tools/cal' });
    expect(scan('{"jsonrpc":"2.0","id":1,"method":"Tools/call","params":{"name":"a"}}').messages[0]).toEqual({ kind: 'request', id: 1, method: 'Tools/call' });
    expect(scan('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"namf":"a","Name":"b","nam":"c"}}').messages[0]).toEqual({
      kind: 'request',
      id: 1,
      method: 'tools/call',
    });
    expect(scan('{"jsonrpc":"2.0","Id":1,"ids":2,"result":{}}')).toMatchObject({ problem: 'not_jsonrpc' });
  });

  it('refuses exactly what JSON.parse refuses', () => {
    const bad = [
      '',
      ' ',
      '\ufeff{"jsonrpc":"2.0","id":1,"result":{}}',
      '{"jsonrpc":"2.0","id":1,"result":{}} x',
      '{"jsonrpc":"2.0","id":1,"result":{}',
      '{"a":"\u0001"}',
      String.raw`{"a":"\x"}`,
      String.raw`{"a":"\u12G4"}`,
      '{"id":01}',
      '{"id":-}',
      '{"id":1.}',
      '{"id":1e}',
      '{"id":NaN}',
      "{'id':1}",
      '{"id":1,}',
      '[1,]',
      '{"id" 1}',
      '[1 2]',
      'tru',
      'nul',
      '{"a":[}',
      '{"a":{]}',
    ];
    for (const text of bad) expect(scan(text), JSON.stringify(text)).toMatchObject({ problem: 'not_json' });
    for (const text of ['1', '"x"', 'null', ' {"id":1e5} ', '[{"jsonrpc":"2.0","method":"x"}]\r\n\t ']) expect(scan(text).problem, text).not.toBe('not_json');
  });

  it('judges invalid UTF-8 as toString(utf8) + JSON.parse do: U+FFFD inside a string, refused outside one', () => {
    expect(
      scan(bytes('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a', [0xff, 0xe2, 0x82], 'b","arguments":"', [0xc0, 0xaf], '"}}')).messages[0],
    ).toMatchObject({ toolName: 'a\ufffd\ufffdb' });
    expect(scan(bytes('{"jsonrpc":"2.0","id":1,"result":{}}', [0x80]))).toMatchObject({ problem: 'not_json' });
    expect(scan(bytes([0xef, 0xbb, 0xbf], '[]'))).toMatchObject({ problem: 'not_json' });
  });

  it('a 1 MiB method, name or id is never kept whole: it is cut one past its bound, as parseMessages cuts it (memory exhaustion)', () => {
    const huge = 'n'.repeat(1 << 20);
    expect(scan(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"${huge}"}}`).messages[0]).toMatchObject({
      toolName: 'n'.repeat(MAX_NAME_LENGTH + 1),
    });
    expect(scan(`{"jsonrpc":"2.0","method":"${huge}"}`).messages[0]).toMatchObject({ method: 'n'.repeat(MAX_NAME_LENGTH + 1) });
    expect(scan(`{"jsonrpc":"2.0","id":"${huge}","result":{}}`)).toMatchObject({ problem: 'not_jsonrpc' });
  });

  it('looks only at the first text of the first four content items for the unknown-tool hint', () => {
    const result = (content: unknown[], isError: boolean) => `{"jsonrpc":"2.0","id":1,"result":${JSON.stringify({ content, isError })}}`;
    const unknown = (body: string) => (scan(body).messages[0] as { response: { unknownTool: boolean } }).response.unknownTool;
    expect(unknown(result([1, [], { type: 'image' }, { text: 'Tool calc_mul not found' }], true))).toBe(true);
    expect(unknown(result([1, 2, 3, 4, { text: 'Unknown tool: x' }], true))).toBe(false);
    expect(unknown(result([{ text: 'Unknown tool: x' }], false))).toBe(false);
    expect(unknown(result([{ text: `${'x'.repeat(400)} unknown tool` }], true))).toBe(false);
  });

  it('reads a view into a larger buffer, and only its bytes', () => {
    const host = Buffer.from('}}}{"jsonrpc":"2.0","id":1,"result":{}}{{{');
    expect(scan(host.subarray(3, host.length - 3))).toMatchObject({ messages: [{ kind: 'response', id: 1 }] });
    const view = new Uint8Array(host.buffer, host.byteOffset + 3, host.length - 6);
    expect(scanMessages(view)).toEqual(scanMessages(host.subarray(3, host.length - 3)));
  });

  it('falls back on a member name it reads given twice (JSON.parse keeps the last), not on one it skips', () => {
    expect(fallbackOf('{"jsonrpc":"2.0","id":1,"id":2,"result":{}}')).toBe('duplicate_key');
    expect(fallbackOf('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","na\\u006de":"b"}}')).toBe('duplicate_key');
    scan('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{},"arguments":{"x":1}}}');
  });

  it('falls back on nesting deeper than 512 (JSON.parse has no limit), and reads 500 deep', () => {
    const nest = (n: number) => `{"jsonrpc":"2.0","id":1,"result":{"structuredContent":${'['.repeat(n)}${']'.repeat(n)}}}`;
    expect(fallbackOf(nest(600))).toBe('depth');
    scan(nest(500));
  });

  it('falls back on a list result (the inventory reads its items)', () => {
    expect(fallbackOf('{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"calc_add"}],"nextCursor":"c2"}}')).toBe('list_result');
    expect(fallbackOf('{"jsonrpc":"2.0","id":2,"result":{"resourceTemplates":[]}}')).toBe('list_result');
  });

  it('falls back on an initialize result and on a list request with a cursor (the passive inventory reads both)', () => {
    expect(
      fallbackOf(
        '{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":true}},"serverInfo":{"name":"s","version":"1"}}}',
      ),
    ).toBe('list_result');
    expect(fallbackOf('{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{"cursor":"c2"}}')).toBe('list_result');
    scan('{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}}');
  });

  it('falls back on a resource URI or a number too long to judge within bounds', () => {
    expect(fallbackOf(`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"mem://${'u'.repeat(5000)}?q"}}`)).toBe('long_value');
    expect(fallbackOf(`{"jsonrpc":"2.0","id":1${'0'.repeat(70)},"result":{}}`)).toBe('long_value');
    scan(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"uri":"mem://${'u'.repeat(5000)}"}}`);
  });

  it('reads text whose escapes follow long runs of plain bytes (four bytes at a time) as parseMessages does, at every alignment', () => {
    const afterRuns = [String.raw`\n`, String.raw`\"`, String.raw`\\`, String.raw`\u00e9`, String.raw`\/`, 'é'];
    for (const run of [31, 32, 33, 40, 127, 128, 129, 300])
      for (const after of afterRuns)
        for (let shift = 0; shift < 4; shift++) {
          const text = `${'a'.repeat(shift)}${`${'b'.repeat(run)}${after}`.repeat(4)}${'c'.repeat(run % 7)}`;
          // The text as JSON writes it, between quotes: escapes stay escapes.
          const body = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"${text}"}],"isError":true}}`;
          expect(scan(body).messages[0], `${run} ${after} ${shift}`).toMatchObject({ kind: 'response' });
        }
  });

  it('refuses a control character, a bad escape or a cut string after long runs of plain bytes, wherever it falls in a word', () => {
    for (const run of [32, 33, 129, 300])
      for (let at = 0; at < 8; at++)
        // Raw control characters (U+0001, LF, tab: JSON.parse refuses them in a string) and two bad escapes.
        for (const wrong of ['\u0001', '\n', '\t', String.raw`\x`, String.raw`\u12G4`]) {
          // A run, an escape, another run (past 128 plain bytes in a row the scan goes a word at a time), `at` more bytes, the error.
          const text = `${'b'.repeat(run)}\\n${'d'.repeat(run)}${'e'.repeat(at)}${wrong}${'f'.repeat(run)}`;
          const body = `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"${text}"}]}}`;
          expect(scan(body), `${run} ${at} ${JSON.stringify(wrong)}`).toMatchObject({ problem: 'not_json' });
        }
    // Cut inside the long run of the second part: the document ends first.
    expect(scan(`{"jsonrpc":"2.0","id":1,"result":{"text":"${'b'.repeat(40)}\\n${'d'.repeat(200)}`)).toMatchObject({ problem: 'not_json' });
  });

  it('reads text as parseMessages reads it, falling back where a kept string of a text with a lone surrogate meets U+FFFD', () => {
    scan('{"jsonrpc":"2.0","id":"é😀\ufffd","method":"tools/call","params":{"name":"x"}}');
    expect(fallbackOf('{"jsonrpc":"2.0","id":"a\ud800","method":"tools/call"}')).toBe('replacement_char');
    scan('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":"\ud800"}}');
  });

  it('agrees with parseMessages on generated envelopes and their mutations (quick oracle run), without falling back on ordinary traffic', () => {
    for (const t of SCAN_TARGETS) {
      const r = runTarget(t, 1000, Date.now() ^ 0x5ca9);
      expect(r.failure, r.failure).toBeUndefined();
      expect(r.cases).toBe(1000);
    }
    const ordinary = SCAN_TARGETS[0].stats;
    expect(ordinary.inputs).toBeGreaterThan(0);
    // Only what the inventory reads (initialize results here: once per session) goes to the full parser.
    expect(Object.keys(ordinary.fallbacks).filter((reason) => reason !== 'list_result')).toEqual([]);
  });
});
