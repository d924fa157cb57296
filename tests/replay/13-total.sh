#!/bin/bash
# tcp = 2/total: after 2 connections the honeypot is blocked for the rest of
# the replay -- connections 2 and 5 hours later are still dropped.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen total "$WORK/in.pcap"
cfg=$(conf total <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 2/total
EOF_
)
replay total "$cfg" "$WORK/in.pcap"
check_eq "5 conn records" 5 "$(q total 'len(C)')"
check_eq "first 2 forwarded, the rest dropped for ever" \
    "7000 forward within-limit;7001 forward within-limit;7002 drop limit;7003 drop limit;7004 drop limit" \
    "$(q total 'rows(sorted(C, key=lambda c: c["dport"]), "dport", "verdict", "reason")')"
check_eq "one block episode: 1 CRITICAL" 1 "$(q total 'n(A, type="blocked", prio="critical")')"
check_eq "never released" "clean->compromised;compromised->contained" "$(q total 'trans(A)')"
done_testing
