#!/bin/bash
# The rate cap: rate = 800kbit (100 kB/s) per honeypot, and one allowed UDP
# flow sending about 1 MB/s (1000 frames of 1042 bytes a second).  Over a
# 10 s flood about 1 MB may cross (5%, plus at most one second of burst);
# over 20 s 1 MB more (the burst cancels out); one "rate" alert per episode.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

cfg=$(conf rate <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
udp = 5/hour
rate = 800kbit
EOF_
)
FRAME=1042
fwd_bytes() {	# bytes forwarded: from the status, else from the conn record
	local b
	b=$(sed -n 's/^forwarded: *[0-9]* frames, \([0-9]*\) bytes.*/\1/p' "$WORK/$1.log" | head -1)
	if [ -z "$b" ]; then
		b=$(q "$1" "sum(c['pkts_orig'] - c['dropped_orig'] for c in C) * $FRAME")
	fi
	echo "$b"
}
for s in 10 20; do
	gen rate "$WORK/r$s.pcap" --arg $s
	replay r$s "$cfg" "$WORK/r$s.pcap"
	check_eq "$s s flood: one flow, forwarded (within-limit)" "forward within-limit" \
	    "$(q r$s 'rows(C, "verdict", "reason")')"
	check_eq "$s s flood: exactly one rate alert, MEDIUM" "1 medium" \
	    "$(q r$s '"%d %s" % (n(A, type="rate"), sel(A, type="rate")[0]["prio"] if sel(A, type="rate") else "-")')"
	check_eq "$s s flood: rate alert names the honeypot" "10.0.0.5" \
	    "$(q r$s 'sel(A, type="rate")[0].get("honeypot") if sel(A, type="rate") else "-"')"
done
b10=$(fwd_bytes r10); b20=$(fwd_bytes r20)
echo "# forwarded bytes: 10 s $b10, 20 s $b20"
check "10 s: forwarded >= 95% of 1 MB" [ "${b10:-0}" -ge 950000 ]
check "10 s: forwarded <= 105% of 1 MB + one second of burst" [ "${b10:-99999999}" -le $((1050000 + 100000 + FRAME)) ]
d=$(( ${b20:-0} - ${b10:-0} ))
check "20 s - 10 s: 1 MB more, within 5%" [ "$d" -ge 950000 -a "$d" -le 1050000 ]
dr=$(status_num r10 dropped frames); fw=$(status_num r10 forwarded frames)
check_eq "status: frames dropped + forwarded = 10000" 10000 $(( ${dr:-0} + ${fw:-0} ))
check_eq "rate drops counted with reason rate" "${dr:-none}" \
    "$(sed -n 's/^ *rate  *\([0-9][0-9]*\)$/\1/p' "$WORK/r10.log" | head -1)"

# Only a frame that would leave spends the honeypot's bytes: 10 000 no-state
# TCP segments (10.5 MB, a flood's evicted flows) between the frames of a
# UDP flow inside the cap (83 kB/s): all 800 UDP frames cross.
gen rate_junk "$WORK/rj.pcap"
replay rj "$cfg" "$WORK/rj.pcap"
check_eq "junk: the UDP flow forwarded whole (800 of 800)" "udp 800 0" \
    "$(q rj 'rows(sel(C, proto="udp"), "proto", "pkts_orig", "dropped_orig")')"
check_eq "junk: no rate drop, no rate alert" "0 0" \
    "$(sed -n 's/^ *rate  *\([0-9][0-9]*\)$/\1/p' "$WORK/rj.log" | head -1 | grep . || echo 0) $(q rj 'n(A, type="rate")')"
check_eq "junk: the 10 000 segments dropped as no-state" 10000 \
    "$(sed -n 's/^ *no-state  *\([0-9][0-9]*\)$/\1/p' "$WORK/rj.log" | head -1)"
done_testing
