"""Records a trace of a real hue-sws run, for the trace tests (check_sws_trace.py,
check_speedscope.py): hue-sws on `workers` workers with --trace, loaded by `threads` client
threads, each making `connections` keep-alive connections of 10 requests (so connections land on
every core and the Accept color's posts cross cores: flows), then stopped with SIGTERM, which
writes the file."""
import http.client
import re
import signal
import subprocess
import threading


def record_trace(sws, root, trace, workers, threads, connections):
    p = subprocess.Popen([sws, "--root", root, "--port", "0", "--workers", str(workers), "--trace",
                          trace, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", p.stdout.readline())
        assert m, "hue-sws did not start"
        port = int(m.group(1))
        errors = []

        def client():
            try:
                for _ in range(connections):
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    for _ in range(10):
                        conn.request("GET", "/files/1.html")
                        r = conn.getresponse()
                        r.read()
                        assert r.status == 200, r.status
                    conn.close()
            except Exception as e:  # reported by the main thread
                errors.append(repr(e))

        pool = [threading.Thread(target=client) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert not errors, errors
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    assert p.returncode == 0, f"hue-sws exited with {p.returncode}: {p.stderr.read()[-2000:]}"
