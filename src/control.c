/*
 * control: data control.
 *
 * Owns each honeypot's containment state: its outbound connection windows
 * per class, its block episodes, its clean/compromised/contained state, its
 * rate-cap bucket, and the state file that makes all of it survive a crash.
 *
 * Promises (see control.h):
 * - A class limited to "n per period" forwards a new connection at time now
 *   iff fewer than n of the connections it forwarded before lie in the
 *   half-open window (now - period, now].  The oldest one therefore frees
 *   its slot at exactly t0 + period: in every half-open span
 *   [a, a + period) at most n connections are forwarded, never n + 1.
 *   Only the times of the last n forwarded connections are needed for that,
 *   kept in a ring per class.  Times recorded are never below the newest
 *   already held, so the ring stays ordered even if the clock steps back
 *   (which can only delay a slot, never free one early).  period 0 ("total")
 *   forwards n, then nothing until control_unblock().
 * - A refused connection starts a block episode (the class is "blocked"
 *   until its window frees a slot): one CRITICAL "blocked" event per
 *   episode, later refusals are only counted.
 * - States: clean -> compromised (first forwarded counted connection) ->
 *   contained (a class blocks) -> compromised (all classes free again, or the
 *   operator unblocks).  A honeypot refused before it ever forwarded anything
 *   (a "block" class, say) goes clean -> contained, and back to clean.  One
 *   "state" event per transition, also to syslog.
 * - Every verdict that consumes a window slot, and every block or unblock,
 *   is written to the state file (temporary file in the same directory,
 *   then rename) before it is returned; if that fails the connection is
 *   dropped (REASON_STATE_SAVE).  Counters that limit nothing (refusals,
 *   bytes) are saved at the next tick.  A state file that cannot be parsed
 *   makes control_new fail: the operator must look, we never start open.
 * - The rate cap is a token bucket per honeypot: rate_bps / 8 bytes per
 *   second, burst max(RATE_BURST_DIV-th of a second of rate = 250 ms,
 *   64 KiB).  The burst outlasts TCP's minimum retransmission timeout
 *   (200 ms): a policed TCP sender that loses a window's tail stays silent
 *   for that long, and with a 100 ms burst the bucket overflowed during the
 *   wait, so one connection got 48 % of a 10 Mbit/s cap (bench/flood.sh);
 *   with 250 ms it gets 98 %.  Over any span T at most rate * T + burst
 *   passes.  A frame passes if the bucket
 *   holds its size, or if the bucket is full (so a frame bigger than the
 *   burst is not blocked for ever; the bucket then goes into debt, which
 *   keeps the long-run rate exact).
 * - Memory is bounded by max_honeypots (fixed at creation, not changed by
 *   reload); when full, untracked honeypots are refused (fail closed).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "control.h"
#include "flow.h"

#define RATE_EPISODE_GAP	(10 * FB_NS_PER_SEC)	/* drops this far apart: new episode */
#define DENY_EVENT_GAP		(60 * FB_NS_PER_SEC)	/* one "denied" per honeypot per minute */
#define FULL_EVENT_GAP		(60 * FB_NS_PER_SEC)
#define RATE_MIN_BURST		(64 * 1024)
#define RATE_BURST_DIV		32	/* burst: 1/4 s of rate, in bytes (bits / 8 / 4) */
#define STATE_MAGIC		"fishbowl-control 1"
#define STATE_MAX_N		65535
#define NS_PER_SEC_BITS		(8 * FB_NS_PER_SEC)	/* ns per second, times bits per byte */

/* The ring of the last n forwarded connections' times, and the episode. */
struct window {
	fb_ns		*t;
	uint32_t	 cap;		/* the limit's n when LIMIT_COUNT, else 0 */
	uint32_t	 len;
	uint32_t	 head;		/* the oldest */
	uint64_t	 total;
	uint64_t	 refused;
	bool		 blocked;
	fb_ns		 blocked_since;
};

struct hp {
	struct fb_addr	 addr;
	uint32_t	 hnext;		/* chain, index + 1 */
	enum fb_hp_state state;
	fb_ns		 since;
	char		 why[128];
	bool		 forwarded;	/* ever forwarded a counted connection */
	struct window	 w[CLASS_MAX];

	int64_t		 tokens;	/* rate cap, bytes (negative: debt) */
	fb_ns		 rate_last;
	bool		 rate_init;
	fb_ns		 rate_last_drop;
	bool		 rate_episode;
	uint64_t	 rate_dropped_frames;
	uint64_t	 rate_dropped_bytes;
	uint64_t	 bytes_out;

	fb_ns		 last_deny_event;
	bool		 deny_evented;
};

struct control {
	/* configuration, copied: the caller may free its config after reload */
	struct fb_limit	 limit[CLASS_MAX];
	uint64_t	 rate_bps;
	enum fb_on_limit on_limit;
	struct fb_dest	*exempt, *deny;
	size_t		 n_exempt, n_deny;

	struct hp	*hp;
	uint32_t	 n, max;
	uint32_t	*bucket;
	uint32_t	 mask;
	uint32_t	 seed;

	char		*path, *tmp;
	struct event_log *ev;
	struct jbuf	 jb;
	bool		 dirty;
	bool		 save_failing;	/* a save-failure episode is on */

	uint64_t	 table_full;	/* connections refused for lack of room */
	fb_ns		 last_full_event;
	bool		 full_evented;
	fb_ns		 last_deny_event;	/* for honeypots we could not track */
	bool		 deny_evented;
};

static const char *const file_class[CLASS_MAX] = { "tcp", "udp", "icmp", "other" };

const char *
reason_name(enum fb_reason r)
{
	static const char *const names[] = {
#define X(name, text) text,
		FB_REASON_LIST(X)
#undef X
	};

	if ((unsigned)r >= nitems(names))
		return "unknown";
	return names[r];
}

const char *
hp_state_name(enum fb_hp_state s)
{
	switch (s) {
	case HP_CLEAN:
		return "clean";
	case HP_COMPROMISED:
		return "compromised";
	case HP_CONTAINED:
		return "contained";
	}
	return "unknown";
}

/* Windows */

static bool
is_count(const struct fb_limit *l)
{
	return l->kind == LIMIT_COUNT && l->n > 0;
}

static fb_ns
win_oldest(const struct window *w)
{
	return w->t[w->head];
}

static fb_ns
win_newest(const struct window *w)
{
	return w->t[(w->head + w->len - 1) % w->cap];
}

/* May one more connection be forwarded at now? */
static bool
win_allows(const struct window *w, const struct fb_limit *l, fb_ns now)
{
	if (w->len < w->cap)
		return true;
	if (l->period == 0 || w->cap == 0)
		return false;
	return now - win_oldest(w) >= l->period;
}

struct win_undo {
	uint32_t	 len, head, slot;
	fb_ns		 old;
};

static void
win_push(struct window *w, fb_ns now, struct win_undo *u)
{
	uint32_t slot;

	if (w->len > 0 && now < win_newest(w))
		now = win_newest(w);
	u->len = w->len;
	u->head = w->head;
	if (w->len < w->cap) {
		slot = (w->head + w->len) % w->cap;
		w->len++;
	} else {
		slot = w->head;
		w->head = (w->head + 1) % w->cap;
	}
	u->slot = slot;
	u->old = w->t[slot];
	w->t[slot] = now;
}

static void
win_undo(struct window *w, const struct win_undo *u)
{
	w->t[u->slot] = u->old;
	w->len = u->len;
	w->head = u->head;
}

static uint32_t
win_in_window(const struct window *w, const struct fb_limit *l, fb_ns now)
{
	uint32_t n = 0;

	if (l->period == 0)
		return w->len;
	for (uint32_t i = 0; i < w->len; i++)
		if (now - w->t[(w->head + i) % w->cap] < l->period)
			n++;
	return n;
}

/* Give the ring room for the limit l, keeping the newest times. */
static void
win_resize(struct window *w, const struct fb_limit *l)
{
	uint32_t cap = is_count(l) ? FB_MIN(l->n, STATE_MAX_N) : 0;
	uint32_t keep = FB_MIN(w->len, cap);
	fb_ns *t = NULL;

	if (cap == w->cap)
		return;
	if (cap > 0) {
		t = xcalloc(cap, sizeof(*t));
		for (uint32_t i = 0; i < keep; i++)
			t[i] = w->t[(w->head + w->len - keep + i) % w->cap];
	}
	free(w->t);
	w->t = t;
	w->cap = cap;
	w->len = keep;
	w->head = 0;
}

static void
win_clear(struct window *w)
{
	w->len = 0;
	w->head = 0;
	w->blocked = false;
	w->blocked_since = 0;
}

/* Configuration */

static struct fb_dest *
dup_dests(const struct fb_dest *d, size_t n)
{
	struct fb_dest *r;

	if (n == 0)
		return NULL;
	r = xcalloc(n, sizeof(*r));
	memcpy(r, d, n * sizeof(*r));
	return r;
}

static void
apply_config(struct control *c, const struct fb_config *cfg)
{
	memcpy(c->limit, cfg->limit, sizeof(c->limit));
	c->rate_bps = cfg->rate_bps;
	c->on_limit = cfg->on_limit;
	free(c->exempt);
	free(c->deny);
	c->exempt = dup_dests(cfg->exempt, cfg->n_exempt);
	c->n_exempt = cfg->n_exempt;
	c->deny = dup_dests(cfg->deny, cfg->n_deny);
	c->n_deny = cfg->n_deny;
}

/* Events */

static void
emit(struct control *c, fb_ns now, enum fb_prio prio, const char *type,
    const char *msg, const struct hp *h, const struct fb_flow *flow,
    const char *extra, bool to_syslog)
{
	struct fb_event e;

	if (c->ev == NULL)
		return;
	memset(&e, 0, sizeof(e));
	e.ts = now;
	e.prio = prio;
	e.type = type;
	e.msg = msg;
	if (h != NULL) {
		e.has_honeypot = true;
		e.honeypot = h->addr;
	}
	e.to_syslog = to_syslog || prio == PRIO_CRITICAL;
	e.flow = flow;
	e.extra_json = extra;
	event_emit(c->ev, &e);
}

static const char *
proto_text(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return "icmp";
	default:
		return "ip";
	}
}

/* "Y:80", "[Y]:80", or "Y" for protocols without ports. */
static void
dest_text(char *buf, size_t len, const struct fb_addr *dst, uint8_t proto,
    uint16_t dport)
{
	char a[FB_ADDRSTRLEN];

	addr_fmt(dst, a);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		snprintf(buf, len, "%s", a);
	else if (addr_is_v4(dst))
		snprintf(buf, len, "%s:%u", a, dport);
	else
		snprintf(buf, len, "[%s]:%u", a, dport);
}

/* Members describing a class and (without a flow) the destination. */
static void
extra_text(char *buf, size_t len, const struct control *c, enum fb_class cls,
    const struct fb_flow *flow, const struct fb_addr *dst, uint8_t proto,
    uint16_t dport)
{
	char lim[32], a[FB_ADDRSTRLEN];
	int n;

	limit_fmt(&c->limit[cls], lim, sizeof(lim));
	n = snprintf(buf, len, "\"class\":\"%s\",\"limit\":\"%s\"", class_name(cls), lim);
	if (flow == NULL && dst != NULL && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ",\"dst\":\"%s\",\"dport\":%u,\"proto\":\"%s\"",
		    addr_fmt(dst, a), dport, proto_text(proto));
}

/* States */

static void
set_state(struct hp *h, enum fb_hp_state st, fb_ns now, const char *why)
{
	h->state = st;
	h->since = now;
	fb_strlcpy(h->why, why, sizeof(h->why));
}

static void
state_event(struct control *c, const struct hp *h, enum fb_hp_state from, fb_ns now,
    const struct fb_flow *flow)
{
	char a[FB_ADDRSTRLEN], msg[256], extra[96];

	snprintf(msg, sizeof(msg), "honeypot %s %s", addr_fmt(&h->addr, a), h->why);
	snprintf(extra, sizeof(extra), "\"from\":\"%s\",\"to\":\"%s\"",
	    hp_state_name(from), hp_state_name(h->state));
	emit(c, now, h->state == HP_CLEAN ? PRIO_MEDIUM : PRIO_HIGH, "state",
	    msg, h, flow, extra, true);
}

static bool
any_blocked(const struct hp *h)
{
	for (int i = 0; i < CLASS_MAX; i++)
		if (h->w[i].blocked)
			return true;
	return false;
}

/* Contained and every class free again: back to where it was. */
static bool
maybe_release(struct control *c, struct hp *h, fb_ns now, const char *how)
{
	char why[128];

	if (h->state != HP_CONTAINED || any_blocked(h))
		return false;
	snprintf(why, sizeof(why), "released: %s", how);
	set_state(h, h->forwarded ? HP_COMPROMISED : HP_CLEAN, now, why);
	state_event(c, h, HP_CONTAINED, now, NULL);
	c->dirty = true;
	return true;
}

/* Honeypot table */

static struct hp *
hp_find(const struct control *c, const struct fb_addr *a)
{
	uint32_t i = c->bucket[addr_hash(a, c->seed) & c->mask];

	while (i != 0) {
		struct hp *h = &c->hp[i - 1];

		if (addr_eq(&h->addr, a))
			return h;
		i = h->hnext;
	}
	return NULL;
}

static struct hp *
hp_add(struct control *c, const struct fb_addr *a, fb_ns now)
{
	struct hp *h;
	uint32_t b;

	if (c->n >= c->max)
		return NULL;
	h = &c->hp[c->n++];
	memset(h, 0, sizeof(*h));
	h->addr = *a;
	set_state(h, HP_CLEAN, now, "no outbound connection yet");
	for (int i = 0; i < CLASS_MAX; i++)
		win_resize(&h->w[i], &c->limit[i]);
	b = addr_hash(a, c->seed) & c->mask;
	h->hnext = c->bucket[b];
	c->bucket[b] = c->n;
	return h;
}

/* Table full: refuse, count, and say so once a minute. */
static void
note_full(struct control *c, const struct fb_addr *a, fb_ns now)
{
	char s[FB_ADDRSTRLEN], msg[200];

	c->table_full++;
	if (c->full_evented && now - c->last_full_event < FULL_EVENT_GAP)
		return;
	c->full_evented = true;
	c->last_full_event = now;
	snprintf(msg, sizeof(msg), "honeypot table full (%u tracked): traffic from %s "
	    "refused; raise max_honeypots", c->max, addr_fmt(a, s));
	emit(c, now, PRIO_CRITICAL, "blocked", msg, NULL, NULL, NULL, true);
}

static struct hp *
hp_get(struct control *c, const struct fb_addr *a, fb_ns now)
{
	struct hp *h = hp_find(c, a);

	if (h == NULL)
		h = hp_add(c, a, now);
	return h;
}

/*
 * The state file, text, one honeypot a line after a version line:
 *
 *   fishbowl-control 1
 *   hp ADDR STATE SINCE FORWARDED BYTES_OUT RATE_DROPPED_FRAMES RATE_DROPPED_BYTES
 *      then for tcp, udp, icmp, other in that order:
 *      CLASS TOTAL REFUSED BLOCKED BLOCKED_SINCE LEN TIME1 ... TIMELEN
 *
 * on one line, separated by single spaces; times are absolute (fb_ns,
 * nanoseconds since the epoch, packet time in replay), window times oldest
 * first.  The loader accepts exactly this and nothing else.
 */
#define STATE_MAX_LINE	(CLASS_MAX * (STATE_MAX_N * 21 + 128) + 256)

static void
save_line(struct jbuf *jb, const struct hp *h)
{
	char a[FB_ADDRSTRLEN];

	jb_printf(jb, "hp %s %s %" PRId64 " %d %" PRIu64 " %" PRIu64 " %" PRIu64,
	    addr_fmt(&h->addr, a), hp_state_name(h->state), h->since, h->forwarded,
	    h->bytes_out, h->rate_dropped_frames, h->rate_dropped_bytes);
	for (int i = 0; i < CLASS_MAX; i++) {
		const struct window *w = &h->w[i];

		jb_printf(jb, " %s %" PRIu64 " %" PRIu64 " %d %" PRId64 " %u", file_class[i],
		    w->total, w->refused, w->blocked, w->blocked_since, w->len);
		for (uint32_t j = 0; j < w->len; j++)
			jb_printf(jb, " %" PRId64, w->t[(w->head + j) % w->cap]);
	}
	jb_printf(jb, "\n");
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
save_file(struct control *c)
{
	int fd, r;

	jb_reset(&c->jb);
	jb_printf(&c->jb, "%s\n", STATE_MAGIC);
	for (uint32_t i = 0; i < c->n; i++)
		save_line(&c->jb, &c->hp[i]);
	fd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1)
		return -1;
	r = write_all(fd, c->jb.p, c->jb.len);
	if (close(fd) == -1)
		r = -1;
	if (r == 0 && rename(c->tmp, c->path) == -1)
		r = -1;
	if (r == -1)
		unlink(c->tmp);
	return r;
}

/* Save, and raise one CRITICAL event per episode of failures. */
static int
save(struct control *c, fb_ns now)
{
	char msg[512];
	int saved_errno;

	if (c->path == NULL) {
		c->dirty = false;
		return 0;
	}
	if (save_file(c) == 0) {
		c->dirty = false;
		if (c->save_failing)
			log_info("%s: state saved again", c->path);
		c->save_failing = false;
		return 0;
	}
	saved_errno = errno;
	c->dirty = true;
	if (!c->save_failing) {
		c->save_failing = true;
		log_warnx("%s: cannot save control state: %s", c->path,
		    strerror(saved_errno));
		snprintf(msg, sizeof(msg), "cannot save the control state to %s (%s): "
		    "new outbound connections are refused until it can",
		    c->path, strerror(saved_errno));
		emit(c, now, PRIO_CRITICAL, "state-save", msg, NULL, NULL, NULL, true);
	}
	return -1;
}

int
control_save(struct control *c)
{
	return c->path == NULL ? 0 : save_file(c);
}

/* Loading: every token checked, anything unexpected is an error. */

struct loader {
	const char	*path;
	unsigned	 line;
	char		*err;
	size_t		 errlen;
	char		*save;		/* strtok_r */
	bool		 failed;
};

static void
load_error(struct loader *ld, const char *what)
{
	if (ld->failed)
		return;
	ld->failed = true;
	snprintf(ld->err, ld->errlen, "%s:%u: corrupt control state file: %s "
	    "(fail closed: inspect it, or move it away to start with fresh windows)",
	    ld->path, ld->line, what);
}

static const char *
tok(struct loader *ld, char *line)
{
	const char *t = strtok_r(line, " ", &ld->save);

	if (t == NULL)
		load_error(ld, "line ends early");
	return t;
}

static uint64_t
tok_u64(struct loader *ld, uint64_t max)
{
	const char *t = tok(ld, NULL);
	uint64_t v = 0;

	if (t == NULL)
		return 0;
	if (*t == '\0' || strlen(t) > 20)
		goto bad;
	for (const char *p = t; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		goto bad;
	return v;
bad:
	load_error(ld, "bad number");
	return 0;
}

static int
parse_state(const char *s, enum fb_hp_state *st)
{
	for (int i = HP_CLEAN; i <= HP_CONTAINED; i++)
		if (strcmp(s, hp_state_name((enum fb_hp_state)i)) == 0) {
			*st = (enum fb_hp_state)i;
			return 0;
		}
	return -1;
}

/* Times from the file into the ring sized for the current limit. */
static void
load_times(struct loader *ld, struct window *w, uint32_t len)
{
	fb_ns prev = 0, t;
	uint32_t skip = len > w->cap ? len - w->cap : 0;

	for (uint32_t i = 0; i < len && !ld->failed; i++) {
		t = (fb_ns)tok_u64(ld, INT64_MAX);
		if (t < prev) {
			load_error(ld, "window times out of order");
			return;
		}
		prev = t;
		if (i >= skip)
			w->t[w->len++] = t;
	}
}

static void
load_line(struct control *c, struct loader *ld, char *line)
{
	struct fb_addr a;
	struct hp *h;
	const char *t;
	enum fb_hp_state st;

	t = tok(ld, line);
	if (t == NULL || strcmp(t, "hp") != 0) {
		load_error(ld, "expected a honeypot line");
		return;
	}
	if ((t = tok(ld, NULL)) == NULL)
		return;
	if (addr_parse(t, &a) == -1) {
		load_error(ld, "bad address");
		return;
	}
	if (hp_find(c, &a) != NULL) {
		load_error(ld, "honeypot listed twice");
		return;
	}
	if ((h = hp_add(c, &a, 0)) == NULL) {
		load_error(ld, "more honeypots than max_honeypots");
		return;
	}
	if ((t = tok(ld, NULL)) == NULL)
		return;
	if (parse_state(t, &st) == -1) {
		load_error(ld, "bad state");
		return;
	}
	h->state = st;
	h->since = (fb_ns)tok_u64(ld, INT64_MAX);
	h->forwarded = tok_u64(ld, 1) != 0;
	h->bytes_out = tok_u64(ld, UINT64_MAX);
	h->rate_dropped_frames = tok_u64(ld, UINT64_MAX);
	h->rate_dropped_bytes = tok_u64(ld, UINT64_MAX);
	for (int i = 0; i < CLASS_MAX && !ld->failed; i++) {
		struct window *w = &h->w[i];
		uint32_t len;

		if ((t = tok(ld, NULL)) == NULL)
			return;
		if (strcmp(t, file_class[i]) != 0) {
			load_error(ld, "bad class");
			return;
		}
		w->total = tok_u64(ld, UINT64_MAX);
		w->refused = tok_u64(ld, UINT64_MAX);
		w->blocked = tok_u64(ld, 1) != 0;
		w->blocked_since = (fb_ns)tok_u64(ld, INT64_MAX);
		len = (uint32_t)tok_u64(ld, STATE_MAX_N);
		if (!ld->failed)
			load_times(ld, w, len);
	}
	if (!ld->failed && strtok_r(NULL, " ", &ld->save) != NULL)
		load_error(ld, "trailing data");
	if (ld->failed)
		return;
	switch (h->state) {
	case HP_CLEAN:
		fb_strlcpy(h->why, "no outbound connection yet", sizeof(h->why));
		break;
	case HP_COMPROMISED:
		fb_strlcpy(h->why, "compromised (restored from the state file)",
		    sizeof(h->why));
		break;
	case HP_CONTAINED:
		fb_strlcpy(h->why, "contained (restored from the state file)",
		    sizeof(h->why));
		break;
	}
}

static int
load(struct control *c, char *err, size_t errlen)
{
	struct loader ld = { .path = c->path, .err = err, .errlen = errlen };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;

	fp = fopen(c->path, "re");
	if (fp == NULL) {
		if (errno == ENOENT)
			return 0;	/* first run */
		snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		return -1;
	}
	while (!ld.failed && (n = getline(&line, &cap, fp)) != -1) {
		ld.line++;
		if (n > STATE_MAX_LINE) {
			load_error(&ld, "line too long");
			break;
		}
		if (n == 0 || line[n - 1] != '\n') {
			load_error(&ld, "last line cut short");
			break;
		}
		line[n - 1] = '\0';
		if (memchr(line, '\0', (size_t)n - 1) != NULL) {
			load_error(&ld, "NUL byte");
			break;
		}
		if (ld.line == 1) {
			if (strcmp(line, STATE_MAGIC) != 0)
				load_error(&ld, "not a fishbowl-control 1 file");
			continue;
		}
		load_line(c, &ld, line);
	}
	if (!ld.failed && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", c->path);
		ld.failed = true;
	}
	if (!ld.failed && ld.line == 0) {
		ld.line = 1;
		load_error(&ld, "empty file");
	}
	free(line);
	fclose(fp);
	return ld.failed ? -1 : 0;
}

/* Life cycle */

static void
free_hps(struct control *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		for (int j = 0; j < CLASS_MAX; j++)
			free(c->hp[i].w[j].t);
}

struct control *
control_new(const struct fb_config *cfg, const char *state_path,
    struct event_log *ev, char *err, size_t errlen)
{
	struct control *c;
	uint32_t nb = 1;

	if (cfg->max_honeypots == 0 || cfg->max_honeypots > (1U << 24)) {
		snprintf(err, errlen, "max_honeypots %u out of range", cfg->max_honeypots);
		return NULL;
	}
	while (nb < 2 * cfg->max_honeypots)
		nb <<= 1;
	c = xcalloc(1, sizeof(*c));
	c->max = cfg->max_honeypots;
	c->hp = xcalloc(c->max, sizeof(*c->hp));
	c->bucket = xcalloc(nb, sizeof(*c->bucket));
	c->mask = nb - 1;
	c->seed = addr_hash_seed(c);
	c->ev = ev;
	jb_init(&c->jb);
	apply_config(c, cfg);
	if (state_path != NULL) {
		size_t n = strlen(state_path) + 5;

		c->path = xstrdup(state_path);
		c->tmp = xcalloc(1, n);
		snprintf(c->tmp, n, "%s.tmp", state_path);
		if (load(c, err, errlen) == -1) {
			control_free(c);
			return NULL;
		}
	}
	return c;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	free_hps(c);
	free(c->hp);
	free(c->bucket);
	free(c->exempt);
	free(c->deny);
	free(c->path);
	free(c->tmp);
	jb_free(&c->jb);
	free(c);
}

static int64_t burst_of(const struct control *c);

void
control_reload(struct control *c, const struct fb_config *cfg)
{
	int64_t burst;

	apply_config(c, cfg);
	for (uint32_t i = 0; i < c->n; i++) {
		struct hp *h = &c->hp[i];

		for (int j = 0; j < CLASS_MAX; j++)
			win_resize(&h->w[j], &c->limit[j]);
		/* A smaller burst applies at once. */
		burst = burst_of(c);
		if (h->tokens > burst)
			h->tokens = burst;
	}
	c->dirty = true;	/* blocks are recomputed, and saved, at the next tick */
}

/* Decisions */

static bool
dest_listed(const struct fb_dest *d, size_t n, const struct fb_addr *dst,
    uint8_t proto, uint16_t dport)
{
	for (size_t i = 0; i < n; i++)
		if (dest_match(&d[i], dst, proto, dport))
			return true;
	return false;
}

static enum fb_verdict
deny(struct control *c, const struct fb_addr *hpa, const struct fb_addr *dst,
    uint8_t proto, uint16_t dport, const struct fb_flow *flow, fb_ns now)
{
	char a[FB_ADDRSTRLEN], d[FB_ADDRSTRLEN + 8], msg[200];
	struct hp *h = hp_get(c, hpa, now);
	fb_ns *last = h != NULL ? &h->last_deny_event : &c->last_deny_event;
	bool *evented = h != NULL ? &h->deny_evented : &c->deny_evented;

	if (*evented && now - *last < DENY_EVENT_GAP)
		return VERDICT_DROP;
	*evented = true;
	*last = now;
	dest_text(d, sizeof(d), dst, proto, dport);
	snprintf(msg, sizeof(msg), "honeypot %s tried %s %s, a denied destination",
	    addr_fmt(hpa, a), proto_text(proto), d);
	emit(c, now, PRIO_MEDIUM, "denied", msg, h, flow, NULL, false);
	return VERDICT_DROP;
}

/* A forwarded counted connection: the first one compromises the honeypot. */
static enum fb_hp_state
note_forward(struct hp *h, enum fb_class cls, const char *dest, fb_ns now)
{
	enum fb_hp_state from = h->state;
	char why[128];

	h->forwarded = true;
	if (h->state == HP_CLEAN) {
		snprintf(why, sizeof(why), "compromised: first outbound %s connection to %s",
		    class_name(cls), dest);
		set_state(h, HP_COMPROMISED, now, why);
	}
	return from;
}

static void
outbound_event(struct control *c, const struct hp *h, enum fb_class cls,
    const char *dest, const char *count, const struct fb_flow *flow,
    const struct fb_addr *dst, uint8_t proto, uint16_t dport, fb_ns now)
{
	char a[FB_ADDRSTRLEN], msg[256], extra[256];

	snprintf(msg, sizeof(msg), "honeypot %s opened outbound %s connection %s to %s",
	    addr_fmt(&h->addr, a), class_name(cls), count, dest);
	extra_text(extra, sizeof(extra), c, cls, flow, dst, proto, dport);
	emit(c, now, PRIO_HIGH, "outbound", msg, h, flow, extra, false);
}

/* The class refuses (or, with on_limit = alert, is over its limit). */
static void
start_episode(struct control *c, struct hp *h, enum fb_class cls, bool alert_only,
    const struct fb_flow *flow, const struct fb_addr *dst, uint8_t proto,
    uint16_t dport, fb_ns now)
{
	struct window *w = &h->w[cls];
	char a[FB_ADDRSTRLEN], lim[32], msg[256], extra[256], why[128];
	enum fb_hp_state from = h->state;

	w->blocked = true;
	w->blocked_since = now;
	addr_fmt(&h->addr, a);
	limit_fmt(&c->limit[cls], lim, sizeof(lim));
	if (alert_only)
		snprintf(msg, sizeof(msg), "honeypot %s over its limit (%s, %s): "
		    "on_limit = alert, still forwarding", a, class_name(cls), lim);
	else
		snprintf(msg, sizeof(msg), "honeypot %s blocked (%s, %s)", a,
		    class_name(cls), lim);
	extra_text(extra, sizeof(extra), c, cls, flow, dst, proto, dport);
	emit(c, now, PRIO_CRITICAL, "blocked", msg, h, flow, extra, true);
	if (h->state != HP_CONTAINED) {
		if (c->limit[cls].kind == LIMIT_BLOCK)
			snprintf(why, sizeof(why), "contained: %s connections are blocked",
			    class_name(cls));
		else if (alert_only)
			snprintf(why, sizeof(why), "contained: %s limit %s reached "
			    "(on_limit = alert: still forwarding)", class_name(cls), lim);
		else
			snprintf(why, sizeof(why), "contained: %s limit %s reached",
			    class_name(cls), lim);
		set_state(h, HP_CONTAINED, now, why);
		state_event(c, h, from, now, flow);
	}
	save(c, now);
}

static enum fb_verdict
refuse(struct control *c, struct hp *h, enum fb_class cls, enum fb_reason r,
    const struct fb_flow *flow, const struct fb_addr *dst, uint8_t proto,
    uint16_t dport, fb_ns now, enum fb_reason *reason)
{
	h->w[cls].refused++;
	c->dirty = true;
	if (!h->w[cls].blocked)
		start_episode(c, h, cls, false, flow, dst, proto, dport, now);
	*reason = r;
	return VERDICT_DROP;
}

static enum fb_verdict
over_limit_alert(struct control *c, struct hp *h, enum fb_class cls,
    const char *dest, const struct fb_flow *flow, const struct fb_addr *dst,
    uint8_t proto, uint16_t dport, fb_ns now, enum fb_reason *reason)
{
	struct window *w = &h->w[cls];
	enum fb_hp_state from;

	w->total++;
	c->dirty = true;
	if (!w->blocked)
		start_episode(c, h, cls, true, flow, dst, proto, dport, now);
	from = note_forward(h, cls, dest, now);
	if (from != h->state)
		state_event(c, h, from, now, flow);
	outbound_event(c, h, cls, dest, "(over the limit, alert only)", flow, dst,
	    proto, dport, now);
	*reason = REASON_ON_LIMIT_ALERT;
	return VERDICT_FORWARD;
}

/* LIMIT_COUNT: the window decides; the slot is saved before we say yes. */
static enum fb_verdict
count_limit(struct control *c, struct hp *h, enum fb_class cls, const char *dest,
    const struct fb_flow *flow, const struct fb_addr *dst, uint8_t proto,
    uint16_t dport, fb_ns now, enum fb_reason *reason)
{
	struct window *w = &h->w[cls];
	const struct fb_limit *l = &c->limit[cls];
	struct win_undo u;
	enum fb_hp_state from = h->state;
	fb_ns since = h->since;
	bool forwarded = h->forwarded;
	char why[128], count[32];

	if (w->blocked && win_allows(w, l, now)) {
		w->blocked = false;
		c->dirty = true;
		maybe_release(c, h, now, "window");
		from = h->state;
		since = h->since;
	}
	if (!win_allows(w, l, now)) {
		if (c->on_limit == ON_LIMIT_ALERT)
			return over_limit_alert(c, h, cls, dest, flow, dst, proto, dport,
			    now, reason);
		return refuse(c, h, cls, REASON_LIMIT, flow, dst, proto, dport, now,
		    reason);
	}
	memcpy(why, h->why, sizeof(why));
	win_push(w, now, &u);
	w->total++;
	note_forward(h, cls, dest, now);
	if (save(c, now) == -1) {
		win_undo(w, &u);
		w->total--;
		h->state = from;
		h->since = since;
		h->forwarded = forwarded;
		memcpy(h->why, why, sizeof(why));
		*reason = REASON_STATE_SAVE;
		return VERDICT_DROP;
	}
	if (from != h->state)
		state_event(c, h, from, now, flow);
	snprintf(count, sizeof(count), "%u/%u", win_in_window(w, l, now), l->n);
	outbound_event(c, h, cls, dest, count, flow, dst, proto, dport, now);
	*reason = REASON_WITHIN_LIMIT;
	return VERDICT_FORWARD;
}

enum fb_verdict
control_outbound(struct control *c, const struct fb_addr *hpa, enum fb_class cls,
    const struct fb_addr *dst, uint8_t proto, uint16_t dport,
    const struct fb_flow *flow, fb_ns now, enum fb_reason *reason)
{
	char dest[FB_ADDRSTRLEN + 8];
	struct hp *h;
	enum fb_hp_state from;

	if ((unsigned)cls >= CLASS_MAX)
		cls = CLASS_OTHER;
	if (dest_listed(c->deny, c->n_deny, dst, proto, dport)) {
		*reason = REASON_DENY;
		return deny(c, hpa, dst, proto, dport, flow, now);
	}
	if (dest_listed(c->exempt, c->n_exempt, dst, proto, dport)) {
		*reason = REASON_EXEMPT;
		return VERDICT_FORWARD;
	}
	if ((h = hp_get(c, hpa, now)) == NULL) {
		note_full(c, hpa, now);
		*reason = REASON_TABLE_FULL;
		return VERDICT_DROP;
	}
	dest_text(dest, sizeof(dest), dst, proto, dport);
	switch (c->limit[cls].kind) {
	case LIMIT_ALLOW:
		h->w[cls].total++;
		c->dirty = true;
		from = note_forward(h, cls, dest, now);
		if (from != h->state) {
			save(c, now);	/* nothing is limited: a failure only delays it */
			state_event(c, h, from, now, flow);
		}
		outbound_event(c, h, cls, dest, "(class allowed)", flow, dst, proto,
		    dport, now);
		*reason = REASON_ALLOWED;
		return VERDICT_FORWARD;
	case LIMIT_BLOCK:
		return refuse(c, h, cls, REASON_CLASS_BLOCKED, flow, dst, proto, dport,
		    now, reason);
	case LIMIT_COUNT:
	default:
		if (!is_count(&c->limit[cls]))	/* n = 0: nothing may pass */
			return refuse(c, h, cls, REASON_LIMIT, flow, dst, proto, dport,
			    now, reason);
		return count_limit(c, h, cls, dest, flow, dst, proto, dport, now, reason);
	}
}

/* Rate cap */

static int64_t
burst_of(const struct control *c)
{
	return (int64_t)FB_MAX(c->rate_bps / RATE_BURST_DIV, (uint64_t)RATE_MIN_BURST);
}

static void
refill(const struct control *c, struct hp *h, fb_ns now)
{
	int64_t burst = burst_of(c);
	unsigned __int128 add, used;
	fb_ns elapsed;

	if (!h->rate_init) {
		h->rate_init = true;
		h->tokens = burst;
		h->rate_last = now;
		return;
	}
	if (now <= h->rate_last)
		return;
	elapsed = now - h->rate_last;
	add = (unsigned __int128)elapsed * c->rate_bps / (unsigned __int128)NS_PER_SEC_BITS;
	if (h->tokens >= burst || (__int128)h->tokens + (__int128)add >= burst) {
		h->tokens = burst;
		h->rate_last = now;
		return;
	}
	if (add == 0)
		return;		/* less than a byte yet: keep the time */
	h->tokens += (int64_t)add;
	/* Consume only the time that made whole bytes (rounded up, so the
	 * remainder never favours the sender). */
	used = (add * (unsigned __int128)NS_PER_SEC_BITS + c->rate_bps - 1) / c->rate_bps;
	h->rate_last += (fb_ns)used;
}

enum fb_verdict
control_rate(struct control *c, const struct fb_addr *hpa, uint32_t bytes, fb_ns now)
{
	char a[FB_ADDRSTRLEN], msg[200];
	struct hp *h;

	if (c->rate_bps == 0) {
		if ((h = hp_find(c, hpa)) != NULL)
			h->bytes_out += bytes;
		return VERDICT_FORWARD;
	}
	if ((h = hp_get(c, hpa, now)) == NULL) {
		note_full(c, hpa, now);
		return VERDICT_DROP;
	}
	refill(c, h, now);
	if (h->tokens >= (int64_t)bytes || h->tokens >= burst_of(c)) {
		h->tokens -= bytes;
		h->bytes_out += bytes;
		return VERDICT_FORWARD;
	}
	h->rate_dropped_frames++;
	h->rate_dropped_bytes += bytes;
	if (!h->rate_episode || now - h->rate_last_drop >= RATE_EPISODE_GAP) {
		h->rate_episode = true;
		snprintf(msg, sizeof(msg), "honeypot %s over its rate cap of %" PRIu64
		    " bit/s: frames dropped", addr_fmt(&h->addr, a), c->rate_bps);
		emit(c, now, PRIO_MEDIUM, "rate", msg, h, NULL, NULL, false);
	}
	h->rate_last_drop = now;
	return VERDICT_DROP;
}

/* Timers and the operator */

void
control_tick(struct control *c, fb_ns now)
{
	bool changed = false;

	for (uint32_t i = 0; i < c->n; i++) {
		struct hp *h = &c->hp[i];

		for (int j = 0; j < CLASS_MAX; j++) {
			struct window *w = &h->w[j];
			const struct fb_limit *l = &c->limit[j];

			if (!w->blocked)
				continue;
			if (l->kind == LIMIT_ALLOW ||
			    (is_count(l) && win_allows(w, l, now))) {
				w->blocked = false;
				changed = true;
			}
		}
		if (maybe_release(c, h, now, "window"))
			changed = true;
	}
	if (changed || c->dirty)
		save(c, now);
}

int
control_unblock(struct control *c, const struct fb_addr *hpa, fb_ns now)
{
	struct hp *h = hp_find(c, hpa);

	if (h == NULL)
		return -1;
	for (int i = 0; i < CLASS_MAX; i++)
		win_clear(&h->w[i]);
	maybe_release(c, h, now, "unblocked by operator");
	c->dirty = true;
	save(c, now);
	return 0;
}

int
control_seen(struct control *c, const struct fb_addr *hpa, fb_ns now)
{
	/* Status only: a full table refuses nothing here (control_outbound
	 * and control_rate do that, and say so). */
	if (hp_find(c, hpa) != NULL)
		return 0;
	if (hp_add(c, hpa, now) == NULL)
		return -1;
	c->dirty = true;
	return 0;
}

size_t
control_count(const struct control *c)
{
	return c->n;
}

void
control_status(struct control *c, size_t i, fb_ns now, struct hp_status *st)
{
	const struct hp *h;

	memset(st, 0, sizeof(*st));
	if (i >= c->n)
		return;
	h = &c->hp[i];
	st->addr = h->addr;
	st->state = h->state;
	st->since = h->since;
	fb_strlcpy(st->why, h->why, sizeof(st->why));
	for (int j = 0; j < CLASS_MAX; j++) {
		const struct window *w = &h->w[j];
		const struct fb_limit *l = &c->limit[j];
		struct hp_class_status *cs = &st->cls[j];

		cs->in_window = w->cap > 0 ? win_in_window(w, l, now) : 0;
		cs->total = w->total;
		cs->refused = w->refused;
		cs->blocked = w->blocked;
		cs->blocked_since = w->blocked ? w->blocked_since : 0;
		if (w->cap > 0 && w->len >= w->cap && l->period > 0 &&
		    now - win_oldest(w) < l->period)
			cs->next_free = win_oldest(w) + l->period;
	}
	st->rate_dropped_frames = h->rate_dropped_frames;
	st->rate_dropped_bytes = h->rate_dropped_bytes;
	st->bytes_out = h->bytes_out;
}
