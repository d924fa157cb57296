#!/bin/bash
# Replays are deterministic: two replays of the same capture write
# byte-identical conn.jsonl, alerts.jsonl and pcap.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen mixed "$WORK/in.pcap"
cfg=$(conf det <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 3/hour
udp = 1/hour
icmp = 1/hour
EOF_
)
replay det1 "$cfg" "$WORK/in.pcap"
replay det2 "$cfg" "$WORK/in.pcap"
for f in conn.jsonl alerts.jsonl packets/00001.pcap; do
	a="$WORK/det1/2026-11-26/$f"; b="$WORK/det2/2026-11-26/$f"
	if [ -s "$a" ] && cmp -s "$a" "$b"; then
		ok "$f byte-identical (and not empty)"
	else
		not_ok "$f byte-identical (and not empty)" "$(diff "$a" "$b" 2>&1 | head -6)"
	fi
done
done_testing
