/*
 * test_io_pcap: the replay source reading classic pcap files itself
 * (mapped for a regular file): every record in order, a cut last record,
 * and a file that shrinks while it is mapped (SIGBUS) ending the replay
 * with an error, not a crash; kept frames: release comes before the
 * window that holds them goes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "testutil.h"
#include "io.h"

#define NREC	20000
#define RECLEN	100	/* bytes of frame per record */

static char path[64];

/* A classic µs pcap of NREC records, record i: RECLEN bytes of (i & 0xff). */
static void
write_pcap(void)
{
	uint32_t hdr[6] = { 0xa1b2c3d4U, 0x00040002U, 0, 0, 65535, 1 };
	uint8_t rec[16 + RECLEN];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_io_pcap.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(hdr, sizeof(hdr), 1, f), 1);
	for (uint32_t i = 0; i < NREC; i++) {
		uint32_t h[4] = { 1000 + i, i % 1000000, RECLEN, RECLEN + 4 };

		memcpy(rec, h, sizeof(h));
		memset(rec + 16, (int)(i & 0xff), RECLEN);
		assert_int_equal(fwrite(rec, sizeof(rec), 1, f), 1);
	}
	assert_int_equal(fclose(f), 0);
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* Frames until the end; checks each one's bytes and time.  The count. */
static int
read_all(struct fb_io *io, int first)
{
	struct fb_frame fr[256];
	int n, total = first;

	while ((n = io->ops->next_batch(io, fr, 256, 0)) > 0) {
		for (int i = 0; i < n; i++, total++) {
			assert_int_equal(fr[i].caplen, RECLEN);
			assert_int_equal(fr[i].wirelen, RECLEN + 4);
			assert_int_equal(fr[i].ts, (fb_ns)(1000 + total) * FB_NS_PER_SEC +
			    (fb_ns)(total % 1000000) * 1000);
			assert_int_equal(fr[i].data[0], total & 0xff);
			assert_int_equal(fr[i].data[RECLEN - 1], total & 0xff);
		}
	}
	return total;
}

static void
test_every_record(void **state)
{
	char err[256];
	struct fb_io *io;

	(void)state;
	write_pcap();
	io = io_pcap_open(path, err, sizeof(err));
	assert_non_null(io);
	assert_int_equal(read_all(io, 0), NREC);
	io->ops->close(io);
}

static void
test_last_record_cut(void **state)
{
	char err[256];
	struct fb_io *io;

	(void)state;
	write_pcap();
	assert_int_equal(truncate(path, 24 + (off_t)(NREC - 1) * (16 + RECLEN) + 50), 0);
	io = io_pcap_open(path, err, sizeof(err));
	assert_non_null(io);
	assert_int_equal(read_all(io, 0), NREC - 1);
	io->ops->close(io);
}

/* Cut under the mapped window: the pages behind the cut vanish (SIGBUS on
 * access), the reader ends with an error; the process lives on. */
static void
test_shrinks_while_mapped(void **state)
{
	struct fb_frame fr[256];
	char err[256];
	struct fb_io *io;
	int n, total;

	(void)state;
	write_pcap();
	io = io_pcap_open(path, err, sizeof(err));
	assert_non_null(io);
	n = io->ops->next_batch(io, fr, 256, 0);
	assert_int_equal(n, 256);
	assert_int_equal(truncate(path, 4096), 0);
	total = 256;
	while ((n = io->ops->next_batch(io, fr, 256, 0)) > 0)
		total += n;	/* the records before the cut, perhaps */
	assert_true(total < NREC);
	io->ops->close(io);
	/* and a new reader of a whole file works as before */
	write_pcap();
	io = io_pcap_open(path, err, sizeof(err));
	assert_non_null(io);
	assert_int_equal(read_all(io, 0), NREC);
	io->ops->close(io);
}

/* Big records over several 16 MiB windows: the last batch's frames are
 * still there, whole, each time release is called (then the window goes). */
#define BIGREC	4000
#define NBIG	10000

static struct fb_frame big_fr[256];
static int big_n, big_first, releases;

static void
check_batch(void *arg)
{
	(void)arg;
	releases++;
	for (int i = 0; i < big_n; i++) {
		int k = big_first + i;

		assert_int_equal(big_fr[i].data[0], k & 0xff);
		assert_int_equal(big_fr[i].data[BIGREC - 1], k & 0xff);
	}
}

static void
test_kept_frames_released(void **state)
{
	uint32_t hdr[6] = { 0xa1b2c3d4U, 0x00040002U, 0, 0, 65535, 1 };
	static uint8_t rec[16 + BIGREC];
	char err[256];
	struct fb_io *io;
	FILE *f;
	int fd, n, total = 0;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_io_pcap.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(hdr, sizeof(hdr), 1, f), 1);
	for (uint32_t i = 0; i < NBIG; i++) {
		uint32_t h[4] = { 1000 + i, 0, BIGREC, BIGREC };

		memcpy(rec, h, sizeof(h));
		memset(rec + 16, (int)(i & 0xff), BIGREC);
		assert_int_equal(fwrite(rec, sizeof(rec), 1, f), 1);
	}
	assert_int_equal(fclose(f), 0);
	io = io_pcap_open(path, err, sizeof(err));
	assert_non_null(io);
	assert_true(io->keeps_frames);
	io->release = check_batch;
	releases = 0;
	while ((n = io->ops->next_batch(io, big_fr, 256, 0)) > 0) {
		big_first = total;
		big_n = n;
		total += n;
	}
	assert_int_equal(total, NBIG);
	/* 40 MB in 16 MiB windows: two moves (the end unmaps nothing new) */
	assert_true(releases >= 2);
	n = releases;
	io->ops->close(io);
	assert_int_equal(releases, n);	/* not at close */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_record, teardown),
		cmocka_unit_test_teardown(test_last_record_cut, teardown),
		cmocka_unit_test_teardown(test_shrinks_while_mapped, teardown),
		cmocka_unit_test_teardown(test_kept_frames_released, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
