// The demo's traffic generator: a steady mix of REST calls (reads, tool invokes including the failing
// tool, resource reads) and MCP tool calls over both transports (real SDK clients), sent to one base URL
// (the sidecar's proxy), plus an occasional real child crash through the `calc_crash` tool.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export interface TrafficOptions {
  /** Base URL every request goes to (the proxy). */
  readonly baseUrl: string;
  /** Actions started per second. Default 10. */
  readonly rate?: number;
  /** Interval between deliberate crashes of the calc child, in ms; 0 disables. Default 4000. */
  readonly crashEveryMs?: number;
  /** Most actions in flight at once; a tick is skipped beyond it. Default 8. */
  readonly maxInFlight?: number;
}

export interface TrafficStats {
  requests: number;
  errors: number;
  crashes: number;
}

type Kind = 'sse' | 'streamable_http';
type Action = () => Promise<boolean>;

/** Bound on one action, so that stop() never waits forever. */
const ACTION_TIMEOUT_MS = 10_000;

export class Traffic {
  readonly stats: TrafficStats = { requests: 0, errors: 0, crashes: 0 };
  #base: string;
  #rate: number;
  #crashEveryMs: number;
  #maxInFlight: number;
  #inFlight = new Set<Promise<void>>();
  #clients = new Map<Kind, Promise<Client>>();
  #timers: NodeJS.Timeout[] = [];
  #abort = new AbortController();
  #tick = 0;

  constructor(options: TrafficOptions) {
    this.#base = options.baseUrl.replace(/\/$/, '');
    this.#rate = options.rate ?? 10;
    this.#crashEveryMs = options.crashEveryMs ?? 4000;
    this.#maxInFlight = options.maxInFlight ?? 8;
  }

  start(): void {
    this.#timers.push(setInterval(() => this.#launch(this.#next()), Math.max(10, Math.round(1000 / this.#rate))));
    if (this.#crashEveryMs > 0) {
      this.#timers.push(setInterval(() => this.#launch(() => this.#crash()), this.#crashEveryMs));
    }
  }

  /** Stops launching, waits (bounded) for what is in flight, closes the MCP sessions. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const settle = Promise.allSettled([...this.#inFlight]);
    await Promise.race([settle, new Promise((r) => setTimeout(r, 3000).unref())]);
    this.#abort.abort();
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.allSettled(clients.map(async (c) => (await c).close()));
  }

  #launch(action: Action): void {
    if (this.#inFlight.size >= this.#maxInFlight || this.#abort.signal.aborted) return;
    this.stats.requests += 1;
    const run = (async () => {
      let ok = false;
      try {
        ok = await Promise.race([action(), new Promise<boolean>((r) => setTimeout(() => r(false), ACTION_TIMEOUT_MS).unref())]);
      } catch {
        ok = false;
      }
      if (!ok) this.stats.errors += 1;
    })();
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  /** The next action of a fixed rotation, so that every kind of traffic shows up within a few seconds. */
  #next(): Action {
    const actions: Action[] = [
      () => this.#get('/api/v1/status'),
      () => this.#invoke('calc.add', { a: this.#tick, b: 1 }),
      () => this.#mcp('sse', 'calc_add', { a: 1, b: 2 }),
      () => this.#get('/api/v1/tools?limit=5'),
      () => this.#invoke('calc.fail', { message: 'deliberate failure' }),
      () => this.#mcp('streamable_http', 'clock_sleep', { ms: 5 + (this.#tick % 20) * 10 }),
      () => this.#get(`/api/v1/resources/${encodeURIComponent('file:///demo/readme.txt')}`),
      () => this.#mcp('sse', 'calc_fail', {}),
      () => this.#invoke('clock.echo', { text: 'hello' }),
      () => this.#mcp('streamable_http', 'calc_echo', { text: 'hi' }),
      () => this.#get('/api/v1/servers'),
      () => this.#mcp('streamable_http', 'no_such_tool', {}),
    ];
    const action = actions[this.#tick % actions.length] ?? actions[0];
    this.#tick += 1;
    return action ?? (async () => true);
  }

  async #get(path: string): Promise<boolean> {
    const res = await fetch(`${this.#base}${path}`, { signal: this.#abort.signal });
    await res.arrayBuffer();
    return res.ok;
  }

  async #invoke(toolId: string, args: Record<string, unknown>): Promise<boolean> {
    const res = await fetch(`${this.#base}/api/v1/tools/${toolId}/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ arguments: args }),
      signal: this.#abort.signal,
    });
    const body = (await res.json().catch(() => ({}))) as { success?: boolean };
    return res.ok && body.success === true;
  }

  #client(kind: Kind): Promise<Client> {
    let client = this.#clients.get(kind);
    if (!client) {
      client = (async () => {
        const c = new Client({ name: 'demo-traffic', version: '1.0.0' });
        const url = new URL(`${this.#base}${kind === 'sse' ? '/sse' : '/mcp'}`);
        await c.connect(kind === 'sse' ? new SSEClientTransport(url) : new StreamableHTTPClientTransport(url));
        c.onclose = () => {
          if (this.#clients.get(kind) === client) this.#clients.delete(kind);
        };
        return c;
      })();
      this.#clients.set(kind, client);
      client.catch(() => this.#clients.delete(kind));
    }
    return client;
  }

  async #mcp(kind: Kind, name: string, args: Record<string, unknown>): Promise<boolean> {
    const client = await this.#client(kind);
    try {
      const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: ACTION_TIMEOUT_MS })) as CallToolResult;
      return r.isError !== true;
    } catch (err) {
      // A broken session is replaced on the next call.
      this.#clients.delete(kind);
      await client.close().catch(() => undefined);
      throw err;
    }
  }

  /** A real crash of the calc child: its process exits during the call, which therefore answers isError. */
  async #crash(): Promise<boolean> {
    const client = await this.#client('streamable_http');
    const r = (await client.callTool({ name: 'calc_crash', arguments: { exit_code: 1 } }, undefined, { timeout: ACTION_TIMEOUT_MS })) as CallToolResult;
    const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
    // While calc is still down from the previous crash there is nothing to crash.
    if (!/not running|Unknown tool/i.test(text)) this.stats.crashes += 1;
    return true;
  }
}
