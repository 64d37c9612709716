/**
 * Normalises a request path into the `endpoint` label: the composer's route templates first
 * (`/api/v1/tools/{id}/invoke`, `/api/v1/resources/{uri}`, …), then the composer's own heuristics for
 * paths it does not know (UUIDs, numbers, hex and id-like segments become `{id}`). The query string never
 * reaches this function's output. Pure, and cached per raw path (bounded).
 */

/** Segment patterns of the composer's routes; `*` is any one segment, `**` the rest of the path. */
const ROUTES: ReadonlyArray<readonly [pattern: string, template: string]> = [
  ['/api/v1/health', '/api/v1/health'],
  ['/api/v1/health/detailed', '/api/v1/health/detailed'],
  ['/api/v1/version', '/api/v1/version'],
  ['/api/v1/status', '/api/v1/status'],
  ['/api/v1/status/composition', '/api/v1/status/composition'],
  ['/api/v1/composition', '/api/v1/composition'],
  ['/api/v1/metrics', '/api/v1/metrics'],
  ['/api/v1/metrics/prometheus', '/api/v1/metrics/prometheus'],
  ['/api/v1/events', '/api/v1/events'],
  ['/api/v1/servers', '/api/v1/servers'],
  ['/api/v1/servers/*', '/api/v1/servers/{id}'],
  ['/api/v1/servers/*/start', '/api/v1/servers/{id}/start'],
  ['/api/v1/servers/*/stop', '/api/v1/servers/{id}/stop'],
  ['/api/v1/servers/*/restart', '/api/v1/servers/{id}/restart'],
  ['/api/v1/servers/*/logs', '/api/v1/servers/{id}/logs'],
  ['/api/v1/servers/*/metrics', '/api/v1/servers/{id}/metrics'],
  ['/api/v1/tools', '/api/v1/tools'],
  ['/api/v1/tools/*', '/api/v1/tools/{id}'],
  ['/api/v1/tools/*/invoke', '/api/v1/tools/{id}/invoke'],
  ['/api/v1/prompts', '/api/v1/prompts'],
  ['/api/v1/prompts/*', '/api/v1/prompts/{id}'],
  ['/api/v1/resources', '/api/v1/resources'],
  ['/api/v1/resources/**', '/api/v1/resources/{uri}'],
  ['/api/v1/config', '/api/v1/config'],
  ['/api/v1/config/validate', '/api/v1/config/validate'],
  ['/api/v1/config/reload', '/api/v1/config/reload'],
  ['/api/v1/translators', '/api/v1/translators'],
  ['/api/v1/translators/stdio-to-sse', '/api/v1/translators/stdio-to-sse'],
  ['/api/v1/translators/sse-to-stdio', '/api/v1/translators/sse-to-stdio'],
  ['/api/v1/translators/*', '/api/v1/translators/{name}'],
  ['/api/v1/translators/*/translate', '/api/v1/translators/{name}/translate'],
  ['/sse', '/sse'],
  ['/messages', '/messages/'],
  ['/mcp', '/mcp'],
  ['/tools', '/tools'],
  ['/health', '/health'],
  ['/ws/logs', '/ws/logs'],
  ['/ws/metrics', '/ws/metrics'],
  ['', '/'],
];

/**
 * Every route template the composer serves: the `endpoint` values known in advance, which a bounded label
 * admits outside its bound so that no amount of unknown paths can fold a real route into `__other__`.
 */
export const ROUTE_TEMPLATES: readonly string[] = [...new Set(ROUTES.map(([, template]) => template))];

interface Node {
  template?: string;
  rest?: string;
  children: Map<string, Node>;
  any?: Node;
}

function buildTrie(): Node {
  const root: Node = { children: new Map() };
  for (const [pattern, template] of ROUTES) {
    let node = root;
    for (const seg of pattern.split('/').slice(1)) {
      if (seg === '**') {
        node.rest = template;
        node = { children: new Map() };
        break;
      }
      if (seg === '*') node = node.any ??= { children: new Map() };
      else {
        let next = node.children.get(seg);
        if (next === undefined) node.children.set(seg, (next = { children: new Map() }));
        node = next;
      }
    }
    if (!pattern.endsWith('**')) node.template = template;
  }
  return root;
}

const TRIE = buildTrie();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER_RE = /^\d+$/;
const HEX_RE = /^[0-9a-f]{8,}$/i;
const HAS_DIGIT = /\d/;
const HAS_LETTER = /[a-z]/i;
const WORDLIKE_RE = /^[a-zA-Z0-9_-]+$/;

/** Longest segment kept as a word; anything longer is an id. */
const MAX_WORD = 40;
/** Deepest path kept; deeper paths are cut and end in `/{…}`. */
const MAX_DEPTH = 8;

/** The composer's heuristic for one unknown segment: ids become `{id}`, words stay. */
export function isIdSegment(seg: string): boolean {
  if (UUID_RE.test(seg) || NUMBER_RE.test(seg) || HEX_RE.test(seg)) return true;
  if (seg.length > MAX_WORD || !WORDLIKE_RE.test(seg)) return true;
  // Short ids mix letters and digits ("abc123", "srv-42"); words do not ("logs", "v1" is kept as a version).
  return seg.length >= 4 && HAS_DIGIT.test(seg) && HAS_LETTER.test(seg);
}

function matchRoute(segments: readonly string[]): string | undefined {
  let node: Node | undefined = TRIE;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (node.rest !== undefined && seg !== '') return node.rest;
    const next: Node | undefined = node.children.get(seg) ?? (seg !== '' ? node.any : undefined);
    if (next === undefined) return undefined;
    node = next;
  }
  return node.template;
}

/** Normalises a path (no query string) without the cache. */
export function normalizeEndpointUncached(path: string): string {
  let p = path;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  const segments = p === '/' ? [''] : p.split('/').slice(1);
  const route = matchRoute(segments);
  if (route !== undefined) return route;
  const out: string[] = [];
  for (let i = 0; i < segments.length && i < MAX_DEPTH; i++) {
    const seg = segments[i] as string;
    out.push(seg === '' ? '' : isIdSegment(seg) ? '{id}' : seg);
  }
  if (segments.length > MAX_DEPTH) out.push('{…}');
  return `/${out.join('/')}`;
}

const CACHE_LIMIT = 4096;
const cache = new Map<string, string>();

/** Normalises a request target (path and maybe a query) into the `endpoint` label. */
export function normalizeEndpoint(target: string): string {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  let endpoint = cache.get(path);
  if (endpoint === undefined) {
    endpoint = normalizeEndpointUncached(path);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(path, endpoint);
  }
  return endpoint;
}
