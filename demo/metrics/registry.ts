// A minimal in-process metrics registry whose text output imitates Python's prometheus_client
// (exposition format 0.0.4): counters named `x_total` with a separate `x_created` gauge family, info metrics
// as gauges named `x_info`, histograms with `_bucket`/`_count`/`_sum` and `_created`, floats written the
// way prometheus_client writes them (`1.0`, `+Inf`, `1.7e+09`). Labelled families show HELP/TYPE and no
// samples until first used, as prometheus_client does.

export type Labels = Readonly<Record<string, string>>;
type Kind = 'counter' | 'gauge' | 'histogram' | 'info';

interface Series {
  readonly labels: Labels;
  readonly created: number;
  value: number;
  buckets: number[];
  sum: number;
  count: number;
}

/** Python's floatToGoString: repr() of the float, with large values in the Go exponent form. */
export function formatValue(d: number): string {
  if (d === Infinity) return '+Inf';
  if (d === -Infinity) return '-Inf';
  if (Number.isNaN(d)) return 'NaN';
  const s = Number.isInteger(d) && Math.abs(d) < 1e16 ? `${d}.0` : String(d).replace(/e([+-])(\d)$/, 'e$10$2');
  const dot = s.indexOf('.');
  if (d > 0 && dot > 6 && !s.includes('e')) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/0+$/, '').replace(/\.$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Family {
  readonly name: string;
  readonly help: string;
  readonly kind: Kind;
  readonly labelNames: readonly string[];
  readonly bucketBounds: readonly number[];
  #series = new Map<string, Series>();

  constructor(name: string, help: string, kind: Kind, labelNames: readonly string[], buckets: readonly number[] = []) {
    this.name = name;
    this.help = help;
    this.kind = kind;
    this.labelNames = labelNames;
    this.bucketBounds = buckets;
    if (labelNames.length === 0) this.#get({});
  }

  #get(labels: Labels): Series {
    const ordered: Record<string, string> = {};
    for (const n of this.labelNames) ordered[n] = labels[n] ?? '';
    const key = JSON.stringify(ordered);
    let s = this.#series.get(key);
    if (!s) {
      s = { labels: ordered, created: Date.now() / 1000, value: 0, buckets: this.bucketBounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }

  inc(labels: Labels = {}, amount = 1): void {
    this.#get(labels).value += amount;
  }

  set(labels: Labels, value: number): void {
    this.#get(labels).value = value;
  }

  observe(labels: Labels, value: number): void {
    const s = this.#get(labels);
    s.sum += value;
    s.count += 1;
    this.bucketBounds.forEach((b, i) => {
      if (value <= b) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
    });
  }

  /** Drops every labelled series (gauges recomputed from scratch). */
  clear(): void {
    if (this.labelNames.length > 0) this.#series.clear();
  }

  render(): string {
    const out: string[] = [];
    const created: string[] = [];
    const base = this.kind === 'counter' ? this.name.replace(/_total$/, '') : this.name;
    const shown = this.kind === 'counter' ? `${base}_total` : this.name;
    const type = this.kind === 'info' ? 'gauge' : this.kind;
    out.push(`# HELP ${shown} ${this.help}`, `# TYPE ${shown} ${type}`);
    for (const s of this.#series.values()) {
      if (this.kind === 'histogram') {
        this.bucketBounds.forEach((b, i) => {
          out.push(`${this.name}_bucket${labelText(s.labels, ['le', formatValue(b)])} ${formatValue(s.buckets[i] ?? 0)}`);
        });
        out.push(`${this.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${formatValue(s.count)}`);
        out.push(`${this.name}_count${labelText(s.labels)} ${formatValue(s.count)}`);
        out.push(`${this.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`);
        created.push(`${this.name}_created${labelText(s.labels)} ${formatValue(s.created)}`);
      } else if (this.kind === 'counter') {
        out.push(`${shown}${labelText(s.labels)} ${formatValue(s.value)}`);
        created.push(`${base}_created${labelText(s.labels)} ${formatValue(s.created)}`);
      } else {
        out.push(`${shown}${labelText(s.labels)} ${formatValue(this.kind === 'info' ? 1 : s.value)}`);
      }
    }
    if (created.length > 0) {
      out.push(`# HELP ${base}_created ${this.help}`, `# TYPE ${base}_created gauge`, ...created);
    }
    return `${out.join('\n')}\n`;
  }
}

export class Registry {
  #families: Family[] = [];

  #add(f: Family): Family {
    this.#families.push(f);
    return f;
  }

  counter(name: string, help: string, labels: readonly string[] = []): Family {
    return this.#add(new Family(name, help, 'counter', labels));
  }

  gauge(name: string, help: string, labels: readonly string[] = []): Family {
    return this.#add(new Family(name, help, 'gauge', labels));
  }

  histogram(name: string, help: string, labels: readonly string[], buckets: readonly number[]): Family {
    return this.#add(new Family(name, help, 'histogram', labels, buckets));
  }

  /** An info metric: `name` must end in `_info`; every series has the value 1. */
  info(name: string, help: string, labels: readonly string[]): Family {
    return this.#add(new Family(name, help, 'info', labels));
  }

  render(): string {
    return this.#families.map((f) => f.render()).join('');
  }
}

/** Content type of the exposition, as prometheus_client answers it. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
