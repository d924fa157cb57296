#!/usr/bin/env python3
"""mkbulk: captures that stand in for a live bulk TCP load (issue #4), for
measuring the capture layers' cost per byte with `fishbowl replay` under
callgrind or perf.  Deterministic (seeded), standard library only; frames
come from tests/gen/mkpcap.py.

    mkbulk.py bulk  OUT.pcap [--mb 150] [--flows 2]
    mkbulk.py mixed OUT.pcap [--mb 150]

bulk:  FLOWS long inbound TCP connections 198.51.100.(10+i) -> 10.0.0.5:5201
       carrying random bytes (what iperf3 sends) in 1448-byte segments,
       10 us apart, interleaved; the receiver acknowledges every second
       segment, 16 segments behind (so reassembly holds a window).
mixed: per round, a shell-like session on :23 whose server side sends text
       lines, then a random binary run (1 KB - 1 MB, the last segment
       partly filled), then text again in its own segment; an HTTP GET of
       a random body (carved); and a chunk of a bulk stream as above.
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "gen"))
import mkpcap  # noqa: E402
from mkpcap import ACK, FIN, MS, MSS, PSH, SYN, T0, Net, Pcap  # noqa: E402

US = 1000
SEG = 1448
HP = "10.0.0.5"


class Conn:
    """One TCP connection's sequence numbers; frames go to a shared Net."""

    def __init__(self, n, cli, srv, sport, dport, isn_c, isn_s):
        self.n, self.cli, self.srv = n, cli, srv
        self.sport, self.dport = sport, dport
        self.c, self.s = isn_c, isn_s

    def open(self, t):
        n = self.n
        n.tcp(t, self.cli, self.srv, self.sport, self.dport, self.c, 0, SYN, options=MSS)
        n.tcp(t + 50 * US, self.srv, self.cli, self.dport, self.sport, self.s,
              self.c + 1, SYN | ACK, options=MSS)
        self.c += 1
        self.s += 1
        n.tcp(t + 100 * US, self.cli, self.srv, self.sport, self.dport, self.c, self.s, ACK)
        return t + 150 * US

    def send(self, t, who, data, flags=PSH | ACK):
        """One segment of data from "c" or "s", no acknowledgement."""
        if who == "c":
            self.n.tcp(t, self.cli, self.srv, self.sport, self.dport, self.c,
                       self.s, flags, data)
            self.c += len(data)
        else:
            self.n.tcp(t, self.srv, self.cli, self.dport, self.sport, self.s,
                       self.c, flags, data)
            self.s += len(data)

    def ack(self, t, who, upto=None):
        """who acknowledges the other side (up to upto, default all)."""
        if who == "c":
            self.n.tcp(t, self.cli, self.srv, self.sport, self.dport, self.c,
                       self.s if upto is None else upto, ACK)
        else:
            self.n.tcp(t, self.srv, self.cli, self.dport, self.sport, self.s,
                       self.c if upto is None else upto, ACK)

    def close(self, t):
        n = self.n
        n.tcp(t, self.cli, self.srv, self.sport, self.dport, self.c, self.s, FIN | ACK)
        n.tcp(t + 50 * US, self.srv, self.cli, self.dport, self.sport, self.s,
              self.c + 1, FIN | ACK)
        n.tcp(t + 100 * US, self.cli, self.srv, self.sport, self.dport, self.c + 1,
              self.s + 1, ACK)
        return t + 150 * US


def bulk_run(conn, t, rnd, nbytes, lag=16):
    """nbytes of random data from the client, segments 10 us apart,
    acknowledged every second segment, lag segments behind."""
    sent = []
    k = 0
    while nbytes > 0:
        seg = rnd.randbytes(min(SEG, nbytes))
        nbytes -= len(seg)
        conn.send(t, "c", seg, ACK)
        sent.append(conn.c)
        k += 1
        if k % 2 == 0 and len(sent) > lag:
            conn.ack(t + 5 * US, "s", sent[-1 - lag])
        t += 10 * US
    conn.ack(t, "s")
    return t + 10 * US


def binary_then_text(conn, t, rnd):
    """The server's side of a shell: text, a binary run, text again."""
    conn.send(t, "c", b"cat /tmp/x.bin; echo done\r\n")
    t += 200 * US
    conn.ack(t, "s")
    conn.send(t + 10 * US, "s", b"total 8\r\n-rw-r--r-- 1 root root 4096 x.bin\r\n")
    t += 100 * US
    size = rnd.choice((1000, 5000, 70000, 1 << 20)) + rnd.randrange(SEG)
    blob = rnd.randbytes(size)
    for off in range(0, size, SEG):
        conn.send(t, "s", blob[off:off + SEG], ACK)
        t += 10 * US
    conn.ack(t, "c")
    conn.send(t + 10 * US, "s", b"done\r\nroot@hp:~# ")
    t += 100 * US
    conn.ack(t, "c")
    return t + 10 * US


def http_get(conn, t, rnd):
    body = rnd.randbytes(rnd.randrange(2000, 300000))
    conn.send(t, "c", b"GET /payload.bin HTTP/1.1\r\nHost: hp\r\n\r\n")
    t += 100 * US
    conn.ack(t, "s")
    data = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body
    for off in range(0, len(data), SEG):
        conn.send(t, "s", data[off:off + SEG], ACK)
        t += 10 * US
        if (off // SEG) % 2 == 1:
            conn.ack(t, "c")
    conn.ack(t, "c")
    return t + 10 * US


class Writer:
    def __init__(self, f):
        self.w = Pcap(f)
        self.written = 0

    def flush(self, n):
        n.frames.sort(key=lambda x: (x[0], x[1]))
        for ts, _, fr, wl in n.frames:
            self.w.write(ts, fr, wl)
            self.written += 16 + len(fr)
        n.frames.clear()


def bulk(path, mb, flows):
    rnd = random.Random(4)
    n = Net()
    with open(path, "wb") as f:
        w = Writer(f)
        conns = [Conn(n, "198.51.100.%d" % (10 + i), HP, 40000 + i, 5201,
                      1000 + i * 7919, 5000 + i * 104729) for i in range(flows)]
        ts = [c.open(T0 + i * MS) for i, c in enumerate(conns)]
        w.flush(n)
        while w.written < mb * 1_000_000:
            for i, c in enumerate(conns):
                ts[i] = bulk_run(c, ts[i], rnd, 256 * SEG)
            w.flush(n)
        for i, c in enumerate(conns):
            c.close(ts[i] + MS)
        w.flush(n)
    return w.w.frames


def mixed(path, mb):
    rnd = random.Random(5)
    n = Net()
    k = 0
    with open(path, "wb") as f:
        w = Writer(f)
        t = T0
        big = Conn(n, "198.51.100.9", HP, 39999, 5201, 777, 888)
        tb = big.open(t)
        while w.written < mb * 1_000_000:
            k += 1
            sh = Conn(n, "203.0.113.%d" % (k % 200 + 1), HP, 20000 + k % 40000, 23,
                      k * 7919, k * 104729)
            te = sh.open(t)
            for _ in range(3):
                te = binary_then_text(sh, te, rnd)
            sh.close(te)
            web = Conn(n, "198.51.100.%d" % (k % 200 + 20), HP, 30000 + k % 30000, 80,
                       k * 31, k * 37)
            web.close(http_get(web, web.open(t + 3 * MS), rnd))
            tb = bulk_run(big, max(tb, t), rnd, 64 * SEG)
            w.flush(n)
            t += 200 * MS
        big.close(tb + MS)
        w.flush(n)
    return w.w.frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=("bulk", "mixed"))
    ap.add_argument("out")
    ap.add_argument("--mb", type=int, default=150)
    ap.add_argument("--flows", type=int, default=2)
    a = ap.parse_args()
    frames = bulk(a.out, a.mb, a.flows) if a.kind == "bulk" else mixed(a.out, a.mb)
    print("%s: %d frames" % (a.out, frames), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
