/**
 * Turns proxied REST exchanges into ledger facts. An observer on the observation bus (`rest_observer`; it
 * never wraps the proxy): at `start` it marks lifecycle calls in flight (so poll differences they cause are not crashes);
 * at `response` it asks for a bounded copy of the body only where classification needs it (tool invokes,
 * lifecycle and config calls, 401/403 answers); at `end` it classifies. Per-exchange state lives in
 * WeakMaps keyed by the Exchange.
 */
import type { ObserverHandle, ObserverRegistry } from '../../observe/bus.ts';
import type { Exchange } from '../../observe/exchange.ts';
import { userIdOf, type UserIdOptions } from './auth.ts';
import { BodyCapture } from '../../observe/body-capture.ts';
import { normalizeEndpoint } from '../../ledger/endpoint.ts';
import type { InventoryWriter } from '../../ledger/inventory.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { LifecycleFact } from '../../ledger/lifecycle.ts';
import { classifyRest, lifecycleCall, needsResponseBody, type RestFact, type RestObservation } from './rest-classify.ts';

export interface RestObserverOptions {
  /** Largest body copied for classification (`--body-capture-limit`). */
  readonly captureLimit: number;
  readonly userId: UserIdOptions;
}

const PROXY_FAILURES = new Set(['upstream_unavailable', 'upstream_timeout', 'upstream_aborted', 'bad_request']);

export class RestObserver {
  readonly #ledger: Ledger;
  readonly #inventory: InventoryWriter;
  readonly #opts: RestObserverOptions;
  readonly #captures = new WeakMap<Exchange, BodyCapture>();
  readonly #lifecycleCalls = new WeakMap<Exchange, string>();
  /** Lifecycle calls marked in flight in the inventory and not ended yet, by server (released if the bus detaches this observer). */
  readonly #marked = new Map<string, number>();

  constructor(ledger: Ledger, inventory: InventoryWriter, opts: RestObserverOptions) {
    this.#ledger = ledger;
    this.#inventory = inventory;
    this.#opts = opts;
  }

  /** Registers on the observation bus as `rest_observer`. */
  register(bus: ObserverRegistry<never>): ObserverHandle {
    const handle = bus.register('rest_observer', {
      onStart: (ex) => this.#start(ex),
      onResponse: (ex) => this.#response(ex, handle),
      onEnd: (ex) => this.#end(ex),
      onDetach: () => this.#releaseMarks(),
    });
    return handle;
  }

  #start(ex: Exchange): void {
    if (ex.method !== 'POST') return;
    const call = lifecycleCall(ex.method, ex.path);
    if (call === undefined) return;
    this.#lifecycleCalls.set(ex, call.serverId);
    this.#marked.set(call.serverId, (this.#marked.get(call.serverId) ?? 0) + 1);
    this.#inventory.apply({ kind: 'call_started', serverId: call.serverId });
  }

  /** Detached: the calls it marked will never be seen ending, so they must not keep explaining changes of their servers. */
  #releaseMarks(): void {
    for (const [serverId, n] of this.#marked) for (let i = 0; i < n; i++) this.#inventory.apply({ kind: 'call_ended', serverId, succeeded: false });
    this.#marked.clear();
  }

  #response(ex: Exchange, handle: ObserverHandle): void {
    if (ex.stream !== undefined) return;
    if (ex.status !== 401 && ex.status !== 403 && !needsResponseBody(ex.method, ex.path)) return;
    const capture = new BodyCapture(this.#opts.captureLimit);
    this.#captures.set(ex, capture);
    handle.addTap(ex, capture);
  }

  #end(ex: Exchange): void {
    const serverId = this.#lifecycleCalls.get(ex);
    if (serverId !== undefined) {
      const n = this.#marked.get(serverId) ?? 0;
      if (n > 1) this.#marked.set(serverId, n - 1);
      else this.#marked.delete(serverId);
      this.#inventory.apply({ kind: 'call_ended', serverId, succeeded: ex.outcome === 'ok' && ex.status >= 200 && ex.status < 300 });
    }
    const capture = this.#captures.get(ex);
    const body = capture?.json();
    const observation: RestObservation = {
      method: ex.method,
      path: ex.path,
      status: ex.outcome === 'client_abort' ? 499 : ex.status,
      proxyFailure: PROXY_FAILURES.has(ex.outcome) ? (ex.outcome as RestObservation['proxyFailure']) : undefined,
      requestHeaders: ex.requestHeaders,
      body,
      bodyProblem: capture === undefined || body !== undefined ? undefined : capture.overflowed ? 'too_large' : capture.size > 0 ? 'not_json' : undefined,
      durationSeconds: (ex.endTime - ex.startTime) / 1000,
    };
    for (const fact of classifyRest(observation)) this.#record(fact, ex);
  }

  #record(f: RestFact, ex: Exchange): void {
    const ledger = this.#ledger;
    switch (f.kind) {
      case 'tool_call':
        ledger.toolCall({
          source: 'rest',
          toolId: f.toolId,
          ok: f.ok,
          ...(f.errorType !== undefined ? { errorType: f.errorType } : {}),
          durationSeconds: f.durationSeconds,
          origin: ex,
        });
        return;
      case 'resource_read':
        ledger.resourceRead({ source: 'rest', resourceUri: f.resourceUri, ok: f.ok, durationSeconds: f.durationSeconds, origin: ex });
        return;
      case 'rate_limited':
        ledger.request({ kind: 'rate_limited', endpoint: normalizeEndpoint(ex.path), userId: userIdOf(ex.requestHeaders, this.#opts.userId) });
        return;
      case 'server_lifecycle': {
        const fact: LifecycleFact | undefined =
          f.op === 'restart'
            ? f.ok
              ? { kind: 'restart', serverId: f.serverId, reason: 'manual' }
              : undefined
            : { kind: f.op, serverId: f.serverId, ok: f.ok };
        if (fact !== undefined) ledger.lifecycle.fromInference(fact);
        return;
      }
      case 'config_reload':
        ledger.lifecycle.fromInference({ kind: 'config_reload', ok: f.ok });
        return;
      case 'config_validation_error':
        ledger.configValidationRefused(f.errorType);
        return;
      default:
        ledger.request(f);
    }
  }
}
