// What `check` concludes from its probes (src/check/report.ts), without sockets: findings and their levels,
// the exit code, and the families the surfaces allow.
import { describe, expect, it } from 'vitest';
import type { McpProbe, ProbeResults } from '../../src/check/probe.ts';
import { buildReport, type CheckConfig } from '../../src/check/report.ts';
import { renderReport } from '../../src/check/render.ts';

const ok = (status: number) => ({ status });
const mcpOpen: McpProbe = { ownHost: ok(400), foreignHost: ok(400), foreignOrigin: ok(400) };
const mcpProtected: McpProbe = { ownHost: ok(404), foreignHost: ok(421), foreignOrigin: ok(403) };

const FULL: ProbeResults = {
  reachable: true,
  unreachableBecause: undefined,
  probePath: ok(200),
  detected: { rest: true, events: true, sse: true, streamable_http: true, tools_list: true },
  restAnonymous: ok(200),
  restWithToken: undefined,
  events: ok(200),
  mcp: { sse: mcpOpen, streamable_http: mcpOpen },
  loopback: true,
  elsewhere: [{ url: 'http://10.0.0.5:8000', answer: { status: undefined, error: 'ECONNREFUSED' } }],
};
const CONFIG: CheckConfig = {
  upstream: 'http://127.0.0.1:8000',
  eventsPath: '/api/v1/events',
  mcpPathPrefix: '/',
  events: 'on',
  preserveHost: false,
  upstreamToken: false,
  metricsAuth: 'file',
};
const codes = (p: ProbeResults, c: Partial<CheckConfig> = {}) => buildReport(p, { ...CONFIG, ...c }).findings.map((f) => `${f.level}:${f.code}`);

describe('check report', () => {
  it('a full composer on loopback with a metrics token: every family fed, no problem, exit 0', () => {
    const r = buildReport(FULL, CONFIG);
    expect(r.exitCode).toBe(0);
    expect(r.families.filter((f) => f.fed)).toHaveLength(33);
    expect(r.findings.map((f) => f.code)).toEqual(['loopback_only']);
  });

  it('DNS-rebinding protection is fine with the default Host rewriting and a problem with --preserve-host', () => {
    const p = { ...FULL, mcp: { sse: mcpProtected } };
    expect(codes(p)).toEqual(expect.arrayContaining(['note:dns_rebinding_protection', 'note:origin_checked']));
    expect(buildReport(p, CONFIG).exitCode).toBe(0);
    expect(codes(p, { preserveHost: true })).toContain('problem:preserve_host_breaks_mcp');
    expect(buildReport(p, { ...CONFIG, preserveHost: true }).exitCode).toBe(1);
  });

  it('REST that needs a token: a problem without one, and when the one given is refused', () => {
    expect(codes({ ...FULL, restAnonymous: ok(401) })).toContain('problem:rest_needs_token');
    expect(codes({ ...FULL, restAnonymous: ok(401), restWithToken: ok(401) }, { upstreamToken: true })).toContain('problem:upstream_token_refused');
    expect(codes({ ...FULL, restAnonymous: ok(401), restWithToken: ok(200) }, { upstreamToken: true }).filter((c) => c.startsWith('problem'))).toEqual([]);
  });

  it('a refused event stream is a problem unless --no-events; then the stream feeds nothing', () => {
    expect(codes({ ...FULL, events: ok(403) })).toContain('problem:events_refused');
    const off = buildReport({ ...FULL, events: ok(403) }, { ...CONFIG, events: 'off' });
    expect(off.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['events_disabled']));
    expect(off.exitCode).toBe(0);
    expect(off.families.flatMap((f) => f.from)).not.toContain('event_stream');
  });

  it('the composer answering on another address of this host is a problem; an upstream off loopback is a warning', () => {
    const around = { ...FULL, elsewhere: [{ url: 'http://10.0.0.5:8000', answer: ok(200) }] };
    expect(codes(around)).toContain('problem:reachable_around_sidecar');
    // Something else on that port (a different answer) is not the composer.
    expect(codes({ ...FULL, elsewhere: [{ url: 'http://10.0.0.5:8000', answer: ok(404) }] })).not.toContain('problem:reachable_around_sidecar');
    expect(codes({ ...FULL, loopback: false, elsewhere: [] })).toEqual(['warning:upstream_not_loopback']);
    expect(codes({ ...FULL, elsewhere: [] })).toEqual(['note:bypass_not_checked']);
  });

  it('metrics auth: missing is a problem (the sidecar would not start), --no-metrics-auth a warning', () => {
    expect(codes(FULL, { metricsAuth: 'missing' })).toContain('problem:metrics_token_missing');
    expect(codes(FULL, { metricsAuth: 'none' })).toContain('warning:metrics_auth_disabled');
  });

  it('an upstream that is down: one problem, nothing fed, and the table says so', () => {
    const down: ProbeResults = {
      ...FULL,
      reachable: false,
      unreachableBecause: 'ECONNREFUSED',
      probePath: { status: undefined, error: 'ECONNREFUSED' },
      detected: {},
      restAnonymous: undefined,
      events: undefined,
      mcp: {},
      elsewhere: [],
    };
    const r = buildReport(down, CONFIG);
    expect(r.exitCode).toBe(1);
    expect(r.findings.map((f) => f.code)).toEqual(['upstream_unreachable']);
    expect(r.families.some((f) => f.fed)).toBe(false);
    expect(renderReport(r)).toContain('http://127.0.0.1:8000 (not reachable)');
  });

  it('an HTTP server that is not a composer is a problem', () => {
    const other: ProbeResults = {
      ...FULL,
      detected: { rest: false, events: false, sse: false, streamable_http: false, tools_list: false },
      restAnonymous: undefined,
      events: undefined,
      mcp: {},
    };
    expect(codes(other)).toContain('problem:nothing_recognised');
  });
});
