// The one declaration of which source feeds each catalog family (src/telemetry/family-sources.ts): it covers
// exactly the 33 families, and says for each kind of composer what the code does (composer-kinds.test.ts
// checks the same against real scrapes).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SurfaceSet } from '../../src/sources/surfaces.ts';
import { CATALOG } from '../../src/telemetry/catalog.ts';
import { FAMILY_FEEDS, familyCoverage, renderFeedsMarkdown } from '../../src/telemetry/family-sources.ts';
import { ROOT } from '../fixtures/sidecar.ts';

const RELEASED: SurfaceSet = { rest: false, events: false, sse: true, streamable_http: false, tools_list: true };
const REST: SurfaceSet = { rest: true, events: false, sse: true, streamable_http: true, tools_list: true };
const FULL: SurfaceSet = { rest: true, events: true, sse: true, streamable_http: true, tools_list: true };
const NOTHING: SurfaceSet = { rest: false, events: false, sse: false, streamable_http: false, tools_list: false };

const absent = (s: SurfaceSet) =>
  familyCoverage(s)
    .filter((c) => c.fedBy.length === 0)
    .map((c) => c.family);
const fedBy = (s: SurfaceSet, family: string) => familyCoverage(s).find((c) => c.family === family)?.fedBy;

describe('family sources', () => {
  it('names every one of the 33 catalog families, and nothing else', () => {
    expect(Object.keys(FAMILY_FEEDS).sort()).toEqual(CATALOG.map((f) => f.name).sort());
    expect(familyCoverage(FULL)).toHaveLength(33);
  });

  it('a full composer feeds all 33; one with REST but no stream loses only the stream (stdio calls, lifecycle as it happens)', () => {
    expect(absent(FULL)).toEqual([]);
    expect(absent(REST)).toEqual([]);
    expect(fedBy(REST, 'mcp_server_crashes_total')).toEqual(['poll_differences']);
    expect(fedBy(FULL, 'mcp_server_crashes_total')).toEqual(['poll_differences', 'event_stream']);
  });

  it('a composer as released feeds HTTP, MCP calls and MCP-listed inventory only', () => {
    expect(absent(RELEASED).sort()).toEqual(
      [
        'mcp_composer_info',
        'mcp_composer_uptime_seconds',
        'mcp_servers_total',
        'mcp_servers_running',
        'mcp_servers_stopped',
        'mcp_servers_failed',
        'mcp_server_starts_total',
        'mcp_server_stops_total',
        'mcp_server_restarts_total',
        'mcp_server_crashes_total',
        'mcp_tool_conflicts_total',
        'mcp_auth_attempts_total',
        'mcp_auth_failures_total',
        'mcp_authz_checks_total',
        'mcp_authz_denials_total',
        'mcp_rate_limit_exceeded_total',
        'mcp_config_reloads_total',
        'mcp_config_validation_errors_total',
      ].sort(),
    );
    expect(fedBy(RELEASED, 'mcp_tool_invocations_total')).toEqual(['mcp_traffic']);
    expect(fedBy(RELEASED, 'mcp_prompts_total')).toEqual(['mcp_listing']);
  });

  it('an upstream that serves nothing recognisable still feeds the four HTTP families', () => {
    expect(
      familyCoverage(NOTHING)
        .filter((c) => c.fedBy.length > 0)
        .map((c) => c.family),
    ).toEqual(['mcp_http_requests_total', 'mcp_http_request_duration_seconds', 'mcp_http_request_size_bytes', 'mcp_http_response_size_bytes']);
    // GET /tools alone gives the tool counts.
    expect(fedBy({ ...NOTHING, tools_list: true }, 'mcp_tools_total')).toEqual(['tools_list']);
    expect(fedBy({ ...NOTHING, tools_list: true }, 'mcp_prompts_total')).toEqual([]);
  });

  it('docs/composers.md holds the table as the code renders it (npm run docs:options)', () => {
    const doc = readFileSync(join(ROOT, 'docs/composers.md'), 'utf8');
    expect(doc).toContain(`<!-- feeds:start -->\n${renderFeedsMarkdown()}\n<!-- feeds:end -->`);
  });
});
