#!/usr/bin/env python3
"""tools/race/race.py: the table, ratios, CSVs and plot of tools/race/race.sh, from its raw outputs.

    /usr/bin/python3 tools/race/race.py DIR [--no-plot]

Reads DIR/wrk-SERVER-repR.txt (wrk's report) and DIR/injector-SERVER-cN-repR.txt (hue-injector's
key=value lines), each ending with race.sh's server_cpu_us= (the server's CPU time over the
measured window), DIR/syscalls-wrk-SERVER-repR.txt and DIR/syscalls-injector-SERVER-c100-repR.txt
(the system-call pass: the load's output, then the counts of perf trace -s or strace -c) and DIR/meta.txt's machine line, and
writes DIR/runs.csv (one row per run), DIR/race.csv (per server, tool and client count: median over
the reps with min..max, median latencies, CPU time and system calls per request, errors summed) and
DIR/race.png (the paper's Fig. 6: requests/s against clients, one line per server, whiskers
min..max; matplotlib, Debian's python3-matplotlib). Prints the table of requests/s, the table of
CPU time and system calls per request at wrk -c100 and at 100 clients, and the ratios: hue all
heuristics against the best of nginx, h2o and lighttpd, against libasync-smp with and without its
stealing (the paper: up to +73% and about +25%), coroutines against handlers; in CPU per request,
hue all heuristics against the lowest of the peers and against hue without stealing.
"""
import csv
import math
import os
import re
import statistics
import sys

# Row order, the names printed, and the plot's colour, marker and dashing: hue's configurations in
# blues, libasync-smp in reds (as in the paper: Mely against Libasync-smp), the peers their own.
SERVERS = {
    "hue-all": ("SWS hue all heuristics", "#4878a8", "o", "-"),
    "hue-all-coro": ("SWS hue all, coroutines", "#4878a8", "o", "--"),
    "hue-all-2r": ("SWS hue all, reactor per core", "#2a9d8f", "D", "--"),
    "hue-all-uring": ("SWS hue all, io_uring", "#1d3557", "X", "-."),
    "hue-off": ("SWS hue, no stealing", "#8fb3d9", "v", "-"),
    "libasync-smp": ("SWS libasync-smp + WS", "#c0392b", "s", "-"),
    "libasync-smp-off": ("SWS libasync-smp, no WS", "#e59866", "s", "--"),
    "nginx": ("nginx", "#3f9a4a", "^", "-"),
    "h2o": ("h2o", "#8e44ad", "D", "-"),
    "lighttpd": ("lighttpd", "#d9822b", "P", "-"),
}
PEERS = ["nginx", "h2o", "lighttpd"]
# The system calls broken out per request, and the calls each column counts: the waits, timer
# re-arms and yields an event loop adds around the work, and the reads and writes the work needs.
SYSCALL_GROUPS = {
    # The poller's waits: io_uring_enter is the io_uring backend's (submit, wait, or both at once).
    "epoll_wait": ("epoll_wait", "epoll_pwait", "epoll_pwait2", "io_uring_enter"),
    "timerfd_settime": ("timerfd_settime",),
    "sched_yield": ("sched_yield",),
    "read": ("read", "readv", "recvfrom", "recvmsg", "recvmmsg"),
    "write": ("write", "writev", "sendto", "sendmsg", "sendmmsg", "sendfile"),
}
SYSCALL_FIELDS = ["strace_requests", "syscalls_per_request"] + \
    [g + "_per_request" for g in SYSCALL_GROUPS]
PER_REQUEST_FIELDS = ["cpu_us_per_request"] + SYSCALL_FIELDS[1:]
RUN_FIELDS = ["rep", "server", "tool", "clients", "requests_per_s", "mb_per_s", "p50_us",
              "p99_us", "errors", "requests", "server_cpu_us", "cpu_us_per_request"] + \
    SYSCALL_FIELDS
# Where the CPU time and the system calls are shown: wrk -c100, and the injector at 100 clients.
COST_POINTS = [("wrk", 100, "wrk"), ("injector", 100, "c=100")]
UNITS = {"us": 1, "ms": 1e3, "s": 1e6, "m": 6e7, "B": 1, "KB": 1024, "MB": 1 << 20, "GB": 1 << 30}


def label(server):
    return SERVERS.get(server, (server,))[0]


def scaled(text):
    """wrk's '1.23ms' or '2.5MB' in us or bytes; NaN when unreadable."""
    m = re.fullmatch(r"([0-9.]+)([a-zA-Z]+)", text or "")
    return float(m.group(1)) * UNITS[m.group(2)] if m and m.group(2) in UNITS else math.nan


def read_wrk(text):
    def field(pattern):
        m = re.search(pattern, text, re.M)
        return m.group(1) if m else None
    rps = field(r"^Requests/sec:\s+([0-9.]+)")
    if rps is None:
        return None
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)",
                                            field(r"Socket errors:(.*)$") or ""))
    errors += int(field(r"Non-2xx or 3xx responses:\s+(\d+)") or 0)
    return with_cpu_per_request({
        "requests_per_s": float(rps), "mb_per_s": scaled(field(r"^Transfer/sec:\s+(\S+)")) / 1e6,
        "p50_us": scaled(field(r"^\s+50%\s+(\S+)")), "p99_us": scaled(field(r"^\s+99%\s+(\S+)")),
        "errors": errors, "requests": float(field(r"^\s*(\d+) requests in") or "nan"),
        "server_cpu_us": float(field(r"^server_cpu_us=(\d+)$") or "nan")})


def read_injector(text):
    kv = dict(line.split("=", 1) for line in text.splitlines() if re.match(r"^\w+=", line))
    if "requests_per_s" not in kv:
        return None
    figures = {k: float(kv.get(k, "nan")) for k in ["requests_per_s", "mb_per_s", "p50_us",
                                                     "p99_us", "requests", "server_cpu_us"]}
    return with_cpu_per_request(dict(figures, errors=int(kv.get("errors", 0))))


def with_cpu_per_request(figures):
    """The run's figures with the server's CPU time per request completed in the window."""
    ok = figures["requests"] > 0 and not math.isnan(figures["server_cpu_us"])
    return dict(figures, cpu_us_per_request=figures["server_cpu_us"] / figures["requests"]
                if ok else math.nan)


def read_syscalls(text):
    """A syscalls-*.txt: the load's output, the line '--- system calls', then "name calls"
    rows and their total. Calls per request completed in the pass, in all and by SYSCALL_GROUPS."""
    load, marker, counts = text.partition("\n--- system calls\n")
    m = re.search(r"^\s*(\d+) requests in|^requests=(\d+)$", load, re.M)
    requests = int(m.group(1) or m.group(2)) if m else 0
    calls = {row[0]: int(row[1]) for row in map(str.split, counts.splitlines())
             if len(row) == 2 and row[1].isdigit()}
    if not marker or requests == 0 or "total" not in calls:
        return None
    return dict({g + "_per_request": sum(calls.get(n, 0) for n in names) / requests
                 for g, names in SYSCALL_GROUPS.items()},
                strace_requests=requests, syscalls_per_request=calls["total"] / requests)


def read_runs(directory):
    runs, passes = {}, {}
    for name in sorted(os.listdir(directory)):
        strace = name.startswith("syscalls-")
        base = name[len("syscalls-"):] if strace else name
        m = (re.fullmatch(r"(wrk)-(.+)-rep(\d+)\.txt", base) or
             re.fullmatch(r"(injector)-(.+)-c(\d+)-rep(\d+)\.txt", base))
        if not m:
            continue
        tool, server = m.group(1), m.group(2)
        clients, rep = (100, m.group(3)) if tool == "wrk" else (int(m.group(3)), m.group(4))
        with open(os.path.join(directory, name), errors="replace") as f:
            text = f.read()
        figures = read_syscalls(text) if strace else \
            (read_wrk if tool == "wrk" else read_injector)(text)
        if figures is None:
            print("race.py: no result in %s" % name, file=sys.stderr)
        else:
            key = (int(rep), server, tool, clients)
            (passes if strace else runs)[key] = dict(figures, rep=int(rep), server=server,
                                                     tool=tool, clients=clients)
    for key, figures in passes.items():
        if key in runs:
            runs[key].update(figures)
        else:
            print("race.py: a system-call pass without its measured run: %s" % (key,), file=sys.stderr)
    # Runs without a system-call pass (other client counts, --no-syscalls): not measured.
    return [dict(dict.fromkeys(SYSCALL_FIELDS, math.nan), **r) for r in runs.values()]


def median(values):
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def aggregate(runs):
    """{(server, tool, clients): summary} over the reps."""
    groups = {}
    for r in runs:
        groups.setdefault((r["server"], r["tool"], r["clients"]), []).append(r)
    return {key: {"server": key[0], "label": label(key[0]), "tool": key[1], "clients": key[2],
                  "reps": len(rs), "requests_per_s": median([r["requests_per_s"] for r in rs]),
                  "requests_per_s_min": min(r["requests_per_s"] for r in rs),
                  "requests_per_s_max": max(r["requests_per_s"] for r in rs),
                  "mb_per_s": median([r["mb_per_s"] for r in rs]),
                  "p50_us": median([r["p50_us"] for r in rs]),
                  "p99_us": median([r["p99_us"] for r in rs]),
                  "errors": int(sum(r["errors"] for r in rs if not math.isnan(r["errors"]))),
                  **{k: median([r[k] for r in rs]) for k in PER_REQUEST_FIELDS}}
            for key, rs in groups.items()}


def fmt(v, spec="%.1f"):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else spec % v


def write_csv(path, fields, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows({k: fmt(v, "%.3f") if isinstance(v, float) else v for k, v in r.items()}
                    for r in rows)


def print_ratios(agg, servers, clients):
    def rps(server, tool, c):
        v = agg.get((server, tool, c))
        return v["requests_per_s"] if v else math.nan
    for title, num, dens in [
            ("hue all heuristics / best of nginx, h2o, lighttpd (aim: >= 1.1)", "hue-all", PEERS),
            ("hue all heuristics / libasync-smp + WS (paper: up to 1.73)", "hue-all",
             ["libasync-smp"]),
            ("hue all heuristics / libasync-smp, no WS (paper: about 1.25)", "hue-all",
             ["libasync-smp-off"]),
            ("hue all heuristics / hue without stealing", "hue-all", ["hue-off"]),
            ("hue, one reactor per core / best of nginx, h2o, lighttpd", "hue-all-2r", PEERS),
            ("hue on io_uring / hue on epoll, all heuristics", "hue-all-uring", ["hue-all"]),
            ("coroutines / handlers, hue all (aim: >= 0.95)", "hue-all-coro", ["hue-all"])]:
        present = [d for d in dens if d in servers]
        if num not in servers or not present:
            print("%s: n/a (not run)" % title)
            continue
        parts, ratios = [], []
        for tool, c, name in [("wrk", 100, "wrk -c100")] + [("injector", c, "c=%d" % c)
                                                             for c in clients]:
            top = max(present, key=lambda d: -1 if math.isnan(rps(d, tool, c)) else rps(d, tool, c))
            r = rps(num, tool, c) / rps(top, tool, c) if rps(top, tool, c) > 0 else math.nan
            if not math.isnan(r):
                ratios += [r] if tool == "injector" else []
                parts.append("%s %.2f%s" % (name, r, " (%s)" % top if len(present) > 1 else ""))
        print(title + ":\n" + "".join("  " + ", ".join(parts[i:i + 4]) + "\n"
                                      for i in range(0, len(parts), 4)), end="")
        if ratios:
            print("  injector: geometric mean %.2f, min %.2f, max %.2f" % (
                math.exp(sum(map(math.log, ratios)) / len(ratios)), min(ratios), max(ratios)))


def print_costs(agg, servers):
    """The table of the server's CPU time and system calls per request at COST_POINTS."""
    print("Server CPU time and system calls per request, at wrk -c100 and the injector's 100 "
          "clients")
    head = "%-29s %6s %8s | %8s %8s %8s %8s %8s %8s %8s" % (
        "server", "load", "CPU us", "calls", "epoll", "timerfd", "yield", "read", "write", "other")
    print(head + "\n" + "-" * len(head))
    for s in servers:
        first = True
        for tool, c, name in COST_POINTS:
            v = agg.get((s, tool, c))
            if not v:
                continue
            groups = [v[g + "_per_request"] for g in SYSCALL_GROUPS]
            print("%-29s %6s %8s | %8s" % (label(s) if first else "", name,
                                            fmt(v["cpu_us_per_request"]),
                                            fmt(v["syscalls_per_request"], "%.2f")) +
                  "".join(" %8s" % fmt(g, "%.2f") for g in groups) +
                  " %8s" % fmt(v["syscalls_per_request"] - sum(groups), "%.2f"))
            first = False
    print("\n".join([
        "  CPU us: utime + stime of all the server's processes over the measured window, per",
        "  request completed in it. The calls: perf trace -s (strace -c -f without perf) in a",
        "  separate short pass under the same load, per request completed in that pass; under",
        "  strace a server is slower, and its waits, reads that find nothing and yields depend on",
        "  speed. epoll: epoll_wait and epoll_pwait, or io_uring_enter (hue's io_uring backend);",
        "  yield: sched_yield; read: read, readv, recv*; write: write, writev, send*, sendfile;",
        "  other: the rest (epoll_ctl, accept4, close, setsockopt, open...)."]) + "\n")


def print_cpu_ratios(agg, servers):
    def cpu(server, tool, c):
        v = agg.get((server, tool, c))
        return v["cpu_us_per_request"] if v else math.nan
    for title, num, dens in [
            ("CPU per request, hue all heuristics / lowest of nginx, h2o, lighttpd", "hue-all",
             PEERS),
            ("CPU per request, hue all heuristics / hue without stealing", "hue-all", ["hue-off"]),
            ("CPU per request, hue on io_uring / hue on epoll", "hue-all-uring", ["hue-all"])]:
        present = [d for d in dens if d in servers]
        if num not in servers or not present:
            print("%s: n/a (not run)" % title)
            continue
        parts = []
        for tool, c, name in COST_POINTS:
            measured = [d for d in present if cpu(d, tool, c) > 0]
            if measured and not math.isnan(cpu(num, tool, c)):
                low = min(measured, key=lambda d: cpu(d, tool, c))
                parts.append("%s %.2f%s" % (name, cpu(num, tool, c) / cpu(low, tool, c),
                                            " (%s)" % low if len(present) > 1 else ""))
        print("%s: %s" % (title, ", ".join(parts) if parts else "n/a (not measured)"))


def plot(directory, agg, servers):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    for s in servers:
        pts = sorted(v for k, v in agg.items() if k[0] == s and k[1] == "injector"
                     for v in [(k[2], v["requests_per_s"], v["requests_per_s_min"],
                                v["requests_per_s_max"])])
        if not pts:
            continue
        _, colour, marker, dash = SERVERS.get(s, (s, None, "o", "-"))
        wrk = agg.get((s, "wrk", 100))
        ax.errorbar([p[0] for p in pts], [p[1] / 1e3 for p in pts],
                    yerr=[[(p[1] - p[2]) / 1e3 for p in pts], [(p[3] - p[1]) / 1e3 for p in pts]],
                    label=label(s) + (" (wrk %.1fk)" % (wrk["requests_per_s"] / 1e3) if wrk else ""),
                    color=colour, marker=marker, linestyle=dash, capsize=3)
    ax.set_xlabel("number of clients (hue-injector, 150 requests per connection)")
    ax.set_ylabel("Krequests/s (median, whiskers min..max)")
    ax.set_title("Web server, 1 KB files (Fig. 6): requests/s against clients", fontsize=10)
    ax.set_xticks(sorted({k[2] for k in agg if k[1] == "injector"}))
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0))
    fig.tight_layout()
    fig.savefig(os.path.join(directory, "race.png"), dpi=110)
    plt.close(fig)


def main(argv):
    if len(argv) not in (2, 3) or not os.path.isdir(argv[1]) or argv[2:] not in ([], ["--no-plot"]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    directory = argv[1]
    runs = read_runs(directory)
    if not runs:
        print("race.py: no results in %s" % directory, file=sys.stderr)
        return 1
    write_csv(os.path.join(directory, "runs.csv"), RUN_FIELDS,
              sorted(runs, key=lambda r: (r["rep"], r["server"], r["tool"], r["clients"])))
    agg = aggregate(runs)
    servers = [s for s in SERVERS if any(k[0] == s for k in agg)] + \
        sorted({k[0] for k in agg} - set(SERVERS))
    write_csv(os.path.join(directory, "race.csv"), list(next(iter(agg.values()))),
              [agg[k] for k in sorted(agg, key=lambda k: (servers.index(k[0]), k[1], k[2]))])
    clients = sorted({k[2] for k in agg if k[1] == "injector"})
    reps = max(v["reps"] for v in agg.values())
    meta = os.path.join(directory, "meta.txt")
    machine = next((line.strip() for line in open(meta) if line.startswith("machine:")),
                   "machine: unknown") if os.path.exists(meta) else "machine: unknown"

    print("SWS race: requests/s, 1 KB files over loopback%s\n%s" %
          (", median of %d reps" % reps if reps > 1 else "", machine))
    print("  wrk: -t1 -c100 keep-alive on /index.html; injector: N clients x 150 requests per "
          "connection over 101 files")
    head = "%-29s %9s %8s |" % ("server", "wrk", "p99 ms") + \
        "".join(" %8s" % ("c=%d" % c) for c in clients) + " | %8s %6s" % ("p99 ms*", "errors")
    print(head + "\n" + "-" * len(head))
    for s in servers:
        wrk = agg.get((s, "wrk", 100))
        inj = [agg.get((s, "injector", c)) for c in clients]
        last = next((v for v in reversed(inj) if v), None)
        errors = (wrk["errors"] if wrk else 0) + sum(v["errors"] for v in inj if v)
        print("%-29s %9s %8s |" % (label(s), fmt(wrk and wrk["requests_per_s"]),
                                   fmt(wrk and wrk["p99_us"] / 1e3, "%.2f")) +
              "".join(" %8s" % fmt(v and v["requests_per_s"], "%.0f") for v in inj) +
              " | %8s %6d" % (fmt(last and last["p99_us"] / 1e3, "%.2f"), errors))
    if clients:
        print("  * injector p99 at %d clients; errors: wrk and injector, all client counts\n"
              % clients[-1])
    print_costs(agg, servers)
    print_ratios(agg, servers, clients)
    print_cpu_ratios(agg, servers)
    if "--no-plot" not in argv:
        try:
            plot(directory, agg, servers)
        except ImportError:
            print("race.py: no matplotlib for %s (apt-get install -y python3-matplotlib): no plot"
                  % sys.executable, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
