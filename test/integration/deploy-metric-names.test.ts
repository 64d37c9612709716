/**
 * No alert and no dashboard panel queries a name the sidecar does not export: every metric name of every
 * PromQL expression in deploy/ (rules, panels, variables) is found in a real scrape of the sidecar after a
 * traffic mix against the demo composer, with the event stream connected and its faults provoked
 * (an invalid event, a cut, a gap too long to replay), an invalid configuration file reloaded, an SSE
 * stream opened through the proxy, a request the proxy refuses, and unknown paths past a label bound low
 * enough to overflow.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoState, requestJson, startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { allExpressions, recordedNames } from '../fixtures/deploy-files.ts';
import { familyOf, metricNames, SYNTHETIC } from '../fixtures/promql-names.ts';
import { connectMcp } from '../fixtures/mcp-client.ts';
import { FULL_TOKEN, MIX_COMPOSER_FLAGS, runScriptedMix } from '../fixtures/rest-traffic.ts';
import { scrape, value, type Family } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

const post = (url: string, body: unknown = {}) =>
  requestJson(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/** A request line in absolute form, which the proxy refuses (400, `sidecar_proxy_errors_total{kind="bad_request"}`). */
function absoluteFormRequest(proxyUrl: string): Promise<void> {
  const { hostname, port } = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end('GET http://elsewhere.example/ HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n'));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

/** Opens the MCP SSE stream through the proxy, reads its first bytes, and closes it. */
async function openAndCloseSse(proxyUrl: string): Promise<void> {
  const ctl = new AbortController();
  const res = await fetch(`${proxyUrl}/sse`, { signal: ctl.signal, headers: { accept: 'text/event-stream' } });
  await res.body?.getReader().read();
  ctl.abort();
}

describe('metric names in deploy/', () => {
  let composer: DemoComposer;
  let sidecar: TestSidecar;
  let dir: string;
  let families: Map<string, Family>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sidecar-deploy-names-'));
    writeFileSync(join(dir, 'token'), FULL_TOKEN, { mode: 0o600 });
    composer = await startDemoComposer(['--test-control', ...MIX_COMPOSER_FLAGS, '--keepalive-interval', '200ms', '--event-buffer', '6']);
    sidecar = await startSidecar(composer.url, [
      '--upstream-token-file',
      join(dir, 'token'),
      '--poll-interval',
      '250ms',
      '--events-idle-timeout',
      '2s',
      '--max-label-values',
      '3',
      '--mcp-pending-timeout',
      '300ms',
      '--memory-limit',
      '1Gi',
    ]);
    await waitFor(async () => value(await scrape(sidecar.metricsUrl), 'sidecar_event_stream_connected') === 1, { what: 'the event stream to connect' });
    await runScriptedMix(sidecar.proxyUrl, composer.url);
    // Paths the composer does not serve, more than --max-label-values: their endpoint label overflows (route
    // templates are known in advance and never do).
    for (const word of ['alpha', 'bravo', 'charlie', 'delta', 'echo']) await (await fetch(`${sidecar.proxyUrl}/nosuch/${word}`)).text();
    // MCP traffic: a call that outlives --mcp-pending-timeout (a timeout drop), and a body no parser can read.
    const mcp = await connectMcp('sse', sidecar.proxyUrl);
    await mcp.client.callTool({ name: 'clock_sleep', arguments: { ms: 700 } });
    await mcp.client.close();
    await (
      await fetch(`${sidecar.proxyUrl}/mcp`, {
        method: 'POST',
        body: 'not json',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      })
    ).text();
    await openAndCloseSse(sidecar.proxyUrl);
    await absoluteFormRequest(sidecar.proxyUrl);
    await post(`${composer.url}/__demo/events/inject`, { type: 'server.crashed', raw: '{"not json' });
    // While the stream is connected, validation failures are counted from its events: break the file.
    await writeFile((await demoState(composer.url)).config_path, '{"servers": [');
    await requestJson(`${composer.url}/api/v1/config/reload`, { method: 'POST', headers: { authorization: `Bearer ${FULL_TOKEN}` } });
    await waitFor(async () => value(await scrape(sidecar.metricsUrl), 'mcp_config_validation_errors_total') >= 1, { what: 'the failed reload to be counted' });
    // Cut the stream and emit more events than the composer keeps: the reconnection finds a gap.
    await post(`${composer.url}/__demo/events/disconnect`);
    await post(`${composer.url}/__demo/events/fill`, { count: 50 });
    families = await waitFor(
      async () => {
        const m = await scrape(sidecar.metricsUrl);
        const ready =
          value(m, 'sidecar_event_gaps_total') >= 1 &&
          value(m, 'sidecar_event_stream_connected') === 1 &&
          value(m, 'sidecar_events_invalid_total') >= 1 &&
          value(m, 'sidecar_mcp_pending_dropped_total', { reason: 'timeout' }) >= 1;
        return ready ? m : undefined;
      },
      { what: 'the gap to be counted and the stream to reconnect', timeoutMs: 20_000 },
    );
  }, 120_000);

  afterAll(async () => {
    await sidecar?.close();
    await composer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every name queried by a rule, a panel or a variable is a family of a real scrape (histogram samples of a histogram) or a recorded series', () => {
    const histograms = new Set([...families.values()].filter((f) => f.type === 'HISTOGRAM').map((f) => f.name));
    const missing: string[] = [];
    let checked = 0;
    for (const { origin, expr } of allExpressions()) {
      for (const name of metricNames(expr)) {
        checked++;
        // Prometheus's own series, and those the recording rules make (their expressions are checked too).
        if (SYNTHETIC.has(name) || recordedNames().has(name)) continue;
        if (!families.has(familyOf(name, histograms))) missing.push(`${origin}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
    expect(checked).toBeGreaterThan(60);
  });

  it('the event stream families the rules and panels rely on are there, with the snapshot counted as an event', () => {
    expect(value(families, 'sidecar_events_received_total', { type: 'snapshot' })).toBeGreaterThanOrEqual(1);
    expect(value(families, 'sidecar_event_stream_reconnects_total')).toBeGreaterThanOrEqual(1);
    expect(value(families, 'sidecar_label_overflow_total')).toBeGreaterThan(0);
    expect(value(families, 'sidecar_proxy_errors_total', { kind: 'bad_request' })).toBe(1);
  });
});
