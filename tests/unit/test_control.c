/*
 * Unit tests of control: the sliding windows at their edges, total limits,
 * class independence, exempt/deny, on_limit = alert, allow/block classes,
 * the events (one per transition, one CRITICAL per block episode, read back
 * from alerts.jsonl), the rate cap, persistence across a restart, corrupt
 * state files, save failures, a full honeypot table, and a randomized
 * property test of the window invariant.
 */
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "control.h"

#define SEC	FB_NS_PER_SEC
#define MIN	(60 * SEC)
#define HOUR	(3600 * SEC)
#define DAY	(86400 * SEC)
#define T0	(1795724363LL * SEC)	/* 2026-11-26T20:19:23Z */

struct ctx {
	char		 dir[64];
	char		 state[128];
	struct event_log *ev;
	struct fb_config cfg;
	struct fb_dest	 exempt[1], deny[1];
	struct fb_addr	 hp, hp2, dst;
};

static struct fb_addr
A(const char *s)
{
	struct fb_addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static int
setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	strcpy(x->dir, "/tmp/fb-test-control.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->state, sizeof(x->state), "%s/control.state", x->dir);
	x->ev = event_log_open(x->dir, NULL);
	assert_non_null(x->ev);
	x->cfg.limit[CLASS_TCP] = (struct fb_limit){ LIMIT_COUNT, 5, DAY };
	x->cfg.limit[CLASS_UDP] = (struct fb_limit){ LIMIT_COUNT, 3, HOUR };
	x->cfg.limit[CLASS_ICMP] = (struct fb_limit){ LIMIT_BLOCK, 0, 0 };
	x->cfg.limit[CLASS_OTHER] = (struct fb_limit){ LIMIT_COUNT, 1, HOUR };
	x->cfg.max_honeypots = 16;
	x->cfg.on_limit = ON_LIMIT_BLOCK;
	assert_int_equal(dest_parse("192.0.2.53:53/udp", &x->exempt[0]), 0);
	assert_int_equal(dest_parse("203.0.113.0/24", &x->deny[0]), 0);
	x->hp = A("10.99.0.130");
	x->hp2 = A("10.99.0.131");
	x->dst = A("198.51.100.7");
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *x = *state;
	char cmd[128];

	event_log_close(x->ev);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	if (system(cmd) != 0)
		return -1;
	free(x);
	return 0;
}

static struct control *
open_ctl(struct ctx *x, const char *path)
{
	char err[512] = "";
	struct control *c = control_new(&x->cfg, path, x->ev, err, sizeof(err));

	if (c == NULL)
		fail_msg("control_new: %s", err);
	return c;
}

static enum fb_verdict
conn(struct control *c, const struct fb_addr *hp, enum fb_class cls,
    const struct fb_addr *dst, uint16_t port, fb_ns now, enum fb_reason *r)
{
	static const uint8_t proto[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47 };

	return control_outbound(c, hp, cls, dst, proto[cls], port, NULL, now, r);
}

/* Events in every day folder's alerts.jsonl matching type, prio and text. */
static int
count_events(const struct ctx *x, const char *type, const char *prio, const char *text)
{
	char path[512], line[4096], want_t[64], want_p[64];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(x->dir);

	assert_non_null(d);
	snprintf(want_t, sizeof(want_t), "\"type\":\"%s\"", type);
	snprintf(want_p, sizeof(want_p), "\"prio\":\"%s\"", prio ? prio : "");
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/alerts.jsonl", x->dir, de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strstr(line, want_t) == NULL)
				continue;
			if (prio != NULL && strstr(line, want_p) == NULL)
				continue;
			if (text != NULL && strstr(line, text) == NULL)
				continue;
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

static struct hp_status
status_of(struct control *c, const struct fb_addr *hp, fb_ns now)
{
	struct hp_status st;

	for (size_t i = 0; i < control_count(c); i++) {
		control_status(c, i, now, &st);
		if (addr_eq(&st.addr, hp))
			return st;
	}
	fail_msg("honeypot not tracked");
	memset(&st, 0, sizeof(st));
	return st;
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(reason_name(REASON_WITHIN_LIMIT), "within-limit");
	assert_string_equal(reason_name(REASON_INBOUND), "inbound");
	assert_string_equal(reason_name(REASON_EXTERNAL), "external");
	assert_string_equal(reason_name(REASON_STATE_SAVE), "state-save-failed");
	assert_string_equal(reason_name(REASON_MAX), "unknown");
	assert_string_equal(hp_state_name(HP_CLEAN), "clean");
	assert_string_equal(hp_state_name(HP_COMPROMISED), "compromised");
	assert_string_equal(hp_state_name(HP_CONTAINED), "contained");
}

/*
 * 5 per minute.  The window is (now - period, now]: the oldest connection
 * frees its slot at exactly t0 + period, not a nanosecond before.
 */
static void
test_window_edges(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct hp_status st;
	enum fb_reason r;
	fb_ns t;

	x->cfg.limit[CLASS_TCP] = (struct fb_limit){ LIMIT_COUNT, 5, MIN };
	c = open_ctl(x, NULL);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + i * SEC, &r),
		    VERDICT_FORWARD);
		assert_int_equal(r, REASON_WITHIN_LIMIT);
	}
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 5 * SEC, &r),
	    VERDICT_DROP);
	assert_int_equal(r, REASON_LIMIT);
	st = status_of(c, &x->hp, T0 + 5 * SEC);
	assert_int_equal(st.state, HP_CONTAINED);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 5);
	assert_int_equal(st.cls[CLASS_TCP].total, 5);
	assert_int_equal(st.cls[CLASS_TCP].refused, 1);
	assert_true(st.cls[CLASS_TCP].blocked);
	assert_int_equal(st.cls[CLASS_TCP].blocked_since, T0 + 5 * SEC);
	assert_int_equal(st.cls[CLASS_TCP].next_free, T0 + MIN);
	assert_non_null(strstr(st.why, "contained: tcp limit"));
	/* One nanosecond early: still refused. */
	t = T0 + MIN - 1;
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, t, &r), VERDICT_DROP);
	/* Exactly t0 + period: the oldest has left the window. */
	t = T0 + MIN;
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, t, &r), VERDICT_FORWARD);
	assert_int_equal(r, REASON_WITHIN_LIMIT);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, t, &r), VERDICT_DROP);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + MIN + SEC, &r),
	    VERDICT_FORWARD);
	st = status_of(c, &x->hp, T0 + MIN + SEC);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 5);
	assert_int_equal(st.cls[CLASS_TCP].total, 7);
	assert_int_equal(st.cls[CLASS_TCP].refused, 3);
	/* Long after: the whole window is free. */
	st = status_of(c, &x->hp, T0 + 10 * MIN);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 0);
	control_free(c);
}

static void
test_total_until_unblock(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct hp_status st;
	enum fb_reason r;

	x->cfg.limit[CLASS_TCP] = (struct fb_limit){ LIMIT_COUNT, 3, 0 };
	c = open_ctl(x, x->state);
	for (int i = 0; i < 3; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + i, &r),
		    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 3, &r), VERDICT_DROP);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 300 * DAY, &r),
	    VERDICT_DROP);
	control_tick(c, T0 + 400 * DAY);
	st = status_of(c, &x->hp, T0 + 400 * DAY);
	assert_true(st.cls[CLASS_TCP].blocked);
	assert_int_equal(st.cls[CLASS_TCP].next_free, 0);	/* never */
	assert_int_equal(st.state, HP_CONTAINED);
	assert_int_equal(control_unblock(c, &x->hp2, T0 + 400 * DAY), -1);
	assert_int_equal(control_unblock(c, &x->hp, T0 + 400 * DAY), 0);
	st = status_of(c, &x->hp, T0 + 400 * DAY);
	assert_int_equal(st.state, HP_COMPROMISED);
	assert_string_equal(st.why, "released: unblocked by operator");
	assert_false(st.cls[CLASS_TCP].blocked);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 0);
	assert_int_equal(st.cls[CLASS_TCP].total, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80,
		    T0 + 400 * DAY + i, &r), VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 400 * DAY + 9, &r),
	    VERDICT_DROP);
	assert_int_equal(count_events(x, "state", NULL, "released: unblocked by operator"), 1);
	assert_int_equal(count_events(x, "blocked", "critical", NULL), 2);
	control_free(c);
}

static void
test_classes_and_honeypots_independent(void **state)
{
	struct ctx *x = *state;
	struct control *c = open_ctl(x, NULL);
	enum fb_reason r;

	for (int i = 0; i < 5; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0, &r),
		    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0, &r), VERDICT_DROP);
	/* UDP of the same honeypot, TCP of another: their own windows. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_UDP, &x->dst, 53, T0, &r),
		    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_UDP, &x->dst, 53, T0, &r), VERDICT_DROP);
	assert_int_equal(conn(c, &x->hp2, CLASS_TCP, &x->dst, 80, T0, &r), VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_OTHER, &x->dst, 0, T0, &r), VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_OTHER, &x->dst, 0, T0, &r), VERDICT_DROP);
	/* The UDP hour passes, the TCP day does not. */
	assert_int_equal(conn(c, &x->hp, CLASS_UDP, &x->dst, 53, T0 + HOUR, &r),
	    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + HOUR, &r),
	    VERDICT_DROP);
	assert_int_equal(control_count(c), 2);
	control_free(c);
}

static void
test_exempt_and_deny(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct fb_addr dns = A("192.0.2.53"), bad = A("203.0.113.9");
	struct hp_status st;
	enum fb_reason r;

	x->cfg.exempt = x->exempt;
	x->cfg.n_exempt = 1;
	x->cfg.deny = x->deny;
	x->cfg.n_deny = 1;
	c = open_ctl(x, NULL);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(control_outbound(c, &x->hp, CLASS_UDP, &dns, IPPROTO_UDP,
		    53, NULL, T0 + i, &r), VERDICT_FORWARD);
		assert_int_equal(r, REASON_EXEMPT);
	}
	/* Same server, another port: counted. */
	assert_int_equal(control_outbound(c, &x->hp, CLASS_TCP, &dns, IPPROTO_TCP, 53,
	    NULL, T0 + 30, &r), VERDICT_FORWARD);
	assert_int_equal(r, REASON_WITHIN_LIMIT);
	st = status_of(c, &x->hp, T0 + 31);
	assert_int_equal(st.cls[CLASS_UDP].total, 0);
	assert_int_equal(st.cls[CLASS_TCP].total, 1);
	/* Denied: dropped, one event per honeypot per minute. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(control_outbound(c, &x->hp2, CLASS_TCP, &bad, IPPROTO_TCP,
		    22, NULL, T0 + i * SEC, &r), VERDICT_DROP);
		assert_int_equal(r, REASON_DENY);
	}
	assert_int_equal(count_events(x, "denied", "medium", NULL), 1);
	assert_int_equal(control_outbound(c, &x->hp2, CLASS_TCP, &bad, IPPROTO_TCP, 22,
	    NULL, T0 + MIN + 9 * SEC, &r), VERDICT_DROP);
	assert_int_equal(count_events(x, "denied", "medium", NULL), 2);
	assert_int_equal(control_outbound(c, &x->hp, CLASS_TCP, &bad, IPPROTO_TCP, 22,
	    NULL, T0 + MIN + 9 * SEC, &r), VERDICT_DROP);
	assert_int_equal(count_events(x, "denied", "medium", NULL), 3);
	st = status_of(c, &x->hp2, T0 + 2 * MIN);
	assert_int_equal(st.state, HP_CLEAN);
	assert_int_equal(st.cls[CLASS_TCP].total, 0);
	/* Deny wins over exempt. */
	x->cfg.deny[0].pfx = x->exempt[0].pfx;
	control_reload(c, &x->cfg);
	assert_int_equal(control_outbound(c, &x->hp, CLASS_UDP, &dns, IPPROTO_UDP, 53,
	    NULL, T0 + HOUR, &r), VERDICT_DROP);
	assert_int_equal(r, REASON_DENY);
	control_free(c);
}

static void
test_on_limit_alert(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct hp_status st;
	enum fb_reason r;

	x->cfg.on_limit = ON_LIMIT_ALERT;
	c = open_ctl(x, x->state);
	for (int i = 0; i < 5; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + i, &r),
		    VERDICT_FORWARD);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 10 + i, &r),
		    VERDICT_FORWARD);
		assert_int_equal(r, REASON_ON_LIMIT_ALERT);
	}
	st = status_of(c, &x->hp, T0 + 20);
	assert_int_equal(st.state, HP_CONTAINED);
	assert_non_null(strstr(st.why, "alert"));
	assert_int_equal(st.cls[CLASS_TCP].total, 9);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 5);
	assert_int_equal(st.cls[CLASS_TCP].refused, 0);
	assert_int_equal(count_events(x, "blocked", "critical", NULL), 1);
	assert_int_equal(count_events(x, "outbound", "high", NULL), 9);
	/* A block class still blocks. */
	assert_int_equal(conn(c, &x->hp, CLASS_ICMP, &x->dst, 0, T0 + 30, &r), VERDICT_DROP);
	assert_int_equal(r, REASON_CLASS_BLOCKED);
	control_free(c);
}

static void
test_allow_and_block_classes(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct hp_status st;
	enum fb_reason r;

	x->cfg.limit[CLASS_UDP] = (struct fb_limit){ LIMIT_ALLOW, 0, 0 };
	c = open_ctl(x, x->state);
	/* A block class: refused from the first, the clean honeypot is contained. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(conn(c, &x->hp, CLASS_ICMP, &x->dst, 0, T0 + i, &r),
		    VERDICT_DROP);
		assert_int_equal(r, REASON_CLASS_BLOCKED);
	}
	st = status_of(c, &x->hp, T0 + 10);
	assert_int_equal(st.state, HP_CONTAINED);
	assert_int_equal(st.cls[CLASS_ICMP].refused, 5);
	assert_true(st.cls[CLASS_ICMP].blocked);
	control_tick(c, T0 + DAY);
	st = status_of(c, &x->hp, T0 + DAY);
	assert_true(st.cls[CLASS_ICMP].blocked);	/* a block class never frees */
	assert_int_equal(count_events(x, "blocked", "critical", NULL), 1);
	assert_int_equal(count_events(x, "state", NULL, "contained: icmp"), 1);

	/* Allow: every one forwarded and counted. */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(conn(c, &x->hp2, CLASS_UDP, &x->dst, 53, T0 + i, &r),
		    VERDICT_FORWARD);
		assert_int_equal(r, REASON_ALLOWED);
	}
	st = status_of(c, &x->hp2, T0 + 200);
	assert_int_equal(st.state, HP_COMPROMISED);
	assert_int_equal(st.cls[CLASS_UDP].total, 100);
	assert_false(st.cls[CLASS_UDP].blocked);
	assert_int_equal(count_events(x, "state", NULL, "compromised: first outbound udp"), 1);

	/* The operator lifts the block of the honeypot that never got out: clean. */
	assert_int_equal(control_unblock(c, &x->hp, T0 + DAY), 0);
	st = status_of(c, &x->hp, T0 + DAY);
	assert_int_equal(st.state, HP_CLEAN);
	assert_int_equal(conn(c, &x->hp, CLASS_ICMP, &x->dst, 0, T0 + DAY + 1, &r),
	    VERDICT_DROP);
	assert_int_equal(count_events(x, "blocked", "critical", NULL), 2);
	control_free(c);
}

/* One event per transition, one CRITICAL "blocked" per episode. */
static void
test_events(void **state)
{
	struct ctx *x = *state;
	char lim[32], text[200];
	struct control *c;
	struct hp_status st;
	enum fb_reason r;

	x->cfg.limit[CLASS_TCP] = (struct fb_limit){ LIMIT_COUNT, 2, HOUR };
	c = open_ctl(x, x->state);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0, &r), VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 443, T0 + SEC, &r),
	    VERDICT_FORWARD);
	assert_int_equal(count_events(x, "state", "high",
	    "honeypot 10.99.0.130 compromised: first outbound tcp connection to "
	    "198.51.100.7:80"), 1);
	assert_int_equal(count_events(x, "outbound", "high",
	    "honeypot 10.99.0.130 opened outbound tcp connection 1/2 to 198.51.100.7:80"), 1);
	assert_int_equal(count_events(x, "outbound", "high",
	    "opened outbound tcp connection 2/2 to 198.51.100.7:443"), 1);
	for (int i = 0; i < 50; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 2 * SEC + i, &r),
		    VERDICT_DROP);
	limit_fmt(&x->cfg.limit[CLASS_TCP], lim, sizeof(lim));	/* "2/hour" */
	snprintf(text, sizeof(text), "honeypot 10.99.0.130 blocked (tcp, %s)", lim);
	assert_int_equal(count_events(x, "blocked", "critical", text), 1);
	snprintf(text, sizeof(text), "honeypot 10.99.0.130 contained: tcp limit %s reached",
	    lim);
	assert_int_equal(count_events(x, "state", NULL, text), 1);
	/* The timer frees it when the oldest leaves the window. */
	control_tick(c, T0 + HOUR - 1);
	assert_int_equal(status_of(c, &x->hp, T0 + HOUR - 1).state, HP_CONTAINED);
	control_tick(c, T0 + HOUR);
	st = status_of(c, &x->hp, T0 + HOUR);
	assert_int_equal(st.state, HP_COMPROMISED);
	assert_string_equal(st.why, "released: window");
	assert_false(st.cls[CLASS_TCP].blocked);
	control_tick(c, T0 + HOUR + SEC);
	assert_int_equal(count_events(x, "state", NULL, "released: window"), 1);
	/* A second episode: one more CRITICAL. */
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + HOUR + 2 * SEC, &r),
	    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + HOUR + 3 * SEC, &r),
	    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + HOUR + 4 * SEC, &r),
	    VERDICT_DROP);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + HOUR + 5 * SEC, &r),
	    VERDICT_DROP);
	assert_int_equal(count_events(x, "blocked", "critical", NULL), 2);
	/* Freed at the next attempt rather than by the timer. */
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 2 * HOUR + 2 * SEC, &r),
	    VERDICT_FORWARD);
	assert_int_equal(count_events(x, "state", NULL, "released: window"), 2);
	/* Totals: 2 compromised/contained + 2 contained + 2 released... exactly: */
	assert_int_equal(count_events(x, "state", NULL, NULL), 1 + 2 + 2);
	assert_int_equal(count_events(x, "outbound", "high", NULL), 5);
	assert_int_equal(count_events(x, "blocked", NULL, NULL), 2);
	control_free(c);
}

/* 10 Mbit/s cap, a honeypot sending at 20 Mbit/s for 10 s. */
static void
test_rate_cap(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct hp_status st;
	uint64_t passed = 0, dropped = 0;
	const uint64_t rate = 10000000;
	fb_ns t = T0, end = T0 + 10 * SEC;
	const fb_ns gap = 600 * 1000;	/* 1500 bytes every 600 us = 20 Mbit/s */
	double expect;

	x->cfg.rate_bps = rate;
	c = open_ctl(x, NULL);
	for (; t < end; t += gap) {
		if (control_rate(c, &x->hp, 1500, t) == VERDICT_FORWARD)
			passed += 1500;
		else
			dropped += 1500;
	}
	expect = (double)rate / 8 * 10;
	assert_true(passed >= expect * 0.95);
	assert_true(passed <= expect * 1.05);
	st = status_of(c, &x->hp, t);
	assert_int_equal(st.bytes_out, passed);
	assert_int_equal(st.rate_dropped_bytes, dropped);
	assert_int_equal(st.rate_dropped_frames, dropped / 1500);
	assert_int_equal(count_events(x, "rate", "medium", NULL), 1);
	/* Quiet for 10 s: the next drop starts a new episode. */
	t += 10 * SEC;
	for (int i = 0; i < 1000; i++, t += 1000)
		(void)control_rate(c, &x->hp, 1500, t);
	assert_int_equal(count_events(x, "rate", "medium", NULL), 2);
	/* A frame larger than the burst still passes when the bucket is full. */
	t += 60 * SEC;
	assert_int_equal(control_rate(c, &x->hp, 400000, t), VERDICT_FORWARD);
	assert_int_equal(control_rate(c, &x->hp, 1500, t), VERDICT_DROP);
	control_free(c);

	/* Slow rate: exact over a long run. */
	x->cfg.rate_bps = 8000;	/* 1000 bytes/s, burst 64 KiB */
	c = open_ctl(x, NULL);
	passed = 0;
	for (t = T0; t < T0 + 1000 * SEC; t += 10 * FB_NS_PER_MSEC)
		if (control_rate(c, &x->hp, 100, t) == VERDICT_FORWARD)
			passed += 100;
	assert_true(passed >= 1000 * 1000);
	assert_true(passed <= 1000 * 1000 + 65536 + 100);
	control_free(c);

	/* No cap. */
	x->cfg.rate_bps = 0;
	c = open_ctl(x, NULL);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(control_rate(c, &x->hp, 9000, T0), VERDICT_FORWARD);
	control_free(c);
}

/*
 * The burst outlasts TCP's minimum retransmission timeout (200 ms).  A
 * policed TCP sender that lost a window's tail is silent for that long; the
 * bucket must keep what it earned meanwhile, or the connection only gets
 * part of its cap (48 % of 10 Mbit/s with a 100 ms burst, bench/flood.sh).
 * Still bounded: over any span at most rate * span + burst passes, and the
 * burst is 250 ms of rate (64 KiB at least).
 */
static void
test_rate_burst_outlasts_rto(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	const uint64_t rate = 10000000;			/* 1.25 MB/s */
	const uint64_t per_200ms = rate / 8 / 5;	/* 250,000 bytes */
	uint64_t passed;
	fb_ns t = T0;

	x->cfg.rate_bps = rate;
	c = open_ctl(x, NULL);
	/* Empty the bucket, then 200 ms of silence (the RTO)... */
	while (control_rate(c, &x->hp, 1500, t) == VERDICT_FORWARD)
		;
	t += 200 * FB_NS_PER_MSEC;
	/* ...and what the silence earned can all be sent at once. */
	passed = 0;
	while (control_rate(c, &x->hp, 1500, t) == VERDICT_FORWARD)
		passed += 1500;
	assert_true(passed >= per_200ms - 1500);
	/* A long silence earns no more than 250 ms of rate. */
	t += 10 * SEC;
	passed = 0;
	while (control_rate(c, &x->hp, 1500, t) == VERDICT_FORWARD)
		passed += 1500;
	assert_true(passed >= rate / 8 / 4 - 1500);
	assert_true(passed <= rate / 8 / 4 + 1500);
	control_free(c);

	/* Slow rates keep the 64 KiB floor. */
	x->cfg.rate_bps = 512000;
	c = open_ctl(x, NULL);
	passed = 0;
	while (control_rate(c, &x->hp, 1000, T0) == VERDICT_FORWARD)
		passed += 1000;
	assert_true(passed >= 65536 - 1000 && passed <= 65536 + 1000);
	control_free(c);
}

/* A kill -9 after any verdict: a new control on the same file knows it all. */
static void
test_persistence_restart(void **state)
{
	struct ctx *x = *state;
	struct control *c, *d;
	struct hp_status st;
	enum fb_reason r;

	c = open_ctl(x, x->state);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + i * MIN, &r),
		    VERDICT_FORWARD);
		/* No control_save, no control_free: as if killed right here. */
		d = open_ctl(x, x->state);
		st = status_of(d, &x->hp, T0 + i * MIN);
		assert_int_equal(st.cls[CLASS_TCP].in_window, i + 1);
		assert_int_equal(st.state, HP_COMPROMISED);
		control_free(d);
	}
	assert_int_equal(conn(c, &x->hp2, CLASS_UDP, &x->dst, 53, T0, &r), VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 10 * MIN, &r),
	    VERDICT_DROP);
	/* Killed: restart. */
	d = open_ctl(x, x->state);
	assert_int_equal(control_count(d), 2);
	st = status_of(d, &x->hp, T0 + 11 * MIN);
	assert_int_equal(st.state, HP_CONTAINED);
	assert_true(st.cls[CLASS_TCP].blocked);
	assert_int_equal(st.cls[CLASS_TCP].blocked_since, T0 + 10 * MIN);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 5);
	assert_int_equal(st.cls[CLASS_TCP].total, 5);
	assert_int_equal(st.cls[CLASS_TCP].next_free, T0 + DAY);
	assert_int_equal(conn(d, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 12 * MIN, &r),
	    VERDICT_DROP);
	assert_int_equal(r, REASON_LIMIT);
	/* still the same episode: no second CRITICAL after the restart */
	assert_int_equal(count_events(x, "blocked", "critical", NULL), 1);
	assert_int_equal(conn(d, &x->hp2, CLASS_UDP, &x->dst, 53, T0 + SEC, &r),
	    VERDICT_FORWARD);
	assert_int_equal(conn(d, &x->hp2, CLASS_UDP, &x->dst, 53, T0 + 2 * SEC, &r),
	    VERDICT_FORWARD);
	assert_int_equal(conn(d, &x->hp2, CLASS_UDP, &x->dst, 53, T0 + 3 * SEC, &r),
	    VERDICT_DROP);
	/* The window frees it on time, across the restart. */
	assert_int_equal(conn(d, &x->hp, CLASS_TCP, &x->dst, 80, T0 + DAY - 1, &r),
	    VERDICT_DROP);
	assert_int_equal(conn(d, &x->hp, CLASS_TCP, &x->dst, 80, T0 + DAY, &r),
	    VERDICT_FORWARD);
	control_free(c);
	control_free(d);

	/* A smaller limit after the restart keeps the newest times. */
	x->cfg.limit[CLASS_TCP].n = 2;
	d = open_ctl(x, x->state);
	st = status_of(d, &x->hp, T0 + DAY);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 2);	/* T0+4min, T0+DAY */
	assert_int_equal(st.cls[CLASS_TCP].next_free, T0 + 4 * MIN + DAY);
	control_free(d);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_corrupt_state_rejected(void **state)
{
	struct ctx *x = *state;
	static const char *const bad[] = {
		"",
		"fishbowl-control 2\n",
		"fishbowl-control 1",
		"hp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0 x\n",
		"fishbowl-control 1\nhp 10.99.0.999 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 dirty 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean -5 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 2 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 2 5 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 2 9 5 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 65536 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 99999999999999999999999\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 udp 0 0 0 0 0 tcp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n",
		("fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n"
		    "hp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n"),
		"fishbowl-control 1\n\n",
		"fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0\0 0 0\n",
	};
	static const size_t badlen18 = sizeof("fishbowl-control 1\nhp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0\0 0 0\n") - 1;
	char err[512];
	struct control *c;

	for (size_t i = 0; i < nitems(bad); i++) {
		if (i == nitems(bad) - 1) {
			FILE *f = fopen(x->state, "w");

			assert_non_null(f);
			assert_int_equal(fwrite(bad[i], 1, badlen18, f), badlen18);
			fclose(f);
		} else
			write_file(x->state, bad[i]);
		err[0] = '\0';
		c = control_new(&x->cfg, x->state, x->ev, err, sizeof(err));
		if (c != NULL)
			fail_msg("corrupt state file %zu accepted", i);
		assert_non_null(strstr(err, x->state));
	}
	/* Too many honeypots for the table. */
	x->cfg.max_honeypots = 1;
	write_file(x->state, "fishbowl-control 1\n"
	    "hp 10.99.0.130 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n"
	    "hp 10.99.0.131 clean 0 0 0 0 0 tcp 0 0 0 0 0 udp 0 0 0 0 0 icmp 0 0 0 0 0 other 0 0 0 0 0\n");
	assert_null(control_new(&x->cfg, x->state, x->ev, err, sizeof(err)));
	assert_non_null(strstr(err, "max_honeypots"));
	/* A good one loads; a missing one is a fresh start. */
	x->cfg.max_honeypots = 16;
	c = control_new(&x->cfg, x->state, x->ev, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(control_count(c), 2);
	control_free(c);
	unlink(x->state);
	c = control_new(&x->cfg, x->state, x->ev, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(control_count(c), 0);
	control_free(c);
}

/* If the slot cannot be saved, the connection does not leave. */
static void
test_save_failure_drops(void **state)
{
	struct ctx *x = *state;
	char path[256], tmp[300];
	struct control *c;
	struct hp_status st;
	enum fb_reason r;

	snprintf(path, sizeof(path), "%s/no/such/dir/control.state", x->dir);
	c = open_ctl(x, path);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + i, &r),
		    VERDICT_DROP);
		assert_int_equal(r, REASON_STATE_SAVE);
	}
	st = status_of(c, &x->hp, T0 + 5);
	assert_int_equal(st.state, HP_CLEAN);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 0);
	assert_int_equal(st.cls[CLASS_TCP].total, 0);
	assert_int_equal(count_events(x, "state-save", "critical", NULL), 1);
	assert_int_equal(count_events(x, "outbound", NULL, NULL), 0);
	assert_int_equal(control_save(c), -1);
	control_free(c);

	/* The temporary file cannot be created (a directory is in the way). */
	snprintf(tmp, sizeof(tmp), "%s.tmp", x->state);
	assert_int_equal(mkdir(tmp, 0700), 0);
	c = open_ctl(x, x->state);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0, &r), VERDICT_DROP);
	assert_int_equal(r, REASON_STATE_SAVE);
	assert_int_equal(count_events(x, "state-save", "critical", NULL), 2);
	/* Fixed: forwarded again. */
	assert_int_equal(rmdir(tmp), 0);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 1, &r),
	    VERDICT_FORWARD);
	assert_int_equal(r, REASON_WITHIN_LIMIT);
	control_free(c);
}

static void
test_table_full(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct fb_addr third = A("10.99.0.132");
	enum fb_reason r;

	x->cfg.max_honeypots = 2;
	x->cfg.rate_bps = 1000000;
	c = open_ctl(x, NULL);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0, &r), VERDICT_FORWARD);
	assert_int_equal(control_rate(c, &x->hp2, 100, T0), VERDICT_FORWARD);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(conn(c, &third, CLASS_TCP, &x->dst, 80, T0 + i, &r),
		    VERDICT_DROP);
		assert_int_equal(r, REASON_TABLE_FULL);
	}
	assert_int_equal(control_rate(c, &third, 100, T0), VERDICT_DROP);
	assert_int_equal(control_count(c), 2);
	assert_int_equal(count_events(x, "blocked", "critical", "table full"), 1);
	/* The tracked ones carry on. */
	assert_int_equal(conn(c, &x->hp2, CLASS_TCP, &x->dst, 80, T0, &r), VERDICT_FORWARD);
	control_free(c);
}

static void
test_reload(void **state)
{
	struct ctx *x = *state;
	struct control *c;
	struct hp_status st;
	enum fb_reason r;

	c = open_ctl(x, x->state);
	for (int i = 0; i < 5; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + i * SEC, &r),
		    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + 10 * SEC, &r),
	    VERDICT_DROP);
	/* Shrink: the newest times stay. */
	x->cfg.limit[CLASS_TCP] = (struct fb_limit){ LIMIT_COUNT, 2, DAY };
	control_reload(c, &x->cfg);
	st = status_of(c, &x->hp, T0 + MIN);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 2);
	assert_int_equal(st.cls[CLASS_TCP].next_free, T0 + 3 * SEC + DAY);
	/* Grow: the block is lifted at the next tick. */
	x->cfg.limit[CLASS_TCP] = (struct fb_limit){ LIMIT_COUNT, 10, DAY };
	control_reload(c, &x->cfg);
	control_tick(c, T0 + MIN);
	st = status_of(c, &x->hp, T0 + MIN);
	assert_false(st.cls[CLASS_TCP].blocked);
	assert_int_equal(st.state, HP_COMPROMISED);
	assert_int_equal(st.cls[CLASS_TCP].in_window, 2);
	for (int i = 0; i < 8; i++)
		assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + MIN + i, &r),
		    VERDICT_FORWARD);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + MIN + 9, &r),
	    VERDICT_DROP);
	/* Allow: the block goes at the tick. */
	x->cfg.limit[CLASS_TCP] = (struct fb_limit){ LIMIT_ALLOW, 0, 0 };
	control_reload(c, &x->cfg);
	control_tick(c, T0 + MIN + 10);
	st = status_of(c, &x->hp, T0 + MIN + 10);
	assert_false(st.cls[CLASS_TCP].blocked);
	assert_int_equal(st.state, HP_COMPROMISED);
	assert_int_equal(conn(c, &x->hp, CLASS_TCP, &x->dst, 80, T0 + MIN + 11, &r),
	    VERDICT_FORWARD);
	assert_int_equal(r, REASON_ALLOWED);
	control_free(c);
}

/*
 * Random attempts at random times, with random timer ticks and restarts
 * (a new control on the state file): the forwarded connections of each
 * class never put n + 1 in any period-long span, and every refusal was
 * needed (n were already in the window).
 */
static void
test_property_window_invariant(void **state)
{
	struct ctx *x = *state;
	enum { ATTEMPTS = 10000 };
	static fb_ns fwd[CLASS_MAX][ATTEMPTS];
	size_t nf[CLASS_MAX];
	uint64_t rnd = 0x9e3779b97f4a7c15ULL;
	struct control *c;
	enum fb_reason r;
	const char *path;

	for (int round = 0; round < 8; round++) {
		fb_ns now = T0;
		int n_fwd = 0, n_drop = 0;

		unlink(x->state);
		memset(nf, 0, sizeof(nf));
		for (int k = 0; k < CLASS_MAX; k++) {
			rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
			x->cfg.limit[k] = (struct fb_limit){ LIMIT_COUNT,
			    (uint32_t)(1 + (rnd >> 33) % 7),
			    (fb_ns)(1 + (rnd >> 40) % 600) * SEC / (round % 4 < 2 ? 1 : 7) };
		}
		/* odd rounds in memory (fast), even ones on the state file */
		path = round % 2 ? NULL : x->state;
		c = open_ctl(x, path);
		for (int i = 0; i < ATTEMPTS; i++) {
			enum fb_verdict v;
			enum fb_class cls;
			size_t in = 0;
			const struct fb_limit *l;

			rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
			cls = (enum fb_class)((rnd >> 20) % CLASS_MAX);
			l = &x->cfg.limit[cls];
			switch ((rnd >> 24) % 4) {
			case 0:
				break;		/* same instant */
			case 1:
				now += (fb_ns)((rnd >> 30) % 1000);	/* ns apart */
				break;
			case 2:
				now += (fb_ns)((rnd >> 30) % (uint64_t)(l->period + 2));
				break;
			default:
				now += (fb_ns)((rnd >> 30) % 5) * SEC;
				break;
			}
			/* Land exactly on a window edge now and then. */
			if ((rnd >> 50) % 8 == 0 && nf[cls] >= l->n) {
				fb_ns edge = fwd[cls][nf[cls] - l->n] + l->period -
				    (fb_ns)((rnd >> 55) % 2);

				if (edge >= now)
					now = edge;
			}
			if ((rnd >> 45) % 97 == 0)
				control_tick(c, now);
			if ((rnd >> 45) % 89 == 1 && path != NULL) {
				control_free(c);
				c = open_ctl(x, path);
			}
			/* time never goes back: only the last n can be in the window */
			for (size_t j = nf[cls] > l->n ? nf[cls] - l->n : 0; j < nf[cls]; j++)
				if (now - fwd[cls][j] < l->period)
					in++;
			v = conn(c, &x->hp, cls, &x->dst, 80, now, &r);
			if (v == VERDICT_FORWARD) {
				n_fwd++;
				assert_int_equal(r, REASON_WITHIN_LIMIT);
				assert_true(in < l->n);
				fwd[cls][nf[cls]++] = now;
			} else {
				n_drop++;
				assert_int_equal(r, REASON_LIMIT);
				assert_true(in >= l->n);
			}
		}
		/* The invariant itself, on the forwarded times only. */
		for (int k = 0; k < CLASS_MAX; k++) {
			const struct fb_limit *l = &x->cfg.limit[k];

			for (size_t j = 0; j + l->n < nf[k]; j++)
				assert_true(fwd[k][j + l->n] - fwd[k][j] >= l->period);
		}
		assert_true(n_fwd > ATTEMPTS / 20);
		assert_true(n_drop > ATTEMPTS / 20);
		control_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_window_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_until_unblock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_classes_and_honeypots_independent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_exempt_and_deny, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_limit_alert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_and_block_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_burst_outlasts_rto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_failure_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_property_window_invariant, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
