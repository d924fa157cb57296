/*
 * stream: TCP stream reassembly, one struct stream per connection holding
 * both directions.  Feeds the session layer through callbacks.
 *
 * Promises: bytes are delivered in sequence order, each byte at most once,
 * per direction; a hole that will not be filled (the peer acknowledged past
 * it, the buffer budget ran out, or the connection ended) is reported as a
 * gap of its exact length, never invented; overlapping segments whose bytes
 * differ are resolved by the connection's target policy (config.h enum
 * fb_policy: what the receiving host's stack would keep), and every such
 * conflict is reported with both versions and counted, since it may be an
 * evasion attempt; sequence numbers wrap; memory for out-of-order data comes
 * from one pool with a hard cap (cfg->layers_memory_bytes shared with
 * defrag), and when it is exhausted data is dropped as a counted gap, never
 * by growing.  Every TCP field is attacker-chosen: nothing here trusts one.
 */
#ifndef FB_STREAM_H
#define FB_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"
#include "util.h"

/* Direction of data: 0 = originator to responder, 1 = the reverse (as fb_flow). */
#define STREAM_ORIG	0
#define STREAM_RESP	1

enum stream_end {
	STREAM_END_FIN,		/* FIN reached in sequence */
	STREAM_END_RST,		/* reset */
	STREAM_END_CLOSE	/* the flow ended (timeout, eviction, shutdown) */
};

struct stream_events {
	/* In-order bytes of one direction; ts is the time of the segment
	 * that completed them. */
	void	(*data)(void *arg, int dir, fb_ns ts, const uint8_t *p, size_t n);
	/* n bytes of one direction that were never seen. */
	void	(*gap)(void *arg, int dir, fb_ns ts, uint64_t n);
	/* At stream offset off (bytes from the start of that direction), the
	 * policy delivered kept[0..n) and another segment carried other[0..n). */
	void	(*conflict)(void *arg, int dir, fb_ns ts, uint64_t off,
		    const uint8_t *kept, const uint8_t *other, size_t n);
	/* One direction is finished (called once per direction). */
	void	(*end)(void *arg, int dir, fb_ns ts, enum stream_end how);
};

struct stream_stats {
	uint64_t	streams;	/* created */
	uint64_t	bytes;		/* delivered */
	uint64_t	gaps, gap_bytes;	/* all holes given up, of which: */
	uint64_t	limit_gaps, limit_gap_bytes;	/* at the hold limit */
	uint64_t	end_gaps, end_gap_bytes;	/* at the stream's end */
	uint64_t	overlaps;	/* overlapping segments, same bytes */
	uint64_t	conflicts;	/* overlapping segments, different bytes */
	uint64_t	out_of_window;	/* segments far outside the window, ignored */
	uint64_t	stale_bytes;	/* delivered from copies PAWS called old */
	uint64_t	stale_replaced;	/* such copies another one differed from */
	uint64_t	mem_drops;	/* segments dropped: the pool was full */
	uint64_t	urgent;		/* urgent bytes taken out of the stream */
	uint64_t	mem_used, mem_max;
};

struct stream_pool;
struct stream;

/* A pool caps the out-of-order memory of all streams together. */
struct stream_pool *stream_pool_new(uint64_t max_bytes);
void	 stream_pool_free(struct stream_pool *);
void	 stream_pool_stats(const struct stream_pool *, struct stream_stats *);
/* Charge n bytes to the pool (false: it is full) and give them back; for
 * other reassemblers (defrag) that share the budget. */
bool	 stream_pool_take(struct stream_pool *, uint64_t n);
void	 stream_pool_give(struct stream_pool *, uint64_t n);

/* Does a new segment or fragment [b0,b1) win the bytes it shares with an
 * older one [a0,a1) on a host of this policy?  (docs/reassembly.md) */
bool	 policy_new_wins(enum fb_policy, uint64_t a0, uint64_t a1, uint64_t b0,
	    uint64_t b1);

/* A new connection: policy is the responder's (or the honeypot's) stack. */
struct stream *stream_new(struct stream_pool *, enum fb_policy,
	    const struct stream_events *, void *arg);
/* One TCP segment of the connection travelling in dir (decoded, valid l4). */
void	 stream_segment(struct stream *, int dir, const struct fb_packet *, fb_ns ts);
/* The flow ended: deliver what can be, report the rest as gaps, end both
 * directions, then free. */
void	 stream_close(struct stream *, fb_ns ts);

#endif
