/*
 * util: logging, clocks, allocation and the JSON builder.  See util.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

static const char *log_prog = "fishbowl";
static int log_level = 1;

void
log_init(const char *progname, int level)
{
	log_prog = progname;
	log_level = level;
}

static void
vlog(const char *tag, const char *fmt, va_list ap, int err)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s%s: %s\n", log_prog, tag, msg, strerror(err));
	else
		fprintf(stderr, "%s: %s%s\n", log_prog, tag, msg);
}

#define LOGFN(name, tag, minlevel, witherr)			\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	int saved = errno;					\
	if (log_level < (minlevel))				\
		return;						\
	va_start(ap, fmt);					\
	vlog(tag, fmt, ap, (witherr) ? saved : 0);		\
	va_end(ap);						\
	errno = saved;						\
}
LOGFN(log_warn, "", 0, 1)
LOGFN(log_warnx, "", 0, 0)
LOGFN(log_info, "", 1, 0)
LOGFN(log_debug, "debug: ", 2, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

static fb_ns
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (fb_ns)ts.tv_sec * FB_NS_PER_SEC + ts.tv_nsec;
}

fb_ns
time_now(void)
{
	return clock_ns(CLOCK_REALTIME);
}

fb_ns
time_mono(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void
time_tm(fb_ns t, struct tm *tm)
{
	time_t sec = (time_t)(t / FB_NS_PER_SEC);

	if (t < 0)
		sec = 0;
	gmtime_r(&sec, tm);
}

void
time_day(fb_ns t, char buf[11])
{
	struct tm tm;

	time_tm(t, &tm);
	if (strftime(buf, 11, "%Y-%m-%d", &tm) == 0)
		fb_strlcpy(buf, "0000-00-00", 11);
}

/* "00" to "99": two digits per division when numbers are formatted. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

char *
jb_put_time(char *o, fb_ns t)
{
	/* The date and time to the second change rarely: made once a second. */
	static __thread int64_t last_sec = -1;
	static __thread char date[24];
	int64_t sec = t < 0 ? 0 : t / FB_NS_PER_SEC;
	unsigned usec = t < 0 ? 0 : (unsigned)((t % FB_NS_PER_SEC) / 1000);
	struct tm tm;

	if (sec != last_sec) {
		time_tm(t, &tm);
		if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			fb_strlcpy(date, "0000-00-00T00:00:00", sizeof(date));
		last_sec = sec;
	}
	memcpy(o, date, 19);
	o[19] = '.';
	memcpy(o + 20, digit_pairs + 2 * (usec / 10000), 2);
	memcpy(o + 22, digit_pairs + 2 * (usec / 100 % 100), 2);
	memcpy(o + 24, digit_pairs + 2 * (usec % 100), 2);
	o[26] = 'Z';
	return o + 27;
}

void
time_iso(fb_ns t, char buf[32])
{
	*jb_put_time(buf, t) = '\0';
}

fb_ns
time_next_midnight(fb_ns t)
{
	const fb_ns day = 86400 * FB_NS_PER_SEC;

	if (t < 0)
		return day;
	return (t / day + 1) * day;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal("calloc");
	return p;
}

void *
xrealloc(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		fatalx("xrealloc: overflow");
	p = realloc(p, (n * size) != 0 ? n * size : 1);
	if (p == NULL)
		fatal("realloc");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatal("strdup");
	return p;
}

size_t
fb_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

int
mkdir_p(const char *path, unsigned mode)
{
	char buf[4096];
	size_t n = fb_strlcpy(buf, path, sizeof(buf));

	if (n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* JSON builder */

void
jb_init(struct jbuf *jb)
{
	memset(jb, 0, sizeof(*jb));
}

void
jb_free(struct jbuf *jb)
{
	free(jb->p);
	jb_init(jb);
}

void
jb_reset(struct jbuf *jb)
{
	jb->len = 0;
	jb->depth = 0;
	jb->need_comma = false;
}

static void
jb_grow(struct jbuf *jb, size_t need)
{
	size_t cap = jb->cap ? jb->cap : 256;

	while (cap < need)
		cap *= 2;
	jb->p = xrealloc(jb->p, cap, 1);
	jb->cap = cap;
}

/* Room for extra more bytes and the NUL. */
static inline void
jb_reserve(struct jbuf *jb, size_t extra)
{
	size_t need = jb->len + extra + 1;

	if (unlikely(need > jb->cap))
		jb_grow(jb, need);
}

static void
jb_raw(struct jbuf *jb, const char *s, size_t n)
{
	jb_reserve(jb, n);
	memcpy(jb->p + jb->len, s, n);
	jb->len += n;
	jb->p[jb->len] = '\0';
}

static void
jb_putc(struct jbuf *jb, char c)
{
	if (jb->len + 2 > jb->cap)
		jb_reserve(jb, 1);
	jb->p[jb->len++] = c;
	jb->p[jb->len] = '\0';
}

/* Length of a valid UTF-8 sequence at s (max n bytes), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	cp = c & (0xff >> (len + 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Bytes that go into a JSON string as they are: printable ASCII but " and \\. */
static inline bool
jb_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#define JB_ONES		0x0101010101010101ULL
#define JB_HIGHS	0x8080808080808080ULL

/* Nonzero if some byte of v is below n (n <= 128); exact as a yes or no. */
static inline uint64_t
jb_has_below(uint64_t v, uint64_t n)
{
	return (v - JB_ONES * n) & ~v & JB_HIGHS;
}

/*
 * The 8 bytes at s are all plain (jb_plain): checked as one word, since
 * almost every string we write is plain ASCII and the check per byte was
 * the costliest part of a conn.jsonl line.
 */
static inline bool
jb_plain8(const unsigned char *s)
{
	uint64_t v;

	memcpy(&v, s, sizeof(v));
	return (jb_has_below(v, 0x20) | (v & JB_HIGHS) |
	    jb_has_below(v ^ (JB_ONES * 0x7f), 1) |
	    jb_has_below(v ^ (JB_ONES * '"'), 1) |
	    jb_has_below(v ^ (JB_ONES * '\\'), 1)) == 0;
}

/* memcpy for the few bytes of a key or a number: two overlapping loads
 * instead of a call. */
static inline void
copy_small(char *o, const void *src, size_t n)
{
	const char *s = src;
	uint64_t a, b;
	uint32_t c, d;

	if (n >= 8 && n <= 16) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(o, &a, 8);
		memcpy(o + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(&c, s, 4);
		memcpy(&d, s + n - 4, 4);
		memcpy(o, &c, 4);
		memcpy(o + n - 4, &d, 4);
	} else {
		memcpy(o, s, n);
	}
}

/*
 * s[0..n) as a JSON string at o (room for 6 * n + 2 bytes, the worst case:
 * every byte as \u00XX, and 8 more); returns the end.  Plain bytes go 8
 * at a time, the last few as the string's last word (overlapping), so a
 * plain string costs a word check per 8 bytes.
 */
#ifdef __SSE2__
#include <emmintrin.h>

/* The 16 bytes at s are all plain: the signed compare with 0x20 also
 * catches 0x80..0xff. */
static inline bool
jb_plain16(const unsigned char *s)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i bad = _mm_or_si128(
	    _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
		_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
		_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

	return _mm_movemask_epi8(bad) == 0;
}
#endif

static char *
jb_quote_to(char *o, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, seq;
	char *start;

	*o++ = '"';
	start = o;
	while (i < n) {
		unsigned char c;

#ifdef __SSE2__
		if (n - i >= 16 && jb_plain16(s + i)) {
			memcpy(o, s + i, 16);
			o += 16;
			i += 16;
			continue;
		}
#endif
		if (n - i >= 8 && jb_plain8(s + i)) {	/* the common case */
			memcpy(o, s + i, 8);
			o += 8;
			i += 8;
			continue;
		}
		if (n - i < 8 && n >= 8 && (size_t)(o - start) == i &&
		    jb_plain8(s + n - 8)) {
			/* the last word, overlapping bytes already copied as
			 * they are (nothing was escaped so far) */
			memcpy(o - (8 - (n - i)), s + n - 8, 8);
			o += n - i;
			break;
		}
		c = s[i];
		if (jb_plain(c)) {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c >= 0x80 && (seq = utf8_seq(s + i, n - i)) > 0) {
			memcpy(o, s + i, seq);
			o += seq;
			i += seq;
			continue;
		} else {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		}
		i++;
	}
	*o++ = '"';
	return o;
}

/* The comma if one is due, and "key": unless key is NULL (arrays); with
 * room reserved for extra more bytes after it. */
static char *
jb_key_to(struct jbuf *jb, const char *key, size_t extra)
{
	size_t kn = key != NULL ? strlen(key) : 0;
	char *o;

	jb_reserve(jb, 1 + JB_QUOTED_MAX(kn) + 1 + extra);
	o = jb->p + jb->len;
	if (jb->need_comma)
		*o++ = ',';
	jb->need_comma = true;
	if (key != NULL) {
		o = jb_quote_to(o, (const unsigned char *)key, kn);
		*o++ = ':';
	}
	return o;
}

/* End what was written through o; keeps the buffer a C string. */
static void
jb_done(struct jbuf *jb, char *o)
{
	*o = '\0';
	jb->len = (size_t)(o - jb->p);
}

/* The comma if one is due and the quoted key qkey[0..qn) (JB_LIT), with
 * room reserved for extra more bytes after it. */
static char *
jb_lit_to(struct jbuf *jb, const char *qkey, size_t qn, size_t extra)
{
	char *o;

	jb_reserve(jb, 1 + qn + extra);
	o = jb->p + jb->len;
	if (jb->need_comma)
		*o++ = ',';
	jb->need_comma = true;
	copy_small(o, qkey, qn);
	return o + qn;
}

static void
jb_key(struct jbuf *jb, const char *key)
{
	jb_done(jb, jb_key_to(jb, key, 0));
}

void
jb_begin(struct jbuf *jb)
{
	jb_reset(jb);
	jb_putc(jb, '{');
	jb->depth = 1;
}

void
jb_end(struct jbuf *jb)
{
	jb_raw(jb, "}\n", 2);
	jb->depth = 0;
	jb->need_comma = false;
}

void
jb_obj_begin(struct jbuf *jb, const char *key)
{
	jb_key(jb, key);
	jb_putc(jb, '{');
	jb->need_comma = false;
	jb->depth++;
}

void
jb_obj_end(struct jbuf *jb)
{
	jb_putc(jb, '}');
	jb->need_comma = true;
	jb->depth--;
}

void
jb_arr_begin(struct jbuf *jb, const char *key)
{
	jb_key(jb, key);
	jb_putc(jb, '[');
	jb->need_comma = false;
	jb->depth++;
}

void
jb_arr_end(struct jbuf *jb)
{
	jb_putc(jb, ']');
	jb->need_comma = true;
	jb->depth--;
}

void
jb_strn(struct jbuf *jb, const char *key, const void *val, size_t n)
{
	char *o = jb_key_to(jb, key, JB_QUOTED_MAX(n));

	jb_done(jb, jb_quote_to(o, val, n));
}

void
jb_str(struct jbuf *jb, const char *key, const char *val)
{
	if (val == NULL) {
		jb_null(jb, key);
		return;
	}
	jb_strn(jb, key, val, strlen(val));
}

/* Decimal digits of v, written backwards from end; returns the first. */
static char *
fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

void
jb_u64(struct jbuf *jb, const char *key, uint64_t val)
{
	char b[24], *p = fmt_u64(b + sizeof(b), val);
	size_t n = (size_t)(b + sizeof(b) - p);
	char *o = jb_key_to(jb, key, n);

	memcpy(o, p, n);
	jb_done(jb, o + n);
}

void
jb_i64(struct jbuf *jb, const char *key, int64_t val)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%lld", (long long)val);

	jb_key(jb, key);
	jb_raw(jb, b, (size_t)n);
}

void
jb_dbl(struct jbuf *jb, const char *key, double val)
{
	char b[40];
	int n = snprintf(b, sizeof(b), "%.6g", val);

	jb_key(jb, key);
	if (val != val || val > 1e300 || val < -1e300)
		jb_raw(jb, "null", 4);
	else
		jb_raw(jb, b, (size_t)n);
}

void
jb_bool(struct jbuf *jb, const char *key, bool val)
{
	jb_key(jb, key);
	jb_raw(jb, val ? "true" : "false", val ? 4 : 5);
}

void
jb_null(struct jbuf *jb, const char *key)
{
	jb_key(jb, key);
	jb_raw(jb, "null", 4);
}

void
jb_time(struct jbuf *jb, const char *key, fb_ns t)
{
	char b[32];

	time_iso(t, b);
	jb_str(jb, key, b);
}

void
jb_printf(struct jbuf *jb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	jb_reserve(jb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(jb->p + jb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	jb->len += (size_t)n;
}

void
jb_members(struct jbuf *jb, const char *members)
{
	if (members == NULL || *members == '\0')
		return;
	if (jb->need_comma)
		jb_putc(jb, ',');
	jb_raw(jb, members, strlen(members));
	jb->need_comma = true;
}

void
jb_str_lit(struct jbuf *jb, const char *qkey, size_t qn, const char *val)
{
	size_t n;
	char *o;

	if (val == NULL) {
		o = jb_lit_to(jb, qkey, qn, 4);
		memcpy(o, "null", 4);
		jb_done(jb, o + 4);
		return;
	}
	n = strlen(val);
	o = jb_lit_to(jb, qkey, qn, JB_QUOTED_MAX(n));
	jb_done(jb, jb_quote_to(o, (const unsigned char *)val, n));
}

void
jb_u64_lit(struct jbuf *jb, const char *qkey, size_t qn, uint64_t val)
{
	char b[24], *p = fmt_u64(b + sizeof(b), val);
	size_t n = (size_t)(b + sizeof(b) - p);
	char *o = jb_lit_to(jb, qkey, qn, n);

	copy_small(o, p, n);
	jb_done(jb, o + n);
}

void
jb_bool_lit(struct jbuf *jb, const char *qkey, size_t qn, bool val)
{
	char *o = jb_lit_to(jb, qkey, qn, 5);

	memcpy(o, val ? "true" : "false", val ? 4 : 5);
	jb_done(jb, o + (val ? 4 : 5));
}

/* time_iso's text is plain (digits, "-:.TZ"): copied without a check. */
void
jb_time_lit(struct jbuf *jb, const char *qkey, size_t qn, fb_ns t)
{
	char b[32], *o = jb_lit_to(jb, qkey, qn, 29);

	time_iso(t, b);
	*o++ = '"';
	memcpy(o, b, 27);
	o[27] = '"';
	jb_done(jb, o + 28);
}

/* Lines through a cursor (see util.h) */

char *
jb_room(struct jbuf *jb, size_t n)
{
	jb_reserve(jb, n);
	return jb->p + jb->len;
}

void
jb_commit(struct jbuf *jb, char *end)
{
	jb_done(jb, end);
}

/* Digits of v: 1 to 20. */
static unsigned
u64_digits(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10000) {
		v /= 10000;
		n += 4;
	}
	return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

char *
jb_put_u64(char *o, uint64_t v)
{
	char *end, *p;

	if (v < 100) {		/* most counters of a connection */
		if (v < 10) {
			*o = (char)('0' + v);
			return o + 1;
		}
		memcpy(o, digit_pairs + 2 * v, 2);
		return o + 2;
	}
	end = o + u64_digits(v);
	p = end;

	while (v >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10)
		memcpy(p - 2, digit_pairs + 2 * v, 2);
	else
		p[-1] = (char)('0' + v);
	return end;
}

char *
jb_put_quoted(char *o, const char *s, size_t n)
{
	return jb_quote_to(o, (const unsigned char *)s, n);
}
