import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthFailureLog } from '../../src/admin/auth-log.ts';
import { createLogger } from '../../src/log.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('auth failure log', () => {
  it('brute-forcing the metrics token floods no log: the first failure is logged at once, the rest summed once per interval', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const { logger, lines } = capture();
    const log = new AuthFailureLog(logger, 60_000);
    for (let i = 0; i < 1000; i++) log.record('10.0.0.9', i % 2 === 0 ? 'invalid' : 'missing');
    vi.setSystemTime(new Date('2026-01-01T00:00:59Z'));
    log.record('10.0.0.9', 'invalid');
    vi.setSystemTime(new Date('2026-01-01T00:01:01Z'));
    log.record('10.0.0.10', 'client_certificate');
    log.record('10.0.0.10', 'client_certificate');
    log.flush();
    log.flush();
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l['event'], l['reason'], l['remoteAddress'], l['suppressedSinceLastLine']])).toEqual([
      ['metrics_auth_failed', 'invalid', '10.0.0.9', 0],
      ['metrics_auth_failed', 'client_certificate', '10.0.0.10', 1000],
      ['metrics_auth_failed', undefined, '10.0.0.10', 1],
    ]);
    expect(lines[1]?.['msg']).toBe('rejected a /metrics request (no trusted client certificate)');
  });
});
