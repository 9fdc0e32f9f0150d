/* Leaderboard interactions: sort, filter, search, columns (state in the URL hash), drill-down.
   Data comes from the JSON block; every text goes into the page through textContent, never HTML. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var table = document.getElementById("board");
  var tbody = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var rows = Array.prototype.slice.call(tbody.rows);
  var colIndex = {};
  headers.forEach(function (th, i) { colIndex[th.dataset.col] = i; });
  var taskCols = data.tasks.map(function (t) { return colIndex["task:" + t.name]; });
  var defaultHidden = new Set(data.defaultHidden);
  var styleEl = document.createElement("style");
  document.head.appendChild(styleEl);
  var FACETS = { suite: "f-suite", domain: "f-domain", type: "f-type", lang: "f-lang" };
  var state;
  window.reportTiming = { lastSortMs: null };

  function fresh() {
    return { sort: "", dir: "", q: "", suite: "", domain: "", type: "", lang: "", hide: [], show: [],
             variants: true, published: true, task: "" };
  }

  function readHash() {
    state = fresh();
    var raw = location.hash.slice(1);
    var legacy = /^task-(\d+)$/.exec(raw);
    if (legacy && data.tasks[+legacy[1]]) { state.task = data.tasks[+legacy[1]].name; return; }
    var p = new URLSearchParams(raw);
    ["sort", "dir", "q", "suite", "domain", "type", "lang", "task"].forEach(function (k) { state[k] = p.get(k) || ""; });
    state.hide = p.getAll("hide");
    state.show = p.getAll("show");
    state.variants = p.get("variants") !== "0";
    state.published = p.get("published") !== "0";
  }

  function writeHash() {
    var p = new URLSearchParams();
    if (state.sort) { p.set("sort", state.sort); p.set("dir", state.dir); }
    ["q", "suite", "domain", "type", "lang"].forEach(function (k) { if (state[k]) p.set(k, state[k]); });
    state.hide.forEach(function (c) { p.append("hide", c); });
    state.show.forEach(function (c) { p.append("show", c); });
    if (!state.variants) p.set("variants", "0");
    if (!state.published) p.set("published", "0");
    if (state.task) p.set("task", state.task);
    var text = p.toString();
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
  }

  function filterActive() { return !!(state.suite || state.domain || state.type || state.lang); }

  function taskVisible(t) {
    return (!state.suite || t.suites.indexOf(state.suite) >= 0) && (!state.domain || t.domain === state.domain) &&
      (!state.type || t.type === state.type) && (!state.lang || t.languages.indexOf(state.lang) >= 0);
  }

  function userHidden(col) {
    if (state.hide.indexOf(col) >= 0) return true;
    return defaultHidden.has(col) && state.show.indexOf(col) < 0;
  }

  function setUserHidden(col, hidden) {
    state.hide = state.hide.filter(function (c) { return c !== col; });
    state.show = state.show.filter(function (c) { return c !== col; });
    if (hidden && !defaultHidden.has(col)) state.hide.push(col);
    if (!hidden && defaultHidden.has(col)) state.show.push(col);
  }

  function applyColumns() {
    var active = filterActive();
    var visibleTypes = new Set();
    var visibleTasks = new Set();
    data.tasks.forEach(function (t) { if (taskVisible(t)) { visibleTypes.add(t.type); visibleTasks.add(t.name); } });
    var hidden = [];
    headers.forEach(function (th, i) {
      var col = th.dataset.col;
      var hide = userHidden(col);
      if (col === "mean_shown") hide = !active;
      if (active && col.indexOf("task:") === 0 && !visibleTasks.has(col.slice(5))) hide = true;
      if (active && col.indexOf("type:") === 0 && !visibleTypes.has(col.slice(5))) hide = true;
      if (hide) hidden.push("#board tr > :nth-child(" + (i + 1) + ")");
    });
    styleEl.textContent = hidden.length ? hidden.join(",\n") + " { display: none; }" : "";
    document.querySelectorAll(".colmenu input[data-col]").forEach(function (box) {
      box.checked = !userHidden(box.dataset.col);
    });
  }

  function applyRows() {
    var q = state.q.toLowerCase();
    var active = filterActive();
    var shownTasks = [];
    data.tasks.forEach(function (t, i) { if (taskVisible(t)) shownTasks.push(taskCols[i]); });
    var meanCol = colIndex.mean_shown;
    var shown = 0;
    rows.forEach(function (tr) {
      var show = !(q && tr.dataset.model.toLowerCase().indexOf(q) < 0) &&
        !(!state.variants && tr.dataset.variant) && !(!state.published && tr.dataset.published);
      if (active) {
        var sum = 0, n = 0, missing = false;
        shownTasks.forEach(function (k) {
          var v = tr.cells[k].dataset.v;
          if (v === "") missing = true; else { sum += parseFloat(v); n += 1; }
        });
        if (n === 0) show = false;
        var cell = tr.cells[meanCol];
        var mean = missing || n === 0 ? "" : String(sum / n);
        cell.dataset.v = mean;
        cell.textContent = mean === "" ? "–" : (100 * sum / n).toFixed(1);
        cell.title = mean === "" ? "missing: the model lacks a shown task" : "mean over the " + n + " shown tasks";
        cell.classList.toggle("miss", mean === "");
      }
      tr.classList.toggle("hidden-row", !show);
      if (show) shown += 1;
    });
    document.getElementById("shown").textContent = shown + " of " + rows.length + " models shown";
    document.querySelectorAll("details.task").forEach(function (d) {
      d.classList.toggle("hidden-task", !taskVisible(data.tasks[+d.dataset.task]));
    });
  }

  function sortBy(col, dir) {
    var t0 = performance.now();
    var idx = colIndex[col];
    if (idx === undefined) return;
    var numeric = headers[idx].dataset.kind === "num";
    var keyed = rows.map(function (tr, i) {
      var v = tr.cells[idx].dataset.v;
      var key = v === undefined || v === "" ? null : numeric ? parseFloat(v) : v.toLowerCase();
      if (numeric && key !== null && isNaN(key)) key = null;
      return { tr: tr, i: i, v: key };
    });
    var sign = dir === "desc" ? -1 : 1;
    keyed.sort(function (a, b) {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;  // missing last
      var c = numeric ? a.v - b.v : (a.v < b.v ? -1 : a.v > b.v ? 1 : 0);
      return sign * c || a.i - b.i;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k.tr); });
    tbody.appendChild(frag);
    headers.forEach(function (th) { th.classList.remove("sorted-asc", "sorted-desc"); });
    headers[idx].classList.add("sorted-" + dir);
    window.reportTiming.lastSortMs = performance.now() - t0;
  }

  function applyAll() {
    Object.keys(FACETS).forEach(function (k) { document.getElementById(FACETS[k]).value = state[k]; });
    document.getElementById("q").value = state.q;
    document.getElementById("f-variants").checked = state.variants;
    document.getElementById("f-published").checked = state.published;
    applyColumns();
    applyRows();
    if (state.sort && colIndex[state.sort] !== undefined) sortBy(state.sort, state.dir === "asc" ? "asc" : "desc");
    else sortBy("rank", "asc");
    if (state.task) openTask(state.task, false);
  }

  /* ---------- drill-down ---------- */
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
     ["Dataset revision", t.dataset_revision], ["Data source", t.source], ["License", t.license || "not stated"],
     ["Reference", t.reference], ["Citation", t.citation], ["Description", t.description]
    ].forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === "") return;
      dl.appendChild(el("dt", {}, pair[0]));
      dl.appendChild(el("dd", {}, pair[1]));
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
        var c = g.c, sig = c[6] < data.alpha;
        var cls = !sig ? "ns" : g.sign > 0 ? "sig-a" : "sig-b";
        var title = p.models[i] + " − " + p.models[j] + " = " + pct(g.sign * c[2], 2) + " (95% CI " +
          pct(g.sign > 0 ? c[3] : -c[4], 2) + " – " + pct(g.sign > 0 ? c[4] : -c[3], 2) + "); p = " + c[5] +
          ", Holm p = " + c[6] + " (" + c[7] + ")";
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
    var W = 620, H = 240, L = 48, R = 12, T = 12, B = 56;
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

  function build(details) {
    var body = details.querySelector(".task-body");
    if (body.dataset.built) return;
    var t = data.tasks[+details.dataset.task];
    body.appendChild(metaList(t));
    body.appendChild(el("h4", {}, "Scores and 95% intervals"));
    body.appendChild(ciTable(t));
    body.appendChild(el("h4", {}, "Pairwise significance (Holm-adjusted)"));
    body.appendChild(matrix(t));
    if (t.breakdown) { body.appendChild(el("h4", {}, "Score by document length")); body.appendChild(lengthChart(t)); }
    body.appendChild(el("h4", {}, "Every metric"));
    body.appendChild(metricsTable(t));
    body.dataset.built = "1";
  }

  function openTask(name, scroll) {
    var i = data.tasks.findIndex(function (t) { return t.name === name; });
    if (i < 0) return;
    var details = document.getElementById("task-" + i);
    details.classList.remove("hidden-task");
    build(details);
    details.open = true;
    if (scroll !== false) details.scrollIntoView({ block: "start" });
  }

  /* ---------- wiring ---------- */
  headers.forEach(function (th) {
    th.addEventListener("click", function (event) {
      if (event.target.closest("a")) return;
      var col = th.dataset.col;
      var dir = state.sort === col ? (state.dir === "desc" ? "asc" : "desc") : th.dataset.dir;
      state.sort = col; state.dir = dir;
      sortBy(col, dir);
      writeHash();
    });
  });
  table.tHead.addEventListener("click", function (event) {
    var link = event.target.closest("a.drill");
    if (!link) return;
    event.preventDefault();
    openTask(data.tasks[+link.dataset.task].name);
    state.task = data.tasks[+link.dataset.task].name;
    writeHash();
  });
  document.querySelectorAll("details.task").forEach(function (details) {
    details.addEventListener("toggle", function () {
      var name = data.tasks[+details.dataset.task].name;
      if (details.open) { build(details); state.task = name; } else if (state.task === name) state.task = "";
      writeHash();
    });
  });
  Object.keys(FACETS).forEach(function (k) {
    document.getElementById(FACETS[k]).addEventListener("change", function (e) { state[k] = e.target.value; applyColumns(); applyRows(); writeHash(); });
  });
  document.getElementById("q").addEventListener("input", function (e) { state.q = e.target.value; applyRows(); writeHash(); });
  document.getElementById("f-variants").addEventListener("change", function (e) { state.variants = e.target.checked; applyRows(); writeHash(); });
  document.getElementById("f-published").addEventListener("change", function (e) { state.published = e.target.checked; applyRows(); writeHash(); });
  document.querySelectorAll(".colmenu input[data-col]").forEach(function (box) {
    box.addEventListener("change", function () { setUserHidden(box.dataset.col, !box.checked); applyColumns(); writeHash(); });
  });
  document.querySelectorAll(".colmenu [data-all], .colmenu [data-none]").forEach(function (button) {
    button.addEventListener("click", function () {
      var prefix = button.dataset.all || button.dataset.none;
      headers.forEach(function (th) { if (th.dataset.col.indexOf(prefix) === 0) setUserHidden(th.dataset.col, !button.dataset.all); });
      applyColumns(); writeHash();
    });
  });
  document.querySelectorAll(".card[data-col]").forEach(function (card) {
    card.addEventListener("click", function () {
      var col = card.dataset.col;
      if (userHidden(col)) setUserHidden(col, false);
      state.sort = col; state.dir = "desc";
      applyColumns(); sortBy(col, "desc"); writeHash();
      document.getElementById("overview").scrollIntoView({ block: "start" });
    });
  });
  document.getElementById("reset").addEventListener("click", function () { state = fresh(); writeHash(); applyAll(); });
  window.addEventListener("hashchange", function () { readHash(); applyAll(); });

  readHash();
  applyAll();
  window.reportReady = true;
})();
