/**
 * The guarantee "an observer's bug never reaches a client", checked the way anyone can check it: the real
 * CLI as a child process with `SIDECAR_TEST_OBSERVER_FAULT=throw`, whose extra observer throws from every
 * hook of the observation bus and from a tap on every exchange (each body chunk both ways). Bodies stay
 * byte-identical, SSE unbuffered, MCP calls answered as directly, the process up after 1,000 requests, the
 * failures counted, and the other observers' counts exact.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createHash, randomBytes } from 'node:crypto';
import { request, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { OBSERVER_FAILURE_LIMIT } from '../../src/observe/bus.ts';
import { FAULT_OBSERVER } from '../../src/observe/fault-observer.ts';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp, MCP_KINDS, type ConnectedClient } from '../fixtures/mcp-client.ts';
import { histogram, scrape, value, type Family } from '../fixtures/scrape.ts';
import { localArgs, spawnSidecar, type SpawnedSidecar } from '../fixtures/sidecar.ts';
import { readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const FAULT_ENV = { SIDECAR_TEST_OBSERVER_FAULT: 'throw' };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let upstream: TestUpstream | undefined;
let composer: DemoComposer | undefined;
let sidecar: SpawnedSidecar | undefined;
const clients: ConnectedClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.client.close().catch(() => undefined)));
  await sidecar?.stop();
  await upstream?.close();
  await composer?.close();
  sidecar = undefined;
  upstream = undefined;
  composer = undefined;
});

async function faultySidecar(upstreamUrl: string): Promise<SpawnedSidecar> {
  const s = await spawnSidecar([...localArgs(upstreamUrl), '--no-events', '--log-level', 'info'], FAULT_ENV);
  expect(logs(s).find((l) => l.event === 'test_observer_fault')?.level).toBe('warn');
  return s;
}

function logs(s: SpawnedSidecar): Array<Record<string, unknown>> {
  return s.stdout.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

function faultFailures(m: Map<string, Family>): number {
  return value(m, 'sidecar_observer_errors_total', { observer: FAULT_OBSERVER });
}

function post(url: string, body: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('with SIDECAR_TEST_OBSERVER_FAULT=throw (a real CLI process)', () => {
  it('carries a 1 MiB upload and a 1 MiB download byte-identical while the observer throws on every chunk both ways', async () => {
    const download = randomBytes(1024 * 1024);
    let uploaded = '';
    upstream = await startUpstream((req, res) => {
      if (req.url !== '/blob') return void res.end('ok');
      void readBody(req).then((b) => {
        uploaded = sha(b);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': download.length });
        res.end(download);
      });
    });
    sidecar = await faultySidecar(upstream.url);
    const upload = randomBytes(1024 * 1024);
    const reply = await post(`${sidecar.proxyUrl}/blob`, upload);
    expect(reply.status).toBe(200);
    expect(uploaded).toBe(sha(upload));
    expect(sha(reply.body)).toBe(sha(download));
    const m = await scrape(sidecar.metricsUrl);
    // Every chunk each way threw, and the observer was still attached at the end (below the limit).
    const failures = faultFailures(m);
    expect(failures).toBeGreaterThan(2 * 16);
    expect(failures).toBeLessThan(OBSERVER_FAILURE_LIMIT);
    expect(value(m, 'mcp_http_requests_total', { method: 'POST', endpoint: '/blob', status_code: '200' })).toBe(1);
    expect(histogram(m, 'mcp_http_request_size_bytes', { method: 'POST', endpoint: '/blob' })?.sum).toBe(1024 * 1024);
    expect(histogram(m, 'mcp_http_response_size_bytes', { method: 'POST', endpoint: '/blob' })?.sum).toBe(1024 * 1024);
    const failed = logs(sidecar).filter((l) => l.event === 'observer_failed');
    expect(failed).toEqual([
      expect.objectContaining({
        observer: FAULT_OBSERVER,
        hook: 'start',
        err: expect.objectContaining({ type: 'SidecarError', code: 'SIDECAR_E_TEST_FAULT' }),
      }),
    ]);
    expect(sidecar.child.exitCode).toBeNull();
  });

  it('delivers an SSE stream event by event, each before the upstream writes the next', async () => {
    let stream: ServerResponse | undefined;
    upstream = await startUpstream((req, res) => {
      if (req.url !== '/events') return void res.end('ok');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('id: 1\ndata: {"n":1}\n\n');
      stream = res;
    });
    sidecar = await faultySidecar(upstream.url);
    let received = '';
    let ended = false;
    const req = request(`${sidecar.proxyUrl}/events`, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (received += chunk));
      res.on('end', () => (ended = true));
    });
    req.end();
    let expected = '';
    for (let n = 1; n <= 5; n++) {
      expected += `id: ${n}\ndata: {"n":${n}}\n\n`;
      if (n > 1) stream?.write(`id: ${n}\ndata: {"n":${n}}\n\n`);
      await waitFor(() => received.length >= expected.length, { what: `SSE event ${n}` });
      // Event n+1 is not written yet: the client has event n because nothing buffered it.
      expect(received).toBe(expected);
    }
    stream?.end();
    await waitFor(() => ended, { what: 'the end of the stream' });
    expect(received).toBe(expected);
    const m = await scrape(sidecar.metricsUrl);
    expect(faultFailures(m)).toBeGreaterThanOrEqual(5);
    expect(value(m, 'mcp_http_requests_total', { method: 'GET', endpoint: '/events', status_code: '200' })).toBe(1);
    expect(histogram(m, 'mcp_http_response_size_bytes', { method: 'GET', endpoint: '/events' })?.sum).toBe(expected.length);
  });

  it('answers MCP tool calls over both transports exactly as the composer answers them directly', async () => {
    composer = await startDemoComposer();
    sidecar = await faultySidecar(composer.url);
    const calls = [
      { name: 'calc_add', arguments: { a: 20, b: 22 } },
      { name: 'calc_fail', arguments: { message: 'nope' } },
      { name: 'no_such_tool', arguments: {} },
    ];
    for (const kind of MCP_KINDS) {
      const direct = await connectMcp(kind, composer.url);
      const proxied = await connectMcp(kind, sidecar.proxyUrl);
      clients.push(direct, proxied);
      expect(await proxied.client.listTools()).toEqual(await direct.client.listTools());
      for (const call of calls) {
        const want = (await direct.client.callTool(call)) as CallToolResult;
        expect((await proxied.client.callTool(call)) as CallToolResult).toEqual(want);
      }
      expect(await proxied.client.readResource({ uri: 'calc://constants' })).toEqual(await direct.client.readResource({ uri: 'calc://constants' }));
    }
    const m = await scrape(sidecar.metricsUrl);
    expect(faultFailures(m)).toBeGreaterThan(0);
    // The MCP tap, after the throwing observer in every hook, counted each proxied call once.
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(2);
    expect(value(m, 'mcp_tool_invocation_errors_total', { tool_id: 'calc_fail', error_type: 'tool_error' })).toBe(2);
    expect(value(m, 'mcp_resource_reads_total', { resource_uri: 'calc://constants', status: 'success' })).toBe(2);
  });

  it('stays up through 1,000 requests, detaches the observer at the limit, and counts every request exactly', async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/reset') return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"tools":[]}');
    });
    sidecar = await faultySidecar(upstream.url);
    // A proxy error (a reset before any answer: 502) while the observer is attached: its error hook throws too.
    expect((await post(`${sidecar.proxyUrl}/reset`, Buffer.from('x'))).status).toBe(502);
    const base = sidecar.proxyUrl;
    let sent = 1;
    for (let batch = 0; batch < 100; batch++) {
      const answers = await Promise.all(
        Array.from({ length: batch === 99 ? 9 : 10 }, async () => {
          const res = await fetch(`${base}/api/v1/tools`);
          return { status: res.status, body: await res.text() };
        }),
      );
      sent += answers.length;
      for (const a of answers) expect(a).toEqual({ status: 200, body: '{"tools":[]}' });
    }
    expect(sent).toBe(1000);
    expect(sidecar.child.exitCode).toBeNull();
    expect((await fetch(new URL('/healthz', sidecar.metricsUrl))).status).toBe(200);
    let m = await scrape(sidecar.metricsUrl);
    await waitFor(async () => value((m = await scrape(sidecar!.metricsUrl)), 'mcp_http_requests_total') === 1000, { what: 'every request counted' });
    expect(value(m, 'mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/tools', status_code: '200' })).toBe(999);
    expect(value(m, 'mcp_http_requests_total', { method: 'POST', endpoint: '/reset', status_code: '502' })).toBe(1);
    expect(value(m, 'sidecar_proxy_errors_total', { kind: 'upstream_unavailable' })).toBe(1);
    expect(faultFailures(m)).toBe(OBSERVER_FAILURE_LIMIT);
    const lines = logs(sidecar);
    expect(lines.filter((l) => l.event === 'observer_failed')).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'observer_detached')).toEqual([
      expect.objectContaining({ observer: FAULT_OBSERVER, failures: OBSERVER_FAILURE_LIMIT }),
    ]);
    expect(lines.some((l) => l.event === 'crash')).toBe(false);
  });
});
