#!/bin/bash
# Runs every libFuzzer target in DIR for SECONDS each, from a fresh corpus
# seeded by fuzz/corpus/NAME/ when present.  Prints TAP (one test a target):
# a crash, leak or sanitizer report is a failure, and its reproducer is kept
# under build/fuzz-crashes/.
set -u
dir=${1:-build/fuzz}
secs=${2:-20}
n=0 failed=0
mkdir -p build/fuzz-crashes
for t in "$dir"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	n=$((n + 1))
	work=$(mktemp -d)
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/" 2>/dev/null
	if "$t" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="build/fuzz-crashes/$name-" "$work" >"build/fuzz-crashes/$name.log" 2>&1; then
		runs=$(grep -oE 'Done [0-9]+ runs' "build/fuzz-crashes/$name.log" | grep -oE '[0-9]+')
		echo "ok $n - $name: ${runs:-?} runs in ${secs}s without a crash"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name crashed (see build/fuzz-crashes/$name.log)"
		grep -E 'ERROR|SUMMARY|artifact' "build/fuzz-crashes/$name.log" | head -5 | sed 's/^/# /'
	fi
	rm -rf "$work"
done
echo "1..$n"
[ $failed -eq 0 ]
