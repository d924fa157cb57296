/*
 * irc: IRC messages of a reassembled TCP connection into irc.jsonl.
 *
 * Lines are cut at CR or LF (CRLF gives an empty line, skipped), so a line
 * hidden behind a lone CR is recorded on its own rather than glued to the
 * text before it.  Complete lines are parsed straight from the chunk; only
 * the unfinished tail of a chunk is copied, into a per-direction buffer that
 * grows up to IRC_LINE_MAX and is released as soon as the line ends.
 *
 * The nick is the client's on this connection: set by the client's NICK
 * until the server's 001 welcome names it, then followed through the
 * server's NICK messages whose prefix is that nick.  The client is the side
 * that sends NICK/USER/PASS/CAP, or the one receiving numeric replies; until
 * either is seen, the originator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc.h"
#include "layers.h"

struct irc_totals {
	struct irc_stats st;
	struct jbuf	 jb;		/* scratch for one record */
};

/* One direction's unfinished line. */
struct irc_line {
	uint8_t		*buf;
	size_t		 len, cap;
	bool		 skipping;	/* inside an overlong or dropped line */
	bool		 after_gap;	/* the next line follows a gap */
};

struct irc_conn {
	struct layers	*l;
	struct irc_totals *t;
	uint64_t	 conn_id;
	bool		 orig_is_hp;	/* the originator is the honeypot */
	int		 client;	/* direction the client sends in; -1 unknown */
	bool		 welcomed;	/* 001 seen */
	struct fb_flowkey key;
	char		 hp[FB_ADDRSTRLEN];
	char		 server[FB_ADDRSTRLEN + 8];
	size_t		 nick_len;
	char		 nick[IRC_NICK_MAX];
	struct irc_line	 in[2];
};

/* Flags of a record. */
#define F_OVERLONG	0x1
#define F_AFTER_GAP	0x2
#define F_PARTIAL	0x4

/* Parsing */

static size_t
skip_spaces(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && p[i] == ' ')
		i++;
	return i;
}

static size_t
token_end(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && p[i] != ' ')
		i++;
	return i;
}

static void
tok_set(struct irc_tok *t, const uint8_t *p, size_t from, size_t to)
{
	t->p = p + from;
	t->n = to - from;
}

int
irc_parse(const uint8_t *p, size_t n, struct irc_msg *m)
{
	size_t i = skip_spaces(p, n, 0), e;

	memset(m, 0, sizeof(*m));
	if (i < n && p[i] == '@') {
		e = token_end(p, n, i);
		tok_set(&m->tags, p, i + 1, e);
		i = skip_spaces(p, n, e);
	}
	if (i < n && p[i] == ':') {
		e = token_end(p, n, i);
		tok_set(&m->prefix, p, i + 1, e);
		i = skip_spaces(p, n, e);
	}
	if (i >= n)
		return -1;
	e = token_end(p, n, i);
	tok_set(&m->cmd, p, i, e);
	for (i = skip_spaces(p, n, e); i < n; i = skip_spaces(p, n, e)) {
		struct irc_tok *t = &m->param[m->nparams++];

		if (p[i] == ':') {
			tok_set(t, p, i + 1, n);
			break;
		}
		if (m->nparams == IRC_MAX_PARAMS) {
			/* RFC 2812: the 15th parameter is the rest, colon or not. */
			tok_set(t, p, i, n);
			break;
		}
		e = token_end(p, n, i);
		tok_set(t, p, i, e);
	}
	return 0;
}

static bool
tok_is(const struct irc_tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->n == n && strncasecmp((const char *)t->p, s, n) == 0;
}

static bool
tok_numeric(const struct irc_tok *t)
{
	return t->n == 3 && t->p[0] >= '0' && t->p[0] <= '9' &&
	    t->p[1] >= '0' && t->p[1] <= '9' && t->p[2] >= '0' && t->p[2] <= '9';
}

static bool
is_channel(const struct irc_tok *t)
{
	return t->n > 1 && (t->p[0] == '#' || t->p[0] == '&' || t->p[0] == '+' ||
	    t->p[0] == '!');
}

/* Detection */

enum kind { K_NO, K_MAYBE, K_IRC };

/* Does one complete line look like IRC?  Strict enough that FTP (USER x,
 * "220 banner"), SMTP, POP3 and HTTP say no. */
static enum kind
line_kind(const uint8_t *p, size_t n)
{
	static const char *const from_server[] = {
		"NOTICE", "PRIVMSG", "PING", "PONG", "JOIN", "PART", "MODE",
		"NICK", "QUIT", "TOPIC", "KICK", "ERROR", "CAP", "INVITE",
	};
	struct irc_msg m;
	size_t i;

	if (irc_parse(p, n, &m) < 0)
		return K_NO;
	if (m.prefix.n > 0) {
		if (tok_numeric(&m.cmd))
			return K_IRC;
		for (i = 0; i < nitems(from_server); i++)
			if (tok_is(&m.cmd, from_server[i]))
				return K_IRC;
		return K_NO;
	}
	if (tok_is(&m.cmd, "PASS"))
		return m.nparams >= 1 ? K_MAYBE : K_NO;
	if ((tok_is(&m.cmd, "NICK") && m.nparams >= 1) ||
	    (tok_is(&m.cmd, "USER") && m.nparams >= 4) ||
	    (tok_is(&m.cmd, "JOIN") && m.nparams >= 1 &&
	     (is_channel(&m.param[0]) || tok_is(&m.param[0], "0"))) ||
	    ((tok_is(&m.cmd, "PING") || tok_is(&m.cmd, "PONG") ||
	      tok_is(&m.cmd, "ERROR")) && m.nparams >= 1) ||
	    ((tok_is(&m.cmd, "PRIVMSG") || tok_is(&m.cmd, "NOTICE")) && m.nparams >= 2))
		return K_IRC;
	if (tok_is(&m.cmd, "CAP") && m.nparams >= 1 &&
	    (tok_is(&m.param[0], "LS") || tok_is(&m.param[0], "REQ") ||
	     tok_is(&m.param[0], "END") || tok_is(&m.param[0], "LIST")))
		return K_IRC;
	return K_NO;
}

/* The verdict of one direction's first lines: K_IRC, K_NO, or K_MAYBE when
 * no complete line (other than PASS) was seen yet. */
static enum kind
dir_kind(const uint8_t *p, size_t n)
{
	size_t i = 0, s;
	int lines = 0;

	while (i < n && lines < 4) {
		for (s = i; i < n && p[i] != '\r' && p[i] != '\n'; i++)
			;
		if (i == n)
			break;		/* unfinished: wait for more */
		if (i > s) {
			enum kind k = line_kind(p + s, i - s);

			if (k != K_MAYBE)
				return k;
			lines++;
		}
		i++;
	}
	return K_MAYBE;
}

static bool
irc_detect(const uint8_t *const seen[2], const size_t n[2])
{
	enum kind a = seen[0] != NULL ? dir_kind(seen[0], n[0]) : K_MAYBE;
	enum kind b = seen[1] != NULL ? dir_kind(seen[1], n[1]) : K_MAYBE;

	return (a == K_IRC || b == K_IRC) && a != K_NO && b != K_NO;
}

/* Records */

static void
jb_tok(struct jbuf *jb, const char *key, const struct irc_tok *t)
{
	jb_strn(jb, key, t->p, t->n);
}

/* Commands and CTCP verbs in upper case when they are short words. */
static void
jb_upper(struct jbuf *jb, const char *key, const struct irc_tok *t)
{
	char buf[32];
	size_t i;

	if (t->n >= sizeof(buf)) {
		jb_tok(jb, key, t);
		return;
	}
	for (i = 0; i < t->n; i++) {
		uint8_t c = t->p[i];

		buf[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	jb_strn(jb, key, buf, t->n);
}

static bool
parse_u64(const struct irc_tok *t, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (t->n == 0 || t->n > 20)
		return false;
	for (i = 0; i < t->n; i++) {
		unsigned d = (unsigned)t->p[i] - '0';

		if (d > 9 || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Next DCC argument: a token, or a "quoted name" with spaces. */
static bool
dcc_arg(const uint8_t *p, size_t n, size_t *i, struct irc_tok *t)
{
	size_t e;

	*i = skip_spaces(p, n, *i);
	if (*i >= n)
		return false;
	if (p[*i] == '"') {
		const uint8_t *q = memchr(p + *i + 1, '"', n - *i - 1);

		if (q != NULL) {
			tok_set(t, p, *i + 1, (size_t)(q - p));
			*i = (size_t)(q - p) + 1;
			return true;
		}
	}
	e = token_end(p, n, *i);
	tok_set(t, p, *i, e);
	*i = e;
	return true;
}

/* "DCC SEND name ip port [size]": the address is a decimal IPv4 number
 * (or, for IPv6, written as is). */
static void
jb_dcc(struct irc_totals *tot, struct jbuf *jb, const uint8_t *p, size_t n)
{
	struct irc_tok type, name, ip, port, size;
	uint64_t v;
	size_t i = 0;

	if (!dcc_arg(p, n, &i, &type))
		return;
	tot->st.dcc++;
	jb_obj_begin(jb, "dcc");
	jb_upper(jb, "type", &type);
	if (dcc_arg(p, n, &i, &name))
		jb_tok(jb, "file", &name);
	if (dcc_arg(p, n, &i, &ip)) {
		if (parse_u64(&ip, UINT32_MAX, &v)) {
			char a[16];

			snprintf(a, sizeof(a), "%u.%u.%u.%u", (unsigned)(v >> 24),
			    (unsigned)(v >> 16) & 255, (unsigned)(v >> 8) & 255,
			    (unsigned)v & 255);
			jb_str(jb, "ip", a);
		} else
			jb_tok(jb, "ip", &ip);
	}
	if (dcc_arg(p, n, &i, &port) && parse_u64(&port, 65535, &v))
		jb_u64(jb, "port", v);
	if (dcc_arg(p, n, &i, &size) && parse_u64(&size, UINT64_MAX, &v))
		jb_u64(jb, "size", v);
	jb_obj_end(jb);
}

/* The text of PRIVMSG/NOTICE: "\1VERB args\1" is CTCP (the closing \1 may
 * be missing); anything else is plain text. */
static void
jb_text(struct irc_totals *tot, struct jbuf *jb, const struct irc_tok *t)
{
	struct irc_tok verb, args = { NULL, 0 };
	const uint8_t *end;
	size_t n, e, a;

	if (t->n == 0 || t->p[0] != 0x01) {
		jb_tok(jb, "text", t);
		return;
	}
	end = memchr(t->p + 1, 0x01, t->n - 1);
	n = end != NULL ? (size_t)(end - t->p) : t->n;
	e = token_end(t->p, n, 1);
	tok_set(&verb, t->p, 1, e);
	a = skip_spaces(t->p, n, e);
	if (a < n)
		tok_set(&args, t->p, a, n);
	jb_upper(jb, "ctcp", &verb);
	if (args.n > 0)
		jb_tok(jb, "text", &args);
	if (tok_is(&verb, "DCC"))
		jb_dcc(tot, jb, args.p, args.n);
}

static void
jb_params(struct jbuf *jb, const struct irc_msg *m)
{
	int i;

	jb_arr_begin(jb, "params");
	for (i = 0; i < m->nparams; i++)
		jb_tok(jb, NULL, &m->param[i]);
	jb_arr_end(jb);
}

/* Joins params [from, nparams) with single spaces (MODE's changes). */
static void
jb_rest(struct jbuf *jb, const char *key, const struct irc_msg *m, int from)
{
	const struct irc_tok *a = &m->param[from], *z = &m->param[m->nparams - 1];
	uint8_t buf[IRC_LINE_MAX];
	size_t len = 0;
	int i;

	if (z->p + z->n - a->p <= (ptrdiff_t)sizeof(buf)) {
		for (i = from; i < m->nparams; i++) {
			if (i > from)
				buf[len++] = ' ';
			memcpy(buf + len, m->param[i].p, m->param[i].n);
			len += m->param[i].n;
		}
	}
	jb_strn(jb, key, buf, len);
}

/*
 * The command's own members: how many parameters they hold is returned, so
 * that a message with more gets its full "params" too and nothing is lost.
 */
static int
jb_command(struct irc_conn *c, struct jbuf *jb, const struct irc_msg *m)
{
	const struct irc_tok *p = m->param;
	int np = m->nparams;

	if (tok_is(&m->cmd, "PRIVMSG") || tok_is(&m->cmd, "NOTICE")) {
		if (np >= 1)
			jb_tok(jb, "target", &p[0]);
		if (np >= 2)
			jb_text(c->t, jb, &p[1]);
		return 2;
	}
	if (tok_is(&m->cmd, "JOIN")) {
		/* A client's second parameter is the key; a server's (IRCv3
		 * extended-join) the account, left in params. */
		if (np >= 1)
			jb_tok(jb, "target", &p[0]);
		if (np >= 2 && m->prefix.p == NULL)
			jb_tok(jb, "key", &p[1]);
		return m->prefix.p == NULL ? 2 : 1;
	}
	if (tok_is(&m->cmd, "PART") || tok_is(&m->cmd, "TOPIC")) {
		if (np >= 1)
			jb_tok(jb, "target", &p[0]);
		if (np >= 2)
			jb_tok(jb, "text", &p[1]);
		return 2;
	}
	if (tok_is(&m->cmd, "QUIT")) {
		if (np >= 1)
			jb_tok(jb, "text", &p[0]);
		return 1;
	}
	if (tok_is(&m->cmd, "NICK")) {
		if (np >= 1)
			jb_tok(jb, "new_nick", &p[0]);
		return 1;
	}
	if (tok_is(&m->cmd, "KICK")) {
		if (np >= 1)
			jb_tok(jb, "target", &p[0]);
		if (np >= 2)
			jb_tok(jb, "victim", &p[1]);
		if (np >= 3)
			jb_tok(jb, "text", &p[2]);
		return 3;
	}
	if (tok_is(&m->cmd, "MODE")) {
		if (np >= 1)
			jb_tok(jb, "target", &p[0]);
		if (np >= 2)
			jb_rest(jb, "modes", m, 1);
		return IRC_MAX_PARAMS;
	}
	if (tok_is(&m->cmd, "001") || tok_is(&m->cmd, "332")) {
		/* 001 me :Welcome ...; 332 me #chan :topic */
		int t = tok_is(&m->cmd, "001") ? 0 : 1;

		if (np > t)
			jb_tok(jb, "target", &p[t]);
		if (np > t + 1)
			jb_tok(jb, "text", &p[t + 1]);
		return t + 2;
	}
	return 0;
}

static const char *
dir_of(const struct irc_conn *c, int dir)
{
	return (dir == 0) == c->orig_is_hp ? "from_honeypot" : "to_honeypot";
}

static void
server_set(struct irc_conn *c)
{
	const struct fb_addr *a = c->client == 1 ? &c->key.src : &c->key.dst;
	uint16_t port = c->client == 1 ? c->key.sport : c->key.dport;
	char buf[FB_ADDRSTRLEN];

	addr_fmt(a, buf);
	snprintf(c->server, sizeof(c->server), addr_is_v4(a) ? "%s:%u" : "[%s]:%u",
	    buf, port);
}

static void
record(struct irc_conn *c, int dir, fb_ns ts, const struct irc_msg *m,
    const uint8_t *line, size_t n, int ok, unsigned flags)
{
	struct jbuf *jb = &c->t->jb;

	jb_reset(jb);
	jb_begin(jb);
	jb_time(jb, "ts", ts);
	jb_u64(jb, "conn_id", c->conn_id);
	jb_str(jb, "honeypot", c->hp);
	jb_str(jb, "dir", dir_of(c, dir));
	jb_str(jb, "server", c->server);
	if (c->nick_len > 0)
		jb_strn(jb, "nick", c->nick, c->nick_len);
	if (ok < 0) {
		c->t->st.no_command++;
		jb_strn(jb, "raw", line, n);
	} else {
		if (m->tags.p != NULL)
			jb_tok(jb, "tags", &m->tags);
		if (m->prefix.p != NULL)
			jb_tok(jb, "from", &m->prefix);
		jb_upper(jb, "command", &m->cmd);
		if (m->nparams > jb_command(c, jb, m))
			jb_params(jb, m);
	}
	if (flags & F_OVERLONG)
		jb_bool(jb, "overlong", true);
	if (flags & F_AFTER_GAP)
		jb_bool(jb, "after_gap", true);
	if (flags & F_PARTIAL)
		jb_bool(jb, "partial", true);
	jb_end(jb);
	if (!layers_record_take(c->l, LREC_IRC, ts, jb->len))
		return;		/* over the day's share: counted by the layers */
	if (layers_append(c->l, ts, "irc.jsonl", jb->p, jb->len) == 0)
		c->t->st.records++;
	else
		c->t->st.write_errors++;
}

/* Connection state */

static void
nick_set(struct irc_conn *c, const struct irc_tok *t)
{
	size_t n = t->n;

	if (n == 0)
		return;
	if (n > sizeof(c->nick)) {
		n = sizeof(c->nick);
		c->t->st.nick_cut++;
	}
	memcpy(c->nick, t->p, n);
	c->nick_len = n;
}

/* The nick part of a prefix "nick!user@host" equals ours? */
static bool
prefix_is_us(const struct irc_conn *c, const struct irc_tok *prefix)
{
	const uint8_t *bang = memchr(prefix->p, '!', prefix->n);
	size_t n = bang != NULL ? (size_t)(bang - prefix->p) : prefix->n;

	return c->nick_len > 0 && n == c->nick_len &&
	    strncasecmp((const char *)prefix->p, c->nick, n) == 0;
}

/* Who is the client, learnt from the first line that tells. */
static void
learn_client(struct irc_conn *c, int dir, const struct irc_msg *m)
{
	if (c->client >= 0)
		return;
	if (m->prefix.p == NULL && (tok_is(&m->cmd, "NICK") || tok_is(&m->cmd, "USER") ||
	    tok_is(&m->cmd, "PASS") || tok_is(&m->cmd, "CAP")))
		c->client = dir;
	else if (m->prefix.p != NULL && tok_numeric(&m->cmd))
		c->client = !dir;
	else
		return;
	server_set(c);
}

static void
track_nick(struct irc_conn *c, int dir, const struct irc_msg *m)
{
	bool from_client = dir == (c->client >= 0 ? c->client : 0);

	if (m->nparams < 1)
		return;
	if (tok_is(&m->cmd, "NICK")) {
		if (from_client ? !c->welcomed :
		    m->prefix.p != NULL && prefix_is_us(c, &m->prefix))
			nick_set(c, &m->param[0]);
	} else if (!from_client && tok_is(&m->cmd, "001")) {
		nick_set(c, &m->param[0]);
		c->welcomed = true;
	}
}

static void
line(struct irc_conn *c, int dir, fb_ns ts, const uint8_t *p, size_t n, unsigned flags)
{
	struct irc_line *b = &c->in[dir];
	struct irc_msg m;
	int ok;

	if (n == 0)
		return;
	if (b->after_gap) {
		flags |= F_AFTER_GAP;
		b->after_gap = false;
	}
	c->t->st.lines++;
	ok = irc_parse(p, n, &m);
	if (ok == 0)
		learn_client(c, dir, &m);
	record(c, dir, ts, &m, p, n, ok, flags);
	if (ok == 0)
		track_nick(c, dir, &m);
}

/* Line buffers */

static void
buf_release(struct irc_conn *c, struct irc_line *b)
{
	c->t->st.mem_used -= b->cap;
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
}

/* Room for need bytes in b, within both bounds; false: the line is lost. */
static bool
buf_reserve(struct irc_conn *c, struct irc_line *b, size_t need)
{
	size_t cap = b->cap > 0 ? b->cap : 256;
	uint8_t *nb;

	if (need <= b->cap)
		return true;
	while (cap < need)
		cap *= 2;
	cap = FB_MIN(cap, (size_t)IRC_LINE_MAX);
	if (c->t->st.mem_used - b->cap + cap > IRC_MEM_MAX ||
	    (nb = realloc(b->buf, cap)) == NULL)
		return false;
	c->t->st.mem_used += cap - b->cap;
	b->buf = nb;
	b->cap = cap;
	return true;
}

static const uint8_t *
find_eol(const uint8_t *p, size_t n)
{
	const uint8_t *lf = memchr(p, '\n', n);
	const uint8_t *cr = memchr(p, '\r', lf != NULL ? (size_t)(lf - p) : n);

	return cr != NULL ? cr : lf;
}

/* Adds the bytes of an unfinished line to its buffer (at most IRC_LINE_MAX
 * in all); returns how many bytes of p it used up. */
static size_t
buf_add(struct irc_conn *c, int dir, fb_ns ts, const uint8_t *p, size_t take,
    bool eol)
{
	struct irc_line *b = &c->in[dir];
	size_t room = IRC_LINE_MAX - b->len, k = FB_MIN(take, room);

	if (!buf_reserve(c, b, b->len + k)) {
		c->t->st.mem_drops++;
		buf_release(c, b);
		b->skipping = !eol;
		b->after_gap = true;
		return take + eol;
	}
	memcpy(b->buf + b->len, p, k);
	b->len += k;
	if (take > room) {
		/* Overlong: record what fits, skip the rest of the line. */
		c->t->st.overlong++;
		line(c, dir, ts, b->buf, b->len, F_OVERLONG);
		buf_release(c, b);
		b->skipping = !eol;
	} else if (eol) {
		line(c, dir, ts, b->buf, b->len, 0);
		buf_release(c, b);
	}
	return take + eol;
}

static void
irc_data(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct irc_conn *c = st;
	struct irc_line *b;

	if (c == NULL || dir < 0 || dir > 1)
		return;
	b = &c->in[dir];
	while (n > 0) {
		const uint8_t *e = find_eol(p, n);
		size_t take = e != NULL ? (size_t)(e - p) : n, used;

		if (b->skipping) {
			if (e != NULL)
				b->skipping = false;
			used = take + (e != NULL);
		} else if (b->len == 0 && e != NULL && take <= IRC_LINE_MAX) {
			line(c, dir, ts, p, take, 0);
			used = take + 1;
		} else
			used = buf_add(c, dir, ts, p, take, e != NULL);
		p += used;
		n -= used;
	}
}

static void
irc_gap(void *st, int dir, fb_ns ts, uint64_t n)
{
	struct irc_conn *c = st;
	struct irc_line *b;

	(void)ts;
	(void)n;
	if (c == NULL || dir < 0 || dir > 1)
		return;
	b = &c->in[dir];
	c->t->st.gaps++;
	if (b->len > 0)
		c->t->st.gap_lines++;
	buf_release(c, b);
	b->skipping = false;
	b->after_gap = true;
}

static void *
irc_open(struct layers *l, const struct session_info *si)
{
	struct irc_conn *c;

	if (l->irc == NULL)
		l->irc = calloc(1, sizeof(*l->irc));
	if (l->irc == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->l = l;
	c->t = l->irc;
	c->t->st.conns++;
	c->conn_id = si->conn_id;
	c->key = si->key;
	c->orig_is_hp = addr_eq(&si->key.src, &si->honeypot);
	c->client = -1;
	addr_fmt(&si->honeypot, c->hp);
	server_set(c);
	return c;
}

static void
irc_close(void *st, fb_ns ts)
{
	struct irc_conn *c = st;
	int d;

	if (c == NULL)
		return;
	for (d = 0; d < 2; d++) {
		struct irc_line *b = &c->in[d];

		if (b->len > 0 && !b->skipping) {
			c->t->st.partial++;
			line(c, d, ts, b->buf, b->len, F_PARTIAL);
		}
		buf_release(c, b);
	}
	free(c);
}

const struct analyser irc_analyser = {
	.name = "irc",
	.detect = irc_detect,
	.open = irc_open,
	.data = irc_data,
	.gap = irc_gap,
	.close = irc_close,
};

/* Totals */

void
irc_totals_free(struct irc_totals *t)
{
	if (t == NULL)
		return;
	jb_free(&t->jb);
	free(t);
}

void
irc_stats_get(const struct irc_totals *t, struct irc_stats *st)
{
	if (t == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = t->st;
}

void
irc_status_json(const struct irc_totals *t, struct jbuf *jb)
{
	struct irc_stats st;

	irc_stats_get(t, &st);
	jb_obj_begin(jb, "irc");
	jb_u64(jb, "conns", st.conns);
	jb_u64(jb, "lines", st.lines);
	jb_u64(jb, "records", st.records);
	jb_u64(jb, "write_errors", st.write_errors);
	jb_u64(jb, "no_command", st.no_command);
	jb_u64(jb, "overlong", st.overlong);
	jb_u64(jb, "gaps", st.gaps);
	jb_u64(jb, "gap_lines", st.gap_lines);
	jb_u64(jb, "partial", st.partial);
	jb_u64(jb, "mem_drops", st.mem_drops);
	jb_u64(jb, "nick_cut", st.nick_cut);
	jb_u64(jb, "dcc", st.dcc);
	jb_u64(jb, "mem_used", st.mem_used);
	jb_obj_end(jb);
}
