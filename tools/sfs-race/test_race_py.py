#!/usr/bin/env python3
"""tools/sfs-race/test_race_py.py: race.py's medians, aims and outputs on made-up runs.

    /usr/bin/python3 tools/sfs-race/test_race_py.py tools/sfs-race/race.py

The runs are invented so each aim's answer is known: hue all heuristics at 3.0x sftp (met), its
CPU at 1.8x the seal cost (missed) while no stealing's is at 1.2x, the paper coloring's stealing at
1.2x (missed), per-connection stealing once below no stealing (missed). Exits 1 with the first
difference.
"""
import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

FIELDS = ["rep", "config", "clients", "bytes", "seconds", "mb_per_s", "server_cpu_s",
          "cpu_s_per_gb", "peak_rss_kib", "hwm_kib", "errors", "load1", "client_mb_per_s"]


def run(config, clients, mbs, rep, errors=0, cpu=2.0):
    return {"rep": rep, "config": config, "clients": clients, "bytes": 1, "seconds": 1,
            "mb_per_s": mbs, "server_cpu_s": 1, "cpu_s_per_gb": cpu, "peak_rss_kib": 2048,
            "hwm_kib": "", "errors": errors, "load1": 0.1, "client_mb_per_s": ""}


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    race_py = sys.argv[1]
    d = tempfile.mkdtemp(prefix="sfs-race-test.")
    rows = []
    # Three reps; the medians: sftp 100 at 16, hue-all-conn 300, the bound 600 x 2 = 1200.
    for rep, (a, b, c) in enumerate([(90, 300, 240), (100, 310, 250), (120, 290, 260)], 1):
        rows += [run("sftp-chacha", 16, a, rep), run("hue-all-conn", 16, b, rep, cpu=3.0),
                 run("hue-off-conn", 16, c, rep),
                 run("lasmp-paper", 16, 120, rep), run("lasmp-off-paper", 16, 100, rep),
                 run("hue-all-conn", 1, 100, rep), run("hue-off-conn", 1, 110, rep)]
    rows.append(run("sftp-chacha", 16, 5000, 4, errors=1))  # a failed rep: left out of the median
    with open(os.path.join(d, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(d, "bound.txt"), "w") as f:
        for rep, per_core in ((1, 500), (2, 600), (3, 700)):
            f.write(f"rep={rep} aead_frame_bytes=65536\nrep={rep} aead_workers=2\n"
                    f"rep={rep} aead_per_core_mb_s={per_core}\nrep={rep} aead_workers_mb_s=900\n"
                    f"rep={rep} aead_bound_mb_s={2 * per_core}\n")
    with open(os.path.join(d, "meta.txt"), "w") as f:
        f.write("machine: test\ncommit: test\nload average at start: 0.1 0.1 0.1\n")
    have_plot = importlib.util.find_spec("matplotlib") is not None
    args = [sys.executable, race_py, d] + ([] if have_plot else ["--no-plot"])
    done = subprocess.run(args, capture_output=True, text=True)
    check(done.returncode == 0, f"race.py exited {done.returncode}: {done.stderr}")
    result = json.load(open(os.path.join(d, "race.json")))
    by = {(r["config"], r["clients"]): r for r in result["rows"]}
    check(by[("sftp-chacha", 16)]["mb_per_s"] == 100, "median of sftp's three good reps is 100")
    check(by[("sftp-chacha", 16)]["failed_reps"] == 1, "the failed rep is counted")
    check(by[("hue-all-conn", 16)]["mb_per_s_min"] == 290, "min over the reps")
    check(result["bound"]["aead_bound_mb_s"] == 1200, "the bound's median")
    aims = {a["aim"]: a for a in result["aims"]}

    def aim(prefix):
        found = [a for text, a in aims.items() if text.startswith(prefix)]
        check(len(found) == 1, f"one aim starting '{prefix}'")
        return found[0]

    a = aim("hue all heuristics (per-connection) / sftp")
    check(a["status"] == "met" and abs(a["value"] - 3.0) < 1e-9, f"3.0x sftp is met: {a}")
    # The seal cost: 1000 / the per-core median 600 MB/s = 1.667 CPU s/GB.
    check(abs(result["bound"]["seal_cpu_s_per_gb"] - 1000 / 600) < 1e-9, "seal cost per GB")
    a = aim("hue-all-conn CPU s/GB / seal cost")
    check(a["status"] == "MISSED" and abs(a["value"] - 1.8) < 1e-9, f"3.0 / 1.667 > 1.5: {a}")
    check(abs(by[("hue-off-conn", 16)]["cpu_over_seal"] - 1.2) < 1e-9, "2.0 / 1.667 in the row")
    check(by[("sftp-chacha", 16)]["cpu_over_seal"] is None, "no seal ratio for sftp")
    a = aim("hue-all-paper CPU s/GB / seal cost")
    check(a["status"] == "not measured", f"no paper-coloring hue row: {a}")
    check(not any("AEAD bound" in text for text in aims), "the old bound aim is gone")
    a = aim("paper coloring: hue-all-paper / hue-off-paper")
    check(a["status"] == "not measured", f"no paper-coloring hue rows: {a}")
    a = aim("paper coloring: libasync-smp + WS / no WS")
    check(a["status"] == "MISSED" and abs(a["value"] - 1.2) < 1e-9, f"1.2x < 1.3x: {a}")
    a = aim("per-connection: hue-all-conn / hue-off-conn")
    check(a["status"] == "MISSED" and a["value"] < 1, f"100 < 110 at 1 client: {a}")
    a = aim("hue all heuristics (paper coloring) / sftp")
    check(a["status"] == "not measured", f"no paper-coloring hue row: {a}")
    check(os.path.exists(os.path.join(d, "race.csv")), "race.csv written")
    if have_plot:
        check(os.path.getsize(os.path.join(d, "race.png")) > 1000, "race.png written")
    # No runs: a clear error, not a traceback.
    empty = tempfile.mkdtemp(prefix="sfs-race-test-empty.")
    done = subprocess.run([sys.executable, race_py, empty], capture_output=True, text=True)
    check(done.returncode == 1 and "missing" in done.stderr, "a directory without runs.csv")
    print("race.py: medians, aims and outputs as expected")


if __name__ == "__main__":
    main()
