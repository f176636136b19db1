#!/usr/bin/python3
"""A trace of a real SWS run passes tools/trace/check_trace.py, and planted mistakes do not.

    check_sws_trace.py HUE_SWS WWW_ROOT CHECKER

Starts hue-sws with --trace, makes 200 requests over 20 keep-alive connections from 4 threads (so
connections land on both cores and the Accept color's posts cross cores: flows), stops it with
SIGTERM, and runs the checker with --self-test on the file it wrote.
"""
import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading


def main():
    sws, root, checker = sys.argv[1:4]
    with tempfile.TemporaryDirectory() as tmp:
        trace = os.path.join(tmp, "sws-trace.json")
        p = subprocess.Popen([sws, "--root", root, "--port", "0", "--workers", "2", "--trace", trace,
                              "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", p.stdout.readline())
            assert m, "hue-sws did not start"
            port = int(m.group(1))
            errors = []

            def client():
                try:
                    for _ in range(5):
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                        for _ in range(10):
                            conn.request("GET", "/files/1.html")
                            r = conn.getresponse()
                            r.read()
                            assert r.status == 200, r.status
                        conn.close()
                except Exception as e:  # reported by the main thread
                    errors.append(repr(e))

            threads = [threading.Thread(target=client) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
        assert p.returncode == 0, f"hue-sws exited with {p.returncode}: {p.stderr.read()[-2000:]}"
        r = subprocess.run([sys.executable, checker, "--self-test", trace], capture_output=True,
                           text=True)
        print(r.stdout, end="")
        print(r.stderr, end="", file=sys.stderr)
        return r.returncode


if __name__ == "__main__":
    sys.exit(main())
