// Fills the "This server, live" section from the server's Prometheus metrics (hue-sws --metrics
// /metrics), every two seconds: the totals, a row per core, and per core over the last minute
// three small charts (events/s, steals/s, busy %), drawn as plain SVG so the page needs no
// library. Without metrics the section says so and nothing else happens.
"use strict";

function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)$/);
    if (!m) continue;
    const labels = {};
    for (const pair of (m[3] || "").split(",")) {
      const kv = pair.match(/^\s*([a-zA-Z_]\w*)="(.*)"\s*$/);
      if (kv) labels[kv[1]] = kv[2];
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

function sum(samples, name) {
  return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

// Per-core counters of one scrape: { core: { metric: value } }.
function perCore(samples) {
  const per = {};
  for (const s of samples) {
    if (!s.name.startsWith("hue_core_")) continue;
    (per[s.labels.core] ||= {})[s.name] = s.value;
  }
  return per;
}

// The last minute of scrapes, as { t: seconds, per: perCore(...) }.
const WINDOW_S = 60;
const history = [];

// What each chart plots, per core, between two scrapes a and b (dt seconds apart).
const CHARTS = [
  { id: "chart-events", unit: "events/s",
    value: (a, b, dt) => (b.hue_core_events_run_total - a.hue_core_events_run_total) / dt },
  { id: "chart-steals", unit: "steals/s",
    value: (a, b, dt) => (b.hue_core_steals_total - a.hue_core_steals_total) / dt },
  { id: "chart-busy", unit: "% busy", fixedMax: 100,
    value: (a, b) => {
      const busy = b.hue_core_busy_cycles_total - a.hue_core_busy_cycles_total;
      const idle = b.hue_core_idle_cycles_total - a.hue_core_idle_cycles_total;
      return busy + idle > 0 ? 100 * busy / (busy + idle) : 0;
    } },
];
const PALETTE = ["#6a3d9a", "#1f78b4", "#33a02c", "#e31a1c", "#ff7f00", "#b15928", "#a6cee3", "#fb9a99"];
const SVG = "http://www.w3.org/2000/svg";

function svgElement(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// One chart: a polyline per core over the last minute, the scale's top and the latest values.
function drawChart(chart, cores) {
  const svg = document.getElementById(chart.id);
  const W = 320, H = 90, top = 14, now = history[history.length - 1].t;
  const series = {};
  for (const core of cores) {
    series[core] = [];
    for (let i = 1; i < history.length; ++i) {
      const a = history[i - 1], b = history[i], dt = b.t - a.t;
      if (dt > 0 && a.per[core] && b.per[core])
        series[core].push([b.t, Math.max(0, chart.value(a.per[core], b.per[core], dt))]);
    }
  }
  const highest = Math.max(1, ...Object.values(series).flat().map((p) => p[1]));
  const max = chart.fixedMax || highest;
  const x = (t) => (W * (t - (now - WINDOW_S)) / WINDOW_S).toFixed(1);
  const y = (v) => (H - (H - top) * v / max).toFixed(1);
  svg.replaceChildren(svgElement("rect", { x: 0, y: 0, width: W, height: H, class: "frame" }));
  svg.appendChild(svgElement("text", { x: 4, y: 11, class: "scale" },
                             `${chart.unit}, top ${Math.round(max).toLocaleString()}`));
  cores.forEach((core, i) => {
    const points = series[core].map(([t, v]) => `${x(t)},${y(v)}`).join(" ");
    const colour = PALETTE[i % PALETTE.length];
    svg.appendChild(svgElement("polyline", { points, "data-core": core, stroke: colour, fill: "none",
                                             "stroke-width": 1.5 }));
    const last = series[core].length ? series[core][series[core].length - 1][1] : 0;
    svg.appendChild(svgElement("text", { x: W - 4, y: 11 + 11 * (i + 1), class: "latest", fill: colour,
                                         "text-anchor": "end" },
                               `core ${core}: ${Math.round(last).toLocaleString()}`));
  });
}

function show(samples) {
  document.getElementById("m-requests").textContent = sum(samples, "sws_requests_total").toLocaleString();
  document.getElementById("m-open").textContent = sum(samples, "sws_connections_open").toLocaleString();
  document.getElementById("m-bytes").textContent = sum(samples, "sws_sent_bytes_total").toLocaleString();
  const per = perCore(samples);
  const cores = Object.keys(per).sort((a, b) => a - b);
  const body = document.querySelector("#metrics-cores tbody");
  body.replaceChildren();
  for (const core of cores) {
    const c = per[core];
    const busy = c.hue_core_busy_cycles_total || 0, idle = c.hue_core_idle_cycles_total || 0;
    const row = document.createElement("tr");
    for (const v of [core, (c.hue_core_events_run_total || 0).toLocaleString(),
                     (c.hue_core_steals_total || 0).toLocaleString(),
                     busy + idle ? (100 * busy / (busy + idle)).toFixed(1) + "%" : "-"]) {
      const td = document.createElement("td");
      td.textContent = v;
      row.appendChild(td);
    }
    body.appendChild(row);
  }
  const t = performance.now() / 1000;
  history.push({ t, per });
  while (history.length > 2 && history[0].t < t - WINDOW_S - 2) history.shift();
  if (history.length >= 2) {
    for (const chart of CHARTS) drawChart(chart, cores);
    document.getElementById("metrics-charts").hidden = false;
  }
  document.getElementById("metrics-server").hidden = false;
  document.getElementById("metrics-cores").hidden = false;
  document.getElementById("metrics-status").textContent = "Live: refreshed every 2 s from /metrics.";
}

async function refresh() {
  try {
    const r = await fetch("metrics", { cache: "no-store" });
    if (!r.ok) return false;
    show(parseMetrics(await r.text()));
    return true;
  } catch (e) {
    return false;
  }
}

refresh().then((on) => { if (on) setInterval(refresh, 2000); });
