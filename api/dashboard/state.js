'use strict';
// The dashboard's state and data. Every choice lives in the URL fragment,
// so a view is shared by its link; data comes from the API, or, in an
// exported file, from the answers inlined in it under the same URLs.
(function () {
  const Dash = window.Dash = {};

  // Filters are named as /api/v1/export's query parameters, so the
  // download link carries them as they are.
  Dash.filterKeys = ['model', 'precision', 'isl', 'osl', 'hardware', 'framework', 'spec', 'topology'];
  Dash.defaults = {view: 'scatter', x: 'inter', y: 'tput', tier: 'hyperscaler', target: '20',
    sweep: '', cmp: '', from: '', to: ''};
  for (const k of Dash.filterKeys) Dash.defaults[k] = '';

  Dash.readState = function () {
    const p = new URLSearchParams(location.hash.slice(1));
    const s = Object.assign({}, Dash.defaults);
    for (const k of Object.keys(s)) if (p.has(k)) s[k] = p.get(k);
    return s;
  };

  // writeState replaces the fragment: filter changes are not history steps.
  Dash.writeState = function (s) {
    const p = new URLSearchParams();
    for (const k of Object.keys(Dash.defaults)) if (s[k] !== Dash.defaults[k]) p.set(k, s[k]);
    history.replaceState(null, '', '#' + p.toString());
  };

  // canon is a URL with its query pairs sorted and decoded: the key an
  // exported file stores answers under (Go's writer makes the same).
  Dash.canon = function (url) {
    const [path, query] = url.split('?');
    if (!query) return path;
    const pairs = [...new URLSearchParams(query)].sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : (a[1] < b[1] ? -1 : 1));
    return path + '?' + pairs.map(([k, v]) => k + '=' + v).join('&');
  };

  Dash.url = function (path, params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v !== '' && v !== undefined) p.set(k, v);
    const q = p.toString();
    return q ? path + '?' + q : path;
  };

  const inlined = document.getElementById('dash-data');
  const file = inlined ? JSON.parse(inlined.textContent) : null;
  Dash.file = file;

  // get answers a GET of the API as JSON; errors carry the API's message.
  Dash.get = async function (url) {
    if (file) {
      const answer = file.answers[Dash.canon(url)];
      if (answer === undefined) throw new Error(url + ' is not in this exported file; `infersweep serve` answers it');
      return answer;
    }
    const r = await fetch(url, {headers: {Accept: 'application/json'}});
    if (!r.ok) {
      let msg = r.status + ' ' + r.statusText;
      try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON: keep the status */ }
      throw new Error(url + ': ' + msg);
    }
    return r.json();
  };

  const columns = new Map();
  // sweepColumns loads a sweep's plotted points once per page.
  Dash.sweepColumns = async function (id) {
    if (!columns.has(id)) columns.set(id, Dash.get('/api/v1/sweeps/' + encodeURIComponent(id) + '/columns'));
    try {
      return await columns.get(id);
    } catch (e) {
      columns.delete(id);
      throw e;
    }
  };

  // rowsOf is the indexes of a sweep's points that pass the filters.
  Dash.rowsOf = function (c, s) {
    const want = [];
    for (const k of ['model', 'precision', 'hardware', 'framework', 'spec', 'topology']) {
      if (s[k] === '') continue;
      const code = c.dicts[k].indexOf(s[k]);
      if (code < 0) return [];
      want.push([c.codes[k], code]);
    }
    const isl = s.isl === '' ? 0 : Number(s.isl), osl = s.osl === '' ? 0 : Number(s.osl);
    const out = [];
    outer: for (let i = 0; i < c.count; i++) {
      for (const [codes, code] of want) if (codes[i] !== code) continue outer;
      if (isl && c.ints.isl[i] !== isl) continue;
      if (osl && c.ints.osl[i] !== osl) continue;
      out.push(i);
    }
    return out;
  };

  // Axes: which column each choice plots and how it is labelled.
  Dash.xAxis = {
    inter: {column: 'interactivity', front: 'front', label: 'Interactivity (tok/s/user)'},
    e2e: {column: 'e2el_ms', front: 'front_e2e', label: 'Median end-to-end latency (ms)'},
    // Agentic points only: what an agent's user waits for a whole task.
    session: {column: 'session_latency_ms', front: 'front_session', label: 'Median session latency (ms, agentic)'},
  };
  Dash.yAxis = function (s) {
    switch (s.y) {
      case 'cost': return {column: 'usd_per_mtok_' + s.tier, label: 'Cost per million tokens ($, ' + s.tier + ')'};
      case 'mw': return {column: 'tok_s_per_mw', label: 'Tokens/s per MW (all-in power)'};
      case 'jpt': return {column: 'j_per_token', label: 'Energy per token (J/token)'};
    }
    return {column: 'tput_per_gpu', label: 'Throughput per GPU (tok/s/GPU)'};
  };

  // groupName names a point's comparable group: its sequence lengths, or
  // agentic-coding for a trace replay (the only points without them).
  Dash.groupName = function (c, i) {
    const isl = c.ints.isl[i], osl = c.ints.osl[i];
    const workload = isl === 0 && osl === 0 ? 'agentic-coding' : isl + '/' + osl;
    return c.dicts.model[c.codes.model[i]] + ' ' + c.dicts.precision[c.codes.precision[i]] + ' ' + workload;
  };

  Dash.esc = function (v) {
    return String(v).replace(/[&<>"']/g, ch => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[ch]));
  };

  Dash.fmt = function (v) {
    if (v === null || v === undefined) return '–';
    if (typeof v !== 'number') return String(v);
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
  };
})();
