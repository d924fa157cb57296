#!/bin/bash
# honeypots = 10.0.0.5 inside networks = 10.0.0.0/24: 10.0.0.77 is in the
# honeynet but not a listed honeypot.  In replay the leg is inferred from the
# source, so its frames come "from the inside" like the honeypot's.
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
check_eq "the honeypot's connection is outbound, counted, forwarded" \
    "outbound 10.0.0.5 forward within-limit true" \
    "$(q nonhp 'rows(sel(C, src="10.0.0.5"), "dir", "honeypot", "verdict", "reason", "counted")')"
check_eq "10.0.0.77's connection is logged once" 1 "$(q nonhp 'n(C, src="10.0.0.77")')"
check_eq "10.0.0.77 never forwarded as a counted honeypot connection" 0 \
    "$(q nonhp 'n(C, src="10.0.0.77", verdict="forward", counted=True, honeypot="10.0.0.5")')"
check_eq "the honeypot's limit is its own: no block" 0 "$(q nonhp 'n(A, type="blocked", honeypot="10.0.0.5")')"
done_testing
