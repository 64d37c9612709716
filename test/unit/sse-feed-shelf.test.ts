/**
 * The shelf of line and data buffers that ended SSE feeds lend to later ones (src/sources/mcp/sse-feed.ts):
 * bounded, and never lending a buffer that a live feed still reads from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferShelf, SHELF_MAX_BUFFERS, SHELF_MAX_BYTES, SHELF_MIN_BYTES, SseFeed } from '../../src/sources/mcp/sse-feed.ts';

describe('BufferShelf', () => {
  it('lends the smallest shelved buffer that is large enough, and a new one when none is', () => {
    const shelf = new BufferShelf();
    const small = Buffer.alloc(8192);
    const large = Buffer.alloc(65536);
    shelf.give(large);
    shelf.give(small);
    expect(shelf.take(5000)).toBe(small);
    expect(shelf.take(5000)).toBe(large);
    const fresh = shelf.take(5000);
    expect(fresh).not.toBe(small);
    expect(fresh).not.toBe(large);
    expect(fresh.length).toBe(5000);
    expect(shelf.bytes).toBe(0);
  });

  it('holds at most its bound of buffers and bytes, keeping the larger ones, and no buffer too small to matter', () => {
    const shelf = new BufferShelf();
    shelf.give(Buffer.alloc(SHELF_MIN_BYTES - 1));
    shelf.give(Buffer.alloc(SHELF_MAX_BYTES + 1));
    expect(shelf.bytes).toBe(0);
    for (let i = 0; i < 3 * SHELF_MAX_BUFFERS; i++) shelf.give(Buffer.alloc(SHELF_MIN_BYTES + i * 1024));
    const lengths: number[] = [];
    while (shelf.bytes > 0 && lengths.length <= SHELF_MAX_BUFFERS) lengths.push(shelf.take(SHELF_MIN_BYTES).length);
    expect(lengths).toHaveLength(SHELF_MAX_BUFFERS);
    expect(Math.min(...lengths)).toBe(SHELF_MIN_BYTES + 2 * SHELF_MAX_BUFFERS * 1024);
    // The byte bound: a buffer that would take the shelf past it replaces a smaller one, or is dropped.
    const third = Math.floor(SHELF_MAX_BYTES * 0.6);
    shelf.give(Buffer.alloc(third));
    shelf.give(Buffer.alloc(third));
    expect(shelf.bytes).toBe(third);
    shelf.give(Buffer.alloc(third + 1024));
    expect(shelf.bytes).toBe(third + 1024);
  });
});

/** A stream of large events, each data split in one or two `data` lines. */
function stream(events: readonly (readonly string[])[]): { bytes: Buffer; expected: string[] } {
  const text = events.map((lines) => `event: message\n${lines.map((l) => `data: ${l}`).join('\n')}\n\n`).join('');
  return { bytes: Buffer.from(text), expected: events.map((lines) => lines.join('\n')) };
}

const payload = fc.tuple(fc.integer({ min: 1000, max: 40_000 }), fc.constantFrom('a', 'b', 'c', 'd', 'e')).map(([n, c]) => `{"x":"${c.repeat(n)}"}`);
const event = fc.array(payload, { minLength: 1, maxLength: 2 });

describe('SSE feeds sharing the shelf', () => {
  it('read every large event intact while other feeds end, hand their buffers back and start anew, however the pushes interleave', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(event, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 40, maxLength: 200 }),
        (streams, schedule) => {
          const feeds = streams.map((events) => {
            const { bytes, expected } = stream(events);
            const seen: string[] = [];
            const problems: string[] = [];
            const feed = new SseFeed(128 * 1024, { onEvent: (_e, d) => seen.push(d.toString('latin1')), onProblem: (p) => problems.push(p) });
            return { bytes, expected, seen, problems, feed, at: 0 };
          });
          // Each step pushes the next piece (1 B to 24 KiB) of one stream; a stream that is fully pushed ends,
          // handing its buffers to the shelf while the others may be in the middle of a carried line.
          let step = 0;
          for (let guard = 0; guard < 10_000 && feeds.some((f) => f.at < f.bytes.length); guard++) {
            const r = schedule[step++ % schedule.length] as number;
            const live = feeds.filter((f) => f.at < f.bytes.length);
            const f = live[r % live.length] as (typeof live)[number];
            const size = 1 + ((r >>> 3) % (24 * 1024));
            f.feed.push(f.bytes.subarray(f.at, Math.min(f.bytes.length, f.at + size)));
            f.at = Math.min(f.bytes.length, f.at + size);
            if (f.at === f.bytes.length) f.feed.end();
          }
          for (const f of feeds) {
            expect(f.problems).toEqual([]);
            expect(f.seen).toEqual(f.expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
