/**
 * Reading a few counters off the sidecar under test: a scenario takes them before and after its runs to
 * check that the sidecar really did the work it is measured on (e.g. that it read every large result
 * rather than skipping it as over `--body-capture-limit`).
 */
import { request } from 'undici';
import type { Target } from './targets.ts';

/** A series of the Prometheus text exposition: its family name and the label pairs it must carry. */
export interface SeriesMatch {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** The label pairs of one exposition line's `{…}` (values unescaped), or undefined if it cannot be read. */
function labelsOf(block: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;
  let at = 0;
  while (at < block.length) {
    re.lastIndex = at;
    const m = re.exec(block);
    if (m === null) return undefined;
    out.set(
      m[1] as string,
      (m[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)),
    );
    at = re.lastIndex;
  }
  return out;
}

/**
 * The sum of every sample of `match.name` (exactly that name: `_total` included where it is part of it)
 * whose labels include `match.labels`, in a text exposition. 0 when there is none; comment lines and
 * lines that cannot be read are skipped.
 */
export function sumSeries(exposition: string, match: SeriesMatch): number {
  let sum = 0;
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#') || !line.startsWith(match.name)) continue;
    const rest = line.slice(match.name.length);
    let labels = new Map<string, string>();
    let valueText: string;
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      if (close < 0) continue;
      const read = labelsOf(rest.slice(1, close));
      if (read === undefined) continue;
      labels = read;
      valueText = rest.slice(close + 1);
    } else if (rest.startsWith(' ')) {
      valueText = rest;
    } else {
      continue; // another family whose name starts with this one
    }
    const value = Number(valueText.trim().split(/\s+/)[0]);
    if (!Number.isFinite(value)) continue;
    if (Object.entries(match.labels ?? {}).every(([k, v]) => labels.get(k) === v)) sum += value;
  }
  return sum;
}

/** One scrape of the sidecar's metrics port (0.0.4 text, its bearer token). */
export async function scrapeSidecar(t: Target): Promise<string> {
  if (t.metricsUrl === undefined) throw new Error(`${t.name} has no metrics port`);
  const res = await request(t.metricsUrl, { headers: { authorization: `Bearer ${t.token ?? ''}`, accept: 'text/plain;version=0.0.4' } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${t.name}'s metrics answered ${res.statusCode}`);
  return text;
}

/** The sums of `series` in one scrape of the sidecar, by key. */
export async function sidecarCounters<K extends string>(t: Target, series: Readonly<Record<K, SeriesMatch>>): Promise<Record<K, number>> {
  const text = await scrapeSidecar(t);
  const out = {} as Record<K, number>;
  for (const key of Object.keys(series) as K[]) out[key] = sumSeries(text, series[key]);
  return out;
}
