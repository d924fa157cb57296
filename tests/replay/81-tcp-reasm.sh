#!/bin/bash
# TCP reassembly through fishbowl replay (docs/reassembly.md), IPv4 and
# IPv6: a generated connection to the honeypot with an out-of-order
# segment, two segments with the same sequence number and different bytes
# ("GOOD" then "EVIL"), a hole the server acknowledges past, a stale RST
# that must not end the session, and a sequence number that wraps; the
# transcript shows what the honeypot's policy keeps (bsd: GOOD, linux and
# last: EVIL) with the other version beside it, the exact gap, and one
# evasion alert per connection.  Then segments reordered on the wire with
# TCP timestamps (no gap: PAWS moves TS.Recent only at the left edge) and a
# stale copy PAWS discards.  Then the public suricata-verify overlap
# capture (skipped when ../shared/testdata is absent).
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

# mkpcap.py as a library: frames for this test only.
mk() {	# mk OUT [ipv6]
	python3 - "$1" "${2:-}" <<'EOF_PY'
import os, sys
sys.path.insert(0, os.environ["GEN_DIR"])
import mkpcap as m
n = m.Net(ipv6=sys.argv[2] == "ipv6")
C, S, cp, sp = "198.51.100.9", m.HP, 40000, 80
t = m.T0
c, s = 0xfffffffa, 5000          # the client's numbers wrap after 5 bytes
def cl(seq, flags, data=b""):
    global t
    n.tcp(t, C, S, cp, sp, seq, s, flags, data); t += m.MS
def sv(ack, flags, data=b"", seq=None):
    global t
    n.tcp(t, S, C, sp, cp, s if seq is None else seq, ack, flags, data); t += m.MS
n.tcp(t, C, S, cp, sp, c, 0, m.SYN, options=m.MSS); t += m.MS
sv(c + 1, m.SYN | m.ACK, seq=s - 1)
c += 1
cl(c, m.ACK)
cl(c + 9, m.PSH | m.ACK, b"DATA")            # out of order, after a 1-byte hole
cl(c, m.PSH | m.ACK, b"GET ")
cl(c + 4, m.PSH | m.ACK, b"GOOD")
cl(c + 4, m.PSH | m.ACK, b"EVIL")            # same place, other bytes
sv(c + 0, m.RST, seq=s + 700000)             # stale: far outside the window
sv(c + 8, m.ACK)
sv(c + 13, m.ACK)                            # past the hole: it is a gap now
sv(c + 13, m.PSH | m.ACK, b"OK\r\n")
n.tcp(t, C, S, cp, sp, c + 13, s + 4, m.FIN | m.ACK); t += m.MS
sv(c + 14, m.FIN | m.ACK, seq=s + 4)
n.tcp(t, C, S, cp, sp, c + 14, s + 5, m.ACK)
n.write(sys.argv[1])
EOF_PY
}
export GEN_DIR

transcript() {	# transcript NAME: the session transcript(s) of replay NAME
	cat "$WORK/$1"/*/sessions/*.txt 2>/dev/null
}

# The transcript without its header lines' times.
body() {
	transcript "$1" | sed 's/^\[[0-9TZ:.-]*\] //'
}

for v in ipv4 ipv6; do
	if [ $v = ipv6 ]; then
		mk "$WORK/reasm-$v.pcap" ipv6; hp=2001:db8:1::5; cli='[2001:db8:ff:64::9]:40000'
	else
		mk "$WORK/reasm-$v.pcap"; hp=10.0.0.5; cli=198.51.100.9:40000
	fi
	check "generated $v capture" test -s "$WORK/reasm-$v.pcap"
	for pol in bsd linux last; do
		case $pol in bsd) kept=GOOD other=EVIL ;; *) kept=EVIL other=GOOD ;; esac
		name=$v-$pol
		cfg=$(conf $name <<EOF_
[honeynet]
networks = 10.0.0.0/24, 2001:db8:1::/64
[layers]
policy = windows
host_policy = $hp $pol
EOF_
)
		replay $name "$cfg" "$WORK/reasm-$v.pcap" || continue
		want=$(cat <<EOF_
>> client $cli [CONFLICT at offset 4, 4 bytes: kept the policy's, another segment differed]
[kept] $kept
[other] $other
>> client $cli
GET $kept
>> client $cli [1 bytes missing]
>> client $cli
DATA
<< server $(case $v in ipv6) echo "[$hp]:80" ;; *) echo "$hp:80" ;; esac)
OK
>> client $cli [end: fin]
<< server $(case $v in ipv6) echo "[$hp]:80" ;; *) echo "$hp:80" ;; esac) [end: fin]
EOF_
)
		check_eq "$name: transcript, exact" "$want" "$(body $name)"
		check_eq "$name: one evasion alert, policy $pol, offset 4" "1 $pol 4 4" \
		    "$(q $name '"%d %s %s" % (n(A, type="evasion"), sel(A, type="evasion")[0]["msg"].split("kept the ")[1].split()[0], rows(sel(A, type="evasion"), "offset", "length"))')"
	done
done

# Reordered on the wire, with TCP timestamps (RFC 7323): two runs of the
# client's segments interleave, so segments sent later (newer TSvals) come
# ahead of a hole and the hole's own segments (older TSvals) after them,
# as when two CPUs handle one flow.  The honeypot takes them all (TS.Recent
# moves only at the left edge), and so must the transcript: no gap.  Then,
# in order and acknowledged, a copy with a TSval older than TS.Recent and
# other bytes: stale, the honeypot discards it (PAWS), and so do we.
python3 - "$WORK/reorder-ts.pcap" <<'EOF_PY'
import os, struct, sys
sys.path.insert(0, os.environ["GEN_DIR"])
import mkpcap as m
n = m.Net()
C, S, cp, sp = "198.51.100.9", m.HP, 40001, 9000
t = m.T0
c, s = 1000, 5000
def ts(val, ecr):
    return b"\x01\x01\x08\x0a" + struct.pack("!II", val, ecr)
def cl(seq, flags, val, data=b"", opt=b""):
    global t
    n.tcp(t, C, S, cp, sp, seq, s + 1, flags, data, options=opt or ts(val, 900)); t += m.MS
def sv(ack, flags, val, seq=None, opt=b""):
    global t
    n.tcp(t, S, C, sp, cp, s + 1 if seq is None else seq, ack, flags,
          options=opt or ts(val, 100)); t += m.MS
n.tcp(t, C, S, cp, sp, c, 0, m.SYN, options=m.MSS + ts(100, 0)); t += m.MS
sv(c + 1, m.SYN | m.ACK, 900, seq=s, opt=m.MSS + ts(900, 100))
c += 1
cl(c, m.ACK, 101)
seg = [bytes([0x41 + i]) * 8 for i in range(12)]       # AAAAAAAA, BBBBBBBB, ...
for i in range(4):                                       # in order
    cl(c + 8 * i, m.PSH | m.ACK, 110 + i, seg[i])
for i in range(4):                                       # 4..7 and 8..11 interleaved
    cl(c + 8 * (8 + i), m.PSH | m.ACK, 130 + i, seg[8 + i])
    cl(c + 8 * (4 + i), m.PSH | m.ACK, 120 + i, seg[4 + i])
sv(c + 96, m.ACK, 901)
cl(c + 96, m.PSH | m.ACK, 90, b"STALE!!!")              # PAWS: older than 131
cl(c + 96, m.PSH | m.ACK, 140, b"FRESH!!!")
sv(c + 104, m.ACK, 902)
cl(c + 104, m.FIN | m.ACK, 141)
sv(c + 105, m.FIN | m.ACK, 903)
cl(c + 105, m.ACK, 142)
n.write(sys.argv[1])
EOF_PY
check "generated reordered capture with timestamps" test -s "$WORK/reorder-ts.pcap"
cfg=$(conf reorder-ts <<EOF_
[honeynet]
networks = 10.0.0.0/24
[layers]
policy = linux
EOF_
)
if replay reorder-ts "$cfg" "$WORK/reorder-ts.pcap"; then
	check_eq "reordered with timestamps: the client's 104 bytes, in order, no gap" \
	    "AAAAAAAABBBBBBBBCCCCCCCCDDDDDDDDEEEEEEEEFFFFFFFFGGGGGGGGHHHHHHHHIIIIIIIIJJJJJJJJKKKKKKKKLLLLLLLLFRESH!!!" \
	    "$(transcript reorder-ts | grep -v '^\[' | tr -d '\n')"
	check_eq "reordered with timestamps: no gap line in the transcript" 0 \
	    "$(transcript reorder-ts | grep -c 'missing')"
	check_eq "reordered with timestamps: sessions.jsonl bytes_orig 104, gaps 0, conflicts 0" \
	    "104 0 0" "$(python3 -c 'import glob,json,sys
for f in glob.glob(sys.argv[1] + "/*/sessions.jsonl"):
    for l in open(f):
        r = json.loads(l); print(r["bytes_orig"], r["gaps"], r["conflicts"])' "$WORK/reorder-ts")"
fi

if [ ! -d "$TESTDATA" ]; then
	skip "public TCP overlap captures" "no test data in $TESTDATA"
	done_testing
	exit 0
fi

# suricata-verify eve-overlap-payload-01/02: GOOD then EVIL at one sequence
# number, to 2.2.2.2 (VLAN 6): bsd keeps GOOD, linux (old-linux) keeps EVIL.
pcap="$TESTDATA/suricata-verify/tests/eve-overlap-payload-01/tcp-overlap.pcap"
if [ ! -f "$pcap" ]; then
	skip "eve-overlap-payload" "no $pcap"
else
	for pol in bsd linux; do
		case $pol in bsd) kept=GOOD other=EVIL ;; *) kept=EVIL other=GOOD ;; esac
		cfg=$(conf sv-$pol <<EOF_
[honeynet]
networks = 2.2.2.0/24
[layers]
policy = $pol
EOF_
)
		replay sv-$pol "$cfg" "$pcap" || continue
		check_eq "eve-overlap-payload $pol: kept $kept, other $other" "[kept] $kept|[other] $other" \
		    "$(transcript sv-$pol | grep -E '^\[(kept|other)\]' | paste -sd'|')"
		check "eve-overlap-payload $pol: client data is $kept" \
		    sh -c "cat '$WORK/sv-$pol'/*/sessions/*.txt | grep -v '^\[' | grep -qx '$kept'"
	done
fi
done_testing
