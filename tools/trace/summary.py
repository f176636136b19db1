#!/usr/bin/python3
"""tools/trace/summary.py — where the time went, from a hue trace (runtime::start_trace, --trace).

  /usr/bin/python3 tools/trace/summary.py TRACE.json [--png FILE] [--window START_US:END_US]

Prints, from the Chrome trace-event JSON the runtime writes:
  - per handler: runs, cycle percentiles (p50, p90, p99, max) and share of all handler cycles;
  - steals: attempts, successes, success rate, colors and events moved, and regret steals as the
    trace shows them (the victim went idle sooner after the steal than the steal itself took: it
    would have run the work itself, and the steal bought a cold run);
  - per core: busy share, and a histogram of idle gaps (end of one handler run to the start of the
    next on that core), in power-of-two microsecond buckets;
  - flows (cross-core posts, steals) and dropped records.
--png draws a timeline (a row per core: handler runs colored by handler, steals, parks, sleeps)
of the window given in microseconds from the start of the trace (default: the first 2 ms).
matplotlib comes from Debian (python3-matplotlib), installed by scripts/bootstrap.sh on first use.
"""
import argparse
import collections
import json
import math
import os
import subprocess
import sys

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def percentile(sorted_values, p):
    if not sorted_values:
        return 0
    k = min(len(sorted_values) - 1, max(0, math.ceil(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if "traceEvents" not in doc:
        sys.exit(f"summary.py: {path} is not a Chrome trace-event file (no traceEvents)")
    return doc


def split(doc):
    slices = collections.defaultdict(list)  # cat -> events
    tracks = {}
    flows = collections.Counter()
    for e in doc["traceEvents"]:
        ph = e.get("ph")
        if ph == "M" and e.get("name") == "thread_name":
            tracks[e["tid"]] = e["args"]
        elif ph == "X":
            slices[e.get("cat", "")].append(e)
        elif ph == "s":
            flows[e.get("cat", "")] += 1
        elif ph == "i":
            slices["instant:" + e.get("cat", "")].append(e)
    return slices, tracks, flows


def handler_table(runs):
    by_name = collections.defaultdict(list)
    for e in runs:
        by_name[e["name"]].append(int(e["args"]["cycles"]))
    total = sum(sum(v) for v in by_name.values()) or 1
    rows = []
    for name, cycles in by_name.items():
        cycles.sort()
        rows.append((name, len(cycles), percentile(cycles, 50), percentile(cycles, 90),
                     percentile(cycles, 99), cycles[-1], 100.0 * sum(cycles) / total))
    rows.sort(key=lambda r: -r[6])
    print(f"{'handler':<24}{'runs':>9}{'p50 cyc':>10}{'p90 cyc':>10}{'p99 cyc':>10}"
          f"{'max cyc':>11}{'cycles %':>10}")
    for r in rows:
        print(f"{r[0][:23]:<24}{r[1]:>9}{r[2]:>10}{r[3]:>10}{r[4]:>10}{r[5]:>11}{r[6]:>9.1f}%")


def steal_table(steals, idle):
    ok = [e for e in steals if e["name"] == "steal"]
    attempts = len(steals)
    parks = collections.defaultdict(list)
    for e in idle:
        if e["name"] == "park":
            parks[e["tid"]].append(e["ts"])
    for v in parks.values():
        v.sort()
    regret = 0
    import bisect
    for e in ok:
        end = e["ts"] + e["dur"]
        starts = parks.get(e["args"]["victim"], [])
        i = bisect.bisect_left(starts, end)
        if i < len(starts) and starts[i] - end < e["dur"]:
            regret += 1
    colors = sum(e["args"]["colors"] for e in ok)
    events = sum(e["args"]["events"] for e in ok)
    rate = 100.0 * len(ok) / attempts if attempts else 0.0
    print(f"steals: {attempts} attempts, {len(ok)} successful ({rate:.1f}%), {colors} colors and "
          f"{events} events moved, {regret} regret steals (victim idle within one steal's time)")


def idle_table(runs, duration_us):
    by_core = collections.defaultdict(list)
    for e in runs:
        by_core[e["tid"]].append((e["ts"], e["ts"] + e["dur"]))
    edges = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384]
    labels = ["<1"] + [f"{a}-{b}" for a, b in zip(edges, edges[1:])] + [f">={edges[-1]}"]
    print("idle gaps between handler runs per core (count per bucket, microseconds):")
    print(f"{'core':<6}{'busy %':>8}  " + " ".join(f"{l:>9}" for l in labels))
    for core in sorted(by_core):
        spans = sorted(by_core[core])
        busy = sum(b - a for a, b in spans)
        hist = [0] * len(labels)
        for (a0, a1), (b0, _) in zip(spans, spans[1:]):
            gap = b0 - a1
            hist[bisect_edges(edges, gap)] += 1
        share = 100.0 * busy / duration_us if duration_us else 0.0
        print(f"{core:<6}{share:>7.1f}%  " + " ".join(f"{h:>9}" for h in hist))


def bisect_edges(edges, gap):
    for i, e in enumerate(edges):
        if gap < e:
            return i
    return len(edges)


def timeline(slices, tracks, window, png):
    try:
        import matplotlib
    except ImportError:
        subprocess.run([os.path.join(REPO, "scripts", "bootstrap.sh"), "python3-matplotlib"],
                       check=True)
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lo, hi = window
    cores = sorted(tracks) or sorted({e["tid"] for e in slices.get("handler", [])})
    runs = [e for e in slices.get("handler", []) if e["ts"] < hi and e["ts"] + e["dur"] > lo]
    names = [n for n, _ in collections.Counter(e["name"] for e in runs).most_common()]
    palette = plt.get_cmap("tab20")
    color_of = {n: palette(i % 20) for i, n in enumerate(names)}
    fig, ax = plt.subplots(figsize=(14, 1.2 + 0.9 * len(cores)))
    for row, core in enumerate(cores):
        y = row * 10
        for cat, face, y0, h in (("idle", "#dddddd", 1, 8), ("steal", "#d62728", 7, 2)):
            bars = [(e["ts"] - lo, e["dur"]) for e in slices.get(cat, [])
                    if e["tid"] == core and e["ts"] < hi and e["ts"] + e["dur"] > lo]
            if bars:
                ax.broken_barh(bars, (y + y0, h), facecolors=face)
        for n in names:
            bars = [(e["ts"] - lo, e["dur"]) for e in runs if e["tid"] == core and e["name"] == n]
            if bars:
                ax.broken_barh(bars, (y + 2, 5), facecolors=color_of[n])
    ax.set_xlim(0, hi - lo)
    ax.set_yticks([row * 10 + 5 for row in range(len(cores))])
    ax.set_yticklabels([f"core {c}" for c in cores])
    ax.set_xlabel(f"microseconds after {lo:.0f} us into the trace")
    handles = [plt.Rectangle((0, 0), 1, 1, color=color_of[n]) for n in names[:12]]
    handles += [plt.Rectangle((0, 0), 1, 1, color="#d62728"), plt.Rectangle((0, 0), 1, 1, color="#dddddd")]
    ax.legend(handles, names[:12] + ["steal", "park / sleep"], loc="upper center",
              bbox_to_anchor=(0.5, -0.25), ncol=5, fontsize=8)
    ax.set_title(f"hue trace, {lo:.0f}-{hi:.0f} us")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print(f"timeline: {png} ({len(runs)} handler runs in the window)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--png", help="write a timeline of the window to this PNG")
    ap.add_argument("--window", default="0:2000", help="START_US:END_US for --png (default 0:2000)")
    args = ap.parse_args()
    try:
        lo, hi = (float(x) for x in args.window.split(":"))
        if hi <= lo:
            raise ValueError
    except ValueError:
        sys.exit(f"summary.py: --window wants START_US:END_US with START < END, not {args.window!r}")

    doc = load(args.trace)
    slices, tracks, flows = split(doc)
    runs = slices.get("handler", [])
    other = doc.get("otherData", {})
    ends = [e["ts"] + e.get("dur", 0) for cat in slices.values() for e in cat]
    duration = max(ends) if ends else 0.0
    print(f"trace: {args.trace}: {len(tracks)} cores, {duration / 1000:.1f} ms, {len(runs)} handler "
          f"runs, {other.get('records', '?')} records, {other.get('dropped', '?')} dropped, "
          f"TSC {other.get('tsc_per_us', 0) / 1000:.3f} GHz")
    handler_table(runs)
    steal_table(slices.get("steal", []), slices.get("idle", []))
    idle_table(runs, duration)
    polls = slices.get("reactor", [])
    print(f"reactor: {len(polls)} polls that found I/O, {sum(e['args']['ready'] for e in polls)} "
          f"registrations made ready; watchdog rescues: {len(slices.get('instant:rescue', []))}")
    print(f"flows: {flows.get('post', 0)} cross-core posts, {flows.get('steal', 0)} steal -> run")
    if args.png:
        timeline(slices, tracks, (lo, hi), args.png)


if __name__ == "__main__":
    main()
