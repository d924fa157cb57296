/*
 * Unit tests of event: exact alerts.jsonl and conn.jsonl lines, hostile text
 * escaped, day folders by event time, counts, write errors (a file where the
 * day folder should be, a full tmpfs), the descriptor cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "control.h"
#include "event.h"

#define DAY_S		86400LL
#define D26		(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26T00:00:00Z */
#define T(day, sec, ns)	(D26 + (fb_ns)(day) * DAY_S * FB_NS_PER_SEC + \
			    (fb_ns)(sec) * FB_NS_PER_SEC + (ns))
#define SKIPPED		77

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
	log_init("test_event", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbevXXXXXX");
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
v4(struct fb_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	a->b[12] = x;
	a->b[13] = y;
	a->b[14] = z;
	a->b[15] = w;
}

/* Contents of tmpdir/rel (NUL-terminated, caller frees), or NULL. */
static char *
slurp(const char *rel)
{
	char path[512];
	struct stat st;
	char *b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	assert_int_equal(fstat(fd, &st), 0);
	b = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	return b;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; s != NULL && *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

static void
outbound_flow(struct fb_flow *f)
{
	memset(f, 0, sizeof(*f));
	v4(&f->key.src, 10, 99, 0, 130);
	v4(&f->key.dst, 192, 0, 2, 7);
	f->key.sport = 40000;
	f->key.dport = 6667;
	f->key.proto = 6;
	f->id = 42;
	f->dir = DIR_OUTBOUND;
	f->honeypot = f->key.src;
	f->first = T(0, 73163, 123456789);	/* 2026-11-26T20:19:23.123456Z */
	f->last = T(0, 73200, 0);
	f->pkts[0] = 10;
	f->bytes[0] = 1500;
	f->pkts[1] = 8;
	f->bytes[1] = 9000;
	f->tcp_state = TCP_ESTABLISHED;
	f->cls = CLASS_TCP;
	f->verdict = VERDICT_FORWARD;
	f->reason = REASON_WITHIN_LIMIT;
	f->counted = true;
}

static void
test_alert_with_flow(void **state)
{
	struct event_log *el = event_log_open(tmpdir, NULL);
	struct fb_flow f;
	struct fb_event ev = {
		.ts = T(0, 73163, 123456789), .prio = PRIO_HIGH, .type = "outbound",
		.msg = "honeypot 10.99.0.130 connected out", .has_honeypot = true,
		.flow = &f, .extra_json = "\"class\":\"tcp\",\"limit\":\"5/hour\"",
	};
	struct event_stats st;
	char *s;

	(void)state;
	assert_non_null(el);
	outbound_flow(&f);
	ev.honeypot = f.honeypot;
	event_emit(el, &ev);
	event_stats(el, &st);
	assert_int_equal(st.events[PRIO_HIGH], 1);
	assert_int_equal(st.write_errors, 0);
	s = slurp("2026-11-26/alerts.jsonl");
	assert_non_null(s);
	assert_string_equal(s,
	    "{\"ts\":\"2026-11-26T20:19:23.123456Z\",\"prio\":\"high\",\"type\":\"outbound\","
	    "\"msg\":\"honeypot 10.99.0.130 connected out\",\"honeypot\":\"10.99.0.130\","
	    "\"flow_id\":42,\"proto\":\"tcp\",\"src\":\"10.99.0.130\",\"sport\":40000,"
	    "\"dst\":\"192.0.2.7\",\"dport\":6667,\"dir\":\"outbound\","
	    "\"class\":\"tcp\",\"limit\":\"5/hour\"}\n");
	free(s);
	event_log_close(el);
}

static void
test_alert_with_packet_hostile_text(void **state)
{
	struct event_log *el = event_log_open(tmpdir, "fishbowl-test");
	struct fb_packet p;
	struct fb_event ev = {
		.ts = T(0, 0, 0), .prio = PRIO_CRITICAL, .type = "spoofed",
		.msg = "evil \"quote\" \\ back\nslash\x01\xff}{", .pkt = &p,
	};
	char *s;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.ipver = 6;
	p.src.b[0] = 0x20;
	p.src.b[1] = 0x01;
	p.src.b[2] = 0x0d;
	p.src.b[3] = 0xb8;
	p.src.b[15] = 1;
	v4(&p.dst, 10, 99, 0, 1);	/* mixed, as a spoofed packet may be */
	p.proto = 47;
	event_emit(el, &ev);

	/* not IP: no endpoints; unknown prio clamps to critical */
	p.ipver = 0;
	ev.prio = (enum fb_prio)9;
	ev.msg = NULL;
	ev.type = NULL;
	event_emit(el, &ev);

	s = slurp("2026-11-26/alerts.jsonl");
	assert_non_null(s);
	assert_string_equal(s,
	    "{\"ts\":\"2026-11-26T00:00:00.000000Z\",\"prio\":\"critical\",\"type\":\"spoofed\","
	    "\"msg\":\"evil \\\"quote\\\" \\\\ back\\nslash\\u0001\\u00ff}{\","
	    "\"proto\":\"47\",\"src\":\"2001:db8::1\",\"sport\":0,"
	    "\"dst\":\"10.99.0.1\",\"dport\":0}\n"
	    "{\"ts\":\"2026-11-26T00:00:00.000000Z\",\"prio\":\"critical\",\"type\":\"event\","
	    "\"msg\":\"\"}\n");
	assert_int_equal(count_lines(s), 2);
	free(s);
	event_log_close(el);
}

static void
test_conn_record(void **state)
{
	struct event_log *el = event_log_open(tmpdir, NULL);
	struct event_stats st;
	struct fb_flow f;
	char *s;

	(void)state;
	outbound_flow(&f);
	/* started before midnight, last packet after: the day of the last packet */
	f.first = T(0, DAY_S - 10, 0);
	f.last = T(1, 10, 500000000);
	f.verdict = VERDICT_DROP;
	f.reason = REASON_LIMIT;
	f.counted = false;
	f.dropped[0] = 3;
	event_conn(el, &f, "timeout", T(1, 300, 0));

	/* external (no honeypot end), UDP, odd class */
	memset(&f, 0, sizeof(f));
	v4(&f.key.src, 198, 51, 100, 1);
	v4(&f.key.dst, 203, 0, 113, 9);
	f.key.sport = 53;
	f.key.dport = 5353;
	f.key.proto = 17;
	f.id = 7;
	f.dir = DIR_EXTERNAL;
	f.first = f.last = T(1, 20, 0);
	f.reason = REASON_EXTERNAL;
	f.cls = 200;
	event_conn(el, &f, NULL, T(1, 30, 0));

	event_stats(el, &st);
	assert_int_equal(st.conn_records, 2);
	assert_null(slurp("2026-11-26/conn.jsonl"));
	s = slurp("2026-11-27/conn.jsonl");
	assert_non_null(s);
	assert_string_equal(s,
	    "{\"ts\":\"2026-11-26T23:59:50.000000Z\",\"end\":\"2026-11-27T00:00:10.500000Z\","
	    "\"id\":42,\"dir\":\"outbound\",\"honeypot\":\"10.99.0.130\",\"proto\":\"tcp\","
	    "\"src\":\"10.99.0.130\",\"sport\":40000,\"dst\":\"192.0.2.7\",\"dport\":6667,"
	    "\"pkts_orig\":10,\"bytes_orig\":1500,\"pkts_resp\":8,\"bytes_resp\":9000,"
	    "\"dropped_orig\":3,\"dropped_resp\":0,\"tcp_state\":\"established\","
	    "\"class\":\"tcp\",\"counted\":false,\"verdict\":\"drop\",\"reason\":\"limit\","
	    "\"end_reason\":\"timeout\"}\n"
	    "{\"ts\":\"2026-11-27T00:00:20.000000Z\",\"end\":\"2026-11-27T00:00:20.000000Z\","
	    "\"id\":7,\"dir\":\"external\",\"proto\":\"udp\",\"src\":\"198.51.100.1\","
	    "\"sport\":53,\"dst\":\"203.0.113.9\",\"dport\":5353,\"pkts_orig\":0,"
	    "\"bytes_orig\":0,\"pkts_resp\":0,\"bytes_resp\":0,\"dropped_orig\":0,"
	    "\"dropped_resp\":0,\"tcp_state\":\"none\",\"class\":\"unknown\","
	    "\"counted\":false,\"verdict\":\"forward\",\"reason\":\"external\","
	    "\"end_reason\":\"unknown\"}\n");
	free(s);
	event_log_close(el);
}

static void
test_day_folders_and_counts(void **state)
{
	struct event_log *el = event_log_open(tmpdir, NULL);
	struct fb_event ev = { .type = "inbound", .msg = "probe" };
	struct event_stats st;
	char *s;
	int i;

	(void)state;
	for (i = 0; i < 9; i++) {
		ev.ts = T(i % 3 == 1 ? 1 : 0, 100 + i, 0);
		ev.prio = (enum fb_prio)(i % 4);
		event_emit(el, &ev);
	}
	event_stats(el, &st);
	assert_int_equal(st.events[PRIO_LOW], 3);
	assert_int_equal(st.events[PRIO_MEDIUM], 2);
	assert_int_equal(st.events[PRIO_HIGH], 2);
	assert_int_equal(st.events[PRIO_CRITICAL], 2);
	s = slurp("2026-11-26/alerts.jsonl");
	assert_int_equal(count_lines(s), 6);
	free(s);
	s = slurp("2026-11-27/alerts.jsonl");
	assert_int_equal(count_lines(s), 3);
	assert_non_null(strstr(s, "\"ts\":\"2026-11-27T00:01:41.000000Z\",\"prio\":\"medium\""));
	free(s);
	event_log_close(el);
}

static void
test_append_and_cache(void **state)
{
	struct event_log *el = event_log_open(tmpdir, NULL);
	struct event_stats st;
	char name[32], rel[64], *s;
	int i, round;

	(void)state;
	assert_int_equal(event_append(el, T(0, 1, 0), "irc.jsonl", "{\"a\":1}\n", 8), 0);
	assert_int_equal(event_append(el, T(0, 2, 0), "irc.jsonl", "{\"a\":2}", 7), 0);
	assert_int_equal(event_append(el, T(0, 2, 0), "irc.jsonl", "", 0), 0);
	s = slurp("2026-11-26/irc.jsonl");
	assert_string_equal(s, "{\"a\":1}\n{\"a\":2}\n");
	free(s);

	/* names are file names of ours, never paths */
	assert_int_equal(event_append(el, T(0, 3, 0), "../x", "1", 1), -1);
	assert_int_equal(event_append(el, T(0, 3, 0), "a/b", "1", 1), -1);
	assert_int_equal(event_append(el, T(0, 3, 0), ".hidden", "1", 1), -1);
	assert_int_equal(event_append(el, T(0, 3, 0), "", "1", 1), -1);
	event_stats(el, &st);
	assert_int_equal(st.write_errors, 4);

	/* more files than cache slots, over two days, twice round */
	for (round = 0; round < 2; round++)
		for (i = 0; i < 40; i++) {
			snprintf(name, sizeof(name), "f%02d.jsonl", i % 20);
			assert_int_equal(event_append(el, T(i / 20, 10 + round, 0), name,
			    "{}", 2), 0);
		}
	for (i = 0; i < 20; i++) {
		snprintf(rel, sizeof(rel), "2026-11-26/f%02d.jsonl", i);
		s = slurp(rel);
		assert_string_equal(s, "{}\n{}\n");
		free(s);
		snprintf(rel, sizeof(rel), "2026-11-27/f%02d.jsonl", i);
		s = slurp(rel);
		assert_string_equal(s, "{}\n{}\n");
		free(s);
	}
	event_log_close(el);
}

static void
test_write_error_counted(void **state)
{
	struct event_log *el = event_log_open(tmpdir, NULL);
	struct fb_event ev = { .prio = PRIO_LOW, .type = "inbound", .msg = "probe" };
	struct event_stats st;
	char path[512];
	struct fb_flow f;
	int fd;

	(void)state;
	/* a file where 2026-11-28's folder should be */
	snprintf(path, sizeof(path), "%s/2026-11-28", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
	ev.ts = T(2, 5, 0);
	event_emit(el, &ev);
	event_emit(el, &ev);
	outbound_flow(&f);
	f.last = T(2, 6, 0);
	event_conn(el, &f, "closed", T(2, 7, 0));
	assert_int_equal(event_append(el, T(2, 8, 0), "x.jsonl", "{}", 2), -1);
	event_stats(el, &st);
	assert_int_equal(st.write_errors, 4);
	assert_int_equal(st.events[PRIO_LOW], 2);
	assert_int_equal(st.conn_records, 1);

	/* other days carry on, and the day comes back once the obstacle goes */
	ev.ts = T(0, 5, 0);
	event_emit(el, &ev);
	assert_int_equal(unlink(path), 0);
	ev.ts = T(2, 9, 0);
	event_emit(el, &ev);
	event_stats(el, &st);
	assert_int_equal(st.write_errors, 4);
	free(slurp("2026-11-26/alerts.jsonl"));
	char *s = slurp("2026-11-28/alerts.jsonl");
	assert_int_equal(count_lines(s), 1);
	free(s);
	event_log_close(el);
}

#define CHECK(x)	do { if (!(x)) { fprintf(stderr, "line %d: %s\n", __LINE__, #x); \
			    return 1; } } while (0)

/* A full tmpfs, in a private mount namespace of a child: no torn lines. */
static int
full_disk_child(void)
{
	struct fb_event ev = { .ts = T(0, 1, 0), .prio = PRIO_LOW, .type = "t" };
	struct event_stats st;
	struct event_log *el;
	char path[512], blk[4096], *msg, *s;
	size_t len;
	int fd, i, lines;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", tmpdir, "tmpfs", 0, "size=256k") == -1)
		return SKIPPED;
	el = event_log_open(tmpdir, NULL);
	msg = malloc(3000);
	CHECK(msg != NULL);
	memset(msg, 'm', 2999);
	msg[2999] = '\0';
	ev.msg = msg;
	event_emit(el, &ev);		/* creates the day folder and file */
	snprintf(path, sizeof(path), "%s/filler", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	memset(blk, 'x', sizeof(blk));
	while (write(fd, blk, sizeof(blk)) > 0)
		;
	close(fd);
	for (i = 0; i < 20; i++)
		event_emit(el, &ev);
	event_stats(el, &st);
	CHECK(st.write_errors > 0);
	CHECK(st.events[PRIO_LOW] == 21);
	s = slurp("2026-11-26/alerts.jsonl");
	CHECK(s != NULL);
	len = strlen(s);
	lines = count_lines(s);
	CHECK(len > 0 && s[len - 1] == '\n');
	CHECK((uint64_t)lines + st.write_errors == 21);
	CHECK(len % (len / (size_t)lines) == 0);	/* equal whole lines */
	free(s);
	free(msg);
	event_log_close(el);
	return 0;
}

static void
test_full_disk(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(full_disk_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIPPED)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * The same with lines buffered and written by the writer thread (replay):
 * every line is in the file or counted, the file ends on a whole line,
 * lines keep their order, and once space comes back the file (reopened
 * after the failure) takes lines again.
 */
static int
full_disk_threaded_child(void)
{
	struct fb_event ev = { .ts = T(0, 1, 0), .prio = PRIO_LOW, .type = "t" };
	struct event_stats st;
	struct event_log *el;
	char path[512], blk[4096], msg[1000], *s, *p;
	int fd, i, lines, next;
	size_t len;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", tmpdir, "tmpfs", 0, "size=1m") == -1)
		return SKIPPED;
	el = event_log_open(tmpdir, NULL);
	event_log_buffered(el, true);
	event_log_writer_thread(el);
	ev.msg = msg;
	snprintf(msg, sizeof(msg), "%05d %0900d", 0, 0);
	event_emit(el, &ev);
	event_flush(el);		/* creates the day folder and file */
	snprintf(path, sizeof(path), "%s/filler", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	memset(blk, 'x', sizeof(blk));
	for (i = 0; i < 128 && write(fd, blk, sizeof(blk)) > 0; i++)
		;			/* half the space: a few buffers fit */
	close(fd);
	for (i = 1; i < 2000; i++) {	/* ~2 MB of lines: most cannot be written */
		snprintf(msg, sizeof(msg), "%05d %0900d", i, 0);
		event_emit(el, &ev);
	}
	event_flush(el);
	event_stats(el, &st);
	CHECK(st.write_errors > 0);
	CHECK(st.events[PRIO_LOW] == 2000);
	s = slurp("2026-11-26/alerts.jsonl");
	CHECK(s != NULL);
	len = strlen(s);
	lines = count_lines(s);
	CHECK(len > 0 && s[len - 1] == '\n');
	CHECK((uint64_t)lines + st.write_errors == 2000);
	/* in order, each whole: the numbers rise */
	for (p = s, next = -1; (p = strstr(p, "\"msg\":\"")) != NULL; p++) {
		int k = atoi(p + 7);

		CHECK(k > next);
		next = k;
	}
	free(s);
	/* space again: the next lines are written */
	CHECK(unlink(path) == 0);
	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "%05d %0900d", 3000 + i, 0);
		event_emit(el, &ev);
	}
	event_log_close(el);
	s = slurp("2026-11-26/alerts.jsonl");
	CHECK(s != NULL && count_lines(s) == lines + 10);
	CHECK(strstr(s, "\"msg\":\"03009 ") != NULL);
	free(s);
	return 0;
}

static void
test_full_disk_threaded(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(full_disk_threaded_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIPPED)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Many files through the writer thread, evicted and reopened: every line. */
static void
test_threaded_files(void **state)
{
	struct event_log *el = event_log_open(tmpdir, NULL);
	struct event_stats st;
	char name[32], rel[64], line[64], *s;
	int i, j;

	(void)state;
	event_log_buffered(el, true);
	event_log_writer_thread(el);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "f%02d.jsonl", i % 20);
		snprintf(line, sizeof(line), "{\"n\":%d}", i);
		assert_int_equal(event_append(el, T(0, 1, 0), name, line, strlen(line)), 0);
	}
	event_flush(el);
	event_stats(el, &st);
	assert_int_equal(st.write_errors, 0);
	for (j = 0; j < 20; j++) {
		char *p;

		snprintf(rel, sizeof(rel), "2026-11-26/f%02d.jsonl", j);
		s = slurp(rel);
		assert_non_null(s);
		assert_int_equal(count_lines(s), 150);
		for (p = s, i = j; *p != '\0'; i += 20) {
			snprintf(line, sizeof(line), "{\"n\":%d}\n", i);
			assert_memory_equal(p, line, strlen(line));
			p += strlen(line);
		}
		free(s);
	}
	event_log_close(el);
}

static void
test_prio_names(void **state)
{
	(void)state;
	assert_string_equal(prio_name(PRIO_LOW), "low");
	assert_string_equal(prio_name(PRIO_MEDIUM), "medium");
	assert_string_equal(prio_name(PRIO_HIGH), "high");
	assert_string_equal(prio_name(PRIO_CRITICAL), "critical");
	assert_string_equal(prio_name((enum fb_prio)77), "unknown");
}

/* event.c copies these names into conn.jsonl and alerts.jsonl unquoted,
 * with room for 32 bytes each: every one must be plain and short. */
static void
check_name(const char *s)
{
	assert_non_null(s);
	assert_true(strlen(s) > 0 && strlen(s) < 32);
	for (const char *c = s; *c != '\0'; c++)
		assert_true(*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\');
}

static void
test_names_plain(void **state)
{
	(void)state;
	for (int i = 0; i <= PRIO_CRITICAL + 1; i++)
		check_name(prio_name((enum fb_prio)i));
	for (int i = 0; i <= DIR_EXTERNAL + 1; i++)
		check_name(dir_name((enum fb_dir)i));
	for (int i = 0; i <= TCP_MIDSTREAM + 1; i++)
		check_name(tcp_state_name((enum fb_tcp_state)i));
	for (int i = 0; i < CLASS_MAX; i++)
		check_name(class_name((enum fb_class)i));
	for (int i = 0; i <= REASON_MAX; i++)
		check_name(reason_name((enum fb_reason)i));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alert_with_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_with_packet_hostile_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conn_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_day_folders_and_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_threaded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threaded_files, setup, teardown),
		cmocka_unit_test(test_prio_names),
		cmocka_unit_test(test_names_plain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
