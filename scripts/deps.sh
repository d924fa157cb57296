#!/bin/sh
# Installs the Debian packages fishbowl needs to build, test, demo and bench.
# Only what is missing is installed; running it again does nothing.
# curl: tests/netns/gateway.sh and the demo fetch over HTTP.  No iputils-ping:
# the tests and the demo ping with their own raw-socket helper (tools.py).
# rsyslog, bsdutils (logger): tests/netns/logserver.sh runs its own rsyslogd.
# dnsmasq-base, busybox (udhcpc), util-linux (unshare, runuser, mount):
# tests/netns/gateway2.sh.
set -eu
BUILD="gcc clang make pkg-config libpcap-dev libinih-dev libcmocka-dev libseccomp-dev libssl-dev zlib1g-dev libmagic-dev"
TEST="tcpdump tshark iproute2 nmap hping3 iperf3 netcat-openbsd socat curl wget ethtool procps python3 ngircd vsftpd ftp rsyslog bsdutils libclang-rt-14-dev dnsmasq-base busybox util-linux"
TEST="$TEST inetutils-telnetd inetutils-telnet expect"	# tests/netns/telnet.sh, the demo
TEST="$TEST tcpflow"	# bench/replay.sh: the capture layers against tcpflow
TEST="$TEST tcpreplay time"	# bench/flood.sh: a replayed SYN flood, /usr/bin/time -v
set -- $BUILD $TEST
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
