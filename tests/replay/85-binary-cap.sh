#!/bin/bash
# A binary run longer than [layers] file_max_mb in a session transcript:
# the "bulk" capture (tests/gen/mkpcap.py: 1536 KiB of noise from
# 10.0.0.5:4444 to a client that asked with "get") replayed twice.  With
# file_max_mb = 1 the run is hashed up to 1 MiB and counted whole, the line
# saying which bytes the hash covers (docs/formats.md); with the default
# (64) the same run gets the plain line with the hash of every byte.  Both
# hashes are computed here by Python from the generator's bytes.
. "$(dirname "$0")/../gen/replaylib.sh"
need_fishbowl

gen bulk "$WORK/b.pcap"
hash_of() {	# hash_of BYTES: SHA-256 of the first BYTES of the body
	python3 -c 'import sys, hashlib; sys.path.insert(0, sys.argv[1]); import mkpcap
print(hashlib.sha256(mkpcap.bulk_body(1536)[:int(sys.argv[2])]).hexdigest())' "$GEN_DIR" "$1"
}
run_line() {	# run_line NAME: the transcript's binary line
	grep '^\[binary ' "$WORK/$1"/*/sessions/1-10.0.0.5-4444.txt 2>&1
}

cfg=$(conf capped <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
[layers]
file_max_mb = 1
EOF_
)
replay capped "$cfg" "$WORK/b.pcap"
check_eq "file_max_mb = 1: the run counted whole, its first MiB hashed" \
    "[binary 1572864 bytes sha256 of the first 1048576 bytes $(hash_of 1048576)]" \
    "$(run_line capped)"

cfg=$(conf whole <<'EOF_'
[honeynet]
networks = 10.0.0.0/24
EOF_
)
replay whole "$cfg" "$WORK/b.pcap"
check_eq "default file_max_mb (64): every byte hashed" \
    "[binary 1572864 bytes sha256 $(hash_of 1572864)]" "$(run_line whole)"
check_eq "the client's request stays text" "get" \
    "$(grep -x 'get' "$WORK"/whole/*/sessions/1-10.0.0.5-4444.txt 2>&1)"

done_testing
