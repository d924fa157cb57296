/*
 * io: where frames come from and go to.  The engine sees only this interface;
 * the live AF_PACKET bridge (io_afpacket.c) and the pcap reader of replay
 * (io_pcap.c) implement it.
 *
 * A source delivers frames in batches.  Frame data stays valid until the next
 * call to next_batch (which also releases the previous batch to the kernel),
 * so the engine can decide, capture and forward a whole batch in place
 * (zero-copy from the RX ring to the pcap writer and the TX path).
 */
#ifndef FB_IO_H
#define FB_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

enum fb_leg {
	LEG_OUTSIDE,		/* towards the Internet */
	LEG_INSIDE,		/* towards the honeypots */
	LEG_UNKNOWN		/* replay: the engine infers it from addresses */
};

struct fb_frame {
	const uint8_t	*data;
	uint32_t	 caplen;
	uint32_t	 wirelen;
	fb_ns		 ts;
	enum fb_leg	 leg;
	/*
	 * Live only: the virtio-net header the kernel gave with the frame
	 * (PACKET_VNET_HDR), describing partial checksums and GSO super-frames.
	 * Forwarded with the frame so the kernel finishes the job on TX.
	 */
	const void	*vnet;		/* struct virtio_net_hdr, or NULL */
	/* Live, with the known-flows filter (known.h): the kernel filed the
	 * frame in the newcomers' ring, its flow's mark was not found. */
	bool		 unknown;
	/* Live, with the fast path (fastpath.h): the kernel recorded this
	 * frame and forwarded it already; the engine judges and records it
	 * but does not forward it. */
	bool		 forwarded;
};

struct io_stats {
	uint64_t	rx_frames[2];	/* per leg */
	uint64_t	rx_bytes[2];
	uint64_t	tx_frames[2];	/* per leg sent on */
	uint64_t	tx_bytes[2];
	uint64_t	tx_errors[2];
	uint64_t	kernel_drops[2];/* from PACKET_STATISTICS: lost before we read */
	uint64_t	kernel_drops_openers[2];/* of those, the openers' ring's */
	uint64_t	rx_openers[2];	/* of rx_frames, from the openers' ring */
	bool		openers_ring[2];/* the leg has one (fanout worked) */
	bool		known_filter[2];/* it is filed by known flows (eBPF),
					 * not by openers only (classic BPF) */
	uint64_t	kernel_freezes[2];
	bool		fast_path;	/* the kernel forwards fast flows */
	uint64_t	fast_frames[2];	/* of rx_frames, forwarded by it */
	uint64_t	fast_drops[2];	/* of kernel_drops, the fast path's */
	uint64_t	fast_recovered[2];/* of fast_frames, left in pinned ring
					 * buffers by a fishbowl killed before */
	uint64_t	fast_pins_unreadable;/* such ring buffers found that
					 * cannot be read: their frames lost */
};

struct fb_io;
struct fastpath;
struct known_table;

struct fb_io_ops {
	const char *name;
	/*
	 * Wait up to timeout_ms for frames and return up to max of them
	 * (0 on timeout, -1 on end of input (replay) or fatal error).
	 */
	int	(*next_batch)(struct fb_io *, struct fb_frame *frames, int max, int timeout_ms);
	/* Queue a frame to be sent out of leg (the other leg than it came in). */
	int	(*forward)(struct fb_io *, const struct fb_frame *, enum fb_leg out);
	/* Send what was queued. */
	int	(*flush)(struct fb_io *);
	/* Optional (NULL: always): every frame flushed so far has left, none
	 * is still with a sending thread. */
	bool	(*all_sent)(struct fb_io *);
	/* Optional (NULL: always): no frame waits in the kernel's rings now
	 * (a frame filed a moment ago may still be on its way in). */
	bool	(*rings_empty)(struct fb_io *);
	void	(*stats)(struct fb_io *, struct io_stats *);
	int	(*linktype)(struct fb_io *);
	void	(*close)(struct fb_io *);
};

struct fb_io {
	const struct fb_io_ops *ops;
	/* next_batch's -1 was an error, not the end: a damaged or cut capture
	 * file, an interface gone.  Replay then exits 1 (its outputs hold
	 * every frame before the damage). */
	bool		 failed;
	/*
	 * Replay's mapped reader: frame bytes stay valid past next_batch,
	 * until the reader calls release(release_arg), which it does before
	 * it unmaps them (not at close).  The engine sets release; without it
	 * (and in every other source) frames are valid until next_batch.
	 */
	bool		 keeps_frames;
	void		(*release)(void *arg);
	void		*release_arg;
	/*
	 * Live: how many of the last batches (of those that returned frames)
	 * the engine's pcap writer still holds (capture_flush_behind).
	 * next_batch gives back to the kernel only the frames read before
	 * them; NULL: none.
	 */
	unsigned	(*behind)(void *arg);
	void		*behind_arg;
	/* Live, when the kernel files frames by known flows: the table the
	 * engine marks them in (known.h).  NULL otherwise. */
	struct known_table *known;
	/* Live, with the fast path on both legs (fastpath.h).  NULL otherwise. */
	struct fastpath	*fast;
};

/* Where the fast path pins its ring buffers (fastpath.h "Killed"): the
 * capture directory names the instance; uid and gid (the user fishbowl
 * runs as) will own the pins' directory, to remove it at a clean stop. */
struct fb_fast_pins {
	const char	*capture_dir;
	unsigned	 uid, gid;
};

/* Live bridge between two interfaces (opened as root): per leg a ring of
 * ring_mb MiB, and one of openers_mb MiB for newcomers (0: none), filled
 * by a table of known_slots known flows (known.h) or, where the kernel
 * cannot, with connection openers only (openers.h); with fast_mb, the
 * fast path (fastpath.h) with ring buffers of that many MiB per leg,
 * pinned as pins says (NULL: nowhere, so no fast path).  Ring buffers a
 * killed fishbowl left pinned are read first, fast path or not. */
struct fb_io *io_afpacket_open(const char *outside, const char *inside,
	    uint32_t ring_mb, uint32_t openers_mb, uint32_t known_slots,
	    uint32_t fast_mb, const struct fb_fast_pins *pins, char *err,
	    size_t errlen);
/* Offline: frames from a pcap/pcapng file, leg LEG_UNKNOWN, forward discards. */
struct fb_io *io_pcap_open(const char *path, char *err, size_t errlen);

#endif
