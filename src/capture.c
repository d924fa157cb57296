/*
 * capture: the pcap recorder.  Owns DIR/YYYY-MM-DD/packets/NNNNN.pcap, their
 * rotation, and the retention of day folders.  See capture.h.
 *
 * Promises kept here:
 * - Our own writer, not stdio: frames are copied into a batch buffer
 *   (capture_write is a bounds check, a 16-byte header and a memcpy; no
 *   syscall unless the buffer is full or the file must rotate) and the
 *   batch goes to the file with pwrite(2) at a known offset.  A failed or
 *   short write is cut back with ftruncate(2) to the end of the last whole
 *   batch, so the file always ends on a record boundary, and every frame of
 *   the failed batch is counted lost.  A kill -9 can at most cut the batch
 *   the kernel was copying when it struck.
 * - Live (mapped_end): the end of the file being written is reserved with
 *   fallocate(2) a window at a time and mapped; a small batch (a lone SYN,
 *   a DNS answer) is copied into the mapping instead of going through
 *   pwrite(2), which costs a system call, an inode update and a journal
 *   handle per batch and was a fifth of the time of a new connection through
 *   the gateway.  The bytes are in the file's page cache when the copy
 *   returns, so the frame is written before it is forwarded and a kill -9
 *   loses nothing.  Blocks are reserved before they are mapped, so a full
 *   disk is a failed fallocate (the batch then takes the pwrite path and its
 *   failure handling), never a SIGBUS.  Behind the last record lies a
 *   16-byte end mark whose length field no reader accepts, so tcpdump or
 *   Wireshark reading the file while it grows stop there with an error, as
 *   they would at a half-written record; closing the file cuts it to its
 *   records, and capture_open cuts a file a crash left open (end_repair).
 * - Replay (writer_thread): nothing is forwarded, so the pcap may be written
 *   behind the engine: a thread of its own writes one batch while the
 *   engine fills the other buffer (the second core does the kernel's copy
 *   into the page cache).  Same bytes, same cut-back and counting; a batch
 *   is handed over once it holds half a buffer (a wake-up of each thread per
 *   hand-over), a failure is known a hand-over late, and
 *   capture_sync/capture_close wait for it.
 * - Replay from a mapped input (capture_keep_frames): a frame of REF_MIN
 *   bytes or more is not copied into the batch but written by the writer
 *   from where it lies (pwritev: its record header from the batch buffer,
 *   its bytes from the input), so the engine's thread neither reads nor
 *   copies the bulk of the bytes (the copy was 5-6 % of its time and
 *   pulled every byte through its cache).  The input promises its bytes
 *   until it calls capture_release, which hands the batch over and waits
 *   for the writer; same bytes in the file, same cut-back and counting.
 *   Live (mapped_end, no thread), only frames of more than MAP_BATCH_MAX
 *   bytes (GSO super-frames, jumbo frames) are kept: a batch holding one
 *   takes pwritev at capture_flush, which the engine makes before it
 *   forwards the batch or reads the next, so the frame is still in the
 *   file before it crosses; the copy it saves was a sixth of the engine
 *   thread's time on a TCP stream with offloads on.
 * - Live, written behind (behind_writer, capture_flush_behind): a long
 *   batch whose frames all crossed the fast path already is queued for
 *   the writer thread (up to BEHIND_JOBS), while the engine reads and
 *   judges the next batch; the frames stay where they lie (the fast
 *   path's ring buffers) while capture_behind counts their batch.  The
 *   writer writes the queue in order and nothing after a failed write
 *   (the engine writes those again, in order: account_job).  It writes
 *   its whole blocks with O_DIRECT
 *   from a staging buffer (write_staged), or, when it falls behind and
 *   the page cache is faster, with pwritev from where the frames lie
 *   (choose_direct).  Any other write waits for it first; a long one
 *   (a batch with a frame still to cross) then goes the way a late batch
 *   behind would, written by the engine's thread (write_in_line).
 * - A file is numbered after the highest number already in its folder and
 *   created exclusively (linkat/O_EXCL), so a restart never overwrites a
 *   capture; it gets its name only once it holds its header (O_TMPFILE),
 *   so a crash never leaves a file too short to open.
 * - A file rotates when the next record would take it past rotate_bytes
 *   (a file always holds at least one record) and when a frame or the
 *   timer is in a later UTC day; an older frame (clock stepped back) stays
 *   in the current file.
 * - Retention deletes only directories of DIR whose names are YYYY-MM-DD,
 *   without following symbolic links (openat/unlinkat on O_NOFOLLOW
 *   descriptors), never crossing into another file system, and never the
 *   day being written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture.h"

#define PCAP_MAGIC_NS		0xa1b23c4dU
#define PCAP_HDR_LEN		24
#define PCAP_REC_HDR_LEN	16
#define CAPTURE_SNAPLEN		262144
#define BATCH_MIN		(1024 * 1024)
#define DAY_NS			(86400 * FB_NS_PER_SEC)
#define SPACE_CHECK_NS		(5 * FB_NS_PER_SEC)
#define MAX_DAYS_SCAN		4096	/* day folders looked at per scan */
#define RM_MAX_DEPTH		16
#define OPEN_TRIES		1000
#define MAP_WINDOW		(8u << 20)	/* reserved and mapped at a time */
#define MAP_BATCH_MAX		(4u << 10)	/* bigger batches: pwrite is cheaper */
#define MAP_AFTER_SMALL		64		/* small batches in a row before mapping */
#define END_MARK_LEN		PCAP_REC_HDR_LEN
#define END_MARK_SEC		0xffffffffU	/* ts, caplen, len all ones */
#define REF_MIN			512		/* kept frames this long are not copied */
#define REF_LIVE_MIN		(MAP_BATCH_MAX + 1)	/* live: super-frames */
#define REF_IOV			1024		/* iovecs per batch (IOV_MAX) */
#define DIRECT_ALIGN		4096u		/* O_DIRECT offsets, lengths, memory */
#define BEHIND_MIN		(256u << 10)	/* live: shorter batches stay in line */
/* Live: a batch written in line (its frames cross after) this long goes
 * either way, around the page cache from a cold one (write_in_line): a
 * held stream's batches are mostly shorter than BEHIND_MIN; +10 % TCP
 * with offloads on (docs/performance.md, session 17). */
#ifndef IN_LINE_MIN
#define IN_LINE_MIN		(64u << 10)
#endif
#define STAGE_LEN		(4u << 20)	/* the behind writer's staging buffer */
#define PROBE_EVERY		16		/* behind: the slower way, once in so many */
/* Live: batches in the writer's hands at once, so it need not wait for the
 * engine's thread to wake and hand over the next: +4 % TCP with offloads
 * on (session 17).  Off again from session 17 to 18 because the clean-
 * clone CI failed fastpath.sh P with it; that was the reader's merge of
 * the two legs and PAWS in stream reassembly, both wrong at any depth,
 * only met more often here (docs/io.md "Reading", docs/reassembly.md). */
#ifndef BEHIND_JOBS
#define BEHIND_JOBS		4
#endif

/*
 * A batch handed to the writer thread.  The slot owns a batch buffer
 * (store) and, with kept frames, an iovec array (iov_store): handing a
 * batch over swaps the engine's buffers with the slot's, so the engine
 * fills the next batch while the writer works through the queue.
 */
struct wjob {
	int		 fd;
	uint64_t	 off;
	uint8_t		*buf;		/* the batch: the slot's store */
	size_t		 len;
	struct iovec	*iov;		/* kept frames: the batch, or NULL */
	int		 niov;
	uint32_t	 nbatch;
	bool		 behind;	/* live: gathered through stage */
	bool		 late;		/* the writer had work when it came */
	bool		 cancelled;	/* not written: a job before it failed */
	uint64_t	 direct;	/* bytes of it written with O_DIRECT */
	int		 err;		/* 0, or errno of the write */
	struct iovec	 one;		/* behind, no kept frames: buf */
	uint8_t		*store;
	struct iovec	*iov_store;
};

struct capture {
	char		*dir;
	int		 reserve_fd;	/* DIR/.fishbowl-reserve, -1: none */
	uint64_t	 reserve_len;
	int		 linktype;
	uint32_t	 snaplen;
	uint64_t	 rotate_bytes;
	uint32_t	 keep_days;
	uint64_t	 min_free;

	int		 fd;		/* -1: none, or the last one became unusable */
	int64_t		 day;		/* day number of the current file, -1 none yet */
	fb_ns		 day_end;	/* its next midnight: the hot path's day check */
	uint64_t	 off;		/* bytes in the file: header + flushed batches */
	uint32_t	 next_num;	/* next file number for next_num_day */
	int64_t		 next_num_day;

	uint8_t		*buf;		/* the batch: whole records for fd */
	size_t		 cap, len;
	uint32_t	 nbatch;	/* frames in buf */
	bool		 batch_lost;	/* something lost since the last capture_flush */
	bool		 open_failed;	/* do not retry opening until flush/tick */

	int64_t		 retention_day;	/* day of the last retention pass, -1 none */
	bool		 space_checked;
	fb_ns		 space_checked_at;

	struct capture_stats st;

	bool		 mapped_end;	/* live: small batches through the mapping */
	bool		 map_refused;	/* this file cannot be reserved: pwrite only */
	bool		 no_tmpfile;	/* O_TMPFILE + linkat unavailable here */
	uint32_t	 small_run;	/* small batches in a row */
	uint8_t		*map;		/* the mapped window, or NULL */
	uint64_t	 map_off;	/* its file offset (page aligned) */
	size_t		 map_len;
	uint64_t	 file_end;	/* the file's size: off, or the window's end */

	/* Replay (writer_thread): one batch at a time written by a thread of
	 * its own while the next one fills; see write_batch_async.  Live
	 * (behind_writer): the same thread, for capture_flush_behind only,
	 * up to BEHIND_JOBS batches queued. */
	bool		 threaded;	/* replay: every batch goes to the writer */
	bool		 writer;	/* the thread runs (replay or live) */
	bool		 direct;	/* live: O_DIRECT is taken here */
	uint8_t		*stage;		/* live: STAGE_LEN, DIRECT_ALIGN aligned */
	struct iovec	*wiov;		/* live: the writer's copy of a job's iov */
	uint64_t	 ns_mib[2];	/* writer: ns per MiB lately, page cache
					   and O_DIRECT (0: not measured yet;
					   note_speed) */
	uint32_t	 ways_n;	/* long batches written either way */
	/* For the close log: where the bytes went, each way. */
	uint64_t	 behind_bytes, behind_direct;	/* written behind */
	uint64_t	 in_line_n, in_line_bytes, in_line_direct;	/* long, in line */
	pthread_t	 thr;
	pthread_mutex_t	 mu;
	pthread_cond_t	 job_cv;	/* the writer waits here for a batch */
	pthread_cond_t	 done_cv;	/* the engine waits here for the writer */
	/* The queue: jobs[q % depth]; q_head..q_done written (or failed,
	 * or cancelled) and not yet accounted, q_done..q_tail the writer's
	 * still.  Indexes only grow.  q_done, q_tail, q_stop and halted
	 * under mu. */
	struct wjob	 jobs[BEHIND_JOBS];
	uint32_t	 depth;		/* 1 replay, BEHIND_JOBS live */
	uint32_t	 q_head, q_done, q_tail;
	bool		 q_stop;
	bool		 halted;	/* a write failed: the writer cancels
					   the jobs after it until accounted */
	/* For the close log: how busy the writer was, from its first job
	 * to the end of its last (the writer's; read after it stopped). */
	fb_ns		 w_busy, w_first, w_last;
	fb_ns		 e_waited;	/* the engine's, in wait_done */

	/* Kept frames (capture_keep_frames): the batch is iov[0..niov) and
	 * buf[seg..fill) after it; len still counts all of its bytes. */
	bool		 refs;
	uint32_t	 ref_min;	/* frames this long are kept */
	size_t		 fill, seg;
	struct iovec	*iov;
	struct iovec	*spare_iov;	/* write_kept_batch's copy for a retry */
	int		 niov;
};

static int64_t
day_of(fb_ns t)
{
	return t < 0 ? 0 : t / DAY_NS;
}

static void
put32(uint8_t *p, uint32_t v)
{
	/* host order: the magic tells readers which order that is */
	memcpy(p, &v, 4);
}

static void
put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
note_failure(struct capture *c, const char *what, const char *path)
{
	c->st.write_errors++;
	if (!c->st.failing)
		log_warn("capture: %s %s", what, path);
	c->st.failing = true;
}

/* "YYYY-MM-DD" and nothing else. */
static bool
is_day_name(const char *s)
{
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return false;
		} else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return s[10] == '\0';
}

/* File number of "NNNNN.pcap" (1-9 digits), or 0. */
static uint32_t
pcap_number(const char *s)
{
	uint32_t n = 0;
	int i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == 9)
			return 0;
		n = n * 10 + (uint32_t)(s[i] - '0');
	}
	if (i == 0 || strcmp(s + i, ".pcap") != 0)
		return 0;
	return n;
}

/* Highest NNNNN.pcap number in the folder, 0 if none. */
static uint32_t
highest_number(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	uint32_t max = 0, n;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		n = pcap_number(e->d_name);
		if (n > max)
			max = n;
	}
	closedir(d);
	return max;
}

/* Mapped end of file (live) */

static void
end_mark(uint8_t *p)
{
	put32(p, END_MARK_SEC);
	put32(p + 4, END_MARK_SEC);
	put32(p + 8, 0xffffffffU);
	put32(p + 12, 0xffffffffU);
}

static void
map_drop(struct capture *c)
{
	if (c->map != NULL)
		munmap(c->map, c->map_len);
	c->map = NULL;
}

static size_t
page_size(void)
{
	static size_t ps;

	if (ps == 0) {
		long v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (size_t)v : 4096;
	}
	return ps;
}

/* Reserve [start, start + len) (the file grows to cover it) and map it. */
static int
map_window(struct capture *c, uint64_t start, size_t len)
{
	void *m;

	if (fallocate(c->fd, 0, (off_t)start, (off_t)len) == -1) {
		int err = errno;

		/* A failed fallocate may have grown the file: put it back
		 * (never below the records). */
		c->file_end = FB_MAX(c->file_end, c->off);
		if (ftruncate(c->fd, (off_t)c->file_end) == -1)
			c->map_refused = true;
		if (err != ENOSPC && err != EINTR)
			c->map_refused = true;	/* not supported, EFBIG: pwrite */
		errno = err;
		return -1;
	}
	c->file_end = FB_MAX(c->file_end, start + len);
	map_drop(c);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, (off_t)start);
	if (m == MAP_FAILED) {
		c->map_refused = true;
		return -1;
	}
	c->map = m;
	c->map_off = start;
	c->map_len = len;
	return 0;
}

/*
 * Make [c->off, end) reserved and mapped: a whole window, or near a full
 * disk just what this batch needs.  0, or -1: the caller takes the pwrite
 * path (a file that cannot be reserved at all is not asked again).
 */
static int
map_ensure(struct capture *c, uint64_t end)
{
	uint64_t start;
	size_t ps = page_size(), need;

	if (c->map != NULL && c->off >= c->map_off && end <= c->map_off + c->map_len)
		return 0;
	if (c->map_refused)
		return -1;
	start = c->off & ~(uint64_t)(ps - 1);
	need = (size_t)(end - start + ps - 1) & ~(ps - 1);
	if (need > MAP_WINDOW)
		return -1;
	if (map_window(c, start, MAP_WINDOW) == 0)
		return 0;
	if (errno != ENOSPC || c->map_refused)
		return -1;
	return map_window(c, start, need);
}

static int	cut_tail(struct capture *);
static void	reserve_open(struct capture *, uint64_t);
static bool	reserve_spend(struct capture *);

/*
 * A small batch, copied into the mapping.  0, or -1: use pwrite.  Only once
 * traffic has been made of small batches for a while (connections, scans,
 * interactive sessions: where a system call per frame shows); a bulk
 * stream gives the reserved tail back and goes through pwrite, because
 * ext4 converts every reserved (unwritten) extent it writes into, which
 * cost a quarter of the throughput of a 64 KiB-frame TCP stream.
 */
static int
write_mapped(struct capture *c)
{
	uint8_t *p;

	if (!c->mapped_end)
		return -1;
	if (c->len > MAP_BATCH_MAX) {
		c->small_run = 0;
		if (c->file_end > c->off && cut_tail(c) == -1)
			c->map_refused = true;
		return -1;
	}
	if (c->small_run < MAP_AFTER_SMALL) {
		c->small_run++;
		return -1;
	}
	if (map_ensure(c, c->off + c->len + END_MARK_LEN) == -1)
		return -1;
	p = c->map + (c->off - c->map_off);
	memcpy(p, c->buf, c->len);
	end_mark(p + c->len);
	return 0;
}

/* After a pwrite into a file with a reserved tail: the end mark follows. */
static void
mark_after_pwrite(struct capture *c, uint64_t end)
{
	uint8_t mark[END_MARK_LEN];
	ssize_t n;

	if (c->file_end <= end)
		return;		/* nothing reserved beyond: the file ends here */
	if (c->map != NULL && end >= c->map_off &&
	    end + END_MARK_LEN <= c->map_off + c->map_len) {
		end_mark(c->map + (end - c->map_off));
		return;
	}
	end_mark(mark);
	n = pwrite(c->fd, mark, sizeof(mark), (off_t)end);
	if (n == (ssize_t)sizeof(mark))
		c->file_end = FB_MAX(c->file_end, end + END_MARK_LEN);
}

/* Cut the file to its records: no reserved tail, no end mark. */
static int
cut_tail(struct capture *c)
{
	map_drop(c);
	if (c->file_end == c->off)
		return 0;
	if (ftruncate(c->fd, (off_t)c->off) == -1)
		return -1;
	c->file_end = c->off;
	return 0;
}

/* An empty batch. */
static void
batch_reset(struct capture *c)
{
	c->len = 0;
	c->nbatch = 0;
	c->fill = c->seg = 0;
	c->niov = 0;
}

static void
batch_written(struct capture *c)
{
	c->off += c->len;
	c->st.frames += c->nbatch;
	c->st.bytes += c->len;
	c->st.failing = c->st.reserve_spent;
	batch_reset(c);
}

/* The whole of buf at off, retrying short writes.  0, or an errno. */
static int
pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		return n == 0 ? ENOSPC : errno;
	}
	return 0;
}

/*
 * The whole of iov[0..cnt) (len bytes) at off, retrying short writes; iov
 * is used up.  0, or an errno.
 */
static int
pwritev_all(int fd, struct iovec *iov, int cnt, size_t len, uint64_t off)
{
	ssize_t n;

	while (len > 0) {
		while (cnt > 0 && iov->iov_len == 0)
			iov++, cnt--;
		n = pwritev(fd, iov, FB_MIN(cnt, REF_IOV), (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? ENOSPC : errno;
		len -= (size_t)n;
		off += (uint64_t)n;
		for (size_t k = (size_t)n; k > 0; ) {	/* skip what was written */
			size_t step = FB_MIN(k, iov->iov_len);

			iov->iov_base = (uint8_t *)iov->iov_base + step;
			iov->iov_len -= step;
			k -= step;
			if (iov->iov_len == 0)
				iov++, cnt--;
		}
	}
	return 0;
}

/*
 * A batch of nbatch frames starting at c->off could not be written: count
 * them lost and cut the file back to its last whole record.  If that fails,
 * or the file itself cannot grow (EFBIG), it is unusable: the next frame
 * opens the next number.  Otherwise (disk full) the next batch tries this
 * file again.  Returns -1.
 */
static int
batch_failed(struct capture *c, int err, uint32_t nbatch)
{
	errno = err;
	note_failure(c, "write", c->st.current);
	c->st.lost_frames += nbatch;
	c->batch_lost = true;
	c->file_end = FB_MAX(c->file_end, c->off + 1);	/* unknown: cut */
	if (cut_tail(c) == -1) {
		log_warn("capture: cannot cut back %s", c->st.current);
		err = EIO;
	}
	if (err == EFBIG || err == EBADF || err == EIO) {
		close(c->fd);
		c->fd = -1;
	}
	return -1;
}

/* Copy n bytes of iov[0..niov), from byte from on, into dst. */
static void
iov_gather(const struct iovec *iov, int niov, size_t from, uint8_t *dst, size_t n)
{
	for (int i = 0; i < niov && n > 0; i++) {
		size_t l = iov[i].iov_len, take;

		if (from >= l) {
			from -= l;
			continue;
		}
		take = FB_MIN(l - from, n);
		memcpy(dst, (const uint8_t *)iov[i].iov_base + from, take);
		dst += take;
		n -= take;
		from = 0;
	}
}

/* Bytes [from, to) of the file, which begins with iov at off, through the
 * staging buffer.  0, or an errno (EINVAL: O_DIRECT refused). */
static int
write_range(struct capture *c, int fd, uint64_t off, const struct iovec *iov,
    int niov, uint64_t from, uint64_t to)
{
	int err = 0;

	for (uint64_t pos = from; pos < to && err == 0; pos += STAGE_LEN) {
		size_t n = (size_t)FB_MIN((uint64_t)STAGE_LEN, to - pos);

		iov_gather(iov, niov, (size_t)(pos - off), c->stage, n);
		err = pwrite_all(fd, c->stage, n, pos);
	}
	return err;
}

/*
 * Live, a batch written behind the engine (capture_flush_behind), in the
 * writer thread: copied through the staging buffer, its whole blocks
 * written with O_DIRECT, around the page cache, the partial blocks at
 * either end with a plain pwrite.  Why: on a VM whose freed memory goes
 * back to its host, every fresh page-cache page is faulted in from the
 * host at its first write, and that copy bounded a fast TCP stream
 * (docs/performance.md, session 12); the disk takes more.  A block is
 * written one way only: the file only grows and the batch begins at its
 * records' end (the reserved end was cut before the hand-over), so the
 * page cache holds no page where the direct writes go.  Where O_DIRECT is
 * refused (a file system without it, or another alignment), the blocks
 * are written plainly from the stage and it stays off.  iov is not used
 * up: a full disk writes it again.  0, or an errno.
 */
static int
write_staged(struct capture *c, int fd, uint64_t off, const struct iovec *iov,
    int niov, size_t len, uint64_t *direct)
{
	uint64_t end = off + len;
	uint64_t a0 = (off + DIRECT_ALIGN - 1) & ~(uint64_t)(DIRECT_ALIGN - 1);
	uint64_t a1 = end & ~(uint64_t)(DIRECT_ALIGN - 1);
	int err;

	if (a1 <= a0 || !c->direct)
		return write_range(c, fd, off, iov, niov, off, end);
	if ((err = write_range(c, fd, off, iov, niov, off, a0)) != 0)
		return err;
	if (fcntl(fd, F_SETFL, O_DIRECT) == -1) {
		c->direct = false;
		err = EINVAL;
	} else {
		err = write_range(c, fd, off, iov, niov, a0, a1);
		(void)fcntl(fd, F_SETFL, 0);
		if (err == 0)
			*direct += a1 - a0;
	}
	if (err == EINVAL) {
		log_warnx("capture: O_DIRECT refused here: pcap writes go "
		    "through the page cache");
		c->direct = false;
		err = write_range(c, fd, off, iov, niov, a0, a1);
	}
	if (err != 0)
		return err;
	return write_range(c, fd, off, iov, niov, a1, end);
}

/*
 * Which way a batch written behind goes.  Around the page cache the disk
 * sets the pace (786 MB/s here) and the CPU does next to nothing; through
 * it, the CPU copies every byte (3.3 GB/s into pages the host still
 * backs, 0.5 GB/s into pages it must fault in first: a VM with free page
 * reporting; docs/performance.md, session 12) and the kernel's flusher
 * writes it all out later, on the same two CPUs the forwarding needs.
 * So O_DIRECT while the writer keeps up; the page cache only when it is
 * late (the engine handed this batch over while it was still writing the
 * last one) and the page cache has written a MiB at least a fifth faster
 * lately (note_speed): it takes a burst faster than the disk.  The other
 * way one batch in PROBE_EVERY, so both costs stay known.
 */
static bool
choose_direct(struct capture *c, bool late)
{
	bool direct;

	if (!c->direct)
		return false;
	c->ways_n++;
	if (c->ns_mib[0] == 0)
		return false;
	if (c->ns_mib[1] == 0)
		return true;
	direct = !(late && c->ns_mib[0] * 5 < c->ns_mib[1] * 4);
	return c->ways_n % PROBE_EVERY == 0 ? !direct : direct;
}

/*
 * A way's cost per MiB: the least seen lately.  A batch's wall time on a
 * busy machine is mostly how long the writer waited for a CPU (samples
 * 2-10x apart, and a running average flipped between the ways); the
 * least one is the way's own cost.  It rises by an eighth per slower
 * sample, so a way that became slower (writeback throttling) is seen as
 * such within a few batches.
 */
static void
note_speed(struct capture *c, bool direct, fb_ns took, size_t len)
{
	uint64_t per = (uint64_t)FB_MAX(took, 1) * (1u << 20) / FB_MAX(len, 1);
	uint64_t *cost = &c->ns_mib[direct];

	*cost = *cost == 0 || per < *cost ? per : *cost + *cost / 8;
}

/* A long batch, one way or the other (choose_direct): behind, in the
 * writer thread, or in line (write_in_line), in the engine's while the
 * writer is idle; either way c->stage and c->wiov are free.  iov is not
 * used up.  0, or an errno; *direct grows by the bytes written with
 * O_DIRECT. */
static int
write_either(struct capture *c, int fd, uint64_t off, const struct iovec *iov,
    int niov, size_t len, bool late, uint64_t *direct)
{
	bool way = choose_direct(c, late);
	fb_ns t0 = time_mono();
	int err;

	if (way) {
		err = write_staged(c, fd, off, iov, niov, len, direct);
	} else {
		memcpy(c->wiov, iov, (size_t)niov * sizeof(*iov));
		err = pwritev_all(fd, c->wiov, niov, len, off);
	}
	if (err == 0)
		note_speed(c, way, time_mono() - t0, len);
	return err;
}

/* The writer's (or, for a job cancelled by a failure before it, the
 * engine's) write of a job.  0, or an errno. */
static int
write_job(struct capture *c, struct wjob *j)
{
	j->direct = 0;
	if (j->behind)
		return write_either(c, j->fd, j->off, j->iov, j->niov, j->len,
		    j->late, &j->direct);
	if (j->iov != NULL)
		return pwritev_all(j->fd, j->iov, j->niov, j->len, j->off);
	return pwrite_all(j->fd, j->buf, j->len, j->off);
}

/*
 * The writer thread: writes the queued jobs in order, says when each is
 * done.  After a failed write it writes nothing more (the file must not
 * get records beyond a hole) and cancels the jobs after it, until the
 * engine has accounted them (collect).  Each side signals the other's
 * condition variable after unlocking: signalled under the lock, the woken
 * thread ran into the held mutex and slept again.
 */
static void *
writer_main(void *arg)
{
	struct capture *c = arg;
	struct wjob *j;
	bool cancel;
	fb_ns t0;
	int err;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->q_done == c->q_tail && !c->q_stop)
			pthread_cond_wait(&c->job_cv, &c->mu);
		if (c->q_done == c->q_tail)
			break;
		j = &c->jobs[c->q_done % c->depth];
		cancel = c->halted;
		pthread_mutex_unlock(&c->mu);
		t0 = time_mono();
		err = cancel ? 0 : write_job(c, j);
		c->w_last = time_mono();
		c->w_busy += c->w_last - t0;
		if (c->w_first == 0)
			c->w_first = t0;
		pthread_mutex_lock(&c->mu);
		j->cancelled = cancel;
		j->err = err;
		if (err != 0)
			c->halted = true;
		c->q_done++;
		pthread_mutex_unlock(&c->mu);
		pthread_cond_signal(&c->done_cv);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Wait until the writer is done with every job before index upto. */
static void
wait_done(struct capture *c, uint32_t upto)
{
	fb_ns t0 = 0;

	pthread_mutex_lock(&c->mu);
	if ((int32_t)(c->q_done - upto) < 0)
		t0 = time_mono();
	while ((int32_t)(c->q_done - upto) < 0)
		pthread_cond_wait(&c->done_cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	if (t0 != 0)
		c->e_waited += time_mono() - t0;
}

/*
 * Account one job the writer is done with.  A write that failed on a full
 * disk is written again into the reserve's room (live: its frames crossed);
 * one that still fails is counted lost and the file cut back to it, and
 * the jobs cancelled after it (*rewind) then follow it there, written
 * here.  0, or -1.
 */
static int
account_job(struct capture *c, struct wjob *j, bool *rewind)
{
	if (j->cancelled) {
		if (*rewind) {
			if (c->fd == -1) {	/* the failure closed the file */
				c->st.lost_frames += j->nbatch;
				c->batch_lost = true;
				return -1;
			}
			j->fd = c->fd;
			j->off = c->off;
			c->off += j->len;
			c->file_end = FB_MAX(c->file_end, c->off);
		}
		j->err = write_job(c, j);
	}
	if (j->behind && (j->err == ENOSPC || j->err == EDQUOT) &&
	    reserve_spend(c))
		j->err = write_job(c, j);
	if (j->err == 0) {
		c->st.frames += j->nbatch;
		c->st.bytes += j->len;
		c->st.behind_batches += j->behind;
		if (j->behind) {
			c->behind_bytes += j->len;
			c->behind_direct += j->direct;
		}
		c->st.direct_bytes += j->direct;
		c->st.failing = c->st.reserve_spent;
		return 0;
	}
	/* What comes after it (cancelled jobs, the batch being filled)
	 * follows it. */
	c->off = j->off;
	*rewind = true;
	return batch_failed(c, j->err, j->nbatch);
}

/*
 * Account the jobs the writer is done with, in order; with all, wait for
 * every one handed over first.  After a failure every job is waited for,
 * so the cancelled ones are written in order here, and the writer may go
 * on.  0, or -1 if one failed.
 */
static int
collect(struct capture *c, bool all)
{
	bool halted, rewind = false;
	uint32_t done;
	int rv = 0;

	if (!c->writer)
		return 0;
	if (all)
		wait_done(c, c->q_tail);
	pthread_mutex_lock(&c->mu);
	done = c->q_done;
	halted = c->halted;
	pthread_mutex_unlock(&c->mu);
	if (halted && done != c->q_tail) {
		wait_done(c, c->q_tail);
		done = c->q_tail;
	}
	for (; c->q_head != done; c->q_head++)
		if (account_job(c, &c->jobs[c->q_head % c->depth], &rewind) == -1)
			rv = -1;
	if (halted) {
		pthread_mutex_lock(&c->mu);
		c->halted = false;
		pthread_mutex_unlock(&c->mu);
	}
	return rv;
}

/*
 * Hand the batch to the writer thread and go on filling another buffer:
 * writing the pcap takes the second core while this one decodes.  Replay
 * waits for the batch before (depth 1); live, up to BEHIND_JOBS batches
 * written behind queue up, so the writer goes from one to the next
 * without waiting for this thread to wake (on two CPUs shared with the
 * endpoints, a wake-up each way per batch left it idle a third of the
 * time: docs/performance.md, session 17).  Returns the result of the
 * batches accounted (a failure is known a hand-over late; capture_close
 * and capture_sync wait).
 */
static int
write_batch_async(struct capture *c, bool behind)
{
	struct wjob *j;
	bool late;
	int rv;
	uint8_t *b;

	pthread_mutex_lock(&c->mu);
	late = c->q_done != c->q_tail;
	pthread_mutex_unlock(&c->mu);
	rv = collect(c, false);
	if (c->q_tail - c->q_head == c->depth) {	/* full: the oldest first */
		wait_done(c, c->q_head + 1);
		if (collect(c, false) == -1)
			rv = -1;
	}

	if (c->len == 0)
		return rv;
	if (c->fd == -1) {		/* the failure above closed the file */
		c->st.lost_frames += c->nbatch;
		c->batch_lost = true;
		batch_reset(c);
		return -1;
	}
	if (c->refs && c->fill > c->seg) {	/* the buffer's last piece */
		c->iov[c->niov].iov_base = c->buf + c->seg;
		c->iov[c->niov++].iov_len = c->fill - c->seg;
	}
	j = &c->jobs[c->q_tail % c->depth];
	j->fd = c->fd;
	j->off = c->off;
	j->len = c->len;
	j->niov = c->niov;
	j->nbatch = c->nbatch;
	j->behind = behind;
	j->late = late;
	j->cancelled = false;
	j->err = 0;
	b = j->store;
	j->store = j->buf = c->buf;
	c->buf = b;
	j->iov = NULL;
	if (c->refs) {
		struct iovec *v = j->iov_store;

		j->iov_store = c->iov;
		c->iov = v;
		if (j->niov > 0)
			j->iov = j->iov_store;
	}
	if (behind && j->iov == NULL) {
		j->one.iov_base = j->buf;
		j->one.iov_len = j->len;
		j->iov = &j->one;
		j->niov = 1;
	}
	pthread_mutex_lock(&c->mu);
	c->q_tail++;
	pthread_mutex_unlock(&c->mu);
	pthread_cond_signal(&c->job_cv);
	c->off += c->len;
	c->file_end = c->off;
	batch_reset(c);
	return rv;
}

/* Flush the batch to the current file.  0, or -1 (frames counted lost). */
/*
 * The reserve (capture_opts.reserve_bytes).  Held: its blocks allocated.
 * Spent: freed for the records that had crossed, until capture_tick can
 * allocate it again.
 */
static void
reserve_open(struct capture *c, uint64_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/.fishbowl-reserve", c->dir);
	c->reserve_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->reserve_fd == -1 ||
	    fallocate(c->reserve_fd, 0, 0, (off_t)len) == -1) {
		log_warn("capture: cannot hold %llu MiB of disk in reserve (%s): "
		    "on a full disk, frames that crossed the fast path may be "
		    "lost", (unsigned long long)(len >> 20), path);
		if (c->reserve_fd != -1) {
			(void)ftruncate(c->reserve_fd, 0);
			close(c->reserve_fd);
		}
		c->reserve_fd = -1;
	} else {
		c->reserve_len = len;
		c->st.reserve = true;
	}
}

/* The disk is full: free the reserve for what has crossed.  True if
 * there was one to free. */
static bool
reserve_spend(struct capture *c)
{
	if (c->reserve_fd == -1 || !c->st.reserve)
		return false;
	if (ftruncate(c->reserve_fd, 0) == -1)
		return false;
	c->st.reserve = false;
	c->st.reserve_spent = true;
	c->st.failing = true;
	log_warnx("capture: disk full, the reserve is spent: the gateway stays "
	    "closed until it can be held again");
	return true;
}

static void
reserve_restore(struct capture *c)
{
	if (!c->st.reserve_spent)
		return;
	if (fallocate(c->reserve_fd, 0, 0, (off_t)c->reserve_len) == -1) {
		(void)ftruncate(c->reserve_fd, 0);
		return;
	}
	c->st.reserve = true;
	c->st.reserve_spent = false;
	c->st.failing = false;
	log_info("capture: the reserve is held again");
}

/*
 * Live, a batch holding kept frames (super-frames: capture_keep_frames):
 * written with pwritev from where they lie, the record headers and short
 * frames from the buffer.  The iovecs are used up by a write; a copy is
 * kept for the second try on a full disk.
 */
static int
write_kept_batch(struct capture *c)
{
	int err;

	if (c->fill > c->seg) {		/* the buffer's last piece */
		c->iov[c->niov].iov_base = c->buf + c->seg;
		c->iov[c->niov++].iov_len = c->fill - c->seg;
	}
	memcpy(c->spare_iov, c->iov, (size_t)c->niov * sizeof(*c->iov));
	err = pwritev_all(c->fd, c->iov, c->niov, c->len, c->off);
	if ((err == ENOSPC || err == EDQUOT) && reserve_spend(c))
		err = pwritev_all(c->fd, c->spare_iov, c->niov, c->len, c->off);
	return err;
}

/*
 * Live, a batch of IN_LINE_MIN or more the engine must wait for (a frame
 * of it has still to cross, or the fast path is off): written in line, on
 * the engine's thread, but the way a late batch behind would go
 * (choose_direct): from a cold page cache a MiB cost twice what it costs
 * the disk, and these batches carried a fifth to a third of a TCP
 * stream's bytes (docs/performance.md, session 13).  Called with the
 * writer idle.  0, or an
 * errno (a full disk writes it again into the reserve's room).
 */
static int
write_in_line(struct capture *c)
{
	struct iovec one = { .iov_base = c->buf, .iov_len = c->len };
	struct iovec *iov = &one;
	uint64_t direct = 0;
	int niov = 1, err;

	if (c->refs && c->niov > 0) {
		if (c->fill > c->seg) {		/* the buffer's last piece */
			c->iov[c->niov].iov_base = c->buf + c->seg;
			c->iov[c->niov++].iov_len = c->fill - c->seg;
		}
		iov = c->iov;
		niov = c->niov;
	}
	/* No reserved end, no mapping where the blocks go (write_staged). */
	c->small_run = 0;
	if (c->file_end > c->off && cut_tail(c) == -1)
		c->map_refused = true;
	err = write_either(c, c->fd, c->off, iov, niov, c->len, true, &direct);
	if ((err == ENOSPC || err == EDQUOT) && reserve_spend(c)) {
		direct = 0;
		err = write_either(c, c->fd, c->off, iov, niov, c->len, true,
		    &direct);
	}
	if (err == 0) {
		c->st.direct_bytes += direct;
		c->in_line_n++;
		c->in_line_bytes += c->len;
		c->in_line_direct += direct;
	}
	return err;
}

static int
write_batch(struct capture *c)
{
	uint32_t nbatch;
	int err;

	if (c->threaded)
		return write_batch_async(c, false);
	/* Live: a batch written behind goes first (offsets follow it). */
	if (c->writer && collect(c, true) == -1 && c->fd == -1 && c->len > 0) {
		c->st.lost_frames += c->nbatch;
		c->batch_lost = true;
		batch_reset(c);
		return -1;
	}
	if (c->len == 0)
		return 0;
	if (c->direct && c->len >= IN_LINE_MIN) {
		err = write_in_line(c);
	} else if (c->refs && c->niov > 0) {
		/* Bigger than MAP_BATCH_MAX: the mapping gives way to pwrite. */
		c->small_run = 0;
		if (c->file_end > c->off && cut_tail(c) == -1)
			c->map_refused = true;
		err = write_kept_batch(c);
	} else if (write_mapped(c) == 0) {
		batch_written(c);
		return 0;
	} else {
		err = pwrite_all(c->fd, c->buf, c->len, c->off);
		/* A full disk: what crossed is written into the reserve's room. */
		if ((err == ENOSPC || err == EDQUOT) && reserve_spend(c))
			err = pwrite_all(c->fd, c->buf, c->len, c->off);
	}
	if (err == 0) {
		/* The file is at least this long now, reserved tail or not. */
		c->file_end = FB_MAX(c->file_end, c->off + c->len);
		mark_after_pwrite(c, c->off + c->len);
		batch_written(c);
		return 0;
	}
	nbatch = c->nbatch;
	batch_reset(c);
	return batch_failed(c, err, nbatch);
}

static void
close_file(struct capture *c)
{
	if (c->fd == -1)
		return;
	write_batch(c);
	collect(c, true);
	if (c->fd != -1 && cut_tail(c) == -1)
		note_failure(c, "cut the reserved end of", c->st.current);
	map_drop(c);
	if (c->fd != -1 && close(c->fd) == -1)
		note_failure(c, "close", c->st.current);
	c->fd = -1;
}

/* Open the next file of the given day.  0 or -1 (counted, not retried until flush/tick). */
static void
pcap_header(const struct capture *c, uint8_t hdr[PCAP_HDR_LEN])
{
	put32(hdr, PCAP_MAGIC_NS);
	put16(hdr + 4, 2);
	put16(hdr + 6, 4);
	put32(hdr + 8, 0);		/* thiszone */
	put32(hdr + 12, 0);		/* sigfigs */
	put32(hdr + 16, c->snaplen);
	put32(hdr + 20, (uint32_t)c->linktype);
}

/* Write the file header at the start of fd; -1 with errno (ENOSPC if short). */
static int
write_header(const struct capture *c, int fd)
{
	uint8_t hdr[PCAP_HDR_LEN];
	ssize_t n;

	pcap_header(c, hdr);
	do
		n = write(fd, hdr, sizeof(hdr));
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)sizeof(hdr))
		return 0;
	if (n >= 0)
		errno = ENOSPC;
	return -1;
}

/*
 * The file is written unnamed (O_TMPFILE) and linked in under the next free
 * number once it holds its header, so a crash can never leave a pcap too
 * short for any reader to open.  -2 means this way is not available here
 * (file system without O_TMPFILE, no /proc): the caller creates by name.
 */
static int
create_linked(struct capture *c, const char *pdir, char *path, size_t pathlen)
{
	char proc[64];
	int fd, tries;

	fd = open(pdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
	if (fd == -1)
		return errno == ENOSPC || errno == EDQUOT || errno == EROFS ? -1 : -2;
	if (write_header(c, fd) == -1) {
		close(fd);
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (tries = 0; tries < OPEN_TRIES; tries++, c->next_num++) {
		snprintf(path, pathlen, "%s/%05u.pcap", pdir, c->next_num);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
			return fd;
		if (errno != EEXIST)
			break;
	}
	if (errno == ENOENT || errno == EACCES || errno == EPERM) {
		close(fd);
		return -2;
	}
	close(fd);
	return -1;
}

/* The old way: create by name (O_EXCL), then write the header. */
static int
create_named(struct capture *c, const char *pdir, char *path, size_t pathlen)
{
	int fd = -1, tries;

	for (tries = 0; tries < OPEN_TRIES; tries++, c->next_num++) {
		snprintf(path, pathlen, "%s/%05u.pcap", pdir, c->next_num);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return -1;
	if (write_header(c, fd) == -1) {
		int e = errno;

		unlink(path);
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
open_file(struct capture *c, int64_t day)
{
	char dname[11], pdir[4096], path[4096 + 16];
	int fd;

	if (c->open_failed)
		return -1;
	time_day(day * DAY_NS, dname);
	if ((size_t)snprintf(pdir, sizeof(pdir), "%s/%s/packets", c->dir, dname) >=
	    sizeof(pdir)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (mkdir_p(pdir, 0750) == -1)
		goto fail;
	if (c->next_num_day != day) {
		c->next_num = highest_number(pdir) + 1;
		c->next_num_day = day;
	}
	fb_strlcpy(path, pdir, sizeof(path));
	fd = c->no_tmpfile ? -2 : create_linked(c, pdir, path, sizeof(path));
	if (fd == -2) {
		c->no_tmpfile = true;
		fd = create_named(c, pdir, path, sizeof(path));
	}
	if (fd == -1) {
		fb_strlcpy(pdir, path, sizeof(pdir));
		goto fail;
	}
	c->fd = fd;
	c->day = day;
	c->day_end = (day + 1) * DAY_NS;
	c->off = PCAP_HDR_LEN;
	c->file_end = PCAP_HDR_LEN;
	c->map_refused = false;
	c->next_num++;
	c->st.files++;
	c->st.bytes += PCAP_HDR_LEN;
	fb_strlcpy(c->st.current, path, sizeof(c->st.current));
	return 0;

fail:
	c->open_failed = true;
	note_failure(c, "cannot open", pdir);
	if (c->day < day)
		c->day = day;
	return -1;
}

/* Close the current file (flushing) and open the next one for day. */
static int
rotate_to(struct capture *c, int64_t day)
{
	close_file(c);
	return open_file(c, day);
}

/* Crash repair */

static uint32_t
get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/*
 * Where the last whole record of a pcap file of ours ends: the end mark, a
 * header of zeros, a record no reader would take, or a record cut short
 * stop the walk.
 */
static uint64_t
records_end(const uint8_t *p, uint64_t size)
{
	uint64_t off = PCAP_HDR_LEN;

	static const uint8_t zeros[PCAP_REC_HDR_LEN];

	while (off + PCAP_REC_HDR_LEN <= size) {
		uint32_t caplen = get32(p + off + 8);

		if (get32(p + off) == END_MARK_SEC && caplen == 0xffffffffU)
			break;
		/* The reserved tail reads as zeros: a kill between a batch's
		 * copy into the mapping and its end mark (or inside the copy,
		 * which stores in no fixed order) leaves zeros where the next
		 * record would be.  No record of ours is all zeros (it would be
		 * a frame at the epoch with no bytes and no length). */
		if (memcmp(p + off, zeros, sizeof(zeros)) == 0)
			break;
		if (caplen > CAPTURE_SNAPLEN || caplen > get32(p + off + 12) ||
		    off + PCAP_REC_HDR_LEN + caplen > size)
			break;
		off += PCAP_REC_HDR_LEN + caplen;
	}
	return off;
}

/* Cut a file a crash left with a reserved tail back to its records. */
static void
end_repair(const char *path)
{
	struct stat st;
	uint8_t *p;
	uint64_t end;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size < PCAP_HDR_LEN)
		goto out;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	end = get32(p) == PCAP_MAGIC_NS ? records_end(p, (uint64_t)st.st_size) :
	    (uint64_t)st.st_size;
	munmap(p, (size_t)st.st_size);
	if (end < (uint64_t)st.st_size) {
		if (ftruncate(fd, (off_t)end) == 0)
			log_warnx("capture: %s was left open by a crash: cut to its "
			    "last whole record (%llu bytes after it)", path,
			    (unsigned long long)((uint64_t)st.st_size - end));
		else
			log_warn("capture: cannot cut %s", path);
	}
out:
	close(fd);
}

/* The file the last run was writing: the highest number of the newest day. */
static void
repair_last_file(const char *dir)
{
	char best[11] = "", path[4096];
	struct dirent *e;
	uint32_t num;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (is_day_name(e->d_name) && strcmp(e->d_name, best) > 0)
			memcpy(best, e->d_name, sizeof(best));
	closedir(d);
	if (best[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s/packets", dir, best);
	if ((num = highest_number(path)) == 0)
		return;
	snprintf(path, sizeof(path), "%s/%s/packets/%05u.pcap", dir, best, num);
	end_repair(path);
}

/* Without a thread (none can be made) the writes simply stay in line. */
static void
writer_start(struct capture *c)
{
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->job_cv, NULL);
	pthread_cond_init(&c->done_cv, NULL);
	for (uint32_t i = 0; i < c->depth; i++)
		c->jobs[i].store = xcalloc(1, c->cap);
	if (pthread_create(&c->thr, NULL, writer_main, c) != 0) {
		log_warnx("capture: no writer thread: writes stay in the engine's thread");
		for (uint32_t i = 0; i < c->depth; i++) {
			free(c->jobs[i].store);
			c->jobs[i].store = NULL;
		}
		return;
	}
	c->writer = true;
}

static void
writer_stop(struct capture *c)
{
	if (!c->writer)
		return;
	collect(c, true);
	pthread_mutex_lock(&c->mu);
	c->q_stop = true;
	pthread_mutex_unlock(&c->mu);
	pthread_cond_signal(&c->job_cv);
	pthread_join(c->thr, NULL);
	c->threaded = c->writer = false;
	for (uint32_t i = 0; i < c->depth; i++) {
		free(c->jobs[i].store);
		free(c->jobs[i].iov_store);
	}
}

struct capture *
capture_open(const struct capture_opts *o)
{
	struct capture *c;
	uint32_t snaplen = o->snaplen;

	if (o->dir == NULL || *o->dir == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if (mkdir_p(o->dir, 0750) == -1)
		return NULL;
	if (snaplen == 0 || snaplen > CAPTURE_SNAPLEN)
		snaplen = CAPTURE_SNAPLEN;

	/* Every run: a file cut short by any crash ends on a whole record. */
	repair_last_file(o->dir);
	c = xcalloc(1, sizeof(*c));
	c->dir = xstrdup(o->dir);
	c->linktype = o->linktype;
	c->snaplen = snaplen;
	c->rotate_bytes = o->rotate_bytes;
	c->keep_days = o->keep_days;
	c->min_free = o->min_free_bytes;
	c->mapped_end = o->mapped_end;
	c->fd = -1;
	c->day = -1;
	c->next_num_day = -1;
	c->retention_day = -1;
	c->cap = FB_MAX((size_t)BATCH_MIN, 2 * ((size_t)snaplen + PCAP_REC_HDR_LEN));
	c->buf = xcalloc(1, c->cap);
	c->reserve_fd = -1;
	if (o->reserve_bytes != 0)
		reserve_open(c, o->reserve_bytes + c->cap);
	if (o->writer_thread && !o->mapped_end) {
		c->depth = 1;
		writer_start(c);
		c->threaded = c->writer;
	} else if (o->behind_writer && o->mapped_end &&
	    posix_memalign((void **)&c->stage, DIRECT_ALIGN, STAGE_LEN) == 0) {
		c->wiov = xcalloc(REF_IOV + 1, sizeof(*c->wiov));
		c->depth = BEHIND_JOBS;
		writer_start(c);
		c->direct = c->writer;
	}
	return c;
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	close_file(c);
	writer_stop(c);
	if (c->st.behind_batches > 0 || c->in_line_n > 0)
		log_info("capture: %llu MiB written: %llu MiB in %llu batches "
		    "behind (%llu MiB with O_DIRECT), %llu MiB in %llu long "
		    "batches in line (%llu MiB with O_DIRECT), the rest in short "
		    "ones; lately %.2f ms per MiB through the page cache, %.2f "
		    "around it; the writer busy %.2f s of %.2f, the engine "
		    "waited for it %.2f s",
		    (unsigned long long)(c->st.bytes >> 20),
		    (unsigned long long)(c->behind_bytes >> 20),
		    (unsigned long long)c->st.behind_batches,
		    (unsigned long long)(c->behind_direct >> 20),
		    (unsigned long long)(c->in_line_bytes >> 20),
		    (unsigned long long)c->in_line_n,
		    (unsigned long long)(c->in_line_direct >> 20),
		    (double)c->ns_mib[0] / 1e6, (double)c->ns_mib[1] / 1e6,
		    (double)c->w_busy / 1e9, (double)(c->w_last - c->w_first) / 1e9,
		    (double)c->e_waited / 1e9);
	free(c->stage);
	free(c->wiov);
	free(c->iov);
	free(c->spare_iov);
	if (c->reserve_fd != -1) {
		(void)ftruncate(c->reserve_fd, 0);
		close(c->reserve_fd);
	}
	free(c->buf);
	free(c->dir);
	free(c);
}

static void
put_rec_hdr(uint8_t *p, fb_ns ts, uint32_t len, uint32_t wirelen)
{
	put32(p, (uint32_t)(ts < 0 ? 0 : ts / FB_NS_PER_SEC));
	put32(p + 4, (uint32_t)(ts < 0 ? 0 : ts % FB_NS_PER_SEC));
	put32(p + 8, len);
	put32(p + 12, FB_MAX(wirelen, len));
}

/*
 * capture_write's end with kept frames (the file is open and has room):
 * a long frame is written from where it lies, its header from the buffer;
 * a short one is copied (no cheaper than an iovec of its own).
 */
static int
write_kept(struct capture *c, fb_ns ts, const uint8_t *frame, uint32_t len,
    uint32_t wirelen, int rv)
{
	bool keep = len >= c->ref_min;
	size_t room = PCAP_REC_HDR_LEN + (keep ? 0 : (size_t)len);
	uint8_t *p;

	if (unlikely(c->fill + room > c->cap || c->niov + 3 > REF_IOV)) {
		if (write_batch(c) == -1)
			rv = -1;
		if (c->fd == -1 && open_file(c, c->day) == -1) {
			c->st.lost_frames++;
			c->batch_lost = true;
			return -1;
		}
	}
	p = c->buf + c->fill;
	put_rec_hdr(p, ts, len, wirelen);
	c->fill += room;
	if (keep) {
		c->iov[c->niov].iov_base = c->buf + c->seg;
		c->iov[c->niov++].iov_len = c->fill - c->seg;
		c->iov[c->niov].iov_base = (void *)(uintptr_t)frame;
		c->iov[c->niov++].iov_len = len;
		c->seg = c->fill;
	} else if (len > 0) {
		memcpy(p + PCAP_REC_HDR_LEN, frame, len);
	}
	c->len += PCAP_REC_HDR_LEN + (size_t)len;
	c->nbatch++;
	return rv;
}

int
capture_write(struct capture *c, fb_ns ts, const uint8_t *frame, uint32_t caplen,
    uint32_t wirelen)
{
	uint32_t len = FB_MIN(caplen, c->snaplen);
	size_t rec = PCAP_REC_HDR_LEN + (size_t)len;
	uint8_t *p;
	int rv = 0;

	if (frame == NULL)
		len = 0, rec = PCAP_REC_HDR_LEN;
	if (unlikely(c->fd == -1 || ts >= c->day_end)) {
		/* first frame, later day, or the last file became unusable */
		if (rotate_to(c, FB_MAX(day_of(ts), c->day)) == -1)
			goto lost;
	} else if (c->rotate_bytes != 0 &&
	    c->off + c->len + rec > c->rotate_bytes &&
	    c->off + c->len > PCAP_HDR_LEN) {
		if (rotate_to(c, c->day) == -1)
			goto lost;
	}
	if (c->refs)
		return write_kept(c, ts, frame, len, wirelen, rv);
	if (unlikely(c->len + rec > c->cap)) {
		if (write_batch(c) == -1)
			rv = -1;
		if (c->fd == -1 && open_file(c, c->day) == -1)
			goto lost;
	}

	p = c->buf + c->len;
	put_rec_hdr(p, ts, len, wirelen);
	if (len > 0)
		memcpy(p + PCAP_REC_HDR_LEN, frame, len);
	c->len += rec;
	c->nbatch++;
	return rv;

lost:
	c->st.lost_frames++;
	c->batch_lost = true;
	return -1;
}

bool
capture_keep_frames(struct capture *c)
{
	bool live = c->mapped_end && !c->threaded;

	if ((!c->threaded && !live) || c->refs)
		return c->refs;
	if (c->len > 0)		/* what was copied so far goes first */
		write_batch(c);
	collect(c, true);
	c->ref_min = live ? REF_LIVE_MIN : REF_MIN;
	c->iov = xcalloc(REF_IOV, sizeof(*c->iov));
	c->spare_iov = xcalloc(REF_IOV, sizeof(*c->spare_iov));
	for (uint32_t i = 0; c->writer && i < c->depth; i++)
		c->jobs[i].iov_store = xcalloc(REF_IOV, sizeof(*c->iov));
	c->refs = true;
	return true;
}

void
capture_release(struct capture *c)
{
	if (!c->refs)
		return;
	if (c->fd != -1 && c->len > 0)
		write_batch(c);
	collect(c, true);
}

int
capture_sync(struct capture *c)
{
	if (c->fd != -1)
		write_batch(c);
	collect(c, true);
	return capture_flush(c);
}

int
capture_flush(struct capture *c)
{
	bool lost;

	/* Replay hands the writer half a buffer at least: an engine batch is
	 * ~100 KB, and each hand-over costs both threads a wake-up. */
	if (c->fd != -1 && (!c->threaded || c->len >= c->cap / 2))
		write_batch(c);
	lost = c->batch_lost;
	c->batch_lost = false;
	c->open_failed = false;
	return lost ? -1 : 0;
}

int
capture_flush_behind(struct capture *c)
{
	bool lost;

	if (!c->writer || c->threaded || c->fd == -1 || c->len < BEHIND_MIN)
		return capture_flush(c);
	/* The writer's blocks lie beyond the records: no reserved end, no
	 * mapping there (write_staged). */
	c->small_run = 0;
	if (c->file_end > c->off && cut_tail(c) == -1)
		c->map_refused = true;
	write_batch_async(c, true);
	lost = c->batch_lost;
	c->batch_lost = false;
	c->open_failed = false;
	return lost ? -1 : 0;
}

unsigned
capture_behind(struct capture *c)
{
	if (!c->writer || c->threaded)
		return 0;
	collect(c, false);
	return c->q_tail - c->q_head;
}

/* Retention */

/*
 * Remove the directory name in dirfd and everything under it, without
 * following symbolic links or leaving the file system dev.  0 or -1.
 */
static int
rm_tree_at(int dirfd, const char *name, dev_t dev, int depth)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, rv = 0;

	if (depth > RM_MAX_DEPTH)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_dev != dev || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			rv = -1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (rm_tree_at(fd, e->d_name, dev, depth + 1) == -1)
				rv = -1;
		} else if (unlinkat(fd, e->d_name, 0) == -1)
			rv = -1;
	}
	closedir(d);
	if (rv == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) == -1)
		rv = -1;
	return rv;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * The day folders of DIR (real directories named YYYY-MM-DD), sorted
 * oldest first, into names[max][11].  Returns the count, -1 on error;
 * *dirfd is left open on DIR for the caller.
 */
static int
list_days(struct capture *c, int *dirfd, dev_t *dev, char (*names)[11], int max)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, n = 0;

	*dirfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd == -1)
		return -1;
	if (fstat(*dirfd, &st) == -1 || (fd = dup(*dirfd)) == -1)
		goto fail;
	*dev = st.st_dev;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		goto fail;
	}
	while ((e = readdir(d)) != NULL && n < max) {
		if (!is_day_name(e->d_name))
			continue;
		if (fstatat(*dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISDIR(st.st_mode) || st.st_dev != *dev)
			continue;
		memcpy(names[n++], e->d_name, 11);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_names);
	return n;
fail:
	close(*dirfd);
	*dirfd = -1;
	return -1;
}

/* Is this day folder one we must keep whatever happens (being written, or today)? */
static bool
day_protected(const struct capture *c, const char *name, const char *today)
{
	char cur[11];

	if (strcmp(name, today) >= 0)
		return true;
	if (c->day >= 0) {
		time_day(c->day * DAY_NS, cur);
		if (strcmp(name, cur) >= 0)
			return true;
	}
	return false;
}

static void
retention(struct capture *c, fb_ns now)
{
	static char names[MAX_DAYS_SCAN][11];
	char today[11], cutoff[11];
	int64_t keep_from = day_of(now) - (int64_t)c->keep_days + 1;
	int dirfd, n, i;
	dev_t dev;

	if (keep_from <= 0)
		return;
	time_day(now, today);
	time_day(keep_from * DAY_NS, cutoff);
	if ((n = list_days(c, &dirfd, &dev, names, MAX_DAYS_SCAN)) == -1)
		return;
	for (i = 0; i < n && strcmp(names[i], cutoff) < 0; i++) {
		if (day_protected(c, names[i], today))
			continue;
		if (rm_tree_at(dirfd, names[i], dev, 0) == -1)
			log_warn("capture: retention: cannot delete all of %s/%s", c->dir,
			    names[i]);
		else {
			log_info("capture: retention: deleted %s/%s", c->dir, names[i]);
			c->st.days_deleted++;
		}
	}
	close(dirfd);
}

static bool
free_space(struct capture *c)
{
	struct statvfs sv;

	if (statvfs(c->dir, &sv) == -1)
		return false;
	c->st.free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return true;
}

/* While space is short, delete the packets/ of the oldest days (not today's). */
static void
check_space(struct capture *c, fb_ns now)
{
	static char names[MAX_DAYS_SCAN][11];
	char today[11];
	int dirfd, n, i, pfd;
	dev_t dev;

	if (!free_space(c))
		return;
	if (c->min_free == 0 || c->st.free_bytes >= c->min_free) {
		c->st.low_space = false;
		return;
	}
	time_day(now, today);
	if ((n = list_days(c, &dirfd, &dev, names, MAX_DAYS_SCAN)) != -1) {
		for (i = 0; i < n && c->st.free_bytes < c->min_free; i++) {
			if (day_protected(c, names[i], today))
				continue;
			pfd = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (pfd == -1)
				continue;
			if (faccessat(pfd, "packets", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
				if (rm_tree_at(pfd, "packets", dev, 1) == -1)
					log_warn("capture: low space: cannot delete all of "
					    "%s/%s/packets", c->dir, names[i]);
				else {
					log_warnx("capture: low space: deleted %s/%s/packets",
					    c->dir, names[i]);
					c->st.days_deleted++;
				}
				free_space(c);
			}
			close(pfd);
		}
		close(dirfd);
	}
	c->st.low_space = c->st.free_bytes < c->min_free;
}

bool
capture_tick(struct capture *c, fb_ns now)
{
	int64_t day = day_of(now);

	c->open_failed = false;
	reserve_restore(c);
	if (c->fd != -1 && day > c->day)
		rotate_to(c, day);
	if (c->keep_days > 0 && day != c->retention_day) {
		c->retention_day = day;
		retention(c, now);
	}
	if (!c->space_checked || now < c->space_checked_at ||
	    now - c->space_checked_at >= SPACE_CHECK_NS) {
		c->space_checked = true;
		c->space_checked_at = now;
		check_space(c, now);
	}
	return c->st.low_space;
}

bool
capture_reserve_spent(const struct capture *c)
{
	return c->st.reserve_spent;
}

void
capture_stats(const struct capture *c, struct capture_stats *s)
{
	*s = c->st;
}
