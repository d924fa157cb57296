#!/bin/bash
# Eviction never lets a honeypot's traffic pass as part of an old connection
# (flow.h): with max_flows = 16, three established outbound connections
# (TCP, UDP, ICMP) survive a flood of half-open inbound SYNs, then are pushed
# out by inbound connections that complete their handshakes (the ICMP and
# UDP exchanges first, then the TCP connection).  After that the
# honeypot's next mid-stream TCP segment is dropped (no state), and its next
# UDP datagram and echo request are new connections, counted again:
# udp = 2/hour lets the datagram out as the 2nd, icmp = 1/hour refuses the
# echo.  See the evict scenario in tests/gen/mkpcap.py.  Run for IPv4 and
# IPv6.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

for v in 4 6; do
	if [ $v = 4 ]; then net=10.0.0.0/24; opt=; hp=10.0.0.5
	else net=2001:db8:1::/64; opt=--ipv6; hp=2001:db8:1::5; fi
	gen evict "$WORK/in$v.pcap" $opt
	cfg=$(conf evict$v <<EOF_
[honeynet]
networks = $net

[control]
tcp = 5/hour
udp = 2/hour
icmp = 1/hour
rate = allow

[engine]
max_flows = 16
EOF_
)
	replay ev$v "$cfg" "$WORK/in$v.pcap" || continue
	out='sorted(sel(C, dir="outbound"), key=lambda c: c["ts"])'
	check_eq "v$v: outbound records: 3 established and evicted; after eviction a new UDP flow (counted) and a refused echo" \
	    "tcp 40001 forward within-limit true established evicted 4 2 0;udp 44000 forward within-limit true none evicted 2 1 0;icmp 7 forward within-limit true none evicted 1 1 0;udp 44000 forward within-limit true none evicted 1 0 0;icmp 7 drop limit false none shutdown 1 0 1" \
	    "$(q ev$v "rows($out, 'class', 'sport', 'verdict', 'reason', 'counted', 'tcp_state', 'end_reason', 'pkts_orig', 'pkts_resp', 'dropped_orig')")"
	# The half-open SYNs evicted one another: the 3 connections still
	# carried their 11 s packets, and left only after every half-open flow.
	check_eq "v$v: the 3 were still there after the half-open flood (last packet at 11 s)" \
	    "08:00:11.000000 08:00:11.100000" \
	    "$(q ev$v '" ".join(c["end"][11:26] for c in sorted(sel(C, dir="outbound", end_reason="evicted", counted=True)[:3], key=lambda c: c["ts"]) if c["class"] != "icmp")')"
	# Answered UDP and ICMP exchanges go before established TCP (flow.c:
	# the honeypot answers spoofed sources too), each tier in LRU order.
	check_eq "v$v: evicted right after all 40 half-open flows: the echo, the UDP exchange, then the TCP connection" \
	    "40:icmp 41:udp 42:tcp" \
	    "$(q ev$v '" ".join("%d:%s" % (i, c["class"]) for i, c in enumerate(C) if c.get("dir") == "outbound" and c["ts"] < "2026-11-26T08:00:03")')"
	check_eq "v$v: 40 half-open inbound records, all evicted" "40 40" \
	    "$(q ev$v '"%d %d" % (n(C, dir="inbound", dport=22, sport=50000), n(C, dir="inbound", sport=50000, end_reason="evicted", tcp_state="syn_sent"))')"
	check_eq "v$v: the mid-stream segment after eviction opened no flow (one tcp outbound record)" 1 \
	    "$(q ev$v 'n(C, dir="outbound", proto="tcp")')"
	check_eq "v$v: status: dropped 2 frames: no-state 1 (the segment), limit 1 (the echo)" "2 1 1" \
	    "$(status_num ev$v 'dropped' frames) $(sed -n 's/^  no-state  *\([0-9]*\)$/\1/p' "$WORK/ev$v.log") $(sed -n 's/^  limit  *\([0-9]*\)$/\1/p' "$WORK/ev$v.log")"
	check_eq "v$v: status: flows 16 active of 16, 45 evicted" "16 active of 16, 45 evicted" \
	    "$(sed -n 's/^flows: *//p' "$WORK/ev$v.log")"
	check_eq "v$v: status: udp 2 in window (counted anew), icmp 1 with 1 refused, blocked" \
	    "tcp 1 0;udp 2 0;icmp 1 1 BLOCKED" \
	    "$(sed -n 's/^    \(tcp\|udp\|icmp\) *\([0-9]*\) in window.*, \([0-9]*\) refused\(, BLOCKED\)\{0,1\}.*/\1 \2 \3\4/p' "$WORK/ev$v.log" | sed 's/, / /' | tr '\n' ';' | sed 's/;$//')"
	check_eq "v$v: alerts: outbound HIGH tcp 1, udp 2, icmp 1; one blocked (icmp)" "1 2 1 1 icmp" \
	    "$(q ev$v '"%d %d %d %d %s" % (n(A, type="outbound", prio="high", proto="tcp"), n(A, type="outbound", prio="high", proto="udp"), n(A, type="outbound", prio="high", proto__in=("icmp", "icmp6")), n(A, type="blocked", prio="critical"), ",".join(a.get("class", "?") for a in sel(A, type="blocked")))')"
	check_eq "v$v: alerts: 56 inbound LOW, none names another honeypot" "56 0" \
	    "$(q ev$v "'%d %d' % (n(A, type='inbound', prio='low'), len([a for a in A if a.get('honeypot', '$hp') != '$hp']))")"
	check_eq "v$v: every frame captured" 102 "$(tcpdump_count "$WORK"/ev$v/*/packets/*.pcap)"
done
done_testing
