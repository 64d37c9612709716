/**
 * The status page in a real browser (Debian's Chromium via playwright-core) against a sidecar in front of
 * the demo composer under the demo's own traffic: the tables show what the scrape says, a kill -9 of a child
 * shows up within 5 s, the data needs the token, names from traffic are text, and the page makes no request
 * anywhere but the sidecar's metrics port.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Traffic } from '../../demo/traffic.ts';
import { hasChromium, launchChromium, CHROMIUM, type TestBrowser } from '../fixtures/browser.ts';
import { serverState, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp } from '../fixtures/mcp-client.ts';
import { scrape, type Family } from '../fixtures/scrape.ts';
import { ROOT, startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';

const SCREENSHOT = join(ROOT, 'test-results', 'status-page.png');
const title = hasChromium ? 'status page in Chromium' : `status page in Chromium (skipped: ${CHROMIUM} is not installed; .ci/run installs Debian's chromium)`;

/**
 * Sums of a counter family by one label, for the values that moved: the page lists what happened, and a
 * tool the inventory knows is exported at 0 before its first call (docs/metrics.md).
 */
function byLabel(families: Map<string, Family>, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of families.get(name)?.samples ?? []) {
    const k = s.labels[label] ?? '';
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

/** A table of the page as (row name → value of one column). */
async function column(page: Page, table: string, col: string): Promise<Map<string, number>> {
  const rows = await page.$$eval(
    `#${table} tbody tr`,
    (trs, c) => trs.map((tr) => [tr.getAttribute('data-name') ?? '', tr.querySelector(`td[data-col="${c}"]`)?.getAttribute('data-value') ?? ''] as const),
    col,
  );
  return new Map(rows.map(([n, v]) => [n, Number(v)]));
}

/** Waits until the page shows a snapshot generated after `t` (ms since the epoch). */
async function freshSnapshot(page: Page, t: number): Promise<void> {
  // Polled through locators: the page's CSP refuses string evaluation (no 'unsafe-eval').
  await expect.poll(async () => Date.parse((await page.locator('body').getAttribute('data-generated-at')) ?? '') > t, { timeout: 10_000 }).toBe(true);
}

describe.skipIf(!hasChromium)(title, () => {
  let composer: DemoComposer;
  let sidecar: TestSidecar;
  let browser: TestBrowser;
  let statusUrl: string;
  let origin: string;
  const requested: string[] = [];

  const open = async (fragment: string): Promise<Page> => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1600, height: 1000 });
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${statusUrl}${fragment}`);
    return page;
  };

  beforeAll(async () => {
    composer = await startDemoComposer(['--servers', '3', '--test-control']);
    sidecar = await startSidecar(composer.url);
    statusUrl = sidecar.metricsUrl.replace(/\/metrics$/, '/status');
    origin = new URL(statusUrl).origin;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sidecar?.close();
    await composer?.close();
  });

  it('shows the tools, resources and endpoints the demo traffic used, with the counts of the scrape', async () => {
    const page = await open(`#token=${TEST_TOKEN}`);
    const traffic = new Traffic({ baseUrl: sidecar.proxyUrl, rate: 25, crashEveryMs: 0 });
    traffic.start();
    await waitFor(() => traffic.stats.requests >= 40, { timeoutMs: 20_000, what: '40 demo actions' });
    await traffic.stop();
    const stopped = Date.now();
    await freshSnapshot(page, stopped);

    const families = await scrape(sidecar.metricsUrl);
    const tools = byLabel(families, 'mcp_tool_invocations_total', 'tool_id');
    expect(tools.size).toBeGreaterThanOrEqual(3);
    expect(await column(page, 'tools', 'calls')).toEqual(tools);
    expect(await column(page, 'resources', 'calls')).toEqual(byLabel(families, 'mcp_resource_reads_total', 'resource_uri'));
    const errors = byLabel(families, 'mcp_tool_invocation_errors_total', 'tool_id');
    const pageErrors = await column(page, 'tools', 'errors');
    for (const [tool, n] of errors) expect(pageErrors.get(tool), tool).toBe(n);
    // HTTP by endpoint: the page's (method, endpoint) rows add up to mcp_http_requests_total.
    const http = await page.$$eval('#http tbody tr', (trs) => trs.map((tr) => Number(tr.querySelector('td[data-col="calls"]')?.getAttribute('data-value'))));
    expect(http.reduce((a, b) => a + b, 0)).toBe([...byLabel(families, 'mcp_http_requests_total', 'endpoint').values()].reduce((a, b) => a + b, 0));
    // Windows: the tools called in the last minute have a rate and a p95.
    const p95 = await column(page, 'tools', 'w1m.p95');
    expect([...p95.values()].some((v) => v > 0)).toBe(true);
    expect(await page.locator('#sources').textContent()).toContain('lifecycle the moment it happens (event stream)');
    await expect.poll(() => page.locator('#stream').getAttribute('data-state')).toBe('up');
    await expect.poll(() => page.locator('#upstream').getAttribute('data-state')).toBe('up');
    // The token left the address bar and is kept nowhere but in the script's memory.
    expect(page.url()).not.toContain(TEST_TOKEN);
    expect(await page.evaluate(() => localStorage.length + sessionStorage.length)).toBe(0);
    expect(await browser.context.cookies()).toEqual([]);

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
    await page.close();
  }, 60_000);

  it('shows a crash (kill -9 of a child server) within 5 s', async () => {
    const page = await open(`#token=${TEST_TOKEN}`);
    await page.waitForSelector('#servers tbody tr[data-name="calc"]', { timeout: 10_000 });
    const crashesOf = () => page.locator('#servers tr[data-name="calc"] td[data-col="crashes"]').getAttribute('data-value');
    const before = Number(await crashesOf());
    await waitFor(async () => (await serverState(composer.url, 'calc')).state === 'running', { what: 'calc running' });
    const { pid } = await serverState(composer.url, 'calc');
    expect(pid).not.toBeNull();
    process.kill(pid ?? 0, 'SIGKILL');
    await expect.poll(async () => Number(await crashesOf()), { timeout: 5000, interval: 100 }).toBe(before + 1);
    await page.close();
  }, 30_000);

  it('without the token the data answers 401 and the page says so; a wrong token is refused the same way', async () => {
    const res = await fetch(`${origin}/status.json`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    const page = await open('');
    await page.waitForSelector('#auth:not([hidden])');
    expect(await page.locator('#auth-message').textContent()).toContain('401');
    expect(await page.locator('#content').isHidden()).toBe(true);
    await page.fill('#token-input', 'not-the-token');
    await page.click('#token-form button');
    await expect.poll(() => page.locator('#auth-message').textContent()).toContain('not accepted');
    // The form is read by the script, never submitted: the token never reaches a URL.
    expect(page.url()).toBe(statusUrl);
    await page.fill('#token-input', TEST_TOKEN);
    await page.click('#token-form button');
    await page.waitForSelector('#content:not([hidden])');
    expect(page.url()).toBe(statusUrl);
    await page.close();
  }, 30_000);

  it('stored XSS: a tool name carrying markup is shown as text and never runs', async () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    const { client } = await connectMcp('streamable_http', sidecar.proxyUrl);
    await client.callTool({ name: evil, arguments: {} }).catch(() => undefined);
    await client.close();
    const page = await open(`#token=${TEST_TOKEN}`);
    const t = Date.now();
    await freshSnapshot(page, t);
    await expect
      .poll(() => page.locator('#tools tbody tr').evaluateAll((trs, n) => trs.some((tr) => tr.getAttribute('data-name') === n), evil), { timeout: 10_000 })
      .toBe(true);
    expect(await page.locator('#tools img').count()).toBe(0);
    expect(await page.locator('body').evaluate((body) => Object.hasOwn(body.ownerDocument.defaultView ?? {}, '__pwned'))).toBe(false);
    await page.close();
  }, 30_000);

  it('is served with a strict Content-Security-Policy and makes no request outside the sidecar', async () => {
    const page = await browser.context.newPage();
    const res = await page.goto(statusUrl);
    const csp = res?.headers()['content-security-policy'] ?? '';
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) expect(csp).toContain(d);
    expect(res?.headers()['x-content-type-options']).toBe('nosniff');
    await page.close();
    expect(requested.length).toBeGreaterThan(0);
    for (const url of requested) expect(new URL(url).origin, url).toBe(origin);
    // Nor did the sidecar ever log the token.
    expect(sidecar.rawLogs.join('')).not.toContain(TEST_TOKEN);
  });
});
