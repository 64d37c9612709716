import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constants, gunzipSync } from 'node:zlib';
import { GzipPieces, PieceReuse } from '../../src/admin/gzip-pieces.ts';

const member = (pieces: readonly string[], level: number = constants.Z_BEST_SPEED): Buffer => {
  const g = new GzipPieces(level);
  return Buffer.concat([...pieces.map((p) => g.piece(p)), g.end()]);
};

describe('GzipPieces: one gzip member compressed piece by piece on the calling thread', () => {
  it('decompresses to the pieces joined, for any pieces (empty ones, multi-byte UTF-8, long runs) and level', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.string({ unit: 'grapheme' }),
            fc.string().map((s) => s.repeat(500)),
          ),
          { maxLength: 12 },
        ),
        fc.integer({ min: 0, max: 9 }),
        (pieces, level) => {
          expect(gunzipSync(member(pieces, level)).toString('utf8')).toBe(pieces.join(''));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is a member the gzip program accepts with its CRC-32 and length checked, empty or not', () => {
    const text = `# TYPE http_requests_total counter\n${'http_requests_total{method="GET",endpoint="/api/v1/tools",status="200"} 12\n'.repeat(20_000)}`;
    const slices = text.match(/[\s\S]{1,90000}/g) ?? [];
    expect(execFileSync('gzip', ['-dc'], { input: member(slices), maxBuffer: 16 * 1024 * 1024 }).toString('utf8')).toBe(text);
    expect(execFileSync('gzip', ['-t'], { input: member([]) }).length).toBe(0);
    // A corrupted trailer is refused: the trailer is checked, not decorative.
    const bad = member(slices);
    bad.writeUInt32LE((bad.readUInt32LE(bad.length - 8) ^ 1) >>> 0, bad.length - 8);
    expect(() => gunzipSync(bad)).toThrow();
  });
});

/** One answer written with `reuse`: its bytes and how many of its pieces were reused; `end: false` leaves it unfinished. */
function answer(pieces: readonly string[], reuse: PieceReuse, end = true): { bytes: Buffer; reused: number } {
  const g = new GzipPieces(constants.Z_BEST_SPEED, reuse);
  const parts = pieces.map((p) => g.piece(p));
  if (end) parts.push(g.end());
  return { bytes: Buffer.concat(parts), reused: g.reused };
}

describe('PieceReuse: the pieces of the last complete answer written again where their text is the same', () => {
  const a = `a_total{x="1"} 1\n`.repeat(300);
  const b = `b_total{x="2"} 7\n`.repeat(300);
  const c = `c_total{x="3"} 3\n`.repeat(300);
  /** `b` with one sample moved, the same length: only its bytes tell it apart. */
  const b2 = b.replace('} 7\n', '} 8\n');

  it('reuses the unchanged pieces, compresses a changed one of the same length again, and every answer is the fresh member byte for byte', () => {
    const reuse = new PieceReuse();
    expect(answer([a, b, c], reuse).reused).toBe(0);
    const second = answer([a, b2, c], reuse);
    expect(second.reused).toBe(2);
    expect(second.bytes.equals(member([a, b2, c]))).toBe(true);
    // The store holds the last complete answer only: b is gone, b2 is there.
    const third = answer([c, b, a, b2], reuse);
    expect(third.reused).toBe(3);
    expect(gunzipSync(third.bytes).toString('utf8')).toBe(c + b + a + b2);
    expect(third.bytes.equals(member([c, b, a, b2]))).toBe(true);
  });

  it('keeps the store as it was when an answer does not end (the client went away)', () => {
    const reuse = new PieceReuse();
    answer([a, b], reuse);
    answer([c], reuse, false);
    expect(answer([a, b, c], reuse).reused).toBe(2);
  });

  it('keeps at most its budget of text: the pieces past it are compressed every time', () => {
    const reuse = new PieceReuse(a.length + b.length);
    answer([a, b, c], reuse);
    expect(answer([a, b, c], reuse).reused).toBe(2);
    expect(answer([c, a], reuse).reused).toBe(1);
  });

  it('never writes a stale piece: any run of answers over a few texts, some left unfinished, is each time the fresh member', () => {
    const texts = [a, b, b2, c, '', 'é\n'.repeat(50)];
    fc.assert(
      fc.property(
        fc.array(fc.record({ pieces: fc.array(fc.constantFrom(...texts), { maxLength: 6 }), end: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        (answers) => {
          const reuse = new PieceReuse(a.length * 3);
          for (const { pieces, end } of answers) {
            const { bytes } = answer(pieces, reuse, end);
            if (end) expect(bytes.equals(member(pieces))).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
