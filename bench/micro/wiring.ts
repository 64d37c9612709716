/**
 * The sidecar's observation path as src/main.ts wires it, without sockets, for the micro benchmarks: the
 * proxy state, a MeterProvider with the Prometheus reader, and (unless `subscribers` is false) the HTTP
 * families, the REST observer and the MCP tap subscribed to the proxy's channels. No upstream: source
 * detection, polling and the event stream stay off.
 */
import { createCatalogSources } from '../../src/catalog-sources.ts';
import { loadConfig } from '../../src/config/load.ts';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import { createLogger } from '../../src/log.ts';
import { UpstreamHealth } from '../../src/proxy/health.ts';
import { ProxyState } from '../../src/proxy/state.ts';
import type { Exemplars } from '../../src/telemetry/exemplars.ts';
import { HttpMetrics } from '../../src/telemetry/http-metrics.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';

export interface ObservationPath {
  readonly state: ProxyState;
  readonly scraper: PrometheusScraper;
  readonly instruments: Instruments;
}

/**
 * @param opts.exemplars wired into the recorders and the scraper, as main.ts does with tracing on.
 * @param opts.handOffSlice the collections' hand-off slice (`Infinity`: in one block, as before slicing).
 */
export function observationPath(opts: { subscribers: boolean; exemplars?: Exemplars; handOffSlice?: number } = { subscribers: true }): ObservationPath {
  const config = loadConfig(['--upstream', 'http://127.0.0.1:9', '--no-metrics-auth', '--no-events'], {});
  const health = new UpstreamHealth();
  const state = new ProxyState(health);
  const scraper = new PrometheusScraper({ exemplars: opts.exemplars });
  const { meter } = createMeterProvider({ readers: [scraper.reader], version: 'bench' });
  const instruments = new Instruments(meter, { maxLabelValues: config.maxLabelValues, ...(opts.handOffSlice === undefined ? {} : { handOffSlice: opts.handOffSlice }) });
  if (opts.subscribers) {
    new HttpMetrics(instruments, health, opts.exemplars).subscribe();
    // Subscribes the REST observer and the MCP tap; source detection finds nothing at port 9 and starts no poller.
    createCatalogSources(config, instruments, createLogger({ level: 'silent' }), health, opts.exemplars).start();
  }
  return { state, scraper, instruments };
}
