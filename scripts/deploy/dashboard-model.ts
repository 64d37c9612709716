/**
 * A small builder of Grafana dashboard JSON (schema 39): rows of panels laid out left to right on the
 * 24-column grid, every query on the `datasource` template variable.
 */

export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** One value per series (bar gauges, tables) instead of a range. */
  readonly instant?: boolean;
  /**
   * Also query the series' exemplars (the sidecar's OpenMetrics scrapes carry them on the latency
   * histograms, with tracing on): Grafana draws them as points linked to their trace. @default false
   */
  readonly exemplar?: boolean;
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  /** @default 'timeseries' */
  readonly type?: 'timeseries' | 'stat' | 'bargauge';
  /** Grafana unit id (`s`, `reqps`, `percentunit`, `bytes`, `short`). @default 'short' */
  readonly unit?: string;
  /** Columns out of 24. @default 8 */
  readonly width?: number;
  /** Stacked areas. @default false */
  readonly stack?: boolean;
}

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

export interface Variable {
  readonly name: string;
  readonly label: string;
  /** A Grafana `label_values(selector, label)` query. */
  readonly query: string;
  /** Several values and "All" (`.*`). */
  readonly multi: boolean;
}

/** A variable whose values are listed (Grafana `custom`), the first selected. */
export interface CustomVariable {
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly values: readonly string[];
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template literal.
export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;
const HEIGHT = 8;

function panelJson(spec: PanelSpec, id: number, gridPos: { h: number; w: number; x: number; y: number }): Record<string, unknown> {
  const type = spec.type ?? 'timeseries';
  const targets = spec.queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DATASOURCE,
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: q.instant !== true,
    instant: q.instant === true,
    exemplar: q.exemplar === true,
  }));
  const reduce = { calcs: ['lastNotNull'], fields: '', values: false };
  const options =
    type === 'timeseries'
      ? { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } }
      : type === 'stat'
        ? { reduceOptions: reduce, colorMode: 'value', graphMode: 'area', justifyMode: 'auto', orientation: 'auto', textMode: 'auto' }
        : { reduceOptions: reduce, displayMode: 'gradient', orientation: 'horizontal', showUnfilled: true };
  const custom =
    type === 'timeseries'
      ? {
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: spec.stack === true ? 30 : 10,
            stacking: { mode: spec.stack === true ? 'normal' : 'none', group: 'A' },
          },
        }
      : {};
  return {
    id,
    type,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: { defaults: { unit: spec.unit ?? 'short', ...custom }, overrides: [] },
    options,
    targets,
  };
}

function variableJson(v: Variable): Record<string, unknown> {
  return {
    type: 'query',
    name: v.name,
    label: v.label,
    datasource: DATASOURCE,
    definition: v.query,
    query: { qryType: 1, query: v.query, refId: `${v.name}-query` },
    refresh: 2,
    sort: 1,
    multi: v.multi,
    includeAll: v.multi,
    ...(v.multi ? { allValue: '.*', current: { selected: true, text: ['All'], value: ['$__all'] } } : { current: {} }),
    hide: 0,
    options: [],
    regex: '',
  };
}

function customVariableJson(v: CustomVariable): Record<string, unknown> {
  const first = v.values[0] ?? '';
  return {
    type: 'custom',
    name: v.name,
    label: v.label,
    description: v.description,
    query: v.values.join(','),
    current: { selected: true, text: first, value: first },
    options: v.values.map((value, i) => ({ selected: i === 0, text: value, value })),
    multi: false,
    includeAll: false,
    hide: 0,
  };
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly variables: readonly Variable[];
  /** Listed variables, after the query variables. @default none */
  readonly customVariables?: readonly CustomVariable[];
  readonly rows: readonly RowSpec[];
}

export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    for (const p of row.panels) {
      const w = p.width ?? 8;
      if (x + w > 24) {
        x = 0;
        y += HEIGHT;
      }
      panels.push(panelJson(p, id++, { h: HEIGHT, w, x, y }));
      x += w;
    }
    y += HEIGHT;
  }
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: spec.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    links: [],
    panels,
    refresh: '30s',
    schemaVersion: 39,
    tags: spec.tags,
    templating: {
      list: [
        { type: 'datasource', name: 'datasource', label: 'Data source', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [] },
        ...spec.variables.map(variableJson),
        ...(spec.customVariables ?? []).map(customVariableJson),
      ],
    },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: spec.title,
    uid: spec.uid,
    version: 1,
  };
}
