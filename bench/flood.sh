#!/bin/bash
# bench/flood.sh: fishbowl under floods (issue #4), on the namespace bed of
# tests/netns/lib-netns.sh, fishbowl and the kernel bridge + tcpdump side by
# side in one run where that means something.  Each scenario prints its
# figures, a verdict line (PASS/FAIL/INFO) and fishbowl's peak resident size
# (VmHWM of /proc/PID/status, or /usr/bin/time's maximum RSS for a replay)
# against the bound its configuration implies:
#
#   bound = 2 x ring_mb MiB                    (one receive ring per leg)
#         + 2 x openers_ring_mb MiB            (the openers' ring per leg;
#                                               default ring_mb / 8, >= 1)
#         + KNOWN_SLOTS x 8 B                  (the table of known flows,
#                                               mapped from the kernel: 4 per
#                                               max_flows, a power of two,
#                                               64 Ki to 2 Mi; src/known.c)
#         + max_flows x FLOW_B                 (flow entry, hash bucket and a
#                                               TCP connection's layer state)
#         + [layers] memory_mb MiB             (reassembly pool)
#         + max_honeypots x 600 B              (containment state)
#         + FIXED_MB                           (code, libc, libmagic, the
#                                               2 x 2 MiB over-size copy
#                                               arenas, capture and event
#                                               buffers, fragment slots)
#   FLOW_B = 192 (struct fb_flow) + 4 (bucket) + 112 (tcp_app) + 360 (stream)
#            + 2592 (session) + 2 x 4096 (detection buffers, at most)
#            + 100 (transcript path) + 7 x 16 (malloc headers)
#          = 11,664 B with layers on (a connection that carried data; a
#            SYN-only one costs 196 + 472 + 32 = 700 B); 196 B with layers
#            off.  Sizes from gdb `p sizeof(struct ...)` on
#            build/fishbowl (x86-64); FIXED_MB = 32.
#
# Scenarios (BENCH_SCEN, default "a b c d"; BENCH_KNOWN=no runs fishbowl
# with [engine] known_flows = no, the openers' ring for SYNs only):
#   a  hping3 --flood -S --rand-source from outside to the honeypot for
#      BENCH_FLOOD_S seconds while the honeypot tries one TCP connection a
#      second to an outside listener under [control] tcp = 3/hour, and 20
#      marker pings cross inbound.  Then the same flood from the honeypot,
#      own source and spoofed.  Bridge + tcpdump: the same inbound flood,
#      frames lost to its capture.
#   b  a million-source SYN flood pcap (bench/synflood.py, build/bench/):
#      (i) fishbowl replay with max_flows BENCH_MAX_FLOWS vs tcpdump -r -w:
#      time, frames, evictions, max RSS; (ii) live: tcpreplay --topspeed of
#      it onto the outside leg while the honeypot's containment runs as in a.
#   c  the per-honeypot rate cap ([control] rate) at BENCH_RATES (default
#      512kbit 10mbit): honeypot -> outside UDP (iperf3 -u at twice the cap)
#      and TCP (iperf3) for BENCH_RATE_S seconds, alone and under an inbound
#      hping3 flood.  The rate is frame bytes the gateway sent out of its
#      outside leg (gwo tx_bytes: what the cap counts, Ethernet headers
#      included), from second 2 to the end (the first seconds spend the
#      bucket's burst, max(250 ms of rate, 64 KiB)).  PASS: UDP within 5 %
#      of the cap; TCP and flood runs at most 5 % over it, or within
#      rate x T + burst when T is too short for the burst to vanish in 5 %
#      (at 512kbit the 64 KiB burst is 1 s of rate: use BENCH_RATE_S=30).
#      BENCH_RATE_OFFLOADS=off: TSO and GSO off on the honeypot (MTU-sized
#      frames instead of GSO super-frames reach the cap).
#   d  as a's inbound part, with floods of ACKs (hping3 -A) and of UDP
#      (hping3 -2), --rand-source: fishbowl (kernel drops per ring, marker
#      pings, the client's connections, containment, memory) and bridge +
#      tcpdump (frames not captured).
#
#   BENCH_FLOOD_S=5 BENCH_RING_MB=16 BENCH_MAX_FLOWS=4096 BENCH_MEM_MB=16
#   BENCH_SOURCES=1000000 FB_BUILD=build bench/flood.sh
# Results also in build/bench/flood-results.txt.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
FB_BUILD=${FB_BUILD:-build}
case $FB_BUILD in /*) ;; *) FB_BUILD=$ROOT/$FB_BUILD ;; esac
FISHBOWL=$FB_BUILD/fishbowl
FS=${BENCH_FLOOD_S:-5}
RING=${BENCH_RING_MB:-16}
MAXF=${BENCH_MAX_FLOWS:-4096}
MEM=${BENCH_MEM_MB:-16}
NSRC=${BENCH_SOURCES:-1000000}
RATES=${BENCH_RATES:-512kbit 10mbit}
RS=${BENCH_RATE_S:-10}
SCEN=${BENCH_SCEN:-a b c d}
KNOWN=${BENCH_KNOWN:-yes}
FLOW_B=11664
FIXED_MB=32
OUTD=$ROOT/build/bench
RESULTS=$OUTD/flood-results.txt

die() { echo "bench/flood.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
for t in ip hping3 tcpdump tcpreplay iperf3 python3 ss timeout capinfos; do
	command -v $t >/dev/null || die "$t is missing (scripts/deps.sh installs it)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package time)"
[ -x "$FISHBOWL" ] || die "no $FISHBOWL (make first)"
mkdir -p "$OUTD"
: >"$RESULTS"

FBN_PREFIX=fbflood$$
FBN_FISHBOWL=$FISHBOWL
. "$ROOT/tests/netns/lib-netns.sh"
fbn_init || die "cannot make a work directory"
W=$FBN_WORK
PY="python3 $W/tools.py"
HP=$FBN_HP_ADDR
LST=$FBN_ATTACKER	# a real address of OUT: UDP replies come from it (iperf3 -u)

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
say() { echo "$*" | tee -a "$RESULTS"; }
calc() { awk "BEGIN { x = $1; printf(\"%.${2:-2}f\", x) }" 2>/dev/null || echo nan; }
gw_rx() { inG cat /sys/class/net/gwo/statistics/rx_packets /sys/class/net/gwh/statistics/rx_packets | awk '{s += $1} END {print s}'; }
gwo_txb() { inG cat /sys/class/net/gwo/statistics/tx_bytes; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$FBN_FB_PID/status" 2>/dev/null || echo 0; }
# bound_kb RING MAXF MEM LAYERS: the configured bound, KiB
bound_kb() {
	local fb=$FLOW_B
	[ "$4" = no ] && fb=196
	local openers=$(( $1 / 8 > 1 ? $1 / 8 : 1 )) slots=65536
	while [ $slots -lt $(( $2 * 4 )) ] && [ $slots -lt 2097152 ]; do slots=$((slots * 2)); done
	[ "$1" = 0 ] && openers=0 slots=0	# a replay has no rings, no table
	calc "2 * ($1 + $openers) * 1024 + $slots * 8 / 1024 + $2 * $fb / 1024 + $3 * 1024 + 4096 * 600 / 1024 + $FIXED_MB * 1024" 0
}
memline() {	# memline WHAT PEAK_KB BOUND_KB
	local v=PASS
	[ "$2" -le "$3" ] 2>/dev/null || v=FAIL
	say "  $1: peak RSS $(calc "$2 / 1024" 1) MiB, bound $(calc "$3 / 1024" 1) MiB: $v"
}
st() { fbn_json "$1"; }
hping_sent() { sed -n 's/^\([0-9]*\) packets\{0,1\} transmitted.*/\1/p' "$1" | head -1; }

# conf NAME TCP RATE [LAYERS]: fishbowl's configuration for one run
conf() {
	fbn_conf "$1" <<EOF
[control]
tcp = $2
udp = ${UDPL:-block}
icmp = allow
rate = $3

[engine]
ring_mb = $RING
max_flows = $MAXF
known_flows = $KNOWN

[layers]
enable = ${4:-yes}
memory_mb = $MEM
EOF
}

# The honeypot's client: one TCP connection a second to LST:8080 for N
# seconds (1 s timeout each); prints successes.
cat >"$W/client.py" <<'EOF_PY'
import socket, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
good = 0
for i in range(n):
    t = time.time()
    c = socket.socket(); c.settimeout(1.0)
    try:
        c.connect((host, port)); c.sendall(b"m%d\n" % i)
        good += c.recv(100) == b"m%d\n" % i
    except OSError:
        pass
    c.close()
    time.sleep(max(0, 1 - (time.time() - t)))
print(good)
EOF_PY

bed() {
	fbn_up || die "cannot build the test bed"
	fbn_bg "$FBN_OUT" $PY tcp_count 8080 "$W/listener.log"
	fbn_bg "$FBN_OUT" iperf3 -s -p 5201 >/dev/null 2>&1
	fbn_wait_port "$FBN_OUT" 8080 && fbn_wait_port "$FBN_OUT" 5201 || die "servers did not start"
}
warm() { for _ in $(seq 1 50); do [ "$(inO $PY ping $HP 1 0.1 0.2)" = "1 1" ] && break; done; }

# fb_report: fishbowl's counters after a run (settles first)
fb_report() {
	local i
	for i in $(seq 1 50); do
		read -r FWD DROP KD EV CAPF <<<"$(st '"%d %d %d %d %d" % (g(s,"totals.forwarded.frames",0), g(s,"totals.dropped.frames",0), g(s,"totals.capture.kernel_drops",0), g(s,"totals.flows.evicted",0), g(s,"totals.capture.frames",0))')"
		RX=$(($(gw_rx) - RX0))
		[ "$RX" -eq $((FWD + DROP + KD)) ] && break
		sleep 0.1
	done
	say "  gateway rx $RX frames: forwarded $FWD, dropped $DROP, kernel drops $KD (rx = sum: $([ "$RX" -eq $((FWD + DROP + KD)) ] && echo yes || echo NO)); pcap $CAPF; flows evicted $EV"
	say "  drops by reason: $(st 'g(s, "totals.dropped.by_reason", {})')"
}
# client_flows: how the honeypot client's connections (port 8080) ended,
# from conn.jsonl (after fbn_stop)
client_flows() {
	say "  client connections in conn.jsonl (verdict/reason/tcp_state/end_reason: count): $(cat $(fbn_files conn.jsonl) 2>/dev/null | grep '"dport":8080' |
	    python3 -c 'import json, sys, collections
c = collections.Counter()
for l in sys.stdin:
    r = json.loads(l)
    c["%s/%s/%s/%s" % (r.get("verdict"), r.get("reason"), r.get("tcp_state"), r.get("end_reason"))] += 1
print(", ".join("%s: %d" % kv for kv in sorted(c.items())))')"
}

# inbound_flood KIND: hping3 --flood of KIND (syn: -S, ack: -A, udp: -2)
# with --rand-source from outside at the honeypot for FS seconds, through
# fishbowl (KNOWN: [engine] known_flows, default yes) and then through the
# bridge with tcpdump, while the honeypot's client tries a connection a
# second out and 20 marker pings cross inbound.
inbound_flood() {
	local kind=$1 flags
	case $kind in syn) flags=-S ;; ack) flags=-A ;; udp) flags=-2 ;; esac
	# fishbowl, inbound flood
	conf a 3/hour allow; fbn_start || die "fishbowl did not start"
	RX0=$(gw_rx); warm; : >"$W/listener.log"
	ip netns exec "$FBN_OUT" timeout -s INT "$FS" hping3 --flood $flags --rand-source -p 80 $HP >"$W/h.log" 2>&1 &
	local hp=$! good pings
	sleep 0.2
	inO $PY ping $HP 20 0.1 1.0 >"$W/ping.out" &
	local pg=$!
	good=$(inH python3 "$W/client.py" $LST 8080 "$FS")
	wait $pg $hp; read -r _ pings <"$W/ping.out"
	sleep 0.5
	local hwm; hwm=$(hwm_kb)
	say "fishbowl (known_flows $KNOWN), inbound $kind flood: hping3 sent $(hping_sent "$W/h.log") packets"
	fb_report
	say "  kernel drops by ring: openers' $(st 'g(s, "totals.capture.kernel_drops_openers", "?")'), main $(st 'g(s, "totals.capture.kernel_drops_other", "?")'); known_filter $(st 'g(s, "totals.io.known_filter", "?")'), known_marks $(st 'g(s, "totals.io.known_marks", "?")')"
	local tot lis pp
	tot=$(st 'g(h, "classes.tcp.total", -1)'); lis=$(wc -l <"$W/listener.log")
	fbn_stop
	client_flows
	# shellcheck disable=SC2046
	pp=$(fbn_count $(fbn_pcaps) -- "icmp and icmp[icmptype] = 0 and src host $HP")
	say "  honeypot client: $good of $FS connections echoed; listener saw $lis; status tcp total $tot (limit 3/hour): $([ "$tot" = 3 ] && [ "$lis" -le 3 ] && echo PASS || echo FAIL)"
	say "  marker pings: $pings of 20 answered, $pp echo replies in the pcap: $([ "$pp" -ge "$pings" ] && echo PASS || echo FAIL) (the rest: kernel drops above)"
	memline "fishbowl" "$hwm" "$(bound_kb $RING $MAXF $MEM yes)"
	rm -rf "$FBN_DATA"
	# bridge + tcpdump, inbound flood
	fbn_bridge; RX0=$(gw_rx)
	ip netns exec "$FBN_GW" tcpdump -n -i br0 -s 0 -B $((RING * 2048)) -w "$W/br.pcap" 2>"$W/td.err" &
	local td=$!
	for _ in $(seq 1 100); do grep -q 'listening on' "$W/td.err" && break; sleep 0.05; done
	warm; : >"$W/listener.log"
	ip netns exec "$FBN_OUT" timeout -s INT "$FS" hping3 --flood $flags --rand-source -p 80 $HP >"$W/h.log" 2>&1 &
	hp=$!
	sleep 0.2
	inO $PY ping $HP 20 0.1 1.0 >"$W/ping.out" &
	pg=$!
	good=$(inH python3 "$W/client.py" $LST 8080 "$FS")
	wait $pg $hp; read -r _ pings <"$W/ping.out"
	sleep 0.5
	local rx cap kd
	rx=$(($(gw_rx) - RX0)); kill -INT $td; wait $td 2>/dev/null
	kd=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$W/td.err")
	cap=$(capinfos -c -M "$W/br.pcap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
	say "bridge + tcpdump, inbound $kind flood: hping3 sent $(hping_sent "$W/h.log") packets"
	say "  bridge rx $rx frames, pcap $cap ($(calc "100 * ($rx - $cap) / ($rx ? $rx : 1)" 1) % not captured, tcpdump: $kd dropped by kernel); client $good of $FS (no limit); pings $pings of 20"
	rm -f "$W/br.pcap"; fbn_unbridge
}

# --- a ------------------------------------------------------------------
scen_a() {
	say "== a: hping3 --flood, $FS s, ring_mb $RING, max_flows $MAXF, memory_mb $MEM"
	bed
	inbound_flood syn
	# fishbowl, outbound floods from the honeypot
	local sp
	for sp in own spoofed; do
		conf "a-$sp" 3/hour 512kbit; fbn_start || die "fishbowl did not start"
		RX0=$(gw_rx)
		fbn_tcpdump "$FBN_OUT" o0 "$W/o0.pcap" tcp and dst port 9
		ip netns exec "$FBN_HP" timeout -s INT "$FS" hping3 --flood -S -p 9 \
		    $([ $sp = spoofed ] && echo --rand-source) $LST >"$W/h.log" 2>&1
		sleep 0.5; hwm=$(hwm_kb)
		fbn_tcpdump_stop
		say "fishbowl, outbound flood from the honeypot ($sp source, tcp = 3/hour, rate 512kbit): hping3 sent $(hping_sent "$W/h.log") SYNs"
		fb_report
		local out; out=$(fbn_count "$W/o0.pcap")
		say "  SYNs that reached the outside: $out (expected $([ $sp = own ] && echo 3 || echo 0)): $([ "$out" = "$([ $sp = own ] && echo 3 || echo 0)" ] && echo PASS || echo FAIL); state $(st 'h.get("state")'), spoofed drops $(st 'g(s, "totals.dropped.by_reason.spoofed-source-inside", 0)'), rate drops $(st 'g(s, "totals.dropped.by_reason.rate", 0)')"
		memline "fishbowl" "$hwm" "$(bound_kb $RING $MAXF $MEM yes)"
		fbn_stop; rm -rf "$FBN_DATA" "$W/o0.pcap"
	done
	fbn_down
}

# --- d ------------------------------------------------------------------
scen_d() {
	local kind
	say "== d: hping3 --flood of ACKs and of UDP, $FS s, ring_mb $RING, known_flows $KNOWN"
	bed
	for kind in ack udp; do
		inbound_flood $kind
	done
	fbn_down
}

# --- b ------------------------------------------------------------------
scen_b() {
	local pc=$OUTD/synflood-$NSRC.pcap
	say "== b: SYN flood from $NSRC sources ($pc)"
	[ -s "$pc" ] || python3 "$ROOT/bench/synflood.py" "$pc" "$NSRC" || die "generator failed"
	cat >"$W/replay.conf" <<EOF
[honeynet]
networks = 10.99.0.128/25
honeypots = $HP

[control]
tcp = 3/hour

[capture]
dir = $W/unused

[engine]
max_flows = $MAXF

[layers]
memory_mb = $MEM
EOF
	cat "$pc" >/dev/null
	local r
	for r in $(seq 1 "${BENCH_REPLAY_RUNS:-2}"); do
		rm -rf "$W/rp" "$W/td.pcap"
		/usr/bin/time -v -o "$W/time.fb" "$FISHBOWL" replay -c "$W/replay.conf" -r "$pc" -o "$W/rp" >/dev/null 2>&1
		/usr/bin/time -v -o "$W/time.td" tcpdump -r "$pc" -w "$W/td.pcap" >/dev/null 2>&1
		local fbt fbm tdt tdm ev fr
		fbt=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$W/time.fb"); fbm=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.fb")
		tdt=$(sed -n 's/.*Elapsed (wall clock) time.*: //p' "$W/time.td"); tdm=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.td")
		fr=$($PY pcap_count "$W"/rp/????-??-??/packets/*.pcap)
		ev=$(grep -c '"end_reason":"evicted"' "$W"/rp/????-??-??/conn.jsonl)
		say "replay run $r: fishbowl $fbt (max RSS $(calc "$fbm / 1024" 1) MiB, $fr frames in pcap, $ev conn records evicted); tcpdump -r -w $tdt (max RSS $(calc "$tdm / 1024" 1) MiB)"
	done
	memline "fishbowl replay" "$fbm" "$(calc "$(bound_kb 0 $MAXF $MEM yes)" 0)"
	rm -rf "$W/rp" "$W/td.pcap"
	# live: tcpreplay onto the outside leg, the honeypot's containment as in a
	bed
	conf b 3/hour allow; fbn_start || die "fishbowl did not start"
	RX0=$(gw_rx); warm; : >"$W/listener.log"
	inO tcpreplay --topspeed -i o0 "$pc" >"$W/tr.log" 2>&1 &
	local trp=$! good
	good=$(inH python3 "$W/client.py" $LST 8080 "$FS")
	wait $trp; sleep 0.5
	local hwm; hwm=$(hwm_kb)
	say "live, tcpreplay --topspeed onto o0: $(grep -E 'Actual:|Rated:' "$W/tr.log" | tr -s ' ' | tr '\n' ' ')"
	fb_report
	local tot lis; tot=$(st 'g(h, "classes.tcp.total", -1)'); lis=$(wc -l <"$W/listener.log")
	say "  honeypot client: $good of $FS echoed; listener saw $lis; tcp total $tot (limit 3/hour): $([ "$tot" = 3 ] && [ "$lis" -le 3 ] && echo PASS || echo FAIL)"
	memline "fishbowl" "$hwm" "$(bound_kb $RING $MAXF $MEM yes)"
	fbn_stop; client_flows; rm -rf "$FBN_DATA"
	fbn_down
}

# --- c ------------------------------------------------------------------
bps() {	# bps RATE-STRING: bits per second
	local v=${1%%[a-z]*} u=${1##*[0-9]}
	case $u in bit) echo "$v";; kbit) echo $((v * 1000));; mbit) echo $((v * 1000000));; gbit) echo $((v * 1000000000));; esac
}
# rate_run CAP PROTO FLOOD: sets RATE (bit/s measured on gwo) and GOOD
# (iperf3's receiver rate)
rate_run() {
	local cap=$1 proto=$2 flood=$3 b j t0 b0 t1 b1 hp=
	b=$(bps "$cap")
	UDPL=allow conf "c" 3/hour "$cap"; fbn_start || die "fishbowl did not start"
	warm
	if [ "$flood" = flood ]; then
		ip netns exec "$FBN_OUT" timeout -s INT $((RS + 2)) hping3 --flood -S --rand-source -p 80 $HP >/dev/null 2>&1 &
		hp=$!
	fi
	if [ "$proto" = udp ]; then
		inH iperf3 -c $LST -p 5201 -u -b $((2 * b)) -l 1200 -t "$RS" -J >"$W/ip.json" 2>&1 &
	else
		inH iperf3 -c $LST -p 5201 -t "$RS" -J >"$W/ip.json" 2>&1 &
	fi
	j=$!
	sleep 2; t0=$(date +%s.%N); b0=$(gwo_txb)
	wait $j; t1=$(date +%s.%N); b1=$(gwo_txb)
	[ -n "$hp" ] && { kill -INT $hp 2>/dev/null; wait $hp 2>/dev/null; }
	RATE=$(calc "($b1 - $b0) * 8 / ($t1 - $t0)" 0)
	WIN=$(calc "$t1 - $t0" 3)
	GOOD=$(python3 -c 'import json,sys
try:
    e = json.load(open(sys.argv[1]))["end"]
    s = e.get("sum_received") or e.get("sum")
    print("%.0f" % s["bits_per_second"])
except Exception: print("nan")' "$W/ip.json")
	RDROP=$(st 'h.get("rate_dropped_frames", 0)')
	fbn_stop; rm -rf "$FBN_DATA"
}
scen_c() {
	say "== c: rate cap, honeypot -> outside, $RS s per run, rate from second 2 (gwo tx bytes, frames incl. Ethernet header), honeypot offloads ${BENCH_RATE_OFFLOADS:-on}"
	bed
	[ "${BENCH_RATE_OFFLOADS:-on}" = off ] && inH ethtool -K h0 tso off gso off >/dev/null 2>&1
	local cap proto flood b v
	for cap in $RATES; do
		b=$(bps "$cap")
		for flood in quiet flood; do
			for proto in udp tcp; do
				rate_run "$cap" "$proto" "$flood"
				if [ "$proto" = udp ] && [ "$flood" = quiet ]; then
					v=$(awk -v r="$RATE" -v b="$b" 'BEGIN {d = (r - b) / b; if (d < 0) d = -d; print (d <= 0.05) ? "PASS" : "FAIL"}')
				else
					# the promise: bytes <= rate x T + burst; the burst (up
					# to 1 s of rate at 512kbit) may be unspent at second 2
					v=$(awk -v r="$RATE" -v b="$b" -v w="$WIN" 'BEGIN {
						burst = b / 32 / 8; if (burst < 65536) burst = 65536
						if (r <= 1.05 * b) print "PASS (at most 5 % over)"
						else if (r * w / 8 <= b * w / 8 + burst) print "PASS (within rate x T + burst; T too short for 5 %)"
						else print "FAIL" }')
				fi
				say "  rate $cap ($b bit/s), $proto, $flood: out of the gateway $RATE bit/s ($(calc "100 * $RATE / $b" 1) % of the cap), iperf3 receiver $GOOD bit/s, rate drops $RDROP: $v"
			done
		done
	done
	fbn_down
}

say "fishbowl flood benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, kernel $(uname -r), fishbowl $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
say "memory bound: 2 x (ring_mb + openers_ring_mb) + known slots x 8 B + max_flows x $FLOW_B B (layers on; 196 B off) + memory_mb + max_honeypots x 600 B + $FIXED_MB MiB"
for s in $SCEN; do
	case $s in a) scen_a ;; b) scen_b ;; c) scen_c ;; d) scen_d ;; esac
done
