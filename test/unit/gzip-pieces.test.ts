import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constants, gunzipSync } from 'node:zlib';
import { GzipPieces } from '../../src/admin/gzip-pieces.ts';

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
