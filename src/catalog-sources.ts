/**
 * Wires the catalog's sources to the ledger: proxied REST exchanges, inventory polling and the event
 * stream. Returns a handle that starts them once the ports are bound and stops them in order.
 */
import type { SidecarConfig } from './config/load.ts';
import { SecretFile, type SecretFileListener } from './config/secret-file.ts';
import { InventoryPoller } from './events/poller.ts';
import { EventSubscriber } from './events/subscriber.ts';
import { Inventory } from './ledger/inventory.ts';
import { Ledger } from './ledger/ledger.ts';
import { RestObserver } from './ledger/rest-observer.ts';
import type { Logger } from './log.ts';
import { CatalogRecorder } from './telemetry/catalog-recorder.ts';
import { EventMetrics } from './telemetry/event-metrics.ts';
import type { Instruments } from './telemetry/instruments.ts';
import { observeInventory } from './telemetry/inventory-gauges.ts';

export interface CatalogSources {
  readonly ledger: Ledger;
  readonly inventory: Inventory;
  start(): void;
  stop(): Promise<void>;
}

export function secretListener(logger: Logger, what: string): SecretFileListener {
  const words = what.replace(/_/g, ' ');
  return (event, detail) => {
    if (event === 'reloaded') logger.info({ event: `${what}_reloaded`, file: detail }, `${words} file changed: new token in use`);
    else logger.error({ event: `${what}_unreadable`, detail }, `${words} file unreadable: keeping the previous token`);
  };
}

export function createCatalogSources(config: SidecarConfig, instruments: Instruments, logger: Logger): CatalogSources {
  const inventory = new Inventory();
  const ledger = new Ledger(new CatalogRecorder(instruments));
  observeInventory(instruments, inventory);
  const restObserver = new RestObserver(ledger, inventory, {
    captureLimit: config.bodyCaptureLimit,
    userId: { source: config.userIdSource, header: config.userIdHeader },
  });
  const upstreamToken = config.upstreamTokenFile === undefined ? undefined : new SecretFile(config.upstreamTokenFile, 1000, secretListener(logger, 'upstream_token'));
  const token = upstreamToken === undefined ? {} : { token: () => upstreamToken.value() };

  const pollOutcomes = instruments.counter('sidecar_inventory_polls_total');
  const poller = new InventoryPoller(
    { origin: config.upstream, intervalMs: config.pollIntervalMs, timeoutMs: config.pollTimeoutMs, ...token },
    inventory,
    {
      onFacts: (facts) => {
        for (const f of facts) ledger.lifecycle.fromInference(f);
      },
      onPoll: (outcome) => pollOutcomes.add(1, { outcome }),
    },
    logger,
  );
  instruments.observeGauge('sidecar_inventory_poll_up', (observe) => {
    const last = poller.lastOutcome;
    if (last !== undefined) observe(last === 'ok' ? 1 : 0);
  });

  let subscriber: EventSubscriber | undefined;
  if (config.events === 'on') {
    const metrics = new EventMetrics(instruments);
    subscriber = new EventSubscriber(
      {
        origin: config.upstream,
        path: config.eventsPath,
        idleTimeoutMs: config.eventsIdleTimeoutMs,
        reconnectInitialMs: 500,
        reconnectMaxMs: config.eventsReconnectMaxMs,
        reprobeMs: config.eventsReprobeMs,
        maxEventBytes: Math.max(config.bodyCaptureLimit, 1024 * 1024),
        ...token,
      },
      { ledger, inventory, metrics, logger, reread: () => void poller.pollOnce() },
    );
    metrics.observe(instruments, subscriber);
  }

  let unsubscribeRest: (() => void) | undefined;
  return {
    ledger,
    inventory,
    start() {
      unsubscribeRest = restObserver.subscribe();
      subscriber?.start();
      poller.start();
    },
    async stop() {
      await subscriber?.stop();
      await poller.stop();
      unsubscribeRest?.();
    },
  };
}
