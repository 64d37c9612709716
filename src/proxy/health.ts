/**
 * Whether the upstream is reachable, from two sources: a cheap periodic probe (its own connection, so a
 * pool full of long-lived streams cannot starve it) and the outcomes of proxied requests. `/readyz`
 * follows the probe; `sidecar_upstream_up` follows the most recent signal of either.
 */
import { Client } from 'undici';

export type HealthListener = (up: boolean) => void;

export class UpstreamHealth {
  /** Most recent signal from a probe or a proxied request; `undefined` until the first one. */
  #up: boolean | undefined = undefined;
  /** Result of the last completed probe; `undefined` until the first probe completes. */
  #probeOk: boolean | undefined = undefined;
  readonly #listeners: HealthListener[] = [];

  get up(): boolean | undefined {
    return this.#up;
  }

  /** Whether the upstream answered the last probe. */
  get probeOk(): boolean {
    return this.#probeOk === true;
  }

  /** Records a signal; listeners hear only changes. */
  observe(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    for (const l of this.#listeners) l(up);
  }

  observeProbe(ok: boolean): void {
    this.#probeOk = ok;
    this.observe(ok);
  }

  onChange(listener: HealthListener): void {
    this.#listeners.push(listener);
  }
}

export interface ProbeOptions {
  readonly origin: URL;
  readonly path: string;
  readonly host: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** Probes the upstream every `intervalMs`: any HTTP answer (even 404 or 401) means it is up. */
export class UpstreamProbe {
  readonly #client: Client;
  readonly #opts: ProbeOptions;
  readonly #health: UpstreamHealth;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: ProbeOptions, health: UpstreamHealth) {
    this.#opts = opts;
    this.#health = health;
    this.#client = new Client(opts.origin, {
      connect: { timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: Math.max(1000, Math.min(opts.intervalMs * 2, 60_000)),
    });
  }

  /** Probes once now, then every interval. Resolves after the first probe. */
  async start(): Promise<void> {
    await this.probeOnce();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.probeOnce().finally(() => this.#schedule());
    }, this.#opts.intervalMs);
    this.#timer.unref();
  }

  async probeOnce(): Promise<boolean> {
    let ok = false;
    try {
      const { body } = await this.#client.request({
        path: this.#opts.path,
        method: 'GET',
        headers: { host: this.#opts.host, 'user-agent': 'mcp-composer-sidecar-probe' },
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      await body.dump({ limit: 64 * 1024 });
      ok = true;
    } catch {
      ok = false;
    }
    if (!this.#closed) this.#health.observeProbe(ok);
    return ok;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#client.destroy();
  }
}
