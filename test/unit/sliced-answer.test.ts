/**
 * Writing an exposition slice by slice (admin/sliced-answer.ts) into plain writable streams: the bytes,
 * gzipped or not; back-pressure; a client that goes away; a slice that fails. No sockets, no timing.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { PieceReuse } from '../../src/admin/gzip-pieces.ts';
import { writeSliced } from '../../src/admin/sliced-answer.ts';

/** A sink that keeps what it is given and completes each write on a later turn (like a socket). */
class Sink extends Writable {
  readonly chunks: Buffer[] = [];
  /** Bytes buffered in the stream when each write from outside arrived. */
  readonly queuedAtWrite: number[] = [];
  readonly #destroyAfter: number;

  constructor(highWaterMark: number, destroyAfter = Infinity) {
    super({ highWaterMark });
    this.#destroyAfter = destroyAfter;
  }

  override write(chunk: unknown, ...rest: never[]): boolean {
    this.queuedAtWrite.push(this.writableLength);
    return super.write(chunk, ...rest);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    setImmediate(() => {
      cb();
      if (this.chunks.length >= this.#destroyAfter) this.destroy();
    });
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** `n` slices of `size` characters each, counting how many were taken and whether iteration was ended. */
function counted(n: number, size: number) {
  const state = { taken: 0, returned: false };
  function* slices(): Generator<string> {
    try {
      for (let i = 0; i < n; i++) {
        state.taken++;
        // Hex of random bytes: compresses to about half, like nothing an exposition holds, so gzip output flows.
        yield `${randomBytes(size)
          .toString('hex')
          .slice(0, size - 1)}\n`;
      }
    } finally {
      state.returned = state.taken < n;
    }
  }
  return { state, slices: slices() };
}

describe('writeSliced', () => {
  it('writes every slice, in order, to the same bytes plain and gzipped', async () => {
    const slices = [...counted(50, 2000).slices];
    const plain = new Sink(16 * 1024);
    expect(await writeSliced(plain, slices, false)).toEqual({ slices: 50, complete: true });
    const zipped = new Sink(16 * 1024);
    expect(await writeSliced(zipped, slices, true)).toEqual({ slices: 50, complete: true });
    expect(plain.bytes.toString()).toBe(slices.join(''));
    expect(gunzipSync(zipped.bytes).equals(plain.bytes)).toBe(true);
    expect(plain.writableFinished && zipped.writableFinished).toBe(true);
  });

  it('with a store, a gzip answer writes the slices the last complete one had again as compressed then, and reports how many', async () => {
    const slices = [...counted(6, 2000).slices];
    const reuse = new PieceReuse();
    const first = new Sink(16 * 1024);
    expect(await writeSliced(first, slices, true, reuse)).toEqual({ slices: 6, complete: true, reused: 0 });
    const moved = [...slices.slice(0, 5), `${slices[5] ?? ''}x 1\n`];
    const second = new Sink(16 * 1024);
    expect(await writeSliced(second, moved, true, reuse)).toEqual({ slices: 6, complete: true, reused: 5 });
    expect(gunzipSync(second.bytes).toString()).toBe(moved.join(''));
    // A plain answer neither reads nor fills the store.
    expect(await writeSliced(new Sink(16 * 1024), moved, false, reuse)).toEqual({ slices: 6, complete: true });
  });

  it('waits for the sink to drain instead of queueing: never more than its buffer plus one slice ahead', async () => {
    const sink = new Sink(4096);
    await writeSliced(sink, counted(40, 3000).slices, false);
    expect(sink.queuedAtWrite.length).toBe(40);
    expect(Math.max(...sink.queuedAtWrite)).toBeLessThan(4096);
  });

  it('lets the event loop run between any two slices, even when the socket takes every write at once', async () => {
    // A socket that takes each write at once still refuses it past its buffer, and then emits 'drain' on
    // process.nextTick, within the same turn: the next slice must still wait for a later turn.
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const seen: number[] = [];
    class InstantSocket extends Writable {
      override write(): boolean {
        seen.push(turns);
        process.nextTick(() => this.emit('drain'));
        return false;
      }
    }
    const sink = new InstantSocket();
    await writeSliced(sink, counted(30, 5000).slices, false);
    counting = false;
    expect(seen.length).toBe(30);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1] as number);
  });

  it('stops serialising when the client goes away, plain or gzipped', async () => {
    for (const gzip of [false, true]) {
      const { state, slices } = counted(1000, 20_000);
      const sink = new Sink(1024, 2);
      const written = await writeSliced(sink, slices, gzip);
      expect(written.complete).toBe(false);
      expect(state.taken).toBeLessThan(20);
      expect(state.returned).toBe(true);
      expect(sink.destroyed).toBe(true);
    }
  });

  it('ends at once, serialising nothing, when the client went away before the first slice (during the collection)', async () => {
    for (const gzip of [false, true]) {
      const { state, slices } = counted(10, 100);
      const sink = new Sink(1024);
      sink.destroy();
      await new Promise((resolve) => setImmediate(resolve)); // its 'close' has been emitted
      expect(await writeSliced(sink, slices, gzip)).toEqual({ slices: 0, complete: false });
      expect(state.taken).toBe(0);
    }
  });

  it('destroys the answer and rejects when a slice fails, so the client never sees a complete-looking answer', async () => {
    for (const gzip of [false, true]) {
      function* failing(): Generator<string> {
        yield 'a 1\n';
        throw new Error('serialiser broke');
      }
      const sink = new Sink(1024);
      await expect(writeSliced(sink, failing(), gzip)).rejects.toThrow('serialiser broke');
      expect(sink.destroyed).toBe(true);
      expect(sink.writableFinished).toBe(false);
    }
  });

  it('ends an empty exposition as an empty answer', async () => {
    const sink = new Sink(1024);
    expect(await writeSliced(sink, [], false)).toEqual({ slices: 0, complete: true });
    expect(sink.bytes.length).toBe(0);
    const zipped = new Sink(1024);
    await writeSliced(zipped, [], true);
    expect(gunzipSync(zipped.bytes).length).toBe(0);
  });
});
