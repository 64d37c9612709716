/**
 * Writes an exposition to a `/metrics` response slice by slice (exporters/exposition.ts): each slice is
 * serialised when it is taken, written — compressed as one piece of a gzip member when the scraper asked
 * for gzip — and the event loop runs before the next one (`setImmediate`, after waiting for the socket to
 * drain when a write was refused), so that a scrape of many series never holds proxied requests back for
 * more than one slice. The answer is chunked (no `Content-Length`: its size is known only at the end;
 * Prometheus and every HTTP/1.1 client read chunked answers). When the client goes away the remaining
 * slices are never serialised.
 *
 * Compression runs on the event loop, one slice at a time, at {@link GZIP_LEVEL} (gzip-pieces.ts says why
 * not on libuv's thread pool): each slice is serialised and compressed in one turn, then written.
 */
import { finished, type Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { constants } from 'node:zlib';
import { GzipPieces, type PieceReuse } from './gzip-pieces.ts';

/**
 * zlib's fastest level: on a 10k-series exposition (946 KB) it spends 1.5–1.6 ms of CPU where the default
 * level 6 spends 3.8–4.1, for an answer 10 % larger (40.9 against 37.3 KB, still 23 times smaller than the
 * text). A sidecar shares its CPU with the composer, and the compressor runs on the same cores as the event
 * loop; the bytes cross a cluster network once per scrape interval. docs/performance.md has the figures.
 */
export const GZIP_LEVEL = constants.Z_BEST_SPEED;

/** How a written answer went (for the debugging log of `--debug-scrape-timing`). */
export interface WrittenAnswer {
  /** Slices written. */
  readonly slices: number;
  /** Whether every slice was written and the answer ended (false: the client went away first). */
  readonly complete: boolean;
  /** Slices written as the last complete answer had them compressed (gzip answers given a store only). */
  readonly reused?: number;
}

/** Resolves on the first of `events` on any of `emitters`. */
function first(emitters: readonly NodeJS.EventEmitter[], events: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const e of emitters) for (const name of events) e.off(name, done);
      resolve();
    };
    for (const e of emitters) for (const name of events) e.on(name, done);
  });
}

/**
 * Writes `slices` to `res` (a response whose head is sent, without `Content-Length`; or any writable
 * stream), gzipped when `gzip`; resolves
 * once the answer has ended or the client has gone. A slice that throws destroys the response (the client
 * sees a truncated chunked answer, never a complete-looking one) and rejects. `reuse` (gzip only): the
 * store of the last complete answer of the same kind, whose pieces are written again where a slice's text
 * is the same (gzip-pieces.ts); a complete answer replaces them with its own.
 */
export async function writeSliced(res: Writable, slices: Iterable<string>, gzip: boolean, reuse?: PieceReuse): Promise<WrittenAnswer> {
  // The client may have gone during the collection already: nothing to write, nothing to pipe into.
  if (res.destroyed) return { slices: 0, complete: false };
  let gone = false;
  const onClose = (): void => {
    gone = true;
  };
  res.once('close', onClose);
  const ended = new Promise<void>((resolve) => finished(res, () => resolve()));
  const zipped = gzip ? new GzipPieces(GZIP_LEVEL, reuse) : undefined;
  let written = 0;
  let done = false;
  // Taken one by one, so that nothing is serialised once the client has gone.
  const it = slices[Symbol.iterator]();
  try {
    // The collection ended in the tick that called this: the first slice waits for the next one.
    await nextTurn();
    while (!gone && !res.destroyed) {
      const next = it.next();
      if (next.done === true) {
        done = true;
        break;
      }
      written++;
      // A refused write waits for 'drain'; either way the next slice waits for a later turn: a socket that
      // took the whole write at once emits 'drain' on process.nextTick, still within this turn.
      if (!res.write(zipped === undefined ? next.value : zipped.piece(next.value))) await first([res], ['drain', 'close']);
      await nextTurn();
    }
  } catch (err) {
    res.destroy();
    throw err;
  } finally {
    res.off('close', onClose);
    if (!done) it.return?.();
  }
  const complete = done && !gone && !res.destroyed;
  if (!complete) res.destroy();
  else if (zipped === undefined) res.end();
  else res.end(zipped.end());
  await ended;
  return zipped !== undefined && reuse !== undefined ? { slices: written, complete, reused: zipped.reused } : { slices: written, complete };
}
