#!/bin/bash
# IRC layer (irc.jsonl): a generated capture with every kind of message, in
# 40-byte segments so lines straddle segments, and a reconnect to a second
# server on a non-IRC port (exact records); then public captures (skipped
# when ../shared/testdata is absent): Zeek irc-basic.pcap and
# irc-dcc-send.pcapng (the lines of its irc.events baseline: NICK, USER,
# JOIN, PRIVMSG, QUIT, DCC SEND ssh.trace 1320211) and nDPI irc.pcap (port
# 8000, NICK molochtest, JOIN #moloch-fpc).  Record counts per direction
# equal the non-empty CR/LF-separated lines of each direction of the TCP
# stream as tshark reassembles it (tshark -z follow,tcp,raw).
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

I='sum(D("irc.jsonl").values(), [])'

gen irc "$WORK/irc.pcap"
cfg=$(conf irc <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay irc "$cfg" "$WORK/irc.pcap"
want=$(cat <<'EOF_'
{"ts":"2026-11-26T08:00:00.023000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","from":"irc.example.net","command":"NOTICE","target":"*","text":"*** Looking up your hostname"}
{"ts":"2026-11-26T08:00:00.034000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","command":"NICK","new_nick":"tim"}
{"ts":"2026-11-26T08:00:00.034000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tim","command":"USER","params":["tim","0","*","Tim"]}
{"ts":"2026-11-26T08:00:00.045000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","nick":"tim","from":"irc.example.net","command":"001","target":"tim","text":"Welcome tim"}
{"ts":"2026-11-26T08:00:00.056000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tim","command":"JOIN","target":"#alpha,#beta"}
{"ts":"2026-11-26T08:00:00.069000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","nick":"tim","from":"tim!tim@10.0.0.5","command":"JOIN","target":"#alpha"}
{"ts":"2026-11-26T08:00:00.069000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","nick":"tim","from":"irc.example.net","command":"332","target":"#alpha","text":"alpha topic"}
{"ts":"2026-11-26T08:00:00.069000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","nick":"tim","from":"tim!tim@10.0.0.5","command":"JOIN","target":"#beta"}
{"ts":"2026-11-26T08:00:00.081000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tim","command":"PRIVMSG","target":"#alpha","text":"hello alpha"}
{"ts":"2026-11-26T08:00:00.081000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tim","command":"PRIVMSG","target":"#beta","ctcp":"ACTION","text":"waves"}
{"ts":"2026-11-26T08:00:00.093000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","nick":"tim","from":"bob!b@198.51.100.2","command":"PRIVMSG","target":"tim","ctcp":"DCC","text":"SEND ssh.trace 167772182 35000 1320211","dcc":{"type":"SEND","file":"ssh.trace","ip":"10.0.0.22","port":35000,"size":1320211}}
{"ts":"2026-11-26T08:00:00.104000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tim","command":"NICK","new_nick":"tom"}
{"ts":"2026-11-26T08:00:00.115000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","nick":"tim","from":"tim!tim@10.0.0.5","command":"NICK","new_nick":"tom"}
{"ts":"2026-11-26T08:00:00.127000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tom","command":"TOPIC","target":"#beta","text":"beta topic"}
{"ts":"2026-11-26T08:00:00.127000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tom","command":"PART","target":"#beta","text":"bye"}
{"ts":"2026-11-26T08:00:00.127000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"203.0.113.7:6667","nick":"tom","command":"QUIT","text":"gone"}
{"ts":"2026-11-26T08:00:00.138000Z","conn_id":1,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"203.0.113.7:6667","nick":"tom","command":"ERROR","params":["Closing link"]}
{"ts":"2026-11-26T08:00:01.172000Z","conn_id":2,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"198.51.100.20:7000","command":"NICK","new_nick":"tam"}
{"ts":"2026-11-26T08:00:01.172000Z","conn_id":2,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"198.51.100.20:7000","nick":"tam","command":"USER","params":["tam","0","*","Tam"]}
{"ts":"2026-11-26T08:00:01.183000Z","conn_id":2,"honeypot":"10.0.0.5","dir":"to_honeypot","server":"198.51.100.20:7000","nick":"tam","from":"irc2.example.org","command":"001","target":"tam","text":"Hi"}
{"ts":"2026-11-26T08:00:01.194000Z","conn_id":2,"honeypot":"10.0.0.5","dir":"from_honeypot","server":"198.51.100.20:7000","nick":"tam","command":"PRIVMSG","target":"#gamma","text":"back again"}
EOF_
)
check_eq "irc.jsonl: every line, exact" "$want" "$(cat "$WORK"/irc/*/irc.jsonl 2>&1)"
check_eq "both sessions guessed irc" "irc irc" \
    "$(q irc 'rows(sum(D("sessions.jsonl").values(), []), "protocol").replace(";", " ")')"

if [ ! -d "$TESTDATA" ]; then
	skip "public IRC captures" "no test data in $TESTDATA"
	done_testing
	exit 0
fi

# public NAME FILE HONEYNET: replay FILE (under testdata) into $WORK/NAME.
public() {
	local cfg
	if [ ! -f "$TESTDATA/$2" ]; then
		skip "$2" "not in $TESTDATA"
		return 1
	fi
	cfg=$(conf "$1" <<EOF_
[honeynet]
networks = $3
EOF_
)
	replay "$1" "$cfg" "$TESTDATA/$2"
}

if public basic zeek-traces/traces/irc-basic.pcap 192.168.6.110/32; then
	check_eq "irc-basic: lines from the client" 5 "$(q basic "len([r for r in $I if r['dir'] == 'from_honeypot'])")"
	check_eq "irc-basic: lines from the server" 59 "$(q basic "len([r for r in $I if r['dir'] == 'to_honeypot'])")"
	check_eq "irc-basic: the client's commands (Zeek baseline)" \
	    "USER - -;NICK - -;JOIN #brotest -;PRIVMSG #brotest test;QUIT - quitting" \
	    "$(q basic "rows([r for r in $I if r['dir'] == 'from_honeypot'], 'command', 'target', 'text')")"
	check_eq "irc-basic: nick and server" "brotest 130.239.18.119:6667" \
	    "$(q basic "rows([r for r in $I if r['command'] == 'PRIVMSG'], 'nick', 'server')")"
	check_eq "irc-basic: USER" "brotest|*|*|brotest" \
	    "$(q basic "'|'.join([r for r in $I if r['command'] == 'USER'][0]['params'])")"
fi

if public dcc zeek-traces/traces/irc-dcc-send.pcapng 10.0.0.7/32; then
	check_eq "irc-dcc-send: lines from the client" 23 "$(q dcc "len([r for r in $I if r['dir'] == 'from_honeypot'])")"
	check_eq "irc-dcc-send: lines from the server" 98 "$(q dcc "len([r for r in $I if r['dir'] == 'to_honeypot'])")"
	check_eq "irc-dcc-send: DCC SEND (Zeek: ssh.trace 1320211)" \
	    "SEND ssh.trace 10.0.0.7 59130 1320211;CHAT CHAT 10.0.0.7 59214 -" \
	    "$(q dcc "rows([r['dcc'] for r in $I if r.get('ctcp') == 'DCC'], 'type', 'file', 'ip', 'port', 'size')")"
	check_eq "irc-dcc-send: nick from NICK, messages to #testing both ways" \
	    "tim2 #testing 4;tim2 #testing 2" \
	    "$(q dcc "'tim2 #testing %d;tim2 #testing %d' % (len([r for r in $I if r['command'] == 'PRIVMSG' and r['target'] == '#testing' and r['dir'] == 'from_honeypot' and r['nick'] == 'tim2']), len([r for r in $I if r['command'] == 'PRIVMSG' and r['target'] == '#testing' and r.get('from', '').startswith('tim1!')]))")"
	check_eq "irc-dcc-send: the other side's lines (Zeek baseline)" \
	    "do we still need more packets?;maybe we do" \
	    "$(q dcc "';'.join(r['text'] for r in $I if r.get('from', '').startswith('tim1!'))")"
	check_eq "irc-dcc-send: QUIT" "leaving" "$(q dcc "[r['text'] for r in $I if r['command'] == 'QUIT'][0]")"
fi

if public ndpi ndpi-pcaps/pcap/irc.pcap 10.180.156.249/32; then
	check_eq "nDPI irc: lines from the client" 5 "$(q ndpi "len([r for r in $I if r['dir'] == 'from_honeypot'])")"
	check_eq "nDPI irc: lines from the server" 80 "$(q ndpi "len([r for r in $I if r['dir'] == 'to_honeypot'])")"
	check_eq "nDPI irc: port 8000, NICK molochtest, JOIN #moloch-fpc" \
	    "38.229.70.20:8000 molochtest #moloch-fpc" \
	    "$(q ndpi "rows([r for r in $I if r['command'] == 'JOIN' and r['dir'] == 'from_honeypot'], 'server', 'nick', 'target')")"
	check_eq "nDPI irc: the 332 topic" "Try Moloch! https://moloch.wow.com/?date=-1  user: moloch  pass: moloch" \
	    "$(q ndpi "[r['text'] for r in $I if r['command'] == '332'][0]")"
fi
done_testing
