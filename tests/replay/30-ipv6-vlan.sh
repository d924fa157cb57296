#!/bin/bash
# IPv6 and 802.1Q-tagged frames are handled like untagged IPv4: the tcp_limit
# scenario generated three ways gives the same conn records (up to the
# addresses and byte counts) and the same alerts; ICMPv6 echo requests are
# the icmp class.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

v4=$(conf v4 <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 3/hour
icmp = block
EOF_
)
v6=$(conf v6 <<'EOF_'
[honeynet]
networks = 2001:db8:1::/64

[control]
tcp = 3/hour
icmp = block
EOF_
)
gen tcp_limit "$WORK/plain.pcap"
gen tcp_limit "$WORK/vlan.pcap" --vlan 100
gen tcp_limit "$WORK/ipv6.pcap" --ipv6
replay plain "$v4" "$WORK/plain.pcap"
replay vlan "$v4" "$WORK/vlan.pcap"
replay ipv6 "$v6" "$WORK/ipv6.pcap"

sig='rows(sorted(C, key=lambda c: c["dport"]), "dir", "proto", "sport", "dport", "pkts_orig", "pkts_resp", "dropped_orig", "dropped_resp", "tcp_state", "counted", "verdict", "reason", "end_reason")'
asig='rows(A, "ts", "type", "prio", "dport")'
plain=$(q plain "$sig")
check_eq "plain: 3 forwarded, 2 dropped" "3 2" \
    "$(q plain '"%d %d" % (n(C, verdict="forward"), n(C, verdict="drop"))')"
check_eq "VLAN-tagged: same conn records as untagged" "$plain" "$(q vlan "$sig")"
check_eq "VLAN-tagged: same alerts as untagged" "$(q plain "$asig")" "$(q vlan "$asig")"
check_eq "IPv6: same conn records as IPv4" "$plain" "$(q ipv6 "$sig")"
check_eq "IPv6: same alerts as IPv4" "$(q plain "$asig")" "$(q ipv6 "$asig")"
check_eq "IPv6: honeypot and addresses in IPv6 text form" \
    "2001:db8:1::5 2001:db8:1::5 2001:db8:ff:64::1" \
    "$(q ipv6 'rows(sorted(C, key=lambda c: c["dport"])[:1], "honeypot", "src", "dst")')"
check_eq "IPv6: blocked alert names the IPv6 honeypot" "2001:db8:1::5" \
    "$(q ipv6 'sel(A, type="blocked")[0].get("honeypot") if sel(A, type="blocked") else "none"')"
check_eq "VLAN: every frame captured with its tag (bytes equal)" 1 \
    "$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mkpcap, glob
a = [f[3] for f in mkpcap.read_pcap(sys.argv[2])]
b = [f[3] for p in sorted(glob.glob(sys.argv[3] + "/*/packets/*.pcap")) for f in mkpcap.read_pcap(p)]
print(int(a == b))' "$GEN_DIR" "$WORK/vlan.pcap" "$WORK/vlan")"

gen icmp_out "$WORK/ping6.pcap" --ipv6
replay ping6 "$v6" "$WORK/ping6.pcap"
check_eq "ICMPv6 echo requests are the icmp class: blocked" \
    "icmp6 outbound drop class-blocked;icmp6 outbound drop class-blocked;icmp6 outbound drop class-blocked" \
    "$(q ping6 'rows(sorted(C, key=lambda c: c["dst"]), "proto", "dir", "verdict", "reason")')"
done_testing
