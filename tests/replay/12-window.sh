#!/bin/bash
# The limit is an exact sliding window: tcp = 2/minute and connections at
# 0, 10, 20, 59.999, 60, 61, 65, 70, 71 and 131 s.  A connection is allowed
# when fewer than 2 allowed ones are less than 60 s old; one exactly 60 s old
# has left the window (the span is [t-60 s, t) -- a period-long span never
# holds more than 2).  Hence:
#   0 F  10 F  20 D  59.999 D  60 F (0 left)  61 D  65 D  70 F (10 left)
#   71 D  131 F (60 and 70 both left)
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen window "$WORK/in.pcap"
cfg=$(conf window <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 2/minute
EOF_
)
replay window "$cfg" "$WORK/in.pcap"
check_eq "10 conn records" 10 "$(q window 'len(C)')"
check_eq "verdicts follow the exact sliding window" \
    "9000 forward;9001 forward;9002 drop;9003 drop;9004 forward;9005 drop;9006 drop;9007 forward;9008 drop;9009 forward" \
    "$(q window 'rows(sorted(C, key=lambda c: c["dport"]), "dport", "verdict")')"
check_eq "reasons" \
    "within-limit within-limit limit limit within-limit limit limit within-limit limit within-limit" \
    "$(q window '" ".join(c["reason"] for c in sorted(C, key=lambda c: c["dport"]))')"
check_eq "never more than 2 forwarded in any 60 s span" 1 \
    "$(q window '(lambda F: all(sum(1 for d in F if s <= d < s + 60000) <= 2 for s in F))(sorted([0, 10000, 20000, 59999, 60000, 61000, 65000, 70000, 71000, 131000][c["dport"] - 9000] for c in C if c["verdict"] == "forward"))')"
check_eq "one HIGH alert per forwarded connection" 5 "$(q window 'n(A, type="outbound", prio="high")')"
done_testing
