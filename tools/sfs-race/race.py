#!/usr/bin/env python3
"""tools/sfs-race/race.py: the table, aims, CSV, JSON and plot of tools/sfs-race/race.sh.

    /usr/bin/python3 tools/sfs-race/race.py DIR [--no-plot]

Reads DIR/runs.csv (one row per configuration, client count and rep), DIR/bound.txt (the AEAD
bound's key=value lines per rep) and DIR/meta.txt (machine line, load), and writes DIR/race.csv
(per configuration and client count: medians over the reps of MB/s, CPU s/GB and peak RSS, with
MB/s min..max, and for hue's rows CPU s/GB over the seal cost), DIR/race.json (the same, the bound
and the aims) and DIR/race.png (the paper's
Fig. 7 in shape: bars of MB/s per configuration, grouped by client count, whiskers min..max, the
AEAD bound x workers as a line; matplotlib, Debian's python3-matplotlib). Prints the table and the
issue's aims, each met, missed or not measured. Exits 1 when no run is readable.

The seal cost: CPU seconds libsodium takes to seal a GB (10^9 B) on one core in the run's frames,
1000 / the bound's per-core MB/s (median over the reps, each rep measured just before its servers).
What hue-sfsd spends per GB delivered beyond it is the server's own cost (reading the file,
decrypting requests, writing, the runtime); the aim bounds their ratio rather than throughput,
which the clients' own decryption on the same cores caps.
"""
import csv
import json
import os
import statistics
import sys

# Row order, printed name, bar colour and hatch: hue in blues, the libasync-smp emulation in reds
# (the paper's Fig. 7 compares those), OpenSSH in greys; the paper's coloring hatched.
CONFIGS = {
    "sftp-chacha": ("OpenSSH sftp, chacha20-poly1305", "#555555", ""),
    "sftp-aes": ("OpenSSH sftp, aes128-gcm", "#a0a0a0", ""),
    "hue-all-conn": ("hue all heuristics, per-connection", "#2f5d8a", ""),
    "hue-off-conn": ("hue no stealing, per-connection", "#8fb3d9", ""),
    "lasmp-conn": ("libasync-smp + WS, per-connection", "#c0392b", ""),
    "lasmp-off-conn": ("libasync-smp no WS, per-connection", "#e59866", ""),
    "hue-all-paper": ("hue all heuristics, paper coloring", "#2f5d8a", "//"),
    "hue-off-paper": ("hue no stealing, paper coloring", "#8fb3d9", "//"),
    "lasmp-paper": ("libasync-smp + WS, paper coloring", "#c0392b", "//"),
    "lasmp-off-paper": ("libasync-smp no WS, paper coloring", "#e59866", "//"),
}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def read_runs(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_bound(path):
    per_rep = {}
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        for line in f:
            fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
            rep = fields.pop("rep", "?")
            per_rep.setdefault(rep, {}).update(fields)
    keys = ["aead_per_core_mb_s", "aead_workers_mb_s", "aead_bound_mb_s"]
    out = {k: median([number(r.get(k)) for r in per_rep.values()]) for k in keys}
    some = next(iter(per_rep.values()), {})
    out["aead_frame_bytes"] = number(some.get("aead_frame_bytes"))
    out["aead_workers"] = number(some.get("aead_workers"))
    out["reps"] = len(per_rep)
    per_core = out["aead_per_core_mb_s"]
    out["seal_cpu_s_per_gb"] = 1000.0 / per_core if per_core else None
    return out


def summarize(runs, seal=None):
    groups = {}
    for r in runs:
        groups.setdefault((r["config"], int(r["clients"])), []).append(r)
    rows = []
    order = list(CONFIGS)
    for (config, clients), rs in sorted(groups.items(),
                                         key=lambda kv: (order.index(kv[0][0])
                                                         if kv[0][0] in order else 99, kv[0][1])):
        ok = [r for r in rs if r["errors"] == "0"]
        mbs = [number(r["mb_per_s"]) for r in ok]
        rows.append({
            "config": config, "clients": clients, "reps": len(ok),
            "failed_reps": len(rs) - len(ok),
            "mb_per_s": median(mbs),
            "mb_per_s_min": min(mbs) if mbs else None, "mb_per_s_max": max(mbs) if mbs else None,
            "cpu_s_per_gb": median([number(r["cpu_s_per_gb"]) for r in ok]),
            "peak_rss_kib": median([number(r["peak_rss_kib"]) for r in ok]),
            "hwm_kib": median([number(r["hwm_kib"]) for r in ok]),
            "load1": median([number(r["load1"]) for r in rs]),
            "client_mb_per_s": median([number(r.get("client_mb_per_s")) for r in ok]),
        })
        cpu = rows[-1]["cpu_s_per_gb"]
        rows[-1]["cpu_over_seal"] = (cpu / seal if cpu is not None and seal and not
                                     config.startswith("sftp") else None)
    return rows


def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def aims(rows, bound):
    """The issue's aims at the largest client count, each met / missed / not measured."""
    by = {(r["config"], r["clients"]): r for r in rows}
    counts = sorted({r["clients"] for r in rows})
    top = max(counts) if counts else None

    def mbs(config, clients=top):
        r = by.get((config, clients))
        return r["mb_per_s"] if r else None

    def ratio(a, b, clients=top):
        x, y = mbs(a, clients), mbs(b, clients)
        return x / y if x and y else None

    out = []

    def aim(text, value, target, at_least=True, unit="x"):
        if value is None:
            status = "not measured"
        else:
            status = "met" if (value >= target if at_least else value <= target) else "MISSED"
        out.append({"aim": text, "value": value, "target": target, "status": status, "unit": unit,
                    "at_least": at_least})

    aim(f"hue all heuristics (per-connection) / sftp chacha20-poly1305 at {top} clients",
        ratio("hue-all-conn", "sftp-chacha"), 2.0)
    aim(f"hue all heuristics (paper coloring) / sftp chacha20-poly1305 at {top} clients",
        ratio("hue-all-paper", "sftp-chacha"), 2.0)
    # Serving a GB costs little more than sealing it. (It replaces ">= 70% of the AEAD bound x
    # workers in MB/s": the clients decrypt on the same cores, so the server's throughput cannot
    # reach it whatever the server does; its CPU per GB it can.)
    for config in ("hue-all-conn", "hue-all-paper"):
        r = by.get((config, top))
        aim(f"{config} CPU s/GB / seal cost per GB at {top} clients",
            r["cpu_over_seal"] if r else None, 1.5, at_least=False)
    aim(f"paper coloring: libasync-smp + WS / no WS at {top} clients",
        ratio("lasmp-paper", "lasmp-off-paper"), 1.3)
    aim(f"paper coloring: hue all heuristics / no stealing at {top} clients",
        ratio("hue-all-paper", "hue-off-paper"), 1.3)
    for coloring, steal, off in (("per-connection", "hue-all-conn", "hue-off-conn"),
                                 ("per-connection", "lasmp-conn", "lasmp-off-conn"),
                                 ("paper coloring", "hue-all-paper", "hue-off-paper")):
        rs = [ratio(steal, off, c) for c in counts]
        rs = [x for x in rs if x is not None]
        aim(f"{coloring}: {steal} / {off}, lowest over {counts} clients",
            min(rs) if rs else None, 1.0)
    return out


def table(rows, bound, meta_lines, aim_rows):
    lines = [l for l in meta_lines if l.startswith(("machine:", "commit:", "load average"))][:3]
    lines.append("")
    lines.append(f"{'configuration':<40} {'clients':>7} {'MB/s':>8} {'min..max':>15} "
                 f"{'CPU s/GB':>9} {'x seal':>6} {'peak RSS MiB':>12} {'reps':>4}")
    for r in rows:
        rng = (f"{fmt(r['mb_per_s_min'])}..{fmt(r['mb_per_s_max'])}"
               if r["mb_per_s_min"] is not None else "n/a")
        rss = r["peak_rss_kib"] / 1024 if r["peak_rss_kib"] else None
        failed = f" ({r['failed_reps']} failed)" if r["failed_reps"] else ""
        lines.append(f"{CONFIGS.get(r['config'], (r['config'],))[0]:<40} {r['clients']:>7} "
                     f"{fmt(r['mb_per_s']):>8} {rng:>15} {fmt(r['cpu_s_per_gb'], 2):>9} "
                     f"{fmt(r.get('cpu_over_seal'), 2):>6} {fmt(rss, 1):>12} {r['reps']:>4}{failed}")
    if bound:
        lines.append("")
        lines.append(f"AEAD bound (libsodium ChaCha20-Poly1305-IETF seal, "
                     f"{fmt(bound.get('aead_frame_bytes'))}-byte frames, median of "
                     f"{bound.get('reps')} reps): {fmt(bound.get('aead_per_core_mb_s'))} MB/s per "
                     f"core; x {fmt(bound.get('aead_workers'))} workers = "
                     f"{fmt(bound.get('aead_bound_mb_s'))} MB/s; measured on all workers at once: "
                     f"{fmt(bound.get('aead_workers_mb_s'))} MB/s")
        lines.append(f"seal cost: {fmt(bound.get('seal_cpu_s_per_gb'), 2)} CPU s/GB on one core "
                     f"(x seal: a row's CPU s/GB over it)")
    lines.append("")
    lines.append("aims:")
    for a in aim_rows:
        v = "n/a" if a["value"] is None else f"{a['value']:.2f}x"
        sign = ">=" if a.get("at_least", True) else "<="
        lines.append(f"  {a['status']:<12} {a['aim']}: {v} (aim {sign} {a['target']}x)")
    return "\n".join(lines)


def plot(rows, bound, meta_lines, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = sorted({r["clients"] for r in rows})
    configs = [c for c in CONFIGS if any(r["config"] == c for r in rows)]
    configs += sorted({r["config"] for r in rows} - set(configs))
    by = {(r["config"], r["clients"]): r for r in rows}
    width = 0.8 / max(1, len(configs))
    fig, ax = plt.subplots(figsize=(min(14, max(8, 0.25 * len(counts) * len(configs) + 3)), 6))
    for i, config in enumerate(configs):
        name, colour, hatch = CONFIGS.get(config, (config, "#777777", ""))
        xs, ys, lo, hi = [], [], [], []
        for j, c in enumerate(counts):
            r = by.get((config, c))
            if not r or r["mb_per_s"] is None:
                continue
            xs.append(j - 0.4 + width * (i + 0.5))
            ys.append(r["mb_per_s"])
            lo.append(r["mb_per_s"] - r["mb_per_s_min"])
            hi.append(r["mb_per_s_max"] - r["mb_per_s"])
        bars = ax.bar(xs, ys, width, label=name, color=colour, hatch=hatch, edgecolor="black",
                      linewidth=0.5, yerr=[lo, hi], capsize=2, error_kw={"linewidth": 0.8})
        ax.bar_label(bars, labels=[f"{y:,.0f}" for y in ys], fontsize=6, padding=2)
    # The bound as a line where it fits the bars' scale; off the scale (sftp alone is far below
    # it), as a note, so the bars stay readable.
    b = bound.get("aead_bound_mb_s")
    top = max((r["mb_per_s_max"] or 0) for r in rows) or 1
    if b:
        text = (f"AEAD bound: {bound.get('aead_per_core_mb_s'):,.0f} MB/s per core x "
                f"{bound.get('aead_workers'):.0f} workers = {b:,.0f} MB/s")
        if b <= 3 * top:
            ax.axhline(b, color="#2a9d8f", linestyle="--", linewidth=1.2, label=text)
            ax.set_ylim(0, 1.1 * max(b, top))
        else:
            ax.set_ylim(0, 1.35 * top)
            ax.text(0.99, 0.97, text + " (off this scale)", transform=ax.transAxes,
                    ha="right", va="top", fontsize=8, color="#2a9d8f")
    ax.set_xticks(range(len(counts)))
    ax.set_xticklabels([f"{c} client{'s' if c != 1 else ''}" for c in counts])
    ax.set_ylabel("aggregate throughput (MB/s, 10^6 bytes)")
    machine = next((l for l in meta_lines if l.startswith("machine:")), "")
    machine = machine.rsplit(", ", 1)[0]  # without the date
    ax.set_title("SFS race (the paper's Fig. 7): aggregate MB/s, each client reads the whole "
                 "file\n" + machine, fontsize=9)
    ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 2
    out = argv[1]
    runs_path = os.path.join(out, "runs.csv")
    if not os.path.exists(runs_path):
        print(f"race.py: {runs_path} missing", file=sys.stderr)
        return 1
    runs = read_runs(runs_path)
    if not runs:
        print(f"race.py: no run in {runs_path}", file=sys.stderr)
        return 1
    bound = read_bound(os.path.join(out, "bound.txt"))
    rows = summarize(runs, bound.get("seal_cpu_s_per_gb"))
    meta_path = os.path.join(out, "meta.txt")
    meta_lines = open(meta_path).read().splitlines() if os.path.exists(meta_path) else []
    aim_rows = aims(rows, bound)
    with open(os.path.join(out, "race.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out, "race.json"), "w") as f:
        json.dump({"meta": meta_lines, "rows": rows, "bound": bound, "aims": aim_rows}, f, indent=1)
    print(table(rows, bound, meta_lines, aim_rows))
    if "--no-plot" not in argv:
        plot(rows, bound, meta_lines, os.path.join(out, "race.png"))
        print(f"\nplot: {os.path.join(out, 'race.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
