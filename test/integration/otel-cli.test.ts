/**
 * The CLI as a child process, configured only by the process environment, as in a Kubernetes pod.
 */
import { waitFor } from '../fixtures/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { otlpEnv, startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.ts';
import { LOCAL_PORTS, spawnSidecar, TEST_TOKEN, type SpawnedSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, unusedPort, type TestUpstream } from '../fixtures/upstream.ts';

let running: SpawnedSidecar | undefined;
let upstream: TestUpstream | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await running?.stop();
  await upstream?.close();
  await receiver?.close();
  running = undefined;
  upstream = undefined;
  receiver = undefined;
});

const LOCAL = [...LOCAL_PORTS, '--metrics-token', TEST_TOKEN];

describe('the CLI with OTEL_* variables', () => {
  it('pushes metrics and spans from the environment and flushes them on SIGTERM', async () => {
    receiver = await startOtlpReceiver();
    upstream = await startUpstream((_req, res) => res.end('ok'));
    running = await spawnSidecar(['--upstream', upstream.url, ...LOCAL], {
      ...otlpEnv(receiver),
      // Nothing is exported on a timer within this test: what arrives was flushed at shutdown.
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      OTEL_SERVICE_NAME: 'cli-sidecar',
    });
    for (let i = 0; i < 3; i++) await (await fetch(`${running.proxyUrl}/api/v1/servers`)).text();
    expect(receiver.requests.metrics).toHaveLength(0);
    expect(await running.stop()).toBe(0);
    expect(receiver.sum('mcp_http_requests_total', { method: 'GET', endpoint: '/api/v1/servers', status_code: '200' })).toBe(3);
    const spans = receiver.spans().filter((s) => s.name === 'GET /api/v1/servers');
    expect(spans).toHaveLength(3);
    expect(spans[0]?.resource['service.name']).toBe('cli-sidecar');
    expect(spans[0]?.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exits 2 naming the variable when an OTEL_* value is invalid', async () => {
    const s = await spawnSidecar([...LOCAL], { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'http' }, false);
    expect(await s.exited).toBe(2);
    const stderr = s.stderr.join('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^mcp-composer-sidecar: SIDECAR_E_CONFIG: OTEL_EXPORTER_OTLP_PROTOCOL: "http" is not one of http\/protobuf, http\/json, grpc/);
  });

  it('keeps proxying when the gRPC collector is unreachable', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    running = await spawnSidecar(['--upstream', upstream.url, ...LOCAL], {
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await unusedPort()}`,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    });
    const r = running;
    const failed = () => r.stdout.some((l) => l.includes('"event":"otlp_export_failed"'));
    for (let i = 0; i < 200 && !failed(); i++) {
      expect((await fetch(`${r.proxyUrl}/`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(failed, { what: 'the gRPC export failure line' });
    expect(r.stdout.filter((l) => l.includes('"event":"otlp_export_failed"'))).toHaveLength(1);
  });
});
