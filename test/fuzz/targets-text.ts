/**
 * Fuzz targets for what the sidecar reads out of traffic text: request paths, JSON-RPC messages and their
 * outcomes, SSE streams, and the composer's events.
 */
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { EVENT_TYPES, mapEvent } from '../../src/sources/events/event-map.ts';
import { normalizeEndpoint, normalizeEndpointUncached } from '../../src/ledger/endpoint.ts';
import { classifyMessage, MAX_NAME_LENGTH, MAX_URI_LENGTH, parseMessages, type McpMessage } from '../../src/sources/mcp/jsonrpc.ts';
import {
  LIST_KINDS,
  ListingAssembler,
  listPageOf,
  MAX_CURSOR_LENGTH,
  MAX_ITEM_NAME,
  MAX_ITEM_URI,
  MAX_LISTING_ITEMS,
  type ListPage,
  type ServerIdentity,
} from '../../src/sources/mcp/listing.ts';
import { looksLikeUnknownTool, responseOutcome, type ResponseInfo } from '../../src/sources/mcp/outcome.ts';
import { SseFeed } from '../../src/sources/mcp/sse-feed.ts';
import { anyText, check, run, target, type FuzzTarget } from './harness.ts';

/** A URI that still carries `user:password@`. */
export const USERINFO = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*@/;

export const ERROR_TYPES = new Set([
  'tool_error',
  'not_found',
  'validation',
  'timeout',
  'cancelled',
  'upstream_unavailable',
  'internal',
  'parse_error',
  'invalid_request',
  'method_not_found',
  'invalid_params',
  'internal_error',
  'resource_not_found',
  'jsonrpc_error',
]);

// ---------------------------------------------------------------------------------------------------------
// ledger/endpoint

const ROUTE_WORDS = [
  'api',
  'v1',
  'tools',
  'servers',
  'resources',
  'invoke',
  'start',
  'stop',
  'restart',
  'mcp',
  'sse',
  'messages',
  'config',
  'translators',
  'ws',
  'logs',
  'health',
  '',
];
const segment = fc.oneof(
  fc.constantFrom(...ROUTE_WORDS),
  fc.uuid(),
  fc.nat().map(String),
  fc.stringMatching(/^[0-9a-f]{8,40}$/),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[/?]/g, '')),
  fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s)),
);
const requestTarget = fc.oneof(
  fc
    .tuple(fc.array(segment, { maxLength: 14 }), fc.option(anyText(60)), fc.boolean())
    .map(([segs, q, slash]) => `/${segs.join('/')}${slash ? '/' : ''}${q === null ? '' : `?${q}`}`),
  anyText(300),
  fc.webPath(),
);

/** Each output segment is '', a route word, `{id}`, `{…}`, `{uri}`, `{name}` or a short word of [A-Za-z0-9_-]. */
const OUTPUT_SEGMENT = /^(?:|\{id\}|\{…\}|\{uri\}|\{name\}|[A-Za-z0-9_-]{1,40})$/;

const endpoint = target('ledger/endpoint: normalizeEndpoint', [requestTarget], (raw) => {
  const out = run('normalizeEndpoint', () => normalizeEndpoint(raw));
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  check(out === run('normalizeEndpointUncached', () => normalizeEndpointUncached(path)), 'the cache changed the answer');
  check(out.startsWith('/'), `does not start with /: ${out}`);
  check(out.length <= 400, `longer than 400: ${out.length}`);
  check(!out.includes('?'), 'carries a query string');
  const segs = out.split('/').slice(1);
  check(segs.length <= 9, `deeper than the bound: ${segs.length}`);
  check(
    segs.every((s) => OUTPUT_SEGMENT.test(s) || s === 'stdio-to-sse' || s === 'sse-to-stdio'),
    () => `a segment outside the label vocabulary: ${JSON.stringify(out)}`,
  );
});

// ---------------------------------------------------------------------------------------------------------
// sources/mcp/jsonrpc, sources/mcp/outcome

const jsonRpcId = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 300 }), fc.constant(null), fc.boolean(), fc.object());
const params = fc.oneof(
  fc.record(
    {
      name: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null)),
      uri: fc.oneof(
        fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true } }),
        fc.string({ maxLength: 1100 }),
        fc.integer(),
      ),
      arguments: fc.jsonValue(),
      requestId: jsonRpcId,
      cursor: fc.oneof(fc.string({ maxLength: 1100 }), fc.jsonValue()),
      _meta: fc.oneof(
        fc.record(
          {
            traceparent: fc.oneof(fc.stringMatching(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/), fc.string()),
            tracestate: fc.string({ maxLength: 600 }),
          },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);
const listItem = fc.oneof(
  fc.record(
    {
      name: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
      uri: fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true } }), fc.string({ maxLength: 1100 })),
      description: fc.string(),
      inputSchema: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);
const listResult = fc.record(
  {
    tools: fc.array(listItem, { maxLength: 8 }),
    prompts: fc.array(listItem, { maxLength: 8 }),
    resources: fc.array(listItem, { maxLength: 8 }),
    nextCursor: fc.oneof(fc.string({ maxLength: 1100 }), fc.jsonValue()),
  },
  { requiredKeys: [] },
);
const initializeResult = fc.record(
  {
    protocolVersion: fc.string({ maxLength: 40 }),
    serverInfo: fc.oneof(
      fc.record({ name: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()), version: fc.string() }, { requiredKeys: [] }),
      fc.jsonValue(),
    ),
    capabilities: fc.oneof(
      fc.dictionary(
        fc.constantFrom('tools', 'prompts', 'resources', 'logging'),
        fc.oneof(fc.record({ listChanged: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue()),
      ),
      fc.jsonValue(),
    ),
    instructions: fc.string(),
  },
  { requiredKeys: [] },
);
const rpcMessage = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2.0'), fc.constant('1.0'), fc.jsonValue()),
    id: jsonRpcId,
    method: fc.oneof(
      fc.constantFrom(
        'tools/call',
        'prompts/get',
        'resources/read',
        'notifications/cancelled',
        'initialize',
        'ping',
        'tools/list',
        'prompts/list',
        'resources/list',
      ),
      fc.string({ maxLength: 300 }),
    ),
    params,
    result: fc.oneof(
      fc.record(
        {
          isError: fc.oneof(fc.boolean(), fc.jsonValue()),
          content: fc.array(
            fc.record({ type: fc.constant('text'), text: fc.oneof(fc.constantFrom('Unknown tool: x', 'Tool x not found'), fc.string({ maxLength: 400 })) }),
            { maxLength: 5 },
          ),
          protocolVersion: fc.string({ maxLength: 40 }),
        },
        { requiredKeys: [] },
      ),
      listResult,
      initializeResult,
      fc.jsonValue(),
    ),
    error: fc.oneof(
      fc.record({ code: fc.oneof(fc.integer({ min: -32800, max: -31000 }), fc.double(), fc.string()), message: fc.string() }, { requiredKeys: [] }),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: [] },
);
const rpcText = fc.oneof(
  rpcMessage.map((m) => JSON.stringify(m)),
  fc.array(rpcMessage, { maxLength: 6 }).map((b) => JSON.stringify(b)),
  fc.json(),
  anyText(200),
);

const REQUEST_KEYS = new Set(['kind', 'id', 'method', 'toolName', 'promptName', 'resourceUri', 'cursor', 'traceparent', 'tracestate']);
const NOTIFICATION_KEYS = new Set(['kind', 'method', 'cancelledId']);
const RESPONSE_KEYS = new Set(['kind', 'id', 'response']);
const INFO_KEYS = new Set(['kind', 'isError', 'unknownTool', 'protocolVersion', 'code', 'server', 'listPage']);
const PAGE_KEYS = new Set(['kind', 'items', 'count', 'capped', 'nextCursor']);
const SERVER_KEYS = new Set(['name', 'kinds', 'listChanged']);

const boundedName = (n: unknown) => typeof n === 'string' && n.length <= MAX_ITEM_NAME + 1;

/** What a list page keeps: counts, bounded names, reduced URIs and a bounded cursor — nothing else. */
function checkPage(p: ListPage): void {
  check(
    Object.keys(p).every((k) => PAGE_KEYS.has(k)),
    () => `a page keeps more than names: ${Object.keys(p).join(',')}`,
  );
  check((LIST_KINDS as readonly string[]).includes(p.kind), 'a page of an unknown kind');
  check(p.items.length <= MAX_LISTING_ITEMS && p.items.length <= p.count, 'more items than the page had, or than the bound');
  for (const item of p.items) {
    check(
      Object.keys(item).every((k) => k === 'name' || k === 'uri'),
      () => `an item keeps more than its name and URI: ${Object.keys(item).join(',')}`,
    );
    check(boundedName(item.name), 'an unbounded item name');
    check(
      item.uri === undefined || (item.uri.length <= MAX_ITEM_URI && !/[?#]/.test(item.uri) && !USERINFO.test(item.uri)),
      () => `an unbounded URI, or one with a query or credentials: ${item.uri}`,
    );
  }
  check(p.nextCursor === undefined || p.nextCursor === false || (p.nextCursor.length > 0 && p.nextCursor.length <= MAX_CURSOR_LENGTH), 'an unbounded cursor');
}

function checkServer(s: ServerIdentity): void {
  check(
    Object.keys(s).every((k) => SERVER_KEYS.has(k)),
    () => `a server identity keeps more than its name and kinds: ${Object.keys(s).join(',')}`,
  );
  check(s.name === undefined || boundedName(s.name), 'an unbounded server name');
  for (const k of [...(s.kinds ?? []), ...s.listChanged]) check((LIST_KINDS as readonly string[]).includes(k), 'an unknown capability kind');
}

function validId(id: unknown): boolean {
  return (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= 256);
}

/** The longest name and URI a reader keeps: one character past the label's bound, which folds it as too long. */
const KEPT_NAME = MAX_NAME_LENGTH + 1;
const KEPT_URI = MAX_URI_LENGTH + 1;

function checkMessage(m: McpMessage): void {
  const keys = new Set(Object.keys(m));
  const allowed = m.kind === 'request' ? REQUEST_KEYS : m.kind === 'notification' ? NOTIFICATION_KEYS : RESPONSE_KEYS;
  check(
    [...keys].every((k) => allowed.has(k)),
    () => `keeps a field it must not (arguments, results, messages): ${[...keys].join(',')}`,
  );
  if (m.kind === 'request') {
    check(validId(m.id), 'an invalid request id');
    check(m.method.length <= KEPT_NAME, 'an unbounded method');
    for (const name of [m.toolName, m.promptName]) check(name === undefined || name.length <= KEPT_NAME, 'an unbounded name');
    check(
      m.resourceUri === undefined || (m.resourceUri.length <= KEPT_URI && !/[?#]/.test(m.resourceUri) && !USERINFO.test(m.resourceUri)),
      () => `an unbounded URI, or one with a query or credentials: ${m.resourceUri}`,
    );
    check(m.traceparent === undefined || /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/.test(m.traceparent), 'an invalid traceparent kept');
    check(m.tracestate === undefined || m.tracestate.length <= 512, 'an unbounded tracestate');
    check(m.cursor === undefined || m.cursor === false || m.cursor.length <= MAX_CURSOR_LENGTH, 'an unbounded cursor');
  } else if (m.kind === 'notification') {
    check(m.method.length <= KEPT_NAME, 'an unbounded method');
    check(m.cancelledId === undefined || validId(m.cancelledId), 'an invalid cancelled id');
  } else {
    check(m.id === null || validId(m.id), 'an invalid response id');
    check(
      Object.keys(m.response).every((k) => INFO_KEYS.has(k)),
      'a response keeps more than its outcome',
    );
    if (m.response.kind === 'error') check(m.response.code === undefined || Number.isInteger(m.response.code), 'a non-integer error code');
    else {
      check(m.response.protocolVersion === undefined || m.response.protocolVersion.length <= 32, 'an unbounded protocol version');
      if (m.response.listPage !== undefined) checkPage(m.response.listPage);
      if (m.response.server !== undefined) checkServer(m.response.server);
    }
  }
}

const jsonrpc = target('sources/mcp/jsonrpc: parseMessages, classifyMessage', [rpcText], (text) => {
  const parsed = run('parseMessages', () => parseMessages(text));
  let elements = 1;
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v)) elements = Math.max(1, v.length);
  } catch {
    // not JSON: one invalid element
  }
  check(parsed.messages.length + parsed.invalid <= elements, 'more messages than elements');
  check(parsed.messages.length > 0 || parsed.problem !== undefined, 'nothing read but no problem named');
  for (const m of parsed.messages) checkMessage(m);
});

const classify = target(
  'sources/mcp/jsonrpc: classifyMessage (any value)',
  [
    fc.anything({
      withObjectString: true,
      withNullPrototype: true,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
  ],
  (value) => {
    const m = run('classifyMessage', () => classifyMessage(value));
    if (m !== undefined) checkMessage(m);
  },
);

const responseInfo: fc.Arbitrary<ResponseInfo> = fc.oneof(
  fc.record({ kind: fc.constant('result' as const), isError: fc.boolean(), unknownTool: fc.boolean() }),
  fc.record({ kind: fc.constant('error' as const), code: fc.option(fc.integer(), { nil: undefined }) }),
);
const outcome = target(
  'sources/mcp/outcome: responseOutcome, looksLikeUnknownTool',
  [fc.string({ maxLength: 300 }), responseInfo, fc.dictionary(fc.string(), fc.jsonValue())],
  (method, info, result) => {
    const o = run('responseOutcome', () => responseOutcome(method, info));
    check(['ok', 'error', 'timeout', 'cancelled'].includes(o.outcome), `outcome ${o.outcome}`);
    check(o.outcome === 'ok' || (o.errorType !== undefined && ERROR_TYPES.has(o.errorType)), `error_type outside the vocabulary: ${o.errorType}`);
    check(o.semconvErrorType === undefined || o.semconvErrorType.length <= 24, 'an unbounded error.type');
    check(typeof run('looksLikeUnknownTool', () => looksLikeUnknownTool(result)) === 'boolean', 'not a boolean');
  },
);

// ---------------------------------------------------------------------------------------------------------
// sources/mcp/sse-feed

const sseLine = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 60 }).map((d) => `data: ${d.replace(/[\r\n]/g, '')}`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 400 }).map((n) => `data: ${'x'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((d) => `event: ${d.replace(/[\r\n]/g, '')}`) },
  { weight: 1, arbitrary: fc.constantFrom('id: 7', 'retry: 100', ': ping', 'data', 'data:', 'bogus: x', '') },
  { weight: 1, arbitrary: anyText(40).map((s) => s.replace(/[\r\n]/g, '')) },
);
const sseStream = fc
  .tuple(fc.array(sseLine, { maxLength: 30 }), fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 1, maxLength: 30 }))
  .map(([lines, ends]) => lines.map((l, i) => `${l}${ends[i % ends.length]}`).join(''));

function feedAll(limit: number, bytes: Buffer, cuts: number[]): { events: Array<[string, string]>; problems: string[] } {
  const events: Array<[string, string]> = [];
  const problems: string[] = [];
  const feed = new SseFeed(limit, { onEvent: (e, d) => events.push([e ?? '', d.toString('utf8')]), onProblem: (p) => problems.push(p) });
  let at = 0;
  for (const c of [...cuts.filter((x) => x < bytes.length)].sort((a, b) => a - b)) {
    feed.push(bytes.subarray(at, c));
    at = c;
  }
  feed.push(bytes.subarray(at));
  feed.end();
  return { events, problems };
}

const sseFeed = target(
  'sources/mcp/sse-feed: SseFeed (any chunking)',
  [sseStream, fc.integer({ min: 16, max: 512 }), fc.array(fc.nat({ max: 3000 }), { maxLength: 20 })],
  (text, limit, cuts) => {
    const bytes = Buffer.from(text, 'utf8');
    const whole = run('SseFeed', () => feedAll(limit, bytes, []));
    const chunked = run('SseFeed', () => feedAll(limit, bytes, cuts));
    for (const [, data] of chunked.events) check(data.length <= Math.max(16, limit), 'delivered an event over the bound');
    const reference: Array<[string, string]> = [];
    const p = createParser({ onEvent: (e) => void (e.data.trim() !== '' && reference.push([e.event ?? '', e.data])) });
    p.feed(bytes.toString('utf8'));
    // The feed bounds bytes exactly: chunking never changes what is read, even at the bound, and without a
    // problem it reads exactly what eventsource-parser (a browser's framing) reads.
    check(JSON.stringify(whole) === JSON.stringify(chunked), () => `chunking changed what was read: ${JSON.stringify(whole)} vs ${JSON.stringify(chunked)}`);
    if (whole.problems.length === 0)
      check(
        JSON.stringify(whole.events) === JSON.stringify(reference),
        () => `differs from eventsource-parser: ${JSON.stringify(whole.events)} vs ${JSON.stringify(reference)}`,
      );
  },
);

const boundary = target(
  'sources/mcp/sse-feed: line ends (CR, LF, CRLF) split anywhere',
  [fc.array(fc.constantFrom('\r', '\n', 'a', 'data: x', 'event: e'), { maxLength: 30 }), fc.nat({ max: 200 })],
  (units, cut) => {
    // A line end is CRLF, a CR not followed by LF, or LF, whichever chunk each byte arrives in; a blank line
    // ends an event. The feed, cut in two anywhere, reads what eventsource-parser reads of the whole.
    const bytes = Buffer.from(units.join(''), 'utf8');
    const reference: Array<[string, string]> = [];
    const p = createParser({ onEvent: (e) => void (e.data.trim() !== '' && reference.push([e.event ?? '', e.data])) });
    p.feed(bytes.toString('utf8'));
    const split = run('SseFeed', () => feedAll(1024, bytes, [cut % (bytes.length + 1)]));
    check(
      JSON.stringify(split.events) === JSON.stringify(reference),
      () => `${JSON.stringify(units.join(''))} cut at ${cut}: ${JSON.stringify(split.events)} vs ${JSON.stringify(reference)}`,
    );
  },
);

// ---------------------------------------------------------------------------------------------------------
// sources/events/event-map

const eventData = fc.record(
  {
    server_id: fc.oneof(fc.string({ maxLength: 140 }), fc.jsonValue()),
    pid: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
    reason: fc.oneof(fc.constantFrom('manual', 'crash', 'config_change', 'expired', 'unknown_id'), fc.string({ maxLength: 80 })),
    tool_id: fc.oneof(fc.string({ maxLength: 220 }), fc.jsonValue()),
    resource_uri: fc.oneof(fc.webUrl({ withQueryParameters: true, authoritySettings: { withUserInfo: true } }), fc.string({ maxLength: 2100 })),
    duration_ms: fc.oneof(fc.double(), fc.integer(), fc.jsonValue()),
    success: fc.oneof(fc.boolean(), fc.jsonValue()),
    error_type: fc.string({ maxLength: 50 }),
    transport: fc.string({ maxLength: 50 }),
    tools: fc.oneof(fc.integer({ min: -5, max: 1e9 }), fc.array(fc.jsonValue(), { maxLength: 4 }), fc.double()),
    prompts: fc.oneof(fc.nat(), fc.jsonValue()),
    resources: fc.oneof(fc.nat(), fc.jsonValue()),
    conflicts: fc.oneof(fc.nat(), fc.array(fc.jsonValue(), { maxLength: 3 })),
    servers: fc.array(
      fc.record(
        { id: fc.string({ maxLength: 140 }), status: fc.string({ maxLength: 40 }), pid: fc.jsonValue(), restart_count: fc.oneof(fc.nat(), fc.double()) },
        { requiredKeys: [] },
      ),
      { maxLength: 5 },
    ),
    per_server: fc.dictionary(fc.string({ maxLength: 20 }), fc.record({ tools: fc.nat(), prompts: fc.nat(), resources: fc.nat() }), { maxKeys: 4 }),
    last_event_id: fc.oneof(fc.nat(), fc.double(), fc.string()),
  },
  { requiredKeys: [] },
);
const eventType = fc.oneof(fc.constantFrom(...EVENT_TYPES), fc.string({ maxLength: 70 }));
const envelope = fc.record(
  {
    type: eventType,
    time: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
    ),
    composer: fc.string(),
    data: fc.oneof(eventData, fc.jsonValue()),
  },
  { requiredKeys: [] },
);

const event = target(
  'sources/events/event-map: mapEvent',
  [
    fc.option(eventType, { nil: undefined }),
    fc.oneof(
      envelope.map((e) => JSON.stringify(e)),
      fc.json(),
      anyText(100),
    ),
  ],
  (sseType, raw) => {
    const m = run('mapEvent', () => mapEvent(sseType, raw));
    check(m.type === undefined || (EVENT_TYPES as readonly string[]).includes(m.type), `type outside the vocabulary: ${m.type}`);
    check(m.time === undefined || Number.isFinite(m.time), 'a non-finite time');
    const o = m.outcome;
    const bounded = (s: string | undefined, max: number, what: string) =>
      check(s === undefined || (s.length > 0 && s.length <= max), () => `${what} unbounded: ${s?.length}`);
    switch (o.kind) {
      case 'invalid':
        check(['malformed_json', 'bad_envelope', 'unknown_type', 'bad_data'].includes(o.reason), o.reason);
        break;
      case 'reset':
        bounded(o.reason, 64, 'reset reason');
        break;
      case 'snapshot':
        for (const s of o.servers) {
          bounded(s.id, 128, 'server id');
          bounded(s.state, 32, 'state');
          check(s.pid === undefined || (Number.isFinite(s.pid) && s.pid >= 0), 'a bad pid');
        }
        check(o.lastEventId === undefined || (Number.isInteger(o.lastEventId) && o.lastEventId >= 0), 'a bad last_event_id');
        break;
      case 'lifecycle':
        if (o.note !== undefined) bounded(o.note.serverId, 128, 'server id');
        if (o.fact !== undefined && 'serverId' in o.fact) bounded(o.fact.serverId, 128, 'server id');
        if (o.fact?.kind === 'config_validation_error') bounded(o.fact.errorType, 40, 'error_type');
        break;
      case 'capabilities':
        bounded(o.serverId, 128, 'server id');
        for (const n of [o.counts.tools, o.counts.prompts, o.counts.resources]) check(Number.isInteger(n) && n >= 0, 'a bad count');
        break;
      case 'tool_call':
        bounded(o.fact.toolId, 200, 'tool_id');
        bounded(o.fact.transport, 40, 'transport');
        check(Number.isFinite(o.fact.durationSeconds) && o.fact.durationSeconds >= 0, 'a bad duration');
        check(o.fact.errorType === undefined || o.fact.errorType.length <= 40, 'an unbounded error_type');
        break;
      case 'resource_read':
        bounded(o.fact.resourceUri, 2048, 'resource_uri');
        check(!o.fact.resourceUri.includes('?') && !USERINFO.test(o.fact.resourceUri), 'a resource URI with a query or credentials');
        check(Number.isFinite(o.fact.durationSeconds) && o.fact.durationSeconds >= 0, 'a bad duration');
        break;
    }
  },
);

// ---------------------------------------------------------------------------------------------------------
// mcp/listing: pagination

// Few cursors, so that continuations often match and sequences complete.
const cursorWord = fc.constantFrom('c1', 'c2', 'c3');
const pageStep = fc.record({
  session: fc.constantFrom('a', 'b'),
  cursor: fc.oneof(fc.constant(undefined), fc.constant(false as const), cursorWord),
  result: fc.oneof(
    fc.record({
      tools: fc.array(fc.oneof(fc.record({ name: fc.string({ maxLength: 6 }) }), fc.jsonValue({ maxDepth: 1 })), { maxLength: 4 }),
      nextCursor: fc.oneof(cursorWord, fc.constant(undefined), fc.constant(''), fc.integer()),
    }),
    fc.record({
      prompts: fc.array(fc.record({ name: fc.string({ maxLength: 6 }) }), { maxLength: 3 }),
      nextCursor: fc.oneof(cursorWord, fc.constant(undefined)),
    }),
    fc.record({
      resources: fc.array(fc.record({ name: fc.string({ maxLength: 6 }), uri: fc.webUrl({ withQueryParameters: true }) }), { maxLength: 3 }),
      nextCursor: fc.oneof(cursorWord, fc.constant(undefined)),
    }),
  ),
  at: fc.integer({ min: 0, max: 1_000_000 }),
});
const listings = target('mcp/listing: ListingAssembler over any sequence of pages', [fc.array(pageStep, { maxLength: 30 })], (steps) => {
  const bounds = { maxInProgress: 3, maxItems: 5, maxPages: 4, maxAgeMs: 100_000 };
  const a = new ListingAssembler(bounds);
  // What the assembler must report: a listing exactly when a page without nextCursor ends a sequence that
  // began with a page asked for without a cursor, each next page asked for with the previous nextCursor.
  for (const step of [...steps].sort((x, y) => x.at - y.at)) {
    const page = run('listPageOf', () => listPageOf(step.result));
    if (page === undefined) continue;
    checkPage(page);
    const listing = run('page', () => a.page(step.session, step.cursor, page, step.at));
    check(a.size <= bounds.maxInProgress, 'more listings in progress than the bound');
    if (listing === undefined) continue;
    check(page.nextCursor === undefined, 'a listing reported before its last page');
    check(listing.items.length <= bounds.maxItems, 'more items kept than the bound');
    check(listing.count >= listing.items.length && listing.count >= page.count, 'a count below what was seen');
    check(listing.kind === page.kind, 'a listing of another kind');
  }
});

export const TEXT_TARGETS: readonly FuzzTarget[] = [endpoint, jsonrpc, classify, outcome, sseFeed, boundary, event, listings];
