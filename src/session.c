/*
 * session: transcripts (DIR/DAY/sessions/), the sessions.jsonl index and
 * the protocol analyser registry.
 *
 * Flow of bytes: until a protocol is recognised, a session keeps the first
 * bytes of each direction (at most DETECT_MAX each) and a short list of
 * what arrived in which order; once an analyser says yes, or detection
 * gives up, that list is replayed in order to the analyser and to the
 * transcript, so both see every byte exactly once and in time order.
 *
 * Transcript format (docs/formats.md): every line that starts with '[' is
 * ours (a chunk header or a marker); a data line that would start with '['
 * has it escaped as \x5b, so an intruder cannot forge headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftp.h"
#include "http.h"
#include "irc.h"
#include "layers.h"
#include "session.h"
#include "sha256.h"
#include "stream.h"
#include "syslogtcp.h"

/* Protocol analysers, asked in this order: specific ones first, the
 * shell guess (any prompt or command line) last.  Add yours with one line
 * above the shell's. */
extern const struct analyser telnet_analyser, rlogin_analyser, shell_analyser;

static const struct analyser *const analysers[] = {
	&telnet_analyser,
	&rlogin_analyser,
	&ftp_analyser,
	&http_analyser,
	&irc_analyser,
	&syslog_analyser,
	&shell_analyser,	/* keep last: the least specific guess */
	NULL
};

#define DETECT_MAX	4096	/* bytes kept per direction for detection */
#define SEEN_FIRST	512	/* ... first allocated for them */
#define PEND_MAX	64	/* chunks buffered before detection gives up */
#define BINARY_PROBE	512	/* bytes of a chunk looked at to call it binary */
#define BINARY_RESUME	32	/* ... in an open run: enough to see text resume */
#define BINARY_MIN	64	/* a shorter chunk is always shown as text */
#define CONFLICT_SHOW	256	/* bytes of each version shown */
#define HEADER_EVERY	FB_NS_PER_SEC	/* same direction: new header after 1 s */
#define MARKER_ROOM	80	/* kept free under the cap for "[truncated]" */
#define MAX_OPEN_FDS	128	/* transcripts kept open; others reopen per write */
#define WRITE_AT	(16 * 1024)	/* accepted bytes written once this many wait */
#define WRITE_AGE	FB_NS_PER_SEC	/* ... or once the oldest waited this long */

/* Descriptors are a process resource: one count for every layers instance. */
static int open_fds;

struct pending {
	uint8_t		 gap;		/* 1: n bytes missing, 0: seen[dir][off..off+n) */
	uint8_t		 dir;
	fb_ns		 ts;
	uint32_t	 off;
	uint64_t	 n;
};

struct tbuf {
	char		*p;
	size_t		 len, cap;
};

struct session {
	struct layers		*l;
	struct session_info	 info;
	const struct analyser	*an;
	void			*ast;

	bool			 detecting;
	uint8_t			*seen[2];
	size_t			 nseen[2], seen_cap[2];
	struct pending		*pend;		/* grows to PEND_MAX, freed after detection */
	unsigned		 npend, pend_cap;

	/* transcript */
	char			 rel[160];	/* DAY/sessions/NAME, "" before the first write */
	char			*path;		/* NULL before the transcript exists */
	int			 fd;
	bool			 file_failed;
	bool			 truncated;
	uint64_t		 written;
	int			 last_dir;	/* of the open chunk, -1 none */
	fb_ns			 last_ts;	/* of the open chunk's header */
	bool			 at_bol;
	bool			 bin_open;
	int			 bin_dir;
	uint64_t		 bin_n;
	struct sha256		 bin_hash;
	/* out[0, acc) was accepted (cap, budget) and waits to be written;
	 * out[acc, len) is the chunk being built. */
	struct tbuf		 out;
	size_t			 acc;
	fb_ns			 file_ts;	/* of the first accepted byte: the day */
	fb_ns			 acc_since;	/* of the oldest byte waiting */
	struct session		*unw_prev, *unw_next;	/* layers' unwritten list */
	bool			 unw_linked;

	/* index line */
	uint64_t		 bytes[2], gaps[2], gap_bytes[2], conflicts;
	fb_ns			 first_data, last_data;
	int			 end_how[2];	/* enum stream_end, -1 not ended */
};

/* Small output buffer */

static void
tb_grow(struct tbuf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	b->cap = FB_MAX(b->cap * 2, b->len + n + 256);
	b->p = xrealloc(b->p, 1, b->cap);
}

static void
tb_add(struct tbuf *b, const char *s, size_t n)
{
	tb_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
tb_str(struct tbuf *b, const char *s)
{
	tb_add(b, s, strlen(s));
}

/* Byte classes, by table: the transcript looks at every byte it shows. */
#define C_TEXT		1	/* is_text: printable ASCII, tab, CR, LF */
#define C_PLAIN		2	/* shown as it is anywhere but a line's start */
#define C_CONT		4	/* a UTF-8 continuation byte (surely_odd) */
#define C_LEAD		8	/* may lead a sequence utf8_shown shows (surely_odd) */

#define P	C_TEXT | C_PLAIN
#define R4(c, v)	[c] = v, [c + 1] = v, [c + 2] = v, [c + 3] = v
#define R16(c, v)	R4(c, v), R4(c + 4, v), R4(c + 8, v), R4(c + 12, v)
#define P4(c)	R4(c, P)
#define P16(c)	R16(c, P)
static const uint8_t byte_class[256] = {
	['\t'] = P, ['\r'] = C_TEXT, ['\n'] = C_TEXT,
	P16(0x20), P16(0x30), P16(0x40),
	P4(0x50), P4(0x54), P4(0x58) /* to '[' */, ['\\'] = C_TEXT /* doubled */,
	[0x5d] = P, [0x5e] = P, [0x5f] = P,
	P16(0x60), P4(0x70), P4(0x74), P4(0x78), [0x7c] = P, [0x7d] = P, [0x7e] = P,
	R16(0x80, C_CONT), R16(0x90, C_CONT), R16(0xa0, C_CONT), R16(0xb0, C_CONT),
	[0xc2] = C_LEAD, [0xc3] = C_LEAD, R4(0xc4, C_LEAD), R4(0xc8, C_LEAD),
	R4(0xcc, C_LEAD), R16(0xd0, C_LEAD), R16(0xe0, C_LEAD), R4(0xf0, C_LEAD),
	[0xf4] = C_LEAD,
};
#undef P16
#undef P4
#undef R16
#undef R4
#undef P

static bool
is_text(uint8_t c)
{
	return (byte_class[c] & C_TEXT) != 0;
}

/*
 * The length of the valid UTF-8 sequence at p (2 to 4 bytes) that a
 * transcript may show as it is, else 0.  Not shown as is: overlong forms,
 * surrogates, code points past U+10FFFF (a terminal may decode those in
 * surprising ways), the C1 controls U+0080..U+009F (CSI U+009B and friends
 * are escape sequences to many terminals), the line and paragraph
 * separators and the bidirectional formatting controls (they reorder or
 * break what a reader sees).  A sequence cut by the end of a chunk is not
 * valid here: its bytes are escaped.
 */
static size_t
utf8_shown(const uint8_t *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else
		return 0;	/* ASCII, a continuation byte, C0/C1 leads, 0xf5.. */
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;	/* overlong, surrogate, out of range */
	if (cp <= 0x9f || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;	/* C1 controls, separators, bidi controls */
	return len;
}

/*
 * Bytes as transcript text.  Printable ASCII, tabs and valid UTF-8 (see
 * utf8_shown) as they are, '\' as "\\", LF and CR LF as a line break, a
 * lone CR as "\r", everything else "\xNN".  With oneline, line breaks are
 * escaped too ("\r", "\n").
 */
static void
escape_bytes(struct tbuf *b, const uint8_t *p, size_t n, bool oneline, bool *at_bol)
{
	static const char hex[] = "0123456789abcdef";
	bool bol = at_bol != NULL ? *at_bol : false;
	size_t i = 0, u;
	char *o;

	tb_grow(b, n * 4);	/* the worst case: every byte as \xNN */
	o = b->p + b->len;
	while (i < n) {
		uint8_t c = p[i];

		if ((byte_class[c] & C_PLAIN) && !(c == '[' && bol)) {
			/* A run of bytes shown as they are, copied at once. */
			size_t j = i + 1;

			while (j < n && (byte_class[p[j]] & C_PLAIN))
				j++;
			memcpy(o, p + i, j - i);
			o += j - i;
			i = j;
			bol = false;
			continue;
		}
		if (!oneline && (c == '\n' || (c == '\r' && i + 1 < n && p[i + 1] == '\n'))) {
			*o++ = '\n';
			i += c == '\r' ? 2 : 1;
			bol = true;
			continue;
		}
		if (c == '\\' || c == '\r' || c == '\n') {
			*o++ = '\\';
			*o++ = c == '\\' ? '\\' : c == '\r' ? 'r' : 'n';
		} else if (c >= 0xc2 && (u = utf8_shown(p + i, n - i)) > 0) {
			memcpy(o, p + i, u);
			o += u;
			i += u - 1;
		} else {	/* other bytes, and '[' at a line start (ours) */
			o[0] = '\\';
			o[1] = 'x';
			o[2] = hex[c >> 4];
			o[3] = hex[c & 15];
			o += 4;
		}
		i++;
		bol = false;
	}
	b->len = (size_t)(o - b->p);
	if (at_bol != NULL)
		*at_bol = bol;
}

/* Transcript file */

static void
fd_close(struct session *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
		open_fds--;
	}
}

/* Creates DIR/DAY/sessions/ID-HONEYPOT-PORT[-k].txt, never reusing a file
 * (connection ids restart with fishbowl). */
static int
file_create(struct session *s, fb_ns ts)
{
	char hp[FB_ADDRSTRLEN], day[11], name[100], path[PATH_MAX], *c;
	const struct fb_addr *h = &s->info.honeypot;
	int k, fd;

	if (addr_is_unspecified(h))
		h = &s->info.key.dst;
	addr_fmt(h, hp);
	for (c = hp; *c != '\0'; c++)
		if (*c == ':')
			*c = '_';	/* IPv6: no colons in file names */
	fb_strlcpy(day, layers_day(s->l, ts), sizeof(day));
	path[0] = '\0';
	for (k = 1; k < 100; k++) {
		if (k == 1)
			snprintf(name, sizeof(name), "%llu-%s-%u.txt",
			    (unsigned long long)s->info.conn_id, hp, s->info.key.dport);
		else
			snprintf(name, sizeof(name), "%llu-%s-%u-%d.txt",
			    (unsigned long long)s->info.conn_id, hp, s->info.key.dport, k);
		fd = layers_day_open(s->l, ts, "sessions", name,
		    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640,
		    path, sizeof(path));
		if (fd >= 0) {
			s->l->st.transcripts++;
			snprintf(s->rel, sizeof(s->rel), "%s/sessions/%s", day, name);
			break;
		}
		if (errno != EEXIST)
			break;
	}
	/* For the messages (errno kept for them), and a reopen. */
	k = errno;
	s->path = path[0] != '\0' ? xstrdup(path) : NULL;
	errno = k;
	return fd;
}

static void
file_write(struct session *s, fb_ns ts, const char *p, size_t n)
{
	int fd = s->fd;
	ssize_t w;

	if (s->file_failed || n == 0)
		return;
	if (fd < 0) {
		fd = s->rel[0] == '\0' ? file_create(s, ts) :
		    open(s->path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0) {
			log_warn("session: transcript %s", s->path != NULL ? s->path : "(none)");
			s->file_failed = true;
			s->l->st.transcript_errors++;
			return;
		}
		if (open_fds < MAX_OPEN_FDS) {
			s->fd = fd;
			open_fds++;
		}
	}
	w = write(fd, p, n);
	if (w != (ssize_t)n) {
		log_warn("session: write %s", s->path);
		s->file_failed = true;
		s->l->st.transcript_errors++;
	}
	if (fd != s->fd)
		close(fd);
}

/*
 * Accepted bytes wait in memory and go out in one write(2) when WRITE_AT of
 * them wait, when the oldest waited WRITE_AGE (session_tick), when the
 * transcript is truncated and when the session closes: a short connection
 * costs one open, one write and one close, instead of a write per chunk
 * (and a reopen per write past MAX_OPEN_FDS).  The bytes and their order
 * are what per-chunk writes gave.
 */
static void
unw_link(struct session *s, fb_ns ts)
{
	struct session **ends = s->l->unwritten;

	if (s->unw_linked)
		return;
	s->unw_linked = true;
	s->acc_since = ts;
	s->unw_next = NULL;
	s->unw_prev = ends[1];
	if (ends[1] != NULL)
		ends[1]->unw_next = s;
	else
		ends[0] = s;
	ends[1] = s;
}

static void
unw_unlink(struct session *s)
{
	struct session **ends = s->l->unwritten;

	if (!s->unw_linked)
		return;
	s->unw_linked = false;
	if (s->unw_prev != NULL)
		s->unw_prev->unw_next = s->unw_next;
	else
		ends[0] = s->unw_next;
	if (s->unw_next != NULL)
		s->unw_next->unw_prev = s->unw_prev;
	else
		ends[1] = s->unw_prev;
	s->unw_prev = s->unw_next = NULL;
}

/* Writes out[0, acc) and keeps the chunk being built. */
static void
write_out(struct session *s)
{
	size_t n = s->acc;

	unw_unlink(s);
	if (n == 0)
		return;
	file_write(s, s->file_ts, s->out.p, n);
	s->acc = 0;
	s->out.len -= n;
	if (s->out.len > 0)
		memmove(s->out.p, s->out.p + n, s->out.len);
	else {
		/* An idle session holds no buffer (flows linger in the table). */
		free(s->out.p);
		s->out.p = NULL;
		s->out.cap = 0;
	}
}

/* out[acc, len) (n bytes) is accepted into the transcript. */
static void
accept_out(struct session *s, fb_ns ts)
{
	size_t n = s->out.len - s->acc;

	if (s->file_failed) {
		s->out.len = s->acc;
		return;
	}
	if (s->written == 0)
		s->file_ts = ts;
	s->written += n;
	s->acc = s->out.len;
	unw_link(s, ts);
	if (s->acc >= WRITE_AT || ts - s->acc_since >= WRITE_AGE)
		write_out(s);
}

static void
write_truncated(struct session *s, fb_ns ts)
{
	char iso[32], m[64];
	int n;

	s->truncated = true;
	time_iso(ts, iso);
	n = snprintf(m, sizeof(m), "%s[%s] [truncated]\n", s->at_bol ? "" : "\n", iso);
	tb_add(&s->out, m, (size_t)n);
	accept_out(s, ts);
	write_out(s);
	fd_close(s);
}

/* Accepts the chunk out[acc, len) under the cap and the day's budget, or
 * drops it. */
static void
flush_out(struct session *s, fb_ns ts)
{
	uint64_t max = s->l->cfg->transcript_max_bytes;
	size_t n = s->out.len - s->acc;

	if (s->truncated || n == 0) {
		s->out.len = s->acc;
		return;
	}
	if (s->written + n + MARKER_ROOM > max || !layers_disk_take(s->l, ts, n)) {
		s->out.len = s->acc;
		s->l->st.transcripts_truncated++;
		if (s->written + MARKER_ROOM <= max)
			write_truncated(s, ts);
		else
			s->truncated = true;
		return;
	}
	accept_out(s, ts);
}

void
session_tick(struct layers *l, fb_ns now)
{
	struct session *s;

	if (l == NULL)
		return;
	while ((s = l->unwritten[0]) != NULL && now - s->acc_since >= WRITE_AGE)
		write_out(s);
}

/* Chunks, headers, markers */

/* Appends n bytes to a header line being built, within its room. */
static char *
line_add(char *o, const char *end, const char *p, size_t n)
{
	n = FB_MIN(n, (size_t)(end - o));
	memcpy(o, p, n);
	return o + n;
}

/*
 * "[TIME] >> client ADDR:PORT[ MARKER]" (IPv6 in brackets), by hand: one
 * or more per chunk.  Cut at HEADER_MAX - 1 bytes as the snprintf into a
 * HEADER_MAX buffer it replaces did.
 */
#define HEADER_MAX	200

static void
header(struct session *s, int dir, fb_ns ts, const char *marker)
{
	const struct fb_flowkey *k = &s->info.key;
	const struct fb_addr *a = dir == STREAM_ORIG ? &k->src : &k->dst;
	char iso[32], ab[FB_ADDRSTRLEN], line[HEADER_MAX], num[8], *o = line;
	const char *end = line + sizeof(line) - 1;
	unsigned port = dir == STREAM_ORIG ? k->sport : k->dport;
	bool v4 = addr_is_v4(a);
	int d = (int)sizeof(num);

	if (!s->at_bol)
		tb_add(&s->out, "\n", 1);
	time_iso(ts, iso);
	addr_fmt(a, ab);
	do
		num[--d] = (char)('0' + port % 10);
	while ((port /= 10) > 0);
	o = line_add(o, end, "[", 1);
	o = line_add(o, end, iso, strlen(iso));
	o = line_add(o, end, dir == STREAM_ORIG ? "] >> client " : "] << server ", 12);
	if (!v4)
		o = line_add(o, end, "[", 1);
	o = line_add(o, end, ab, strlen(ab));
	o = line_add(o, end, v4 ? ":" : "]:", v4 ? 1 : 2);
	o = line_add(o, end, num + d, sizeof(num) - (size_t)d);
	if (marker != NULL) {
		o = line_add(o, end, " ", 1);
		o = line_add(o, end, marker, strlen(marker));
	}
	o = line_add(o, end, "\n", 1);
	tb_add(&s->out, line, (size_t)(o - line));
	s->at_bol = true;
	/* After a marker the next data gets its own header. */
	s->last_dir = marker == NULL ? dir : -1;
	s->last_ts = ts;
}

/*
 * The bytes of a binary run that are hashed: as many as a carved file
 * holds (file_max_mb).  A bulk transfer costs SHA-256 time per byte (1.2
 * GB/s, half the gateway's CPU at 5 Gbit/s: docs/performance.md); past
 * the cap the run is only counted, and the pcap holds every byte.  0 (a
 * configuration made in code, not from a file): no cap.
 */
static uint64_t
bin_hash_max(const struct session *s)
{
	uint64_t max = s->l->cfg->file_max_bytes;

	return max != 0 ? max : UINT64_MAX;
}

static void
bin_flush(struct session *s)
{
	uint8_t md[SHA256_LEN];
	char hex[SHA256_HEXLEN], line[192];

	if (!s->bin_open)
		return;
	s->bin_open = false;
	sha256_final(&s->bin_hash, md);
	sha256_hex(md, hex);
	if (s->bin_n > bin_hash_max(s))
		snprintf(line, sizeof(line),
		    "[binary %llu bytes sha256 of the first %llu bytes %s]\n",
		    (unsigned long long)s->bin_n,
		    (unsigned long long)bin_hash_max(s), hex);
	else
		snprintf(line, sizeof(line), "[binary %llu bytes sha256 %s]\n",
		    (unsigned long long)s->bin_n, hex);
	tb_str(&s->out, line);
	s->at_bol = true;
	s->last_dir = -1;
}

static bool
looks_binary(const uint8_t *p, size_t n)
{
	size_t i, u, odd = 0;

	/* The first BINARY_PROBE bytes decide, and the scan stops as soon as
	 * the answer is known: this runs on every byte of every TCP stream,
	 * and a bulk transfer must not cost a byte-by-byte pass over all of
	 * it (it once took most of the gateway's CPU under iperf3). */
	n = FB_MIN(n, BINARY_PROBE);
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (is_text(c))
			continue;
		/* Only 0xc2..0xf4 can lead a sequence utf8_shown shows. */
		if (c >= 0xc2 && c <= 0xf4 && (u = utf8_shown(p + i, n - i)) > 0)
			i += u - 1;	/* text in another script */
		else if (++odd * 4 > n)
			return true;
	}
	return false;
}

/*
 * A lower bound, without branches, of the bytes looks_binary(p, n) counts
 * as not text (its branches mispredict on every other byte of random
 * data): bytes neither text nor in any UTF-8 sequence, continuation bytes
 * with no lead or continuation byte before them, lead bytes with no
 * continuation byte after them.  looks_binary visits each of these (a
 * shown sequence it skips is a lead and its continuations) and shows none;
 * no byte is counted twice.
 */
static size_t
surely_odd(const uint8_t *p, size_t n)
{
	unsigned prev = 0, c, next = n > 0 ? byte_class[p[0]] : 0;
	size_t i, k = 0;

	/* Bitwise, not && and ||: no branch per byte.  prev, c, next: the
	 * classes of p[i - 1], p[i], p[i + 1] (0 past either end). */
	for (i = 0; i < n; i++) {
		unsigned cont, lead, after_seq, before_cont;

		c = next;
		next = i + 1 < n ? byte_class[p[i + 1]] : 0;
		cont = (c & C_CONT) != 0;
		lead = (c & C_LEAD) != 0;
		after_seq = (prev & (C_LEAD | C_CONT)) != 0;
		before_cont = (next & C_CONT) != 0;
		k += (c == 0) | (cont & !after_seq) | (lead & !before_cont);
		prev = c;
	}
	return k;
}

/*
 * Is this chunk binary (part of a run summarised by its hash)?  A chunk of
 * BINARY_MIN bytes or more is when looks_binary says so.  Inside an open
 * run of the same direction, any chunk whose first BINARY_RESUME bytes
 * look binary continues it, whatever follows: a bulk transfer is mostly
 * such chunks, and a short look at each (instead of up to BINARY_PROBE
 * bytes, once most of the gateway's CPU under iperf3 with random data)
 * is enough to see text resume, which starts a chunk.  A chunk that
 * starts like text is judged by the full probe, as outside a run.  So
 * the run also takes a chunk that starts with its last binary bytes and
 * goes on with text, which the full probe alone would call text (and show
 * escaped): the text then starts at the next chunk.
 */
static bool
chunk_binary(const struct session *s, int dir, const uint8_t *p, size_t n)
{
	size_t m = FB_MIN(n, BINARY_RESUME);

	/* surely_odd answers most chunks of a run; looks_binary(p, m) is the
	 * exact count when it does not. */
	if (s->bin_open && s->bin_dir == dir)
		return surely_odd(p, m) * 4 > m || looks_binary(p, m) || looks_binary(p, n);
	return n >= BINARY_MIN && looks_binary(p, n);
}

static void
t_data(struct session *s, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	bool binary;

	if (n == 0)
		return;
	binary = chunk_binary(s, dir, p, n);
	if (s->bin_open && (!binary || s->bin_dir != dir))
		bin_flush(s);
	if (binary) {
		if (!s->bin_open) {
			header(s, dir, ts, NULL);
			sha256_init(&s->bin_hash);
			s->bin_open = true;
			s->bin_dir = dir;
			s->bin_n = 0;
		}
		if (s->bin_n < bin_hash_max(s))
			sha256_update(&s->bin_hash, p,
			    (size_t)FB_MIN((uint64_t)n, bin_hash_max(s) - s->bin_n));
		s->bin_n += n;
		return;
	}
	if (dir != s->last_dir || ts - s->last_ts >= HEADER_EVERY)
		header(s, dir, ts, NULL);
	escape_bytes(&s->out, p, n, false, &s->at_bol);
	flush_out(s, ts);
}

static void
t_marker(struct session *s, int dir, fb_ns ts, const char *marker)
{
	bin_flush(s);
	header(s, dir, ts, marker);
	flush_out(s, ts);
}

/* Delivery to the analyser and the transcript */

static void
deliver_data(struct session *s, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	const uint8_t *v = p;
	size_t vn = n;

	if (s->an != NULL) {
		s->an->data(s->ast, dir, ts, p, n);
		if (s->an->view != NULL)
			v = s->an->view(s->ast, &vn);
	}
	if (!s->truncated)
		t_data(s, dir, ts, v, vn);
}

static void
deliver_gap(struct session *s, int dir, fb_ns ts, uint64_t n)
{
	char m[64];

	if (s->an != NULL && s->an->gap != NULL)
		s->an->gap(s->ast, dir, ts, n);
	snprintf(m, sizeof(m), "[%llu bytes missing]", (unsigned long long)n);
	if (!s->truncated)
		t_marker(s, dir, ts, m);
}

/* Detection is over: open the analyser (if any) and replay what waited. */
static void
detect_done(struct session *s, const struct analyser *a)
{
	unsigned i;

	s->detecting = false;
	if (a != NULL && (s->ast = a->open(s->l, &s->info)) != NULL)
		s->an = a;
	for (i = 0; i < s->npend; i++) {
		struct pending *e = &s->pend[i];

		if (e->gap)
			deliver_gap(s, e->dir, e->ts, e->n);
		else
			deliver_data(s, e->dir, e->ts, s->seen[e->dir] + e->off, (size_t)e->n);
	}
	s->npend = 0;
	free(s->pend);
	s->pend = NULL;
	s->pend_cap = 0;
	free(s->seen[0]);
	free(s->seen[1]);
	s->seen[0] = s->seen[1] = NULL;
	s->seen_cap[0] = s->seen_cap[1] = 0;
}

static const struct analyser *
detect_run(struct session *s)
{
	const uint8_t *const seen[2] = { s->seen[0], s->seen[1] };
	size_t i;

	for (i = 0; i < nitems(analysers) && analysers[i] != NULL; i++)
		if (analysers[i]->detect(seen, s->nseen))
			return analysers[i];
	return NULL;
}

/* Keeps a chunk for detection; false when it does not fit (detection must
 * end first). */
static bool
detect_keep(struct session *s, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct pending *e;

	if (s->npend == PEND_MAX || n > DETECT_MAX - s->nseen[dir])
		return false;
	if (s->npend == s->pend_cap) {
		/* Small: a session under the allocator's per-thread cache size
		 * (most are recognised at their first chunk). */
		s->pend_cap = s->pend_cap == 0 ? 4 : FB_MIN(2 * s->pend_cap, PEND_MAX);
		s->pend = xrealloc(s->pend, s->pend_cap, sizeof(*s->pend));
	}
	if (s->nseen[dir] + n > s->seen_cap[dir]) {
		/* Most protocols are known from their first chunk: grow to
		 * DETECT_MAX only when detection takes longer. */
		size_t cap = FB_MIN(DETECT_MAX, FB_MAX(SEEN_FIRST,
		    FB_MAX(2 * s->seen_cap[dir], s->nseen[dir] + n)));

		s->seen[dir] = xrealloc(s->seen[dir], 1, cap);
		memset(s->seen[dir] + s->seen_cap[dir], 0, cap - s->seen_cap[dir]);
		s->seen_cap[dir] = cap;
	}
	memcpy(s->seen[dir] + s->nseen[dir], p, n);
	e = &s->pend[s->npend++];
	e->gap = 0;
	e->dir = (uint8_t)dir;
	e->ts = ts;
	e->off = (uint32_t)s->nseen[dir];
	e->n = n;
	s->nseen[dir] += n;
	return true;
}

/* Ends detection before something that cannot wait (a marker, the end). */
static void
detect_stop(struct session *s)
{
	if (s->detecting)
		detect_done(s, detect_run(s));
}

/* The API */

struct session *
session_open(struct layers *l, const struct session_info *info)
{
	struct session *s;

	if (l == NULL || info == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->l = l;
	s->info = *info;
	s->detecting = true;
	s->fd = -1;
	s->last_dir = -1;
	s->at_bol = true;
	s->end_how[0] = s->end_how[1] = -1;
	/* An FTP data connection is known from its control connection. */
	if ((s->ast = ftp_data_claim(l, info)) != NULL) {
		s->an = &ftp_data_analyser;
		s->detecting = false;
	}
	return s;
}

void
session_data(struct session *s, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	const struct analyser *a;

	if (s == NULL || n == 0 || (dir != 0 && dir != 1))
		return;
	if (s->first_data == 0)
		s->first_data = ts;
	s->last_data = ts;
	s->bytes[dir] += n;
	if (s->detecting) {
		if (detect_keep(s, dir, ts, p, n)) {
			a = detect_run(s);
			if (a != NULL || s->npend == PEND_MAX || s->nseen[dir] == DETECT_MAX)
				detect_done(s, a);
			return;
		}
		detect_stop(s);
	}
	deliver_data(s, dir, ts, p, n);
}

void
session_gap(struct session *s, int dir, fb_ns ts, uint64_t n)
{
	if (s == NULL || (dir != 0 && dir != 1))
		return;
	s->gaps[dir]++;
	s->gap_bytes[dir] += n;
	detect_stop(s);
	deliver_gap(s, dir, ts, n);
}

static void
conflict_version(struct session *s, const char *tag, const uint8_t *p, size_t n)
{
	char m[48];

	tb_str(&s->out, tag);
	escape_bytes(&s->out, p, FB_MIN(n, CONFLICT_SHOW), true, NULL);
	if (n > CONFLICT_SHOW) {
		snprintf(m, sizeof(m), " ... (%zu more)", n - CONFLICT_SHOW);
		tb_str(&s->out, m);
	}
	tb_add(&s->out, "\n", 1);
}

void
session_conflict(struct session *s, int dir, fb_ns ts, uint64_t off,
    const uint8_t *kept, const uint8_t *other, size_t n)
{
	char m[100];

	if (s == NULL || (dir != 0 && dir != 1))
		return;
	s->conflicts++;
	detect_stop(s);
	if (s->truncated)
		return;
	bin_flush(s);
	snprintf(m, sizeof(m), "[CONFLICT at offset %llu, %zu bytes: kept the policy's, "
	    "another segment differed]", (unsigned long long)off, n);
	header(s, dir, ts, m);
	conflict_version(s, "[kept] ", kept, n);
	conflict_version(s, "[other] ", other, n);
	flush_out(s, ts);
}

static const char *
stream_end_name(int how)
{
	switch (how) {
	case STREAM_END_FIN:	return "fin";
	case STREAM_END_RST:	return "rst";
	case STREAM_END_CLOSE:	return "close";
	default:		return "none";
	}
}

void
session_end(struct session *s, int dir, fb_ns ts, int how)
{
	char m[32];

	if (s == NULL || (dir != 0 && dir != 1) || s->end_how[dir] != -1)
		return;
	s->end_how[dir] = how;
	detect_stop(s);
	snprintf(m, sizeof(m), "[end: %s]", stream_end_name(how));
	/* Only a transcript that has bytes gets end markers. */
	if (!s->truncated && s->written > 0 && !s->file_failed)
		t_marker(s, dir, ts, m);
}

static void
jb_endpoint(struct jbuf *jb, const char *key, const struct fb_addr *a)
{
	char b[FB_ADDRSTRLEN];

	jb_str(jb, key, addr_fmt(a, b));
}

static void
index_line(struct session *s, fb_ns ts)
{
	const struct fb_flowkey *k = &s->info.key;
	struct jbuf jb;

	jb_init(&jb);
	jb_begin(&jb);
	jb_time(&jb, "ts", s->first_data);
	jb_time(&jb, "end", ts);
	jb_u64(&jb, "id", s->info.conn_id);
	jb_str(&jb, "dir", dir_name(s->info.dir));
	if (!addr_is_unspecified(&s->info.honeypot))
		jb_endpoint(&jb, "honeypot", &s->info.honeypot);
	jb_endpoint(&jb, "src", &k->src);
	jb_u64(&jb, "sport", k->sport);
	jb_endpoint(&jb, "dst", &k->dst);
	jb_u64(&jb, "dport", k->dport);
	jb_str(&jb, "protocol", s->an != NULL ? s->an->name : "unknown");
	jb_u64(&jb, "bytes_orig", s->bytes[0]);
	jb_u64(&jb, "bytes_resp", s->bytes[1]);
	jb_u64(&jb, "gaps", s->gaps[0] + s->gaps[1]);
	jb_u64(&jb, "gap_bytes", s->gap_bytes[0] + s->gap_bytes[1]);
	jb_u64(&jb, "conflicts", s->conflicts);
	jb_bool(&jb, "truncated", s->truncated);
	jb_str(&jb, "end_orig", stream_end_name(s->end_how[0]));
	jb_str(&jb, "end_resp", stream_end_name(s->end_how[1]));
	if (s->rel[0] != '\0' && !s->file_failed)
		jb_str(&jb, "transcript", s->rel);
	else
		jb_null(&jb, "transcript");
	jb_end(&jb);
	if (layers_append(s->l, ts, "sessions.jsonl", jb.p, jb.len) == 0)
		s->l->st.sessions_logged++;
	jb_free(&jb);
}

void
session_close(struct session *s, fb_ns ts)
{
	if (s == NULL)
		return;
	detect_stop(s);
	if (!s->truncated) {
		bin_flush(s);
		if (!s->at_bol)
			tb_add(&s->out, "\n", 1);
		s->at_bol = true;
		flush_out(s, ts);
	}
	write_out(s);
	if (s->an != NULL && s->an->close != NULL)
		s->an->close(s->ast, ts);
	if (s->first_data == 0)
		s->first_data = ts;
	index_line(s, ts);
	fd_close(s);
	if (s->bin_open)
		sha256_abort(&s->bin_hash);
	free(s->out.p);
	free(s->path);
	free(s->pend);
	free(s);
}
