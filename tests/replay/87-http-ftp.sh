#!/bin/bash
# HTTP, FTP and file carving (http.jsonl, ftp.jsonl, files.jsonl, files/):
# a generated capture (tests/gen/mkpcap.py http_ftp: pipelined GETs, one
# gzip body in odd chunks, an FTP PASV + RETR with its data connection
# between the 150 and 226 replies, a PORT bounce), exact records, carved
# bytes hashed against the generator's own bodies; then public captures
# (skipped when ../shared/testdata is absent): Zeek ftp/ipv4.pcap against
# its ftp.log baseline (commands, arguments, replies, the two robots.txt
# downloads of 77 bytes, text/plain, hashed by tshark's reassembly),
# suricata-verify ftp/ftp-bounce (the PORT to a third host flagged, the
# other not) and output-eve-ftp's capture (8 records: USER, PASS, NLST,
# two PORT, RETR, QUIT and the greeting).
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen http_ftp "$WORK/hf.pcap"
cfg=$(conf hf <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay hf "$cfg" "$WORK/hf.pcap"
day="$WORK/hf/2026-11-26"
read -r SH GZ TGZ <<<"$(cd "$GEN_DIR" && python3 -c '
import hashlib, mkpcap
print(*(hashlib.sha256(b).hexdigest() for b in
      (mkpcap.HTTP_SH, mkpcap.HTTP_GZ_PLAIN, mkpcap.TOOLKIT_TGZ)))')"
H='"conn":1,"honeypot":"10.0.0.5","client":"10.0.0.5","cport":40010,"server":"203.0.113.80","sport":80'
want=$(cat <<EOF_
{"ts":"2026-11-26T08:00:00.023000Z",$H,"method":"GET","host":"203.0.113.80","uri":"/toolkit.sh","version":"HTTP/1.1","user_agent":"Wget/1.21.3","request_body_len":0,"status":200,"reason":"OK","content_type":"text/plain","response_body_len":67,"response_file":"$SH"}
{"ts":"2026-11-26T08:00:00.023000Z",$H,"method":"GET","host":"203.0.113.80","uri":"/t.gz","version":"HTTP/1.1","user_agent":null,"request_body_len":0,"status":200,"reason":"OK","content_type":"application/octet-stream","response_body_len":48,"response_file":"$GZ"}
EOF_
)
check_eq "http.jsonl: both pipelined exchanges, exact" "$want" "$(cat "$day/http.jsonl" 2>&1)"
F='"conn":2,"honeypot":"10.0.0.5","client":"10.0.0.5","cport":40020,"server":"203.0.113.21","sport":21'
want=$(cat <<EOF_
{"ts":"2026-11-26T08:00:02.202000Z",$F,"command":null,"reply":220,"reply_text":"(vsFTPd 3.0.3)"}
{"ts":"2026-11-26T08:00:02.303000Z",$F,"user":"anonymous","command":"USER","arg":"anonymous","reply":331,"reply_text":"Please specify the password."}
{"ts":"2026-11-26T08:00:02.505000Z",$F,"user":"anonymous","command":"PASS","arg":"toor@","reply":230,"reply_text":"Login successful."}
{"ts":"2026-11-26T08:00:02.707000Z",$F,"user":"anonymous","command":"TYPE","arg":"I","reply":200,"reply_text":"Switching to Binary mode."}
{"ts":"2026-11-26T08:00:02.909000Z",$F,"user":"anonymous","command":"PASV","reply":227,"reply_text":"Entering Passive Mode (203,0,113,21,195,80)."}
{"ts":"2026-11-26T08:00:03.111000Z",$F,"user":"anonymous","command":"RETR","arg":"toolkit.tgz","prelim_reply":150,"reply":226,"reply_text":"Transfer complete."}
{"ts":"2026-11-26T08:00:03.414000Z",$F,"user":"anonymous","command":"PORT","arg":"192,0,2,25,0,25","reply":200,"reply_text":"PORT command successful. Consider using PASV."}
{"ts":"2026-11-26T08:00:03.616000Z",$F,"user":"anonymous","command":"QUIT","reply":221,"reply_text":"Goodbye."}
EOF_
)
check_eq "ftp.jsonl: every command and reply, exact" "$want" "$(cat "$day/ftp.jsonl" 2>&1)"
want=$(cat <<EOF_
{"ts":"2026-11-26T08:00:00.037000Z","end":"2026-11-26T08:00:00.037000Z","conn":1,"proto":"http","direction":"download","honeypot":"10.0.0.5","src":"203.0.113.80","sport":80,"dst":"10.0.0.5","dport":40010,"name":"http://203.0.113.80/toolkit.sh","size":67,"announced":67,"sha256":"$SH","mime":"text/x-shellscript","complete":true}
{"ts":"2026-11-26T08:00:00.037000Z","end":"2026-11-26T08:00:00.037000Z","conn":1,"proto":"http","direction":"download","honeypot":"10.0.0.5","src":"203.0.113.80","sport":80,"dst":"10.0.0.5","dport":40010,"name":"http://203.0.113.80/t.gz","size":1088,"encoding":"gzip","sha256":"$GZ","mime":"text/plain","complete":true}
{"ts":"2026-11-26T08:00:03.127000Z","end":"2026-11-26T08:00:03.819000Z","conn":3,"ctrl_conn":2,"proto":"ftp","direction":"download","honeypot":"10.0.0.5","src":"203.0.113.21","sport":50000,"dst":"10.0.0.5","dport":40021,"name":"toolkit.tgz","size":3010,"sha256":"$TGZ","mime":"application/gzip","complete":true}
EOF_
)
check_eq "files.jsonl: three files, exact" "$want" "$(cat "$day/files.jsonl" 2>&1)"
check_eq "files/: each file's SHA-256 is its name, nothing else there" \
    "$(printf '%s\n' "$SH" "$GZ" "$TGZ" | sort | tr '\n' ' ')" \
    "$(cd "$day/files" && sha256sum -- * .[!.]* 2>/dev/null | awk '$1 == $2 {print $1} $1 != $2 {print "BAD:" $2}' | sort | tr '\n' ' ')"
check_eq "protocols: http, ftp, ftp-data" "http ftp ftp-data" \
    "$(q hf 'rows(sorted(sum(D("sessions.jsonl").values(), []), key=lambda r: r["id"]), "protocol").replace(";", " ")')"
check_eq "ftp-bounce alert: PORT to 192.0.2.25:25" "1 192.0.2.25 25 2" \
    "$(q hf 'str(n(A, type="ftp-bounce")) + " " + rows(sel(A, type="ftp-bounce"), "target", "target_port", "ctrl_conn")')"

if [ ! -d "$TESTDATA" ]; then
	skip "public FTP captures" "no test data in $TESTDATA"
	done_testing
	exit 0
fi

public() {	# public NAME FILE HONEYNET
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
FTPQ='sum(D("ftp.jsonl").values(), [])'

ZP=zeek-traces/traces/ftp/ipv4.pcap
if public zeek "$ZP" 141.142.220.235/32; then
	# Zeek's ftp.log (baselines/scripts.base.protocols.ftp.ftp-ipv4) logs
	# the data-channel commands: the same commands, arguments and replies.
	check_eq "zeek ipv4: PASV/PORT/RETR as in ftp.log" \
	    "PASV - 227 Entering Passive Mode (199,233,217,249,221,90);PASV - 227 Entering Passive Mode (199,233,217,249,221,91);RETR robots.txt 226 Transfer complete.;PORT 141,142,220,235,131,46 200 PORT command successful.;PORT 141,142,220,235,147,203 200 PORT command successful.;RETR robots.txt 226 Transfer complete." \
	    "$(q zeek "';'.join('%s %s %s %s' % (r['command'], r.get('arg', '-'), r['reply'], r['reply_text']) for r in $FTPQ if r['command'] in ('PASV', 'PORT', 'RETR'))")"
	check_eq "zeek ipv4: user and password as in ftp.log" "anonymous test" \
	    "$(q zeek "' '.join(r['arg'] for r in $FTPQ if r['command'] in ('USER', 'PASS'))")"
	rob=$(tshark -r "$TESTDATA/$ZP" -q -z follow,tcp,raw,2 2>/dev/null | sed -n '7,$p' |
	    grep -v '^=' | tr -d '\t ' | xxd -r -p | sha256sum | cut -c1-64)
	check_eq "zeek ipv4: both RETRs carved, 77 bytes, text/plain, tshark's bytes, with the control connection" \
	    "robots.txt 77 text/plain $rob 1 true;robots.txt 77 text/plain $rob 1 true" \
	    "$(q zeek 'rows(sum(D("files.jsonl").values(), []), "name", "size", "mime", "sha256", "ctrl_conn", "complete")')"
	check_eq "zeek ipv4: four data connections, listings not carved" "ftp-data ftp-data ftp-data ftp-data" \
	    "$(q zeek "' '.join(r['protocol'] for r in sum(D('sessions.jsonl').values(), []) if r['protocol'] == 'ftp-data')")"
fi

if public bounce suricata-verify/tests/ftp/ftp-bounce/test.pcap 1.1.1.2/32; then
	check_eq "ftp-bounce: the PORT of port 58316 is flagged, that of 33112 is not" \
	    "1 58316 2.2.2.3 80" \
	    "$(q bounce 'str(n(A, type="ftp-bounce")) + " " + rows(sel(A, type="ftp-bounce"), "sport", "target", "target_port")')"
	check_eq "ftp-bounce: both PORT commands recorded with reply 200" \
	    "33112 1,1,1,2,232,157 200;58316 2,2,2,3,0,80 200" \
	    "$(q bounce "';'.join('%d %s %d' % (r['cport'], r['arg'], r['reply']) for r in $FTPQ if r['command'] == 'PORT')")"
fi

if public eve suricata-verify/tests/bug-3519/input.pcap 192.168.0.13/32; then
	# output-eve-ftp/test.yaml: 8 ftp events: USER, PASS, NLST, 2 PORT,
	# RETR, QUIT (and the greeting's).
	check_eq "output-eve-ftp: 8 records" 8 "$(q eve "len($FTPQ)")"
	check_eq "output-eve-ftp: the commands" "None USER PASS PORT NLST PORT RETR QUIT" \
	    "$(q eve "' '.join(str(r['command']) for r in $FTPQ)")"
	check_eq "output-eve-ftp: PASS anonymous 230 Login successful." "anonymous 230 Login successful." \
	    "$(q eve "' '.join('%s %d %s' % (r['arg'], r['reply'], r['reply_text']) for r in $FTPQ if r['command'] == 'PASS')")"
	check_eq "output-eve-ftp: NLST 150 then 226 Directory send OK." "150 226 Directory send OK." \
	    "$(q eve "' '.join('%d %d %s' % (r['prelim_reply'], r['reply'], r['reply_text']) for r in $FTPQ if r['command'] == 'NLST')")"
fi

done_testing
