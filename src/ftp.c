/*
 * ftp: control connection parsing, the expected-data-connection table
 * and the data connection carver.
 *
 * The control parser splits each direction into lines; client lines are
 * commands, queued until the server's final reply (1xx replies are
 * preliminary: the command waits for the next one); multi-line replies
 * ("NNN-" ... "NNN ") count as one, with the first line's text.  A reply
 * with no command waiting (the greeting) is recorded alone.
 *
 * Expected data connections are keyed by (listening address, port,
 * connecting address): for PASV/EPSV the server listens and the client
 * connects; for PORT/EPRT the reverse.  PASV replies are keyed on the
 * control connection's server address, not the one in the reply, since
 * clients (curl, for one) connect there whatever the reply says.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "ftp.h"
#include "layers.h"
#include "stream.h"

#define ARG_MAX		1024	/* argument kept for a data connection's name */

struct ftp_link {
	bool		 used;
	fb_ns		 expires;
	uint64_t	 seq;			/* registration order */
	bool		 claimed;		/* its connection came: kept to be named */
	struct fb_addr	 listen, connector;
	uint16_t	 port;
	bool		 client_listens;	/* PORT/EPRT */
	uint64_t	 ctrl_id;
	char		 cmd[8];		/* transfer command, "" until seen */
	char		 arg[ARG_MAX];
};

struct ftp_links {
	struct ftp_link		 e[FTP_LINKS_MAX];
	size_t			 nused;	/* entries with used set: none, no scan */
	struct ftp_links_stats	 st;
};

struct cmd {
	fb_ns		 ts;
	char		*verb, *arg;
	bool		 cut;
	int		 prelim;		/* 1xx reply code, or 0 */
};

struct line {
	char		 b[FTP_LINE_MAX + 1];
	size_t		 n;
	bool		 cut;
};

struct ftp {
	struct layers		*l;
	struct session_info	 info;
	struct line		 ln[2];
	struct cmd		 q[FTP_PENDING_MAX];
	size_t			 qh, qn;
	char			*user;
	/* a multi-line reply in progress */
	int			 ml_code;
	fb_ns			 ml_ts;
	char			*ml_text;
	bool			 ml_cut;
	uint64_t		 gaps[2];
};

/* The table */

struct ftp_links *
ftp_links_new(void)
{
	return calloc(1, sizeof(struct ftp_links));
}

void
ftp_links_free(struct ftp_links *t)
{
	free(t);
}

void
ftp_links_stats(const struct ftp_links *t, struct ftp_links_stats *st)
{
	if (t == NULL)
		memset(st, 0, sizeof(*st));
	else
		*st = t->st;
}

void
ftp_links_status_json(const struct ftp_links *t, struct jbuf *jb)
{
	if (t == NULL)
		return;
	jb_obj_begin(jb, "ftp");
	jb_u64(jb, "commands", t->st.commands);
	jb_u64(jb, "replies", t->st.replies);
	jb_u64(jb, "long_lines", t->st.long_lines);
	jb_u64(jb, "data_registered", t->st.registered);
	jb_u64(jb, "data_claimed", t->st.claimed);
	jb_u64(jb, "data_expired", t->st.expired);
	jb_u64(jb, "data_replaced", t->st.replaced);
	jb_u64(jb, "bounces", t->st.bounces);
	jb_obj_end(jb);
}

static void
links_expire(struct ftp_links *t, fb_ns now)
{
	size_t i;

	for (i = 0; i < FTP_LINKS_MAX && t->nused > 0; i++)
		if (t->e[i].used && t->e[i].expires <= now) {
			t->e[i].used = false;
			t->nused--;
			t->st.expired++;
		}
}

static void
link_add(struct ftp_links *t, fb_ns ts, const struct fb_addr *listen, uint16_t port,
    const struct fb_addr *connector, bool client_listens, uint64_t ctrl_id)
{
	struct ftp_link *e = NULL;
	size_t i;

	links_expire(t, ts);
	for (i = 0; i < FTP_LINKS_MAX && e == NULL; i++)
		if (!t->e[i].used)
			e = &t->e[i];
	if (e == NULL) {
		/* Full: the oldest gives way. */
		e = &t->e[0];
		for (i = 1; i < FTP_LINKS_MAX; i++)
			if (t->e[i].seq < e->seq)
				e = &t->e[i];
		t->st.replaced++;
	} else
		t->nused++;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->expires = ts + FTP_LINK_TTL;
	e->listen = *listen;
	e->connector = *connector;
	e->port = port;
	e->client_listens = client_listens;
	e->ctrl_id = ctrl_id;
	e->seq = t->st.registered++;
}

/* A transfer command names the file of the control's links that have no
 * name yet: each PASV/PORT is followed by one transfer.  Claimed links are
 * named too, since the data may arrive before the command line does (the
 * stream delivers a line once it is acknowledged). */
static void
links_name(struct ftp_links *t, uint64_t ctrl_id, const char *verb, const char *arg)
{
	size_t i;

	for (i = 0; i < FTP_LINKS_MAX; i++)
		if (t->e[i].used && t->e[i].ctrl_id == ctrl_id && t->e[i].cmd[0] == '\0') {
			fb_strlcpy(t->e[i].cmd, verb, sizeof(t->e[i].cmd));
			fb_strlcpy(t->e[i].arg, arg != NULL ? arg : "", sizeof(t->e[i].arg));
		}
}

/* The data analyser */

/* Listings are not files. */
static bool
is_listing(const char *verb)
{
	return strcmp(verb, "LIST") == 0 || strcmp(verb, "NLST") == 0 ||
	    strcmp(verb, "MLSD") == 0;
}

struct ftp_data {
	struct layers		*l;
	struct session_info	 info;
	int			 client_dir;	/* direction sent by the FTP client */
	bool			 carve;
	uint64_t		 ctrl_id;
	size_t			 link;		/* its entry, while seq matches */
	uint64_t		 link_seq;
	char			 cmd[8];
	char			 arg[ARG_MAX];
	struct carve		*cv[2];
};

void *
ftp_data_claim(struct layers *l, const struct session_info *info)
{
	const struct fb_flowkey *k = &info->key;
	struct ftp_links *t;
	struct ftp_data *fd;
	struct ftp_link *e = NULL;
	size_t i;
	int listener_dir = STREAM_RESP;

	if (l == NULL || (t = l->ftp) == NULL || t->nused == 0)
		return NULL;	/* every connection asks: most when none is expected */
	links_expire(t, info->start);
	for (i = 0; i < FTP_LINKS_MAX && e == NULL; i++) {
		struct ftp_link *c = &t->e[i];

		if (!c->used || c->claimed)
			continue;
		if (c->port == k->dport && addr_eq(&c->listen, &k->dst) &&
		    addr_eq(&c->connector, &k->src))
			e = c, listener_dir = STREAM_RESP;
		else if (c->port == k->sport && addr_eq(&c->listen, &k->src) &&
		    addr_eq(&c->connector, &k->dst))
			e = c, listener_dir = STREAM_ORIG;	/* picked up reversed */
	}
	if (e == NULL || (fd = calloc(1, sizeof(*fd))) == NULL)
		return NULL;
	t->st.claimed++;
	fd->l = l;
	fd->info = *info;
	fd->ctrl_id = e->ctrl_id;
	/* The listener is the client for PORT, the server for PASV; the
	 * listener receives the connection, i.e. sends in direction RESP. */
	fd->client_dir = e->client_listens ? listener_dir : !listener_dir;
	fd->link = (size_t)(e - t->e);
	fd->link_seq = e->seq;
	memcpy(fd->cmd, e->cmd, sizeof(fd->cmd));
	memcpy(fd->arg, e->arg, sizeof(fd->arg));
	fd->carve = !is_listing(fd->cmd);
	e->claimed = true;
	return fd;
}

static bool
ftp_data_detect(const uint8_t *const seen[2], const size_t n[2])
{
	(void)seen;
	(void)n;
	return false;
}

static void *
ftp_data_open(struct layers *l, const struct session_info *info)
{
	return ftp_data_claim(l, info);
}

static void
ftp_data_data(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct ftp_data *fd = st;
	const struct fb_flowkey *k;

	if (fd == NULL || !fd->carve || (dir != 0 && dir != 1))
		return;
	k = &fd->info.key;
	if (fd->cv[dir] == NULL) {
		struct carve_meta m = {
			.proto = "ftp", .conn_id = fd->info.conn_id,
			.ctrl_conn_id = fd->ctrl_id, .upload = dir == fd->client_dir,
			.name = fd->arg[0] != '\0' ? fd->arg : NULL,
			.honeypot = fd->info.honeypot, .announced = -1,
			.src = dir == STREAM_ORIG ? k->src : k->dst,
			.dst = dir == STREAM_ORIG ? k->dst : k->src,
			.sport = dir == STREAM_ORIG ? k->sport : k->dport,
			.dport = dir == STREAM_ORIG ? k->dport : k->sport,
		};

		if ((fd->cv[dir] = carve_begin(fd->l, ts, &m)) == NULL)
			return;
	}
	carve_write(fd->cv[dir], p, n);
}

static void
ftp_data_gap(void *st, int dir, fb_ns ts, uint64_t n)
{
	struct ftp_data *fd = st;

	(void)ts;
	if (fd == NULL || (dir != 0 && dir != 1) || n == 0)
		return;
	if (fd->cv[dir] == NULL) {
		/* The file starts with a hole: carve nothing, say so. */
		uint8_t none = 0;

		ftp_data_data(fd, dir, ts, &none, 0);
	}
	carve_stop(fd->cv[dir], CARVE_GAP);
}

static void
ftp_data_close(void *st, fb_ns ts)
{
	struct ftp_data *fd = st;
	struct ftp_links *t;
	int d;

	if (fd == NULL)
		return;
	/* The command may have come after the data: take it from the entry. */
	t = fd->l->ftp;
	if (t != NULL && t->e[fd->link].used && t->e[fd->link].seq == fd->link_seq &&
	    t->e[fd->link].cmd[0] != '\0') {
		memcpy(fd->cmd, t->e[fd->link].cmd, sizeof(fd->cmd));
		memcpy(fd->arg, t->e[fd->link].arg, sizeof(fd->arg));
	}
	for (d = 0; d < 2; d++) {
		if (is_listing(fd->cmd)) {
			carve_discard(fd->cv[d]);
			continue;
		}
		if (fd->arg[0] != '\0')
			carve_set_name(fd->cv[d], fd->arg);
		carve_end(fd->cv[d], ts, CARVE_COMPLETE, NULL);
	}
	free(fd);
}

const struct analyser ftp_data_analyser = {
	.name = "ftp-data",
	.detect = ftp_data_detect,
	.open = ftp_data_open,
	.data = ftp_data_data,
	.gap = ftp_data_gap,
	.close = ftp_data_close,
};

/* Detection */

static const char *const ftp_first[] = {
	"USER", "AUTH", "FEAT", "SYST", "OPTS", "HELP", "PASV", "EPSV", "PORT",
	"EPRT", "PWD", "TYPE", "NOOP", "ACCT", "PASS", "CWD", "LIST", "QUIT",
};

static bool
ftp_detect(const uint8_t *const seen[2], const size_t n[2])
{
	const uint8_t *c = seen[0], *s = seen[1];
	size_t i, w;

	if (n[1] < 4 || memcmp(s, "220", 3) != 0 || (s[3] != ' ' && s[3] != '-'))
		return false;
	for (w = 0; w < n[0] && w < 5 && isalpha(c[w]); w++)
		;
	if (w == n[0] || w < 3)
		return false;
	if (c[w] != ' ' && c[w] != '\r' && c[w] != '\n')
		return false;
	for (i = 0; i < nitems(ftp_first); i++)
		if (strlen(ftp_first[i]) == w &&
		    strncasecmp((const char *)c, ftp_first[i], w) == 0)
			return true;
	return false;
}

/* Records */

static void
flow_id(const struct ftp *f, struct jbuf *jb)
{
	const struct fb_flowkey *k = &f->info.key;
	char a[FB_ADDRSTRLEN];

	jb_u64(jb, "conn", f->info.conn_id);
	jb_str(jb, "honeypot", addr_fmt(&f->info.honeypot, a));
	jb_str(jb, "client", addr_fmt(&k->src, a));
	jb_u64(jb, "cport", k->sport);
	jb_str(jb, "server", addr_fmt(&k->dst, a));
	jb_u64(jb, "sport", k->dport);
}

static void
record(struct ftp *f, fb_ns ts, const struct cmd *c, int code, const char *text,
    bool text_cut)
{
	struct jbuf jb;

	jb_init(&jb);
	jb_begin(&jb);
	jb_time(&jb, "ts", c != NULL ? c->ts : ts);
	flow_id(f, &jb);
	if (f->user != NULL)
		jb_str(&jb, "user", f->user);
	if (c != NULL) {
		jb_str(&jb, "command", c->verb);
		if (c->arg != NULL)
			jb_str(&jb, "arg", c->arg);
		if (c->cut)
			jb_bool(&jb, "command_cut", true);
		if (c->prelim != 0)
			jb_u64(&jb, "prelim_reply", (uint64_t)c->prelim);
	} else {
		jb_null(&jb, "command");
	}
	if (code >= 0) {
		jb_u64(&jb, "reply", (uint64_t)code);
		jb_str(&jb, "reply_text", text != NULL ? text : "");
		if (text_cut)
			jb_bool(&jb, "reply_cut", true);
	} else {
		jb_null(&jb, "reply");
	}
	jb_end(&jb);
	layers_append(f->l, c != NULL ? c->ts : ts, "ftp.jsonl", jb.p, jb.len);
	jb_free(&jb);
}

static void
cmd_clear(struct cmd *c)
{
	free(c->verb);
	free(c->arg);
	memset(c, 0, sizeof(*c));
}

static struct cmd *
cmd_head(struct ftp *f)
{
	return f->qn > 0 ? &f->q[f->qh] : NULL;
}

static void
cmd_pop(struct ftp *f)
{
	cmd_clear(&f->q[f->qh]);
	f->qh = (f->qh + 1) % FTP_PENDING_MAX;
	f->qn--;
}

/* Addresses in PORT/PASV: "h1,h2,h3,h4,p1,p2" from p. */
static bool
parse_hostport(const char *p, struct fb_addr *a, uint16_t *port)
{
	unsigned v[6];
	int i;
	char buf[16];

	for (i = 0; i < 6; i++) {
		char *end;
		unsigned long x;

		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		x = strtoul(p, &end, 10);
		if (x > 255 || end - p > 3)
			return false;
		v[i] = (unsigned)x;
		p = end;
		if (i < 5) {
			if (*p != ',')
				return false;
			p++;
		}
	}
	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", v[0], v[1], v[2], v[3]);
	if (addr_parse(buf, a) != 0)
		return false;
	*port = (uint16_t)(v[4] << 8 | v[5]);
	return true;
}

/* EPRT |af|addr|port| (any delimiter between 33 and 126). */
static bool
parse_eprt(const char *p, struct fb_addr *a, uint16_t *port)
{
	char d, host[64];
	const char *q, *r;
	unsigned long x;
	char *end;
	size_t hl;

	if ((d = *p) < 33 || d > 126)
		return false;
	if ((q = strchr(p + 1, d)) == NULL || (r = strchr(q + 1, d)) == NULL)
		return false;
	hl = (size_t)(r - q - 1);
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, q + 1, hl);
	host[hl] = '\0';
	if (addr_parse(host, a) != 0)
		return false;
	x = strtoul(r + 1, &end, 10);
	if (end == r + 1 || *end != d || x == 0 || x > 65535)
		return false;
	*port = (uint16_t)x;
	return true;
}

static void
bounce_alert(struct ftp *f, fb_ns ts, const struct fb_addr *to, uint16_t port)
{
	const struct fb_flowkey *k = &f->info.key;
	char c[FB_ADDRSTRLEN], t[FB_ADDRSTRLEN], msg[300], extra[160];
	struct fb_flow *fl;
	bool rev;

	f->l->ftp->st.bounces++;
	snprintf(msg, sizeof(msg), "FTP bounce: client %s asked the server %s to "
	    "connect to a third host %s port %u", addr_fmt(&k->src, c),
	    addr_fmt(&k->dst, t), addr_fmt(to, extra), port);
	snprintf(extra, sizeof(extra), "\"ctrl_conn\":%llu,\"target\":\"%s\","
	    "\"target_port\":%u", (unsigned long long)f->info.conn_id,
	    addr_fmt(to, t), port);
	fl = f->l->flows != NULL ? flow_lookup(f->l->flows, k, &rev) : NULL;
	layers_event(f->l, ts, PRIO_HIGH, "ftp-bounce", msg, &f->info.honeypot,
	    fl != NULL && fl->id == f->info.conn_id ? fl : NULL, extra);
}

/* PORT/EPRT: the client listens (or names a third host: bounce). */
static void
active_mode(struct ftp *f, fb_ns ts, const char *verb, const char *arg)
{
	const struct fb_flowkey *k = &f->info.key;
	struct fb_addr a;
	uint16_t port;
	bool ok;

	if (arg == NULL || f->l->ftp == NULL)
		return;
	ok = strcmp(verb, "PORT") == 0 ? parse_hostport(arg, &a, &port) :
	    parse_eprt(arg, &a, &port);
	if (!ok)
		return;
	if (!addr_eq(&a, &k->src))
		bounce_alert(f, ts, &a, port);
	link_add(f->l->ftp, ts, &a, port, &k->dst, true, f->info.conn_id);
}

static bool
is_transfer(const char *verb)
{
	static const char *const v[] = { "RETR", "STOR", "STOU", "APPE", "LIST",
	    "NLST", "MLSD" };
	size_t i;

	for (i = 0; i < nitems(v); i++)
		if (strcmp(verb, v[i]) == 0)
			return true;
	return false;
}

/* A client that sent its RETR/STOR before the PASV reply came (pipelined)
 * names the new link with it. */
static void
queued_transfer(struct ftp *f)
{
	size_t i;

	for (i = 0; i < f->qn; i++) {
		const struct cmd *c = &f->q[(f->qh + i) % FTP_PENDING_MAX];

		if (is_transfer(c->verb)) {
			links_name(f->l->ftp, f->info.conn_id, c->verb, c->arg);
			return;
		}
	}
}

/* 227 / 229: the server listens. */
static void
passive_reply(struct ftp *f, fb_ns ts, int code, const char *text)
{
	const struct fb_flowkey *k = &f->info.key;
	struct fb_addr a;
	uint16_t port = 0;
	const char *p;
	bool ok = false;

	if (f->l->ftp == NULL || text == NULL)
		return;
	if (code == 227) {
		for (p = text; *p != '\0' && !ok; p++)
			if (isdigit((unsigned char)*p) && (p == text ||
			    !isdigit((unsigned char)p[-1])))
				ok = parse_hostport(p, &a, &port);
	} else if ((p = strchr(text, '(')) != NULL) {
		char d = p[1];
		unsigned long x;
		char *end;

		if (d >= 33 && d <= 126 && p[2] == d && p[3] == d) {
			x = strtoul(p + 4, &end, 10);
			if (end != p + 4 && *end == d && x > 0 && x <= 65535) {
				port = (uint16_t)x;
				ok = true;
			}
		}
	}
	if (ok && port != 0) {
		link_add(f->l->ftp, ts, &k->dst, port, &k->src, false, f->info.conn_id);
		queued_transfer(f);
	}
}

/* Lines */

static void
client_line(struct ftp *f, fb_ns ts, const char *s, bool cut)
{
	struct cmd *c;
	size_t w = 0, i;
	const char *arg;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return;
	while (s[w] != '\0' && s[w] != ' ')
		w++;
	if (f->qn == FTP_PENDING_MAX) {
		/* Never answered: write the oldest out. */
		record(f, ts, cmd_head(f), -1, NULL, false);
		cmd_pop(f);
	}
	c = &f->q[(f->qh + f->qn++) % FTP_PENDING_MAX];
	memset(c, 0, sizeof(*c));
	c->ts = ts;
	c->cut = cut;
	c->verb = malloc(FB_MIN(w, 32) + 1);
	if (c->verb == NULL) {
		f->qn--;
		return;
	}
	for (i = 0; i < FB_MIN(w, 32); i++)
		c->verb[i] = (char)toupper((unsigned char)s[i]);
	c->verb[i] = '\0';
	arg = s + w;
	while (*arg == ' ')
		arg++;
	if (*arg != '\0')
		c->arg = strdup(arg);
	if (f->l->ftp != NULL)
		f->l->ftp->st.commands++;
	if (strcmp(c->verb, "USER") == 0) {
		free(f->user);
		f->user = c->arg != NULL ? strndup(c->arg, 256) : NULL;
	} else if (strcmp(c->verb, "PORT") == 0 || strcmp(c->verb, "EPRT") == 0) {
		active_mode(f, ts, c->verb, c->arg);
	} else if (f->l->ftp != NULL && is_transfer(c->verb)) {
		links_name(f->l->ftp, f->info.conn_id, c->verb, c->arg);
	}
}

static void
reply_done(struct ftp *f, fb_ns ts, int code, const char *text, bool cut)
{
	struct cmd *c = cmd_head(f);

	if (f->l->ftp != NULL)
		f->l->ftp->st.replies++;
	if (code == 227 || code == 229)
		passive_reply(f, ts, code, text);
	if (code < 200) {
		if (c != NULL)
			c->prelim = code;
		else
			record(f, ts, NULL, code, text, cut);
		return;
	}
	record(f, ts, c, code, text, cut);
	if (c != NULL)
		cmd_pop(f);
}

static int
reply_code(const char *s)
{
	if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && (s[3] == ' ' || s[3] == '-' || s[3] == '\0'))
		return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return -1;
}

static void
server_line(struct ftp *f, fb_ns ts, const char *s, bool cut)
{
	int code = reply_code(s);
	const char *text = code >= 0 ? s + (s[3] != '\0' ? 4 : 3) : s;

	if (f->ml_code != 0) {
		/* Inside "NNN-": only "NNN " of the same code ends it. */
		if (code == f->ml_code && s[3] != '-') {
			reply_done(f, f->ml_ts, f->ml_code, f->ml_text, f->ml_cut);
			free(f->ml_text);
			f->ml_text = NULL;
			f->ml_code = 0;
		}
		return;
	}
	if (code < 0)
		return;		/* not a reply: junk between replies */
	if (s[3] == '-') {
		f->ml_code = code;
		f->ml_ts = ts;
		f->ml_text = strdup(text);
		f->ml_cut = cut;
		return;
	}
	reply_done(f, ts, code, text, cut);
}

static void
line_end(struct ftp *f, int dir, fb_ns ts)
{
	struct line *ln = &f->ln[dir];

	if (ln->n > 0 && ln->b[ln->n - 1] == '\r')
		ln->n--;
	ln->b[ln->n] = '\0';
	/* A NUL inside a line would hide the rest from the string functions. */
	for (size_t i = 0; i < ln->n; i++)
		if (ln->b[i] == '\0')
			ln->b[i] = ' ';
	if (dir == STREAM_ORIG)
		client_line(f, ts, ln->b, ln->cut);
	else
		server_line(f, ts, ln->b, ln->cut);
	ln->n = 0;
	ln->cut = false;
}

/* The analyser */

static void *
ftp_open(struct layers *l, const struct session_info *info)
{
	struct ftp *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->l = l;
	f->info = *info;
	return f;
}

static void
ftp_data(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct ftp *f = st;
	struct line *ln;
	size_t i;

	if (f == NULL || (dir != 0 && dir != 1))
		return;
	ln = &f->ln[dir];
	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			line_end(f, dir, ts);
		} else if (ln->n < FTP_LINE_MAX) {
			ln->b[ln->n++] = (char)p[i];
		} else if (!ln->cut) {
			ln->cut = true;
			if (f->l->ftp != NULL)
				f->l->ftp->st.long_lines++;
		}
	}
}

static void
ftp_gap(void *st, int dir, fb_ns ts, uint64_t n)
{
	struct ftp *f = st;

	(void)ts;
	if (f == NULL || (dir != 0 && dir != 1))
		return;
	/* The line in progress lost its middle: drop it. */
	f->gaps[dir] += n;
	f->ln[dir].n = 0;
	f->ln[dir].cut = false;
}

static void
ftp_close(void *st, fb_ns ts)
{
	struct ftp *f = st;

	if (f == NULL)
		return;
	if (f->ln[1].n > 0)
		line_end(f, STREAM_RESP, ts);
	if (f->ml_code != 0) {
		reply_done(f, f->ml_ts, f->ml_code, f->ml_text, true);
		free(f->ml_text);
	}
	if (f->ln[0].n > 0)
		line_end(f, STREAM_ORIG, ts);
	while (f->qn > 0) {
		record(f, ts, cmd_head(f), -1, NULL, false);
		cmd_pop(f);
	}
	free(f->user);
	free(f);
}

const struct analyser ftp_analyser = {
	.name = "ftp",
	.detect = ftp_detect,
	.open = ftp_open,
	.data = ftp_data,
	.gap = ftp_gap,
	.close = ftp_close,
};
