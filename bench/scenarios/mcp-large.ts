/**
 * The large-result case of the MCP scenario (issue #21: "large tool results, 64 KiB JSON result"): 8 SDK
 * sessions calling the demo composer's bench-only `calc_blob` in a closed loop, whose answer is a
 * structured JSON result (its rows as `structuredContent` and the same JSON as a text item) of
 * {@link LARGE_RESULT_BYTES} requested bytes: a JSON-RPC message of ~64,600 bytes on the wire, the largest
 * that stays under the sidecar's default `--body-capture-limit` (64 KiB), so the sidecar reads every one.
 * Direct, through nginx (when installed), the bare undici proxy and the sidecar, side by side in
 * interleaved rounds over both transports.
 *
 * The sidecar's own counters are read before and after: a result over the limit is not read (it counts
 * `sidecar_mcp_unparsed_total{reason="too_large"}`, and its call is dropped when the session closes), which
 * would measure the cheaper skip path instead. Such a run is reported as not valid.
 */
import { BUSY_SHARE, measured, rotated, wanted, type BenchContext } from '../lib/context.ts';
import { runMcpLoad } from '../lib/children.ts';
import { sidecarCounters, type SeriesMatch } from '../lib/sidecar-metrics.ts';
import { spread, type Spread } from '../lib/stats.ts';
import type { Target, TargetName } from '../lib/targets.ts';
import { MCP_CLIENTS, sideBySide, type Kind, type McpSample, type SideBySide } from '../lib/mcp-samples.ts';

/**
 * The `bytes` argument of `calc_blob` (demo/child/roles.ts: half of it as rows, the same rows again as a
 * JSON text item). 57,000 gives a result of 64,5xx bytes and a JSON-RPC answer of ~64,620 bytes; 58,000
 * (the first choice) gives 65,679 bytes, over the 65,536 the sidecar reads by default.
 */
export const LARGE_RESULT_BYTES = 57_000;
const TOOL = 'calc_blob';

/** What the sidecar counted over the large-result runs (warm-ups included). */
export interface LargeReadCheck {
  /** Calls the load clients made through the sidecar. */
  readonly calls: number;
  /** `calc_blob` calls the sidecar's MCP tap recorded (`mcp.server.operation.duration`). */
  readonly operations: number;
  /** Messages the tap did not read because they were over `--body-capture-limit`. */
  readonly tooLarge: number;
  /** Pending calls the tap dropped without an answer (any reason). */
  readonly dropped: number;
  /** No message too large, no call dropped: the sidecar read every result it is measured on. */
  readonly valid: boolean;
}

export interface LargeResult {
  /** UTF-8 bytes of one result's JSON as the client parsed it (the JSON-RPC answer adds ~40). */
  readonly resultBytes: number;
  /** `calc_blob`'s `bytes` argument. */
  readonly requestedBytes: number;
  readonly kinds: Partial<Record<Kind, { readonly callsPerSecond: Partial<Record<TargetName, Spread>>; readonly vsBare: SideBySide }>>;
  /** Absent in results written before the check existed. */
  readonly read?: LargeReadCheck;
}

const COUNTERS = {
  tooLarge: { name: 'sidecar_mcp_unparsed_total', labels: { reason: 'too_large' } },
  dropped: { name: 'sidecar_mcp_pending_dropped_total' },
  operations: { name: 'mcp_server_operation_duration_seconds_count', labels: { gen_ai_tool_name: TOOL } },
} as const satisfies Record<string, SeriesMatch>;

/** Runs the large-result rounds against `all` (the MCP scenario's targets; `composer` is `direct`). */
export async function largeResultRounds(
  ctx: BenchContext,
  all: readonly Target[],
  composer: Target,
  kinds: readonly Kind[],
  seconds: number,
): Promise<{ result: LargeResult; samples: McpSample[] }> {
  const targets = all.filter((t) => t === composer || t.name === 'bare-undici' || t.name === 'sidecar' || (t.name === 'nginx' && wanted(ctx, 'nginx')));
  const sidecar = targets.find((t) => t.name === 'sidecar');
  if (sidecar === undefined) throw new Error('the large-result case needs the sidecar');
  const load = { tool: TOOL, args: { bytes: LARGE_RESULT_BYTES } };
  const before = await sidecarCounters(sidecar, COUNTERS);
  let sidecarCalls = 0;
  for (const kind of kinds) {
    for (const t of targets) {
      const r = await runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds: ctx.warmupSeconds, warmupSeconds: 0.5, ...load });
      if (t === sidecar) sidecarCalls += r.totalCalls;
    }
  }
  const samples: McpSample[] = [];
  let resultBytes = 0;
  for (let round = 0; round < ctx.repeats; round++) {
    for (const kind of kinds) {
      for (const t of rotated(targets, round)) {
        const pids = t === composer ? [composer.pid] : [composer.pid, t.pid];
        const m = await measured(ctx, pids, () => runMcpLoad(ctx.loadCpus, { baseUrl: t.url, kind, clients: MCP_CLIENTS, seconds, warmupSeconds: 1, ...load }));
        const r = m.result;
        if (t === sidecar) sidecarCalls += r.totalCalls;
        resultBytes = Math.max(resultBytes, r.resultBytes);
        const perCall = (pid: number) => (m.cpuUs.get(pid) ?? NaN) / r.totalCalls;
        samples.push({ ...r, kind, target: t.name, round, proxyCpuUsPerCall: t === composer ? NaN : perCall(t.pid), composerCpuUsPerCall: perCall(composer.pid), foreignShare: m.foreignShare, load1: m.load1 });
        ctx.log(
          `  round ${round + 1}/${ctx.repeats} ${kind.padEnd(15)} ${t.name.padEnd(11)} ${r.callsPerSecond.toFixed(0).padStart(5)} calls/s (${r.resultBytes} B results)` +
            `${t === composer ? '' : `  proxy ${perCall(t.pid).toFixed(0)} µs/call`}${r.failed > 0 ? `  FAILED ${r.failed}` : ''}  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
        );
      }
    }
  }
  const after = await sidecarCounters(sidecar, COUNTERS);
  const delta = (k: keyof typeof COUNTERS) => after[k] - before[k];
  const read: LargeReadCheck = { calls: sidecarCalls, operations: delta('operations'), tooLarge: delta('tooLarge'), dropped: delta('dropped'), valid: delta('tooLarge') === 0 && delta('dropped') === 0 };
  ctx.log(
    `  the sidecar read ${read.operations} of ${read.calls} ${TOOL} answers; ${read.tooLarge} over --body-capture-limit, ${read.dropped} dropped` +
      `${read.valid ? '' : '  NOT VALID: the sidecar skipped results it is measured on reading'}`,
  );
  const byKind: LargeResult['kinds'] = {};
  for (const kind of kinds) {
    const callsPerSecond: Partial<Record<TargetName, Spread>> = {};
    for (const t of targets) callsPerSecond[t.name] = spread(samples.filter((s) => s.kind === kind && s.target === t.name).map((s) => s.callsPerSecond));
    byKind[kind] = { callsPerSecond, vsBare: sideBySide(samples, kind) };
  }
  return { result: { resultBytes, requestedBytes: LARGE_RESULT_BYTES, kinds: byKind, read }, samples };
}
