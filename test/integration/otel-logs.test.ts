import { request } from 'node:http';
import { waitFor } from '../fixtures/wait.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { otlpEnv, startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { readBody, startUpstream, unusedPort, type TestUpstream } from '../fixtures/upstream.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  await receiver?.close();
  sidecar = undefined;
  upstream = undefined;
  receiver = undefined;
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

/** Every secret the traffic below carries; none may appear in a log line. */
const SECRETS = [
  'TOKSECRET1',
  'KEYSECRET2',
  'COOKIESECRET',
  'QSECRET1',
  'QSECRET2',
  'QSECRET3',
  'ARGSECRET',
  'HDRSECRET',
  'URLSECRET',
  'QSECRET0',
  'WRONGSECRET',
  'DBSECRET',
];

describe('logs', () => {
  it('carry no token, API key, credential or query string from a traffic mix, and tie access lines to their span', async () => {
    receiver = await startOtlpReceiver();
    upstream = await startUpstream(async (req, res) => {
      await readBody(req);
      if ((req.url ?? '').startsWith('/reset')) return void req.socket.destroy();
      if ((req.url ?? '').startsWith('/hang')) return;
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'sid=COOKIESECRET' });
      res.end('{"ok":true}');
    });
    const downPort = await unusedPort();
    sidecar = await startSidecar(upstream.url, ['--access-log', '--log-level', 'debug'], {
      ...otlpEnv(receiver, { traces: true, metrics: true }),
      // Metrics go to a collector that is down, with credentials in the URL and the headers.
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `http://user:URLSECRET@127.0.0.1:${downPort}/v1/metrics?key=QSECRET0`,
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'api-key=HDRSECRET',
      OTEL_EXPORTER_OTLP_TIMEOUT: '200',
      OTEL_LOG_LEVEL: 'debug',
    });
    const base = sidecar.proxyUrl;

    const traced = await fetch(`${base}/api/v1/tools?token=QSECRET1&password=QSECRET2`, {
      headers: { authorization: 'Bearer TOKSECRET1', traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` },
    });
    await traced.text();
    await (
      await fetch(`${base}/api/v1/tools/calc.add/invoke`, {
        method: 'POST',
        headers: { 'x-api-key': 'KEYSECRET2', cookie: 'session=COOKIESECRET', 'content-type': 'application/json' },
        body: JSON.stringify({ arguments: { password: 'ARGSECRET' } }),
      })
    ).text();
    await (await fetch(`${base}/api/v1/resources/${encodeURIComponent('postgres://admin:DBSECRET@db/x')}?api_key=QSECRET3`)).text();
    expect((await fetch(`${base}/reset?token=QSECRET1`)).status).toBe(502);
    const hang = request(`${base}/hang?password=QSECRET2`, { headers: { authorization: 'Bearer TOKSECRET1' } });
    hang.on('error', () => undefined);
    hang.end();
    const u = upstream;
    await waitFor(() => u.requests.some((r) => (r.url ?? '').startsWith('/hang')), { what: 'the hanging request' });
    hang.destroy();
    expect((await fetch(sidecar.metricsUrl, { headers: { authorization: 'Bearer WRONGSECRET' } })).status).toBe(401);

    const s = sidecar;
    await waitFor(() => s.logs.filter((l) => l.event === 'access').length === 5, { what: 'five access lines' });
    await waitFor(() => s.logs.some((l) => l.event === 'otlp_export_failed' && l['signal'] === 'metrics'), { what: 'the metrics export failure line' });
    const text = s.rawLogs.join('');
    for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
    expect(text).not.toMatch(/token=|password=|api_key=|key=Q/);

    const access = s.logs.filter((l) => l.event === 'access');
    expect(access.map((l) => [l['endpoint'], l['status']])).toEqual([
      ['/api/v1/tools', 200],
      ['/api/v1/tools/{id}/invoke', 200],
      ['/api/v1/resources/{uri}', 200],
      ['/reset', 502],
      ['/hang', 499],
    ]);
    // Every access line of a traced request names its span; the first one continues the client's trace.
    const sentTraceparent = String(u.requests.find((r) => (r.url ?? '').startsWith('/api/v1/tools?'))?.headers.traceparent);
    expect(access[0]).toMatchObject({ trace_id: TRACE_ID, span_id: sentTraceparent.split('-')[2], trace_flags: '01' });
    for (const line of access) expect(line['trace_id']).toMatch(/^[0-9a-f]{32}$/);
    const failed = s.logs.find((l) => l.event === 'otlp_export_failed' && l['signal'] === 'metrics');
    expect(failed?.['endpoint']).toBe(`http://127.0.0.1:${downPort}/v1/metrics`);
  });
});
