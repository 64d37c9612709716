/**
 * The sidecar's observation path as src/main.ts wires it, without sockets, for the micro benchmarks: the
 * proxy state and its observation bus, a MeterProvider with the Prometheus reader, and (unless
 * `subscribers` is false) the HTTP families, the REST observer and the MCP tap registered on the bus, and
 * (unless `status` is false) the status page's ring fed beside them. No upstream: source detection,
 * polling and the event stream stay off.
 */
import { StatusFeed, StatusHttpFeeder } from '../../src/admin/status-feed.ts';
import { loadConfig } from '../../src/config/load.ts';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { createLogger } from '../../src/log.ts';
import type { McpOperation } from '../../src/sources/mcp/operations.ts';
import { ObservationBus } from '../../src/observe/bus.ts';
import { UpstreamHealth } from '../../src/proxy/health.ts';
import { ProxyState } from '../../src/proxy/state.ts';
import type { Exemplars } from '../../src/telemetry/exemplars.ts';
import { HttpMetrics } from '../../src/telemetry/http-metrics.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';
import { wireSources } from '../../src/wiring.ts';

export interface ObservationPath {
  readonly state: ProxyState;
  readonly bus: ObservationBus<McpOperation>;
  readonly scraper: PrometheusScraper;
  readonly instruments: Instruments;
}

/**
 * @param opts.exemplars wired into the recorders and the scraper, as main.ts does with tracing on.
 * @param opts.status the status page's ring fed beside them, as main.ts does. @default true
 */
export function observationPath(opts: { subscribers: boolean; exemplars?: Exemplars; status?: boolean } = { subscribers: true }): ObservationPath {
  const config = loadConfig(['--upstream', 'http://127.0.0.1:9', '--no-metrics-auth', '--no-events'], {});
  const health = new UpstreamHealth();
  const scraper = new PrometheusScraper({ exemplars: opts.exemplars });
  const { meter } = createMeterProvider({ readers: [scraper.reader], version: 'bench' });
  const instruments = new Instruments(meter, { maxLabelValues: config.maxLabelValues });
  const logger = createLogger({ level: 'silent' });
  const errors = instruments.counter('sidecar_observer_errors_total');
  const bus = new ObservationBus<McpOperation>({ logger, countFailure: (observer) => errors.add(1, { observer }) });
  const state = new ProxyState(health, bus);
  if (opts.subscribers) {
    new HttpMetrics(instruments, health, opts.exemplars).register(bus);
    const status = opts.status === false ? undefined : new StatusFeed({ maxLabelValues: config.maxLabelValues });
    if (status !== undefined) new StatusHttpFeeder(status).register(bus);
    // Registers the REST observer and the MCP tap; source detection finds nothing at port 9 and starts no poller.
    wireSources(config, instruments, logger, health, bus, { exemplars: opts.exemplars, status }).start();
  }
  return { state, bus, scraper, instruments };
}
