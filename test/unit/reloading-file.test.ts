import { appendFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SETTLE_MS, fileModifiedAt, fileStamp, ReloadingFile } from '../../src/config/reloading-file.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A file holding a number, checked at every call (checkEveryMs 0), read as soon as it changed (settleMs 0); reads and events are recorded. */
function numberFile(initial: string) {
  dir = mkdtempSync(join(tmpdir(), 'reloading-'));
  const path = join(dir, 'value');
  writeFileSync(path, initial);
  const events: string[] = [];
  let reads = 0;
  const file = new ReloadingFile<number>(
    {
      stamp: () => fileStamp(path),
      read: () => {
        reads++;
        const n = Number.parseInt(readFileSync(path, 'utf8'), 10);
        if (Number.isNaN(n)) throw new Error('not a number');
        return n;
      },
      onReloaded: (next, previous, wasFailing) => events.push(`reloaded ${previous}→${next}${wasFailing ? ' after failure' : ''}`),
      onFailed: (err) => events.push(`failed: ${(err as Error).message}`),
    },
    0,
    0,
  );
  return { path, file, events, reads: () => reads };
}

describe('ReloadingFile', () => {
  it('reads again only when the stamp changes', () => {
    const f = numberFile('1');
    expect(f.file.value).toBe(1);
    expect(f.file.check()).toBeUndefined();
    expect(f.reads()).toBe(1);
    writeFileSync(f.path, '22'); // another size: another stamp whatever the mtime resolution
    expect(f.file.check()).toBe(22);
    expect(f.file.value).toBe(22);
    expect(f.events).toEqual(['reloaded 1→22']);
  });

  it('keeps the last good value through a bad file, reports it once, retries at every check and recovers', () => {
    const f = numberFile('1');
    writeFileSync(f.path, 'xx');
    expect(f.file.check()).toBeUndefined();
    expect(f.file.check()).toBeUndefined();
    expect(f.file.value).toBe(1);
    expect(f.reads()).toBe(3); // retried although the stamp did not change again
    writeFileSync(f.path, '333');
    expect(f.file.check()).toBe(333);
    expect(f.events).toEqual(['failed: not a number', 'reloaded 1→333 after failure']);
  });

  it('treats a file that cannot be stat-ed as changed, and a read that fails as a failure', () => {
    const f = numberFile('1');
    rmSync(f.path);
    expect(fileStamp(f.path)).toBeUndefined();
    expect(f.file.check()).toBeUndefined();
    expect(f.file.value).toBe(1);
    expect(f.events).toHaveLength(1);
    expect(f.events[0]).toMatch(/^failed: /);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A text file reloaded like a token file (stamp and mtime), checked at every call, settling for `settleMs`. */
function textFile(initial: string, settleMs: number) {
  dir = mkdtempSync(join(tmpdir(), 'reloading-'));
  const path = join(dir, 'token');
  writeFileSync(path, initial);
  // Written long ago, like a mounted Secret.
  utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const file = new ReloadingFile<string>(
    {
      stamp: () => fileStamp(path),
      modifiedAt: () => fileModifiedAt(path),
      read: () => {
        const t = readFileSync(path, 'utf8').trim();
        if (t === '') throw new Error('empty');
        return t;
      },
    },
    0,
    settleMs,
  );
  return { path, file };
}

describe('ReloadingFile and a file written in place in several steps', () => {
  it('never reads the prefix of a token written in two steps with a pause; reads the whole token once it has settled', async () => {
    // The writer's pause (50 ms) is far below the settle time (1 s), so that a loaded machine cannot stretch it past.
    const f = textFile('old-token', 1000);
    const seen = new Set<string>();
    const watch = setInterval(() => {
      f.file.check();
      seen.add(f.file.value);
    }, 5);
    try {
      writeFileSync(f.path, ''); // `>` truncates first
      await sleep(20);
      appendFileSync(f.path, 'new-');
      await sleep(50); // the writer pauses
      appendFileSync(f.path, 'token-0123456789');
      for (let i = 0; i < 300 && f.file.value !== 'new-token-0123456789'; i++) await sleep(10);
    } finally {
      clearInterval(watch);
    }
    seen.add(f.file.value);
    expect(f.file.value).toBe('new-token-0123456789');
    expect([...seen]).toEqual(['old-token', 'new-token-0123456789']);
  });

  it('reads at once a change that settled before it was first seen (a rotation is not delayed)', () => {
    const f = textFile('old-token', 200);
    writeFileSync(f.path, 'rotated-token');
    utimesSync(f.path, new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    expect(f.file.check()).toBe('rotated-token');
  });

  it('reads a change first seen unsettled once it has settled, without waiting for the next check', async () => {
    const f = textFile('old-token', 100);
    writeFileSync(f.path, 'rotated-token');
    expect(f.file.check()).toBeUndefined();
    expect(f.file.value).toBe('old-token');
    for (let i = 0; i < 100 && f.file.value === 'old-token'; i++) await sleep(10);
    expect(f.file.value).toBe('rotated-token');
  });

  it('reads a file whose mtime lies in the future once it has been seen unchanged for the settle time', async () => {
    const f = textFile('old-token', 100);
    writeFileSync(f.path, 'rotated-token');
    utimesSync(f.path, new Date(Date.now() + 3_600_000), new Date(Date.now() + 3_600_000));
    expect(f.file.check()).toBeUndefined();
    for (let i = 0; i < 100 && f.file.value === 'old-token'; i++) await sleep(10);
    expect(f.file.value).toBe('rotated-token');
  });

  it('settles for half a second by default', () => {
    expect(DEFAULT_SETTLE_MS).toBe(500);
  });
});
