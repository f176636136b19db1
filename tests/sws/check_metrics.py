#!/usr/bin/python3
"""hue-sws --metrics: the exposition parses with Prometheus' reference parser and its counters move.

    check_metrics.py HUE_SWS WWW_ROOT

Runs both styles (handlers, coroutines). Debian's python3-prometheus-client provides the parser;
run with Debian's /usr/bin/python3.
"""
import http.client
import os
import re
import subprocess
import sys
import time

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("SKIP: python3-prometheus-client is not installed")
    sys.exit(77)


def start(sws, root, style):
    p = subprocess.Popen([sws, "--root", root, "--port", "0", "--workers", "2", "--style", style,
                          "--metrics", "/metrics", "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        sys.exit(f"hue-sws did not start: {line!r} {p.stderr.read()!r}")
    return p, int(m.group(1))


def get(conn, path, method="GET"):
    conn.request(method, path)
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def scrape(conn):
    status, headers, body = get(conn, "/metrics")
    assert status == 200, status
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    assert headers.get("Cache-Control") == "no-store", headers
    samples = {}
    families = {}
    for fam in text_string_to_metric_families(body.decode()):
        families[fam.name] = fam.type
        for s in fam.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return families, samples


def check(sws, root, style):
    p, port = start(sws, root, style)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        fam0, s0 = scrape(conn)
        for name, kind in [("sws_requests", "counter"), ("sws_sent_bytes", "counter"),
                           ("sws_connections_open", "gauge"), ("sws_timeouts", "counter"),
                           ("hue_core_events_run", "counter"), ("hue_core_batches", "counter"),
                           ("hue_core_steals", "counter"), ("hue_core_idle_cycles", "counter"),
                           ("hue_core_lock_wait_cycles", "counter")]:
            assert fam0.get(name) == kind, (style, name, fam0.get(name))
        cores = {dict(k[1])["core"] for k in s0 if k[0] == "hue_core_events_run_total"}
        assert cores == {"0", "1"}, cores
        assert s0[("sws_connections_open", ())] >= 1, s0[("sws_connections_open", ())]
        for _ in range(20):
            assert get(conn, "/")[0] == 200
        for _ in range(3):
            assert get(conn, "/no-such-file")[0] == 404
        status, headers, body = get(conn, "/metrics", "HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0, headers
        # A fresh connection so that the first one's close adds its bytes to sws_sent_bytes_total.
        conn.close()
        time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        _, s1 = scrape(conn)
        ok0 = s0.get(("sws_requests_total", (("code", "200"),)), 0)
        ok1 = s1[("sws_requests_total", (("code", "200"),))]
        assert ok1 - ok0 >= 21, (ok0, ok1)  # 20 pages, the first scrape and the HEAD
        assert s1[("sws_requests_total", (("code", "404"),))] == 3, s1
        assert s1[("sws_sent_bytes_total", ())] > 0
        ev0 = sum(v for k, v in s0.items() if k[0] == "hue_core_events_run_total")
        ev1 = sum(v for k, v in s1.items() if k[0] == "hue_core_events_run_total")
        assert ev1 > ev0, (ev0, ev1)
        conn.close()
        print(f"{style}: {len(fam0)} families; 200s {ok0:.0f} -> {ok1:.0f}; events {ev0:.0f} -> {ev1:.0f}")
    finally:
        p.terminate()
        p.wait(timeout=20)
    assert p.returncode == 0, p.returncode


def main():
    sws, root = sys.argv[1], sys.argv[2]
    for style in ("handlers", "coroutines"):
        check(sws, root, style)
    # A metrics path must be a path.
    r = subprocess.run([sws, "--root", root, "--metrics", "metrics"], capture_output=True, text=True)
    assert r.returncode != 0 and "--metrics" in r.stderr, (r.returncode, r.stderr)


if __name__ == "__main__":
    main()
