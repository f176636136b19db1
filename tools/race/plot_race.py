#!/usr/bin/env python3
"""tools/race/plot_race.py — the paper's Fig. 6 from tools/race/race.sh's race.csv.

    /usr/bin/python3 tools/race/plot_race.py DIR [--backend auto|matplotlib|gnuplot]

Writes DIR/race.png: requests/s against the number of virtual clients (hue-injector), one line per
server, whiskers min..max over the reps; each legend entry also gives the server's wrk -c100
requests/s. hue's configurations in blues and reds (as in the paper: Mely against Libasync-smp
with and without stealing), the peers in their own colours.

matplotlib when it imports (Debian: python3-matplotlib, for /usr/bin/python3), otherwise gnuplot
(gnuplot-nox) from generated DIR/plot-race.gp and .dat files. Only the standard library is needed
to read the data.
"""
import argparse
import csv
import math
import os
import shutil
import subprocess
import sys

# server key -> (legend, colour, marker, dashed)
STYLE = {
    "hue-all": ("SWS, hue all heuristics", "#4878a8", "o", False),
    "hue-all-coro": ("SWS, hue all heuristics, coroutines", "#4878a8", "o", True),
    "hue-all-2r": ("SWS, hue all heuristics, one reactor per core", "#2a9d8f", "D", True),
    "hue-off": ("SWS, hue without stealing", "#8fb3d9", "v", False),
    "libasync-smp": ("SWS, libasync-smp + WS", "#c0392b", "s", False),
    "libasync-smp-off": ("SWS, libasync-smp without WS", "#e59866", "s", True),
    "nginx": ("nginx", "#3f9a4a", "^", False),
    "h2o": ("h2o", "#8e44ad", "D", False),
    "lighttpd": ("lighttpd", "#d9822b", "P", False),
}
ORDER = list(STYLE)


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def load(directory):
    """race.csv -> ({server: [(clients, median, min, max)]}, {server: wrk requests/s})."""
    lines, wrk = {}, {}
    with open(os.path.join(directory, "race.csv"), newline="") as f:
        for r in csv.DictReader(f):
            v = num(r["requests_per_s"])
            if math.isnan(v):
                continue
            if r["tool"] == "wrk":
                wrk[r["server"]] = v
            elif r["tool"] == "injector":
                lines.setdefault(r["server"], []).append(
                    (int(r["clients"]), v, num(r["requests_per_s_min"]),
                     num(r["requests_per_s_max"])))
    for pts in lines.values():
        pts.sort()
    order = [s for s in ORDER if s in lines] + sorted(set(lines) - set(ORDER))
    return [(s, lines[s]) for s in order], wrk


def legend(server, wrk):
    name = STYLE.get(server, (server,))[0]
    return "%s (wrk %.1fk)" % (name, wrk[server] / 1e3) if server in wrk else name


TITLE = "Web server, 1 KB files (Fig. 6): requests/s against clients"


def plot_matplotlib(directory, lines, wrk):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    for server, pts in lines:
        _, colour, marker, dashed = STYLE.get(server, (server, None, "o", False))
        xs = [p[0] for p in pts]
        ys = [p[1] / 1e3 for p in pts]
        lo = [max(0.0, (p[1] - p[2]) / 1e3) if not math.isnan(p[2]) else 0 for p in pts]
        hi = [max(0.0, (p[3] - p[1]) / 1e3) if not math.isnan(p[3]) else 0 for p in pts]
        ax.errorbar(xs, ys, yerr=[lo, hi], label=legend(server, wrk), color=colour,
                    marker=marker, linestyle="--" if dashed else "-", capsize=3)
    ax.set_xlabel("number of clients (hue-injector, 150 requests per connection)")
    ax.set_ylabel("Krequests/s (median, whiskers min..max)")
    ax.set_title(TITLE, fontsize=10)
    ax.set_xticks(sorted({p[0] for _, pts in lines for p in pts}))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0))
    fig.tight_layout()
    path = os.path.join(directory, "race.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def gp_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plot_gnuplot(directory, lines, wrk):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        raise RuntimeError("neither matplotlib nor gnuplot is available "
                           "(apt-get install -y python3-matplotlib, or gnuplot-nox)")
    path = os.path.join(directory, "race.png")
    script = ["set terminal pngcairo size 950,570 font ',9' noenhanced",
              "set output %s" % gp_quote(path),
              "set title %s" % gp_quote(TITLE),
              "set xlabel 'number of clients (hue-injector, 150 requests per connection)'",
              "set ylabel 'Krequests/s (median, whiskers min..max)'",
              "set yrange [0:*]", "set grid", "set key outside right top",
              "set xtics (%s)" % ", ".join(str(c) for c in
                                          sorted({p[0] for _, pts in lines for p in pts}))]
    plots = []
    for server, pts in lines:
        _, colour, _, dashed = STYLE.get(server, (server, "#555555", "o", False))
        dat = os.path.join(directory, "plot-race-%s.dat" % server)
        with open(dat, "w") as f:
            for c, v, lo, hi in pts:
                f.write("%d %g %g %g\n" % (c, v / 1e3, (v if math.isnan(lo) else lo) / 1e3,
                                          (v if math.isnan(hi) else hi) / 1e3))
        plots.append("%s using 1:2:3:4 with yerrorlines lw 2 %slc rgb '%s' title %s"
                     % (gp_quote(dat), "dt 2 " if dashed else "", colour,
                        gp_quote(legend(server, wrk))))
    script.append("plot " + ", ".join(plots))
    gp = os.path.join(directory, "plot-race.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run([gnuplot, gp], check=True)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("directory")
    ap.add_argument("--backend", choices=["auto", "matplotlib", "gnuplot"], default="auto")
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.directory, "race.csv")):
        print("plot_race: no race.csv in %s (run tools/race/summarize.py first)" % a.directory,
              file=sys.stderr)
        return 1
    lines, wrk = load(a.directory)
    if not lines:
        print("plot_race: no injector rows in %s/race.csv" % a.directory, file=sys.stderr)
        return 1
    backend = a.backend
    if backend == "auto":
        try:
            import matplotlib  # noqa: F401
            backend = "matplotlib"
        except ImportError:
            print("plot_race: matplotlib not found for %s; using gnuplot" % sys.executable,
                  file=sys.stderr)
            backend = "gnuplot"
    path = plot_matplotlib(a.directory, lines, wrk) if backend == "matplotlib" \
        else plot_gnuplot(a.directory, lines, wrk)
    print("plot_race: wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
