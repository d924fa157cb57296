/*
 * Unit tests of syslogtcp, the "syslog" session analyser: detection by
 * content (PRI or octet count first, responder silent; undecided while
 * the PRI is incomplete), exact syslog.jsonl lines for octet-counted and
 * LF frames cut across data calls, a frame over max_message cut and
 * flagged, a gap ending the frame being read, the partial frame written
 * at close, and only the honeypot's own syslog recorded.
 */
#include "layertest.h"
#include "syslogmsg.h"
#include "syslogtcp.h"

static bool
detect(const char *orig, const char *resp)
{
	const uint8_t *seen[2] = { (const uint8_t *)orig, (const uint8_t *)resp };
	const size_t n[2] = { orig ? strlen(orig) : 0, resp ? strlen(resp) : 0 };

	return syslog_analyser.detect(seen, n);
}

static void
test_detect(void **state)
{
	(void)state;
	assert_true(detect("<13>Nov 26 08:00:00 hp su: x", NULL));
	assert_true(detect("<0>", NULL));
	assert_true(detect("57 <86>1 2026-11-26T08:00:01Z", NULL));
	assert_false(detect("<13", NULL));		/* not yet */
	assert_false(detect("57 <8", NULL));
	assert_false(detect("<13>x", "220 ftp\r\n"));	/* the responder spoke */
	assert_false(detect("<1234>x", NULL));
	assert_false(detect("<>x", NULL));
	assert_false(detect("GET / HTTP/1.1\r\n", NULL));
	assert_false(detect("057 <13>x", NULL));		/* no leading zero */
	assert_false(detect("1234567890 <13>x", NULL));	/* 10 digits */
	assert_false(detect(NULL, NULL));
}

#define LINE(ts, port, rest) \
	"{\"ts\":\"" ts "\",\"source\":\"wire\",\"transport\":\"tcp\",\"peer\":\"10.0.0.5\"," \
	"\"peer_port\":" port ",\"dst\":\"203.0.113.80\",\"dst_port\":514," rest "}\n"

static void
feed(void *st, int dir, fb_ns ts, const char *s)
{
	syslog_analyser.data(st, dir, ts, (const uint8_t *)s, strlen(s));
}

static void
test_messages(void **state)
{
	struct session_info si;
	void *st;
	char big[600];

	(void)state;
	cfg.log_max_message = 480;
	lt_conn(&si, 1, 40515, 514);
	assert_non_null(st = syslog_analyser.open(ly, &si));
	/* An octet-counted frame in three pieces, then an LF frame. */
	feed(st, 0, T(T0, 1), "27 <13>Nov 26 08:00:00 hp ");
	feed(st, 1, T(T0, 2), "ignored: the collector's bytes\n");
	feed(st, 0, T(T0, 3), "a: x");
	feed(st, 0, T(T0, 4), "<14>b: y\n<15>c: cut by a gap");
	syslog_analyser.gap(st, 0, T(T0, 5), 100);
	/* Over max_message: cut at 480 bytes, flagged. */
	memset(big, 'A', sizeof(big));
	memcpy(big, "<13>", 4);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	feed(st, 0, T(T0, 6), big);
	feed(st, 0, T(T0, 7), "<16>d: unfinished");
	syslog_analyser.close(st, T(T0, 8));
	{
		char *got = lt_slurp(DAYDIR "/syslog.jsonl", NULL);
		char *l5;

		assert_non_null(got);
		l5 = strstr(got, "\"flags\":[\"truncated\"],\"raw\":\"<13>AAAA");
		assert_non_null(l5);
		l5 += strlen("\"flags\":[\"truncated\"],");
		assert_int_equal(strchr(l5, '}') - (l5 + 7), 480 + 1);	/* "...": 480 bytes */
		free(got);
	}
	assert_int_equal(ly->wire_syslog->st.messages, 5);
	assert_int_equal(ly->wire_syslog->st.truncated, 1);
	{
		char cmd[400];
		FILE *f;
		char out[2048] = "";

		/* Every line but the long one, exactly. */
		snprintf(cmd, sizeof(cmd), "grep -v AAAA %s/" DAYDIR "/syslog.jsonl", tmpdir);
		f = popen(cmd, "r");
		assert_non_null(f);
		assert_int_equal(fread(out, 1, sizeof(out) - 1, f) > 0, 1);
		pclose(f);
		assert_string_equal(out,
		    LINE("2026-11-26T20:19:23.000003Z", "40515",
		    "\"format\":\"rfc3164\",\"pri\":13,\"facility\":\"user\",\"severity\":\"notice\","
		    "\"timestamp\":\"Nov 26 08:00:00\",\"host\":\"hp\",\"app\":\"a\",\"msg\":\"x\","
		    "\"raw\":\"<13>Nov 26 08:00:00 hp a: x\"")
		    LINE("2026-11-26T20:19:23.000004Z", "40515",
		    "\"format\":\"rfc3164\",\"pri\":14,\"facility\":\"user\",\"severity\":\"info\","
		    "\"app\":\"b\",\"msg\":\"y\",\"raw\":\"<14>b: y\"")
		    LINE("2026-11-26T20:19:23.000005Z", "40515",
		    "\"format\":\"rfc3164\",\"pri\":15,\"facility\":\"user\",\"severity\":\"debug\","
		    "\"app\":\"c\",\"msg\":\"cut by a gap\",\"raw\":\"<15>c: cut by a gap\"")
		    LINE("2026-11-26T20:19:23.000008Z", "40515",
		    "\"format\":\"rfc3164\",\"pri\":16,\"facility\":\"mail\",\"severity\":\"emerg\","
		    "\"app\":\"d\",\"msg\":\"unfinished\",\"raw\":\"<16>d: unfinished\""));
	}
	cfg.log_max_message = 0;
}

/* Syslog sent to the honeypot (originator outside) is not its own. */
static void
test_not_honeypot(void **state)
{
	struct session_info si;

	(void)state;
	lt_conn(&si, 2, 40516, 514);
	si.dir = DIR_INBOUND;
	si.honeypot = si.key.dst;
	assert_null(syslog_analyser.open(ly, &si));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test_setup_teardown(test_messages, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_not_honeypot, lt_setup, lt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
