#!/bin/bash
# gateway: build/fishbowl as the live gateway of a honeynet in network
# namespaces (tests/netns/lib-netns.sh), driven by real tools: nmap, curl,
# hping3, tcpdump, python3 clients and servers.
#
#   1 inbound: a SYN scan finds the honeypot's open ports, a real HTTP GET
#     works; conn.jsonl has the inbound connections, their alerts are LOW
#   2 tcp = 3/hour: 5 outbound connections, exactly 3 reach the listener;
#     contained, 3 HIGH "outbound", one CRITICAL "blocked"; an established
#     connection keeps working after the block
#   3 spoofed sources (hping3 -a, --rand-source): nothing leaves, counted;
#     from outside, a source inside the honeynet: nothing reaches the honeypot
#   4 icmp = block: outbound ping dies at the gateway, inbound ping works
#   5 kill -9: nothing crosses; restart on the same data: still contained;
#     unblock releases it
#   6 the pcap: tcpdump -r reads it, the ICMP of a 5-ping run is exactly
#     10 frames, status capture frames = frames in the files
#   7 udp = 2/hour: 4 flows, exactly 2 arrive; an exempt DNS destination is
#     never counted (and still reachable when the class is blocked)
#   8 status lists the configured honeypot before it sends; fishbowl runs
#     as nobody without capabilities, under seccomp; the bridge is
#     invisible (no address on the legs, frames arrive unchanged: same MACs,
#     TTL, IP id); a refused connection's record ends by timeout, a closed
#     one's closed; `fishbowl reload` and SIGHUP apply new limits at once
#
# Run as root from the repo root: FB_BUILD=build bash tests/netns/gateway.sh
# (FBN_KEEP=1 keeps the work directory: configs, data, logs.)
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "gateway" "needs root"
	done_testing; exit 0
fi
for t in ip nmap curl hping3 tcpdump python3 socat ss; do
	if ! command -v $t >/dev/null; then
		skip "gateway" "$t missing"
		done_testing; exit 0
	fi
done
if [ ! -x "$FISHBOWL" ]; then
	not_ok "fishbowl is built" "no executable $FISHBOWL"
	done_testing; exit 1
fi

FBN_PREFIX=${FBN_PREFIX:-fbgw$$}
FBN_FISHBOWL=$FISHBOWL
. "$FB_ROOT/tests/netns/lib-netns.sh"
fbn_init || { not_ok "work directory"; done_testing; exit 1; }
if ! fbn_up; then
	not_ok "test bed: namespaces, veth pairs, addresses"
	done_testing; exit 1
fi
ok "test bed: outside, gateway and honeypot namespaces"

W=$FBN_WORK
T="python3 $W/tools.py"
HP=$FBN_HP_ADDR

# --- services -----------------------------------------------------------
# Outside ("the Internet", every 203.0.113.x): a TCP listener that counts
# and echoes on 8080, UDP counters on 53 and 9001-9004.
fbn_bg "$FBN_OUT" $T tcp_count 8080 "$W/out-tcp.log"
fbn_bg "$FBN_OUT" $T udp_count 53,9001,9002,9003,9004 "$W/out-udp.log"
# The honeypot: an HTTP server on 80, echo services on 21 and 8080.
mkdir -p "$W/www"
echo "honeypot index page" >"$W/www/index.html"
fbn_bg "$FBN_HP" python3 -m http.server -d "$W/www" -b 0.0.0.0 80 >/dev/null 2>&1
fbn_bg "$FBN_HP" socat TCP-LISTEN:21,fork,reuseaddr EXEC:cat
fbn_bg "$FBN_HP" socat TCP-LISTEN:8080,fork,reuseaddr EXEC:cat
if fbn_wait_port "$FBN_OUT" 8080 && fbn_wait_port "$FBN_OUT" 9004 udp &&
   fbn_wait_port "$FBN_HP" 80 && fbn_wait_port "$FBN_HP" 21 && fbn_wait_port "$FBN_HP" 8080; then
	ok "services listen (outside 8080/tcp, 53,9001-9004/udp; honeypot 21, 80, 8080)"
else
	not_ok "services listen"
fi
: >"$W/out-tcp.log"; : >"$W/out-udp.log"

# Without fishbowl the two legs are not connected: nothing crosses.
check_eq "no gateway: the honeypot is unreachable" "2 0" "$(inO $T ping $HP 2 0.2 0.5)"

start() {	# start NAME < control-section: config, fresh data dir, fishbowl run
	fbn_conf "$1"
	if fbn_start; then
		ok "$1: fishbowl runs"
	else
		not_ok "$1: fishbowl runs" "$(tail -5 "$FBN_FB_LOG" 2>/dev/null)"
		return 1
	fi
}
stop() {	# stop NAME
	if fbn_stop; then ok "$1: SIGTERM stops fishbowl, exit 0"
	else not_ok "$1: SIGTERM stops fishbowl, exit 0" "$(tail -5 "$FBN_FB_LOG")"; fi
}
tcp_accepted() { wc -l <"$W/out-tcp.log" | tr -d ' '; }
udp_ports() { awk '{print $1}' "$W/out-udp.log" | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# --- 1, 3, 4: inbound, spoofing, icmp = block ----------------------------
t_inbound() {
	local open body
	open=$(inO nmap -n -Pn -sS -T4 --max-retries 1 -p 1-1024,8080 $HP 2>&1 |
	    awk '$2 == "open" { sub("/tcp", "", $1); print $1 }' | tr '\n' ' ' | sed 's/ $//')
	check_eq "1: nmap SYN scan from outside finds the open ports" "21 80 8080" "$open"
	body=$(inO curl -s -m 5 "http://$HP/index.html")
	check_eq "1: HTTP GET from outside through fishbowl" "honeypot index page" "$body"
	check_eq "1: a TCP echo service from outside" "hi there" \
	    "$(echo 'hi there' | inO timeout 5 socat -T2 - TCP:$HP:21)"
	check_eq "1: the scan does not count as a compromise" "clean" "$(fbn_json 'h.get("state", "clean")')"
	check_ge "1: status: frames forwarded" 2000 "$(fbn_json 'g(s, "totals.forwarded.frames", 0)')"
}
t_inbound_files() {	# after stop
	check_ge "1: conn.jsonl: inbound tcp records for the scanned ports" 1025 \
	    "$(fbn_q 'len(set(c["dport"] for c in C if c.get("dir") == "inbound" and c.get("proto") == "tcp"))')"
	check_eq "1: conn.jsonl: the HTTP connection, inbound, forwarded, from the attacker" \
	    "inbound 10.99.0.130 203.0.113.66 forward" \
	    "$(fbn_q '";".join(sorted(set("%s %s %s %s" % (c.get("dir"), c.get("honeypot"), c.get("src"), c.get("verdict")) for c in C if c.get("dport") == 80 and c.get("pkts_resp", 0) > 3)))')"
	check_ge "1: alerts: inbound events" 1 "$(fbn_q 'n(A, type="inbound")')"
	check_eq "1: alerts: every inbound event is LOW" 0 \
	    "$(fbn_q 'len([a for a in A if a.get("type") == "inbound" and a.get("prio") != "low"])')"
	check_eq "1: alerts: every inbound event names the honeypot" 0 \
	    "$(fbn_q 'len([a for a in A if a.get("type") == "inbound" and a.get("honeypot") != "10.99.0.130"])')"
	check_eq "A: one outbound alert (the honest SYN of test 3)" 1 "$(fbn_q 'n(A, type="outbound")')"
}
t_spoof() {
	local before after seen n=40
	before=$(fbn_json 'g(s, "totals.dropped.by_reason", {}).get("spoofed-source-inside", 0)')
	fbn_tcpdump "$FBN_OUT" o0 "$W/spoof.pcap" 'tcp and dst host 203.0.113.10 and dst port 80' ||
	    not_ok "3: tcpdump listens on the outside"
	inH hping3 -q -S -a 198.51.100.7 -p 80 -c $((n / 2)) -i u5000 203.0.113.10 >/dev/null 2>&1
	inH hping3 -q -S --rand-source -p 80 -c $((n / 2)) -i u5000 203.0.113.10 >/dev/null 2>&1
	# control: one honest SYN does arrive, so the capture would have seen them
	inH hping3 -q -S -p 80 -c 1 203.0.113.10 >/dev/null 2>&1
	sleep 0.5
	fbn_tcpdump_stop
	seen=$(fbn_count "$W/spoof.pcap")
	check_eq "3: outside sees none of $n spoofed SYNs, only the honest one" 1 "$seen"
	check_eq "3: the honest SYN is from the honeypot" 1 \
	    "$(fbn_count "$W/spoof.pcap" -- src host $HP)"
	after=$(fbn_json 'g(s, "totals.dropped.by_reason", {}).get("spoofed-source-inside", 0)')
	check_ge "3: status: dropped spoofed-source-inside grew by $n" $n $((after - before))
	# From the outside, a source claiming to be in the honeynet is dropped too.
	fbn_tcpdump "$FBN_HP" h0 "$W/spoof-in.pcap" 'tcp and dst port 80' ||
	    not_ok "3: tcpdump listens on the honeypot"
	inO hping3 -q -S -a 10.99.0.200 -p 80 -c 10 -i u5000 $HP >/dev/null 2>&1
	inO hping3 -q -S -p 80 -c 1 $HP >/dev/null 2>&1
	sleep 0.5
	fbn_tcpdump_stop
	check_eq "3: the honeypot sees none of 10 SYNs from outside claiming 10.99.0.200, only the honest one" \
	    "0 1" "$(fbn_count "$W/spoof-in.pcap" -- src host 10.99.0.200) $(fbn_count "$W/spoof-in.pcap")"
	check_ge "3: status: dropped spoofed-source-outside >= 10" 10 \
	    "$(fbn_json 'g(s, "totals.dropped.by_reason", {}).get("spoofed-source-outside", 0)')"
}
t_spoof_files() {
	check_ge "3: alerts: spoofed events" 1 "$(fbn_q 'n(A, type="spoofed")')"
	check_eq "3: alerts: every spoofed event is MEDIUM" 0 \
	    "$(fbn_q 'len([a for a in A if a.get("type") == "spoofed" and a.get("prio") != "medium"])')"
}
t_icmp() {
	fbn_tcpdump "$FBN_OUT" o0 "$W/icmp.pcap" icmp || not_ok "4: tcpdump listens on the outside"
	check_eq "4: icmp = block: ping from the honeypot gets no reply" "3 0" \
	    "$(inH $T ping 203.0.113.10 3 0.2 0.5)"
	sleep 0.2
	check_eq "4: nothing of it arrives outside" 0 "$(fbn_count "$W/icmp.pcap")"
	check_eq "4: ping from outside to the honeypot works" "3 3" "$(inO $T ping $HP 3 0.2 1)"
	sleep 0.2
	fbn_tcpdump_stop
	check_eq "4: outside saw the 3 inbound requests and 3 replies" 6 "$(fbn_count "$W/icmp.pcap")"
	check_ge "4: status: dropped class-blocked >= 3" 3 \
	    "$(fbn_json 'g(s, "totals.dropped.by_reason", {}).get("class-blocked", 0)')"
}

if start A <<'EOF'
[control]
tcp = 3/hour
udp = 2/hour
icmp = block
rate = allow
EOF
then
	t_inbound
	t_spoof
	t_icmp
	stop A
	t_inbound_files
	t_spoof_files
fi

# --- 2 and 5: the TCP limit, a crash, a restart ---------------------------
t_limit() {
	local res
	: >"$W/out-tcp.log"
	res=$(inH $T tcp_clients 203.0.113.10 8080 5 hold | tr '\n' ' ' | sed 's/ $//')
	check_eq "2: 5 outbound connections: 3 succeed, 2 fail, the first still works" \
	    "ok ok ok fail fail held ok" "$res"
	check_eq "2: the listener outside accepted exactly 3" 3 "$(tcp_accepted)"
	check_eq "2: status: the honeypot is contained" contained "$(fbn_json 'h.get("state")')"
	check_eq "2: status: tcp in_window 3, blocked" "3 true" \
	    "$(fbn_json '"%s %s" % (g(h, "classes.tcp.in_window"), str(g(h, "classes.tcp.blocked")).lower())')"
	check_ge "2: status: tcp refused >= 2" 2 "$(fbn_json 'g(h, "classes.tcp.refused", 0)')"
	check_ge "2: status: dropped by limit" 2 \
	    "$(fbn_json 'g(s, "totals.dropped.by_reason", {}).get("limit", 0)')"
}
t_limit_files() {
	check_eq "2: alerts: 3 outbound HIGH" 3 "$(fbn_q 'n(A, type="outbound", prio="high", honeypot="10.99.0.130")')"
	check_eq "2: alerts: no other outbound" 3 "$(fbn_q 'n(A, type="outbound")')"
	check_eq "2: alerts: exactly one blocked CRITICAL" "1 1" \
	    "$(fbn_q '"%d %d" % (n(A, type="blocked"), n(A, type="blocked", prio="critical", honeypot="10.99.0.130"))')"
	check_eq "2: conn.jsonl: 3 forwarded outbound tcp to 8080" 3 \
	    "$(fbn_q 'len([c for c in C if c.get("dir") == "outbound" and c.get("dport") == 8080 and c.get("verdict") == "forward"])')"
	check_eq "2: conn.jsonl: 2 dropped by limit" 2 \
	    "$(fbn_q 'len([c for c in C if c.get("dir") == "outbound" and c.get("dport") == 8080 and c.get("verdict") == "drop" and c.get("reason") == "limit"])')"
}
t_crash() {
	fbn_kill9
	check_eq "5: after kill -9 nothing crosses (ping from outside)" "3 0" \
	    "$(inO $T ping $HP 3 0.2 0.5)"
	check_eq "5: ... nor a TCP connection from outside" "" \
	    "$(echo x | inO timeout 3 socat -T1 - TCP:$HP:21,connect-timeout=1 2>/dev/null)"
	if fbn_start; then ok "5: restarted on the same data directory"
	else not_ok "5: restarted on the same data directory" "$(tail -5 "$FBN_FB_LOG")"; return; fi
	check_eq "5: after restart the honeypot is still contained" contained "$(fbn_json 'h.get("state")')"
	check_eq "5: ... tcp still blocked, in_window 3" "3 true" \
	    "$(fbn_json '"%s %s" % (g(h, "classes.tcp.in_window"), str(g(h, "classes.tcp.blocked")).lower())')"
	: >"$W/out-tcp.log"
	check_eq "5: a new outbound TCP connection fails" fail "$(inH $T tcp_clients 203.0.113.10 8080 1 no)"
	check_eq "5: ... and never reaches the listener" 0 "$(tcp_accepted)"
	check_eq "5: inbound works again after the restart" "3 3" "$(inO $T ping $HP 3 0.2 1)"
	if "$FISHBOWL" unblock -s "$FBN_SOCK" $HP >/dev/null 2>&1; then ok "5: fishbowl unblock $HP"
	else not_ok "5: fishbowl unblock $HP"; fi
	check_eq "5: after unblock the tcp class is free" "0 false" \
	    "$(fbn_json '"%s %s" % (g(h, "classes.tcp.in_window"), str(g(h, "classes.tcp.blocked")).lower())')"
	check_eq "5: after unblock an outbound connection succeeds" ok "$(inH $T tcp_clients 203.0.113.10 8080 1 no)"
	check_eq "5: ... and reaches the listener" 1 "$(tcp_accepted)"
}

# B: the limit; a clean stop (the conn records are written); a restart on
# the same data (the block survives); kill -9 (nothing crosses); a restart
# after the crash (the block survives that too); unblock.
if start B <<'EOF'
[control]
tcp = 3/hour
icmp = block
rate = allow
EOF
then
	t_limit
	stop B
	t_limit_files
	if fbn_start; then
		ok "5: restarted after a clean stop"
		check_eq "5: after a clean restart the honeypot is still contained" contained \
		    "$(fbn_json 'h.get("state")')"
		t_crash
		stop B
	else
		not_ok "5: restarted after a clean stop" "$(tail -5 "$FBN_FB_LOG")"
	fi
fi

# --- 6: the pcap --------------------------------------------------------
t_pcap() {
	local files frames total
	check_eq "6: 5 pings from outside, 5 replies" "5 5" "$(inO $T ping $HP 5 0.1 1)"
	sleep 0.5
	frames=$(fbn_json 'g(s, "totals.capture.frames", -1)')
	check_eq "6: status: no capture losses" "0 0 0" \
	    "$(fbn_json '"%s %s %s" % (g(s, "totals.capture.lost_frames"), g(s, "totals.capture.write_errors"), g(s, "totals.capture.kernel_drops"))')"
	stop C
	files=$(fbn_pcaps)
	if [ -n "$files" ]; then ok "6: pcap files under DIR/DAY/packets/"
	else not_ok "6: pcap files under DIR/DAY/packets/" "$(ls -R "$FBN_DATA")"; return; fi
	# shellcheck disable=SC2086
	if tcpdump -n -r $files >/dev/null 2>"$W/tcpdump-r.err"; then ok "6: tcpdump -r reads them"
	else not_ok "6: tcpdump -r reads them" "$(cat "$W/tcpdump-r.err")"; fi
	# shellcheck disable=SC2086
	check_eq "6: exactly the 10 ICMP echo frames" "5 5" \
	    "$(fbn_count $files -- 'icmp[icmptype] == icmp-echo') $(fbn_count $files -- 'icmp[icmptype] == icmp-echoreply')"
	# shellcheck disable=SC2086
	total=$(fbn_count $files)
	check_eq "6: status capture frames = frames tcpdump reads" "$frames" "$total"
	# shellcheck disable=SC2086
	check_eq "6: nothing but ICMP and ARP crossed" "$total" \
	    "$(fbn_count $files -- 'icmp or arp')"
}
if start C <<'EOF'
[control]
icmp = block
EOF
then
	t_pcap
fi

# --- 7: UDP limit and an exempt destination -----------------------------
t_udp() {
	: >"$W/out-udp.log"
	check_eq "7: 3 DNS-like flows to the exempt 203.0.113.53:53 all answered" "53:1 53:1 53:1" \
	    "$(for i in 1 2 3; do inH $T udp_send 203.0.113.53 53 1; done | tr '\n' ' ' | sed 's/ $//')"
	check_eq "7: exempt flows are not counted (udp in_window 0, honeypot clean)" "0 clean" \
	    "$(fbn_json '"%s %s" % (g(h, "classes.udp.in_window", 0), h.get("state", "clean"))')"
	: >"$W/out-udp.log"
	check_eq "7: udp = 2/hour: 4 flows, the first 2 answered" "9001:2 9002:2 9003:0 9004:0" \
	    "$(inH $T udp_send 203.0.113.20 9001,9002,9003,9004 2)"
	check_eq "7: exactly 2 flows arrived outside" "9001 9002" "$(udp_ports)"
	check_eq "7: status: udp in_window 2, blocked, contained" "2 true contained" \
	    "$(fbn_json '"%s %s %s" % (g(h, "classes.udp.in_window"), str(g(h, "classes.udp.blocked")).lower(), h.get("state"))')"
	: >"$W/out-udp.log"
	check_eq "7: the exempt destination still answers after the block" "53:1" \
	    "$(inH $T udp_send 203.0.113.53 53 1)"
	check_eq "7: ... still not counted" 2 "$(fbn_json 'g(h, "classes.udp.in_window", -1)')"
	stop D
	check_eq "7: alerts: 2 outbound udp HIGH, one blocked" "2 1" \
	    "$(fbn_q '"%d %d" % (n(A, type="outbound", proto="udp", prio="high"), n(A, type="blocked"))')"
	check_eq "7: conn.jsonl: 4 exempt flows forwarded, not counted" "4" \
	    "$(fbn_q 'len([c for c in C if c.get("dport") == 53 and c.get("reason") == "exempt" and c.get("verdict") == "forward" and c.get("counted") is False])')"
}
if start D <<'EOF'
[control]
udp = 2/hour
rate = allow
exempt = 203.0.113.53:53/udp
EOF
then
	t_udp
fi

# --- 8: status, privileges, invisibility, end reasons, reload ------------
# A frame as tcpdump -v sees it, minus the checksums (the honeypot's side
# shows the partial checksum of TX offload, the outside the completed one).
frame_text() { tcpdump -nt -e -v -r "$1" 2>/dev/null | sed 's/, cksum 0x[0-9a-f]* ([^)]*)//' | tr -s ' \n' ' '; }
t_status_listed() {
	check_eq "8: status lists the configured honeypot before it sends, clean" \
	    "1 10.99.0.130 clean no outbound connection yet" \
	    "$(fbn_json '"%d %s %s %s" % (len(s.get("honeypots", [])), h.get("addr"), h.get("state"), h.get("why"))')"
	check_eq "8: ... and in the text status" 1 \
	    "$(fbn_status | grep -c '^  10\.99\.0\.130  *clean  *since ')"
}
t_privileges() {
	local st=/proc/$FBN_FB_PID/status nb
	nb=$(id -u nobody)
	check_eq "8: fishbowl runs as nobody (real, effective, saved uid)" "$nb $nb $nb" \
	    "$(awk '/^Uid:/ {print $2, $3, $4}' "$st")"
	check_eq "8: ... with no capabilities, no_new_privs, a seccomp filter" \
	    "0000000000000000 0000000000000000 1 2" \
	    "$(awk '/^CapPrm:|^CapEff:|^NoNewPrivs:|^Seccomp:/ {print $2}' "$st" | tr '\n' ' ' | sed 's/ $//')"
}
t_invisible() {
	local f='tcp and dst port 8080 and tcp[tcpflags] & tcp-syn != 0' hp_pid
	check_eq "8: no address on the gateway's legs" "" \
	    "$(inG ip -o addr show dev gwo; inG ip -o addr show dev gwh)"
	fbn_tcpdump "$FBN_HP" h0 "$W/inv-h.pcap" "$f" || not_ok "8: tcpdump on the honeypot"
	hp_pid=$FBN_TCPDUMP_PID
	fbn_tcpdump "$FBN_OUT" o0 "$W/inv-o.pcap" "$f" || not_ok "8: tcpdump outside"
	check_eq "8: an outbound connection within the limit" ok "$(inH $T tcp_clients 203.0.113.10 8080 1 no)"
	sleep 0.3
	fbn_tcpdump_stop
	FBN_TCPDUMP_PID=$hp_pid fbn_tcpdump_stop
	check_eq "8: its SYN seen once on each side" "1 1" \
	    "$(fbn_count "$W/inv-h.pcap") $(fbn_count "$W/inv-o.pcap")"
	check_eq "8: the SYN arrives unchanged: MACs, TTL, IP id, options" \
	    "$(frame_text "$W/inv-h.pcap")" "$(frame_text "$W/inv-o.pcap")"
	case $(frame_text "$W/inv-o.pcap") in
	*"$(inH cat /sys/class/net/h0/address) > "*"ttl 64,"*) ok "8: ... from the honeypot's MAC, TTL 64" ;;
	*) not_ok "8: ... from the honeypot's MAC, TTL 64" "$(frame_text "$W/inv-o.pcap")" ;;
	esac
}
t_ends() {
	check_eq "8: the second one is refused (tcp = 1/hour)" fail "$(inH $T tcp_clients 203.0.113.10 8080 1 no)"
	# the client gave up after 2.5 s; embryonic timeout 2 s, a tick a second
	sleep 4
	check_eq "8: status: the refused flow has left the table" 0 "$(fbn_json 'g(s, "totals.flows.active", -1)')"
}
t_reload() {
	sed -i 's|^tcp = 1/hour$|tcp = 3/hour|' "$FBN_CONF"
	check_eq "8: fishbowl reload" "ok: reloaded" "$("$FISHBOWL" reload -s "$FBN_SOCK" 2>&1)"
	sleep 1.2	# blocks are recomputed at the next tick
	check_eq "8: after reload the limit is 3/hour and the class is free" "3/hour false compromised" \
	    "$(fbn_json '"%s %s %s" % (g(h, "classes.tcp.limit"), str(g(h, "classes.tcp.blocked")).lower(), h.get("state"))')"
	check_eq "8: ... an outbound connection succeeds again" ok "$(inH $T tcp_clients 203.0.113.10 8080 1 no)"
	sed -i 's|^tcp = 3/hour$|tcp = block|' "$FBN_CONF"
	kill -HUP "$FBN_FB_PID"
	sleep 0.5
	check_eq "8: SIGHUP reloads: tcp = block" block "$(fbn_json 'g(h, "classes.tcp.limit")')"
	check_eq "8: ... the next outbound connection fails" fail "$(inH $T tcp_clients 203.0.113.10 8080 1 no)"
	check "8: fishbowl still runs after both reloads" kill -0 "$FBN_FB_PID"
}
t_ends_files() {
	check_eq "8: conn.jsonl: the refused flow ended by timeout, not at shutdown" "drop limit timeout" \
	    "$(fbn_q '";".join("%s %s %s" % (c["verdict"], c["reason"], c["end_reason"]) for c in C if c.get("dport") == 8080 and c.get("reason") == "limit")')"
	check_eq "8: conn.jsonl: the first connection ended closed (FIN, then tcp_closed 1 s)" "forward closed" \
	    "$(fbn_q '" ".join((lambda c: [c["verdict"], c["end_reason"]])(sorted(C, key=lambda c: c["ts"])[0]))')"
	check_eq "8: conn.jsonl: the tcp = block refusal is class-blocked" 1 \
	    "$(fbn_q 'len([c for c in C if c.get("dport") == 8080 and c.get("reason") == "class-blocked"])')"
	check_eq "8: alerts: two 'configuration reloaded' engine events" 2 \
	    "$(fbn_q 'len([a for a in A if a.get("type") == "engine" and "reloaded" in a.get("msg", "")])')"
}
: >"$W/out-tcp.log"
if start E <<'EOF'
[control]
tcp = 1/hour
icmp = block
rate = allow

[engine]
timeout_tcp_embryonic = 2s
timeout_tcp_closed = 1s
EOF
then
	t_status_listed
	t_privileges
	t_invisible
	t_ends
	t_reload
	stop E
	t_ends_files
fi

done_testing
