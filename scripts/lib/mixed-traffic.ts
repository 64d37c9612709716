/**
 * Mixed traffic through the sidecar's proxy port to a demo composer, for the soak (`npm run soak`) and its
 * short version in the test suite: REST calls to random paths (ids, deep paths, query strings), tool
 * invocations, SSE streams and WebSockets opened and dropped at random moments, MCP sessions on both
 * transports opened, used and then closed properly or abandoned — some with requests still pending.
 *
 *   const stats = await runMixedTraffic({ proxyUrl, token, concurrency: 8, signal, seed: 1 });
 *
 * Every action is bounded in time and its failures are counted, never thrown: the point is to exercise the
 * sidecar's state, not the composer.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import WebSocket from 'ws';

export interface TrafficOptions {
  readonly proxyUrl: string;
  /** The composer's REST token (sent as a bearer on REST, event-stream and WebSocket requests). */
  readonly token: string | undefined;
  /** Workers running actions one after another. @default 8 */
  readonly concurrency?: number;
  readonly signal: AbortSignal;
  /** Seed of the action choices (reproducible runs). @default 1 */
  readonly seed?: number;
}

export interface TrafficStats {
  /** Actions completed, by kind. */
  readonly actions: Record<string, number>;
  /** Actions that failed (an error, not a status), by kind. */
  readonly failures: Record<string, number>;
}

/** mulberry32: a small seeded generator, enough to pick actions reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

type Action = (ctx: Ctx) => Promise<void>;

interface Ctx {
  readonly base: string;
  readonly auth: Record<string, string>;
  readonly random: () => number;
  readonly signal: AbortSignal;
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
const hex = (r: () => number, n: number): string => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');

async function drain(res: Response): Promise<void> {
  await res.arrayBuffer().catch(() => undefined);
}

/** Bounded fetch: never waits more than `ms`. */
function timedFetch(url: string, init: RequestInit, ms: number): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
}

const restRandomPath: Action = async ({ base, auth, random }) => {
  const paths = [
    () => `/api/v1/servers/${pick(random, ['calc', 'clock', 'files', 'nope', hex(random, 8)])}`,
    () => `/api/v1/tools/${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-8${hex(random, 3)}-${hex(random, 12)}`,
    () => `/api/v1/resources/${encodeURIComponent(`file:///demo/notes/${hex(random, 6)}?token=${hex(random, 10)}`)}`,
    () => `/random/${hex(random, 4)}/${Math.floor(random() * 1e6)}/${pick(random, ['a', 'b', 'word', 'x1y2z3'])}`,
    () => `/${Array.from({ length: 1 + Math.floor(random() * 12) }, () => hex(random, 1 + Math.floor(random() * 6))).join('/')}`,
    () =>
      `/api/v1/${pick(random, ['tools', 'prompts', 'resources', 'servers', 'status', 'version', 'composition', 'health'])}?page=${Math.floor(random() * 9)}&secret=${hex(random, 8)}`,
  ];
  await drain(await timedFetch(`${base}${pick(random, paths)()}`, { headers: auth }, 10_000));
};

const restInvoke: Action = async ({ base, auth, random }) => {
  const tool = pick(random, ['calc.add', 'calc.echo', 'calc.fail', 'calc.nope', 'clock.now']);
  const res = await timedFetch(
    `${base}/api/v1/tools/${tool}/invoke`,
    {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ arguments: { a: 1, b: 2, text: hex(random, 12), message: 'soak' } }),
    },
    30_000,
  );
  await drain(res);
};

const sseChurn: Action = async ({ base, auth, random }) => {
  const ctl = new AbortController();
  const path = pick(random, ['/api/v1/events', '/sse']);
  const res = await fetch(`${base}${path}`, { headers: { ...auth, accept: 'text/event-stream' }, signal: ctl.signal });
  const reader = res.body?.getReader();
  const until = Date.now() + 50 + random() * 1500;
  try {
    while (reader !== undefined && Date.now() < until) {
      const r = await Promise.race([reader.read(), sleep(until - Date.now()).then(() => undefined)]);
      if (r === undefined || r.done) break;
    }
  } finally {
    ctl.abort();
  }
};

const wsChurn: Action = async ({ base, auth, random }) => {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}${pick(random, ['/ws/metrics', '/ws/logs'])}`, { headers: auth });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(
      () => {
        if (random() < 0.5) ws.terminate();
        else ws.close(1000);
        resolve();
      },
      100 + random() * 1500,
    );
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    ws.once('error', done);
    ws.once('close', done);
  });
  ws.terminate();
};

async function withMcp(
  kind: 'sse' | 'streamable_http',
  base: string,
  use: (client: Client, transport: SSEClientTransport | StreamableHTTPClientTransport) => Promise<void>,
): Promise<void> {
  const transport = kind === 'sse' ? new SSEClientTransport(new URL(`${base}/sse`)) : new StreamableHTTPClientTransport(new URL(`${base}/mcp`));
  const client = new Client({ name: 'soak', version: '1.0.0' });
  try {
    await Promise.race([client.connect(transport), sleep(10_000).then(() => Promise.reject(new Error('connect timeout')))]);
    await use(client, transport);
  } finally {
    await client.close().catch(() => undefined);
  }
}

const mcpSession: Action = async ({ base, random }) => {
  const kind = random() < 0.5 ? 'sse' : 'streamable_http';
  await withMcp(kind, base, async (client, transport) => {
    const calls = 1 + Math.floor(random() * 4);
    for (let i = 0; i < calls; i++) {
      const name = pick(random, ['calc_add', 'calc_echo', 'calc_fail', 'clock_now', 'nope_tool']);
      await client.callTool({ name, arguments: { a: 1, b: 2, text: 'soak', message: 'soak' } }, undefined, { timeout: 10_000 }).catch(() => undefined);
    }
    if (random() < 0.3) await client.readResource({ uri: 'calc://constants' }).catch(() => undefined);
    // Half the streamable sessions end properly (DELETE); the rest are abandoned to the idle timeout.
    if (transport instanceof StreamableHTTPClientTransport && random() < 0.5) await transport.terminateSession().catch(() => undefined);
  });
};

const mcpAbandonPending: Action = async ({ base, random }) => {
  const kind = random() < 0.5 ? 'sse' : 'streamable_http';
  await withMcp(kind, base, async (client) => {
    // A slow call the client walks away from: its session closes (legacy) or it is cancelled or left.
    const pending = client.callTool({ name: 'clock_sleep', arguments: { ms: 3000 } }, undefined, { timeout: 20_000 }).catch(() => undefined);
    await sleep(100 + random() * 400);
    void pending;
  });
};

const ACTIONS: ReadonlyArray<readonly [string, number, Action]> = [
  ['rest_random_path', 30, restRandomPath],
  ['rest_invoke', 15, restInvoke],
  ['sse_churn', 10, sseChurn],
  ['ws_churn', 8, wsChurn],
  ['mcp_session', 12, mcpSession],
  ['mcp_abandon_pending', 5, mcpAbandonPending],
];

/**
 * Runs the mix until `signal` aborts; resolves with what was done once every worker has stopped. `stats`
 * (updated as actions complete) may be read meanwhile.
 */
export async function runMixedTraffic(opts: TrafficOptions, stats: TrafficStats = { actions: {}, failures: {} }): Promise<TrafficStats> {
  const { actions, failures } = stats;
  const total = ACTIONS.reduce((a, [, w]) => a + w, 0);
  const auth: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` };
  const worker = async (w: number): Promise<void> => {
    const random = rng((opts.seed ?? 1) * 7919 + w);
    const ctx: Ctx = { base: opts.proxyUrl, auth, random, signal: opts.signal };
    for (let i = 0; !opts.signal.aborted && i < Number.MAX_SAFE_INTEGER; i++) {
      let x = random() * total;
      let chosen = ACTIONS[0] as (typeof ACTIONS)[number];
      for (const a of ACTIONS) {
        x -= a[1];
        if (x < 0) {
          chosen = a;
          break;
        }
      }
      const [name, , action] = chosen;
      try {
        await action(ctx);
        actions[name] = (actions[name] ?? 0) + 1;
      } catch {
        failures[name] = (failures[name] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, (_, w) => worker(w)));
  return stats;
}
