#!/bin/bash
# A capture that ends in damage (the last record cut, as when tcpdump was
# killed mid-write; a record whose length is impossible) is replayed up to
# the damage: every whole frame before it is judged and recorded, the log
# names the file and the damage, and fishbowl exits 1, so a script does not
# take a partial replay for a whole one.  A whole capture exits 0.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen mixed "$WORK/in.pcap"
cfg=$(conf out <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
total=$(tcpdump_count "$WORK/in.pcap")
size=$(stat -c %s "$WORK/in.pcap")

run() {		# run NAME PCAP: exit status of the replay
	rm -rf "${WORK:?}/$1"
	"$FISHBOWL" replay -c "$cfg" -r "$2" -o "$WORK/$1" -v >"$WORK/$1.log" 2>&1
	echo $?
}

check_eq "a whole capture: exit 0" 0 "$(run whole "$WORK/in.pcap")"
check_eq "a whole capture: every frame recorded" "$total" "$(tcpdump_count "$WORK"/whole/*/packets/*.pcap)"

head -c $((size - 10)) "$WORK/in.pcap" >"$WORK/cut.pcap"
check_eq "last record cut: exit 1" 1 "$(run cut "$WORK/cut.pcap")"
check "last record cut: the log names the file and the damage" \
    grep -q "cut.pcap: truncated dump file; the last record is cut" "$WORK/cut.log"
check_eq "last record cut: every whole frame before it recorded" $((total - 1)) \
    "$(tcpdump_count "$WORK"/cut/*/packets/*.pcap)"
check_eq "last record cut: the status counts them" $((total - 1)) \
    "$(status_num cut capture frames)"

# The third record's caplen set to 0x7fffffff: nothing after it is trusted.
python3 - "$WORK/in.pcap" "$WORK/bad.pcap" <<'EOF_'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off = 24
for _ in range(2):
    off += 16 + struct.unpack_from("<I", d, off + 8)[0]
struct.pack_into("<I", d, off + 8, 0x7fffffff)
open(sys.argv[2], "wb").write(d)
EOF_
check_eq "impossible record length: exit 1" 1 "$(run bad "$WORK/bad.pcap")"
check "impossible record length: the log says so" \
    grep -q "bad.pcap: invalid packet capture length 2147483647" "$WORK/bad.log"
check_eq "impossible record length: the two frames before it recorded" 2 \
    "$(tcpdump_count "$WORK"/bad/*/packets/*.pcap)"
done_testing
