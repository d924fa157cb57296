#!/bin/bash
# Malformed frames (IPv4 header cut short, IHL 3, TCP data offset 2, TCP
# data offset past the segment, IPv6 header cut short), 11 s apart between
# normal inbound sessions: replay does not crash, every frame is captured,
# each is alerted (the alert is rate limited to one per 10 s: these are 11 s
# apart), and the sessions around them are logged as usual.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen malformed "$WORK/in.pcap"
cfg=$(conf mal <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay mal "$cfg" "$WORK/in.pcap"
check_eq "all 21 frames captured" 21 "$(tcpdump_count "$WORK"/mal/*/packets/*.pcap)"
check_eq "captured bytes equal the input's" 1 \
    "$(q mal '[f[3] for f in frames()] == [f[3] for f in __import__("mkpcap").read_pcap("'"$WORK/in.pcap"'")]')"
check_eq "5 malformed alerts" 5 "$(q mal 'n(A, type="malformed")')"
check_eq "malformed alerts at 20, 31, 42, 53, 64 s" "08:00:20 08:00:31 08:00:42 08:00:53 08:01:04" \
    "$(q mal '" ".join(a["ts"][11:19] for a in sel(A, type="malformed"))')"
check_eq "the two sessions around them are logged, nothing else" \
    "inbound 22 forward;inbound 80 forward" \
    "$(q mal 'rows(sorted(C, key=lambda c: c["dport"]), "dir", "dport", "verdict")')"
check_eq "status: the 5 malformed frames dropped" 5 "$(status_num mal dropped frames)"
done_testing
