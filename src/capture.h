/*
 * capture: the packet recorder.  Every frame the gateway sees, forwarded or
 * dropped, is written to DIR/YYYY-MM-DD/packets/NNNNN.pcap (UTC day of the
 * frame's time).
 *
 * Promises: standard pcap (nanosecond magic, LINKTYPE given at open, snaplen
 * 262144) readable by tcpdump and Wireshark at any moment; each file starts
 * with its header written in one write(2); records are appended whole, in
 * batches, with write(2) straight to the file (no stdio buffer that a kill -9
 * would lose): after capture_flush() returns 0 every frame given so far is in
 * the kernel, so a crash can lose at most a partial last record (live, with
 * mapped_end, small batches are copied into a mapped, reserved end of the
 * file instead, followed by an end mark: same promise, no system call; the
 * file is cut to its records when closed, or by the next capture_open after
 * a crash; live with behind_writer, a long batch that crossed already may be
 * written by a thread while the engine reads on: capture_flush_behind).  A
 * failed or
 * short write is rolled back with ftruncate to the last whole record and
 * counted; the caller (engine) then applies on_failure.  Files rotate at
 * rotate_bytes and at UTC midnight; capture_tick() applies retention
 * (keep_days, and the oldest days are deleted when free space falls below
 * min_free) and reports low space.
 */
#ifndef FB_CAPTURE_H
#define FB_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct capture_stats {
	uint64_t	frames;		/* frames written */
	uint64_t	bytes;		/* bytes written, headers included */
	uint64_t	files;		/* files opened */
	uint64_t	lost_frames;	/* frames that could not be written */
	uint64_t	write_errors;	/* failed write/open/rotate operations */
	uint64_t	days_deleted;	/* retention */
	uint64_t	behind_batches;	/* live: written behind the engine */
	uint64_t	direct_bytes;	/* live: bytes written with O_DIRECT */
	uint64_t	free_bytes;	/* free space at the last check */
	bool		low_space;	/* free < min_free at the last check */
	bool		failing;	/* the last write failed, or the
					   reserve is spent (below) */
	bool		reserve;	/* the reserve is held */
	bool		reserve_spent;	/* used up: the disk is full */
	char		current[512];	/* path of the file being written */
};

struct capture_opts {
	const char	*dir;
	int		 linktype;	/* pcap LINKTYPE_* */
	uint64_t	 rotate_bytes;
	uint32_t	 keep_days;	/* 0 = keep */
	uint64_t	 min_free_bytes;
	uint32_t	 snaplen;	/* 0 = 262144 */
	bool		 mapped_end;	/* small batches through a mapping (live) */
	bool		 writer_thread;	/* replay: batches written by a thread */
	bool		 behind_writer;	/* live: a thread for capture_flush_behind */
	/*
	 * Disk space held back for what has crossed before it could be
	 * written (the fast path's ring buffers: their size): a file
	 * DIR/.fishbowl-reserve of that much (plus a batch) allocated at open.
	 * A write that finds the disk full frees it and is tried again, and
	 * status says failing (the gateway closes) until it can be allocated
	 * again (capture_tick).  0: none.
	 */
	uint64_t	 reserve_bytes;
};

struct capture;

struct capture *capture_open(const struct capture_opts *);
void	 capture_close(struct capture *);	/* flushes */

/*
 * Queue one frame (copied into the batch buffer; flushed automatically when
 * the buffer fills, at rotation and on capture_flush).  Returns 0, or -1 if
 * the frame could not be recorded (counted in lost_frames).
 */
int	 capture_write(struct capture *, fb_ns ts, const uint8_t *frame,
	    uint32_t caplen, uint32_t wirelen);
/*
 * Write out the batch.  0 when every queued frame is in the file, else -1.
 * With writer_thread (replay only: nothing is forwarded there), the batch is
 * handed to the writer once it holds half a buffer (smaller ones wait for
 * the next flush) and the result is that of the batch before it: a failure
 * is reported a hand-over late, and capture_sync writes and waits for all.
 */
int	 capture_flush(struct capture *);
int	 capture_sync(struct capture *);
/*
 * Live, with behind_writer: the batch's frames have all crossed already
 * (the kernel's fast path recorded them in its ring buffers, which outlive
 * a crash) and stay where they lie until capture_behind() no longer counts
 * it.  A long batch (256 KiB or more) is queued for the writer thread (up
 * to BEHIND_JOBS, now one; with that many queued it waits for the oldest)
 * and this returns at
 * once (it writes it with O_DIRECT, around the page cache, or
 * through the page cache when it falls behind and that is faster); a
 * shorter one is capture_flush.  Any other write waits
 * for the writer first, so the file is written in order.  0, or -1 when
 * something since the last flush was lost (a failure of the batch written
 * behind is known at the next call).
 */
int	 capture_flush_behind(struct capture *);
/* How many of the last batches are still in the writer's hands (those
 * before them are accounted: a full disk writes a batch again into the
 * reserve's room): the frames of every batch before those may go. */
unsigned capture_behind(struct capture *);
/*
 * Replay from an input whose frames stay where they are until it says so
 * (io.h keeps_frames): long frames are then written from there, not copied
 * (see capture.c).  Only with the writer thread, or live (mapped_end):
 * false otherwise, and the frames are copied as before.  Live, only
 * frames longer than a mapped batch (super-frames) are kept, and the
 * caller's frames must stay until its next capture_flush, which writes
 * them (the engine flushes each batch before it reads the next).
 * capture_release: the writer is done with every frame given so far (the
 * batch is handed over and waited for; a failure is counted as at
 * capture_flush).
 */
bool	 capture_keep_frames(struct capture *);
void	 capture_release(struct capture *);
/*
 * Timers: rotate at midnight even when idle (opens the new day's file),
 * retention, free-space check.  now is wall time (live) or packet time
 * (replay).  Returns true when space is low (caller alerts once per episode).
 */
bool	 capture_tick(struct capture *, fb_ns now);
void	 capture_stats(const struct capture *, struct capture_stats *);
/* The reserve is spent: the disk is full (the gateway stays closed). */
bool	 capture_reserve_spent(const struct capture *);

#endif
