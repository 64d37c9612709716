/**
 * Route flooding of span names: unknown paths past `maxRoutes` lose their route in span names and
 * `http.route`, but the composer's route templates never do, however many came first. Real SDK, in-memory
 * exporter, exchanges reported on the observation bus as the proxy does.
 */
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import type { TracesConfig } from '../../src/config/otel-env.ts';
import { createLogger } from '../../src/log.ts';
import { ObservationBus } from '../../src/observe/bus.ts';
import { Exchange } from '../../src/observe/exchange.ts';
import { createResource } from '../../src/telemetry/resource.ts';
import { Tracing } from '../../src/telemetry/tracing.ts';

const config: TracesConfig = {
  exporter: { protocol: 'http/json', url: 'http://unused/v1/traces', headers: {}, timeoutMs: 1000, compression: 'none' },
  sampler: 'always_on',
  samplerRatio: 1,
  batch: { scheduledDelayMs: 10_000, exportTimeoutMs: 1000, maxQueueSize: 1000, maxExportBatchSize: 1000 },
};

let tracing: Tracing | undefined;
const bus = new ObservationBus({ logger: createLogger({ level: 'silent' }) });
afterEach(async () => {
  await tracing?.shutdown(1000);
  tracing = undefined;
});

function request(path: string): void {
  const ex = new Exchange('GET', path, { host: 'sidecar:8080' }, performance.now());
  bus.start(ex);
  ex.status = 200;
  ex.endTime = performance.now();
  bus.end(ex);
}

describe('span routes', () => {
  it('route flooding with unknown paths past maxRoutes leaves the composer route templates in span names and http.route', async () => {
    const exporter = new InMemorySpanExporter();
    tracing = new Tracing({
      config,
      exporter,
      resource: createResource({ serviceName: 'test', resourceAttributes: {} }, 'test'),
      version: 'test',
      propagate: false,
      maxRoutes: 3,
    });
    tracing.start(bus);
    for (const word of ['alpha', 'bravo', 'charlie', 'delta', 'echo']) request(`/junk/${word}`);
    request('/api/v1/health');
    request('/api/v1/tools/calc.add/invoke?x=1');
    await tracing.provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual([
      'GET /junk/alpha',
      'GET /junk/bravo',
      'GET /junk/charlie',
      'GET',
      'GET',
      'GET /api/v1/health',
      'GET /api/v1/tools/{id}/invoke',
    ]);
    expect(spans.at(-1)?.attributes['http.route']).toBe('/api/v1/tools/{id}/invoke');
    expect(spans.at(3)?.attributes['http.route']).toBeUndefined();
  });
});
