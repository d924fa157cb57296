#!/bin/bash
# bench/replay.sh: how fast `fishbowl replay` pushes a large capture through
# the engine (decode, flows, data control, pcap and JSON-lines output),
# against `tcpdump -r IN -w OUT` copying the same file -- the floor for
# "read a pcap, write a pcap" -- in the same run, on the same warm file.
#
# The capture (about BENCH_MB megabytes, default 1000) comes from
# tests/gen/mkpcap.py's "bench" scenario: per simulated second, 200 short
# inbound TCP connections with payload, 20 outbound ones (most over the
# limit), 4 bulk uploads of 200 full-size segments, 300 small UDP flows,
# 25 pings and a 200-port SYN scan slice, over 20 honeypots.  It is cached
# under build/bench/ (keyed by size and generator checksum).
#
#   BENCH_MB=1000 BENCH_RUNS=3 FB_BUILD=build bench/replay.sh
#
# Prints one summary line per tool, the ratio fishbowl/tcpdump of the best
# runs and that of the medians (lower is better; 1.0 means replay costs no
# more than a plain pcap copy).
#
# Each timed run (fishbowl's and tcpdump's alike) follows a `sync`, so the
# write-back of the run before (fishbowl writes 1.3 GB) does not compete
# with it, and the two tools take turns going first (odd rounds fishbowl,
# even rounds tcpdump).  The capture may be a symbolic link (sizes are of
# the file it names).
#
# BENCH_CALLGRIND=1 also counts instructions (valgrind --tool=callgrind,
# repeatable on a busy machine) of both on a BENCH_CALLGRIND_MB (default 50)
# capture of the same generator, and prints that ratio too.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${FB_BUILD:-build}
MB=${BENCH_MB:-1000}
RUNS=${BENCH_RUNS:-3}
LIMIT=${BENCH_TIMEOUT:-600}	# seconds a replay may take before it counts as hung
case $BUILD in /*) FISHBOWL="$BUILD/fishbowl" ;; *) FISHBOWL="$ROOT/$BUILD/fishbowl" ;; esac
DIR="$ROOT/build/bench"
mkdir -p "$DIR"

now() { date +%s.%N; }
calc() { awk "BEGIN { x = $1; printf(\"%.${2:-3}f\", x) }"; }

[ -x "$FISHBOWL" ] || { echo "bench/replay.sh: no $FISHBOWL (make first)" >&2; exit 1; }
command -v tcpdump >/dev/null || { echo "bench/replay.sh: tcpdump is needed" >&2; exit 1; }

sum=$(sha256sum tests/gen/mkpcap.py | cut -c1-12)
IN="$DIR/replay-${MB}MB-$sum.pcap"
if [ ! -s "$IN" ]; then
	rm -f "$DIR"/replay-"${MB}"MB-*.pcap
	echo "generating $IN ..."
	t0=$(date +%s.%N)
	python3 tests/gen/mkpcap.py bench "$IN.tmp" --arg "$MB"
	mv "$IN.tmp" "$IN"
	echo "generated in $(calc "$(date +%s.%N) - $t0") s"
fi
size=$(stat -L -c %s "$IN")
count_frames() {	# frames in classic pcap files, by skipping from header to header
	python3 -c '
import struct, sys
n = 0
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        e = "<" if f.read(4) in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        f.seek(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            f.seek(struct.unpack(e + "I", h[8:12])[0], 1)
            n += 1
print(n)' "$@"
}
frames=$(count_frames "$IN")

cat >"$DIR/replay.conf" <<EOF
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 5/hour
udp = 20/hour
icmp = 5/hour
rate = 10mbit

[capture]
dir = $DIR/unused

# The gateway's outputs only (pcap, conn.jsonl, alerts.jsonl): the capture
# layers are measured on their own.
[layers]
enable = no
EOF

# Warm the page cache so both tools read from memory.
cat "$IN" >/dev/null

best_fb=""
best_td=""
all_fb=""
all_td=""
run_fishbowl() {	# run_fishbowl -> seconds on stdout
	local t0 t1 rc=0
	rm -rf "$DIR/out-fb"
	sync
	t0=$(now)
	timeout "$LIMIT" "$FISHBOWL" replay -c "$DIR/replay.conf" -r "$IN" -o "$DIR/out-fb" -v \
	    >"$DIR/replay.status" 2>&1 || rc=$?
	t1=$(now)
	if [ $rc -ne 0 ]; then
		echo "bench/replay.sh: fishbowl replay failed (exit $rc$([ $rc -eq 124 ] && echo ", hung: over ${LIMIT} s")):" >&2
		tail -5 "$DIR/replay.status" >&2
		rm -rf "$DIR/out-fb"
		return 1
	fi
	calc "$t1 - $t0"
}
run_tcpdump() {
	local t0 t1
	rm -f "$DIR/out-td.pcap"
	sync
	t0=$(now)
	tcpdump -n -r "$IN" -w "$DIR/out-td.pcap" 2>/dev/null
	t1=$(now)
	calc "$t1 - $t0"
}
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then
		fb=$(run_fishbowl) || exit 1
		td=$(run_tcpdump)
		first=fishbowl
	else
		td=$(run_tcpdump)
		fb=$(run_fishbowl) || exit 1
		first=tcpdump
	fi
	echo "run $r ($first first): fishbowl replay $fb s, tcpdump -r -w $td s"
	all_fb="$all_fb $fb"
	all_td="$all_td $td"
	if [ -z "$best_fb" ] || [ "$(calc "$fb < $best_fb" 0)" = 1 ]; then best_fb=$fb; fi
	if [ -z "$best_td" ] || [ "$(calc "$td < $best_td" 0)" = 1 ]; then best_td=$td; fi
done

# Sanity: fishbowl wrote every frame.
out_frames=$(count_frames "$DIR"/out-fb/*/packets/*.pcap)
conns=$(cat "$DIR"/out-fb/*/conn.jsonl 2>/dev/null | wc -l)
alerts=$(cat "$DIR"/out-fb/*/alerts.jsonl 2>/dev/null | wc -l)
rm -rf "$DIR/out-fb" "$DIR/out-td.pcap"

rate() {	# rate SECONDS -> "X kpps, Y MB/s"
	echo "$(calc "$frames / $1 / 1000" 0) kpps, $(calc "$size / $1 / 1000000" 0) MB/s"
}
echo
echo "capture:  $IN"
echo "          $frames frames, $((size / 1000000)) MB"
echo "fishbowl: $best_fb s ($(rate "$best_fb")); $out_frames frames captured, $conns connections, $alerts alerts"
echo "tcpdump:  $best_td s ($(rate "$best_td"))"
echo "ratio:    $(calc "$best_fb / $best_td" 2) (fishbowl replay / tcpdump -r -w, best of $RUNS)"
median() {	# median N... (single runs swing on a shared machine: say both)
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf("%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# shellcheck disable=SC2086
med_fb=$(median $all_fb) med_td=$(median $all_td)
echo "median:   fishbowl $med_fb s, tcpdump $med_td s: $(calc "$med_fb / $med_td" 2)"
if [ "$out_frames" != "$frames" ]; then
	echo "WARNING: fishbowl captured $out_frames frames of $frames" >&2
	exit 1
fi

# ---------------------------------------------------------------------------
# Instruction counts on a small capture (BENCH_CALLGRIND=1).
if [ "${BENCH_CALLGRIND:-0}" = 1 ]; then
	CMB=${BENCH_CALLGRIND_MB:-50}
	CIN="$DIR/replay-${CMB}MB-$sum.pcap"
	[ -s "$CIN" ] || python3 tests/gen/mkpcap.py bench "$CIN" --arg "$CMB"
	ir() {	# ir OUTFILE COMMAND...: instructions the command ran
		valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$1" "${@:2}" \
		    >/dev/null 2>"$1.log" || { echo "bench/replay.sh: callgrind failed" >&2; exit 1; }
		sed -n 's/^==[0-9]*== Collected : *//p' "$1.log"
	}
	rm -rf "$DIR/out-cg"
	ir_fb=$(ir "$DIR/callgrind.fishbowl" "$FISHBOWL" replay -c "$DIR/replay.conf" -r "$CIN" -o "$DIR/out-cg")
	# as root tcpdump -w switches to its own user, who cannot write the counts
	zroot=()
	[ "$(id -u)" = 0 ] && zroot=(-Z root)
	ir_td=$(ir "$DIR/callgrind.tcpdump" tcpdump "${zroot[@]}" -n -r "$CIN" -w "$DIR/out-cg.pcap")
	rm -rf "$DIR/out-cg" "$DIR/out-cg.pcap"
	echo
	echo "callgrind: $CIN ($(($(stat -L -c %s "$CIN") / 1000000)) MB)"
	echo "fishbowl: $ir_fb instructions (callgrind_annotate $DIR/callgrind.fishbowl)"
	echo "tcpdump:  $ir_td instructions"
	echo "ratio:    $(calc "$ir_fb / $ir_td" 2) (instructions, fishbowl replay / tcpdump -r -w)"
fi

# ---------------------------------------------------------------------------
# Every capture layer on (reassembly, transcripts, HTTP/FTP/IRC, carving)
# against tcpflow -r (stream reassembly into one file per flow direction) on
# a smaller capture of the same generator (BENCH_LAYERS_MB, default 100):
# both create one file per connection, and on the full capture that is
# hundreds of thousands of files whatever the tool.
#
# Most of either tool's time is the kernel creating files, and that cost
# swings with what was deleted just before: ext4 without a journal skips
# inodes freed in the last seconds when it allocates one, so a run right
# after `rm -rf` of the previous run's tens of thousands of files pays for
# a scan over them.  Each run therefore writes into fresh directories that
# are removed only after the last run, the two tools take turns going first,
# and the summary gives the best and the median of BENCH_LAYERS_RUNS runs
# (default 7) with user and system CPU.  BENCH_STRACE=1 adds one run of
# each under `strace -c -f` (system calls made; not timed).
LMB=${BENCH_LAYERS_MB:-100}
LRUNS=${BENCH_LAYERS_RUNS:-7}
if ! command -v tcpflow >/dev/null; then
	echo "layers:   skipped (tcpflow is not installed; scripts/deps.sh installs it)"
	exit 0
fi
LIN="$DIR/replay-${LMB}MB-$sum.pcap"
[ -s "$LIN" ] || python3 tests/gen/mkpcap.py bench "$LIN" --arg "$LMB"
sed '/^\[layers\]/,$d' "$DIR/replay.conf" >"$DIR/replay-layers.conf"
cat "$LIN" >/dev/null
LOUT="$DIR/layers-runs"
rm -rf "$LOUT"
mkdir -p "$LOUT"
TIMEFORMAT='%R %U %S'
run_fb() {	# run_fb OUTDIR -> "real user sys" on stdout
	{ time timeout "$LIMIT" "$FISHBOWL" replay -c "$DIR/replay-layers.conf" -r "$LIN" \
	    -o "$1" >/dev/null 2>&1 ; } 2>&1 || {
		echo "bench/replay.sh: fishbowl replay with layers failed" >&2; exit 1; }
}
run_tf() {
	mkdir -p "$1"
	{ time tcpflow -r "$LIN" -o "$1" >/dev/null 2>&1 ; } 2>&1
}
: >"$LOUT/times"
for r in $(seq "$LRUNS"); do
	if [ $((r % 2)) = 1 ]; then
		l=$(run_fb "$LOUT/fb-$r") || exit 1
		f=$(run_tf "$LOUT/tf-$r")
	else
		f=$(run_tf "$LOUT/tf-$r")
		l=$(run_fb "$LOUT/fb-$r") || exit 1
	fi
	set -- $l $f
	echo "$1 $4" >>"$LOUT/times"
	echo "layers run $r ($([ $((r % 2)) = 1 ] && echo "fishbowl first" || echo "tcpflow first")):" \
	    "fishbowl replay (all layers) $1 s (user $2, sys $3), tcpflow -r $4 s (user $5, sys $6)"
done
stat_of() {	# stat_of COLUMN best|median
	awk -v c="$1" '{ print $c }' "$LOUT/times" | sort -g |
	    awk -v w="$2" '{ v[NR] = $1 } END { if (w == "best") print v[1];
		else if (NR % 2) print v[(NR + 1) / 2]; else printf("%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
best_l=$(stat_of 1 best) best_f=$(stat_of 2 best)
med_l=$(stat_of 1 median) med_f=$(stat_of 2 median)
sessions=$(cat "$LOUT"/fb-1/*/sessions.jsonl 2>/dev/null | wc -l)
flows=$(find "$LOUT/tf-1" -type f | wc -l)
echo
echo "capture:  $LIN, $(($(stat -L -c %s "$LIN") / 1000000)) MB"
echo "fishbowl: best $best_l s, median $med_l s, all layers on ($sessions transcripts)"
echo "tcpflow:  best $best_f s, median $med_f s ($flows files)"
echo "ratio:    $(calc "$best_l / $best_f" 2) best, $(calc "$med_l / $med_f" 2) median (fishbowl replay with every layer / tcpflow -r, $LRUNS runs)"
if [ "${BENCH_STRACE:-0}" = 1 ] && command -v strace >/dev/null; then
	strace -c -f -o "$LOUT/strace-fb" "$FISHBOWL" replay -c "$DIR/replay-layers.conf" \
	    -r "$LIN" -o "$LOUT/fb-strace" >/dev/null 2>&1
	mkdir -p "$LOUT/tf-strace"
	strace -c -f -o "$LOUT/strace-tf" tcpflow -r "$LIN" -o "$LOUT/tf-strace" >/dev/null 2>&1
	sys_total() { awk '$NF == "total" { print $4 }' "$1"; }
	echo "syscalls: fishbowl $(sys_total "$LOUT/strace-fb"), tcpflow $(sys_total "$LOUT/strace-tf") (strace -c -f, one run each)"
fi
rm -rf "$LOUT"
