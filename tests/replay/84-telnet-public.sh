#!/bin/bash
# Transcripts of public captures (skipped when ../shared/testdata is absent;
# NOTES.md section 6, items 6 and 3):
# - suricata-verify telnet-01/telnet.pcap (an OpenBSD telnet login, 1999):
#   one telnet session, IAC negotiation stripped from the transcript, the
#   client's data holds "/sbin/ping www.yahoo.com", exact keystroke lines.
#   Only the server (192.168.0.1) is a honeypot: with both hosts inside
#   networks the connection is internal and no session is recorded.  Five
#   frames of the capture are cut short by the original sniffer (caplen =
#   wirelen = 66, IPv4 total length larger): they are counted malformed,
#   the same five tcpdump reports as "truncated-ip"; they are duplicates of
#   segments captured whole, so the stream has no gap.
# - suricata-verify output-tcp-data (the lua-output-http curl capture): both
#   directions of the transcript, decoded back to bytes, equal the bytes of
#   expected/tcp-data.log (CR LF and LF are one line break in transcripts,
#   so both are compared with CR LF as LF), and sessions.jsonl counts
#   exactly the oracle's bytes each way.
. "$(dirname "$0")/../gen/replaylib.sh"

SV="$TESTDATA/suricata-verify/tests"
if [ ! -d "$SV" ]; then
	skip "public telnet and tcp-data captures" "no suricata-verify in $TESTDATA"
	done_testing
	exit 0
fi
need_fishbowl

# tdecode TRANSCRIPT DIR: the bytes a transcript shows for one direction
# (0 client, 1 server), unescaped, as Python bytes repr written to stdout.
tdecode() {
	python3 - "$1" "$2" <<'EOF_'
import re, sys
want = int(sys.argv[2])
out, cur = bytearray(), None
hdr = re.compile(rb"^\[[0-9TZ:.-]+\] (>>|<<) (client|server) \S+( \[.*\])?$")
for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    if line.startswith(b"["):
        m = hdr.match(line)
        if m:
            cur = None if m.group(3) else (0 if m.group(1) == b">>" else 1)
        continue		# binary summaries, markers
    if cur != want:
        continue
    i = 0
    while i < len(line):
        c = line[i:i + 1]
        if c == b"\\":
            e = line[i + 1:i + 2]
            if e == b"x":
                out.append(int(line[i + 2:i + 4], 16)); i += 4; continue
            out += {b"\\": b"\\", b"r": b"\r", b"n": b"\n"}[e]; i += 2; continue
        out += c; i += 1
    out += b"\n"
sys.stdout.buffer.write(bytes(out))
EOF_
}

# --- telnet-01
P="$SV/telnet/telnet-01/telnet.pcap"
if [ ! -f "$P" ]; then
	skip "telnet-01" "not in $SV"
else
	cfg=$(conf tn <<'EOF_'
[honeynet]
networks = 192.168.0.1/32
EOF_
)
	replay tn "$cfg" "$P"
	S='sum(D("sessions.jsonl").values(), [])'
	check_eq "telnet-01: one connection in conn.jsonl, one telnet session with its id, no gap" \
	    "1 telnet 0 fin fin" \
	    "$(q tn "'%d %s %d %s %s' % (len(C), $S[0]['protocol'], $S[0]['gaps'], $S[0]['end_orig'], $S[0]['end_resp']) if len($S) == 1 and $S[0]['id'] == C[0]['id'] else 'ERROR: %r' % $S")"
	tr=$(ls "$WORK"/tn/*/sessions/*.txt 2>/dev/null | head -1)
	check_eq "telnet-01: transcript has no IAC byte, raw or escaped" "0 0" \
	    "$(tr -cd '\377' <"$tr" | wc -c) $(grep -c '\\xff' "$tr")"
	tdecode "$tr" 0 >"$WORK/tn-client.bin"
	check_eq "telnet-01: the client's data holds /sbin/ping www.yahoo.com" 1 \
	    "$(grep -c '^/sbin/ping www.yahoo.com' "$WORK/tn-client.bin")"
	tdecode "$tr" 1 >"$WORK/tn-server.bin"
	check_eq "telnet-01: the server's output (ping statistics)" \
	    "6 packets transmitted, 6 packets received, 0% packet loss" \
	    "$(grep -a 'packets transmitted' "$WORK/tn-server.bin")"
	check_eq "telnet-01: keystroke lines" "fake;user;/sbin/ping www.yahoo.com;^C;ls;ls -a;exit" \
	    "$(q tn "';'.join(r['line'] for r in sum(D('keystrokes.jsonl').values(), []))")"
	check_eq "telnet-01: 5 malformed frames, the ones tcpdump calls truncated-ip" \
	    "5 5" "$(tcpdump -nr "$P" 2>/dev/null | grep -c 'truncated-ip') $(sed -n 's/^ *malformed *\([0-9]*\)$/\1/p' "$WORK/tn.log")"
	cfg=$(conf tn2 <<'EOF_'
[honeynet]
networks = 192.168.0.0/24
EOF_
)
	replay tn2 "$cfg" "$P"
	check_eq "telnet-01 with both hosts in networks: internal, no session" 0 \
	    "$(q tn2 'len(sum(D("sessions.jsonl").values(), []))')"
fi

# --- output-tcp-data oracle
P="$SV/lua-output-http/input.pcap"
O="$SV/output-tcp-data/expected/tcp-data.log"
if [ ! -f "$P" ] || [ ! -f "$O" ]; then
	skip "output-tcp-data" "not in $SV"
else
	cfg=$(conf td <<'EOF_'
[honeynet]
networks = 10.16.1.11/32
EOF_
)
	replay td "$cfg" "$P"
	tr=$(ls "$WORK"/td/*/sessions/*.txt 2>/dev/null | head -1)
	tdecode "$tr" 0 >"$WORK/td-0.bin"
	tdecode "$tr" 1 >"$WORK/td-1.bin"
	# The oracle: hex dumps per direction ("-ts:" to server, "-tc:" to client).
	python3 - "$O" "$WORK/td" <<'EOF_'
import re, sys
d, cur = {}, None
for line in open(sys.argv[1]):
    m = re.match(r"^\S+-(ts|tc):$", line.strip())
    if m:
        cur = m.group(1)
        continue
    if cur and re.match(r"^ [0-9A-F]{4}  ", line):
        d[cur] = d.get(cur, b"") + bytes(int(x, 16) for x in line[7:55].split())
for k, f in (("ts", "-want-0.bin"), ("tc", "-want-1.bin")):
    open(sys.argv[2] + f, "wb").write(d.get(k, b""))
    open(sys.argv[2] + f + ".len", "w").write("%d" % len(d.get(k, b"")))
EOF_
	for k in 0 1; do
		python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[1] + ".lf", "wb").write(d.replace(b"\r\n", b"\n"))' \
		    "$WORK/td-want-$k.bin"
	done
	check_eq "output-tcp-data: the oracle has both directions" "100 363" \
	    "$(cat "$WORK/td-want-0.bin.len") $(cat "$WORK/td-want-1.bin.len")"
	check_eq "output-tcp-data: client bytes in the transcript equal the oracle's" \
	    "$(od -An -c "$WORK/td-want-0.bin.lf")" "$(od -An -c "$WORK/td-0.bin")"
	check_eq "output-tcp-data: server bytes in the transcript equal the oracle's" \
	    "$(od -An -c "$WORK/td-want-1.bin.lf")" "$(od -An -c "$WORK/td-1.bin")"
	check_eq "output-tcp-data: sessions.jsonl counts the oracle's bytes each way" \
	    "$(cat "$WORK/td-want-0.bin.len") $(cat "$WORK/td-want-1.bin.len")" \
	    "$(q td "rows(sum(D('sessions.jsonl').values(), []), 'bytes_orig', 'bytes_resp')")"
fi
done_testing
