/*
 * http: per connection, one parser per direction (client requests, server
 * responses) and a FIFO of requests whose response has not started, which
 * pairs pipelined requests with their responses in order.  An exchange is
 * written when both its halves are done (or the connection ends).
 *
 * Parser states per direction: the header block (bytes gathered, up to
 * HTTP_HEADER_MAX, until an empty line), then a body framed by length,
 * chunks or the close, then the next message.  A direction whose framing
 * is lost (bad length, bad chunk, gap outside a sized body, header
 * overflow) goes dead: its bytes are still in the transcript, not here.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "files.h"
#include "http.h"
#include "layers.h"
#include "stream.h"

#define ZBUF		16384
#define URI_MAX		8192
#define FIELD_MAX	1024

enum pstate {
	P_HEAD,			/* gathering a header block */
	P_BODY_LEN,		/* Content-Length body: remain bytes */
	P_BODY_CLOSE,		/* body until the connection ends */
	P_CHUNK_SIZE,		/* a chunk-size line */
	P_CHUNK_DATA,		/* remain bytes of a chunk */
	P_CHUNK_CRLF,		/* the CRLF after chunk data */
	P_TRAILER,		/* trailer lines up to the empty one */
	P_DEAD			/* framing lost: ignore the rest */
};

enum coding { CODING_NONE, CODING_GZIP, CODING_DEFLATE };

struct txn {
	fb_ns		 ts;
	char		*method, *uri, *version, *host, *ua, *req_ctype;
	char		*reason, *ctype, *location;
	int		 status;		/* -1: no response */
	uint64_t	 req_len, resp_len;	/* body bytes on the wire */
	char		 req_sha[SHA256_HEXLEN], resp_sha[SHA256_HEXLEN];
	bool		 req_done, resp_done, has_req;
	const char	*anomaly;		/* first problem seen */
};

struct body {
	struct carve	*cv;
	enum coding	 coding;
	bool		 z_on, z_end, z_raw_tried;
	z_stream	 z;
	uint64_t	*wire;			/* txn's req_len or resp_len */
	char		*sha;			/* txn's req_sha or resp_sha */
};

struct hdir {
	enum pstate	 st;
	uint8_t		*hdr;
	size_t		 hlen, hcap;
	bool		 line_empty;		/* only CRs since the last LF */
	uint64_t	 remain;
	char		 line[HTTP_CHUNK_LINE_MAX];
	size_t		 llen;
	size_t		 trailer;		/* trailer bytes so far */
	struct txn	*cur;			/* message being read */
	struct body	 b;
	bool		 seen;			/* any byte yet */
};

struct http {
	struct layers		*l;
	struct session_info	 info;
	int			 client;	/* direction of the requests */
	struct hdir		 d[2];
	struct txn		*q[HTTP_PENDING_MAX];
	size_t			 qh, qn;
};

static struct http_stats stats;

void
http_stats(struct http_stats *st)
{
	*st = stats;
}

void
http_status_json(struct jbuf *jb)
{
	jb_obj_begin(jb, "http");
	jb_u64(jb, "requests", stats.requests);
	jb_u64(jb, "responses", stats.responses);
	jb_u64(jb, "unanswered", stats.unanswered);
	jb_u64(jb, "header_overflows", stats.header_overflows);
	jb_u64(jb, "bad_messages", stats.bad_messages);
	jb_u64(jb, "gaps", stats.gaps);
	jb_obj_end(jb);
}

/* Detection */

static bool
is_tchar(uint8_t c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "HTTP/d.d" at p; n bytes available. */
static bool
is_version(const uint8_t *p, size_t n)
{
	return n >= 8 && memcmp(p, "HTTP/", 5) == 0 && isdigit(p[5]) && p[6] == '.' &&
	    isdigit(p[7]);
}

/* p[0..n) (n < 9) could still become "HTTP/d.d". */
static bool
version_prefix(const uint8_t *p, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (j < 5 ? p[j] != "HTTP/"[j] : j == 6 ? p[j] != '.' : !isdigit(p[j]))
			return false;
	return true;
}

/* A whole request line: 1 = yes, 0 = no, -1 = not enough bytes yet. */
static int
request_line(const uint8_t *p, size_t n)
{
	size_t i = 0, t;

	while (i < n && i < 32 && is_tchar(p[i]) && isupper(p[i]))
		i++;
	if (i == n)
		return -1;
	if (i == 0 || i >= 32 || p[i] != ' ')
		return 0;
	t = ++i;
	while (i < n && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i == n)
		return n < URI_MAX ? -1 : 0;
	if (i == t || p[i] != ' ')
		return 0;
	i++;
	if (n - i < 9)
		return version_prefix(p + i, n - i) ? -1 : 0;
	if (!is_version(p + i, n - i))
		return 0;
	i += 8;
	return p[i] == '\n' || (p[i] == '\r' && (i + 1 == n || p[i + 1] == '\n')) ? 1 : 0;
}

static bool
status_line(const uint8_t *p, size_t n)
{
	return n >= 12 && is_version(p, n) && p[8] == ' ' && isdigit(p[9]) &&
	    isdigit(p[10]) && isdigit(p[11]) && (n == 12 || p[12] == ' ' ||
	    p[12] == '\r' || p[12] == '\n');
}

static bool
http_detect(const uint8_t *const seen[2], const size_t n[2])
{
	return request_line(seen[0], n[0]) == 1 || request_line(seen[1], n[1]) == 1 ||
	    status_line(seen[1], n[1]);
}

/* Exchanges */

static char *
dupn(const uint8_t *p, size_t n, size_t max)
{
	char *s;

	n = FB_MIN(n, max);
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static struct txn *
txn_new(fb_ns ts)
{
	struct txn *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ts = ts;
	t->status = -1;
	return t;
}

static void
txn_free(struct txn *t)
{
	free(t->method);
	free(t->uri);
	free(t->version);
	free(t->host);
	free(t->ua);
	free(t->req_ctype);
	free(t->reason);
	free(t->ctype);
	free(t->location);
	free(t);
}

static void
opt_str(struct jbuf *jb, const char *k, const char *v)
{
	if (v != NULL)
		jb_str(jb, k, v);
	else
		jb_null(jb, k);
}

static void
txn_write(struct http *h, struct txn *t)
{
	const struct fb_flowkey *k = &h->info.key;
	bool cl = h->client == STREAM_ORIG;
	char a[FB_ADDRSTRLEN];
	struct jbuf jb;

	jb_init(&jb);
	jb_begin(&jb);
	jb_time(&jb, "ts", t->ts);
	jb_u64(&jb, "conn", h->info.conn_id);
	jb_str(&jb, "honeypot", addr_fmt(&h->info.honeypot, a));
	jb_str(&jb, "client", addr_fmt(cl ? &k->src : &k->dst, a));
	jb_u64(&jb, "cport", cl ? k->sport : k->dport);
	jb_str(&jb, "server", addr_fmt(cl ? &k->dst : &k->src, a));
	jb_u64(&jb, "sport", cl ? k->dport : k->sport);
	opt_str(&jb, "method", t->method);
	opt_str(&jb, "host", t->host);
	opt_str(&jb, "uri", t->uri);
	opt_str(&jb, "version", t->version);
	opt_str(&jb, "user_agent", t->ua);
	if (t->has_req) {
		jb_u64(&jb, "request_body_len", t->req_len);
		if (t->req_ctype != NULL)
			jb_str(&jb, "request_content_type", t->req_ctype);
		if (t->req_sha[0] != '\0')
			jb_str(&jb, "request_file", t->req_sha);
	}
	if (t->status >= 0) {
		jb_u64(&jb, "status", (uint64_t)t->status);
		opt_str(&jb, "reason", t->reason);
		opt_str(&jb, "content_type", t->ctype);
		jb_u64(&jb, "response_body_len", t->resp_len);
		if (t->location != NULL)
			jb_str(&jb, "location", t->location);
		if (t->resp_sha[0] != '\0')
			jb_str(&jb, "response_file", t->resp_sha);
	} else {
		jb_null(&jb, "status");
	}
	if (t->anomaly != NULL)
		jb_str(&jb, "anomaly", t->anomaly);
	jb_end(&jb);
	layers_append(h->l, t->ts, "http.jsonl", jb.p, jb.len);
	jb_free(&jb);
}

static void
txn_emit(struct http *h, struct txn *t)
{
	int d;

	if (t->has_req && t->status < 0)
		stats.unanswered++;
	txn_write(h, t);
	for (d = 0; d < 2; d++)
		if (h->d[d].cur == t)
			h->d[d].cur = NULL;
	txn_free(t);
}

static void
txn_maybe_emit(struct http *h, struct txn *t)
{
	if (t->req_done && t->resp_done)
		txn_emit(h, t);
}

static void
anomaly(struct txn *t, const char *what)
{
	if (t != NULL && t->anomaly == NULL)
		t->anomaly = what;
}

/* Bodies */

static void
body_start(struct http *h, int dir, fb_ns ts, struct txn *t, enum coding coding,
    int64_t announced)
{
	struct hdir *hd = &h->d[dir];
	const struct fb_flowkey *k = &h->info.key;
	struct carve_meta m = {
		.proto = "http", .conn_id = h->info.conn_id, .upload = dir == h->client,
		.honeypot = h->info.honeypot, .announced = announced,
		.encoding = coding == CODING_GZIP ? "gzip" :
		    coding == CODING_DEFLATE ? "deflate" : NULL,
	};
	char name[URI_MAX + 600];

	if (t->uri != NULL && t->uri[0] == '/')
		snprintf(name, sizeof(name), "http://%s%s",
		    t->host != NULL ? t->host : "", t->uri);
	else
		snprintf(name, sizeof(name), "%s", t->uri != NULL ? t->uri : "");
	m.name = name[0] != '\0' ? name : NULL;
	m.src = dir == STREAM_ORIG ? k->src : k->dst;
	m.dst = dir == STREAM_ORIG ? k->dst : k->src;
	m.sport = dir == STREAM_ORIG ? k->sport : k->dport;
	m.dport = dir == STREAM_ORIG ? k->dport : k->sport;
	memset(&hd->b, 0, sizeof(hd->b));
	hd->b.cv = carve_begin(h->l, ts, &m);
	hd->b.coding = coding;
	hd->b.wire = dir == h->client ? &t->req_len : &t->resp_len;
	hd->b.sha = dir == h->client ? t->req_sha : t->resp_sha;
}

static bool
z_init(struct body *b, bool raw)
{
	int wbits = b->coding == CODING_GZIP ? 15 + 32 : raw ? -15 : 15;

	memset(&b->z, 0, sizeof(b->z));
	if (inflateInit2(&b->z, wbits) != Z_OK)
		return false;
	b->z_on = true;
	return true;
}

/* Inflates p into the carver until p is used up, the stream ends, or the
 * carver takes no more: the output cap holds whatever the ratio. */
static void
body_inflate(struct body *b, const uint8_t *p, size_t n)
{
	uint8_t out[ZBUF];
	bool first = b->z_on && b->z.total_in == 0 && b->z.total_out == 0;
	int r;

	if (!b->z_on) {
		if (!z_init(b, false)) {
			carve_stop(b->cv, CARVE_DECODE);
			return;
		}
		first = true;
	}
	b->z.next_in = (Bytef *)(uintptr_t)p;
	b->z.avail_in = (uInt)n;
	while (b->z.avail_in > 0 && !b->z_end && !carve_stopped(b->cv)) {
		b->z.next_out = out;
		b->z.avail_out = sizeof(out);
		r = inflate(&b->z, Z_NO_FLUSH);
		if (r == Z_DATA_ERROR && first && b->coding == CODING_DEFLATE &&
		    !b->z_raw_tried && b->z.total_out == 0) {
			/* "deflate" is often sent raw, without the zlib header. */
			inflateEnd(&b->z);
			b->z_raw_tried = true;
			if (!z_init(b, true))
				break;
			b->z.next_in = (Bytef *)(uintptr_t)p;
			b->z.avail_in = (uInt)n;
			continue;
		}
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			carve_stop(b->cv, CARVE_DECODE);
			return;
		}
		carve_write(b->cv, out, sizeof(out) - b->z.avail_out);
		if (r == Z_STREAM_END)
			b->z_end = true;
		else if (r == Z_BUF_ERROR && b->z.avail_out != 0)
			break;
	}
}

static void
body_bytes(struct hdir *hd, const uint8_t *p, size_t n)
{
	*hd->b.wire += n;
	if (hd->b.cv == NULL || carve_stopped(hd->b.cv))
		return;
	/* zlib counts in uInt: feed it in pieces that fit. */
	while (n > 0) {
		size_t k = FB_MIN(n, (size_t)1 << 30);

		if (hd->b.coding == CODING_NONE)
			carve_write(hd->b.cv, p, k);
		else
			body_inflate(&hd->b, p, k);
		p += k;
		n -= k;
	}
}

static void
body_end(struct http *h, int dir, fb_ns ts, enum carve_trunc why)
{
	struct hdir *hd = &h->d[dir];
	struct txn *t = hd->cur;

	if (why == CARVE_COMPLETE && hd->b.coding != CODING_NONE && hd->b.z_on &&
	    !hd->b.z_end && carve_size(hd->b.cv) > 0)
		why = CARVE_DECODE;	/* the compressed stream stopped short */
	if (hd->b.z_on)
		inflateEnd(&hd->b.z);
	hd->b.z_on = false;
	carve_end(hd->b.cv, ts, why, hd->b.sha);
	hd->b.cv = NULL;
	hd->st = P_HEAD;
	hd->hlen = 0;
	hd->line_empty = true;
	hd->cur = NULL;
	if (t == NULL)
		return;
	if (dir == h->client)
		t->req_done = true;
	else
		t->resp_done = true;
	txn_maybe_emit(h, t);
}

/* Header blocks */

struct head {
	const uint8_t	*line1;
	size_t		 line1_len;
	const uint8_t	*host, *ua, *ctype, *location;
	size_t		 host_len, ua_len, ctype_len, location_len;
	int64_t		 length;	/* -1 absent, -2 invalid */
	bool		 chunked, te_other;
	enum coding	 coding;
	const char	*coding_other;	/* unsupported coding seen */
};

static bool
name_is(const uint8_t *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp((const char *)p, name, n) == 0;
}

static bool
token_in(const uint8_t *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i;

	for (i = 0; i + tl <= n; i++)
		if (strncasecmp((const char *)v + i, tok, tl) == 0 &&
		    (i == 0 || v[i - 1] == ' ' || v[i - 1] == ',' || v[i - 1] == '\t') &&
		    (i + tl == n || v[i + tl] == ' ' || v[i + tl] == ',' ||
		    v[i + tl] == ';' || v[i + tl] == '\t'))
			return true;
	return false;
}

/* Content-Length: digits only; a second, different value makes it invalid
 * (request smuggling and evasion use exactly that). */
static void
parse_length(struct head *hd, const uint8_t *v, size_t n)
{
	uint64_t x = 0;
	size_t i;

	if (n == 0 || n > 18) {
		hd->length = -2;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!isdigit(v[i])) {
			hd->length = -2;
			return;
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (hd->length == -1)
		hd->length = (int64_t)x;
	else if (hd->length != (int64_t)x)
		hd->length = -2;
}

static void
parse_field(struct head *hd, const uint8_t *p, size_t n)
{
	const uint8_t *colon = memchr(p, ':', n), *v;
	size_t nl, vl;

	if (colon == NULL)
		return;
	nl = (size_t)(colon - p);
	v = colon + 1;
	vl = n - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
		vl--;
	if (name_is(p, nl, "host") && hd->host == NULL)
		hd->host = v, hd->host_len = vl;
	else if (name_is(p, nl, "user-agent") && hd->ua == NULL)
		hd->ua = v, hd->ua_len = vl;
	else if (name_is(p, nl, "content-type") && hd->ctype == NULL)
		hd->ctype = v, hd->ctype_len = vl;
	else if (name_is(p, nl, "location") && hd->location == NULL)
		hd->location = v, hd->location_len = vl;
	else if (name_is(p, nl, "content-length"))
		parse_length(hd, v, vl);
	else if (name_is(p, nl, "transfer-encoding")) {
		if (token_in(v, vl, "chunked"))
			hd->chunked = true;
		else if (vl > 0 && !token_in(v, vl, "identity"))
			hd->te_other = true;
	} else if (name_is(p, nl, "content-encoding")) {
		if (token_in(v, vl, "gzip") || token_in(v, vl, "x-gzip"))
			hd->coding = CODING_GZIP;
		else if (token_in(v, vl, "deflate"))
			hd->coding = CODING_DEFLATE;
		else if (vl > 0 && !token_in(v, vl, "identity"))
			hd->coding_other = "unsupported-coding";
	}
}

static void
parse_head(const uint8_t *p, size_t n, struct head *hd)
{
	size_t i = 0, s;

	memset(hd, 0, sizeof(*hd));
	hd->length = -1;
	while (i < n) {
		s = i;
		while (i < n && p[i] != '\n')
			i++;
		size_t e = i;

		if (e > s && p[e - 1] == '\r')
			e--;
		if (hd->line1 == NULL) {
			hd->line1 = p + s;
			hd->line1_len = e - s;
		} else if (e > s) {
			parse_field(hd, p + s, e - s);
		}
		i++;
	}
}

/* Splits "A SP B SP C" (C may contain spaces for a reason phrase). */
static int
split3(const uint8_t *p, size_t n, const uint8_t *f[3], size_t fl[3])
{
	const uint8_t *sp1 = memchr(p, ' ', n), *sp2;

	if (sp1 == NULL)
		return -1;
	f[0] = p;
	fl[0] = (size_t)(sp1 - p);
	f[1] = sp1 + 1;
	sp2 = memchr(f[1], ' ', n - fl[0] - 1);
	if (sp2 == NULL) {
		fl[1] = n - fl[0] - 1;
		f[2] = NULL;
		fl[2] = 0;
		return 2;
	}
	fl[1] = (size_t)(sp2 - f[1]);
	f[2] = sp2 + 1;
	fl[2] = n - fl[0] - fl[1] - 2;
	return 3;
}

static void
dir_dead(struct http *h, int dir, fb_ns ts, struct txn *t, const char *why)
{
	struct hdir *hd = &h->d[dir];

	anomaly(t, why);
	if (hd->st != P_HEAD && hd->st != P_DEAD)
		body_end(h, dir, ts, CARVE_FRAMING);
	hd->st = P_DEAD;
}

static void
queue_push(struct http *h, struct txn *t)
{
	if (h->qn == HTTP_PENDING_MAX) {
		/* The oldest will never be paired now: write it out. */
		struct txn *old = h->q[h->qh];

		h->qh = (h->qh + 1) % HTTP_PENDING_MAX;
		h->qn--;
		anomaly(old, "too-many-pipelined");
		old->resp_done = true;
		if (old->req_done)
			txn_emit(h, old);
	}
	h->q[(h->qh + h->qn) % HTTP_PENDING_MAX] = t;
	h->qn++;
}

static struct txn *
queue_pop(struct http *h)
{
	struct txn *t;

	if (h->qn == 0)
		return NULL;
	t = h->q[h->qh];
	h->qh = (h->qh + 1) % HTTP_PENDING_MAX;
	h->qn--;
	return t;
}

static void
start_body(struct http *h, int dir, fb_ns ts, struct txn *t, const struct head *hd,
    bool until_close_ok)
{
	struct hdir *d = &h->d[dir];

	d->cur = t;
	anomaly(t, hd->coding_other);
	if (hd->chunked) {
		body_start(h, dir, ts, t, hd->coding, -1);
		d->st = P_CHUNK_SIZE;
		d->llen = 0;
	} else if (hd->te_other || hd->length == -2) {
		stats.bad_messages++;
		dir_dead(h, dir, ts, t, hd->te_other ? "unknown-transfer-encoding" :
		    "bad-content-length");
	} else if (hd->length > 0) {
		body_start(h, dir, ts, t, hd->coding, hd->length);
		d->st = P_BODY_LEN;
		d->remain = (uint64_t)hd->length;
	} else if (hd->length == -1 && until_close_ok) {
		body_start(h, dir, ts, t, hd->coding, -1);
		d->st = P_BODY_CLOSE;
	} else {
		/* No body: the message is done. */
		d->b.cv = NULL;
		d->b.z_on = false;
		d->b.coding = CODING_NONE;
		d->b.sha = dir == h->client ? t->req_sha : t->resp_sha;
		body_end(h, dir, ts, CARVE_COMPLETE);
	}
}

static void
request_head(struct http *h, int dir, fb_ns ts, const struct head *hd)
{
	const uint8_t *f[3];
	size_t fl[3];
	struct txn *t = txn_new(ts);

	if (t == NULL) {
		h->d[dir].st = P_DEAD;
		return;
	}
	stats.requests++;
	t->has_req = true;
	if (split3(hd->line1, hd->line1_len, f, fl) != 3 || fl[0] == 0 ||
	    !is_version(f[2], fl[2]) || fl[2] != 8) {
		stats.bad_messages++;
		t->uri = dupn(hd->line1, hd->line1_len, URI_MAX);
		t->req_done = true;
		queue_push(h, t);
		dir_dead(h, dir, ts, t, "bad-request-line");
		return;
	}
	t->method = dupn(f[0], fl[0], 32);
	t->uri = dupn(f[1], fl[1], URI_MAX);
	t->version = dupn(f[2], fl[2], 8);
	if (hd->host != NULL)
		t->host = dupn(hd->host, hd->host_len, FIELD_MAX);
	if (hd->ua != NULL)
		t->ua = dupn(hd->ua, hd->ua_len, FIELD_MAX);
	if (hd->ctype != NULL)
		t->req_ctype = dupn(hd->ctype, hd->ctype_len, FIELD_MAX);
	queue_push(h, t);
	/* A request without a length has no body (RFC 9112 6.3). */
	start_body(h, dir, ts, t, hd, false);
}

static bool
method_is(const struct txn *t, const char *m)
{
	return t != NULL && t->method != NULL && strcmp(t->method, m) == 0;
}

static void
response_head(struct http *h, int dir, fb_ns ts, const struct head *hd)
{
	const uint8_t *f[3];
	size_t fl[3];
	struct txn *t;
	int status, nf = split3(hd->line1, hd->line1_len, f, fl);

	if (nf < 2 || !is_version(f[0], fl[0]) || fl[0] != 8 || fl[1] != 3 ||
	    !isdigit(f[1][0]) || !isdigit(f[1][1]) || !isdigit(f[1][2])) {
		stats.bad_messages++;
		dir_dead(h, dir, ts, NULL, "bad-status-line");
		return;
	}
	stats.responses++;
	status = (f[1][0] - '0') * 100 + (f[1][1] - '0') * 10 + (f[1][2] - '0');
	if (status >= 100 && status < 200 && status != 101)
		return;		/* interim (100 Continue): the real one follows */
	if ((t = queue_pop(h)) == NULL) {
		/* A response to nothing we saw (capture started late, gap). */
		if ((t = txn_new(ts)) == NULL) {
			h->d[dir].st = P_DEAD;
			return;
		}
		t->req_done = true;
	}
	t->status = status;
	t->reason = nf == 3 ? dupn(f[2], fl[2], FIELD_MAX) : NULL;
	if (t->version == NULL && !t->has_req)
		t->version = dupn(f[0], fl[0], 8);
	if (hd->ctype != NULL)
		t->ctype = dupn(hd->ctype, hd->ctype_len, FIELD_MAX);
	if (hd->location != NULL)
		t->location = dupn(hd->location, hd->location_len, FIELD_MAX);
	if (status == 101 || (method_is(t, "CONNECT") && status / 100 == 2)) {
		/* Another protocol follows in both directions. */
		h->d[dir].cur = t;
		t->resp_done = true;
		h->d[dir].st = P_DEAD;
		h->d[h->client].st = P_DEAD;
		txn_maybe_emit(h, t);
		return;
	}
	if (method_is(t, "HEAD") || status == 204 || status == 304) {
		struct head none = *hd;

		none.chunked = false;
		none.length = 0;
		none.te_other = false;
		start_body(h, dir, ts, t, &none, false);
		return;
	}
	start_body(h, dir, ts, t, hd, true);
}

static void
head_done(struct http *h, int dir, fb_ns ts)
{
	struct hdir *hd = &h->d[dir];
	struct head head;

	parse_head(hd->hdr, hd->hlen, &head);
	if (dir == h->client)
		request_head(h, dir, ts, &head);
	else
		response_head(h, dir, ts, &head);
}

/* Gathers a header block; returns bytes used. */
static size_t
head_bytes(struct http *h, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct hdir *hd = &h->d[dir];
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (hd->hlen == 0 && (c == '\r' || c == '\n'))
			continue;	/* blank lines between messages */
		if (hd->hlen == hd->hcap) {
			size_t cap = hd->hcap == 0 ? 1024 : hd->hcap * 2;
			uint8_t *nb;

			if (hd->hcap >= HTTP_HEADER_MAX) {
				stats.header_overflows++;
				dir_dead(h, dir, ts, hd->cur, "header-overflow");
				return n;
			}
			cap = FB_MIN(cap, (size_t)HTTP_HEADER_MAX);
			if ((nb = realloc(hd->hdr, cap)) == NULL) {
				hd->st = P_DEAD;
				return n;
			}
			hd->hdr = nb;
			hd->hcap = cap;
		}
		hd->hdr[hd->hlen++] = c;
		if (c == '\n') {
			if (hd->line_empty && hd->hlen > 2) {
				head_done(h, dir, ts);
				return i + 1;
			}
			hd->line_empty = true;
		} else if (c != '\r') {
			hd->line_empty = false;
		}
	}
	return n;
}

/* Chunked bodies */

static bool
chunk_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t i = 0, digits = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	for (; i < n && isxdigit((unsigned char)s[i]); i++, digits++) {
		if (digits == 15)
			return false;	/* >= 2^60: nobody sends that honestly */
		x = x * 16 + (uint64_t)(isdigit((unsigned char)s[i]) ? s[i] - '0' :
		    (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	if (digits == 0)
		return false;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] != ';')
		return false;
	*out = x;
	return true;
}

/* One line of a chunk-size or trailer; returns bytes used, sets *done when
 * the line ended (in line[0..llen), CR removed). */
static size_t
line_bytes(struct hdir *hd, const uint8_t *p, size_t n, bool *done, bool *over)
{
	size_t i;

	*done = *over = false;
	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (hd->llen > 0 && hd->line[hd->llen - 1] == '\r')
				hd->llen--;
			*done = true;
			return i + 1;
		}
		if (hd->llen == sizeof(hd->line)) {
			*over = true;
			return i;
		}
		hd->line[hd->llen++] = (char)p[i];
	}
	return n;
}

static size_t
chunk_bytes(struct http *h, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct hdir *hd = &h->d[dir];
	bool done, over;
	size_t k;
	uint64_t sz;

	switch (hd->st) {
	case P_CHUNK_SIZE:
		k = line_bytes(hd, p, n, &done, &over);
		if (over || (done && !chunk_size(hd->line, hd->llen, &sz))) {
			stats.bad_messages++;
			dir_dead(h, dir, ts, hd->cur, "bad-chunk-size");
			return n;
		}
		if (done) {
			hd->llen = 0;
			hd->remain = sz;
			hd->trailer = 0;
			hd->st = sz == 0 ? P_TRAILER : P_CHUNK_DATA;
		}
		return k;
	case P_CHUNK_DATA:
		k = (size_t)FB_MIN((uint64_t)n, hd->remain);
		body_bytes(hd, p, k);
		hd->remain -= k;
		if (hd->remain == 0)
			hd->st = P_CHUNK_CRLF;
		return k;
	case P_CHUNK_CRLF:
		if (p[0] == '\r' && hd->llen == 0) {
			hd->llen = 1;
			return 1;
		}
		if (p[0] != '\n') {
			stats.bad_messages++;
			dir_dead(h, dir, ts, hd->cur, "bad-chunk-end");
			return n;
		}
		hd->llen = 0;
		hd->st = P_CHUNK_SIZE;
		return 1;
	default:	/* P_TRAILER */
		k = line_bytes(hd, p, n, &done, &over);
		hd->trailer += k;
		if (over || hd->trailer > HTTP_HEADER_MAX) {
			stats.header_overflows++;
			dir_dead(h, dir, ts, hd->cur, "trailer-overflow");
			return n;
		}
		if (done) {
			bool last = hd->llen == 0;

			hd->llen = 0;
			if (last)
				body_end(h, dir, ts, CARVE_COMPLETE);
		}
		return k;
	}
}

/* The analyser */

static void *
http_open(struct layers *l, const struct session_info *info)
{
	struct http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->l = l;
	h->info = *info;
	h->client = STREAM_ORIG;
	h->d[0].line_empty = h->d[1].line_empty = true;
	return h;
}

static void
http_data(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct http *h = st;
	struct hdir *hd;
	size_t k;

	if (h == NULL || (dir != 0 && dir != 1))
		return;
	hd = &h->d[dir];
	if (!hd->seen && !h->d[!dir].seen && dir == STREAM_RESP &&
	    request_line(p, n) != 0)
		h->client = STREAM_RESP;	/* the responder asks: reversed roles */
	hd->seen = true;
	while (n > 0 && hd->st != P_DEAD) {
		switch (hd->st) {
		case P_HEAD:
			k = head_bytes(h, dir, ts, p, n);
			break;
		case P_BODY_LEN:
			k = (size_t)FB_MIN((uint64_t)n, hd->remain);
			body_bytes(hd, p, k);
			hd->remain -= k;
			if (hd->remain == 0)
				body_end(h, dir, ts, CARVE_COMPLETE);
			break;
		case P_BODY_CLOSE:
			body_bytes(hd, p, n);
			k = n;
			break;
		default:
			k = chunk_bytes(h, dir, ts, p, n);
			break;
		}
		p += k;
		n -= k;
	}
}

static void
http_gap(void *st, int dir, fb_ns ts, uint64_t n)
{
	struct http *h = st;
	struct hdir *hd;

	if (h == NULL || (dir != 0 && dir != 1) || n == 0)
		return;
	hd = &h->d[dir];
	stats.gaps++;
	switch (hd->st) {
	case P_BODY_LEN:
		/* The length keeps us in step: count the hole and go on. */
		carve_stop(hd->b.cv, CARVE_GAP);
		anomaly(hd->cur, "gap");
		if (n <= hd->remain) {
			*hd->b.wire += n;
			hd->remain -= n;
			if (hd->remain == 0)
				body_end(h, dir, ts, CARVE_GAP);
			return;
		}
		body_end(h, dir, ts, CARVE_GAP);
		hd->st = P_DEAD;
		return;
	case P_BODY_CLOSE:
		carve_stop(hd->b.cv, CARVE_GAP);
		anomaly(hd->cur, "gap");
		*hd->b.wire += n;
		return;
	case P_DEAD:
		return;
	default:
		if (hd->st != P_HEAD)
			carve_stop(hd->b.cv, CARVE_GAP);
		dir_dead(h, dir, ts, hd->cur, "gap");
		return;
	}
}

static void
http_close(void *st, fb_ns ts)
{
	struct http *h = st;
	struct txn *t;
	int i, dir;

	if (h == NULL)
		return;
	for (i = 0; i < 2; i++) {
		dir = i == 0 ? h->client : !h->client;
		switch (h->d[dir].st) {
		case P_BODY_CLOSE:
			body_end(h, dir, ts, CARVE_COMPLETE);
			break;
		case P_BODY_LEN: case P_CHUNK_SIZE: case P_CHUNK_DATA:
		case P_CHUNK_CRLF: case P_TRAILER:
			anomaly(h->d[dir].cur, "ended-early");
			body_end(h, dir, ts, CARVE_EARLY_END);
			break;
		default:
			break;
		}
	}
	/* What is left was never finished: write it as it is. */
	for (dir = 0; dir < 2; dir++) {
		if ((t = h->d[dir].cur) != NULL) {
			bool queued = false;
			size_t j;

			for (j = 0; j < h->qn; j++)
				if (h->q[(h->qh + j) % HTTP_PENDING_MAX] == t)
					queued = true;
			if (!queued)
				txn_emit(h, t);
		}
	}
	while ((t = queue_pop(h)) != NULL)
		txn_emit(h, t);
	free(h->d[0].hdr);
	free(h->d[1].hdr);
	free(h);
}

const struct analyser http_analyser = {
	.name = "http",
	.detect = http_detect,
	.open = http_open,
	.data = http_data,
	.gap = http_gap,
	.close = http_close,
};
