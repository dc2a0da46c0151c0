'use strict';
// Wiring: controls ↔ state ↔ charts. Timings land on <html data-*> so
// the browser tests read what a user waited: first-paint-ms from
// navigation, update-ms from a control's change to the next paint.
// data-changes counts the user's changes and data-drawn the changes the
// last painted drawing includes, so a test knows which drawing it sees.
(function () {
  const Dash = window.Dash;
  const $ = id => document.getElementById(id);
  const root = document.documentElement;
  let state = Dash.readState();
  let sweeps = [];
  let optionsFor = '';
  let drawn = {layers: []};

  function status(msg, failed) {
    $('status').textContent = msg;
    if (failed) root.dataset.error = msg; else delete root.dataset.error;
  }

  // afterPaint runs fn once the browser has painted what was drawn.
  function afterPaint(fn) { requestAnimationFrame(() => setTimeout(fn, 0)); }

  function setOptions(select, values, allLabel, current) {
    const opts = (allLabel === null ? [] : ['<option value="">' + allLabel + '</option>']).concat(values.map(v =>
      '<option value="' + Dash.esc(v[0]) + '">' + Dash.esc(v[1]) + '</option>'));
    select.innerHTML = opts.join('');
    select.value = current;
    if (select.value !== current) select.value = allLabel === null && values.length ? values[0][0] : '';
  }

  function sweepsInRange() {
    return sweeps.filter(r => (!state.from || r.date >= state.from) && (!state.to || r.date <= state.to));
  }

  function fillSweeps() {
    const inRange = sweepsInRange().slice().reverse();
    const label = r => r.date + ' · ' + r.sweep_id;
    if (!inRange.some(r => r.sweep_id === state.sweep)) state.sweep = inRange.length ? inRange[0].sweep_id : '';
    setOptions($('f-sweep'), inRange.map(r => [r.sweep_id, label(r)]), null, state.sweep);
    const others = sweeps.slice().reverse().filter(r => r.sweep_id !== state.sweep).map(r => [r.sweep_id, label(r)]);
    setOptions($('f-cmp'), [['official', 'official nightly of its date']].concat(others), '(none)', state.cmp);
    state.cmp = $('f-cmp').value;
  }

  // fillFilters lists each filter's values in the sweeps shown.
  function fillFilters(cols) {
    const key = cols.map(c => c.sweep_id).join(' ');
    if (key === optionsFor) return;
    optionsFor = key;
    for (const k of Dash.filterKeys) {
      const values = new Set();
      for (const c of cols) {
        if (k === 'isl' || k === 'osl') c.ints[k].forEach(v => values.add(String(v)));
        else c.dicts[k].forEach(v => values.add(v));
      }
      const sorted = [...values].sort((a, b) => (k === 'isl' || k === 'osl') ? a - b : a.localeCompare(b));
      setOptions($('f-' + k), sorted.map(v => [v, v]), 'all', state[k]);
      state[k] = $('f-' + k).value;
    }
  }

  function syncControls() {
    for (const el of document.querySelectorAll('[data-key]')) {
      if (el.tagName !== 'SELECT' || el.querySelector('option[value="' + CSS.escape(state[el.dataset.key]) + '"]')) el.value = state[el.dataset.key];
    }
    for (const b of document.querySelectorAll('#views button')) b.setAttribute('aria-pressed', String(b.dataset.view === state.view));
    $('f-x').disabled = $('f-y').disabled = state.view === 'trend';
    $('f-target').disabled = state.view !== 'trend';
  }

  function setDownloads() {
    const filters = {sweep: state.sweep};
    for (const k of Dash.filterKeys) filters[k] = state[k];
    const csv = $('dl-csv'), parquet = $('dl-parquet');
    if (Dash.file) {
      csv.href = '#';
      csv.setAttribute('download', state.sweep + '-points.csv');
      parquet.hidden = true;
      $('dl-note').textContent = 'this file exports the plotted fields as CSV; Parquet and every field: infersweep serve';
      return;
    }
    csv.href = Dash.url('/api/v1/export', Object.assign({format: 'csv'}, filters));
    parquet.href = Dash.url('/api/v1/export', Object.assign({format: 'parquet'}, filters));
  }

  // fileCSV is the exported file's download: the plotted points with
  // their figures, from the inlined columns.
  function fileCSV() {
    const l = drawn.layers[0];
    if (!l) return '';
    const c = l.c, texts = Object.keys(c.dicts).sort(), ints = Object.keys(c.ints).sort(), floats = Object.keys(c.floats).sort();
    const q = v => /[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
    const lines = [['point_id'].concat(texts, ints, floats, ['on_frontier', 'on_e2e_frontier', 'on_session_frontier']).join(',')];
    for (const i of l.rows) {
      lines.push([q(c.id[i])].concat(texts.map(k => q(c.dicts[k][c.codes[k][i]])), ints.map(k => c.ints[k][i]),
        floats.map(k => c.floats[k][i] === null ? '' : c.floats[k][i]), [c.front[i] === 1, c.front_e2e[i] === 1, c.front_session[i] === 1]).join(','));
    }
    return lines.join('\n') + '\n';
  }

  async function drawScatter() {
    const a = await Dash.sweepColumns(state.sweep);
    const layers = [{c: a, rows: [], cmp: false}];
    let diffs = null, note = '';
    if (state.cmp) {
      // A comparison that fails (no official nightly that date) leaves
      // the sweep drawn alone, saying why.
      try {
        diffs = await Dash.get(Dash.url('/api/v1/compare', {a: state.sweep, b: state.cmp}));
        layers.push({c: await Dash.sweepColumns(diffs.b.sweep_id), rows: [], cmp: true});
      } catch (e) {
        diffs = null;
        note = '; not compared: ' + e.message;
      }
    }
    fillFilters(layers.map(l => l.c));
    for (const l of layers) l.rows = Dash.rowsOf(l.c, state);
    const title = state.sweep + ' (' + a.date + ')' + (diffs ? ' against ' + diffs.b.sweep_id + ' (' + diffs.b.date + '), hollow' : '');
    const out = Dash.drawScatter($('chart'), layers, Object.assign({title}, state));
    out.note = note;
    drawn = {layers, out};
    legend(out.series);
    diffTable(diffs, out.series);
    return out;
  }

  async function drawTrend() {
    const a = await Dash.sweepColumns(state.sweep);
    fillFilters([a]);
    const rows = Dash.rowsOf(a, state);
    if (!rows.length) throw new Error('no point of ' + state.sweep + ' passes these filters: nothing to follow');
    const i = rows[0];
    const group = {model: a.dicts.model[a.codes.model[i]], precision: a.dicts.precision[a.codes.precision[i]], isl: a.ints.isl[i], osl: a.ints.osl[i]};
    const names = new Set(rows.filter(r => Dash.groupName(a, r) === Dash.groupName(a, i)).map(r => a.dicts.series[a.codes.series[r]]));
    const trend = await Dash.get(Dash.url('/api/v1/trend', Object.assign({target: state.target, from: state.from, to: state.to}, group)));
    const shown = trend.filter(t => names.has(t.series));
    const out = Dash.drawTrend($('chart'), shown, {target: state.target, title: Dash.groupName(a, i) + ': the frontier at ' + state.target + ' tok/s/user, night by night (▼ regression, ▲ improvement)'});
    drawn = {layers: [{c: a, rows}], out};
    legend(out.series);
    diffTable(null, []);
    return out;
  }

  function legend(series) {
    const shown = series.slice(0, 40).map(s => '<li><svg width="10" height="10"><circle cx="5" cy="5" r="5" fill="' + s.color + '"/></svg> ' + Dash.esc(s.name) + '</li>');
    if (series.length > 40) shown.push('<li>… ' + (series.length - 40) + ' more</li>');
    $('legend').innerHTML = shown.join('');
  }

  // diffTable lists the compared series of the groups drawn.
  function diffTable(diffs, series) {
    const box = $('diffs');
    box.hidden = !diffs;
    if (!diffs) return;
    const names = new Set(series.map(s => s.name.split(' · ').pop()));
    const keep = d => names.has(d.series) && (!state.model || d.model === state.model) && (!state.precision || d.precision === state.precision) &&
      (!state.isl || d.isl === +state.isl) && (!state.osl || d.osl === +state.osl);
    const cell = v => '<td>' + Dash.fmt(v) + '</td>';
    box.querySelector('tbody').innerHTML = diffs.series.filter(keep).map(d => '<tr><td>' + Dash.esc(d.model + ' ' + d.precision + ' ' + d.isl + '/' + d.osl) +
      '</td><td>' + Dash.esc(d.series) + '</td>' + cell(d.interactivity) + cell(d.a_tput_per_gpu) + cell(d.b_tput_per_gpu) +
      (d.change_pct === null ? '<td>–</td>' : '<td class="' + (d.change_pct < 0 ? 'down' : 'up') + '">' + (d.change_pct > 0 ? '+' : '') + d.change_pct.toFixed(1) + '%</td>') + '</tr>').join('');
  }

  let updating = Promise.resolve();
  // update redraws after a change; changes queue so a slow load never
  // paints over a newer choice.
  function update(t0) {
    updating = updating.then(() => redraw(t0));
    return updating;
  }

  async function redraw(t0) {
    const seq = root.dataset.changes || '0';
    try {
      fillSweeps();
      if (!state.sweep) throw new Error('no committed sweep' + (state.from || state.to ? ' in this date range' : ' in the lake yet'));
      const syncStart = performance.now();
      const out = state.view === 'trend' ? await drawTrend() : await drawScatter();
      syncControls();
      setDownloads();
      Dash.writeState(state);
      root.dataset.series = out.drawn;
      root.dataset.points = out.points;
      status(out.points + ' points, ' + out.drawn + ' series' + (out.note || ''));
      const renderMs = performance.now() - syncStart;
      afterPaint(() => {
        const now = performance.now();
        if (!root.dataset.firstPaintMs) root.dataset.firstPaintMs = now.toFixed(1);
        root.dataset.renderMs = renderMs.toFixed(1);
        root.dataset.updateMs = (now - t0).toFixed(1);
        root.dataset.drawn = seq;
        root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
      });
    } catch (e) {
      status(e.message, true);
      root.dataset.drawn = seq;
      root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
    }
  }

  // Hover: the plotted fields at once, then every recorded field of the
  // point from the API.
  const details = new Map();
  let hovered = null;
  function showTip(ev) {
    const el = ev.target;
    if (!el.classList || !el.classList.contains('pt')) return;
    const l = drawn.layers[+el.parentNode.dataset.l], i = +el.dataset.i;
    if (!l) return;
    const c = l.c, id = c.id[i];
    hovered = id;
    const rows = [['sweep', c.sweep_id], ['point', id], ['series', c.dicts.series[c.codes.series[i]]], ['concurrency', c.ints.conc[i]]];
    for (const k of Object.keys(c.floats).sort()) rows.push([k, Dash.fmt(c.floats[k][i])]);
    renderTip(rows, ev);
    const url = Dash.url('/api/v1/sweeps/' + encodeURIComponent(c.sweep_id) + '/points', {point_id: id});
    if (!details.has(url)) details.set(url, Dash.get(url));
    details.get(url).then(full => {
      if (hovered !== id || !full.length) return;
      const flat = [];
      flatten('', full[0], flat);
      renderTip(rows.concat(flat), null);
    }).catch(e => { if (hovered === id) renderTip(rows.concat([['details', e.message]]), null); });
  }

  function flatten(prefix, v, out) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const k of Object.keys(v)) flatten(prefix ? prefix + '.' + k : k, v[k], out);
    } else {
      out.push([prefix, v === null ? '–' : typeof v === 'number' ? Dash.fmt(v) : String(v)]);
    }
  }

  function renderTip(rows, ev) {
    const tip = $('tip');
    tip.innerHTML = '<table>' + rows.map(r => '<tr><td>' + Dash.esc(r[0]) + '</td><td>' + Dash.esc(r[1]) + '</td></tr>').join('') + '</table>';
    tip.hidden = false;
    if (ev) {
      const box = $('chart-box').getBoundingClientRect();
      const x = ev.clientX - box.left, y = ev.clientY - box.top;
      tip.style.left = Math.max(0, Math.min(x + 12, box.width - 370)) + 'px';
      tip.style.top = (y + 12) + 'px';
    }
  }

  function changed(key, value) {
    const t0 = performance.now();
    root.dataset.changes = String(Number(root.dataset.changes || 0) + 1);
    state[key] = value;
    update(t0);
  }

  function bind() {
    for (const el of document.querySelectorAll('[data-key]')) el.addEventListener('change', () => changed(el.dataset.key, el.value));
    for (const b of document.querySelectorAll('#views button')) b.addEventListener('click', () => changed('view', b.dataset.view));
    window.addEventListener('hashchange', () => {
      const next = Dash.readState();
      if (Dash.url('', next) !== Dash.url('', state)) { state = next; update(performance.now()); }
    });
    const chart = $('chart');
    chart.addEventListener('mouseover', showTip);
    chart.addEventListener('mouseleave', () => { hovered = null; $('tip').hidden = true; });
    $('dl-csv').addEventListener('click', () => {
      if (!Dash.file) return;
      $('dl-csv').href = URL.createObjectURL(new Blob([fileCSV()], {type: 'text/csv'}));
    });
    let resize = 0;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(() => update(performance.now()), 150); });
  }

  async function start() {
    bind();
    syncControls();
    try {
      sweeps = await Dash.get('/api/v1/sweeps');
    } catch (e) {
      status(e.message, true);
      return;
    }
    update(0);
  }
  start();
})();
