/**
 * Recovering a weak credential from the `user_id` label: with an unsalted hash in the label
 * (`h:` + 12 hex digits of SHA-256), anyone holding a scrape could hash a dictionary and find the password
 * of `curl -u admin:hunter2` in microseconds. The label is now an HMAC under a key the operator controls
 * (`--user-id-key-file`) or a random per-process one: no dictionary hashed without the key matches, two
 * sidecars without a key file disagree, and two with the same key file agree (stable across restarts).
 * For Basic credentials, opaque (non-JWT) bearer tokens and API keys.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretIds } from '../../src/sources/rest/auth.ts';
import { scrape } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { isSidecarOwn, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const DICTIONARY = ['123456', 'password', 'admin', 'letmein', 'qwerty', 'hunter2'];
const KEY = 'operator-chosen-user-id-key-0123456789abcdef';

let upstream: TestUpstream | undefined;
const sidecars: TestSidecar[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const s of sidecars.splice(0)) await s.close();
  await upstream?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  upstream = undefined;
  dir = undefined;
});

interface Shape {
  readonly name: string;
  readonly headers: Record<string, string>;
  /** What the old label hashed for a candidate password. */
  readonly credentialFor: (password: string) => string;
}

const SHAPES: readonly Shape[] = [
  {
    name: 'Basic (curl -u admin:hunter2)',
    headers: { authorization: `Basic ${Buffer.from('admin:hunter2').toString('base64')}` },
    credentialFor: (p) => Buffer.from(`admin:${p}`).toString('base64'),
  },
  { name: 'an opaque bearer token', headers: { authorization: 'Bearer hunter2' }, credentialFor: (p) => p },
  { name: 'an API key', headers: { 'x-api-key': 'hunter2' }, credentialFor: (p) => p },
];

/** The label the sidecar used to write: 12 hex digits of an unsalted SHA-256 of the credential. */
function unkeyed(credential: string): string {
  return `h:${createHash('sha256').update(credential, 'utf8').digest('hex').slice(0, 12)}`;
}

async function rateLimitedUpstream(): Promise<string> {
  upstream = await startUpstream((req, res) => {
    if (isSidecarOwn(req)) return void res.writeHead(404).end();
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"detail":"Rate limit exceeded"}');
  });
  return upstream.url;
}

/** Sends one rate-limited request with `headers` through `sidecar`; the `user_id` it was counted under. */
async function userIdSeenBy(sidecar: TestSidecar, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${sidecar.proxyUrl}/api/v1/tools`, { headers });
  expect(res.status).toBe(429);
  await res.arrayBuffer();
  for (let i = 0; i < 100; i++) {
    const f = (await scrape(sidecar.metricsUrl)).get('mcp_rate_limit_exceeded_total');
    const ids = (f?.samples ?? []).map((s) => s.labels['user_id'] as string);
    if (ids.length > 0) {
      expect(ids).toHaveLength(1);
      return ids[0] as string;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the 429 was never counted');
}

async function fresh(url: string, extra: readonly string[] = []): Promise<TestSidecar> {
  const s = await startSidecar(url, extra);
  sidecars.push(s);
  return s;
}

describe('recovering a weak credential from the user_id label', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: a dictionary hashed without the key matches nothing; sidecars without a key file disagree, with the same key file agree`, async () => {
      const url = await rateLimitedUpstream();
      const dictionary = new Set(DICTIONARY.map((p) => unkeyed(shape.credentialFor(p))));

      // Without a key file: a random key per process.
      const a = await userIdSeenBy(await fresh(url), shape.headers);
      const b = await userIdSeenBy(await fresh(url), shape.headers);
      for (const id of [a, b]) {
        expect(id).toMatch(/^h:[0-9a-f]{12}$/);
        expect(dictionary.has(id)).toBe(false);
      }
      expect(a).not.toBe(b);

      // With the same key file: one value, across two processes (a restart, or replicas).
      dir = mkdtempSync(join(tmpdir(), 'sidecar-user-id-'));
      const keyFile = join(dir, 'key');
      writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
      const c = await userIdSeenBy(await fresh(url, ['--user-id-key-file', keyFile]), shape.headers);
      const d = await userIdSeenBy(await fresh(url, ['--user-id-key-file', keyFile]), shape.headers);
      expect(c).toBe(d);
      expect(dictionary.has(c)).toBe(false);
      // It is the keyed id (the trailing newline of the file is not part of the key), and only the key gives it.
      expect(c).toBe(`h:${new SecretIds(Buffer.from(KEY)).of(shape.credentialFor('hunter2'))}`);
      expect(c).not.toBe(`h:${new SecretIds(Buffer.from(`${KEY}x`)).of(shape.credentialFor('hunter2'))}`);
    });
  }

  it('refuses a key file that is missing or too short to be a key (SIDECAR_E_CONFIG naming the flag, never the content)', async () => {
    const url = await rateLimitedUpstream();
    dir = mkdtempSync(join(tmpdir(), 'sidecar-user-id-'));
    writeFileSync(join(dir, 'short'), 'hunter2\n');
    await expect(startSidecar(url, ['--user-id-key-file', join(dir, 'short')])).rejects.toThrow(
      /--user-id-key-file: key file .*at least 16 bytes \(it has 7\)/,
    );
    await expect(startSidecar(url, ['--user-id-key-file', join(dir, 'missing')])).rejects.toThrow(/--user-id-key-file: cannot read key file .*ENOENT/);
    await expect(startSidecar(url, ['--user-id-key-file', join(dir, 'short')])).rejects.not.toThrow(/hunter2/);
  });
});
