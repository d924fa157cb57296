# Helpers for the replay suite (tests/replay/*.sh), on top of tests/lib.sh.
#   gen SCENARIO OUT.pcap [mkpcap options]    a capture from tests/gen/mkpcap.py
#   conf NAME <<EOF ... EOF                  writes $WORK/NAME.conf, prints its path
#   replay NAME CONF PCAP                    fishbowl replay -v into $WORK/NAME/;
#                                            one test "replay NAME exits 0"
#   q NAME 'EXPR'                            tests/gen/q.py on $WORK/NAME
#   need_fishbowl                            a failed test and exit if not built
# Work files live in a temporary directory removed on exit (FB_KEEP=1 keeps it).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

GEN_DIR="$FB_ROOT/tests/gen"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fb-replay.XXXXXX")
if [ "${FB_KEEP:-0}" = 1 ]; then
	echo "# work files in $WORK"
else
	trap 'rm -rf "$WORK"' EXIT
fi

need_fishbowl() {
	if [ ! -x "$FISHBOWL" ]; then
		not_ok "fishbowl is built" "no executable $FISHBOWL"
		done_testing
		exit 1
	fi
}

gen() {		# gen SCENARIO OUT [options]
	local s=$1 out=$2; shift 2
	python3 "$GEN_DIR/mkpcap.py" "$s" "$out" "$@" 2>/dev/null
}

conf() {	# conf NAME < body
	local f="$WORK/$1.conf"
	cat >"$f"
	printf '\n[capture]\ndir = %s/unused-capture-dir\n' "$WORK" >>"$f"
	echo "$f"
}

replay() {	# replay NAME CONF PCAP
	local name=$1 cfg=$2 pcap=$3 rc
	rm -rf "${WORK:?}/$name"
	"$FISHBOWL" replay -c "$cfg" -r "$pcap" -o "$WORK/$name" -v \
	    >"$WORK/$name.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "replay $name exits 0"
	else
		not_ok "replay $name exits 0" "exit $rc: $(tail -5 "$WORK/$name.log")"
	fi
	return $rc
}

q() {		# q NAME EXPR
	python3 "$GEN_DIR/q.py" "$WORK/$1" "$2" 2>&1
}

# The figure after "WORD:" in the final status (replay -v), e.g.
# status_num NAME 'dropped' frames -> N of "dropped:   N frames, ...".
status_num() {	# status_num NAME LABEL UNIT
	sed -n "s/^$2: *\([0-9][0-9]*\) $3.*/\1/p" "$WORK/$1.log" | head -1
}

# Frames in a pcap as tcpdump counts them.
tcpdump_count() {
	local n=0 f
	for f in "$@"; do
		n=$((n + $(tcpdump -n -r "$f" 2>/dev/null | wc -l)))
	done
	echo $n
}
