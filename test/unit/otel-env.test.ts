import { describe, expect, it } from 'vitest';
import { loadOtelConfig, loggableEndpoint, parseKeyValueList } from '../../src/config/otel-env.ts';
import { ConfigError } from '../../src/errors.ts';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadOtelConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('OTEL_* environment variables', () => {
  it('with none set: no push, no tracing, W3C propagation, the default service name', () => {
    const c = loadOtelConfig({});
    expect(c.metrics).toBeUndefined();
    expect(c.traces).toBeUndefined();
    expect(c.sdkDisabled).toBe(false);
    expect(c.propagateTraceContext).toBe(true);
    expect(c.serviceName).toBe('mcp-composer-sidecar');
    expect(c.sdkLogLevel).toBe('none');
    expect(c.notes).toEqual([]);
  });

  it('OTEL_METRICS_EXPORTER=otlp pushes with the specification defaults', () => {
    const c = loadOtelConfig({ OTEL_METRICS_EXPORTER: 'otlp' });
    expect(c.metrics).toEqual({
      exporter: { protocol: 'http/protobuf', url: 'http://localhost:4318/v1/metrics', headers: {}, timeoutMs: 10_000, compression: 'none' },
      intervalMs: 60_000,
      timeoutMs: 30_000,
      temporality: 'cumulative',
    });
    expect(loadOtelConfig({ OTEL_METRICS_EXPORTER: 'prometheus' }).metrics).toBeUndefined();
  });

  it('appends /v1/<signal> to the base endpoint for HTTP, uses signal endpoints as given, and the bare endpoint for gRPC', () => {
    const base = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_TRACES_EXPORTER: 'otlp' };
    expect(loadOtelConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).metrics?.exporter.url).toBe('http://collector:4318/v1/metrics');
    expect(loadOtelConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example/otlp/' }).traces?.exporter.url).toBe('https://gw.example/otlp/v1/traces');
    const own = loadOtelConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/custom',
    });
    expect(own.traces?.exporter.url).toBe('http://tempo:4318/custom');
    expect(own.metrics?.exporter.url).toBe('http://collector:4318/v1/metrics');
    const grpc = loadOtelConfig({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(grpc.metrics?.exporter.url).toBe('http://localhost:4317/');
    expect(loadOtelConfig({ ...base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317' }).traces?.exporter.url).toBe(
      'http://collector:4317/',
    );
  });

  it('lets signal-specific protocol, headers, timeout and compression win over the general ones', () => {
    const c = loadOtelConfig({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a,api-key=k%3D1',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=b',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    });
    expect(c.metrics?.exporter).toMatchObject({ protocol: 'http/json', headers: { 'x-tenant': 'b', 'api-key': 'k=1' }, timeoutMs: 3000, compression: 'gzip' });
    expect(c.traces?.exporter).toMatchObject({ protocol: 'grpc', headers: { 'x-tenant': 'a', 'api-key': 'k=1' }, timeoutMs: 2000, compression: 'gzip' });
  });

  it('takes the service name from OTEL_SERVICE_NAME, else from OTEL_RESOURCE_ATTRIBUTES', () => {
    expect(loadOtelConfig({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,team=obs' }).serviceName).toBe('from-attrs');
    const c = loadOtelConfig({ OTEL_SERVICE_NAME: 'named', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,team=obs%20sre' });
    expect(c.serviceName).toBe('named');
    expect(c.resourceAttributes).toEqual({ 'service.name': 'from-attrs', team: 'obs sre' });
  });

  it('reads sampler, ratio, batch and interval settings; clamps the export timeout to the interval', () => {
    const c = loadOtelConfig({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta',
    });
    expect(c.traces?.sampler).toBe('parentbased_traceidratio');
    expect(c.traces?.samplerRatio).toBe(0.25);
    expect(c.traces?.batch).toEqual({ scheduledDelayMs: 100, exportTimeoutMs: 30_000, maxQueueSize: 100, maxExportBatchSize: 10 });
    expect(c.metrics?.intervalMs).toBe(5000);
    expect(c.metrics?.timeoutMs).toBe(5000);
    expect(c.metrics?.temporality).toBe('delta');
  });

  it('OTEL_SDK_DISABLED=true turns push and tracing off (with a note), and OTEL_PROPAGATORS=none turns propagation off', () => {
    const c = loadOtelConfig({ OTEL_SDK_DISABLED: 'TRUE', OTEL_METRICS_EXPORTER: 'otlp', OTEL_TRACES_EXPORTER: 'otlp' });
    expect(c.metrics).toBeUndefined();
    expect(c.traces).toBeUndefined();
    expect(c.notes.join(' ')).toContain('OTEL_SDK_DISABLED');
    expect(loadOtelConfig({ OTEL_PROPAGATORS: 'none' }).propagateTraceContext).toBe(false);
    expect(loadOtelConfig({ OTEL_PROPAGATORS: 'baggage,tracecontext' }).propagateTraceContext).toBe(true);
  });

  it('treats empty values as unset and notes an unsupported logs exporter instead of failing', () => {
    expect(loadOtelConfig({ OTEL_METRICS_EXPORTER: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' }).metrics).toBeUndefined();
    expect(loadOtelConfig({ OTEL_LOGS_EXPORTER: 'otlp' }).notes.join(' ')).toContain('OTEL_LOGS_EXPORTER');
  });

  const invalid: Array<[string, Record<string, string>, RegExp]> = [
    ['an unknown metrics exporter', { OTEL_METRICS_EXPORTER: 'console' }, /^OTEL_METRICS_EXPORTER: "console" is not supported/],
    ['an unknown traces exporter', { OTEL_TRACES_EXPORTER: 'zipkin' }, /^OTEL_TRACES_EXPORTER: "zipkin" is not supported/],
    [
      'an unknown protocol',
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http' },
      /^OTEL_EXPORTER_OTLP_PROTOCOL: "http" is not one of http\/protobuf, http\/json, grpc/,
    ],
    ['a signal protocol', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'udp' }, /^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL:/],
    [
      'an endpoint that is not a URL',
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      /^OTEL_EXPORTER_OTLP_ENDPOINT: scheme "collector"|^OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" is not a URL/,
    ],
    [
      'an endpoint with another scheme',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c' },
      /^OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: scheme "ftp"/,
    ],
    ['a zero interval', { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '0' }, /^OTEL_METRIC_EXPORT_INTERVAL: "0" is not a whole number/],
    ['a timeout with a unit', { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, /^OTEL_EXPORTER_OTLP_TIMEOUT: "10s"/],
    ['an unknown sampler', { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'jaeger_remote' }, /^OTEL_TRACES_SAMPLER: "jaeger_remote" is not one of/],
    [
      'a ratio above 1',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' },
      /^OTEL_TRACES_SAMPLER_ARG: "1.5" is not a ratio/,
    ],
    [
      'a batch larger than the queue',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' },
      /^OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 20 is larger/,
    ],
    ['a non-boolean OTEL_SDK_DISABLED', { OTEL_SDK_DISABLED: 'yes' }, /^OTEL_SDK_DISABLED: "yes" is not true or false/],
    ['a resource attribute without =', { OTEL_RESOURCE_ATTRIBUTES: 'team=obs,broken' }, /^OTEL_RESOURCE_ATTRIBUTES: entry 2 is not key=value \("broken"\)/],
    ['an unknown propagator', { OTEL_PROPAGATORS: 'b3' }, /^OTEL_PROPAGATORS: "b3" is not supported/],
    ['an unknown SDK log level', { OTEL_LOG_LEVEL: 'loud' }, /^OTEL_LOG_LEVEL: "loud" is not one of/],
    ['a bad compression', { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'zstd' }, /^OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: "zstd"/],
  ];
  for (const [what, env, message] of invalid) {
    it(`rejects ${what}, naming the variable`, () => {
      const err = configError(env);
      expect(err.code).toBe('SIDECAR_E_CONFIG');
      expect(err.message).toMatch(message);
      expect(err.field).toBe(err.message.slice(0, err.message.indexOf(':')));
    });
  }

  it("validates a signal's settings even while OTEL_SDK_DISABLED turns it off (a typo is reported the day it is made)", () => {
    expect(configError({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_PROTOCOL: 'bogus', OTEL_METRICS_EXPORTER: 'otlp' }).field).toBe(
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    );
  });

  it('never echoes header values in an error', () => {
    const err = configError({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=SECRETVALUE,SECRETBROKEN' });
    expect(err.message).toBe('OTEL_EXPORTER_OTLP_HEADERS: entry 2 is not key=value');
    expect(parseKeyValueList('a=%E2%82%AC', 'X', true)).toEqual({ a: '€' });
    expect(() => parseKeyValueList('a=%E2%82', 'X', true)).toThrow('X: entry 1 has an invalid percent-encoding');
  });

  it('logs endpoints without credentials or query', () => {
    expect(loggableEndpoint('https://user:pass@collector:4318/v1/traces?api_key=x')).toBe('https://collector:4318/v1/traces');
  });

  it('OTEL_METRICS_EXEMPLAR_FILTER: trace_based by default, always_on and always_off, anything else exit 2 naming the variable', () => {
    expect(loadOtelConfig({}).exemplarFilter).toBe('trace_based');
    for (const v of ['trace_based', 'always_on', 'always_off', 'ALWAYS_ON', ' always_off ']) {
      expect(loadOtelConfig({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXEMPLAR_FILTER: v }).exemplarFilter).toBe(v.trim().toLowerCase());
    }
    expect(loadOtelConfig({ OTEL_METRICS_EXEMPLAR_FILTER: '' }).exemplarFilter).toBe('trace_based');
    for (const v of ['tracebased', 'on', 'parentbased_always_on']) {
      const err = configError({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXEMPLAR_FILTER: v });
      expect(err.field).toBe('OTEL_METRICS_EXEMPLAR_FILTER');
      expect(err.message).toBe(`OTEL_METRICS_EXEMPLAR_FILTER: "${v}" is not one of trace_based, always_on, always_off`);
    }
  });

  it('notes an exemplar filter set without tracing (it has nothing to link to), and says nothing with tracing or for always_off', () => {
    expect(loadOtelConfig({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_on' }).notes.join(' ')).toContain(
      'OTEL_METRICS_EXEMPLAR_FILTER has no effect without tracing',
    );
    expect(loadOtelConfig({ OTEL_METRICS_EXEMPLAR_FILTER: 'trace_based', OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).notes.join(' ')).toContain(
      'OTEL_METRICS_EXEMPLAR_FILTER has no effect',
    );
    expect(loadOtelConfig({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_on', OTEL_TRACES_EXPORTER: 'otlp' }).notes).toEqual([]);
    expect(loadOtelConfig({ OTEL_METRICS_EXEMPLAR_FILTER: 'always_off' }).notes).toEqual([]);
  });
});
