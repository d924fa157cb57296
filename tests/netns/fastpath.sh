#!/bin/bash
# fastpath: the fast path ([engine] fast_path, src/fastpath.h) on a live
# honeynet (tests/netns/lib-netns.sh bed).  Counts only, never timings: what
# crosses, what the pcap and the other outputs hold, what status counts.
# Which frame took which path is never asserted (the kernel's choice may
# widen); only that flows marked fast do go that way (fast_frames) and that
# nothing crosses unrecorded.
#
#   D  the default (fast_path on): status io.fast_path true, a 20 MiB
#      transfer in crosses whole, fast_frames > 0, a "fast path:" line in
#      the text status.  D0: fast_path = no: io.fast_path false, fast_frames
#      0, no such line, the transfer crosses whole.
#   O  the endpoints' offloads on (their default): a 20 MiB transfer in
#      comes as GSO super-frames, which cross fast too (up to 64 KiB): it
#      arrives whole, every frame in the pcap, the sender retransmits
#      (nstat) at most 1 segment in 100 (thousands before the hold: frames
#      of the flow switching ways overtook each other); iperf3 for 3 s:
#      at most 1 in 300 sent again, at least a third of its frames from
#      outside crossed fast, their batches written behind the engine
#      (capture.behind_batches).  P runs with the offloads off (wire-size
#      frames).
#   V  a data directory too small for the disk reserve (a 8 MiB tmpfs): the
#      fast path suspended (logged, io.fast_path false, io.fast_suspended,
#      "fast path: suspended" in the text status), fast_frames 0: every
#      frame judged and written before it crosses; a 2 MiB transfer in
#      crosses whole.
#   P  fast_path = yes, rate = allow: the log says so, io.fast_path true; a
#      20 MiB transfer from outside to the honeypot arrives whole (sha256);
#      fast_frames >= half the flow's frames at the honeypot; every frame the
#      honeypot received is in the pcap (headers compared, tcpdump on h0),
#      and exactly as many; conn.jsonl counts exactly the pcap's frames and
#      wire bytes of the flow; sessions.jsonl has all its bytes reassembled,
#      no gap, and the transcript is there (before 2682458 the two legs'
#      ring buffers were read in turns, the honeypot's ACKs judged before
#      the data they acknowledge, and the stream layer gave that data up as
#      gaps: 8 MB of 20).  Then an upload
#      from the honeypot on an allowed connection out: whole, fast_frames
#      grows, every frame the outside received is in the pcap, its bytes
#      reassembled whole.  The transfer in again while a SCHED_FIFO loop
#      takes one CPU 15 ms in 25 (segments late by milliseconds, spurious
#      retransmissions ahead of them): whole, reassembled with no gap
#      (session 18: PAWS and the reader's merge made gaps in 1 run in 10).
#      Newcomers: 200 SYNs and 200 datagrams from
#      random outside sources: each one the honeypot received is in the pcap.
#   C  containment with the fast path: tcp = 3/hour, rate = allow; the
#      honeypot opens 6 connections out: exactly 3 SYNs seen outside, 3
#      accepted, status tcp total 3; then a 7th from the source port of the
#      first (closed) allowed one: refused, none of its SYNs outside; and
#      bare ACKs with data on those addresses and ports: none may reach the
#      outside.
#   R  rate = 512kbit with the fast path: an upload from the honeypot is
#      capped (rate_dropped_frames > 0, incomplete), a transfer in is whole
#      and still fast (fast_frames > 0).  R2: rate = allow, a fast upload
#      runs; a reload to rate = 512kbit caps it (rate_dropped_frames > 0,
#      incomplete).
#   G  the capture fails (its tmpfs fills up), on_failure = block, during a
#      fast transfer in: status capture failing and io.fast_gate_closed, the
#      transfer stops crossing, the kernel drops its frames (fast_drops grows,
#      counted in the kernel drops), the disk reserve is spent (status
#      capture.reserve_spent); space freed: the reserve is held again, the
#      gate opens, a ping crosses, the transfer ends whole; every frame the
#      honeypot received is in the pcap (ring_mb 4: the reserve fits the
#      48 MiB tmpfs).
#   N  fishbowl run under ip netns exec (a mount namespace of its own,
#      where the bpffs it would mount, and its pins, die with it): no fast
#      path (io.fast_path false), the log says it cannot pin.
#   S  SIGTERM during a fast transfer: exit 0; no tcx program is left on
#      either leg (BPF_PROG_QUERY, as `bpftool net` does); pings and a new
#      TCP connection from outside fail, the transfer no longer crosses;
#      every frame the honeypot received is in the pcap.  The ring buffers
#      are pinned (/sys/fs/bpf/fishbowl/KEY/rb-*, from the log) while it
#      runs, and gone after the stop.
#   K  kill -9 during a fast transfer: the same (the pins outlive it);
#      then fishbowl starts again on the same data directory, reads what
#      the ring buffers held (io.fast_recovered, logged: it may be 0 when
#      the reader had caught up at the kill), stops cleanly: no pins left,
#      and every frame the honeypot received is in the pcaps of both runs
#      (before the pins 2-5 were missing).  K2: the same, restarted with
#      fast_path = no: the pins are read, then removed while it runs.
#   KB kill -9 while an iperf3 stream's batches are written behind (offloads
#      on): the next start reads what the ring buffers held; every frame
#      the honeypot received is in the pcap.  (The window in which a
#      batch handed over is not yet being written is narrow: a build
#      that gave records back before the writer was done passed 3 of 3.)
#   U  kill -9, then one pin made another user's: the next start does not
#      read it and says its frames are lost (log, status
#      io.fast_pins_unreadable 1 and a text line, a critical capture
#      alert); the pin stays, so that run has no fast path, and pings
#      still cross.
#   Last: no pins of this test's fishbowls are left.
#
# Skipped whole (SKIP, never a failure) when fishbowl asked for the fast
# path cannot have it (kernel without tcx, no CAP_BPF): its log line is
# printed first.
#
# Known bugs are checked as expected failures with known_bug (printed "ok
# ... # SKIP expected failure, known bug ID: ..."; once fixed they print
# "ok ... (known bug ID did not show this time)": then make them plain
# checks).  Now: none.
# Fixed, now plain checks: FASTPATH-GAP (P, about one run in eight: the
#      transfer's reassembly had gaps of whole segments although every
#      frame was in the pcap.  The sender's segments came reordered on
#      the wire, one sent later, with a newer TCP timestamp, ahead of a
#      hole; stream.c's PAWS check took its TSval as TS.Recent and then
#      dropped the hole's own segments as stale.  TS.Recent now moves only
#      at the left edge, as in RFC 7323 4.3 and Linux; test_stream
#      test_paws_reordered), FASTPATH-GATE (frames recorded in a ring buffer,
#      so forwarded, when the capture write failed were lost: the capture
#      now holds a reserve of disk for them, capture.h reserve_bytes),
#      FASTPATH-STALE (a refused SYN on an ended
#      allowed connection's ports left its fast bits: the honeypot's ACKs
#      on those ports crossed; engine.c fast_check_flow) and FASTPATH-STOP
#      (on SIGTERM the tc programs were detached last: frames recorded in
#      the meantime crossed and were in no pcap; engine.c drain_fast).
#
# Run as root from the repo root: FB_BUILD=build bash tests/netns/fastpath.sh
# FP_PHASES (default "D O P C R G V N S K KB U"; R includes R2, K K2): the phases to run.
# FP_O_FAST_MB: phase O's fast_path_mb (default ring_mb, 16): smaller, more
# switches between the ways (the log line counts the marks).
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "fastpath" "needs root"
	done_testing; exit 0
fi
for t in ip tcpdump python3 hping3 ss timeout unshare mount sha256sum; do
	if ! command -v $t >/dev/null; then
		skip "fastpath" "$t missing (scripts/deps.sh)"
		done_testing; exit 0
	fi
done
if [ ! -x "$FISHBOWL" ]; then
	not_ok "fishbowl is built" "no executable $FISHBOWL"
	done_testing; exit 1
fi
# A private mount namespace: phase G's tmpfs vanishes with it.
if [ -z "${FB_FP_MNTNS:-}" ]; then
	exec env FB_FP_MNTNS=1 unshare -m --propagation private bash "$FB_ROOT/tests/netns/fastpath.sh" "$@"
fi

FBN_PREFIX=${FBN_PREFIX:-fbfp$$}
. "$FB_ROOT/tests/netns/lib-netns.sh"
fbn_init || { not_ok "work directory"; done_testing; exit 1; }
W=$FBN_WORK
T="python3 $W/tools.py"
HP=$FBN_HP_ADDR
LISTENER=203.0.113.10
MNTS=()
# shellcheck disable=SC2154
trap 'for m in "${MNTS[@]}"; do umount -l "$m" 2>/dev/null; done; fbn_cleanup' EXIT
if ! fbn_up; then
	not_ok "test bed: namespaces, veth pairs, addresses"
	done_testing; exit 1
fi
ok "test bed: outside, gateway and honeypot namespaces"

# --- tools -------------------------------------------------------------------
# xfer.py serve PORT OUT: one connection; its byte count goes to OUT.n as it
#   grows, "BYTES SHA256" to OUT when the peer closes.
# xfer.py send HOST PORT FILE PACE_MS [SPORT]: connects (prints
#   "connected"), sends FILE in 64 KiB pieces, PACE_MS apart, then closes
#   and prints "BYTES SHA256".
cat >"$W/xfer.py" <<'EOF_PY'
import hashlib, os, socket, sys, time
def note(path, s):
    with open(path + ".tmp", "w") as f:
        f.write(s + "\n")
    os.replace(path + ".tmp", path)
if sys.argv[1] == "serve":
    port, out = int(sys.argv[2]), sys.argv[3]
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(1)
    c, _ = s.accept(); h = hashlib.sha256(); n = 0; last = 0
    note(out + ".n", "0")
    while True:
        d = c.recv(262144)
        if not d:
            break
        h.update(d); n += len(d)
        if n - last >= 65536:
            note(out + ".n", str(n)); last = n
    note(out + ".n", str(n))
    note(out, "%d %s" % (n, h.hexdigest()))
    c.close()
else:
    host, port, path, pace = sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]) / 1000
    c = socket.socket()
    if len(sys.argv) > 6:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind(("0.0.0.0", int(sys.argv[6])))
    c.settimeout(5); c.connect((host, port)); c.settimeout(120)
    print("connected", flush=True)
    data = open(path, "rb").read(); h = hashlib.sha256(data).hexdigest()
    for i in range(0, len(data), 65536):
        c.sendall(data[i:i + 65536])
        if pace:
            time.sleep(pace)
    c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
    print(len(data), h, flush=True)
EOF_PY

# caps.py missing SRC DPORT ENDPOINT_PCAP FB_PCAP...: the TCP frames from
#   SRC (or any) to port DPORT that the endpoint's capture holds, and how many of
#   them (by addresses, ports, sequence and acknowledgement numbers, flags,
#   IP length) the fishbowl pcaps lack: prints "FRAMES MISSING".
# caps.py dir SRC DPORT FB_PCAP...: frames and wire bytes of that direction.
# caps.py tcx IFACE...: programs attached at tcx ingress of each interface
#   (BPF_PROG_QUERY, what `bpftool net` shows), "?" if the kernel would not say.
cat >"$W/caps.py" <<'EOF_PY'
import collections, ctypes, os, socket, struct, sys
def frames(path):
    with open(path, "rb") as f:
        m = f.read(24)
        if len(m) < 24:
            return
        e = "<" if m[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            _, _, cl, ol = struct.unpack(e + "IIII", h)
            if cl > 262144:
                return      # the end mark of a file being written
            d = f.read(cl)
            if len(d) < cl:
                return
            yield d, ol
def tcp(d):
    if len(d) < 34 or d[12:14] != b"\x08\x00":
        return None
    ip = d[14:]; ihl = (ip[0] & 15) * 4
    if ip[9] != 6 or len(ip) < ihl + 14:
        return None
    sp, dp, seq, ack = struct.unpack("!HHII", ip[ihl:ihl + 12])
    return (socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), sp, dp, seq, ack,
            ip[ihl + 13], struct.unpack("!H", ip[2:4])[0])
def pick(paths, src, dport):
    for p in paths:
        for d, ol in frames(p):
            k = tcp(d)
            if k and src in ("any", k[0]) and k[3] == int(dport):
                yield k, ol
cmd = sys.argv[1]
if cmd == "missing":
    src, dport, ep, fb = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    want = collections.Counter(k for k, _ in pick([ep], src, dport))
    have = collections.Counter(k for k, _ in pick(fb, src, dport))
    miss = want - have
    print(sum(want.values()), sum(miss.values()))
    for k in sorted(miss, key=lambda k: (k[4] - min(w[4] for w in want)) % 2**32)[:4]:
        sys.stderr.write("# not in the pcap: %s:%d > %s:%d seq %d ack %d flags 0x%02x iplen %d\n"
                         % (k[0], k[2], k[1], k[3], k[4], k[5], k[6], k[7]))
elif cmd == "dir":
    n = b = 0
    for _, ol in pick(sys.argv[4:], sys.argv[2], sys.argv[3]):
        n += 1; b += ol
    print(n, b)
elif cmd == "tcx":
    libc = ctypes.CDLL(None, use_errno=True)
    out = []
    for ifc in sys.argv[2:]:
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("II", attr, 0, socket.if_nametoindex(ifc), 46)  # BPF_TCX_INGRESS
        r = libc.syscall(321, 16, attr, ctypes.sizeof(attr))             # bpf(BPF_PROG_QUERY)
        out.append(str(struct.unpack_from("I", attr, 24)[0]) if r == 0 else "?")
    print(" ".join(out))
EOF_PY
C="python3 $W/caps.py"

head -c $((20 << 20)) /dev/urandom >"$W/blob20"
head -c $((4 << 20)) /dev/urandom >"$W/blob4"
SHA20=$(sha256sum <"$W/blob20" | cut -d' ' -f1)
SHA4=$(sha256sum <"$W/blob4" | cut -d' ' -f1)

FP_PHASES=${FP_PHASES:-D O P C R G V N S K KB U}
phase() { case " $FP_PHASES " in *" $1 "*) return 0 ;; esac; return 1; }
J() { fbn_json "$1"; }
io() { J "g(s, \"totals.io.$1\", -1)"; }
cap() { J "g(s, \"totals.capture.$1\", -1)"; }
wait_json() {	# wait_json EXPR VALUE SECONDS
	for _ in $(seq 1 $(($3 * 10))); do
		[ "$(J "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# known_bug ID "description" expected actual: an expected failure.
known_bug() {
	if [ "$3" = "$4" ]; then
		ok "$2 (known bug $1 did not show this time)"
	else
		skip "$2" "expected failure, known bug $1: expected '$3', got '$4'"
	fi
}
start() {	# start PHASE NAME < config body
	fbn_conf "$2"
	if fbn_start; then
		return 0
	fi
	not_ok "$1: fishbowl starts" "$(tail -5 "$FBN_FB_LOG" 2>/dev/null)"
	return 1
}
stop() {
	if fbn_stop; then ok "$1: SIGTERM stops fishbowl, exit 0"
	else not_ok "$1: SIGTERM stops fishbowl, exit 0" "$(tail -5 "$FBN_FB_LOG")"; fi
}
# xfer_in NAME PORT FILE PACE_MS: a transfer from outside to the honeypot,
# in the background (receiver $W/NAME.rx, sender's output $W/NAME.tx);
# returns once connected.  xfer_out: from the honeypot to the listener.
XPIDS=()
xfer() {
	local dir=$1 name=$2 port=$3 file=$4 pace=$5 sport=${6:-} rns sns dst
	if [ "$dir" = in ]; then rns=$FBN_HP sns=$FBN_OUT dst=$HP
	else rns=$FBN_OUT sns=$FBN_HP dst=$LISTENER; fi
	rm -f "$W/$name.rx" "$W/$name.rx.n"
	ip netns exec "$rns" timeout 120 python3 "$W/xfer.py" serve "$port" "$W/$name.rx" &
	XPIDS+=($!)
	fbn_wait_port "$rns" "$port"
	: >"$W/$name.tx"
	# shellcheck disable=SC2086
	ip netns exec "$sns" timeout 120 python3 "$W/xfer.py" send "$dst" "$port" "$file" "$pace" $sport \
	    >"$W/$name.tx" 2>&1 &
	XPIDS+=($!)
	for _ in $(seq 1 100); do
		grep -q connected "$W/$name.tx" && return 0
		sleep 0.05
	done
	return 1
}
xfer_wait() {	# xfer_wait NAME SECONDS: until the receiver has the whole
	for _ in $(seq 1 $(($2 * 10))); do
		[ -s "$W/$1.rx" ] && return 0
		sleep 0.1
	done
	return 1
}
xfer_kill() {
	local p
	for p in "${XPIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	XPIDS=()
}
rx_bytes() { cat "$W/$1.rx.n" 2>/dev/null || echo 0; }
rx_until() {	# rx_until NAME BYTES SECONDS: the receiver has at least BYTES
	for _ in $(seq 1 $(($3 * 10))); do
		[ "$(rx_bytes "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# Honeypot side captures: headers only (every frame the honeypot
# receives, to compare with the pcap).
hp_dump() { fbn_tcpdump "$FBN_HP" h0 "$W/$1-h0.pcap" -s 128 tcp port "$2"; }
tcx() { inG $C tcx gwo gwh; }
ping_out() { inO $T ping $HP "$1" 0.1 0.5; }
# a new connection from outside to the honeypot's echo listener (7000)
connect_in() {
	inO python3 -c 'import socket,sys
try:
    c = socket.create_connection((sys.argv[1], 7000), 2); c.sendall(b"hello"); c.settimeout(2)
    print(c.recv(10).decode() or "closed")
except OSError as e:
    print("failed")' $HP
}
fbn_bg "$FBN_HP" $T tcp_count 7000 "$W/hp-7000.log"
fbn_wait_port "$FBN_HP" 7000 || not_ok "the honeypot's echo listener (7000) started"

# FP_FAST=no runs every phase without the fast path (to compare; the
# fast path's own checks then fail).
FAST_ENGINE="[engine]
fast_path = ${FP_FAST:-yes}"

# --- the fast path available? ---------------------------------------------------
if start probe probe <<EOF
[control]
tcp = allow
rate = allow

$FAST_ENGINE
EOF
then
	have=$(io fast_path)
	fbn_stop
	if [ "$have" != true ] && [ "${FP_FAST:-yes}" = yes ]; then
		echo "# fishbowl asked for the fast path says why it has none:"
		grep -i "fast path\|no sink" "$FBN_FB_LOG" | sed 's/^/#   /'
		skip "fastpath" "no fast path here (status io.fast_path $have): kernel without tcx or no CAP_BPF?"
		done_testing; exit 0
	fi
else
	done_testing; exit 1
fi

# --- D: the default, the fast path; D0: fast_path = no ---------------------------
if phase D && start D default <<'EOF'
[control]
tcp = allow
icmp = allow
rate = allow
EOF
then
	check_eq "D: status io.fast_path true (the default)" true "$(io fast_path)"
	xfer in d 9000 "$W/blob20" 0 || not_ok "D: the transfer connects"
	xfer_wait d 60
	check_eq "D: a 20 MiB transfer from outside arrives whole" "20971520 $SHA20" "$(cat "$W/d.rx" 2>/dev/null)"
	check_ge "D: status io.fast_frames" 1 "$(io fast_frames)"
	check_eq "D: the text status has a fast path line" 1 "$(fbn_status | grep -c '^fast path: [0-9]')"
	xfer_kill
	stop D
fi
if phase D && start D0 no-fast <<'EOF'
[control]
tcp = allow
icmp = allow
rate = allow

[engine]
fast_path = no
EOF
then
	check_eq "D0: status io.fast_path false" false "$(io fast_path)"
	xfer in d0 9000 "$W/blob20" 0 || not_ok "D0: the transfer connects"
	xfer_wait d0 60
	check_eq "D0: a 20 MiB transfer from outside arrives whole" "20971520 $SHA20" "$(cat "$W/d0.rx" 2>/dev/null)"
	check_eq "D0: status io.fast_frames, fast_marks, fast_drops 0" "0 0 0" \
	    "$(io fast_frames) $(io fast_marks) $(io fast_drops)"
	check_eq "D0: the text status has no fast path line" 0 "$(fbn_status | grep -c '^fast path:')"
	xfer_kill
	stop D0
fi

# offloads on|off: the endpoints' TSO, GSO and checksum offloads
offloads() {
	inO ethtool -K o0 tso "$1" gso "$1" tx "$1" rx "$1" >/dev/null 2>&1
	inH ethtool -K h0 tso "$1" gso "$1" tx "$1" rx "$1" >/dev/null 2>&1
}

# --- O: offloads on: GSO super-frames cross fast, in order ---------------------
# bench/live.sh's "offloads on", GRO too (veth's default is off), set
# before fishbowl starts, as there
if phase O; then
	offloads on
	inO ethtool -K o0 gro on >/dev/null 2>&1
	inH ethtool -K h0 gro on >/dev/null 2>&1
fi
if phase O && start O offloads <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

$FAST_ENGINE
ring_mb = 16
${FP_O_FAST_MB:+fast_path_mb = $FP_O_FAST_MB}
EOF
then
	hp_dump o 9000 || not_ok "O: tcpdump on the honeypot"
	inO nstat -n
	xfer in o 9000 "$W/blob20" 0 || not_ok "O: the transfer connects"
	xfer_wait o 60
	sleep 0.3
	fbn_tcpdump_stop
	retr=$(inO nstat -z TcpRetransSegs | awk '$1 == "TcpRetransSegs" {print $2}')
	check_eq "O: a 20 MiB transfer from outside arrives whole" "20971520 $SHA20" "$(cat "$W/o.rx" 2>/dev/null)"
	big=$(fbn_count "$W/o-h0.pcap" -- "tcp and src host $FBN_ATTACKER and greater 16500")
	fbn_log "O: $big super-frames at the honeypot, the sender retransmitted ${retr:-?} segments, fast_frames $(io fast_frames)"
	check_ge "O: the transfer came in GSO super-frames (> 16 KiB)" 1 "$big"
	# Frames of one flow switching between the kernel's way and
	# fishbowl's overtake each other, and TCP sends again what it takes
	# for lost (thousands of segments a transfer before the hold).  Where
	# the scheduler moves a sending thread between CPUs, veth's per-CPU
	# backlogs swap a pair of super-frames now and then without fishbowl
	# (45 segments sent again: 1 run in 5 on one machine, with or without
	# this session's changes): at most 1 in 100 of the 14 483.
	check_ge "O: the sender retransmitted at most 1 segment in 100 (the stream kept in order)" \
	    "${retr:-99999}" 144
	# As fast as TCP goes for 3 s (iperf3): the capture falls behind, the
	# ring buffers fill, and a flow that switched ways would be reordered
	# (as the transfer above was, before the hold: a third of the segments
	# sent twice).  Frames are reordered without fishbowl where the
	# scheduler moves a sending thread between CPUs (veth's per-CPU
	# backlogs), and the kernel's fast path is such a way: through the
	# kernel bridge 1 400-2 000 segments are sent again in 5 s on one
	# machine (bench/live.sh: 0.5-0.7 in 1 000), 0 on another, and 1.0-1.1
	# in 1 000 here with super-frames crossing fast.  So: at most 1 in 300
	# (1448-byte segments of what was sent), and the receiver's
	# out-of-order count in the log.
	inH timeout 20 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	XPIDS+=($!)
	fbn_wait_port "$FBN_HP" 5201
	inH nstat -n
	rx0=$(io rx_frames_outside) ff0=$(io fast_frames_outside) fm0=$(io fast_marks)
	bb0=$(cap behind_batches) db0=$(cap direct_bytes)
	read -r mbit retr segs < <(inO timeout 20 iperf3 -c $HP -p 5201 -t 3 -J 2>/dev/null | python3 -c 'import json,sys
try:
    e = json.load(sys.stdin)["end"]
    print("%.0f %d %d" % (e["sum_received"]["bits_per_second"] / 1e6, e["sum_sent"]["retransmits"], e["sum_sent"]["bytes"] // 1448))
except Exception: print("0 99999 0")')
	ofo=$(inH nstat -z TcpExtTCPOFOQueue 2>/dev/null | awk '$1 == "TcpExtTCPOFOQueue" {print $2}')
	rx=$(( $(io rx_frames_outside) - rx0 )) ff=$(( $(io fast_frames_outside) - ff0 ))
	fbn_log "O: iperf3 for 3 s: $mbit Mbit/s, $retr of $segs segments retransmitted, ${ofo:-?} arrived out of order; of $rx frames from outside $ff crossed fast, $(( $(io fast_marks) - fm0 )) marks"
	check_ge "O: iperf3 for 3 s: the sender retransmitted at most 1 segment in 300" \
	    "$retr" "$((segs / 300))"
	# Super-frames take the fast path (up to 64 KiB; before, the first
	# one held its flow off it for good, and none did after it): a good
	# share of the stream's frames from outside crossed that way,
	# recorded first (every frame in the pcap: below).  How much depends
	# on the page cache (the ring buffer fills when it is slow and the
	# flow goes fishbowl's way for a while): 80-98 % with a fast one,
	# 40-80 % with this VM's free page reporting.
	check_ge "O: iperf3: at least a third of the $rx frames from outside crossed fast" "$((rx / 3))" "$ff"
	# Their batches were written behind the engine by the capture's
	# writer thread (docs/io.md "Written behind"); the pcap holds every
	# frame (below).
	bb=$(( $(cap behind_batches) - bb0 )) db=$(( $(cap direct_bytes) - db0 ))
	fbn_log "O: $bb batches written behind, $((db >> 20)) MiB with O_DIRECT (behind or in line)"
	check_ge "O: the stream's batches were written behind the engine (capture.behind_batches)" 1 "$bb"
	xfer_kill
	inO ethtool -K o0 gro off >/dev/null 2>&1
	inH ethtool -K h0 gro off >/dev/null 2>&1
	stop O
	pcaps=$(fbn_pcaps)
	# shellcheck disable=SC2086
	read -r n miss < <($C missing $FBN_ATTACKER 9000 "$W/o-h0.pcap" $pcaps)
	check_eq "O: every one of the $n frames the honeypot received is in the pcap" 0 "$miss"
fi

# --- P: the fast path, rate = allow ---------------------------------------------
if phase P && start P fast <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

$FAST_ENGINE
EOF
then
	check "P: the log says the kernel forwards proven flows" \
	    grep -q "fast path: the kernel forwards proven flows' frames" "$FBN_FB_LOG"
	check_eq "P: status io.fast_path true, gate open" "true false" "$(io fast_path) $(io fast_gate_closed)"
	check_eq "P: tcx ingress: one program on each leg" "1 1" "$(tcx)"
	# Wire-size frames (super-frames: phase O).
	offloads off
	hp_dump p 9000 || not_ok "P: tcpdump on the honeypot"
	xfer in p 9000 "$W/blob20" 0 || not_ok "P: the transfer connects"
	xfer_wait p 60
	sleep 0.3
	fbn_tcpdump_stop
	check_eq "P: a 20 MiB transfer from outside arrives whole" "20971520 $SHA20" "$(cat "$W/p.rx" 2>/dev/null)"
	hpn=$(fbn_count "$W/p-h0.pcap")
	read -r ff fm fd kd < <(J '"%d %d %d %d" % (g(s,"totals.io.fast_frames",-1), g(s,"totals.io.fast_marks",-1), g(s,"totals.io.fast_drops",-1), g(s,"totals.capture.kernel_drops",-1))')
	fbn_log "P: transfer in: $hpn frames at the honeypot (both ways), fast_frames $ff, fast_marks $fm, fast_drops $fd, kernel_drops $kd"
	# What stream reassembly saw (a gap below is told apart by these: a
	# segment refused, or dropped for memory, or frames taken out of order).
	fbn_log "P: stream: $(J '" ".join("%s %s" % (k, g(s, "layers.tcp." + k, -1)) for k in ("gaps", "gap_bytes", "limit_gap_bytes", "end_gap_bytes", "overlaps", "out_of_window", "stale_bytes", "mem_drops", "mem_max"))')"
	check_ge "P: io.fast_frames >= half the flow's frames at the honeypot ($hpn)" $((hpn / 2)) "$ff"
	check_ge "P: io.fast_marks >= 1" 1 "$fm"
	check_ge "P: the kernel drops count the fast path's drops" "$fd" "$kd"
	check "P: the text status has the fast path line" \
	    sh -c "'$FISHBOWL' status -s '$FBN_SOCK' | grep -q '^fast path: [1-9][0-9]* frames recorded and forwarded by the kernel'"
	ff0=$ff
	# the upload: an allowed connection out
	fbn_tcpdump "$FBN_OUT" o0 "$W/pu-o0.pcap" -s 128 tcp port 9100 || not_ok "P: tcpdump outside"
	xfer out pu 9100 "$W/blob20" 0 || not_ok "P: the upload connects"
	xfer_wait pu 60
	sleep 0.3
	fbn_tcpdump_stop
	check_eq "P: a 20 MiB upload from the honeypot arrives whole" "20971520 $SHA20" "$(cat "$W/pu.rx" 2>/dev/null)"
	on=$(fbn_count "$W/pu-o0.pcap")
	ff=$(io fast_frames)
	check_ge "P: io.fast_frames grew by >= half the upload's frames outside ($on)" $((on / 2)) $((ff - ff0))
	# The transfer in again while a SCHED_FIFO loop takes the last CPU
	# 15 ms in every 25: the sender's segments leave on both CPUs, one
	# run of them late by milliseconds, and spurious retransmissions
	# overtake them.  Before session 18 this made reassembly gaps in
	# about 1 run in 10 (PAWS called the late originals stale; the
	# reader took the honeypot's ACKs ahead of outside data that came
	# meanwhile); checked with the others below.
	cat >"$W/hog.py" <<'EOF_PY'
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
end = time.time() + float(sys.argv[2])
while time.time() < end:
    t = time.perf_counter() + 0.015
    while time.perf_counter() < t:
        pass
    time.sleep(0.010)
EOF_PY
	python3 "$W/hog.py" $(($(nproc) - 1)) 30 & hog=$!
	xfer in ph 9200 "$W/blob20" 0 || not_ok "P: the transfer under a CPU hog connects"
	xfer_wait ph 60
	kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null
	check_eq "P: a 20 MiB transfer in under a CPU hog arrives whole" "20971520 $SHA20" "$(cat "$W/ph.rx" 2>/dev/null)"
	# newcomers: frames of no known flow from random outside sources (the
	# kernel may forward them too, into a ring buffer of their own)
	fbn_tcpdump "$FBN_HP" h0 "$W/pn-h0.pcap" -s 128 "(udp dst port 9999 or tcp dst port 7001) and not src host $FBN_ATTACKER" ||
	    not_ok "P: tcpdump on the honeypot"
	inO hping3 -q -2 -p 9999 -d 100 -c 200 -i u1000 --rand-source $HP >/dev/null 2>&1
	inO hping3 -q -S -p 7001 -c 200 -i u1000 --rand-source $HP >/dev/null 2>&1
	sleep 0.5
	fbn_tcpdump_stop
	xfer_kill
	offloads on
	stop P
	pcaps=$(fbn_pcaps)
	# shellcheck disable=SC2086
	read -r n miss < <($C missing any 7001 "$W/pn-h0.pcap" $pcaps)
	check_ge "P: newcomers: the honeypot received SYNs from 200 random sources" 150 "$n"
	check_eq "P: newcomers: every one of those $n SYNs is in the pcap" 0 "$miss"
	n=$(fbn_count "$W/pn-h0.pcap" -- udp)
	check_ge "P: newcomers: the honeypot received UDP from 200 random sources" 150 "$n"
	# shellcheck disable=SC2086
	check_eq "P: newcomers: the pcap holds as many of them ($n)" "$n" \
	    "$(fbn_count $pcaps -- "udp and dst port 9999 and dst host $HP and not src host $FBN_ATTACKER")"
	pcaps=$(fbn_pcaps)
	# shellcheck disable=SC2086
	read -r n miss < <($C missing $FBN_ATTACKER 9000 "$W/p-h0.pcap" $pcaps)
	check_eq "P: every one of the $n frames the honeypot received is in the pcap" 0 "$miss"
	check_eq "P: and exactly as many" "$n" "$(fbn_count $pcaps -- "tcp and src host $FBN_ATTACKER and dst port 9000")"
	# shellcheck disable=SC2086
	read -r n miss < <($C missing $HP 9100 "$W/pu-o0.pcap" $pcaps)
	check_eq "P: every one of the $n upload frames the outside received is in the pcap" 0 "$miss"
	# shellcheck disable=SC2086
	read -r pn pb < <($C dir $FBN_ATTACKER 9000 $pcaps)
	check_eq "P: conn.jsonl: the transfer's frames and wire bytes in = the pcap's ($pn, $pb)" "$pn $pb" \
	    "$(fbn_q '" ".join("%s %s" % (c.get("pkts_orig"), c.get("bytes_orig")) for c in C if c.get("dport") == 9000)')"
	# shellcheck disable=SC2086
	read -r pn pb < <($C dir $HP 9100 $pcaps)
	check_eq "P: conn.jsonl: the upload, outbound, its frames and wire bytes = the pcap's ($pn, $pb)" "outbound $pn $pb" \
	    "$(fbn_q '" ".join("%s %s %s" % (c.get("dir"), c.get("pkts_orig"), c.get("bytes_orig")) for c in C if c.get("dport") == 9100)')"
	sj=$(fbn_files sessions.jsonl)
	check "P: sessions.jsonl has the transfer" grep -q '"dport":9000' $sj
	tr=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("dport") == 9000: print(r.get("transcript") or "")' "$sj" 2>/dev/null)
	check "P: its transcript exists ($tr)" test -n "$tr" -a -s "$FBN_DATA/$tr"
	for port in 9000 9100 9200; do
		got=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("dport") == int(sys.argv[2]): print(r.get("bytes_orig"), r.get("gap_bytes"))' "$sj" "$port")
		what="the transfer's"; [ "$port" = 9100 ] && what="the upload's"
		[ "$port" = 9200 ] && what="the hogged transfer's"
		check_eq "P: sessions.jsonl: $what 20971520 bytes reassembled, no gap" \
		    "20971520 0" "$got"
	done
fi

# --- C: containment with the fast path --------------------------------------------
# The honeypot's client: N connections one after another, each echoing a
# line and closed with RST (no TIME_WAIT: the port can be used again);
# prints "OK FAIL FIRST_SPORT".
cat >"$W/client.py" <<'EOF_PY'
import socket, struct, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sport = int(sys.argv[4]) if len(sys.argv) > 4 else 0
good = bad = 0; first = 0
for i in range(n):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.settimeout(2.0)
    try:
        if sport:
            c.bind(("0.0.0.0", sport))
        c.connect((host, port))
        c.sendall(b"marker %d\n" % i)
        if c.recv(100) != b"marker %d\n" % i:
            raise OSError("no echo")
        good += 1
        if not first:
            first = c.getsockname()[1]
    except OSError:
        bad += 1
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
print(good, bad, first)
EOF_PY
fbn_bg "$FBN_OUT" $T tcp_count 8080 "$W/listener.log"
fbn_wait_port "$FBN_OUT" 8080 || not_ok "the outside listener (8080) started"
if phase C && start C contain <<EOF
[control]
tcp = 3/hour
icmp = allow
rate = allow

$FAST_ENGINE
EOF
then
	: >"$W/listener.log"
	fbn_tcpdump "$FBN_OUT" o0 "$W/c-syn.pcap" "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn and src host $HP and dst port 8080" ||
	    not_ok "C: tcpdump outside"
	read -r good bad sport < <(inH python3 "$W/client.py" $LISTENER 8080 6)
	sleep 0.3
	fbn_tcpdump_stop
	check_eq "C: the honeypot's 6 connections: 3 completed, 3 refused" "3 3" "$good $bad"
	check_eq "C: exactly 3 connections (SYNs) from the honeypot reached the outside" 3 \
	    "$(tcpdump -n -r "$W/c-syn.pcap" 2>/dev/null | awk '{print $3}' | sort -u | wc -l)"
	check_eq "C: the listener accepted 3" 3 "$(wc -l <"$W/listener.log")"
	check_eq "C: status: tcp total 3" 3 "$(J 'g(h, "classes.tcp.total", -1)')"
	check_ge "C: the allowed connections were marked fast (io.fast_marks)" 3 "$(io fast_marks)"
	fbn_tcpdump "$FBN_OUT" o0 "$W/c-reuse.pcap" "tcp and src host $HP" || not_ok "C: tcpdump outside"
	read -r good2 bad2 _ < <(inH python3 "$W/client.py" $LISTENER 8080 1 "${sport:-0}")
	# bare ACKs with data on the refused connection's addresses and ports
	inH hping3 -q -A -s "${sport:-0}" -k -p 8080 -d 100 -c 10 -i u20000 $LISTENER >/dev/null 2>&1
	sleep 0.3
	fbn_tcpdump_stop
	check_eq "C: a connection from the source port of the first allowed one ($sport) is refused" "0 1" "$good2 $bad2"
	check_eq "C: none of its SYNs reached the outside" 0 \
	    "$(fbn_count "$W/c-reuse.pcap" -- 'tcp[tcpflags] & tcp-syn != 0')"
	fbn_log "C: after the refused reuse, $(fbn_count "$W/c-reuse.pcap" -- 'tcp[tcpflags] & tcp-syn = 0') of 10 ACKs on its ports reached the outside; io.fast_judged_drop $(io fast_judged_drop)"
	check_eq "C: none of 10 ACKs with data on those ports (refused) reached the outside" 0 \
	    "$(fbn_count "$W/c-reuse.pcap" -- 'tcp[tcpflags] & tcp-syn = 0')"
	check_eq "C: the listener still saw 3, status tcp total still 3" "3 3" \
	    "$(wc -l <"$W/listener.log") $(J 'g(h, "classes.tcp.total", -1)')"
	stop C
fi

# --- R: a rate cap with the fast path ----------------------------------------------
if phase R && start R rate <<EOF
[control]
tcp = allow
icmp = allow
rate = 512kbit

$FAST_ENGINE
EOF
then
	xfer in r 9200 "$W/blob4" 0 || not_ok "R: the transfer in connects"
	xfer_wait r 60
	check_eq "R: a 4 MiB transfer from outside arrives whole" "4194304 $SHA4" "$(cat "$W/r.rx" 2>/dev/null)"
	check_ge "R: it took the fast path (io.fast_frames)" 1 "$(io fast_frames)"
	xfer out ru 9201 "$W/blob4" 0 || not_ok "R: the upload connects"
	rx_until ru 1 10
	sleep 2
	got=$(rx_bytes ru)
	rd=$(J 'h.get("rate_dropped_frames", -1)')
	fbn_log "R: upload: $got of 4194304 bytes arrived in about 2 s at 512 kbit/s; rate_dropped_frames $rd"
	check_ge "R: the upload from the honeypot is capped: status rate_dropped_frames > 0" 1 "$rd"
	if [ "$got" -lt 4194304 ]; then ok "R: the capped upload has not arrived whole ($got bytes)"
	else not_ok "R: the capped upload has not arrived whole" "$got bytes"; fi
	xfer_kill
	stop R
fi
# R2: the cap comes back by a reload during a fast upload: the inside leg's
# fast marks go (known_unfast_all), the upload is capped from then on.
rate_conf() {
	fbn_conf rate2 <<EOF
[control]
tcp = allow
icmp = allow
rate = $1

$FAST_ENGINE
EOF
}
if phase R && rate_conf allow && fbn_start; then
	xfer out r2 9202 "$W/blob20" 10 || not_ok "R2: the upload connects"
	rx_until r2 $((2 << 20)) 20 || not_ok "R2: 2 MiB of the upload arrived"
	check_eq "R2: rate = allow: the upload is fast, nothing rate-dropped" "yes 0" \
	    "$([ "$(io fast_frames)" -gt 0 ] && echo yes || echo no) $(J 'h.get("rate_dropped_frames", -1)')"
	rate_conf 512kbit
	check_eq "R2: fishbowl reload (rate = 512kbit)" "ok: reloaded" "$("$FISHBOWL" reload -s "$FBN_SOCK" 2>&1)"
	if wait_json '"yes" if h.get("rate_dropped_frames", 0) > 0 else "no"' yes 5; then
		ok "R2: after the reload the upload is capped (rate_dropped_frames > 0)"
	else
		not_ok "R2: after the reload the upload is capped" "rate_dropped_frames $(J 'h.get("rate_dropped_frames")')"
	fi
	sleep 1
	got=$(rx_bytes r2)
	fbn_log "R2: $got of 20971520 bytes arrived, rate_dropped_frames $(J 'h.get("rate_dropped_frames")')"
	if [ "$got" -lt 20971520 ]; then ok "R2: the upload has not arrived whole ($got bytes)"
	else not_ok "R2: the upload has not arrived whole" "$got bytes"; fi
	xfer_kill
	stop R2
elif phase R; then
	not_ok "R2: fishbowl starts" "$(tail -5 "$FBN_FB_LOG" 2>/dev/null)"
fi

# --- G: the capture fails, on_failure = block ----------------------------------------
tmpfs() {	# tmpfs NAME SIZE: a tmpfs at $W/NAME (the data directory of NAME)
	mkdir -p "$W/$1" && mount -t tmpfs -o "size=$2,mode=0755" "fb-$1" "$W/$1" || return 1
	MNTS+=("$W/$1")
}
t_gate() {
	local p1 p2 fd0 fd1 kd
	hp_dump g 9300 || not_ok "G: tcpdump on the honeypot"
	xfer in g 9300 "$W/blob20" 10 || not_ok "G: the transfer connects"
	rx_until g $((2 << 20)) 20 || not_ok "G: 2 MiB of the transfer arrived"
	check_ge "G: the transfer takes the fast path (io.fast_frames)" 1 "$(io fast_frames)"
	fd0=$(io fast_drops)
	dd if=/dev/zero of="$W/gate/filler" bs=64k 2>/dev/null; sync
	if wait_json 'str(g(s, "totals.capture.failing")).lower()' true 10; then
		ok "G: data directory full: status capture failing"
	else
		not_ok "G: data directory full: status capture failing" "$(J 'g(s, "totals.capture")')"
	fi
	check_eq "G: status io.fast_gate_closed" true "$(io fast_gate_closed)"
	# A full tmpfs still takes small records into the last page of the
	# open pcap file, and each that fits opens the gate again for a moment
	# (gateway2.sh F): small datagrams from outside use that slack up.
	inO hping3 -q -2 -p 9999 -d 300 -c 60 -i u2000 $HP >/dev/null 2>&1
	inO hping3 -q -2 -p 9999 -d 0 -c 90 -i u2000 $HP >/dev/null 2>&1
	check_eq "G: still failing, the gate closed" "true true" \
	    "$(J 'g(s, "totals.capture.failing")') $(io fast_gate_closed)"
	sleep 0.5
	p1=$(rx_bytes g)
	sleep 1.5
	p2=$(rx_bytes g)
	check_eq "G: the transfer stopped crossing (bytes at the honeypot)" "$p1" "$p2"
	fd1=$(io fast_drops)
	kd=$(J 'g(s, "totals.capture.kernel_drops", -1)')
	fbn_log "G: gate closed at $p1 bytes; fast_drops $fd0 -> $fd1, kernel_drops $kd, lost_frames $(J 'g(s, "totals.capture.lost_frames")')"
	check_ge "G: the kernel dropped the transfer's frames (io.fast_drops grew)" $((fd0 + 1)) "$fd1"
	check_ge "G: the kernel drops count them" "$fd1" "$kd"
	check_eq "G: the text status says the gate drops" 1 \
	    "$(fbn_status | grep -c '^fast path: .* [1-9][0-9]* dropped there')"
	check_eq "G: the reserve is spent (status capture.reserve_spent)" true \
	    "$(J 'g(s, "totals.capture.reserve_spent")')"
	rm -f "$W/gate/filler"
	# The reserve is held again at the next tick (a second), then the gate
	# opens; a ping is one more frame to write.
	ping_out 1 >/dev/null
	if wait_json 'g(s, "totals.io.fast_gate_closed")' false 10 &&
	    [ "$(J 'g(s, "totals.capture.failing")')" = false ]; then
		ok "G: the gate opens again (io.fast_gate_closed false, capture not failing)"
	else
		not_ok "G: the gate opens again" "$(io fast_gate_closed) $(J 'g(s, "totals.capture.failing")')"
	fi
	check_eq "G: space freed: a ping crosses" "3 3" "$(ping_out 3)"
	xfer_wait g 60
	check_eq "G: the transfer then ends whole" "20971520 $SHA20" "$(cat "$W/g.rx" 2>/dev/null)"
	sleep 0.3
	fbn_tcpdump_stop
	xfer_kill
	stop G
	# shellcheck disable=SC2046
	read -r n miss < <($C missing $FBN_ATTACKER 9300 "$W/g-h0.pcap" $(fbn_pcaps))
	fbn_log "G: $n frames at the honeypot, $miss of them not in the pcap; capture lost_frames counted"
	check_eq "G: every one of the $n frames the honeypot received is in the pcap" 0 "$miss"
}
if ! phase G; then
	:
elif tmpfs gate 48m; then
	if start G gate <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

$FAST_ENGINE
ring_mb = 4

[capture]
min_free_mb = 0
on_failure = block
EOF
	then
		t_gate
	fi
else
	not_ok "G: tmpfs for the data directory"
fi

# --- V: no room for the disk reserve: the fast path suspended -------------------------
if ! phase V; then
	:
elif tmpfs tiny 8m; then
	head -c $((2 << 20)) /dev/urandom >"$W/blob2"
	SHA2=$(sha256sum <"$W/blob2" | cut -d' ' -f1)
	if start V tiny <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

[engine]
ring_mb = 16

[capture]
min_free_mb = 0
EOF
	then
		check "V: the log says the fast path is suspended" \
		    grep -q "fast path suspended: no disk in reserve" "$FBN_FB_LOG"
		check_eq "V: status io.fast_path false, io.fast_suspended true" "false true" \
		    "$(io fast_path) $(io fast_suspended)"
		check_eq "V: the text status says suspended" 1 \
		    "$(fbn_status | grep -c '^fast path: suspended')"
		xfer in v 9000 "$W/blob2" 0 || not_ok "V: the transfer connects"
		xfer_wait v 60
		check_eq "V: a 2 MiB transfer from outside arrives whole" "2097152 $SHA2" "$(cat "$W/v.rx" 2>/dev/null)"
		check_eq "V: no frame took the fast path (io.fast_frames, fast_marks)" "0 0" \
		    "$(io fast_frames) $(io fast_marks)"
		xfer_kill
		stop V
	fi
else
	not_ok "V: tmpfs for the data directory"
fi

# --- N: ip netns exec, a mount namespace of fishbowl's own ---------------------------
# There a bpffs fishbowl mounts dies with it, and the pins in it: no fast path.
if phase N; then
	fbn_conf ns-own <<EOF
[control]
tcp = allow
rate = allow

$FAST_ENGINE
EOF
	FBN_FB_LOG=$W/fishbowl-ns-own.log
	ip netns exec "$FBN_GW" "$FISHBOWL" run -c "$FBN_CONF" -v >"$FBN_FB_LOG" 2>&1 &
	FBN_FB_PID=$!
	for _ in $(seq 1 100); do
		fbn_status --json >/dev/null 2>&1 && break
		sleep 0.05
	done
	check_eq "N: under ip netns exec: no fast path, it cannot pin (status io.fast_path)" false \
	    "$(io fast_path)"
	check_eq "N: the log says why" 1 "$(grep -c 'no fast path: cannot pin its ring buffers in /sys/fs/bpf/fishbowl/: bpffs is not mounted there, and mounted by fishbowl in a mount namespace of its own' "$FBN_FB_LOG")"
	stop N
fi

# --- S, K: fishbowl stops or dies during a fast transfer ---------------------------
pins_of() { grep -o 'pinned in /sys/fs/bpf/fishbowl/[0-9a-f-]*' "$1" | head -1 | cut -c11-; }
pins_in() { ls "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'; }
PINS="rb-inside-known rb-inside-new rb-outside-known rb-outside-new"
gone() { if [ -e "$1" ]; then echo "there: $(pins_in "$1")"; else echo gone; fi; }
# until io.fast_recovered stays put for a second (what was left is read)
recovered_settles() {
	local a b
	for _ in $(seq 1 30); do
		a=$(io fast_recovered); sleep 1; b=$(io fast_recovered)
		[ "$a" = "$b" ] && [ "$a" != -1 ] && return 0
	done
	return 1
}
t_end() {	# t_end PHASE how PORT [FAST_PATH_AT_RESTART]
	local ph=$1 how=$2 port=$3 again=${4:-yes} p1 p2 n miss pins rec lost
	start "$ph" "end-$ph" <<EOF || return 1
[control]
tcp = allow
icmp = allow
rate = allow

$FAST_ENGINE
EOF
	pins=$(pins_of "$FBN_FB_LOG")
	check_eq "$ph: the ring buffers are pinned while fishbowl runs (${pins:-no log line})" \
	    "$PINS" "$(pins_in "$pins")"
	hp_dump "$ph" "$port" || not_ok "$ph: tcpdump on the honeypot"
	xfer in "$ph" "$port" "$W/blob20" 10 || not_ok "$ph: the transfer connects"
	rx_until "$ph" $((2 << 20)) 20 || not_ok "$ph: 2 MiB of the transfer arrived"
	check_ge "$ph: the transfer takes the fast path (io.fast_frames)" 1 "$(io fast_frames)"
	if [ "$how" = term ]; then
		stop "$ph"
		check_eq "$ph: a clean stop unpins them" gone "$(gone "$pins")"
	else
		fbn_kill9
		ok "$ph: fishbowl killed (SIGKILL)"
		check_eq "$ph: the pins outlive it" "$PINS" "$(pins_in "$pins")"
	fi
	local q; q=$(tcx)
	if [ "$q" = "? ?" ]; then
		skip "$ph: no tcx program left on the legs" "the kernel would not answer BPF_PROG_QUERY"
	else
		check_eq "$ph: no tcx program left on the legs" "0 0" "$q"
	fi
	sleep 0.5
	p1=$(rx_bytes "$ph")
	check_eq "$ph: pings from outside get no reply" "3 0" "$(ping_out 3)"
	check_eq "$ph: a new TCP connection from outside fails" failed "$(connect_in)"
	p2=$(rx_bytes "$ph")
	check_eq "$ph: the transfer no longer crosses (bytes at the honeypot)" "$p1" "$p2"
	fbn_tcpdump_stop
	xfer_kill
	if [ "$how" = kill ]; then
		# shellcheck disable=SC2046
		read -r n miss < <($C missing $FBN_ATTACKER "$port" "$W/$ph-h0.pcap" $(fbn_pcaps))
		fbn_log "$ph: after the kill, $miss of the $n frames the honeypot received are not in the pcap yet"
		lost=$miss
		# The same data directory; the fast path on (K) or off (K2).
		fbn_conf "end-$ph" <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

[engine]
fast_path = $again
EOF
		if fbn_start; then
			ok "$ph: fishbowl starts again on the same data directory (fast_path = $again)"
		else
			not_ok "$ph: fishbowl starts again" "$(tail -5 "$FBN_FB_LOG")"
			return 1
		fi
		if recovered_settles; then
			ok "$ph: what the ring buffers held is read (io.fast_recovered settles)"
		else
			not_ok "$ph: io.fast_recovered settles" "$(io fast_recovered)"
		fi
		rec=$(io fast_recovered)
		fbn_log "$ph: io.fast_recovered $rec, fast_judged_drop $(io fast_judged_drop); log: $(grep -h 'fast path' "$FBN_FB_LOG" | tr '\n' '|')"
		# (0 is possible: the reader had given back every record at the kill.)
		check_ge "$ph: the frames missing after the kill ($lost) are among those recovered" \
		    "$lost" "$rec"
		if [ "$again" = no ]; then
			check_eq "$ph: fast_path = no: the pins are read, then removed while it runs" \
			    gone "$(gone "$pins")"
			check_eq "$ph: status io.fast_path false" false "$(io fast_path)"
		else
			check_eq "$ph: the ring buffers adopted are pinned again, in the same place" \
			    "$pins" "$(pins_of "$FBN_FB_LOG")"
		fi
		if [ "$rec" -gt 0 ]; then
			check_eq "$ph: the log says bytes were left and are read first" 1 \
			    "$(grep -c 'left in the ring buffers by a fishbowl that did not stop cleanly; they are read first' "$FBN_FB_LOG")"
			check_eq "$ph: the text status says how many frames were recovered" 1 \
			    "$(fbn_status | grep -c "^fast path: $rec frames recovered from the ring buffers")"
		fi
		stop "$ph"
		check_eq "$ph: the clean stop leaves no pins" gone "$(gone "$pins")"
	fi
	# shellcheck disable=SC2046
	read -r n miss < <($C missing $FBN_ATTACKER "$port" "$W/$ph-h0.pcap" $(fbn_pcaps))
	check_eq "$ph: every one of the $n frames the honeypot received is in the pcap" 0 "$miss"
}
phase S && t_end S term 9400
phase K && t_end K kill 9500 yes
phase K && t_end K2 kill 9600 no

# --- KB: killed while batches are written behind ------------------------------
# The endpoints' offloads on and an iperf3 stream, as in O: the stream's
# batches are written behind the engine (docs/io.md "Written behind") and
# their records stay in the ring buffers until the writer is done.
# fishbowl is killed (SIGKILL) in the middle of it; the next start on the
# same data directory reads what the ring buffers held, and every frame
# the honeypot received is in the pcap.
if phase KB; then
	offloads on
	inO ethtool -K o0 gro on >/dev/null 2>&1
	inH ethtool -K h0 gro on >/dev/null 2>&1
fi
if phase KB && start KB end-KB <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

$FAST_ENGINE
ring_mb = 16
EOF
then
	pins=$(pins_of "$FBN_FB_LOG")
	hp_dump kb 5202 || not_ok "KB: tcpdump on the honeypot"
	inH timeout 30 iperf3 -s -1 -p 5202 >/dev/null 2>&1 &
	XPIDS+=($!)
	fbn_wait_port "$FBN_HP" 5202
	inO timeout 15 iperf3 -c $HP -p 5202 -t 5 >/dev/null 2>&1 &
	XPIDS+=($!)
	bb=0
	for _ in $(seq 1 50); do
		bb=$(cap behind_batches)
		[ "$bb" -ge 20 ] && break
		sleep 0.1
	done
	fbn_kill9
	ok "KB: fishbowl killed (SIGKILL) in the middle of the stream"
	check_ge "KB: its batches were being written behind (capture.behind_batches)" 20 "$bb"
	sleep 1
	fbn_tcpdump_stop
	xfer_kill
	fbn_conf end-KB <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

$FAST_ENGINE
ring_mb = 16
EOF
	if fbn_start; then
		ok "KB: fishbowl starts again on the same data directory"
		if recovered_settles; then
			ok "KB: what the ring buffers held is read (io.fast_recovered settles)"
		else
			not_ok "KB: io.fast_recovered settles" "$(io fast_recovered)"
		fi
		fbn_log "KB: $bb batches written behind before the kill; io.fast_recovered $(io fast_recovered) after it"
		stop KB
		check_eq "KB: the clean stop leaves no pins" gone "$(gone "$pins")"
	else
		not_ok "KB: fishbowl starts again" "$(tail -5 "$FBN_FB_LOG")"
	fi
	# shellcheck disable=SC2046
	read -r n miss < <($C missing $FBN_ATTACKER 5202 "$W/kb-h0.pcap" $(fbn_pcaps))
	check_eq "KB: every one of the $n frames the honeypot received is in the pcap" 0 "$miss"
fi
if phase KB; then
	offloads off
	inO ethtool -K o0 gro off >/dev/null 2>&1
	inH ethtool -K h0 gro off >/dev/null 2>&1
fi
# --- U: a pin left behind that cannot be read -------------------------------------
# fishbowl is killed; one of its pins is made another user's (as one planted
# by someone else would be).  The next start must not read it (not ours)
# and must say that frames are lost: log, status, alert.  The pin stays, so
# that run has no fast path.
if phase U && start U unreadable <<EOF
[control]
tcp = allow
icmp = allow
rate = allow

$FAST_ENGINE
EOF
then
	pins=$(pins_of "$FBN_FB_LOG")
	check_eq "U: the ring buffers are pinned (${pins:-no log line})" "$PINS" "$(pins_in "$pins")"
	fbn_kill9
	chown 12345 "$pins/rb-outside-known"
	if fbn_start; then
		ok "U: fishbowl starts again with a pin it cannot read"
		check "U: the log says the pin cannot be read and its frames are not in the capture" \
		    grep -q "cannot be read, its frames are not in the capture: $pins/rb-outside-known: not pinned by us (uid 12345)" "$FBN_FB_LOG"
		check_eq "U: status io.fast_pins_unreadable" 1 "$(io fast_pins_unreadable)"
		check_eq "U: the text status says frames are lost" 1 \
		    "$(fbn_status | grep -c '^fast path: 1 pinned ring buffers a fishbowl killed before left cannot be read: their frames are lost')"
		for _ in $(seq 1 30); do
			grep -qs 'ring buffers a fishbowl that did not stop cleanly left pinned cannot be read' $(fbn_files alerts.jsonl) && break
			sleep 0.1
		done
		# shellcheck disable=SC2046
		check_eq "U: one critical capture alert says so" 1 "$(cat $(fbn_files alerts.jsonl) | python3 -c 'import json, sys
A = [json.loads(l) for l in sys.stdin]
print(sum(1 for a in A if a.get("type") == "capture" and a.get("prio") == "critical" and
    "1 ring buffers a fishbowl that did not stop cleanly left pinned cannot be read" in a.get("msg", "")))')"
		check_eq "U: no fast path this run (the pin is in its place)" false "$(io fast_path)"
		check_eq "U: pings from outside still cross (judged by fishbowl)" "3 3" "$(ping_out 3)"
		stop U
	else
		not_ok "U: fishbowl starts again with a pin it cannot read" "$(tail -5 "$FBN_FB_LOG")"
	fi
	check_eq "U: the pin not ours is left where it was" "rb-outside-known" "$(pins_in "$pins")"
	rm -rf "$pins"
fi

if phase S || phase K || phase KB || phase U; then
	check_eq "no pins of this test's fishbowls are left" "" \
	    "$(for d in $(fbn_pins); do [ -e "$d" ] && echo "$d"; done)"
fi

done_testing
