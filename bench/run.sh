#!/bin/bash
# bench/run.sh: every benchmark (make bench).  bench/live.sh first (fishbowl
# as a live gateway against a Linux bridge with tcpdump), bench/flood.sh
# (floods: containment, memory bound, rate cap), then bench/replay.sh
# (offline replay against tcpdump -r -w) when it exists.  Figures and how they
# were measured: docs/performance.md.
set -u
cd "$(dirname "$0")/.." || exit 1
rc=0
echo "== bench/live.sh"
bash bench/live.sh || rc=1
echo "== bench/flood.sh"; bash bench/flood.sh || rc=1
if [ -f bench/replay.sh ]; then
	echo "== bench/replay.sh"
	bash bench/replay.sh || rc=1
fi
exit $rc
