/*
 * event: alerts.jsonl, conn.jsonl and the other JSON-lines files of the day
 * folders, plus syslog(3) for what a person must see at once.  See event.h.
 *
 * Promises kept here:
 * - A line goes to DIR/YYYY-MM-DD/NAME for the UTC day of its own time (an
 *   event's ts, a connection's last packet), never the day it happens to be
 *   written, so a folder holds exactly its day.
 * - Each line is written with one write(2)/writev(2) on an O_APPEND
 *   descriptor: whole or not at all for regular files (a short write, disk
 *   full, is cut back off the file), so readers never see a torn line but
 *   the last one after a crash.  Buffered (event_log_buffered, the engine):
 *   whole lines gather per file and go out with one write(2) at
 *   event_flush (the live engine's every turn: a batch of frames; replay's
 *   end) or when EV_BUF_MAX would be exceeded, under the same
 *   whole-or-nothing rule; a line costs a write(2) per batch, not one of
 *   its own.
 * - Replay (event_log_writer_thread): a file's full buffer is handed to a
 *   thread of its own, which makes the write(2) (the kernel's copy into the
 *   page cache, a tenth of the engine's time in a replay, goes to the
 *   second core) while the lines that follow gather in another buffer.
 *   One buffer is in the writer's hands at a time, so each file's lines
 *   stay in order; anything else that touches a descriptor (a line written
 *   at once, closing or evicting a file) first waits for the writer.  Same
 *   whole-or-nothing write and cut-back (done by the writer); its lines
 *   are counted exactly as before, one hand-over late (event_flush and
 *   event_log_close wait for the writer, so the status that follows them
 *   is exact).  After a failed write the file is reopened at once for the
 *   lines gathered meanwhile (when that fails too, they are counted lost),
 *   as the next line would have reopened it.
 * - A line that could not be written is counted; the first failure of an
 *   episode is logged, and the next success says so.
 * - Descriptors are cached per (day, name) in a small LRU table, so a busy
 *   day costs one open per file, and a new day opens new files.
 * - Text that reaches syslog is passed as an argument to "%s", with control
 *   bytes replaced, so an attacker's bytes cannot forge log lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "event.h"

#define EV_SLOTS	16
#define EV_NAME_MAX	64
#define DAY_NS		(86400 * FB_NS_PER_SEC)
#define EV_BUF_MAX	(128u << 10)	/* buffered lines per file before a write */

struct ev_file {
	int64_t		 day;
	char		 name[EV_NAME_MAX];
	int		 fd;		/* -1 = free slot */
	uint64_t	 used;		/* LRU clock */
	char		*buf;		/* buffered whole lines, not yet written */
	size_t		 len;
	uint32_t	 lines;
};

struct event_log {
	char		*dir;
	char		*ident;		/* openlog(3) keeps the pointer: ours */
	bool		 use_syslog;
	struct ev_file	 files[EV_SLOTS];
	uint64_t	 clock;
	struct jbuf	 jb;
	bool		 buffered;
	bool		 failing;
	struct event_stats st;

	/* Replay (event_log_writer_thread): one buffer at a time written by
	 * a thread of its own; see hand_over and collect. */
	bool		 threaded;
	pthread_t	 thr;
	pthread_mutex_t	 mu;
	pthread_cond_t	 job_cv;	/* the writer waits here for a buffer */
	pthread_cond_t	 done_cv;	/* the engine waits here for the writer */
	struct {
		bool		 busy;		/* handed over, not written yet */
		bool		 pending;	/* written (or failed), not accounted */
		bool		 stop;
		struct ev_file	*slot;		/* whose lines (its fd stays open) */
		int		 fd;
		char		*buf;
		size_t		 len;
		uint32_t	 lines;
		int		 err;		/* 0, or errno of the write */
	}		 job;
	char		*spare;		/* the buffer back from the writer */
};

const char *
prio_name(enum fb_prio p)
{
	switch (p) {
	case PRIO_LOW:
		return "low";
	case PRIO_MEDIUM:
		return "medium";
	case PRIO_HIGH:
		return "high";
	case PRIO_CRITICAL:
		return "critical";
	}
	return "unknown";
}

static int64_t
day_of(fb_ns t)
{
	return t < 0 ? 0 : t / DAY_NS;
}

/* A file name of our own making: no path, no dot files. */
static bool
name_ok(const char *name)
{
	size_t n;

	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return false;
	n = strlen(name);
	return n < EV_NAME_MAX && strchr(name, '/') == NULL;
}

static void	collect(struct event_log *);

/* Close a slot's file; the writer is done with its descriptor first. */
static void
slot_close(struct event_log *el, struct ev_file *f)
{
	collect(el);
	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	f->len = 0;
	f->lines = 0;
}

static int
open_day_file(struct event_log *el, int64_t day, const char *name)
{
	char d[11], dpath[4096], path[4096 + EV_NAME_MAX + 2];
	const int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
	int fd;

	time_day(day * DAY_NS, d);
	if ((size_t)snprintf(dpath, sizeof(dpath), "%s/%s", el->dir, d) >= sizeof(dpath)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dpath, name);
	fd = open(path, flags, 0640);
	if (fd == -1 && errno == ENOENT) {
		if (mkdir_p(dpath, 0750) == -1)
			return -1;
		fd = open(path, flags, 0640);
	}
	return fd;
}

static void	flush_file(struct event_log *, struct ev_file *);

/* The cached descriptor of DIR/day/name, opening it (evicting the LRU slot). */
static struct ev_file *
get_file(struct event_log *el, int64_t day, const char *name)
{
	struct ev_file *f, *victim = &el->files[0];
	int fd;

	/* every line comes here: the hit first, the victim only on a miss */
	for (f = el->files; f < el->files + EV_SLOTS; f++) {
		if (f->day == day && f->fd != -1 && f->name[0] == name[0] &&
		    strcmp(f->name, name) == 0) {
			f->used = ++el->clock;
			return f;
		}
	}
	/* the first free slot (so the search above ends early), else the LRU */
	for (f = el->files; f < el->files + EV_SLOTS; f++) {
		if (f->fd == -1) {
			victim = f;
			break;
		}
		if (f->used < victim->used)
			victim = f;
	}
	/* checked here, once per file: an open slot's name was checked */
	if (!name_ok(name)) {
		errno = EINVAL;
		return NULL;
	}
	if ((fd = open_day_file(el, day, name)) == -1)
		return NULL;
	flush_file(el, victim);
	slot_close(el, victim);
	victim->fd = fd;
	victim->day = day;
	fb_strlcpy(victim->name, name, sizeof(victim->name));
	victim->used = ++el->clock;
	return victim;
}

static void
write_failed(struct event_log *el, int64_t day, const char *name)
{
	char d[11];

	el->st.write_errors++;
	if (!el->failing) {
		time_day(day * DAY_NS, d);
		log_warn("event: cannot write %s/%s/%s", el->dir, d, name);
	}
	el->failing = true;
}

/*
 * Write iov[0..cnt) (total bytes, whole lines) to fd as one writev(2): all
 * of it or nothing (a torn piece is cut off again).  0, or an errno.  The
 * writer thread's too: it touches nothing but fd.
 */
static int
writev_whole(int fd, struct iovec *iov, int cnt, size_t total)
{
	struct stat st;
	ssize_t n;

	do
		n = writev(fd, iov, cnt);
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)total)
		return 0;
	if (n >= 0) {
		/* cut the torn piece off, so the file ends with a whole line */
		if (fstat(fd, &st) == 0 && st.st_size >= n)
			(void)ftruncate(fd, st.st_size - n);
		return ENOSPC;
	}
	return errno;
}

/* The result of writing lines of f: a failure counts them all.  0 or -1. */
static int
written(struct event_log *el, struct ev_file *f, int err, uint32_t lines)
{
	if (err == 0) {
		if (el->failing)
			log_info("event: writing again");
		el->failing = false;
		return 0;
	}
	errno = err;
	write_failed(el, f->day, f->name);
	el->st.write_errors += lines - 1;	/* write_failed counted one */
	return -1;
}

/* Write iov[0..cnt) now (after what the writer holds), counting a failure
 * (the file is closed: reopen next time, it may be gone).  0 or -1. */
static int
write_whole(struct event_log *el, struct ev_file *f, struct iovec *iov, int cnt,
    size_t total, uint32_t lines)
{
	collect(el);
	if (written(el, f, writev_whole(f->fd, iov, cnt, total), lines) == 0)
		return 0;
	slot_close(el, f);
	return -1;
}

/*
 * The writer thread: writes each buffer handed over, says when done.  Each
 * side signals the other's condition variable after unlocking (as the
 * capture's writer does: signalled under the lock, the woken thread ran
 * into the held mutex).
 */
static void *
writer_main(void *arg)
{
	struct event_log *el = arg;
	struct iovec iov;
	int fd, err;

	pthread_mutex_lock(&el->mu);
	for (;;) {
		while (!el->job.busy && !el->job.stop)
			pthread_cond_wait(&el->job_cv, &el->mu);
		if (!el->job.busy)
			break;
		fd = el->job.fd;
		iov.iov_base = el->job.buf;
		iov.iov_len = el->job.len;
		pthread_mutex_unlock(&el->mu);
		err = writev_whole(fd, &iov, 1, iov.iov_len);
		pthread_mutex_lock(&el->mu);
		el->job.err = err;
		el->job.busy = false;
		el->job.pending = true;
		pthread_mutex_unlock(&el->mu);
		pthread_cond_signal(&el->done_cv);
		pthread_mutex_lock(&el->mu);
	}
	pthread_mutex_unlock(&el->mu);
	return NULL;
}

/*
 * Wait for the buffer in the writer's hands and account its lines.  A
 * failed write closes the file and reopens it at once for the lines
 * gathered in the slot since (the next line would have reopened it);
 * when that fails too, they are lost and counted.
 */
static void
collect(struct event_log *el)
{
	struct ev_file *f;

	if (!el->threaded)
		return;
	pthread_mutex_lock(&el->mu);
	while (el->job.busy)
		pthread_cond_wait(&el->done_cv, &el->mu);
	pthread_mutex_unlock(&el->mu);
	if (!el->job.pending)
		return;
	el->job.pending = false;
	f = el->job.slot;
	el->job.slot = NULL;
	if (el->spare == NULL)
		el->spare = el->job.buf;
	else
		free(el->job.buf);
	el->job.buf = NULL;
	if (written(el, f, el->job.err, el->job.lines) == 0)
		return;
	close(f->fd);
	if ((f->fd = open_day_file(el, f->day, f->name)) == -1) {
		if (f->lines > 0)
			(void)written(el, f, errno, f->lines);
		f->len = 0;
		f->lines = 0;
	}
}

/* Give f's buffer to the writer (once it is done with the last one). */
static void
hand_over(struct event_log *el, struct ev_file *f)
{
	collect(el);
	if (f->fd == -1 || f->len == 0)
		return;		/* the collected failure took the file */
	pthread_mutex_lock(&el->mu);
	el->job.slot = f;
	el->job.fd = f->fd;
	el->job.buf = f->buf;
	el->job.len = f->len;
	el->job.lines = f->lines;
	el->job.busy = true;
	pthread_mutex_unlock(&el->mu);
	pthread_cond_signal(&el->job_cv);
	f->buf = el->spare;	/* NULL at first: allocated when needed */
	el->spare = NULL;
	f->len = 0;
	f->lines = 0;
}

/* Write the lines buffered for f. */
static void
flush_file(struct event_log *el, struct ev_file *f)
{
	struct iovec iov;

	if (f->fd == -1 || f->len == 0)
		return;
	if (el->threaded) {
		hand_over(el, f);
		return;
	}
	iov.iov_base = f->buf;
	iov.iov_len = f->len;
	(void)write_whole(el, f, &iov, 1, f->len, f->lines);
	f->len = 0;
	f->lines = 0;
}

/* Write line (+ "\n" if it lacks one), or buffer it.  0 or -1 (counted). */
static int
write_line(struct event_log *el, fb_ns t, const char *name, const char *line, size_t len)
{
	int64_t day = day_of(t);
	struct iovec iov[2];
	struct ev_file *f;
	size_t total = len;
	bool nl = len == 0 || line[len - 1] != '\n';
	int cnt = 1;

	if ((f = get_file(el, day, name)) == NULL) {
		write_failed(el, day, name_ok(name) ? name : "(bad name)");
		return -1;
	}
	if (el->buffered && len + 1 <= EV_BUF_MAX) {
		if (f->len + len + 1 > EV_BUF_MAX)
			flush_file(el, f);
		if (f->fd == -1 && (f = get_file(el, day, name)) == NULL) {
			write_failed(el, day, name);
			return -1;
		}
		if (f->buf == NULL)
			f->buf = xcalloc(1, EV_BUF_MAX);
		memcpy(f->buf + f->len, line, len);
		f->len += len;
		if (nl)
			f->buf[f->len++] = '\n';
		f->lines++;
		return 0;
	}
	flush_file(el, f);		/* keep the order of lines */
	collect(el);
	if (f->fd == -1 && (f = get_file(el, day, name)) == NULL) {
		write_failed(el, day, name);
		return -1;
	}
	iov[0].iov_base = (void *)(uintptr_t)line;
	iov[0].iov_len = len;
	if (nl) {
		iov[1].iov_base = (void *)(uintptr_t)"\n";
		iov[1].iov_len = 1;
		cnt = 2;
		total++;
	}
	return write_whole(el, f, iov, cnt, total, 1);
}

/*
 * Buffered: room for a line of at most max bytes at the end of the buffer
 * of name's file for the day of t, where the caller formats it straight in
 * (no copy; line_done ends it).  NULL when the line must go through
 * write_line instead: unbuffered, too long, or no file (write_line then
 * counts the failure as before).
 */
static char *
line_room(struct event_log *el, fb_ns t, const char *name, size_t max,
    struct ev_file **fp)
{
	int64_t day = day_of(t);
	struct ev_file *f;

	*fp = NULL;
	if (!el->buffered || max + 1 > EV_BUF_MAX ||
	    (f = get_file(el, day, name)) == NULL)
		return NULL;
	if (f->len + max + 1 > EV_BUF_MAX)
		flush_file(el, f);
	if (f->fd == -1 && (f = get_file(el, day, name)) == NULL)
		return NULL;
	if (f->buf == NULL)
		f->buf = xcalloc(1, EV_BUF_MAX);
	*fp = f;
	return f->buf + f->len;
}

/* The line formatted at line_room's place ends at end. */
static void
line_done(struct ev_file *f, const char *end)
{
	f->len = (size_t)(end - f->buf);
	f->lines++;
}

void
event_log_buffered(struct event_log *el, bool on)
{
	if (!on)
		event_flush(el);
	el->buffered = on;
}

void
event_flush(struct event_log *el)
{
	if (el == NULL)
		return;
	for (int i = 0; i < EV_SLOTS; i++)
		flush_file(el, &el->files[i]);
	collect(el);		/* every line written or counted */
}

/* Without a thread (none can be made) the writes simply stay in line. */
void
event_log_writer_thread(struct event_log *el)
{
	if (el == NULL || el->threaded)
		return;
	pthread_mutex_init(&el->mu, NULL);
	pthread_cond_init(&el->job_cv, NULL);
	pthread_cond_init(&el->done_cv, NULL);
	if (pthread_create(&el->thr, NULL, writer_main, el) != 0) {
		log_warnx("event: no writer thread: lines are written by the engine's");
		pthread_mutex_destroy(&el->mu);
		pthread_cond_destroy(&el->job_cv);
		pthread_cond_destroy(&el->done_cv);
		return;
	}
	el->threaded = true;
}

static void
writer_stop(struct event_log *el)
{
	if (!el->threaded)
		return;
	collect(el);
	pthread_mutex_lock(&el->mu);
	el->job.stop = true;
	pthread_mutex_unlock(&el->mu);
	pthread_cond_signal(&el->job_cv);
	pthread_join(el->thr, NULL);
	el->threaded = false;
	pthread_mutex_destroy(&el->mu);
	pthread_cond_destroy(&el->job_cv);
	pthread_cond_destroy(&el->done_cv);
}

struct event_log *
event_log_open(const char *dir, const char *syslog_ident)
{
	struct event_log *el;

	if (dir == NULL || *dir == '\0') {
		errno = EINVAL;
		return NULL;
	}
	el = xcalloc(1, sizeof(*el));
	el->dir = xstrdup(dir);
	for (int i = 0; i < EV_SLOTS; i++)
		el->files[i].fd = -1;
	jb_init(&el->jb);
	if (syslog_ident != NULL) {
		el->ident = xstrdup(syslog_ident);
		openlog(el->ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		el->use_syslog = true;
	}
	return el;
}

void
event_log_close(struct event_log *el)
{
	if (el == NULL)
		return;
	event_flush(el);
	writer_stop(el);
	for (int i = 0; i < EV_SLOTS; i++) {
		slot_close(el, &el->files[i]);
		free(el->files[i].buf);
	}
	free(el->spare);
	if (el->use_syslog)
		closelog();
	jb_free(&el->jb);
	free(el->ident);
	free(el->dir);
	free(el);
}

static const char *
proto_name(uint8_t proto, char buf[4])
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmp6";
	}
	snprintf(buf, 4, "%u", proto);
	return buf;
}

/*
 * conn.jsonl and alerts.jsonl lines are written through jbuf's cursor (one
 * reserve per line, keys and punctuation as literals, numbers, times and
 * addresses formatted in place): two thirds of a replay's instructions
 * went to these lines when each member was a call of its own.  Names from
 * our tables (proto, dir, state, class, verdict, reason) are plain ASCII
 * under NAME_MAX bytes (test_event checks every one) and copied as they
 * are; strings from callers (type, msg, end_reason) are quoted.
 */
#define NAME_MAX_LEN	32
/* "proto" to "dport": literals, a name, two addresses, two ports */
#define ENDPOINTS_MAX	(64 + NAME_MAX_LEN + 2 * FB_ADDRSTRLEN + 2 * 20)

static char *
put_endpoints(char *o, uint8_t proto, const struct fb_addr *src, uint16_t sport,
    const struct fb_addr *dst, uint16_t dport)
{
	char pb[4];

	o = jb_put_lit(o, "\"proto\":\"");
	o = jb_put_plain(o, proto_name(proto, pb));
	o = jb_put_lit(o, "\",\"src\":\"");
	o = addr_put(o, src);
	o = jb_put_lit(o, "\",\"sport\":");
	o = jb_put_u64(o, sport);
	o = jb_put_lit(o, ",\"dst\":\"");
	o = addr_put(o, dst);
	o = jb_put_lit(o, "\",\"dport\":");
	return jb_put_u64(o, dport);
}

/* syslog(3) the message with control bytes replaced: one line, ours. */
static void
to_syslog(int level, const char *msg)
{
	char b[1024];
	size_t i;

	for (i = 0; msg[i] != '\0' && i < sizeof(b) - 1; i++) {
		unsigned char c = (unsigned char)msg[i];
		b[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	b[i] = '\0';
	syslog(level, "%s", b);
}

/* Room for an alerts.jsonl line but its type, msg and extra members:
 * literals, the time, a name, the honeypot, the flow id and endpoints. */
#define ALERT_FIXED_MAX	(128 + 27 + NAME_MAX_LEN + FB_ADDRSTRLEN + 20 + \
			 ENDPOINTS_MAX)

/* The alerts.jsonl line of ev at o (room: ALERT_FIXED_MAX, the quoted
 * type and msg, the extra members); returns its end. */
static char *
put_alert(char *o, const struct fb_event *ev, unsigned prio, const char *type,
    size_t type_len, const char *msg, size_t msg_len, size_t extra_len)
{
	o = jb_put_lit(o, "{\"ts\":\"");
	o = jb_put_time(o, ev->ts);
	o = jb_put_lit(o, "\",\"prio\":\"");
	o = jb_put_plain(o, prio_name((enum fb_prio)prio));
	o = jb_put_lit(o, "\",\"type\":");
	o = jb_put_quoted(o, type, type_len);
	o = jb_put_lit(o, ",\"msg\":");
	o = jb_put_quoted(o, msg, msg_len);
	if (ev->has_honeypot) {
		o = jb_put_lit(o, ",\"honeypot\":\"");
		o = addr_put(o, &ev->honeypot);
		*o++ = '"';
	}
	if (ev->flow != NULL) {
		const struct fb_flowkey *k = &ev->flow->key;

		o = jb_put_lit(o, ",\"flow_id\":");
		o = jb_put_u64(o, ev->flow->id);
		*o++ = ',';
		o = put_endpoints(o, k->proto, &k->src, k->sport, &k->dst, k->dport);
		o = jb_put_lit(o, ",\"dir\":\"");
		o = jb_put_plain(o, dir_name(ev->flow->dir));
		*o++ = '"';
	} else if (ev->pkt != NULL && ev->pkt->ipver != 0) {
		const struct fb_packet *p = ev->pkt;

		*o++ = ',';
		o = put_endpoints(o, p->proto, &p->src, p->sport, &p->dst, p->dport);
	}
	if (extra_len > 0) {	/* pre-built members, as they are */
		*o++ = ',';
		o = jb_put_n(o, ev->extra_json, extra_len);
	}
	return jb_put_lit(o, "}\n");
}

void
event_emit(struct event_log *el, const struct fb_event *ev)
{
	struct jbuf *jb = &el->jb;
	unsigned prio = (unsigned)ev->prio;
	const char *msg = ev->msg != NULL ? ev->msg : "";
	const char *type = ev->type != NULL ? ev->type : "event";
	size_t msg_len = strlen(msg), type_len = strlen(type);
	size_t extra_len = ev->extra_json != NULL ? strlen(ev->extra_json) : 0;
	size_t max = ALERT_FIXED_MAX + JB_QUOTED_MAX(type_len) + JB_QUOTED_MAX(msg_len) +
	    extra_len;
	struct ev_file *f;
	char *o;

	if (prio > PRIO_CRITICAL)
		prio = PRIO_CRITICAL;
	el->st.events[prio]++;
	if ((o = line_room(el, ev->ts, "alerts.jsonl", max, &f)) != NULL) {
		line_done(f, put_alert(o, ev, prio, type, type_len, msg, msg_len,
		    extra_len));
	} else {
		jb_reset(jb);
		o = put_alert(jb_room(jb, max), ev, prio, type, type_len, msg, msg_len,
		    extra_len);
		jb_commit(jb, o);
		write_line(el, ev->ts, "alerts.jsonl", jb->p, jb->len);
	}
	if (el->use_syslog && (prio == PRIO_CRITICAL || ev->to_syslog))
		to_syslog(prio == PRIO_CRITICAL ? LOG_CRIT : LOG_WARNING, msg);
}

/* Room for a conn.jsonl line but its end_reason: literals, two times, the
 * id, the honeypot, the endpoints, six counters, five names. */
#define CONN_FIXED_MAX	(320 + 2 * 27 + 20 + FB_ADDRSTRLEN + ENDPOINTS_MAX + \
			 6 * 20 + 5 * NAME_MAX_LEN)

/* The conn.jsonl line of f at o (room: CONN_FIXED_MAX and the quoted
 * end reason); returns its end. */
static char *
put_conn(char *o, const struct fb_flow *f, const char *er, size_t er_len)
{
	const struct fb_flowkey *k = &f->key;

	o = jb_put_lit(o, "{\"ts\":\"");
	o = jb_put_time(o, f->first);
	o = jb_put_lit(o, "\",\"end\":\"");
	o = jb_put_time(o, f->last);
	o = jb_put_lit(o, "\",\"id\":");
	o = jb_put_u64(o, f->id);
	o = jb_put_lit(o, ",\"dir\":\"");
	o = jb_put_plain(o, dir_name(f->dir));
	if (f->dir != DIR_EXTERNAL) {
		o = jb_put_lit(o, "\",\"honeypot\":\"");
		o = addr_put(o, &f->honeypot);
	}
	o = jb_put_lit(o, "\",");
	o = put_endpoints(o, k->proto, &k->src, k->sport, &k->dst, k->dport);
	o = jb_put_lit(o, ",\"pkts_orig\":");
	o = jb_put_u64(o, f->pkts[0]);
	o = jb_put_lit(o, ",\"bytes_orig\":");
	o = jb_put_u64(o, f->bytes[0]);
	o = jb_put_lit(o, ",\"pkts_resp\":");
	o = jb_put_u64(o, f->pkts[1]);
	o = jb_put_lit(o, ",\"bytes_resp\":");
	o = jb_put_u64(o, f->bytes[1]);
	o = jb_put_lit(o, ",\"dropped_orig\":");
	o = jb_put_u64(o, f->dropped[0]);
	o = jb_put_lit(o, ",\"dropped_resp\":");
	o = jb_put_u64(o, f->dropped[1]);
	o = jb_put_lit(o, ",\"tcp_state\":\"");
	o = jb_put_plain(o, tcp_state_name(f->tcp_state));
	o = jb_put_lit(o, "\",\"class\":\"");
	o = jb_put_plain(o, f->cls < CLASS_MAX ? class_name((enum fb_class)f->cls) :
	    "unknown");
	o = f->counted ? jb_put_lit(o, "\",\"counted\":true,\"verdict\":\"") :
	    jb_put_lit(o, "\",\"counted\":false,\"verdict\":\"");
	o = jb_put_plain(o, f->verdict == VERDICT_FORWARD ? "forward" : "drop");
	o = jb_put_lit(o, "\",\"reason\":\"");
	o = jb_put_plain(o, reason_name((enum fb_reason)f->reason));
	o = jb_put_lit(o, "\",\"end_reason\":");
	o = jb_put_quoted(o, er, er_len);
	return jb_put_lit(o, "}\n");
}

void
event_conn(struct event_log *el, const struct fb_flow *f, const char *end_reason,
    fb_ns now)
{
	struct jbuf *jb = &el->jb;
	/* the day of the connection's last packet, not of the timer that ended it */
	fb_ns t = f->last != 0 ? f->last : now;
	const char *er = end_reason != NULL ? end_reason : "unknown";
	size_t er_len = strlen(er), max = CONN_FIXED_MAX + JB_QUOTED_MAX(er_len);
	struct ev_file *file;
	char *o;

	el->st.conn_records++;
	if ((o = line_room(el, t, "conn.jsonl", max, &file)) != NULL) {
		line_done(file, put_conn(o, f, er, er_len));
		return;
	}
	jb_reset(jb);
	o = put_conn(jb_room(jb, max), f, er, er_len);
	jb_commit(jb, o);
	write_line(el, t, "conn.jsonl", jb->p, jb->len);
}

int
event_append(struct event_log *el, fb_ns t, const char *name, const char *line,
    size_t len)
{
	if (line == NULL || len == 0)
		return 0;	/* nothing to append: no empty lines */
	return write_line(el, t, name, line, len);
}

void
event_stats(const struct event_log *el, struct event_stats *s)
{
	*s = el->st;
}
