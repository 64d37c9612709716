/**
 * Polls the composer's REST API for inventory every interval (with jitter): `/version`, `/status`,
 * `/servers`, `/composition` and the paginated `/tools`, `/prompts`, `/resources` lists. A complete poll
 * goes to the inventory as changes, all at once; server differences become lifecycle facts. A failed poll
 * keeps the last values, and is logged once per change of state, not once per poll. The poller's requests
 * use their own connection and never pass through the proxy, so they are never counted as traffic.
 *
 * A {@link SwitchedSource} (`rest_poller`): the selector starts it where the composer serves its REST API
 * and stops it where it does not; started again, it polls as a new poller would (no outcome remembered).
 */
import { Client } from 'undici';
import type { Logger } from '../../log.ts';
import type { InventoryWriter } from '../../ledger/inventory.ts';
import { CAPABILITY_KINDS } from '../../ledger/inventory-change.ts';
import type { LifecycleFact } from '../../ledger/lifecycle.ts';
import { feedsOf, type Feed, type SwitchedSource } from '../source.ts';
import type { SurfaceSet } from '../surfaces.ts';
import { parseConflicts, parseListPage, parseServers, parseStatus, parseVersion } from './inventory-parse.ts';

export interface PollerOptions {
  readonly origin: URL;
  /** @default 15s */
  readonly intervalMs: number;
  /** Time one poll (all its requests) may take. @default 5s */
  readonly timeoutMs: number;
  /** Fraction of the interval added or removed at random. @default 0.1 */
  readonly jitter?: number;
  /** Items requested per page of the lists. @default 200 */
  readonly pageSize?: number;
  /** Pages read per list at most (bounds a runaway `total`). @default 50 */
  readonly maxPages?: number;
  /** The upstream's bearer token, when its REST API needs one (re-read at each poll). */
  readonly token?: () => string | undefined;
}

export type PollOutcome = 'ok' | 'unauthorized' | 'no_rest' | 'unreachable' | 'bad_response';

export interface PollerHooks {
  /** Lifecycle facts from server differences. */
  onFacts(facts: LifecycleFact[]): void;
  /** After each poll. */
  onPoll?(outcome: PollOutcome): void;
}

class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, path: string) {
    super(`${path} answered ${status}`);
    this.status = status;
  }
}

export class InventoryPoller implements SwitchedSource {
  readonly name = 'rest_poller';
  readonly feeds: readonly Feed[] = feedsOf('rest_poller');
  readonly #opts: PollerOptions;
  readonly #inventory: InventoryWriter;
  readonly #hooks: PollerHooks;
  readonly #logger: Logger;
  /** Its own connection, opened by the first poll after a start (or a `pollOnce()` outside one) and closed by `stop()`. */
  #client: Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Counts starts and stops: a timer of an earlier run schedules nothing. */
  #run = 0;
  #started = false;
  #lastOutcome: PollOutcome | undefined;
  #running: Promise<PollOutcome> | undefined;

  constructor(opts: PollerOptions, inventory: InventoryWriter, hooks: PollerHooks, logger: Logger) {
    this.#opts = opts;
    this.#inventory = inventory;
    this.#hooks = hooks;
    this.#logger = logger;
  }

  /** Outcome of the last poll since it started (`undefined` before the first, and while stopped). */
  get lastOutcome(): PollOutcome | undefined {
    return this.#lastOutcome;
  }

  /** Polls the composer's REST API: only where it serves one. */
  wants(surfaces: SurfaceSet): boolean {
    return surfaces.rest;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    const run = ++this.#run;
    void this.pollOnce().finally(() => this.#schedule(run));
  }

  reread(): void {
    void this.pollOnce();
  }

  #schedule(run: number): void {
    if (run !== this.#run) return;
    const jitter = this.#opts.jitter ?? 0.1;
    const delay = this.#opts.intervalMs * (1 + (Math.random() * 2 - 1) * jitter);
    this.#timer = setTimeout(() => void this.pollOnce().finally(() => this.#schedule(run)), Math.max(10, delay));
    this.#timer.unref();
  }

  /** Polls now (a poll already running is joined, not doubled). */
  pollOnce(): Promise<PollOutcome> {
    this.#running ??= this.#poll().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #get(client: Client, path: string, signal: AbortSignal): Promise<unknown> {
    const token = this.#opts.token?.();
    const { statusCode, body } = await client.request({
      path,
      method: 'GET',
      headers: {
        accept: 'application/json',
        'user-agent': 'mcp-composer-sidecar-poller',
        ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      },
      signal,
    });
    if (statusCode !== 200) {
      await body.dump();
      throw new HttpStatusError(statusCode, path);
    }
    return body.json();
  }

  async #poll(): Promise<PollOutcome> {
    const signal = AbortSignal.timeout(this.#opts.timeoutMs);
    const { origin, timeoutMs } = this.#opts;
    // One connection per run: a poll holds the one it started on, which stop() closes once the poll ended.
    const client = (this.#client ??= new Client(origin, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } }));
    let outcome: PollOutcome;
    try {
      await this.#read(client, signal);
      outcome = 'ok';
    } catch (err) {
      outcome =
        err instanceof HttpStatusError
          ? err.status === 401 || err.status === 403
            ? 'unauthorized'
            : err.status === 404
              ? 'no_rest'
              : 'bad_response'
          : err instanceof SyntaxError
            ? 'bad_response'
            : 'unreachable';
      if (outcome !== this.#lastOutcome) {
        this.#logger.warn(
          { event: 'inventory_poll_failed', outcome, detail: err instanceof Error ? err.message : String(err) },
          'inventory poll failed: keeping the last values',
        );
      }
    }
    if (outcome === 'ok' && this.#lastOutcome !== undefined && this.#lastOutcome !== 'ok') {
      this.#logger.info({ event: 'inventory_poll_recovered', after: this.#lastOutcome }, 'inventory polls succeed again');
    }
    this.#lastOutcome = outcome;
    this.#hooks.onPoll?.(outcome);
    return outcome;
  }

  async #read(client: Client, signal: AbortSignal): Promise<void> {
    const inv = this.#inventory;
    // Every view below is at least this recent (the composer answers after the requests leave).
    const takenAfter = inv.mark();
    const get = (path: string) => this.#get(client, path, signal);
    const status = parseStatus(await get('/api/v1/status'));
    const version = parseVersion(await get('/api/v1/version'));
    const servers = parseServers(await get('/api/v1/servers'));
    const conflicts = parseConflicts(await get('/api/v1/composition').catch(() => get('/api/v1/status/composition')));
    const lists = {
      tools: await this.#list(get, 'tools'),
      prompts: await this.#list(get, 'prompts'),
      resources: await this.#list(get, 'resources'),
    };
    // Everything was read: apply it at once, so a half-failed poll changes nothing.
    const now = Date.now();
    if (version !== undefined) inv.apply({ kind: 'version', info: version });
    if (status?.uptimeSeconds !== undefined) inv.apply({ kind: 'uptime', seconds: status.uptimeSeconds, at: now });
    if (status?.capabilities !== undefined) inv.apply({ kind: 'totals', totals: status.capabilities });
    if (conflicts !== undefined) inv.apply({ kind: 'conflicts', count: conflicts });
    const facts: readonly LifecycleFact[] = servers === undefined ? [] : inv.apply({ kind: 'servers', servers, from: 'poll', takenAfter });
    if (status?.servers !== undefined) inv.apply({ kind: 'server_counts', counts: status.servers });
    const known = servers?.map((s) => s.id) ?? [];
    for (const of of CAPABILITY_KINDS) {
      const list = lists[of];
      if (list === undefined) continue;
      const counts = new Map<string, number>(known.map((id) => [id, 0]));
      for (const id of list.serverIds) counts.set(id, (counts.get(id) ?? 0) + 1);
      inv.apply({ kind: 'per_server', of, counts });
      inv.apply({ kind: 'names', of, names: list.names });
    }
    if (facts.length > 0) this.#hooks.onFacts([...facts]);
  }

  /** Server ids and label values (ids, names, URIs) of every item of a paginated list, or `undefined` if the list cannot be read. */
  async #list(get: (path: string) => Promise<unknown>, kind: 'tools' | 'prompts' | 'resources'): Promise<{ serverIds: string[]; names: string[] } | undefined> {
    const size = this.#opts.pageSize ?? 200;
    const out = { serverIds: [] as string[], names: [] as string[] };
    for (let page = 0, offset = 0; page < (this.#opts.maxPages ?? 50); page++) {
      const parsed = parseListPage(await get(`/api/v1/${kind}?limit=${size}&offset=${offset}`), kind);
      if (parsed === undefined) return undefined;
      out.serverIds.push(...parsed.serverIds);
      out.names.push(...parsed.names);
      offset += parsed.count;
      if (parsed.count === 0 || parsed.total === undefined || offset >= parsed.total) return out;
    }
    return out;
  }

  /** Stops polling: waits for a poll under way, closes the connection and forgets the last outcome. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#run++;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    this.#lastOutcome = undefined;
    await client?.destroy();
  }
}
