#!/bin/bash
# io_bridge: the live I/O layer alone (src/io_afpacket.c), through
# tests/tools/bridge_probe, which forwards every frame from each leg to the
# other using only the io API.  Test bed, three namespaces:
#
#   OUT: o0 10.77.0.1/24 ==veth== gwo  GW (probe)  gwh ==veth== h0 10.77.0.2/24 :HP
#
# The endpoints keep veth's default offloads (TSO, GSO, checksum offload), so
# TCP only works if GSO super-frames and partial checksums cross with their
# virtio-net header.  Checks: open errors, leg set-up, ping (exactly 5 echo
# requests arrive: no frame is read back or looped), 20 MB over TCP intact,
# iperf3, UDP (with fragments).  Run as root from the repo root.
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "io bridge" "needs root"
	done_testing; exit 0
fi
for t in ip socat iperf3 python3 ethtool; do
	if ! command -v $t >/dev/null; then
		skip "io bridge" "$t missing"
		done_testing; exit 0
	fi
done

PROBE="$FB_BUILD/bridge_probe"
mkdir -p "$FB_BUILD"
if ${CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -Isrc \
    src/util.c src/io_afpacket.c src/io_pcap.c src/openers.c src/known.c src/bpfasm.c src/fastpath.c src/addr.c tests/tools/bridge_probe.c \
    -o "$PROBE" -lpcap -pthread 2>"$FB_BUILD/bridge_probe.log"; then
	ok "bridge_probe builds"
else
	not_ok "bridge_probe builds" "$(cat "$FB_BUILD/bridge_probe.log")"
	done_testing; exit 1
fi

S=$$
NO=fbio-o-$S NG=fbio-g-$S NH=fbio-h-$S
WORK=$(mktemp -d /tmp/fbio.XXXXXX)
PROBE_PID=

cleanup() {
	[ -n "$PROBE_PID" ] && kill "$PROBE_PID" 2>/dev/null
	for n in $NO $NG $NH; do
		ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del $n 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

inO() { ip netns exec $NO "$@"; }
inG() { ip netns exec $NG "$@"; }
inH() { ip netns exec $NH "$@"; }

ip netns add $NO && ip netns add $NG && ip netns add $NH &&
ip link add o0 netns $NO type veth peer name gwo netns $NG &&
ip link add h0 netns $NH type veth peer name gwh netns $NG &&
inO ip addr add 10.77.0.1/24 dev o0 && inO ip link set o0 up && inO ip link set lo up &&
inH ip addr add 10.77.0.2/24 dev h0 && inH ip link set h0 up && inH ip link set lo up
if [ $? -ne 0 ]; then
	not_ok "test bed" "cannot create namespaces and veth pairs"
	done_testing; exit 1
fi
ok "test bed: three namespaces, two veth pairs"

# The endpoints keep their offloads: that is what the vnet header is for.
feat=$(inO ethtool -k o0 2>/dev/null)
if echo "$feat" | grep -q '^tcp-segmentation-offload: on' &&
   echo "$feat" | grep -q '^tx-checksumming: on'; then
	ok "endpoint offloads on (TSO, tx checksum)"
else
	not_ok "endpoint offloads on (TSO, tx checksum)" "$feat"
fi

# Open errors are clear text.
out=$(inG "$PROBE" nosuch0 gwh 2>&1)
case $out in *"nosuch0: no such interface"*) ok "missing interface refused";;
*) not_ok "missing interface refused" "$out";; esac
inG ip addr add 10.77.9.9/32 dev gwo
out=$(inG "$PROBE" gwo gwh 2>&1)
case $out in *"IPv4 address 10.77.9.9"*) ok "a leg with an IPv4 address is refused";;
*) not_ok "a leg with an IPv4 address is refused" "$out";; esac
inG ip addr flush dev gwo

# pstat KEY: the probe's counter KEY, from a fresh SIGUSR1 dump.
pstat() {
	local before
	before=$(grep -c '^end$' "$WORK/stats" 2>/dev/null)
	kill -USR1 "$PROBE_PID" 2>/dev/null
	for _ in $(seq 50); do
		[ "$(grep -c '^end$' "$WORK/stats" 2>/dev/null)" -gt "$before" ] && break
		sleep 0.1
	done
	plast "$1"
}
# plast KEY: KEY from the last dump (no new one): two counters compared
# must come from one dump, or a frame crossing between two dumps (an ARP
# probe after the pings) makes them differ.
plast() {
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$WORK/stats"
}
snmp() {	# snmp NS PROTO FIELD
	ip netns exec "$1" cat /proc/net/snmp | awk -v p="$2:" -v f="$3" '
	    $1 == p && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
	    $1 == p && h { print $col[f] }'
}

ip netns exec $NG "$PROBE" gwo gwh 32 >"$WORK/stats" 2>"$WORK/probe.log" &
PROBE_PID=$!
for _ in $(seq 50); do
	grep -q ready "$WORK/probe.log" 2>/dev/null && break
	kill -0 $PROBE_PID 2>/dev/null || break
	sleep 0.1
done
if grep -q ready "$WORK/probe.log"; then
	ok "probe bridges gwo and gwh"
else
	not_ok "probe bridges gwo and gwh" "$(cat "$WORK/probe.log")"
	done_testing; exit 1
fi

# The legs are invisible: up, promiscuous, no IPv4, no IPv6 at all.
check_eq "IPv6 disabled on the outside leg" 1 "$(inG cat /proc/sys/net/ipv6/conf/gwo/disable_ipv6)"
check_eq "IPv6 disabled on the inside leg" 1 "$(inG cat /proc/sys/net/ipv6/conf/gwh/disable_ipv6)"
check_eq "no address on the legs" "" "$(inG ip -o addr show dev gwo; inG ip -o addr show dev gwh)"
# (PACKET_MR_PROMISC counts in "promiscuity", not in the PROMISC flag.)
for l in gwo gwh; do
	d=$(inG ip -d -o link show dev $l)
	case $d in *"state UP"*"promiscuity 1"*) ok "$l up and promiscuous";;
	*) not_ok "$l up and promiscuous" "$d";; esac
done

# Ping: 5 replies, and exactly 5 echo requests at the far side.  A small
# pinger of our own (raw socket): iputils is not among the test packages.
cat >"$WORK/ping.py" <<'EOF'
import os, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
ident, got = os.getpid() & 0xffff, 0
for seq in range(1, n + 1):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"fishbowl" * 7
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    s.sendto(body, (dst, 0))
    end = time.time() + 2
    while time.time() < end:
        try:
            d = s.recv(2048)
        except socket.timeout:
            break
        ihl = (d[0] & 15) * 4
        t, _, _, i, q = struct.unpack("!BBHHH", d[ihl:ihl + 8])
        if t == 0 and i == ident and q == seq:
            got += 1
            break
    time.sleep(0.2)
print("%d transmitted, %d received" % (n, got))
EOF
echos0=$(snmp $NH Icmp InEchos)
rx0=$(pstat rx_frames_outside)
pout=$(inO python3 "$WORK/ping.py" 10.77.0.2 5 2>&1)
echos1=$(snmp $NH Icmp InEchos)
rx1=$(pstat rx_frames_outside)
case $pout in *" 5 received"*) ok "ping: 5 replies";; *) not_ok "ping: 5 replies" "$pout";; esac
check_eq "ping: exactly 5 echo requests reached the honeypot" 5 $((echos1 - echos0))
# 5 requests plus an ARP or two: thousands would mean frames read back.
n=$((rx1 - rx0))
if [ $n -ge 5 ] && [ $n -le 12 ]; then ok "no loop: $n frames read on the outside leg for 5 pings"
else not_ok "no loop: frames read on the outside leg for 5 pings" "got $n"; fi
rxi=$(pstat rx_frames_inside); txo=$(plast tx_frames_outside)
check_eq "every frame read inside was sent outside once" "$rxi" "$txo"

# TCP, 20 MB, endpoints with TSO and checksum offload.
head -c 20000000 /dev/urandom >"$WORK/data"
gso0=$(pstat gso_frames)
inH timeout 30 socat -u TCP-LISTEN:5001,reuseaddr OPEN:"$WORK/recv",creat,trunc &
lpid=$!
sleep 0.3
inO timeout 30 socat -u OPEN:"$WORK/data" TCP:10.77.0.2:5001
wait $lpid
check_eq "TCP: 20 MB arrive" 20000000 "$(stat -c %s "$WORK/recv" 2>/dev/null || echo 0)"
check_eq "TCP: content intact" "$(sha256sum <"$WORK/data")" "$(sha256sum <"$WORK/recv" 2>/dev/null)"
check_ge "TCP: GSO super-frames crossed with their vnet header" 1 $(( $(pstat gso_frames) - gso0 ))

# iperf3 for 3 seconds: throughput as a diagnostic, success as the check.
inH timeout 20 iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
lpid=$!
sleep 0.5
inO timeout 20 iperf3 -c 10.77.0.2 -p 5201 -t 3 -J >"$WORK/iperf.json" 2>&1
wait $lpid
bps=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]))' \
    "$WORK/iperf.json" 2>/dev/null || echo 0)
echo "# iperf3 through bridge_probe: $((bps / 1000000)) Mbit/s"
check_ge "iperf3: TCP throughput above 100 Mbit/s" 100000000 "$bps"

# UDP: 300 datagrams of 1400 bytes and 20 of 8000 bytes (IP fragments).
cat >"$WORK/udp.py" <<'EOF'
import socket, sys, time
if sys.argv[1] == "recv":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.77.0.2", 5002)); s.settimeout(3)
    n = b = 0
    try:
        while True:
            d = s.recv(65535); n += 1; b += len(d)
    except socket.timeout:
        pass
    print(n, b)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(300):
        s.sendto(bytes([i % 256]) * 1400, ("10.77.0.2", 5002))
        if i % 20 == 0: time.sleep(0.005)
    for i in range(20):
        s.sendto(b"f" * 8000, ("10.77.0.2", 5002)); time.sleep(0.002)
EOF
inH python3 "$WORK/udp.py" recv >"$WORK/udp.out" &
lpid=$!
sleep 0.3
inO python3 "$WORK/udp.py" send
wait $lpid
check_eq "UDP: 320 datagrams, 580000 bytes" "320 580000" "$(cat "$WORK/udp.out")"

# 802.1Q: the kernel strips the tag into metadata before AF_PACKET sees the
# frame; the I/O layer must put it back.  Tagged frames are injected raw on
# o0 (no 8021q module needed) and must arrive tagged at h0.
cat >"$WORK/vlan.py" <<'EOF'
import socket, struct, sys
ifname, dst = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
partial = len(sys.argv) > 3	# leave the UDP checksum to the kernel
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
if partial:
    s.setsockopt(263, 15, 1)	# SOL_PACKET, PACKET_VNET_HDR
s.bind((ifname, 0))
src = s.getsockname()[4]
payload = b"fishbowl-vlan-test"
ulen = 8 + len(payload)
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64, 17, 0,
    socket.inet_aton("10.78.0.1"), socket.inet_aton("10.78.0.2"))
w = struct.unpack("!10H", ip); c = sum(w); c = (c >> 16) + (c & 0xffff); c += c >> 16
ip = ip[:10] + struct.pack("!H", ~c & 0xffff) + ip[12:]
vnet, ck = b"", 0
if partial:	# NEEDS_CSUM from the UDP header (after MACs, tag, IP) at +6
    vnet = struct.pack("<BBHHHH", 1, 0, 0, 0, 14 + 4 + 20, 6)
    ck = 0x0a4e + 0x0001 + 0x0a4e + 0x0002 + 17 + ulen	# pseudo-header
    ck = (ck >> 16) + (ck & 0xffff)
udp = struct.pack("!HHHH", 40000, 7777, ulen, ck) + payload
for i in range(3):
    s.send(vnet + dst + src + struct.pack("!HHH", 0x8100, 100, 0x0800) + ip + udp)
EOF
if command -v tcpdump >/dev/null; then
	hmac=$(inH cat /sys/class/net/h0/address)
	inH timeout 10 tcpdump -i h0 -nn -c 3 -w "$WORK/vlan.pcap" 'vlan 100 and udp port 7777' 2>/dev/null &
	lpid=$!
	sleep 1
	inO python3 "$WORK/vlan.py" o0 "$hmac"
	wait $lpid
	n=$(tcpdump -r "$WORK/vlan.pcap" -nn -e 2>/dev/null | grep -c 'vlan 100.*fishbowl\|vlan 100.*7777')
	check_eq "VLAN: 3 tagged frames arrive tagged (vlan 100)" 3 "$n"
	# Partial checksum + tag: the vnet offsets must move with the tag.
	# With checksum offload off on gwh the kernel computes it on our TX.
	inG ethtool -K gwh tx off >/dev/null 2>&1
	inH timeout 10 tcpdump -i h0 -nn -c 3 -w "$WORK/vlan2.pcap" 'vlan 100 and udp port 7777' 2>/dev/null &
	lpid=$!
	sleep 1
	inO python3 "$WORK/vlan.py" o0 "$hmac" partial
	wait $lpid
	n=$(tcpdump -r "$WORK/vlan2.pcap" -nn -vv 2>/dev/null | grep -c 'udp sum ok')
	check_eq "VLAN: partial checksums completed at the right offset" 3 "$n"
	inG ethtool -K gwh tx on >/dev/null 2>&1
else
	skip "VLAN: tagged frames arrive tagged" "tcpdump missing"
fi

# A burst of numbered datagrams as fast as python sends them: batches of
# 64 KiB and more go to the sender thread, smaller ones inline, and frames
# must still leave in the order they came (never both at once).
cat >"$WORK/burst.py" <<'EOF'
import socket, struct, sys
N = 20000
if sys.argv[1] == "recv":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("10.77.0.2", 5003)); s.settimeout(2)
    n = inversions = 0; last = -1
    try:
        while True:
            (i,) = struct.unpack("!I", s.recv(2048)[:4]); n += 1
            if i <= last: inversions += 1
            last = i
    except socket.timeout:
        pass
    print(n, inversions)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(N):
        s.sendto(struct.pack("!I", i) + b"b" * (28 + i % 1400), ("10.77.0.2", 5003))
EOF
threads0=$(ls /proc/$PROBE_PID/task | wc -l)
inH python3 "$WORK/burst.py" recv >"$WORK/burst.out" &
lpid=$!
sleep 0.3
inO python3 "$WORK/burst.py" send
wait $lpid
read -r bn binv <"$WORK/burst.out"
echo "# burst: $bn of 20000 datagrams arrived (the rest: kernel drops or socket buffers), threads $threads0 -> $(ls /proc/$PROBE_PID/task | wc -l)"
check_ge "burst: most of 20000 datagrams arrive" 10000 "${bn:-0}"
check_eq "burst: in the order they were sent" 0 "${binv:-1}"
check_eq "burst: the sender thread took the big batches" 2 "$(ls /proc/$PROBE_PID/task | wc -l)"

check_eq "no send errors" 0 $(( $(pstat tx_errors_outside) + $(pstat tx_errors_inside) ))
echo "# kernel drops: outside $(pstat kernel_drops_outside), inside $(pstat kernel_drops_inside)"
# The openers' ring (docs/io.md): both legs have one, and the SYNs of the
# TCP and iperf3 connections above came through the outside leg's.
check_eq "openers' ring on both legs" "1 1" "$(pstat openers_ring_outside) $(pstat openers_ring_inside)"
check_ge "the outside leg's SYNs came through its openers' ring" 2 "$(pstat rx_openers_outside)"

kill $PROBE_PID 2>/dev/null
wait $PROBE_PID 2>/dev/null
PROBE_PID=
check "probe exits cleanly and reports" grep -q '^end$' "$WORK/stats"
done_testing
