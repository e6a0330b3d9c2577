// jobdeck dashboard behaviour: chart, drawer, toasts, filters, local times. No build step.
(function () {
  "use strict";

  // ---- throughput chart (uPlot) -------------------------------------------------------------
  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function gradient(color) {
    return function (u) {
      const g = u.ctx.createLinearGradient(0, u.bbox.top, 0, u.bbox.top + u.bbox.height);
      g.addColorStop(0, color + "99");
      g.addColorStop(1, color + "08");
      return g;
    };
  }

  function hexOf(color, fallback) {
    return /^#[0-9a-f]{6}$/i.test(color) ? color : fallback;
  }

  function formatBucket(seconds, bucket) {
    const d = new Date(seconds * 1000);
    const opts = bucket >= 21600
      ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { hour: "2-digit", minute: "2-digit" };
    return d.toLocaleString(undefined, opts);
  }

  function tooltipPlugin(el, data) {
    const tip = el.parentElement.querySelector(".chart-tooltip");
    return {
      hooks: {
        setCursor: function (u) {
          const i = u.cursor.idx;
          if (i == null || !tip) { if (tip) tip.hidden = true; return; }
          tip.innerHTML = "";
          const title = document.createElement("b");
          title.textContent = formatBucket(data.x[i], data.bucket);
          const ok = document.createElement("div");
          ok.textContent = "Success: " + data.success[i];
          const bad = document.createElement("div");
          bad.textContent = "Failed: " + data.failed[i];
          tip.append(title, ok, bad);
          tip.hidden = false;
          const left = u.valToPos(data.x[i], "x") + u.over.offsetLeft;
          const top = u.over.offsetTop + 8;
          tip.style.left = Math.max(0, Math.min(left + 12, el.clientWidth - tip.offsetWidth)) + "px";
          tip.style.top = top + "px";
        },
      },
    };
  }

  function renderChart(el) {
    if (!el || el.dataset.ready || !window.uPlot) return;
    const data = JSON.parse(el.dataset.chart);
    const ok = hexOf(cssVar("--ok"), "#16a34a");
    const bad = hexOf(cssVar("--bad"), "#dc2626");
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line"), width: 1 }, ticks: { show: false } };
    const opts = {
      width: el.clientWidth || 600,
      height: 240,
      cursor: { points: { size: 7 }, drag: { x: false, y: false } },
      legend: { show: false },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(4, max * 1.15)]; } } },
      axes: [axis, Object.assign({}, axis, { size: 44 })],
      series: [
        {},
        { label: "Success", stroke: ok, width: 2, fill: gradient(ok), points: { show: false } },
        { label: "Failed", stroke: bad, width: 2, fill: gradient(bad), points: { show: false } },
      ],
      plugins: [tooltipPlugin(el, data)],
    };
    el.innerHTML = "";
    const chart = new uPlot(opts, [data.x, data.success, data.failed], el);
    el.dataset.ready = "1";
    el._chart = chart;
  }

  window.addEventListener("resize", function () {
    const el = document.getElementById("chart");
    if (el && el._chart) el._chart.setSize({ width: el.clientWidth, height: 240 });
  });

  // ---- latency charts (uPlot): wait and duration p50/p95/p99 ---------------------------------
  // Its own section and listeners: the throughput chart above is left as it was.
  const LATENCY_KEYS = [["p50", "--ok", "#16a34a"], ["p95", "--warn", "#d97706"], ["p99", "--bad", "#dc2626"]];

  function formatMs(ms) {
    if (ms == null) return "–";
    if (ms < 1) return ms.toFixed(1) + " ms";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
    if (ms < 3600000) return (ms / 60000).toFixed(1) + " min";
    return (ms / 3600000).toFixed(1) + " h";
  }

  function renderLatencyChart(el) {
    if (!el || el.dataset.ready || !window.uPlot) return;
    const data = JSON.parse(el.dataset.latencyChart);
    const byQ = data[el.dataset.kind];
    // A log scale cannot show 0: a p50 of a no-op (0 ms) is drawn at 0.1 ms.
    const floor = function (v) { return v == null ? null : Math.max(v, 0.1); };
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line"), width: 1 }, ticks: { show: false } };
    const series = [{}].concat(LATENCY_KEYS.map(function (k) {
      // Points shown: a bucket with attempts between two empty ones is a dot, not nothing.
      return { label: k[0], stroke: hexOf(cssVar(k[1]), k[2]), width: 2, spanGaps: false, points: { show: true, size: 4 },
               value: function (u, v) { return formatMs(v); } };
    }));
    const opts = {
      width: el.clientWidth || 600,
      height: 110,
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      legend: { show: false },
      scales: { x: { time: true }, y: { distr: 3, log: 10 } },
      // Only the decades are labelled: a log axis's minor ticks would overlap.
      axes: [axis, Object.assign({}, axis, { size: 56, values: function (u, vals) {
        return vals.map(function (v) { return Math.abs(Math.log10(v) % 1) < 1e-9 ? formatMs(v) : ""; });
      } })],
      series: series,
    };
    el.innerHTML = "";
    const columns = [data.x].concat(LATENCY_KEYS.map(function (k) { return byQ[k[0]].map(floor); }));
    el._chart = new uPlot(opts, columns, el);
    el.dataset.ready = "1";
  }

  function renderLatencyCharts() {
    document.querySelectorAll("[data-latency-chart]").forEach(renderLatencyChart);
  }
  document.addEventListener("DOMContentLoaded", renderLatencyCharts);
  document.body.addEventListener("htmx:afterSettle", renderLatencyCharts);
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-latency-chart]").forEach(function (el) {
      if (el._chart) el._chart.setSize({ width: el.clientWidth, height: 110 });
    });
  });

  // ---- local times -------------------------------------------------------------------------
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      if (!t.getAttribute("datetime") || t.dataset.local || t.title) return;
      const d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      t.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
      t.dataset.local = "1";
    });
  }

  // ---- toasts ------------------------------------------------------------------------------
  function toast(message, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = "toast toast-" + (kind || "info");
    item.textContent = message;
    box.append(item);
    setTimeout(function () { item.remove(); }, 6000);
  }
  document.body.addEventListener("jobdeck:toast", function (e) {
    toast(e.detail.message, e.detail.kind);
  });

  // ---- drawer ------------------------------------------------------------------------------
  // The job id, not the row element: live refreshes replace the rows.
  let lastJobId = null;
  function closeDrawer() {
    const drawer = document.getElementById("drawer");
    if (!drawer || !drawer.classList.contains("open")) return;
    drawer.classList.remove("open");
    drawer.innerHTML = "";
    const row = lastJobId && document.querySelector('.job-row[data-job-id="' + lastJobId + '"]');
    if (row) row.focus({ preventScroll: true });
  }
  function remember(e) {
    const row = e.target.closest && e.target.closest(".job-row");
    if (row) lastJobId = row.dataset.jobId;
  }
  // Enter on a row opens it. Here, not as an htmx trigger filter (keyup[key=='Enter']):
  // filters are evaluated code, which the page's CSP forbids.
  document.addEventListener("keyup", function (e) {
    if (e.key !== "Enter") return;
    remember(e);
    const row = e.target.closest && e.target.closest(".job-row");
    if (row && e.target === row) htmx.trigger(row, "jobdeck:open");
  });
  document.addEventListener("click", function (e) {
    remember(e);
    if (e.target.closest("[data-close-drawer]")) closeDrawer();
    const card = e.target.closest(".schedule-card");
    if (card && !e.target.closest("button, a, summary, details, .info, input")) {
      const details = card.querySelector("details.runs");
      if (details) details.open = !details.open;
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") closeDrawer();
  });

  // ---- filters -----------------------------------------------------------------------------
  document.addEventListener("click", function (e) {
    if (!e.target.closest("#clear-filters")) return;
    const form = document.getElementById("filters");
    form.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    form.querySelectorAll("select").forEach(function (s) { s.value = "all"; });
    htmx.trigger(form, "change");
  });
  // Enter in the filters must not submit the form (a full page load): htmx already updates
  // the list. A listener, not an onsubmit attribute: the page's CSP forbids inline script.
  document.addEventListener("submit", function (e) {
    if (e.target.id === "filters") e.preventDefault();
  });

  // ---- search and bulk actions (issue 17, items 1 and 2) ---------------------------------------
  // A search for a job id opens its drawer: the table's answer names the job.
  document.body.addEventListener("jobdeck:open-job", function (e) {
    htmx.ajax("GET", "jobs/" + encodeURIComponent(e.detail.id) + "/drawer", { target: "#drawer", swap: "innerHTML" });
  });
  // The selection lives in the table; a live refresh waits while rows are chosen or the
  // confirmation is open, so it cannot take the choice away.
  function bulkBusy(table) {
    const confirm = table.querySelector("#bulk-confirm");
    return !!table.querySelector(".row-select:checked") || !!(confirm && confirm.children.length);
  }
  function updateSelection(table) {
    const bar = table.querySelector("#bulk-bar");
    if (!bar) return;
    const boxes = Array.prototype.slice.call(table.querySelectorAll(".row-select"));
    const chosen = boxes.filter(function (b) { return b.checked; });
    const scope = table.querySelector("#bulk-scope");
    const all = table.querySelector("#bulk-all");
    const page = table.querySelector("#select-page");
    if (chosen.length < boxes.length) scope.value = "selected";
    if (page) page.checked = boxes.length > 0 && chosen.length === boxes.length;
    table.querySelector("#bulk-ids").value = chosen.map(function (b) { return b.value; }).join(",");
    const label = table.querySelector("#bulk-selected");
    if (scope.value === "filter") label.textContent = "All jobs matching this filter are selected.";
    else if (chosen.length) label.textContent = chosen.length + (chosen.length === 1 ? " row selected." : " rows selected.");
    else label.textContent = "Select rows to retry, cancel or delete them.";
    all.hidden = !(page && page.checked && bar.dataset.morePages === "yes" && scope.value !== "filter");
    bar.querySelectorAll("[hx-post]").forEach(function (b) { b.disabled = chosen.length === 0; });
    const confirm = table.querySelector("#bulk-confirm");
    if (confirm) confirm.innerHTML = ""; // a changed choice needs a fresh count
  }
  htmx.onLoad(function (root) {
    // A checkbox's click must not reach its row, whose click opens the drawer.
    root.querySelectorAll(".row-select, #select-page").forEach(function (box) {
      box.addEventListener("click", function (e) { e.stopPropagation(); });
    });
  });
  document.addEventListener("change", function (e) {
    const table = e.target.closest && e.target.closest("#job-table");
    if (!table) return;
    if (e.target.id === "select-page") {
      table.querySelectorAll(".row-select").forEach(function (b) { b.checked = e.target.checked; });
    }
    if (e.target.matches(".row-select, #select-page")) updateSelection(table);
  });
  document.addEventListener("click", function (e) {
    const table = e.target.closest && e.target.closest("#job-table");
    if (!table) return;
    if (e.target.closest("#bulk-all")) {
      table.querySelector("#bulk-scope").value = "filter";
      table.querySelector("#bulk-selected").textContent = "All jobs matching this filter are selected.";
      e.target.closest("#bulk-all").hidden = true;
      table.querySelector("#bulk-confirm").innerHTML = "";
    }
    if (e.target.closest("[data-bulk-back]")) table.querySelector("#bulk-confirm").innerHTML = "";
  });

  // ---- live views (issue 16, item 4) ----------------------------------------------------------
  // A [data-live] element polls itself with htmx (hx-trigger="every Ns"); the server answers
  // 204 while it has not changed (web/live.py), so most polls swap nothing. These listeners
  // decide when a poll is worth sending and keep what the reader was doing across a swap.
  // Listeners, not hx-trigger filters ("every 2s [this.open]"): filters are evaluated code,
  // which the page's CSP forbids.
  function typingIn(el) {
    const active = document.activeElement;
    return !!active && el.contains(active) && active.matches("input, textarea, select");
  }
  function pollWanted(el) {
    if (document.hidden) return false; // a background tab reads nothing
    if (el.id === "job-table" && bulkBusy(el)) return false; // rows chosen for a bulk action
    if (el.closest("details:not([open])")) return false; // a folded "Last 10 executions"
    const drawer = el.closest(".drawer");
    if (drawer && !drawer.classList.contains("open")) return false;
    return !typingIn(el); // a reason being typed is not swapped away under the fingers
  }
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    const el = e.detail.elt;
    if (el && el.matches && el.matches("[data-live]") && !pollWanted(el)) e.preventDefault();
  });

  // What a swap would lose, by element id: focus, typed text, open <details>, scroll inside
  // [data-keep-scroll] boxes, and where the reader is on the page (the first row in view).
  const kept = {};
  // Only when the reader has scrolled past the top of the view: there, rows added above
  // would push what they read away. With the top in sight, new rows simply appear there.
  function firstInView(el) {
    if (el.getBoundingClientRect().top >= 0) return null;
    const rows = el.querySelectorAll("[data-anchor]");
    for (let i = 0; i < rows.length; i++) {
      const top = rows[i].getBoundingClientRect().top;
      if (top >= 0 && top < window.innerHeight) return { key: rows[i].dataset.anchor, top: top };
    }
    return null;
  }
  function rememberView(el) {
    // The drawer's own scroll needs nothing: htmx inserts the new part before it removes the
    // old, so the box never gets shorter in between (the browser test checks it).
    const state = { open: [], values: {}, scroll: {}, focus: null, anchor: firstInView(el) };
    el.querySelectorAll("details[open][data-keep-open]").forEach(function (d) { state.open.push(d.dataset.keepOpen); });
    el.querySelectorAll("input[id], textarea[id]").forEach(function (i) { if (i.value) state.values[i.id] = i.value; });
    el.querySelectorAll("[data-keep-scroll]").forEach(function (b) { state.scroll[b.dataset.keepScroll] = b.scrollTop; });
    const active = document.activeElement;
    if (active && active.id && el.contains(active)) state.focus = active.id;
    return state;
  }
  function restoreView(el, state) {
    state.open.forEach(function (key) {
      const d = el.querySelector('details[data-keep-open="' + key + '"]');
      if (d) d.open = true;
    });
    Object.keys(state.values).forEach(function (id) {
      const input = document.getElementById(id);
      if (input && el.contains(input) && !input.value) input.value = state.values[id];
    });
    Object.keys(state.scroll).forEach(function (key) {
      const box = el.querySelector('[data-keep-scroll="' + key + '"]');
      if (box) box.scrollTop = state.scroll[key];
    });
    if (state.focus) {
      const target = document.getElementById(state.focus);
      if (target) target.focus({ preventScroll: true });
    }
    if (state.anchor) { // rows added above the one in view must not push it away
      const row = el.querySelector('[data-anchor="' + state.anchor.key + '"]');
      if (row) window.scrollBy(0, row.getBoundingClientRect().top - state.anchor.top);
    }
  }
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    const target = e.detail.target;
    if (!e.detail.shouldSwap) return; // a 204: the view stays as it is
    if (target && target.id && target.matches("[data-live]")) kept[target.id] = rememberView(target);
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    const id = e.detail.target && e.detail.target.id;
    const state = id && kept[id];
    if (!state) return;
    delete kept[id];
    const el = document.getElementById(id);
    if (el) restoreView(el, state);
  });
  // Back in view: ask at once rather than at the next tick.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) return;
    document.querySelectorAll("[data-live][hx-trigger]").forEach(function (el) {
      if (pollWanted(el)) htmx.trigger(el, "jobdeck:live");
    });
  });

  // ---- schedule cards ----------------------------------------------------------------------
  // A reason typed for Run Now or Pause goes with that one action: clear it once it is done.
  // On beforeSwap, whose target is still in the page: by afterRequest the button that sent
  // the request has been swapped out, and its events no longer reach the body.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    const sender = e.detail.requestConfig && e.detail.requestConfig.elt;
    const include = sender && sender.getAttribute("hx-include");
    if (!include || include.indexOf("#reason-") !== 0 || e.detail.xhr.status >= 400) return;
    const field = document.querySelector(include);
    if (field) field.value = "";
  });

  // ---- wiring ------------------------------------------------------------------------------
  function refresh(root) {
    renderChart(document.getElementById("chart"));
    localTimes(root || document);
  }
  document.addEventListener("DOMContentLoaded", function () { refresh(document); });
  document.body.addEventListener("htmx:afterSettle", function (e) {
    refresh(e.detail.elt || document);
    if (e.detail.target && e.detail.target.id === "drawer") {
      const drawer = e.detail.target;
      drawer.classList.toggle("open", drawer.children.length > 0);
      const close = drawer.querySelector(".close");
      if (close) close.focus({ preventScroll: true });
    }
  });
})();
