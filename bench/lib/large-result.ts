/**
 * The large-result case of the MCP scenario (issue #21: "large tool results, 64 KiB JSON result"): the
 * demo composer's bench-only `calc_blob` answers a structured JSON result (its rows as
 * `structuredContent` and the same JSON as a text item) of {@link LARGE_RESULT_BYTES} requested bytes: a
 * JSON-RPC message of ~64,620 bytes on the wire, the largest that stays under the sidecar's default
 * `--body-capture-limit` (64 KiB), so the sidecar reads every one.
 *
 * {@link startReadCheck} reads the sidecar's own counters before and after the case: an answer over the
 * limit is not read (it counts `sidecar_mcp_unparsed_total{reason="too_large"}`, and its call is dropped
 * when the session closes), so such a run would measure the cheaper skip path instead, and is reported as
 * not valid.
 */
import { sidecarCounters, type SeriesMatch } from './sidecar-metrics.ts';
import type { Target } from './targets.ts';

/**
 * The `bytes` argument of `calc_blob` (demo/child/roles.ts: half of it as rows, the same rows again as a
 * JSON text item). 57,000 gives a result of 64,581 bytes and a JSON-RPC answer of ~64,620 bytes; 58,000
 * (the first choice) gave 65,679 bytes, over the 65,536 the sidecar reads by default.
 */
export const LARGE_RESULT_BYTES = 57_000;
export const LARGE_TOOL = 'calc_blob';

/** What the sidecar counted over the large-result case (warm-ups included). */
export interface LargeReadCheck {
  /** `calc_blob` calls the sidecar's MCP tap recorded (`mcp.server.operation.duration`). */
  readonly operations: number;
  /** Messages the tap did not read because they were over `--body-capture-limit`. */
  readonly tooLarge: number;
  /** Pending calls the tap dropped without an answer (any reason). */
  readonly dropped: number;
  /** Bodies and events the envelope scanner left to the full JSON parser (`sidecar_mcp_scan_fallbacks_total`, any reason). */
  readonly fallbacks: number;
  /** No message too large, no call dropped: the sidecar read every result it is measured on. */
  readonly valid: boolean;
}

const COUNTERS = {
  tooLarge: { name: 'sidecar_mcp_unparsed_total', labels: { reason: 'too_large' } },
  dropped: { name: 'sidecar_mcp_pending_dropped_total' },
  fallbacks: { name: 'sidecar_mcp_scan_fallbacks_total' },
  operations: { name: 'mcp_server_operation_duration_seconds_count', labels: { gen_ai_tool_name: LARGE_TOOL } },
} as const satisfies Record<string, SeriesMatch>;

/** Takes the sidecar's counters now; `finish` takes them again and tells what the case made it count. */
export async function startReadCheck(sidecar: Target): Promise<{ finish(): Promise<LargeReadCheck> }> {
  const before = await sidecarCounters(sidecar, COUNTERS);
  return {
    async finish() {
      const after = await sidecarCounters(sidecar, COUNTERS);
      const tooLarge = after.tooLarge - before.tooLarge;
      const dropped = after.dropped - before.dropped;
      return {
        operations: after.operations - before.operations,
        tooLarge,
        dropped,
        fallbacks: after.fallbacks - before.fallbacks,
        valid: tooLarge === 0 && dropped === 0,
      };
    },
  };
}

/** The log line of a check. */
export function readCheckLine(read: LargeReadCheck): string {
  return (
    `the sidecar recorded ${read.operations} ${LARGE_TOOL} calls; ${read.tooLarge} answers over --body-capture-limit, ${read.dropped} calls dropped, ${read.fallbacks} scanner fallbacks to JSON.parse` +
    (read.valid ? '' : ': NOT VALID (the sidecar skipped results it is measured on reading)')
  );
}
