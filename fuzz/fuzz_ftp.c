/*
 * libFuzzer target for the FTP analyser, the expected-data-connection
 * table and the ftp-data carver.  The input is a script of chunks as in
 * fuzz_http (control byte: bit 0 direction, 0x80 gap, 0xc0 x300 repeat;
 * then up to 32 bytes) after the first two input bytes, which name a port:
 * after the control connection closes, a data connection to the server on it and
 * one from the server's port 20 to the client on it are offered to
 * ftp_data_claim and, when claimed, carry the input.  Checks: ftp.jsonl,
 * files.jsonl and alerts.jsonl hold whole JSON lines without raw control
 * bytes, no temporary file survives, the link table stays within its
 * bound.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "ftp.h"
#include "layers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0	(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26 */

static struct fb_config cfg;
static struct layers *lay;
static char day[300];

static void
init(void)
{
	static char dir[] = "/tmp/fbfuzzftpXXXXXX";
	struct event_log *ev;
	char err[256];

	if (mkdtemp(dir) == NULL ||
	    config_load_string("f.conf", "[honeynet]\nnetworks = 10.0.0.0/24\n", &cfg,
	    err, sizeof(err)) != 0 || (ev = event_log_open(dir, NULL)) == NULL)
		abort();
	cfg.layers = true;
	cfg.file_max_bytes = 64 << 10;
	cfg.layers_disk_bytes = UINT64_MAX / 2;
	if ((lay = layers_new(&cfg, dir, ev, NULL)) == NULL)
		abort();
	snprintf(day, sizeof(day), "%s/2026-11-26", dir);
}

static void
check_jsonl(const char *name)
{
	char path[400];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", day, name);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[0] != '{' || n < 3 || line[n - 1] != '\n' || line[n - 2] != '}')
			abort();
		for (ssize_t i = 0; i < n - 1; i++)
			if ((unsigned char)line[i] < 0x20)
				abort();
	}
	free(line);
	fclose(f);
	if (truncate(path, 0) != 0)
		abort();
}

static void
check_files(void)
{
	char dpath[400], fpath[700];
	struct dirent *e;
	DIR *d;

	snprintf(dpath, sizeof(dpath), "%s/files", day);
	if ((d = opendir(dpath)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strlen(e->d_name) != 64)
			abort();
		snprintf(fpath, sizeof(fpath), "%s/%s", dpath, e->d_name);
		unlink(fpath);
	}
	closedir(d);
}

static void
data_conn(const struct session_info *ctl, const uint8_t *data, size_t size,
    bool active, uint16_t port, fb_ns ts)
{
	struct session_info si = *ctl;
	void *d;

	si.conn_id = ctl->conn_id + (active ? 2 : 1);
	si.start = ts;
	if (active) {
		si.key.src = ctl->key.dst;
		si.key.dst = ctl->key.src;
		si.key.sport = 20;
	} else {
		si.key.sport = 40001;
	}
	si.key.dport = port;
	if ((d = ftp_data_claim(lay, &si)) == NULL)
		return;
	ftp_data_analyser.data(d, active ? 0 : 1, ts, data, size);
	ftp_data_analyser.gap(d, 1, ts, 3);
	ftp_data_analyser.data(d, 1, ts, data, size);
	ftp_data_analyser.close(d, ts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *seen[2] = { data, data + size / 2 };
	const size_t n[2] = { size / 2, size - size / 2 };
	struct session_info si;
	struct ftp_links_stats st;
	size_t pos = 2;
	fb_ns ts = T0;
	uint16_t port;
	void *f;

	if (lay == NULL)
		init();
	(void)ftp_analyser.detect(seen, n);
	memset(&si, 0, sizeof(si));
	si.conn_id = 10;
	addr_parse("10.0.0.5", &si.key.src);
	addr_parse("203.0.113.7", &si.key.dst);
	si.key.sport = 40000;
	si.key.dport = 21;
	si.honeypot = si.key.src;
	si.start = ts;
	if ((f = ftp_analyser.open(lay, &si)) == NULL)
		abort();
	while (pos < size) {
		uint8_t ctl = data[pos++];
		int dir = ctl & 1, reps = (ctl & 0xc0) == 0xc0 ? 300 : 1;
		size_t len = FB_MIN((size_t)((ctl >> 1) & 0x1f) + 1, size - pos);

		ts += FB_NS_PER_MSEC;
		if ((ctl & 0xc0) == 0x80) {
			ftp_analyser.gap(f, dir, ts, ctl & 0x3f);
			continue;
		}
		while (reps-- > 0)
			ftp_analyser.data(f, dir, ts, data + pos, len);
		pos += len;
	}
	ftp_analyser.close(f, ts);
	port = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	if (size < 2)
		return 0;
	data_conn(&si, data, size, false, port, ts);
	data_conn(&si, data, size, true, port, ts);
	ftp_links_stats(lay->ftp, &st);
	if (st.registered - st.expired - st.replaced > FTP_LINKS_MAX)
		abort();
	check_jsonl("ftp.jsonl");
	check_jsonl("files.jsonl");
	check_jsonl("alerts.jsonl");
	check_files();
	return 0;
}
