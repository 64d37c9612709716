import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseFeed, type SseProblem } from '../../src/sources/mcp/sse-feed.ts';

interface Seen {
  events: Array<[string | undefined, string]>;
  problems: SseProblem[];
}

/** Feeds `bytes` cut at `cuts` (sorted offsets) and ends the stream. */
function run(bytes: Buffer, cuts: readonly number[], limit = 1024, end = true): Seen {
  const seen: Seen = { events: [], problems: [] };
  const feed = new SseFeed(limit, { onEvent: (e, d) => seen.events.push([e, d.toString('utf8')]), onProblem: (p) => seen.problems.push(p) });
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut < at) continue;
    feed.push(bytes.subarray(at, cut));
    at = cut;
  }
  if (end) feed.end();
  return seen;
}

const LEGACY = Buffer.from(
  'event: endpoint\ndata: /messages/?session_id=abc\n\n' +
    ': ping - 2025-01-01\n\n' +
    'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ünïcødé ✓"}]}}\n\n' +
    'retry: 1000\nid: 7\nevent: message\ndata: {"jsonrpc":"2.0",\ndata: "id":2,"result":{}}\n\n' +
    'data: {"jsonrpc":"2.0","id":3,"result":{}}\n\n',
);

const EXPECTED: Array<[string | undefined, string]> = [
  ['endpoint', '/messages/?session_id=abc'],
  ['message', '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ünïcødé ✓"}]}}'],
  ['message', '{"jsonrpc":"2.0",\n"id":2,"result":{}}'],
  [undefined, '{"jsonrpc":"2.0","id":3,"result":{}}'],
];

const crlf = (b: Buffer) => Buffer.from(b.toString('utf8').replace(/\n/g, '\r\n'));
const cr = (b: Buffer) => Buffer.from(b.toString('utf8').replace(/\n/g, '\r'));
const cutsOf = (len: number) => fc.uniqueArray(fc.integer({ min: 0, max: len }), { maxLength: 30 }).map((a) => a.sort((x, y) => x - y));

describe('SSE feed', () => {
  it('reads the events of a legacy SSE stream, skipping comments, retry and id fields', () => {
    expect(run(LEGACY, [])).toEqual({ events: EXPECTED, problems: [] });
  });

  it('yields the same events for any byte split of a valid stream (LF, CRLF and CR line ends)', () => {
    for (const stream of [LEGACY, crlf(LEGACY), cr(LEGACY)]) {
      fc.assert(
        fc.property(cutsOf(stream.length), (cuts) => {
          expect(run(stream, cuts)).toEqual({ events: EXPECTED, problems: [] });
        }),
        { numRuns: 300 },
      );
    }
  });

  it('skips an event over the bound (too_large) and reads the events after it, for any split', () => {
    const big = `event: message\ndata: {"jsonrpc":"2.0","id":9,"result":{"x":"${'y'.repeat(3000)}"}}\n\n`;
    const stream = Buffer.from(`${big}data: {"a":1}\n\n${big}${big}event: message\ndata: {"b":2}\n\n`);
    for (const s of [stream, crlf(stream)]) {
      fc.assert(
        fc.property(cutsOf(s.length), (cuts) => {
          expect(run(s, cuts, 1024)).toEqual({
            events: [
              [undefined, '{"a":1}'],
              ['message', '{"b":2}'],
            ],
            problems: ['too_large', 'too_large', 'too_large'],
          });
        }),
        { numRuns: 200 },
      );
    }
  });

  it('reads an oversized event delivered in one chunk with small events around it', () => {
    const s = Buffer.from(`data: 1\n\ndata: ${'z'.repeat(5000)}\n\ndata: 2\n\n`);
    expect(run(s, [], 100)).toEqual({
      events: [
        [undefined, '1'],
        [undefined, '2'],
      ],
      problems: ['too_large'],
    });
  });

  it('reports a stream cut in the middle of an event, and not a stream that ends cleanly', () => {
    expect(run(Buffer.from('data: {"jsonrpc":"2.0","id":1,"res'), [])).toEqual({ events: [], problems: ['stream_cut'] });
    expect(run(Buffer.from('data: {"a":1}\n\ndata: {"b"\n'), [5])).toEqual({ events: [[undefined, '{"a":1}']], problems: ['stream_cut'] });
    expect(run(Buffer.from('data: {"a":1}\n\n: ping\n'), [])).toEqual({ events: [[undefined, '{"a":1}']], problems: [] });
    expect(run(Buffer.from('data: {"a":1}\r\n\r\n'), [15])).toEqual({ events: [[undefined, '{"a":1}']], problems: [] });
  });

  it('skips events with empty data (priming events)', () => {
    expect(run(Buffer.from('id: 1\ndata:\n\ndata: x\n\n'), [])).toEqual({ events: [[undefined, 'x']], problems: [] });
  });

  it('never throws, whatever the bytes and however they are split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 16, max: 200 }), (bytes, limit) => {
        const b = Buffer.from(bytes);
        run(b, [Math.floor(b.length / 3), Math.floor(b.length / 2)], limit);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('data: ', 'event: message', '\n', '\r', '\r\n', ': c', 'x'.repeat(50), '{"jsonrpc":"2.0"}'), { maxLength: 60 }),
        (parts) => {
          const b = Buffer.from(parts.join(''));
          run(b, [1, 7, 33], 64);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('finds the blank line that ends an event, across line-end styles and chunks', () => {
    // The events read once the first `n` bytes are in, in one chunk or in the pieces given.
    const upTo = (text: string, n: number) => run(Buffer.from(text).subarray(0, n), [], 1024, false).events.length;
    const pieces = (...parts: string[]) =>
      run(
        Buffer.from(parts.join('')),
        parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('').length),
        1024,
        false,
      ).events.length;
    expect([upTo('data: abc\n\nrest', 10), upTo('data: abc\n\nrest', 11)]).toEqual([0, 1]);
    // CRLF: the CR of the blank line ends it; its LF, in this chunk or the next, is part of that line end.
    expect([upTo('data: abc\r\n\r\nrest', 11), upTo('data: abc\r\n\r\nrest', 12), upTo('data: abc\r\n\r\nrest', 13)]).toEqual([0, 1, 1]);
    expect([upTo('data: abc\r\rrest', 10), upTo('data: abc\r\rrest', 11)]).toEqual([0, 1]);
    expect(upTo('data: abc\r\n', 11)).toBe(0);
    expect(upTo('data: abc\ndata: x\n', 18)).toBe(0);
    expect(pieces('data: abc\r', '\n')).toBe(0);
    expect(pieces('data: abc\r', '\n\r\nx')).toBe(1);
    expect(run(Buffer.from('data: abc\r\n\r\ndata: d\n\n'), [10, 11, 12]).events).toEqual([
      [undefined, 'abc'],
      [undefined, 'd'],
    ]);
  });
});
