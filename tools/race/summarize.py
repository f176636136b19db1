#!/usr/bin/env python3
"""tools/race/summarize.py — the table and ratios of tools/race/race.sh, from its runs.csv.

    /usr/bin/python3 tools/race/summarize.py DIR

Reads DIR/runs.csv (one row per wrk or hue-injector run: rep, server, tool, clients,
requests_per_s, mb_per_s, p50_us, p99_us, errors), writes DIR/race.csv (per server, tool and
client count: the median over the reps with min..max, median latencies, errors summed) and prints
the table and the ratios the issue asks for: hue all heuristics against the best of nginx, h2o and
lighttpd; against libasync-smp with and without its stealing (the paper's Fig. 6: +73% and +25%);
coroutine against handler style. Standard library only.
"""
import csv
import math
import os
import statistics
import sys

# Row order of the table and the plot, with the names they print.
SERVERS = [
    ("hue-all", "SWS hue all heuristics"),
    ("hue-all-coro", "SWS hue all, coroutines"),
    ("hue-all-2r", "SWS hue all, reactor per core"),
    ("hue-off", "SWS hue, no stealing"),
    ("libasync-smp", "SWS libasync-smp + WS"),
    ("libasync-smp-off", "SWS libasync-smp, no WS"),
    ("nginx", "nginx"),
    ("h2o", "h2o"),
    ("lighttpd", "lighttpd"),
]
LABELS = dict(SERVERS)
PEERS = ["nginx", "h2o", "lighttpd"]
FIELDS = ["server", "label", "tool", "clients", "reps", "requests_per_s", "requests_per_s_min",
          "requests_per_s_max", "mb_per_s", "p50_us", "p99_us", "errors"]


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def median(values):
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def aggregate(rows):
    """runs.csv rows -> {(server, tool, clients): summary dict}."""
    groups = {}
    for r in rows:
        key = (r["server"], r["tool"], int(r["clients"]))
        groups.setdefault(key, []).append(r)
    out = {}
    for (server, tool, clients), rs in groups.items():
        rps = [num(r["requests_per_s"]) for r in rs]
        out[(server, tool, clients)] = {
            "server": server, "label": LABELS.get(server, server), "tool": tool,
            "clients": clients, "reps": len(rs), "requests_per_s": median(rps),
            "requests_per_s_min": min(rps), "requests_per_s_max": max(rps),
            "mb_per_s": median([num(r["mb_per_s"]) for r in rs]),
            "p50_us": median([num(r["p50_us"]) for r in rs]),
            "p99_us": median([num(r["p99_us"]) for r in rs]),
            "errors": int(sum(num(r["errors"]) for r in rs if not math.isnan(num(r["errors"])))),
        }
    return out


def fmt(v, spec="%.1f"):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else spec % v


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    directory = sys.argv[1]
    with open(os.path.join(directory, "runs.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("summarize: no runs in %s/runs.csv" % directory, file=sys.stderr)
        return 1
    agg = aggregate(rows)
    servers = [s for s, _ in SERVERS if any(k[0] == s for k in agg)] + \
        sorted({k[0] for k in agg} - set(LABELS))
    clients = sorted({k[2] for k in agg if k[1] == "injector"})
    reps = max(v["reps"] for v in agg.values())

    with open(os.path.join(directory, "race.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for s in servers:
            for tool in ("wrk", "injector"):
                for key in sorted(k for k in agg if k[0] == s and k[1] == tool):
                    v = dict(agg[key])
                    for col in ("requests_per_s", "requests_per_s_min", "requests_per_s_max",
                                "p50_us", "p99_us"):
                        v[col] = fmt(v[col])
                    v["mb_per_s"] = fmt(v["mb_per_s"], "%.3f")
                    w.writerow(v)

    def rps(server, tool, c):
        v = agg.get((server, tool, c))
        return v["requests_per_s"] if v else math.nan

    # The table: requests/s per server, wrk then the injector's client counts.
    print("SWS race: requests/s, 1 KB files over loopback%s" %
          (", median of %d reps" % reps if reps > 1 else ""))
    print("  wrk: -t1 -c100 keep-alive on /index.html; injector: N clients x 150 requests per "
          "connection over 101 files")
    head = "%-25s %9s %8s |" % ("server", "wrk", "p99 ms") + \
        "".join(" %8s" % ("c=%d" % c) for c in clients) + " | %8s %6s" % ("p99 ms*", "errors")
    print(head)
    print("-" * len(head))
    for s in servers:
        wrk = agg.get((s, "wrk", 100))
        inj = [agg.get((s, "injector", c)) for c in clients]
        errors = (wrk["errors"] if wrk else 0) + sum(v["errors"] for v in inj if v)
        last = next((v for v in reversed(inj) if v), None)
        print("%-25s %9s %8s |" % (LABELS.get(s, s), fmt(wrk and wrk["requests_per_s"]),
                                   fmt(wrk and wrk["p99_us"] / 1e3, "%.2f")) +
              "".join(" %8s" % fmt(v and v["requests_per_s"], "%.0f") for v in inj) +
              " | %8s %6d" % (fmt(last and last["p99_us"] / 1e3, "%.2f"), errors))
    if clients:
        print("  * injector p99 at %d clients; errors: wrk and injector, all client counts" %
              clients[-1])

    # Ratios.
    def ratio_line(title, num_server, den_servers, note=""):
        """One line per measurement: num / the best of den (its name in brackets)."""
        print(title + (" " + note if note else ""))
        if num_server not in servers:
            print("  n/a: %s was not run" % LABELS.get(num_server, num_server))
            return
        present = [d for d in den_servers if d in servers]
        if not present:
            print("  n/a: %s not run" % ", ".join(LABELS.get(d, d) for d in den_servers))
            return
        ratios = []
        points = [("wrk", 100, "wrk -c100")] + [("injector", c, "c=%d" % c) for c in clients]
        parts = []
        for tool, c, name in points:
            top = max(present, key=lambda d: -1 if math.isnan(rps(d, tool, c)) else rps(d, tool, c))
            n, d = rps(num_server, tool, c), rps(top, tool, c)
            if math.isnan(n) or math.isnan(d) or d <= 0:
                continue
            r = n / d
            if tool == "injector":
                ratios.append(r)
            parts.append("%s %.2f%s" % (name, r, " (%s)" % top if len(present) > 1 else ""))
        for i in range(0, len(parts), 4):
            print("  " + ", ".join(parts[i:i + 4]))
        if ratios:
            print("  injector: geometric mean %.2f, max %.2f, min %.2f" %
                  (math.exp(sum(math.log(r) for r in ratios) / len(ratios)), max(ratios),
                   min(ratios)))

    print()
    ratio_line("hue all heuristics / best of nginx, h2o, lighttpd:", "hue-all", PEERS,
               "(aim: >= 1.1)")
    ratio_line("hue all heuristics / libasync-smp + WS:", "hue-all", ["libasync-smp"],
               "(paper: up to 1.73)")
    ratio_line("hue all heuristics / libasync-smp, no WS:", "hue-all", ["libasync-smp-off"],
               "(paper: about 1.25)")
    ratio_line("hue all heuristics / hue without stealing:", "hue-all", ["hue-off"])
    ratio_line("hue, one reactor per core / best of nginx, h2o, lighttpd:", "hue-all-2r", PEERS)
    ratio_line("coroutines / handlers (hue all):", "hue-all-coro", ["hue-all"],
               "(aim: >= 0.95)")
    best_peer = [p for p in PEERS if p in servers]
    if best_peer:
        print("best peer by injector geometric mean: %s" % max(
            best_peer, key=lambda p: sum(math.log(max(rps(p, "injector", c), 1e-9))
                                         for c in clients)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
