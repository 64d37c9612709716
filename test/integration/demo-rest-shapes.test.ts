// REST response shapes of the demo composer for --api-shape code and doc, table-driven from
// composer-api.md: each row names the request and the keys (and some values) each shape must answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';

type Shape = 'code' | 'doc';
type Body = Record<string, unknown>;

interface Row {
  readonly name: string;
  readonly method?: string;
  readonly path: string;
  readonly body?: unknown;
  /** Expected status per shape (default 200 for both). */
  readonly status?: Partial<Record<Shape, number>>;
  /** Checks per shape (the same check for both when only `both` is given). */
  readonly check: Partial<Record<Shape | 'both', (b: Body) => void>>;
}

const keys = (o: unknown): string[] => Object.keys(o as object).sort();
const SERVER_CODE = ['command', 'id', 'last_error', 'name', 'pid', 'restart_count', 'status', 'type', 'uptime_seconds', 'url'];
const SERVER_DOC = ['command', 'id', 'last_error', 'name', 'pid', 'restart_count', 'state', 'type', 'uptime', 'url'];

const ROWS: readonly Row[] = [
  {
    name: 'health',
    path: '/api/v1/health',
    check: {
      both: (b) => {
        expect(keys(b)).toEqual(['status', 'timestamp', 'version']);
        expect(b.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
      },
    },
  },
  {
    name: 'health/detailed',
    path: '/api/v1/health/detailed',
    check: {
      both: (b) => {
        expect(keys(b)).toEqual(['failed_servers', 'running_servers', 'servers', 'status', 'total_servers', 'uptime_seconds', 'version']);
        expect(b.servers).toEqual({ calc: 'running', clock: 'running', files: 'running' });
      },
    },
  },
  {
    name: 'version',
    path: '/api/v1/version',
    check: {
      both: (b) => {
        expect(keys(b)).toEqual(['build_date', 'git_commit', 'platform', 'python_version', 'version']);
        expect(typeof b.platform).toBe('string');
      },
    },
  },
  {
    name: 'status',
    path: '/api/v1/status',
    check: {
      code: (b) => {
        expect(keys(b)).toEqual(['capabilities', 'servers', 'status', 'uptime_seconds']);
        expect(b.servers).toMatchObject({ total: 3, running: 3, stopped: 0, statuses: { calc: 'running' } });
        expect(b.capabilities).toEqual({ tools: 9, prompts: 3, resources: 6 });
      },
      doc: (b) => {
        expect(keys(b)).toEqual(['prompts_total', 'resources_total', 'servers_running', 'servers_stopped', 'servers_total', 'tools_total', 'uptime']);
        expect(b).toMatchObject({ servers_total: 3, servers_running: 3, tools_total: 9 });
      },
    },
  },
  {
    name: 'composition',
    path: '/api/v1/composition',
    check: {
      both: (b) => {
        expect(keys(b)).toEqual(['conflicts', 'servers', 'total_prompts', 'total_resources', 'total_servers', 'total_tools']);
        expect(b.conflicts).toEqual([{ type: 'tool', name: 'echo', servers: ['calc', 'clock'], resolution: 'prefix' }]);
      },
      code: (b) => expect(keys((b.servers as unknown[])[0])).toEqual(SERVER_CODE),
      doc: (b) => expect(keys((b.servers as unknown[])[0])).toEqual(SERVER_DOC),
    },
  },
  { name: 'status/composition (doc path)', path: '/api/v1/status/composition', check: { both: (b) => expect(b.total_tools).toBe(9) } },
  {
    name: 'metrics (JSON)',
    path: '/api/v1/metrics',
    check: {
      both: (b) => {
        expect(b).toHaveProperty('http_requests_total');
        expect(b).toHaveProperty('tool_invocations_total');
      },
    },
  },
  {
    name: 'servers list',
    path: '/api/v1/servers',
    check: {
      both: (b) => expect(b.total).toBe(3),
      code: (b) => expect(keys((b.servers as unknown[])[0])).toEqual(SERVER_CODE),
      doc: (b) => expect(keys((b.servers as unknown[])[0])).toEqual(SERVER_DOC),
    },
  },
  {
    name: 'one server with name lists',
    path: '/api/v1/servers/calc',
    check: {
      both: (b) => expect(b).toMatchObject({ id: 'calc', tools: ['add', 'echo', 'fail', 'crash'], prompts: ['explain'], resources: ['calc://constants'] }),
      code: (b) => expect(b.status).toBe('running'),
      doc: (b) => expect(b.state).toBe('running'),
    },
  },
  { name: 'server metrics', path: '/api/v1/servers/calc/metrics', check: { both: (b) => expect(b).toMatchObject({ server_id: 'calc', status: 'running' }) } },
  {
    name: 'tools page',
    path: '/api/v1/tools?limit=2&offset=1',
    check: {
      both: (b) => {
        expect(b).toMatchObject({ total: 9, offset: 1, limit: 2 });
        expect((b.tools as unknown[]).length).toBe(2);
      },
      code: (b) => expect((b.tools as Body[])[0]).toMatchObject({ id: 'calc.echo', name: 'echo', server_id: 'calc' }),
      doc: (b) => expect((b.tools as Body[])[0]).toMatchObject({ id: 'calc.echo', name: 'echo', server: 'calc' }),
    },
  },
  {
    name: 'tools by server and search',
    path: '/api/v1/tools?server=clock&search=ECHO',
    check: {
      both: (b) => {
        expect(b.total).toBe(1);
        expect((b.tools as Body[])[0]?.id).toBe('clock.echo');
      },
    },
  },
  { name: 'one tool by server:tool', path: '/api/v1/tools/calc:add', check: { both: (b) => expect(b).toMatchObject({ id: 'calc.add', name: 'add' }) } },
  {
    name: 'invoke, code body',
    method: 'POST',
    path: '/api/v1/tools/calc.add/invoke',
    body: { arguments: { a: 2, b: 3 } },
    check: {
      both: (b) => {
        expect(keys(b)).toEqual(['error', 'execution_time_ms', 'result', 'success', 'tool_id']);
        expect(b).toMatchObject({ success: true, error: null, tool_id: 'calc.add', result: { content: [{ type: 'text', text: '5' }] } });
      },
    },
  },
  {
    name: 'invoke, doc body (the arguments themselves)',
    method: 'POST',
    path: '/api/v1/tools/calc.add/invoke',
    body: { a: 1, b: 1 },
    check: {
      both: (b) => expect(b).toMatchObject({ success: true, result: { content: [{ text: '2' }] } }),
    },
  },
  {
    name: 'invoke of the failing tool: 200 with success false',
    method: 'POST',
    path: '/api/v1/tools/calc.fail/invoke',
    body: { arguments: {} },
    check: {
      both: (b) => expect(b).toMatchObject({ success: false, error: 'Error: deliberate failure', result: { isError: true } }),
    },
  },
  {
    name: 'prompts',
    path: '/api/v1/prompts',
    check: {
      both: (b) => expect(b.total).toBe(3),
      code: (b) => expect((b.prompts as Body[])[0]).toMatchObject({ id: 'calc.explain', server_id: 'calc' }),
      doc: (b) => expect((b.prompts as Body[])[0]).toMatchObject({ id: 'calc.explain', server: 'calc' }),
    },
  },
  {
    name: 'one prompt',
    path: '/api/v1/prompts/clock.schedule',
    check: { both: (b) => expect(b).toMatchObject({ name: 'schedule', arguments: [{ name: 'event', required: true }] }) },
  },
  {
    name: 'resources',
    path: '/api/v1/resources',
    check: {
      both: (b) => expect(b.total).toBe(6),
      code: (b) => expect((b.resources as Body[])[0]).toMatchObject({ uri: 'calc://constants', server_id: 'calc', mime_type: 'application/json' }),
      doc: (b) => expect((b.resources as Body[])[0]).toMatchObject({ uri: 'calc://constants', server: 'calc' }),
    },
  },
  {
    name: 'read a resource by URL-encoded URI',
    path: `/api/v1/resources/${encodeURIComponent('file:///demo/readme.txt')}`,
    check: {
      both: (b) => expect(b).toMatchObject({ uri: 'file:///demo/readme.txt', mime_type: 'text/plain', contents: [{ text: 'This is the demo composer.\n' }] }),
      code: (b) => expect(b.server_id).toBe('files'),
      doc: (b) => expect(b.server).toBe('files'),
    },
  },
  {
    name: 'read a templated resource by raw path tail',
    path: '/api/v1/resources/clock://time/Europe',
    check: {
      both: (b) => expect(b).toMatchObject({ uri: 'clock://time/Europe', contents: [{ uri: 'clock://time/Europe' }] }),
    },
  },
  { name: 'config', path: '/api/v1/config', check: { both: (b) => expect((b.config as { servers: unknown[] }).servers).toHaveLength(3) } },
  {
    name: 'config validate, valid',
    method: 'POST',
    path: '/api/v1/config/validate',
    body: { servers: [] },
    check: { both: (b) => expect(b).toEqual({ valid: true, errors: [] }) },
  },
  {
    name: 'config validate, invalid',
    method: 'POST',
    path: '/api/v1/config/validate',
    body: { servers: [{ id: 'x' }] },
    status: { code: 200, doc: 400 },
    check: {
      both: (b) => expect(b).toEqual({ valid: false, errors: ['servers.0.command: field required (a non-empty string)'] }),
    },
  },
  { name: 'translators', path: '/api/v1/translators', check: { both: (b) => expect(b).toEqual({ translators: [], total: 0 }) } },
  {
    name: 'plain /tools (no /api/v1)',
    path: '/tools',
    check: {
      both: (b) => {
        expect(b.total).toBe(9);
        expect(keys((b.tools as unknown[])[0])).toEqual(['description', 'inputSchema', 'name']);
        expect((b.tools as Body[])[0]?.name).toBe('calc_add');
      },
    },
  },
];

describe('demo composer REST shapes', () => {
  const composers: Partial<Record<Shape, DemoComposer>> = {};
  beforeAll(async () => {
    [composers.code, composers.doc] = await Promise.all([startDemoComposer(['--api-shape', 'code']), startDemoComposer(['--api-shape', 'doc'])]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(composers).map((c) => c.close()));
  });

  for (const shape of ['code', 'doc'] as const) {
    for (const row of ROWS) {
      it(`${shape}: ${row.name}`, async () => {
        const c = composers[shape];
        if (!c) throw new Error('composer not started');
        const init: RequestInit = { method: row.method ?? 'GET' };
        if (row.body !== undefined) {
          init.body = JSON.stringify(row.body);
          init.headers = { 'content-type': 'application/json' };
        }
        const r = await requestJson(`${c.url}${row.path}`, init);
        expect(r.status, r.text).toBe(row.status?.[shape] ?? 200);
        expect(r.headers.get('content-type')).toBe('application/json');
        const body = r.body as Body;
        row.check.both?.(body);
        row.check[shape]?.(body);
      });
    }
  }

  it('the Prometheus endpoint serves the catalog in text format 0.0.4', async () => {
    const c = composers.code;
    if (!c) throw new Error('composer not started');
    const r = await fetch(`${c.url}/api/v1/metrics/prometheus`);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    expect(text).toContain('# TYPE mcp_composer_info gauge');
    expect(text).toMatch(/^mcp_servers_total 3\.0$/m);
    expect(text).toMatch(/^mcp_tools_by_server\{server_id="calc"\} 4\.0$/m);
    expect(text).toMatch(/^mcp_tool_conflicts_total 1\.0$/m);
    expect(text).toMatch(/^mcp_http_requests_total\{method="GET",endpoint="\/api\/v1\/servers\/\{id\}",status_code="200"\} \d+\.0$/m);
    expect(text).toContain('# TYPE mcp_server_crashes_total counter');
  });
});
