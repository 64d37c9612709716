// The status page's script, served by the sidecar itself (no third-party code, no build step). It reads
// /status.json every two seconds with the metrics token and draws the page with DOM calls only: every name
// (tool, URI, endpoint) comes from traffic, so it is set as text, never as markup.
//
// The token comes from the URL fragment (#token=…, removed from the address bar at once) or from the form,
// and lives in the `token` variable only: never in a query string, a cookie, localStorage or a log.
// biome-ignore lint/suspicious/noRedundantUseStrict: a classic <script> (index.html), not a module: this directive is what makes it strict.
'use strict';

(() => {
  const REFRESH_MS = 2000;
  const SVG = 'http://www.w3.org/2000/svg';
  /** @type {string | null} */
  let token = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** Sort state per table id: column key and direction. */
  const sorts = {};
  /** The last rows of each table, to sort again without waiting for data. */
  const lastRows = {};

  const $ = (id) => document.getElementById(id);

  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = String(v);
      else node.setAttribute(k, String(v));
    }
    for (const c of children) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  // ---- formatting -------------------------------------------------------------------------------------
  const dash = '–';
  function dur(s) {
    if (s === null || s === undefined) return dash;
    if (s < 0.001) return `${(s * 1000).toFixed(2)} ms`;
    if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
    if (s < 10) return `${s.toFixed(2)} s`;
    return `${s.toFixed(1)} s`;
  }
  function rate(r) {
    if (r === null || r === undefined) return dash;
    if (r === 0) return '0/s';
    if (r < 0.1) return `${r.toFixed(3)}/s`;
    if (r < 10) return `${r.toFixed(2)}/s`;
    return `${r.toFixed(1)}/s`;
  }
  const pct = (p) => (p === null || p === undefined ? dash : `${p.toFixed(1)} %`);
  function ago(s) {
    if (s === null || s === undefined) return dash;
    if (s < 60) return `${Math.round(s)} s ago`;
    if (s < 3600) return `${Math.round(s / 60)} min ago`;
    return `${(s / 3600).toFixed(1)} h ago`;
  }
  function span(s) {
    if (s === null || s === undefined) return dash;
    if (s < 120) return `${Math.round(s)} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} d`;
  }
  const int = (n) => (n === null || n === undefined ? dash : String(n));

  /** A sparkline of `values` (null = no data), drawn as polylines broken at the gaps. */
  function spark(values, cls, title) {
    const w = 90;
    const h = 20;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('width', String(w));
    svg.setAttribute('height', String(h));
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', title);
    const t = document.createElementNS(SVG, 'title');
    t.textContent = title;
    svg.append(t);
    const max = Math.max(0, ...values.filter((v) => v !== null));
    const step = values.length > 1 ? w / (values.length - 1) : w;
    let points = [];
    const flush = () => {
      if (points.length === 0) return;
      if (points.length === 1) points.push(`${Number(points[0].split(',')[0]) + 1},${points[0].split(',')[1]}`);
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('class', cls);
      line.setAttribute('points', points.join(' '));
      svg.append(line);
      points = [];
    };
    values.forEach((v, i) => {
      if (v === null) {
        flush();
        return;
      }
      const y = max > 0 ? h - 1 - (v / max) * (h - 2) : h - 1;
      points.push(`${(i * step).toFixed(1)},${y.toFixed(1)}`);
    });
    flush();
    return svg;
  }

  // ---- tables -----------------------------------------------------------------------------------------
  /**
   * Draws a sortable table. A column: { key, label, value(row) (the sort value, also data-value), text(row)
   * (a string or a node), cls?(row), sort?: false }.
   */
  function table(id, columns, rows, defaultSort) {
    lastRows[id] = { columns, rows, defaultSort };
    const tableEl = $(id);
    const sort = sorts[id] ?? defaultSort;
    const col = columns.find((c) => c.key === sort.key) ?? columns[0];
    const sorted = [...rows].sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      const nx = x === null || x === undefined;
      const ny = y === null || y === undefined;
      if (nx || ny) return nx && ny ? 0 : nx ? 1 : -1;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return sort.dir === 'asc' ? c : -c;
    });
    const head = el('tr', {});
    for (const c of columns) {
      const th = el('th', {
        scope: 'col',
        class: c.key === 'name' ? 'name' : undefined,
        'aria-sort': c.key === col.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : undefined,
      });
      if (c.sort === false) th.append(c.label);
      else {
        const button = el('button', { type: 'button', 'data-sort': c.key }, c.label);
        button.addEventListener('click', () => {
          const cur = sorts[id] ?? defaultSort;
          sorts[id] = { key: c.key, dir: cur.key === c.key && cur.dir === 'desc' ? 'asc' : 'desc' };
          const last = lastRows[id];
          table(id, last.columns, last.rows, last.defaultSort);
        });
        th.append(button);
      }
      head.append(th);
    }
    const body = el('tbody', {});
    for (const r of sorted) {
      const tr = el('tr', { 'data-name': r.name ?? r.id ?? r.kind ?? r.family, 'data-method': r.method });
      for (const c of columns) {
        const v = c.value(r);
        const cls = [c.cls?.(r), c.key === 'name' ? 'name' : ''].filter(Boolean).join(' ');
        const td = el('td', { 'data-col': c.key, 'data-value': v === null || v === undefined ? '' : String(v), class: cls === '' ? undefined : cls });
        td.append(c.text(r));
        if (c.key === 'name') td.title = String(v);
        tr.append(td);
      }
      body.append(tr);
    }
    tableEl.replaceChildren(el('thead', {}, head), body);
    const empty = document.querySelector(`[data-empty-for="${id}"]`);
    if (empty) {
      empty.hidden = rows.length > 0;
      tableEl.hidden = rows.length === 0;
    } else if (rows.length === 0) {
      body.append(el('tr', {}, el('td', { colspan: String(columns.length), class: 'muted none' }, 'none')));
    }
  }

  /** The columns of the tools, resources and prompts tables. */
  function callColumns(noun) {
    const w = (win, field, fmt) => ({
      key: `${win}.${field}`,
      label: `${field === 'rate' ? `${noun}/s` : field === 'errorPct' ? 'error %' : field} ${win === 'w1m' ? '1m' : '5m'}`,
      value: (r) => r[win][field],
      text: (r) => fmt(r[win][field]),
      cls: field === 'errorPct' ? (r) => (r[win][field] > 0 ? 'bad' : '') : undefined,
    });
    return [
      { key: 'name', label: 'name', value: (r) => r.name, text: (r) => r.name },
      { key: 'calls', label: noun, value: (r) => r.calls, text: (r) => int(r.calls) },
      { key: 'errors', label: 'errors', value: (r) => r.errors, text: (r) => int(r.errors), cls: (r) => (r.errors > 0 ? 'bad' : '') },
      {
        key: 'spark.rate',
        label: `${noun}/s, 5 min`,
        sort: false,
        value: () => null,
        text: (r) => spark(r.spark.rate, 'rate', `${noun}/s per 10 s, last 5 minutes`),
      },
      { key: 'spark.p95', label: 'p95, 5 min', sort: false, value: () => null, text: (r) => spark(r.spark.p95, 'p95', 'p95 per 10 s, last 5 minutes') },
      w('w1m', 'rate', rate),
      w('w5m', 'rate', rate),
      w('w1m', 'errorPct', pct),
      w('w5m', 'errorPct', pct),
      w('w1m', 'p50', dur),
      w('w1m', 'p95', dur),
      w('w1m', 'p99', dur),
      w('w5m', 'p50', dur),
      w('w5m', 'p95', dur),
      w('w5m', 'p99', dur),
      {
        key: 'lastErrorType',
        label: 'last error',
        value: (r) => r.lastErrorType,
        text: (r) => (r.lastErrorType === null ? dash : `${r.lastErrorType} (${ago(r.lastErrorAgoSeconds)})`),
      },
    ];
  }

  function httpColumns() {
    const base = callColumns('req');
    const name = { key: 'name', label: 'endpoint', value: (r) => r.name, text: (r) => r.name };
    const method = { key: 'method', label: 'method', value: (r) => r.method, text: (r) => r.method || dash };
    const classes = ['2xx', '3xx', '4xx', '5xx'].map((c) => ({
      key: `classes.${c}`,
      label: c,
      value: (r) => r.classes[c],
      text: (r) => int(r.classes[c]),
      cls: c === '5xx' ? (r) => (r.classes[c] > 0 ? 'bad' : '') : undefined,
    }));
    const rest = base.slice(3).map((c) => (c.key.endsWith('errorPct') ? { ...c, label: c.label.replace('error %', '5xx %') } : c));
    return [method, name, { ...base[1], label: 'requests' }, ...classes, ...rest];
  }

  // ---- sections ---------------------------------------------------------------------------------------
  function badge(id, text, state) {
    const b = $(id);
    b.textContent = text;
    b.className = `badge ${state}`;
    b.dataset.state = state;
  }

  function dl(id, pairs) {
    const list = $(id);
    list.replaceChildren();
    for (const [k, v] of pairs) list.append(el('dt', {}, k), el('dd', {}, v));
  }

  function renderSources(d) {
    const box = $('sources');
    box.replaceChildren();
    if (!d.sources.detected) {
      box.append(el('p', { class: 'muted' }, 'Detecting which surfaces the composer serves…'));
      return;
    }
    box.append(
      el(
        'p',
        {},
        'The composer serves: ',
        d.sources.found.length > 0 ? d.sources.found.join(', ') : 'nothing the sidecar recognises',
        d.sources.missing.length > 0 ? ` (not: ${d.sources.missing.join(', ')})` : '',
      ),
    );
    box.append(el('p', {}, 'The sidecar sees:'), el('ul', { class: 'list', id: 'sees' }, ...d.sources.sees.map((s) => el('li', {}, s))));
    if (d.sources.blind.length > 0)
      box.append(el('p', {}, 'It is blind to:'), el('ul', { class: 'list blind', id: 'blind' }, ...d.sources.blind.map((s) => el('li', {}, s))));
    box.append(el('p', { id: 'running' }, 'Reading with: ', d.sources.running.join(', ')));
    if (d.families !== null) {
      const fed = d.families.fed.length;
      const total = fed + d.families.notFed.length;
      box.append(
        el(
          'p',
          { id: 'families' },
          `${fed} of ${total} catalog families can be fed`,
          d.families.notFed.length > 0 ? `; never fed here (absent from the scrape, or only series at 0): ${d.families.notFed.join(', ')}` : '',
        ),
      );
    }
  }

  function render(d) {
    $('auth').hidden = true;
    $('error').hidden = true;
    $('content').hidden = false;
    // For scripts driving the page (the browser test): which snapshot is on screen.
    document.body.dataset.generatedAt = d.generatedAt;
    const up = d.sidecar.upstreamUp;
    badge('upstream', `upstream ${up === null ? 'unknown' : up ? 'up' : 'down'}`, up === null ? 'unknown' : up ? 'up' : 'down');
    const st = d.eventStream.state;
    badge(
      'stream',
      `event stream ${st}`,
      st === 'connected' ? 'up' : st === 'disconnected' ? 'down' : st === 'off' || st === 'unavailable' ? 'warn' : 'unknown',
    );
    $('meta').textContent =
      `${d.sidecar.upstream} · sidecar ${d.sidecar.version}, up ${span(d.sidecar.uptimeSeconds)}${d.sidecar.ready ? '' : ' · not ready'} · updated ${new Date(d.generatedAt).toLocaleTimeString()}`;

    const c = d.composer;
    dl('composer', [
      ['version', c.version ?? dash],
      ['uptime', span(c.uptimeSeconds)],
      ['servers', c.servers === null ? dash : `${c.servers.total} (${c.servers.running} running, ${c.servers.stopped} stopped, ${c.servers.failed} failed)`],
      [
        'tools / prompts / resources',
        c.capabilities === null ? dash : [c.capabilities.tools, c.capabilities.prompts, c.capabilities.resources].map(int).join(' / '),
      ],
      ['tool conflicts', int(c.conflicts)],
      ['inventory poll', c.inventoryPollUp === null ? dash : c.inventoryPollUp ? 'ok' : 'failing'],
      ['config reloads', `${d.config.reloads} (${d.config.reloadFailures} failed), ${d.config.validationErrors} validation errors`],
    ]);
    dl('events', [
      ['state', st],
      ['reconnects', int(d.eventStream.reconnects)],
      ['gaps (not replayable)', int(d.eventStream.gaps)],
      ['events received', int(d.eventStream.received)],
      ['invalid events', int(d.eventStream.invalid)],
    ]);
    renderSources(d);

    const empty = $('servers-empty');
    empty.hidden = d.servers.length > 0;
    empty.textContent = d.sources.blind.some((b) => b.startsWith('server lifecycle'))
      ? 'The sidecar cannot see the composer\u2019s servers: it serves neither its REST API nor its event stream.'
      : 'No server known yet.';
    table(
      'servers',
      [
        { key: 'name', label: 'server', value: (r) => r.id, text: (r) => r.id },
        { key: 'state', label: 'state', value: (r) => r.state, text: (r) => r.state ?? dash, cls: (r) => (r.state ? `state-${r.state}` : '') },
        { key: 'pid', label: 'pid', value: (r) => r.pid, text: (r) => int(r.pid) },
        { key: 'restartCount', label: 'restart count', value: (r) => r.restartCount, text: (r) => int(r.restartCount) },
        {
          key: 'starts',
          label: 'starts',
          value: (r) => r.starts,
          text: (r) => (r.startFailures > 0 ? `${r.starts} (+${r.startFailures} failed)` : String(r.starts)),
        },
        { key: 'stops', label: 'stops', value: (r) => r.stops, text: (r) => int(r.stops) },
        { key: 'restarts', label: 'restarts', value: (r) => r.restarts, text: (r) => int(r.restarts) },
        { key: 'crashes', label: 'crashes', value: (r) => r.crashes, text: (r) => int(r.crashes), cls: (r) => (r.crashes > 0 ? 'bad' : '') },
        { key: 'lastCrash', label: 'last crash', value: (r) => r.lastCrashAgoSeconds, text: (r) => ago(r.lastCrashAgoSeconds) },
      ],
      d.servers.map((s) => ({ ...s, name: s.id })),
      { key: 'name', dir: 'asc' },
    );

    table('tools', callColumns('calls'), d.tools, { key: 'calls', dir: 'desc' });
    table('resources', callColumns('reads'), d.resources, { key: 'calls', dir: 'desc' });
    table('prompts', callColumns('gets'), d.prompts, { key: 'calls', dir: 'desc' });
    table('http', httpColumns(), d.http, { key: 'calls', dir: 'desc' });

    const counts = (key, label) => [
      { key: 'name', label, value: (r) => r.name, text: (r) => r.name },
      { key, label: key === 'count' ? 'count' : key, value: (r) => r[key], text: (r) => int(r[key]), cls: (r) => (key === 'count' && r[key] > 0 ? 'bad' : '') },
    ];
    table(
      'proxy-errors',
      counts('count', 'kind'),
      d.proxyErrors.map((e) => ({ name: e.kind, count: e.count })),
      { key: 'count', dir: 'desc' },
    );
    table(
      'label-overflow',
      counts('count', 'family / label'),
      d.labelOverflow.map((e) => ({ name: `${e.family} / ${e.label}`, count: e.count })),
      { key: 'count', dir: 'desc' },
    );
    table(
      'streams',
      counts('open', 'what'),
      [
        ...d.openStreams.map((s) => ({ name: `open ${s.kind} streams`, open: s.count })),
        ...d.mcpSessions.map((s) => ({ name: `MCP sessions (${s.transport})`, open: s.count })),
      ],
      { key: 'name', dir: 'asc' },
    );
  }

  // ---- data -------------------------------------------------------------------------------------------
  function showAuth(status) {
    $('content').hidden = true;
    $('error').hidden = true;
    $('auth').hidden = false;
    const msg = $('auth-message');
    msg.dataset.status = String(status);
    if (status === 403) msg.textContent = 'The sidecar answered 403: /status.json needs a trusted client certificate, like /metrics.';
    else if (token === null) msg.textContent = 'The sidecar answered 401: the status data needs the metrics token.';
    else msg.textContent = 'The sidecar answered 401: this token was not accepted.';
    badge('upstream', 'upstream ?', 'unknown');
    badge('stream', 'event stream ?', 'unknown');
  }

  function showError(text) {
    const e = $('error');
    e.textContent = text;
    e.hidden = false;
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_MS);
  }

  async function refresh() {
    clearTimeout(timer);
    let res;
    try {
      res = await fetch('status.json', { headers: token === null ? {} : { authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'omit' });
    } catch (err) {
      showError(`The sidecar did not answer (${err instanceof Error ? err.message : String(err)}); retrying.`);
      schedule();
      return;
    }
    if (res.status === 401 || res.status === 403) {
      // No polling with a refused token: the form asks for one.
      showAuth(res.status);
      return;
    }
    if (!res.ok) {
      showError(`/status.json answered ${res.status}; retrying.`);
      schedule();
      return;
    }
    try {
      render(await res.json());
    } catch (err) {
      showError(`Could not show the status (${err instanceof Error ? err.message : String(err)}).`);
    }
    schedule();
  }

  function takeFragmentToken() {
    const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (m === null) return;
    try {
      token = decodeURIComponent(m[1]);
    } catch {
      token = m[1];
    }
    // Out of the address bar and this history entry at once.
    history.replaceState(null, '', location.pathname);
  }

  document.addEventListener('DOMContentLoaded', () => {
    takeFragmentToken();
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('token-input');
      const value = input.value.trim();
      input.value = '';
      token = value === '' ? null : value;
      void refresh();
    });
    window.addEventListener('hashchange', () => {
      takeFragmentToken();
      void refresh();
    });
    void refresh();
  });
})();
