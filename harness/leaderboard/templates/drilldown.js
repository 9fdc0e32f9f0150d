/* The per-task drill-down: built from the page data on first open, every text through
   textContent (never HTML). The details (intervals, metrics, pairwise tests, length breakdown)
   are gzip + base64 JSON, unpacked once with DecompressionStream. */
window.ReportDrill = function (data) {
  "use strict";
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function pct(v, digits) { return v === null || v === undefined ? "–" : (100 * v).toFixed(digits === undefined ? 1 : digits); }
  function wrap(table) { return el("div", { "class": "table-wrap" }, table); }

  function metaList(t) {
    var dl = el("dl");
    [["Type", t.type], ["Suites", t.suites.join(", ")], ["Domain", t.domain], ["Languages", t.languages.join(", ")],
     ["Main score", t.main_score], ["Items resampled", t.n_items], ["Split", t.split],
     ["Dataset revision", t.dataset_revision], ["Other dataset revisions", t.revision_note], ["Data source", t.source], ["License", t.license || "not stated"],
     ["Reference", t.reference], ["Citation", t.citation], ["Description", t.description]
    ].forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === "") return;
      dl.appendChild(el("dt", {}, pair[0]));
      var value = String(pair[1]);
      dl.appendChild(el("dd", {}, /^https?:\/\/\S+$/.test(value) ? el("a", { href: value, rel: "noopener noreferrer" }, value) : value));
    });
    return dl;
  }

  function ciTable(t) {
    var lows = t.ci.map(function (r) { return r[2] === null ? r[1] : r[2]; });
    var highs = t.ci.map(function (r) { return r[3] === null ? r[1] : r[3]; });
    var lo = Math.min.apply(null, lows), hi = Math.max.apply(null, highs), span = hi - lo || 1;
    var x = function (v) { return 4 + 152 * (v - lo) / span; };
    var body = el("tbody");
    t.ci.forEach(function (r) {
      var bar = svg("svg", { width: 160, height: 12, "class": "cibar" });
      if (r[2] !== null) bar.appendChild(svg("line", { x1: x(r[2]), x2: x(r[3]), y1: 6, y2: 6 }));
      bar.appendChild(svg("circle", { cx: x(r[1]), cy: 6, r: 3 }));
      var ci = r[2] === null ? (r[5] ? "published: none" : "–") : pct(r[2], 2) + " – " + pct(r[3], 2);
      body.appendChild(el("tr", {}, el("td", {}, r[0]), el("td", { "class": "num" }, pct(r[1], 2)),
        el("td", { "class": "num" }, ci), el("td", { "class": "num" }, r[4] === null ? "–" : r[4]), el("td", {}, bar)));
    });
    return wrap(el("table", { "class": "plain" }, el("thead", {}, el("tr", {}, el("th", {}, "model"),
      el("th", {}, "score ×100"), el("th", {}, "95% CI"), el("th", {}, "tier"), el("th", {}, "interval"))), body));
  }

  function metricsTable(t) {
    var box = el("div");
    var input = el("input", { type: "search", "class": "metric-filter", placeholder: "filter metrics (e.g. ndcg)" });
    var holder = el("div");
    function draw() {
      var q = input.value.toLowerCase();
      var keep = [];
      t.metrics.forEach(function (m, i) { if (!q || m.toLowerCase().indexOf(q) >= 0) keep.push(i); });
      var head = el("tr", {}, el("th", {}, "model"));
      keep.forEach(function (i) { head.appendChild(el("th", {}, t.metrics[i] + (t.metrics[i] === t.main_score ? " (main)" : ""))); });
      var body = el("tbody");
      t.rows.forEach(function (r) {
        var tr = el("tr", {}, el("td", {}, r[0]));
        keep.forEach(function (i) { tr.appendChild(el("td", { "class": "num" }, r[1][i] === null ? "–" : r[1][i].toFixed(4))); });
        body.appendChild(tr);
      });
      holder.textContent = "";
      holder.appendChild(wrap(el("table", { "class": "plain" }, el("thead", {}, head), body)));
    }
    input.addEventListener("input", draw);
    draw();
    box.appendChild(el("p", { "class": "muted" }, t.metrics.length + " metrics (raw values, not ×100)."));
    box.appendChild(input);
    box.appendChild(holder);
    return box;
  }

  function matrix(t) {
    var p = t.pairs || { models: [], cells: [] };
    if (p.models.length < 2) return el("p", { "class": "muted" }, "No pairwise tests for this task (fewer than two models with per-item data).");
    var n = p.models.length, grid = [];
    for (var i = 0; i < n; i++) grid.push(new Array(n).fill(null));
    p.cells.forEach(function (c) { grid[c[0]][c[1]] = { c: c, sign: 1 }; grid[c[1]][c[0]] = { c: c, sign: -1 }; });
    var head = el("tr", {}, el("th", {}, "row − column"));
    p.models.forEach(function (m, j) { head.appendChild(el("th", { title: m }, String(j + 1))); });
    var body = el("tbody");
    p.models.forEach(function (m, i) {
      var tr = el("tr", {}, el("th", { "class": "rowh" }, (i + 1) + ". " + m));
      grid[i].forEach(function (g, j) {
        if (i === j || g === null) { tr.appendChild(el("td", {}, i === j ? "·" : "")); return; }
        var c = g.c, sig = c[6] < data.alpha, test = { s: "sign-flip test", b: "paired bootstrap test" }[c[7]] || c[7];
        var cls = !sig ? "ns" : g.sign > 0 ? "sig-a" : "sig-b";
        var title = p.models[i] + " − " + p.models[j] + " = " + pct(g.sign * c[2], 2) + " (95% CI " +
          pct(g.sign > 0 ? c[3] : -c[4], 2) + " – " + pct(g.sign > 0 ? c[4] : -c[3], 2) + "); p = " + c[5] +
          ", Holm p = " + c[6] + " (" + test + ")";
        tr.appendChild(el("td", { "class": cls, title: title }, (g.sign * c[2] >= 0 ? "+" : "") + pct(g.sign * c[2], 1) + (sig ? "*" : "")));
      });
      body.appendChild(tr);
    });
    var note = "Difference ×100 (row − column); * and colour: significant after Holm's adjustment over all pairs of this task (α = " +
      data.alpha + "). Hover for the interval and p-values." + (p.of > n ? " Showing the best " + n + " of " + p.of + " models." : "");
    return el("div", {}, el("p", { "class": "muted" }, note), wrap(el("table", { "class": "plain matrix" }, el("thead", {}, head), body)));
  }

  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  function lengthChart(t) {
    var b = t.breakdown;
    var series = b.series.slice(0, PALETTE.length);
    var W = 640, H = 240, L = 48, R = 44, T = 12, B = 56;
    var all = [];
    series.forEach(function (s) { s[1].forEach(function (v) { if (v !== null) all.push(v); }); });
    var hi = Math.max.apply(null, all.concat([0.01])), lo = Math.min.apply(null, all.concat([0]));
    var g = b.groups.length;
    var x = function (i) { return L + (g === 1 ? (W - L - R) / 2 : i * (W - L - R) / (g - 1)); };
    var y = function (v) { return T + (H - T - B) * (1 - (v - lo) / ((hi - lo) || 1)); };
    var chart = svg("svg", { width: W, height: H, "class": "chart", role: "img" });
    [lo, (lo + hi) / 2, hi].forEach(function (v) {
      chart.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e3e6ea" }));
      var label = svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" });
      label.textContent = pct(v);
      chart.appendChild(label);
    });
    b.groups.forEach(function (name, i) {
      var label = svg("text", { x: x(i), y: H - B + 16, "text-anchor": "middle" });
      label.textContent = name;
      chart.appendChild(label);
      var count = svg("text", { x: x(i), y: H - B + 30, "text-anchor": "middle", fill: "#888" });
      count.textContent = "n=" + b.queries[i];
      chart.appendChild(count);
    });
    var legend = el("div", { "class": "muted" });
    series.forEach(function (s, k) {
      var points = [];
      s[1].forEach(function (v, i) { if (v !== null) points.push(x(i) + "," + y(v)); });
      chart.appendChild(svg("polyline", { points: points.join(" "), fill: "none", stroke: PALETTE[k], "stroke-width": 2 }));
      points.forEach(function (pt) {
        var xy = pt.split(",");
        chart.appendChild(svg("circle", { cx: xy[0], cy: xy[1], r: 3, fill: PALETTE[k] }));
      });
      var key = el("span", { style: "color:" + PALETTE[k] + ";margin-right:12px" }, "● ");
      key.appendChild(document.createTextNode(s[0]));
      legend.appendChild(key);
    });
    var yl = svg("text", { x: 12, y: T + (H - T - B) / 2, transform: "rotate(-90 12 " + (T + (H - T - B) / 2) + ")", "text-anchor": "middle" });
    yl.textContent = t.main_score + " ×100";
    chart.appendChild(yl);
    return el("div", {}, el("p", { "class": "muted" }, "Main score by length of the relevant document (falling scores with length = length collapse)" +
      (b.series.length > series.length ? "; the best " + series.length + " of " + b.series.length + " models." : ".")), chart, legend);
  }

  var unpacked = null;
  function loadDetails() {  // gzip + base64 JSON of every task's drill-down, unpacked once
    if (!unpacked) {
      var bytes = Uint8Array.from(atob(data.packed), function (c) { return c.charCodeAt(0); });
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      unpacked = new Response(stream).text().then(JSON.parse);
    }
    return unpacked;
  }

  function build(details) {
    var body = details.querySelector(".task-body");
    if (body.dataset.state) return;
    body.dataset.state = "loading";
    body.textContent = "Loading…";
    var meta = data.tasks[+details.dataset.task];
    loadDetails().then(function (all) {
      var t = Object.assign({}, meta, all[meta.name] || {});
      body.textContent = "";
      body.appendChild(metaList(t));
      body.appendChild(el("h4", {}, "Scores and 95% intervals"));
      body.appendChild(ciTable(t));
      body.appendChild(el("h4", {}, "Pairwise significance (Holm-adjusted)"));
      body.appendChild(matrix(t));
      if (t.breakdown) { body.appendChild(el("h4", {}, "Score by document length")); body.appendChild(lengthChart(t)); }
      body.appendChild(el("h4", {}, "Every metric"));
      body.appendChild(metricsTable(t));
      body.dataset.state = "built";
    }).catch(function (err) {
      body.textContent = "The task data could not be read (" + err + "); this browser may lack DecompressionStream.";
      body.dataset.state = "failed";
    });
  }

  return { build: build };
};
