// Checked by `npm run typecheck`, never run: family and label names come from the catalog table, so a
// misspelt family or label, or a family of the wrong kind, fails the build.
import type { AttributesOf, BoundedLabelOf, FamilyName, LabelOf } from '../../src/telemetry/catalog.ts';

export const counter: FamilyName<'counter'> = 'mcp_tool_invocations_total';
// @ts-expect-error -- a typo of mcp_tool_invocations_total.
export const typo: FamilyName<'counter'> = 'mcp_tool_invocatons_total';
// @ts-expect-error -- a histogram is not a counter.
export const wrongKind: FamilyName<'counter'> = 'mcp_tool_invocation_duration_seconds';
export const label: LabelOf<'mcp_tool_invocations_total'> = 'status';
// @ts-expect-error -- not a label of the family.
export const wrongLabel: LabelOf<'mcp_tool_invocations_total'> = 'tool_name';
export const bounded: BoundedLabelOf<'mcp_tool_invocation_errors_total'> = 'error_type';
// @ts-expect-error -- status is a label of the family but not a bounded one.
export const unbounded: BoundedLabelOf<'mcp_tool_invocations_total'> = 'status';
// @ts-expect-error -- a family without bounded labels has none.
export const none: BoundedLabelOf<'mcp_auth_attempts_total'> = 'method';
export const semconv: BoundedLabelOf<'mcp.server.operation.duration'> = 'gen_ai.tool.name';
export const selfBounded: BoundedLabelOf<'sidecar_proxy_errors_total'>[] = [];
export const attrs: AttributesOf<'mcp_http_requests_total'> = { method: 'GET', endpoint: '/x', status_code: '200' };
// @ts-expect-error -- an attribute the family does not have.
export const wrongAttrs: AttributesOf<'mcp_http_requests_total'> = { method: 'GET', route: '/x' };

import type { Instruments } from '../../src/telemetry/instruments.ts';

export function recordsOnlyDeclaredSeries(instruments: Instruments): void {
  instruments.counter('mcp_tool_invocations_total').add(1, { tool_id: 'calc_add', status: 'success' });
  instruments.updown('sidecar_proxy_open_streams').add(1, { kind: 'sse' });
  instruments.startAtZero('sidecar_proxy_errors_total', { kind: 'upstream_timeout' });
  instruments.observeGauge('mcp_composer_info', (observe) => observe(1, { version: '1.2.3', platform: 'linux' }));
  void instruments.label('mcp_tool_invocations_total', 'tool_id');
  // @ts-expect-error -- a typo of mcp_tool_invocations_total.
  instruments.counter('mcp_tool_invocatons_total');
  // @ts-expect-error -- a histogram asked for as a counter.
  instruments.counter('mcp_tool_invocation_duration_seconds');
  // @ts-expect-error -- a label the family does not have.
  instruments.counter('mcp_tool_invocations_total').add(1, { tool: 'calc_add' });
  // @ts-expect-error -- a label of another family.
  instruments.histogram('mcp_http_request_duration_seconds').record(1, { method: 'GET', status_code: '200' });
  // @ts-expect-error -- status is not a bounded label.
  instruments.label('mcp_tool_invocations_total', 'status');
  // @ts-expect-error -- reason is a label of other families.
  instruments.startAtZero('sidecar_proxy_errors_total', { reason: 'limit' });
  // @ts-expect-error -- a misspelt label of a gauge.
  instruments.observeGauge('mcp_composer_info', (observe) => observe(1, { versions: '1.2.3' }));
  // @ts-expect-error -- a family of the sidecar's own without bounded labels.
  instruments.label('sidecar_proxy_errors_total', 'kind');
  void instruments.label('mcp.server.session.duration', 'mcp.protocol.version');
  // @ts-expect-error -- only counters start at zero.
  instruments.startAtZero('sidecar_upstream_up');
}
