#!/usr/bin/python3
"""The libasync corpus: public programs written against libasync's core, built unchanged against
hue's compatibility layer (`pkg-config hue-async`, from the build tree) and run as their authors
meant, against local servers this script starts when a program needs one.

    tools/async-corpus/run.py [--mirror DIR] [--build DIR] [--keep] [--only NAME,...]

Sources are read from local git mirrors of the public repositories, at pinned commits, with
`git --git-dir=MIRROR/<owner>+<name>/repo show COMMIT:PATH`; nothing is downloaded and nothing is
written into this repository (each program is built in a temporary folder, removed at the end
unless --keep). The mirror folder is --mirror, else $HUE_ASYNC_CORPUS_MIRROR, else `.mirror` next
to the repository's own folder. A missing mirror or commit is reported in the table, not fatal.

The build tree must hold libhue_async (`ninja -C build/release lib/async/libhue_async.a`); its
meson-uninstalled/hue-async-uninstalled.pc is what pkg-config reads, as scripts/test.sh does.

Prints one row per program: program / builds / runs as meant / why not. Exit status 1 when a
program in scope was not fetched, failed to build or did not run as meant; 0 otherwise
(out-of-scope rows do not count).
"""

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SFSLITE = ('OkCupid/sfslite', '4a5223b97357a84a62b868357d1078a49963e460')
OKWS = ('OkCupid/okws', '1c337392c676ccb4e9a4c92d11d5d2fada6427d2')
FLUME = ('imosts/flume', 'a17b987c5adaa13befb0fd74ac400c8edbe62ef5')
DHT = ('sit/dht', 'bab0bd7d81b0f04d1777ce30d21744bf481e77b3')
SFS = ('bougyman/sfs', '48a41fe0cd38f6a971c54b2959acf17e76cc2904')


class Program:
    """One corpus entry. `files` are fetched next to each other (the first is compiled, the
    others are its local headers and sources); `run(exe, workdir)` returns None when the program
    ran as meant, or why not. `scope` is None for programs in scope, or why they are not."""

    def __init__(self, name, origin, files, run=None, cflags=(), scope=None, sources=(),
                 norun='', unreachable=None):
        self.name, self.origin, self.files, self.norun = name, origin, files, norun
        self.unreachable = unreachable  # why no pinned source can be had
        self.run, self.cflags, self.scope, self.sources = run, list(cflags), scope, list(sources)


# ---- how each program is run as its author meant ----

def proc(argv, cwd, timeout=30, stdin=None):
    try:
        p = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, timeout=timeout)
        return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')
    except subprocess.TimeoutExpired as e:
        return 'timeout', (e.stdout or b'').decode(errors='replace'), (e.stderr or b'').decode(
            errors='replace')


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1][:120] if lines else '(no output)'


def exits_zero(timeout=60, args=(), check=None):
    """A self-checking test: it asserts or panics on a wrong result and exits 0 when all held."""
    def run(exe, cwd):
        rc, out, err = proc([exe] + list(args), cwd, timeout)
        if rc != 0:
            return 'exit %s: %s' % (rc, last_line(err or out))
        return check(out, err, cwd) if check else None
    return run


def aiod_check(out, err, cwd):
    left = [f for f in os.listdir(cwd) if f.startswith('aio.')]
    return 'files left behind: %s' % ' '.join(sorted(left)[:4]) if left else None


def rxx_test_check(out, err, cwd):
    # parentpath ("/a/b/c") -> parent "/a/b", file "c", printed with warn on stderr.
    lines = [l.split(': ', 1)[-1] for l in err.strip().splitlines()]
    return None if lines == ['/a/b', 'c'] else 'printed %r' % err.strip()[:80]


def runs_forever(seconds, check):
    """A program that never exits by design: run it for a while, stop it, look at its output."""
    def run(exe, cwd):
        p = subprocess.Popen([exe], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(seconds)
        alive = p.poll() is None
        if alive:
            p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        if not alive:
            return 'exited early (%s): %s' % (p.returncode, last_line(err.decode(errors='replace')))
        return check(out.decode(errors='replace'), err.decode(errors='replace'))
    return run


def tmr_check(out, err):
    # One "sec.nsec" line every half second, from SIGALRM through sigcb.
    stamps = []
    for l in err.splitlines():
        t = l.split(': ', 1)[-1].strip()
        try:
            s, ns = t.split('.')
            stamps.append(int(s) + int(ns) / 1e9)
        except ValueError:
            return 'unexpected line %r' % l[:60]
    if len(stamps) < 3:
        return 'only %d timer lines in 2.3 s' % len(stamps)
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    if any(g < 0.4 or g > 0.8 for g in gaps):
        return 'intervals %s, not 0.5 s' % ', '.join('%.2f' % g for g in gaps)
    return None


class http_server:
    """A local HTTP/1.0 server (Python's http.server) on a free port, serving one small file."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix='hue-corpus-www-')
        # index.html for the clients given a URI; s1 for flume's ascli, whose default requests
        # are GET /s1?<parameters> (service prefix "s", one service).
        for name in ('index.html', 's1'):
            with open(os.path.join(self.dir, name), 'w') as f:
                f.write('hello from the corpus server\n')
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        self.port = s.getsockname()[1]
        s.close()
        self.p = subprocess.Popen([sys.executable, '-m', 'http.server', '--bind', '127.0.0.1',
                                   str(self.port)], cwd=self.dir, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return self

    def __exit__(self, *a):
        self.p.terminate()
        self.p.wait()
        subprocess.run(['rm', '-rf', self.dir])


def hcli_run(exe, cwd):
    # hcli host:port infile nreq: sends the file's request nreq times (at most 20 at once),
    # copies each response to stdout, exits 0 after the last.
    # The request file holds the whole request: hcli's own `req << "\r\n\r\n"` appends to a
    # temporary (libasync's str << gives a new strbuf), so it sends the file's bytes only.
    with open(os.path.join(cwd, 'req'), 'w') as f:
        f.write('GET /index.html HTTP/1.0\r\n\r\n')
    with http_server() as srv:
        rc, out, err = proc([exe, '127.0.0.1:%d' % srv.port, 'req', '3'], cwd, 30)
    if rc != 0:
        return 'exit %s: %s' % (rc, last_line(err))
    n = out.count('hello from the corpus server')
    return None if n == 3 and out.count('200 OK') == 3 else '%d of 3 responses printed' % n


def pt1cli_run(exe, cwd):
    # pt1cli [-n total] [-c concurrency] host:port uri-parts...: a load client that fetches the
    # URI n times and reports latencies; exits 0 when all requests finished.
    with http_server() as srv:
        rc, out, err = proc([exe, '-n', '20', '-c', '4', '127.0.0.1:%d' % srv.port,
                             'index.html'], cwd, 60)
    if rc != 0:
        return 'exit %s: %s' % (rc, last_line(err or out))
    # It prints each response and ends with its failure counts on stderr.
    if 'FAILURES:' not in err or 'total=0' not in err:
        return last_line(err)
    n = out.count('200 OK')
    return None if n == 20 else '%d of 20 responses printed' % n


def ascli_run(exe, cwd):
    # ascli [-L: no logins] [-n total] [-c concurrency] host:port: flume's load client, in its
    # default mode (GET /s1?...); prints each response, ends with its failure counts on stderr.
    with http_server() as srv:
        rc, out, err = proc([exe, '-L', '-n', '20', '-c', '4', '127.0.0.1:%d' % srv.port], cwd, 60)
    if rc != 0:
        return 'exit %s: %s' % (rc, last_line(err or out))
    if 'FAILURES:' not in err or 'total=0' not in err:
        return last_line(err)
    n = out.count('200 OK')
    return None if n == 20 else '%d of 20 responses were 200 OK' % n


PROGRAMS = [
    Program('sfslite tests/test_backoff.C', SFSLITE, ['tests/test_backoff.C'], exits_zero()),
    Program('sfslite tests/test_rxx.C', SFSLITE, ['tests/test_rxx.C'], exits_zero()),
    Program('sfslite tests/test_passfd.C', SFSLITE, ['tests/test_passfd.C'], exits_zero()),
    Program('sfslite tests/test_itree.C', SFSLITE, ['tests/test_itree.C'], exits_zero()),
    Program('sfslite tests/test_vec.C', SFSLITE, ['tests/test_vec.C'], exits_zero()),
    Program('sfslite tests/test_aiod.C', SFSLITE, ['tests/test_aiod.C'],
            exits_zero(check=aiod_check)),
    Program('sfslite tests/test_rctree.C', SFSLITE, ['tests/test_rctree.C'], exits_zero()),
    Program('sfslite tests/test_timecb.C', SFSLITE, ['tests/test_timecb.C'],
            scope='needs libsfscrypt (crypt.h: the rnd generator)'),
    Program('sfslite tests/test_bbuddy.C, test_bitvec.C', SFSLITE, [],
            scope='need libsfscrypt (arc4.h)'),
    Program('sfslite tests/test_sp1.C .. test_sp3.C', SFSLITE, [],
            scope='need libsafeptr (sp_gc.h), a library of its own'),
    Program('sfslite tutorial/*.T, tests/test_tame.T', SFSLITE, [],
            scope='tame (a source-to-source translator and libtame)'),
    Program('sfslite tests/test_axprt.C, tutorial/ex4m.C', SFSLITE, [],
            scope='arpc (RPC over axprt) and XDR protocol files'),
    Program('sfslite-httpproxy proxy.T', ('mmaxim/sfslite-httpproxy',
                                          '1e80c50cfd3453fa298674f24ab5f70f01d2fdf5'), [],
            scope='tame'),
    Program('okws client/degz.C, mygz.C, mygz2.C', OKWS, [],
            scope='OKWS\'s own ahttp library and zlib'),
    Program('okws client/okwcmain.C', OKWS, [], scope='OKWS\'s okwc client library'),
    Program('sfslite tutorial/conftab.C', SFSLITE, ['tutorial/conftab.C'],
            scope='not a program: methods of OKWS\'s okd_t shown as a conftab example'),
    Program('okws client/tmr.C', OKWS, ['client/tmr.C'], runs_forever(2.3, tmr_check)),
    Program('okws client/hcli.C', OKWS, ['client/hcli.C'], hcli_run),
    Program('okws client/bench.C', OKWS, ['client/bench.C'], exits_zero()),
    Program('okws client/pt1cli.C', OKWS, ['client/pt1cli.C', 'client/normdist.h',
                                           'client/normdist.C'], pt1cli_run,
            sources=['normdist.C']),
    # Defines its own `timespec tsnow ()` (the later sfslite shape): built with the macro async.h
    # documents for that shape.
    Program('flume benchmark/ascli.C', FLUME,
            ['benchmark/' + f for f in ('ascli.C', 'basecli.h', 'normdist.h', 'normdist.C',
                                        'trazcart.h', 'trazcart.C', 'tmoincli.h', 'tmoincli.C',
                                        'moincli.h', 'moincli.C', 'w5cli.h', 'w5cli.C')],
            ascli_run, cflags=['-DHUE_ASYNC_NO_CLOCK_GLOBALS'],
            sources=['normdist.C', 'trazcart.C', 'tmoincli.C', 'moincli.C', 'w5cli.C']),
    Program('dht utils/test_skiplist.C', DHT, ['utils/test_skiplist.C', 'utils/skiplist.h'],
            exits_zero()),
    Program('multifinger (libasync tutorial)', None, [],
            unreachable='the code index holds its text (#include <sfslite/async.h>) with no '
                        'repository or path, so there is no commit to pin'),
    Program('sfs sfsrocd/rxx_test.C', SFS, ['sfsrocd/rxx_test.C'],
            exits_zero(args=['/a/b/c'], check=rxx_test_check)),
]


def git_show(mirror, origin, path):
    repo, commit = origin
    gitdir = os.path.join(mirror, repo.replace('/', '+'), 'repo')
    if not os.path.isdir(gitdir):
        return None, 'not fetched: mirror of %s absent (%s)' % (repo, gitdir)
    p = subprocess.run(['git', '--git-dir', gitdir, 'show', '%s:%s' % (commit, path)],
                       capture_output=True)
    if p.returncode != 0:
        return None, 'not fetched: %s@%s:%s not in the mirror' % (repo, commit[:10], path)
    return p.stdout, None


def build(prog, mirror, work, pcdir):
    """Fetches prog's files into work/ and compiles them. Returns (exe, None) or (None, why)."""
    os.makedirs(work)
    for path in prog.files:
        data, why = git_show(mirror, prog.origin, path)
        if why:
            return None, why
        with open(os.path.join(work, os.path.basename(path)), 'wb') as f:
            f.write(data)
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
    pc = subprocess.run(['pkg-config', '--cflags', '--libs', 'hue-async'], env=env,
                        capture_output=True, text=True)
    if pc.returncode != 0:
        return None, 'pkg-config hue-async: ' + last_line(pc.stderr)
    exe = os.path.join(work, 'prog')
    # -O0: these programs predate compilers that exploit undefined behaviour (ascli's next_node
    # falls off its end when no cluster is configured; GCC at -O1 hoists the division by zero
    # it guarded out of the loop). -w: their warnings are the authors', not the layer's.
    cmd = (['c++', '-O0', '-w', '-I.', os.path.basename(prog.files[0])] + prog.sources + prog.cflags +
           shlex.split(pc.stdout) + ['-o', exe])
    p = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    with open(os.path.join(work, 'build.log'), 'w') as f:
        f.write(' '.join(cmd) + '\n' + p.stdout + p.stderr)
    if p.returncode != 0:
        errs = [l for l in p.stderr.splitlines() if 'error' in l]
        return None, (errs[0] if errs else last_line(p.stderr))[:160]
    return exe, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--mirror', default=os.environ.get('HUE_ASYNC_CORPUS_MIRROR',
                                                       os.path.join(os.path.dirname(REPO),
                                                                    '.mirror')))
    ap.add_argument('--build', default=os.path.join(REPO, 'build', 'release'))
    ap.add_argument('--keep', action='store_true', help='keep the temporary folder')
    ap.add_argument('--only', help='comma-separated substrings of program names')
    a = ap.parse_args()

    pcdir = os.path.join(a.build, 'meson-uninstalled')
    if not os.path.isfile(os.path.join(pcdir, 'hue-async-uninstalled.pc')):
        sys.exit('%s has no meson-uninstalled/hue-async-uninstalled.pc: configure and build it '
                 'first (scripts/build.sh release)' % a.build)
    if not os.path.isdir(a.mirror):
        print('note: mirror folder %s is absent; every row will say so' % a.mirror)

    tmp = tempfile.mkdtemp(prefix='hue-async-corpus-')
    rows, bad = [], 0
    for i, prog in enumerate(PROGRAMS):
        if a.only and not any(s in prog.name for s in a.only.split(',')):
            continue
        if prog.scope:
            rows.append((prog.name, '-', '-', 'out of scope: ' + prog.scope))
            continue
        if prog.unreachable:
            rows.append((prog.name, '-', '-', 'not run: ' + prog.unreachable))
            continue
        work = os.path.join(tmp, '%02d' % i)
        exe, why = build(prog, a.mirror, work, pcdir)
        if not exe:
            rows.append((prog.name, '-' if why.startswith('not fetched') else 'no', '-', why))
            bad += 1
            continue
        if not prog.run:
            rows.append((prog.name, 'yes', '-', prog.norun))
            continue
        why = prog.run(exe, work)
        rows.append((prog.name, 'yes', 'no' if why else 'yes', why or ''))
        bad += bool(why)

    w = [max(len(r[k]) for r in rows + [('program', 'builds', 'runs as meant', '')])
         for k in range(3)]
    print('%-*s  %-*s  %-*s  %s' % (w[0], 'program', w[1], 'builds', w[2], 'runs as meant',
                                     'why not'))
    for r in rows:
        print('%-*s  %-*s  %-*s  %s' % (w[0], r[0], w[1], r[1], w[2], r[2], r[3]))
    if a.keep:
        print('kept: ' + tmp)
    else:
        subprocess.run(['rm', '-rf', tmp])
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
