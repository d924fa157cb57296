#!/bin/bash
# The documents name what the program emits: every event type passed to
# emit() in src/ is listed in docs/contracts.md and in the type row of
# docs/formats.md, every end_reason of src/flow.c in both, and nothing is
# documented as an end_reason that the program never writes.
. "$(dirname "$0")/../gen/replaylib.sh"

case $FB_BUILD in
*-san) skip "documents" "checked on the normal build only"; done_testing; exit ;;
esac
src="$FB_ROOT/src" contracts="$FB_ROOT/docs/contracts.md" formats="$FB_ROOT/docs/formats.md"

types=$(grep -ho 'emit([^"]*"[a-z-]*"' "$src"/*.c | sed 's/.*"\([a-z-]*\)"/\1/' | sort -u)
check_ge "event types found in src/" 10 "$(echo "$types" | wc -w)"
type_row=$(grep '^| `type` ' "$formats")
for t in $types; do
	if grep -Eq "(^|[ (,])$t \(" "$contracts"; then ok "contracts.md describes event type $t"
	else not_ok "contracts.md describes event type $t"; fi
	case $type_row in *"\`$t\`"*) ok "formats.md lists event type $t" ;;
	*) not_ok "formats.md lists event type $t" "$type_row" ;; esac
done

ends=$(sed -n '/^end_name(/,/^}/p' "$src/flow.c" | sed -n 's/.*return "\([a-z]*\)";/\1/p' | grep -v unknown | sort)
check_eq "end reasons in src/flow.c" "closed evicted shutdown timeout" "$(echo $ends)"
doc_ends=$(sed -n 's/.*end_reason (\([a-z|]*\)).*/\1/p' "$contracts" | tr '|' '\n' | sort)
check_eq "contracts.md end_reason list = the program's" "$(echo $ends)" "$(echo $doc_ends)"
row=$(grep '^| `end_reason` ' "$formats")
fmt_ends=$(echo "$row" | grep -o '`[a-z]*`' | tr -d '`' | grep -vx -e end_reason -e drop -e verdict | sort -u)
check_eq "formats.md end_reason row = the program's" "$(echo $ends)" "$(echo $fmt_ends)"
done_testing
