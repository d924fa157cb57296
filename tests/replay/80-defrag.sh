#!/bin/bash
# IP defragmentation through fishbowl replay (docs/reassembly.md), IPv4 and
# IPv6: a connection to the honeypot whose first data segment arrives as
# fragments, two of them at the same offset with different bytes
# ("GOODGOOD" then "EVILEVIL", sent after the fragment that ends the
# datagram), and whose second segment starts with a tiny first fragment
# (8 bytes: the TCP header cut in two).  The transcript shows what the
# honeypot's policy keeps (bsd: GOOD, linux and last: EVIL), and each of
# the two datagrams raises one evasion alert.  Then suricata-verify's
# defrag/bug-6887 IPv4 captures (skipped when ../shared/testdata is absent):
# a SYN in three 8-byte fragments, plain and over Ethernet+VLAN, raises the
# tiny-fragment alert.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl
export GEN_DIR

mk() {	# mk OUT [ipv6]
	python3 - "$1" "${2:-}" <<'EOF_PY'
import os, struct, sys
sys.path.insert(0, os.environ["GEN_DIR"])
import mkpcap as m
v6 = sys.argv[2] == "ipv6"
n = m.Net(ipv6=v6)
C, S, cp, sp = n.a("198.51.100.9"), n.a(m.HP), 40000, 80
t = m.T0
c, s = 1000, 5000

def frag(t, src, dst, ident, off, more, data):
    """One fragment of an IP datagram carrying TCP (data: from offset off)."""
    if v6:
        fh = struct.pack("!BBHI", 6, 0, off | (1 if more else 0), ident)
        frame = n.ip(src, dst, 44, fh + data)
    else:
        p = m.ip4(src, dst, 6, data, ident=ident, df=False, frag=off // 8, mf=more)
        dmac = m.GW_MAC if n._mac(src) == m.HP_MAC else m.HP_MAC
        frame = m.eth(dmac, n._mac(src), 0x0800, p)
    n.add(t, frame)

def seg(seq, ack, flags, data=b""):
    return m.tcp(C, S, cp, sp, seq, ack, flags, data)

n.tcp(t, "198.51.100.9", m.HP, cp, sp, c, 0, m.SYN, options=m.MSS); t += m.MS
n.tcp(t, m.HP, "198.51.100.9", sp, cp, s, c + 1, m.SYN | m.ACK, options=m.MSS); t += m.MS
c, s = c + 1, s + 1
n.tcp(t, "198.51.100.9", m.HP, cp, sp, c, s, m.ACK); t += m.MS
# Segment 1: header + "echo" | "GOODGOOD" | "!!\r\n"; EVILEVIL overlaps GOODGOOD.
good = seg(c, s, m.PSH | m.ACK, b"echoGOODGOOD!!\r\n")
evil = seg(c, s, m.PSH | m.ACK, b"echoEVILEVIL!!\r\n")
frag(t, C, S, 0x4711, 24, True, good[24:32]); t += m.MS
frag(t, C, S, 0x4711, 32, False, good[32:]); t += m.MS
frag(t, C, S, 0x4711, 24, True, evil[24:32]); t += m.MS
frag(t, C, S, 0x4711, 0, True, good[:24]); t += m.MS
c += 16
n.tcp(t, m.HP, "198.51.100.9", sp, cp, s, c, m.ACK); t += m.MS
# Segment 2: the first fragment holds 8 bytes of the TCP header only.
two = seg(c, s, m.PSH | m.ACK, b"id\r\n")
frag(t, C, S, 0x4712, 0, True, two[:8]); t += m.MS
frag(t, C, S, 0x4712, 8, False, two[8:]); t += m.MS
c += 4
n.tcp(t, m.HP, "198.51.100.9", sp, cp, s, c, m.ACK); t += m.MS
n.tcp(t, "198.51.100.9", m.HP, cp, sp, c, s, m.FIN | m.ACK); t += m.MS
n.tcp(t, m.HP, "198.51.100.9", sp, cp, s, c + 1, m.FIN | m.ACK); t += m.MS
n.tcp(t, "198.51.100.9", m.HP, cp, sp, c + 1, s + 1, m.ACK)
n.write(sys.argv[1])
EOF_PY
}

data_lines() {	# the transcript's data lines (not fishbowl's bracketed ones)
	cat "$WORK/$1"/*/sessions/*.txt 2>/dev/null | grep -v '^\['
}

for v in ipv4 ipv6; do
	mk "$WORK/frag-$v.pcap" $v
	check "generated $v capture" test -s "$WORK/frag-$v.pcap"
	[ $v = ipv6 ] && hp=2001:db8:1::5 || hp=10.0.0.5
	for pol in bsd linux last; do
		case $pol in bsd) kept=GOOD ;; *) kept=EVIL ;; esac
		name=$v-$pol
		cfg=$(conf $name <<EOF_
[honeynet]
networks = 10.0.0.0/24, 2001:db8:1::/64
[layers]
policy = solaris
host_policy = $hp $pol
EOF_
)
		replay $name "$cfg" "$WORK/frag-$v.pcap" || continue
		check_eq "$name: the honeypot's bytes in the transcript" \
		    "echo$kept$kept!!|id" "$(data_lines $name | paste -sd'|')"
		check_eq "$name: evasion alerts (overlap at 24, tiny), honeypot $hp" \
		    "2 $hp 18193 24 8;$hp 18194 0 8" \
		    "$(q $name '"%d %s" % (n(A, type="evasion"), rows(sel(A, type="evasion"), "honeypot", "fragment_id", "offset", "length"))')"
		check_eq "$name: overlap alert names the policy" "$pol" \
		    "$(q $name 'sel(A, type="evasion")[0]["msg"].split("kept the ")[1].split()[0]')"
	done
done

if [ ! -d "$TESTDATA" ]; then
	skip "suricata-verify defrag captures" "no test data in $TESTDATA"
	done_testing
	exit 0
fi

sv="$TESTDATA/suricata-verify/tests/defrag"
# The IPv6 capture (::1 to itself) is refused by the engine before it has a
# flow, so its bytes are checked in tests/unit/test_defrag.c only.
for t in bug-6887-defrag-ipv4-tcp-syn/frag-ip-tcp-syn.pcap \
    bug-6887-defrag-eth-vlan-ipv4-tcp-syn/frag-eth-vlan-ip-tcp-syn.pcap; do
	name=${t%%/*}
	if [ ! -f "$sv/$t" ]; then
		skip "$name" "capture absent"
		continue
	fi
	cfg=$(conf $name <<'EOF_'
[honeynet]
networks = 2.2.2.0/24
EOF_
)
	replay $name "$cfg" "$sv/$t" || continue
	check_eq "$name: one tiny-fragment alert" "1 2.2.2.2 1 0 8" \
	    "$(q $name '"%d %s" % (n(A, type="evasion"), rows(sel(A, type="evasion"), "honeypot", "fragment_id", "offset", "length"))')"
	check "$name: the alert says why" \
	    sh -c "grep -q 'first IP fragment too short' '$WORK/$name'/*/alerts.jsonl"
done
done_testing
