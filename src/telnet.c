/*
 * telnet: analysers for interactive sessions, on any port: telnet (RFC 854
 * option negotiation removed), rlogin (RFC 1282) and raw shells (backdoor
 * shells, bind shells).  Each one hands the intruder's keys (client to
 * server bytes only, so the server's echo is never counted as typing) to
 * the shared line editor (keys.h).
 *
 * Promises: IAC IAC is a literal 0xff; IAC WILL/WONT/DO/DONT x and the
 * two-byte commands are removed; subnegotiation IAC SB ... IAC SE is
 * skipped, for at most SB_MAX bytes (an unterminated one ends there and is
 * counted); CR NUL is CR; the erase commands IAC EC, IAC EL and IAC IP reach
 * the line editor as DEL, ^U and ^C.  The transcript shows the bytes
 * without negotiation (the view hook).  Parsers keep state across chunks,
 * so a command split between segments is handled; memory is one view
 * buffer as large as the largest chunk.
 */
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "layers.h"
#include "session.h"

#define IAC	255
#define DONT	254
#define DO	253
#define WONT	252
#define WILL	251
#define SB	250
#define EL	248
#define EC	247
#define IP	244
#define SE	240

#define SB_MAX	1024	/* longest subnegotiation skipped */

/* Key origin of a session. */
static void
origin_of(struct key_origin *o, const char *source, const struct session_info *si)
{
	memset(o, 0, sizeof(*o));
	o->source = source;
	o->honeypot = si->honeypot;
	o->has_conn = true;
	o->conn_id = si->conn_id;
	o->src = si->key.src;
	o->dst = si->key.dst;
	o->sport = si->key.sport;
	o->dport = si->key.dport;
}

/* View buffer: the bytes the transcript shows for the last chunk. */
struct view {
	uint8_t		*p;
	size_t		 n, cap;
};

static uint8_t *
view_reserve(struct view *v, size_t n)
{
	if (n > v->cap) {
		v->p = xrealloc(v->p, 1, n);
		v->cap = n;
	}
	v->n = 0;
	return v->p;
}

/* Telnet */

enum tn_state { TN_DATA, TN_IAC, TN_OPT, TN_SB, TN_SB_IAC };

struct tn_dir {
	enum tn_state	 st;
	unsigned	 sblen;
	bool		 cr;
};

struct telnet {
	struct layers	*l;
	struct keyline	*kl;
	struct tn_dir	 d[2];
	struct view	 v;
	uint8_t		*keys;
	size_t		 keyscap;
};

/* A negotiation the way a telnet peer opens: IAC then a command byte. */
static bool
tn_negotiates(const uint8_t *p, size_t n)
{
	size_t i, cmds = 0;

	if (n >= 2 && p[0] == IAC && p[1] >= SB && p[1] <= DONT)
		return true;
	/* Or twice in the first bytes (after a banner). */
	for (i = 0; i + 2 < n && i < 512; i++)
		if (p[i] == IAC && p[i + 1] >= WILL && p[i + 1] <= DONT && p[i + 2] < 50)
			cmds++;
	return cmds >= 2;
}

static bool
telnet_detect(const uint8_t *const seen[2], const size_t n[2])
{
	return tn_negotiates(seen[0], n[0]) || tn_negotiates(seen[1], n[1]);
}

static void *
telnet_open(struct layers *l, const struct session_info *si)
{
	struct telnet *t = xcalloc(1, sizeof(*t));
	struct key_origin o;

	origin_of(&o, "telnet", si);
	t->l = l;
	t->kl = keyline_new(l, &o);
	return t;
}

/* One byte through the telnet state machine: its data byte (or -1 for
 * none) and, for keys, the editing key an IAC command stands for. */
static int
tn_byte(struct telnet *t, struct tn_dir *d, uint8_t c, int *keyc)
{
	*keyc = -1;
	switch (d->st) {
	case TN_DATA:
		if (c == IAC) {
			d->st = TN_IAC;
			return -1;
		}
		if (d->cr && c == 0) {
			d->cr = false;
			return -1;	/* CR NUL is a bare CR */
		}
		d->cr = c == '\r';
		*keyc = c;
		return c;
	case TN_IAC:
		d->st = TN_DATA;
		if (c == IAC) {
			d->cr = false;
			*keyc = IAC;
			return IAC;
		}
		if (c >= WILL && c <= DONT)
			d->st = TN_OPT;
		else if (c == SB) {
			d->st = TN_SB;
			d->sblen = 0;
		} else if (c == EC)
			*keyc = 0x7f;
		else if (c == EL)
			*keyc = 0x15;
		else if (c == IP)
			*keyc = 0x03;
		return -1;
	case TN_OPT:
		d->st = TN_DATA;
		return -1;
	case TN_SB:
	case TN_SB_IAC:
		if (++d->sblen > SB_MAX) {
			t->l->st.telnet_sb_overlong++;
			d->st = TN_DATA;	/* give up skipping: back to data */
			return -1;
		}
		if (d->st == TN_SB_IAC)
			d->st = c == SE ? TN_DATA : TN_SB;
		else if (c == IAC)
			d->st = TN_SB_IAC;
		return -1;
	}
	return -1;
}

static void
telnet_data(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct telnet *t = st;
	uint8_t *out = view_reserve(&t->v, n);
	size_t i, nk = 0;
	int c, kc;

	if (dir == 0 && n > t->keyscap) {
		t->keys = xrealloc(t->keys, 1, n);
		t->keyscap = n;
	}
	for (i = 0; i < n; i++) {
		c = tn_byte(t, &t->d[dir], p[i], &kc);
		if (c >= 0)
			out[t->v.n++] = (uint8_t)c;
		if (dir == 0 && kc >= 0)
			t->keys[nk++] = (uint8_t)kc;
	}
	if (dir == 0)
		keyline_feed(t->kl, ts, t->keys, nk);
}

static void
telnet_gap(void *st, int dir, fb_ns ts, uint64_t n)
{
	struct telnet *t = st;

	(void)n;
	t->d[dir].st = TN_DATA;	/* resynchronise on the next byte */
	t->d[dir].cr = false;
	t->v.n = 0;
	if (dir == 0)
		keyline_flush(t->kl, ts);
}

static void
telnet_close(void *st, fb_ns ts)
{
	struct telnet *t = st;

	keyline_free(t->kl, ts);
	free(t->v.p);
	free(t->keys);
	free(t);
}

static const uint8_t *
telnet_view(void *st, size_t *n)
{
	struct telnet *t = st;

	*n = t->v.n;
	return t->v.p;
}

const struct analyser telnet_analyser = {
	.name = "telnet", .detect = telnet_detect, .open = telnet_open,
	.data = telnet_data, .gap = telnet_gap, .close = telnet_close,
	.view = telnet_view,
};

/* rlogin: the client opens with NUL, local user NUL, remote user NUL,
 * terminal/speed NUL; later, window sizes come in-band as FF FF 's' 's'
 * and 8 bytes. */

#define RL_FIELD_MAX	64

struct rlogin {
	struct keyline	*kl;
	unsigned	 nuls;		/* of the handshake, 4 when done */
	unsigned	 skip;		/* bytes of a window-size message left */
	unsigned	 ff;		/* FF bytes held back (0..2) */
	uint8_t		*keys;
	size_t		 keyscap;
};

static bool
rlogin_detect(const uint8_t *const seen[2], const size_t n[2])
{
	const uint8_t *p = seen[0];
	size_t i, field = 0, fields = 0;
	bool slash = false;

	if (n[0] < 5 || p[0] != 0)
		return false;
	for (i = 1; i < n[0] && fields < 3; i++) {
		if (p[i] == 0) {
			if (field == 0 && fields < 2)
				return false;	/* users are not empty */
			fields++;
			field = 0;
			continue;
		}
		if (p[i] < 0x20 || p[i] >= 0x7f || ++field > RL_FIELD_MAX)
			return false;
		if (fields == 2 && p[i] == '/')
			slash = true;
	}
	return fields == 3 && slash;
}

static void *
rlogin_open(struct layers *l, const struct session_info *si)
{
	struct rlogin *r = xcalloc(1, sizeof(*r));
	struct key_origin o;

	origin_of(&o, "rlogin", si);
	r->kl = keyline_new(l, &o);
	return r;
}

static void
rlogin_data(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct rlogin *r = st;
	size_t i, nk = 0;

	if (dir != 0)
		return;
	if (n + 2 > r->keyscap) {	/* + the FF FF held from before */
		r->keys = xrealloc(r->keys, 1, n + 2);
		r->keyscap = n + 2;
	}
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (r->nuls < 4) {
			r->nuls += c == 0;
			continue;
		}
		if (r->skip > 0) {
			r->skip--;
			continue;
		}
		if (r->ff == 2 && c == 's') {
			r->skip = 9;	/* the second 's' and 8 bytes of size */
			r->ff = 0;	/* the FF FF were not keys */
			continue;
		}
		/* FF bytes wait (in r->ff, across chunks) until the next byte
		 * says whether they open a window-size message; only the
		 * last two can. */
		if (c == 0xff) {
			if (r->ff == 2)
				r->keys[nk++] = c;	/* the oldest of three */
			else
				r->ff++;
			continue;
		}
		for (; r->ff > 0; r->ff--)
			r->keys[nk++] = 0xff;	/* they were keys after all */
		r->keys[nk++] = c;
	}
	keyline_feed(r->kl, ts, r->keys, nk);
}

static void
rlogin_gap(void *st, int dir, fb_ns ts, uint64_t n)
{
	struct rlogin *r = st;

	(void)n;
	if (dir == 0) {
		r->skip = r->ff = 0;
		keyline_flush(r->kl, ts);
	}
}

static void
rlogin_close(void *st, fb_ns ts)
{
	static const uint8_t ff[2] = { 0xff, 0xff };
	struct rlogin *r = st;

	keyline_feed(r->kl, ts, ff, r->ff);	/* held back, never followed by 's' */
	keyline_free(r->kl, ts);
	free(r->keys);
	free(r);
}

const struct analyser rlogin_analyser = {
	.name = "rlogin", .detect = rlogin_detect, .open = rlogin_open,
	.data = rlogin_data, .gap = rlogin_gap, .close = rlogin_close,
};

/* Raw shells: a prompt from the server, or a shell command as the
 * client's first line.  The least specific guess: keep it last. */

static const char *const shell_words[] = {
	"id", "uname", "ls", "cd", "pwd", "w", "who", "whoami", "cat", "echo",
	"wget", "curl", "tftp", "unset", "export", "history", "ps", "sh", "bash",
	"mkdir", "chmod", "rm", "cp", "mv", "tar", "ifconfig", "netstat", "uptime",
	"su", "sudo", "passwd", "kill", "nohup", "perl", "python", "exit",
};

static bool
shell_first_line(const uint8_t *p, size_t n)
{
	size_t i, w = 0, k;

	for (i = 0; i < n && p[i] != '\n'; i++)
		if (p[i] != '\r' && p[i] != '\t' && (p[i] < 0x20 || p[i] >= 0x7f))
			return false;
	if (i == n || i > 256)
		return false;	/* no whole printable line yet */
	if (p[0] == '/')
		return true;	/* a path: /bin/sh -i */
	while (w < i && ((p[w] >= 'a' && p[w] <= 'z') || (p[w] >= '0' && p[w] <= '9')))
		w++;
	if (w == 0 || (w < i && p[w] != ' ' && p[w] != ';' && p[w] != '\r' && p[w] != '|'))
		return false;
	for (k = 0; k < nitems(shell_words); k++)
		if (strlen(shell_words[k]) == w && memcmp(shell_words[k], p, w) == 0)
			return true;
	return false;
}

/* The last (unterminated) line of the server looks like a prompt. */
static bool
shell_prompt(const uint8_t *p, size_t n)
{
	size_t start = n;

	if (n < 2 || n > 1024)
		return false;
	while (start > 0 && p[start - 1] != '\n')
		start--;
	if (n - start < 2 || n - start > 64)
		return false;
	if ((n - start >= 3 && memcmp(p + start, "sh-", 3) == 0) ||
	    (n - start >= 5 && memcmp(p + start, "bash-", 5) == 0))
		return true;
	return p[n - 1] == ' ' && (p[n - 2] == '$' || p[n - 2] == '#');
}

static bool
shell_detect(const uint8_t *const seen[2], const size_t n[2])
{
	/* A prompt counts only when the server speaks first (HTTP bodies,
	 * mail and the like follow a client's request). */
	return shell_first_line(seen[0], n[0]) || (n[0] == 0 && shell_prompt(seen[1], n[1]));
}

static void *
shell_open(struct layers *l, const struct session_info *si)
{
	struct key_origin o;

	origin_of(&o, "shell", si);
	return keyline_new(l, &o);
}

static void
shell_data(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	if (dir == 0)
		keyline_feed(st, ts, p, n);
}

static void
shell_gap(void *st, int dir, fb_ns ts, uint64_t n)
{
	(void)n;
	if (dir == 0)
		keyline_flush(st, ts);
}

static void
shell_close(void *st, fb_ns ts)
{
	keyline_free(st, ts);
}

const struct analyser shell_analyser = {
	.name = "shell", .detect = shell_detect, .open = shell_open,
	.data = shell_data, .gap = shell_gap, .close = shell_close,
};
