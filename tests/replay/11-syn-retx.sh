#!/bin/bash
# A retransmitted SYN (same 5-tuple, same ISN, 1 s later) counts once:
# with tcp = 2/hour, A (SYN sent twice) and B are both forwarded and C is the
# one over the limit; C's own retransmission is dropped too, and the block
# is alerted once.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen syn_retx "$WORK/in.pcap"
cfg=$(conf retx <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 2/hour
EOF_
)
replay retx "$cfg" "$WORK/in.pcap"
check_eq "3 conn records (a retransmitted SYN is the same connection)" 3 "$(q retx 'len(C)')"
check_eq "A and B forwarded, C dropped" \
    "198.51.100.1 forward within-limit;198.51.100.2 forward within-limit;198.51.100.3 drop limit" \
    "$(q retx 'rows(sorted(C, key=lambda c: c["dst"]), "dst", "verdict", "reason")')"
check_eq "A: 6 packets from the honeypot (2 SYNs), none dropped; C: all 6 dropped" \
    "198.51.100.1 6 0;198.51.100.2 5 0;198.51.100.3 6 6" \
    "$(q retx 'rows(sorted(C, key=lambda c: c["dst"]), "dst", "pkts_orig", "dropped_orig")')"
check_eq "2 outbound HIGH alerts" 2 "$(q retx 'n(A, type="outbound", prio="high")')"
check_eq "1 blocked CRITICAL alert" 1 "$(q retx 'n(A, type="blocked", prio="critical")')"
check_eq "state transitions" "clean->compromised;compromised->contained" "$(q retx 'trans(A)')"
done_testing
