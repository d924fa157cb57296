#!/bin/bash
# A bare SYN with a new ISN on a half-open flow is a new connection and is
# counted again; only the same ISN passes as a retransmission.  Before this,
# hping3 --flood from an unlisted honeynet address got 30 SYNs out past
# tcp = 3/hour: its source ports wrapped onto its first 3 unanswered flows
# (tests/netns/flood.sh, phase N).
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen syn_reuse "$WORK/in.pcap"
cfg=$(conf reuse <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 2/hour
EOF_
)
replay reuse "$cfg" "$WORK/in.pcap"
check_eq "forwarded: 3 frames (ISN 111 twice, 5000)" 3 "$(status_num reuse forwarded frames)"
check_eq "dropped: 2 frames (ISN 9000 twice)" 2 "$(status_num reuse dropped frames)"
check_eq "status: 2 in window, 2 total, 2 refused" 1 \
    "$(grep -c 'tcp   2 in window (limit 2/hour), 2 total, 2 refused' "$WORK/reuse.log")"
check_eq "one conn record: 5 packets, 2 dropped, ends refused" "1 5 2 drop limit" \
    "$(q reuse '"%d %s" % (len(C), rows(C, "pkts_orig", "dropped_orig", "verdict", "reason"))')"
check_eq "2 outbound HIGH alerts" 2 "$(q reuse 'n(A, type="outbound", prio="high")')"
check_eq "1 blocked CRITICAL alert" 1 "$(q reuse 'n(A, type="blocked", prio="critical")')"
check_eq "state transitions" "clean->compromised;compromised->contained" "$(q reuse 'trans(A)')"
done_testing
