/*
 * Unit tests of http: detection, exact http.jsonl records and carved
 * bytes for Content-Length, pipelined keep-alive, chunked bodies with odd
 * chunk sizes split at every offset, gzip and raw deflate, uploads, gaps
 * (in step afterwards), early close, a decompression bomb capped, header
 * overflow and bad chunk sizes.
 */
#include <zlib.h>

#include "layertest.h"
#include "files.h"
#include "http.h"

#define CONN	"\"conn\":9,\"honeypot\":\"10.0.0.5\",\"client\":\"10.0.0.5\"," \
		"\"cport\":40000,\"server\":\"203.0.113.80\",\"sport\":80,"

static void *
h_open(void)
{
	struct session_info si;
	void *h;

	lt_conn(&si, 9, 40000, 80);
	h = http_analyser.open(ly, &si);
	assert_non_null(h);
	return h;
}

static void
feed(void *h, int dir, fb_ns ts, const void *p, size_t n)
{
	http_analyser.data(h, dir, ts, p, n);
}

static void
feeds(void *h, int dir, fb_ns ts, const char *s)
{
	feed(h, dir, ts, s, strlen(s));
}

static bool
det(const char *c, const char *s)
{
	const uint8_t *const seen[2] = { (const uint8_t *)c, (const uint8_t *)s };
	const size_t n[2] = { strlen(c), strlen(s) };

	return http_analyser.detect(seen, n);
}

static void
test_detect(void **state)
{
	(void)state;
	assert_true(det("GET / HTTP/1.1\r\n", ""));
	assert_true(det("PROPFIND /x HTTP/1.0\n", ""));
	assert_true(det("", "HTTP/1.1 200 OK\r\n"));
	assert_true(det("", "HTTP/1.0 404"));
	assert_false(det("GET / HTTP/1.1", ""));	/* line not ended yet */
	assert_false(det("GET /t.sh HT", ""));	/* fuzz: read past a short tail */
	assert_false(det("GET / HTTX/1.1\r\n", ""));
	assert_false(det("get / HTTP/1.1\r\n", ""));
	assert_false(det("GET  / HTTP/1.1\r\n", ""));
	assert_false(det("GET / FTP/1.1\r\n", ""));
	assert_false(det("USER bob\r\n", "220 hi\r\n"));
	assert_false(det("", "HTTP/1.1 2000\r\n"));
	assert_false(det("SSH-2.0-OpenSSH\r\n", ""));
}

#define SH	"#!/bin/sh\necho owned\n"
#define SH_SHA	"12038f3fa403fffe8fee574d5683733065d7cacd093e95d4e8cccae867b9104c"

static void
test_pipelined(void **state)
{
	void *h = h_open();
	char want[4096];

	(void)state;
	/* Two requests in one segment, responses in pieces. */
	feeds(h, 0, T(T0, 1), "GET /a.sh HTTP/1.1\r\nHost: evil.example\r\n"
	    "User-Agent: Wget/1.21\r\n\r\nHEAD /b HTTP/1.1\r\nHost: evil.example\r\n\r\n");
	feeds(h, 1, T(T0, 2), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 21\r\n\r\n#!/bin/sh\n");
	feeds(h, 1, T(T0, 3), "echo owned\nHTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
	feeds(h, 0, T(T0, 4), "GET /c HTTP/1.0\r\n\r\n");
	feeds(h, 1, T(T0, 5), "HTTP/1.0 404 Not Found\r\n\r\ngone");
	http_analyser.close(h, T(T0 + 1, 0));
	lt_check_carved(SH_SHA, SH, strlen(SH));
	snprintf(want, sizeof(want),
	    "{\"ts\":\"2026-11-26T20:19:23.000001Z\"," CONN "\"method\":\"GET\","
	    "\"host\":\"evil.example\",\"uri\":\"/a.sh\",\"version\":\"HTTP/1.1\","
	    "\"user_agent\":\"Wget/1.21\",\"request_body_len\":0,\"status\":200,"
	    "\"reason\":\"OK\",\"content_type\":\"text/plain\",\"response_body_len\":21,"
	    "\"response_file\":\"" SH_SHA "\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000001Z\"," CONN "\"method\":\"HEAD\","
	    "\"host\":\"evil.example\",\"uri\":\"/b\",\"version\":\"HTTP/1.1\","
	    "\"user_agent\":null,\"request_body_len\":0,\"status\":200,"
	    "\"reason\":\"OK\",\"content_type\":null,\"response_body_len\":0}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000004Z\"," CONN "\"method\":\"GET\","
	    "\"host\":null,\"uri\":\"/c\",\"version\":\"HTTP/1.0\","
	    "\"user_agent\":null,\"request_body_len\":0,\"status\":404,"
	    "\"reason\":\"Not Found\",\"content_type\":null,\"response_body_len\":4,"
	    "\"response_file\":\"%s\"}\n", lt_hex("gone", 4));
	lt_check_file(DAYDIR "/http.jsonl", want);
	lt_check_carved(lt_hex("gone", 4), "gone", 4);
}

/* Content, compressed by zlib: gzip (wbits 31) or raw deflate (-15). */
static size_t
zpack(const void *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return z.total_out;
}

#define CHUNKED	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" \
		"1\r\nA\r\n1b;ext=1\r\n0123456789abcdefghijklmnopq\r\n" \
		"0003\r\nxyz\r\n0\r\nX-Trailer: t\r\n\r\n"
#define BODY	"A0123456789abcdefghijklmnopqxyz"

static void
test_chunked_splits(void **state)
{
	static const size_t steps[] = { 1, 2, 3, 5, 7, 11, 64, 4096 };
	const char *req = "GET /k HTTP/1.1\r\nHost: h\r\n\r\n";
	char line[1024], want[sizeof(steps) / sizeof(steps[0]) * 1024] = "";
	size_t i, off, n = strlen(CHUNKED);

	(void)state;
	for (i = 0; i < nitems(steps); i++) {
		void *h = h_open();

		feeds(h, 0, T(T0, 0), req);
		for (off = 0; off < n; off += steps[i])
			feed(h, 1, T(T0, 1), &CHUNKED[off], FB_MIN(steps[i], n - off));
		http_analyser.close(h, T(T0, 2));
		snprintf(line, sizeof(line), "{\"ts\":\"2026-11-26T20:19:23.000000Z\","
		    CONN "\"method\":\"GET\",\"host\":\"h\",\"uri\":\"/k\","
		    "\"version\":\"HTTP/1.1\",\"user_agent\":null,\"request_body_len\":0,"
		    "\"status\":200,\"reason\":\"OK\",\"content_type\":null,"
		    "\"response_body_len\":31,\"response_file\":\"%s\"}\n",
		    lt_hex(BODY, strlen(BODY)));
		strcat(want, line);
	}
	lt_check_file(DAYDIR "/http.jsonl", want);
	lt_check_carved(lt_hex(BODY, strlen(BODY)), BODY, strlen(BODY));
	assert_int_equal(lt_count_files(), 1);
}

static void
test_gzip_and_deflate(void **state)
{
	uint8_t z[256];
	char hdr[256], want[1024];
	size_t zn;
	void *h = h_open();

	(void)state;
	zn = zpack(SH, strlen(SH), z, sizeof(z), 15 + 16);
	feeds(h, 0, T(T0, 0), "GET /g HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n");
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
	    "Content-Length: %zu\r\n\r\n", zn);
	feeds(h, 1, T(T0, 1), hdr);
	feed(h, 1, T(T0, 1), z, 7);	/* split inside the gzip header */
	feed(h, 1, T(T0, 1), z + 7, zn - 7);
	/* Raw deflate, chunked, in one chunk. */
	zn = zpack("raw deflate body", 16, z, sizeof(z), -15);
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", zn);
	feeds(h, 1, T(T0, 2), hdr);
	feed(h, 1, T(T0, 2), z, zn);
	feeds(h, 1, T(T0, 2), "\r\n0\r\n\r\n");
	http_analyser.close(h, T(T0, 3));
	lt_check_carved(SH_SHA, SH, strlen(SH));
	lt_check_carved(lt_hex("raw deflate body", 16), "raw deflate body", 16);
	snprintf(want, sizeof(want),
	    "{\"ts\":\"2026-11-26T20:19:23.000001Z\",\"end\":\"2026-11-26T20:19:23.000001Z\","
	    "\"conn\":9,\"proto\":\"http\",\"direction\":\"download\",\"honeypot\":\"10.0.0.5\","
	    "\"src\":\"203.0.113.80\",\"sport\":80,\"dst\":\"10.0.0.5\",\"dport\":40000,"
	    "\"name\":\"http://h/g\",\"size\":21,\"announced\":%zu,\"encoding\":\"gzip\","
	    "\"sha256\":\"" SH_SHA "\",\"mime\":\"text/x-shellscript\",\"complete\":true}\n",
	    zpack(SH, strlen(SH), z, sizeof(z), 15 + 16));
	{
		char *got = lt_slurp(DAYDIR "/files.jsonl", NULL);

		assert_non_null(got);
		assert_memory_equal(got, want, strlen(want));
		assert_non_null(strstr(got + strlen(want), "\"name\":\"http://h/d\",\"size\":16,"
		    "\"encoding\":\"deflate\",\"sha256\":\""));
		assert_non_null(strstr(got, "\"complete\":true}\n"));
		free(got);
	}
}

static void
test_bomb(void **state)
{
	size_t big = 8 << 20, cap = 64 << 10, zn;
	uint8_t *zero = calloc(1, big), *z = malloc(cap);
	char hdr[256], *rec;
	void *h = h_open();

	(void)state;
	assert_non_null(zero);
	zn = zpack(zero, big, z, cap, 15 + 16);
	assert_true(zn < 10000);	/* 8 MiB of zeros in about 8 KB */
	feeds(h, 0, T(T0, 0), "GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n");
	snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
	    "Content-Length: %zu\r\n\r\n", zn);
	feeds(h, 1, T(T0, 1), hdr);
	feed(h, 1, T(T0, 1), z, zn);
	http_analyser.close(h, T(T0, 2));
	/* Exactly file_max_bytes (1 MiB) of zeros kept. */
	lt_check_carved("30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58",
	    zero, 1 << 20);
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(strstr(rec, "\"size\":1048576,"));
	assert_non_null(strstr(rec, "\"complete\":false,\"truncated\":\"size-cap\"}\n"));
	free(rec);
	snprintf(hdr, sizeof(hdr), "\"response_body_len\":%zu,\"response_file\":"
	    "\"30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58\"}\n", zn);
	rec = lt_slurp(DAYDIR "/http.jsonl", NULL);
	assert_non_null(strstr(rec, hdr));
	free(rec);
	free(zero);
	free(z);
}

static void
test_gap_in_step(void **state)
{
	void *h = h_open();
	char want[2048];
	char *rec;

	(void)state;
	feeds(h, 0, T(T0, 0), "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
	feeds(h, 1, T(T0, 1), "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	http_analyser.gap(h, 1, T(T0, 2), 4);
	feeds(h, 1, T(T0, 3), "hijHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	http_analyser.close(h, T(T0, 4));
	snprintf(want, sizeof(want),
	    "{\"ts\":\"2026-11-26T20:19:23.000000Z\"," CONN "\"method\":\"GET\",\"host\":\"h\","
	    "\"uri\":\"/1\",\"version\":\"HTTP/1.1\",\"user_agent\":null,\"request_body_len\":0,"
	    "\"status\":200,\"reason\":\"OK\",\"content_type\":null,\"response_body_len\":10,"
	    "\"response_file\":\"%s\",\"anomaly\":\"gap\"}\n", lt_hex("abc", 3));
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
	    "{\"ts\":\"2026-11-26T20:19:23.000000Z\"," CONN "\"method\":\"GET\",\"host\":\"h\","
	    "\"uri\":\"/2\",\"version\":\"HTTP/1.1\",\"user_agent\":null,\"request_body_len\":0,"
	    "\"status\":200,\"reason\":\"OK\",\"content_type\":null,\"response_body_len\":2,"
	    "\"response_file\":\"%s\"}\n", lt_hex("ok", 2));
	lt_check_file(DAYDIR "/http.jsonl", want);
	lt_check_carved(lt_hex("abc", 3), "abc", 3);
	lt_check_carved(lt_hex("ok", 2), "ok", 2);
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(strstr(rec, "\"size\":3,\"announced\":10,"));
	assert_non_null(strstr(rec, "\"complete\":false,\"truncated\":\"gap\"}\n"));
	free(rec);
}

static void
test_early_close_and_upload(void **state)
{
	void *h = h_open();
	char want[2048];
	char *rec;

	(void)state;
	feeds(h, 0, T(T0, 0), "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: "
	    "application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\nuser=x&pass=y");
	feeds(h, 1, T(T0, 1), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
	http_analyser.close(h, T(T0, 2));
	snprintf(want, sizeof(want),
	    "{\"ts\":\"2026-11-26T20:19:23.000000Z\"," CONN "\"method\":\"POST\",\"host\":\"h\","
	    "\"uri\":\"/up\",\"version\":\"HTTP/1.1\",\"user_agent\":null,\"request_body_len\":13,"
	    "\"request_content_type\":\"application/x-www-form-urlencoded\","
	    "\"request_file\":\"%s\",", lt_hex("user=x&pass=y", 13));
	snprintf(want + strlen(want), sizeof(want) - strlen(want),
	    "\"status\":200,\"reason\":\"OK\",\"content_type\":null,\"response_body_len\":10,"
	    "\"response_file\":\"%s\",\"anomaly\":\"ended-early\"}\n", lt_hex("0123456789", 10));
	lt_check_file(DAYDIR "/http.jsonl", want);
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(strstr(rec, "\"direction\":\"upload\",\"honeypot\":\"10.0.0.5\","
	    "\"src\":\"10.0.0.5\",\"sport\":40000,\"dst\":\"203.0.113.80\",\"dport\":80,"
	    "\"name\":\"http://h/up\",\"size\":13,\"announced\":13,"));
	assert_non_null(strstr(rec, "\"size\":10,\"announced\":100,"));
	assert_non_null(strstr(rec, "\"complete\":false,\"truncated\":\"ended-early\"}\n"));
	free(rec);
}

static void
test_bad_input(void **state)
{
	struct http_stats before, after;
	static char big[70000];
	void *h = h_open();
	char *rec;

	(void)state;
	http_stats(&before);
	feeds(h, 0, T(T0, 0), "GET /x HTTP/1.1\r\n\r\n");
	feeds(h, 1, T(T0, 1), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\nzz\r\nmore");
	/* A header block past 64 KiB. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /y HTTP/1.1\r\nX: ", 20);
	feed(h, 0, T(T0, 2), big, sizeof(big));
	feeds(h, 0, T(T0, 3), "\r\n\r\nGET /z HTTP/1.1\r\n\r\n");	/* dead: ignored */
	http_analyser.close(h, T(T0, 4));
	http_stats(&after);
	{
		struct jbuf jb;
		char want[200];

		jb_init(&jb);
		jb_begin(&jb);
		layers_status_json(ly, &jb);
		jb_end(&jb);
		snprintf(want, sizeof(want), "\"http\":{\"requests\":%llu,\"responses\":%llu,",
		    (unsigned long long)after.requests, (unsigned long long)after.responses);
		assert_non_null(strstr(jb.p, want));
		assert_non_null(strstr(jb.p, "\"files\":{\"files\":"));
		assert_non_null(strstr(jb.p, "\"ftp\":{\"commands\":"));
		jb_free(&jb);
	}
	assert_int_equal(after.header_overflows - before.header_overflows, 1);
	assert_int_equal(after.bad_messages - before.bad_messages, 1);
	assert_int_equal(after.requests - before.requests, 1);
	rec = lt_slurp(DAYDIR "/http.jsonl", NULL);
	assert_non_null(strstr(rec, "\"uri\":\"/x\","));
	assert_non_null(strstr(rec, "\"response_body_len\":3,"));
	assert_non_null(strstr(rec, "\"anomaly\":\"bad-chunk-size\"}\n"));
	assert_null(strstr(rec, "/z"));
	free(rec);
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(strstr(rec, "\"size\":3,"));
	assert_non_null(strstr(rec, "\"truncated\":\"bad-framing\"}\n"));
	free(rec);
	lt_check_carved(lt_hex("abc", 3), "abc", 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test_setup_teardown(test_pipelined, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_chunked_splits, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_gzip_and_deflate, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_bomb, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_gap_in_step, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_early_close_and_upload, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, lt_setup, lt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
