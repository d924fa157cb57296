#!/bin/bash
# honeypots = 10.0.0.5 inside networks = 10.0.0.0/24: 10.0.0.77 is in the
# honeynet but not a listed honeypot.  fishbowl(8): "Outbound means from a
# honeypot (a source address in networks)" -- so 10.0.0.77 is contained like
# one, with windows of its own: with tcp = 1/hour both its connection and
# the honeypot's are forwarded, each counted against its own source.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen nonhoneypot "$WORK/in.pcap"
cfg=$(conf nonhp <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
honeypots = 10.0.0.5

[control]
tcp = 1/hour
EOF_
)
replay nonhp "$cfg" "$WORK/in.pcap"
check_eq "all 16 frames captured" 16 "$(tcpdump_count "$WORK"/nonhp/*/packets/*.pcap)"
check_eq "2 conn records" 2 "$(q nonhp 'len(C)')"
check_eq "the honeypot's connection: outbound, counted, forwarded" \
    "outbound 10.0.0.5 forward within-limit true" \
    "$(q nonhp 'rows(sel(C, src="10.0.0.5"), "dir", "honeypot", "verdict", "reason", "counted")')"
check_eq "10.0.0.77's connection: outbound, its own window, forwarded" \
    "outbound 10.0.0.77 forward within-limit true" \
    "$(q nonhp 'rows(sel(C, src="10.0.0.77"), "dir", "honeypot", "verdict", "reason", "counted")')"
check_eq "no block for either" 0 "$(q nonhp 'n(A, type="blocked")')"
check_eq "one HIGH outbound alert each, naming its own source" "10.0.0.77;10.0.0.5" \
    "$(q nonhp 'rows(sel(A, type="outbound"), "honeypot")')"
done_testing
