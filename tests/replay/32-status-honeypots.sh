#!/bin/bash
# Which honeypots status shows (replay -v prints the final status):
#  - every address listed under honeypots =, from the start, state clean
#    until it does something, even if it never sends a frame;
#  - with no list, every honeynet address seen sending (answering an
#    inbound connection is enough), and none that was only probed;
#  - an unlisted address of networks that sends is contained like a listed
#    one and shown too.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

hp_count() { sed -n 's/^honeypots: \([0-9]*\)$/\1/p' "$WORK/$1.log"; }
hp_line() {	# hp_line NAME ADDR -> "STATE why..."
	awk -v a="$2" '$1 == a { $1 = ""; $3 = ""; $4 = ""; sub(/^ +/, ""); print; exit }' "$WORK/$1.log" |
	    sed 's/  */ /g'
}

gen tcp_limit "$WORK/limit.pcap"
listed=$(conf listed <<'EOF'
[honeynet]
networks = 10.0.0.0/24
honeypots = 10.0.0.5, 10.0.0.6, 10.0.0.7

[control]
tcp = 3/hour
EOF
)
replay listed "$listed" "$WORK/limit.pcap"
check_eq "listed: 3 honeypots shown" 3 "$(hp_count listed)"
check_eq "listed: 10.0.0.5 contained" "contained contained: tcp limit 3/hour reached" "$(hp_line listed 10.0.0.5)"
check_eq "listed: 10.0.0.6 never sent anything, shown clean" "clean no outbound connection yet" \
    "$(hp_line listed 10.0.0.6)"
check_eq "listed: 10.0.0.7 shown clean" "clean no outbound connection yet" "$(hp_line listed 10.0.0.7)"
check_eq "listed: silent honeypots are clean since the first frame" \
    "2026-11-26T08:00:00.000000Z 2026-11-26T08:00:00.000000Z" \
    "$(awk '$1 == "10.0.0.6" || $1 == "10.0.0.7" { print $4 }' "$WORK/listed.log" | tr '\n' ' ' | sed 's/ $//')"
check_eq "listed: the silent ones change no verdict (3 forwarded, 2 dropped)" "3 2" \
    "$(q listed '"%d %d" % (n(C, verdict="forward"), n(C, verdict="drop"))')"

gen malformed "$WORK/mal.pcap"
gen midnight "$WORK/mid.pcap"
unlisted=$(conf unlisted <<'EOF'
[honeynet]
networks = 10.0.0.0/24
EOF
)
replay answered "$unlisted" "$WORK/mal.pcap"
check_eq "no list: the honeypot that answered inbound sessions is shown" 1 "$(hp_count answered)"
check_eq "no list: ... clean" "clean no outbound connection yet" "$(hp_line answered 10.0.0.5)"
replay probed "$unlisted" "$WORK/mid.pcap"
check_eq "no list: an address only probed from outside (never sent) is not shown" 0 "$(hp_count probed)"

gen nonhoneypot "$WORK/nonhp.pcap"
mixed=$(conf mixed <<'EOF'
[honeynet]
networks = 10.0.0.0/24
honeypots = 10.0.0.5, 10.0.0.9

[control]
tcp = 1/hour
EOF
)
replay mixed "$mixed" "$WORK/nonhp.pcap"
check_eq "listed and unlisted: 3 shown (2 listed, 1 unlisted that sent)" 3 "$(hp_count mixed)"
check_eq "the unlisted sender is compromised like a honeypot" "compromised" \
    "$(hp_line mixed 10.0.0.77 | cut -d' ' -f1)"
check_eq "the silent listed one is clean" "clean" "$(hp_line mixed 10.0.0.9 | cut -d' ' -f1)"
done_testing
