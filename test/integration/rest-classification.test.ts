/**
 * Classification never changes what passes through: unknown paths, non-JSON bodies and bodies over the
 * capture limit are proxied byte for byte, and classification degrades to the status code.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let composer: DemoComposer | undefined;
let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await composer?.close();
  await upstream?.close();
  sidecar = composer = upstream = undefined;
});

async function raw(url: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: Buffer }> {
  const res = await fetch(url, init);
  return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
}

describe('REST classification on odd input', () => {
  it('proxies unknown paths and malformed JSON bodies exactly as the composer answers them', async () => {
    composer = await startDemoComposer(['--no-events']);
    sidecar = await startSidecar(composer.url);
    const cases: Array<[string, RequestInit | undefined]> = [
      ['/api/v1/unknown/thing', undefined],
      ['/api/v1/tools/calc.add/invoke', { method: 'POST', body: 'not json{', headers: { 'content-type': 'application/json' } }],
      ['/api/v1/config/validate', { method: 'POST', body: '[1,2', headers: { 'content-type': 'application/json' } }],
      ['/api/v1/servers/nope/restart', { method: 'POST' }],
    ];
    for (const [path, init] of cases) {
      const direct = await raw(`${composer.url}${path}`, init);
      const proxied = await raw(`${sidecar.proxyUrl}${path}`, init);
      expect(proxied.status, path).toBe(direct.status);
      expect(proxied.type, path).toBe(direct.type);
      expect(proxied.body.equals(direct.body), path).toBe(true);
    }
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc.add', status: 'error' })).toBe(1);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc.add', error_type: 'validation' })).toBe(1);
    expect(value(m, 'mcp_server_restarts_total')).toBe(0);
    expect(value(m, 'mcp_config_validation_errors_total')).toBe(0);
  });

  it('counts a non-JSON or oversized invoke answer by its status, as unclassified, and passes it through unchanged', async () => {
    const big = JSON.stringify({ success: false, result: randomBytes(6000).toString('hex') });
    upstream = await startUpstream(async (req, res) => {
      await readBody(req);
      if (req.url === '/api/v1/tools/t.text/invoke') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('OK, done');
      }
      if (req.url === '/api/v1/tools/t.big/invoke') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(big);
      }
      res.writeHead(404);
      res.end();
    });
    sidecar = await startSidecar(upstream.url, ['--body-capture-limit', '1kb']);
    const text = await raw(`${sidecar.proxyUrl}/api/v1/tools/t.text/invoke`, { method: 'POST', body: '{}' });
    expect(text.body.toString()).toBe('OK, done');
    const bigAnswer = await raw(`${sidecar.proxyUrl}/api/v1/tools/t.big/invoke`, { method: 'POST', body: '{}' });
    expect(bigAnswer.body.toString()).toBe(big);
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 't.text', status: 'success' })).toBe(1);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 't.big', status: 'success' })).toBe(1);
    expect(value(m, 'sidecar_rest_unclassified_total', { reason: 'not_json' })).toBe(1);
    expect(value(m, 'sidecar_rest_unclassified_total', { reason: 'too_large' })).toBe(1);
  });
});
