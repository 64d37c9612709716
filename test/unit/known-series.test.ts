/**
 * Series known in advance, without sockets: whatever the classifier makes of a request, its auth series
 * already existed at 0; zero series never change a count; and the label values known in advance are the
 * route templates, the MCP routes under the prefix and what the inventory lists.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { Inventory } from '../../src/ledger/inventory.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { classifyRest } from '../../src/sources/rest/rest-classify.ts';
import { CatalogRecorder } from '../../src/telemetry/catalog-recorder.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { registerKnownValues } from '../../src/telemetry/known-values.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';
import { parseExposition } from '../fixtures/scrape.ts';

function setup(opts: { maxLabelValues?: number; mcpPathPrefix?: string } = {}) {
  const scraper = new PrometheusScraper();
  const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
  const instruments = new Instruments(meter, { maxLabelValues: opts.maxLabelValues ?? 200 });
  const recorder = new CatalogRecorder(instruments);
  const inventory = new Inventory();
  registerKnownValues(instruments, inventory, recorder, opts.mcpPathPrefix === undefined ? {} : { mcpPathPrefix: opts.mcpPathPrefix });
  return { scraper, provider, instruments, recorder, inventory, ledger: new Ledger(recorder) };
}

const seriesOf = (text: string, name: string): string[] =>
  (parseExposition(text).get(name)?.samples ?? []).map((s) => JSON.stringify(Object.entries(s.labels).sort()));

describe('series known in advance', () => {
  it('every auth attempt and failure the classifier can produce, for any headers and 401 body, has its series at 0 from start-up', async () => {
    const { scraper, provider, ledger } = setup();
    const fresh = await scraper.scrape();
    const attempts = new Set(seriesOf(fresh, 'mcp_auth_attempts_total'));
    const failures = new Set(seriesOf(fresh, 'mcp_auth_failures_total'));
    const scheme = fc.constantFrom('Bearer abc', 'bearer x.y.z', 'Basic dTpw', 'OAuth t', 'DPoP t', 'Digest x', 'Token x', '', 'bearer');
    const message = fc.oneof(
      fc.constantFrom('Authentication required', 'Invalid token', 'Invalid API key', 'Token expired', 'bad password', 'not authenticated', 'nope'),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(
        fc.option(scheme),
        fc.option(fc.constantFrom('k-1', '')),
        fc.constantFrom(200, 401, 403, 404),
        fc.option(message),
        fc.constantFrom('message', 'detail', 'error'),
        (authorization, apiKey, status, text, field) => {
          const headers: Record<string, string> = {};
          if (authorization !== null) headers['authorization'] = authorization;
          if (apiKey !== null) headers['x-api-key'] = apiKey;
          for (const f of classifyRest({
            method: 'GET',
            path: '/api/v1/servers',
            status,
            proxyFailure: undefined,
            requestHeaders: headers,
            body: text === null ? undefined : { [field]: text },
            bodyProblem: undefined,
            durationSeconds: 0.01,
          })) {
            if (f.kind === 'auth_attempt')
              expect(
                attempts.has(JSON.stringify(Object.entries({ method: f.scheme, status: f.ok ? 'success' : 'failed' }).sort())),
                `${f.scheme} ${f.ok}`,
              ).toBe(true);
            if (f.kind === 'auth_failure')
              expect(failures.has(JSON.stringify(Object.entries({ method: f.scheme, reason: f.reason }).sort())), `${f.scheme} ${f.reason}`).toBe(true);
            if (f.kind === 'auth_attempt') ledger.request({ kind: 'auth_attempt', scheme: f.scheme, ok: f.ok });
            if (f.kind === 'auth_failure') ledger.request({ kind: 'auth_failure', scheme: f.scheme, reason: f.reason });
          }
        },
      ),
      { numRuns: 500 },
    );
    // Recording them made no new series.
    const after = await scraper.scrape();
    expect(new Set(seriesOf(after, 'mcp_auth_attempts_total'))).toEqual(attempts);
    expect(new Set(seriesOf(after, 'mcp_auth_failures_total'))).toEqual(failures);
    await provider.shutdown();
  });

  it('a series at 0 counts exactly from there, and a name learned twice makes no second series', async () => {
    const { scraper, provider, inventory, ledger } = setup();
    inventory.apply({ kind: 'servers', servers: [{ id: 'calc', state: 'running', pid: 1, restartCount: 0 }], from: 'poll', takenAfter: Infinity });
    inventory.apply({ kind: 'names', of: 'tools', names: ['calc.add', 'calc.add'] });
    inventory.apply({ kind: 'servers', servers: [{ id: 'calc', state: 'running', pid: 1, restartCount: 0 }], from: 'poll', takenAfter: Infinity });
    expect(await scraper.scrape()).toContain('mcp_server_crashes_total{server_id="calc"} 0');
    for (let i = 0; i < 3; i++) ledger.lifecycle.fromInference({ kind: 'crash', serverId: 'calc' });
    for (let i = 0; i < 5; i++) ledger.toolCall({ source: 'rest', toolId: 'calc.add', ok: true, durationSeconds: 0.1 });
    const text = await scraper.scrape();
    expect(text).toContain('mcp_server_crashes_total{server_id="calc"} 3');
    expect(seriesOf(text, 'mcp_server_crashes_total')).toHaveLength(1);
    expect(text).toContain('mcp_tool_invocations_total{tool_id="calc.add",status="success"} 5');
    expect(text).toContain('mcp_tool_invocations_total{tool_id="calc.add",status="error"} 0');
    expect(seriesOf(text, 'mcp_tool_invocations_total')).toHaveLength(2);
    await provider.shutdown();
  });

  it('knows the route templates, the MCP routes under --mcp-path-prefix, and what the inventory lists, past a full bound', () => {
    const { instruments, inventory } = setup({ maxLabelValues: 1, mcpPathPrefix: '/composer/' });
    const endpoint = instruments.label('mcp_http_requests_total', 'endpoint');
    expect(endpoint.value('/junk')).toBe('/junk');
    for (const v of ['/api/v1/tools/{id}/invoke', '/composer/sse', '/composer/messages', '/composer/mcp', '/']) expect(endpoint.value(v)).toBe(v);
    expect(endpoint.value('/other')).toBe('__other__');
    const tool = instruments.label('mcp_tool_invocations_total', 'tool_id');
    const server = instruments.label('mcp_tools_by_server', 'server_id');
    const method = instruments.label('mcp.server.operation.duration', 'mcp.method.name');
    expect([tool.value('junk'), server.value('junk'), method.value('junk/method')]).toEqual(['junk', 'junk', 'junk/method']);
    inventory.apply({ kind: 'names', of: 'tools', names: ['calc_add'] });
    inventory.apply({ kind: 'per_server', of: 'tools', counts: new Map([['files', 2]]) });
    expect([tool.value('calc_add'), server.value('files'), method.value('tools/call')]).toEqual(['calc_add', 'files', 'tools/call']);
    expect([tool.value('other'), server.value('other'), method.value('other')]).toEqual(['__other__', '__other__', '__other__']);
  });
});
