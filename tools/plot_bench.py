#!/usr/bin/env python3
"""tools/plot_bench.py — plots the CSVs that tools/bench-all.sh collects in one directory.

    /usr/bin/python3 tools/plot_bench.py DIR [--backend auto|matplotlib|gnuplot]

Writes, in DIR:
  throughput.png  one panel per table benchmark found (unbalanced.csv, penalty.csv,
                  cache_efficient.csv): throughput per configuration as horizontal bars, median
                  with a [min..max] whisker, peers (Boost.Asio, oneTBB) in their own colours, the
                  ideal bound as a dashed line where the CSV has one. Like the paper's tables.
  scaling.png     unbalanced_sweep.csv: events/s against workers, hue and the peers, with the
                  ideal bound (handler cycles / workers).
  dispatch.png    dispatch.csv: ns per event, hue against Boost.Asio (lower is better).

The table CSVs are read by column name, so a benchmark only needs: a `label` (or first) column, a
throughput column named k<unit>_per_s (kevents_per_s, ktasks_per_s) with optional k<unit>_min and
k<unit>_max, optionally ideal_k<unit> and a `system` column (hue, asio, tbb; hue if absent).

matplotlib is used when it imports (Debian: python3-matplotlib, installed for /usr/bin/python3);
otherwise gnuplot (gnuplot-nox), from generated data and script files (DIR/plot-*.gp, *.dat).
Only the standard library is needed to read the data.
"""
import argparse
import csv
import math
import os
import re
import shutil
import subprocess
import sys

TABLES = [  # file stem, panel title
    ("unbalanced", "unbalanced (Tables 3-4): 98% x 100 cycles, 2% x 10-50k cycles"),
    ("penalty", "penalty (Table 5)"),
    ("cache_efficient", "cache-efficient (Table 6)"),
]
SYSTEM_COLOURS = {"hue": "#4878a8", "asio": "#d9822b", "tbb": "#3f9a4a"}
SYSTEM_NAMES = {"hue": "hue", "asio": "Boost.Asio", "tbb": "oneTBB"}
# Lines of the scaling plot: the sweep's `system` column holds configuration keys.
SWEEP_STYLE = {"all": ("hue all heuristics", "#4878a8", "o"),
               "asio": ("Boost.Asio", "#d9822b", "s"),
               "tbb": ("oneTBB", "#3f9a4a", "^")}



def save_png(plt, fig, directory, name):
    """Lays out, writes and closes one figure; returns its path."""
    fig.tight_layout()
    path = os.path.join(directory, name)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

def num(text):
    try:
        v = float(text)
    except (TypeError, ValueError):
        return math.nan
    return v


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def table_series(rows):
    """Rows of a table benchmark -> (unit, [(label, system, median, lo, hi)], ideal or nan)."""
    if not rows:
        return None
    cols = list(rows[0].keys())
    value = next((c for c in cols if re.fullmatch(r"k\w+_per_s", c)), None)
    if value is None:
        return None
    unit = value[1:-len("_per_s")]  # kevents_per_s -> events
    lo_col, hi_col = "k%s_min" % unit, "k%s_max" % unit
    ideal_col = "ideal_k%s" % unit
    label_col = "label" if "label" in cols else cols[0]
    out = []
    ideals = []
    for r in rows:
        v = num(r.get(value))
        if math.isnan(v):
            continue
        lo = num(r.get(lo_col, ""))
        hi = num(r.get(hi_col, ""))
        out.append((r[label_col], (r.get("system") or "hue").strip() or "hue", v,
                    v if math.isnan(lo) else lo, v if math.isnan(hi) else hi))
        ideals.append(num(r.get(ideal_col, "")))
    ideals = sorted(x for x in ideals if not math.isnan(x))
    ideal = ideals[len(ideals) // 2] if ideals else math.nan
    return unit, out, ideal


def load(directory):
    data = {"tables": [], "sweep": None, "dispatch": None}
    for stem, title in TABLES:
        path = os.path.join(directory, stem + ".csv")
        if not os.path.exists(path):
            continue
        series = table_series(read_csv(path))
        if series is None or not series[1]:
            print("plot_bench: %s: no throughput column (k<unit>_per_s) or no rows; skipped" % path,
                  file=sys.stderr)
            continue
        data["tables"].append((stem, title) + series)
    path = os.path.join(directory, "unbalanced_sweep.csv")
    if os.path.exists(path):
        lines = {}
        ideal = {}
        for r in read_csv(path):
            w = int(r["workers"])
            lines.setdefault(r["system"], (r.get("label") or r["system"], []))[1].append(
                (w, num(r["kevents_per_s"]), num(r.get("kevents_min")), num(r.get("kevents_max"))))
            ideal.setdefault(w, []).append(num(r.get("ideal_kevents")))
        ideal = sorted((w, sorted(v)[len(v) // 2]) for w, v in ideal.items())
        data["sweep"] = (lines, ideal)
    path = os.path.join(directory, "dispatch.csv")
    if os.path.exists(path):
        data["dispatch"] = [(r["benchmark"], num(r.get("hue_ns_per_event")),
                             num(r.get("asio_ns_per_event"))) for r in read_csv(path)]
    return data


# ------------------------------------------------------------------------------------------------
# matplotlib

def plot_matplotlib(directory, data):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    written = []

    tables = data["tables"]
    if tables:
        heights = [max(2.5, 0.38 * len(t[3]) + 1.4) for t in tables]
        fig, axes = plt.subplots(len(tables), 1, figsize=(11, sum(heights)),
                                 gridspec_kw={"height_ratios": heights}, squeeze=False)
        for ax, (stem, title, unit, rows, ideal) in zip(axes[:, 0], tables):
            labels = [r[0] for r in rows]
            values = [r[2] for r in rows]
            y = list(range(len(rows)))[::-1]  # first configuration on top, as in the tables
            colours = [SYSTEM_COLOURS.get(r[1], "#888888") for r in rows]
            err = [[r[2] - r[3] for r in rows], [r[4] - r[2] for r in rows]]
            ax.barh(y, values, color=colours, xerr=err, capsize=3, ecolor="#333333")
            ax.set_yticks(y)
            ax.set_yticklabels(labels)
            top = max(r[4] for r in rows)
            for yy, r in zip(y, rows):  # the median, right of its whisker
                ax.text(r[4] + top * 0.012, yy, "%.0f" % r[2], va="center", fontsize=8)
            if not math.isnan(ideal):
                ax.axvline(ideal, color="#aa3333", linestyle="--", linewidth=1)
                ax.text(ideal, y[0] + 0.55, " ideal %.0f" % ideal, color="#aa3333", fontsize=8,
                        va="bottom", ha="right" if ideal > top * 1.3 else "left")
                top = max(top, ideal)
            ax.set_xlim(0, top * 1.12)
            ax.set_ylim(-0.7, len(rows) - 0.1)
            ax.set_xlabel("K%s/s (median, whiskers min..max; higher is better)" % unit)
            ax.set_title("%s" % title, loc="left", fontsize=10)
            ax.grid(axis="x", alpha=0.3)
            present = {r[1] for r in rows}
            systems = [s for s in SYSTEM_COLOURS if s in present] + \
                sorted(present - set(SYSTEM_COLOURS))
            if len(systems) > 1:
                ax.legend(handles=[Patch(color=SYSTEM_COLOURS.get(s, "#888888"),
                                         label=SYSTEM_NAMES.get(s, s)) for s in systems],
                          loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8)
        written.append(save_png(plt, fig, directory, "throughput.png"))

    if data["sweep"]:
        lines, ideal = data["sweep"]
        fig, ax = plt.subplots(figsize=(7.5, 5))
        for key, (label, pts) in lines.items():
            pts.sort()
            name, colour, marker = SWEEP_STYLE.get(key, (label, None, "o"))
            xs = [p[0] for p in pts]
            ys = [p[1] / 1e3 for p in pts]  # K/s -> M/s
            lo = [max(0.0, (p[1] - p[2]) / 1e3) if not math.isnan(p[2]) else 0 for p in pts]
            hi = [max(0.0, (p[3] - p[1]) / 1e3) if not math.isnan(p[3]) else 0 for p in pts]
            ax.errorbar(xs, ys, yerr=[lo, hi], label=name, color=colour, marker=marker, capsize=3)
        if ideal and not any(math.isnan(v) for _, v in ideal):
            ax.plot([w for w, _ in ideal], [v / 1e3 for _, v in ideal], color="#aa3333",
                    linestyle="--", label="ideal (handler cycles / workers)")
        ax.set_xlabel("workers (threads)")
        ax.set_ylabel("Mevents/s (median, whiskers min..max)")
        ax.set_title("unbalanced: throughput against workers", fontsize=10)
        ax.set_xticks(sorted({w for _, pts in lines.values() for w, *_ in pts}))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        written.append(save_png(plt, fig, directory, "scaling.png"))

    if data["dispatch"]:
        rows = data["dispatch"]
        fig, ax = plt.subplots(figsize=(8, 3.2))
        y = list(range(len(rows)))[::-1]
        h = 0.38
        hue_v = [r[1] for r in rows]
        asio_v = [r[2] for r in rows]
        ax.barh([v + h / 2 for v in y], hue_v, height=h, color=SYSTEM_COLOURS["hue"], label="hue")
        if not all(math.isnan(v) for v in asio_v):
            ax.barh([v - h / 2 for v in y], [0 if math.isnan(v) else v for v in asio_v], height=h,
                    color=SYSTEM_COLOURS["asio"], label="Boost.Asio")
        finite = [v for v in hue_v + asio_v if not math.isnan(v) and v > 0]
        top, bottom = max(finite), min(finite)
        # The cross-core row (a wake-up across cores: microseconds) dwarfs the same-core ones (tens
        # of ns): a log scale keeps every bar readable.
        log = top / bottom > 30
        for yy, a, b in zip(y, hue_v, asio_v):
            for v, dy in ((a, h / 2), (b, -h / 2)):
                if not math.isnan(v):
                    ax.text(v * 1.08 if log else v + top * 0.01, yy + dy, "%.1f" % v, va="center",
                            fontsize=8)
        if log:
            ax.set_xscale("log")
            ax.set_xlim(bottom / 3, top * 4)
        else:
            ax.set_xlim(0, top * 1.15)
        ax.set_yticks(y)
        ax.set_yticklabels([r[0] for r in rows])
        ax.set_xlabel("ns per event (median; lower is better)%s" % (", log scale" if log else ""))
        ax.set_title("dispatch: post + run of a tiny handler", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0))
        written.append(save_png(plt, fig, directory, "dispatch.png"))
    return written


# ------------------------------------------------------------------------------------------------
# gnuplot fallback

def gp_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plot_gnuplot(directory, data):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        raise RuntimeError("neither matplotlib nor gnuplot is available "
                           "(apt-get install -y python3-matplotlib, or gnuplot-nox)")
    written = []
    scripts = []

    tables = data["tables"]
    if tables:
        heights = [max(250, int(38 * len(t[3]) + 140)) for t in tables]
        lines = ["set terminal pngcairo size 1100,%d font ',9' noenhanced" % sum(heights),
                 "set output %s" % gp_quote(os.path.join(directory, "throughput.png")),
                 "set multiplot layout %d,1" % len(tables),
                 "set style fill solid 0.9 border -1", "set grid xtics", "unset key"]
        for stem, title, unit, rows, ideal in tables:
            dat = os.path.join(directory, "plot-%s.dat" % stem)
            with open(dat, "w") as f:
                for i, r in enumerate(rows):
                    yy = len(rows) - 1 - i
                    colour = int(SYSTEM_COLOURS.get(r[1], "#888888")[1:], 16)
                    f.write("%d %g %g %g %d %s\n" % (yy, r[2], r[3], r[4], colour,
                                                    gp_quote(r[0])))
            top = max([r[4] for r in rows] + ([] if math.isnan(ideal) else [ideal]))
            lines += ["set title %s" % gp_quote(title),
                      "set xlabel %s" % gp_quote("K%s/s (median, whiskers min..max)" % unit),
                      "set xrange [0:%g]" % (top * 1.12),
                      "set yrange [-0.7:%g]" % (len(rows) - 0.3)]
            lines.append("unset arrow")
            if not math.isnan(ideal):
                lines.append("set arrow from %g,-0.7 to %g,%g nohead dt 2 lc rgb '#aa3333'"
                             % (ideal, ideal, len(rows) - 0.3))
            lines.append("plot %s using 2:1:(0):2:($1-0.4):($1+0.4):5:ytic(6) with boxxyerror "
                         "lc rgb variable, '' using 2:1:3:4 with xerrorbars pt 0 lc rgb '#333333'"
                         % gp_quote(dat))
        lines.append("unset multiplot")
        scripts.append(("throughput.png", lines))

    if data["sweep"]:
        series, ideal = data["sweep"]
        lines = ["set terminal pngcairo size 750,500 font ',9' noenhanced",
                 "set output %s" % gp_quote(os.path.join(directory, "scaling.png")),
                 "set title 'unbalanced: throughput against workers'",
                 "set xlabel 'workers (threads)'", "set ylabel 'Mevents/s (median)'",
                 "set yrange [0:*]", "set xtics 1", "set grid", "set key top left"]
        plots = []
        for key, (label, pts) in series.items():
            dat = os.path.join(directory, "plot-sweep-%s.dat" % key)
            with open(dat, "w") as f:
                for w, v, lo, hi in sorted(pts):
                    f.write("%d %g %g %g\n" % (w, v / 1e3, (lo if not math.isnan(lo) else v) / 1e3,
                                              (hi if not math.isnan(hi) else v) / 1e3))
            name, colour, _ = SWEEP_STYLE.get(key, (label, "#555555", "o"))
            plots.append("%s using 1:2:3:4 with yerrorlines lw 2 lc rgb '%s' title %s"
                         % (gp_quote(dat), colour, gp_quote(name)))
        if ideal:
            dat = os.path.join(directory, "plot-sweep-ideal.dat")
            with open(dat, "w") as f:
                for w, v in ideal:
                    f.write("%d %g\n" % (w, v / 1e3))
            plots.append("%s using 1:2 with lines dt 2 lc rgb '#aa3333' title 'ideal'"
                         % gp_quote(dat))
        lines.append("plot " + ", ".join(plots))
        scripts.append(("scaling.png", lines))

    if data["dispatch"]:
        rows = data["dispatch"]
        dat = os.path.join(directory, "plot-dispatch.dat")
        with open(dat, "w") as f:
            for i, (name, h, a) in enumerate(rows):
                f.write("%d %g %s %s\n" % (len(rows) - 1 - i, h, "NaN" if math.isnan(a) else a,
                                           gp_quote(name)))
        lines = ["set terminal pngcairo size 800,320 font ',9' noenhanced",
                 "set output %s" % gp_quote(os.path.join(directory, "dispatch.png")),
                 "set title 'dispatch: post + run of a tiny handler'",
                 "set xlabel 'ns per event (median; lower is better; log scale)'",
                 "set style fill solid 0.9 border -1", "set grid xtics", "set logscale x",
                 "set xrange [1:*]",
                 "set yrange [-0.7:%g]" % (len(rows) - 0.3),
                 "plot %s using 2:($1+0.2):(1):2:($1+0.02):($1+0.38):ytic(4) with boxxyerror "
                 "lc rgb '%s' title 'hue', '' using 3:($1-0.2):(1):3:($1-0.38):($1-0.02) with "
                 "boxxyerror lc rgb '%s' title 'Boost.Asio'"
                 % (gp_quote(dat), SYSTEM_COLOURS["hue"], SYSTEM_COLOURS["asio"])]
        scripts.append(("dispatch.png", lines))

    for png, lines in scripts:
        gp = os.path.join(directory, "plot-%s.gp" % png[:-4])
        with open(gp, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run([gnuplot, gp], check=True)
        written.append(os.path.join(directory, png))
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("directory")
    ap.add_argument("--backend", choices=["auto", "matplotlib", "gnuplot"], default="auto")
    a = ap.parse_args()
    if not os.path.isdir(a.directory):
        print("plot_bench: %s: not a directory" % a.directory, file=sys.stderr)
        return 2
    data = load(a.directory)
    if not data["tables"] and not data["sweep"] and not data["dispatch"]:
        print("plot_bench: no benchmark CSV in %s" % a.directory, file=sys.stderr)
        return 1
    backend = a.backend
    if backend == "auto":
        try:
            import matplotlib  # noqa: F401
            backend = "matplotlib"
        except ImportError:
            print("plot_bench: matplotlib not found for %s; using gnuplot" % sys.executable,
                  file=sys.stderr)
            backend = "gnuplot"
    written = plot_matplotlib(a.directory, data) if backend == "matplotlib" \
        else plot_gnuplot(a.directory, data)
    for path in written:
        print("plot_bench: wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
