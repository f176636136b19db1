#!/usr/bin/env python3
"""tools/bench_report.py — the report of a results directory of tools/bench-all.sh, from the Google
Benchmark JSON files the programs wrote there (--benchmark_out=P.json).

    /usr/bin/python3 tools/bench_report.py DIR [--no-plot]

Prints, for each program found, the paper-shaped table (median [min..max] over the repetitions of
each row) under the machine line of its JSON context, and the ratios of hue's rows to the peers';
writes DIR/report.txt (the same) and, with matplotlib (Debian: python3-matplotlib, installed for
/usr/bin/python3), the plots:
  throughput.png  one panel per table program (unbalanced, penalty, cache_efficient): throughput
                  per configuration, median with a [min..max] whisker, peers in their own colours
  scaling.png     unbalanced_sweep: KEvents/s against workers for hue (all), Boost.Asio, oneTBB
  dispatch.png    dispatch: ns per event, hue against Boost.Asio (lower is better)
Only the standard library is needed for the tables.
"""
import argparse
import json
import math
import os
import re
import statistics
import sys

TABLES = [  # program, throughput counter, unit, panel title
    ("unbalanced", "kevents", "KEvents/s", "unbalanced (Tables 3-4)"),
    ("penalty", "ktasks", "KTasks/s", "penalty (Table 5)"),
    ("cache_efficient", "kevents", "KEvents/s", "cache-efficient (Table 6)"),
]
PEERS = {"asio": "Boost.Asio", "asio_make_strand": "Asio, make_strand/event", "tbb": "oneTBB"}
COLOURS = {"hue": "#4878a8", "asio": "#d9822b", "tbb": "#3f9a4a"}
HEADLINE = {"unbalanced": "all", "penalty": "penalty", "cache_efficient": "locality"}


def load(path):
    """{row: {counter: [values over repetitions]}} in the program's row order, and the
    machine line of the file's context."""
    with open(path) as f:
        doc = json.load(f)
    rows, order = {}, {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        key = b["name"].split("/iterations:")[0]
        order[key] = b.get("family_index", 0)  # registration order: the program's table order
        row = rows.setdefault(key, {})
        for name, v in b.items():
            skip = name.endswith(("index", "iterations", "repetitions", "threads"))
            if isinstance(v, (int, float)) and not skip:
                row.setdefault(name, []).append(float(v))
    rows = dict(sorted(rows.items(), key=lambda kv: order[kv[0]]))
    c = doc.get("context", {})
    caches = {x["level"]: x["size"] for x in c.get("caches", []) if x.get("type") != "Instruction"}
    size = lambda b: "?" if not b else "%d MiB" % (b >> 20) if b >= 1 << 20 else "%d KiB" % (b >> 10)
    machine = "machine: %s, %s cpus at %s MHz, L2 %s, L3 %s, %s" % (
        c.get("host_name", "?"), c.get("num_cpus", "?"), c.get("mhz_per_cpu", "?"),
        size(caches.get(2)), size(caches.get(3)), c.get("date", "?"))
    return rows, machine


def med(row, counter):
    v = [x for x in row.get(counter, []) if math.isfinite(x)]
    return statistics.median(v) if v else math.nan


def cell(row, counter, digits=0):
    v = [x for x in row.get(counter, []) if math.isfinite(x)]
    if not v:
        return "-"
    m = "%.*f" % (digits, statistics.median(v))
    return m if len(v) < 2 else "%s [%.*f..%.*f]" % (m, digits, min(v), digits, max(v))


def table(out, name, rows, machine, counter, unit):
    out.append("\n%s: %s, median [min..max] over repetitions\n%s\n" % (name, unit, machine))
    out.append("%-20s %24s %10s %9s" % ("configuration", unit, "efficiency", "locking"))
    for key, row in rows.items():
        eff, lock = med(row, "efficiency"), med(row, "lock_pct")
        out.append("%-20s %24s %10s %9s" % (key, cell(row, counter),
                   "-" if math.isnan(eff) else "%.1f%%" % (100 * eff),
                   "-" if key in PEERS or math.isnan(lock) else "%.1f%%" % lock))
    head = HEADLINE[name]
    for num in dict.fromkeys([head, "all"]):
        for den in ["base"] + list(PEERS):
            if num in rows and den in rows and num != den:
                r = med(rows[num], counter) / med(rows[den], counter)
                out.append("ratio %s / %s: %.2fx" % (num, den, r))


def dispatch_table(out, rows, machine):
    out.append("\ndispatch: ns per event, median [min..max]\n%s\n" % machine)
    out.append("%-24s %22s %22s %9s" % ("benchmark", "hue", "Boost.Asio", "hue/asio"))
    cases = dict.fromkeys(k.split("/", 1)[1] for k in rows)
    for case in cases:
        h, a = rows.get("hue/" + case, {}), rows.get("asio/" + case, {})
        r = med(h, "ns") / med(a, "ns") if a else math.nan
        out.append("%-24s %22s %22s %9s" % (case, cell(h, "ns", 1), cell(a, "ns", 1),
                                            "-" if math.isnan(r) else "%.2f" % r))
    if "floor/cross_core_pingpong" in rows:
        out.append("cache-line floor of a cross-core hop: %s ns" %
                   cell(rows["floor/cross_core_pingpong"], "ns", 1))


def plots(directory, found):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    written = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(os.path.join(directory, name), dpi=110)
        plt.close(fig)
        written.append(os.path.join(directory, name))
    panels = [t for t in TABLES if t[0] in found]
    if panels:
        fig, axes = plt.subplots(len(panels), 1, figsize=(9, 3.2 * len(panels)), squeeze=False)
        for ax, (name, counter, unit, title) in zip(axes[:, 0], panels):
            rows = found[name][0]
            keys = list(rows)[::-1]
            meds = [med(rows[k], counter) for k in keys]
            lo = [m - min(rows[k].get(counter, [m])) for k, m in zip(keys, meds)]
            hi = [max(rows[k].get(counter, [m])) - m for k, m in zip(keys, meds)]
            colours = [COLOURS["tbb" if k == "tbb" else "asio" if k in PEERS else "hue"] for k in keys]
            ax.barh(keys, meds, xerr=[lo, hi], color=colours, capsize=3)
            ax.set_xlabel(unit)
            ax.set_title(title)
        save(fig, "throughput.png")
    if "unbalanced_sweep" in found:
        rows = found["unbalanced_sweep"][0]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for system, label in (("all", "hue all heuristics"), ("asio", PEERS["asio"]),
                              ("tbb", PEERS["tbb"])):
            pts = sorted((int(m.group(1)), med(r, "kevents")) for k, r in rows.items()
                         if (m := re.fullmatch(re.escape(system) + r"_w(\d+)", k)))
            if pts:
                ax.plot(*zip(*pts), marker="o", label=label,
                        color=COLOURS.get(system, COLOURS["hue"]))
        ax.set_xlabel("workers")
        ax.set_ylabel("KEvents/s")
        ax.legend()
        save(fig, "scaling.png")
    if "dispatch" in found:
        rows = found["dispatch"][0]
        cases = list(dict.fromkeys(k.split("/", 1)[1] for k in rows if not k.startswith("floor")))
        fig, ax = plt.subplots(figsize=(8, 4))
        for i, (side, label) in enumerate((("hue", "hue"), ("asio", "Boost.Asio"))):
            ax.bar([c + i * 0.4 for c in range(len(cases))],
                   [med(rows.get(side + "/" + c, {}), "ns") for c in cases], 0.4, label=label,
                   color=COLOURS[side])
        ax.set_xticks([c + 0.2 for c in range(len(cases))], cases, rotation=15, fontsize=8)
        ax.set_ylabel("ns per event (log)")
        ax.set_yscale("log")
        ax.legend()
        save(fig, "dispatch.png")
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("directory")
    ap.add_argument("--no-plot", action="store_true")
    a = ap.parse_args()
    found = {}
    for stem in ["dispatch", "unbalanced_sweep"] + [t[0] for t in TABLES]:
        path = os.path.join(a.directory, stem + ".json")
        if os.path.exists(path):
            found[stem] = load(path)
    if not found:
        sys.exit("bench_report: no benchmark JSON in %s" % a.directory)
    out = []
    if "dispatch" in found:
        dispatch_table(out, *found["dispatch"])
    for name, counter, unit, _ in TABLES:
        if name in found:
            table(out, name, found[name][0], found[name][1], counter, unit)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(os.path.join(a.directory, "report.txt"), "w") as f:
        f.write(text)
    if not a.no_plot:
        for path in plots(a.directory, found):
            print("wrote", path)


if __name__ == "__main__":
    main()
