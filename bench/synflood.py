#!/usr/bin/env python3
"""bench/synflood.py: a classic pcap of a SYN flood from many sources.

    python3 bench/synflood.py OUT.pcap [N_SOURCES] [DST] [DPORT]

N_SOURCES (default 1000000) SYNs, each from its own IPv4 source address
(counting up from 1.0.0.1, skipping nothing: only our own namespaces ever
see them) and source port, to DST:DPORT (default 10.99.0.130:80), one every
microsecond of capture time, Ethernet from 02:00:00:00:00:01 to
02:00:00:00:00:02.  60-byte frames (54 + padding), checksums correct.
Written in one pass with struct: about 2 s for a million frames."""
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    dst = bytes(int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "10.99.0.130").split("."))
    dport = int(sys.argv[4]) if len(sys.argv) > 4 else 80
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    t0 = 1764201600  # 2025-11-27T00:00:00Z
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        buf = []
        for i in range(n):
            a = 0x01000001 + i
            src = struct.pack("!I", a)
            sport = 1024 + (i % 64000)
            seq = (i * 2654435761) & 0xffffffff
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xffff, 0, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 0x50, 0x02, 64240, 0, 0)
            ph = src + dst + struct.pack("!BBH", 0, 6, 20)
            tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
            frame = eth + ip + tcp + b"\0" * 6
            buf.append(struct.pack("<IIII", t0 + i // 1000000, i % 1000000, 60, 60) + frame)
            if len(buf) >= 65536:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))


main()
