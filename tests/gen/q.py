#!/usr/bin/env python3
"""q: ask a question of a replay's output directory, for the shell tests.

    q.py DIR 'EXPR'

EXPR is a Python expression over:
    C        conn.jsonl records of every day folder, in file order
    A        alerts.jsonl records of every day folder, in file order
    days     the day folders (names) that exist
    n(R, k=v, ...)        how many records of R have all those members
    sel(R, k=v, ...)      those records
    rows(R, *keys)        "v1 v2;v1 v2;..." of the keys, records in order
    trans(A)              the state transitions, "clean->compromised;..."
    D(name)               {day: [records]} of name (conn.jsonl, alerts.jsonl)
    frames()              [(ts_ns, caplen, wirelen, bytes)] of every output
                          pcap, days and files in order
    pcaps()               the output pcap paths
A value k__in=(...) matches any of the tuple.  The result is printed (a
bool as 1/0); an error prints "ERROR: ..." and exits 1, so check_eq fails
with the reason in its diagnostic.
"""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkpcap  # noqa: E402

STATES = ("clean", "compromised", "contained")


def load_file(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                recs.append(json.loads(line))
            except ValueError as e:
                raise ValueError("%s:%d: not JSON: %s" % (path, i, e))
    return recs


def load(out, name):
    recs = []
    for path in sorted(glob.glob(os.path.join(out, "*", name))):
        recs += load_file(path)
    return recs


def by_day(out, name):
    return {os.path.basename(os.path.dirname(p)): load_file(p)
            for p in sorted(glob.glob(os.path.join(out, "*", name)))}


def _match(r, kw):
    for k, v in kw.items():
        if k.endswith("__in"):
            if r.get(k[:-4]) not in v:
                return False
        elif r.get(k) != v:
            return False
    return True


def sel(recs, **kw):
    return [r for r in recs if _match(r, kw)]


def n(recs, **kw):
    return len(sel(recs, **kw))


def _fmt(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "-"
    return str(v)


def rows(recs, *keys):
    return ";".join(" ".join(_fmt(r.get(k)) for k in keys) for r in recs)


def _transition(a):
    """from->to of a state event: members "from"/"to" if it has them, else
    the state names in the order its message mentions them."""
    if "from" in a and "to" in a:
        return "%s->%s" % (a["from"], a["to"])
    msg = a.get("msg", "")
    found = sorted((msg.find(s), s) for s in STATES if s in msg)
    return "->".join(s for _, s in found)


def trans(alerts):
    return ";".join(_transition(a) for a in alerts if a.get("type") == "state")


def main():
    out, expr = sys.argv[1], sys.argv[2]
    env = {
        "C": None, "A": None, "n": n, "sel": sel, "rows": rows, "trans": trans,
        "days": None,
        "pcaps": lambda: sorted(glob.glob(os.path.join(out, "*", "packets", "*.pcap"))),
        "len": len, "sum": sum, "sorted": sorted, "set": set,
    }
    env["D"] = lambda name: by_day(out, name)
    env["frames"] = lambda: [fr for p in env["pcaps"]() for fr in mkpcap.read_pcap(p)]
    try:
        env["days"] = sorted(d for d in os.listdir(out)
                             if os.path.isdir(os.path.join(out, d)) and d[:2] == "20")
        env["C"] = load(out, "conn.jsonl")
        env["A"] = load(out, "alerts.jsonl")
        v = eval(expr, env)  # noqa: S307 -- test expressions written by us
    except Exception as e:  # noqa: BLE001
        print("ERROR: %s: %s" % (type(e).__name__, e))
        return 1
    if isinstance(v, bool):
        v = int(v)
    print(v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
