#!/bin/bash
# irc: a real IRC server (ngircd) outside, a scripted client on the
# honeypot joining two channels and talking through the fishbowl gateway,
# and a second client outside talking back on one channel.  irc.jsonl must
# hold exactly the lines the honeypot's client sent, the welcome naming its
# nick, the server's JOIN echoes for both channels and the outside user's
# message, all on one connection to the server's address:port.
#
# Run as root from the repo root: FB_BUILD=build bash tests/netns/irc.sh
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "irc" "needs root"
	done_testing; exit 0
fi
for t in ip ngircd python3 ss; do
	if ! command -v $t >/dev/null; then
		skip "irc" "$t missing"
		done_testing; exit 0
	fi
done
if [ ! -x "$FISHBOWL" ]; then
	not_ok "fishbowl is built" "no executable $FISHBOWL"
	done_testing; exit 1
fi

FBN_PREFIX=${FBN_PREFIX:-fbirc$$}
FBN_FISHBOWL=$FISHBOWL
. "$FB_ROOT/tests/netns/lib-netns.sh"
fbn_init || { not_ok "work directory"; done_testing; exit 1; }
if ! fbn_up; then
	not_ok "test bed: namespaces, veth pairs, addresses"
	done_testing; exit 1
fi
W=$FBN_WORK
SRV=203.0.113.7

# ngircd outside, on one "Internet" address, no DNS/ident lookups.
cat >"$W/ngircd.conf" <<EOF_
[Global]
Name = irc.fishbowl.test
Info = fishbowl test server
Listen = $SRV
Ports = 6667
PidFile = $W/ngircd.pid
MotdPhrase = no motd
[Limits]
PingTimeout = 120
PongTimeout = 20
[Options]
DNS = no
Ident = no
PAM = no
EOF_
fbn_bg "$FBN_OUT" sh -c "exec ngircd -n -f '$W/ngircd.conf' >'$W/ngircd.log' 2>&1"
if fbn_wait_port "$FBN_OUT" 6667; then
	ok "ngircd listens on $SRV:6667"
else
	not_ok "ngircd listens on $SRV:6667"; done_testing; exit 1
fi

# Outbound TCP counts against [control] tcp: generous for this test.
fbn_conf irc <<'EOF_'
[control]
tcp = 100/hour
EOF_
if fbn_start; then ok "fishbowl runs"; else not_ok "fishbowl runs"; done_testing; exit 1; fi

# A client: sends its script's lines, each after the server said what the
# line before waits for ("" = nothing); prints nothing, exits at EOF.
cat >"$W/client.py" <<'EOF_'
import socket, sys, time
host, nick, script = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.create_connection((host, 6667), timeout=10)
buf = b""
def wait_for(what):
    global buf
    while what.encode() not in buf:
        d = s.recv(4096)
        if not d:
            sys.exit("closed waiting for %r" % what)
        buf += d
        for l in buf.split(b"\r\n"):
            if l.startswith(b"PING "):
                s.sendall(b"PONG " + l[5:] + b"\r\n")
for line in open(script, encoding="utf-8").read().splitlines():
    send, _, wait = line.partition("\t")
    if send:
        s.sendall(send.encode() + b"\r\n")
    if wait:
        wait_for(wait)
time.sleep(0.3)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
EOF_

# Honeypot client: TAB separates a line from what to wait for after it.
printf '%s\n' \
    "NICK tim	" \
    "USER tim 0 * :Tim Intruder	 001 tim " \
    "JOIN #alpha	JOIN :#alpha" \
    "JOIN #beta	JOIN :#beta" \
    "	bob!" \
    "PRIVMSG #alpha :hello alpha, we own 10.99.0.130	" \
    "PRIVMSG #beta :hello beta	" \
    "PRIVMSG #alpha :ACTION waves	" \
    "PRIVMSG bob :psst	psst back" \
    "QUIT :gone	" >"$W/tim.txt"
# The ACTION line carries CTCP quotes (\001) around it.
sed -i 's/:ACTION waves/:\x01ACTION waves\x01/' "$W/tim.txt"
printf '%s\n' \
    "NICK bob	" \
    "USER bob 0 * :Bob	 001 bob " \
    "JOIN #alpha	JOIN :#alpha" \
    "	tim!" \
    "PRIVMSG #alpha :hi tim	psst" \
    "PRIVMSG tim :psst back	gone" \
    "QUIT :bye	" >"$W/bob.txt"

ip netns exec "$FBN_HP" python3 "$W/client.py" $SRV tim "$W/tim.txt" >"$W/tim.log" 2>&1 &
tim=$!
sleep 0.5
ip netns exec "$FBN_OUT" python3 "$W/client.py" $SRV bob "$W/bob.txt" >"$W/bob.log" 2>&1 &
bob=$!
if wait $tim && wait $bob; then
	ok "both clients ran their scripts"
else
	not_ok "both clients ran their scripts" "$(cat "$W/tim.log" "$W/bob.log")"
fi
sleep 0.5
fbn_stop
check_eq "fishbowl stops cleanly" 0 $?

cat >"$W/check.py" <<'EOF_'
import glob, json, sys
recs = [json.loads(l) for p in sorted(glob.glob(sys.argv[1] + "/*/irc.jsonl")) for l in open(p)]
what = sys.argv[2]
def line(r):
    out = [r["command"]]
    for k in ("target", "key", "new_nick"):
        if k in r:
            out.append(r[k])
    if "params" in r:
        out = [r["command"]] + r["params"][:-1] + [":" + r["params"][-1]] if r["params"] else [r["command"]]
    if "ctcp" in r:
        out.append(":\x01" + r["ctcp"] + (" " + r["text"] if "text" in r else "") + "\x01")
    elif "text" in r:
        out.append(":" + r["text"])
    return " ".join(out)
if what == "sent":
    for r in recs:
        if r["dir"] == "from_honeypot":
            print(line(r))
elif what == "conns":
    print(" ".join(sorted({"%s %s" % (r["conn_id"], r["server"]) for r in recs})))
elif what == "got":
    for r in recs:
        if r["dir"] == "to_honeypot" and r["command"] in ("001", "JOIN", "PRIVMSG"):
            print(r.get("nick", "-"), r.get("from", "").split("!")[0], r["command"],
                  r.get("target", ""), r.get("text", ""))
EOF_
# the script's lines without what they wait for
want=$(sed 's/\t.*//; /^$/d' "$W/tim.txt")
check_eq "irc.jsonl: exactly the lines the honeypot sent" "$want" \
    "$(python3 "$W/check.py" "$FBN_DATA" sent)"
check_eq "irc.jsonl: one connection, to the server's address" "1 $SRV:6667" \
    "$(python3 "$W/check.py" "$FBN_DATA" conns | sed 's/^[0-9]* /1 /')"
# (sorted: bob's JOIN may come before or after tim's second one)
check_eq "irc.jsonl: welcome, both joins, bob's messages" \
    "tim bob JOIN #alpha 
tim bob PRIVMSG #alpha hi tim
tim bob PRIVMSG tim psst back
tim irc.fishbowl.test 001 tim Welcome to the Internet Relay Network tim!~tim@10.99.0.130
tim tim JOIN #alpha 
tim tim JOIN #beta " \
    "$(python3 "$W/check.py" "$FBN_DATA" got | LC_ALL=C sort)"
done_testing
