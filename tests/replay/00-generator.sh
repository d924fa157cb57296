#!/bin/bash
# The capture generator itself: every scenario is read by tcpdump and tshark,
# every checksum is right (except the one frame of "mixed" built with a bad
# IPv4 checksum on purpose), the output is the same on every run, and the
# frame reader the other tests use agrees with tcpdump.
. "$(dirname "$0")/../gen/replaylib.sh"

# The generator does not depend on the build: check it once, not again
# under the sanitizer build.
case $FB_BUILD in
*-san) skip "generator checks" "run on the normal build only"; done_testing; exit ;;
esac

scenarios="tcp_limit syn_retx window total replies udp_flows icmp_out nonhoneypot rate malformed mixed midnight blocked_ends other_release sessions"
for s in $scenarios; do
	if ! gen "$s" "$WORK/$s.pcap"; then
		not_ok "mkpcap $s" "generator failed"
		continue
	fi
	n=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mkpcap; print(len(mkpcap.read_pcap(sys.argv[2])))' \
	    "$GEN_DIR" "$WORK/$s.pcap")
	check_eq "mkpcap $s: tcpdump reads every frame" "$n" "$(tcpdump_count "$WORK/$s.pcap")"
done
for v in "--ipv6" "--vlan 100" "--nsec"; do
	# shellcheck disable=SC2086
	gen tcp_limit "$WORK/v.pcap" $v
	check_eq "mkpcap tcp_limit $v: 40 frames" 40 "$(tcpdump_count "$WORK/v.pcap")"
done

if command -v tshark >/dev/null && command -v mergecap >/dev/null; then
	# one tshark run over every scenario (and the IPv6 and VLAN variants)
	gen rate "$WORK/rate.pcap" --arg 1
	gen tcp_limit "$WORK/v6.pcap" --ipv6
	gen tcp_limit "$WORK/vl.pcap" --vlan 100
	files=""
	for s in $scenarios v6 vl; do files="$files $WORK/$s.pcap"; done
	# shellcheck disable=SC2086
	mergecap -a -w "$WORK/all.pcap" $files 2>/dev/null
	bad_filter='tcp.checksum.status==0 || udp.checksum.status==0 || ip.checksum.status==0 || icmp.checksum.status==0 || icmpv6.checksum.status==0'
	good_filter='tcp.checksum.status==1 || udp.checksum.status==1 || icmp.checksum.status==1 || icmpv6.checksum.status==1'
	tshark -r "$WORK/all.pcap" -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
	    -o ip.check_checksum:TRUE -T fields -e ip.checksum.status -e tcp.checksum.status \
	    -e udp.checksum.status -e icmp.checksum.status -e icmpv6.checksum.status \
	    -e vlan.id -e ipv6.src -e udp.srcport 2>/dev/null >"$WORK/all.txt"
	total=$(tcpdump_count "$WORK/all.pcap")
	check_ge "mkpcap: tshark decodes the scenarios" 1000 "$(wc -l <"$WORK/all.txt")"
	# columns 1-5 are checksum statuses: 0 bad, 1 good, 2 unverified
	check_eq "mkpcap: the only bad checksum is the deliberate one (UDP port 7 of mixed)" \
	    "ip=0 tcp= udp=1 icmp= icmp6= port=7" \
	    "$(awk -F'\t' '$1=="0"||$2=="0"||$3=="0"||$4=="0"||$5=="0" {print "ip="$1" tcp="$2" udp="$3" icmp="$4" icmp6="$5" port="$8}' "$WORK/all.txt")"
	check_ge "mkpcap: most frames carry a verified-good L4 checksum" $((total - 20)) \
	    "$(awk -F'\t' '$2=="1"||$3=="1"||$4=="1"||$5=="1"' "$WORK/all.txt" | wc -l)"
	check_eq "mkpcap --vlan: every frame tagged 100" 40 "$(awk -F'\t' '$6=="100"' "$WORK/all.txt" | wc -l)"
	check_ge "mkpcap --ipv6: IPv6 frames" 40 "$(awk -F'\t' '$7 ~ /^2001:db8/' "$WORK/all.txt" | wc -l)"
else
	skip "checksums verified by tshark" "no tshark/mergecap"
fi

gen mixed "$WORK/m1.pcap"; gen mixed "$WORK/m2.pcap"
check "mkpcap is deterministic" cmp -s "$WORK/m1.pcap" "$WORK/m2.pcap"
gen bench "$WORK/b.pcap" --arg 2
check_ge "mkpcap bench streams a capture of the asked size" 2000000 "$(stat -c %s "$WORK/b.pcap")"
check_eq "mkpcap bench: tcpdump reads it whole" \
    "$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mkpcap; print(len(mkpcap.read_pcap(sys.argv[2])))' "$GEN_DIR" "$WORK/b.pcap")" \
    "$(tcpdump_count "$WORK/b.pcap")"
done_testing
