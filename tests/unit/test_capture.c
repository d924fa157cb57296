/*
 * Unit tests of capture: libpcap reads what we write (ns timestamps), size
 * and midnight rotation, numbering across restarts, retention, write
 * failures (file size limit, full tmpfs), low space, and kill -9.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "capture.h"

#define DAY_S		86400LL
#define D26		(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26T00:00:00Z */
#define T(day, sec, ns)	(D26 + (fb_ns)(day) * DAY_S * FB_NS_PER_SEC + \
			    (fb_ns)(sec) * FB_NS_PER_SEC + (ns))
#define SKIPPED		77

static char tmpdir[256];
static bool mapped;	/* the live writer: small batches through a mapping */
static bool threaded;	/* the replay writer: batches written by a thread */
static bool kept;	/* and long frames written from where they lie */

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
	log_init("test_capture", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbcapXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	mapped = false;
	threaded = false;
	kept = false;
	return 0;
}

/* Threaded with kept frames (a mapped replay input): the tests using it
 * never change a frame's bytes before capture_sync or capture_close. */
static int
setup_kept(void **state)
{
	kept = true;
	threaded = true;
	return setup(state);
}

static int
setup_threaded(void **state)
{
	threaded = true;
	return setup(state);
}

/* Threaded, a flush reports the batch before; these tests count per flush. */
static int
flush(struct capture *c)
{
	return threaded ? capture_sync(c) : capture_flush(c);
}

static int
setup_mapped(void **state)
{
	mapped = true;
	return setup(state);
}

static struct capture *
open_cap(uint64_t rotate, uint32_t snaplen)
{
	struct capture_opts o = {
		.dir = tmpdir, .linktype = 1, .rotate_bytes = rotate, .snaplen = snaplen,
		.mapped_end = mapped, .writer_thread = threaded,
	};
	struct capture *c = capture_open(&o);

	assert_non_null(c);
	if (kept)
		assert_true(capture_keep_frames(c));
	return c;
}

static void
fill(uint8_t *b, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31 + i);
}

static void
pcap_path(char *buf, size_t n, fb_ns day_t, unsigned num)
{
	char d[11];

	time_day(day_t, d);
	snprintf(buf, n, "%s/%s/packets/%05u.pcap", tmpdir, d, num);
}

/* Records in a pcap file (read with libpcap, ns precision); -1 if unreadable. */
static int
count_records(const char *path, bool *clean_end)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p;
	int n = 0, r;

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	if (p == NULL)
		return -1;
	while ((r = pcap_next_ex(p, &h, &d)) == 1)
		n++;
	if (clean_end != NULL)
		*clean_end = r == PCAP_ERROR_BREAK;
	pcap_close(p);
	return n;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	return st.st_size;
}

static void
test_libpcap_reads_it(void **state)
{
	struct capture *c = open_cap(0, 1000);
	struct capture_stats st;
	char path[512], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint8_t frame[3000], want[3000];
	uint64_t bytes = 24;
	pcap_t *p;
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		uint32_t len = (uint32_t)(i == 50 ? 3000 : 14 + i * 7);

		fill(frame, len, (uint32_t)i);
		assert_int_equal(capture_write(c, T(0, 100 + i, 123456789 + i), frame, len,
		    len + 4), 0);
		bytes += 16 + FB_MIN(len, 1000);
		/* the live writer maps after a run of small batches */
		if (mapped)
			assert_int_equal(flush(c), 0);
	}
	assert_int_equal(flush(c), 0);
	capture_stats(c, &st);
	assert_int_equal(st.frames, 100);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.lost_frames, 0);
	assert_int_equal(st.bytes, bytes);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	assert_string_equal(st.current, path);
	if (mapped) {
		bool clean;

		/* open: a reserved tail, and readers stop at the end mark */
		assert_true(file_size(path) > (off_t)bytes);
		assert_int_equal(count_records(path, &clean), 100);
		assert_false(clean);
	} else
		assert_int_equal(file_size(path), (off_t)bytes);
	capture_close(c);
	assert_int_equal(file_size(path), (off_t)bytes);

	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), 1);
	assert_int_equal(pcap_snapshot(p), 1000);
	for (i = 0; i < 100; i++) {
		uint32_t len = (uint32_t)(i == 50 ? 3000 : 14 + i * 7);

		assert_int_equal(pcap_next_ex(p, &h, &d), 1);
		assert_int_equal(h->ts.tv_sec, 1795651200 + 100 + i);
		assert_int_equal(h->ts.tv_usec, 123456789 + i);	/* ns with NANO */
		assert_int_equal(h->caplen, FB_MIN(len, 1000));
		assert_int_equal(h->len, len + 4);
		fill(want, len, (uint32_t)i);
		assert_memory_equal(d, want, h->caplen);
	}
	assert_int_equal(pcap_next_ex(p, &h, &d), PCAP_ERROR_BREAK);
	pcap_close(p);
}

/*
 * A kill between a batch's copy into the mapping and its end mark leaves
 * the reserved tail's zeros after the last record: the next start cuts
 * the file there, not after a run of empty "records" read from the zeros.
 */
static void
test_repair_zero_tail(void **state)
{
	struct capture *c = open_cap(0, 0);
	uint8_t frame[100];
	char path[512];
	off_t size;
	bool clean;

	(void)state;
	fill(frame, sizeof(frame), 3);
	assert_int_equal(capture_write(c, T(0, 1, 0), frame, 100, 100), 0);
	assert_int_equal(capture_write(c, T(0, 2, 0), frame, 60, 60), 0);
	assert_int_equal(flush(c), 0);
	capture_close(c);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	size = file_size(path);
	assert_int_equal(size, 24 + 16 + 100 + 16 + 60);
	assert_int_equal(truncate(path, size + 4096 + 13), 0);	/* the tail */
	c = open_cap(0, 0);
	capture_close(c);
	assert_int_equal(file_size(path), size);
	assert_int_equal(count_records(path, &clean), 2);
	assert_true(clean);
}

/* The writer thread: batches handed over while the next fills, in order. */
static void
test_threaded_order(void **state)
{
	struct capture *c = open_cap(1 << 20, 0);
	struct capture_stats st;
	char path[512], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint8_t frame[1514], want[1514];
	int i, files, got = 0;
	pcap_t *p;

	(void)state;
	for (i = 0; i < 20000; i++) {
		uint32_t len = 60 + (uint32_t)(i * 7 % 1454);

		fill(frame, len, (uint32_t)i);
		assert_int_equal(capture_write(c, T(0, 1, i), frame, len, len), 0);
		if (i % 53 == 52)
			assert_int_equal(capture_flush(c), 0);	/* async */
	}
	assert_int_equal(capture_sync(c), 0);
	capture_stats(c, &st);
	assert_int_equal(st.frames, 20000);
	assert_int_equal(st.lost_frames, 0);
	capture_close(c);
	for (files = 1;; files++) {
		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)files);
		if (file_size(path) == -1)
			break;
		p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
		assert_non_null(p);
		while (pcap_next_ex(p, &h, &d) == 1) {
			uint32_t len = 60 + (uint32_t)(got * 7 % 1454);

			assert_int_equal(h->ts.tv_usec, got);
			assert_int_equal(h->caplen, len);
			fill(want, len, (uint32_t)got);
			assert_memory_equal(d, want, len);
			got++;
		}
		pcap_close(p);
	}
	assert_int_equal(got, 20000);
	assert_int_equal(files - 1, (int)st.files);
	assert_true(st.files > 10);
}

/*
 * Kept frames: written from an input window that is overwritten as soon as
 * capture_release returns (what the mapped reader does when it moves on),
 * short and long frames, snaplen cuts, size rotation: every byte in order.
 */
static void
test_kept_frames(void **state)
{
	const size_t win_len = 256 << 10;
	uint8_t *win = malloc(win_len), want[2000];
	struct capture *c = open_cap(1 << 20, 1800);
	struct capture_stats st;
	char path[512], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t pos = 0;
	int i, files, got = 0, releases = 0;
	pcap_t *p;

	(void)state;
	assert_non_null(win);
	assert_true(capture_keep_frames(c));	/* asked again: still on */
	for (i = 0; i < 20000; i++) {
		uint32_t len = 60 + (uint32_t)(i * 7 % 1940);

		if (pos + len > win_len) {
			capture_release(c);
			memset(win, 0xee, win_len);	/* the window moves on */
			pos = 0;
			releases++;
		}
		fill(win + pos, len, (uint32_t)i);
		assert_int_equal(capture_write(c, T(0, 1, i), win + pos, len, len), 0);
		pos += len;
		if (i % 53 == 52)
			assert_int_equal(capture_flush(c), 0);	/* async */
	}
	assert_int_equal(capture_sync(c), 0);
	memset(win, 0xee, win_len);
	capture_stats(c, &st);
	assert_int_equal(st.frames, 20000);
	assert_int_equal(st.lost_frames, 0);
	capture_close(c);
	assert_true(releases > 50);
	for (files = 1;; files++) {
		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)files);
		if (file_size(path) == -1)
			break;
		p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
		assert_non_null(p);
		while (pcap_next_ex(p, &h, &d) == 1) {
			uint32_t len = 60 + (uint32_t)(got * 7 % 1940);

			assert_int_equal(h->ts.tv_usec, got);
			assert_int_equal(h->len, len);
			assert_int_equal(h->caplen, len > 1800 ? 1800 : len);
			fill(want, len, (uint32_t)got);
			assert_memory_equal(d, want, h->caplen);
			got++;
		}
		pcap_close(p);
	}
	assert_int_equal(got, 20000);
	assert_int_equal(files - 1, (int)st.files);
	assert_true(st.files > 10);
	free(win);
}

/* The unthreaded writer without the mapped end (neither replay's nor the
 * live one) always copies; the live writer keeps super-frames only. */
static void
test_keep_needs_thread(void **state)
{
	struct capture *c;

	(void)state;
	mapped = true;
	c = open_cap(0, 0);
	assert_true(capture_keep_frames(c));
	capture_close(c);
	mapped = false;
	c = open_cap(0, 0);
	assert_false(capture_keep_frames(c));
	capture_close(c);
}

/* Batch b's frame k: its length (small frames, now and then super-frames
 * of up to 64 KiB), and whether batch b is all small (mapped). */
static uint32_t
live_len(int b, int k)
{
	if (b >= 100 && b < 170)	/* a run of small batches: the mapping */
		return 60 + (uint32_t)((b * 5 + k) % 40);
	if (k % 3 == 1)
		return 4097 + (uint32_t)((b * 7919 + k * 104729) % 61439);
	return 60 + (uint32_t)((b * 31 + k * 17) % 1455);
}

/*
 * Live, with super-frames kept (the engine's default): each batch's frames
 * are written from where they lie at capture_flush, so the caller may
 * reuse its buffer at once (here scribbled over after each flush); every
 * record in the files holds exactly its frame, through runs of small
 * batches (the mapped end) and back to kept frames (its tail cut).
 */
static void
test_live_superframes(void **state)
{
	const int nb = 260, per = 4;
	uint8_t *buf = malloc((size_t)per * 65536), *want = malloc(65536);
	char path[512], err[PCAP_ERRBUF_SIZE];
	struct capture_stats st;
	struct pcap_pkthdr *h;
	const u_char *d;
	struct capture *c;
	int b, k, files, got = 0;
	pcap_t *p;

	(void)state;
	assert_non_null(buf);
	assert_non_null(want);
	mapped = true;
	c = open_cap(2 << 20, 0);
	assert_true(capture_keep_frames(c));
	for (b = 0; b < nb; b++) {
		for (k = 0; k < per; k++) {
			uint32_t len = live_len(b, k);
			uint8_t *f = buf + (size_t)k * 65536;

			fill(f, len, (uint32_t)(b * per + k));
			assert_int_equal(capture_write(c, T(0, b, k), f, len, len), 0);
		}
		assert_int_equal(capture_flush(c), 0);
		memset(buf, 0xee, (size_t)per * 65536);	/* the ring moves on */
	}
	capture_stats(c, &st);
	assert_int_equal(st.frames, nb * per);
	assert_int_equal(st.lost_frames, 0);
	capture_close(c);
	for (files = 1;; files++) {
		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)files);
		if (file_size(path) == -1)
			break;
		p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
		assert_non_null(p);
		while (pcap_next_ex(p, &h, &d) == 1) {
			b = got / per;
			k = got % per;
			assert_int_equal(h->ts.tv_sec - T(0, 0, 0) / FB_NS_PER_SEC, b);
			assert_int_equal(h->len, live_len(b, k));
			assert_int_equal(h->caplen, h->len);
			fill(want, h->len, (uint32_t)got);
			assert_memory_equal(d, want, h->caplen);
			got++;
		}
		pcap_close(p);
	}
	assert_int_equal(got, nb * per);
	assert_true(files > 2);		/* rotated with kept frames too */
	free(buf);
	free(want);
}


static void
test_rotate_by_size(void **state)
{
	/* room for exactly 10 records of 100 bytes per file */
	struct capture *c = open_cap(24 + 10 * (16 + 100), 0);
	struct capture_stats st;
	uint8_t frame[100];
	char path[512];
	int i;
	bool clean;

	(void)state;
	fill(frame, sizeof(frame), 1);
	for (i = 0; i < 35; i++) {
		assert_int_equal(capture_write(c, T(0, i, 0), frame, 100, 100), 0);
		if (i % 7 == 0)
			assert_int_equal(flush(c), 0);
	}
	capture_close(c);
	for (i = 1; i <= 4; i++) {
		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)i);
		assert_int_equal(count_records(path, &clean), i == 4 ? 5 : 10);
		assert_true(clean);
		assert_true(file_size(path) <= 24 + 10 * (16 + 100));
	}
	pcap_path(path, sizeof(path), T(0, 0, 0), 5);
	assert_int_equal(file_size(path), -1);

	/* a record bigger than rotate_bytes still gets a file of its own */
	c = open_cap(100, 0);
	uint8_t big[500];
	fill(big, sizeof(big), 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(capture_write(c, T(0, 50, 0), big, 500, 500), 0);
	assert_int_equal(flush(c), 0);
	capture_stats(c, &st);
	assert_int_equal(st.files, 3);
	assert_int_equal(st.frames, 3);
	capture_close(c);
	for (i = 5; i <= 7; i++) {
		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)i);
		assert_int_equal(count_records(path, NULL), 1);
	}
}

static void
test_midnight(void **state)
{
	struct capture *c = open_cap(0, 0);
	struct capture_stats st;
	uint8_t frame[60];
	char path[512];

	(void)state;
	fill(frame, sizeof(frame), 3);
	assert_int_equal(capture_write(c, T(0, DAY_S - 1, 900000000), frame, 60, 60), 0);
	assert_int_equal(capture_write(c, T(1, 0, 100000000), frame, 60, 60), 0);
	/* clock stepped back: stays in the current (day 1) file */
	assert_int_equal(capture_write(c, T(0, DAY_S - 2, 0), frame, 60, 60), 0);
	assert_int_equal(flush(c), 0);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	assert_int_equal(count_records(path, NULL), 1);
	pcap_path(path, sizeof(path), T(1, 0, 0), 1);
	assert_int_equal(count_records(path, NULL), 2);

	/* idle midnight: the timer opens day 2's file with no frame */
	assert_false(capture_tick(c, T(1, DAY_S - 1, 0)));
	pcap_path(path, sizeof(path), T(2, 0, 0), 1);
	assert_int_equal(file_size(path), -1);
	capture_tick(c, T(2, 1, 0));
	assert_int_equal(count_records(path, NULL), 0);
	capture_stats(c, &st);
	assert_string_equal(st.current, path);
	assert_int_equal(st.files, 3);
	/* the day-1 file was closed whole */
	pcap_path(path, sizeof(path), T(1, 0, 0), 1);
	assert_int_equal(count_records(path, NULL), 2);
	assert_int_equal(capture_write(c, T(2, 5, 0), frame, 60, 60), 0);
	capture_close(c);
	pcap_path(path, sizeof(path), T(2, 0, 0), 1);
	assert_int_equal(count_records(path, NULL), 1);
}

static void
test_numbering_continues(void **state)
{
	struct capture *c;
	uint8_t frame[60];
	char path[512], dir[400];
	int fd;

	(void)state;
	fill(frame, sizeof(frame), 4);
	c = open_cap(0, 0);
	assert_int_equal(capture_write(c, T(0, 1, 0), frame, 60, 60), 0);
	capture_close(c);
	c = open_cap(0, 0);
	assert_int_equal(capture_write(c, T(0, 2, 0), frame, 60, 60), 0);
	capture_close(c);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	assert_int_equal(count_records(path, NULL), 1);
	pcap_path(path, sizeof(path), T(0, 0, 0), 2);
	assert_int_equal(count_records(path, NULL), 1);

	/* a gap: continue after the highest, never fill in below it */
	snprintf(dir, sizeof(dir), "%s/2026-11-27/packets", tmpdir);
	assert_int_equal(mkdir_p(dir, 0750), 0);
	pcap_path(path, sizeof(path), T(1, 0, 0), 7);
	fd = open(path, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	c = open_cap(0, 0);
	assert_int_equal(capture_write(c, T(1, 2, 0), frame, 60, 60), 0);
	capture_close(c);
	assert_int_equal(file_size(path), 4);
	pcap_path(path, sizeof(path), T(1, 0, 0), 8);
	assert_int_equal(count_records(path, NULL), 1);
}

static void
mkfile(const char *rel, const char *text)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
mkd(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	assert_int_equal(mkdir_p(path, 0750), 0);
}

static bool
exists(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	return lstat(path, &st) == 0;
}

static void
test_retention_keep_days(void **state)
{
	struct capture_opts o = { .dir = NULL, .linktype = 1, .keep_days = 3 };
	struct capture_stats st;
	struct capture *c;
	char data[400], path[512];

	(void)state;
	snprintf(data, sizeof(data), "%s/data", tmpdir);
	o.dir = data;
	mkd("data/2026-11-20/packets/sub");
	mkfile("data/2026-11-20/packets/00001.pcap", "x");
	mkfile("data/2026-11-20/packets/sub/f", "x");
	mkfile("data/2026-11-20/conn.jsonl", "{}\n");
	mkd("data/2026-11-23/packets");
	mkd("data/2026-11-24/packets");
	mkd("data/2026-11-26/packets");
	mkd("data/notes");
	mkd("data/2026-11-2x");
	mkd("data/1999-01-01x");
	mkfile("data/2026-11-01", "a file named like a day");
	/* symlinks: never followed, their targets survive */
	mkd("outside");
	mkfile("outside/precious", "x");
	snprintf(path, sizeof(path), "%s/outside", tmpdir);
	mkd("data/2026-11-18");
	snprintf(data, sizeof(data), "%s/data/2026-11-18/link", tmpdir);
	assert_int_equal(symlink(path, data), 0);
	snprintf(data, sizeof(data), "%s/data/2026-11-19", tmpdir);
	assert_int_equal(symlink(path, data), 0);
	snprintf(data, sizeof(data), "%s/data", tmpdir);

	c = capture_open(&o);
	assert_non_null(c);
	assert_false(capture_tick(c, T(0, 43200, 0)));	/* 2026-11-26 12:00 */
	capture_stats(c, &st);
	assert_int_equal(st.days_deleted, 3);
	assert_false(exists("data/2026-11-18"));
	assert_false(exists("data/2026-11-20"));
	assert_false(exists("data/2026-11-23"));
	assert_true(exists("data/2026-11-19"));		/* the symlink itself */
	assert_true(exists("outside/precious"));
	assert_true(exists("data/2026-11-24/packets"));
	assert_true(exists("data/2026-11-26/packets"));
	assert_true(exists("data/notes"));
	assert_true(exists("data/2026-11-2x"));
	assert_true(exists("data/1999-01-01x"));
	assert_true(exists("data/2026-11-01"));
	assert_true(st.free_bytes > 0);

	/* next day: 2026-11-24 goes */
	capture_tick(c, T(1, 10, 0));
	assert_false(exists("data/2026-11-24"));
	assert_true(exists("data/2026-11-26"));
	capture_close(c);
}

/* Write failure: a file size limit in a child (SIGXFSZ ignored -> EFBIG). */
static void
test_write_failure_fsize(void **state)
{
	const int total = 200;
	struct capture_stats st;
	int pfd[2], status, flush_fail = 0, files, n, sum = 0;
	char path[512];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = 24 + 45 * 1016, .rlim_max = 24 + 45 * 1016 };
		struct capture *c = open_cap(0, 0);
		uint8_t frame[1000];

		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
			_exit(2);
		fill(frame, sizeof(frame), 5);
		for (int i = 0; i < total; i++) {
			capture_write(c, T(0, i, 0), frame, 1000, 1000);
			if (i % 10 == 9 && flush(c) != 0)
				flush_fail++;
		}
		capture_stats(c, &st);
		capture_close(c);
		if (write(pfd[1], &st, sizeof(st)) != sizeof(st) ||
		    write(pfd[1], &flush_fail, sizeof(flush_fail)) != sizeof(flush_fail))
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &st, sizeof(st)), sizeof(st));
	assert_int_equal(read(pfd[0], &flush_fail, sizeof(flush_fail)), sizeof(flush_fail));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* each file: 4 batches of 10 fit under the limit, the 5th fails */
	assert_true(st.lost_frames > 0);
	assert_true(st.write_errors > 0);
	assert_int_equal(st.lost_frames + st.frames, total);
	assert_int_equal(st.lost_frames, 10 * (uint64_t)flush_fail);
	assert_int_equal(st.frames, 160);
	for (files = 1;; files++) {
		bool clean;

		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)files);
		if (file_size(path) == -1)
			break;
		n = count_records(path, &clean);
		assert_true(n >= 0);
		assert_true(clean);
		assert_int_equal(file_size(path), 24 + n * 1016);
		sum += n;
	}
	assert_int_equal(sum, (int)st.frames);
	assert_int_equal(files - 1, (int)st.files);
}

/* A SIGKILL at any moment: every flushed record is readable. */
static void
test_kill9(void **state)
{
	struct capture *c;
	int pfd[2], status, files, n;
	bool clean;
	uint64_t flushed = 0, v, sum = 0;
	char path[512];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t frame[1514];
		uint64_t done = 0;

		c = open_cap(1 << 20, 0);

		close(pfd[0]);
		fill(frame, sizeof(frame), 6);
		for (int i = 0; i < 10000000; i++) {
			uint32_t len = 60 + (uint32_t)(i % 1454);

			capture_write(c, T(0, 0, i), frame, len, len);
			/* mapped: one frame a batch, so the mapping is used */
			if (mapped || i % 37 == 36) {
				if (flush(c) != 0)
					_exit(2);
				done = (uint64_t)i + 1;
				if (write(pfd[1], &done, sizeof(done)) != sizeof(done))
					_exit(3);
			}
		}
		_exit(4);
	}
	close(pfd[1]);
	while (flushed < 20000 && read(pfd[0], &v, sizeof(v)) == sizeof(v))
		flushed = v;
	kill(pid, SIGKILL);
	while (read(pfd[0], &v, sizeof(v)) == sizeof(v))
		flushed = v;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (files = 1;; files++) {
		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)files);
		if (file_size(path) == -1)
			break;
		n = count_records(path, NULL);
		/* a file gets its name only with its header (O_TMPFILE) */
		assert_true(n >= 0);
		sum += (uint64_t)FB_MAX(n, 0);
	}
	assert_true(files > 2);
	assert_true(sum >= flushed);

	/* the next run cuts the file the crash left open to its records */
	c = open_cap(1 << 20, 0);
	pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)files - 1);
	n = count_records(path, &clean);
	assert_true(clean);
	/* (the kill may have struck just after a rotation: a header alone) */
	assert_true(n >= 0);
	assert_true(file_size(path) >= 24 + 76 * n);
	assert_true(file_size(path) <= 24 + 1530 * n);
	capture_close(c);
}

/*
 * The next two need a small file system: a tmpfs mounted in a private mount
 * namespace of a forked child (gone when it exits).  Skipped when the
 * namespace or the mount is not allowed.
 */
static int
child_tmpfs(const char *size)
{
	char opt[32];

	if (unshare(CLONE_NEWNS) == -1)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	snprintf(opt, sizeof(opt), "size=%s", size);
	return mount("tmpfs", tmpdir, "tmpfs", 0, opt);
}

static void
run_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == SKIPPED)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

#define CHECK(x)	do { if (!(x)) { fprintf(stderr, "line %d: %s\n", __LINE__, #x); \
			    return 1; } } while (0)

static int
fill_file(const char *rel, size_t bytes)
{
	char path[512], blk[65536];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640)) == -1)
		return -1;
	memset(blk, 'x', sizeof(blk));
	while (bytes > 0) {
		ssize_t n = write(fd, blk, FB_MIN(bytes, sizeof(blk)));
		if (n <= 0)
			break;
		bytes -= (size_t)n;
	}
	close(fd);
	return 0;
}

static int
enospc_child(void)
{
	struct capture_stats st;
	struct capture *c;
	uint8_t frame[1000];
	char path[512], p[512];
	int i, n, fails = 0;
	bool clean;
	const int K = mapped ? 2 : 10;	/* mapped: batches small enough to map */

	if (child_tmpfs("1m") == -1)
		return SKIPPED;
	if (fill_file("filler", 200 << 10) == -1)
		return 1;
	c = open_cap(0, 0);
	fill(frame, sizeof(frame), 7);
	for (i = 0; i < 2000; i++) {
		capture_write(c, T(0, i, 0), frame, 1000, 1000);
		if (i % K == K - 1 && flush(c) != 0)
			fails++;
	}
	capture_stats(c, &st);
	CHECK(fails > 0);
	CHECK(st.lost_frames == (uint64_t)fails * K);
	CHECK(st.lost_frames + st.frames == 2000);
	CHECK(st.failing);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	n = count_records(path, &clean);
	CHECK(n == (int)st.frames && clean);
	CHECK(file_size(path) == 24 + n * 1016);

	/* space comes back: the same file carries on */
	snprintf(p, sizeof(p), "%s/filler", tmpdir);
	CHECK(unlink(p) == 0);
	for (i = 0; i < 10; i++)
		capture_write(c, T(0, 3000 + i, 0), frame, 1000, 1000);
	CHECK(flush(c) == 0);
	capture_stats(c, &st);
	CHECK(!st.failing);
	capture_close(c);
	CHECK(count_records(path, &clean) == n + 10 && clean);
	return 0;
}

/* Threaded with asynchronous flushes: failures known late, still all counted. */
static int
enospc_async_child(void)
{
	struct capture_stats st;
	struct capture *c;
	uint8_t frame[1000];
	char path[512];
	int i, n, fails = 0;
	bool clean;

	if (child_tmpfs("1m") == -1)
		return SKIPPED;
	c = open_cap(0, 0);
	fill(frame, sizeof(frame), 8);
	for (i = 0; i < 2000; i++) {
		capture_write(c, T(0, i, 0), frame, 1000, 1000);
		if (i % 10 == 9 && capture_flush(c) != 0)
			fails++;
	}
	if (capture_sync(c) != 0)
		fails++;
	capture_stats(c, &st);
	CHECK(fails > 0);
	CHECK(st.lost_frames > 0);
	CHECK(st.lost_frames + st.frames == 2000);
	capture_close(c);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	n = count_records(path, &clean);
	CHECK(n == (int)st.frames && clean);
	CHECK(file_size(path) == 24 + n * 1016);
	return 0;
}

static void
test_write_failure_async(void **state)
{
	(void)state;
	run_child(enospc_async_child);
}

static void
test_write_failure_full_disk(void **state)
{
	(void)state;
	run_child(enospc_child);
}

/*
 * Live, a disk that fills under kept super-frames: the batch that finds it
 * full is written into the reserve's room (the pwritev tried again), none
 * of its frames lost; status says failing until the reserve is held again.
 */
static int
enospc_reserve_child(void)
{
	struct capture_opts o = { .dir = tmpdir, .linktype = 1,
	    .mapped_end = true, .reserve_bytes = 256 << 10 };
	uint8_t *big = malloc(2 * 60000);
	struct capture_stats st;
	struct capture *c;
	char path[512];
	int i, n;
	bool clean;

	if (child_tmpfs("3m") == -1)
		return SKIPPED;
	CHECK(big != NULL);
	c = capture_open(&o);
	CHECK(c != NULL && capture_keep_frames(c));
	capture_stats(c, &st);
	CHECK(st.reserve);
	for (i = 0; i < 100 && !st.reserve_spent; i++) {
		fill(big, 60000, (uint32_t)(2 * i));
		fill(big + 60000, 60000, (uint32_t)(2 * i + 1));
		CHECK(capture_write(c, T(0, i, 0), big, 60000, 60000) == 0);
		CHECK(capture_write(c, T(0, i, 1), big + 60000, 60000, 60000) == 0);
		CHECK(capture_flush(c) == 0);
		memset(big, 0xee, 2 * 60000);
		capture_stats(c, &st);
	}
	CHECK(st.reserve_spent && !st.reserve && st.failing);
	CHECK(st.lost_frames == 0 && st.frames == (uint64_t)(2 * i));
	capture_close(c);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	n = count_records(path, &clean);
	CHECK(n == 2 * i && clean);
	CHECK(file_size(path) == 24 + n * (16 + 60000));
	free(big);
	return 0;
}

static void
test_live_reserve(void **state)
{
	(void)state;
	run_child(enospc_reserve_child);
}

/* Can a file in dir be written with O_DIRECT at 4 KiB? */
static bool
direct_works(const char *dir)
{
	char path[512];
	void *b = NULL;
	bool ok;
	int fd;

	snprintf(path, sizeof(path), "%s/.direct-probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
	if (fd == -1)
		return false;
	ok = posix_memalign(&b, 4096, 4096) == 0 &&
	    (memset(b, 0, 4096), pwrite(fd, b, 4096, 0) == 4096);
	free(b);
	close(fd);
	unlink(path);
	return ok;
}

/* Batch b of test_live_behind: long (written behind, or in line when
 * b % 5 == 2) or short, alternately in runs, and frame k's length in it. */
static int
behind_frames(int b)
{
	return b % 5 == 4 ? 3 : 9;
}

static uint32_t
behind_len(int b, int k)
{
	if (b % 5 == 4)				/* short: written in line */
		return 60 + (uint32_t)((b * 13 + k) % 1400);
	return 30000 + (uint32_t)((b * 7919 + k * 104729) % 35000);
}

/*
 * Live, with the fast path (behind_writer): a long batch is handed to the
 * writer thread by capture_flush_behind and its frames must stay while
 * capture_behind() counts it -- here six buffers used in turn, as the ring
 * buffer gives back only what was read before the batches in flight
 * (io_afpacket.c fast_give_back); every buffer capture_behind() no longer
 * holds is scribbled over at once, as the kernel may.  Short batches in between
 * wait for the writer and go in line, and so does every fifth long one
 * (capture_flush: a frame of it still to cross), the way the writer
 * would take (write_in_line).  Every record of every file
 * (rotated at 3 MiB) holds its frame, in order; the long batches were
 * counted behind, and both ways were taken where O_DIRECT works.
 */
static void
test_live_behind(void **state)
{
	enum { NBUF = 6 };
	const int nb = 120;
	struct capture_opts o = { .dir = tmpdir, .linktype = 1,
	    .rotate_bytes = 3 << 20, .mapped_end = true, .behind_writer = true };
	uint8_t *buf[NBUF], *want = malloc(65536);
	unsigned held, most = 0;
	char path[512], err[PCAP_ERRBUF_SIZE];
	struct capture_stats st;
	struct pcap_pkthdr *h;
	const u_char *d;
	struct capture *c;
	int b, k, files, got = 0, total = 0, longs = 0;
	pcap_t *p;

	(void)state;
	for (b = 0; b < NBUF; b++) {
		buf[b] = malloc(9 * 65536);
		assert_non_null(buf[b]);
	}
	assert_non_null(want);
	c = capture_open(&o);
	assert_non_null(c);
	assert_true(capture_keep_frames(c));
	for (b = 0; b < nb; b++) {
		uint8_t *base = buf[b % NBUF];

		/* The last `held` batches are the writer's; the rest may go. */
		held = capture_behind(c);
		assert_true(held <= 4 && held <= (unsigned)b);
		most = FB_MAX(most, held);
		for (k = 0; k < NBUF; k++) {
			int age = (b - k % NBUF + NBUF) % NBUF;	/* batches ago */

			if (age == 0 || age > (int)held)
				memset(buf[k], 0xee, 9 * 65536);
		}
		for (k = 0; k < behind_frames(b); k++) {
			uint32_t len = behind_len(b, k);
			uint8_t *f = base + (size_t)k * 65536;

			fill(f, len, (uint32_t)(total + k));
			assert_int_equal(capture_write(c, T(0, b, k), f, len, len), 0);
		}
		total += behind_frames(b);
		if (b % 5 == 2) {
			assert_int_equal(capture_flush(c), 0);
			continue;
		}
		longs += behind_frames(b) == 9;
		assert_int_equal(capture_flush_behind(c), 0);
	}
	while (capture_behind(c) > 0)
		usleep(100);
	capture_stats(c, &st);
	assert_int_equal(st.frames, total);
	assert_true(most >= 1);
	assert_int_equal(st.lost_frames, 0);
	assert_true(st.direct_bytes <= st.bytes);
	/* The first long batch goes through the page cache, the second
	 * with O_DIRECT, then the faster way and now and then the other. */
	assert_true(st.direct_bytes < st.bytes);
	if (direct_works(tmpdir))
		assert_true(st.direct_bytes > 0);
	capture_close(c);
	for (files = 1;; files++) {
		pcap_path(path, sizeof(path), T(0, 0, 0), (unsigned)files);
		if (file_size(path) == -1)
			break;
		p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
		assert_non_null(p);
		while (pcap_next_ex(p, &h, &d) == 1) {
			int seen = 0;

			for (b = 0; seen + behind_frames(b) <= got; b++)
				seen += behind_frames(b);
			k = got - seen;
			assert_int_equal(h->ts.tv_sec - T(0, 0, 0) / FB_NS_PER_SEC, b);
			assert_int_equal(h->len, behind_len(b, k));
			assert_int_equal(h->caplen, h->len);
			fill(want, h->len, (uint32_t)got);
			assert_memory_equal(d, want, h->caplen);
			got++;
		}
		pcap_close(p);
	}
	assert_int_equal(got, total);
	assert_true(files > 3);		/* rotated between batches behind */
	/* Each rotation may leave a long batch's end too short to go behind. */
	assert_true(st.behind_batches <= (uint64_t)longs);
	assert_true(st.behind_batches + (uint64_t)files - 1 >= (uint64_t)longs);
	for (b = 0; b < NBUF; b++)
		free(buf[b]);
	free(want);
}

/*
 * Live, written behind, the disk fills: the writer's failure is known at
 * capture_behind, which frees the reserve and writes the batch again into
 * its room (and the batches queued after it, which the writer left: the
 * file must not get records beyond a hole); nothing is lost and status
 * says failing.  Every third batch is long but goes in line
 * (capture_flush), the same way.
 */
static int
enospc_behind_child(void)
{
	struct capture_opts o = { .dir = tmpdir, .linktype = 1,
	    .mapped_end = true, .behind_writer = true, .reserve_bytes = 256 << 10 };
	const uint32_t len = 60000;
	uint8_t *big = malloc(3 * 5 * len), *at;
	struct capture_stats st;
	struct capture *c;
	char path[512];
	int i, j, n, behind = 0;
	bool clean;

	if (child_tmpfs("4m") == -1)
		return SKIPPED;
	CHECK(big != NULL);
	c = capture_open(&o);
	CHECK(c != NULL && capture_keep_frames(c));
	capture_stats(c, &st);
	CHECK(st.reserve);
	for (i = 0; i < 100 && !st.reserve_spent; i++) {
		at = big + (size_t)(i % 3) * 5 * len;
		for (j = 0; j < 5; j++) {
			fill(at + j * len, len, (uint32_t)(5 * i + j));
			CHECK(capture_write(c, T(0, i, j), at + j * len, len, len) == 0);
		}
		if (i % 3 == 2) {
			/* In line: the two behind before it are written. */
			CHECK(capture_flush(c) == 0);
			CHECK(capture_behind(c) == 0);
			memset(big, 0xee, 3 * 5 * len);
		} else {
			CHECK(capture_flush_behind(c) == 0);
			behind++;
		}
		capture_stats(c, &st);
	}
	while (capture_behind(c) > 0)
		usleep(100);
	capture_stats(c, &st);
	CHECK(st.reserve_spent && !st.reserve && st.failing);
	CHECK(st.lost_frames == 0 && st.frames == (uint64_t)(5 * i));
	CHECK(st.behind_batches == (uint64_t)behind);
	capture_close(c);
	pcap_path(path, sizeof(path), T(0, 0, 0), 1);
	n = count_records(path, &clean);
	CHECK(n == 5 * i && clean);
	CHECK(file_size(path) == 24 + (off_t)n * (16 + len));
	free(big);
	return 0;
}

static void
test_live_behind_reserve(void **state)
{
	(void)state;
	run_child(enospc_behind_child);
}

static int
low_space_child(void)
{
	struct capture_opts o = { .dir = tmpdir, .linktype = 1,
	    .min_free_bytes = 5 << 19 };	/* 2.5 MiB */
	struct capture_stats st;
	struct capture *c;
	char p[512];

	if (child_tmpfs("4m") == -1)
		return SKIPPED;
	snprintf(p, sizeof(p), "%s/2026-11-20/packets", tmpdir);
	CHECK(mkdir_p(p, 0750) == 0);
	snprintf(p, sizeof(p), "%s/2026-11-21/packets", tmpdir);
	CHECK(mkdir_p(p, 0750) == 0);
	CHECK(fill_file("2026-11-20/packets/00001.pcap", 1 << 20) == 0);
	CHECK(fill_file("2026-11-20/conn.jsonl", 1000) == 0);
	CHECK(fill_file("2026-11-21/packets/00001.pcap", 1 << 20) == 0);
	c = capture_open(&o);
	CHECK(c != NULL);
	/* 4 MiB - 2 MiB used: below 2.5 MiB; deleting the 20th is enough */
	CHECK(!capture_tick(c, T(0, 100, 0)));
	capture_stats(c, &st);
	CHECK(!st.low_space && st.free_bytes >= (5 << 19));
	CHECK(st.days_deleted == 1);
	CHECK(!exists("2026-11-20/packets"));
	CHECK(exists("2026-11-20/conn.jsonl"));
	CHECK(exists("2026-11-21/packets/00001.pcap"));

	/* today's data fills the disk: nothing may go, space stays low */
	snprintf(p, sizeof(p), "%s/2026-11-26/packets", tmpdir);
	CHECK(mkdir_p(p, 0750) == 0);
	CHECK(fill_file("2026-11-26/packets/big", 2 << 20) == 0);
	CHECK(!capture_tick(c, T(0, 101, 0)));		/* not checked again yet */
	CHECK(capture_tick(c, T(0, 110, 0)));
	capture_stats(c, &st);
	CHECK(st.low_space && st.free_bytes < (5 << 19));
	CHECK(!exists("2026-11-21/packets"));
	CHECK(exists("2026-11-26/packets/big"));
	capture_close(c);
	return 0;
}

static void
test_low_space(void **state)
{
	(void)state;
	run_child(low_space_child);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_libpcap_reads_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_by_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_midnight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbering_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_keep_days, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_fsize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair_zero_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_full_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_low_space, setup, teardown),
		/* the same promises with the live writer */
		cmocka_unit_test_setup_teardown(test_libpcap_reads_it, setup_mapped, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_by_size, setup_mapped, teardown),
		cmocka_unit_test_setup_teardown(test_midnight, setup_mapped, teardown),
		cmocka_unit_test_setup_teardown(test_numbering_continues, setup_mapped, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_fsize, setup_mapped, teardown),
		cmocka_unit_test_setup_teardown(test_kill9, setup_mapped, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_full_disk, setup_mapped, teardown),
		/* and with the replay's writer thread */
		cmocka_unit_test_setup_teardown(test_threaded_order, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_libpcap_reads_it, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_by_size, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_midnight, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_numbering_continues, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_fsize, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_full_disk, setup_threaded, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_async, setup_threaded, teardown),
		/* replay from a mapped input: long frames not copied */
		cmocka_unit_test_setup_teardown(test_kept_frames, setup_kept, teardown),
		cmocka_unit_test_setup_teardown(test_keep_needs_thread, setup, teardown),
		/* live, super-frames not copied */
		cmocka_unit_test_setup_teardown(test_live_superframes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_behind_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_fsize, setup_kept, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_full_disk, setup_kept, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_async, setup_kept, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
