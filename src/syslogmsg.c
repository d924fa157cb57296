/*
 * syslogmsg: a bounded parser of RFC 3164 and RFC 5424 messages and the
 * syslog.jsonl writer (see syslogmsg.h; not "syslog.h", which
 * would shadow the system header under -Isrc).
 *
 * The parser walks a cursor over [p, p + n) and never looks past it.  It
 * is lenient in the way receivers must be (RFC 3164 section 4.3: a relay
 * takes anything): a message without PRI or with a header it cannot read
 * keeps all its bytes as the message, flagged, so nothing an intruder sent
 * is lost from the record.  Field widths follow RFC 5424 section 6; a
 * longer field means the header is not 5424 after all.
 */
#include <stdio.h>
#include <string.h>

#include "layers.h"
#include "syslogmsg.h"

#define HOST_MAX	255
#define APP_MAX		48
#define PROCID_MAX	128
#define MSGID_MAX	32
#define TS_MAX		64

struct cursor {
	const uint8_t	*p;
	size_t		 n;	/* bytes left */
};

static const char *const facilities[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};
static const char *const severities[8] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

const char *
syslog_facility_name(int pri)
{
	return pri < 0 || pri > 191 ? NULL : facilities[pri >> 3];
}

const char *
syslog_severity_name(int pri)
{
	return pri < 0 || pri > 191 ? NULL : severities[pri & 7];
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static void
skip(struct cursor *c, size_t k)
{
	c->p += k;
	c->n -= k;
}

/* "<N>" with 1-3 digits and no leading zero except "<0>" (RFC 5424 6.2.1). */
static int
parse_pri(struct cursor *c, uint32_t *flags)
{
	size_t i, digits;
	int v = 0;

	if (c->n == 0 || c->p[0] != '<') {
		*flags |= SYSLOG_F_NO_PRI;
		return -1;
	}
	for (i = 1; i < c->n && i <= 4 && is_digit(c->p[i]); i++)
		v = v * 10 + (c->p[i] - '0');
	digits = i - 1;
	if (i >= c->n || c->p[i] != '>' || digits == 0 || digits > 3 || v > 191 ||
	    (digits > 1 && c->p[1] == '0')) {
		*flags |= SYSLOG_F_BAD_PRI;	/* kept in the message */
		return -1;
	}
	skip(c, i + 1);
	return v;
}

/* A space-delimited token of at most max bytes; false if none. */
static bool
token(struct cursor *c, size_t max, struct syslog_field *f)
{
	size_t i;

	for (i = 0; i < c->n && c->p[i] != ' '; i++)
		if (i >= max || c->p[i] < 33 || c->p[i] > 126)
			return false;
	if (i == 0 || i == c->n)
		return false;	/* 5424 header fields are followed by a space */
	f->p = c->p;
	f->n = i;
	skip(c, i + 1);
	return true;
}

/* A 5424 header field: "-" is the nil value. */
static bool
field(struct cursor *c, size_t max, struct syslog_field *f)
{
	if (!token(c, max, f))
		return false;
	if (f->n == 1 && f->p[0] == '-')
		f->p = NULL, f->n = 0;
	return true;
}

/* STRUCTURED-DATA: "-" or one or more [id param="value"...] elements,
 * where values may hold \" \\ \] escapes. */
static bool
structured_data(struct cursor *c, struct syslog_field *f)
{
	size_t i = 0;

	if (c->n >= 1 && c->p[0] == '-') {
		f->p = NULL, f->n = 0;
		skip(c, 1);
		return c->n == 0 || c->p[0] == ' ';
	}
	while (i < c->n && c->p[i] == '[') {
		bool quoted = false;

		for (i++; i < c->n; i++) {
			if (quoted && c->p[i] == '\\' && i + 1 < c->n)
				i++;
			else if (c->p[i] == '"')
				quoted = !quoted;
			else if (!quoted && c->p[i] == ']')
				break;
		}
		if (i >= c->n)
			return false;	/* unterminated element */
		i++;
	}
	if (i == 0 || (i < c->n && c->p[i] != ' '))
		return false;
	f->p = c->p;
	f->n = i;
	skip(c, i);
	return true;
}

static bool
parse_5424(struct cursor *c, struct syslog_msg *m)
{
	if (!field(c, TS_MAX, &m->timestamp) || !field(c, HOST_MAX, &m->host) ||
	    !field(c, APP_MAX, &m->app) || !field(c, PROCID_MAX, &m->procid) ||
	    !field(c, MSGID_MAX, &m->msgid) || !structured_data(c, &m->sd))
		return false;
	if (c->n > 0)
		skip(c, 1);	/* the space before MSG */
	/* A UTF-8 MSG starts with a BOM (6.4): not part of the text. */
	if (c->n >= 3 && memcmp(c->p, "\xef\xbb\xbf", 3) == 0)
		skip(c, 3);
	return true;
}

/* "Mmm dd hh:mm:ss" (day space-padded), 3164 section 4.1.2. */
static bool
bsd_timestamp(const struct cursor *c)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const uint8_t *t = c->p;

	if (c->n < 16 || t[3] != ' ' || t[6] != ' ' || t[9] != ':' || t[12] != ':' ||
	    t[15] != ' ')
		return false;
	for (int i = 0; i < 36; i += 3)
		if (memcmp(t, months + i, 3) == 0)
			return (t[4] == ' ' || is_digit(t[4])) && is_digit(t[5]) &&
			    is_digit(t[7]) && is_digit(t[8]) && is_digit(t[10]) &&
			    is_digit(t[11]) && is_digit(t[13]) && is_digit(t[14]);
	return false;
}

/* RFC 3339 timestamp as rsyslog sends it in 3164-style lines
 * ("2026-11-26T20:19:23.123456+00:00 host tag: msg"). */
static size_t
iso_timestamp(const struct cursor *c)
{
	size_t i;

	if (c->n < 20 || !is_digit(c->p[0]) || !is_digit(c->p[3]) || c->p[4] != '-' ||
	    c->p[7] != '-' || c->p[10] != 'T')
		return 0;
	for (i = 0; i < c->n && i < TS_MAX && c->p[i] != ' '; i++)
		;
	return i < c->n && c->p[i] == ' ' ? i : 0;
}

/*
 * TAG: "app[pid]:" or "app:" then the content.  Returns false (nothing
 * consumed) when the word does not look like a tag.
 */
static bool
bsd_tag(struct cursor *c, struct syslog_msg *m)
{
	size_t i, a, pid0 = 0, pid1 = 0;

	for (i = 0; i < c->n && i <= APP_MAX && c->p[i] > 32 && c->p[i] < 127 &&
	    c->p[i] != '[' && c->p[i] != ':'; i++)
		;
	a = i;
	if (a == 0 || a > APP_MAX || i >= c->n)
		return false;
	if (c->p[i] == '[') {
		pid0 = ++i;
		for (; i < c->n && i - pid0 <= PROCID_MAX && c->p[i] != ']'; i++)
			if (c->p[i] <= 32 || c->p[i] >= 127)
				return false;
		if (i >= c->n || c->p[i] != ']' || i == pid0 || i - pid0 > PROCID_MAX)
			return false;
		pid1 = i++;
	}
	if (i >= c->n || c->p[i] != ':')
		return false;
	i++;
	m->app.p = c->p;
	m->app.n = a;
	if (pid1 != 0) {
		m->procid.p = c->p + pid0;
		m->procid.n = pid1 - pid0;
	}
	if (i < c->n && c->p[i] == ' ')
		i++;
	skip(c, i);
	return true;
}

static void
parse_3164(struct cursor *c, struct syslog_msg *m)
{
	struct cursor save;
	size_t n;

	if (bsd_timestamp(c)) {
		m->timestamp.p = c->p;
		m->timestamp.n = 15;
		skip(c, 16);
		m->fmt = SYSLOG_FMT_3164;
	} else if ((n = iso_timestamp(c)) != 0) {
		m->timestamp.p = c->p;
		m->timestamp.n = n;
		skip(c, n + 1);
		m->fmt = SYSLOG_FMT_3164;
	}
	/* After a timestamp comes HOSTNAME, unless the word is already the
	 * tag (local senders such as "robin: Hello" omit the host). */
	save = *c;
	if (bsd_tag(c, m)) {
		m->fmt = SYSLOG_FMT_3164;
		return;
	}
	if (m->fmt == SYSLOG_FMT_3164) {
		struct syslog_field h;

		if (token(c, HOST_MAX, &h)) {
			m->host = h;
			save = *c;
			if (!bsd_tag(c, m))
				*c = save;
			return;
		}
		*c = save;
	}
}

void
syslog_parse(const uint8_t *p, size_t n, struct syslog_msg *m)
{
	struct cursor c = { p, n }, after_pri;

	memset(m, 0, sizeof(*m));
	m->fmt = SYSLOG_FMT_RAW;
	if (p == NULL)
		c.n = 0;
	if (c.n > 0 && memchr(c.p, 0, c.n) != NULL)
		m->flags |= SYSLOG_F_NUL;
	/* Framing leftovers and the NUL some senders append are not text. */
	while (c.n > 0 && (c.p[c.n - 1] == '\n' || c.p[c.n - 1] == '\r' ||
	    c.p[c.n - 1] == '\0'))
		c.n--;
	m->pri = parse_pri(&c, &m->flags);
	after_pri = c;
	if (m->pri >= 0 && c.n >= 2 && c.p[0] == '1' && c.p[1] == ' ') {
		skip(&c, 2);
		if (parse_5424(&c, m)) {
			m->fmt = SYSLOG_FMT_5424;
		} else {
			struct syslog_msg keep = *m;

			memset(m, 0, sizeof(*m));
			m->pri = keep.pri;
			m->flags = keep.flags | SYSLOG_F_BAD_HEADER;
			m->fmt = SYSLOG_FMT_RAW;
			c = after_pri;
		}
	} else {
		parse_3164(&c, m);
	}
	if (c.n > 0 || m->fmt == SYSLOG_FMT_RAW) {
		m->msg.p = c.n > 0 ? c.p : (const uint8_t *)"";
		m->msg.n = c.n;
	}
}

/* Command lines */

static bool
field_is(const struct syslog_field *f, const char *s)
{
	size_t n = strlen(s);

	return f->p != NULL && f->n == n && memcmp(f->p, s, n) == 0;
}

static const uint8_t *
find(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (memcmp(p + i, needle, k) == 0)
			return p + i;
	return NULL;
}

static size_t
digits(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && is_digit(p[i]); i++)
		;
	return i;
}

/* "HISTORY: PID=123 UID=0 cmd" (bash built with SYSLOG_HISTORY). */
static bool
cmd_bash_history(const uint8_t *p, size_t n, const uint8_t **cmd, size_t *len)
{
	size_t i = 0, d;

	if (n < 9 || memcmp(p, "HISTORY: ", 9) != 0)
		return false;
	i = 9;
	if (n - i < 4 || memcmp(p + i, "PID=", 4) != 0 || (d = digits(p + i + 4, n - i - 4)) == 0)
		return false;
	i += 4 + d;
	if (n - i < 5 || memcmp(p + i, " UID=", 5) != 0 || (d = digits(p + i + 5, n - i - 5)) == 0)
		return false;
	i += 5 + d;
	if (i >= n || p[i] != ' ')
		return false;
	*cmd = p + i + 1;
	*len = n - i - 1;
	return true;
}

/* "user [pid]: cmd [rc]" (the common PROMPT_COMMAND + logger recipe). */
static bool
cmd_prompt_logger(const uint8_t *p, size_t n, const uint8_t **cmd, size_t *len)
{
	size_t i, d, end;

	for (i = 0; i < n && i <= 64 && p[i] > 32 && p[i] < 127; i++)
		;
	if (i == 0 || i + 2 >= n || p[i] != ' ' || p[i + 1] != '[')
		return false;
	i += 2;
	if ((d = digits(p + i, n - i)) == 0)
		return false;
	i += d;
	if (n - i < 3 || memcmp(p + i, "]: ", 3) != 0)
		return false;
	i += 3;
	end = n;
	/* A trailing " [N]" is the return code, not the command. */
	if (end > i + 3 && p[end - 1] == ']') {
		size_t j = end - 1;

		while (j > i && is_digit(p[j - 1]))
			j--;
		if (j < end - 1 && j >= i + 2 && p[j - 1] == '[' && p[j - 2] == ' ')
			end = j - 2;
	}
	*cmd = p + i;
	*len = end - i;
	return true;
}

/* "cmd=..." or cmd="..." (key=value audit style): the rest of the line. */
static bool
cmd_keyvalue(const uint8_t *p, size_t n, const uint8_t **cmd, size_t *len)
{
	const uint8_t *k = find(p, n, "cmd=");

	if (k == NULL || (k > p && p[k - p - 1] != ' '))
		return false;
	k += 4;
	n -= (size_t)(k - p);
	if (n >= 2 && k[0] == '"') {
		const uint8_t *q = memchr(k + 1, '"', n - 1);

		if (q != NULL) {
			*cmd = k + 1;
			*len = (size_t)(q - k - 1);
			return true;
		}
	}
	*cmd = k;
	*len = n;
	return true;
}

static bool
shell_app(const struct syslog_field *app)
{
	static const char *const shells[] = { "bash", "-bash", "sh", "-sh", "zsh",
	    "-zsh", "ksh", "dash" };

	for (size_t i = 0; i < nitems(shells); i++)
		if (field_is(app, shells[i]))
			return true;
	return false;
}

bool
syslog_command(const struct syslog_msg *m, const uint8_t **cmd, size_t *n)
{
	const uint8_t *p = m->msg.p;
	size_t len = m->msg.n;
	bool found;

	if (p == NULL || len == 0)
		return false;
	found = cmd_bash_history(p, len, cmd, n) || cmd_prompt_logger(p, len, cmd, n) ||
	    cmd_keyvalue(p, len, cmd, n);
	if (!found && shell_app(&m->app)) {
		*cmd = p;
		*n = len;
		found = true;
	}
	/* Trim blanks: an empty command is no command. */
	while (found && *n > 0 && ((*cmd)[0] == ' ' || (*cmd)[0] == '\t'))
		(*cmd)++, (*n)--;
	while (found && *n > 0 && ((*cmd)[*n - 1] == ' ' || (*cmd)[*n - 1] == '\t'))
		(*n)--;
	return found && *n > 0;
}

/* Output */

static void
jb_field(struct jbuf *jb, const char *key, const struct syslog_field *f)
{
	if (f->p != NULL)
		jb_strn(jb, key, f->p, f->n);
}

static const char *
format_name(enum syslog_format f)
{
	return f == SYSLOG_FMT_5424 ? "rfc5424" : f == SYSLOG_FMT_3164 ? "rfc3164" : "raw";
}

void
syslog_json(struct jbuf *jb, fb_ns ts, const struct syslog_origin *o,
    const struct syslog_msg *m, const uint8_t *raw, size_t len)
{
	static const struct { uint32_t f; const char *name; } flags[] = {
		{ SYSLOG_F_NO_PRI, "no_pri" }, { SYSLOG_F_BAD_PRI, "bad_pri" },
		{ SYSLOG_F_NUL, "nul" }, { SYSLOG_F_BAD_HEADER, "bad_header" },
		{ SYSLOG_F_TRUNCATED, "truncated" },
	};
	char a[FB_ADDRSTRLEN];
	const uint8_t *cmd;
	size_t cn;

	jb_begin(jb);
	jb_time(jb, "ts", ts);
	jb_str(jb, "source", o->source);
	jb_str(jb, "transport", o->transport);
	jb_str(jb, "peer", addr_fmt(&o->peer, a));
	jb_u64(jb, "peer_port", o->peer_port);
	jb_str(jb, "dst", addr_fmt(&o->dst, a));
	jb_u64(jb, "dst_port", o->dst_port);
	jb_str(jb, "format", format_name(m->fmt));
	if (m->pri >= 0) {
		jb_u64(jb, "pri", (uint64_t)m->pri);
		jb_str(jb, "facility", syslog_facility_name(m->pri));
		jb_str(jb, "severity", syslog_severity_name(m->pri));
	}
	jb_field(jb, "timestamp", &m->timestamp);
	jb_field(jb, "host", &m->host);
	jb_field(jb, "app", &m->app);
	jb_field(jb, "procid", &m->procid);
	jb_field(jb, "msgid", &m->msgid);
	jb_field(jb, "sd", &m->sd);
	jb_field(jb, "msg", &m->msg);
	if (syslog_command(m, &cmd, &cn))
		jb_strn(jb, "command", cmd, cn);
	if (m->flags != 0) {
		jb_arr_begin(jb, "flags");
		for (size_t i = 0; i < nitems(flags); i++)
			if (m->flags & flags[i].f)
				jb_str(jb, NULL, flags[i].name);
		jb_arr_end(jb);
	}
	jb_strn(jb, "raw", raw, len);
	jb_end(jb);
}

static void
count(struct syslog_stats *st, const struct syslog_msg *m)
{
	st->messages++;
	if (m->fmt == SYSLOG_FMT_5424)
		st->rfc5424++;
	else if (m->fmt == SYSLOG_FMT_3164)
		st->rfc3164++;
	else
		st->raw++;
	st->no_pri += (m->flags & SYSLOG_F_NO_PRI) != 0;
	st->bad_pri += (m->flags & SYSLOG_F_BAD_PRI) != 0;
	st->nul += (m->flags & SYSLOG_F_NUL) != 0;
	st->bad_header += (m->flags & SYSLOG_F_BAD_HEADER) != 0;
	st->truncated += (m->flags & SYSLOG_F_TRUNCATED) != 0;
}

void
syslog_sink_message(struct syslog_sink *s, fb_ns ts, const struct syslog_origin *o,
    const uint8_t *raw, size_t len, uint32_t extra_flags)
{
	struct syslog_msg m;
	struct jbuf jb;
	const uint8_t *cmd;
	size_t cn;

	syslog_parse(raw, len, &m);
	m.flags |= extra_flags;
	count(&s->st, &m);
	if (syslog_command(&m, &cmd, &cn)) {
		s->st.commands++;
		if (s->on_command != NULL)
			s->on_command(s->arg, ts, o, &m, cmd, cn);
	}
	jb_init(&jb);
	syslog_json(&jb, ts, o, &m, raw, len);
	/* Over the day's syslog share, the line is dropped (the layers count
	 * it); the keystroke line above is kept. */
	if ((s->budget == NULL || layers_record_take(s->budget, LREC_SYSLOG, ts, jb.len)) &&
	    (s->events == NULL ||
	    event_append(s->events, ts, "syslog.jsonl", jb.p, jb.len) != 0))
		s->st.write_errors++;
	jb_free(&jb);
}

void
syslog_sink_packet(struct syslog_sink *s, const struct fb_packet *p, fb_ns ts)
{
	struct syslog_origin o = {
		.source = "wire", .transport = "udp", .peer = p->src,
		.peer_port = p->sport, .dst = p->dst, .dst_port = p->dport,
	};

	if (s != NULL && p->payload != NULL)
		syslog_sink_message(s, ts, &o, p->payload, p->payload_len, 0);
}

void
syslog_stats_json(const struct syslog_stats *st, struct jbuf *jb)
{
	jb_u64(jb, "messages", st->messages);
	jb_u64(jb, "rfc3164", st->rfc3164);
	jb_u64(jb, "rfc5424", st->rfc5424);
	jb_u64(jb, "raw", st->raw);
	jb_u64(jb, "no_pri", st->no_pri);
	jb_u64(jb, "bad_pri", st->bad_pri);
	jb_u64(jb, "nul", st->nul);
	jb_u64(jb, "bad_header", st->bad_header);
	jb_u64(jb, "truncated", st->truncated);
	jb_u64(jb, "commands", st->commands);
	jb_u64(jb, "write_errors", st->write_errors);
}
