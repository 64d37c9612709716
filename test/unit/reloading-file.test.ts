import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileStamp, ReloadingFile } from '../../src/config/reloading-file.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A file holding a number, checked at every call (checkEveryMs 0); reads and events are recorded. */
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
