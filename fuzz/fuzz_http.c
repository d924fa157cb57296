/*
 * libFuzzer target for the HTTP analyser and the carver.  The input is a
 * script of chunks: a control byte, then (unless it is a gap) up to 32
 * bytes of data.  Control bit 0 is the direction; 0x80 alone is a gap of
 * (ctl & 0x3f) bytes; 0xc0 repeats the chunk 300 times, so header blocks
 * past HTTP_HEADER_MAX and long bodies are reached from short inputs.
 * Checks the modules' promises: every http.jsonl and files.jsonl record is
 * one whole JSON line without raw control bytes, no temporary file is left
 * in files/ after close, and no carved file exceeds cfg->file_max_bytes.
 */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "http.h"
#include "layers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0	(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26 */

static struct fb_config cfg;
static struct layers *lay;
static char day[300];

static void
init(void)
{
	static char dir[] = "/tmp/fbfuzzhttpXXXXXX";
	struct event_log *ev;
	char err[256];

	if (mkdtemp(dir) == NULL ||
	    config_load_string("f.conf", "[honeynet]\nnetworks = 10.0.0.0/24\n", &cfg,
	    err, sizeof(err)) != 0 || (ev = event_log_open(dir, NULL)) == NULL)
		abort();
	cfg.layers = true;
	cfg.file_max_bytes = 256 << 10;
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
		if (strncmp(line, "{\"ts\":", 6) != 0 || n < 3 ||
		    line[n - 1] != '\n' || line[n - 2] != '}')
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

/* No temporary left, nothing over the cap; then empty files/. */
static void
check_files(void)
{
	char dpath[400], fpath[700];
	struct dirent *e;
	struct stat st;
	DIR *d;

	snprintf(dpath, sizeof(dpath), "%s/files", day);
	if ((d = opendir(dpath)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (strncmp(e->d_name, ".part-", 6) == 0 || strlen(e->d_name) != 64)
			abort();
		snprintf(fpath, sizeof(fpath), "%s/%s", dpath, e->d_name);
		if (stat(fpath, &st) != 0 || (uint64_t)st.st_size > cfg.file_max_bytes)
			abort();
		unlink(fpath);
	}
	closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *seen[2] = { data, data + size / 2 };
	const size_t n[2] = { size / 2, size - size / 2 };
	struct session_info si;
	size_t pos = 0;
	fb_ns ts = T0;
	void *h;

	if (lay == NULL)
		init();
	(void)http_analyser.detect(seen, n);
	memset(&si, 0, sizeof(si));
	si.conn_id = 1;
	addr_parse("10.0.0.5", &si.key.src);
	addr_parse("203.0.113.7", &si.key.dst);
	si.key.sport = 40000;
	si.key.dport = 80;
	si.honeypot = si.key.src;
	if ((h = http_analyser.open(lay, &si)) == NULL)
		abort();
	while (pos < size) {
		uint8_t ctl = data[pos++];
		int dir = ctl & 1, reps = (ctl & 0xc0) == 0xc0 ? 300 : 1;
		size_t len = FB_MIN((size_t)((ctl >> 1) & 0x1f) + 1, size - pos);

		ts += FB_NS_PER_MSEC;
		if ((ctl & 0xc0) == 0x80) {
			http_analyser.gap(h, dir, ts, ctl & 0x3f);
			continue;
		}
		while (reps-- > 0)
			http_analyser.data(h, dir, ts, data + pos, len);
		pos += len;
	}
	http_analyser.close(h, ts);
	check_jsonl("http.jsonl");
	check_jsonl("files.jsonl");
	check_files();
	return 0;
}
