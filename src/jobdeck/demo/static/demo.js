// The litigation desk's few behaviours: menus that close like menus, and the analytics chart.
// No inline script anywhere (the Content-Security-Policy forbids it); no build step.
(function () {
  "use strict";

  // ---- menus (<details>): one open at a time, closed by Escape or a click elsewhere -------
  function menus() { return document.querySelectorAll("details.menu"); }
  document.addEventListener("click", function (event) {
    menus().forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    menus().forEach(function (menu) {
      if (menu.open) { menu.open = false; menu.querySelector("summary").focus(); }
    });
  });
  menus().forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) return;
      menus().forEach(function (other) { if (other !== menu) other.open = false; });
    });
  });

  // ---- analytics: the snapshots over time (uPlot, shipped with the jobdeck dashboard) ------
  function cssVar(name, fallback) {
    const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function dayLabel(seconds) {
    return new Date(seconds * 1000).toLocaleDateString(undefined, { timeZone: "UTC", day: "numeric", month: "short" });
  }

  function renderSnapshots(el) {
    if (!el || el.dataset.ready || !window.uPlot) return;
    const data = JSON.parse(el.dataset.chart);
    const colors = [cssVar("--series-1", "#3b5bdb"), cssVar("--series-2", "#c2410c"), cssVar("--series-3", "#0f766e")];
    const readout = document.getElementById("chart-readout");
    const axis = { stroke: cssVar("--muted", "#5b6470"), grid: { stroke: cssVar("--line", "#e3e6ea"), width: 1 }, ticks: { show: false } };
    const opts = {
      width: el.clientWidth || 600,
      height: 260,
      legend: { show: false },
      cursor: { points: { size: 7 }, drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(4, (max || 0) * 1.15)]; } } },
      axes: [
        Object.assign({}, axis, { values: function (u, splits) { return splits.map(dayLabel); } }),
        Object.assign({}, axis, { size: 40 }),
      ],
      series: [{}].concat(data.series.map(function (s, i) {
        return { label: s.label, stroke: colors[i % colors.length], width: 2, points: { show: true, size: 5 } };
      })),
      hooks: {
        setCursor: [function (u) {
          if (!readout) return;
          const i = u.cursor.idx;
          if (i == null) { readout.textContent = ""; return; }
          readout.textContent = dayLabel(data.x[i]) + ": " + data.series.map(function (s) {
            return s.label + " " + (s.values[i] == null ? "no snapshot" : s.values[i]);
          }).join(" · ");
        }],
      },
    };
    el.innerHTML = "";
    el._chart = new uPlot(opts, [data.x].concat(data.series.map(function (s) { return s.values; })), el);
    el.dataset.ready = "1";
  }

  window.addEventListener("resize", function () {
    const el = document.getElementById("snapshot-chart");
    if (el && el._chart) el._chart.setSize({ width: el.clientWidth, height: 260 });
  });
  renderSnapshots(document.getElementById("snapshot-chart"));
})();
