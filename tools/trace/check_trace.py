#!/usr/bin/python3
"""tools/trace/check_trace.py — is a hue trace what Perfetto's JSON importer (and chrome://tracing)
needs? Prints every problem and exits 1 if there is one.

  /usr/bin/python3 tools/trace/check_trace.py TRACE.json
  /usr/bin/python3 tools/trace/check_trace.py --self-test TRACE.json

What is checked, from the Chrome trace-event format and what Perfetto's importer does with it:
  - the file is an object with a `traceEvents` list and a known `displayTimeUnit`;
  - every event has a `ph` this writer uses, a string `name`, integer `pid` (and `tid` for events
    on a thread), and a number `ts` >= 0;
  - complete events ("X") have a number `dur` >= 0, and the slices of one thread nest (two that
    overlap without one containing the other are dropped or misdrawn by the importer);
  - process and thread metadata: a `process_name` for every pid and a `thread_name` for every
    (pid, tid) that has events, each with `args.name`;
  - flows: every flow id of a category has exactly one start ("s") and one finish ("f"), the
    start no later than the finish; a start binds to the slice enclosing it on its thread, and a
    finish with `"bp": "e"` to the slice enclosing it on its thread: each must have one, or the
    importer draws an arrow from or to nothing.
--self-test plants one mistake of each kind into a copy of TRACE.json and checks that each is
reported (the checker must be able to fail); the trace itself must pass first.
"""
import copy
import json
import sys

KNOWN_PHASES = {"X", "M", "s", "f", "i", "C"}


def enclosing(slices, ts):
    """The innermost slice (begin, end) of a sorted per-thread list containing ts, or None."""
    best = None
    for b, e in slices:
        if b > ts:
            break
        if b <= ts <= e and (best is None or b >= best[0]):
            best = (b, e)
    return best


def problems(trace):
    out = []
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        return ["the file is not an object with a traceEvents list"]
    if trace.get("displayTimeUnit", "ms") not in ("ms", "ns"):
        out.append(f"displayTimeUnit {trace.get('displayTimeUnit')!r} is neither ms nor ns")
    process_names, thread_names, used_threads = set(), set(), set()
    slices = {}
    flows = {}
    for n, e in enumerate(trace["traceEvents"]):
        where = f"event {n} ({e.get('name')!r}, ph {e.get('ph')!r})"
        ph = e.get("ph")
        if ph not in KNOWN_PHASES:
            out.append(f"{where}: unknown phase")
            continue
        if not isinstance(e.get("name"), str):
            out.append(f"{where}: no string name")
        if not isinstance(e.get("pid"), int):
            out.append(f"{where}: no integer pid")
            continue
        if ph == "M":
            name = (e.get("args") or {}).get("name")
            if not isinstance(name, str):
                out.append(f"{where}: metadata without args.name")
            elif e["name"] == "process_name":
                process_names.add(e["pid"])
            elif e["name"] == "thread_name":
                if not isinstance(e.get("tid"), int):
                    out.append(f"{where}: thread_name without an integer tid")
                else:
                    thread_names.add((e["pid"], e["tid"]))
            continue
        if not isinstance(e.get("tid"), int):
            out.append(f"{where}: no integer tid")
            continue
        ts = e.get("ts")
        if not isinstance(ts, (int, float)) or ts < 0:
            out.append(f"{where}: ts {ts!r} is not a number >= 0")
            continue
        thread = (e["pid"], e["tid"])
        used_threads.add(thread)
        # Compared in whole nanoseconds: the writer prints microseconds with three decimals, and
        # ts + dur in floating point can land a hair past the next slice's ts.
        ts = round(ts * 1000)
        if ph == "X":
            dur = e.get("dur")
            if not isinstance(dur, (int, float)) or dur < 0:
                out.append(f"{where}: complete event without a dur >= 0")
                continue
            slices.setdefault(thread, []).append((ts, ts + round(dur * 1000)))
        elif ph in ("s", "f"):
            if "id" not in e or not isinstance(e.get("cat"), str):
                out.append(f"{where}: flow event without id or cat")
                continue
            flows.setdefault((e["cat"], e["id"]), []).append((ph, thread, ts, e.get("bp")))
    for pid in {t[0] for t in used_threads} - process_names:
        out.append(f"pid {pid} has events but no process_name metadata")
    for t in sorted(used_threads - thread_names):
        out.append(f"thread {t} has events but no thread_name metadata")
    for thread, ss in slices.items():
        ss.sort(key=lambda s: (s[0], -s[1]))
        stack = []
        for b, e in ss:
            while stack and stack[-1][1] <= b:
                stack.pop()
            if stack and e > stack[-1][1]:
                out.append(f"thread {thread}: slices [{stack[-1][0]}, {stack[-1][1]}] and [{b}, {e}] "
                           "(ns) overlap without nesting")
                break
            stack.append((b, e))
    for (cat, fid), ends in flows.items():
        starts = [x for x in ends if x[0] == "s"]
        finishes = [x for x in ends if x[0] == "f"]
        if len(starts) != 1 or len(finishes) != 1:
            out.append(f"flow {cat}/{fid}: {len(starts)} starts and {len(finishes)} finishes")
            continue
        _, st, sts, _ = starts[0]
        _, ft, fts, bp = finishes[0]
        if sts > fts:
            out.append(f"flow {cat}/{fid}: starts at {sts} ns, after its finish at {fts} ns")
        if enclosing(slices.get(st, []), sts) is None:
            out.append(f"flow {cat}/{fid}: its start at {sts} ns on thread {st} is in no slice")
        if bp == "e" and enclosing(slices.get(ft, []), fts) is None:
            out.append(f"flow {cat}/{fid}: its finish at {fts} ns on thread {ft} is in no slice")
    return out


def plant(trace, mistake):
    """A copy of trace with one mistake of the named kind, or None if the trace has no place for it."""
    t = copy.deepcopy(trace)
    ev = t["traceEvents"]
    xs = [e for e in ev if e.get("ph") == "X"]
    if mistake == "complete event without dur":
        del xs[len(xs) // 2]["dur"]
    elif mistake == "no thread_name":
        t["traceEvents"] = [e for e in ev if not (e.get("ph") == "M" and e["name"] == "thread_name")]
    elif mistake == "no process_name":
        t["traceEvents"] = [e for e in ev if not (e.get("ph") == "M" and e["name"] == "process_name")]
    elif mistake == "slices overlap":
        a = xs[0]
        ev.append(dict(a, name="planted", ts=a["ts"] + a["dur"] / 2, dur=a["dur"] + 10))
    elif mistake == "flow start outside any slice":
        s = next((e for e in ev if e.get("ph") == "s"), None)
        if s is None:
            return None
        s["ts"] = max(e["ts"] + e.get("dur", 0) for e in ev if e.get("ph") == "X") + 1000
    elif mistake == "flow without finish":
        f = next((e for e in ev if e.get("ph") == "f"), None)
        if f is None:
            return None
        ev.remove(f)
    elif mistake == "negative ts":
        xs[-1]["ts"] = -1
    return t


MISTAKES = ["complete event without dur", "no thread_name", "no process_name", "slices overlap",
            "flow start outside any slice", "flow without finish", "negative ts"]


def main(argv):
    self_test = "--self-test" in argv
    files = [a for a in argv[1:] if a != "--self-test"]
    if len(files) != 1:
        print(__doc__)
        return 2
    with open(files[0]) as f:
        trace = json.load(f)
    found = problems(trace)
    for p in found:
        print(f"{files[0]}: {p}")
    if found:
        return 1
    events = trace["traceEvents"]
    flows = sum(1 for e in events if e.get("ph") == "s")
    print(f"{files[0]}: {len(events)} events, {sum(1 for e in events if e.get('ph') == 'X')} slices, "
          f"{flows} flows: no problems")
    if not self_test:
        return 0
    failed = False
    for m in MISTAKES:
        planted = plant(trace, m)
        if planted is None:
            print(f"self-test: {m}: the trace has no flow to plant it in")
            failed = True
        elif not problems(planted):
            print(f"self-test: a planted '{m}' was not reported")
            failed = True
    if failed:
        return 1
    print(f"self-test: all {len(MISTAKES)} planted mistakes were reported")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
