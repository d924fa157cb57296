/*
 * util: logging, time, bounded string and JSON helpers shared by every stage.
 *
 * Promises: logging goes to stderr (systemd-friendly) and never allocates;
 * jbuf builds JSON objects in a growing buffer and escapes every string it is
 * given, so attacker-controlled bytes can never break a JSON line; fb_ns is
 * the one clock type (nanoseconds since the epoch, UTC) used by every stage.
 */
#ifndef FB_UTIL_H
#define FB_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef int64_t fb_ns;			/* nanoseconds since 1970-01-01 UTC */
#define FB_NS_PER_SEC	1000000000LL
#define FB_NS_PER_MSEC	1000000LL

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define FB_MIN(a, b)	((a) < (b) ? (a) : (b))
#define FB_MAX(a, b)	((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define FB_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define FB_NORETURN	__attribute__((noreturn))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#else
#define FB_PRINTF(f, a)
#define FB_NORETURN
#define likely(x)	(x)
#define unlikely(x)	(x)
#endif

/* Logging: level 0 = warnings only, 1 = info, 2 = debug. */
void	 log_init(const char *progname, int level);
void	 log_warn(const char *fmt, ...) FB_PRINTF(1, 2);	/* appends strerror(errno) */
void	 log_warnx(const char *fmt, ...) FB_PRINTF(1, 2);
void	 log_info(const char *fmt, ...) FB_PRINTF(1, 2);
void	 log_debug(const char *fmt, ...) FB_PRINTF(1, 2);
void	 fatal(const char *fmt, ...) FB_PRINTF(1, 2) FB_NORETURN;
void	 fatalx(const char *fmt, ...) FB_PRINTF(1, 2) FB_NORETURN;

/* Clocks. */
fb_ns	 time_now(void);		/* CLOCK_REALTIME */
fb_ns	 time_mono(void);		/* CLOCK_MONOTONIC */
/* "YYYY-MM-DD" (UTC) of t into buf[11]. */
void	 time_day(fb_ns t, char buf[11]);
/* RFC 3339 UTC with microseconds, "2026-11-26T20:19:23.123456Z", into buf[32]. */
void	 time_iso(fb_ns t, char buf[32]);
/* Start of the UTC day after the one holding t. */
fb_ns	 time_next_midnight(fb_ns t);

/* Allocation that aborts on failure (start-up and control paths only). */
void	*xcalloc(size_t n, size_t size);
void	*xrealloc(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);

/* strlcpy semantics: always NUL-terminates, returns strlen(src). */
size_t	 fb_strlcpy(char *dst, const char *src, size_t size);

/* mkdir -p with mode; 0 or -1 with errno. */
int	 mkdir_p(const char *path, unsigned mode);

/*
 * JSON object builder.  jb_begin() starts "{", each jb_* adds one member,
 * jb_end() closes the object and appends "\n".  Strings are escaped: control
 * bytes as \u00XX, bytes that are not valid UTF-8 as \u00XX of the byte
 * (Latin-1 reading), so output is always valid JSON whatever the input.
 */
struct jbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 depth;
	bool	 need_comma;
};
void	 jb_init(struct jbuf *);
void	 jb_free(struct jbuf *);
void	 jb_reset(struct jbuf *);
void	 jb_begin(struct jbuf *);
void	 jb_end(struct jbuf *);
void	 jb_obj_begin(struct jbuf *, const char *key);	/* nested object */
void	 jb_obj_end(struct jbuf *);
void	 jb_arr_begin(struct jbuf *, const char *key);	/* array of values */
void	 jb_arr_end(struct jbuf *);
void	 jb_str(struct jbuf *, const char *key, const char *val);
void	 jb_strn(struct jbuf *, const char *key, const void *val, size_t n);
void	 jb_u64(struct jbuf *, const char *key, uint64_t val);
void	 jb_i64(struct jbuf *, const char *key, int64_t val);
void	 jb_dbl(struct jbuf *, const char *key, double val);
void	 jb_bool(struct jbuf *, const char *key, bool val);
void	 jb_null(struct jbuf *, const char *key);
void	 jb_time(struct jbuf *, const char *key, fb_ns t);	/* RFC 3339 string */
/*
 * The same members with a key that is a string literal of plain characters
 * (anything else does not compile): the key is copied with its quotes and
 * colon, neither measured nor escaped.  For the lines written once per
 * connection or alert (conn.jsonl, alerts.jsonl).
 */
#define JB_LIT(key)		"\"" key "\":", sizeof(key) + 2
#define jb_kstr(jb, key, val)	jb_str_lit((jb), JB_LIT(key), (val))
#define jb_ku64(jb, key, val)	jb_u64_lit((jb), JB_LIT(key), (val))
#define jb_kbool(jb, key, val)	jb_bool_lit((jb), JB_LIT(key), (val))
#define jb_ktime(jb, key, t)	jb_time_lit((jb), JB_LIT(key), (t))
void	 jb_str_lit(struct jbuf *, const char *qkey, size_t qn, const char *val);
void	 jb_u64_lit(struct jbuf *, const char *qkey, size_t qn, uint64_t val);
void	 jb_bool_lit(struct jbuf *, const char *qkey, size_t qn, bool val);
void	 jb_time_lit(struct jbuf *, const char *qkey, size_t qn, fb_ns t);
/* key may be NULL inside arrays. */
/* Raw text (not JSON): printf-append, for text reports built in a jbuf. */
void	 jb_printf(struct jbuf *, const char *fmt, ...) FB_PRINTF(2, 3);
/* Raw pre-built JSON member list ("\"a\":1,\"b\":2") appended as members. */
void	 jb_members(struct jbuf *, const char *members);

/*
 * Whole lines of a fixed shape (conn.jsonl, alerts.jsonl, written once per
 * connection or alert) through a cursor: jb_room reserves the line's room
 * once and returns where it starts, the jb_put_* write there with no
 * further check, jb_commit ends the line at the cursor.  The caller's room
 * must cover every byte it puts (each jb_put_* says how many it may use).
 * jb_put_lit and jb_put_plain copy text as it is: only for literals and
 * names of our own tables, never for bytes from the wire or the
 * configuration -- those go through jb_put_quoted.
 */
char	*jb_room(struct jbuf *, size_t n);
void	 jb_commit(struct jbuf *, char *end);
#define jb_put_lit(o, lit)	jb_put_n((o), (lit), sizeof(lit) - 1)
static inline char *
jb_put_n(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}
/* A NUL-terminated name of ours, unquoted: strlen(s) bytes. */
static inline char *
jb_put_plain(char *o, const char *s)
{
	return jb_put_n(o, s, strlen(s));
}
char	*jb_put_u64(char *o, uint64_t v);	/* at most 20 bytes */
char	*jb_put_time(char *o, fb_ns t);		/* time_iso's 27 bytes, unquoted */
/* s[0..n) as a quoted JSON string: at most JB_QUOTED_MAX(n) bytes. */
char	*jb_put_quoted(char *o, const char *s, size_t n);
#define JB_QUOTED_MAX(n)	(6 * (n) + 2 + 8)

#endif
