/**
 * The sidecar's own MCP requests never reach a client: against a gateway that sends every message to
 * every session (test/fixtures/broadcast-gateway.ts, like supergateway's stdio→SSE mode), a client's slow
 * call is answered by its own response only and timed by it, whatever the sidecar reads meanwhile; with
 * `--mcp-inventory passive` nothing the sidecar causes reaches a client's stream at all, and the
 * inventory still comes out right, learned from the client's own `tools/list`; `auto` stops using a
 * session of its own once it sees the upstream broadcast.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { INVENTORY_USER_AGENT } from '../../src/sources/poll/mcp-session.ts';
import { OWN_ID_PREFIX } from '../../src/sources/mcp/own-ids.ts';
import { startBroadcastGateway, type BroadcastGateway } from '../fixtures/broadcast-gateway.ts';
import { startSupergateway, type Supergateway } from '../fixtures/peers/supergateway.ts';
import { connectMcp, type ConnectedClient } from '../fixtures/mcp-client.ts';
import { RawSseClient } from '../fixtures/raw-mcp.ts';
import { histogram, scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { waitFor } from '../fixtures/wait.ts';

let gateway: BroadcastGateway | undefined;
let peer: Supergateway | undefined;
let sidecar: TestSidecar | undefined;
const clients: ConnectedClient[] = [];
const raws: RawSseClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.client.close().catch(() => undefined);
  for (const r of raws.splice(0)) await r.close();
  await sidecar?.close();
  await gateway?.close();
  await peer?.close();
  sidecar = gateway = peer = undefined;
});

const TOOLS = ['sleep', 'get_weather', 'get_time', 'list_files', 'add'];
const SLEEP_MS = 2000;

/** Messages the gateway received from the sidecar's own session. */
const ownPosts = (g: BroadcastGateway) => g.posts.filter((p) => p.userAgent.startsWith(INVENTORY_USER_AGENT));

/** The number of a request id the sidecar sent (its digits after the last `-`), or -1. */
function ownNumber(post: { readonly message: unknown }): number {
  const id = (post.message as { id?: unknown }).id;
  const n = Number(
    String(id ?? '')
      .split('-')
      .pop(),
  );
  return Number.isInteger(n) ? n : -1;
}

function textOf(result: unknown): string {
  const content = (result as { content?: { text?: string }[] }).content;
  return content?.[0]?.text ?? '';
}

/** The slow call through the sidecar, by a real SDK client: its answer and the duration the sidecar recorded. */
async function slowCall(s: TestSidecar): Promise<{ text: string; recorded: number }> {
  const c = await connectMcp('sse', s.proxyUrl);
  clients.push(c);
  const result = await c.client.callTool({ name: 'sleep', arguments: { ms: SLEEP_MS } }, undefined, { timeout: 30_000 });
  const m = await waitFor(
    async () => {
      const x = await scrape(s.metricsUrl);
      return value(x, 'mcp_tool_invocations_total', { tool_id: 'sleep' }) === 1 ? x : undefined;
    },
    { what: 'the slow call to be counted' },
  );
  return { text: textOf(result), recorded: histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: 'sleep' })?.sum ?? NaN };
}

describe('a gateway that sends every message to every session', () => {
  it("with --mcp-inventory active, listing every 200 ms during a client's 2 s call under an id the sidecar reaches meanwhile: the call gets its own answer and is timed by it", async () => {
    gateway = await startBroadcastGateway({ tools: TOOLS });
    sidecar = await startSidecar(gateway.url, ['--mcp-inventory', 'active', '--poll-interval', '200ms']);
    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'mcp_tools_total') === TOOLS.length, { what: 'the own inventory read' });
    const raw = await RawSseClient.connect(`${sidecar.proxyUrl}/sse`);
    raws.push(raw);
    await raw.initialize();
    // The sidecar numbers its requests 0, 1, 2… as clients do; the call takes a number it reaches within
    // the call (three lists every 200 ms), so the same id would be on the wire twice without the prefix.
    const id = Math.max(...ownPosts(gateway).map(ownNumber)) + 12;
    const answer = await raw.request('tools/call', { name: 'sleep', arguments: { ms: SLEEP_MS } }, { id, timeoutMs: 30_000 });
    expect(textOf(answer['result'])).toBe(`slept ${SLEEP_MS}`);
    expect(ownPosts(gateway).map(ownNumber)).toContain(id);
    const m = await waitFor(
      async () => {
        const x = await scrape(sidecar!.metricsUrl);
        return value(x, 'mcp_tool_invocations_total', { tool_id: 'sleep' }) === 1 ? x : undefined;
      },
      { what: 'the slow call to be counted' },
    );
    expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: 'sleep' })?.sum).toBeGreaterThanOrEqual(SLEEP_MS / 1000);
    // Every id the sidecar sent is its own; the gateway broadcast their answers, the tap saw them and
    // counted none as the client's.
    for (const p of ownPosts(gateway)) {
      const sent = (p.message as { id?: unknown }).id;
      if (sent !== undefined) expect(String(sent).startsWith(OWN_ID_PREFIX), String(sent)).toBe(true);
    }
    expect(raw.messages.some((msg) => String(msg['id']).startsWith(OWN_ID_PREFIX))).toBe(true);
    expect(value(m, 'sidecar_mcp_own_responses_seen_total')).toBeGreaterThan(0);
    expect(value(m, 'sidecar_mcp_unmatched_responses_total')).toBe(0);
    expect(sidecar.logs.filter((l) => l.event === 'mcp_upstream_broadcasts')).toHaveLength(1);
  });

  it('with --mcp-inventory auto, stops reading on a session of its own once it sees the broadcast, and a slow call still gets its own answer', async () => {
    gateway = await startBroadcastGateway({ tools: TOOLS });
    // A client that never lists: auto reads itself after its grace, and the client's stream shows the broadcast.
    const raw = await RawSseClient.connect(`${(sidecar = await startSidecar(gateway.url, ['--poll-interval', '300ms'])).proxyUrl}/sse`);
    raws.push(raw);
    await raw.initialize();
    await waitFor(
      async () => {
        const x = await scrape(sidecar!.metricsUrl);
        const seen = value(x, 'sidecar_mcp_own_responses_seen_total') > 0 && value(x, 'mcp_tools_total') === TOOLS.length;
        return seen && x.has('sidecar_mcp_inventory_session') && value(x, 'sidecar_mcp_inventory_session') === 0 ? x : undefined;
      },
      { what: 'the own read, the broadcast seen, and the own session closed' },
    );
    expect(sidecar.logs.filter((l) => l.event === 'mcp_inventory_failed')).toEqual([]);
    expect(sidecar.logs.filter((l) => l.event === 'mcp_upstream_broadcasts')).toHaveLength(1);
    // The client never took the sidecar's answers for its own: they are under ids it never sent.
    for (const msg of raw.messages) if ('id' in msg && typeof msg['id'] === 'string') expect(msg['id'].startsWith(OWN_ID_PREFIX)).toBe(true);
    const sent = ownPosts(gateway).length;
    const { text, recorded } = await slowCall(sidecar);
    expect(text).toBe(`slept ${SLEEP_MS}`);
    expect(recorded).toBeGreaterThanOrEqual(SLEEP_MS / 1000);
    // Six poll intervals passed during the call: not one more request of its own.
    expect(ownPosts(gateway).length).toBe(sent);
  });

  it("with --mcp-inventory passive, the client's stream carries nothing the sidecar caused, and the inventory comes from the client's own tools/list", async () => {
    gateway = await startBroadcastGateway({ tools: TOOLS });
    // Detection every 300 ms: its probes must cause nothing either.
    sidecar = await startSidecar(gateway.url, ['--mcp-inventory', 'passive', '--poll-interval', '200ms', '--detect-interval', '300ms']);
    await waitFor(async () => value(await scrape(sidecar!.metricsUrl), 'sidecar_source_available', { source: 'sse' }) === 1, { what: 'detection' });
    const raw = await RawSseClient.connect(`${sidecar.proxyUrl}/sse`);
    raws.push(raw);
    await raw.initialize();
    const listed = await raw.request('tools/list');
    expect((listed['result'] as { tools: unknown[] }).tools).toHaveLength(TOOLS.length);
    const called = await raw.request('tools/call', { name: 'sleep', arguments: { ms: SLEEP_MS } });
    expect(textOf(called['result'])).toBe(`slept ${SLEEP_MS}`);
    const m = await scrape(sidecar.metricsUrl);
    expect(value(m, 'mcp_tools_total')).toBe(TOOLS.length);
    expect(value(m, 'sidecar_mcp_inventory_session')).toBe(0);
    expect(histogram(m, 'mcp_tool_invocation_duration_seconds', { tool_id: 'sleep' })?.sum).toBeGreaterThanOrEqual(SLEEP_MS / 1000);
    // On the raw bytes: no id of the sidecar's, only answers to what the client asked, one tools list.
    expect(raw.raw).not.toContain(OWN_ID_PREFIX);
    expect(raw.raw).not.toContain('sidecar-');
    const answers = raw.messages.filter((msg) => 'result' in msg || 'error' in msg);
    expect(answers.map((a) => a['id'])).toEqual([...raw.sentIds]);
    expect(raw.messages.filter((msg) => Array.isArray((msg['result'] as { tools?: unknown } | undefined)?.tools))).toHaveLength(1);
    expect(ownPosts(gateway)).toEqual([]);
    expect(value(m, 'sidecar_mcp_own_responses_seen_total')).toBe(0);
  });
});

describe('the real supergateway (stdio→SSE: one stdio server, every message to every session)', () => {
  it("default auto: the sidecar's one read reaches the client under ids it never sent and is then given up; a slow call gets its own answer, timed by it", async () => {
    peer = await startSupergateway();
    sidecar = await startSidecar(peer.url, ['--poll-interval', '300ms']);
    const raw = await RawSseClient.connect(`${sidecar.proxyUrl}/sse`);
    raws.push(raw);
    await raw.initialize();
    const m = await waitFor(
      async () => {
        const x = await scrape(sidecar!.metricsUrl);
        const done = value(x, 'sidecar_mcp_own_responses_seen_total') > 0 && value(x, 'mcp_tools_total') === TOOLS.length;
        return done && value(x, 'sidecar_mcp_inventory_session') === 0 && x.has('sidecar_mcp_inventory_session') ? x : undefined;
      },
      { what: 'the own read, the broadcast seen, and the own session closed' },
    );
    // Its Express app parses JSON on every path but /message: the detection POST (valid JSON, no JSON-RPC
    // message) reaches routing and gets 404, so no streamable HTTP is invented.
    expect(value(m, 'sidecar_source_available', { source: 'sse' })).toBe(1);
    expect(value(m, 'sidecar_source_available', { source: 'streamable_http' })).toBe(0);
    expect(sidecar.logs.filter((l) => l.event === 'mcp_upstream_broadcasts')).toHaveLength(1);
    expect(sidecar.logs.filter((l) => l.event === 'mcp_inventory_failed')).toEqual([]);
    const foreign = raw.messages.filter((msg) => ('result' in msg || 'error' in msg) && !raw.sentIds.has(msg['id'] as number));
    expect(foreign.length).toBeGreaterThan(0);
    for (const msg of foreign) expect(String(msg['id']).startsWith(OWN_ID_PREFIX)).toBe(true);
    const seen = raw.messages.length;
    const { text, recorded } = await slowCall(sidecar);
    expect(text).toBe(`slept ${SLEEP_MS}`);
    expect(recorded).toBeGreaterThanOrEqual(SLEEP_MS / 1000);
    // During the call (six poll intervals) the raw client received only the slow call's answer, broadcast by
    // supergateway to it too, and the other SDK client's initialize answer: nothing of the sidecar's.
    expect(raw.messages.slice(seen).filter((msg) => String(msg['id']).startsWith(OWN_ID_PREFIX))).toEqual([]);
  });
});
