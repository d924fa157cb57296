/*
 * libFuzzer target for the syslog parser and the RFC 6587 TCP framer.
 *
 * The whole input is one message for syslog_parse: every field must lie
 * inside the input and within its RFC 5424 width, the PRI be -1 or 0..191,
 * a command line lie inside the message; its syslog.jsonl line (jbuf) must
 * be one line with no raw control byte.  Then the input, after a first byte
 * that picks the framer's max (1..512) and a PRNG seed, is framed twice:
 * in one piece and in random chunks (1..64 bytes, PRNG-driven).  The
 * framer's promise checked is that framing does not depend on how TCP cut
 * the stream: both runs deliver the same messages, byte for byte, with the
 * same truncation flags and frame counts, and no message is longer than
 * max.  Each message framed is parsed and checked as above.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logserver.h"
#include "syslogmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS	4096

struct run {
	bool		 parse;		/* each message through check_parse too */
	size_t		 max;
	size_t		 n;		/* messages delivered */
	uint8_t		*bytes;		/* all of them, back to back */
	size_t		 len, cap;
	size_t		 lens[MAX_MSGS];
	bool		 cut[MAX_MSGS];
};

static void check_parse(const uint8_t *, size_t);

static void
collect(void *arg, const uint8_t *p, size_t n, bool truncated)
{
	struct run *r = arg;

	if (n > r->max || (n > 0 && p == NULL))
		abort();
	if (r->parse)
		check_parse(p, n);
	if (r->n < MAX_MSGS) {
		r->lens[r->n] = n;
		r->cut[r->n] = truncated;
	}
	r->n++;
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2 + 64;
		if ((r->bytes = realloc(r->bytes, r->cap)) == NULL)
			abort();
	}
	if (n > 0)
		memcpy(r->bytes + r->len, p, n);
	r->len += n;
}

static void
inside(const struct syslog_field *f, const uint8_t *p, size_t n, size_t max)
{
	if (f->p == NULL)
		return;
	if (f->p < p || f->n > n || f->p + f->n > p + n || f->n > max)
		abort();
}

static void
check_parse(const uint8_t *p, size_t n)
{
	struct syslog_msg m;
	struct syslog_origin o = { .source = "wire", .transport = "udp" };
	const uint8_t *cmd;
	size_t cn;
	struct jbuf jb;

	syslog_parse(p, n, &m);
	if (m.pri < -1 || m.pri > 191)
		abort();
	inside(&m.timestamp, p, n, 64);
	inside(&m.host, p, n, 255);
	inside(&m.app, p, n, 48);
	inside(&m.procid, p, n, 128);
	inside(&m.msgid, p, n, 32);
	inside(&m.sd, p, n, n);
	if (m.msg.p != NULL && m.msg.n > 0)
		inside(&m.msg, p, n, n);
	if (syslog_command(&m, &cmd, &cn) &&
	    (cn == 0 || cmd < m.msg.p || cmd + cn > m.msg.p + m.msg.n))
		abort();
	jb_init(&jb);
	syslog_json(&jb, 1795651200LL * FB_NS_PER_SEC, &o, &m, p, n);
	if (jb.len < 3 || memcmp(jb.p, "{\"ts\":", 6) != 0 ||
	    jb.p[jb.len - 1] != '\n' || jb.p[jb.len - 2] != '}')
		abort();
	for (size_t i = 0; i + 1 < jb.len; i++)
		if ((unsigned char)jb.p[i] < 0x20)
			abort();
	jb_free(&jb);
}

/* xorshift32: the chunk sizes of the second run. */
static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
frame(struct run *r, const uint8_t *p, size_t n, uint32_t seed,
    uint64_t *octet, uint64_t *lf)
{
	struct ls_framer f;
	size_t i = 0;

	ls_framer_init(&f, r->max);
	while (i < n) {
		size_t k = seed == 0 ? n - i : (size_t)(next(&seed) % 64) + 1;

		k = FB_MIN(k, n - i);	/* FB_MIN evaluates twice */

		ls_framer_feed(&f, p + i, k, collect, r);
		if (f.len > f.max)
			abort();
		i += k;
	}
	ls_framer_finish(&f, collect, r);
	*octet = f.octet_frames;
	*lf = f.lf_frames;
	ls_framer_free(&f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run a = { .parse = true }, b;
	uint64_t oa, la, ob, lb;
	uint32_t seed;

	check_parse(data, size);
	if (size < 3)
		return 0;
	a.max = b.max = ((size_t)data[0] << 1 | (data[1] & 1)) + 1;
	seed = (uint32_t)data[1] << 8 | data[2] | 1;
	a.n = a.len = b.n = b.len = 0;
	frame(&a, data + 3, size - 3, 0, &oa, &la);
	frame(&b, data + 3, size - 3, seed, &ob, &lb);
	if (a.n != b.n || a.len != b.len || oa != ob || la != lb ||
	    (a.len > 0 && memcmp(a.bytes, b.bytes, a.len) != 0))
		abort();
	for (size_t i = 0; i < FB_MIN(a.n, (size_t)MAX_MSGS); i++)
		if (a.lens[i] != b.lens[i] || a.cut[i] != b.cut[i])
			abort();
	return 0;
}
