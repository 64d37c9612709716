import { describe, expect, it } from 'vitest';
import { sumSeries } from '../../bench/lib/sidecar-metrics.ts';
import { summaryRows, summaryTable, type SummaryInput } from '../../bench/lib/summary.ts';

const spread = (median: number) => ({ median, min: median, max: median, n: 1 });
const side = (ratio: number, cpu: number) => ({ ratio: spread(ratio), cpuAddedUs: spread(cpu) });
const turns = (ms: number) => ({ longestTurnMs: spread(ms) });

/** A run of every scenario the summary reads, each row at the given figures. */
function run(
  o: { sse?: number; http?: number; cpu?: number; cpuSse?: number; large?: number; valid?: boolean; block?: number; p99?: number; get?: number } = {},
): SummaryInput {
  return {
    get: { ratios: { 'sidecar/bare-undici': spread(o.get ?? 1) } },
    mcp: {
      sidecarVsBare: { streamable_http: side(o.http ?? 1, o.cpu ?? 10), sse: side(o.sse ?? 1, o.cpuSse ?? 8) },
      large: {
        resultBytes: 64_584,
        kinds: { streamable_http: { vsBare: side(o.large ?? 1, 50) }, sse: { vsBare: side(1, 40) } },
        read: { valid: o.valid ?? true, tooLarge: o.valid === false ? 12 : 0, dropped: 0 },
      },
    },
    scrape: { series: 10_243, plain: turns(1.5), gzip: turns(o.block ?? 3), openmetrics: turns(2.5), proxied: { p99AddedMs: spread(o.p99 ?? 0.3) } },
  };
}

const status = (input: SummaryInput) => summaryRows(input).map((r) => r.status);

describe('bench summary: issue #21 Measure table', () => {
  it('has the six rows of the issue, in its order', () => {
    const rows = summaryRows(run());
    expect(rows.map((r) => r.measure)).toEqual([
      'MCP tools/call, sidecar ÷ bare undici, SSE and streamable HTTP',
      'proxy CPU per MCP call, sidecar − bare undici',
      'large tool results (63.1 KiB JSON result), sidecar ÷ bare undici',
      'longest event-loop block during a 10243-series scrape',
      'proxied p99 added while scraping every 1 s',
      'GET sidecar ÷ bare undici',
    ]);
    expect(rows.map((r) => r.must)).toEqual(['≥ 0.98', '≤ 15 µs', '≥ 0.95', '≤ 4 ms', '≤ 0.5 ms', '≥ 0.98']);
  });

  it('fails the MCP row when either transport misses the must, whichever it is', () => {
    expect(status(run({ sse: 0.97 }))[0]).toBe('FAIL');
    expect(status(run({ http: 0.97 }))[0]).toBe('FAIL');
    expect(status(run({ sse: 0.98, http: 0.99 }))[0]).toBe('pass');
    expect(status(run({ sse: 1.05, http: 1.2 }))[0]).toBe('pass (aim)');
  });

  it('shows both transports in the measured value', () => {
    const measured = summaryRows(run({ http: 0.923, sse: 0.969 }))[0]?.measured;
    expect(measured).toBe('0.923 streamable HTTP; 0.969 SSE');
  });

  it('judges lower-is-better rows against their limits', () => {
    expect(status(run({ cpu: 15.1 }))[1]).toBe('FAIL');
    expect(status(run({ cpuSse: 15.5 }))[1]).toBe('FAIL');
    expect(status(run({ cpu: 5 }))[1]).toBe('pass');
    expect(status(run({ cpu: 5, cpuSse: 4 }))[1]).toBe('pass (aim)');
    expect(status(run({ block: 4.2 }))[3]).toBe('FAIL');
    expect(status(run({ block: 3 }))[3]).toBe('pass');
    expect(status(run({ p99: 0.51 }))[4]).toBe('FAIL');
    expect(status(run({ p99: 0.2 }))[4]).toBe('pass (aim)');
  });

  it('takes the worst way of scraping for the event-loop block and names it', () => {
    const row = summaryRows(run({ block: 3.12 }))[3];
    expect(row?.measured).toBe('3.12 ms (gzip, the worst way of scraping)');
  });

  it('does not pass the large-result row when the sidecar skipped the results it is measured on', () => {
    const row = summaryRows(run({ large: 1.2, valid: false }))[2];
    expect(row?.status).toBe('not valid');
    expect(row?.note).toContain('12 over --body-capture-limit');
    expect(summaryTable(summaryRows(run({ valid: false })))).toContain(
      '| not valid (the sidecar skipped results: 12 over --body-capture-limit, 0 calls dropped) |',
    );
  });

  it("says how many runs of a row's scenario were busy, without changing its result", () => {
    const input = run({ p99: 0.3 });
    const busy: SummaryInput = { ...input, scrape: input.scrape === undefined ? undefined : { ...input.scrape, busyRuns: 2 } };
    const rows = summaryRows(busy);
    expect(rows[4]?.status).toBe('pass');
    expect(rows[4]?.note).toBe('2 busy run(s) in its scenario');
    expect(rows[3]?.note).toBe('2 busy run(s) in its scenario');
    expect(rows[0]?.note).toBeUndefined();
  });

  it('says "not run" for every row of a scenario that did not run', () => {
    expect(status({ get: run().get })).toEqual(['not run', 'not run', 'not run', 'not run', 'not run', 'pass']);
    expect(status({}).every((s) => s === 'not run')).toBe(true);
  });
});

describe('bench: reading a counter off the sidecar scrape', () => {
  const text = [
    '# HELP sidecar_mcp_unparsed_total MCP messages the sidecar could not read',
    '# TYPE sidecar_mcp_unparsed_total counter',
    'sidecar_mcp_unparsed_total{reason="too_large"} 6',
    'sidecar_mcp_unparsed_total{reason="not_json"} 1',
    'sidecar_mcp_unparsed_total_extra{reason="too_large"} 100',
    'sidecar_mcp_pending_dropped_total{reason="timeout"} 2 1764680000000',
    'sidecar_mcp_pending_dropped_total{reason="session_closed"} 3',
    'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="calc_blob"} 40',
    'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="calc_blob",error_type="cancelled"} 2',
    'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name="calc_add"} 7',
    'odd_label_total{path="a\\"b,c}",x="1"} 5',
    'plain_gauge 3.5',
    'broken_total{reason="x" 9',
  ].join('\n');

  it('sums the samples whose labels include the wanted pairs', () => {
    expect(sumSeries(text, { name: 'sidecar_mcp_unparsed_total', labels: { reason: 'too_large' } })).toBe(6);
    expect(sumSeries(text, { name: 'sidecar_mcp_unparsed_total' })).toBe(7);
    expect(sumSeries(text, { name: 'mcp_server_operation_duration_seconds_count', labels: { gen_ai_tool_name: 'calc_blob' } })).toBe(42);
  });

  it('reads samples with a timestamp, without labels, and with escaped quotes and braces in a value', () => {
    expect(sumSeries(text, { name: 'sidecar_mcp_pending_dropped_total' })).toBe(5);
    expect(sumSeries(text, { name: 'plain_gauge' })).toBe(3.5);
    expect(sumSeries(text, { name: 'odd_label_total', labels: { path: 'a"b,c}' } })).toBe(5);
  });

  it('neither counts a family whose name only starts with the one asked, nor a line it cannot read', () => {
    expect(sumSeries(text, { name: 'sidecar_mcp_unparsed_total', labels: { reason: 'too_large' } })).toBe(6);
    expect(sumSeries(text, { name: 'broken_total' })).toBe(0);
    expect(sumSeries(text, { name: 'absent_total' })).toBe(0);
  });
});
