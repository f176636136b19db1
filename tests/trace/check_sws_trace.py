#!/usr/bin/python3
"""A trace of a real SWS run passes tools/trace/check_trace.py, and planted mistakes do not.

    check_sws_trace.py HUE_SWS WWW_ROOT CHECKER

Starts hue-sws with --trace, makes 200 requests over 20 keep-alive connections from 4 threads (so
connections land on both cores and the Accept color's posts cross cores: flows), stops it with
SIGTERM, and runs the checker with --self-test on the file it wrote. Then checks where the
runtime puts the deliveries it records without reading the clock: each at the end of a poll slice
of its own track (the poll that made its registration ready).
"""
import json
import os
import subprocess
import sys
import tempfile

from sws_traced import record_trace


def ns(v):
    return round(v * 1000)


def deliveries_off_their_polls(trace):
    """(deliveries, how many are not at the end of a poll slice of their track)."""
    poll_ends = {(e["tid"], ns(e["ts"]) + ns(e["dur"])) for e in trace["traceEvents"]
                 if e.get("ph") == "X" and e.get("name") == "poll"}
    deliveries = [e for e in trace["traceEvents"] if e.get("ph") == "i" and e.get("cat") == "delivery"]
    return len(deliveries), sum((d["tid"], ns(d["ts"])) not in poll_ends for d in deliveries)


def main():
    sws, root, checker = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "sws-trace.json")
        record_trace(sws, root, trace, workers=2, threads=4, connections=5)
        r = subprocess.run([sys.executable, checker, "--self-test", trace], capture_output=True,
                           text=True)
        print(r.stdout, end="")
        print(r.stderr, end="", file=sys.stderr)
        if r.returncode:
            return r.returncode
        with open(trace) as f:
            n, off = deliveries_off_their_polls(json.load(f))
        print(f"{n} deliveries, {off} not at the end of a poll slice of their track")
        return 0 if n and not off else 1


if __name__ == "__main__":
    sys.exit(main())
