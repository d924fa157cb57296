#!/bin/bash
# openers: the openers' ring under floods (issue #4; docs/io.md "The
# openers' ring"), on the tests/netns/lib-netns.sh bed.  Counts only, never
# timings.  The openers' ring is filed by known.h's eBPF program (the
# default, [engine] known_flows = yes: every frame of a flow not yet known,
# "newcomers") or by openers.h's classic one (known_flows = no: connection
# openers only).
#
#   K  known_flows = no, the classic program in the kernel: crafted frames
#      sent onto the outside leg (IPv4 SYNs with and without IP options, a
#      first fragment, IPv6 SYNs, 802.1Q-tagged SYNs; and SYN-ACKs, ACKs,
#      UDP, a later fragment, IPv6 behind a hop-by-hop header, QinQ-tagged
#      SYNs, ARP, ICMP and ICMPv6 echo requests, an ICMP error and an
#      ICMPv6 neighbour solicitation); the log says "for
#      connection openers", status io.known_filter false, and
#      io.rx_frames_openers grows by exactly the openers among them.
#   K2 the default, the known filter: the same frames, group by group.  The
#      log says "for newcomers", status io.known_filter true; none of them
#      belongs to a known flow, so every IPv4/IPv6 group and QinQ (the
#      kernel untags the outer tag only; the program reads skb->protocol
#      0x8100 as not known) goes whole to the openers' ring, ICMP and
#      ICMPv6 echo requests (each of its own identifier) and the ICMP
#      error (quoting a datagram of no known flow) too, and ARP and the
#      neighbour solicitation whole to the main ring; the total is exact;
#      io.known_marks stays 0.
#   R  fallback: with setsockopt(PACKET_FANOUT) or (PACKET_FANOUT_DATA, the
#      program) failing (an LD_PRELOAD shim, as on a kernel without fanout
#      or CBPF/EBPF) fishbowl starts with one ring per leg and says so: the
#      log line, status io.openers_ring false; pings and a TCP connection
#      cross, no loop, nothing through an openers' ring, no flow marked
#      known; with the known filter and with known_flows = no.
#   F, A, U, I, E inbound floods with the known filter, from random sources
#      towards the honeypot: F hping3 --flood -S (SYNs), A -A (ACKs), U -2
#      (UDP), I -1 (ICMP echo requests, which the honeypot answers), E -1
#      -C 3 -K 3 (ICMP port unreachables, quoting no known flow).  Small
#      rings (ring_mb 2, openers_ring_mb 1), tcp = 3/hour.
#      During each: a TCP transfer from outside to the honeypot on a
#      connection opened before the flood, 24 marker pings from outside
#      (one identifier, begun before the flood, which waits until they are
#      known: io.known_marks grows),
#      and the honeypot's client opening connections to an outside listener
#      until 3 succeed, then 3 more.  Checked: (a) the flood came to the
#      openers' ring (frames read there + its drops >= 1000) and the kernel
#      dropped frames of the openers' ring only: kernel_drops_other = 0;
#      kernel_drops_openers > 0 is asserted for F, for A and U only
#      reported (a machine that drains a 1 MiB ring under an ACK or UDP
#      flood says so in a diagnostic, no failure); (b) the transfer arrives
#      whole, every marker ping is answered and in the pcap, the honeypot's
#      3 allowed connections complete, status io.known_marks >= 4 (the
#      transfer's connection, the 3 allowed ones); (c) the counters add up
#      as in flood.sh (rx = forwarded + dropped + kernel drops; pcap frames
#      = capture.frames = forwarded + dropped; nothing lost to capture);
#      (d) containment exact: the outside saw exactly 3 SYNs from the
#      honeypot (tcpdump on the router's side), the listener 3
#      connections, status tcp total 3.
#   A0, U0 (KNOWN_BEFORE=1, the default; 0 skips them) the A and U floods
#      with known_flows = no, as before the known filter: ACKs and UDP land
#      in the main rings.  The same figures are reported; (a) and (b) are
#      not asserted, (c) and (d) are.  I0 (ICMP_BEFORE=1; off by default,
#      as its honeypot client may not get its 3 connections through, so
#      (d)'s "exactly 3" fails) the same for pings, which before this
#      filtered ICMP echoes landed in the main rings whatever the setting.
#   B  (OPENERS_BEFORE=1) F with openers_ring_mb = 0 (one ring, as before
#      the openers' ring), reported the same way (docs/performance.md
#      "Floods: a ring for connection openers").
#   FF, AF, UF, IF (OPENERS_FAST=1, the default) F, A, U and I with
#      fast_path = yes: the same checks; the flood's frames come to the
#      outside leg's newcomers' ring buffer, which status counts with the
#      openers' rings (ICMP: to the openers' ring, never the fast way).
#   M  a transfer connects, fishbowl restarts, the transfer runs: the new
#      fishbowl picks the connection up mid-stream and marks it known once
#      the client acknowledges the honeypot's sequence number; the
#      transfer arrives whole, status io.known_marks >= 1.
# Each flood prints a figures line (# | phase | sent | rx | kernel drops |
# read openers' / main rings | transfer | pings | client | SYNs out |
# known_marks |).
#
# Run as root from the repo root: FB_BUILD=build bash tests/netns/openers.sh
# OPENERS_FLOODS="U I" runs only the floods named (the other phases all).
# FLOOD_S (default 2): seconds the flood goes on after the traffic.
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "openers" "needs root"
	done_testing; exit 0
fi
for t in ip tcpdump python3 hping3 ss timeout; do
	if ! command -v $t >/dev/null; then
		skip "openers" "$t missing (scripts/deps.sh)"
		done_testing; exit 0
	fi
done
if [ ! -x "$FISHBOWL" ]; then
	not_ok "fishbowl is built" "no executable $FISHBOWL"
	done_testing; exit 1
fi

FBN_PREFIX=${FBN_PREFIX:-fbop$$}
. "$FB_ROOT/tests/netns/lib-netns.sh"
fbn_init || { not_ok "work directory"; done_testing; exit 1; }
W=$FBN_WORK
T="python3 $W/tools.py"
HP=$FBN_HP_ADDR
FLOOD_S=${FLOOD_S:-2}
LISTENER=203.0.113.10
XFER_BYTES=4194304
if ! fbn_up; then
	not_ok "test bed: namespaces, veth pairs, addresses"
	done_testing; exit 1
fi
ok "test bed: outside, gateway and honeypot namespaces"

# Crafted frames onto a leg, in named groups: frames.py IFACE DST_MAC
# [GROUP...] sends the groups named (all without one) and prints how many
# frames it sent, how many of them are connection openers (the classic
# program's choice) and how many are newcomers (the known filter's: none of
# them belongs to a known flow, so every IPv4/IPv6 frame but neighbour
# discovery, and those behind two VLAN tags).
# frames.py list prints the group names.
cat >"$W/frames.py" <<'EOF_PY'
import socket, struct, sys
SRC, DST, NOBODY = bytes([203, 0, 113, 77]), bytes([10, 99, 0, 130]), bytes([10, 99, 0, 177])
SYN, ACK = 0x02, 0x10
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def tcp(flags, sport=40000):
    return struct.pack("!HHIIBBHHH", sport, 9, 1, 0, 0x50, flags, 8192, 0, 0)
def v4(proto, payload, opts=b"", frag=0, dst=DST):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBB", 0x40 | ihl, 0, ihl * 4 + len(payload), 1, frag, 64, proto)
    h += b"\0\0" + SRC + dst + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return b"\x08\x00" + h + payload
def v6(nh, payload):
    s6 = b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x01"
    d6 = b"\x20\x01\x0d\xb8" + b"\0" * 11 + b"\x02"
    return b"\x86\xdd" + struct.pack("!IHBB", 0x60000000, len(payload), nh, 64) + s6 + d6 + payload
def tag(tpid, vid, rest):
    return struct.pack("!HH", tpid, vid) + rest
def echo(i, typ=8):   # an identifier of its own: never a flow answered twice
    e = struct.pack("!BBHHH", typ, 0, 0, 0x4200 + i, i) + b"fishbowl"
    return e[:2] + struct.pack("!H", csum(e)) + e[4:]
def unreach(i):     # port unreachable, quoting a UDP datagram
    q = struct.pack("!BBHHHBBH", 0x45, 0, 28, 1, 0, 64, 17, 0) + DST + SRC + \
        struct.pack("!HHHH", 9, 40000 + i, 8, 0)
    e = struct.pack("!BBHI", 3, 3, 0, 0) + q
    return e[:2] + struct.pack("!H", csum(e)) + e[4:]
def nsol(i):        # ICMPv6 neighbour solicitation (checksum not checked here)
    return struct.pack("!BBHI", 135, 0, 0, 0) + b"\x20\x01\x0d\xb8" + b"\0" * 11 + bytes([0x10 + i])
def arp(i):     # who has 10.99.0.20x, tell the router: nobody answers
    return b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + smac + \
        bytes([10, 99, 0, 1]) + b"\0" * 6 + bytes([10, 99, 0, 200 + i])
opts = b"\x01" * 13 + bytes([ACK]) + b"\x01" * 26     # 40 bytes: IHL 15
# name: (frames after the MACs, openers (classic), newcomers (known filter))
G = {
    "syn4":       (lambda: [v4(6, tcp(SYN, 40000 + i)) for i in range(5)], True, True),
    "syn4-opts":  (lambda: [v4(6, tcp(SYN, 40100 + i), opts) for i in range(3)], True, True),
    "synack4":    (lambda: [v4(6, tcp(SYN | ACK)) for _ in range(3)], False, True),
    "ack4":       (lambda: [v4(6, tcp(ACK)) for _ in range(3)], False, True),
    # to nobody: the honeypot's port unreachable would be a newcomer too
    "udp4":       (lambda: [v4(17, struct.pack("!HHHH", 40000, 9, 8 + 20, 0) + tcp(SYN), dst=NOBODY) for _ in range(3)], False, True),
    "later-frag": (lambda: [v4(6, tcp(SYN), frag=0x0005) for _ in range(2)], False, True),
    "first-frag": (lambda: [v4(6, tcp(SYN, 40200 + i), frag=0x2000) for i in range(2)], True, True),
    "syn6":       (lambda: [v6(6, tcp(SYN, 40300 + i)) for i in range(3)], True, True),
    "synack6":    (lambda: [v6(6, tcp(SYN | ACK)) for _ in range(2)], False, True),
    "hbh6":       (lambda: [v6(0, b"\x06\x00\x01\x04\x00\x00\x00\x00" + tcp(SYN)) for _ in range(2)], False, True),
    "vlan-syn4":  (lambda: [tag(0x8100, 100, v4(6, tcp(SYN, 40400 + i))) for i in range(3)], True, True),
    # the kernel takes the outer tag only: skb->protocol is 0x8100; the
    # classic program reads that as not IP (main ring), the known filter
    # as not known (the openers' ring)
    "qinq-syn4":  (lambda: [tag(0x88a8, 200, tag(0x8100, 100, v4(6, tcp(SYN)))) for _ in range(2)], False, True),
    "arp":        (lambda: [arp(i) for i in range(3)], False, False),
    # to an address nobody has: no reply (a newcomer of its own) to count
    "icmp4":      (lambda: [v4(1, echo(i), dst=NOBODY) for i in range(3)], False, True),
    "icmp6":      (lambda: [v6(58, echo(i, 128)) for i in range(2)], False, True),
    # filed by the datagram it quotes, of no known flow: a newcomer
    "icmp4-err":  (lambda: [v4(1, unreach(i)) for i in range(2)], False, True),
    "icmp6-ns":   (lambda: [v6(58, nsol(i)) for i in range(2)], False, False),
}
if sys.argv[1] == "list":
    print(" ".join(G)); sys.exit(0)
ifc, dmac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
smac = bytes.fromhex(open("/sys/class/net/%s/address" % ifc).read().strip().replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifc, 0))
n = nopen = nnew = 0
for name in sys.argv[3:] or list(G):
    make, o, new = G[name]
    for f in make():
        s.send(dmac + smac + f)
        n += 1; nopen += o; nnew += new
print(n, nopen, nnew)
EOF_PY

# The transfer: xfer.py serve PORT (prints the bytes received when the
# peer closes) | xfer.py send HOST PORT BYTES GOFILE (connects at once,
# sends BYTES paced in 16 KiB chunks once GOFILE exists; prints them).
cat >"$W/xfer.py" <<'EOF_PY'
import os, socket, sys, time
if sys.argv[1] == "serve":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen(1)
    c, _ = s.accept(); n = 0
    while True:
        d = c.recv(65536)
        if not d: break
        n += len(d)
    print(n, flush=True)
else:
    host, port, total, go = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    c = socket.create_connection((host, port), timeout=5)
    print("connected", flush=True)
    while not os.path.exists(go): time.sleep(0.01)
    c.settimeout(60)
    buf, sent = b"x" * 16384, 0
    while sent < total:
        c.sendall(buf); sent += len(buf); time.sleep(0.004)
    c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
    print(sent, flush=True)
EOF_PY

# The honeypot's client (as in flood.sh): connections one after another,
# each echoing a line, until GOOD succeeded (at most GOOD + 1 tries, 3 s
# timeout each), then EXTRA more at once.  Prints both successes.
cat >"$W/client.py" <<'EOF_PY'
import socket, sys, threading
host, port, want, extra = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def one(i, timeout):
    c = socket.socket()
    c.settimeout(timeout)
    try:
        c.connect((host, port))
        c.sendall(b"marker %d\n" % i)
        return c.recv(100) == b"marker %d\n" % i
    except OSError:
        return False
    finally:
        c.close()
good = tries = 0
while good < want and tries < want + 1:
    good += one(tries, 3.0)
    tries += 1
res = []
ts = [threading.Thread(target=lambda i=i: res.append(one(100 + i, 2.0))) for i in range(extra)]
for t in ts: t.start()
for t in ts: t.join()
print(good, sum(res))
EOF_PY

# frames in pcap files: capinfos if there, else tools.py
pcap_frames() {
	local f n=0
	if command -v capinfos >/dev/null; then
		for f in "$@"; do
			n=$((n + $(capinfos -c -M "$f" | awk '/Number of packets/ {print $NF}')))
		done
		echo $n
	else
		$T pcap_count "$@"
	fi
}
gw_rx() {
	inG cat /sys/class/net/gwo/statistics/rx_packets /sys/class/net/gwh/statistics/rx_packets |
	    awk '{s += $1} END {print s}'
}
# baseline / settle / counters: as in flood.sh (rx - RX0 = forwarded +
# dropped + kernel_drops once fishbowl has read everything).
status_sum() {
	fbn_json '"%d" % (g(s,"totals.forwarded.frames",0) + g(s,"totals.dropped.frames",0) + g(s,"totals.capture.kernel_drops",0))'
}
baseline() {
	local i r1 s1 r2 s2
	for i in $(seq 1 25); do
		r1=$(gw_rx); s1=$(status_sum)
		sleep 0.2
		r2=$(gw_rx); s2=$(status_sum)
		[ "$r1" = "$r2" ] && [ "$s1" = "$s2" ] && break
	done
	RX0=$((r2 - s2))
}
settle() {
	local i v
	for i in $(seq 1 50); do
		RX=$(($(gw_rx) - RX0))
		v=$(fbn_json '"%d %d %d %d %d %d %d" % (g(s,"totals.forwarded.frames",-1), g(s,"totals.dropped.frames",-1), g(s,"totals.capture.kernel_drops",-1), g(s,"totals.capture.frames",-1), g(s,"totals.capture.lost_frames",-1), g(s,"totals.capture.kernel_drops_openers",-1), g(s,"totals.capture.kernel_drops_other",-1))')
		read -r FWD DROP KD CAPF LOST KDO KDR <<<"$v"
		[ "$RX" = "$(($(gw_rx) - RX0))" ] && [ "$RX" -eq $((FWD + DROP + KD)) ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
counters() {
	local ph=$1 ok_settle=0 pc
	settle && ok_settle=1
	if [ $ok_settle = 1 ]; then
		ok "$ph: gateway rx $RX frames = forwarded $FWD + dropped $DROP + kernel drops $KD"
	else
		not_ok "$ph: gateway rx frames = forwarded + dropped + kernel drops" \
		    "rx $RX, forwarded $FWD, dropped $DROP, kernel drops $KD"
	fi
	check_eq "$ph: kernel drops = openers' + other" "$KD" "$((KDO + KDR))"
	check_eq "$ph: status capture.frames = forwarded + dropped" "$((FWD + DROP))" "$CAPF"
	check_eq "$ph: no frame lost to capture" 0 "$LOST"
	fbn_stop
	# shellcheck disable=SC2086
	pc=$(pcap_frames $(fbn_pcaps))
	check_eq "$ph: frames in the pcap files = status capture.frames" "$CAPF" "$pc"
}
retrans() {	# TCP segments the outside namespace retransmitted
	inO cat /proc/net/snmp | awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["RetransSegs"] }'
}
openers_rx() { fbn_json 'g(s, "totals.io.rx_frames_openers", -1)'; }

# --- K, K2: the kernel's verdicts on crafted frames ---------------------------
# wait_rx R0 N: until fishbowl has read N frames on the outside leg since
# rx_frames_outside was R0 (5 s at most), then a moment for stragglers.
wait_rx() {
	local r1
	for _ in $(seq 1 50); do
		r1=$(fbn_json 'g(s, "totals.io.rx_frames_outside", -1)')
		[ $((r1 - $1)) -ge "$2" ] && break
		sleep 0.1
	done
	sleep 0.3
}
outside_rx() { fbn_json 'g(s, "totals.io.rx_frames_outside", -1)'; }
HMAC=$(inH cat /sys/class/net/h0/address)
classify() {	# classify PHASE KNOWN_FLOWS: fishbowl with that setting
	fbn_conf "classify-$2" <<EOF
[control]
tcp = allow
udp = allow
icmp = allow
rate = allow

[engine]
known_flows = $2
EOF
	if ! fbn_start; then
		not_ok "$1: fishbowl starts" "$(tail -5 "$FBN_FB_LOG")"
		return 1
	fi
	check_eq "$1: status io.openers_ring" true "$(fbn_json 'g(s, "totals.io.openers_ring")')"
}

# K: known_flows = no, the classic program: connection openers only.
if classify K no; then
	check "K: the log says the openers' ring is there, for connection openers" \
	    grep -q "for connection openers" "$FBN_FB_LOG"
	check_eq "K: status io.known_filter" false "$(fbn_json 'g(s, "totals.io.known_filter")')"
	fbn_status >"$W/status.txt" 2>&1
	check "K: the text status says the openers' ring takes connection openers" \
	    grep -q "the openers' for connection openers" "$W/status.txt"
	o0=$(openers_rx)
	r0=$(outside_rx)
	read -r nf nopen _ < <(inO python3 "$W/frames.py" o0 "$HMAC")
	wait_rx "$r0" "$nf"
	check_ge "K: fishbowl read the $nf crafted frames" "$nf" "$(( $(outside_rx) - r0 ))"
	check_eq "K: exactly the $nopen openers among them came through the openers' ring" \
	    "$nopen" "$(( $(openers_rx) - o0 ))"
	fbn_stop
fi

# K2: the default, the known filter: the same frames, group by group; none
# belongs to a known flow, so every IPv4/IPv6 frame is a newcomer, echo
# requests and errors included, and so is QinQ (skb->protocol 0x8100 to
# the program); ARP and neighbour discovery stay in the main ring.
if classify K2 yes; then
	check "K2: the log says the openers' ring takes newcomers" \
	    grep -q "for newcomers (frames of flows not yet known)" "$FBN_FB_LOG"
	check_eq "K2: status io.known_filter" true "$(fbn_json 'g(s, "totals.io.known_filter")')"
	fbn_status >"$W/status.txt" 2>&1
	check "K2: the text status says what fills the openers' ring" \
	    grep -q "the openers' for flows not yet known" "$W/status.txt"
	o0=$(openers_rx)
	r0=$(outside_rx)
	tf=0 tnew=0
	for grp in $(python3 "$W/frames.py" list); do
		ob=$(openers_rx)
		read -r nf _ nnew < <(inO python3 "$W/frames.py" o0 "$HMAC" "$grp")
		tf=$((tf + nf)); tnew=$((tnew + nnew))
		wait_rx "$r0" "$tf"
		if [ "$nnew" = 0 ]; then
			check_eq "K2: $grp: the $nf frames stayed in the main ring" 0 "$(( $(openers_rx) - ob ))"
		else
			check_eq "K2: $grp: the $nf frames came through the openers' ring" "$nnew" "$(( $(openers_rx) - ob ))"
		fi
	done
	check_ge "K2: fishbowl read the $tf crafted frames" "$tf" "$(( $(outside_rx) - r0 ))"
	check_eq "K2: exactly the $tnew IPv4/IPv6 (echoes and errors too) and QinQ frames among them came through the openers' ring" \
	    "$tnew" "$(( $(openers_rx) - o0 ))"
	check_eq "K2: no crafted frame made its flow known (status io.known_marks)" 0 \
	    "$(fbn_json 'g(s, "totals.io.known_marks", -1)')"
	fbn_stop
fi

# --- R: the fallback to one ring ----------------------------------------------
cat >"$W/shim.c" <<'EOF_C'
/* Fails one setsockopt, as a kernel without fanout or CBPF would. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
int
setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	static int (*real)(int, int, int, const void *, socklen_t);
	const char *what = getenv("FB_SHIM_FAIL");

	if (real == NULL)
		real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
	if (level == SOL_PACKET && what != NULL &&
	    ((name == PACKET_FANOUT && strcmp(what, "fanout") == 0) ||
	    (name == PACKET_FANOUT_DATA && strcmp(what, "data") == 0))) {
		errno = EINVAL;
		return -1;
	}
	return real(fd, level, name, v, len);
}
EOF_C
if ${CC:-cc} -shared -fPIC -o "$W/shim.so" "$W/shim.c" -ldl 2>"$W/shim.err"; then
	fbn_bg "$FBN_HP" $T tcp_count 7000 "$W/hp-listener.log"
	fbn_wait_port "$FBN_HP" 7000
	for rk in "fanout yes" "data yes" "fanout no" "data no"; do
		read -r what known <<<"$rk"
		rp="R $what"
		[ "$known" = no ] && rp="R $what (known_flows no)"
		fbn_conf "fallback-$what-$known" <<EOF
[control]
icmp = allow

[engine]
known_flows = $known
EOF
		export FB_SHIM_FAIL=$what LD_PRELOAD=$W/shim.so
		fbn_start; rc=$?
		unset FB_SHIM_FAIL LD_PRELOAD
		if [ $rc != 0 ]; then
			not_ok "$rp: fishbowl starts without the openers' ring" "$(tail -5 "$FBN_FB_LOG")"
			continue
		fi
		check "$rp: the log says one ring, and why" \
		    grep -q "no openers' ring, one ring for everything.*PACKET_FANOUT" "$FBN_FB_LOG"
		check_eq "$rp: status io.openers_ring" false "$(fbn_json 'g(s, "totals.io.openers_ring")')"
		check_eq "$rp: status io.known_filter" false "$(fbn_json 'g(s, "totals.io.known_filter")')"
		f0=$(fbn_json 'g(s, "totals.forwarded.frames", -1)')
		check_eq "$rp: 5 pings answered" "5 5" "$(inO $T ping $HP 5 0.1 1.0)"
		: >"$W/hp-listener.log"
		check_eq "$rp: a TCP connection crosses" "hello" \
		    "$(inO python3 -c 'import socket,sys; c=socket.create_connection((sys.argv[1],7000),3); c.sendall(b"hello"); print(c.recv(10).decode())' $HP 2>&1)"
		sleep 0.3
		f1=$(fbn_json 'g(s, "totals.forwarded.frames", -1)')
		# 10 ICMP + a dozen TCP + a few ARP; a loop would be thousands
		if [ $((f1 - f0)) -ge 12 ] && [ $((f1 - f0)) -le 60 ]; then
			ok "$rp: no loop: $((f1 - f0)) frames forwarded"
		else
			not_ok "$rp: no loop" "$((f1 - f0)) frames forwarded for 5 pings and a connection"
		fi
		check_eq "$rp: nothing through an openers' ring" 0 "$(openers_rx)"
		check_eq "$rp: no flow marked known, no table read (status io.known_marks)" 0 \
		    "$(fbn_json 'g(s, "totals.io.known_marks", -1)')"
		fbn_stop
	done
else
	skip "R: fallback to one ring" "no C compiler for the shim: $(head -1 "$W/shim.err")"
fi

# --- F, A, U: inbound floods ---------------------------------------------------
fbn_bg "$FBN_OUT" $T tcp_count 8080 "$W/listener.log"
fbn_wait_port "$FBN_OUT" 8080 || not_ok "outside listener started"

# flood NAME OPENERS_MB PHASE KIND KNOWN_FLOWS: KIND S (SYNs), A (ACKs) or
# U (UDP), from random sources towards the honeypot.
flood() {
	local name=$1 omb=$2 ph=$3 kind=$4 known=$5 fast=${6:-no} sent psent pgot good extra got xsent syns lc marks remarks orx mrx
	# OPENERS_FLOODS="U I": only those floods (for looking at one)
	case " ${OPENERS_FLOODS:-$ph} " in *" $ph "*) ;; *) return 0 ;; esac
	local what hargs
	case $kind in
	S) what=SYNs hargs="-S -p 80" ;;
	A) what=ACKs hargs="-A -p 80" ;;
	U) what="UDP datagrams" hargs="-2 -p 5999" ;;
	I) what="ICMP echo requests" hargs="-1" ;;
	E) what="ICMP port unreachables" hargs="-1 -C 3 -K 3" ;;
	esac
	fbn_conf "$name" <<EOF
[control]
tcp = 3/hour
udp = block
icmp = allow
rate = allow

[engine]
max_flows = 16384
ring_mb = 2
openers_ring_mb = $omb
known_flows = $known
fast_path = $fast
EOF
	if ! fbn_start; then
		not_ok "$ph: fishbowl starts" "$(tail -5 "$FBN_FB_LOG")"
		return 1
	fi
	local kf=false
	[ "$known" = yes ] && [ "$omb" != 0 ] && kf=true
	check_eq "$ph: status io.known_filter" $kf "$(fbn_json 'g(s, "totals.io.known_filter")')"
	if [ "$fast" = yes ]; then
		check_eq "$ph: status io.fast_path" true "$(fbn_json 'g(s, "totals.io.fast_path")')"
	fi
	baseline
	for _ in $(seq 1 50); do
		[ "$(inO $T ping $HP 1 0.1 0.2)" = "1 1" ] && break
	done
	: >"$W/listener.log"
	rm -f "$W/go"
	fbn_tcpdump "$FBN_OUT" o0 "$W/$name-syn.pcap" "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn and src host $HP and dst port 8080" ||
	    fbn_log "tcpdump on o0 did not start"
	local rt0; rt0=$(retrans)
	local m0; m0=$(fbn_json 'g(s, "totals.io.known_marks", 0)')
	ip netns exec "$FBN_HP" timeout 60 python3 "$W/xfer.py" serve 9000 >"$W/$name-xfer-in" 2>&1 &
	local srv=$!
	fbn_wait_port "$FBN_HP" 9000
	: >"$W/$name-xfer-out"
	ip netns exec "$FBN_OUT" timeout 60 python3 "$W/xfer.py" send $HP 9000 $XFER_BYTES "$W/go" >"$W/$name-xfer-out" 2>&1 &
	local cli=$!
	for _ in $(seq 1 50); do
		grep -q connected "$W/$name-xfer-out" && break
		sleep 0.05
	done
	# The marker pings are one flow (one identifier), begun before the
	# flood as the transfer is: answered twice, it is known (a ping begun
	# during a flood is a newcomer like the flood's own frames).  With the
	# known filter the flood waits for that mark (io.known_marks grows by
	# two: the transfer's connection and the pings), not for a fixed time:
	# python's start-up alone can take longer under load.
	inO $T ping $HP 24 0.05 1.0 >"$W/$name-ping.out" &
	local pp=$!
	sleep 0.1
	if [ $kf = true ]; then
		for _ in $(seq 1 40); do
			[ "$(fbn_json 'g(s, "totals.io.known_marks", 0)')" -ge $((m0 + 2)) ] && break
			sleep 0.05
		done
		fbn_log "$ph: known_marks before the flood $(fbn_json 'g(s, "totals.io.known_marks", 0)') (from $m0: the transfer and the pings)"
	else
		sleep 0.1
	fi
	# shellcheck disable=SC2086
	ip netns exec "$FBN_OUT" timeout -s INT 20 hping3 --flood $hargs --rand-source $HP \
	    >"$W/$name-hping.log" 2>&1 &
	local hp=$!
	sleep 0.1
	touch "$W/go"
	read -r good extra < <(inH python3 "$W/client.py" $LISTENER 8080 3 3)
	wait $pp
	wait $cli
	wait $srv
	sleep "$FLOOD_S"
	kill -INT $hp 2>/dev/null; wait $hp
	sleep 0.5
	fbn_tcpdump_stop
	sent=$(sed -n 's/^\([0-9]*\) packets\{0,1\} transmitted.*/\1/p' "$W/$name-hping.log")
	read -r psent pgot <"$W/$name-ping.out"
	got=$(head -1 "$W/$name-xfer-in"); xsent=$(tail -1 "$W/$name-xfer-out")
	# connections, not SYNs: a retransmitted SYN is the same connection
	syns=$(tcpdump -n -r "$W/$name-syn.pcap" 2>/dev/null | awk '{print $3}' | sort -u | wc -l)
	lc=$(wc -l <"$W/listener.log")
	local rt=$(( $(retrans) - rt0 ))
	settle
	read -r marks remarks < <(fbn_json '"%d %d" % (g(s,"totals.io.known_marks",-1), g(s,"totals.io.known_remarks",-1))')
	# frames read from the openers' rings and from the main rings
	read -r orx mrx < <(fbn_json '"%d %d" % (g(s,"totals.io.rx_frames_openers",-1), g(s,"totals.io.rx_frames_outside",-1) + g(s,"totals.io.rx_frames_inside",-1) - g(s,"totals.io.rx_frames_openers",-1))')
	fbn_log "$ph (openers_ring_mb $omb, known_flows $known): hping3 sent ${sent:-?} $what; rx $RX, kernel drops $KD (openers $KDO, other $KDR); read from the openers' rings $orx, from the main rings $mrx; transfer $got of $xsent bytes, $rt TCP retransmissions from outside; pings $pgot of $psent answered; honeypot client $good of 3, then $extra of 3; listener $lc, SYNs out $syns; known_marks $marks (remarks $remarks)"
	check_ge "$ph: hping3 flooded (over 1000 $what)" 1000 "${sent:-0}"
	# (d) containment
	check_eq "$ph: exactly 3 connections (SYNs) from the honeypot reached the outside" 3 "$syns"
	check_eq "$ph: none of the 3 connections after the limit got through" 0 "$extra"
	check_eq "$ph: status: tcp total 3" 3 "$(fbn_json 'g(h, "classes.tcp.total", -1)')"
	if [ "$lc" -le 3 ]; then
		ok "$ph: the outside listener saw $lc connections (at most 3)"
	else
		not_ok "$ph: the outside listener saw at most 3 connections" "it saw $lc"
	fi
	if [ $kf = true ]; then
		# the transfer (its client acknowledged the SYN-ACK) and the
		# honeypot's 3 allowed connections out
		check_ge "$ph: status io.known_marks: the transfer and the 3 allowed connections marked known" 4 "${marks:-0}"
	else
		check_eq "$ph: status io.known_marks (no table)" 0 "${marks:-1}"
	fi
	# (a), (b): with an openers' ring that takes this flood: SYNs always,
	# ACKs and UDP only with the known filter ("before" runs report only)
	if [ "$omb" != 0 ] && { [ "$kind" = S ] || [ $kf = true ]; }; then
		# (a) the flood's losses are the openers' ring's
		if [ "$kind" = S ]; then
			check_ge "$ph: kernel drops counted on the openers' ring" 1 "${KDO:-0}"
		elif [ "${KDO:-0}" -ge 1 ]; then
			ok "$ph: kernel drops counted on the openers' ring ($KDO)"
		else
			fbn_log "$ph: the flood did not outrun the openers' ring (no kernel drops at all): the checks on drops say nothing"
		fi
		check_ge "$ph: the flood came to the openers' ring (frames read there + its drops)" 1000 "$((orx + KDO))"
		# (b) everything else keeps its ring
		check_eq "$ph: no kernel drops on the main rings" 0 "${KDR:-1}"
		check_eq "$ph: the transfer arrived whole" "$XFER_BYTES" "${got:-0}"
		check_eq "$ph: every marker ping answered" "24 24" "$psent $pgot"
		check_eq "$ph: the honeypot's 3 allowed connections completed" 3 "${good:-0}"
		check_eq "$ph: the listener saw the 3" 3 "$lc"
		if [ "${KDO:-0}" -ge 1 ]; then
			check_ge "$ph: the alert names the kernel's drops" 1 \
			    "$(cat $(fbn_files alerts.jsonl) | grep '"type":"capture"' | grep -c 'frames lost by the kernel')"
			# shellcheck disable=SC2046
			check_eq "$ph: the alerts put every drop in the openers' ring (lost_main 0, lost_openers = lost)" "0 yes" \
			    "$(cat $(fbn_files alerts.jsonl) | python3 -c 'import json, sys
A = [json.loads(l) for l in sys.stdin]
A = [a for a in A if a.get("type") == "capture" and "lost by the kernel" in a.get("msg", "")]
print(sum(a.get("lost_main", -1) for a in A), "yes" if A and sum(a.get("lost_openers", 0) for a in A) == sum(a["lost"] for a in A) else "no")')"
		else
			skip "$ph: the alert names the kernel's drops" "no kernel drops"
			skip "$ph: the alerts put every drop in the openers' ring" "no kernel drops"
		fi
	fi
	FLOOD_LINE="| $ph openers_ring_mb $omb known_flows $known | ${sent:-?} $what | $RX | $KD ($KDO openers, $KDR other) | $orx / $mrx | $got / $XFER_BYTES, $rt retransmitted | $pgot / $psent | $good / 3 | $syns | $marks |"
	# (c) counters
	counters "$ph"
	local pcaps req rep
	pcaps=$(fbn_pcaps)
	# shellcheck disable=SC2086
	# (the marker pings' source: the flood's are random; counting them all
	# would print millions of lines)
	req=$(fbn_count $pcaps -- "icmp and icmp[icmptype] = 8 and src host $FBN_ATTACKER and dst host $HP")
	# shellcheck disable=SC2086
	rep=$(fbn_count $pcaps -- "icmp and icmp[icmptype] = 0 and src host $HP and dst host $FBN_ATTACKER")
	if [ "$req" -ge "$pgot" ] && [ "$rep" -ge "$pgot" ]; then
		ok "$ph: the $pgot answered marker pings are in the pcap ($req requests, $rep replies)"
	else
		not_ok "$ph: answered marker pings are in the pcap" "answered $pgot, pcap $req requests, $rep replies"
	fi
	echo "# $FLOOD_LINE"
}

if [ "${OPENERS_BEFORE:-0}" = 1 ]; then
	flood before 0 "B" S yes
fi
flood after 1 "F" S yes
if [ "${KNOWN_BEFORE:-1}" = 1 ]; then
	flood ack-before 1 "A0" A no
fi
flood ack 1 "A" A yes
if [ "${KNOWN_BEFORE:-1}" = 1 ]; then
	flood udp-before 1 "U0" U no
fi
flood udp 1 "U" U yes
if [ "${ICMP_BEFORE:-0}" = 1 ]; then
	flood icmp-before 1 "I0" I no
fi
flood icmp 1 "I" I yes
flood icmp-err 1 "E" E yes
# The same floods with the fast path (docs/io.md "The fast path"): the
# flood's frames are outsiders', recorded into the outside leg's
# newcomers' ring buffer (counted with the openers' ring) and forwarded by
# the kernel; the transfer's into the known flows' one.
if [ "${OPENERS_FAST:-1}" = 1 ]; then
	flood fast-syn 1 "FF" S yes yes
	flood fast-ack 1 "AF" A yes yes
	flood fast-udp 1 "UF" U yes yes
	flood fast-icmp 1 "IF" I yes yes
fi

# --- M: a connection picked up mid-stream is marked known too ------------------
# A transfer connects through one fishbowl, which then restarts: the new
# one first sees the connection mid-stream (no handshake).  Once the client
# acknowledges the honeypot's sequence number (the honeypot's bare ACKs
# while the client uploads), the flow is proven and marked known
# (flow.c tcp_prove).
midstream() {
	local got xsent marks cli srv
	fbn_conf midstream <<EOF
[control]
tcp = allow
udp = block
icmp = allow
rate = allow

[engine]
ring_mb = 2
openers_ring_mb = 1
EOF
	fbn_start || { not_ok "M: fishbowl starts" "$(tail -5 "$FBN_FB_LOG")"; return 1; }
	rm -f "$W/go"
	ip netns exec "$FBN_HP" timeout 60 python3 "$W/xfer.py" serve 9001 >"$W/m-xfer-in" 2>&1 &
	srv=$!
	fbn_wait_port "$FBN_HP" 9001
	: >"$W/m-xfer-out"
	ip netns exec "$FBN_OUT" timeout 60 python3 "$W/xfer.py" send $HP 9001 $XFER_BYTES "$W/go" >"$W/m-xfer-out" 2>&1 &
	cli=$!
	for _ in $(seq 1 50); do
		grep -q connected "$W/m-xfer-out" && break
		sleep 0.05
	done
	fbn_stop
	fbn_start || { not_ok "M: fishbowl starts again" "$(tail -5 "$FBN_FB_LOG")"; return 1; }
	touch "$W/go"
	wait $cli
	wait $srv
	got=$(head -1 "$W/m-xfer-in"); xsent=$(tail -1 "$W/m-xfer-out")
	marks=$(fbn_json 'g(s, "totals.io.known_marks", -1)')
	fbn_log "M: transfer $got of $xsent bytes after the restart; known_marks $marks"
	check_eq "M: the transfer arrived whole across the restart" "$XFER_BYTES" "${got:-0}"
	check_ge "M: the connection, picked up mid-stream, was marked known" 1 "${marks:-0}"
	fbn_stop
}
midstream
done_testing
