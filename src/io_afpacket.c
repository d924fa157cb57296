/*
 * io_afpacket: the live bridge's packet I/O between two interfaces.
 *
 * Owns, per leg: an AF_PACKET RX socket with a TPACKET_V2 ring (mmap'ed,
 * zero-copy, a frame is ours as soon as the kernel wrote it, frames bigger
 * than a slot come whole through the socket queue; promiscuous,
 * PACKET_IGNORE_OUTGOING so what we send is never read back: no loops), and
 * beside it a second, smaller one, the openers' ring: both in one
 * PACKET_FANOUT_CBPF group whose program (openers.c) sends connection
 * openers (TCP SYN without ACK) to the second ring and everything else to
 * the first, so that a SYN flood overflows only the openers' ring (without
 * fanout, one ring, logged); a TX socket, and the set-up of the interface
 * (up, promiscuous, IPv6 off so the gateway never answers anything); and
 * the sender, a thread that makes the sendmmsg calls of heavy batches on
 * the second core (below).
 *
 * Promises: a frame handed out by next_batch stays valid, in the ring (or
 * the leg's copy arena), until the next call to next_batch; only then are its
 * ring slots handed back to the kernel (those of a batch the sender still
 * holds, once it has sent them: at most SEND_DEPTH batches later).  A leg's
 * two rings are merged in the order of the kernel's timestamps (of the
 * frames ready in each).  Frames leave each leg in the order forward() was
 * called: a leg's frames handed to the sender are sent in the order handed,
 * and the leg's frames sent inline wait until the sender holds none of
 * the leg's.  Every frame comes with the
 * virtio_net_hdr the kernel wrote (PACKET_VNET_HDR) and is sent back out with
 * it, so partial checksums are completed and GSO super-frames segmented by the
 * kernel on transmit: TCP with checksum offload and TSO on the endpoints
 * works across the bridge.  VLAN tags the kernel stripped into metadata are
 * put back into the frame, so capture and forward see the frame as on the
 * wire.  Sending never blocks for long: a frame that cannot be sent after a
 * few short retries is counted in tx_errors and dropped.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#include "io.h"
#include "fastpath.h"
#include "known.h"
#include "openers.h"
#include "util.h"

#define VNET_LEN	sizeof(struct virtio_net_hdr)
#define FRAME_MIN	2048u		/* ring slot: an MTU 1500 frame and headers */
#define FRAME_MAX	16384u		/* larger MTUs: bigger slots, up to this */
#define SLOT_HEADROOM	128u		/* tpacket2_hdr, sockaddr_ll, vnet, reserve */
#define RING_BLOCK	(128u << 10)	/* allocation unit of the ring */
#define COPY_MAX	(256u << 10)	/* largest super-frame taken whole */
#define COPY_ARENA	(2u << 20)	/* per leg and batch: over-size frames */
#define RCVBUF_BYTES	(16 << 20)	/* queue of over-size frames */
#define TXQ_MAX		1024		/* queued forwards per out leg */
#define TX_TRIES	8		/* short waits before a frame is given up */
#define SNDBUF_BYTES	(8 << 20)
#define RESERVE		8		/* room to re-insert a VLAN tag */
#define FAST_STARTS	8		/* batch starts kept: more than the
					   capture's writer queues (4) */
#ifndef HAND_BYTES
#define HAND_BYTES	(64u << 10)	/* a batch this heavy goes to the sender */
#endif
#ifndef SEND_DEPTH
#define SEND_DEPTH	1		/* batches the sender may hold at once */
#endif
#define NBUF		(SEND_DEPTH + 1)	/* the sender's, and the batch filled */
#ifndef SPLIT_LEGS
#define SPLIT_LEGS	1		/* hand only a leg this heavy, the other inline */
#endif

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING	23
#endif
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING	0x4000	/* Linux 6.2 */
#endif

struct txq {
	int			 n;
	size_t			 bytes;
	struct mmsghdr		 msg[TXQ_MAX];
	struct iovec		 iov[TXQ_MAX][2];
	struct virtio_net_hdr	 vnet[TXQ_MAX];
};

/* An RX socket and its ring. */
struct ring {
	int			 fd;
	uint8_t			*map;
	size_t			 map_len;
	uint32_t		 frame_size;	/* one slot of the ring */
	uint32_t		 frame_nr;
	uint32_t		 cur;		/* next slot to read */
	uint32_t		 release;	/* first slot owed back to the kernel */
	uint32_t		 owed;		/* how many, in ring order */
	uint32_t		 held[NBUF];	/* of those, batch b's at [b % NBUF] */
	uint64_t		 frames;	/* taken from it */
	uint64_t		 drops;		/* PACKET_STATISTICS, accumulated */
};

#define RX_MAIN		OPENERS_MAIN	/* rx[] index = fanout index */
#define RX_OPENERS	OPENERS_RING

struct leg {
	char			 name[IF_NAMESIZE];
	int			 ifindex;
	struct ring		 rx[2];		/* main; openers' (if nrx 2) */
	int			 nrx;
	bool			 known;		/* filed by known.h's program */
	int			 sink_fd;	/* fanout member 2: the fast path's */
	int			 tx_fd;
	int			 cur;		/* this batch's number % NBUF */
	uint8_t			*arena[NBUF];	/* over-size frames, per batch */
	uint8_t			*copy;		/* = arena[cur] */
	size_t			 copy_used;
	struct txq		*txq;		/* frames to send out of this leg */
	struct txq		*txqs[NBUF];	/* txq is txqs[fill]; others the sender's */
	int			 fill;
};

/*
 * The sender: a thread that makes the sendmmsg calls of big batches.  On
 * veth (and any device whose receiver runs in the sender's softirq) the far
 * side's network stack runs inside sendmmsg: half of a busy gateway's time.
 * Handed to a second thread, that work runs on the other core while the
 * main thread reads, records and judges the next batch.  Small batches (a
 * lone SYN) are sent inline: a hand-off would add a wake-up to the latency.
 * The decision is per leg (SPLIT_LEGS): of a bulk stream, the data's leg is
 * handed and its ACKs' leg sent inline at the same time, so the far sides'
 * stacks run on both cores (docs/performance.md, "TCP with offloads off:
 * where the threads wait").  Hand-offs wait in a queue of SEND_DEPTH, sent
 * first in first out (a depth of 2 measured no gain: 1); a leg's inline
 * send first waits until the queue holds none of the leg's frames: the
 * order of frames out of a leg is the order they were judged in.
 */
struct hand {
	uint64_t		 batch;		/* the batch q[] came from */
	struct txq		*q[2];		/* per leg, NULL: sent inline */
};

struct sender {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* to the sender: work, quit */
	pthread_cond_t		 done;		/* to the main thread: one sent */
	pthread_t		 thread;
	bool			 started;
	bool			 failed;	/* no thread: everything inline */
	bool			 quit;
	int			 head, n;	/* queue of hand-offs, oldest first */
	int			 nleg[2];	/* of those, with frames for leg i */
	struct hand		 h[SEND_DEPTH];
};

struct io_af {
	struct fb_io		 io;
	struct leg		 leg[2];
	struct io_stats		 st;		/* tx_*: atomic (the sender) */
	int			 first;		/* leg served first, alternates */
	uint64_t		 batch;		/* next_batch calls */
	struct sender		 tx;
	struct known_table	 known;		/* map_fd -1: none */
	int			 known_prog[2];	/* until each leg joined its own */
	struct fastpath		 fast;
	bool			 fast_on;	/* both legs' tc programs attached */
	bool			 fast_maps_ok;	/* made and pinned, for fast_start */
	char			 pin_why[256];	/* why they cannot be pinned */
	bool			 fast_read;	/* its ring buffers are read: with
						   fast_on, or a killed fishbowl's
						   left (then closed: fast_done) */
	uint64_t		 fast_gone[2][3];/* counts of ring buffers closed:
						   frames, newcomers', recovered */
	uint64_t		 busy_until;	/* (CLOCK_MONOTONIC ns) poll, not sleep */
	uint64_t		 pins_unreadable;/* fastpath_adopt's, kept past
						   fastpath_close */
	bool			 fast_wakes;	/* records wake us (we sleep) */
	/* Where the records of each of the last batches that returned
	 * frames began (batch_starts[i % FAST_STARTS], i < fast_batches),
	 * and where this one's began: the writer may still hold the last
	 * few (io.h behind). */
	struct fast_mark	 batch_starts[FAST_STARTS];
	uint64_t		 fast_batches;
	struct fast_mark	 this_start;
};

static void flush_queue(struct io_af *, int, struct txq *);
static void fast_done(struct io_af *);
static uint64_t sender_settle(struct io_af *);

static struct tpacket2_hdr *
slot_at(struct ring *r, uint32_t i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)i * r->frame_size);
}

static uint32_t
slot_status(struct ring *r, uint32_t i)
{
	return __atomic_load_n(&slot_at(r, i)->tp_status, __ATOMIC_ACQUIRE);
}

/* Hand the oldest n owed slots back to the kernel. */
static void
release_slots(struct ring *r, uint32_t n)
{
	while (n-- > 0 && r->owed > 0) {
		__atomic_store_n(&slot_at(r, r->release)->tp_status, TP_STATUS_KERNEL,
		    __ATOMIC_RELEASE);
		r->release = (r->release + 1) % r->frame_nr;
		r->owed--;
	}
}

/*
 * The start of batch b: the frames of earlier batches are done with, except
 * those of batches from oldest on, which the sender may still hold (sent
 * from their ring slots and copy arenas): those stay owed.  oldest is b if
 * the sender holds nothing, never below b - SEND_DEPTH, so batch b's arena,
 * arena[b % NBUF], is free.
 */
static void
recycle(struct leg *l, uint64_t b, uint64_t oldest)
{
	l->cur = (int)(b % NBUF);
	for (int i = 0; i < l->nrx; i++) {
		struct ring *r = &l->rx[i];
		uint32_t keep = 0;

		for (uint64_t o = oldest; o < b; o++)
			keep += r->held[o % NBUF];
		release_slots(r, r->owed - keep);
		r->held[l->cur] = 0;
	}
	l->copy = l->arena[l->cur];
	l->copy_used = 0;
}

/*
 * The kernel strips a VLAN tag into metadata; put it back in front of the
 * EtherType.  The room is there, at or above floor: in a ring slot the
 * padding (and RESERVE) between the tpacket2_hdr + sockaddr_ll and the vnet
 * header, in the copy arena 4 bytes left for it.
 */
static bool
vlan_reinsert(const struct tpacket2_hdr *h, const uint8_t *floor, uint8_t **mac,
    struct virtio_net_hdr **vh, uint32_t *caplen, uint32_t *wirelen)
{
	uint8_t *m = *mac, *v = (uint8_t *)*vh;
	uint16_t tpid = ETH_P_8021Q, tci = h->tp_vlan_tci;
	uint8_t tag[4];

	if (h->tp_status & TP_STATUS_VLAN_TPID_VALID && h->tp_vlan_tpid != 0)
		tpid = h->tp_vlan_tpid;
	if (v - 4 < floor || *caplen < 12)
		return false;
	tag[0] = tpid >> 8;
	tag[1] = tpid & 0xff;
	tag[2] = tci >> 8;
	tag[3] = tci & 0xff;
	memmove(v - 4, v, VNET_LEN + 12);	/* vnet header and both MACs */
	memcpy(m - 4 + 12, tag, 4);
	*mac = m - 4;
	*vh = (struct virtio_net_hdr *)(v - 4);
	/* Offsets in the header count from the MAC header: 4 bytes more now. */
	if ((*vh)->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		(*vh)->csum_start = htole16((uint16_t)(le16toh((*vh)->csum_start) + 4));
	if ((*vh)->hdr_len != 0)
		(*vh)->hdr_len = htole16((uint16_t)(le16toh((*vh)->hdr_len) + 4));
	*caplen += 4;
	*wirelen += 4;
	return true;
}

/*
 * A frame too big for a ring slot (a GSO super-frame, a jumbo frame): the
 * slot holds its head (TP_STATUS_COPY) and the kernel queued the whole frame
 * on the socket, in ring order (PACKET_COPY_THRESH).  Read it, with its vnet
 * header, into the leg's copy arena, 4 bytes in for a VLAN tag.  False if it
 * is not there (the queue overflowed): the caller keeps the slot's head.
 */
static bool
take_copy(struct leg *l, int fd, uint8_t **mac, struct virtio_net_hdr **vh,
    uint32_t *caplen, uint32_t *wirelen)
{
	uint8_t *base = l->copy + l->copy_used;
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t r;

	iov[0].iov_base = base + 4;
	iov[0].iov_len = VNET_LEN;
	iov[1].iov_base = base + 4 + VNET_LEN;
	iov[1].iov_len = COPY_MAX;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	do
		r = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
	while (r == -1 && errno == EINTR);
	if (r < (ssize_t)VNET_LEN)
		return false;
	*vh = (struct virtio_net_hdr *)iov[0].iov_base;
	*mac = iov[1].iov_base;
	*wirelen = (uint32_t)((size_t)r - VNET_LEN);
	*caplen = FB_MIN(*wirelen, COPY_MAX);
	l->copy_used += (4 + VNET_LEN + *caplen + 63) & ~(size_t)63;
	return true;
}

/*
 * The ring of leg l whose next frame comes first, -1 if none is ready.
 * Between the two rings, the kernel's timestamps decide: the engine and
 * the pcap see the frames of a leg in the order the kernel stamped them
 * (docs/io.md "The openers' ring": why a frame still being written into
 * the other ring is not waited for).  Ties go to the main ring.
 */
#define RX_FAST		2	/* next_ring's answers: the fast path's records, */
#define RX_FAST_NEW	3	/* of a known flow, or a newcomer's */

static int
next_ring_ts(struct io_af *a, int li, uint32_t *statusp, uint64_t *tsp)
{
	struct leg *l = &a->leg[li];
	int best = -1;
	uint32_t st[2] = { 0, 0 };
	uint64_t ts[4] = { 0, 0, 0, 0 };

	for (int i = 0; i < l->nrx; i++) {
		struct ring *r = &l->rx[i];
		struct tpacket2_hdr *h;

		if (r->owed >= r->frame_nr)
			continue;
		st[i] = slot_status(r, r->cur);
		if ((st[i] & TP_STATUS_USER) == 0)
			continue;
		h = slot_at(r, r->cur);
		ts[i] = (uint64_t)h->tp_sec * FB_NS_PER_SEC + h->tp_nsec;
		if (best == -1 || ts[i] < ts[best])
			best = i;
	}
	if (best != -1)
		*statusp = st[best];
	for (int k = 0; a->fast_read && k < FAST_NKIND; k++)
		if (fastpath_peek(&a->fast, li, (enum fast_kind)k,
		    (fb_ns *)&ts[RX_FAST + k]) &&
		    (best == -1 || ts[RX_FAST + k] < ts[best]))
			best = RX_FAST + k;
	if (best != -1)
		*tsp = ts[best];
	return best;
}

static int
next_ring(struct io_af *a, int li, uint32_t *statusp)
{
	uint64_t ts;

	return next_ring_ts(a, li, statusp, &ts);
}

/* Take the next frame of leg li into fr; false if it has none ready. */
static bool
take_frame(struct io_af *a, int li, struct fb_frame *fr)
{
	struct leg *l = &a->leg[li];
	struct ring *r;
	struct tpacket2_hdr *h;
	struct virtio_net_hdr *vh;
	const uint8_t *floor;
	uint8_t *mac;
	uint32_t caplen, wirelen, status;
	bool copied;
	int ri;

	for (;;) {
		if ((ri = next_ring(a, li, &status)) == -1)
			return false;
		if (ri >= RX_FAST) {
			fastpath_take(&a->fast, li, (enum fast_kind)(ri - RX_FAST), fr);
			a->st.rx_frames[li]++;
			a->st.rx_bytes[li] += fr->wirelen;
			return true;
		}
		r = &l->rx[ri];
		/* No room left for a whole super-frame: it (and, to keep the
		 * order, the leg) waits for the next batch. */
		if ((status & TP_STATUS_COPY) &&
		    COPY_ARENA - l->copy_used < 4 + VNET_LEN + COPY_MAX)
			return false;
		h = slot_at(r, r->cur);
		r->cur = (r->cur + 1) % r->frame_nr;
		r->owed++;
		r->held[l->cur]++;
		copied = (status & TP_STATUS_COPY) &&
		    take_copy(l, r->fd, &mac, &vh, &caplen, &wirelen);
		if (copied) {
			floor = mac - VNET_LEN - 4;
			break;
		}
		/* The kernel wrote these, but a bad offset must not crash us. */
		if (h->tp_mac < TPACKET2_HDRLEN + VNET_LEN || h->tp_mac > r->frame_size ||
		    h->tp_snaplen > r->frame_size - h->tp_mac)
			continue;
		mac = (uint8_t *)h + h->tp_mac;
		vh = (struct virtio_net_hdr *)(mac - VNET_LEN);
		caplen = h->tp_snaplen;
		wirelen = h->tp_len;
		floor = (uint8_t *)h + TPACKET_ALIGN(sizeof(*h)) + sizeof(struct sockaddr_ll);
		break;
	}
	if (status & TP_STATUS_VLAN_VALID)
		(void)vlan_reinsert(h, floor, &mac, &vh, &caplen, &wirelen);
	fr->data = mac;
	fr->caplen = caplen;
	fr->wirelen = wirelen;
	fr->ts = (fb_ns)h->tp_sec * FB_NS_PER_SEC + h->tp_nsec;
	fr->leg = (enum fb_leg)li;
	fr->vnet = vh;
	fr->unknown = ri == RX_OPENERS;
	fr->forwarded = false;
	r->frames++;
	a->st.rx_frames[li]++;
	a->st.rx_bytes[li] += wirelen;
	return true;
}

#define WRITING_SPINS	2000	/* looks at a record being written, ~50 us */

/*
 * With the fast path, both legs in the order of the kernel's timestamps:
 * the kernel forwards some frames itself, so an answer (read on one leg)
 * can be ready before fishbowl read what it answers (on the other), and
 * the engine must see the question first (a SYN before its SYN-ACK).
 */

/*
 * A batch ends after this many bytes of frames: a batch that crossed the
 * fast path is written behind while the next is read, and its records stay
 * in the ring buffer until then (capture_flush_behind); a long one would
 * hold half the ring buffer and divert flows, and a batch written in line
 * waits for the one behind first, so its frames (a diverted flow's: the
 * endpoints' round trip) wait for all of it.  1 MiB against 2 MiB: +8 %
 * TCP with offloads on over eight cold rounds, fewer diverts
 * (docs/performance.md, "Session 15").
 */
#define FILL_BYTES	(1u << 20)

static int
fill_in_time(struct io_af *a, struct fb_frame *frames, int max)
{
	int n = 0, spins = 0;
	size_t bytes = 0;

	while (n < max && bytes < FILL_BYTES) {
		uint64_t ts[2] = { 0, 0 };
		uint32_t st;
		int li = -1;
		bool writing = false;

		/* Both legs every time: a leg that had nothing a moment ago
		 * may have now, and what it has came before what the other
		 * leg has next (the data a later ACK there acknowledges).
		 * Until session 18 a leg found empty was not looked at again
		 * in the batch, which then took the other leg's backlog of
		 * ACKs, up to 1 MiB of frames, ahead of the data they
		 * acknowledge that came meanwhile: the stream gave that data
		 * up as gaps (fastpath.sh P, milliseconds out of order). */
		for (int i = 0; i < 2; i++) {
			if (next_ring_ts(a, i, &st, &ts[i]) != -1 &&
			    (li == -1 || ts[i] < ts[li]))
				li = i;
			writing |= fastpath_busy(&a->fast, i);
		}
		/* A leg's ring buffer has a record still being written (a
		 * super-frame being copied on the other CPU, or that CPU
		 * interrupted) and records committed behind it, unseen: the
		 * frames the other leg has may be answers to those (a TCP
		 * ACK for data behind it), and taken first they would have
		 * the stream skip that data as a gap.  Wait for it: a few
		 * microseconds here, else the next read finds it.  Whatever
		 * else the leg has ready (its rings, its other ring buffer)
		 * says nothing about what is hidden, so this holds even when
		 * the leg has frames to give (until session 18 it held only
		 * when it had none). */
		if (writing && n == 0 && spins++ < WRITING_SPINS)
			continue;
		if (li == -1 || writing)
			break;
		/* Not taken (no room left for a super-frame): it waits for
		 * the next batch, and so does everything after it. */
		if (!take_frame(a, li, &frames[n]))
			break;
		bytes += frames[n++].caplen;
	}
	return n;
}

static int
fill(struct io_af *a, struct fb_frame *frames, int max)
{
	int n = 0, li = a->first;
	bool more[2] = { true, true };

	if (a->fast_read)
		return fill_in_time(a, frames, max);
	/* One frame from each leg in turn, so a flood on one leg cannot starve
	 * the other. */
	while (n < max && (more[0] || more[1])) {
		if (more[li] && !take_frame(a, li, &frames[n]))
			more[li] = false;
		else if (more[li])
			n++;
		li ^= 1;
	}
	a->first ^= 1;
	return n;
}

/*
 * Interrupt mitigation, as a NIC's driver does it: while frames come, the
 * fast path's records do not wake us (BPF_RB_NO_WAKEUP), and we look
 * every millisecond instead: a wake-up per record cost the connection
 * load a third of fishbowl's CPU in context switches.  After BUSY_NS
 * without a frame, records wake us again and we sleep as long as asked.
 * The kernel forwarded those frames already: the millisecond delays only
 * their record.
 */
#define BUSY_NS		(20 * FB_NS_PER_MSEC)

static int
fast_idle(struct io_af *a, int n, int timeout_ms)
{
	uint64_t now = (uint64_t)time_mono();

	if (n > 0)
		a->busy_until = now + BUSY_NS;
	if (now < a->busy_until) {
		if (a->fast_wakes) {
			fastpath_wake(&a->fast, false);
			a->fast_wakes = false;
		}
		return timeout_ms < 1 ? timeout_ms : 1;
	}
	if (!a->fast_wakes) {
		fastpath_wake(&a->fast, true);
		a->fast_wakes = true;
	}
	return timeout_ms;
}

/*
 * Give back to the kernel the ring buffer records the engine is done with:
 * all of them, or while the last k batches are still written behind
 * (capture.h capture_flush_behind), those read before the oldest of them.
 * Those k are the last batches that returned frames: any other write
 * waits for the writer first.  True when none is held.
 */
static bool
fast_give_back(struct io_af *a)
{
	unsigned k = a->io.behind == NULL ? 0 : a->io.behind(a->io.behind_arg);

	if (k == 0)
		fastpath_release(&a->fast);
	else if (k < FAST_STARTS && k <= a->fast_batches)
		fastpath_release_to(&a->fast,
		    &a->batch_starts[(a->fast_batches - k) % FAST_STARTS]);
	/* else: more than can be told apart (never): nothing goes */
	fastpath_mark(&a->fast, &a->this_start);
	return k == 0;
}

static int	next_frames(struct io_af *, struct fb_frame *, int, int);

static int
af_next_batch(struct fb_io *io, struct fb_frame *frames, int max, int timeout_ms)
{
	struct io_af *a = (struct io_af *)io;
	uint64_t oldest;
	int n, i;

	oldest = sender_settle(a);
	a->batch++;
	for (i = 0; i < 2; i++)
		recycle(&a->leg[i], a->batch, oldest);
	if (a->fast_read) {
		bool settled = fast_give_back(a);

		fastpath_clock(&a->fast);
		if (!a->fast_on && settled)
			fast_done(a);
	}
	if (max <= 0)
		return 0;
	n = next_frames(a, frames, max, timeout_ms);
	if (n > 0 && a->fast_read)
		a->batch_starts[a->fast_batches++ % FAST_STARTS] = a->this_start;
	return n;
}

/* af_next_batch's read: what the rings and ring buffers hold, or what
 * comes within timeout_ms. */
static int
next_frames(struct io_af *a, struct fb_frame *frames, int max, int timeout_ms)
{
	struct fb_io *io = &a->io;
	struct pollfd pfd[8];
	const char *pname[8];
	int n, i, np = 0;

	n = fill(a, frames, max);
	if (a->fast_on)
		timeout_ms = fast_idle(a, n, timeout_ms);
	if (n > 0 || timeout_ms == 0)
		return n;
	/* Records that came before they could wake us. */
	if (a->fast_read && (n = fill(a, frames, max)) > 0)
		return n;
	for (i = 0; i < 2; i++) {
		for (int j = 0; j < a->leg[i].nrx; j++) {
			pfd[np].fd = a->leg[i].rx[j].fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			pname[np++] = a->leg[i].name;
		}
		for (int k = 0; a->fast_read && k < FAST_NKIND; k++) {
			if (a->fast.rb[i][k].fd == -1)
				continue;
			pfd[np].fd = a->fast.rb[i][k].fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			pname[np++] = a->leg[i].name;
		}
	}
	if (poll(pfd, (nfds_t)np, timeout_ms) == -1) {
		if (errno == EINTR)
			return 0;
		log_warn("poll");
		io->failed = true;
		return -1;
	}
	for (i = 0; i < np; i++) {
		if (pfd[i].revents & (POLLERR | POLLNVAL)) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			/* ENETDOWN and friends: reported, the ring carries on. */
			getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (pfd[i].revents & POLLNVAL) {
				io->failed = true;
				return -1;
			}
			if (soerr != 0)
				log_warnx("%s: %s", pname[i], strerror(soerr));
		}
	}
	return fill(a, frames, max);
}

static int
af_forward(struct fb_io *io, const struct fb_frame *fr, enum fb_leg out)
{
	struct io_af *a = (struct io_af *)io;
	struct txq *q;
	int i;

	if (out != LEG_OUTSIDE && out != LEG_INSIDE)
		return -1;
	/* A frame cut short by the ring cannot be sent whole. */
	if (fr->caplen < fr->wirelen || fr->caplen < ETH_HLEN) {
		a->st.tx_errors[out]++;
		return -1;
	}
	if (a->leg[out].txq->n == TXQ_MAX)
		io->ops->flush(io);
	q = a->leg[out].txq;	/* after a flush: the next one, the sender has q */
	i = q->n++;
	if (fr->vnet != NULL) {
		memcpy(&q->vnet[i], fr->vnet, VNET_LEN);
		/* DATA_VALID is a receive-side hint only. */
		q->vnet[i].flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM;
	} else
		memset(&q->vnet[i], 0, VNET_LEN);	/* GSO_NONE, no csum */
	q->iov[i][0].iov_base = &q->vnet[i];
	q->iov[i][0].iov_len = VNET_LEN;
	q->iov[i][1].iov_base = (void *)(uintptr_t)fr->data;
	q->iov[i][1].iov_len = fr->caplen;
	q->bytes += fr->caplen;
	memset(&q->msg[i], 0, sizeof(q->msg[i]));
	q->msg[i].msg_hdr.msg_iov = q->iov[i];
	q->msg[i].msg_hdr.msg_iovlen = 2;
	return 0;
}

static void
tx_wait(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	(void)poll(&pfd, 1, 1);
}

static void
count_tx(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* Send q out of leg li (from the main thread or the sender); q is emptied. */
static void
flush_queue(struct io_af *a, int li, struct txq *q)
{
	struct leg *l = &a->leg[li];
	int done = 0, tries = 0, r;

	while (done < q->n) {
		r = sendmmsg(l->tx_fd, q->msg + done, (unsigned)(q->n - done),
		    MSG_DONTWAIT);
		if (r > 0) {
			uint64_t bytes = 0;

			for (int i = done; i < done + r; i++)
				bytes += q->iov[i][1].iov_len;
			count_tx(&a->st.tx_bytes[li], bytes);
			count_tx(&a->st.tx_frames[li], (uint64_t)r);
			done += r;
			tries = 0;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && (errno == EAGAIN || errno == ENOBUFS) &&
		    ++tries < TX_TRIES) {
			tx_wait(l->tx_fd);
			continue;
		}
		/* This frame cannot go (too big, device down, stuck): skip it. */
		if (__atomic_fetch_add(&a->st.tx_errors[li], 1, __ATOMIC_RELAXED) == 0)
			log_warn("%s: send", l->name);
		done++;
		tries = 0;
	}
	q->n = 0;
	q->bytes = 0;
}

/* The sender */

static void *
sender_main(void *arg)
{
	struct io_af *a = arg;
	struct sender *t = &a->tx;

	pthread_mutex_lock(&t->mu);
	for (;;) {
		struct hand *h;

		while (t->n == 0 && !t->quit)
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->n == 0)
			break;
		h = &t->h[t->head];	/* stays queued (held) until sent */
		pthread_mutex_unlock(&t->mu);
		for (int i = 0; i < 2; i++)
			if (h->q[i] != NULL)
				flush_queue(a, i, h->q[i]);
		pthread_mutex_lock(&t->mu);
		for (int i = 0; i < 2; i++)
			t->nleg[i] -= h->q[i] != NULL;
		t->head = (t->head + 1) % SEND_DEPTH;
		t->n--;
		pthread_cond_signal(&t->done);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/*
 * Started on the first big batch, not at open: by then privileges are
 * dropped and the system call filter is in place, and a thread inherits
 * both only if it is created after them.  Signals stay with the main
 * thread (its poll is what they interrupt).
 */
static bool
sender_start(struct io_af *a)
{
	struct sender *t = &a->tx;
	sigset_t all, old;
	int rc;

	if (t->started || t->failed)
		return t->started;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t->thread, NULL, sender_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("no sender thread (%s): sending from the main thread",
		    strerror(rc));
		t->failed = true;
		return false;
	}
	t->started = true;
	return true;
}

/*
 * Wait until the sender holds at most max hand-offs, and none with frames
 * for leg li (-1: any leg).
 */
static void
sender_wait(struct io_af *a, int max, int li)
{
	struct sender *t = &a->tx;

	if (!t->started)
		return;
	pthread_mutex_lock(&t->mu);
	while (t->n > max || (li >= 0 && t->nleg[li] > 0))
		pthread_cond_wait(&t->done, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

/* The sender holds nothing: every frame flushed has been sent. */
static bool
af_all_sent(struct fb_io *io)
{
	struct io_af *a = (struct io_af *)io;
	struct sender *t = &a->tx;
	bool idle;

	if (!t->started)
		return true;
	pthread_mutex_lock(&t->mu);
	idle = t->n == 0;
	pthread_mutex_unlock(&t->mu);
	return idle;
}

/* No frame is ready in any leg's rings (the fast path's ring buffers
 * aside: what they hold has crossed already). */
static bool
af_rings_empty(struct fb_io *io)
{
	struct io_af *a = (struct io_af *)io;

	for (int li = 0; li < 2; li++)
		for (int i = 0; i < a->leg[li].nrx; i++) {
			struct ring *r = &a->leg[li].rx[i];

			if (r->owed >= r->frame_nr ||
			    (slot_status(r, r->cur) & TP_STATUS_USER) != 0)
				return false;
		}
	return true;
}

/*
 * At the start of a batch (before a->batch counts it): the oldest batch
 * whose frames the sender still holds, or the new batch's number if none.
 * A batch more than SEND_DEPTH back (the batches since queued nothing) is
 * waited for: only the last SEND_DEPTH batches' slots and arenas stay out.
 */
static uint64_t
sender_settle(struct io_af *a)
{
	struct sender *t = &a->tx;
	uint64_t next = a->batch + 1, oldest = next;

	if (!t->started)
		return next;
	pthread_mutex_lock(&t->mu);
	while (t->n > 0 && t->h[t->head].batch + SEND_DEPTH < next)
		pthread_cond_wait(&t->done, &t->mu);
	if (t->n > 0)
		oldest = t->h[t->head].batch;
	pthread_mutex_unlock(&t->mu);
	return oldest;
}

/*
 * Queue the txqs of the legs in hand[] to the sender (it holds fewer than
 * SEND_DEPTH) and fill the next ones of those legs: free, as the
 * SEND_DEPTH before them are the most the sender can hold, and it sends in
 * order.
 */
static void
sender_hand(struct io_af *a, const bool hand[2])
{
	struct sender *t = &a->tx;
	struct hand *h;

	pthread_mutex_lock(&t->mu);
	h = &t->h[(t->head + t->n) % SEND_DEPTH];
	h->batch = a->batch;
	for (int i = 0; i < 2; i++) {
		h->q[i] = hand[i] ? a->leg[i].txq : NULL;
		t->nleg[i] += hand[i];
	}
	t->n++;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	for (int i = 0; i < 2; i++) {
		struct leg *l = &a->leg[i];

		if (hand[i]) {
			l->fill = (l->fill + 1) % NBUF;
			l->txq = l->txqs[l->fill];
		}
	}
}

static void
sender_stop(struct io_af *a)
{
	struct sender *t = &a->tx;

	if (!t->started)
		return;
	pthread_mutex_lock(&t->mu);
	t->quit = true;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);	/* it sends what it holds first */
	t->started = false;
}

/*
 * By bytes, not frames: bulk streams (full-size or GSO frames) gain from
 * the second core; a flood of small frames measured no gain and more ring
 * drops (the two threads waking each other for every little batch).  With
 * SPLIT_LEGS, a leg goes if it alone is this heavy, or the heavier leg if
 * only both together are; the other (a bulk stream's ACKs) is sent inline
 * meanwhile, so both cores run the far sides' stacks.
 */
static bool
worth_handing(const struct io_af *a, bool hand[2])
{
	const struct txq *o = a->leg[0].txq, *i = a->leg[1].txq;

	if (SPLIT_LEGS) {
		hand[0] = o->bytes >= HAND_BYTES;
		hand[1] = i->bytes >= HAND_BYTES;
		/* Heavy together (two streams, one each way): the heavier. */
		if (!hand[0] && !hand[1] && o->bytes + i->bytes >= HAND_BYTES)
			hand[o->bytes >= i->bytes ? 0 : 1] = true;
	} else {
		hand[0] = o->n > 0 && o->bytes + i->bytes >= HAND_BYTES;
		hand[1] = i->n > 0 && o->bytes + i->bytes >= HAND_BYTES;
	}
	return hand[0] || hand[1];
}

static int
af_flush(struct fb_io *io)
{
	struct io_af *a = (struct io_af *)io;
	bool hand[2];

	if (a->leg[0].txq->n == 0 && a->leg[1].txq->n == 0)
		return 0;
	if (worth_handing(a, hand) && sender_start(a)) {
		sender_wait(a, SEND_DEPTH - 1, -1);
		sender_hand(a, hand);
	} else
		hand[0] = hand[1] = false;
	/* Inline after every hand-off of the leg's: in order. */
	for (int i = 0; i < 2; i++) {
		if (hand[i] || a->leg[i].txq->n == 0)
			continue;
		sender_wait(a, SEND_DEPTH, i);
		flush_queue(a, i, a->leg[i].txq);
	}
	return 0;
}

static void
af_stats(struct fb_io *io, struct io_stats *st)
{
	struct io_af *a = (struct io_af *)io;
	struct tpacket_stats ks;
	socklen_t len;

	for (int i = 0; i < 2; i++) {
		struct leg *l = &a->leg[i];

		for (int j = 0; j < l->nrx; j++) {
			/* Reading resets the kernel's counters: accumulate. */
			len = sizeof(ks);
			memset(&ks, 0, sizeof(ks));
			if (getsockopt(l->rx[j].fd, SOL_PACKET, PACKET_STATISTICS,
			    &ks, &len) == 0)
				l->rx[j].drops += ks.tp_drops;	/* V2: no freezes */
		}
		a->st.fast_drops[i] = 0;
		uint64_t fresh = 0;
		for (int w = 0; w < FAST_NDROP; w++) {
			a->st.fast_drops[i] += fastpath_drops(&a->fast, i, FAST_KNOWN,
			    (enum fast_drop)w);
			fresh += fastpath_drops(&a->fast, i, FAST_NEW, (enum fast_drop)w);
		}
		a->st.fast_drops[i] += fresh;
		a->st.kernel_drops[i] = l->rx[RX_MAIN].drops + l->rx[RX_OPENERS].drops +
		    a->st.fast_drops[i];
		/* The newcomers' ring buffer is the openers' ring's twin. */
		a->st.kernel_drops_openers[i] = l->rx[RX_OPENERS].drops + fresh;
		/* The newcomers' ring buffer is the openers' ring's twin. */
		a->st.rx_openers[i] = l->rx[RX_OPENERS].frames +
		    a->fast.rb[i][FAST_NEW].frames + a->fast_gone[i][1];
	}
	for (int i = 0; i < 2; i++) {
		st->rx_frames[i] = a->st.rx_frames[i];
		st->rx_bytes[i] = a->st.rx_bytes[i];
		st->kernel_drops[i] = a->st.kernel_drops[i];
		st->kernel_drops_openers[i] = a->st.kernel_drops_openers[i];
		st->rx_openers[i] = a->st.rx_openers[i];
		st->openers_ring[i] = a->leg[i].nrx == 2;
		st->known_filter[i] = a->leg[i].nrx == 2 && a->leg[i].known;
		st->kernel_freezes[i] = a->st.kernel_freezes[i];
		st->fast_path = a->fast_on;
		st->fast_frames[i] = fastpath_frames(&a->fast, i) + a->fast_gone[i][0];
		st->fast_recovered[i] = fastpath_recovered(&a->fast, i) +
		    a->fast_gone[i][2];
		st->fast_drops[i] = a->st.fast_drops[i];
		st->fast_pins_unreadable = a->pins_unreadable;
		/* (the sender counts these as it goes) */
		st->tx_frames[i] = __atomic_load_n(&a->st.tx_frames[i], __ATOMIC_RELAXED);
		st->tx_bytes[i] = __atomic_load_n(&a->st.tx_bytes[i], __ATOMIC_RELAXED);
		st->tx_errors[i] = __atomic_load_n(&a->st.tx_errors[i], __ATOMIC_RELAXED);
	}
}

static int
af_linktype(struct fb_io *io)
{
	(void)io;
	return 1;	/* LINKTYPE_ETHERNET */
}

static void
ring_close(struct ring *r)
{
	if (r->map != NULL && r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static void
leg_close(struct leg *l)
{
	ring_close(&l->rx[RX_MAIN]);
	ring_close(&l->rx[RX_OPENERS]);
	l->nrx = 0;
	if (l->sink_fd >= 0)
		close(l->sink_fd);
	l->sink_fd = -1;
	if (l->tx_fd >= 0)
		close(l->tx_fd);
	for (int i = 0; i < NBUF; i++) {
		free(l->txqs[i]);
		free(l->arena[i]);
		l->txqs[i] = NULL;
		l->arena[i] = NULL;
	}
	l->copy = NULL;
	l->tx_fd = -1;
	l->txq = NULL;
}

static void
af_close(struct fb_io *io)
{
	struct io_af *a = (struct io_af *)io;

	if (a == NULL)
		return;
	/* The kernel's forwarding stops first. */
	fastpath_close(&a->fast);
	sender_stop(a);
	for (int i = 0; i < 2; i++)
		leg_close(&a->leg[i]);
	for (int i = 0; i < 2; i++)
		if (a->known_prog[i] != -1)
			close(a->known_prog[i]);
	known_close(&a->known);
	pthread_cond_destroy(&a->tx.cv);
	pthread_cond_destroy(&a->tx.done);
	pthread_mutex_destroy(&a->tx.mu);
	free(a);
}

static const struct fb_io_ops af_ops = {
	.name = "afpacket",
	.next_batch = af_next_batch,
	.forward = af_forward,
	.flush = af_flush,
	.all_sent = af_all_sent,
	.rings_empty = af_rings_empty,
	.stats = af_stats,
	.linktype = af_linktype,
	.close = af_close,
};

/* Set-up of one leg */

static int
fail(char *err, size_t errlen, const char *ifname, const char *what)
{
	int e = errno;

	if (e == EPERM || e == EACCES)
		snprintf(err, errlen, "%s: %s: %s (fishbowl run needs root: "
		    "CAP_NET_RAW and CAP_NET_ADMIN)", ifname, what, strerror(e));
	else
		snprintf(err, errlen, "%s: %s: %s", ifname, what, strerror(e));
	errno = e;
	return -1;
}

static int
sockopt_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val));
}

/* Up and promiscuous (the membership below keeps promisc counted right). */
static int
iface_up(const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, rc = 0;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return fail(err, errlen, ifname, "socket");
	memset(&ifr, 0, sizeof(ifr));
	fb_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == -1)
		rc = fail(err, errlen, ifname, "cannot read interface flags");
	else if ((ifr.ifr_flags & IFF_UP) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1)
			rc = fail(err, errlen, ifname, "cannot bring the interface up");
	}
	close(fd);
	return rc;
}

/* No IPv6 on our legs: no link-local address, no ND or MLD of our own. */
static void
iface_no_ipv6(const char *ifname)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)	/* no IPv6 in this kernel: nothing to do */
			log_warn("%s", path);
		return;
	}
	if (write(fd, "1\n", 2) != 2)
		log_warn("%s", path);
	close(fd);
}

/* The bridge must be invisible: an address on a leg makes it a host. */
static int
iface_check_addrs(const char *a, const char *b, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *p;
	char buf[INET6_ADDRSTRLEN];

	if (getifaddrs(&ifa) == -1)
		return 0;
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL || p->ifa_addr->sa_family != AF_INET)
			continue;
		if (strcmp(p->ifa_name, a) != 0 && strcmp(p->ifa_name, b) != 0)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)p->ifa_addr)->sin_addr,
		    buf, sizeof(buf));
		snprintf(err, errlen, "%s has the IPv4 address %s: a bridge leg must "
		    "have no address (remove it: ip addr flush dev %s)",
		    p->ifa_name, buf, p->ifa_name);
		freeifaddrs(ifa);
		return -1;
	}
	freeifaddrs(ifa);
	return 0;
}

/* A ring slot holds a full frame of this MTU (bigger ones are copied). */
static uint32_t
pick_frame_size(int mtu)
{
	uint32_t fs = FRAME_MIN;

	while (fs < FRAME_MAX && mtu > 0 &&
	    (uint32_t)mtu + ETH_HLEN + 4 + SLOT_HEADROOM > fs)
		fs <<= 1;
	return fs;
}

/*
 * An RX socket with a ring of ring_bytes on leg l.  The main one is
 * promiscuous; the openers' one shares the interface, and is bound deaf
 * (a filter that takes nothing): bound, it receives every frame on its
 * own until it joins the fanout group, and those frames are the main
 * ring's too.  openers_open lifts the filter once it is in the group.
 */
static int
ring_open(struct leg *l, struct ring *r, uint64_t ring_bytes, int mtu,
    bool main_ring, char *err, size_t errlen)
{
	static const struct sock_filter none[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	const struct sock_fprog deaf = { 1, (struct sock_filter *)none };
	struct tpacket_req req;
	struct sockaddr_ll sll;
	struct packet_mreq mr;
	uint32_t block_nr;

	/* Protocol 0: nothing is queued before the ring and bind exist. */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd == -1)
		return fail(err, errlen, l->name, "AF_PACKET socket");
	if (sockopt_int(r->fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2) == -1)
		return fail(err, errlen, l->name, "TPACKET_V2");
	if (sockopt_int(r->fd, SOL_PACKET, PACKET_VNET_HDR, 1) == -1)
		return fail(err, errlen, l->name, "PACKET_VNET_HDR");
	if (sockopt_int(r->fd, SOL_PACKET, PACKET_RESERVE, RESERVE) == -1)
		return fail(err, errlen, l->name, "PACKET_RESERVE");
	/* Never read back what we (or anyone on this host) sent here. */
	if (sockopt_int(r->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) == -1)
		return fail(err, errlen, l->name, "PACKET_IGNORE_OUTGOING (kernel >= 4.20)");
	/* Frames bigger than a slot are also queued whole on the socket. */
	if (sockopt_int(r->fd, SOL_PACKET, PACKET_COPY_THRESH, 1) == -1)
		return fail(err, errlen, l->name, "PACKET_COPY_THRESH");
	if (sockopt_int(r->fd, SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES) == -1)
		(void)sockopt_int(r->fd, SOL_SOCKET, SO_RCVBUF, RCVBUF_BYTES);

	r->frame_size = pick_frame_size(mtu);
	block_nr = (uint32_t)FB_MAX(ring_bytes / RING_BLOCK, 2);
	memset(&req, 0, sizeof(req));
	req.tp_block_size = RING_BLOCK;
	req.tp_block_nr = block_nr;
	req.tp_frame_size = r->frame_size;
	req.tp_frame_nr = (RING_BLOCK / r->frame_size) * block_nr;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) == -1)
		return fail(err, errlen, l->name, "PACKET_RX_RING");
	r->frame_nr = req.tp_frame_nr;
	r->map_len = (size_t)RING_BLOCK * block_nr;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_LOCKED | MAP_POPULATE, r->fd, 0);
	if (r->map == MAP_FAILED)	/* RLIMIT_MEMLOCK: try unlocked */
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return fail(err, errlen, l->name, "mmap of the RX ring");
	}

	if (!main_ring && setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_FILTER, &deaf,
	    sizeof(deaf)) == -1)
		return fail(err, errlen, l->name, "SO_ATTACH_FILTER");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = l->ifindex;
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		return fail(err, errlen, l->name, "bind");
	if (!main_ring)
		return 0;
	memset(&mr, 0, sizeof(mr));
	mr.mr_ifindex = l->ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(r->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) == -1)
		return fail(err, errlen, l->name, "promiscuous mode");
	return 0;
}

/*
 * A fanout group's own hook delivers its frames, and only the group's
 * flag makes it ignore outgoing ones (the sockets' PACKET_IGNORE_OUTGOING
 * no longer applies): without it the bridge would read back what it sent.
 * Older kernels may accept the flag without honouring it, so the version
 * decides.
 */
static bool
kernel_has_fanout_ignore_outgoing(void)
{
	struct utsname u;
	unsigned maj = 0, min = 0;

	if (uname(&u) == -1 || sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return false;
	return maj > 6 || (maj == 6 && min >= 2);
}

/*
 * The openers' ring of leg l: the main socket creates a fanout group (a
 * unique id from the kernel: groups are per network namespace, and
 * another fishbowl or capture tool must not join ours), the openers'
 * socket joins it second (fanout index 1), and the program goes in last:
 * until then the group sends everything to index 0, the main ring.  The
 * program is known.h's (an eBPF program, known_prog) that files frames by
 * the table of known flows, or, with known_prog -1, openers.h's (classic
 * BPF, connection openers only).  False, with why, if any step fails: the
 * caller carries on with the main ring alone, which then receives
 * everything as before (a socket cannot leave a fanout group, but alone
 * in it, or with the openers' socket closed, it gets every frame).
 */
/*
 * The fast path's member of the group (fanout index 2, KNOWN_SINK): a
 * socket whose filter takes nothing, so a frame filed there reaches no
 * ring; the tc program records and forwards it (fastpath.h).
 */
static bool
sink_open(struct leg *l, int fanout)
{
	static const struct sock_filter none[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	const struct sock_fprog deaf = { 1, (struct sock_filter *)none };
	struct sockaddr_ll sll;
	int fd;

	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) == -1)
		return false;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = l->ifindex;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &deaf, sizeof(deaf)) == -1 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1 ||
	    setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return false;
	}
	l->sink_fd = fd;
	return true;
}

static bool
openers_open(struct leg *l, uint64_t ring_bytes, int mtu, int known_prog,
    bool fast, char *why, size_t whylen)
{
	struct ring *m = &l->rx[RX_MAIN], *o = &l->rx[RX_OPENERS];
	int type = known_prog != -1 ? PACKET_FANOUT_EBPF : PACKET_FANOUT_CBPF;
	struct sock_fprog prog;
	int v, id, rc;
	socklen_t vl = sizeof(v);
	char err[256];

	if (!kernel_has_fanout_ignore_outgoing()) {
		snprintf(why, whylen, "kernel older than 6.2 "
		    "(no PACKET_FANOUT_FLAG_IGNORE_OUTGOING)");
		return false;
	}
	v = (type | PACKET_FANOUT_FLAG_UNIQUEID |
	    PACKET_FANOUT_FLAG_IGNORE_OUTGOING) << 16;
	if (setsockopt(m->fd, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v)) == -1) {
		snprintf(why, whylen, "PACKET_FANOUT_%s: %s",
		    known_prog != -1 ? "EBPF" : "CBPF", strerror(errno));
		return false;
	}
	if (getsockopt(m->fd, SOL_PACKET, PACKET_FANOUT, &v, &vl) == -1) {
		snprintf(why, whylen, "PACKET_FANOUT (read the id): %s",
		    strerror(errno));
		return false;
	}
	id = v & 0xffff;
	if (ring_open(l, o, ring_bytes, mtu, false, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "%s", err);
		ring_close(o);
		return false;
	}
	v = id | (type | PACKET_FANOUT_FLAG_IGNORE_OUTGOING) << 16;
	if (setsockopt(o->fd, SOL_PACKET, PACKET_FANOUT, &v, sizeof(v)) == -1) {
		snprintf(why, whylen, "joining fanout group %d: %s", id,
		    strerror(errno));
		ring_close(o);
		return false;
	}
	if (setsockopt(o->fd, SOL_SOCKET, SO_DETACH_FILTER, &v, sizeof(v)) == -1) {
		snprintf(why, whylen, "SO_DETACH_FILTER: %s", strerror(errno));
		ring_close(o);
		return false;
	}
	if (known_prog != -1) {
		rc = setsockopt(o->fd, SOL_PACKET, PACKET_FANOUT_DATA, &known_prog,
		    sizeof(known_prog));
	} else {
		prog.len = (unsigned short)openers_prog_len;
		prog.filter = (struct sock_filter *)openers_prog;
		rc = setsockopt(o->fd, SOL_PACKET, PACKET_FANOUT_DATA, &prog,
		    sizeof(prog));
	}
	if (rc == -1) {
		snprintf(why, whylen, "PACKET_FANOUT_DATA (the program): %s",
		    strerror(errno));
		ring_close(o);
		return false;
	}
	l->known = known_prog != -1;
	if (fast && !sink_open(l, id | (type | PACKET_FANOUT_FLAG_IGNORE_OUTGOING) << 16))
		log_warnx("%s: no sink in the fanout group, no fast path: %s",
		    l->name, strerror(errno));
	return true;
}

static int
tx_open(struct leg *l, char *err, size_t errlen)
{
	struct sockaddr_ll sll;

	/* Protocol 0: a send-only socket, never on the receive path. */
	l->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (l->tx_fd == -1)
		return fail(err, errlen, l->name, "AF_PACKET socket");
	if (sockopt_int(l->tx_fd, SOL_PACKET, PACKET_VNET_HDR, 1) == -1)
		return fail(err, errlen, l->name, "PACKET_VNET_HDR (tx)");
	if (sockopt_int(l->tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, SNDBUF_BYTES) == -1)
		(void)sockopt_int(l->tx_fd, SOL_SOCKET, SO_SNDBUF, SNDBUF_BYTES);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = 0;
	sll.sll_ifindex = l->ifindex;
	if (bind(l->tx_fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		return fail(err, errlen, l->name, "bind (tx)");
	return 0;
}

static int
iface_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd, mtu = -1;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	fb_strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

static int
leg_open(struct leg *l, const char *ifname, uint32_t ring_mb, uint32_t openers_mb,
    int known_prog, bool fast, char *err, size_t errlen)
{
	char why[320];
	int mtu;

	if (ifname == NULL || *ifname == '\0' || strlen(ifname) >= IF_NAMESIZE) {
		snprintf(err, errlen, "bad interface name '%s'", ifname ? ifname : "");
		return -1;
	}
	fb_strlcpy(l->name, ifname, sizeof(l->name));
	l->ifindex = (int)if_nametoindex(ifname);
	if (l->ifindex == 0) {
		snprintf(err, errlen, "%s: no such interface", ifname);
		return -1;
	}
	for (int i = 0; i < NBUF; i++) {
		l->txqs[i] = calloc(1, sizeof(*l->txqs[i]));
		l->arena[i] = malloc(COPY_ARENA);
		if (l->txqs[i] == NULL || l->arena[i] == NULL)
			return fail(err, errlen, ifname, "out of memory");
	}
	l->txq = l->txqs[0];
	l->copy = l->arena[0];
	iface_no_ipv6(ifname);
	if (iface_up(ifname, err, errlen) == -1)
		return -1;
	mtu = iface_mtu(ifname);
	if (ring_open(l, &l->rx[RX_MAIN], (uint64_t)FB_MAX(ring_mb, 1u) << 20, mtu,
	    true, err, errlen) == -1)
		return -1;
	l->nrx = 1;
	if (openers_mb == 0)
		log_info("%s: no openers' ring (openers_ring_mb = 0): one ring",
		    ifname);
	else if (!openers_open(l, (uint64_t)openers_mb << 20, mtu, known_prog,
	    fast, why, sizeof(why)))
		log_warnx("%s: no openers' ring, one ring for everything "
		    "(a flood costs other connections frames): %s", ifname, why);
	else
		l->nrx = 2;
	return tx_open(l, err, errlen);
}

/*
 * The table of known flows and its program, for both legs; -1 if there is
 * none (no openers' ring, or the kernel refused: the classic program of
 * openers.h then files connection openers only).
 */
static uint64_t
pow2_mb(uint32_t mb)
{
	uint64_t bytes = 1u << 20;

	while (bytes < ((uint64_t)mb << 20) && bytes < (1ull << 30))
		bytes <<= 1;
	return bytes;
}

/*
 * Ring buffers a fishbowl killed on this capture directory left pinned
 * (fastpath.h "Killed"): adopted, to be read first, fast path or not.
 * With the fast path, its pins' directory is made ready (a->fast.pin_parent;
 * -1 if it cannot be: then no fast path, logged by fast_maps).
 */
static void
fast_adopt(struct io_af *a, const struct fb_fast_pins *pins, bool fast)
{
	char why[512];
	uint64_t left;
	int n;

	if (pins == NULL)
		return;
	if (fastpath_pins(&a->fast, pins->capture_dir, fast, pins->uid, pins->gid,
	    a->pin_why, sizeof(a->pin_why)) == -1)
		return;
	n = fastpath_adopt(&a->fast, why, sizeof(why));
	a->pins_unreadable += a->fast.unreadable;
	if (why[0] != '\0')
		log_warnx("fast path: a ring buffer pinned in %s cannot be read, "
		    "its frames are not in the capture: %s", a->fast.pin_dir, why);
	if (n == 0)
		return;
	if ((left = fastpath_pending(&a->fast)) > 0)
		log_warnx("fast path: %llu bytes left in the ring buffers by a "
		    "fishbowl that did not stop cleanly; they are read first",
		    (unsigned long long)left);
	if (!fast)
		log_warnx("fast path: off, but its ring buffers pinned in %s are "
		    "read, then unpinned", a->fast.pin_dir);
}

/*
 * The fast path's ring buffers, first: the known-flows programs read how
 * full they are; pinned, so a kill loses none of their records.  Adopted
 * ones are kept whatever their size.  False (logged) if they cannot be
 * made or pinned.
 */
static bool
fast_maps(struct io_af *a, uint32_t fast_mb, uint32_t new_mb, struct known_rings *r)
{
	char why[512];

	if (a->fast.pin_parent == -1) {
		log_warnx("no fast path: cannot pin its ring buffers in %s/fishbowl/: %s",
		    FAST_PIN_ROOT, a->pin_why[0] != '\0' ? a->pin_why :
		    "no capture directory named");
		return false;
	}
	if (fastpath_maps(&a->fast, pow2_mb(fast_mb), pow2_mb(new_mb), why,
	    sizeof(why)) == -1) {
		log_warnx("no fast path, every frame through fishbowl: %s", why);
		return false;
	}
	if (a->fast.rb[0][FAST_KNOWN].size != pow2_mb(fast_mb) ||
	    a->fast.rb[1][FAST_KNOWN].size != pow2_mb(fast_mb) ||
	    a->fast.rb[0][FAST_NEW].size != pow2_mb(new_mb) ||
	    a->fast.rb[1][FAST_NEW].size != pow2_mb(new_mb))
		log_warnx("fast path: the ring buffers adopted keep their sizes this "
		    "run; fast_path_mb (and openers_ring_mb) take effect at the next "
		    "clean start");
	if (fastpath_pin(&a->fast, why, sizeof(why)) == -1) {
		log_warnx("no fast path: cannot pin its ring buffers in %s: %s",
		    a->fast.pin_dir, why);
		return false;
	}
	for (int l = 0; l < 2; l++)
		for (int k = 0; k < FAST_NKIND; k++) {
			r->fd[l][k] = a->fast.rb[l][k].fd;
			r->size[l][k] = a->fast.rb[l][k].size;
		}
	return true;
}

static void
known_start(struct io_af *a, uint32_t openers_mb, uint32_t slots, uint32_t fast_mb)
{
	struct known_rings rings;
	bool fast = false;
	char why[512];

	a->known_prog[0] = a->known_prog[1] = -1;
	if (openers_mb == 0 || slots == 0 || !kernel_has_fanout_ignore_outgoing())
		return;
	if (fast_mb != 0)
		fast = fast_maps(a, fast_mb, openers_mb, &rings);
	if (known_open(&a->known, slots, fast, fast ? &rings : NULL, a->known_prog,
	    why, sizeof(why)) == -1) {
		log_warnx("no table of known flows, the openers' ring gets "
		    "connection openers only (a flood of anything else costs "
		    "other connections frames)%s: %s", fast ? ", no fast path" : "",
		    why);
		return;
	}
	a->io.known = &a->known;
	a->fast_maps_ok = fast;
}

/*
 * The fast path, once both legs have their sink: if it cannot be attached
 * the notes known.h's programs leave are never read, and the engine never
 * marks a flow fast (io.fast stays NULL).
 */
static void
fast_start(struct io_af *a)
{
	int ifindex[2] = { a->leg[0].ifindex, a->leg[1].ifindex };
	char why[512];

	if (a->known.note_fd == -1 || !a->leg[0].known || !a->leg[1].known ||
	    a->leg[0].sink_fd == -1 || a->leg[1].sink_fd == -1) {
		log_warnx("no fast path: it needs the known-flows filter on both legs");
		return;
	}
	if (fastpath_attach(&a->fast, a->known.note_fd, a->known.pend_fd, ifindex,
	    why, sizeof(why)) == -1) {
		log_warnx("no fast path, every frame through fishbowl: %s", why);
		return;
	}
	a->fast_on = a->fast_read = true;
	a->io.fast = &a->fast;
	fastpath_wake(&a->fast, true);
	a->fast_wakes = true;
	log_info("fast path: the kernel forwards proven flows' frames and "
	    "outsiders', each recorded first (ring buffers of %llu MiB per "
	    "leg, %llu MiB for newcomers, pinned in %s)",
	    (unsigned long long)(a->fast.rb[0][FAST_KNOWN].size >> 20),
	    (unsigned long long)(a->fast.rb[0][FAST_NEW].size >> 20),
	    a->fast.pin_dir);
}

/*
 * No fast path this run (off, or it could not start): no program runs;
 * ring buffers a killed fishbowl left are read all the same (fast_read),
 * and closed, unpinned, once empty (fast_done); the rest go now.
 */
static void
fast_off(struct io_af *a)
{
	bool any = false;

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++)
			any |= a->fast.rb[i][k].fd != -1;
	fastpath_detach(&a->fast);
	a->fast_read = any;
	fast_done(a);
}

/* Without the fast path: once the ring buffers left are read (and their
 * frames written: the batch before this one), they go.  Their counts stay
 * in status. */
static void
fast_done(struct io_af *a)
{
	if (a->fast_read && fastpath_pending(&a->fast) != 0)
		return;
	if (a->fast_read) {
		for (int i = 0; i < 2; i++) {
			a->fast_gone[i][0] += fastpath_frames(&a->fast, i);
			a->fast_gone[i][1] += a->fast.rb[i][FAST_NEW].frames;
			a->fast_gone[i][2] += fastpath_recovered(&a->fast, i);
		}
		log_info("fast path: the %llu frames a killed fishbowl left in its "
		    "ring buffers are read; unpinned",
		    (unsigned long long)(a->fast_gone[0][2] + a->fast_gone[1][2]));
	}
	fastpath_close(&a->fast);
	a->fast_read = false;
}

struct fb_io *
io_afpacket_open(const char *outside, const char *inside, uint32_t ring_mb,
    uint32_t openers_mb, uint32_t known_slots, uint32_t fast_mb,
    const struct fb_fast_pins *pins, char *err, size_t errlen)
{
	struct io_af *a;
	int m0, m1;

	if (outside != NULL && inside != NULL && strcmp(outside, inside) == 0) {
		snprintf(err, errlen, "%s: outside and inside must be two interfaces",
		    outside);
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->io.ops = &af_ops;
	pthread_mutex_init(&a->tx.mu, NULL);
	pthread_cond_init(&a->tx.cv, NULL);
	pthread_cond_init(&a->tx.done, NULL);
	for (int i = 0; i < 2; i++)
		a->leg[i].rx[RX_MAIN].fd = a->leg[i].rx[RX_OPENERS].fd =
		    a->leg[i].tx_fd = a->leg[i].sink_fd = -1;
	a->known.map_fd = a->known.note_fd = -1;
	fastpath_init(&a->fast);
	fast_adopt(a, pins, fast_mb != 0);
	known_start(a, openers_mb, known_slots, fast_mb);
	if (leg_open(&a->leg[LEG_OUTSIDE], outside, ring_mb, openers_mb,
	    a->known_prog[LEG_OUTSIDE], fast_mb != 0, err, errlen) == -1 ||
	    leg_open(&a->leg[LEG_INSIDE], inside, ring_mb, openers_mb,
	    a->known_prog[LEG_INSIDE], fast_mb != 0, err, errlen) == -1 ||
	    iface_check_addrs(outside, inside, err, errlen) == -1) {
		af_close(&a->io);
		return NULL;
	}
	/* The fanout groups hold the programs now. */
	for (int i = 0; i < 2; i++) {
		if (a->known_prog[i] != -1)
			close(a->known_prog[i]);
		a->known_prog[i] = -1;
	}
	if (fast_mb != 0 && a->fast_maps_ok)
		fast_start(a);
	if (!a->fast_on)
		fast_off(a);
	if (!a->leg[0].known && !a->leg[1].known)
		a->io.known = NULL;	/* nobody reads the table */
	m0 = iface_mtu(outside);
	m1 = iface_mtu(inside);
	if (m0 != m1)
		log_warnx("MTU differs: %s %d, %s %d; larger frames will not cross",
		    outside, m0, inside, m1);
	if (a->leg[0].nrx == 2 && a->leg[1].nrx == 2)
		log_info("bridging %s and %s: %u slots of %u bytes per leg, and "
		    "%u for %s", outside, inside,
		    a->leg[0].rx[RX_MAIN].frame_nr, a->leg[0].rx[RX_MAIN].frame_size,
		    a->leg[0].rx[RX_OPENERS].frame_nr,
		    a->leg[0].known && a->leg[1].known ?
		    "newcomers (frames of flows not yet known)" :
		    "connection openers");
	else
		log_info("bridging %s and %s: %u slots of %u bytes per leg",
		    outside, inside, a->leg[0].rx[RX_MAIN].frame_nr,
		    a->leg[0].rx[RX_MAIN].frame_size);
	return &a->io;
}
