'use strict';
// SVG charts: a scatter of throughput-like figures with each series'
// Pareto frontier drawn and its other points faded, and a trend of
// frontiers night by night. Markup is built as one string: 3,000
// circles go in with one innerHTML.
(function () {
  const Dash = window.Dash;
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf',
    '#bcbd22', '#7f7f7f', '#393b79', '#637939', '#8c6d31', '#843c39', '#7b4173', '#3182bd'];
  Dash.palette = palette;
  const margin = {left: 70, right: 16, top: 30, bottom: 46};

  // ticks are about n round values covering lo..hi.
  function ticks(lo, hi, n) {
    if (!(hi > lo)) { hi = lo + 1; }
    const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return {lo: Math.min(lo, out[0]), hi: Math.max(hi, out[out.length - 1]), values: out};
  }

  // tick labels a round value as it is: 20, 0.05, 12000.
  function tick(v) { return String(+v.toPrecision(6)); }

  function frame(svg) {
    const width = Math.max(320, svg.clientWidth || svg.parentNode.clientWidth || 800);
    const height = Math.round(Math.min(560, Math.max(300, width * 0.62)));
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('height', height);
    return {width, height, x0: margin.left, x1: width - margin.right, y0: height - margin.bottom, y1: margin.top};
  }

  // axes draws grid, ticks and labels; it returns the scales.
  function axes(parts, f, xs, ys, labels) {
    const xt = ticks(xs[0], xs[1], Math.max(3, Math.floor((f.x1 - f.x0) / 90)));
    const yt = ticks(ys[0], ys[1], 6);
    const sx = v => f.x0 + (v - xt.lo) / (xt.hi - xt.lo) * (f.x1 - f.x0);
    const sy = v => f.y0 - (v - yt.lo) / (yt.hi - yt.lo) * (f.y0 - f.y1);
    for (const v of yt.values) {
      const y = sy(v).toFixed(1);
      parts.push('<line class="grid" x1="' + f.x0 + '" x2="' + f.x1 + '" y1="' + y + '" y2="' + y + '"/>',
        '<text x="' + (f.x0 - 6) + '" y="' + y + '" dy="4" text-anchor="end">' + Dash.fmt(v) + '</text>');
    }
    for (const v of xt.values) {
      const x = sx(v).toFixed(1);
      parts.push('<line class="grid" x1="' + x + '" x2="' + x + '" y1="' + f.y1 + '" y2="' + f.y0 + '"/>',
        '<text x="' + x + '" y="' + (f.y0 + 16) + '" text-anchor="middle">' + (labels ? Dash.esc(labels(v)) : tick(v)) + '</text>');
    }
    parts.push('<line class="axis" x1="' + f.x0 + '" x2="' + f.x1 + '" y1="' + f.y0 + '" y2="' + f.y0 + '"/>',
      '<line class="axis" x1="' + f.x0 + '" x2="' + f.x0 + '" y1="' + f.y1 + '" y2="' + f.y0 + '"/>');
    return {sx, sy};
  }

  function labelAxes(parts, f, xLabel, yLabel, title) {
    parts.push('<text class="xlabel" x="' + ((f.x0 + f.x1) / 2) + '" y="' + (f.height - 8) + '" text-anchor="middle">' + Dash.esc(xLabel) + '</text>',
      '<text class="ylabel" transform="translate(14,' + ((f.y0 + f.y1) / 2) + ') rotate(-90)" text-anchor="middle">' + Dash.esc(yLabel) + '</text>',
      '<text class="title" x="' + f.x0 + '" y="18">' + Dash.esc(title) + '</text>');
  }

  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (lo === Infinity) return [0, 1];
    const pad = (hi - lo) * 0.04 || Math.abs(hi) * 0.1 || 1;
    return [Math.max(0, lo - pad), hi + pad];
  }

  // drawScatter plots layers ({c: columns, rows, cmp}) and returns what it
  // drew: series (by name, with colour and layer) and the point count.
  Dash.drawScatter = function (svg, layers, opt) {
    const f = frame(svg);
    const xa = Dash.xAxis[opt.x], ya = Dash.yAxis(opt);
    const groups = new Set();
    for (const l of layers) for (const i of l.rows) groups.add(Dash.groupName(l.c, i));
    const series = new Map(); // name → {color, layers: Map(layer → {pts: []})}
    const xsAll = [], ysAll = [];
    layers.forEach((l, li) => {
      const xc = l.c.floats[xa.column], yc = l.c.floats[ya.column], front = l.c[xa.front];
      for (const i of l.rows) {
        const x = xc[i], y = yc[i];
        if (x === null || y === null) continue;
        const name = (groups.size > 1 ? Dash.groupName(l.c, i) + ' · ' : '') + l.c.dicts.series[l.c.codes.series[i]];
        let s = series.get(name);
        if (!s) { s = {name, color: palette[series.size % palette.length], byLayer: new Map()}; series.set(name, s); }
        if (!s.byLayer.has(li)) s.byLayer.set(li, []);
        s.byLayer.get(li).push({i, x, y, front: front[i] === 1});
        xsAll.push(x); ysAll.push(y);
      }
    });
    const parts = [];
    const {sx, sy} = axes(parts, f, extent(xsAll), extent(ysAll));
    let points = 0, drawn = 0;
    for (const s of series.values()) {
      for (const [li, pts] of s.byLayer) {
        const cmp = layers[li].cmp ? ' cmp' : '';
        // Colour and layer sit on the group: 3,000 circles parse faster
        // with fewer attributes each.
        parts.push('<g class="series' + cmp + '" data-name="' + Dash.esc(s.name) + '" data-l="' + li + '" fill="' + s.color + '" stroke="' + s.color + '">');
        const line = pts.filter(p => p.front).sort((a, b) => a.x - b.x);
        if (line.length > 1) {
          parts.push('<polyline class="front' + cmp + '" fill="none" points="' +
            line.map(p => sx(p.x).toFixed(1) + ',' + sy(p.y).toFixed(1)).join(' ') + '"/>');
        }
        for (const p of pts) {
          parts.push('<circle class="pt' + (p.front ? '' : ' faded') + cmp + '" cx="' + sx(p.x).toFixed(1) + '" cy="' + sy(p.y).toFixed(1) +
            '" data-i="' + p.i + '"/>');
        }
        parts.push('</g>');
        points += pts.length;
        drawn++;
      }
    }
    labelAxes(parts, f, xa.label, ya.label, opt.title);
    if (points === 0) parts.push('<text x="' + ((f.x0 + f.x1) / 2) + '" y="' + ((f.y0 + f.y1) / 2) + '" text-anchor="middle">no point passes these filters</text>');
    svg.innerHTML = parts.join('');
    return {series: [...series.values()], drawn, points};
  };

  // drawTrend plots each series' figure night by night, regressions and
  // improvements marked, and returns what it drew.
  Dash.drawTrend = function (svg, trend, opt) {
    const f = frame(svg);
    const dates = [...new Set(trend.flatMap(t => t.marks.map(m => m.date)))].sort();
    const at = new Map(dates.map((d, k) => [d, k]));
    const ys = trend.flatMap(t => t.marks.map(m => m.tput_per_gpu));
    const parts = [];
    const {sx, sy} = axes(parts, f, [0, Math.max(1, dates.length - 1)], extent(ys), v => dates[Math.round(v)] || '');
    let points = 0, regressions = 0;
    const series = [];
    trend.forEach((t, k) => {
      const color = palette[k % palette.length];
      series.push({name: t.series, color});
      parts.push('<g class="series" data-name="' + Dash.esc(t.series) + '">');
      if (t.marks.length > 1) {
        parts.push('<polyline stroke="' + color + '" points="' + t.marks.map(m => sx(at.get(m.date)).toFixed(1) + ',' + sy(m.tput_per_gpu).toFixed(1)).join(' ') + '"/>');
      }
      for (const m of t.marks) {
        const x = sx(at.get(m.date)), y = sy(m.tput_per_gpu);
        parts.push('<circle class="tp" r="3" cx="' + x.toFixed(1) + '" cy="' + y.toFixed(1) + '" fill="' + color + '"><title>' +
          Dash.esc(t.series + ' ' + m.date + ' (' + m.sweep_id + '): ' + Dash.fmt(m.tput_per_gpu) + ' tok/s/GPU, ' + m.verdict +
            (m.change_pct === null ? '' : ' ' + m.change_pct.toFixed(1) + '%')) + '</title></circle>');
        if (m.verdict === 'regression' || m.verdict === 'improvement') {
          const down = m.verdict === 'regression';
          regressions += down ? 1 : 0;
          const tip = down ? (y + 14) : (y - 14), base = down ? (y + 6) : (y - 6);
          parts.push('<path class="' + (down ? 'reg' : 'imp') + '" d="M' + (x - 5).toFixed(1) + ',' + base.toFixed(1) + 'L' + (x + 5).toFixed(1) + ',' +
            base.toFixed(1) + 'L' + x.toFixed(1) + ',' + tip.toFixed(1) + 'Z"><title>' + m.verdict + ' on ' + Dash.esc(m.date) + '</title></path>');
        }
        points++;
      }
      parts.push('</g>');
    });
    labelAxes(parts, f, 'Night', 'Throughput per GPU at ' + opt.target + ' tok/s/user (tok/s/GPU)', opt.title);
    if (points === 0) parts.push('<text x="' + ((f.x0 + f.x1) / 2) + '" y="' + ((f.y0 + f.y1) / 2) + '" text-anchor="middle">no frontier reaches ' + Dash.esc(opt.target) + ' tok/s/user</text>');
    svg.innerHTML = parts.join('');
    return {series, drawn: series.length, points, regressions};
  };
})();
