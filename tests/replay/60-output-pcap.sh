#!/bin/bash
# The output pcap holds every input frame, forwarded or dropped, byte for
# byte, with its timestamp, in nanosecond pcap: tcpdump reads as many frames
# as the input had, and Python compares each frame (time, lengths, bytes).
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen mixed "$WORK/in.pcap"
cfg=$(conf out <<'EOF_'
[honeynet]
networks = 10.0.0.0/24

[control]
tcp = 3/hour
icmp = block
EOF_
)
replay out "$cfg" "$WORK/in.pcap"
check_eq "one day folder, one pcap" "2026-11-26 1" "$(q out '"%s %d" % (" ".join(days), len(pcaps()))')"
check_eq "nanosecond pcap magic, Ethernet" "4d3cb2a1 1" \
    "$(python3 -c 'import sys, struct; h = open(sys.argv[1], "rb").read(24); print(h[:4].hex(), struct.unpack("<I", h[20:24])[0])' "$WORK"/out/2026-11-26/packets/00001.pcap)"
check_eq "tcpdump reads as many frames as the input had" \
    "$(tcpdump_count "$WORK/in.pcap")" "$(tcpdump_count "$WORK"/out/*/packets/*.pcap)"
check_eq "every frame identical: time, caplen, wirelen, bytes" 1 \
    "$(q out 'frames() == __import__("mkpcap").read_pcap("'"$WORK/in.pcap"'")')"
check_eq "the snapped frame keeps caplen 100, wirelen 1514" "100 1514" \
    "$(q out '" ".join("%d %d" % (f[1], f[2]) for f in frames() if f[1] != f[2])')"
check_eq "some frames were dropped (so dropped frames are captured too)" 1 \
    "$(q out 'n(C, verdict="drop") > 0')"
done_testing
