#!/bin/bash
# How refused (dropped) outbound flows end in conn.jsonl: by timeout when
# the honeypot gives up in silence, closed when it resets, and shutdown only
# when the capture ends before their timeout.  tcp = 1/hour, udp = 1/hour;
# see the blocked_ends scenario in tests/gen/mkpcap.py.  Also: replay's
# uptime is capture time (first frame to last), not time since 1970.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen blocked_ends "$WORK/in.pcap"
cfg=$(conf ends <<'EOF'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 1/hour
udp = 1/hour
EOF
)
replay ends "$cfg" "$WORK/in.pcap"
sig='rows(sorted(C, key=lambda c: c["ts"]), "dport", "proto", "verdict", "tcp_state", "end_reason")'
check_eq "8 conn records" 8 "$(q ends 'len(C)')"
check_eq "end reasons: forwarded and refused flows alike" \
    "80 tcp forward closed closed;81 tcp drop syn_sent timeout;82 tcp drop reset closed;53 udp forward none timeout;53 udp drop none timeout;7 udp forward none shutdown;83 tcp forward syn_sent shutdown;84 tcp drop syn_sent shutdown" \
    "$(q ends "$sig")"
check_eq "the refused SYN and its 2 retransmissions: 3 packets, 3 dropped, reason limit" "3 3 limit" \
    "$(q ends 'rows(sel(C, dport=81), "pkts_orig", "dropped_orig", "reason")')"
check_eq "a timed-out refused flow ends at its last packet (08:00:13)" "08:00:10 08:00:13" \
    "$(q ends '" ".join(c[k][11:19] for c in sel(C, dport=81) for k in ("ts", "end"))')"
# (C is in file order: the RST-closed one goes after tcp_closed = 10 s, at
# 31 s; the silent SYN after tcp_embryonic = 30 s, at 43 s)
check_eq "records are written when each timeout passes, not at the end" \
    "82 81 53 53" \
    "$(q ends '" ".join(str(c["dport"]) for c in C[:5] if c["dport"] != 80)')"
check_eq "replay -v: uptime is the capture's span (08:00:00 to 09:00:11)" "3611" \
    "$(sed -n 's/^fishbowl: running \([0-9]*\)s.*/\1/p' "$WORK/ends.log")"

gen tcp_limit "$WORK/limit.pcap"
replay limit "$cfg" "$WORK/limit.pcap"
check_eq "replay -v: uptime of a 40 s capture is 40 s" "40" \
    "$(sed -n 's/^fishbowl: running \([0-9]*\)s.*/\1/p' "$WORK/limit.log")"
done_testing
