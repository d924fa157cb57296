#!/bin/bash
# Replies are never counted.  Connections opened from outside (TCP, UDP,
# ICMP echo) and the honeypot's answers -- including an ICMP port
# unreachable about an inbound UDP datagram -- all pass, are logged inbound
# and alerted LOW, and leave the honeypot clean.  Then one outbound
# connection of each class is still within limits of 1/hour: had any reply
# been counted, one of them would be dropped.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen replies "$WORK/in.pcap"
cfg=$(conf replies <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 1/hour
udp = 1/hour
icmp = 1/hour
EOF_
)
replay replies "$cfg" "$WORK/in.pcap"
check_eq "5 inbound connections, all forwarded with reason inbound" \
    "tcp 203.0.113.7 forward inbound;tcp 203.0.113.8 forward inbound;udp 203.0.113.9 forward inbound;udp 203.0.113.10 forward inbound;icmp 203.0.113.11 forward inbound" \
    "$(q replies 'rows(sorted(sel(C, dir="inbound"), key=lambda c: c["ts"]), "proto", "src", "verdict", "reason")')"
check_eq "inbound records name the honeypot, never counted" "5 5" \
    "$(q replies '"%d %d" % (n(C, dir="inbound", honeypot="10.0.0.5"), n(C, dir="inbound", counted=False))')"
check_eq "the honeypot answered each (pkts_resp > 0)" 5 \
    "$(q replies 'sum(1 for c in sel(C, dir="inbound") if c["pkts_resp"] > 0 or c["proto"] == "udp" and c["dport"] == 9)')"
check_eq "5 inbound alerts, LOW" "5 5" \
    "$(q replies '"%d %d" % (n(A, type="inbound"), n(A, type="inbound", prio="low"))')"
check_eq "then 3 outbound connections (tcp, udp, icmp), all within the limit" \
    "tcp forward within-limit;udp forward within-limit;icmp forward within-limit" \
    "$(q replies 'rows(sorted(sel(C, dir="outbound"), key=lambda c: c["ts"]), "proto", "verdict", "reason")')"
check_eq "no other conn records" 8 "$(q replies 'len(C)')"
check_eq "3 outbound HIGH alerts, no block" "3 0" \
    "$(q replies '"%d %d" % (n(A, type="outbound", prio="high"), n(A, type="blocked"))')"
check_eq "one transition, clean->compromised, at the first outbound connection (08:01:40)" \
    "clean->compromised 08:01:40" \
    "$(q replies '"%s %s" % (trans(A), sel(A, type="state")[0]["ts"][11:19] if sel(A, type="state") else "-")')"
check_eq "nothing dropped in any connection" 0 \
    "$(q replies 'sum(c["dropped_orig"] + c["dropped_resp"] for c in C)')"
check_eq "status: no frame dropped (the ICMP port unreachable passed too)" 0 \
    "$(status_num replies dropped frames)"
check_eq "status: all 36 frames forwarded" 36 "$(status_num replies forwarded frames)"
done_testing
