/**
 * Secrets never leave the sidecar through what it publishes. A traffic mix against the demo composer
 * carries bearer tokens, API keys, Basic credentials, cookies, passwords and keys in query strings and in
 * resource URIs, and secrets in tool and prompt arguments — over REST and MCP on both transports, with the
 * legacy and streamable session ids themselves treated as secrets — while the sidecar runs with the access
 * log, debug logging and traces exported to an OTLP receiver. The whole scrape, every raw log line and
 * every exported span and metric are then searched for every secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';
import { openEventStream } from '../fixtures/event-stream.ts';
import { otlpEnv, startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.ts';
import { waitFor } from '../fixtures/wait.ts';
import { scrapeText } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

let composer: DemoComposer | undefined;
let sidecar: TestSidecar | undefined;
let receiver: OtlpReceiver | undefined;
let dir: string | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  await sidecar?.close();
  await composer?.close();
  await receiver?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  sidecar = undefined;
  composer = undefined;
  receiver = undefined;
  dir = undefined;
});

/** Every secret the traffic carries; each is distinctive, so a match anywhere is a leak. */
const S = {
  composerToken: 'tok-composer-7f3a91c2e5',
  wrongBearer: 'tok-wrong-b81d04aa6e',
  apiKey: 'key-api-3c5e9f10d2',
  basicPassword: 'pw-basic-66e1a0c9b4',
  cookie: 'ck-session-0d9b2e7f13',
  queryToken: 'q-token-9a8b7c6d5e',
  queryPassword: 'q-password-1f2e3d4c5b',
  uriPassword: 'uri-db-password-4a4b4c',
  restArgument: 'arg-rest-echo-58f0e1',
  mcpToken: 'tok-mcp-client-2b3c4d5e6f',
  mcpArgument: 'arg-mcp-echo-77c1d3a9',
  mcpQuery: 'q-mcp-resource-0e0f1a2b',
  promptArgument: 'arg-prompt-topic-5c6d7e',
  legacyArgument: 'arg-legacy-echo-9e8d7c',
  rawArgument: 'arg-raw-legacy-3b2a19',
  scrapeGuess: 'tok-scrape-guess-4411aa',
};

async function mcpClient(
  kind: 'sse' | 'streamable_http',
  base: string,
): Promise<{ client: Client; transport: SSEClientTransport | StreamableHTTPClientTransport }> {
  const headers = { authorization: `Bearer ${S.mcpToken}`, 'x-api-key': S.apiKey };
  const transport =
    kind === 'sse'
      ? new SSEClientTransport(new URL(`${base}/sse`), {
          requestInit: { headers },
          eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
        })
      : new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } });
  const client = new Client({ name: 'secrets-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

describe('secrets', () => {
  it('no token, key, password, cookie, query string, argument or session id appears in the scrape, the logs (access log, debug) or the exported spans and metrics', async () => {
    receiver = await startOtlpReceiver();
    composer = await startDemoComposer(['--servers', '3', '--auth-token', S.composerToken]);
    dir = mkdtempSync(join(tmpdir(), 'sidecar-secrets-'));
    const tokenFile = join(dir, 'upstream-token');
    writeFileSync(tokenFile, `${S.composerToken}\n`, { mode: 0o600 });
    sidecar = await startSidecar(composer.url, ['--access-log', '--log-level', 'debug', '--upstream-token-file', tokenFile], {
      ...otlpEnv(receiver, { traces: true, metrics: true }),
      OTEL_METRIC_EXPORT_INTERVAL: '200',
    });
    const base = sidecar.proxyUrl;
    const bearer = { authorization: `Bearer ${S.composerToken}` };

    // REST, every way a credential can travel.
    const rest: Array<[string, RequestInit]> = [
      [`/api/v1/tools?token=${S.queryToken}&password=${S.queryPassword}`, { headers: bearer }],
      [
        '/api/v1/tools/calc.echo/invoke',
        {
          method: 'POST',
          headers: { 'x-api-key': S.composerToken, 'content-type': 'application/json', cookie: `session=${S.cookie}` },
          body: JSON.stringify({ arguments: { text: S.restArgument } }),
        },
      ],
      [`/api/v1/resources/${encodeURIComponent(`postgres://admin:${S.uriPassword}@db/x?key=${S.queryToken}`)}`, { headers: bearer }],
      ['/api/v1/servers', { headers: { authorization: `Bearer ${S.wrongBearer}` } }],
      ['/api/v1/servers', { headers: { 'x-api-key': S.apiKey } }],
      ['/api/v1/prompts', { headers: { authorization: `Basic ${Buffer.from(`admin:${S.basicPassword}`).toString('base64')}` } }],
    ];
    const statuses: number[] = [];
    for (const [path, init] of rest) {
      const res = await fetch(`${base}${path}`, init);
      await res.text();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 404, 401, 401, 401]);

    // MCP over streamable HTTP and legacy SSE (SDK clients), with credentials on every request.
    let streamableSession = '';
    for (const kind of ['streamable_http', 'sse'] as const) {
      const { client, transport } = await mcpClient(kind, base);
      if (transport instanceof StreamableHTTPClientTransport) streamableSession = transport.sessionId ?? '';
      const argument = kind === 'sse' ? S.legacyArgument : S.mcpArgument;
      const echoed = (await client.callTool({ name: 'calc_echo', arguments: { text: argument } })) as { content: Array<{ text?: string }> };
      expect(echoed.content[0]?.text).toBe(argument);
      await client.readResource({ uri: `file:///demo/notes/n?api_key=${S.mcpQuery}` }).catch(() => undefined);
      await client.getPrompt({ name: 'calc_explain', arguments: { topic: S.promptArgument } });
    }
    expect(streamableSession).not.toBe('');

    // A legacy session opened by hand, so its id is known: the id is a secret too.
    const stream = await openEventStream(`${base}/sse`, { headers: { authorization: `Bearer ${S.mcpToken}` } });
    const endpoint = await stream.next((e) => e.event === 'endpoint');
    const legacySession = /session_id=([^&]+)/.exec(endpoint.data)?.[1] ?? '';
    expect(legacySession).not.toBe('');
    const posted = await fetch(`${base}${endpoint.data}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${S.mcpToken}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'calc_echo', arguments: { text: S.rawArgument } } }),
    });
    expect(posted.status).toBe(202);
    await stream.next((e) => e.data.includes(S.rawArgument));
    stream.close();

    // A token guess on the metrics port.
    expect((await fetch(sidecar.metricsUrl, { headers: { authorization: `Bearer ${S.scrapeGuess}` } })).status).toBe(401);

    const s = sidecar;
    const r = receiver;
    await waitFor(() => s.logs.filter((l) => l.event === 'access').length >= rest.length + 6, { what: 'the access lines' });
    await waitFor(() => r.spans().some((sp) => sp.name.startsWith('tools/call')), { what: 'an MCP span' });
    await waitFor(() => r.requests.metrics.length > 0, { what: 'an OTLP metrics export' });
    // Everything the sidecar published.
    const published = {
      scrape: await scrapeText(s.metricsUrl),
      logs: s.rawLogs.join(''),
      spans: JSON.stringify(r.requests.traces),
      otlpMetrics: JSON.stringify(r.requests.metrics),
    };
    expect(published.scrape).toContain('mcp_tool_invocations_total');
    expect(published.spans).toContain('tools/call');
    const secrets: Record<string, string> = { ...S, streamableSession, legacySession };
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(published)) {
      for (const [name, secret] of Object.entries(secrets)) if (text.includes(secret)) leaks.push(`${name} in ${where}`);
      for (const marker of ['token=', 'password=', 'api_key=', 'key=q-', 'Bearer ', 'Basic ']) if (text.includes(marker)) leaks.push(`"${marker}" in ${where}`);
    }
    expect(leaks).toEqual([]);
  }, 60_000);
});
