#!/usr/bin/python3
"""A trace of a real SWS run passes tools/trace/check_trace.py, and planted mistakes do not.

    check_sws_trace.py HUE_SWS WWW_ROOT CHECKER

Starts hue-sws with --trace, makes 200 requests over 20 keep-alive connections from 4 threads (so
connections land on both cores and the Accept color's posts cross cores: flows), stops it with
SIGTERM, and runs the checker with --self-test on the file it wrote.
"""
import os
import subprocess
import sys
import tempfile

from sws_traced import record_trace


def main():
    sws, root, checker = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "sws-trace.json")
        record_trace(sws, root, trace, workers=2, threads=4, connections=5)
        r = subprocess.run([sys.executable, checker, "--self-test", trace], capture_output=True,
                           text=True)
        print(r.stdout, end="")
        print(r.stderr, end="", file=sys.stderr)
        return r.returncode


if __name__ == "__main__":
    sys.exit(main())
