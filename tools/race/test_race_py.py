#!/usr/bin/env python3
"""tools/race/test_race_py.py: race.py's reading of the server's CPU time and system calls, and
the tables and ratios built from them, on made-up outputs of wrk, hue-injector and strace.

    /usr/bin/python3 tools/race/test_race_py.py tools/race/race.py

The outputs are invented so each figure is known: 180,000 requests in wrk's window for 6 s of the
server's CPU (33.3 us per request), strace counts of whole numbers per request.
"""
import csv
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import unittest

RACE_PY = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                                  "race.py")
spec = importlib.util.spec_from_file_location("race", RACE_PY)
race = importlib.util.module_from_spec(spec)
spec.loader.exec_module(race)


def wrk(requests, secs=3.0, cpu_us=None):
    """wrk -t1 -c100 --latency's report, with race.sh's server_cpu_us= line when cpu_us is given."""
    text = f"""Running 3s test @ http://127.0.0.1:8080/index.html
  1 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.50ms  300.00us   5.00ms   80.00%
    Req/Sec    60.00k     2.00k   65.00k    70.00%
  Latency Distribution
     50%    1.45ms
     75%    1.60ms
     90%    1.80ms
     99%    2.50ms
  {requests} requests in {secs:.2f}s, 200.00MB read
Requests/sec:  {requests / secs:.2f}
Transfer/sec:     66.67MB
"""
    return text + (f"server_cpu_us={cpu_us}\n" if cpu_us is not None else "")


def injector(requests, secs=2.0, cpu_us=None):
    text = (f"hue-injector: 127.0.0.1:8080, 100 clients on 1 thread(s), 150 requests per "
            f"connection, pipeline 1, 101 path(s); {secs:.2f} s measured after 0.50 s warm-up\n"
            f"clients=100\nduration_s={secs:.3f}\nrequests={requests}\n"
            f"requests_per_s={requests / secs:.1f}\nmb_per_s=80.000\np50_us=1200.0\n"
            f"p99_us=3000.0\nerrors=0\n")
    return text + (f"server_cpu_us={cpu_us}\n" if cpu_us is not None else "")


def strace(requests, per_request):
    """strace -c -f -U name,calls's table for `requests` requests, `per_request` calls of each."""
    rows = {name: round(n * requests) for name, n in per_request.items()}
    return ("--- system calls\nsyscall              calls\n---------------- ---------\n" +
            "".join(f"{name:<16} {n:>9}\n" for name, n in rows.items()) +
            f"---------------- ---------\ntotal            {sum(rows.values()):>9}\n")


# A peer's calls per request: one epoll wait, one read, one write, a quarter epoll_ctl.
PEER_CALLS = {"epoll_wait": 1, "read": 1, "writev": 0.5, "sendfile": 0.5, "epoll_ctl": 0.25}
# hue's: the waits split between the two epoll calls, timer re-arms and yields besides.
HUE_CALLS = {"epoll_pwait": 0.5, "epoll_wait": 0.25, "timerfd_settime": 0.5, "sched_yield": 2,
             "recvfrom": 1, "write": 1}


class Parsing(unittest.TestCase):
    def test_wrk_cpu_per_request(self):
        r = race.read_wrk(wrk(180000, cpu_us=6000000))
        self.assertEqual(r["requests"], 180000)
        self.assertEqual(r["server_cpu_us"], 6000000)
        self.assertAlmostEqual(r["cpu_us_per_request"], 100 / 3)
        self.assertEqual(r["requests_per_s"], 60000)

    def test_injector_cpu_per_request(self):
        r = race.read_injector(injector(100000, cpu_us=2500000))
        self.assertEqual(r["requests"], 100000)
        self.assertAlmostEqual(r["cpu_us_per_request"], 25)
        self.assertEqual(r["errors"], 0)

    def test_no_cpu_line_is_not_measured(self):
        self.assertTrue(math.isnan(race.read_wrk(wrk(180000))["cpu_us_per_request"]))
        self.assertTrue(math.isnan(race.read_injector(injector(1000))["cpu_us_per_request"]))

    def test_syscalls_of_a_wrk_pass(self):
        r = race.read_syscalls(wrk(20000, secs=2) + strace(20000, PEER_CALLS))
        self.assertEqual(r["strace_requests"], 20000)
        self.assertAlmostEqual(r["syscalls_per_request"], 3.25)
        self.assertAlmostEqual(r["epoll_wait_per_request"], 1)
        self.assertAlmostEqual(r["read_per_request"], 1)
        self.assertAlmostEqual(r["write_per_request"], 1)  # writev and sendfile together
        self.assertEqual(r["timerfd_settime_per_request"], 0)
        self.assertEqual(r["sched_yield_per_request"], 0)

    def test_syscalls_of_an_injector_pass(self):
        r = race.read_syscalls(injector(8000) + strace(8000, HUE_CALLS))
        self.assertEqual(r["strace_requests"], 8000)
        self.assertAlmostEqual(r["epoll_wait_per_request"], 0.75)  # epoll_wait and epoll_pwait
        self.assertAlmostEqual(r["timerfd_settime_per_request"], 0.5)
        self.assertAlmostEqual(r["sched_yield_per_request"], 2)
        self.assertAlmostEqual(r["read_per_request"], 1)  # recvfrom
        self.assertAlmostEqual(r["syscalls_per_request"], 5.25)

    def test_syscalls_without_counts_or_requests(self):
        self.assertIsNone(race.read_syscalls(wrk(20000)))  # strace attached to nothing
        self.assertIsNone(race.read_syscalls(strace(1, PEER_CALLS)))  # the load failed


class Report(unittest.TestCase):
    """race.py on a results directory: hue-all at 30 us per request, hue-off at 25, nginx at 24,
    h2o at 20 (wrk) and 22 (100 clients); strace passes for all but the injector's 25 clients."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="race-test.")
        cpu = {"hue-all": (30, 30), "hue-off": (25, 25), "nginx": (24, 24), "h2o": (20, 22)}
        files = {"meta.txt": "machine: test x2\ncommit: test\n"}
        for server, (wrk_us, inj_us) in cpu.items():
            calls = HUE_CALLS if server.startswith("hue") else PEER_CALLS
            files[f"wrk-{server}-rep1.txt"] = wrk(180000, cpu_us=180000 * wrk_us)
            files[f"injector-{server}-c100-rep1.txt"] = injector(100000, cpu_us=100000 * inj_us)
            files[f"injector-{server}-c25-rep1.txt"] = injector(90000, cpu_us=90000 * inj_us)
            files[f"syscalls-wrk-{server}-rep1.txt"] = wrk(20000, 2) + strace(20000, calls)
            files[f"syscalls-injector-{server}-c100-rep1.txt"] = \
                injector(8000) + strace(8000, calls)
        for name, text in files.items():
            with open(os.path.join(cls.dir, name), "w") as f:
                f.write(text)
        done = subprocess.run([sys.executable, RACE_PY, cls.dir, "--no-plot"],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        cls.table = done.stdout

    def rows(self, name):
        with open(os.path.join(self.dir, name), newline="") as f:
            return list(csv.DictReader(f))

    def test_machine_line_heads_the_table(self):
        self.assertEqual(self.table.splitlines()[1], "machine: test x2")

    def test_cost_rows(self):
        lines = [line.split() for line in self.table.splitlines()]
        wrk_row = next(line for line in lines if line[:2] == ["nginx", "wrk"])
        self.assertEqual(wrk_row[2:4], ["24.0", "|"])
        self.assertEqual(wrk_row[4:], ["3.25", "1.00", "0.00", "0.00", "1.00", "1.00", "0.25"])
        hue = next(i for i, line in enumerate(lines)
                   if line[:5] == ["SWS", "hue", "all", "heuristics", "wrk"])
        self.assertEqual(lines[hue + 1][:2], ["c=100", "30.0"])
        self.assertEqual(lines[hue + 1][3:],
                         ["5.25", "0.75", "0.50", "2.00", "1.00", "1.00", "0.00"])

    def test_cpu_ratios(self):
        self.assertIn("CPU per request, hue all heuristics / lowest of nginx, h2o, lighttpd: "
                      "wrk 1.50 (h2o), c=100 1.36 (h2o)", self.table)
        self.assertIn("CPU per request, hue all heuristics / hue without stealing: "
                      "wrk 1.20, c=100 1.20", self.table)

    def test_csv_columns(self):
        runs = {(r["server"], r["tool"], r["clients"]): r for r in self.rows("runs.csv")}
        r = runs[("hue-all", "injector", "100")]
        self.assertEqual((r["cpu_us_per_request"], r["sched_yield_per_request"]),
                         ("30.000", "2.000"))
        self.assertEqual(r["strace_requests"], "8000")
        r = runs[("hue-all", "injector", "25")]  # no strace pass at 25 clients
        self.assertEqual((r["cpu_us_per_request"], r["syscalls_per_request"]), ("30.000", "n/a"))
        agg = {(r["server"], r["tool"], r["clients"]): r for r in self.rows("race.csv")}
        self.assertEqual(agg[("h2o", "wrk", "100")]["cpu_us_per_request"], "20.000")
        self.assertEqual(agg[("nginx", "wrk", "100")]["write_per_request"], "1.000")


if __name__ == "__main__":
    unittest.main()
