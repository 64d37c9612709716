/**
 * Issue #21's Measure table as one summary of a run: its six rows, each with what this run measured, the
 * must and the aim, and whether the must was met — the sidecar against the bare undici proxy of the same
 * rounds, every transport shown where the row names two. Printed at the end of the report (ready to paste
 * into docs/performance.md) and written to the results JSON as `summary`.
 */
import { fmt, type Spread } from './stats.ts';

/** `pass (aim)`: must and aim met; `pass`: the must; `FAIL`; `not run`; `not valid`: the run did not measure what the row is about. */
export type SummaryStatus = 'pass (aim)' | 'pass' | 'FAIL' | 'not run' | 'not valid';

export interface SummaryRow {
  readonly measure: string;
  readonly must: string;
  readonly aim: string;
  /** Medians with their ranges, per transport or per way of scraping where the row has several. */
  readonly measured: string;
  readonly status: SummaryStatus;
  /** Why the row is `not valid`, what was not checked, or that its scenario ran on a busy machine. */
  readonly note?: string;
}

type ByKind<T> = Readonly<Partial<Record<'streamable_http' | 'sse', T>>>;
interface Side {
  readonly ratio: Spread;
  readonly cpuAddedUs: Spread;
}
interface Turns {
  readonly longestTurnMs: Spread;
}

/** What the summary reads from a run's results (the fields of the scenarios' results it needs). */
export interface SummaryInput {
  readonly get?: { readonly ratios: Readonly<Record<string, Spread>>; readonly busyRuns?: number };
  readonly mcp?: {
    readonly busyRuns?: number;
    readonly sidecarVsBare: ByKind<Side>;
    readonly large: {
      readonly resultBytes: number;
      readonly kinds: ByKind<{ readonly vsBare: Side }>;
      readonly read?: { readonly valid: boolean; readonly tooLarge: number; readonly dropped: number };
    };
  };
  readonly scrape?: {
    readonly series: number;
    readonly plain: Turns;
    readonly gzip: Turns;
    readonly openmetrics?: Turns;
    readonly proxied: { readonly p99AddedMs: Spread };
    readonly busyRuns?: number;
  };
}

const KIND_NAMES = { streamable_http: 'streamable HTTP', sse: 'SSE' } as const;

interface Limit {
  readonly must: number;
  readonly aim: number;
  /** `≥` (higher is better) or `≤`. */
  readonly higher: boolean;
  readonly unit: string;
  readonly digits: number;
}

function meets(v: number, limit: number, higher: boolean): boolean {
  return higher ? v >= limit : v <= limit;
}

/** The status of a row from its parts' medians: every part must meet the must (and the aim for `pass (aim)`). */
function status(medians: readonly number[], l: Limit): SummaryStatus {
  const known = medians.filter((m) => Number.isFinite(m));
  if (known.length === 0) return 'not run';
  if (!known.every((m) => meets(m, l.must, l.higher))) return 'FAIL';
  return known.every((m) => meets(m, l.aim, l.higher)) ? 'pass (aim)' : 'pass';
}

function row(measure: string, l: Limit, parts: ReadonlyArray<readonly [string, Spread]>): SummaryRow {
  const ran = parts.filter(([, s]) => Number.isFinite(s.median));
  const sign = l.higher ? '≥' : '≤';
  const unit = l.unit === '' ? '' : ` ${l.unit}`;
  return {
    measure,
    must: `${sign} ${l.must}${unit}`,
    aim: `${sign} ${l.aim}${unit}`,
    measured: ran.length === 0 ? 'n/a' : ran.map(([name, s]) => `${fmt(s, l.digits)}${unit}${name === '' ? '' : ` ${name}`}`).join('; '),
    status: status(
      ran.map(([, s]) => s.median),
      l,
    ),
  };
}

function perKind<T>(by: ByKind<T> | undefined, pick: (v: T) => Spread): Array<readonly [string, Spread]> {
  return (['streamable_http', 'sse'] as const).flatMap((k) => {
    const v = by?.[k];
    return v === undefined ? [] : [[KIND_NAMES[k], pick(v)] as const];
  });
}

function rowsOf(s: SummaryInput): SummaryRow[] {
  const mcp = s.mcp;
  const rows: SummaryRow[] = [];
  rows.push(
    row(
      'MCP tools/call, sidecar ÷ bare undici, SSE and streamable HTTP',
      { must: 0.98, aim: 1.05, higher: true, unit: '', digits: 3 },
      perKind(mcp?.sidecarVsBare, (v) => v.ratio),
    ),
  );
  rows.push(
    row(
      'proxy CPU per MCP call, sidecar − bare undici',
      { must: 15, aim: 5, higher: false, unit: 'µs', digits: 1 },
      perKind(mcp?.sidecarVsBare, (v) => v.cpuAddedUs),
    ),
  );
  const kib = mcp === undefined || mcp.large.resultBytes === 0 ? '64' : (mcp.large.resultBytes / 1024).toFixed(1);
  const large = row(
    `large tool results (${kib} KiB JSON result), sidecar ÷ bare undici`,
    { must: 0.95, aim: 1.0, higher: true, unit: '', digits: 3 },
    perKind(mcp?.large.kinds, (v) => v.vsBare.ratio),
  );
  const read = mcp?.large.read;
  if (read !== undefined && !read.valid && large.status !== 'not run') {
    rows.push({
      ...large,
      status: 'not valid',
      note: `the sidecar skipped results: ${read.tooLarge} over --body-capture-limit, ${read.dropped} calls dropped`,
    });
  } else if (mcp !== undefined && read === undefined && large.status !== 'not run') {
    rows.push({ ...large, note: 'not checked that the sidecar read the results' });
  } else rows.push(large);
  const sc = s.scrape;
  const ways: Array<readonly [string, Turns]> =
    sc === undefined ? [] : [['plain', sc.plain], ['gzip', sc.gzip], ...(sc.openmetrics === undefined ? [] : [['OpenMetrics gzip', sc.openmetrics] as const])];
  const worst = ways.filter(([, v]) => Number.isFinite(v.longestTurnMs.median)).sort((a, b) => b[1].longestTurnMs.median - a[1].longestTurnMs.median)[0];
  rows.push(
    row(
      `longest event-loop block during a ${sc?.series ?? '10k'}-series scrape`,
      { must: 4, aim: 2, higher: false, unit: 'ms', digits: 2 },
      worst === undefined ? [] : [[`(${worst[0]}, the worst way of scraping)`, worst[1].longestTurnMs]],
    ),
  );
  rows.push(
    row(
      'proxied p99 added while scraping every 1 s',
      { must: 0.5, aim: 0.2, higher: false, unit: 'ms', digits: 3 },
      sc === undefined ? [] : [['', sc.proxied.p99AddedMs]],
    ),
  );
  rows.push(
    row(
      'GET sidecar ÷ bare undici',
      { must: 0.98, aim: 1.1, higher: true, unit: '', digits: 3 },
      s.get === undefined ? [] : [['', s.get.ratios['sidecar/bare-undici'] ?? { median: NaN, min: NaN, max: NaN, n: 0 }]],
    ),
  );
  return rows;
}

/** The scenario each row comes from, in row order. */
const ROW_SCENARIOS = ['mcp', 'mcp', 'mcp', 'scrape', 'scrape', 'get'] as const;

/**
 * Issue #21's six rows for a run. A row whose scenario had busy runs (other processes took more than the
 * bench's share of the server core) says how many: its figure is still the same-round comparison, but a
 * busy run can swing a difference such as the added p99 far either way.
 */
export function summaryRows(s: SummaryInput): SummaryRow[] {
  return rowsOf(s).map((r, i) => {
    const scenario = ROW_SCENARIOS[i];
    const busy = scenario === undefined ? 0 : (s[scenario]?.busyRuns ?? 0);
    if (busy === 0 || r.status === 'not run') return r;
    const note = `${busy} busy run(s) in its scenario`;
    return { ...r, note: r.note === undefined ? note : `${r.note}; ${note}` };
  });
}

/** The rows as a Markdown table. */
export function summaryTable(rows: readonly SummaryRow[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |\n`;
  return (
    line(['measure', 'must', 'aim', 'measured', 'result']) +
    line(['---', '---', '---', '---', '---']) +
    rows.map((r) => line([r.measure, r.must, r.aim, r.measured, r.note === undefined ? r.status : `${r.status} (${r.note})`])).join('')
  );
}
