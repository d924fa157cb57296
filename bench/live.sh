#!/bin/bash
# bench/live.sh: fishbowl as a live gateway against the floor it replaces --
# a Linux bridge with `tcpdump -w` on it -- on the same namespace test bed
# (tests/netns/lib-netns.sh: outside "Internet" -> gateway -> honeypot), in
# one run, twice: endpoint offloads at their defaults (TSO/GSO/GRO, checksum
# offload) and with them off (ethtool -K on the two endpoints only).
#
# Measures, traffic from outside to the honeypot (inbound, never limited):
#   tcp    TCP throughput, iperf3 -t BENCH_T, median of BENCH_RUNS runs; and
#          the segments the sender retransmitted (median): losses, or
#          reorderings it took for losses
#   udp    64-byte frames (iperf3 -u -l 18 -b 0) delivered per second: what
#          the honeypot's iperf3 received
#   conn   new TCP connections per second: one python3 client, connect and
#          RST, for BENCH_T seconds; counted by the client; median of
#          BENCH_RUNS runs
#   uncap  per measurement, frames the endpoints received (o0 + h0 rx: each
#          crossed the gateway) beyond what the pcap holds: frames that
#          crossed unrecorded (0 means the pcap holds at least as many)
#   rss    per measurement, the peak resident size (VmHWM) of tcpdump or
#          fishbowl (its ring, flow table and buffers: sized by configuration)
#   loss   per measurement, frames the gateway's two legs received (kernel
#          rx counters) minus frames in the pcap; for tcpdump also its
#          "dropped by kernel", for fishbowl its status kernel_drops
#
# Each measurement starts the gateway afresh (new capture), stops it (SIGINT
# for tcpdump, SIGTERM for fishbowl: both flush), counts the pcap, deletes it.
#
#   BENCH_T=5 BENCH_RUNS=3 BENCH_RING_MB=64 BENCH_LAYERS=yes FB_BUILD=build bench/live.sh
#   BENCH_RING_MB: fishbowl's ring_mb (default 64, as fishbowl's own
#   default; until session 16 the bench used 16); tcpdump gets the same
#   memory, -B 2 x ring_mb.  The fast path's ring buffers are as big unless
#   BENCH_FAST_MB says otherwise: with a capture disk slower than the
#   stream, 16 MiB of them diverted a bulk stream to fishbowl's threads
#   five times as often and cost it a fifth of its rate (docs/performance.md,
#   "Session 16")
#   BENCH_OFFLOADS="on off"  BENCH_MODES="bridge fishbowl"  BENCH_TESTS="tcp udp conn"
#   BENCH_MODES="bare bridge fishbowl" also measures the Linux bridge with
#   no capture at all (what forwarding alone costs here: the ceiling the
#   issue calls "heading for the direct-veth figures"); its rows compare
#   fishbowl with it
#   BENCH_KNOWN=yes|no ([engine] known_flows: the openers' ring filed by known flows or openers only)
#   BENCH_FAST=yes|no ([engine] fast_path, default yes as in fishbowl: the kernel forwards proven flows, recording each frame first)
#   BENCH_FAST_MB=N ([engine] fast_path_mb; default ring_mb, BENCH_RING_MB)
#   BENCH_CC=cubic|bbr|...: the TCP test's congestion control (iperf3 -C);
#   default the machine's (net.ipv4.tcp_congestion_control, printed): BBR
#   paces by the round trip it measures, so a gateway that delays some
#   frames costs it more than it costs CUBIC
#   BENCH_ALTERNATE=yes|no: the gateways take turns run by run on one
#   test bed (default), or each runs all its tests in a row (no: the order
#   until session 17, when a VM's drift of a third within minutes fell on
#   one gateway's runs only)
#   BENCH_COLD=yes: before every run, drop the page cache and wait
#   BENCH_COLD_S (5) seconds, so that on a VM with free page reporting each
#   run's pcap lands in pages the host must fault in again (a VM just
#   booted); without it a run reuses the pages the previous run's pcap
#   freed, and the order of the runs decides much of the TCP figures
#
# Prints a final table (also saved to build/bench/live-results.txt) with
# the ratio fishbowl / bridge+tcpdump (higher is better for rates; 1.0 means
# fishbowl forwards and records as fast as the kernel bridge with tcpdump).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
FB_BUILD=${FB_BUILD:-build}
case $FB_BUILD in /*) ;; *) FB_BUILD=$ROOT/$FB_BUILD ;; esac
FISHBOWL=$FB_BUILD/fishbowl
T=${BENCH_T:-5}
RUNS=${BENCH_RUNS:-3}
RING=${BENCH_RING_MB:-64}
LAYERS=${BENCH_LAYERS:-yes}
KNOWN=${BENCH_KNOWN:-yes}
FAST=${BENCH_FAST:-yes}
OFFLOADS=${BENCH_OFFLOADS:-on off}
MODES=${BENCH_MODES:-bridge fishbowl}
TESTS=${BENCH_TESTS:-tcp udp conn}
RESULTS=$ROOT/build/bench/live-results.txt

die() { echo "bench/live.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
for t in ip iperf3 tcpdump python3 ethtool ss; do
	command -v $t >/dev/null || die "$t is missing (scripts/deps.sh installs it)"
done
case " $MODES " in *" fishbowl "*) [ -x "$FISHBOWL" ] || die "no $FISHBOWL (make first)" ;; esac
mkdir -p "$ROOT/build/bench"

FBN_PREFIX=fbbench$$
FBN_FISHBOWL=$FISHBOWL
. "$ROOT/tests/netns/lib-netns.sh"
fbn_init || die "cannot make a work directory"
W=$FBN_WORK
PY="python3 $W/tools.py"
HP=$FBN_HP_ADDR

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# What this machine's page cache takes (every recorded byte goes through
# it): 1 GiB written into the work directory's file system, then deleted.
# On a VM whose freed memory goes back to the host (virtio-balloon free
# page reporting: /sys/module/page_reporting) fresh page-cache pages are
# faulted in from the host at a few hundred MB/s and every recorder slows
# with them: the figures are read against this line.
page_cache_line() {
	local rate rep=""
	rate=$(dd if=/dev/zero of="$W/pagecache.probe" bs=1M count=1024 2>&1 |
	    awk '/copied/ { print $(NF-1), $NF }')
	rm -f "$W/pagecache.probe"
	[ -r /sys/module/page_reporting/parameters/page_reporting_order ] &&
	    rep=", free page reporting order $(cat /sys/module/page_reporting/parameters/page_reporting_order)"
	echo "page cache: ${rate:-?} for 1 GiB written$rep"
}
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
PAGE_CACHE=$(page_cache_line)
CC=${BENCH_CC:-$(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null)}
CC_OPT=${BENCH_CC:+-C $BENCH_CC}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "nan"}'; }
calc() { awk "BEGIN { x = $1; printf(\"%.${2:-2}f\", x) }" 2>/dev/null || echo nan; }
gw_rx() {	# frames received by the gateway's two legs
	inG cat /sys/class/net/gwo/statistics/rx_packets /sys/class/net/gwh/statistics/rx_packets |
	    awk '{s += $1} END {print s}'
}

far_rx() {	# frames the two endpoints (outside o0, honeypot h0) received
	{ inO cat /sys/class/net/o0/statistics/rx_packets
	  inH cat /sys/class/net/h0/statistics/rx_packets; } | awk '{s += $1} END {print s}'
}

gwh_tx() {	# frames the gateway sent towards the honeypot
	inG cat /sys/class/net/gwh/statistics/tx_packets
}

bed_up() {
	fbn_up || die "cannot build the test bed"
	fbn_bg "$FBN_HP" iperf3 -s -p 5201 >/dev/null 2>&1
	fbn_bg "$FBN_HP" $PY accept_close 7000 "$W/accepts"
	fbn_wait_port "$FBN_HP" 5201 && fbn_wait_port "$FBN_HP" 7000 || die "servers did not start"
}

offloads() {	# on|off, on both endpoints
	local v=$1
	inO ethtool -K o0 tso $v gso $v gro $v tx $v rx $v >/dev/null 2>&1
	inH ethtool -K h0 tso $v gso $v gro $v tx $v rx $v >/dev/null 2>&1
	return 0
}

fbconf() {
	fbn_conf bench <<EOF
[control]
tcp = allow
udp = allow
icmp = allow
other = allow
rate = allow

[engine]
ring_mb = $RING
known_flows = $KNOWN
fast_path = $FAST
${BENCH_FAST_MB:+fast_path_mb = $BENCH_FAST_MB}

[layers]
enable = $LAYERS
EOF
}

# gw_start MODE / gw_stop MODE: the gateway of one measurement.  gw_stop
# sets CAP (frames in the pcap), KDROP (kernel drops the tool reports).
gw_start() {
	rm -rf "$W/cap"; mkdir -p "$W/cap"
	# BENCH_COLD=yes: every run starts from a page cache with no free
	# page the host still backs (a VM just booted): all freed, and time
	# for free page reporting to hand the memory back.
	if [ "${BENCH_COLD:-no}" = yes ]; then
		sync; echo 3 >/proc/sys/vm/drop_caches; sleep "${BENCH_COLD_S:-5}"
	fi
	RX0=$(gw_rx)
	FAR0=$(far_rx)
	if [ "$1" = bare ]; then
		fbn_bridge || die "cannot make the bridge"
	elif [ "$1" = bridge ]; then
		fbn_bridge || die "cannot make the bridge"
		ip netns exec "$FBN_GW" tcpdump -n -i br0 -s 0 -B $((RING * 2048)) -w "$W/cap/bridge.pcap" \
		    2>"$W/cap/tcpdump.err" &
		TD_PID=$!
		for _ in $(seq 1 100); do
			grep -q 'listening on' "$W/cap/tcpdump.err" && break
			sleep 0.05
		done
	else
		fbconf
		fbn_start || die "fishbowl did not start: $(tail -5 "$FBN_FB_LOG")"
	fi
	# the bridge and fishbowl need a moment before the first frame crosses
	for _ in $(seq 1 50); do
		[ "$(inO $PY ping $HP 1 0.1 0.2)" = "1 1" ] && break
	done
}
gw_stop() {
	local files lately
	sleep 0.5	# the last frames in flight reach the gateway
	FASTINFO=
	if [ "$1" = bare ]; then
		RX1=$(gw_rx) RSS=- KDROP=-
		fbn_unbridge
		files=
	elif [ "$1" = bridge ]; then
		RX1=$(gw_rx)
		RSS=$(peak_rss "$TD_PID")
		kill -INT "$TD_PID"; wait "$TD_PID" 2>/dev/null
		KDROP=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$W/cap/tcpdump.err")
		fbn_unbridge
		files="$W/cap/bridge.pcap"
	else
		KDROP=$(fbn_json 'g(s, "totals.capture.kernel_drops", "?")')
		# How the frames crossed: the kernel's fast way or fishbowl's,
		# and how often a flow was marked fast (new, or again after
		# its ring buffer filled past half and held it)
		# and how many batches of them were written behind the engine
		# (MB of them with O_DIRECT)
		FASTINFO=$(fbn_json '"%d of %d frames from outside crossed fast, %d marks, %d batches written behind (%d MB direct)" % (g(s, "totals.io.fast_frames_outside", 0), g(s, "totals.io.rx_frames_outside", 0), g(s, "totals.io.fast_marks", 0), g(s, "totals.capture.behind_batches", 0), g(s, "totals.capture.direct_bytes", 0) >> 20)')
		FBLOST=$(fbn_json 'g(s, "totals.capture.lost_frames", "?")')
		RX1=$(gw_rx)
		RSS=$(peak_rss "$FBN_FB_PID")
		fbn_stop || log "fishbowl exited non-zero: $(tail -3 "$FBN_FB_LOG")"
		# The capture's costs per MiB each way, logged at close: how
		# cold this run's page cache was (docs/performance.md, s12)
		# and which way its bytes went (behind, in line, short batches)
		lately=$(sed -n 's/^.*capture: \([0-9]* MiB written: .*\)$/\1/p' "$FBN_FB_LOG" | tail -1)
		FASTINFO="$FASTINFO${lately:+; $lately}"
		files=$(fbn_pcaps)
	fi
	# shellcheck disable=SC2086
	CAP=$([ -n "$files" ] && $PY pcap_count $files || echo 0)
	RXD=$((RX1 - RX0))
	LOST=$((RXD - CAP))
	# Every frame an endpoint received crossed the gateway: more of them
	# than the pcap holds means frames crossed unrecorded.
	FAR=$(( $(far_rx) - FAR0 ))
	UNCAP=$((FAR > CAP ? FAR - CAP : 0))
	[ "$1" = fishbowl ] && rm -rf "$FBN_DATA"
	rm -rf "$W/cap"
}
# peak_rss PID: the process's peak resident size (VmHWM), MB
peak_rss() {
	awk '/^VmHWM:/ { printf("%.1f", $2 / 1024) }' "/proc/$1/status" 2>/dev/null || echo '?'
}
# record KEY VALUE
declare -A R
record() { R[$1]=$2; }
lossrec() {	# lossrec MODE OFF TEST
	record "loss.$1.$2.$3" "$LOST/$RXD k$KDROP"
	record "rss.$1.$2.$3" "$RSS"
	record "uncap.$1.$2.$3" "$UNCAP/$FAR"
	log "   $1 offloads $2 $3: gateway rx $RXD frames, pcap $CAP, lost $LOST, kernel drops ${KDROP:-?}, endpoints received $FAR (more than the pcap holds: $UNCAP), peak RSS ${RSS:-?} MB"
}

has() { case " $TESTS " in *" $1 "*) return 0;; esac; return 1; }
declare -A VALS RVALS

run_tcp() {	# run_tcp MODE OFF I
	local mode=$1 off=$2 i=$3 j v k="$1.$2"
	gw_start "$mode"
	j=$(inO iperf3 -c $HP -p 5201 $CC_OPT -t "$T" -J 2>/dev/null)
	v=$(echo "$j" | python3 -c 'import json,sys
try:
    e = json.load(sys.stdin)["end"]
    print("%.1f %d" % (e["sum_received"]["bits_per_second"] / 1e6, e["sum_sent"]["retransmits"]))
except Exception: print("nan nan")')
	gw_stop "$mode"
	log "   $mode offloads $off tcp run $i: ${v% *} Mbit/s, ${v#* } segments retransmitted${FASTINFO:+; $FASTINFO}"
	VALS[tcp.$k]="${VALS[tcp.$k]:-} ${v% *}"
	# Segments the sender sent again: losses, or a reordering it took
	# for one (a gateway must keep a flow's frames in order).
	RVALS[tcp.$k]="${RVALS[tcp.$k]:-} ${v#* }"
	[ "$i" = "$RUNS" ] || return 0
	lossrec "$mode" "$off" tcp
	record "tcp.$k" "$(echo "${VALS[tcp.$k]}" | median)"
	record "retr.$k" "$(echo "${RVALS[tcp.$k]}" | median)"
}

run_udp() {	# run_udp MODE OFF I (one run only)
	local mode=$1 off=$2 i=$3 j v tx0 tx1
	[ "$i" = 1 ] || return 0
	gw_start "$mode"
	tx0=$(gwh_tx)
	j=$(inO iperf3 -c $HP -p 5201 -u -l 18 -b 0 -t "$T" -J 2>/dev/null)
	tx1=$(gwh_tx)
	v=$(echo "$j" | python3 -c 'import json,sys
try:
    e = json.load(sys.stdin)["end"]
    s = e["sum"]
    got = s["packets"] - s["lost_packets"]
    print("%.1f %d %d" % (got / s["seconds"] / 1e3, s["packets"], got))
except Exception as x: print("nan 0 0")')
	gw_stop "$mode"
	log "   $mode offloads $off udp: $v (kpps delivered, sent, received)"
	record "udp.$mode.$off" "${v%% *}"
	record "udpfwd.$mode.$off" "$(calc "($tx1 - $tx0) / $T / 1000" 1)"
	log "   $mode offloads $off udp: gateway forwarded $((tx1 - tx0)) frames to the honeypot"
	lossrec "$mode" "$off" udp
}

run_conn() {	# run_conn MODE OFF I
	local mode=$1 off=$2 i=$3 v k="$1.$2"
	gw_start "$mode"
	v=$(inO $PY conn_rate $HP 7000 "$T")
	gw_stop "$mode"
	log "   $mode offloads $off conn run $i: $v (connections, failures) in $T s"
	VALS[conn.$k]="${VALS[conn.$k]:-} $(calc "${v%% *} / $T" 0)"
	[ "$i" = "$RUNS" ] || return 0
	lossrec "$mode" "$off" conn
	record "conn.$k" "$(echo "${VALS[conn.$k]}" | median)"
}

# One test bed; the gateways take turns run by run (BENCH_ALTERNATE=yes,
# the default), so a drift of the machine's state during the bench (this
# VM's page cache and its host's load swing by a third within minutes:
# docs/performance.md, session 17) falls on both alike.  BENCH_ALTERNATE=no:
# each gateway's runs together, one after the other, as before.
log "test bed"
bed_up
for off in $OFFLOADS; do
	offloads "$off"
	log " offloads $off"
	for t in tcp udp conn; do
		has $t || continue
		if [ "${BENCH_ALTERNATE:-yes}" = yes ]; then
			for i in $(seq 1 "$RUNS"); do
				for mode in $MODES; do run_$t "$mode" "$off" "$i"; done
			done
		else
			for mode in $MODES; do
				for i in $(seq 1 "$RUNS"); do run_$t "$mode" "$off" "$i"; done
			done
		fi
	done
done
fbn_down

ratio() {
	case "$1$2" in *nan*|*"?"*) echo "-"; return;; esac
	[ -n "$1" ] && [ -n "$2" ] || { echo "-"; return; }
	calc "$2 / ($1 == 0 ? 1 : $1)"
}
{
	echo "fishbowl live benchmark: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs ($CPU_MODEL), kernel $(uname -r)"
	echo "$PAGE_CACHE (before the runs)"
	echo "TCP congestion control: ${CC:-?}${BENCH_CC:+ (BENCH_CC)}"
	echo "BENCH_T=$T BENCH_RUNS=$RUNS BENCH_RING_MB=$RING, fishbowl $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
	printf '%-9s %-38s %22s %22s %8s\n' offloads metric bridge+tcpdump fishbowl ratio
	for off in $OFFLOADS; do
		for m in "tcp:TCP throughput, Mbit/s (median)" "udp:64 B UDP delivered, kpps" "udpfwd:64 B UDP forwarded by gateway, kpps" "conn:new inbound TCP conn/s"; do
			k=${m%%:*}
			b=${R[$k.bridge.$off]:-nan} f=${R[$k.fishbowl.$off]:-nan}
			printf '%-9s %-38s %22s %22s %8s\n' "$off" "${m#*:}" "$b" "$f" "$(ratio "$b" "$f")"
		done
		printf '%-9s %-38s %22s %22s %8s\n' "$off" "TCP segments retransmitted (median)" \
		    "${R[retr.bridge.$off]:--}" "${R[retr.fishbowl.$off]:--}" ""
		for k in tcp udp conn; do
			printf '%-9s %-38s %22s %22s %8s\n' "$off" "lost/rx frames, $k (kdrops)" \
			    "${R[loss.bridge.$off.$k]:--}" "${R[loss.fishbowl.$off.$k]:--}" ""
		done
		for k in tcp udp conn; do
			printf '%-9s %-38s %22s %22s %8s\n' "$off" "crossed unrecorded/endpoint rx, $k" \
			    "${R[uncap.bridge.$off.$k]:--}" "${R[uncap.fishbowl.$off.$k]:--}" ""
		done
		for k in tcp udp conn; do
			printf '%-9s %-38s %22s %22s %8s\n' "$off" "peak RSS MB, $k (tcpdump; fishbowl)" \
			    "${R[rss.bridge.$off.$k]:--}" "${R[rss.fishbowl.$off.$k]:--}" ""
		done
		case " $MODES " in *" bare "*)
		for m in "tcp:TCP Mbit/s: bridge, no capture" "udp:64 B UDP kpps: bridge, no capture" "conn:conn/s: bridge, no capture"; do
			k=${m%%:*}
			b=${R[$k.bare.$off]:-nan} f=${R[$k.fishbowl.$off]:-nan}
			printf '%-9s %-38s %22s %22s %8s\n' "$off" "${m#*:}" "$b" "$f" "$(ratio "$b" "$f")"
		done ;;
		esac
	done
} | tee "$RESULTS"
