/*
 * Shared set-up of the layer analyser tests (http, ftp, files): a real
 * struct layers over a temporary data directory, connection descriptions,
 * and readers for what the layers wrote.
 */
#ifndef FB_LAYERTEST_H
#define FB_LAYERTEST_H

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

#define D26		(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26T00:00:00Z */
#define T(sec, us)	(D26 + (fb_ns)(sec) * FB_NS_PER_SEC + (fb_ns)(us) * 1000)
#define T0		73163	/* 20:19:23 */
#define DAYDIR		"2026-11-26"

static char tmpdir[256];
static struct fb_config cfg;
static struct event_log *el;
static struct layers *ly;

static inline int
lt_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static inline int
lt_setup(void **state)
{
	(void)state;
	log_init("test", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fblayXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	memset(&cfg, 0, sizeof(cfg));
	cfg.layers = true;
	cfg.layers_memory_bytes = 1 << 20;
	cfg.transcript_max_bytes = 1 << 20;
	cfg.file_max_bytes = 1 << 20;
	cfg.layers_disk_bytes = 1 << 24;
	el = event_log_open(tmpdir, NULL);
	assert_non_null(el);
	ly = layers_new(&cfg, tmpdir, el, NULL);
	assert_non_null(ly);
	assert_non_null(ly->carver);
	return 0;
}

static inline int
lt_teardown(void **state)
{
	(void)state;
	layers_free(ly);
	event_log_close(el);
	nftw(tmpdir, lt_rm, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static inline void
lt_v4(struct fb_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	a->b[12] = x;
	a->b[13] = y;
	a->b[14] = z;
	a->b[15] = w;
}

/* Honeypot 10.0.0.5:sport -> 203.0.113.80:dport (outbound), connection id. */
static inline void
lt_conn(struct session_info *si, uint64_t id, uint16_t sport, uint16_t dport)
{
	memset(si, 0, sizeof(*si));
	si->conn_id = id;
	lt_v4(&si->key.src, 10, 0, 0, 5);
	lt_v4(&si->key.dst, 203, 0, 113, 80);
	si->key.sport = sport;
	si->key.dport = dport;
	si->key.proto = 6;
	si->dir = DIR_OUTBOUND;
	si->honeypot = si->key.src;
	si->start = T(T0, 0);
}

/* The file DIR/rel, NUL-terminated, its size in *n (NULL: absent). */
static inline char *
lt_slurp(const char *rel, size_t *n)
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
	if (n != NULL)
		*n = (size_t)st.st_size;
	return b;
}

static inline void
lt_check_file(const char *rel, const char *want)
{
	char *got = lt_slurp(rel, NULL);

	if (got == NULL)
		fail_msg("%s: missing", rel);
	assert_string_equal(got, want);
	free(got);
}

/* The carved file of that digest holds exactly want[0..n). */
static inline void
lt_check_carved(const char *hex, const void *want, size_t n)
{
	char rel[128];
	size_t got_n = 0;
	char *got;

	snprintf(rel, sizeof(rel), DAYDIR "/files/%s", hex);
	got = lt_slurp(rel, &got_n);
	if (got == NULL)
		fail_msg("%s: missing", rel);
	assert_int_equal(got_n, n);
	assert_memory_equal(got, want, n);
	free(got);
}

static inline const char *
lt_hex(const void *p, size_t n)
{
	static char hex[SHA256_HEXLEN];
	uint8_t d[SHA256_LEN];

	sha256_buf(p, n, d);
	sha256_hex(d, hex);
	return hex;
}

/* Files in DIR/DAY/files/ (temporary ones included). */
static inline int
lt_count_files(void)
{
	char cmd[400];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/" DAYDIR "/files' 2>/dev/null | wc -l", tmpdir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

#endif
