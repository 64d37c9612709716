/**
 * The observation bus: the one way anything in the sidecar watches the proxy. The proxy calls it at each
 * step of an exchange (start, response, body chunks, end, proxy errors) and the MCP tap calls it for each
 * correlated MCP operation (start, end); every internal observer (`register`) and every body tap
 * (`ObserverHandle.addTap`) is called from here, behind one guard, in the style of instrumentation-undici
 * (every hook behind one guard; per-exchange state in the observers' WeakMaps or in their taps).
 *
 * The guard (`#guard`, the only place an observer is called): an observer that throws is counted
 * (`countFailure`, wired by main.ts to `sidecar_observer_errors_total{observer}`), logged once with its
 * stack and then at most once per {@link OBSERVER_LOG_INTERVAL_MS} with a count, and after
 * {@link OBSERVER_FAILURE_LIMIT} failures detached for the rest of the process's life. The exchange it was
 * watching goes on byte-identical: nothing an observer throws reaches the proxy, and the other observers
 * are still called, in order, for that hook and every later one.
 *
 * Detaching and unregistering never disturb a dispatch in progress: each hook's list is replaced, never
 * mutated (a loop under way keeps the list it started with), and a detached observer's taps on exchanges
 * in flight are skipped by the same flag the guard reads. No other observer's state is touched.
 *
 * The public diagnostics channels (`mcp-composer-sidecar:proxy:start|response|end|error`,
 * `mcp-composer-sidecar:mcp:operation:start|end`) stay an external contract: the bus publishes on them
 * after its own observers, only when they have subscribers. External subscribers are outside the guard:
 * Node turns an exception thrown in a diagnostics_channel subscriber into `uncaughtException`.
 *
 * The proxy imports nothing from telemetry: main.ts creates the bus, wires its failure counter and
 * registers the observers.
 */
import type { Logger } from '../log.ts';
import { exchangeChannels, operationChannels, type OperationChannels } from './channels.ts';
import type { Exchange, ExchangeTap, ProxyErrorEvent, ProxyErrorKind } from './exchange.ts';

/** Failures after which an observer is detached (until the process restarts). */
export const OBSERVER_FAILURE_LIMIT = 1000;

/** After an observer's first failure (logged with its stack), at most one line per this period, with a count. */
export const OBSERVER_LOG_INTERVAL_MS = 60_000;

/** Where a failure happened, as logged. */
export type Hook =
  | 'start'
  | 'response'
  | 'end'
  | 'error'
  | 'operation_start'
  | 'operation_end'
  | 'detach'
  | 'tap.request_body'
  | 'tap.response_start'
  | 'tap.response_body'
  | 'tap.end';

/**
 * An observer's hooks, all optional, each called synchronously with one argument. `Op` is the MCP
 * operation type (src/sources/mcp/operations.ts); the proxy never looks inside it.
 * - `onStart`: the request head arrived, before the upstream request is sent (attach taps, set upstream headers);
 * - `onResponse`: the response head went out (from the upstream, or the proxy's own 502/504), or an upgrade switched;
 * - `onEnd`: the exchange is over (always once per `onStart`);
 * - `onError`: a proxy failure (`sidecar_proxy_errors_total`'s kinds);
 * - `onOperationStart`, `onOperationEnd`: an MCP request was seen; its response, timeout or cancellation ended it;
 * - `onDetach`: the bus detached the observer after {@link OBSERVER_FAILURE_LIMIT} failures (stop its timers).
 */
export interface Observer<Op> {
  onStart?(ex: Exchange): void;
  onResponse?(ex: Exchange): void;
  onEnd?(ex: Exchange): void;
  onError?(event: ProxyErrorEvent): void;
  onOperationStart?(op: Op): void;
  onOperationEnd?(op: Op): void;
  onDetach?(): void;
}

/** What an observer gets back from `register`. */
export interface ObserverHandle {
  /** The fixed name it registered with (the `observer` label). */
  readonly name: string;
  readonly failures: number;
  readonly detached: boolean;
  /**
   * Asks for copies of `ex`'s bodies, given to `tap` behind the bus's guard (failures count as this
   * observer's). Call from `onStart` (request and response bodies) or `onResponse` (response body only).
   */
  addTap(ex: Exchange, tap: ExchangeTap): void;
  /** Removes the observer: no hook or tap of it is called again. */
  unregister(): void;
}

/** Registers observers; observers that never see MCP operations take `ObserverRegistry<never>`. */
export interface ObserverRegistry<Op> {
  register(name: string, observer: Observer<Op>): ObserverHandle;
}

/** The bus as the proxy calls it. */
export interface ExchangeEvents {
  start(ex: Exchange): void;
  response(ex: Exchange): void;
  end(ex: Exchange): void;
  error(kind: ProxyErrorKind, err?: unknown): void;
  tapRequestBody(ex: Exchange, chunk: Buffer): void;
  tapResponseStart(ex: Exchange): void;
  tapResponseBody(ex: Exchange, chunk: Buffer): void;
}

/** The bus as the MCP tap calls it. */
export interface OperationEvents<Op> {
  operationStart(op: Op): void;
  operationEnd(op: Op): void;
}

/** One registered observer and its failure record (owned by its bus). */
class Registration implements ObserverHandle {
  readonly name: string;
  readonly observer: object;
  readonly onDetach: Call<undefined> | undefined;
  readonly #bus: { remove(reg: Registration): void };
  failures = 0;
  detached = false;
  /** `Date.now()` of the last line logged about its failures. */
  loggedAt = 0;
  /** Failures since that line. */
  unlogged = 0;

  constructor(name: string, observer: Observer<never>, bus: { remove(reg: Registration): void }) {
    this.name = name;
    this.observer = observer;
    this.onDetach = observer.onDetach;
    this.#bus = bus;
  }

  addTap(ex: Exchange, tap: ExchangeTap): void {
    (ex.taps ??= []).push({ tap, owner: this });
  }

  unregister(): void {
    this.#bus.remove(this);
  }
}

export type { Registration };

/** A tap on one exchange, with the observer it counts against. */
export interface AttachedTap {
  readonly tap: ExchangeTap;
  readonly owner: Registration;
}

type Call<A> = (this: object, arg: A) => void;

/** One hook of one observer, as the dispatch loops hold it. */
class Entry<A> {
  readonly owner: Registration;
  readonly fn: Call<A>;

  constructor(owner: Registration, fn: Call<A>) {
    this.owner = owner;
    this.fn = fn;
  }
}

export interface BusOptions {
  /** Where failures are logged (rate-limited). */
  readonly logger: Logger;
  /** Counts one failure of the named observer (`sidecar_observer_errors_total`). @default none */
  readonly countFailure?: (observer: string) => void;
  /** Told of each observer as it registers (its failure counter is exported at 0 from then on). @default none */
  readonly registered?: (observer: string) => void;
}

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** What is logged of a failure: its type, code and stack frames — never its message, which may quote the bytes it choked on. */
function describeFailure(err: unknown): { type: string; code?: string; stack?: string } {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  const frames = typeof err.stack === 'string' ? err.stack.split('\n').filter((line) => line.startsWith('    at ')) : [];
  return {
    type: typeof err.name === 'string' ? err.name.slice(0, 64) : 'Error',
    ...(typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? { code } : {}),
    ...(frames.length > 0 ? { stack: frames.join('\n') } : {}),
  };
}

export class ObservationBus<Op extends object = object> implements ObserverRegistry<Op>, ExchangeEvents, OperationEvents<Op> {
  readonly #logger: Logger;
  readonly #countFailure: ((observer: string) => void) | undefined;
  readonly #registered: ((observer: string) => void) | undefined;
  #registrations: readonly Registration[] = [];
  #start: readonly Entry<Exchange>[] = [];
  #response: readonly Entry<Exchange>[] = [];
  #end: readonly Entry<Exchange>[] = [];
  #error: readonly Entry<ProxyErrorEvent>[] = [];
  #operationStart: readonly Entry<Op>[] = [];
  #operationEnd: readonly Entry<Op>[] = [];
  /** The public operation channels, typed with this bus's operations. */
  readonly #operations: OperationChannels<Op> = operationChannels<Op>();

  constructor(opts: BusOptions) {
    this.#logger = opts.logger;
    this.#countFailure = opts.countFailure;
    this.#registered = opts.registered;
  }

  /** Registers an observer under a fixed name (lower case, digits, `_`; unique on this bus). Hooks run in registration order. */
  register(name: string, observer: Observer<Op>): ObserverHandle {
    if (!NAME.test(name)) throw new Error(`observer name ${JSON.stringify(name)} is not a fixed label value`);
    if (this.#registrations.some((r) => r.name === name)) throw new Error(`observer ${name} is already registered`);
    const reg = new Registration(name, observer, this);
    this.#registrations = [...this.#registrations, reg];
    if (observer.onStart !== undefined) this.#start = [...this.#start, new Entry(reg, observer.onStart)];
    if (observer.onResponse !== undefined) this.#response = [...this.#response, new Entry(reg, observer.onResponse)];
    if (observer.onEnd !== undefined) this.#end = [...this.#end, new Entry(reg, observer.onEnd)];
    if (observer.onError !== undefined) this.#error = [...this.#error, new Entry(reg, observer.onError)];
    if (observer.onOperationStart !== undefined) this.#operationStart = [...this.#operationStart, new Entry(reg, observer.onOperationStart)];
    if (observer.onOperationEnd !== undefined) this.#operationEnd = [...this.#operationEnd, new Entry(reg, observer.onOperationEnd)];
    this.#registered?.(name);
    return reg;
  }

  /** The observers registered now, by name (detached ones are gone). */
  get observers(): readonly string[] {
    return this.#registrations.map((r) => r.name);
  }

  // The proxy's side ------------------------------------------------------------------------------------

  start(ex: Exchange): void {
    for (const e of this.#start) this.#guard(e.owner, 'start', e.fn, ex);
    if (exchangeChannels.start.hasSubscribers) exchangeChannels.start.publish(ex);
  }

  response(ex: Exchange): void {
    for (const e of this.#response) this.#guard(e.owner, 'response', e.fn, ex);
    if (exchangeChannels.response.hasSubscribers) exchangeChannels.response.publish(ex);
  }

  /** The exchange is over: its taps' `onEnd`, then the observers' `onEnd`. */
  end(ex: Exchange): void {
    const taps = ex.taps;
    if (taps !== undefined) for (const t of taps) if (t.tap.onEnd !== undefined) this.#guard(t.owner, 'tap.end', t.tap.onEnd, ex, t.tap);
    for (const e of this.#end) this.#guard(e.owner, 'end', e.fn, ex);
    if (exchangeChannels.end.hasSubscribers) exchangeChannels.end.publish(ex);
  }

  /** A proxy failure; `code` is the error's code, never its message. The event is built only when someone listens. */
  error(kind: ProxyErrorKind, err?: unknown): void {
    const list = this.#error;
    const external = exchangeChannels.error.hasSubscribers;
    if (list.length === 0 && !external) return;
    const code = (err as { code?: unknown } | null | undefined)?.code;
    const event: ProxyErrorEvent = { kind, code: typeof code === 'string' ? code : undefined };
    for (const e of list) this.#guard(e.owner, 'error', e.fn, event);
    if (external) exchangeChannels.error.publish(event);
  }

  /** A request body chunk on its way upstream (call only when `ex.taps` is set). */
  tapRequestBody(ex: Exchange, chunk: Buffer): void {
    const taps = ex.taps;
    if (taps !== undefined)
      for (const t of taps) if (t.tap.onRequestBody !== undefined) this.#guard(t.owner, 'tap.request_body', t.tap.onRequestBody, chunk, t.tap);
  }

  /** The upstream's response head went out (call only when `ex.taps` is set, before `response`). */
  tapResponseStart(ex: Exchange): void {
    const taps = ex.taps;
    if (taps !== undefined)
      for (const t of taps) if (t.tap.onResponseStart !== undefined) this.#guard(t.owner, 'tap.response_start', t.tap.onResponseStart, ex, t.tap);
  }

  /** A response body chunk on its way to the client (call only when `ex.taps` is set). */
  tapResponseBody(ex: Exchange, chunk: Buffer): void {
    const taps = ex.taps;
    if (taps !== undefined)
      for (const t of taps) if (t.tap.onResponseBody !== undefined) this.#guard(t.owner, 'tap.response_body', t.tap.onResponseBody, chunk, t.tap);
  }

  // The MCP tap's side ----------------------------------------------------------------------------------

  operationStart(op: Op): void {
    for (const e of this.#operationStart) this.#guard(e.owner, 'operation_start', e.fn, op);
    if (this.#operations.operationStart.hasSubscribers) this.#operations.operationStart.publish(op);
  }

  operationEnd(op: Op): void {
    for (const e of this.#operationEnd) this.#guard(e.owner, 'operation_end', e.fn, op);
    if (this.#operations.operationEnd.hasSubscribers) this.#operations.operationEnd.publish(op);
  }

  // The guard -------------------------------------------------------------------------------------------

  /** Calls one hook of an observer that is still attached. */
  #guard<A>(owner: Registration, hook: Hook, fn: Call<A>, arg: A, self: object = owner.observer): void {
    if (!owner.detached) this.#invoke(owner, hook, fn, arg, self);
  }

  /** The only place observer code runs: whatever it throws stops here. */
  #invoke<A>(owner: Registration, hook: Hook, fn: Call<A>, arg: A, self: object): void {
    try {
      fn.call(self, arg);
    } catch (err) {
      this.#failed(owner, hook, err);
    }
  }

  #failed(owner: Registration, hook: Hook, err: unknown): void {
    owner.failures++;
    const detach = !owner.detached && owner.failures >= OBSERVER_FAILURE_LIMIT;
    if (detach) this.remove(owner);
    try {
      this.#log(owner, hook, err, detach);
      this.#countFailure?.(owner.name);
    } catch {
      // Counting or logging a failure must not become a failure the proxy sees.
    }
    // The detached observer may stop its timers; a failure there is only counted.
    if (detach && owner.onDetach !== undefined) this.#invoke(owner, 'detach', owner.onDetach, undefined, owner.observer);
  }

  #log(owner: Registration, hook: Hook, err: unknown, detached: boolean): void {
    const now = Date.now();
    const logger = this.#logger;
    if (owner.failures === 1) {
      owner.loggedAt = now;
      logger.error(
        { event: 'observer_failed', observer: owner.name, hook, err: describeFailure(err) },
        `observer ${owner.name} failed in ${hook}: the exchange goes on unchanged; ${OBSERVER_FAILURE_LIMIT} failures detach it`,
      );
    } else if (now - owner.loggedAt >= OBSERVER_LOG_INTERVAL_MS) {
      const since = owner.unlogged + 1;
      owner.loggedAt = now;
      owner.unlogged = 0;
      logger.error(
        { event: 'observer_failing', observer: owner.name, hook, failures: owner.failures, sinceLastLine: since },
        `observer ${owner.name} is still failing: ${since} more failures (${owner.failures} in all)`,
      );
    } else {
      owner.unlogged++;
    }
    if (detached) {
      logger.error(
        { event: 'observer_detached', observer: owner.name, failures: owner.failures },
        `observer ${owner.name} detached after ${owner.failures} failures: what it records stops until the sidecar restarts`,
      );
    }
  }

  /** Takes an observer off every hook list (new lists: a dispatch under way keeps its own). Idempotent. */
  remove(reg: Registration): void {
    reg.detached = true;
    const keep = <A>(list: readonly Entry<A>[]): readonly Entry<A>[] => (list.some((e) => e.owner === reg) ? list.filter((e) => e.owner !== reg) : list);
    this.#registrations = this.#registrations.filter((r) => r !== reg);
    this.#start = keep(this.#start);
    this.#response = keep(this.#response);
    this.#end = keep(this.#end);
    this.#error = keep(this.#error);
    this.#operationStart = keep(this.#operationStart);
    this.#operationEnd = keep(this.#operationEnd);
  }
}
