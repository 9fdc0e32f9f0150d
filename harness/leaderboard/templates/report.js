/* Leaderboard interactions: sort, filter, search, columns (state in the URL hash), drill-down.
   Data comes from the JSON block; every text goes into the page through textContent, never HTML. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var defaultHidden = new Set(data.defaultHidden);
  var styleEl = document.createElement("style");
  document.head.appendChild(styleEl);
  var FACETS = { domain: "f-domain", type: "f-type", lang: "f-lang" };
  var taskByName = {};
  data.tasks.forEach(function (t, i) { taskByName[t.name] = i; });
  var views = {};
  var state, current;
  var build = window.ReportDrill(data).build;
  window.reportTiming = { lastSortMs: null };

  function viewOf(key) {  // the table of one view, indexed once
    if (views[key]) return views[key];
    var box = document.querySelector(".view[data-view='" + CSS.escape(key) + "'] table.board");
    var headers = Array.prototype.slice.call(box.tHead.rows[0].cells);
    var colIndex = {};
    headers.forEach(function (th, i) { colIndex[th.dataset.col] = i; });
    var tasks = [];  // [data.tasks index, column index]
    headers.forEach(function (th, i) {
      if (th.dataset.col.indexOf("task:") === 0) tasks.push([taskByName[th.dataset.col.slice(5)], i]);
    });
    views[key] = { key: key, table: box, tbody: box.tBodies[0], headers: headers, colIndex: colIndex, tasks: tasks,
                   rows: Array.prototype.slice.call(box.tBodies[0].rows) };
    // a class per column: hiding columns by class keeps a restyle cheap (":nth-child" rules are
    // matched against every cell: with hundreds of rows a sort took most of a second)
    headers.forEach(function (th, i) { th.classList.add("k" + i); });
    views[key].rows.forEach(function (tr) {
      for (var i = 0; i < tr.cells.length; i++) tr.cells[i].classList.add("k" + i);
    });
    views[key].headers.forEach(function (th) {
      th.addEventListener("click", function (event) {
        if (event.target.closest("a")) return;
        var col = th.dataset.col;
        var dir = state.sort === col ? (state.dir === "desc" ? "asc" : "desc") : th.dataset.dir;
        state.sort = col; state.dir = dir;
        sortBy(col, dir);
        writeHash();
      });
    });
    return views[key];
  }

  function fresh() {
    return { view: data.views[0], sort: "", dir: "", q: "", domain: "", type: "", lang: "", hide: [], show: [],
             variants: true, published: true, task: "" };
  }

  function readHash() {
    state = fresh();
    var raw = location.hash.slice(1);
    var legacy = /^task-(\d+)$/.exec(raw);
    if (legacy && data.tasks[+legacy[1]]) { state.task = data.tasks[+legacy[1]].name; return; }
    var p = new URLSearchParams(raw);
    ["sort", "dir", "q", "domain", "type", "lang", "task"].forEach(function (k) { state[k] = p.get(k) || ""; });
    if (data.views.indexOf(p.get("view")) >= 0) state.view = p.get("view");
    state.hide = p.getAll("hide");
    state.show = p.getAll("show");
    state.variants = p.get("variants") !== "0";
    state.published = p.get("published") !== "0";
  }

  function writeHash() {
    var p = new URLSearchParams();
    if (state.view !== data.views[0]) p.set("view", state.view);
    if (state.sort) { p.set("sort", state.sort); p.set("dir", state.dir); }
    ["q", "domain", "type", "lang"].forEach(function (k) { if (state[k]) p.set(k, state[k]); });
    state.hide.forEach(function (c) { p.append("hide", c); });
    state.show.forEach(function (c) { p.append("show", c); });
    if (!state.variants) p.set("variants", "0");
    if (!state.published) p.set("published", "0");
    if (state.task) p.set("task", state.task);
    var text = p.toString();
    history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
  }

  function filterActive() { return !!(state.domain || state.type || state.lang); }

  function taskVisible(t) {
    return (!state.domain || t.domain === state.domain) && (!state.type || t.type === state.type) &&
      (!state.lang || t.languages.indexOf(state.lang) >= 0);
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

  function applyView() {
    document.querySelectorAll("[data-view]").forEach(function (node) {
      if (node.tagName === "BUTTON") node.setAttribute("aria-selected", String(node.dataset.view === state.view));
      else node.hidden = node.dataset.view !== state.view;
    });
    current = viewOf(state.view);
  }

  function applyColumns() {
    var active = filterActive();
    var visibleTypes = new Set();
    var visibleTasks = new Set();
    current.tasks.forEach(function (pair) {
      var t = data.tasks[pair[0]];
      if (taskVisible(t)) { visibleTypes.add(t.type); visibleTasks.add(t.name); }
    });
    var hidden = [];
    var id = "#" + current.table.id;
    current.headers.forEach(function (th, i) {
      var col = th.dataset.col;
      var hide = userHidden(col);
      if (col === "mean_shown") hide = !active;
      if (active && col.indexOf("task:") === 0 && !visibleTasks.has(col.slice(5))) hide = true;
      if (active && col.indexOf("type:") === 0 && !visibleTypes.has(col.slice(5))) hide = true;
      if (hide) hidden.push(id + " .k" + i);
    });
    styleEl.textContent = hidden.length ? hidden.join(",\n") + " { display: none; }" : "";
    document.querySelectorAll(".colmenu input[data-col]").forEach(function (box) {
      box.checked = !userHidden(box.dataset.col);
    });
  }

  function applyRows() {
    var q = state.q.toLowerCase();
    var active = filterActive();
    var shownTasks = current.tasks.filter(function (pair) { return taskVisible(data.tasks[pair[0]]); });
    var meanCol = current.colIndex.mean_shown;
    var shown = 0;
    current.rows.forEach(function (tr) {
      var show = !(q && tr.dataset.model.toLowerCase().indexOf(q) < 0) &&
        !(!state.variants && tr.dataset.variant) && !(!state.published && tr.dataset.published);
      if (active) {
        var sum = 0, n = 0, missing = false;
        shownTasks.forEach(function (pair) {
          var v = tr.cells[pair[1]].dataset.v;
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
    document.getElementById("shown").textContent = shown + " of " + current.rows.length + " models shown";
    var inView = new Set(current.tasks.map(function (pair) { return pair[0]; }));
    document.querySelectorAll("details.task").forEach(function (d) {
      var i = +d.dataset.task;
      d.classList.toggle("hidden-task", !(inView.has(i) && taskVisible(data.tasks[i])));
    });
  }

  function sortBy(col, dir) {
    var t0 = performance.now();
    var idx = current.colIndex[col];
    if (idx === undefined) return;
    var numeric = current.headers[idx].dataset.kind === "num";
    var keyed = current.rows.map(function (tr, i) {
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
    current.tbody.appendChild(frag);
    current.headers.forEach(function (th) { th.classList.remove("sorted-asc", "sorted-desc"); });
    current.headers[idx].classList.add("sorted-" + dir);
    window.reportTiming.lastSortMs = performance.now() - t0;
  }

  function applyAll() {
    applyView();
    Object.keys(FACETS).forEach(function (k) { document.getElementById(FACETS[k]).value = state[k]; });
    document.getElementById("q").value = state.q;
    document.getElementById("f-variants").checked = state.variants;
    document.getElementById("f-published").checked = state.published;
    applyColumns();
    applyRows();
    if (state.sort && current.colIndex[state.sort] !== undefined) sortBy(state.sort, state.dir === "asc" ? "asc" : "desc");
    else sortBy("rank", "asc");
    if (state.task) openTask(state.task, false);
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
  document.querySelectorAll("table.board thead").forEach(function (head) {
    head.addEventListener("click", function (event) {
      var link = event.target.closest("a.drill");
      if (!link) return;
      event.preventDefault();
      state.task = data.tasks[+link.dataset.task].name;
      openTask(state.task);
      writeHash();
    });
  });
  document.querySelectorAll(".views button[data-view]").forEach(function (button) {
    button.addEventListener("click", function () { state.view = button.dataset.view; applyAll(); writeHash(); });
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
      current.headers.forEach(function (th) { if (th.dataset.col.indexOf(prefix) === 0) setUserHidden(th.dataset.col, !button.dataset.all); });
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
