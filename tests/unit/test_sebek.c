/*
 * Unit tests of sebek: header decoding (exact fields, short, version,
 * length), sbk_ks_log's key names, and the collector on real decoded
 * frames: exact sebek.jsonl lines, keystroke lines per process, MAC
 * pinning with its alert, non-honeypot sources, counter gaps, clock skew,
 * the honeypot table bound, VLAN tags and IP options.
 */
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "config.h"
#include "decode.h"
#include "sebek.h"

#define T0	(1795724363LL * FB_NS_PER_SEC)	/* 2026-11-26T20:19:23Z */

static char tmpdir[256];
static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 2, 0, 0, 0, 0, 0xb };

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
	log_init("test_sebek", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbsbXXXXXX");
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
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A v3 record: header + data. */
static size_t
record(uint8_t *out, uint16_t type, uint32_t counter, uint32_t sec, uint32_t pid,
    uint32_t fd, uint32_t inode, const char *com, const void *data, size_t n)
{
	memset(out, 0, 56);
	put32(out, 0xd0d0d0d0);
	out[4] = 0, out[5] = 3;
	out[6] = 0, out[7] = (uint8_t)type;
	put32(out + 8, counter);
	put32(out + 12, sec);
	put32(out + 16, 250000);
	put32(out + 20, 1);		/* ppid */
	put32(out + 24, pid);
	put32(out + 28, 0);		/* uid */
	put32(out + 32, fd);
	put32(out + 36, inode);
	memcpy(out + 40, com, strnlen(com, 12));
	put32(out + 52, (uint32_t)n);
	memcpy(out + 56, data, n);
	return 56 + n;
}

/* Ethernet (optional VLAN tag) + IPv4 (optional 4 bytes of options) + UDP. */
static size_t
frame(uint8_t *f, const uint8_t mac[6], const char *src, bool vlan, bool opts,
    const uint8_t *pl, size_t n)
{
	struct fb_addr a;
	size_t o = 12, ihl = opts ? 24 : 20;

	memset(f, 0, 14 + 4 + 24 + 8);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	if (vlan) {
		f[o] = 0x81, f[o + 1] = 0x00, f[o + 2] = 0, f[o + 3] = 7;
		o += 4;
	}
	f[o] = 0x08, f[o + 1] = 0x00;
	o += 2;
	f[o] = (uint8_t)(0x40 | ihl / 4);
	f[o + 2] = (uint8_t)((ihl + 8 + n) >> 8), f[o + 3] = (uint8_t)(ihl + 8 + n);
	f[o + 8] = 64, f[o + 9] = 17;
	assert_int_equal(addr_parse(src, &a), 0);
	memcpy(f + o + 12, a.b + 12, 4);
	f[o + 16] = 10, f[o + 19] = 253;
	if (opts)
		f[o + 20] = 1, f[o + 21] = 1, f[o + 22] = 1, f[o + 23] = 0;	/* NOPs, EOL */
	o += ihl;
	f[o] = 0x04, f[o + 1] = 0x4d, f[o + 2] = 0x04, f[o + 3] = 0x4d;	/* 1101 */
	f[o + 4] = (uint8_t)((8 + n) >> 8), f[o + 5] = (uint8_t)(8 + n);
	memcpy(f + o + 8, pl, n);
	return o + 8 + n;
}

static void
feed(struct sebek *s, fb_ns ts, const uint8_t mac[6], const char *src, bool vlan,
    bool opts, const uint8_t *rec, size_t n)
{
	uint8_t f[2048];
	struct fb_packet p;
	size_t len = frame(f, mac, src, vlan, opts, rec, n);

	assert_int_equal(decode_frame(FB_LINK_ETHERNET, f, (uint32_t)len, (uint32_t)len, &p), 0);
	assert_int_equal(p.dport, 1101);
	sebek_packet(s, &p, ts);
}

static void
test_decode(void **state)
{
	uint8_t r[256];
	struct sebek_hdr h;
	const uint8_t *d;
	size_t n;

	(void)state;
	n = record(r, SEBEK_READ, 7, 1795724363, 4242, 0, 99, "bash", "id\r", 3);
	assert_int_equal(sebek_decode(r, n, &h, &d), SEBEK_OK);
	assert_int_equal(h.magic, 0xd0d0d0d0);
	assert_int_equal(h.version, 3);
	assert_int_equal(h.type, 0);
	assert_int_equal(h.counter, 7);
	assert_int_equal(h.time_sec, 1795724363);
	assert_int_equal(h.time_usec, 250000);
	assert_int_equal(h.ppid, 1);
	assert_int_equal(h.pid, 4242);
	assert_int_equal(h.fd, 0);
	assert_int_equal(h.inode, 99);
	assert_string_equal(h.com, "bash");
	assert_int_equal(h.length, 3);
	assert_ptr_equal(d, r + 56);

	assert_int_equal(sebek_decode(r, 55, &h, &d), SEBEK_SHORT);
	assert_int_equal(sebek_decode(r, n - 1, &h, &d), SEBEK_LENGTH_BAD);
	assert_int_equal(sebek_decode(r, n + 1, &h, &d), SEBEK_LENGTH_BAD);
	r[5] = 2;
	assert_int_equal(sebek_decode(r, n, &h, &d), SEBEK_VERSION_BAD);
	assert_null(d);
	/* A 12-byte command name with no NUL stays 12 bytes. */
	n = record(r, SEBEK_WRITE, 1, 1, 1, 1, 1, "abcdefghijklmnop", "", 0);
	assert_int_equal(sebek_decode(r, n, &h, &d), SEBEK_OK);
	assert_string_equal(h.com, "abcdefghijkl");
	/* Lengths near 2^32 do not wrap. */
	put32(r + 52, 0xffffffffu);
	assert_int_equal(sebek_decode(r, n, &h, &d), SEBEK_LENGTH_BAD);
	assert_string_equal(sebek_type_name(3), "open");
	assert_string_equal(sebek_type_name(9), "unknown");
}

static void
test_render(void **state)
{
	static const uint8_t k[] = "ls\033[A\033[B\033[C\033[D\033[3~\033[5~\033[6~\177\033x\001\t.";
	char out[256];

	(void)state;
	assert_int_equal(sebek_keys_render(k, sizeof(k) - 1, out, sizeof(out)),
	    strlen("ls[U-ARROW][D-ARROW][R-ARROW][L-ARROW][DEL][PAGE-U][PAGE-D][BS][ESC]x."));
	assert_string_equal(out, "ls[U-ARROW][D-ARROW][R-ARROW][L-ARROW][DEL][PAGE-U][PAGE-D][BS][ESC]x.");
	/* Cut, never overrun: a name that does not fit is left out whole. */
	assert_int_equal(sebek_keys_render(k, sizeof(k) - 1, out, 8), 2);
	assert_string_equal(out, "ls");
}

static int
load(struct fb_config *c, const char *text)
{
	char err[256];

	return config_load_string("t.conf", text, c, err, sizeof(err));
}

static char *
slurp(const char *name)
{
	char path[512];
	static char buf[1 << 20];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/2026-11-26/%s", tmpdir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_collector(void **state)
{
	struct fb_config cfg;
	struct event_log *ev;
	struct sebek *s;
	struct sebek_stats st;
	uint8_t r[256];
	size_t n;
	char *out;
	const char *first =
	    "{\"ts\":\"2026-11-26T20:19:23.000000Z\",\"kind\":\"record\",\"honeypot\":\"10.0.0.5\","
	    "\"mac\":\"02:00:00:00:00:0a\",\"magic\":3503345872,\"counter\":1,"
	    "\"time\":\"2026-11-26T20:19:25.250000Z\",\"skew_ms\":2250,\"ppid\":1,\"pid\":100,"
	    "\"uid\":0,\"fd\":0,\"inode\":55,\"com\":\"bash\",\"type\":\"read\",\"length\":1,"
	    "\"data\":\"l\"}\n";

	(void)state;
	assert_int_equal(load(&cfg, "[honeynet]\nnetworks = 10.0.0.0/24\n"), 0);
	assert_non_null(ev = event_log_open(tmpdir, NULL));
	s = sebek_new(&cfg, ev, NULL);

	/* pid 100 types "ls\r" in three reads; pid 200 types "id\n" between. */
	n = record(r, SEBEK_READ, 1, 1795724365, 100, 0, 55, "bash", "l", 1);
	feed(s, T0, MAC_A, "10.0.0.5", false, false, r, n);
	n = record(r, SEBEK_READ, 2, 1795724365, 200, 0, 56, "sh", "id\n", 3);
	feed(s, T0 + 1, MAC_A, "10.0.0.5", true, false, r, n);
	n = record(r, SEBEK_READ, 3, 1795724365, 100, 0, 55, "bash", "s\177s", 3);
	feed(s, T0 + 2, MAC_A, "10.0.0.5", false, true, r, n);
	/* Counter jumps 3 -> 6: two records lost. */
	n = record(r, SEBEK_READ, 6, 1795724365, 100, 0, 55, "bash", "\r", 1);
	feed(s, T0 + 3, MAC_A, "10.0.0.5", true, true, r, n);
	/* A write record is logged but is not a keystroke. */
	n = record(r, SEBEK_WRITE, 7, 1795724365, 100, 1, 55, "bash", "out\n", 4);
	feed(s, T0 + 4, MAC_A, "10.0.0.5", false, false, r, n);
	/* A read longer than 100 bytes is not a keystroke (sbk_ks_log). */
	{
		char big[101];

		memset(big, 'x', sizeof(big));
		big[100] = '\n';
		n = record(r, SEBEK_READ, 8, 1795724365, 100, 0, 55, "bash", big, 101);
		feed(s, T0 + 5, MAC_A, "10.0.0.5", false, false, r, n);
	}
	/* Same IP, another MAC: forged, rejected, alerted once. */
	n = record(r, SEBEK_READ, 9, 1795724365, 100, 0, 55, "bash", "rm\n", 3);
	feed(s, T0 + 6, MAC_B, "10.0.0.5", false, false, r, n);
	feed(s, T0 + 7, MAC_B, "10.0.0.5", false, false, r, n);
	/* Not in networks. */
	feed(s, T0 + 8, MAC_B, "192.168.1.9", false, false, r, n);
	/* Socket record. */
	{
		static const uint8_t so[15] = { 192, 0, 2, 1, 0x1a, 0x0b, 10, 0, 0, 5,
		    0x9c, 0x40, 0, 3, 6 };

		n = record(r, SEBEK_SOCKET, 10, 1795724365, 100, 3, 77, "nc", so, 15);
		feed(s, T0 + 9, MAC_A, "10.0.0.5", false, false, r, n);
	}
	sebek_stats(s, &st);
	assert_int_equal(st.datagrams, 10);
	assert_int_equal(st.records, 7);
	assert_int_equal(st.mac_mismatch, 2);
	assert_int_equal(st.not_honeypot, 1);
	/* 3 -> 6, and 8 -> 10: the forged 9 was not the honeypot's. */
	assert_int_equal(st.lost, 3);
	assert_int_equal(st.lines, 2);
	assert_int_equal(st.table_full, 0);
	sebek_free(s);
	event_log_close(ev);

	assert_non_null(out = slurp("sebek.jsonl"));
	/* The first record, exactly; skew is honeypot time minus packet time. */
	assert_true(strncmp(out, first, strlen(first)) == 0);
	assert_non_null(strstr(out,
	    "\"kind\":\"line\",\"honeypot\":\"10.0.0.5\",\"time\":\"2026-11-26T20:19:25.250000Z\","
	    "\"ppid\":1,\"pid\":200,\"uid\":0,\"fd\":0,\"inode\":56,\"com\":\"sh\","
	    "\"line\":\"id\",\"keys\":\"id\"}\n"));
	assert_non_null(strstr(out, "\"line\":\"ls[BS]s\",\"keys\":\"ls\\u007fs\"}\n"));
	assert_non_null(strstr(out, "\"socket\":{\"dst\":\"192.0.2.1\",\"dst_port\":6667,"
	    "\"src\":\"10.0.0.5\",\"src_port\":40000,\"call\":3,\"proto\":6}"));
	assert_null(strstr(out, "rm\\n"));
	assert_non_null(out = slurp("alerts.jsonl"));
	assert_non_null(strstr(out, "\"type\":\"sebek-forged\""));
	assert_non_null(strstr(out, "from MAC 02:00:00:00:00:0b, first seen from 02:00:00:00:00:0a"));
	assert_null(strstr(strstr(out, "sebek-forged") + 1, "sebek-forged"));
	config_free(&cfg);
}

static void
test_table_bound(void **state)
{
	struct fb_config cfg;
	struct event_log *ev;
	struct sebek *s;
	struct sebek_stats st;
	struct jbuf jb;
	uint8_t r[256];
	size_t n;

	(void)state;
	assert_int_equal(load(&cfg, "[honeynet]\nnetworks = 10.0.0.0/16\n"
	    "[engine]\nmax_honeypots = 300\n"), 0);
	assert_non_null(ev = event_log_open(tmpdir, NULL));
	s = sebek_new(&cfg, ev, NULL);
	/* 1000 honeypots: far past the original server's 128. */
	for (int i = 0; i < 1000; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.0.%d.%d", i / 250, i % 250 + 1);
		n = record(r, SEBEK_OPEN, 1, 1795724363, 1, 3, 1, "cat", "/etc/passwd", 11);
		feed(s, T0, MAC_A, a, false, false, r, n);
	}
	/* A counter that goes back is a restart, not loss. */
	n = record(r, SEBEK_OPEN, 0, 1795724363, 1, 3, 1, "cat", "x", 1);
	feed(s, T0, MAC_A, "10.0.0.1", false, false, r, n);
	sebek_stats(s, &st);
	assert_int_equal(st.records, 301);
	assert_int_equal(st.table_full, 700);
	assert_int_equal(st.counter_resets, 1);
	assert_int_equal(st.lost, 0);
	jb_init(&jb);
	jb_begin(&jb);
	sebek_status_json(s, &jb);
	jb_end(&jb);
	assert_non_null(strstr(jb.p, "\"records\":301,"));
	assert_non_null(strstr(jb.p, "\"table_full\":700,"));
	assert_non_null(strstr(jb.p, "\"n_honeypots\":300,"));
	jb_free(&jb);
	sebek_free(s);
	event_log_close(ev);
	config_free(&cfg);
}

/* Partial lines are written when the process goes quiet, and at the end. */
static void
test_idle(void **state)
{
	struct fb_config cfg;
	struct event_log *ev;
	struct sebek *s;
	struct sebek_stats st;
	uint8_t r[256];
	size_t n;

	(void)state;
	assert_int_equal(load(&cfg, "[honeynet]\nnetworks = 10.0.0.0/24\nhoneypots = 10.0.0.5\n"), 0);
	assert_non_null(ev = event_log_open(tmpdir, NULL));
	s = sebek_new(&cfg, ev, NULL);
	n = record(r, SEBEK_READ, 1, 1795724363, 1, 0, 1, "sh", "unfinished", 10);
	feed(s, T0, MAC_A, "10.0.0.5", false, false, r, n);
	feed(s, T0, MAC_A, "10.0.0.6", false, false, r, n);	/* in networks, not a honeypot */
	sebek_tick(s, T0 + 10 * FB_NS_PER_SEC);
	sebek_stats(s, &st);
	assert_int_equal(st.lines, 0);
	assert_int_equal(st.not_honeypot, 1);
	sebek_tick(s, T0 + 601 * FB_NS_PER_SEC);
	sebek_stats(s, &st);
	assert_int_equal(st.lines, 1);
	n = record(r, SEBEK_READ, 2, 1795724363, 1, 0, 1, "sh", "more", 4);
	feed(s, T0 + 602 * FB_NS_PER_SEC, MAC_A, "10.0.0.5", false, false, r, n);
	sebek_free(s);
	event_log_close(ev);
	assert_non_null(strstr(slurp("sebek.jsonl"), "\"line\":\"more\""));
	config_free(&cfg);
}

/*
 * Partial lines flushed by sebek_tick and at the end come in the order the
 * processes first typed, whatever the table's (secret) seed: 300 processes
 * (pids chosen to share buckets under any one seed would be pointless: the
 * seed is secret), every second one quiet at the tick.
 */
static void
test_flush_order(void **state)
{
	struct fb_config cfg;
	struct event_log *ev;
	struct sebek *s;
	struct sebek_stats st;
	uint8_t r[256];
	char *out, *at, want[64];
	size_t n;

	(void)state;
	assert_int_equal(load(&cfg, "[honeynet]\nnetworks = 10.0.0.0/24\nhoneypots = 10.0.0.5\n"), 0);
	assert_non_null(ev = event_log_open(tmpdir, NULL));
	s = sebek_new(&cfg, ev, NULL);
	for (uint32_t i = 0; i < 300; i++) {
		char line[32];
		/* pids descending, so creation order is not pid order */
		uint32_t pid = 5000 - i * 7;

		snprintf(line, sizeof(line), "p%u", pid);
		n = record(r, SEBEK_READ, i + 1, 1795724363, pid, 0, 1, "sh", line, strlen(line));
		feed(s, T0 + (fb_ns)(i % 2) * 700 * FB_NS_PER_SEC, MAC_A, "10.0.0.5", false,
		    false, r, n);
	}
	/* the even ones typed at T0, quiet by now; the odd ones not */
	sebek_tick(s, T0 + 650 * FB_NS_PER_SEC);
	sebek_stats(s, &st);
	assert_int_equal(st.lines, 150);
	sebek_free(s);
	event_log_close(ev);
	assert_non_null(out = slurp("sebek.jsonl"));
	at = out;
	for (uint32_t round = 0; round < 2; round++)
		for (uint32_t i = round; i < 300; i += 2) {
			snprintf(want, sizeof(want), "\"line\":\"p%u\"", 5000 - i * 7);
			at = strstr(at, want);
			if (at == NULL)
				fail_msg("%s missing or out of order", want);
		}
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test_setup_teardown(test_flush_order, setup, teardown),
		cmocka_unit_test(test_render),
		cmocka_unit_test_setup_teardown(test_collector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
