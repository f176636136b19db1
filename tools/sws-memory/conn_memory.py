#!/usr/bin/python3
"""Memory per idle keep-alive connection: hue-sws against nginx, in one run.

Usage: conn_memory.py HUE_SWS [--connections N] [--reps R] [--nginx PATH] [--nginx-workers W]

For each server (alternating, R repetitions; medians reported): start it on a loopback port with
limits high enough for N clients, sample its RSS (VmRSS; for nginx the master and every worker
summed), open N connections that each send one GET and read the reply and then stay idle, wait,
sample again, check the connections are still open, close them and stop the server. Bytes per
connection = (RSS after - RSS before) / N.

Client source addresses are spread over 127.0.0.2-127.0.0.101 (with IP_BIND_ADDRESS_NO_PORT, so
the port is chosen at connect time per destination) so repeated runs never exhaust the ephemeral
ports. Standard library only (Debian's /usr/bin/python3).
"""
import argparse
import os
import re
import resource
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

IP_BIND_ADDRESS_NO_PORT = 24     # linux/in.h; not exported by Python's socket module
SOURCE_ADDRESSES = [f"127.0.0.{i}" for i in range(2, 102)]


def raise_nofile(n):
    """Raises RLIMIT_NOFILE to at least n (root may raise the hard limit too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= n:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, max(n, hard)))
    except (ValueError, OSError):
        if hard < n:
            sys.exit(f"RLIMIT_NOFILE hard limit {hard} is below {n}: run as root or lower --connections")
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            # The command name is in parentheses and may hold spaces: the ppid follows the last ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def tree_rss_kb(pid):
    """RSS of a process and its children (nginx: master + workers), and how many processes."""
    pids = [pid] + children(pid)
    return sum(rss_kb(p) for p in pids), len(pids)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def read_reply(sock):
    """Reads one reply with a Content-Length body; False when the server closed instead."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        r = sock.recv(65536)
        if not r:
            return False
        buf += r
    head, body = buf.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    length = int(m.group(1)) if m else 0
    while len(body) < length:
        r = sock.recv(65536)
        if not r:
            return False
        body += r
    return head.startswith(b"HTTP/1.1 200")


def open_idle(port, n):
    conns = []
    for i in range(n):
        s = socket.socket()
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((SOURCE_ADDRESSES[i % len(SOURCE_ADDRESSES)], 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: mem\r\n\r\n")
        if not read_reply(s):
            raise RuntimeError(f"connection {i}: no 200 reply")
        conns.append(s)
    return conns


def count_closed(conns):
    """Idle connections the server has closed are readable (EOF); open ones are not."""
    closed = 0
    for k in range(0, len(conns), 500):
        batch = conns[k:k + 500]
        p = select.poll()
        for s in batch:
            p.register(s, select.POLLIN)
        closed += len(p.poll(0))
    return closed


def start_sws(sws, root, port, n, workers, style, tmp):
    def limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, max(n + 1000, resource.getrlimit(
            resource.RLIMIT_NOFILE)[1])))
    cmd = [sws, "--root", root, "--port", str(port), "--workers", str(workers), "--style", style, "--quiet",
           "--max-clients", str(n + 100), "--keepalive-timeout", "3600000"]
    log = open(os.path.join(tmp, "sws.log"), "w")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limits)


def start_nginx(nginx, root, port, n, workers, tmp):
    conf = os.path.join(tmp, "nginx.conf")
    os.makedirs(os.path.join(tmp, "t"), exist_ok=True)
    with open(conf, "w") as f:
        f.write(f"""daemon off; master_process on; worker_processes {workers};
worker_rlimit_nofile {n + 1000};
pid {tmp}/nginx.pid; error_log {tmp}/error.log warn;
events {{ worker_connections {2 * n + 100}; }}   # nginx reuses (closes) idle ones when short
http {{
  access_log off; keepalive_timeout 3600s; keepalive_requests 100000000;
  default_type text/html;
  client_body_temp_path {tmp}/t/body; proxy_temp_path {tmp}/t/proxy;
  fastcgi_temp_path {tmp}/t/fastcgi; uwsgi_temp_path {tmp}/t/uwsgi; scgi_temp_path {tmp}/t/scgi;
  server {{ listen 127.0.0.1:{port} backlog=4096; root {root}; }}
}}
""")

    def limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (n + 1000, max(n + 1000, resource.getrlimit(
            resource.RLIMIT_NOFILE)[1])))
    return subprocess.Popen([nginx, "-p", tmp + "/", "-c", conf, "-e", f"{tmp}/error.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            preexec_fn=limits)


def measure(name, starter, n):
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"conn-mem-{name}-") as tmp:
        proc = starter(port, tmp)
        try:
            if not wait_listening(port, proc):
                sys.exit(f"{name} did not start (see its log in {tmp})")
            warm = open_idle(port, 10)      # first requests: caches and buffers touched once
            for s in warm:
                s.close()
            time.sleep(1.0)
            before, nproc = tree_rss_kb(proc.pid)
            t0 = time.monotonic()
            conns = open_idle(port, n)
            open_s = time.monotonic() - t0
            time.sleep(2.0)
            after, _ = tree_rss_kb(proc.pid)
            closed = count_closed(conns)
            for s in conns:
                s.close()
        finally:
            proc.send_signal(signal.SIGTERM if name == "hue-sws" else signal.SIGQUIT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"before": before, "after": after, "per_conn": (after - before) * 1024 / n,
            "closed": closed, "procs": nproc, "open_s": open_s}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sws", help="path to hue-sws")
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--nginx", default="/usr/sbin/nginx")
    ap.add_argument("--nginx-workers", type=int, default=1)
    ap.add_argument("--sws-workers", type=int, default=2)
    ap.add_argument("--sws-style", default="handlers", choices=["handlers", "coroutines"])
    args = ap.parse_args()
    n = args.connections
    raise_nofile(n + 1000)

    with tempfile.TemporaryDirectory(prefix="conn-mem-root-") as root:
        os.chmod(root, 0o755)   # nginx's workers drop to an unprivileged user when run as root
        with open(os.path.join(root, "index.html"), "wb") as f:
            f.write(b"<!doctype html><title>idle</title><p>one request, then idle\n")
        servers = [("hue-sws", lambda port, tmp: start_sws(args.sws, root, port, n,
                                                           args.sws_workers, args.sws_style, tmp))]
        if os.path.exists(args.nginx):
            servers.append(("nginx", lambda port, tmp: start_nginx(args.nginx, root, port, n,
                                                                   args.nginx_workers, tmp)))
        else:
            print(f"{args.nginx} not found: hue-sws only")
        results = {name: [] for name, _ in servers}
        for rep in range(args.reps):
            for name, starter in servers:
                r = measure(name, starter, n)
                results[name].append(r)
                print(f"rep {rep + 1} {name:<8} RSS before {r['before']} kB, after {r['after']} kB, "
                      f"{r['per_conn']:.0f} B/connection, {r['closed']} closed by the server, "
                      f"{r['procs']} process(es), opened in {r['open_s']:.1f} s", flush=True)

    print(f"\n{n} idle keep-alive connections, medians of {args.reps} reps "
          f"(hue-sws --workers {args.sws_workers} --style {args.sws_style}; nginx worker_processes {args.nginx_workers}, "
          "RSS of master + workers):")
    failed = False
    for name, rs in results.items():
        med = lambda k: statistics.median(r[k] for r in rs)
        print(f"  {name:<8} RSS before {med('before'):.0f} kB, after {med('after'):.0f} kB, "
              f"{med('per_conn'):.0f} bytes/connection")
        if any(r["closed"] for r in rs):
            print(f"  {name}: the server closed idle connections during the measure")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
