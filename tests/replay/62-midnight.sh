#!/bin/bash
# A capture from 23:59:50 to 00:00:10 UTC lands in two day folders, each
# with its own pcap holding that day's frames, and each day's alerts in its
# own alerts.jsonl.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen midnight "$WORK/in.pcap"
cfg=$(conf mid <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay mid "$cfg" "$WORK/in.pcap"
check_eq "two day folders" "2026-11-26 2026-11-27" "$(q mid '" ".join(days)')"
for d in 2026-11-26 2026-11-27; do
	check "$d has packets/00001.pcap" test -s "$WORK/mid/$d/packets/00001.pcap"
done
check_eq "10 frames before midnight, 11 after" "10 11" \
    "$(tcpdump_count "$WORK/mid/2026-11-26/packets/"*.pcap) $(tcpdump_count "$WORK/mid/2026-11-27/packets/"*.pcap)"
midnight=$(python3 -c 'import calendar; print(calendar.timegm((2026, 11, 27, 0, 0, 0)) * 10**9)')
check_eq "each day's pcap holds only that day's frames" 1 \
    "$(python3 -c 'import sys, glob; sys.path.insert(0, sys.argv[1]); import mkpcap
m = int(sys.argv[3])
a = [f[0] for p in glob.glob(sys.argv[2] + "/2026-11-26/packets/*.pcap") for f in mkpcap.read_pcap(p)]
b = [f[0] for p in glob.glob(sys.argv[2] + "/2026-11-27/packets/*.pcap") for f in mkpcap.read_pcap(p)]
print(int(len(a) == 10 and len(b) == 11 and max(a) < m <= min(b)))' "$GEN_DIR" "$WORK/mid" "$midnight")"
check_eq "21 inbound alerts in all" 21 "$(q mid 'n(A, type="inbound")')"
check_eq "each day's alerts.jsonl holds that day's alerts: 10 and 11" "2026-11-26:10 2026-11-27:11" \
    "$(q mid '" ".join("%s:%d" % (d, len(r)) for d, r in sorted(D("alerts.jsonl").items()) if all(a["ts"].startswith(d) for a in r))')"
done_testing
