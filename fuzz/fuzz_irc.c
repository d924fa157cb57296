/*
 * libFuzzer target for the IRC layer.  The input is a script of chunks: a
 * control byte, then (unless it is a gap) up to 64 bytes of data.  Control
 * bit 0 is the direction; 0x80 alone is a gap of (ctl & 0x3f) bytes; 0xc0
 * repeats the chunk 300 times, so lines longer than IRC_LINE_MAX are reached
 * from short inputs.  The whole input also goes to detect and to the parser,
 * whose tokens must lie inside the line.  Checks the module's promises:
 * every record is one line of valid-looking JSON (starts with {"ts":, ends
 * with }\n, no raw control bytes), the line buffers never exceed their
 * bound, and all memory is given back at close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "irc.h"
#include "layers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0	(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26 */

static struct fb_config cfg;
static struct layers *lay;
static char path[300];

static void
init(void)
{
	static char dir[] = "/tmp/fbfuzzircXXXXXX";
	struct event_log *ev;
	char err[256];

	if (mkdtemp(dir) == NULL ||
	    config_load_string("f.conf", "[honeynet]\nnetworks = 10.0.0.0/24\n", &cfg,
	    err, sizeof(err)) != 0 || (ev = event_log_open(dir, NULL)) == NULL ||
	    (lay = layers_new(&cfg, dir, ev, NULL)) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/2026-11-26/irc.jsonl", dir);
}

static void
check_parse(const uint8_t *p, size_t n)
{
	struct irc_msg m;
	int i;

	if (irc_parse(p, n, &m) < 0)
		return;
	if (m.cmd.n == 0 || m.cmd.p < p || m.cmd.p + m.cmd.n > p + n ||
	    m.nparams < 0 || m.nparams > IRC_MAX_PARAMS)
		abort();
	for (i = 0; i < m.nparams; i++)
		if (m.param[i].p < p || m.param[i].p + m.param[i].n > p + n)
			abort();
}

/* Every record a whole JSON line with no raw control byte. */
static void
check_output(void)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (f == NULL)
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *seen[2] = { data, data + size / 2 };
	const size_t n[2] = { size / 2, size - size / 2 };
	struct session_info si;
	struct irc_stats st;
	size_t pos = 0;
	fb_ns ts = T0;
	void *c;

	if (lay == NULL)
		init();
	(void)irc_analyser.detect(seen, n);
	check_parse(data, size);
	memset(&si, 0, sizeof(si));
	si.conn_id = 1;
	addr_parse("10.0.0.5", &si.key.src);
	addr_parse("203.0.113.7", &si.key.dst);
	si.key.sport = 40000;
	si.key.dport = 6667;
	si.honeypot = si.key.src;
	if ((c = irc_analyser.open(lay, &si)) == NULL)
		abort();
	while (pos < size) {
		uint8_t ctl = data[pos++];
		int dir = ctl & 1, reps = (ctl & 0xc0) == 0xc0 ? 300 : 1;
		size_t len = FB_MIN((size_t)((ctl >> 1) & 0x1f) + 1, size - pos);

		ts += FB_NS_PER_MSEC;
		if ((ctl & 0xc0) == 0x80) {
			irc_analyser.gap(c, dir, ts, ctl & 0x3f);
			continue;
		}
		while (reps-- > 0)
			irc_analyser.data(c, dir, ts, data + pos, len);
		pos += len;
		irc_stats_get(lay->irc, &st);
		if (st.mem_used > 2 * IRC_LINE_MAX)
			abort();
	}
	irc_analyser.close(c, ts);
	irc_stats_get(lay->irc, &st);
	if (st.mem_used != 0)
		abort();
	check_output();
	return 0;
}
