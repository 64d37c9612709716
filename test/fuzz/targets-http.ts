/**
 * Fuzz targets for what the sidecar decides about requests and the composer's answers: the configuration
 * loader, the request policy and header rules of the proxy, the REST classifier, the auth helpers and the
 * inventory parsers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/load.ts';
import { OPTIONS } from '../../src/config/options.ts';
import { ConfigError } from '../../src/errors.ts';
import { parseConflicts, parseListPage, parseServers, parseStatus, parseVersion } from '../../src/sources/poll/inventory-parse.ts';
import { negotiateFormat } from '../../src/exporters/negotiate.ts';
import { authFailureReason, credentialOf, jwtSubject, SecretIds, userIdOf } from '../../src/sources/rest/auth.ts';
import { classifyRest, configErrorType, lifecycleCall, resourceTypeOf, type RestObservation } from '../../src/sources/rest/rest-classify.ts';
import { MAX_NAME_LENGTH, MAX_SERVER_ID_LENGTH, MAX_URI_LENGTH } from '../../src/ledger/name-bounds.ts';
import { clientResponseHeaders, HOP_BY_HOP, upstreamRequestHeaders, withOverrides } from '../../src/proxy/headers.ts';
import { parseHostHeader, parseHostList, parseOriginList, serializeOrigin } from '../../src/config/front-door.ts';
import { DEFAULT_ALLOWED_METHODS } from '../../src/config/values.ts';
import { refuseFrontDoor, refuseRequest } from '../../src/proxy/request-policy.ts';
import { ERROR_TYPES, USERINFO } from './targets-text.ts';
import { anyText, check, Crash, run, target, type FuzzTarget } from './harness.ts';

/** A marker planted in every secret the loader sees; no error message may contain it. */
const SECRET = 'S3CRET';

// ---------------------------------------------------------------------------------------------------------
// config/load

let files: { dir: string; good: string; bad: string; empty: string } | undefined;
/** Token files for the loader (created on first use, removed by the target's `dispose`). */
function tokenFiles(): { dir: string; good: string; bad: string; empty: string } {
  if (files !== undefined) return files;
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-fuzz-'));
  files = { dir, good: join(dir, 'good'), bad: join(dir, 'bad'), empty: join(dir, 'empty') };
  writeFileSync(files.good, `token-${SECRET}\n`);
  writeFileSync(files.bad, `has a space ${SECRET}\n`);
  writeFileSync(files.empty, '');
  return files;
}

const SAMPLES: Record<string, readonly string[]> = {
  DURATION: ['500ms', '15s', '2m', '0', '1h', '0.5s', '10m', '-1s', '1e3', ''],
  SIZE: ['64kb', '1mb', '0', '16384', '1tb', 'big'],
  N: ['0', '1', '50', '10000', '-1', '1.5', '99999999999'],
  'HOST:PORT': ['127.0.0.1:0', '[::1]:0', ':0', '0.0.0.0:70000', 'host', '127.0.0.1:9464'],
  URL: ['http://127.0.0.1:8000', 'https://composer:8443', 'ftp://x', 'http://u:p@x', 'http://x/path', 'not a url'],
  PATH: ['/', '/api/v1/health', 'relative', '/with?query', '/mcp/'],
  LIST: ['GET,POST', 'get', 'CONNECT', 'G ET', ',', 'TRACE,GET'],
};

function valueFor(placeholder: string, flag: string): fc.Arbitrary<string> {
  if (flag.endsWith('-file') || flag.startsWith('metrics-tls') || flag === 'metrics-client-ca') {
    return fc.constantFrom('good', 'bad', 'empty', 'missing', 'dir').map((k) => {
      const f = tokenFiles();
      return k === 'missing' ? join(f.dir, 'nope') : k === 'dir' ? f.dir : f[k as 'good' | 'bad' | 'empty'];
    });
  }
  if (flag === 'metrics-token') return fc.constantFrom(`tok-${SECRET}`, `two words ${SECRET}`, ` ${SECRET}\u00e9`, '');
  const samples = SAMPLES[placeholder] ?? ['x', 'on', 'off', 'true', 'none', 'bearer', 'info', 'auto', 'header'];
  return fc.oneof(fc.constantFrom(...samples), anyText(20));
}

const argvArb = fc
  .array(
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .constantFrom(...OPTIONS)
          .chain(
            (o): fc.Arbitrary<string[]> =>
              o.boolean !== undefined ? fc.constant([`--${o.flag}`]) : valueFor(o.placeholder, o.flag).map((v) => [`--${o.flag}`, v]),
          ),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom<string[]>(['--bogus'], ['--help'], ['-x'], ['--listen'], ['--listen=127.0.0.1:0'], ['--'], ['--upstream', '--listen']),
      },
    ),
    { maxLength: 8 },
  )
  .map((pairs): string[] => pairs.flat());
const envArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(...OPTIONS).chain((o) => valueFor(o.placeholder, o.flag).map((v) => [o.env, v] as const)),
      fc
        .constantFrom('OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_METRICS_HEADERS')
        .chain((n) => fc.constantFrom(`api-key=${SECRET}`, `api-key${SECRET}`, `=${SECRET}`, `a=%zz${SECRET}`, `a=b,${SECRET}`).map((v) => [n, v] as const)),
      fc
        .constantFrom(
          'OTEL_METRICS_EXPORTER',
          'OTEL_TRACES_EXPORTER',
          'OTEL_EXPORTER_OTLP_PROTOCOL',
          'OTEL_EXPORTER_OTLP_ENDPOINT',
          'OTEL_TRACES_SAMPLER',
          'OTEL_TRACES_SAMPLER_ARG',
          'OTEL_SERVICE_NAME',
          'OTEL_RESOURCE_ATTRIBUTES',
          'OTEL_METRIC_EXPORT_INTERVAL',
          'OTEL_LOG_LEVEL',
        )
        .chain((n) =>
          fc
            .oneof(
              fc.constantFrom(
                'otlp',
                'none',
                'prometheus',
                'grpc',
                'http/json',
                'http/protobuf',
                'http://127.0.0.1:4318',
                'always_on',
                'traceidratio',
                '0.5',
                '2',
                'a=b',
                'debug',
                '1000',
              ),
              anyText(20),
            )
            .map((v) => [n, v] as const),
        ),
    ),
    { maxLength: 8 },
  )
  .map((entries) => Object.fromEntries(entries) as Record<string, string>);

const configTarget = target('config/load: loadConfig', [argvArb, envArb], (argv, env) => {
  try {
    const c = loadConfig(argv, env);
    check(Object.isFrozen(c), 'the configuration is not frozen');
    check(c.clientRequestTimeoutMs === 0 || c.clientHeadersTimeoutMs <= c.clientRequestTimeoutMs, 'a headers timeout Node would refuse');
    check(c.clientHeadersTimeoutMs >= 100, 'no slowloris defence');
    check(!('metricsToken' in c) && !('metricsTokenFile' in c), 'the raw token fields survived');
  } catch (err) {
    if (!(err instanceof ConfigError))
      throw new Crash(`loadConfig threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} instead of a ConfigError`);
    check(!err.message.includes(SECRET), () => `a secret in the error message: ${err.message}`);
    check(err.message.length <= 1000 && !err.message.includes('\n'), 'not one short line');
  }
});

// ---------------------------------------------------------------------------------------------------------
// proxy/request-policy, proxy/headers

const HEADER_NAMES = [
  'Host',
  'host',
  'Connection',
  'connection',
  'Keep-Alive',
  'TE',
  'Trailer',
  'Transfer-Encoding',
  'transfer-encoding',
  'Upgrade',
  'Proxy-Authorization',
  'Proxy-Connection',
  'Content-Length',
  'X-Forwarded-For',
  'X-Forwarded-Proto',
  'X-Forwarded-Host',
  'Expect',
  'Authorization',
  'X-Api-Key',
  'Accept',
  'X-Custom',
  'traceparent',
];
const headerName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...HEADER_NAMES) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/) });
const headerValue = fc.oneof(
  fc.constantFrom('chunked', 'xchunked', 'gzip, chunked', 'chunked, chunked', 'close', 'keep-alive, X-Custom', 'Upgrade, Authorization', 'a', '5', ''),
  fc.string({ maxLength: 30 }),
);
const rawHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }).map((pairs) => pairs.flat());

const policy = target(
  'proxy/request-policy: refuseRequest',
  [
    fc.record({
      method: fc.option(fc.oneof(fc.constantFrom('GET', 'POST', 'TRACE', 'CONNECT', 'PROPFIND', 'get'), fc.string({ maxLength: 8 })), { nil: undefined }),
      url: fc.option(fc.oneof(fc.webPath(), fc.webUrl(), fc.constantFrom('*', '', 'host:443', '//x'), anyText(20)), { nil: undefined }),
      httpVersionMajor: fc.integer({ min: 0, max: 3 }),
      httpVersionMinor: fc.integer({ min: 0, max: 9 }),
      rawHeaders,
    }),
  ],
  (head) => {
    const refusal = run('refuseRequest', () => refuseRequest(head, new Set(DEFAULT_ALLOWED_METHODS)));
    if (refusal !== undefined) {
      check([400, 405, 501, 505].includes(refusal.status), `status ${refusal.status}`);
      return;
    }
    // What passes is exactly what may be forwarded.
    const names = head.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    check(head.httpVersionMajor === 1 && head.httpVersionMinor <= 1, 'forwarded an HTTP version other than 1.x');
    check((head.url ?? '').startsWith('/'), 'forwarded a target not in origin form');
    check(DEFAULT_ALLOWED_METHODS.includes(head.method ?? ''), 'forwarded a method outside the list');
    check(names.filter((n) => n === 'host').length <= 1, 'forwarded two Host headers');
    const te = head.rawHeaders.filter((_, i) => i % 2 === 1 && names[(i - 1) / 2] === 'transfer-encoding');
    check(
      te.length === 0 || (te.join(',').trim().toLowerCase() === 'chunked' && !names.includes('content-length') && head.httpVersionMinor === 1),
      () => `forwarded Transfer-Encoding ${JSON.stringify(te)}`,
    );
  },
);

const ALLOWED_ORIGINS = parseOriginList('https://app.example,http://localhost:6274');
const ALLOWED_HOSTS = parseHostList('mcp.example.com,127.0.0.1:8080,[::1]');
const originText = fc.oneof(
  fc.constantFrom(
    'https://app.example',
    'HTTPS://APP.EXAMPLE:443',
    'http://localhost:6274/',
    'null',
    '',
    'https://app.example, https://evil.example',
    'https://evil.app.example',
    'https://app.example.evil',
    'https://app.example:8443',
  ),
  fc.webUrl().map((u) => new URL(u).origin),
  fc.webUrl(),
  anyText(40),
);
const hostText = fc.oneof(
  fc.constantFrom('mcp.example.com', 'MCP.EXAMPLE.COM.:1', '127.0.0.1:8080', '127.0.0.1:08080', '127.0.0.1', '[::1]', '[::1]:9', 'evil.example', 'a b', ''),
  fc.domain(),
  fc.webUrl().map((u) => new URL(u).host),
  anyText(30),
);
/** Refused unless `o` serialises to an allowed origin — the reference, written independently of the fast path. */
const ORIGIN_REFERENCE = (o: string): boolean => {
  const s = serializeOrigin(o);
  return s === 'https://app.example' || s === 'http://localhost:6274';
};
const HOST_REFERENCE = (h: string): boolean => {
  const p = parseHostHeader(h);
  return p !== undefined && (p.host === 'mcp.example.com' || p.host === '[::1]' || (p.host === '127.0.0.1' && p.port === '8080'));
};

const frontDoor = target(
  'proxy/request-policy: refuseFrontDoor, serializeOrigin, parseHostHeader',
  [fc.option(hostText, { nil: undefined }), fc.option(originText, { nil: undefined })],
  (host, origin) => {
    const refusal = run('refuseFrontDoor', () => refuseFrontDoor(host, origin, ALLOWED_HOSTS, ALLOWED_ORIGINS));
    const hostOk = host !== undefined && HOST_REFERENCE(host);
    const originOk = origin === undefined || ORIGIN_REFERENCE(origin);
    check(
      refusal === undefined ? hostOk && originOk : refusal.status === (hostOk ? 403 : 421),
      () => `host ${JSON.stringify(host)} origin ${JSON.stringify(origin)}: ${refusal?.status ?? 'forwarded'}`,
    );
    if (origin !== undefined) {
      const s = run('serializeOrigin', () => serializeOrigin(origin));
      // A serialisation is its own serialisation, has no path, query, credentials or upper case.
      check(
        s === undefined || (serializeOrigin(s) === s && !/[/?#@]/.test(s.slice(s.indexOf('://') + 3)) && s === s.toLowerCase()),
        () => `serialisation ${JSON.stringify(s)} of ${JSON.stringify(origin)}`,
      );
      // With none, every request carrying an Origin is refused.
      check(refuseFrontDoor('a', origin, { any: true }, { any: false, origins: new Set() })?.status === 403, 'an Origin passed "none"');
    }
  },
);

const CTX = { host: 'composer:8000', remoteAddress: '10.1.2.3', proto: 'http' as const };
const headers = target(
  'proxy/headers: upstreamRequestHeaders, clientResponseHeaders, withOverrides',
  [
    rawHeaders,
    fc.dictionary(
      headerName.map((n) => n.toLowerCase()),
      headerValue,
      { maxKeys: 10 },
    ),
  ],
  (raw, response) => {
    const out = run('upstreamRequestHeaders', () => upstreamRequestHeaders(raw, CTX));
    const names = out.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    const named = new Set<string>();
    for (let i = 0; i < raw.length; i += 2) {
      if ((raw[i] as string).toLowerCase() === 'connection') for (const t of (raw[i + 1] as string).split(',')) named.add(t.trim().toLowerCase());
    }
    check(
      names.every((n) => !HOP_BY_HOP.has(n)),
      () => `a hop-by-hop header crossed: ${names.join(',')}`,
    );
    check(
      names.every((n) => !named.has(n) || n === 'host' || n.startsWith('x-forwarded')),
      'a header named in Connection crossed',
    );
    check(names.filter((n) => n === 'host').length === 1 && out[1] === CTX.host, 'not exactly one Host, the upstream authority');
    check(
      names.filter((n) => n === 'x-forwarded-for').length === 1 && (out[names.lastIndexOf('x-forwarded-for') * 2 + 1] ?? '').endsWith(CTX.remoteAddress),
      'X-Forwarded-For does not end with the client',
    );
    check(
      names.filter((n) => n === 'x-forwarded-proto').length === 1 && names.filter((n) => n === 'x-forwarded-host').length <= 1,
      'repeated X-Forwarded-Proto or -Host',
    );
    check(!names.includes('expect'), 'Expect crossed');
    const res = run('clientResponseHeaders', () => clientResponseHeaders(response));
    check(
      Object.keys(res).every((n) => !HOP_BY_HOP.has(n)),
      'a hop-by-hop response header crossed',
    );
    const withTrace = run('withOverrides', () => withOverrides(out, ['traceparent', '00-x']));
    check(withTrace.filter((n, i) => i % 2 === 0 && n.toLowerCase() === 'traceparent').length === 1, 'an override did not replace');
  },
);

// ---------------------------------------------------------------------------------------------------------
// sources/rest/rest-classify, sources/rest/auth

const apiPath = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('tools', 'servers', 'resources', 'config', 'prompts', 'status', 'other'),
      fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.string({ unit: 'binary', maxLength: 600 }),
        fc.constant('x'.repeat(5000)),
        fc.webUrl({ withQueryParameters: true, authoritySettings: { withUserInfo: true } }).map(encodeURIComponent),
      ),
      fc.constantFrom('', '/invoke', '/start', '/stop', '/restart', '/logs'),
    )
    .map(([c, id, op]) => `/api/v1/${c}/${id.replace(/[/?]/g, '_')}${op}`),
  fc.constantFrom('/api/v1/config/reload', '/api/v1/config/validate', '/api/v1/config', '/mcp', '/sse', '/messages/'),
  anyText(100),
);
const credentialHeaders = fc.record(
  {
    authorization: fc.oneof(
      fc.constantFrom('Bearer ', 'Basic dXNlcjpwYXNz', 'OAuth x', 'DPoP y', 'bearer'),
      fc.string({ maxLength: 60 }).map((t) => `Bearer ${t}`),
      fc.string({ maxLength: 40 }),
    ),
    'x-api-key': fc.string({ maxLength: 40 }),
    'x-user-id': fc.string({ maxLength: 80 }),
  },
  { requiredKeys: [] },
);
const observation: fc.Arbitrary<RestObservation> = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), fc.string({ maxLength: 6 })),
  path: apiPath,
  status: fc.oneof(fc.constantFrom(200, 201, 400, 401, 403, 404, 422, 429, 499, 500, 502, 504), fc.integer({ min: 100, max: 599 })),
  proxyFailure: fc.constantFrom(undefined, 'upstream_unavailable', 'upstream_timeout', 'upstream_aborted', 'bad_request'),
  requestHeaders: credentialHeaders,
  body: fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        success: fc.jsonValue(),
        valid: fc.jsonValue(),
        errors: fc.jsonValue(),
        error: fc.oneof(fc.string({ maxLength: 60 }), fc.jsonValue()),
        message: fc.string({ maxLength: 60 }),
        detail: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
  ),
  bodyProblem: fc.constantFrom(undefined, 'too_large', 'not_json'),
  durationSeconds: fc.double({ min: 0, max: 1e6, noNaN: true }),
});

const RESOURCE_TYPES = new Set([
  'servers',
  'tools',
  'prompts',
  'resources',
  'config',
  'translators',
  'status',
  'composition',
  'health',
  'version',
  'metrics',
  'events',
  'mcp',
  'other',
]);
const SCHEMES = new Set(['bearer', 'api_key', 'basic', 'oauth2', 'none']);
const REASONS = new Set(['missing', 'invalid_token', 'invalid_api_key', 'invalid_credentials', 'expired', 'unknown']);

const rest = target('sources/rest/rest-classify: classifyRest', [observation], (o) => {
  const facts = run('classifyRest', () => classifyRest(o));
  run('resourceTypeOf', () => resourceTypeOf(o.path));
  run('lifecycleCall', () => lifecycleCall(o.method, o.path));
  const credential = credentialOf(o.requestHeaders).credential;
  for (const f of facts) {
    const labels = Object.values(f).filter((v): v is string => typeof v === 'string');
    // A label value never carries the presented credential (unless the credential is a common word of the path).
    if (credential !== undefined && credential.length >= 8)
      check(
        labels.every((v) => !v.includes(credential) || o.path.includes(credential)),
        'a credential in a label',
      );
    switch (f.kind) {
      case 'tool_call':
        check(f.toolId.length <= MAX_NAME_LENGTH + 1, () => `tool_id unbounded: ${f.toolId.length} characters`);
        check(f.errorType === undefined || ERROR_TYPES.has(f.errorType), `error_type ${f.errorType}`);
        break;
      case 'resource_read':
        check(
          f.resourceUri.length <= MAX_URI_LENGTH + 1 && !f.resourceUri.includes('?') && !USERINFO.test(f.resourceUri),
          () => `resource_uri unbounded, or with a query or credentials: ${f.resourceUri.slice(0, 100)}`,
        );
        break;
      case 'server_lifecycle':
        check(f.serverId.length <= MAX_SERVER_ID_LENGTH + 1, () => `server_id unbounded: ${f.serverId.length}`);
        break;
      case 'auth_attempt':
        check(SCHEMES.has(f.scheme), f.scheme);
        break;
      case 'auth_failure':
        check(SCHEMES.has(f.scheme) && REASONS.has(f.reason), f.reason);
        break;
      case 'authz_check':
      case 'authz_denial':
        check(RESOURCE_TYPES.has(f.resourceType), `resource_type ${f.resourceType}`);
        if (f.kind === 'authz_denial') check(/^[a-z][a-z0-9_]{0,39}$/.test(f.reason), `reason ${f.reason}`);
        break;
      case 'config_validation_error':
        check(['syntax', 'missing_field', 'invalid_value', 'validation'].includes(f.errorType), f.errorType);
        break;
      default:
        break;
    }
  }
});

const USER_ID = /^(?:anonymous|unknown|h:[0-9a-f]{12}|[A-Za-z0-9._@:+-]{1,64})$/;
const ids = SecretIds.random();
const jwtLike = fc
  .tuple(fc.jsonValue(), fc.oneof(fc.record({ sub: fc.oneof(fc.string({ maxLength: 80 }), fc.jsonValue()) }, { requiredKeys: [] }), fc.jsonValue()))
  .map(([h, p]) => `${Buffer.from(JSON.stringify(h) ?? '').toString('base64url')}.${Buffer.from(JSON.stringify(p) ?? '').toString('base64url')}.sig`);

const auth = target(
  'sources/rest/auth: credentialOf, authFailureReason, jwtSubject, userIdOf',
  [
    credentialHeaders,
    fc.oneof(jwtLike, fc.string({ maxLength: 80 })),
    fc.constantFrom('auto', 'jwt-sub', 'header', 'credential-hash') as fc.Arbitrary<'auto' | 'jwt-sub' | 'header' | 'credential-hash'>,
    fc.jsonValue(),
  ],
  (hdrs, token, source, body) => {
    const { scheme, credential } = run('credentialOf', () => credentialOf(hdrs));
    check(SCHEMES.has(scheme), scheme);
    check(REASONS.has(run('authFailureReason', () => authFailureReason(scheme, body))), 'reason outside the vocabulary');
    const sub = run('jwtSubject', () => jwtSubject(token));
    check(sub === undefined || /^[A-Za-z0-9._@:+-]{1,64}$/.test(sub), `an unsafe sub: ${sub}`);
    for (const h of [hdrs, { ...hdrs, authorization: `Bearer ${token}` }]) {
      const id = run('userIdOf', () => userIdOf(h, { source, header: 'x-user-id', ids }));
      check(USER_ID.test(id), () => `user_id outside its form: ${JSON.stringify(id)}`);
      const cred = credentialOf(h).credential;
      // Outside --user-id-source header, an opaque credential (not a JWT) never becomes the label.
      if (source !== 'header' && cred !== undefined && cred.length >= 8 && cred.split('.').length !== 3)
        check(!id.includes(cred), 'the credential became the user_id');
    }
    void credential;
  },
);

// ---------------------------------------------------------------------------------------------------------
// sources/poll/inventory-parse

const inventoryBody = fc.oneof(
  fc.jsonValue(),
  fc.record(
    { version: fc.oneof(fc.string({ maxLength: 80 }), fc.jsonValue()), platform: fc.oneof(fc.string({ maxLength: 140 }), fc.jsonValue()) },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      servers: fc.oneof(
        fc.record(
          {
            total: fc.jsonValue(),
            running: fc.oneof(fc.nat(), fc.double()),
            stopped: fc.nat(),
            failed: fc.jsonValue(),
            statuses: fc.dictionary(fc.string({ maxLength: 140 }), fc.jsonValue(), { maxKeys: 5 }),
          },
          { requiredKeys: [] },
        ),
        fc.array(
          fc.record(
            {
              id: fc.string({ maxLength: 140 }),
              name: fc.jsonValue(),
              status: fc.string({ maxLength: 40 }),
              state: fc.jsonValue(),
              pid: fc.oneof(fc.integer(), fc.double()),
              restart_count: fc.jsonValue(),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 5 },
        ),
      ),
      capabilities: fc.record({ tools: fc.jsonValue(), prompts: fc.nat(), resources: fc.double() }, { requiredKeys: [] }),
      uptime_seconds: fc.oneof(fc.double(), fc.jsonValue()),
      conflicts: fc.oneof(fc.array(fc.jsonValue(), { maxLength: 4 }), fc.double()),
      tools: fc.array(
        fc.record(
          {
            server_id: fc.oneof(fc.string({ maxLength: 140 }), fc.jsonValue()),
            server: fc.jsonValue(),
            id: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
            full_name: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 6 },
      ),
      resources: fc.array(
        fc.record(
          {
            uri: fc.oneof(fc.string({ maxLength: 1100 }), fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.jsonValue()),
            template: fc.jsonValue(),
          },
          { requiredKeys: [] },
        ),
        { maxLength: 6 },
      ),
      total: fc.jsonValue(),
      servers_total: fc.double(),
      tools_total: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
);

const finiteNonNegative = (n: number | undefined): boolean => n === undefined || (Number.isFinite(n) && n >= 0);

const inventory = target('sources/poll/inventory-parse: parseVersion, parseStatus, parseServers, parseConflicts, parseListPage', [inventoryBody], (body) => {
  const v = run('parseVersion', () => parseVersion(body));
  check(v === undefined || (v.version.length <= 64 && v.platform.length <= 128), 'unbounded version or platform');
  const s = run('parseStatus', () => parseStatus(body));
  if (s !== undefined) {
    for (const n of [
      s.servers?.total,
      s.servers?.running,
      s.servers?.stopped,
      s.servers?.failed,
      s.capabilities?.tools,
      s.capabilities?.prompts,
      s.capabilities?.resources,
      s.uptimeSeconds,
    ])
      check(finiteNonNegative(n), `a bad number ${n}`);
  }
  const servers = run('parseServers', () => parseServers(body));
  for (const srv of servers ?? [])
    check(srv.id.length <= 128 && srv.state.length <= 32 && finiteNonNegative(srv.pid) && finiteNonNegative(srv.restartCount), 'an unbounded server');
  check(finiteNonNegative(run('parseConflicts', () => parseConflicts(body))), 'a bad conflict count');
  const page = run('parseListPage', () => parseListPage(body, 'tools'));
  if (page !== undefined)
    check(page.serverIds.length <= page.count && page.serverIds.every((id) => id.length <= 128) && finiteNonNegative(page.total), 'an unbounded page');
  if (page !== undefined)
    check(page.names.length <= 2 * page.count && page.names.every((n) => n.length > 0 && n.length <= MAX_NAME_LENGTH), 'an unbounded list of names');
  const resources = run('parseListPage resources', () => parseListPage(body, 'resources'));
  if (resources !== undefined)
    check(
      resources.names.length <= resources.count && resources.names.every((n) => n.length <= MAX_URI_LENGTH && !/[?#]/.test(n)),
      'an unbounded or unreduced resource URI',
    );
  run('configErrorType', () => configErrorType(body));
});

// ---------------------------------------------------------------------------------------------------------
// exporters/negotiate

const mediaRange = fc.oneof(
  fc.constantFrom('application/openmetrics-text', 'text/plain', '*/*', 'application/*', 'text/*', 'application/json', 'x/y', '', '/', '*/plain'),
  anyText(30),
);
const mediaParam = fc.oneof(
  fc.constantFrom(
    'version=1.0.0',
    'version=0.0.4',
    'version=0.0.1',
    'version="1.0.0"',
    'q=0',
    'q=0.5',
    'q=1',
    'q=1.000',
    'q=2',
    'q=',
    'q="0.9"',
    'charset=utf-8',
    'escaping=allow-utf-8',
    '=',
    '"',
  ),
  anyText(20),
);
const acceptHeader = fc.oneof(
  fc
    .array(
      fc.tuple(mediaRange, fc.array(mediaParam, { maxLength: 4 })).map(([r, ps]) => [r, ...ps].join(';')),
      { maxLength: 8 },
    )
    .map((rs) => rs.join(',')),
  anyText(300),
);

const negotiate = target('exporters/negotiate: negotiateFormat', [acceptHeader], (accept) => {
  const format = run('negotiateFormat', () => negotiateFormat(accept));
  check(format === 'text' || format === 'openmetrics', `an unknown format ${String(format)}`);
  // OpenMetrics only for a header that names it or a wildcard.
  check(format === 'text' || /openmetrics|\*/i.test(accept), () => `OpenMetrics for ${JSON.stringify(accept)}`);
  // Ranges after the first that accepts the text format at full weight cannot take it away.
  check(
    run('negotiateFormat', () => negotiateFormat(`text/plain;version=0.0.4,${accept}`)) === 'text',
    () => `not the text for text/plain first, then ${JSON.stringify(accept)}`,
  );
});

const config: FuzzTarget = {
  ...configTarget,
  dispose: () => {
    if (files !== undefined) rmSync(files.dir, { recursive: true, force: true });
    files = undefined;
  },
};

export const HTTP_TARGETS: readonly FuzzTarget[] = [config, policy, frontDoor, headers, rest, auth, inventory, negotiate];
