#!/bin/bash
# The test runner behind `make check`.  Runs every test program of the chosen
# suites against each build and counts TAP results ("ok", "not ok", "# SKIP").
# A program that dies without printing its plan counts as one failure.
# Prints the skip count, then ends with the line "N passed, N failed".
#   FB_SUITES  suites to run (default: unit replay netns fuzz)
#   FB_BUILDS  build dirs (default: "build build-san"; netns runs on the first only)
set -u
cd "$(dirname "$0")/.."
SUITES=${FB_SUITES:-unit replay netns fuzz}
BUILDS=${FB_BUILDS:-build build-san}
LOGDIR=${FB_LOGDIR:-build/test-logs}
mkdir -p "$LOGDIR"
pass=0 fail=0 skip=0
failed_names=()

run_one() {	# build name cmd...
	local build=$1 name=$2; shift 2
	local log="$LOGDIR/$(basename "$build")-$name.log"
	mkdir -p "$(dirname "$log")"
	local t0=$SECONDS
	FB_BUILD="$build" CMOCKA_MESSAGE_OUTPUT=TAP timeout "${FB_TIMEOUT:-600}" "$@" >"$log" 2>&1
	local rc=$?
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
	s=$(grep -cE '^ok [0-9]+.*# ?SKIP' "$log" | head -1)
	f=$(grep -cE '^not ok [0-9]+' "$log" | head -1)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	printf '%-8s %-40s %3d passed %3d failed %3d skipped (%ds)\n' \
	    "$(basename "$build")" "$name" "$p" "$f" "$s" $((SECONDS - t0))
	if [ "$f" -gt 0 ]; then
		failed_names+=("$(basename "$build")/$name")
		grep -E '^not ok|^# ' "$log" | head -40 | sed 's/^/    /'
		echo "    (full log: $log)"
	fi
}

first=1
for build in $BUILDS; do
	for suite in $SUITES; do
		case $suite in
		unit)
			for t in "$build"/tests/test_*; do
				[ -x "$t" ] || continue
				run_one "$build" "unit/$(basename "$t")" "$t"
			done ;;
		replay|netns|fuzz)
			# netns and fuzz run once, on the first (normal) build
			[ "$suite" != replay ] && [ $first -eq 0 ] && continue
			for t in tests/"$suite"/*.sh; do
				[ -f "$t" ] || continue
				run_one "$build" "$suite/$(basename "$t" .sh)" bash "$t"
			done ;;
		esac
	done
	first=0
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$skip skipped (see the # SKIP lines in $LOGDIR for why)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
