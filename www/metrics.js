// Fills the "This server, live" section from the server's Prometheus metrics (hue-sws --metrics
// /metrics), every two seconds. Without metrics the section says so and nothing else happens.
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

function show(samples) {
  document.getElementById("m-requests").textContent = sum(samples, "sws_requests_total").toLocaleString();
  document.getElementById("m-open").textContent = sum(samples, "sws_connections_open").toLocaleString();
  document.getElementById("m-bytes").textContent = sum(samples, "sws_sent_bytes_total").toLocaleString();
  const per = {};
  for (const s of samples) {
    if (!s.name.startsWith("hue_core_")) continue;
    (per[s.labels.core] ||= {})[s.name] = s.value;
  }
  const body = document.querySelector("#metrics-cores tbody");
  body.replaceChildren();
  for (const core of Object.keys(per).sort((a, b) => a - b)) {
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
