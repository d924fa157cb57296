#!/bin/bash
# Telnet live: a real telnetd (inetutils) on the honeypot, doing its own
# option negotiation, with a small login script in place of login(1) (a
# prompt for a name and a password, then sh -i); the attacker, outside,
# drives the Debian telnet client with expect: logs in, types "unamx",
# DEL, "e -a" (a typo erased), "echo hello-from-the-honeypot", "cd /tmpp",
# BS, Enter, "exit".  Checks that keystrokes.jsonl holds exactly the typed
# lines (the server's echo never counted), the raw keys keep the DEL, the
# transcript shows the server's output without an IAC byte, sessions.jsonl
# guessed telnet, and status counts the keystroke lines and the transcript.
# The namespaces and every process go at exit, pass or fail (lib-netns.sh's
# EXIT trap).
#
# Run as root from the repo root: FB_BUILD=build bash tests/netns/telnet.sh
# (FBN_KEEP=1 keeps the work directory: configs, data, logs.)
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "telnet" "needs root"
	done_testing; exit 0
fi
for t in ip socat expect telnet /usr/sbin/telnetd python3 ss; do
	if ! command -v $t >/dev/null; then
		skip "telnet" "$t missing (scripts/deps.sh installs it)"
		done_testing; exit 0
	fi
done
if [ ! -x "$FISHBOWL" ]; then
	not_ok "fishbowl is built" "no executable $FISHBOWL"
	done_testing; exit 1
fi

FBN_PREFIX=${FBN_PREFIX:-fbtn$$}
FBN_FISHBOWL=$FISHBOWL
. "$FB_ROOT/tests/netns/lib-netns.sh"
fbn_init || { not_ok "work directory"; done_testing; exit 1; }
if ! fbn_up; then
	not_ok "test bed: namespaces, veth pairs, addresses"
	done_testing; exit 1
fi
ok "test bed: outside, gateway and honeypot namespaces"
W=$FBN_WORK

# --- the honeypot's telnet server -----------------------------------------
# telnetd looks up the peer's name: answer from a hosts file of the
# honeypot's namespace (ip netns exec mounts /etc/netns/NAME/* over /etc),
# so no DNS query leaves (it would also make the honeypot "compromised").
NSETC=/etc/netns/$FBN_HP
mkdir -p "$NSETC"
printf '127.0.0.1 localhost\n%s attacker.test\n%s hp\n' "$FBN_ATTACKER" "$FBN_HP_ADDR" >"$NSETC/hosts"
printf 'nameserver 127.0.0.1\n' >"$NSETC/resolv.conf"
trap 'fbn_cleanup; rm -rf "$NSETC"; rmdir /etc/netns 2>/dev/null' EXIT
# telnetd runs this instead of /bin/login, on the pty it negotiated.
cat >"$W/login.sh" <<'EOF_'
#!/bin/sh
printf 'hp login: '
read -r user
stty -echo
printf 'Password: '
read -r pass
stty echo
printf '\nWelcome to hp, %s\n' "$user"
PS1='hp$ '
export PS1
cd / && exec /bin/sh -i
EOF_
chmod 0755 "$W/login.sh"
# socat accepts, then (nofork) execs telnetd with the TCP socket as its
# stdin/stdout, the way inetd starts it.
fbn_bg "$FBN_HP" socat TCP-LISTEN:23,bind=$FBN_HP_ADDR,reuseaddr,fork \
    EXEC:"/usr/sbin/telnetd -h -E $W/login.sh",nofork
if fbn_wait_port "$FBN_HP" 23; then
	ok "honeypot: telnetd listens on $FBN_HP_ADDR:23"
else
	not_ok "honeypot: telnetd listens"
fi

fbn_conf telnet <<'EOF_'
[control]
tcp = 100/hour
udp = 100/hour
icmp = 100/hour
other = block
EOF_
if fbn_start; then ok "fishbowl runs as the gateway"; else not_ok "fishbowl runs"; done_testing; exit 1; fi

# --- the attacker types -----------------------------------------------------
cat >"$W/attack.exp" <<'EOF_'
# expect (Tcl): attack.exp ADDR
set timeout 10
log_user 1
# want -ex|-re PATTERN WHAT: wait for the server's output, else fail.
proc want {how pat what} {
	expect {
		$how $pat {}
		timeout { puts "EXPECT-FAIL $what: timeout"; exit 1 }
		eof { puts "EXPECT-FAIL $what: connection closed"; exit 1 }
	}
}
# one key at a time, as a person types (character mode)
proc type {s} {
	foreach c [split $s ""] {
		send -- $c
		after 30
	}
}
spawn telnet [lindex $argv 0] 23
want -ex "login: " "login prompt"
type "intruder\r"
want -ex "Password: " "password prompt"
type "s3cret\r"
want -ex "hp$ " "shell prompt"
type "unamx\177e -a\r"
want -re {Linux[^\n]*\n.*hp\$ } "uname"
type "echo hello-from-the-honeypot\r"
want -re {\nhello-from-the-honeypot\r?\n.*hp\$ } "echo"
type "cd /tmpp\b\r"
want -ex "hp$ " "cd"
type "exit\r"
expect {
	eof {}
	timeout { puts "EXPECT-FAIL exit: timeout"; exit 1 }
}
puts "EXPECT-DONE"
EOF_
inO expect "$W/attack.exp" "$FBN_HP_ADDR" >"$W/expect.log" 2>&1
check_eq "the telnet client logged in, ran the commands and left" "EXPECT-DONE" \
    "$(grep -ao 'EXPECT-[A-Z]*.*' "$W/expect.log" | tail -1)"
sleep 0.5
check_eq "status: the six keystroke lines and the transcript counted" "6 1" \
    "$(fbn_json "'%s %s' % (g(s, 'layers.keystroke_lines', -1), g(s, 'layers.transcripts', -1))")"
if fbn_stop; then ok "fishbowl stops cleanly"; else not_ok "fishbowl stops cleanly" "$(tail -5 "$FBN_FB_LOG")"; fi

# --- what the layers recorded ----------------------------------------------
day=$(ls -d "$FBN_DATA"/????-??-?? 2>/dev/null | tail -1)
KQ='[json.loads(l) for l in open(sys.argv[1] + "/keystrokes.jsonl")]'
kq() { python3 -c "import json, sys; R = $KQ; print($1)" "$day" 2>&1; }
check_eq "keystrokes.jsonl: exactly the typed lines" \
    "intruder;s3cret;uname -a;echo hello-from-the-honeypot;cd /tmp;exit" \
    "$(kq "';'.join(r['line'] for r in R)")"
check_eq "keystrokes.jsonl: telnet, from the attacker to the honeypot's port 23" \
    "telnet $FBN_ATTACKER $FBN_HP_ADDR 23" \
    "$(kq "' '.join(sorted(set('%s %s %s %s' % (r['source'], r['src'], r['dst'], r['dport']) for r in R)))")"
check_eq "keystrokes.jsonl: the raw keys keep the DEL and the BS" "unamx\\x7fe -a|cd /tmpp\\x08" \
    "$(kq "'|'.join(r['raw'].rstrip('\\r\\n\\0').encode('unicode_escape').decode().replace('\\\\\\\\', '\\\\') for r in R if r['line'] in ('uname -a', 'cd /tmp'))")"
tr=$(ls "$day"/sessions/*-23.txt 2>/dev/null | head -1)
check_eq "transcript: no IAC byte, raw or escaped" "0 0" \
    "$(tr -cd '\377' <"$tr" | wc -c) $(grep -c '\\xff' "$tr")"
check_eq "transcript: the server's output (echo's line, uname's)" "1 1" \
    "$(grep -c '^hello-from-the-honeypot$' "$tr") $(grep -c "^Linux " "$tr")"
check_eq "sessions.jsonl: one telnet session" "telnet" \
    "$(python3 -c "import json, sys; print(';'.join(json.loads(l)['protocol'] for l in open(sys.argv[1] + '/sessions.jsonl')))" "$day" 2>&1)"
done_testing
