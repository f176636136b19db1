#!/usr/bin/python3
"""A trace of a real SWS run, opened in an independent viewer: speedscope in headless Chromium.

    check_speedscope.py HUE_SWS WWW_ROOT OUT_DIR

Runs hue-sws on two workers with --trace under load from 8 client threads (sws_traced.py),
serves speedscope's release page and the trace from a local HTTP server on 127.0.0.1 (nothing
leaves the machine), and reads back from the page Chromium rendered (tests/trace/
speedscope_view.js) the profiles speedscope made, one per thread, and the handler frames each
shows. Passes when every core has its track, named after the trace's "core N" thread, and every
handler the trace records on a core appears on that core's track and on no other. Then shows
the check failing on two planted traces: one with core 1's events removed, one with a handler's
slices removed from core 0. Keeps a screenshot in OUT_DIR/speedscope-trace.png.

Needs Chromium (Debian chromium-headless-shell or chromium) and the pinned npm packages that
scripts/bootstrap.sh installs through tools/trace/viewer/install.sh, in $HUE_TRACE_VIEWER or
${XDG_CACHE_HOME:-~/.cache}/hue/trace-viewer. Exits 77 (skip) naming what is missing.
"""
import collections
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

from sws_traced import record_trace

BROWSERS = ["chromium-headless-shell", "chromium", "chromium-browser"]
WORKERS = 2
HERE = os.path.dirname(os.path.abspath(__file__))


def viewer_dir():
    d = os.environ.get("HUE_TRACE_VIEWER")
    if not d:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(cache, "hue", "trace-viewer")
    return d


def expected_tracks(trace):
    """{thread name: set of handler names} from the file, for the cores hue-sws was given."""
    events = json.load(open(trace))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e["name"] == "thread_name"}
    assert sorted(names) == list(range(WORKERS)), f"thread names in the trace: {names}"
    handlers = collections.defaultdict(set)
    for e in events:
        if e.get("ph") == "X" and e.get("cat") == "handler":
            handlers[names[e["tid"]]].add(e["name"])
    for core in range(WORKERS):
        assert handlers[names[core]], f"the load ran no handler on core {core}: nothing to look for"
    return {names[c]: handlers[names[c]] for c in range(WORKERS)}


def rendered(viewer, browser, base, trace_name, shot, handlers):
    url = (f"{base}/speedscope/index.html#profileURL="
           + urllib.parse.quote(f"{base}/{trace_name}", safe=""))
    r = subprocess.run(["node", os.path.join(HERE, "speedscope_view.js"), viewer, browser, url, shot,
                        *sorted(handlers)], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, f"driving speedscope failed: {r.stderr[-3000:]}"
    return json.loads(r.stdout)


def mismatches(expected, seen):
    """What speedscope's page lacks or shows wrongly, against the trace's tracks; [] when right."""
    wrong = []
    # Speedscope names a thread's profile "PROCESS (pid P), THREAD (tid T)".
    track = {}
    for profile in seen["profiles"]:
        m = re.fullmatch(r"hue \(pid 1\), (.+) \(tid (\d+)\)", profile)
        if not m:
            wrong.append(f"a profile not from the trace: {profile!r}")
        else:
            track[m.group(1)] = profile
    for thread, handlers in expected.items():
        if thread not in track:
            wrong.append(f"no track for {thread!r} in the profile selector")
            continue
        shown = {h for h, rows in seen["frames"][track[thread]].items() if rows > 0}
        for h in sorted(handlers - shown):
            wrong.append(f"{thread}: handler {h!r} recorded but not shown")
        for h in sorted(shown - handlers):
            wrong.append(f"{thread}: handler {h!r} shown but not recorded there")
    if seen["errors"]:
        wrong.append(f"page errors: {seen['errors']}")
    return wrong


class quiet_handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def plant(trace, out, keep):
    t = json.load(open(trace))
    t["traceEvents"] = [e for e in t["traceEvents"] if keep(e)]
    json.dump(t, open(out, "w"))


def main():
    sws, root, out_dir = sys.argv[1:4]
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    viewer = viewer_dir()
    missing = []
    if not browser:
        missing.append("Chromium (Debian chromium-headless-shell or chromium)")
    if not shutil.which("node"):
        missing.append("node (Debian nodejs)")
    for package in ("speedscope", "playwright-core"):
        if not os.path.isdir(os.path.join(viewer, "node_modules", package)):
            missing.append(f"npm package {package} in {viewer} (tools/trace/viewer/install.sh)")
    if missing:
        print("SKIP: missing " + "; ".join(missing) + " -- scripts/bootstrap.sh installs them")
        return 77
    os.makedirs(out_dir, exist_ok=True)
    shot = os.path.join(out_dir, "speedscope-trace.png")

    with tempfile.TemporaryDirectory() as site:
        os.symlink(os.path.join(viewer, "node_modules", "speedscope", "dist", "release"),
                   os.path.join(site, "speedscope"))
        trace = os.path.join(site, "sws-trace.json")
        record_trace(sws, root, trace, workers=WORKERS, threads=8, connections=4)
        expected = expected_tracks(trace)
        handlers = set().union(*expected.values())
        print("trace tracks: " + "; ".join(f"{t}: {sorted(h)}" for t, h in expected.items()))

        # One core's whole track gone (its thread name too), and one handler gone from core 0.
        gone = sorted(expected["core 0"])[0]
        plant(trace, os.path.join(site, "no-core-1.json"), lambda e: e.get("tid") != 1)
        plant(trace, os.path.join(site, "no-handler.json"),
              lambda e: not (e.get("tid") == 0 and e.get("name") == gone and e.get("ph") == "X"))

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                 functools.partial(quiet_handler, directory=site))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            seen = rendered(viewer, browser, base, "sws-trace.json", shot, handlers)
            wrong = mismatches(expected, seen)
            assert not wrong, "speedscope's page does not show the trace:\n  " + "\n  ".join(wrong)
            print(f"speedscope showed {seen['profiles']} with every recorded handler on its core")

            junk = os.path.join(site, "planted.png")
            wrong = mismatches(expected, rendered(viewer, browser, base, "no-core-1.json", junk,
                                                  handlers))
            assert any("no track for 'core 1'" in w for w in wrong), \
                f"core 1 removed, but the check saw: {wrong}"
            print(f"planted, core 1 removed: reported {wrong}")
            wrong = mismatches(expected, rendered(viewer, browser, base, "no-handler.json", junk,
                                                  handlers))
            assert wrong == [f"core 0: handler {gone!r} recorded but not shown"], \
                f"{gone} removed from core 0, but the check saw: {wrong}"
            print(f"planted, {gone} removed from core 0: reported {wrong}")
        finally:
            server.shutdown()
    print(f"screenshot: {shot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
