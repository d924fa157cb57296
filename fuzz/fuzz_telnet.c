/*
 * libFuzzer target for a session's analysers and transcript: the input is
 * a series of chunks, each one header byte (bit 7: direction, bit 6: a gap
 * instead of data, bits 0-5: length / 4 of the chunk) and its bytes, fed
 * through session_* so detection, the telnet/rlogin/shell parsers, the line
 * editor and the transcript escaping all see hostile bytes.  Each run uses
 * a fresh data directory that is removed afterwards.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "layers.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fb_config cfg;
	char dir[] = "/tmp/fbfzXXXXXX";
	struct session_info si;
	struct event_log *el;
	struct layers *l;
	struct session *s;
	fb_ns ts = 1795651200LL * FB_NS_PER_SEC;
	size_t i = 0, n;

	if (mkdtemp(dir) == NULL)
		return 0;
	log_init("fuzz_telnet", -1);
	cfg.layers = true;
	cfg.layers_memory_bytes = 1 << 20;
	cfg.transcript_max_bytes = 1 << 16;
	cfg.layers_disk_bytes = 1 << 20;
	el = event_log_open(dir, NULL);
	l = layers_new(&cfg, dir, el, NULL);
	memset(&si, 0, sizeof(si));
	si.conn_id = 1;
	si.key.src.b[10] = si.key.src.b[11] = si.key.dst.b[10] = si.key.dst.b[11] = 0xff;
	si.key.src.b[15] = 1;
	si.key.dst.b[15] = 2;
	si.key.sport = 40000;
	si.key.dport = 23;
	si.honeypot = si.key.dst;
	s = session_open(l, &si);
	while (i < size) {
		uint8_t h = data[i++];
		int d = h >> 7;

		n = (size_t)(h & 0x3f) * 4 + 1;
		ts += 1000;
		if (h & 0x40) {
			session_gap(s, d, ts, n);
			continue;
		}
		n = n < size - i ? n : size - i;
		session_data(s, d, ts, data + i, n);
		if (n >= 2 && data[i] == 0xfe && data[i + 1] == 0xfe)
			session_conflict(s, d, ts, i, data + i, data, n < i ? n : i);
		i += n;
	}
	session_end(s, 0, ts, 0);
	session_close(s, ts + 1);
	layers_free(l);
	event_log_close(el);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
