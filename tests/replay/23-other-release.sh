#!/bin/bash
# The "other" class (any IP protocol but TCP, UDP, ICMP): the first packet of
# a GRE flow counts once, a second GRE flow is over other = 1/hour.  And a
# contained honeypot goes back to compromised when every blocked class's
# window frees again, not before (one state event per transition).  See the
# other_release scenario in tests/gen/mkpcap.py.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen other_release "$WORK/in.pcap"
hour=$(conf hour <<'EOF'
[honeynet]
networks = 10.0.0.0/24

[control]
other = 1/hour
tcp = 1/minute
EOF
)
replay hour "$hour" "$WORK/in.pcap"
sig='rows(sorted(C, key=lambda c: c["ts"]), "proto", "dst", "class", "verdict", "reason", "pkts_orig", "pkts_resp", "dropped_orig")'
check_eq "GRE: one flow of 3 packets counted once and forwarded, the second flow dropped" \
    "47 198.51.100.1 other forward within-limit 3 2 0;47 198.51.100.2 other drop limit 2 0 2" \
    "$(q hour "$sig" | cut -d';' -f1,2)"
check_eq "GRE: one HIGH outbound alert of class other; one CRITICAL per blocked class" \
    "1 other:honeypot 10.0.0.5 blocked (other, 1/hour);tcp:honeypot 10.0.0.5 blocked (tcp, 1/minute)" \
    "$(q hour '"%d %s" % (n(A, type="outbound", proto="47", prio="high", **{"class": "other"}), ";".join(a["class"] + ":" + a["msg"] for a in sel(A, type="blocked", prio="critical")))')"
check_eq "TCP 1/minute: 10 s forward, 20 s drop, 80 s forward" \
    "198.51.100.3 forward;198.51.100.4 drop;198.51.100.5 forward" \
    "$(q hour 'rows(sorted(sel(C, proto="tcp"), key=lambda c: c["ts"]), "dst", "verdict")')"
check_eq "other still blocked for the hour: no release, still contained" \
    "clean->compromised;compromised->contained" "$(q hour 'trans(A)')"
check_eq "status: other blocked, tcp free again" "1" \
    "$(grep -c '^    other .*BLOCKED' "$WORK/hour.log")$(grep -c '^    tcp .*BLOCKED' "$WORK/hour.log" | sed 's/^0$//')"

minute=$(conf minute <<'EOF'
[honeynet]
networks = 10.0.0.0/24

[control]
other = 1/minute
tcp = 1/minute
EOF
)
replay minute "$minute" "$WORK/in.pcap"
check_eq "other = 1/minute: released once both windows free, at the first frame after (80 s)" \
    "clean->compromised 08:00:00;compromised->contained 08:00:05;contained->compromised 08:01:20" \
    "$(q minute '";".join("%s %s" % (trans([a]), a["ts"][11:19]) for a in sel(A, type="state"))')"
check_eq "the release says why" 1 "$(q minute 'n(A, type="state", to="compromised", **{"from": "contained"})')"
check_eq "the 80 s connection is forwarded after the release" "forward within-limit" \
    "$(q minute 'rows(sel(C, dst="198.51.100.5"), "verdict", "reason")')"
check_eq "status: compromised at the end" 1 "$(grep -c '^  10\.0\.0\.5  *compromised ' "$WORK/minute.log")"
done_testing
