#!/usr/bin/python3
"""The demo site in a real browser: headless Chromium loads hue-sws's front page (www/).

    check_browser.py HUE_SWS WWW_ROOT OUT_DIR

Checks the DOM Chromium rendered (the page's sections, the live metrics table that metrics.js
fills in from /metrics, and its three per-core charts of the last minute), that every resource the page links (stylesheet, image,
script, the metrics it fetches) was requested and answered 200 according to the server's access
log, and keeps a screenshot in OUT_DIR/sws-demo.png. Exit 77 (skip) when no Chromium is installed.
"""
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile

BROWSERS = ["chromium-headless-shell", "chromium", "chromium-browser"]


class links(html.parser.HTMLParser):
    """The same-site resources a page pulls in when rendered."""

    def __init__(self):
        super().__init__()
        self.found = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "stylesheet":
            self.found.add(a["href"])
        elif tag in ("img", "script") and a.get("src"):
            self.found.add(a["src"])


def chromium(binary, url, *args):
    # --no-sandbox: the test may run as root, where Chromium refuses its sandbox.
    # --virtual-time-budget lets metrics.js's fetch finish before the DOM is dumped.
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--virtual-time-budget=5000", "--window-size=1100,1400", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main():
    sws, root, out_dir = sys.argv[1:4]
    binary = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if not binary:
        print("SKIP: no Chromium (Debian chromium-headless-shell or chromium) is installed")
        return 77
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "access.log")
        p = subprocess.Popen([sws, "--root", root, "--port", "0", "--metrics", "/metrics",
                              "--access-log", log, "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", p.stdout.readline())
            assert m, "hue-sws did not start"
            url = f"http://127.0.0.1:{m.group(1)}/"

            r = chromium(binary, url, "--dump-dom")
            assert r.returncode == 0, r.stderr[-2000:]
            dom = r.stdout
            for needle in ["<h1>hue-sws</h1>", 'id="colors"', 'id="handlers"', 'src="handlers.svg"',
                           "Live: refreshed every 2 s from /metrics."]:
                assert needle in dom, f"rendered DOM lacks {needle!r}"
            # metrics.js built one row per core from the exposition.
            rows = re.search(r'<table id="metrics-cores">.*?<tbody>(.*?)</tbody>', dom, re.S)
            assert rows and rows.group(1).count("<tr>") >= 1, "the per-core table stayed empty"
            assert 'id="metrics-server" hidden' not in dom, "the live table stayed hidden"
            # The live charts: after two or more scrapes, each of the three charts draws one
            # polyline per core with at least one point, on the same cores as the table.
            cores = re.findall(r"<tr><td>(\d+)</td>", rows.group(1))
            assert 'id="metrics-charts" hidden' not in dom, "the charts stayed hidden"
            for chart in ("chart-events", "chart-steals", "chart-busy"):
                svg = re.search(rf'<svg id="{chart}"[^>]*>(.*?)</svg>', dom, re.S)
                assert svg, f"no {chart} in the rendered DOM"
                lines = {core: pts for pts, core in
                         re.findall(r'<polyline points="([^"]+)" data-core="(\d+)"', svg.group(1))}
                assert sorted(lines) == sorted(cores), (chart, sorted(lines), cores)
                for core, pts in lines.items():
                    for pt in pts.split():
                        x, y = (float(v) for v in pt.split(","))
                        assert 0 <= x <= 320 and 0 <= y <= 90, (chart, core, pt)

            shot = os.path.join(out_dir, "sws-demo.png")
            r = chromium(binary, url, f"--screenshot={shot}")
            assert r.returncode == 0 and os.path.getsize(shot) > 10_000, r.stderr[-2000:]
        finally:
            p.terminate()
            p.wait(timeout=20)
        assert p.returncode == 0, f"hue-sws exited with {p.returncode}"

        parser = links()
        parser.feed(open(os.path.join(root, "index.html")).read())
        wanted = {"/" + l for l in parser.found} | {"/", "/metrics"}
        served = {}
        for line in open(log):
            f = line.split()
            if len(f) >= 5 and f[2] == "GET":
                served.setdefault(f[3], set()).add(int(f[4]))
        for path in sorted(wanted):
            assert served.get(path) == {200}, f"{path}: statuses {served.get(path)} in the access log"
        print(f"{binary}: rendered {url}, resources {sorted(wanted)} all 200; screenshot {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
