// The style and script of the results page (see Report.swift). Our own code, no library.
// The script reads the JSON in <script id="runner-data"> and builds the table, the charts
// and the detail with createElement/textContent/setAttribute only. With "#selftest" in the
// URL it exercises itself (rows, sorting, highlighting, filtering, detail) and writes the
// outcome into <pre id="selftest" data-result="ok|fail">, for the browser test.

let reportStyle = #"""
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
header,main{max-width:1500px;margin:0 auto;padding:0 18px}
h1{font-size:22px;margin:14px 0 2px}h2{font-size:17px;margin:18px 0 6px}
.sub,.hint{color:#666}.hint{font-size:12px}.description{white-space:pre-wrap;max-width:70em}
pre.config{background:#fff;border:1px solid #ddd;padding:8px;max-height:320px;overflow:auto;font-size:12px}
.controls{display:flex;gap:14px;align-items:center;flex-wrap:wrap;margin-bottom:6px}
.table-wrap{max-height:52vh;overflow:auto;border:1px solid #ddd;background:#fff}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th{position:sticky;top:0;background:#f0f0f0;z-index:1;text-align:left;white-space:nowrap}
th button{all:unset;cursor:pointer;padding:4px 6px;display:block}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
td{padding:2px 6px;border-top:1px solid #eee;white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.msg{white-space:normal;max-width:28em;color:#a33}
tr[data-t]{cursor:pointer}tr.hl td{background:#fff3c4}tr.pinned td{background:#ffe28a}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.st-diverged{color:#b35c00}.st-failed{color:#c00}.st-not.run{color:#888}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:10px}
.chart{background:#fff;border:1px solid #ddd;width:100%;height:auto}
.chart text{font-size:11px;fill:#333}.chart .title{font-size:13px;font-weight:600}
.chart .grid{stroke:#e6e6e6}.chart .axis{stroke:#888}
.chart .c{fill:none;stroke-width:1.3;opacity:.85}.chart .c.val{stroke-width:1.6}.chart .c.train{stroke-dasharray:4 3}
.chart .p{stroke:none;opacity:.9}.chart .x{stroke-width:2}
body.has-hl #charts .c,body.has-hl #charts .p{opacity:.12}
body.has-hl #charts .c.hl,body.has-hl #charts .p.hl{opacity:1;stroke-width:2.6}
body.has-hl #charts .p.hl{stroke:#000;stroke-width:1}
.filtered{display:none}
#legend{font-size:12px;margin-bottom:4px}#legend .item{margin-right:12px;white-space:nowrap}
#legend .bar{display:inline-block;width:160px;height:10px;vertical-align:-1px;margin:0 6px}
#info{position:fixed;right:14px;bottom:14px;background:#fff;border:1px solid #999;box-shadow:0 2px 8px #0003;padding:8px 10px;font-size:12.5px;max-width:380px;z-index:5}
#info b{display:block;margin-bottom:3px}
#detail{background:#fff;border:1px solid #ccc;padding:8px 12px;margin-top:12px}
#detail dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}#detail dt{color:#666}#detail dd{margin:0}
.cm td{text-align:right;padding:2px 5px;border:1px solid #eee}.cm th{position:static;font-weight:normal;padding:2px 5px}
img.figure{max-width:100%;background:#fff;border:1px solid #ddd}
.files{color:#666;font-size:12px;margin:16px 0 30px}
#selftest{white-space:pre-wrap;font-size:11px}
"""#

let reportScript = #"""
(function () {
'use strict';
var started = performance.now();
var errors = [];
window.addEventListener('error', function (e) { errors.push(String(e.message || e)); });
var D = JSON.parse(document.getElementById('runner-data').textContent);
var T = D.trials, N = T.length;
var SVG = 'http://www.w3.org/2000/svg';
function h(tag, attrs, text) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text != null) e.textContent = text;
  return e;
}
function s(tag, attrs, text) {
  var e = document.createElementNS(SVG, tag);
  if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text != null) e.textContent = text;
  return e;
}
function fin(v) { return typeof v === 'number' && isFinite(v); }
function lo(xs) { var m = Infinity; for (var i = 0; i < xs.length; i++) if (xs[i] < m) m = xs[i]; return m; }
function hi(xs) { var m = -Infinity; for (var i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i]; return m; }
function fmt(v, d) {
  if (v == null) return '';
  if (typeof v !== 'number') return typeof v === 'string' ? v : JSON.stringify(v);
  if (!isFinite(v)) return String(v);
  if (v === Math.round(v) && Math.abs(v) < 1e5) return String(v);
  var a = Math.abs(v);
  if (a < 1e-2 || a >= 1e5) return v.toExponential((d || 3) - 1).replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(+v.toPrecision(d || 4));
}

// ---- colours: by arm; else by the swept value (continuous); else one per trial
var PAL = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999999'];
var VIR = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [190, 210, 40]];
function ramp(f) {
  f = Math.min(1, Math.max(0, f)); var p = f * (VIR.length - 1), i = Math.min(VIR.length - 2, Math.floor(p)), g = p - i;
  return 'rgb(' + [0, 1, 2].map(function (k) { return Math.round(VIR[i][k] + (VIR[i + 1][k] - VIR[i][k]) * g); }).join(',') + ')';
}
var color = [], legend = document.getElementById('legend');
(function () {
  if (D.arms.length > 1) {
    T.forEach(function (t) { color[t.i] = PAL[D.arms.indexOf(t.arm) % PAL.length]; });
    D.arms.forEach(function (a, k) {
      var it = h('span', {'class': 'item'}); it.appendChild(h('span', {'class': 'swatch', style: 'background:' + PAL[k % PAL.length]})); it.appendChild(document.createTextNode(a)); legend.appendChild(it);
    });
  } else if (D.x >= 0) {
    var xs = T.map(function (t) { return t.v[D.x]; }).filter(function (v) { return fin(v) && (!D.xlog || v > 0); });
    var f = function (v) { return D.xlog ? Math.log10(v) : v; };
    var a = lo(xs.map(f)), b = hi(xs.map(f));
    T.forEach(function (t) { var v = t.v[D.x]; color[t.i] = fin(v) ? ramp(b > a ? (f(v) - a) / (b - a) : 0.5) : '#999'; });
    var stops = []; for (var k = 0; k <= 10; k++) stops.push(ramp(k / 10) + ' ' + (k * 10) + '%');
    legend.appendChild(document.createTextNode(D.columns[D.x].title + ' ' + fmt(D.xlog ? Math.pow(10, a) : a)));
    legend.appendChild(h('span', {'class': 'bar', style: 'background:linear-gradient(to right,' + stops.join(',') + ')'}));
    legend.appendChild(document.createTextNode(fmt(D.xlog ? Math.pow(10, b) : b) + (D.xlog ? ' (log scale)' : '')));
  } else {
    T.forEach(function (t) { color[t.i] = PAL[t.i % PAL.length]; });
  }
  var key = h('span', {'class': 'item'}, '   solid: validation · dashed: training');
  legend.appendChild(key);
})();

// ---- elements of each trial (rows, curves, points), for highlighting and filtering
var els = [];
for (var i = 0; i < N; i++) els.push([]);
function reg(t, e) { e.setAttribute('data-t', t); els[t].push(e); return e; }

// ---- table
var cols = [{key: 'i', title: '#', num: true, get: function (t) { return t.i; }},
            {key: 'label', title: 'trial', get: function (t) { return t.label; }}];
if (D.arms.length) cols.push({key: 'arm', title: 'arm', get: function (t) { return t.arm; }});
D.columns.forEach(function (c, j) {
  cols.push({key: 'v' + j, title: c.title, full: c.path, num: c.numeric, get: function (t) { return t.v[j]; }});
});
cols.push({key: 'status', title: 'status', get: function (t) { return t.status; }});
[['bv', 'best val'], ['bt', 'best train'], ['fv', 'final val'], ['test', 'test'], ['fl', 'final loss'], ['be', 'best epoch'], ['ep', 'epochs'], ['sec', 'time (s)']].forEach(function (c) {
  cols.push({key: c[0], title: c[1], num: true, get: function (t) { return t[c[0]]; }});
});
cols.push({key: 'msg', title: 'message', get: function (t) { return t.msg || ''; }});
var table = document.getElementById('trials'), thead = table.tHead, tbody = table.tBodies[0];
var hr = h('tr');
cols.forEach(function (c) {
  var th = h('th', {'data-key': c.key}); var b = h('button', {type: 'button', title: c.full || c.title}, c.title);
  b.addEventListener('click', function () { sortBy(c.key); });
  th.appendChild(b); hr.appendChild(th);
});
thead.appendChild(hr);
var rows = [], search = [];
T.forEach(function (t) {
  var tr = reg(t.i, h('tr'));
  cols.forEach(function (c) {
    var v = c.get(t), td = h('td', c.num ? {'class': 'num'} : null);
    if (c.key === 'label') { td.appendChild(h('span', {'class': 'swatch', style: 'background:' + color[t.i]})); td.appendChild(document.createTextNode(v)); }
    else if (c.key === 'status') { td.className = 'st-' + String(v).replace(' ', '.'); td.textContent = v; }
    else if (c.key === 'msg') { td.className = 'msg'; td.textContent = v; }
    else td.textContent = c.key === 'sec' && fin(v) ? v.toFixed(1) : fmt(v, c.key.charAt(0) === 'v' ? 5 : 4);
    tr.appendChild(td);
  });
  rows[t.i] = tr;
  search[t.i] = [t.label, t.arm, t.status, t.id].concat(t.v.map(function (v) { return fmt(v, 6); })).join(' ').toLowerCase();
  tbody.appendChild(tr);
});
var sortKey = 'i', sortDir = 1;
function sortBy(key) {
  sortDir = key === sortKey ? -sortDir : 1; sortKey = key;
  var c = cols.filter(function (c) { return c.key === key; })[0];
  var order = T.slice().sort(function (a, b) {
    var x = c.get(a), y = c.get(b), nx = x == null || x === '', ny = y == null || y === '';
    if (nx || ny) return nx === ny ? a.i - b.i : nx ? 1 : -1;   // empty cells last, either way
    var r = c.num && typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, {numeric: true});
    return r !== 0 ? sortDir * r : a.i - b.i;
  });
  var frag = document.createDocumentFragment();
  order.forEach(function (t) { frag.appendChild(rows[t.i]); });
  tbody.appendChild(frag);
  Array.prototype.forEach.call(thead.querySelectorAll('th'), function (th) {
    if (th.getAttribute('data-key') === key) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending'); else th.removeAttribute('aria-sort');
  });
}

// ---- filtering
var filterInput = document.getElementById('filter'), statusSelect = document.getElementById('status'), shown = document.getElementById('shown');
function applyFilter() {
  var words = filterInput.value.toLowerCase().split(/\s+/).filter(Boolean), st = statusSelect.value, n = 0;
  T.forEach(function (t) {
    var ok = (!st || t.status === st) && words.every(function (w) { return search[t.i].indexOf(w) >= 0; });
    if (ok) n++;
    els[t.i].forEach(function (e) { e.classList.toggle('filtered', !ok); });
  });
  shown.textContent = n + ' of ' + N + ' trials shown';
}
filterInput.addEventListener('input', applyFilter);
statusSelect.addEventListener('change', applyFilter);

// ---- charts
function niceTicks(lo, hi, n) {
  var span = hi - lo; if (!(span > 0)) return [lo];
  var step = Math.pow(10, Math.floor(Math.log10(span / n))), r = span / n / step;
  step *= r >= 7.5 ? 10 : r >= 3.5 ? 5 : r >= 1.5 ? 2 : 1;
  var out = []; for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}
function robustHigh(ys) {
  var v = ys.filter(fin).sort(function (a, b) { return a - b; }); if (!v.length) return null;
  var q = function (p) { return v[Math.round((v.length - 1) * p)]; };
  var iqr = Math.max(q(0.75) - q(0.25), 0.25 * Math.abs(q(0.5)));
  return Math.min(v[v.length - 1], q(0.75) + 3 * iqr);
}
var chartCount = 0;
// opt: {title, xlabel, ylabel, xlog, ymin, ymax, series: [{t, pts, cls, points}]}
function chart(opt, own) {
  var W = 520, H = 290, L = 56, R = 14, TOP = 26, B = 40;
  var svg = s('svg', {viewBox: '0 0 ' + W + ' ' + H, 'class': 'chart', role: 'img', 'aria-label': opt.title});
  var fx = opt.xlog ? function (v) { return Math.log10(v); } : function (v) { return v; };
  var xs = [], ys = [];
  opt.series.forEach(function (sr) { sr.pts.forEach(function (p) { if (fin(p[0]) && (!opt.xlog || p[0] > 0)) xs.push(fx(p[0])); if (fin(p[1])) ys.push(p[1]); }); });
  if (!xs.length) xs = [0, 1]; if (!ys.length) ys = [0, 1];
  var x0 = lo(xs), x1 = hi(xs);
  var y0 = opt.ymin != null ? opt.ymin : lo(ys), y1 = opt.ymax != null ? opt.ymax : hi(ys);
  if (x1 === x0) { x0 -= 0.5; x1 += 0.5; } if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  var pad = (y1 - y0) * 0.04; y0 -= opt.ymin != null ? 0 : pad; y1 += pad;
  var px = function (v) { return L + (W - L - R) * (fx(v) - x0) / (x1 - x0); };
  var py = function (v) { return TOP + (H - TOP - B) * (1 - (v - y0) / (y1 - y0)); };   // lines are clipped to the frame
  var pyc = function (v) { return py(Math.min(Math.max(v, y0), y1)); };                     // points are kept on it
  var clip = 'clip' + (++chartCount);
  var cp = s('clipPath', {id: clip}); cp.appendChild(s('rect', {x: L, y: TOP, width: W - L - R, height: H - TOP - B})); svg.appendChild(cp);
  svg.appendChild(s('text', {x: W / 2, y: 16, 'text-anchor': 'middle', 'class': 'title'}, opt.title));
  var xt = opt.xlog ? niceTicks(Math.floor(x0), Math.ceil(x1), Math.max(1, Math.min(8, Math.ceil(x1) - Math.floor(x0)))).filter(function (v) { return v === Math.round(v) && v >= x0 - 1e-9 && v <= x1 + 1e-9; }).map(function (v) { return Math.pow(10, v); })
                    : niceTicks(x0, x1, 6).filter(function (v) { return !opt.integer || v === Math.round(v); });
  xt.forEach(function (v) { var X = px(v); svg.appendChild(s('line', {x1: X, x2: X, y1: TOP, y2: H - B, 'class': 'grid'})); svg.appendChild(s('text', {x: X, y: H - B + 14, 'text-anchor': 'middle'}, fmt(v, 3))); });
  niceTicks(y0, y1, 5).forEach(function (v) { var Y = py(v); svg.appendChild(s('line', {x1: L, x2: W - R, y1: Y, y2: Y, 'class': 'grid'})); svg.appendChild(s('text', {x: L - 5, y: Y + 4, 'text-anchor': 'end'}, fmt(v, 3))); });
  svg.appendChild(s('rect', {x: L, y: TOP, width: W - L - R, height: H - TOP - B, fill: 'none', 'class': 'axis'}));
  svg.appendChild(s('text', {x: L + (W - L - R) / 2, y: H - 6, 'text-anchor': 'middle'}, opt.xlabel + (opt.xlog ? ' (log)' : '')));
  svg.appendChild(s('text', {transform: 'translate(13,' + (TOP + (H - TOP - B) / 2) + ') rotate(-90)', 'text-anchor': 'middle'}, opt.ylabel));
  opt.series.forEach(function (sr) {
    var pts = sr.pts.filter(function (p) { return fin(p[0]) && fin(p[1]) && (!opt.xlog || p[0] > 0); });
    if (!pts.length) return;
    var col = color[sr.t];
    if (sr.points) {
      pts.forEach(function (p) {
        var e = s('circle', {cx: px(p[0]).toFixed(1), cy: pyc(p[1]).toFixed(1), r: 3.2, fill: col, 'class': 'p'});
        e.appendChild(s('title', null, T[sr.t].label + ': ' + fmt(p[1], 4)));
        if (own) svg.appendChild(e); else svg.appendChild(reg(sr.t, e));
      });
      return;
    }
    var d = pts.map(function (p, k) { return (k ? 'L' : 'M') + px(p[0]).toFixed(1) + ' ' + py(p[1]).toFixed(1); }).join('');
    var path = s('path', {d: d, stroke: col, 'class': 'c ' + (sr.cls || ''), 'clip-path': 'url(#' + clip + ')'});
    path.appendChild(s('title', null, T[sr.t].label));
    if (own) svg.appendChild(path); else svg.appendChild(reg(sr.t, path));
    if (sr.end) {   // diverged: a cross at its last finite point
      var e = pts[pts.length - 1], X = px(e[0]), Y = pyc(e[1]);
      var x = s('path', {d: 'M' + (X - 4) + ' ' + (Y - 4) + 'L' + (X + 4) + ' ' + (Y + 4) + 'M' + (X - 4) + ' ' + (Y + 4) + 'L' + (X + 4) + ' ' + (Y - 4), stroke: col, 'class': 'c x'});
      if (own) svg.appendChild(x); else svg.appendChild(reg(sr.t, x));
    }
  });
  return svg;
}
function lossSeries(ts) {
  return ts.filter(function (t) { return t.loss && t.loss.length; }).map(function (t) { return {t: t.i, pts: t.loss, end: t.status === 'diverged'}; });
}
function accSeries(ts) {
  var out = [];
  ts.forEach(function (t) {
    if (!t.acc || !t.acc.length) return;
    out.push({t: t.i, pts: t.acc.map(function (a) { return [a[0], a[1]]; }), cls: 'train'});
    out.push({t: t.i, pts: t.acc.map(function (a) { return [a[0], a[2]]; }), cls: 'val', end: t.status === 'diverged'});
  });
  return out;
}
function lossHigh(ts) {
  var ys = []; ts.forEach(function (t) { if (t.status !== 'diverged' && t.loss) t.loss.forEach(function (p) { ys.push(p[1]); }); });
  if (!ys.length) ts.forEach(function (t) { (t.loss || []).forEach(function (p) { ys.push(p[1]); }); });
  var r = robustHigh(ys);
  return r == null ? null : r * 1.02;
}
var charts = document.getElementById('charts');
var withData = T.filter(function (t) { return t.acc && t.acc.length; });
charts.appendChild(chart({title: 'Accuracy (validation solid, training dashed)', xlabel: 'epoch', ylabel: 'accuracy', integer: true, series: accSeries(withData)}));
charts.appendChild(chart({title: 'Training loss', xlabel: 'iteration', ylabel: 'loss', ymax: lossHigh(withData), series: lossSeries(withData)}));
if (D.x >= 0) {
  var xcol = D.columns[D.x];
  charts.appendChild(chart({title: 'Best validation accuracy vs ' + xcol.title, xlabel: xcol.path, ylabel: 'best val acc', xlog: D.xlog,
    series: withData.map(function (t) { return {t: t.i, pts: [[t.v[D.x], t.bv]], points: true}; })}));
  charts.appendChild(chart({title: 'Final loss vs ' + xcol.title, xlabel: xcol.path, ylabel: 'final loss', xlog: D.xlog,
    ymax: (robustHigh(withData.map(function (t) { return t.fl; })) || 1) * 1.02,
    series: withData.map(function (t) { return {t: t.i, pts: [[t.v[D.x], t.fl]], points: true}; })}));
}

// ---- highlighting, info and detail
var info = document.getElementById('info'), detail = document.getElementById('detail');
var hl = -1, pinned = -1;
function setHL(t) {
  if (hl === t) return;
  if (hl >= 0) els[hl].forEach(function (e) { e.classList.remove('hl'); });
  hl = t;
  document.body.classList.toggle('has-hl', t >= 0);
  if (t < 0) { info.hidden = true; return; }
  els[t].forEach(function (e) { e.classList.add('hl'); if (e.tagName !== 'TR' && e.parentNode) e.parentNode.appendChild(e); });
  var x = T[t];
  info.textContent = '';
  info.appendChild(h('b', null, x.label));
  info.appendChild(document.createTextNode(x.status + (fin(x.bv) ? ' · best val ' + x.bv.toFixed(3) : '') + (fin(x.test) ? ' · test ' + x.test.toFixed(3) : '') + (fin(x.fl) ? ' · final loss ' + fmt(x.fl, 4) : '') + (fin(x.sec) ? ' · ' + x.sec.toFixed(1) + ' s' : '')));
  D.columns.forEach(function (c, j) { info.appendChild(h('div', null, c.path + ' = ' + fmt(x.v[j], 6))); });
  info.hidden = false;
}
function kv(dl, k, v) { dl.appendChild(h('dt', null, k)); dl.appendChild(h('dd', null, v)); }
function showDetail(t) {
  if (pinned >= 0 && rows[pinned]) rows[pinned].classList.remove('pinned');
  pinned = t;
  detail.textContent = '';
  if (t < 0) { detail.hidden = true; return; }
  rows[t].classList.add('pinned');
  var x = T[t];
  detail.appendChild(h('h2', {id: 'detail-title'}, x.label));
  var close = h('button', {type: 'button'}, 'close'); close.addEventListener('click', function () { showDetail(-1); setHL(-1); }); detail.appendChild(close);
  var dl = h('dl');
  kv(dl, 'id', x.id); kv(dl, 'status', x.status); if (x.msg) kv(dl, 'message', x.msg);
  if (x.arm) kv(dl, 'arm', x.arm);
  D.columns.forEach(function (c, j) { kv(dl, c.path, fmt(x.v[j], 17)); });
  [['bv', 'best val acc'], ['be', 'best epoch'], ['bt', 'best train acc'], ['fv', 'final val acc'], ['test', 'test acc'], ['fl', 'final loss'], ['ep', 'epochs'], ['sec', 'seconds']].forEach(function (k) { if (x[k[0]] != null) kv(dl, k[1], fmt(x[k[0]], 6)); });
  detail.appendChild(dl);
  var links = h('p', {'class': 'files'}, 'Files: ');
  ['config.json', 'record.json', 'accuracy.csv', 'loss.csv'].forEach(function (f, k) {
    if (k) links.appendChild(document.createTextNode(' · '));
    links.appendChild(h('a', {href: x.dir + '/' + f}, f));
  });
  links.appendChild(document.createTextNode(' (config.json: the base config above with the values listed, every default filled in)'));
  detail.appendChild(links);
  var own = h('div', {'class': 'charts'});
  if (x.acc && x.acc.length) own.appendChild(chart({title: x.label + ': accuracy', xlabel: 'epoch', ylabel: 'accuracy', integer: true, series: accSeries([x])}, true));
  if (x.loss && x.loss.length) own.appendChild(chart({title: x.label + ': training loss', xlabel: 'iteration', ylabel: 'loss', ymax: lossHigh([x]), series: lossSeries([x])}, true));
  detail.appendChild(own);
  if (x.cm) {
    detail.appendChild(h('h3', null, 'Confusion matrix (validation; rows: true class, columns: predicted)'));
    var m = x.cm.m, max = 0;
    m.forEach(function (r) { r.forEach(function (v) { max = Math.max(max, v); }); });
    var ct = h('table', {'class': 'cm'}), head = h('tr');
    head.appendChild(h('th'));
    x.cm.labels.forEach(function (l) { head.appendChild(h('th', null, l)); });
    ct.appendChild(head);
    m.forEach(function (r, i) {
      var tr = h('tr'); tr.appendChild(h('th', null, x.cm.labels[i] != null ? x.cm.labels[i] : String(i)));
      r.forEach(function (v) { var a = max > 0 ? v / max : 0; tr.appendChild(h('td', {style: 'background:rgba(0,114,178,' + (0.85 * a).toFixed(3) + ');color:' + (a > 0.55 ? '#fff' : '#222')}, fmt(v, 6))); });
      ct.appendChild(tr);
    });
    detail.appendChild(ct);
  }
  detail.hidden = false;
}
function trialOf(e) { var n = e.target; while (n && n.getAttribute) { var a = n.getAttribute('data-t'); if (a != null) return +a; n = n.parentNode; } return -1; }
document.addEventListener('mouseover', function (e) { var t = trialOf(e); setHL(t >= 0 ? t : pinned); });
document.addEventListener('click', function (e) {
  var t = trialOf(e); if (t < 0) return;
  showDetail(t); setHL(-1); setHL(t);
});
var counts = document.getElementById('counts');
['diverged', 'failed', 'not run'].forEach(function (k) { if (D.counts[k]) counts.appendChild(document.createTextNode(' · ' + D.counts[k] + ' ' + k)); });
applyFilter();
var m = /^#t=(\d+)$/.exec(location.hash);
if (m && +m[1] < N) {   // a trial named in the URL: its detail, highlighted, its row in view
  showDetail(+m[1]); setHL(+m[1]);
  var wrap = table.parentNode; wrap.scrollTop = rows[+m[1]].offsetTop - wrap.clientHeight / 2;
}
document.body.setAttribute('data-render-ms', String(Math.round(performance.now() - started)));

// ---- self-test (URL ending in #selftest): used by the browser test
if (location.hash !== '#selftest') return;
var out = [], ok = true;
function check(c, what) { if (!c) ok = false; out.push((c ? 'ok   ' : 'FAIL ') + what); }
function visibleRows() { return Array.prototype.filter.call(tbody.rows, function (r) { return !r.classList.contains('filtered'); }); }
function ids() { return Array.prototype.map.call(tbody.rows, function (r) { return +r.getAttribute('data-t'); }); }
check(tbody.rows.length === N, 'one row per trial: ' + tbody.rows.length + ' rows, ' + N + ' trials');
var bvButton = thead.querySelector('th[data-key="bv"] button');
bvButton.click();
var asc = ids().map(function (i) { return T[i].bv; }).filter(fin);
check(asc.every(function (v, k) { return k === 0 || asc[k - 1] <= v; }), 'sorted by best val, ascending');
bvButton.click();
var desc = ids().map(function (i) { return T[i].bv; }).filter(fin);
check(desc.every(function (v, k) { return k === 0 || desc[k - 1] >= v; }) && desc.length === asc.length, 'sorted by best val, descending');
document.getElementById('selftest').setAttribute('data-sorted', ids().join(' '));
var labelButton = thead.querySelector('th[data-key="label"] button');
labelButton.click();
check(thead.querySelector('th[data-key="label"]').getAttribute('aria-sort') === 'ascending', 'sorted by label');
var target = -1;
for (var k = 0; k < N; k++) if (T[k].acc && T[k].acc.length) { target = k; if (k >= N / 2) break; }
if (target >= 0) {
  rows[target].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  var lit = els[target].filter(function (e) { return e.classList.contains('hl'); }).length;
  check(lit === els[target].length && els[target].length >= 3, 'hovering row ' + target + ' highlights its ' + els[target].length + ' elements (' + lit + ' lit)');
  var others = document.querySelectorAll('.hl').length;
  check(others === lit, 'nothing else highlighted (' + others + ')');
  check(document.body.classList.contains('has-hl') && !info.hidden && info.textContent.indexOf(T[target].label) === 0, 'info shows ' + T[target].label);
  var curve = els[target].filter(function (e) { return e.tagName === 'path'; })[0];
  document.body.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  check(!document.body.classList.contains('has-hl'), 'moving away clears the highlight');
  curve.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  check(rows[target].classList.contains('hl'), 'hovering its curve highlights its row');
  curve.dispatchEvent(new MouseEvent('click', {bubbles: true}));
  check(!detail.hidden && document.getElementById('detail-title').textContent === T[target].label, 'clicking it opens its detail');
  filterInput.value = T[target].label; applyFilter();
  check(visibleRows().indexOf(rows[target]) >= 0 && visibleRows().length >= 1, 'filtering by its label keeps its row (' + visibleRows().length + ' shown)');
  filterInput.value = 'no-such-trial-anywhere'; applyFilter();
  check(visibleRows().length === 0 && els[target].every(function (e) { return e.classList.contains('filtered'); }), 'a filter matching nothing hides every row and curve');
  filterInput.value = ''; applyFilter();
  check(visibleRows().length === N, 'clearing the filter shows every row');
  document.getElementById('selftest').setAttribute('data-highlighted', String(target));
}
check(errors.length === 0, 'no script errors' + (errors.length ? ': ' + errors.join('; ') : ''));
var st = document.getElementById('selftest');
st.textContent = out.join('\n');
st.setAttribute('data-result', ok ? 'ok' : 'fail');
st.setAttribute('data-rows', String(tbody.rows.length));
st.hidden = false;
})();
"""#
