/**
 * The zero series change nothing else (#18 part 1): two observation stacks, one exporting series known in
 * advance at 0 and one without (the exposition as it was before them), watch the same exchanges of one
 * real proxy in front of the demo composer. Their 0.0.4 expositions must differ only by added `… 0` sample
 * lines (and the HELP/TYPE lines of families that only those lines make present): every line of the one
 * without is in the one with, byte for byte, in the same family order. Within a family the exposition
 * writes series in the order they were created, so a series that now exists from start-up may come earlier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wireSources, type Sources } from '../../src/wiring.ts';
import { loadConfig } from '../../src/config/load.ts';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { createLogger } from '../../src/log.ts';
import type { McpOperation } from '../../src/sources/mcp/operations.ts';
import { ObservationBus, type ObserverRegistry, type OperationEvents } from '../../src/observe/bus.ts';
import { UpstreamHealth } from '../../src/proxy/health.ts';
import { createProxy, type Proxy as ProxyServer } from '../../src/proxy/server.ts';
import { ProxyState } from '../../src/proxy/state.ts';
import { upstreamPoolFor } from '../../src/proxy/upstream.ts';
import { HttpMetrics } from '../../src/telemetry/http-metrics.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { parseExposition, value } from '../fixtures/scrape.ts';

const TOKEN = 'zero-series-composer-token';

interface Stack {
  readonly scraper: PrometheusScraper;
  readonly sources: Sources;
  stop(): Promise<void>;
}

/** The proxy's one bus; each stack registers its observers on it under names of its own. */
const bus = new ObservationBus<McpOperation>({ logger: createLogger({ level: 'silent' }) });

/** The bus as one stack sees it: its observers registered as `{prefix}_{name}` (a bus takes each name once). */
function scoped(prefix: string): ObserverRegistry<McpOperation> & OperationEvents<McpOperation> {
  return {
    register: (name, observer) => bus.register(`${prefix}_${name}`, observer),
    operationStart: (op) => bus.operationStart(op),
    operationEnd: (op) => bus.operationEnd(op),
  };
}

/** The sidecar's observation path (as src/main.ts wires it), without sources of its own: no detection finds anything at port 9. */
function stack(zeroSeries: boolean): Stack {
  const registry = scoped(zeroSeries ? 'with_zero' : 'without');
  const config = loadConfig(['--upstream', 'http://127.0.0.1:9', '--no-metrics-auth', '--no-events'], {});
  const scraper = new PrometheusScraper();
  const { provider, meter } = createMeterProvider({ readers: [scraper.reader], version: 'test' });
  const instruments = new Instruments(meter, { maxLabelValues: config.maxLabelValues, zeroSeries });
  const health = new UpstreamHealth();
  const http = new HttpMetrics(instruments, health).register(registry);
  const sources = wireSources(config, instruments, createLogger({ level: 'silent' }), health, registry);
  sources.start();
  // The same inventory in both: three servers, the tools of calc.
  sources.inventory.apply({
    kind: 'servers',
    servers: ['calc', 'clock', 'files'].map((id, i) => ({ id, state: 'running', pid: 1000 + i, restartCount: 0 })),
    from: 'poll',
    takenAfter: Infinity,
  });
  sources.inventory.apply({ kind: 'names', of: 'tools', names: ['calc.add', 'calc_add', 'calc.fail', 'calc_fail', 'calc.echo', 'calc_echo'] });
  sources.inventory.apply({ kind: 'names', of: 'resources', names: ['calc://constants'] });
  return {
    scraper,
    sources,
    async stop() {
      http.unregister();
      await sources.stop();
      await provider.shutdown();
    },
  };
}

interface Block {
  readonly name: string;
  readonly head: string[];
  readonly samples: string[];
}

/** The exposition as family blocks: HELP/TYPE lines and sample lines, in order. */
function blocks(text: string): Block[] {
  const out: Array<{ name: string; head: string[]; samples: string[] }> = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP (\S+) /.exec(line);
    if (help !== null) out.push({ name: help[1] as string, head: [line], samples: [] });
    else if (line.startsWith('#')) out.at(-1)?.head.push(line);
    else out.at(-1)?.samples.push(line);
  }
  return out;
}

describe('series exported at 0', () => {
  let composer: DemoComposer;
  let proxy: ProxyServer;
  let without: Stack;
  let withZero: Stack;
  let before: string;
  let after: string;

  beforeAll(async () => {
    composer = await startDemoComposer(['--no-events', '--auth-token', TOKEN]);
    without = stack(false);
    withZero = stack(true);
    const config = loadConfig(
      ['--upstream', composer.url, '--listen', '127.0.0.1:0', '--metrics-listen', '127.0.0.1:0', '--no-metrics-auth', '--no-events'],
      {},
    );
    proxy = createProxy(config, upstreamPoolFor(config), new ProxyState(new UpstreamHealth(), bus));
    const { port } = await proxy.listen();
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const send = async (path: string, init: RequestInit = {}) => (await fetch(`${base}${path}`, init)).text();
    const invoke = (id: string) => send(`/api/v1/tools/${id}/invoke`, { method: 'POST', headers: auth, body: '{"arguments":{"a":1,"b":2}}' });
    // REST only (the MCP tap times each message itself, so two taps would time the same call differently).
    await send('/api/v1/health');
    await invoke('calc.fail');
    await invoke('calc.add');
    await invoke('calc.add');
    await invoke('calc.nope');
    await send(`/api/v1/resources/${encodeURIComponent('calc://constants')}`, { headers: auth });
    await send('/api/v1/servers', { headers: { authorization: 'Bearer wrong-token' } });
    await send('/api/v1/servers');
    await send('/api/v1/config/reload', { method: 'POST', headers: auth });
    await send('/api/v1/servers/clock/restart', { method: 'POST', headers: auth });
    await send('/no/such/path');
    const requests = 11;
    [before, after] = await waitFor(
      async () => {
        const texts = [await without.scraper.scrape(), await withZero.scraper.scrape()] as const;
        return texts.every((t) => value(parseExposition(t), 'mcp_http_requests_total') === requests) ? texts : undefined;
      },
      { what: 'both stacks to count every request' },
    );
  }, 60_000);

  afterAll(async () => {
    await proxy?.close(0);
    await without?.stop();
    await withZero?.stop();
    await composer?.close();
  });

  it('with the same traffic, the 0.0.4 exposition is the one without them plus `… 0` sample lines only, byte for byte', () => {
    const a = blocks(before);
    const b = blocks(after);
    const bByName = new Map(b.map((x) => [x.name, x]));
    // Same family order: the families of the exposition without zero series come in the same order.
    expect(b.map((x) => x.name).filter((n) => a.some((y) => y.name === n))).toEqual(a.map((x) => x.name));
    let added = 0;
    for (const block of b) {
      const old = a.find((x) => x.name === block.name);
      const extra = block.samples.filter((line) => !(old?.samples.includes(line) ?? false));
      for (const line of extra) expect(line, `${block.name}: an added line`).toMatch(/ 0$/);
      added += extra.length;
      if (old === undefined) continue;
      expect(block.head, block.name).toEqual(old.head);
      for (const line of old.samples) expect(block.samples, `${block.name} keeps ${line}`).toContain(line);
      expect(bByName.get(block.name)?.samples.length).toBe(old.samples.length + extra.length);
    }
    expect(added).toBeGreaterThan(50);
    // Counting is untouched: what moved has the same value in both.
    expect(after).toContain('mcp_tool_invocations_total{tool_id="calc.add",status="success"} 2');
    expect(after).toContain('mcp_tool_invocations_total{tool_id="calc.add",status="error"} 0');
    expect(after).toContain('mcp_server_crashes_total{server_id="calc"} 0');
    expect(after).toContain('mcp_server_restarts_total{server_id="clock",reason="manual"} 1');
    expect(after).toContain('sidecar_proxy_errors_total{kind="upstream_timeout"} 0');
    expect(before).not.toContain('mcp_server_crashes_total');
  });
});
