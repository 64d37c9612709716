/**
 * `/status.json` and the status page's files on the metrics port, without a browser: the data behind the
 * metrics token (never taken from a query string), the page's files without it (they hold no data), the
 * security headers, and what the JSON says of a composer as released (no REST, no event stream).
 */
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp } from '../fixtures/mcp-client.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';

let composer: DemoComposer | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await composer?.close();
  sidecar = composer = undefined;
});

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const base = (s: TestSidecar): string => s.metricsUrl.replace(/\/metrics$/, '');

interface Snapshot {
  sources: { detected: boolean; found: string[]; blind: string[]; running: string[] };
  families: { fed: { family: string; from: string[] }[]; notFed: string[] } | null;
  eventStream: { state: string };
  servers: unknown[];
  tools: { name: string; calls: number; errors: number }[];
  prompts: { name: string; calls: number }[];
  http: { name: string; method: string; calls: number }[];
}

describe('/status.json', () => {
  it('token theft: answers 401 without the token, with a wrong one, and with the token in a query string; never echoes it', async () => {
    composer = await startDemoComposer(['--servers', '1']);
    sidecar = await startSidecar(composer.url);
    const cases: [string, Record<string, string>][] = [
      ['/status.json', {}],
      ['/status.json', { authorization: 'Bearer wrong-token' }],
      [`/status.json?token=${TEST_TOKEN}`, {}],
      [`/status.json#token=${TEST_TOKEN}`, {}],
    ];
    for (const [path, headers] of cases) {
      const res = await fetch(`${base(sidecar)}${path}`, { headers });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.text()).not.toContain(TEST_TOKEN);
    }
    const ok = await fetch(`${base(sidecar)}/status.json`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(sidecar.rawLogs.join('')).not.toContain(TEST_TOKEN);
  });

  it('serves the page files without a token, with a strict CSP, ETags and no other method than GET/HEAD', async () => {
    composer = await startDemoComposer(['--servers', '1']);
    sidecar = await startSidecar(composer.url);
    for (const [path, type] of [
      ['/status', 'text/html'],
      ['/status/app.js', 'text/javascript'],
      ['/status/app.css', 'text/css'],
    ] as const) {
      const res = await fetch(`${base(sidecar)}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const etag = res.headers.get('etag') ?? '';
      expect((await fetch(`${base(sidecar)}${path}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
      expect((await fetch(`${base(sidecar)}${path}`, { method: 'POST' })).status).toBe(405);
    }
    const html = await (await fetch(`${base(sidecar)}/status`)).text();
    // Nothing inline, nothing from elsewhere.
    expect(html).not.toMatch(/<script>|<style>|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
    expect((await fetch(`${base(sidecar)}/status/other.js`)).status).toBe(404);
    // Relative references only: the page also works when the metrics port is mounted under a prefix.
    expect(html).toContain('src="status/app.js"');
    expect(html).toContain('href="status/app.css"');
    expect(await (await fetch(`${base(sidecar)}/status/app.js`)).text()).toContain("fetch('status.json'");
  });

  it('gzips when asked, as /metrics does', async () => {
    composer = await startDemoComposer(['--servers', '1']);
    sidecar = await startSidecar(composer.url);
    const { request } = await import('undici');
    const res = await request(`${base(sidecar)}/status.json`, { headers: { ...auth, 'accept-encoding': 'gzip' } });
    expect(res.headers['content-encoding']).toBe('gzip');
    const body = JSON.parse(gunzipSync(Buffer.from(await res.body.arrayBuffer())).toString('utf8')) as { schema: number };
    expect(body.schema).toBe(1);
  });

  it('says what a composer as released lets the sidecar see: MCP traffic, no servers, no lifecycle, the families left absent', async () => {
    composer = await startDemoComposer(['--servers', '2', '--profile', 'released']);
    sidecar = await startSidecar(composer.url);
    const { client } = await connectMcp('sse', sidecar.proxyUrl);
    await client.callTool({ name: 'calc_add', arguments: { a: 1, b: 2 } });
    await client.callTool({ name: 'calc_fail', arguments: {} });
    await client.getPrompt({ name: 'calc_explain', arguments: { topic: 'sums' } });
    await client.getPrompt({ name: 'calc_explain', arguments: { topic: 'products' } });
    await client.close();
    const url = `${base(sidecar)}/status.json`;
    const snap = await waitFor(
      async () => {
        const s = (await (await fetch(url, { headers: auth })).json()) as Snapshot;
        return s.sources.detected && s.eventStream.state === 'unavailable' && s.tools.length >= 2 && s.prompts.length >= 1 ? s : undefined;
      },
      { what: 'detection, the stream probe, two tool rows and a prompt row' },
    );
    expect(snap.sources.found).toEqual(['sse', 'tools_list']);
    expect(snap.sources.running).toEqual(['rest_observer', 'mcp_tap', 'event_stream', 'mcp_inventory']);
    expect(snap.sources.blind.join('; ')).toContain('server lifecycle');
    expect(snap.servers).toEqual([]);
    expect(snap.families?.notFed).toEqual(expect.arrayContaining(['mcp_server_crashes_total', 'mcp_composer_info', 'mcp_auth_attempts_total']));
    expect(snap.families?.fed.find((f) => f.family === 'mcp_tool_invocations_total')?.from).toEqual(['mcp_traffic']);
    expect(snap.families?.fed.find((f) => f.family === 'mcp_tools_total')?.from).toEqual(['mcp_listing']);
    const families = await scrape(sidecar.metricsUrl);
    for (const t of snap.tools) expect(t.calls, t.name).toBe(value(families, 'mcp_tool_invocations_total', { tool_id: t.name }));
    expect(snap.tools.find((t) => t.name === 'calc_fail')?.errors).toBe(1);
    // Prompts: the count of mcp_server_operation_duration_seconds for prompts/get of that prompt.
    const prompts = (families.get('mcp_server_operation_duration_seconds')?.histograms ?? []).filter(
      (h) => h.labels['mcp_method_name'] === 'prompts/get' && h.labels['gen_ai_prompt_name'] === 'calc_explain',
    );
    expect(snap.prompts).toEqual([expect.objectContaining({ name: 'calc_explain', calls: 2 })]);
    expect(prompts.reduce((a, h) => a + h.count, 0)).toBe(2);
    // A family the JSON says nothing feeds has nothing but series at 0 in the scrape (or none at all): the
    // series known in advance (docs/metrics.md) exist from start-up, and no source ever moves them here.
    for (const f of snap.families?.notFed ?? []) expect(families.get(f)?.samples.filter((s) => s.value !== 0) ?? [], f).toEqual([]);
  });

  it('names the sources that run, and feeds no family from a source that does not run (--no-events, --mcp-inventory off)', async () => {
    const snapshotOf = async (s: TestSidecar, ready: (snap: Snapshot) => boolean): Promise<Snapshot> =>
      waitFor(
        async () => {
          const snap = (await (await fetch(`${base(s)}/status.json`, { headers: auth })).json()) as Snapshot;
          return snap.sources.detected && ready(snap) ? snap : undefined;
        },
        { what: 'detection' },
      );
    const from = (snap: Snapshot, family: string) => snap.families?.fed.find((f) => f.family === family)?.from;

    composer = await startDemoComposer(['--servers', '1']);
    sidecar = await startSidecar(composer.url);
    let snap = await snapshotOf(sidecar, (x) => x.sources.running.includes('rest_poller'));
    expect(snap.sources.running).toEqual(['rest_observer', 'mcp_tap', 'event_stream', 'rest_poller']);
    expect(from(snap, 'mcp_server_crashes_total')).toEqual(['poll_differences', 'event_stream']);
    await sidecar.close();
    sidecar = await startSidecar(composer.url, ['--no-events']);
    snap = await snapshotOf(sidecar, (x) => x.sources.running.includes('rest_poller'));
    expect(snap.sources.found).toContain('events');
    expect(snap.sources.running).toEqual(['rest_observer', 'mcp_tap', 'rest_poller']);
    expect(from(snap, 'mcp_server_crashes_total')).toEqual(['poll_differences']);
    await sidecar.close();
    await composer.close();

    composer = await startDemoComposer(['--servers', '1', '--profile', 'released']);
    sidecar = await startSidecar(composer.url, ['--mcp-inventory', 'off']);
    snap = await snapshotOf(sidecar, (x) => x.eventStream.state === 'unavailable');
    expect(snap.sources.running).toEqual(['rest_observer', 'mcp_tap', 'event_stream']);
    expect(snap.families?.notFed).toEqual(expect.arrayContaining(['mcp_tools_total', 'mcp_prompts_total']));
    expect(from(snap, 'mcp_tool_invocations_total')).toEqual(['mcp_traffic']);
  });

  it('holds no query string from traffic', async () => {
    composer = await startDemoComposer(['--servers', '1']);
    const s = (sidecar = await startSidecar(composer.url));
    await fetch(`${s.proxyUrl}/api/v1/tools?api_key=very-secret-value`);
    const text = await waitFor(async () => {
      const t = await (await fetch(`${base(s)}/status.json`, { headers: auth })).text();
      return t.includes('/api/v1/tools') ? t : undefined;
    });
    expect(text).not.toContain('very-secret-value');
    expect(text).not.toContain('api_key');
  });
});
