# Shared helpers for shell tests (replay and netns suites).  Each test prints
# TAP: "ok N - text", "not ok N - text", "ok N # SKIP why"; tests/run.sh counts.
set -u
FB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FB_BUILD=${FB_BUILD:-build}
case $FB_BUILD in /*) ;; *) FB_BUILD="$FB_ROOT/$FB_BUILD" ;; esac
FISHBOWL="$FB_BUILD/fishbowl"
TESTDATA=${FB_TESTDATA:-$FB_ROOT/../shared/testdata}
_tap_n=0
_tap_fail=0

ok() {		# ok "description"
	_tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"
}
not_ok() {	# not_ok "description" ["diagnostic"]
	_tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $1"
	[ $# -gt 1 ] && printf '# %s\n' "$2" | head -20
	return 0
}
skip() {	# skip "description" "why"
	_tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP $2"
}
check() {	# check "description" command...   (ok if the command succeeds)
	local d=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d" "command failed: $*"; fi
}
check_eq() {	# check_eq "description" expected actual
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected '$2', got '$3'"; fi
}
check_ge() {	# check_ge "description" min actual
	if [ "$3" -ge "$2" ] 2>/dev/null; then ok "$1"; else not_ok "$1" "expected >= $2, got '$3'"; fi
}
done_testing() {
	echo "1..$_tap_n"
	[ $_tap_fail -eq 0 ]
}
