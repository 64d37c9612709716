/**
 * A token file written in place, not atomically (`echo new > token` truncates, then writes; a writer may
 * pause between two writes): the half-written file — empty, or a prefix of the new token — is never
 * accepted as the token, the previous token stays in use meanwhile, and the whole new token is accepted
 * once the file has settled. For the metrics port's token (`--metrics-token-file`, through a real metrics
 * port) and the upstream token (`--upstream-token-file`, through the real inventory poller).
 *
 * The files are checked at every use and settle for 1 s here (the defaults: checked at most every second, 500 ms).
 */
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdminServer, type AdminServer } from '../../src/admin/server.ts';
import { FileToken } from '../../src/admin/token.ts';
import { SecretFile } from '../../src/config/secret-file.ts';
import { InventoryPoller } from '../../src/sources/poll/poller.ts';
import { Inventory } from '../../src/ledger/inventory.ts';
import { createLogger } from '../../src/log.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const OLD = 'old-token-0123456789';
const NEW = 'new-token-abcdefghijklmnop';
const PREFIX = NEW.slice(0, 10);
/** Far above the writer's pause (50 ms), so that a loaded machine cannot stretch the pause past it. */
const SETTLE_MS = 1000;

let dir: string | undefined;
let admin: AdminServer | undefined;
let upstream: TestUpstream | undefined;
let poller: InventoryPoller | undefined;
afterEach(async () => {
  await admin?.close();
  await poller?.stop();
  await upstream?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  admin = undefined;
  poller = undefined;
  upstream = undefined;
  dir = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tokenFile(): string {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-token-'));
  const path = join(dir, 'token');
  writeFileSync(path, `${OLD}\n`);
  // Mounted long ago.
  utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  return path;
}

/** Rewrites `path` in place: truncate, the prefix, a pause, the rest (while `during` keeps running). */
async function writeInTwoSteps(path: string): Promise<void> {
  writeFileSync(path, '');
  await sleep(30);
  appendFileSync(path, PREFIX);
  await sleep(50);
  appendFileSync(path, `${NEW.slice(PREFIX.length)}\n`);
}

describe('a token file written in place in two steps', () => {
  it('metrics token: the prefix is never accepted, the old token is until the new one has settled, then only the new one', async () => {
    const path = tokenFile();
    admin = createAdminServer({
      listen: { host: '127.0.0.1', port: 0 },
      token: new FileToken(path, 0, undefined, SETTLE_MS),
      scrape: async () => ({ slices: ['x 1\n'] }),
      ready: () => true,
    });
    const { port } = await admin.listen();
    const status = async (token: string): Promise<number> =>
      (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status;
    const accepted: Record<string, number> = { old: 0, prefix: 0, empty: 0, new: 0 };
    let stop = false;
    const watching = (async () => {
      while (!stop) {
        if ((await status(OLD)) === 200) accepted['old']!++;
        if ((await status(PREFIX)) === 200) accepted['prefix']!++;
        if ((await status(NEW)) === 200) accepted['new']!++;
        await sleep(5);
      }
    })();
    try {
      await writeInTwoSteps(path);
      for (let i = 0; i < 300 && (await status(NEW)) !== 200; i++) await sleep(10);
    } finally {
      stop = true;
      await watching;
    }
    expect(accepted['prefix']).toBe(0);
    expect(accepted['old']).toBeGreaterThan(0);
    expect(await status(NEW)).toBe(200);
    expect(await status(OLD)).toBe(401);
  });

  it('upstream token: the poller never sends the prefix (or an empty token); it sends the old one until the new one has settled, then the new one', async () => {
    const path = tokenFile();
    const sent: string[] = [];
    upstream = await startUpstream((req, res) => {
      sent.push(String(req.headers.authorization ?? ''));
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    });
    const file = new SecretFile(path, 0, undefined, SETTLE_MS);
    const logger = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }), traceContext: false });
    poller = new InventoryPoller(
      { origin: new URL(upstream.url), intervalMs: 60_000, timeoutMs: 2000, token: () => file.value() },
      new Inventory(),
      { onFacts: () => undefined },
      logger,
    );
    let stop = false;
    const polling = (async () => {
      while (!stop) {
        await poller!.pollOnce();
        await sleep(5);
      }
    })();
    try {
      await writeInTwoSteps(path);
      for (let i = 0; i < 300 && sent.at(-1) !== `Bearer ${NEW}`; i++) await sleep(10);
    } finally {
      stop = true;
      await polling;
    }
    const distinct = [...new Set(sent)];
    expect(distinct).toEqual([`Bearer ${OLD}`, `Bearer ${NEW}`]);
  });
});
