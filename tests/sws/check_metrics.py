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
        # Counters are current: on one keep-alive connection that stays open, every scrape already
        # shows the response before it (its status and its bytes), not only once the connection
        # closes. Each step: a page or a 404, then a scrape; between two scrapes the 200s grow by
        # exactly 2 (the page and the previous scrape) and the bytes by at least the page's body.
        _, prev = scrape(conn)
        for i in range(20):
            path, code = ("/", 200) if i % 4 else ("/no-such-file", 404)
            status, _, body = get(conn, path)
            assert status == code, (path, status)
            _, now = scrape(conn)
            key = ("sws_requests_total", (("code", str(code)),))
            grew = now[key] - prev.get(key, 0)
            assert grew == (2 if code == 200 else 1), (style, i, code, grew)
            sent = now[("sws_sent_bytes_total", ())] - prev[("sws_sent_bytes_total", ())]
            assert sent >= len(body) + 1, (style, i, sent, len(body))
            prev = now
        status, headers, body = get(conn, "/metrics", "HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0, headers
        fam1, s1 = scrape(conn)
        ok0 = s0.get(("sws_requests_total", (("code", "200"),)), 0)
        ok1 = s1[("sws_requests_total", (("code", "200"),))]
        assert ok1 - ok0 >= 21, (ok0, ok1)  # 15 pages, 21 scrapes and the HEAD
        assert s1[("sws_requests_total", (("code", "404"),))] == 5, s1
        # Every runtime counter of the one list is exported, with a sample per core.
        for name in ("hue_core_colors_migrated", "hue_core_spin_cycles", "hue_core_rescues",
                     "hue_core_steal_failures", "hue_core_stolen_time_cycles", "hue_posts_rejected"):
            assert fam1.get(name) == "counter", (style, name, fam1.get(name))
        assert {dict(k[1])["core"] for k in s1 if k[0] == "hue_core_colors_migrated_total"} == cores
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
