#!/bin/bash
# Sebek (sebek.jsonl, keystrokes.jsonl): records built from the v3 wire
# format (tests/gen/mkpcap.py "sebek") are captured and dropped (reason
# sebek, none forwarded, all in the pcap); each accepted record is decoded
# exactly, and cross-checked against tshark's sebek dissector (skipped when
# tshark or its dissector is missing); keystrokes become one line per
# process through keys.c; a record for the honeypot from another MAC is
# rejected and alerted; version 2 and bad lengths are not records.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen sebek "$WORK/sebek.pcap"
cfg=$(conf sebek <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay sebek "$cfg" "$WORK/sebek.pcap"
check_eq "every frame dropped" 18 "$(status_num sebek dropped frames)"
check_eq "none forwarded" 0 "$(status_num sebek forwarded frames)"
check_eq "drop reason sebek, 18" 18 "$(sed -n 's/^  sebek  *\([0-9]*\)$/\1/p' "$WORK/sebek.log")"
check_eq "all 18 frames in the pcap" 18 "$(tcpdump_count "$WORK"/sebek/*/packets/*.pcap)"

R='sel(sum(D("sebek.jsonl").values(), []), kind="record")'
check_eq "15 records accepted (forged, v2 and bad length are not)" 15 "$(q sebek "len($R)")"
check_eq "first record, exact" \
'{"ts":"2026-11-26T08:00:00.000000Z","kind":"record","honeypot":"10.0.0.5","mac":"02:00:00:00:00:05","magic":3503345872,"counter":1,"time":"2026-11-26T08:00:02.000000Z","skew_ms":2000,"ppid":1,"pid":300,"uid":0,"fd":0,"inode":77,"com":"bash","type":"read","length":1,"data":"u"}' \
    "$(head -1 "$WORK"/sebek/*/sebek.jsonl)"
check_eq "socket record" \
    '{"dst":"203.0.113.7","dst_port":6667,"src":"10.0.0.5","src_port":40000,"call":3,"proto":6}' \
    "$(grep '"type":"socket"' "$WORK"/sebek/*/sebek.jsonl | sed 's/.*"socket":\({[^}]*}\).*/\1/')"
check_eq "write record data escaped" 1 \
    "$(grep -c '"type":"write","length":13,"data":"Linux hp 6.1\\n"}' "$WORK"/sebek/*/sebek.jsonl)"
check_eq "sbk_ks_log lines per process" \
    "id;unx[BS]ame -a[L-ARROW]" \
    "$(q sebek 'rows(sel(sum(D("sebek.jsonl").values(), []), kind="line"), "line")')"
want=$(cat <<'EOF_'
{"ts":"2026-11-26T08:00:00.040000Z","start":"2026-11-26T08:00:00.040000Z","honeypot":"10.0.0.5","source":"sebek","pid":301,"uid":1000,"fd":0,"inode":78,"command":"sh","line":"id","raw":"id\n"}
{"ts":"2026-11-26T08:00:00.120000Z","start":"2026-11-26T08:00:00.000000Z","honeypot":"10.0.0.5","source":"sebek","pid":300,"uid":0,"fd":0,"inode":77,"command":"bash","line":"uname -a","raw":"unx\u007fame -a\u001b[D\r"}
EOF_
)
check_eq "keystrokes.jsonl: one edited line per process" "$want" "$(cat "$WORK"/sebek/*/keystrokes.jsonl)"
check_eq "forged record alerted once" 1 "$(grep -c '"type":"sebek-forged"' "$WORK"/sebek/*/alerts.jsonl)"
check_eq "forged record's keys nowhere" 0 "$(cat "$WORK"/sebek/*/*.jsonl | grep -c 'rm -rf')"

# The independent decoder: tshark's sebek dissector on the same frames.
if ! command -v tshark >/dev/null 2>&1 || \
    ! tshark -G fields 2>/dev/null | grep -q $'\tsebek.counter\t'; then
	skip "tshark sebek cross-check" "tshark or its sebek dissector is missing"
else
	# Frames 1-15 are the honeypot's own version-3 records.
	ts=$(tshark -r "$WORK/sebek.pcap" -d udp.port==1101,sebek -Y 'frame.number <= 15' \
	    -T fields -E separator=' ' -e sebek.counter -e sebek.pid -e sebek.uid \
	    -e sebek.fd -e sebek.inode -e sebek.cmd -e sebek.len 2>/dev/null | paste -sd';')
	check_eq "header fields equal tshark's" "$ts" \
	    "$(q sebek "rows($R, 'counter', 'pid', 'uid', 'fd', 'inode', 'com', 'length')")"
	ts=$(tshark -r "$WORK/sebek.pcap" -d udp.port==1101,sebek -Y 'sebek.type == 2' \
	    -T fields -E separator=' ' -e sebek.socket.dst_ip -e sebek.socket.dst_port \
	    -e sebek.socket.src_ip -e sebek.socket.src_port -e sebek.socket.call \
	    -e sebek.socket.ip_proto 2>/dev/null)
	check_eq "socket fields equal tshark's" "$ts" \
	    "$(q sebek "' '.join(str(r['socket'][k]) for r in sel($R, type='socket') for k in ('dst', 'dst_port', 'src', 'src_port', 'call', 'proto'))")"
	echo "# cross-checked with $(tshark -v 2>/dev/null | head -1)"
fi
done_testing
