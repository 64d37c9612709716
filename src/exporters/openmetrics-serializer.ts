/**
 * Serialises OpenTelemetry metric data into OpenMetrics 1.0.0 text
 * (https://github.com/prometheus/OpenMetrics/blob/main/specification/OpenMetrics.md), served when a
 * scraper asks for it (Prometheus does by default). The series are those of the 0.0.4 text, with the same
 * names, labels, `le` values and sample values, so every query and rule reads both alike; what differs is
 * the format's own rules:
 *
 * - a counter family is named without `_total` in its `# TYPE`/`# HELP`/`# UNIT` lines, its samples keep it
 *   (`# TYPE mcp_tool_invocations counter`, `mcp_tool_invocations_total{…} 3`);
 * - `# UNIT` where the family has one: the OpenTelemetry unit of a semantic-convention instrument (`s`,
 *   `By`), else the base unit a catalog name ends in (`_seconds`, `_bytes`) — always a suffix of the name;
 * - HELP text escapes double quotes as well; the exposition ends with `# EOF`;
 * - histograms: buckets, then `_count`, then `_sum` (as `prometheus_client` writes OpenMetrics);
 * - no `_created` samples (optional in the format): Prometheus before its created-timestamp support stores
 *   each as one more series, which would double the counter and histogram series, and an OpenTelemetry
 *   cumulative point starts when the reader did, not when the series was born;
 * - the composer's five gauges named `…_total` (`mcp_servers_total`, `mcp_tools_total`,
 *   `mcp_tool_conflicts_total`, `mcp_prompts_total`, `mcp_resources_total`) stay gauges with their names:
 *   the format only advises against the suffix (a SHOULD), Prometheus's parser accepts it, and dashboards
 *   query those names;
 * - exemplars, when {@link ExemplarLookup} has one: on the `_bucket` line of the bucket the measurement
 *   fell in, and on a counter's `_total` line — `# {trace_id="…",span_id="…"} value timestamp`.
 *
 * Pure: data (and a read-only exemplar lookup) in, text out — whole ({@link serializeOpenMetrics}) or
 * slice by slice ({@link sliceOpenMetrics}, what the metrics port writes); the slices joined are the same
 * bytes. Exemplars are looked up as each series is written.
 */
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  escapeLabelValue,
  groupFamilies,
  joinSlices,
  labelsOpen,
  bucketLines,
  sampleValue,
  SLICE_SAMPLES,
  UNIT_SUFFIX,
  type Family,
  type SerializeResult,
  type SlicedExposition,
} from './exposition.ts';

/** One exemplar as the format writes it: the span of a measurement, its value and when it was taken. */
export interface ExemplarView {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly timeMs: number;
}

/** The exemplars of one series. */
export interface SeriesExemplars {
  /** Histograms: by bucket index (as the data point's counts, the last one `+Inf`). */
  readonly buckets?: readonly (ExemplarView | undefined)[];
  /** Counters: one for the `_total` sample. */
  readonly total?: ExemplarView | undefined;
}

/** The exemplars of the series of instrument `instrumentName` with `attributes`, if any. */
export type ExemplarLookup = (instrumentName: string, attributes: Attributes) => SeriesExemplars | undefined;

/** Base units a catalog family's name ends in (Prometheus naming), for `# UNIT`. */
const NAME_UNITS = ['seconds', 'bytes'] as const;

/** The unit of a family, if it has one that is a suffix of its OpenMetrics name. */
function unitOf(f: Family, omName: string): string | undefined {
  const declared = UNIT_SUFFIX[f.metrics[0]?.descriptor.unit ?? ''];
  const unit = declared ?? NAME_UNITS.find((u) => omName.endsWith(`_${u}`));
  return unit !== undefined && omName.endsWith(`_${unit}`) ? unit : undefined;
}

function exemplar(e: ExemplarView | undefined): string {
  if (e === undefined) return '';
  return ` # {trace_id="${e.traceId}",span_id="${e.spanId}"} ${sampleValue(e.value)} ${(e.timeMs / 1000).toFixed(3)}`;
}

/** A family as OpenMetrics writes it: under its OpenMetrics name (counters without `_total`). */
interface OmFamily {
  readonly f: Family;
  readonly omName: string;
}

/** The text of `families` and its `# EOF`, cut after the first series that brings a slice to `sliceSamples` lines. */
function* slices(families: readonly OmFamily[], lookup: ExemplarLookup | undefined, sliceSamples: number): Generator<string> {
  let out = '';
  let lines = 0;
  for (const { f, omName } of families) {
    if (f.help !== '') out += `# HELP ${omName} ${escapeLabelValue(f.help)}\n`;
    out += `# TYPE ${omName} ${f.type}\n`;
    const unit = unitOf(f, omName);
    if (unit !== undefined) out += `# UNIT ${omName} ${unit}\n`;
    for (const metric of f.metrics) {
      const instrument = metric.descriptor.name;
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        for (const dp of metric.dataPoints) {
          const open = labelsOpen(dp.attributes);
          const labels = open === '' ? '' : `${open}}`;
          const exemplars = lookup?.(instrument, dp.attributes)?.buckets;
          out += bucketLines(f.name, open, dp.value.buckets, exemplars === undefined ? undefined : (i) => exemplar(exemplars[i]));
          out += `${f.name}_count${labels} ${dp.value.count}\n`;
          out += `${f.name}_sum${labels} ${sampleValue(dp.value.sum ?? 0)}\n`;
          lines += dp.value.buckets.counts.length + 2;
          if (lines >= sliceSamples) {
            yield out;
            out = '';
            lines = 0;
          }
        }
      } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
        const counter = f.type === 'counter';
        for (const dp of metric.dataPoints) {
          const open = labelsOpen(dp.attributes);
          const e = counter && lookup !== undefined ? exemplar(lookup(instrument, dp.attributes)?.total) : '';
          out += `${f.name}${open === '' ? '' : `${open}}`} ${sampleValue(dp.value)}${e}\n`;
          if (++lines >= sliceSamples) {
            yield out;
            out = '';
            lines = 0;
          }
        }
      }
    }
  }
  yield `${out}# EOF\n`;
}

/**
 * The OpenMetrics text of collected metrics, with the exemplars `lookup` gives (none without it), in
 * slices of about `sliceSamples` sample lines. Conflicts: families dropped because another has the same
 * exposition name with another type, or the same OpenMetrics family name (a counter `x_total` and a
 * family `x`); the first is kept.
 */
export function sliceOpenMetrics(resourceMetrics: ResourceMetrics, lookup?: ExemplarLookup, sliceSamples = SLICE_SAMPLES): SlicedExposition {
  const { families, conflicts } = groupFamilies(resourceMetrics);
  const written = new Set<string>();
  const kept: OmFamily[] = [];
  for (const f of families) {
    const omName = f.type === 'counter' ? f.name.slice(0, -'_total'.length) : f.name;
    if (written.has(omName)) {
      conflicts.push(f.name);
      continue;
    }
    written.add(omName);
    kept.push({ f, omName });
  }
  return { conflicts, slices: slices(kept, lookup, sliceSamples) };
}

/** Serialises collected metrics into OpenMetrics text (all at once); see {@link sliceOpenMetrics}. */
export function serializeOpenMetrics(resourceMetrics: ResourceMetrics, lookup?: ExemplarLookup): SerializeResult {
  const { conflicts, slices } = sliceOpenMetrics(resourceMetrics, lookup, Infinity);
  return { text: joinSlices(slices), conflicts };
}
