/*
 * Unit tests of logserver: the RFC 6587 framer (octet counting, LF, mixed,
 * cut at max, garbage, byte-at-a-time), and the server on 127.0.0.1 with
 * real sockets: UDP and TCP messages into syslog.jsonl, the per-peer rate
 * limit, max_peers refusals.
 */
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "logserver.h"

static char got[16][64];
static bool got_cut[16];
static int n_got;

static void
collect(void *arg, const uint8_t *p, size_t n, bool truncated)
{
	(void)arg;
	if (n_got < 16) {
		snprintf(got[n_got], sizeof(got[0]), "%.*s", (int)n, (const char *)p);
		got_cut[n_got] = truncated;
	}
	n_got++;
}

static void
feed_all(const char *s, size_t max, bool bytewise)
{
	struct ls_framer f;
	size_t n = strlen(s);

	n_got = 0;
	ls_framer_init(&f, max);
	if (bytewise)
		for (size_t i = 0; i < n; i++)
			ls_framer_feed(&f, (const uint8_t *)s + i, 1, collect, NULL);
	else
		ls_framer_feed(&f, (const uint8_t *)s, n, collect, NULL);
	ls_framer_finish(&f, collect, NULL);
	ls_framer_free(&f);
}

static void
test_framer(void **state)
{
	/* Zeek tcp-syslog.pcap's mix: octet-counted and LF frames. */
	const char *mixed = "12 <13>a: hello<14>b: plain\n5 <15>c"
	    "\n\n<16>d: tail";

	(void)state;
	for (int bw = 0; bw < 2; bw++) {
		feed_all(mixed, 480, bw);
		assert_int_equal(n_got, 4);
		assert_string_equal(got[0], "<13>a: hello");
		assert_string_equal(got[1], "<14>b: plain");
		assert_string_equal(got[2], "<15>c");
		assert_string_equal(got[3], "<16>d: tail");
	}
	/* Octet count over max: cut, the rest skipped. */
	feed_all("12 abcdefghijkl3 xyz", 4, false);
	assert_int_equal(n_got, 2);
	assert_string_equal(got[0], "abcd");
	assert_true(got_cut[0]);
	assert_string_equal(got[1], "xyz");
	assert_false(got_cut[1]);
	/* LF line over max: cut, rest of line dropped. */
	feed_all("abcdefgh\nok\n", 4, true);
	assert_int_equal(n_got, 2);
	assert_string_equal(got[0], "abcd");
	assert_true(got_cut[0]);
	assert_string_equal(got[1], "ok");
	/* Digits without "LEN SP" are text. */
	feed_all("1234567890123 x\n42x\n", 480, false);
	assert_int_equal(n_got, 2);
	assert_string_equal(got[0], "1234567890123 x");
	assert_string_equal(got[1], "42x");
}

/* Fuzz finding (fuzz_syslog): a line of exactly max bytes was cut when the
 * LF came in the next segment, whole when it came in the same one. */
static void
test_framer_exact_max(void **state)
{
	(void)state;
	for (int bw = 0; bw < 2; bw++) {
		feed_all("abcd\nefgh\n", 4, bw);
		assert_int_equal(n_got, 2);
		assert_string_equal(got[0], "abcd");
		assert_false(got_cut[0]);
		assert_string_equal(got[1], "efgh");
		assert_false(got_cut[1]);
		/* One byte more is cut, whatever the segments. */
		feed_all("abcde\nok\n", 4, bw);
		assert_int_equal(n_got, 2);
		assert_string_equal(got[0], "abcd");
		assert_true(got_cut[0]);
		assert_string_equal(got[1], "ok");
		assert_false(got_cut[1]);
	}
}

/* Fuzz finding (fuzz_syslog): digits that turn out to be text were kept in
 * the message buffer, which overflowed when max < 10; an LF right after the
 * digits became part of the message. */
static void
test_framer_digits_small_max(void **state)
{
	(void)state;
	for (int bw = 0; bw < 2; bw++) {
		feed_all("40<13>x\n123\n7\n55", 2, bw);
		assert_int_equal(n_got, 4);
		assert_string_equal(got[0], "40");
		assert_true(got_cut[0]);
		assert_string_equal(got[1], "12");
		assert_true(got_cut[1]);
		assert_string_equal(got[2], "7");
		assert_false(got_cut[2]);
		assert_string_equal(got[3], "55");	/* bare digits at the end */
		assert_false(got_cut[3]);
		/* An octet count over max is cut too, partial at the end. */
		feed_all("9 abc", 2, bw);
		assert_int_equal(n_got, 1);
		assert_string_equal(got[0], "ab");
		assert_true(got_cut[0]);
	}
}

/* Two addresses whose rate slots collide (the table's secret hash). */
static void
colliding(const struct logserver *ls, struct fb_addr *a, struct fb_addr *b)
{
	char s[32];
	uint32_t want;

	assert_int_equal(addr_parse("192.0.2.1", a), 0);
	want = logserver_peer_slot(ls, a);
	for (uint32_t i = 2; i < 1u << 24; i++) {
		snprintf(s, sizeof(s), "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
		assert_int_equal(addr_parse(s, b), 0);
		if (logserver_peer_slot(ls, b) == want)
			return;
	}
	fail();
}

/* Two servers put one address on different slots (almost always: 1 in
 * 4096 by chance, so three tries). */
static void
test_peer_slot_secret(void **state)
{
	struct fb_config cfg;
	struct logserver *ls[4];
	struct fb_addr a;
	char err[256];
	int differ = 0;

	(void)state;
	assert_int_equal(config_load_string("t.conf", "[honeynet]\nnetworks = 10.0.0.0/24\n",
	    &cfg, err, sizeof(err)), 0);
	assert_int_equal(addr_parse("10.0.0.5", &a), 0);
	for (int i = 0; i < 4; i++)
		assert_non_null(ls[i] = logserver_open(&cfg, NULL, err, sizeof(err)));
	for (int i = 1; i < 4; i++)
		differ += logserver_peer_slot(ls[0], &a) != logserver_peer_slot(ls[i], &a);
	assert_true(differ >= 1);
	for (int i = 0; i < 4; i++)
		logserver_close(ls[i]);
	config_free(&cfg);
}

/* A newcomer on an active peer's slot neither resets nor drains its
 * bucket: it is counted against the shared overflow bucket; the slot
 * changes hands only after a second of quiet. */
static void
test_peer_slots(void **state)
{
	struct fb_config cfg;
	struct logserver *ls;
	struct logserver_stats st;
	struct fb_addr a, b;
	char err[256];
	fb_ns t = 1795651200LL * FB_NS_PER_SEC;

	(void)state;
	assert_int_equal(config_load_string("t.conf",
	    "[honeynet]\nnetworks = 10.0.0.0/24\n[logserver]\npeer_rate = 2\n",
	    &cfg, err, sizeof(err)), 0);
	assert_non_null(ls = logserver_open(&cfg, NULL, err, sizeof(err)));
	colliding(ls, &a, &b);
	/* a spends its burst of 2. */
	assert_true(logserver_peer_allow(ls, &a, t));
	assert_true(logserver_peer_allow(ls, &a, t + 1));
	assert_false(logserver_peer_allow(ls, &a, t + 2));
	/* b collides while a is active: the overflow bucket (burst 2). */
	assert_true(logserver_peer_allow(ls, &b, t + 3));
	assert_true(logserver_peer_allow(ls, &b, t + 4));
	assert_false(logserver_peer_allow(ls, &b, t + 5));
	/* a's bucket was not reset by b: still empty. */
	assert_false(logserver_peer_allow(ls, &a, t + 6));
	logserver_stats(ls, &st, NULL);
	assert_int_equal(st.peer_overflow, 3);
	assert_int_equal(st.rate_dropped, 3);
	/* Half a second on, a has one token again (2 a second). */
	assert_true(logserver_peer_allow(ls, &a, t + FB_NS_PER_SEC / 2 + 6));
	assert_false(logserver_peer_allow(ls, &a, t + FB_NS_PER_SEC / 2 + 7));
	/* After more than a second of quiet, b takes the slot, full burst. */
	t += FB_NS_PER_SEC / 2 + 7 + FB_NS_PER_SEC + 1;
	assert_true(logserver_peer_allow(ls, &b, t));
	assert_true(logserver_peer_allow(ls, &b, t + 1));
	assert_false(logserver_peer_allow(ls, &b, t + 2));
	logserver_stats(ls, &st, NULL);
	assert_int_equal(st.peer_overflow, 3);
	logserver_close(ls);
	config_free(&cfg);
}

static char tmpdir[256];

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
lines_of(const char *needle)
{
	char cmd[600], out[32] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "cat %s/*/syslog.jsonl 2>/dev/null | grep -c -F '%s'",
	    tmpdir, needle);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (fgets(out, sizeof(out), p) == NULL)
		out[0] = '\0';
	pclose(p);
	return atoi(out);
}

static int
connect_to(int type, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, type, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
serve_for(struct logserver *ls, int ms)
{
	for (int i = 0; i < ms; i++) {
		logserver_serve(ls, time_now());
		usleep(1000);
	}
}

static void
test_server(void **state)
{
	struct fb_config cfg;
	struct event_log *ev;
	struct logserver *ls;
	struct logserver_stats st;
	struct syslog_stats ss;
	char err[256], text[512];
	unsigned port;
	int u, t, extra[3];

	(void)state;
	log_init("test_logserver", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fblsXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	/* A port of its own per run (config refuses port 0). */
	port = (unsigned)(20000 + getpid() % 20000);
	snprintf(text, sizeof(text), "[honeynet]\nnetworks = 10.0.0.0/24\n"
	    "[logserver]\nlisten = udp:127.0.0.1:%u, tcp:127.0.0.1:%u\npeer_rate = 20\n"
	    "max_peers = 2\nmax_message = 480\n", port, port);
	assert_int_equal(config_load_string("t.conf", text, &cfg, err, sizeof(err)), 0);
	assert_non_null(ev = event_log_open(tmpdir, NULL));
	ls = logserver_open(&cfg, ev, err, sizeof(err));
	assert_non_null(ls);
	assert_int_equal(logserver_port(ls, 0), port);
	assert_int_equal(logserver_port(ls, 1), port);

	u = connect_to(SOCK_DGRAM, logserver_port(ls, 0));
	assert_int_equal(send(u, "<133>Apr  5 12:56:51 robin: Hello, syslog!", 42, 0), 42);
	t = connect_to(SOCK_STREAM, logserver_port(ls, 1));
	serve_for(ls, 20);
	assert_int_equal(send(t, "12 <13>x: octet<13>y: lf\n", 26, 0), 26);
	/* max_peers = 2: the third connection is refused. */
	extra[0] = connect_to(SOCK_STREAM, logserver_port(ls, 1));
	serve_for(ls, 20);
	extra[1] = connect_to(SOCK_STREAM, logserver_port(ls, 1));
	serve_for(ls, 50);
	close(t);
	serve_for(ls, 20);
	/* A flood of 200 datagrams: 20 a second pass, the rest dropped. */
	for (int i = 0; i < 200; i++)
		(void)send(u, "<13>flood: x", 12, 0);
	serve_for(ls, 50);
	logserver_stats(ls, &st, &ss);
	assert_int_equal(st.tcp_accepted, 2);
	assert_int_equal(st.tcp_refused, 1);
	assert_int_equal(st.tcp_closed, 1);
	assert_int_equal(st.octet_frames, 1);
	assert_int_equal(st.lf_frames, 1);
	assert_int_equal(st.udp_datagrams, 201);
	assert_true(st.rate_dropped >= 170 && st.rate_dropped <= 183);
	assert_int_equal(ss.messages, 201 + 2 - st.rate_dropped);
	assert_int_equal(lines_of("\"source\":\"server\",\"transport\":\"udp\",\"peer\":\"127.0.0.1\""),
	    (int)(ss.messages - 2));
	assert_int_equal(lines_of("\"facility\":\"local0\",\"severity\":\"notice\",\"timestamp\":\"Apr  5 12:56:51\",\"app\":\"robin\",\"msg\":\"Hello, syslog!\""), 1);
	assert_int_equal(lines_of("\"transport\":\"tcp\""), 2);
	assert_int_equal(lines_of("\"app\":\"x\",\"msg\":\"octet\""), 1);
	assert_int_equal(lines_of("\"app\":\"y\",\"msg\":\"lf\""), 1);
	close(u);
	close(extra[0]);
	close(extra[1]);
	logserver_close(ls);
	event_log_close(ev);
	config_free(&cfg);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framer),
		cmocka_unit_test(test_framer_exact_max),
		cmocka_unit_test(test_framer_digits_small_max),
		cmocka_unit_test(test_peer_slots),
		cmocka_unit_test(test_peer_slot_secret),
		cmocka_unit_test(test_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
