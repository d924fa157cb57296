#!/bin/bash
# Outbound TCP limit: honeypot 10.0.0.5 opens 5 connections (10 s apart) with
# tcp = 3/hour: the first 3 are forwarded and alerted HIGH, the 4th and 5th
# dropped; one CRITICAL "blocked"; the honeypot goes clean -> compromised ->
# contained, once each.  Also `fishbowl check` on a good and a bad config.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen tcp_limit "$WORK/in.pcap"
cfg=$(conf limit <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
honeypots = 10.0.0.5

[control]
tcp = 3/hour
EOF_
)
out=$("$FISHBOWL" check -c "$cfg" 2>&1)
check_eq "check accepts the config" "$cfg: ok" "$out"
bad=$(conf bad <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 3/fortnight
EOF_
)
out=$("$FISHBOWL" check -c "$bad" 2>&1); rc=$?
check_eq "check rejects a bad period (exit 1)" 1 "$rc"
# fishbowl.conf(5) ERRORS: the line starts with FILE:LINE (no program
# name before it), so editors and scripts can jump to it.
case $out in
"$bad:5: [control] tcp = 3/fortnight: "?*) ok "check: the error line starts FILE:LINE: [section] key = value: why" ;;
*) not_ok "check: the error line starts FILE:LINE: [section] key = value: why" "got: $out" ;;
esac
check_eq "check: exactly one line" 1 "$(printf '%s\n' "$out" | wc -l)"

replay limit "$cfg" "$WORK/in.pcap"
check_eq "5 conn records, all outbound tcp from the honeypot" 5 \
    "$(q limit 'n(C, dir="outbound", proto="tcp", honeypot="10.0.0.5", src="10.0.0.5")')"
check_eq "no other conn records" 5 "$(q limit 'len(C)')"
check_eq "3 forwarded within the limit, 2 dropped by it" \
    "8001 forward within-limit;8002 forward within-limit;8003 forward within-limit;8004 drop limit;8005 drop limit" \
    "$(q limit 'rows(sorted(C, key=lambda c: c["dport"]), "dport", "verdict", "reason")')"
check_eq "counted: the forwarded ones" "true true true false false" \
    "$(q limit '" ".join(rows([c], "counted") for c in sorted(C, key=lambda c: c["dport"]))')"
# SYN ACK data FIN ACK from the honeypot; SYN-ACK data FIN from outside
check_eq "packets and drops per side" \
    "8001 5 3 0 0;8002 5 3 0 0;8003 5 3 0 0;8004 5 3 5 0;8005 5 3 5 0" \
    "$(q limit 'rows(sorted(C, key=lambda c: c["dport"]), "dport", "pkts_orig", "pkts_resp", "dropped_orig", "dropped_resp")')"
check_eq "conn records: 5-tuple" \
    "10.0.0.5 40001 198.51.100.1 8001;10.0.0.5 40002 198.51.100.2 8002;10.0.0.5 40003 198.51.100.3 8003;10.0.0.5 40004 198.51.100.4 8004;10.0.0.5 40005 198.51.100.5 8005" \
    "$(q limit 'rows(sorted(C, key=lambda c: c["dport"]), "src", "sport", "dst", "dport")')"
check_eq "start times (RFC 3339 UTC)" "08:00:00 08:00:10 08:00:20 08:00:30 08:00:40" \
    "$(q limit '" ".join(c["ts"][11:19] for c in sorted(C, key=lambda c: c["dport"]) if c["ts"].startswith("2026-11-26T") and c["ts"].endswith("Z"))')"
check_eq "3 outbound alerts, HIGH" "3 3" \
    "$(q limit '"%d %d" % (n(A, type="outbound"), n(A, type="outbound", prio="high"))')"
check_eq "outbound alerts name the honeypot and the ports" "8001 8002 8003" \
    "$(q limit '" ".join(str(a.get("dport")) for a in sel(A, type="outbound", honeypot="10.0.0.5"))')"
check_eq "exactly 1 blocked alert, CRITICAL, at the 4th SYN" "1 critical 10.0.0.5 08:00:30" \
    "$(q limit '"%d %s %s %s" % (n(A, type="blocked"), sel(A, type="blocked")[0]["prio"], sel(A, type="blocked")[0].get("honeypot"), sel(A, type="blocked")[0]["ts"][11:19])')"
check_eq "state: clean->compromised then compromised->contained" \
    "clean->compromised;compromised->contained" "$(q limit 'trans(A)')"
check_eq "state events name the honeypot" 2 "$(q limit 'n(A, type="state", honeypot="10.0.0.5")')"
check_eq "no spoofed, malformed, denied or rate alerts" 0 \
    "$(q limit 'n(A, type__in=("spoofed", "malformed", "denied", "rate"))')"
check_eq "alerts are in time order" 1 "$(q limit '[a["ts"] for a in A] == sorted(a["ts"] for a in A)')"
check_eq "all 40 frames captured" 40 "$(tcpdump_count "$WORK"/limit/*/packets/*.pcap)"
check_eq "status: 10 frames dropped (the honeypot's frames of the 2 refused connections)" 10 \
    "$(status_num limit dropped frames)"
done_testing
