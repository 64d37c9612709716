/**
 * Serialises OpenTelemetry metric data into the Prometheus text exposition format (version 0.0.4), the
 * way the composer's own `prometheus_client` writes it, so that a scrape of the sidecar reads like a
 * scrape of the composer:
 *
 * - histogram samples in the canonical order — every `_bucket` (cumulative, `le` last), then `_sum`,
 *   then `_count` — and `le` values written as Go/`prometheus_client` floats (`1.0`, `0.005`, `1e+06`),
 *   so a query or recording rule that matches `le="1.0"` keeps working;
 * - no `# UNIT` lines (not part of 0.0.4), no scope labels, no `target_info`;
 * - monotonic sums are `counter`s and end in `_total`; other sums and gauges are `gauge`s;
 * - families with the same name from several instrumentation scopes are merged; a type conflict keeps
 *   the first family and reports the conflict.
 *
 * Pure: data in, text out. The reader and the HTTP answer live elsewhere.
 */
import { DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

export type PromType = 'counter' | 'gauge' | 'histogram';

const INVALID_NAME_CHARS = /[^a-zA-Z0-9_:]/g;
const REPEATED_UNDERSCORES = /_{2,}/g;

/** Unit suffixes added to names of OpenTelemetry-convention instruments (the catalog families have no unit). */
const UNIT_SUFFIX: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '1': 'ratio' };

/** `prometheus_client`'s `floatToGoString`: `1` → `1.0`, `1000000` → `1e+06`, `Infinity` → `+Inf`. */
export function goFloat(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  let s = String(value);
  if (Number.isInteger(value) && !s.includes('e')) s = `${s}.0`;
  const dot = s.indexOf('.');
  if (value > 0 && dot > 6 && !s.includes('e')) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

/** A sample value: integers without a fraction, others as JavaScript prints them. */
function sampleValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

/** Characters that escaping changes; most values have none and are returned as they are. */
const NEEDS_ESCAPE = /[\\\n"]/;

export function escapeHelp(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function sanitizeUncached(name: string): string {
  let n = name.replace(INVALID_NAME_CHARS, '_').replace(REPEATED_UNDERSCORES, '_');
  if (n.length > 0 && n.charCodeAt(0) >= 48 && n.charCodeAt(0) <= 57) n = `_${n}`;
  return n;
}

/** Sanitised metric and label names: the set of names is small and fixed by the instruments. */
const sanitized = new Map<string, string>();
const SANITIZED_LIMIT = 10_000;

function sanitizeName(name: string): string {
  let n = sanitized.get(name);
  if (n === undefined) {
    n = sanitizeUncached(name);
    if (sanitized.size < SANITIZED_LIMIT) sanitized.set(name, n);
  }
  return n;
}

/** `le` values of a histogram's boundaries, written once per metric rather than once per data point. */
const leCache = new WeakMap<readonly number[], readonly string[]>();

function leValues(boundaries: readonly number[]): readonly string[] {
  let le = leCache.get(boundaries);
  if (le === undefined) leCache.set(boundaries, (le = boundaries.map(goFloat)));
  return le;
}

function promType(metric: MetricData): PromType | undefined {
  switch (metric.dataPointType) {
    case DataPointType.SUM:
      return metric.isMonotonic ? 'counter' : 'gauge';
    case DataPointType.GAUGE:
      return 'gauge';
    case DataPointType.HISTOGRAM:
      return 'histogram';
    default:
      return undefined;
  }
}

/** The exposition name of an instrument called `instrumentName` with `unit` (pure; used to check for shadowing). */
export function expositionName(instrumentName: string, unit: string, type: PromType): string {
  let name = sanitizeName(instrumentName);
  const suffix = UNIT_SUFFIX[unit];
  if (suffix !== undefined && !name.endsWith(`_${suffix}`)) name = `${name}_${suffix}`;
  if (type === 'counter' && !name.endsWith('_total')) name = `${name}_total`;
  return name;
}

/** The exposition name of an instrument. */
export function metricName(metric: MetricData, type: PromType): string {
  return expositionName(metric.descriptor.name, metric.descriptor.unit, type);
}

/** `{a="x",b="y"` without the closing brace (so `le` can be appended), or `''` without labels. */
function labelsOpen(attributes: Record<string, unknown>): string {
  let out = '';
  for (const key in attributes) {
    const v = attributes[key];
    if (v === undefined) continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    out += `${out === '' ? '{' : ','}${sanitizeName(key)}="${escapeLabelValue(text)}"`;
  }
  return out;
}

interface Family {
  readonly name: string;
  readonly type: PromType;
  help: string;
  readonly metrics: MetricData[];
}

export interface SerializeResult {
  readonly text: string;
  /** Families dropped because another family of the same name has a different type. */
  readonly conflicts: readonly string[];
}

function writeFamily(f: Family): string {
  let out = `# HELP ${f.name} ${escapeHelp(f.help === '' ? f.name : f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  for (const metric of f.metrics) {
    if (metric.dataPointType === DataPointType.HISTOGRAM) {
      for (const dp of metric.dataPoints) {
        const open = labelsOpen(dp.attributes);
        const labels = open === '' ? '' : `${open}}`;
        const bucketPrefix = open === '' ? `${f.name}_bucket{le="` : `${f.name}_bucket${open},le="`;
        const { boundaries, counts } = dp.value.buckets;
        const le = leValues(boundaries);
        let cumulative = 0;
        for (let i = 0; i < counts.length; i++) {
          cumulative += counts[i] ?? 0;
          const bound = i < le.length ? (le[i] as string) : '+Inf';
          out += `${bucketPrefix}${bound}"} ${cumulative}\n`;
        }
        out += `${f.name}_sum${labels} ${sampleValue(dp.value.sum ?? 0)}\n`;
        out += `${f.name}_count${labels} ${dp.value.count}\n`;
      }
    } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
      for (const dp of metric.dataPoints) {
        const open = labelsOpen(dp.attributes);
        out += `${f.name}${open === '' ? '' : `${open}}`} ${sampleValue(dp.value)}\n`;
      }
    }
  }
  return out;
}

/** Serialises collected metrics into exposition text. */
export function serializePrometheus(resourceMetrics: ResourceMetrics): SerializeResult {
  const families = new Map<string, Family>();
  const conflicts: string[] = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const type = promType(metric);
      if (type === undefined || metric.dataPoints.length === 0) continue;
      const name = metricName(metric, type);
      const existing = families.get(name);
      if (existing === undefined) {
        families.set(name, { name, type, help: metric.descriptor.description, metrics: [metric] });
      } else if (existing.type !== type) {
        conflicts.push(name);
      } else {
        existing.metrics.push(metric);
        if (existing.help === '') existing.help = metric.descriptor.description;
      }
    }
  }
  let text = '';
  for (const f of families.values()) text += writeFamily(f);
  return { text, conflicts };
}
