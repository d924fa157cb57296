#!/bin/bash
# Public captures (../shared/testdata, never copied into the repo): replay
# a handful with the capture's local host as the honeynet; no crash, every
# frame captured (same count as tcpdump reads in the input), and connections
# logged.  Skipped when the test data is absent.
. "$(dirname "$0")/../gen/replaylib.sh"

if [ ! -d "$TESTDATA" ]; then
	skip "public captures" "no test data in $TESTDATA"
	done_testing
	exit 0
fi
need_fishbowl

# file (under testdata)                         honeynet            conn records expected
while read -r file net want; do
	[ -n "$file" ] || continue
	name=$(basename "$file" | tr -c 'A-Za-z0-9\n' _)
	if [ ! -f "$TESTDATA/$file" ]; then
		skip "$file" "not in $TESTDATA"
		continue
	fi
	cfg=$(conf "$name" <<EOF_
[honeynet]
networks = $net
EOF_
)
	replay "$name" "$cfg" "$TESTDATA/$file" || continue
	check_eq "$file: every frame captured" "$(tcpdump_count "$TESTDATA/$file")" \
	    "$(tcpdump_count "$WORK/$name"/*/packets/*.pcap)"
	if [ "$want" = yes ]; then
		check_ge "$file: conn.jsonl not empty" 1 "$(q "$name" 'len(C)')"
	fi
done <<'LIST'
ndpi-pcaps/pcap/irc.pcap                        10.180.156.249/32   yes
ndpi-pcaps/pcap/synscan.pcap                    172.16.0.8/32       yes
ndpi-pcaps/pcap/ftp.pcap                        192.168.1.212/32    yes
ndpi-pcaps/pcap/tcp_scan.pcapng                 192.168.1.2/32      yes
ndpi-pcaps/pcap/ip_fragmented_garbage.pcap      10.128.0.2/32       no
ndpi-pcaps/pcap/syslog.pcap                     93.20.126.110/32    no
ndpi-pcaps/pcap/rsh-syslog-false-positive.pcap  172.29.43.201/32    yes
zeek-traces/traces/irc-basic.pcap               192.168.6.110/32    yes
zeek-traces/traces/tcp/reassembly.pcap          128.3.97.175/32     yes
zeek-traces/traces/tcp-syslog.pcap              192.168.1.2/32      yes
zeek-traces/traces/ipv6-fragmented-dns.pcap     2001:470:1f11:81f::/64 yes
zeek-traces/traces/ipv4/fragmented-1.pcap       164.1.123.61/32     no
LIST

# The synscan: 172.16.0.8 scans outside hosts, so it is an outbound SYN
# flood from a "honeypot": with the default limits almost all of it is
# dropped, and it is blocked once.
if [ -d "$WORK/synscan_pcap" ]; then
	check_eq "synscan: one block episode" 1 "$(q synscan_pcap 'n(A, type="blocked")')"
	check_ge "synscan: most connections dropped" 1900 "$(q synscan_pcap 'n(C, verdict="drop")')"
fi
done_testing
