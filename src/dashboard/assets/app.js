/*
 * weblog dashboard page script (runs in the browser; no build step, no
 * network access besides the page's own JSON API in live mode).
 * Log fields are hostile input: they are only ever written with textContent
 * or setAttribute, never as HTML.
 */
(function () {
  'use strict';
  const config = JSON.parse(document.getElementById('weblog-config').textContent);
  const layout = config.layout;
  const live = config.mode === 'live';
  const app = document.getElementById('app');
  const UNBOUNDED_FROM = '1970-01-01T00:00:00.000Z';
  const UNBOUNDED_TO = '2106-01-01T00:00:00.000Z';
  const DAY = 86400000;
  /** Columns a click filters by (the filter fields), and reports that take no filters. */
  const fields = (config.filters && config.filters.fields) || [];
  const unfilteredReports = (config.filters && config.filters.unfiltered) || [];

  /** What the page shows: range [from, to) as epoch ms (null: unbounded) and site. */
  const state = { from: null, to: null, site: '', where: [], paused: false };
  /** Per report: sort column and direction chosen by the reader. */
  const sorts = {};
  /** Sections and tables the reader opened or closed. */
  const opened = {};
  let meta = null;
  let reports = {};
  let charts = [];
  let refreshing = false;
  let lastError = '';
  /** The countries report with every country, for the map. */
  let mapData = null;
  /** weblog serve with alert rules: what /api/alerts said last. */
  let alerts = null;

  // ---- helpers -------------------------------------------------------------

  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    if (attrs) for (const k of Object.keys(attrs)) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, String(attrs[k]));
    for (const c of children || []) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  const nf = new Intl.NumberFormat('en-US');
  function fmtNumber(v) {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isInteger(v) ? nf.format(v) : String(v);
    if (typeof v === 'string' && /^-?\d{4,}$/.test(v)) return v.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return String(v);
  }
  function fmtBytes(n) {
    if (n === null || n === undefined || !isFinite(n)) return '';
    const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
    let i = 0;
    let x = Number(n);
    while (Math.abs(x) >= 1000 && i < units.length - 1) {
      x /= 1000;
      i++;
    }
    return (i === 0 ? String(Math.round(x)) : x.toFixed(x < 10 ? 2 : 1)) + ' ' + units[i];
  }
  /** 'YYYY-MM-DD' or 'YYYY-MM-DD hh:mm:ss' (UTC) as epoch seconds. */
  function epochSeconds(s) {
    const t = String(s);
    return Date.parse(t.length <= 10 ? t + 'T00:00:00Z' : t.replace(' ', 'T') + 'Z') / 1000;
  }
  function isoDay(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }
  function utcText(ms) {
    return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  }
  /** A time axis tick: the date at midnight, else the hour (24-hour clock, UTC). */
  function axisTime(ts) {
    const d = new Date(ts * 1000).toISOString();
    return d.slice(11, 16) === '00:00' ? d.slice(5, 10) : d.slice(11, 16);
  }
  function timeLabel(ts, withTime) {
    const d = new Date(ts * 1000).toISOString();
    return withTime ? d.slice(0, 16).replace('T', ' ') : d.slice(0, 10);
  }
  const numericType = (t) => /^(Nullable\()?(U?Int|Float|Decimal)/.test(t || '');

  // ---- data ----------------------------------------------------------------

  function apiUrl(p, params) {
    const q = new URLSearchParams();
    for (const k of Object.keys(params || {})) {
      const v = params[k];
      if (Array.isArray(v)) for (const x of v) q.append(k, x);
      else if (v !== null && v !== undefined && v !== '') q.set(k, v);
    }
    const s = q.toString();
    return p + (s ? '?' + s : '');
  }
  async function getJson(url) {
    const res = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new Error((body && body.error && body.error.code + ': ' + body.error.message) || 'HTTP ' + res.status + ' from ' + url);
    return body;
  }
  function rangeParams() {
    return {
      from: state.from === null ? null : new Date(state.from).toISOString(),
      to: state.to === null ? null : new Date(state.to).toISOString(),
      site: state.site,
      where: state.where,
    };
  }
  function allReportNames() {
    const names = [];
    for (const s of layout.sections) for (const r of s.reports) if (names.indexOf(r) < 0) names.push(r);
    return names;
  }
  async function loadLive() {
    const params = Object.assign(rangeParams(), { limit: config.limit });
    const names = allReportNames();
    const urlOf = (n) => apiUrl('api/reports/' + n, unfilteredReports.indexOf(n) >= 0 ? Object.assign({}, params, { where: [] }) : params);
    const mapUrl = apiUrl('api/reports/countries', Object.assign({}, params, { limit: config.mapLimit }));
    const [m, a, md, ...results] = await Promise.all([
      getJson('api/meta'),
      config.alerts ? getJson('api/alerts') : null,
      getJson(mapUrl),
      ...names.map((n) => getJson(urlOf(n))),
    ]);
    meta = m;
    alerts = a;
    mapData = md;
    const next = {};
    names.forEach((n, i) => (next[n] = results[i]));
    reports = next;
  }

  // ---- page ------------------------------------------------------------------

  function header() {
    const h = el('header', { class: 'top' }, [el('h1', {}, ['weblog']), el('span', { class: 'source', 'data-source': '' }, [meta ? meta.source : ''])]);
    const controls = el('div', { class: 'controls' });
    if (live) {
      const from = el('input', { type: 'date', id: 'range-from', 'aria-label': 'from (UTC day)' });
      const to = el('input', { type: 'date', id: 'range-to', 'aria-label': 'to, inclusive (UTC day)' });
      if (state.from !== null) from.value = isoDay(state.from);
      if (state.to !== null) to.value = isoDay(state.to - DAY);
      if (meta && meta.first) {
        from.min = to.min = meta.first.slice(0, 10);
        from.max = to.max = (meta.last || meta.first).slice(0, 10);
      }
      const onRange = () => {
        state.from = from.value ? Date.parse(from.value + 'T00:00:00Z') : null;
        state.to = to.value ? Date.parse(to.value + 'T00:00:00Z') + DAY : null;
        changed();
      };
      from.addEventListener('change', onRange);
      to.addEventListener('change', onRange);
      const preset = (label, days) => {
        const b = el('button', { type: 'button', 'data-preset': days === null ? 'all' : String(days) }, [label]);
        b.addEventListener('click', () => {
          if (days === null || !meta || !meta.last) {
            state.from = null;
            state.to = null;
          } else {
            const end = Date.parse(meta.last) + 1;
            state.to = null;
            state.from = Math.floor((end - days * DAY) / 3600000) * 3600000;
          }
          changed();
        });
        return b;
      };
      const site = el('select', { id: 'site', 'aria-label': 'site' }, [el('option', { value: '' }, ['all sites'])]);
      // Rows stored without a site are part of "all sites" (the API reads site '' as no filter).
      for (const s of ((meta && meta.sites) || []).filter((x) => x !== '')) {
        const o = el('option', { value: s }, [s]);
        if (s === state.site) o.selected = true;
        site.append(o);
      }
      site.addEventListener('change', () => {
        state.site = site.value;
        changed();
      });
      const pause = el('input', { type: 'checkbox', id: 'pause' });
      pause.checked = state.paused;
      pause.addEventListener('change', () => (state.paused = pause.checked));
      controls.append(
        el('label', {}, ['From ', from]),
        el('label', {}, ['to ', to, ' (UTC)']),
        preset('1 day', 1),
        preset('7 days', 7),
        preset('30 days', 30),
        preset('All', null),
        el('label', {}, ['Site ', site]),
        el('label', { class: 'pause' }, [pause, ' pause']),
        el('span', { id: 'status', class: 'status' }, [lastError ? 'Error: ' + lastError : 'Live, updated ' + new Date().toISOString().slice(11, 19) + ' UTC']),
      );
    } else {
      const q = config.query;
      const span = meta.first ? ' (data ' + meta.first.replace('T', ' ').slice(0, 16) + ' to ' + meta.last.replace('T', ' ').slice(0, 16) + ')' : ' (no data)';
      const range =
        (q.from ? q.from.replace('T', ' ').slice(0, 16) : 'all') +
        (q.from || q.to ? ' to ' + (q.to ? q.to.replace('T', ' ').slice(0, 16) : 'now') : ' time') +
        span;
      controls.append(
        el('span', { class: 'range', id: 'range' }, ['Range: ' + range + ' UTC' + (q.site ? ', site ' + q.site : '')]),
        el('span', { class: 'status' }, [
          'Generated ' + meta.generatedAt.replace('T', ' ').slice(0, 19) + ' UTC; for other ranges: weblog report --html --from --to, or weblog serve',
        ]),
      );
    }
    h.append(controls);
    if (alerts && (alerts.firing.length > 0 || alerts.errors.length > 0)) h.append(alertBanner(alerts));
    const where = live ? state.where : config.query.where || [];
    if (where.length > 0 || live) h.append(filterBar(where));
    return h;
  }

  /** Firing alerts (weblog serve evaluating alert-rules), and rules that fail to evaluate. */
  function alertBanner(a) {
    const box = el('div', { class: 'alerts', id: 'alerts', role: 'alert' });
    for (const f of a.firing)
      box.append(
        el('div', { class: 'alert', 'data-alert': f.rule, 'data-key': f.key }, [
          el('strong', {}, ['Firing: ' + f.rule + (f.key ? ' (' + f.key + ')' : '')]),
          ' ' + f.summary + '; now ' + (f.value === null ? 'n/a' : fmtNumber(f.value)) + ', since ' + f.since.replace('T', ' ').slice(0, 19) + ' UTC',
        ]),
      );
    for (const e of a.errors)
      box.append(el('div', { class: 'alert error', 'data-alert-error': e.rule }, ['Rule ' + e.rule + ' cannot be evaluated: ' + e.message]));
    return box;
  }

  /** The filters in force, each removable (live page), and how to add one. */
  function filterBar(where) {
    const bar = el('div', { class: 'filters', id: 'filters' }, [el('span', { class: 'label' }, ['Filters: '])]);
    for (const f of where) {
      const chip = el('span', { class: 'chip', 'data-filter': f }, [f]);
      if (live) {
        const x = el('button', { type: 'button', class: 'remove', 'aria-label': 'remove filter ' + f, title: 'remove this filter' }, ['×']);
        x.addEventListener('click', () => {
          state.where = state.where.filter((w) => w !== f);
          changed();
        });
        chip.append(x);
      }
      bar.append(chip);
    }
    if (where.length === 0)
      bar.append(el('span', { class: 'hint' }, ['none; click a value in a table (country, path, status, ...) to filter every report by it']));
    return bar;
  }

  /** A click on a cell of a filterable column adds FIELD=VALUE to the filters (live page). */
  function addFilter(field, value) {
    const f = field + '=' + (value === null || value === undefined ? '' : String(value));
    if (state.where.indexOf(f) >= 0) return;
    state.where = state.where.concat([f]);
    changed();
  }

  function sumColumn(name, col) {
    const r = reports[name];
    if (!r) return 0;
    return r.rows.reduce((s, row) => s + (Number(row[col]) || 0), 0);
  }

  function cards() {
    const hits = sumColumn('traffic-daily', 'hits');
    const bytes = sumColumn('traffic-daily', 'bytes');
    const bots = sumColumn('traffic-daily', 'bot_hits');
    const errs = sumColumn('errors', 'client_errors') + sumColumn('errors', 'server_errors');
    const rejects = sumColumn('rejects', 'lines');
    const card = (id, label, value, text, title) =>
      el('div', { class: 'card', 'data-card': id, 'data-value': value, title }, [
        el('div', { class: 'card-value' }, [text]),
        el('div', { class: 'card-label' }, [label]),
      ]);
    const pct = (n, d) => (d > 0 ? ((100 * n) / d).toFixed(1) + ' %' : '–');
    return el('section', { class: 'cards' }, [
      card('hits', 'Requests', hits, fmtNumber(hits), 'hits in the range'),
      card(
        'visitors',
        'Visitor-days',
        sumColumn('traffic-daily', 'visitors'),
        fmtNumber(sumColumn('traffic-daily', 'visitors')),
        'unique visitors of each day, summed over the days',
      ),
      card('bytes', 'Bandwidth', bytes, fmtBytes(bytes), nf.format(bytes) + ' bytes'),
      card('bots', 'Bot share', bots, pct(bots, hits), nf.format(bots) + ' crawler hits'),
      card('errors', 'Error rate', errs, pct(errs, hits), nf.format(errs) + ' 4xx and 5xx responses'),
      card('rejects', 'Rejected lines', rejects, fmtNumber(rejects), 'lines that were not stored; see Data quality'),
    ]);
  }

  function chartPanel(spec) {
    let r = reports[spec.report];
    let unit = 'day';
    if (spec.hourly && reports[spec.hourly.report] && reports[spec.hourly.report].rows.length <= spec.hourly.maxRows) {
      r = reports[spec.hourly.report];
      unit = 'hour';
    }
    const box = el('div', { class: 'chart', 'data-chart': spec.id, 'data-report': r ? r.report : spec.report });
    const panel = el('section', { class: 'panel chart-panel' }, [
      el('h2', {}, [spec.title + (spec.hourly ? ' per ' + unit : '') + ' (UTC)']),
      spec.note ? el('p', { class: 'about' }, [spec.note]) : '',
      box,
    ]);
    if (!r || r.rows.length === 0) {
      box.append(el('p', { class: 'empty' }, ['no data in this range']));
      return { panel };
    }
    if (r.rows.every((row) => spec.series.every((s) => row[s.column] === null))) {
      box.append(el('p', { class: 'empty' }, ['none of the lines in this range logs it']));
      return { panel };
    }
    const cols = r.columns.map((c) => c.name);
    let x = r.rows.map((row) => epochSeconds(row[cols[0]]));
    let data = [x].concat(spec.series.map((s) => r.rows.map((row) => (row[s.column] === null ? null : Number(row[s.column])))));
    if (x.length === 1) {
      // One point alone: show the hour or day around it instead of a span of years.
      const pad = unit === 'hour' ? 1800 : 43200;
      x = [x[0] - pad, x[0], x[0] + pad];
      data = [x].concat(data.slice(1).map((ys) => [null, ys[0], null]));
    }
    const hasRight = spec.series.some((s) => s.axis === 'right');
    const opts = {
      width: 600,
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'),
      scales: { x: { time: true } },
      series: [{ label: 'UTC', value: (u, ts) => (ts === null ? '–' : timeLabel(ts, unit === 'hour')) }].concat(
        spec.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          scale: s.axis === 'right' ? 'right' : 'y',
          value: (u, v) => (v === null ? '–' : s.axis === 'right' ? fmtBytes(v) : fmtNumber(v)),
          points: { show: x.length < 60, size: 6 },
        })),
      ),
      axes: [
        { values: (u, splits) => splits.map((ts) => axisTime(ts)), space: 70 },
        { scale: 'y', size: 60, values: (u, vals) => vals.map((v) => fmtNumber(v)) },
      ].concat(hasRight ? [{ scale: 'right', side: 1, size: 70, grid: { show: false }, values: (u, vals) => vals.map(fmtBytes) }] : []),
    };
    return { panel, box, opts, data };
  }

  function heatmap() {
    const r = reports[layout.heatmap];
    const panel = el('section', { class: 'panel' }, [el('h2', {}, ['Visit times (UTC): hits by hour and weekday'])]);
    if (!r || r.rows.length === 0) return panel;
    const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    let max = 0;
    for (const row of r.rows) for (const d of days) max = Math.max(max, Number(row[d]) || 0);
    const table = el('table', { class: 'heatmap', 'data-heatmap': r.report }, [
      el('thead', {}, [el('tr', {}, [el('th', {}, ['hour'])].concat(days.map((d) => el('th', {}, [d]))))]),
    ]);
    const body = el('tbody');
    for (const row of r.rows) {
      const tr = el('tr', {}, [el('th', {}, [String(row.hour_of_day).padStart(2, '0') + ':00'])]);
      for (const d of days) {
        const v = Number(row[d]) || 0;
        const td = el('td', { 'data-value': v, title: d + ' ' + row.hour_of_day + ':00 UTC: ' + nf.format(v) + ' hits' }, [v ? fmtNumber(v) : '']);
        td.style.background = 'rgba(37, 99, 235, ' + (max ? (0.08 + (0.85 * v) / max).toFixed(3) : 0) + ')';
        if (max && v / max > 0.55) td.style.color = '#fff';
        tr.append(td);
      }
      body.append(tr);
    }
    table.append(body);
    panel.append(table);
    return panel;
  }

  /** Map colours: no hits, and a log scale from few to most hits (the busiest country is MAP_MAX exactly). */
  const MAP_NONE = [229, 231, 235];
  const MAP_MIN = [191, 219, 254];
  const MAP_MAX = [30, 58, 138];
  function mapColor(hits, max) {
    if (!hits) return 'rgb(' + MAP_NONE.join(',') + ')';
    const t = max > 1 ? Math.log(hits) / Math.log(max) : 1;
    return 'rgb(' + MAP_MIN.map((c, i) => Math.round(c + (MAP_MAX[i] - c) * t)).join(',') + ')';
  }

  /** Hits by country on a world map (Equal Earth, drawn on a canvas); hover names a country, a click filters by it (live). */
  function worldMapPanel() {
    const w = config.world;
    const r = mapData;
    const panel = el('section', { class: 'panel map', 'data-chart': 'countries-map' }, [el('h2', {}, ['Hits by country'])]);
    if (!w) return panel;
    const hits = {};
    let max = 0;
    let unknown = 0;
    for (const row of r ? r.rows : []) {
      const h = Number(row.hits) || 0;
      if (!row.country || row.country === '(unknown)') unknown += h;
      else {
        hits[row.country] = h;
        max = Math.max(max, h);
      }
    }
    const canvas = el('canvas', { width: w.width, height: w.height, 'aria-label': 'world map of hits by country' });
    const ctx = canvas.getContext('2d');
    const shapes = Object.keys(w.shapes).map((code) => ({ code: code, path: new Path2D(w.shapes[code]) }));
    for (const s of shapes) {
      ctx.fillStyle = mapColor(hits[s.code], max);
      ctx.fill(s.path, 'evenodd');
    }
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 0.6;
    for (const s of shapes) ctx.stroke(s.path);
    const at = (ev) => {
      const box = canvas.getBoundingClientRect();
      const x = ((ev.clientX - box.left) * canvas.width) / box.width;
      const y = ((ev.clientY - box.top) * canvas.height) / box.height;
      const hit = shapes.find((s) => ctx.isPointInPath(s.path, x, y, 'evenodd'));
      return hit ? hit.code : null;
    };
    canvas.addEventListener('mousemove', (ev) => {
      const code = at(ev);
      canvas.title = code ? code + ': ' + nf.format(hits[code] || 0) + ' hits' : '';
      canvas.style.cursor = code && live && hits[code] ? 'pointer' : '';
    });
    if (live)
      canvas.addEventListener('click', (ev) => {
        const code = at(ev);
        if (code && hits[code]) addFilter('country', code);
      });
    const swatch = (rgb) => {
      const sw = el('span', { class: 'swatch' });
      sw.style.background = 'rgb(' + rgb.join(',') + ')'; // CSSOM: the page's CSP allows no style attributes
      return sw;
    };
    const legend = el('div', { class: 'legend' }, [
      swatch(MAP_MIN),
      ' 1 hit … ',
      swatch(MAP_MAX),
      ' ' + nf.format(max) + ' hits (log scale); ',
      swatch(MAP_NONE),
      ' none' + (unknown ? '; ' + nf.format(unknown) + ' hits from no known country (private addresses, no GeoIP)' : '') + '. Borders: ' + w.attribution + '.',
    ]);
    panel.append(el('div', { class: 'map-box' }, [canvas]), legend);
    return panel;
  }

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    const na = Number(a);
    const nb = Number(b);
    if (typeof a !== 'string' || typeof b !== 'string' || (/^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b))) {
      if (!isNaN(na) && !isNaN(nb)) return na - nb;
    }
    return String(a) < String(b) ? -1 : 1;
  }

  function reportTable(name) {
    const r = reports[name];
    const key = 'report:' + name;
    const details = el('details', { class: 'report', 'data-report': name, id: 'report-' + name });
    details.open = key in opened ? opened[key] : name !== 'traffic-hourly' && name !== 'top-pages-daily' && name !== 'visit-times';
    details.addEventListener('toggle', () => (opened[key] = details.open));
    if (!r) {
      details.append(el('summary', {}, [name]), el('p', { class: 'empty' }, ['not loaded']));
      return details;
    }
    details.append(el('summary', {}, [el('span', { class: 'title' }, [r.title]), el('span', { class: 'count' }, [' ' + r.rows.length + ' rows'])]));
    details.append(el('p', { class: 'about' }, [r.about]));
    if (r.note) details.append(el('p', { class: 'note' }, [r.note]));
    if (r.filter_note) details.append(el('p', { class: 'note', 'data-filter-note': '' }, [r.filter_note]));
    if (r.rows.length === 0) {
      details.append(el('p', { class: 'empty' }, ['no data in this range']));
      return details;
    }
    const sort = sorts[name];
    const rows = r.rows.slice();
    if (sort) rows.sort((a, b) => compare(a[sort.col], b[sort.col]) * (sort.desc ? -1 : 1));
    const head = el('tr');
    for (const c of r.columns) {
      const approx = /approximate/.test(c.about);
      const th = el(
        'th',
        {
          'data-column': c.name,
          title: c.about,
          class: numericType(c.type) ? 'num' : '',
          'aria-sort': sort && sort.col === c.name ? (sort.desc ? 'descending' : 'ascending') : 'none',
        },
        [c.name + (approx ? ' ≈' : '')],
      );
      th.addEventListener('click', () => {
        const cur = sorts[name];
        sorts[name] = { col: c.name, desc: cur && cur.col === c.name ? !cur.desc : numericType(c.type) };
        details.replaceWith(reportTable(name));
      });
      head.append(th);
    }
    const body = el('tbody');
    for (const row of rows) {
      const tr = el('tr');
      for (const c of r.columns) {
        const v = row[c.name];
        const field = live && fields.indexOf(c.name) >= 0 && v !== null && v !== '' && unfilteredReports.indexOf(name) < 0 ? c.name : null;
        const td = el('td', { 'data-value': v === null ? '' : v, class: (numericType(c.type) ? 'num' : '') + (field ? ' filterable' : '') }, [fmtNumber(v)]);
        if (field) {
          td.title = 'filter every report by ' + field + '=' + v;
          td.addEventListener('click', () => addFilter(field, v));
        }
        tr.append(td);
      }
      body.append(tr);
    }
    details.append(el('div', { class: 'scroll' }, [el('table', { class: 'data' }, [el('thead', {}, [head]), body])]));
    return details;
  }

  function render() {
    for (const c of charts) c.destroy();
    charts = [];
    const scrollY = window.scrollY;
    const built = layout.charts.map(chartPanel);
    const main = el('main', {}, [cards(), el('div', { class: 'charts' }, built.map((b) => b.panel).concat([worldMapPanel(), heatmap()]))]);
    for (const s of layout.sections)
      main.append(
        el('section', { class: 'panel section', 'data-section': s.title }, [
          el('h2', {}, [s.title]),
          el('div', { class: 'reports' }, s.reports.map(reportTable)),
        ]),
      );
    main.append(
      el('footer', {}, [
        'All times UTC. Columns marked ≈ are approximate (see each column’s tooltip). ',
        live ? 'Data from the JSON API under /api (read-only).' : 'Self-contained: this file needs no network.',
      ]),
    );
    app.replaceChildren(header(), main);
    for (const b of built) {
      if (!b.opts) continue;
      b.opts.width = Math.max(300, b.box.clientWidth || 600);
      charts.push(new uPlot(b.opts, b.data, b.box));
    }
    window.scrollTo(0, scrollY);
    document.body.dataset.state = lastError ? 'error' : 'ready';
    document.body.dataset.renders = String(Number(document.body.dataset.renders || 0) + 1);
  }

  function resize() {
    for (const c of charts) {
      const w = c.root.parentElement ? c.root.parentElement.clientWidth : 0;
      if (w > 0) c.setSize({ width: Math.max(300, w), height: 240 });
    }
  }
  window.addEventListener('resize', resize);

  // ---- live mode -----------------------------------------------------------------

  function writeUrl() {
    const p = rangeParams();
    history.replaceState(null, '', apiUrl(location.pathname, p));
  }
  /** Counts changes of the range, site and filters: a load that began before the last change is stale. */
  let changes = 0;
  async function refresh() {
    if (refreshing) return; // a timer tick while loading: the load in flight will do (a change is caught below)
    refreshing = true;
    try {
      let seen;
      do {
        seen = changes;
        try {
          await loadLive();
          lastError = '';
        } catch (err) {
          lastError = err && err.message ? err.message : String(err);
        }
      } while (seen !== changes); // the range or the filters changed meanwhile: load again before showing
    } finally {
      refreshing = false;
    }
    render();
  }
  function changed() {
    changes++;
    writeUrl();
    document.body.dataset.state = 'loading';
    void refresh();
  }

  if (live) {
    const q = new URLSearchParams(location.search);
    const t = (s) => (s ? Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(s) || s.length <= 10 ? s : s + 'Z') : NaN);
    const f = t(q.get('from'));
    const to = t(q.get('to'));
    state.from = isNaN(f) ? null : f;
    state.to = isNaN(to) ? null : to;
    state.site = q.get('site') || '';
    state.where = q.getAll('where');
    void refresh();
    setInterval(() => {
      if (!state.paused && document.visibilityState !== 'hidden') void refresh();
    }, config.refreshMs);
  } else {
    meta = config.meta;
    reports = config.reports;
    mapData = config.map;
    const q = config.query;
    state.from = q.from && q.from !== UNBOUNDED_FROM ? Date.parse(q.from) : null;
    state.to = q.to && q.to !== UNBOUNDED_TO ? Date.parse(q.to) : null;
    state.site = q.site;
    render();
  }
  window.weblogDashboard = { state: state, reports: () => reports, utcText: utcText, mapData: () => mapData };
})();
