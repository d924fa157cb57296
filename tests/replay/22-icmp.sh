#!/bin/bash
# ICMP out: with icmp = block every echo request of the honeypot is dropped
# (class-blocked); with icmp = 2/hour the first 2 pings pass and the third is
# dropped.  3 pings (ids 1..3), 3 requests each, each answered.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen icmp_out "$WORK/in.pcap"
blk=$(conf block <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
icmp = block
EOF_
)
replay block "$blk" "$WORK/in.pcap"
check_eq "icmp = block: 3 outbound icmp records, all dropped (class-blocked)" \
    "198.51.100.1 icmp outbound drop class-blocked;198.51.100.2 icmp outbound drop class-blocked;198.51.100.3 icmp outbound drop class-blocked" \
    "$(q block 'rows(sorted(C, key=lambda c: c["dst"]), "dst", "proto", "dir", "verdict", "reason")')"
check_eq "icmp = block: every request dropped" "3 3 3" \
    "$(q block '" ".join(str(c["dropped_orig"]) for c in sorted(C, key=lambda c: c["dst"]))')"
check_eq "icmp = block: no HIGH alert, nothing counted" "0 0" \
    "$(q block '"%d %d" % (n(A, type="outbound"), n(C, counted=True))')"
check_eq "icmp = block: status 9 frames dropped" 9 "$(status_num block dropped frames)"

lim=$(conf limit <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
icmp = 2/hour
EOF_
)
replay limit "$lim" "$WORK/in.pcap"
check_eq "icmp = 2/hour: 2 pings pass, the third is dropped" \
    "198.51.100.1 forward within-limit 3 0;198.51.100.2 forward within-limit 3 0;198.51.100.3 drop limit 3 3" \
    "$(q limit 'rows(sorted(C, key=lambda c: c["dst"]), "dst", "verdict", "reason", "pkts_orig", "dropped_orig")')"
check_eq "icmp = 2/hour: 2 HIGH, 1 CRITICAL" "2 1" \
    "$(q limit '"%d %d" % (n(A, type="outbound", prio="high"), n(A, type="blocked", prio="critical"))')"
done_testing
