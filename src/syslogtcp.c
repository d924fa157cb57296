/*
 * syslogtcp: the "syslog" session analyser (see syslogtcp.h).
 */
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "logserver.h"
#include "syslogmsg.h"
#include "syslogtcp.h"

struct syslog_tcp {
	struct layers		*l;
	struct syslog_origin	 o;
	struct ls_framer	 fr;
	fb_ns			 ts;		/* of the bytes being framed */
};

/* "<N>" with 1-3 digits at p; its length, 0 if none, -1 if too short yet. */
static int
pri_at(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0)
		return -1;
	if (p[0] != '<')
		return 0;
	for (i = 1; i < n && i <= 4 && p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i == n)
		return i <= 4 ? -1 : 0;
	return i >= 2 && i <= 4 && p[i] == '>' ? (int)i + 1 : 0;
}

/* A syslog frame start: "<PRI>" or "LEN <PRI>" (octet counting). */
static bool
syslog_detect(const uint8_t *const seen[2], const size_t n[2])
{
	const uint8_t *p = seen[0];
	size_t i;

	if (p == NULL || n[1] != 0)
		return false;
	if (pri_at(p, n[0]) > 0)
		return true;
	for (i = 0; i < n[0] && i < 9 && p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i == 0 || p[0] == '0' || i >= n[0] || p[i] != ' ')
		return false;
	return pri_at(p + i + 1, n[0] - i - 1) > 0;
}

static void *
syslog_open(struct layers *l, const struct session_info *si)
{
	struct syslog_tcp *st;

	/* The honeypot's own syslog only, as on UDP. */
	if (!addr_eq(&si->key.src, &si->honeypot) || l->wire_syslog == NULL)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return NULL;
	st->l = l;
	st->o = (struct syslog_origin){
		.source = "wire", .transport = "tcp", .peer = si->key.src,
		.peer_port = si->key.sport, .dst = si->key.dst, .dst_port = si->key.dport,
	};
	ls_framer_init(&st->fr, l->cfg->log_max_message);
	return st;
}

static void
on_message(void *arg, const uint8_t *p, size_t n, bool truncated)
{
	struct syslog_tcp *st = arg;

	syslog_sink_message(st->l->wire_syslog, st->ts, &st->o, p, n,
	    truncated ? SYSLOG_F_TRUNCATED : 0);
}

static void
syslog_data(void *arg, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct syslog_tcp *st = arg;

	if (dir != 0)
		return;		/* a collector's replies are not messages */
	st->ts = ts;
	ls_framer_feed(&st->fr, p, n, on_message, st);
}

static void
syslog_gap(void *arg, int dir, fb_ns ts, uint64_t n)
{
	struct syslog_tcp *st = arg;

	(void)n;
	if (dir != 0)
		return;
	st->ts = ts;
	ls_framer_finish(&st->fr, on_message, st);
}

static void
syslog_close(void *arg, fb_ns ts)
{
	struct syslog_tcp *st = arg;

	st->ts = ts;
	ls_framer_finish(&st->fr, on_message, st);
	ls_framer_free(&st->fr);
	free(st);
}

const struct analyser syslog_analyser = {
	.name = "syslog",
	.detect = syslog_detect,
	.open = syslog_open,
	.data = syslog_data,
	.gap = syslog_gap,
	.close = syslog_close,
};
