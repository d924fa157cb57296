#!/bin/bash
# bench/profile.sh: where a live fishbowl's time goes.  Builds the test bed
# of tests/netns/lib-netns.sh, starts fishbowl as its gateway, runs one load
# from the outside namespace and records the whole machine with
# `perf record -a -g` in the middle of it; prints the CPU split by process
# and fishbowl's top symbols.  For finding levers, not for figures: those
# come from bench/live.sh.
#
#   BENCH_LOAD=tcp|udp|conn BENCH_OFFLOADS=off BENCH_LAYERS=yes BENCH_FAST=yes \
#   BENCH_T=10 FB_BUILD=build bench/profile.sh [PERF_DATA]
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
FB_BUILD=${FB_BUILD:-build}
case $FB_BUILD in /*) ;; *) FB_BUILD=$ROOT/$FB_BUILD ;; esac
LOAD=${BENCH_LOAD:-tcp}
OFF=${BENCH_OFFLOADS:-off}
LAYERS=${BENCH_LAYERS:-yes}
FAST=${BENCH_FAST:-yes}
T=${BENCH_T:-10}
DATA=${1:-$ROOT/build/bench/perf-$LOAD-$OFF.data}
die() { echo "bench/profile.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
command -v perf >/dev/null || die "perf is missing (linux-perf)"
[ -x "$FB_BUILD/fishbowl" ] || die "no $FB_BUILD/fishbowl (make first)"
mkdir -p "$(dirname "$DATA")"

FBN_PREFIX=fbprof$$
FBN_FISHBOWL=$FB_BUILD/fishbowl
. "$ROOT/tests/netns/lib-netns.sh"
fbn_init || die "cannot make a work directory"
PY="python3 $FBN_WORK/tools.py"
HP=$FBN_HP_ADDR
fbn_up || die "cannot build the test bed"
fbn_bg "$FBN_HP" iperf3 -s -p 5201 >/dev/null 2>&1
fbn_bg "$FBN_HP" $PY accept_close 7000 "$FBN_WORK/accepts"
fbn_wait_port "$FBN_HP" 5201 && fbn_wait_port "$FBN_HP" 7000 || die "servers did not start"
for d in "inO o0" "inH h0"; do
	set -- $d
	$1 ethtool -K $2 tso $OFF gso $OFF gro $OFF tx $OFF rx $OFF >/dev/null 2>&1
done
fbn_conf prof <<CONF
[control]
tcp = allow
udp = allow
icmp = allow
other = allow
rate = allow

[engine]
ring_mb = ${BENCH_RING_MB:-16}
fast_path = $FAST
${BENCH_FAST_MB:+fast_path_mb = $BENCH_FAST_MB}

[layers]
enable = $LAYERS
CONF
fbn_start || die "fishbowl did not start"
for _ in $(seq 1 50); do [ "$(inO $PY ping $HP 1 0.1 0.2)" = "1 1" ] && break; done

case $LOAD in
tcp)	inO iperf3 -c $HP -p 5201 -t "$T" >"$FBN_WORK/load.out" 2>&1 & ;;
udp)	inO iperf3 -c $HP -p 5201 -u -l 18 -b 0 -t "$T" >"$FBN_WORK/load.out" 2>&1 & ;;
conn)	inO $PY conn_rate $HP 7000 "$T" >"$FBN_WORK/load.out" 2>&1 & ;;
*)	die "BENCH_LOAD: tcp, udp or conn" ;;
esac
LOAD_PID=$!
cpu() { awk '{print $14 + $15}' /proc/$FBN_FB_PID/stat; }	# utime + stime, ticks
frames() { fbn_json 'g(s, "totals.forwarded.frames", 0) + g(s, "totals.dropped.frames", 0)'; }
# per thread (the main thread, and the sender once a big batch started it)
threads() { for t in /proc/$FBN_FB_PID/task/*; do awk '{print $1, $14 + $15}' "$t/stat"; done; }
C0=$(cpu); F0=$(frames); T0=$(threads)
if [ -n "${BENCH_NOPERF:-}" ]; then sleep $((T - 1)); else
perf record -a -g -o "$DATA" -- sleep $((T - 4)) >/dev/null 2>&1; fi
C1=$(cpu); F1=$(frames); T1=$(threads)
wait $LOAD_PID
echo "== fishbowl CPU: $(( (C1 - C0) * 10 )) ms for $((F1 - F0)) frames:" \
    "$(awk -v c=$((C1 - C0)) -v f=$((F1 - F0)) -v hz=$(getconf CLK_TCK) 'BEGIN { printf("%.2f", f ? c / hz * 1e6 / f : 0) }') us per frame"
echo "== fishbowl CPU by thread (ms): $(echo "$T0
$T1" | awk -v hz=$(getconf CLK_TCK) '{ if ($1 in a) printf("%s%s %d", n++ ? ", " : "", $1 == main ? "main" : "thread " $1, ($2 - a[$1]) * 1000 / hz); else { a[$1] = $2; if (!main) main = $1 } }')"
echo "== load ($LOAD, offloads $OFF, layers $LAYERS, fast path $FAST)"
tail -4 "$FBN_WORK/load.out"
echo "== fishbowl status"
fbn_status | sed -n '1,40p'
echo "fast path marks (new and again): $(fbn_json 'g(s, "totals.io.fast_marks", 0)')"
echo "batches written behind: $(fbn_json 'g(s, "totals.capture.behind_batches", 0)'), bytes with O_DIRECT: $(fbn_json 'g(s, "totals.capture.direct_bytes", 0)')"
fbn_stop
echo "== CPU by process (perf, whole machine, 2 cores = 200 %)"
perf report -i "$DATA" --no-children -g none --sort comm 2>/dev/null | grep '%' | head -8
echo "== fishbowl's top symbols (percent of the whole machine's samples)"
# Sorted by comm too: with --sort dso,sym alone, this perf's --comm filter
# let other processes' samples of a symbol into fishbowl's line (the
# senders' copies showed up as fishbowl's).
perf report -i "$DATA" --no-children -g none --comm fishbowl --sort comm,dso,sym 2>/dev/null |
    grep '%' | head -${BENCH_TOP:-30}
echo "(perf data: $DATA)"
