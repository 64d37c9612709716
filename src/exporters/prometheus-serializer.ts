/**
 * Serialises OpenTelemetry metric data into the Prometheus text exposition format (version 0.0.4), the
 * way the composer's own `prometheus_client` writes it, so that a scrape of the sidecar reads like a
 * scrape of the composer:
 *
 * - histogram samples in the canonical order — every `_bucket` (cumulative, `le` last), then `_sum`,
 *   then `_count` — and `le` values written as Go/`prometheus_client` floats (`1.0`, `0.005`, `1e+06`),
 *   so a query or recording rule that matches `le="1.0"` keeps working;
 * - no `# UNIT` lines (not part of 0.0.4), no scope labels, no `target_info`, no exemplars;
 * - monotonic sums are `counter`s and end in `_total`; other sums and gauges are `gauge`s;
 * - families with the same name from several instrumentation scopes are merged; a type conflict keeps
 *   the first family and reports the conflict.
 *
 * This is the format served unless a scraper asks for OpenMetrics (openmetrics-serializer.ts); its bytes
 * for a given data set are fixed by a golden test. Pure: data in, text out — whole
 * ({@link serializePrometheus}) or slice by slice ({@link slicePrometheus}, what the metrics port writes,
 * so that a large exposition never blocks the event loop for long); the slices joined are the same bytes.
 * The reader and the HTTP answer live elsewhere.
 */
import { DataPointType, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import {
  escapeHelp,
  groupFamilies,
  joinSlices,
  labelsOpen,
  bucketLines,
  sampleValue,
  SLICE_SAMPLES,
  type Family,
  type SerializeResult,
  type SlicedExposition,
} from './exposition.ts';

export { escapeHelp, escapeLabelValue, expositionName, goFloat, metricName, type PromType, type SerializeResult } from './exposition.ts';

/** The text of `families`, cut after the first series that brings a slice to `sliceSamples` lines. */
function* slices(families: readonly Family[], sliceSamples: number): Generator<string> {
  let out = '';
  let lines = 0;
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help === '' ? f.name : f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const metric of f.metrics) {
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        for (const dp of metric.dataPoints) {
          const open = labelsOpen(dp.attributes);
          const labels = open === '' ? '' : `${open}}`;
          out += bucketLines(f.name, open, dp.value.buckets);
          out += `${f.name}_sum${labels} ${sampleValue(dp.value.sum ?? 0)}\n`;
          out += `${f.name}_count${labels} ${dp.value.count}\n`;
          lines += dp.value.buckets.counts.length + 2;
          if (lines >= sliceSamples) {
            yield out;
            out = '';
            lines = 0;
          }
        }
      } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
        for (const dp of metric.dataPoints) {
          const open = labelsOpen(dp.attributes);
          out += `${f.name}${open === '' ? '' : `${open}}`} ${sampleValue(dp.value)}\n`;
          if (++lines >= sliceSamples) {
            yield out;
            out = '';
            lines = 0;
          }
        }
      }
    }
  }
  if (out !== '') yield out;
}

/** The exposition text of collected metrics, in slices of about `sliceSamples` sample lines. */
export function slicePrometheus(resourceMetrics: ResourceMetrics, sliceSamples = SLICE_SAMPLES): SlicedExposition {
  const { families, conflicts } = groupFamilies(resourceMetrics);
  return { conflicts, slices: slices(families, sliceSamples) };
}

/** Serialises collected metrics into exposition text (all at once). */
export function serializePrometheus(resourceMetrics: ResourceMetrics): SerializeResult {
  const { conflicts, slices } = slicePrometheus(resourceMetrics, Infinity);
  return { text: joinSlices(slices), conflicts };
}
