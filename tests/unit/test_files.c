/*
 * Unit tests of files: the carver's exact files and files.jsonl records;
 * names by SHA-256, one file for the same content twice, the size cap, the
 * day's disk budget, a gap, a stop before any byte, MIME types by content.
 */
#include "layertest.h"
#include "files.h"

static struct carve_meta
meta(const char *name, bool upload)
{
	struct carve_meta m;

	memset(&m, 0, sizeof(m));
	m.proto = "http";
	m.conn_id = 7;
	m.upload = upload;
	m.name = name;
	lt_v4(&m.src, 203, 0, 113, 80);
	lt_v4(&m.dst, 10, 0, 0, 5);
	m.sport = 80;
	m.dport = 40000;
	lt_v4(&m.honeypot, 10, 0, 0, 5);
	m.announced = -1;
	return m;
}

#define SH	"#!/bin/sh\necho owned\n"
#define SH_SHA	"12038f3fa403fffe8fee574d5683733065d7cacd093e95d4e8cccae867b9104c"
#define REC(extra) \
	"{\"ts\":\"2026-11-26T20:19:23.000000Z\",\"end\":\"2026-11-26T20:19:24.000000Z\"," \
	"\"conn\":7,\"proto\":\"http\",\"direction\":\"download\",\"honeypot\":\"10.0.0.5\"," \
	"\"src\":\"203.0.113.80\",\"sport\":80,\"dst\":\"10.0.0.5\",\"dport\":40000," extra "}\n"

static void
test_complete_and_duplicate(void **state)
{
	struct carve_meta m = meta("http://x/a.sh", false);
	struct carve *cv;
	char sha[SHA256_HEXLEN];
	struct carver_stats st;

	(void)state;
	cv = carve_begin(ly, T(T0, 0), &m);
	assert_non_null(cv);
	carve_write(cv, (const uint8_t *)SH, 5);
	carve_write(cv, (const uint8_t *)SH + 5, strlen(SH) - 5);
	assert_true(carve_end(cv, T(T0 + 1, 0), CARVE_COMPLETE, sha));
	assert_string_equal(sha, SH_SHA);
	lt_check_carved(SH_SHA, SH, strlen(SH));
	/* The same bytes again, another name: one file, two records. */
	m.name = "http://y/b.sh";
	m.announced = 21;
	cv = carve_begin(ly, T(T0, 0), &m);
	carve_write(cv, (const uint8_t *)SH, strlen(SH));
	assert_true(carve_end(cv, T(T0 + 1, 0), CARVE_COMPLETE, sha));
	assert_int_equal(lt_count_files(), 1);
	lt_check_file(DAYDIR "/files.jsonl",
	    REC("\"name\":\"http://x/a.sh\",\"size\":21,\"sha256\":\"" SH_SHA "\","
	    "\"mime\":\"text/x-shellscript\",\"complete\":true")
	    REC("\"name\":\"http://y/b.sh\",\"size\":21,\"announced\":21,\"sha256\":\""
	    SH_SHA "\",\"mime\":\"text/x-shellscript\",\"complete\":true"));
	carver_stats(ly->carver, &st);
	assert_int_equal(st.files, 2);
	assert_int_equal(st.complete, 2);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.bytes, 42);
	/* The second copy's type came from the first, not from libmagic. */
	assert_int_equal(st.mime_cached, 1);
}

static void
test_cap(void **state)
{
	struct carve_meta m = meta(NULL, true);
	static uint8_t buf[300000];
	struct carve *cv;
	char sha[SHA256_HEXLEN], want[600];
	struct carver_stats st;
	int i;

	(void)state;
	memset(buf, 'A', sizeof(buf));
	cv = carve_begin(ly, T(T0, 0), &m);
	for (i = 0; i < 4; i++)		/* 1.2 MB offered, 1 MiB kept */
		carve_write(cv, buf, sizeof(buf));
	assert_int_equal(carve_size(cv), 1 << 20);
	assert_true(carve_stopped(cv));
	assert_true(carve_end(cv, T(T0 + 1, 0), CARVE_COMPLETE, sha));
	{
		uint8_t *a = malloc(1 << 20);

		memset(a, 'A', 1 << 20);
		assert_string_equal(sha, lt_hex(a, 1 << 20));
		lt_check_carved(sha, a, 1 << 20);
		free(a);
	}
	snprintf(want, sizeof(want),
	    "{\"ts\":\"2026-11-26T20:19:23.000000Z\",\"end\":\"2026-11-26T20:19:24.000000Z\","
	    "\"conn\":7,\"proto\":\"http\",\"direction\":\"upload\",\"honeypot\":\"10.0.0.5\","
	    "\"src\":\"203.0.113.80\",\"sport\":80,\"dst\":\"10.0.0.5\",\"dport\":40000,"
	    "\"name\":null,\"size\":1048576,\"sha256\":\"%s\",\"mime\":\"text/plain\","
	    "\"complete\":false,\"truncated\":\"size-cap\"}\n", sha);
	lt_check_file(DAYDIR "/files.jsonl", want);
	carver_stats(ly->carver, &st);
	assert_int_equal(st.truncated, 1);
}

static void
test_disk_budget(void **state)
{
	struct carve_meta m = meta("f", false);
	struct carve *cv;
	char sha[SHA256_HEXLEN];
	char *rec;

	(void)state;
	cfg.layers_disk_bytes = 10;
	cv = carve_begin(ly, T(T0, 0), &m);
	carve_write(cv, (const uint8_t *)"0123456789", 10);	/* all of the budget */
	carve_write(cv, (const uint8_t *)"abc", 3);		/* refused */
	carve_write(cv, (const uint8_t *)"d", 1);		/* stopped already */
	assert_true(carve_end(cv, T(T0 + 1, 0), CARVE_COMPLETE, sha));
	lt_check_carved(sha, "0123456789", 10);
	assert_string_equal(sha, lt_hex("0123456789", 10));
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(strstr(rec, "\"size\":10,"));
	assert_non_null(strstr(rec, "\"complete\":false,\"truncated\":\"disk-budget\"}\n"));
	free(rec);
	assert_int_equal(ly->st.disk_refused, 1);
	/* The refusal raised the budget alert. */
	rec = lt_slurp(DAYDIR "/alerts.jsonl", NULL);
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"type\":\"layer-budget\""));
	free(rec);
	cfg.layers_disk_bytes = 1 << 24;
}

static void
test_gap_and_empty(void **state)
{
	struct carve_meta m = meta("g", false);
	struct carve *cv;
	char sha[SHA256_HEXLEN];
	char *rec;

	(void)state;
	cv = carve_begin(ly, T(T0, 0), &m);
	carve_write(cv, (const uint8_t *)"GIF89a", 6);
	carve_stop(cv, CARVE_GAP);
	carve_write(cv, (const uint8_t *)"more", 4);
	assert_true(carve_end(cv, T(T0 + 1, 0), CARVE_EARLY_END, sha));
	lt_check_carved(sha, "GIF89a", 6);
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(strstr(rec, "\"size\":6,"));
	assert_non_null(strstr(rec, "\"mime\":\"image/gif\",\"complete\":false,"
	    "\"truncated\":\"gap\"}\n"));
	free(rec);
	/* Nothing written: no file, no record. */
	cv = carve_begin(ly, T(T0, 0), &m);
	carve_stop(cv, CARVE_GAP);
	assert_false(carve_end(cv, T(T0 + 1, 0), CARVE_COMPLETE, sha));
	assert_string_equal(sha, "");
	assert_int_equal(lt_count_files(), 1);
	assert_false(carve_end(NULL, T(T0, 0), CARVE_COMPLETE, sha));
}

static void
test_mime_and_escaping(void **state)
{
	static const uint8_t elf[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 2, 0, 0x3e, 0, 1, 0, 0, 0 };
	struct carve_meta m = meta("a\"b\n\xff", false);
	struct carve *cv;
	char sha[SHA256_HEXLEN];
	char *rec;

	(void)state;
	cv = carve_begin(ly, T(T0, 0), &m);
	carve_write(cv, elf, sizeof(elf));
	assert_true(carve_end(cv, T(T0 + 1, 0), CARVE_COMPLETE, sha));
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(strstr(rec, "\"name\":\"a\\\"b\\n\\u00ff\","));
	assert_non_null(strstr(rec, "\"mime\":\"application/x-executable\""));
	free(rec);
}

/*
 * Bytes past the head are written 16 KB at a time, from at most 4 MB of
 * buffers in all: 300 carves at once (the last ones write unbuffered), each
 * 40 KB in TCP-sized chunks and one chunk bigger than a buffer; every file
 * holds exactly its bytes and is named by their digest.
 */
#define NCARVE	300
#define CSIZE	(40 * 1024)
static uint8_t
carve_byte(int c, size_t k)
{
	if (k < 2)		/* the carve's number: every file differs */
		return (uint8_t)(k == 0 ? c >> 8 : c);
	return (uint8_t)(c * 31 + k * 7 + k / 251);
}

static void
test_buffered_writes(void **state)
{
	static struct carve *cv[NCARVE];
	static uint8_t want[CSIZE];
	struct carve_meta m = meta(NULL, false);
	char sha[SHA256_HEXLEN];
	uint8_t chunk[20000];
	size_t off, n, k;
	int c;

	(void)state;
	for (c = 0; c < NCARVE; c++) {
		m.conn_id = 100 + (uint64_t)c;
		cv[c] = carve_begin(ly, T(T0, 0), &m);
		assert_non_null(cv[c]);
	}
	for (off = 0; off < CSIZE; off += n) {
		/* one chunk larger than a write buffer, the rest TCP-sized */
		n = FB_MIN(off == 8 * 1448 ? sizeof(chunk) : 1448, CSIZE - off);
		for (c = 0; c < NCARVE; c++) {
			for (k = 0; k < n; k++)
				chunk[k] = carve_byte(c, off + k);
			carve_write(cv[c], chunk, n);
		}
	}
	for (c = 0; c < NCARVE; c++) {
		for (k = 0; k < CSIZE; k++)
			want[k] = carve_byte(c, k);
		assert_true(carve_end(cv[c], T(T0 + 1, 0), CARVE_COMPLETE, sha));
		assert_string_equal(sha, lt_hex(want, CSIZE));
		lt_check_carved(sha, want, CSIZE);
	}
	assert_int_equal(lt_count_files(), NCARVE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_complete_and_duplicate, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_cap, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_disk_budget, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_gap_and_empty, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_mime_and_escaping, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_buffered_writes, lt_setup, lt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
