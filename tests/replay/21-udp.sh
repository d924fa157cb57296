#!/bin/bash
# UDP: the first datagram of a new flow counts, later ones of the flow do
# not; DNS to an ordinary server counts; the exempt destination
# 203.0.113.53:53/udp is never counted, even once the class is blocked.
# udp = 3/hour.  See the udp_flows scenario in tests/gen/mkpcap.py.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen udp_flows "$WORK/in.pcap"
cfg=$(conf udp <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
udp = 3/hour
exempt = 203.0.113.53:53/udp
EOF_
)
check "check accepts the config" "$FISHBOWL" check -c "$cfg"
replay udp "$cfg" "$WORK/in.pcap"
check_eq "10 outbound udp conn records" "10 10" \
    "$(q udp '"%d %d" % (len(C), n(C, dir="outbound", proto="udp"))')"
check_eq "verdicts" \
    "198.51.100.10 44000 forward within-limit true;198.51.100.11 44002 forward within-limit true;198.51.100.12 44003 drop limit false;198.51.100.53 44001 forward within-limit true;203.0.113.53 44010 forward exempt false;203.0.113.53 44011 forward exempt false;203.0.113.53 44012 forward exempt false;203.0.113.53 44013 forward exempt false;203.0.113.53 44014 forward exempt false;203.0.113.53 44020 forward exempt false" \
    "$(q udp 'rows(sorted(C, key=lambda c: (c["dst"], c["sport"])), "dst", "sport", "verdict", "reason", "counted")')"
check_eq "the first flow: 4 datagrams out, 3 back, one record" "4 3 0" \
    "$(q udp 'rows(sel(C, dport=9999), "pkts_orig", "pkts_resp", "dropped_orig")')"
check_eq "the DNS answer came back" 1 "$(q udp 'sel(C, dport=53, dst="198.51.100.53")[0]["pkts_resp"]')"
check_eq "1 blocked CRITICAL" 1 "$(q udp 'n(A, type="blocked", prio="critical")')"
check_eq "status: 1 frame dropped (the datagram over the limit)" 1 "$(status_num udp dropped frames)"
done_testing
