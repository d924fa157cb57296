/*
 * Unit tests of session: exact transcript text (headers, escaping, line
 * structure, binary summaries with their SHA-256, gap and conflict markers,
 * the per-session cap and the day's disk budget), exact sessions.jsonl
 * lines, file names (IPv6, reuse after a restart).
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
	log_init("test_session", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbsesXXXXXX");
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
	assert_string_equal(got, want);
	free(got);
}

static void
feed(struct session *s, int dir, fb_ns ts, const char *text)
{
	session_data(s, dir, ts, (const uint8_t *)text, strlen(text));
}

#define TR	"2026-11-26/sessions/17-10.0.0.5-23.txt"
#define CL	" >> client 203.0.113.66:40000\n"
#define SV	" << server 10.0.0.5:23\n"

static void
test_text_session(void **state)
{
	struct session_info si;
	struct session *s;

	(void)state;
	inbound(&si);
	s = session_open(ly, &si);
	assert_non_null(s);
	feed(s, 1, T(T0, 123456), "220 welcome\r\n");
	feed(s, 0, T(T0 + 1, 0), "USER bob\r\n");
	feed(s, 0, T(T0 + 1, 500), "PASS x");	/* same direction within 1 s */
	feed(s, 1, T(T0 + 2, 0), "331 ok\r\n230 in\r\n");
	feed(s, 1, T(T0 + 4, 0), "more\n");	/* same direction after 2 s */
	session_end(s, 0, T(T0 + 5, 0), STREAM_END_FIN);
	session_end(s, 1, T(T0 + 5, 1), STREAM_END_RST);
	session_close(s, T(T0 + 6, 0));
	check_file(TR,
	    "[2026-11-26T20:19:23.123456Z]" SV
	    "220 welcome\n"
	    "[2026-11-26T20:19:24.000000Z]" CL
	    "USER bob\n"
	    "PASS x\n"
	    "[2026-11-26T20:19:25.000000Z]" SV
	    "331 ok\n"
	    "230 in\n"
	    "[2026-11-26T20:19:27.000000Z]" SV
	    "more\n"
	    "[2026-11-26T20:19:28.000000Z] >> client 203.0.113.66:40000 [end: fin]\n"
	    "[2026-11-26T20:19:28.000001Z] << server 10.0.0.5:23 [end: rst]\n");
	check_file("2026-11-26/sessions.jsonl",
	    "{\"ts\":\"2026-11-26T20:19:23.123456Z\",\"end\":\"2026-11-26T20:19:29.000000Z\","
	    "\"id\":17,\"dir\":\"inbound\",\"honeypot\":\"10.0.0.5\",\"src\":\"203.0.113.66\","
	    "\"sport\":40000,\"dst\":\"10.0.0.5\",\"dport\":23,\"protocol\":\"ftp\","
	    "\"bytes_orig\":16,\"bytes_resp\":34,\"gaps\":0,\"gap_bytes\":0,\"conflicts\":0,"
	    "\"truncated\":false,\"end_orig\":\"fin\",\"end_resp\":\"rst\","
	    "\"transcript\":\"" TR "\"}\n");
}

static void
test_escaping(void **state)
{
	static const uint8_t odd[] = { 'a', 0x00, 0x1b, '[', 'A', '\\', '\r', 'b',
	    0x7f, 0xff, '\t', 'c', '\n', '[', 'x', '\r', '\n', ' ', '[' };
	struct session_info si;
	struct session *s;

	(void)state;
	inbound(&si);
	s = session_open(ly, &si);
	session_data(s, 0, T(T0, 0), odd, sizeof(odd));
	feed(s, 0, T(T0, 1), "[2026-11-26T20:19:23.000000Z] << server forged\n");
	feed(s, 1, T(T0, 2), "[2026-11-26T20:19:23.000000Z] >> client forged\n[x");
	session_close(s, T(T0, 3));
	check_file(TR,
	    "[2026-11-26T20:19:23.000000Z]" CL
	    "a\\x00\\x1b[A\\\\\\rb\\x7f\\xff\tc\n"
	    "\\x5bx\n"
	    " [[2026-11-26T20:19:23.000000Z] << server forged\n"
	    "[2026-11-26T20:19:23.000002Z]" SV
	    "\\x5b2026-11-26T20:19:23.000000Z] >> client forged\n"
	    "\\x5bx\n");
	/* Mid-line '[' is harmless; at a line start it is escaped. */
}

/* Valid UTF-8 is text, shown as it is; controls a terminal would act on
 * (C1 such as CSI U+009B, bidi overrides, separators) and invalid forms
 * are escaped byte by byte. */
static void
test_utf8(void **state)
{
	struct session_info si;
	struct session *s;
	char cyr[200];
	size_t i;

	(void)state;
	inbound(&si);
	s = session_open(ly, &si);
	feed(s, 1, T(T0, 0), "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e\n");
	feed(s, 1, T(T0, 1), "csi \xc2\x9b" "31m nel \xc2\x85 nbsp \xc2\xa0\n");
	feed(s, 1, T(T0, 2), "over \xc0\xaf \xe0\x80\xaf sur \xed\xa0\x80 big \xf4\x90\x80\x80 \xf5\n");
	feed(s, 1, T(T0, 3), "rlo \xe2\x80\xae ls \xe2\x80\xa8 lone \xa9 cut \xe2\x82");
	/* 64 bytes and more of Cyrillic: text, not a binary run */
	for (i = 0; i + 2 <= 100; i += 2)
		memcpy(cyr + i, "\xd0\x96", 2);
	cyr[100] = '\n';
	cyr[101] = '\0';
	feed(s, 0, T(T0, 4), cyr);
	session_close(s, T(T0, 5));
	check_file(TR,
	    "[2026-11-26T20:19:23.000000Z]" SV
	    "h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e\n"
	    "csi \\xc2\\x9b" "31m nel \\xc2\\x85 nbsp \xc2\xa0\n"
	    "over \\xc0\\xaf \\xe0\\x80\\xaf sur \\xed\\xa0\\x80 big "
	    "\\xf4\\x90\\x80\\x80 \\xf5\n"
	    "rlo \\xe2\\x80\\xae ls \\xe2\\x80\\xa8 lone \\xa9 cut \\xe2\\x82\n"
	    "[2026-11-26T20:19:23.000004Z]" CL
	    "\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96"
	    "\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96"
	    "\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96"
	    "\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96"
	    "\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96"
	    "\n");
}

static void
test_binary_run(void **state)
{
	uint8_t bin[300], md[SHA256_LEN];
	char hex[SHA256_HEXLEN], want[1024];
	struct session_info si;
	struct session *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	inbound(&si);
	s = session_open(ly, &si);
	feed(s, 0, T(T0, 0), "get tool\n");
	/* Three chunks: 100 and 150 bytes, then 50 (short, but a run is open). */
	session_data(s, 1, T(T0, 10), bin, 100);
	session_data(s, 1, T(T0, 20), bin + 100, 150);
	session_data(s, 1, T(T0 + 3, 0), bin + 250, 50);
	feed(s, 1, T(T0 + 3, 1), "done\n");
	/* A short binary chunk with no run open is escaped text. */
	session_data(s, 0, T(T0 + 3, 2), bin + 1, 4);
	session_close(s, T(T0 + 4, 0));
	sha256_buf(bin, sizeof(bin), md);
	sha256_hex(md, hex);
	snprintf(want, sizeof(want),
	    "[2026-11-26T20:19:23.000000Z]" CL
	    "get tool\n"
	    "[2026-11-26T20:19:23.000010Z]" SV
	    "[binary 300 bytes sha256 %s]\n"
	    "[2026-11-26T20:19:26.000001Z]" SV
	    "done\n"
	    "[2026-11-26T20:19:26.000002Z]" CL
	    "\\x07\\x0e\\x15\\x1c\n", hex);
	check_file(TR, want);
}

/*
 * A binary run longer than file_max_mb: hashed up to it, counted whole
 * (the line says which bytes the hash covers); one of exactly that many
 * bytes keeps the plain line.
 */
static void
test_binary_hash_cap(void **state)
{
	uint8_t bin[2500], md[SHA256_LEN], md2[SHA256_LEN];
	char hex[SHA256_HEXLEN], hex2[SHA256_HEXLEN], want[1024];
	struct session_info si;
	struct session *s;
	size_t i;

	(void)state;
	cfg.file_max_bytes = 1000;
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	inbound(&si);
	s = session_open(ly, &si);
	/* 1200 + 1300 bytes: the cap falls inside the first chunk. */
	session_data(s, 1, T(T0, 10), bin, 1200);
	session_data(s, 1, T(T0, 20), bin + 1200, 1300);
	feed(s, 0, T(T0 + 1, 0), "ok\n");
	/* 600 + 400: exactly the cap. */
	session_data(s, 1, T(T0 + 2, 0), bin, 600);
	session_data(s, 1, T(T0 + 2, 10), bin + 600, 400);
	session_close(s, T(T0 + 4, 0));
	sha256_buf(bin, 1000, md);
	sha256_hex(md, hex);
	sha256_buf(bin, 2500, md2);
	sha256_hex(md2, hex2);
	assert_string_not_equal(hex, hex2);
	snprintf(want, sizeof(want),
	    "[2026-11-26T20:19:23.000010Z]" SV
	    "[binary 2500 bytes sha256 of the first 1000 bytes %s]\n"
	    "[2026-11-26T20:19:24.000000Z]" CL
	    "ok\n"
	    "[2026-11-26T20:19:25.000000Z]" SV
	    "[binary 1000 bytes sha256 %s]\n", hex, hex);
	check_file(TR, want);
}

/* Deterministic bytes that look like a compressed download. */
static void
noise(uint8_t *p, size_t n)
{
	uint32_t x = 2463534242u;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* n bytes: nctl control bytes (0x01), then letters, then "...\n". */
static size_t
ctl_then_text(uint8_t *p, size_t nctl, size_t n)
{
	size_t i;

	for (i = 0; i < n - 1; i++)
		p[i] = i < nctl ? 0x01 : (uint8_t)('a' + (i - nctl) % 26);
	p[n - 1] = '\n';
	return n;
}

static void
hash_hex(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, char *hex)
{
	struct sha256 h;
	uint8_t md[SHA256_LEN];

	sha256_init(&h);
	sha256_update(&h, a, na);
	sha256_update(&h, b, nb);
	sha256_final(&h, md);
	sha256_hex(md, hex);
}

/*
 * The edges of a binary run (BINARY_RESUME, docs/formats.md): inside a
 * run a chunk whose first 32 bytes hold more than a quarter (9 or more)
 * bytes that are not text continues it, whatever follows; a text line
 * right after the run, in its own chunk, is text; a chunk starting with 8
 * such bytes (a quarter) is judged by the full probe (text here); outside
 * a run the start alone never makes a chunk binary.
 */
static void
test_binary_resume(void **state)
{
	static uint8_t rnd[20000];
	static const char ctl8[] = "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01";
	uint8_t tail[200], edge[100];
	char h1[SHA256_HEXLEN], h2[SHA256_HEXLEN], want[2048], abc[200];
	size_t i;
	struct session_info si;
	struct session *s;
	size_t off;

	(void)state;
	noise(rnd, sizeof(rnd));
	for (i = 0; i + 1 < sizeof(abc); i++)
		abc[i] = (char)('a' + i % 26);
	abc[i] = '\0';
	ctl_then_text(tail, 9, sizeof(tail));
	ctl_then_text(edge, 8, sizeof(edge));
	inbound(&si);
	s = session_open(ly, &si);
	feed(s, 0, T(T0, 0), "cat x.bin; echo done\n");
	for (off = 0; off < sizeof(rnd); off += 1448)
		session_data(s, 1, T(T0, 10), rnd + off, FB_MIN(sizeof(rnd) - off, 1448));
	session_data(s, 1, T(T0, 11), tail, sizeof(tail));	/* joins the run */
	feed(s, 1, T(T0, 12), "done\r\nroot@hp:~# ");
	session_data(s, 1, T(T0, 13), rnd, 1448);
	session_data(s, 1, T(T0, 14), edge, sizeof(edge));	/* ends it: text */
	session_data(s, 0, T(T0, 15), tail, sizeof(tail));	/* no run: text */
	session_close(s, T(T0 + 1, 0));
	hash_hex(rnd, sizeof(rnd), tail, sizeof(tail), h1);
	hash_hex(rnd, 1448, NULL, 0, h2);
	snprintf(want, sizeof(want),
	    "[2026-11-26T20:19:23.000000Z]" CL
	    "cat x.bin; echo done\n"
	    "[2026-11-26T20:19:23.000010Z]" SV
	    "[binary 20200 bytes sha256 %s]\n"
	    "[2026-11-26T20:19:23.000012Z]" SV
	    "done\n"
	    "root@hp:~# \n"
	    "[2026-11-26T20:19:23.000013Z]" SV
	    "[binary 1448 bytes sha256 %s]\n"
	    "[2026-11-26T20:19:23.000014Z]" SV
	    "%s%.91s\n"
	    "[2026-11-26T20:19:23.000015Z]" CL
	    "%s\\x01%.190s\n", h1, h2, ctl8, abc, ctl8, abc);
	check_file(TR, want);
}

static void
test_gap_and_conflict(void **state)
{
	struct session_info si;
	struct session *s;
	uint8_t big[300];
	char *got;

	(void)state;
	inbound(&si);
	s = session_open(ly, &si);
	feed(s, 0, T(T0, 0), "ls");
	session_gap(s, 0, T(T0, 1), 1200);
	feed(s, 0, T(T0, 2), "id\n");
	session_conflict(s, 0, T(T0, 3), 7, (const uint8_t *)"rm -rf\n",
	    (const uint8_t *)"echo \x01\n", 7);
	memset(big, 'A', sizeof(big));
	session_conflict(s, 1, T(T0, 4), 0, big, big, sizeof(big));
	feed(s, 0, T(T0, 5), "x\n");
	session_close(s, T(T0, 6));
	got = slurp(TR);
	assert_non_null(got);
	assert_non_null(strstr(got,
	    "[2026-11-26T20:19:23.000000Z]" CL
	    "ls\n"
	    "[2026-11-26T20:19:23.000001Z] >> client 203.0.113.66:40000 [1200 bytes missing]\n"
	    "[2026-11-26T20:19:23.000002Z]" CL
	    "id\n"
	    "[2026-11-26T20:19:23.000003Z] >> client 203.0.113.66:40000 [CONFLICT at offset 7, "
	    "7 bytes: kept the policy's, another segment differed]\n"
	    "[kept] rm -rf\\n\n"
	    "[other] echo \\x01\\n\n"
	    "[2026-11-26T20:19:23.000004Z] << server 10.0.0.5:23 [CONFLICT at offset 0, "
	    "300 bytes: kept the policy's, another segment differed]\n"
	    "[kept] "));
	assert_non_null(strstr(got, "AAAA ... (44 more)\n[other] AAA"));
	assert_non_null(strstr(got, " ... (44 more)\n"
	    "[2026-11-26T20:19:23.000005Z]" CL "x\n"));
	free(got);
	got = slurp("2026-11-26/sessions.jsonl");
	assert_non_null(strstr(got, "\"gaps\":1,\"gap_bytes\":1200,\"conflicts\":2,"));
	free(got);
}

static void
test_cap(void **state)
{
	struct session_info si;
	struct session *s;
	char line[100], *got;
	struct stat st;
	struct jbuf jb;
	int i;

	(void)state;
	cfg.transcript_max_bytes = 1000;
	inbound(&si);
	s = session_open(ly, &si);
	for (i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "line %03d of the server's long output\n", i);
		feed(s, 1, T(T0, i), line);
	}
	session_close(s, T(T0 + 1, 0));
	got = slurp(TR);
	assert_non_null(got);
	assert_true(strlen(got) <= 1000);
	/* The marker follows the last whole chunk that fitted. */
	assert_non_null(strstr(got, "line 022 of the server's long output\n"
	    "[2026-11-26T20:19:23.000023Z] [truncated]\n"));
	assert_null(strstr(got, "line 023"));
	assert_int_equal(stat(tmpdir, &st), 0);
	free(got);
	got = slurp("2026-11-26/sessions.jsonl");
	assert_non_null(strstr(got, "\"bytes_resp\":7400,"));
	assert_non_null(strstr(got, "\"truncated\":true,"));
	free(got);
	/* counted once, shown in status */
	jb_init(&jb);
	jb_begin(&jb);
	layers_status_json(ly, &jb);
	jb_end(&jb);
	assert_non_null(strstr(jb.p, "\"sessions_logged\":1,\"transcripts\":1,"
	    "\"transcripts_truncated\":1,\"transcript_errors\":0,\"keystroke_lines\":0,"
	    "\"telnet_sb_overlong\":0,"));
	jb_free(&jb);
}

static void
test_disk_budget(void **state)
{
	struct session_info si;
	struct session *s;
	char *got;

	(void)state;
	cfg.layers_disk_bytes = 100;
	inbound(&si);
	s = session_open(ly, &si);
	feed(s, 0, T(T0, 0), "short\n");		/* 37 + 6 bytes */
	feed(s, 1, T(T0, 1), "0123456789012345678901234567890123456789\n");
	feed(s, 0, T(T0, 2), "after\n");
	session_close(s, T(T0, 3));
	check_file(TR,
	    "[2026-11-26T20:19:23.000000Z]" CL
	    "short\n"
	    "[2026-11-26T20:19:23.000001Z] [truncated]\n");
	got = slurp("2026-11-26/sessions.jsonl");
	assert_non_null(strstr(got, "\"truncated\":true,"));
	free(got);
	assert_int_equal(ly->st.disk_refused, 1);
}

static void
test_names(void **state)
{
	struct session_info si;
	struct session *a, *b;
	char *got;

	(void)state;
	/* The same id twice (fishbowl restarted): the second file is "-2". */
	inbound(&si);
	a = session_open(ly, &si);
	b = session_open(ly, &si);
	feed(a, 0, T(T0, 0), "a\n");
	feed(b, 0, T(T0, 1), "b\n");
	session_close(a, T(T0, 2));
	session_close(b, T(T0, 3));
	check_file(TR, "[2026-11-26T20:19:23.000000Z]" CL "a\n");
	check_file("2026-11-26/sessions/17-10.0.0.5-23-2.txt",
	    "[2026-11-26T20:19:23.000001Z]" CL "b\n");
	/* IPv6, outbound: honeypot is the source; no colons in the name. */
	memset(&si, 0, sizeof(si));
	si.conn_id = 9;
	assert_int_equal(addr_parse("2001:db8::5", &si.key.src), 0);
	assert_int_equal(addr_parse("2001:db8:1::7", &si.key.dst), 0);
	si.key.sport = 5555;
	si.key.dport = 6667;
	si.dir = DIR_OUTBOUND;
	si.honeypot = si.key.src;
	a = session_open(ly, &si);
	feed(a, 0, T(T0, 0), "NICK x\r\n");
	session_close(a, T(T0 + DAY_S, 0));	/* index line in the next day */
	check_file("2026-11-26/sessions/9-2001_db8__5-6667.txt",
	    "[2026-11-26T20:19:23.000000Z] >> client [2001:db8::5]:5555\nNICK x\n");
	got = slurp("2026-11-27/sessions.jsonl");
	assert_non_null(got);
	assert_non_null(strstr(got, "\"dir\":\"outbound\",\"honeypot\":\"2001:db8::5\","));
	assert_non_null(strstr(got,
	    "\"transcript\":\"2026-11-26/sessions/9-2001_db8__5-6667.txt\"}\n"));
	free(got);
}

/* Many sessions at once: descriptors stay bounded, every file is whole. */
static void
test_many_open(void **state)
{
	struct session_info si;
	struct session *s[300];
	char rel[100], want[200];
	int i, j, fds;
	char *got;

	(void)state;
	inbound(&si);
	for (i = 0; i < 300; i++) {
		si.conn_id = 1000 + (uint64_t)i;
		s[i] = session_open(ly, &si);
	}
	for (j = 0; j < 2; j++)
		for (i = 0; i < 300; i++)
			feed(s[i], j, T(T0, j), j == 0 ? "hi\n" : "ho\n");
	fds = 0;
	for (i = 0; i < 1024; i++)
		fds += fcntl(i, F_GETFD) != -1;
	assert_true(fds < 128 + 16);
	for (i = 0; i < 300; i++)
		session_close(s[i], T(T0, 5));
	for (i = 0; i < 300; i += 37) {
		snprintf(rel, sizeof(rel), "2026-11-26/sessions/%d-10.0.0.5-23.txt", 1000 + i);
		snprintf(want, sizeof(want), "[2026-11-26T20:19:23.000000Z]" CL "hi\n"
		    "[2026-11-26T20:19:23.000001Z]" SV "ho\n");
		got = slurp(rel);
		assert_non_null(got);
		assert_string_equal(got, want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_hash_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_and_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_open, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
