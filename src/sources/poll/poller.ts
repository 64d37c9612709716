/**
 * Polls the composer's REST API for inventory every interval (with jitter): `/version`, `/status`,
 * `/servers`, `/composition` and the paginated `/tools`, `/prompts`, `/resources` lists. Results go into
 * the {@link Inventory}; server differences become lifecycle facts. A failed poll keeps the last values,
 * and is logged once per change of state, not once per poll. The poller's requests use their own
 * connection and never pass through the proxy, so they are never counted as traffic.
 */
import { Client } from 'undici';
import type { Logger } from '../../log.ts';
import type { Inventory } from '../../ledger/inventory.ts';
import type { LifecycleFact } from '../../ledger/lifecycle.ts';
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

export class InventoryPoller {
  readonly #opts: PollerOptions;
  readonly #inventory: Inventory;
  readonly #hooks: PollerHooks;
  readonly #logger: Logger;
  readonly #client: Client;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastOutcome: PollOutcome | undefined;
  #running: Promise<PollOutcome> | undefined;

  constructor(opts: PollerOptions, inventory: Inventory, hooks: PollerHooks, logger: Logger) {
    this.#opts = opts;
    this.#inventory = inventory;
    this.#hooks = hooks;
    this.#logger = logger;
    this.#client = new Client(opts.origin, { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs, connect: { timeout: opts.timeoutMs } });
  }

  /** Outcome of the last poll (`undefined` before the first). */
  get lastOutcome(): PollOutcome | undefined {
    return this.#lastOutcome;
  }

  start(): void {
    void this.pollOnce().finally(() => this.#schedule());
  }

  #schedule(): void {
    if (this.#stopped) return;
    const jitter = this.#opts.jitter ?? 0.1;
    const delay = this.#opts.intervalMs * (1 + (Math.random() * 2 - 1) * jitter);
    this.#timer = setTimeout(() => void this.pollOnce().finally(() => this.#schedule()), Math.max(10, delay));
    this.#timer.unref();
  }

  /** Polls now (a poll already running is joined, not doubled). */
  pollOnce(): Promise<PollOutcome> {
    this.#running ??= this.#poll().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #get(path: string, signal: AbortSignal): Promise<unknown> {
    const token = this.#opts.token?.();
    const { statusCode, body } = await this.#client.request({
      path,
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': 'mcp-composer-sidecar-poller', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) },
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
    let outcome: PollOutcome;
    try {
      await this.#read(signal);
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
        this.#logger.warn({ event: 'inventory_poll_failed', outcome, detail: err instanceof Error ? err.message : String(err) }, 'inventory poll failed: keeping the last values');
      }
    }
    if (outcome === 'ok' && this.#lastOutcome !== undefined && this.#lastOutcome !== 'ok') {
      this.#logger.info({ event: 'inventory_poll_recovered', after: this.#lastOutcome }, 'inventory polls succeed again');
    }
    this.#lastOutcome = outcome;
    this.#hooks.onPoll?.(outcome);
    return outcome;
  }

  async #read(signal: AbortSignal): Promise<void> {
    const inv = this.#inventory;
    // Every view below is at least this recent (the composer answers after the requests leave).
    const takenAfter = inv.mark();
    const status = parseStatus(await this.#get('/api/v1/status', signal));
    const version = parseVersion(await this.#get('/api/v1/version', signal));
    const servers = parseServers(await this.#get('/api/v1/servers', signal));
    const conflicts = parseConflicts(await this.#get('/api/v1/composition', signal).catch(() => this.#get('/api/v1/status/composition', signal)));
    const lists = {
      tools: await this.#list('tools', signal),
      prompts: await this.#list('prompts', signal),
      resources: await this.#list('resources', signal),
    };
    // Everything was read: apply it at once, so a half-failed poll changes nothing.
    const now = Date.now();
    if (version !== undefined) inv.info = version;
    if (status?.uptimeSeconds !== undefined) inv.setUptime(status.uptimeSeconds, now);
    if (status?.capabilities !== undefined) inv.capabilities = status.capabilities;
    if (conflicts !== undefined) inv.conflicts = conflicts;
    let facts: LifecycleFact[] = [];
    if (servers !== undefined) facts = inv.applyServers(servers, true, takenAfter);
    if (status?.servers !== undefined) {
      inv.servers = { ...status.servers, failed: status.servers.failed ?? inv.failedFromMemory() };
    }
    const known = servers?.map((s) => s.id) ?? [];
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      const list = lists[kind];
      if (list === undefined) continue;
      const counts = new Map<string, number>(known.map((id) => [id, 0]));
      for (const id of list.serverIds) counts.set(id, (counts.get(id) ?? 0) + 1);
      inv.perServer[kind] = counts;
      inv.known.add(kind, list.names);
    }
    if (facts.length > 0) this.#hooks.onFacts(facts);
  }

  /** Server ids and label values (ids, names, URIs) of every item of a paginated list, or `undefined` if the list cannot be read. */
  async #list(kind: 'tools' | 'prompts' | 'resources', signal: AbortSignal): Promise<{ serverIds: string[]; names: string[] } | undefined> {
    const size = this.#opts.pageSize ?? 200;
    const out = { serverIds: [] as string[], names: [] as string[] };
    for (let page = 0, offset = 0; page < (this.#opts.maxPages ?? 50); page++) {
      const parsed = parseListPage(await this.#get(`/api/v1/${kind}?limit=${size}&offset=${offset}`, signal), kind);
      if (parsed === undefined) return undefined;
      out.serverIds.push(...parsed.serverIds);
      out.names.push(...parsed.names);
      offset += parsed.count;
      if (parsed.count === 0 || parsed.total === undefined || offset >= parsed.total) return out;
    }
    return out;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
    await this.#client.destroy();
  }
}
