/*
 * stream: TCP stream reassembly (contract in stream.h).
 *
 * Model.  Each direction keeps the bytes it has received but not yet
 * delivered as a sorted list of non-overlapping pieces; each piece
 * remembers the extent of the segment its bytes came from, because the
 * target policies decide overlaps by comparing the extents of the old and
 * the new segment (policy_new_wins, shared with defrag).  Held bytes are
 * delivered when the peer acknowledges them (the receiving stack took
 * them, so a later copy can no longer change what it saw), when the peer
 * itself sends data (so the two sides stay in the order they spoke), when the FIN
 * is reached in sequence, when the per-direction limit is hit, or at the
 * end; until then a conflicting copy is resolved by the policy, as an IDS
 * that flushes on ACK does.  Holes are delivered as gaps of their exact
 * length only when they can no longer be filled: acknowledged past, limit
 * hit, or the end.
 *
 * Sequence numbers are mapped to 64-bit offsets from the first byte of
 * the direction (ISN + 1, or the first byte seen when the handshake was
 * missed), relative to the next byte to deliver, so wrap is invisible.
 *
 * Memory: every held piece is charged to the pool (header and bytes); a
 * piece that does not fit is dropped and counted, and becomes a gap later.
 * A direction holds at most STREAM_DIR_BYTES and STREAM_DIR_SEGS pieces
 * (bounds the list walk too); past that the oldest hole is given up.
 */
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define STREAM_WINDOW		(1ULL << 30)	/* largest scaled TCP window */
#define STREAM_DIR_BYTES	(1U << 20)	/* held per direction */
#define STREAM_DIR_SEGS		2048U		/* pieces per direction */
#define STREAM_URG_MAX		8		/* urgent bytes pending per direction */
#define SPARE_MAX		64		/* freed pieces kept for reuse per pool */
#define SPARE_MIN		1024		/* ... of at least this many bytes */
#define SPARE_MAX_BYTES		2048		/* ... and at most */

struct stream_pool {
	uint64_t		max;
	struct stream_stats	st;
	/* Freed pieces, the last on top (linked by next), taken again by a
	 * piece of the same size: a bulk stream takes one and gives one back
	 * per segment, all of one size, and a malloc and free of 1.5 KB (past
	 * malloc's per-thread cache) cost as much as the rest of reassembly.
	 * Not charged (they hold no bytes): at most SPARE_MAX * 2 KB. */
	struct piece		*spare;
	unsigned		 nspare;
};

struct piece {
	struct piece	*prev, *next;
	uint64_t	 off;		/* stream offset of data[0] */
	uint64_t	 o0, o1;	/* extent of the segment it came from */
	uint32_t	 len;
	uint32_t	 charge;	/* bytes charged to the pool */
	bool		 stale;		/* from a copy PAWS called old */
	uint8_t		 data[];
};

struct half {
	bool		 have_base;
	uint32_t	 base;		/* sequence number of offset 0 */
	uint64_t	 next;		/* offset of the next byte to deliver */
	uint64_t	 hi;		/* highest offset seen + 1 */
	bool		 fin;
	uint64_t	 fin_off;	/* offset of the FIN */
	bool		 ended;
	struct piece	*head, *tail;
	uint32_t	 npieces;
	uint64_t	 held;		/* data bytes held */
	/* TCP timestamps (PAWS), valid when both SYNs carried the option */
	bool		 syn;		/* this side's SYN was seen */
	bool		 est;		/* it sent an ACK without SYN: past SYN_SENT */
	bool		 ts_syn;	/* this side's SYN had a timestamp */
	bool		 ts_valid;
	uint32_t	 ts_recent;	/* TSval of the last segment at the left edge */
	/* The peer's highest acknowledgement of this side (offset): the
	 * receiver's Last.ACK.sent, as far as we saw it. */
	bool		 have_acked;
	uint64_t	 acked;
	/* Urgent bytes not yet delivered (offsets, ascending): the receiving
	 * application does not see them in the stream (no SO_OOBINLINE). */
	uint64_t	 urg[STREAM_URG_MAX];
	uint32_t	 n_urg;
};

struct stream {
	struct stream_pool		*pool;
	enum fb_policy			 policy;
	const struct stream_events	*ev;
	void				*arg;
	struct half			 h[2];
	bool				 reset;
};

/* Pool */

struct stream_pool *
stream_pool_new(uint64_t max_bytes)
{
	struct stream_pool *sp = calloc(1, sizeof(*sp));

	if (sp == NULL)
		return NULL;
	sp->max = max_bytes;
	sp->st.mem_max = max_bytes;
	return sp;
}

static void spare_free(struct stream_pool *);

void
stream_pool_free(struct stream_pool *sp)
{
	if (sp == NULL)
		return;
	spare_free(sp);
	free(sp);
}

void
stream_pool_stats(const struct stream_pool *sp, struct stream_stats *out)
{
	if (sp == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = sp->st;
}

bool
stream_pool_take(struct stream_pool *sp, uint64_t n)
{
	if (sp->st.mem_used + n > sp->max || sp->st.mem_used + n < n)
		return false;
	sp->st.mem_used += n;
	return true;
}

void
stream_pool_give(struct stream_pool *sp, uint64_t n)
{
	sp->st.mem_used -= FB_MIN(n, sp->st.mem_used);
}

/* Policy */

/*
 * Does a new segment [b0,b1) win the bytes it shares with an old one
 * [a0,a1)?  Novak's "Target-Based Fragmentation Reassembly" rules, decided
 * pairwise against the original extent of the older copy: this reproduces
 * the Sturges-Novak vector's expected bytes for all six policies it covers
 * (tests/unit/test_defrag.c); bsd-right is bsd mirrored (the later copy
 * wins where it ends after the older one), as in Snort's frag3.  See
 * docs/reassembly.md.
 */
bool
policy_new_wins(enum fb_policy pol, uint64_t a0, uint64_t a1, uint64_t b0,
    uint64_t b1)
{
	switch (pol) {
	case POLICY_LAST:
		return true;
	case POLICY_BSD:
		return b0 < a0;
	case POLICY_BSD_RIGHT:
		return b1 > a1;
	case POLICY_LINUX:
		return b0 <= a0;
	case POLICY_WINDOWS:
		return b0 < a0 && b1 > a1;
	case POLICY_SOLARIS:
		return b0 < a0 && b1 >= a1;
	case POLICY_FIRST:
	default:
		return false;
	}
}

/* Pieces */

/* A block of charge bytes: a spare piece of that size, else malloc's. */
static struct piece *
piece_alloc(struct stream_pool *sp, uint32_t charge)
{
	struct piece *pc = sp->spare;

	if (pc != NULL && pc->charge == charge) {
		sp->spare = pc->next;
		sp->nspare--;
		return pc;
	}
	return malloc(charge);
}

static void
piece_free(struct stream_pool *sp, struct piece *pc)
{
	if (pc->charge >= SPARE_MIN && pc->charge <= SPARE_MAX_BYTES &&
	    sp->nspare < SPARE_MAX) {
		pc->next = sp->spare;
		sp->spare = pc;
		sp->nspare++;
		return;
	}
	free(pc);
}

static void
spare_free(struct stream_pool *sp)
{
	struct piece *pc;

	while ((pc = sp->spare) != NULL) {
		sp->spare = pc->next;
		free(pc);
	}
	sp->nspare = 0;
}

static struct piece *
piece_new(struct stream *s, uint64_t off, const uint8_t *p, uint32_t len,
    uint64_t o0, uint64_t o1)
{
	uint32_t charge = (uint32_t)sizeof(struct piece) + len;
	struct piece *pc;

	if (!stream_pool_take(s->pool, charge))
		return NULL;
	if ((pc = piece_alloc(s->pool, charge)) == NULL) {
		stream_pool_give(s->pool, charge);
		return NULL;
	}
	pc->prev = pc->next = NULL;
	pc->off = off;
	pc->o0 = o0;
	pc->o1 = o1;
	pc->len = len;
	pc->charge = charge;
	pc->stale = false;
	memcpy(pc->data, p, len);
	return pc;
}

/* Link pc before at (at NULL: at the tail). */
static void
piece_link(struct half *h, struct piece *pc, struct piece *at)
{
	pc->next = at;
	pc->prev = at != NULL ? at->prev : h->tail;
	if (pc->prev != NULL)
		pc->prev->next = pc;
	else
		h->head = pc;
	if (at != NULL)
		at->prev = pc;
	else
		h->tail = pc;
	h->npieces++;
	h->held += pc->len;
}

static void
piece_unlink(struct stream *s, struct half *h, struct piece *pc)
{
	if (pc->prev != NULL)
		pc->prev->next = pc->next;
	else
		h->head = pc->next;
	if (pc->next != NULL)
		pc->next->prev = pc->prev;
	else
		h->tail = pc->prev;
	h->npieces--;
	h->held -= pc->len;
	stream_pool_give(s->pool, pc->charge);
	piece_free(s->pool, pc);
}

/* Drop the first n bytes of a piece (delivered or superseded). */
static void
piece_chop_front(struct half *h, struct piece *pc, uint32_t n)
{
	memmove(pc->data, pc->data + n, pc->len - n);
	pc->off += n;
	pc->len -= n;
	h->held -= n;
}

/* Sequence space */

/* The offset of seq in h: relative to the next byte, so wrap cancels. */
static int64_t
rel(const struct half *h, uint32_t seq)
{
	uint32_t next_seq = h->base + (uint32_t)h->next;

	return (int64_t)h->next + (int32_t)(seq - next_seq);
}

/* Delivery */

static void
emit(struct stream *s, int dir, fb_ns ts, const uint8_t *p, uint64_t n)
{
	if (n == 0)
		return;
	s->pool->st.bytes += n;
	s->h[dir].next += n;
	if (s->ev->data != NULL)
		s->ev->data(s->arg, dir, ts, p, (size_t)n);
}

/* Forget urgent marks that the delivery point has passed. */
static void
urg_prune(struct half *h)
{
	uint32_t k = 0;

	while (k < h->n_urg && h->urg[k] < h->next)
		k++;
	if (k > 0) {
		memmove(h->urg, h->urg + k, (h->n_urg - k) * sizeof(h->urg[0]));
		h->n_urg -= k;
	}
}

/*
 * In-order bytes to the session, less the urgent bytes: BSD, Linux and
 * Windows take the byte the urgent pointer marks out of the stream (it is
 * read with MSG_OOB), so the application never sees it there
 * (suricata-verify tcp-urgp-01, -04).
 */
static void
deliver(struct stream *s, int dir, fb_ns ts, const uint8_t *p, uint64_t n)
{
	struct half *h = &s->h[dir];

	while (n > 0) {
		uint64_t k;

		urg_prune(h);
		if (h->n_urg == 0 || h->urg[0] >= h->next + n) {
			emit(s, dir, ts, p, n);
			return;
		}
		k = h->urg[0] - h->next;
		emit(s, dir, ts, p, k);
		h->next++;		/* the urgent byte */
		s->pool->st.urgent++;
		p += k + 1;
		n -= k + 1;
	}
}

/* Remember the urgent byte a segment points at. */
static void
urg_mark(struct half *h, const struct fb_packet *p, int64_t off)
{
	uint16_t up;
	uint64_t u;
	uint32_t i;

	if (!(p->tcp_flags & TH_URG) || p->l4 == NULL || p->l4_len < 20)
		return;
	up = (uint16_t)(p->l4[18] << 8 | p->l4[19]);
	if (up == 0 || off + up - 1 < (int64_t)h->next)
		return;
	u = (uint64_t)(off + up - 1);	/* BSD reading: the byte before the pointer */
	for (i = 0; i < h->n_urg && h->urg[i] < u; i++)
		;
	if ((i < h->n_urg && h->urg[i] == u) || h->n_urg == STREAM_URG_MAX)
		return;
	memmove(h->urg + i + 1, h->urg + i, (h->n_urg - i) * sizeof(h->urg[0]));
	h->urg[i] = u;
	h->n_urg++;
}

/* Why a hole is given up: the receiver acknowledged past it (the sensor
 * missed what the receiver got), the direction's hold limit (reassembly
 * gave up what might still have come), or the end of the stream. */
enum gap_why { GAP_ACKED, GAP_LIMIT, GAP_END };

static void
gap(struct stream *s, int dir, fb_ns ts, uint64_t n, enum gap_why why)
{
	s->pool->st.gaps++;
	s->pool->st.gap_bytes += n;
	if (why == GAP_LIMIT) {
		s->pool->st.limit_gaps++;
		s->pool->st.limit_gap_bytes += n;
	} else if (why == GAP_END) {
		s->pool->st.end_gaps++;
		s->pool->st.end_gap_bytes += n;
	}
	s->h[dir].next += n;
	if (s->ev->gap != NULL)
		s->ev->gap(s->arg, dir, ts, n);
}

/* Deliver everything below upto: held bytes as data, holes as gaps. */
static void
flush_to(struct stream *s, int dir, fb_ns ts, uint64_t upto, enum gap_why why)
{
	struct half *h = &s->h[dir];

	while (h->next < upto) {
		struct piece *pc = h->head;

		if (pc != NULL && pc->off == h->next && pc->stale && why != GAP_ACKED) {
			/* Nothing says the receiver took it: a hole. */
			uint64_t n = FB_MIN((uint64_t)pc->len, upto - h->next);

			if (n == pc->len)
				piece_unlink(s, h, pc);
			else
				piece_chop_front(h, pc, (uint32_t)n);
			gap(s, dir, ts, n, why);
		} else if (pc != NULL && pc->off == h->next) {
			uint64_t n = FB_MIN((uint64_t)pc->len, upto - h->next);

			if (pc->stale)
				s->pool->st.stale_bytes += n;
			deliver(s, dir, ts, pc->data, n);
			if (n == pc->len)
				piece_unlink(s, h, pc);
			else
				piece_chop_front(h, pc, (uint32_t)n);
		} else {
			uint64_t end = pc != NULL ? FB_MIN(pc->off, upto) : upto;

			gap(s, dir, ts, end - h->next, why);
		}
	}
}

/* The offset up to which held bytes are contiguous from next. */
static uint64_t
contiguous_end(const struct half *h)
{
	uint64_t end = h->next;
	const struct piece *pc;

	for (pc = h->head; pc != NULL && pc->off == end && !pc->stale; pc = pc->next)
		end += pc->len;
	return end;
}

static void
end_dir(struct stream *s, int dir, fb_ns ts, enum stream_end how)
{
	struct half *h = &s->h[dir];

	if (h->ended)
		return;
	h->ended = true;
	while (h->head != NULL)
		piece_unlink(s, h, h->head);
	if (s->ev->end != NULL)
		s->ev->end(s->arg, dir, ts, how);
}

/* The FIN is reached once every byte before it is delivered. */
static void
check_fin(struct stream *s, int dir, fb_ns ts)
{
	struct half *h = &s->h[dir];

	if (h->fin && !h->ended && h->next >= h->fin_off)
		end_dir(s, dir, ts, STREAM_END_FIN);
}

/* The end of what can be delivered at the end: the FIN or the last byte seen. */
static uint64_t
final_end(const struct half *h)
{
	uint64_t end = h->fin ? h->fin_off : FB_MAX(h->hi, h->next);

	if (!h->fin && h->tail != NULL)
		end = FB_MAX(end, h->tail->off + h->tail->len);
	return end;
}

/* Deliver all, holes as gaps, and end the direction. */
static void
finish_dir(struct stream *s, int dir, fb_ns ts, enum stream_end how)
{
	struct half *h = &s->h[dir];

	if (h->ended)
		return;
	if (h->have_base)
		flush_to(s, dir, ts, final_end(h), GAP_END);
	if (h->fin && h->next >= h->fin_off && how == STREAM_END_CLOSE)
		how = STREAM_END_FIN;
	end_dir(s, dir, ts, how);
}

/* Over the per-direction limits: deliver, giving up the oldest holes. */
static void
enforce_limits(struct stream *s, int dir, fb_ns ts)
{
	struct half *h = &s->h[dir];

	if (h->held <= STREAM_DIR_BYTES && h->npieces <= STREAM_DIR_SEGS)
		return;
	while (h->head != NULL && (h->held > STREAM_DIR_BYTES / 2 ||
	    h->npieces > STREAM_DIR_SEGS / 2)) {
		uint64_t upto = h->head->off + h->head->len;

		flush_to(s, dir, ts, upto, GAP_LIMIT);
		flush_to(s, dir, ts, contiguous_end(h), GAP_LIMIT);
	}
}

/* Insertion with the target policy */

static void
report_conflict(struct stream *s, int dir, fb_ns ts, uint64_t off,
    const uint8_t *kept, const uint8_t *other, uint64_t n)
{
	if (s->ev->conflict != NULL)
		s->ev->conflict(s->arg, dir, ts, off, kept, other, (size_t)n);
}

/* Split pc at offset at (pc->off < at < end): pc keeps the front. */
static struct piece *
piece_split(struct stream *s, struct half *h, struct piece *pc, uint64_t at)
{
	uint32_t k = (uint32_t)(at - pc->off);
	struct piece *tail;

	tail = piece_new(s, at, pc->data + k, pc->len - k, pc->o0, pc->o1);
	if (tail == NULL)
		return NULL;
	tail->stale = pc->stale;
	piece_link(h, tail, pc->next);
	h->held -= pc->len - k;
	pc->len = k;
	return tail;
}

/*
 * The new bytes p (offsets [b0,b1)) win [ov0,ov1) from pc: cut pc around
 * it and put a piece with the new bytes in the middle.  False when the
 * pool is full (pc then keeps its bytes).
 */
static bool
replace(struct stream *s, struct half *h, struct piece *pc, uint64_t ov0,
    uint64_t ov1, const uint8_t *p, uint64_t b0, uint64_t b1)
{
	struct piece *mid;

	mid = piece_new(s, ov0, p + (ov0 - b0), (uint32_t)(ov1 - ov0), b0, b1);
	if (mid == NULL)
		return false;
	if (ov1 < pc->off + pc->len && piece_split(s, h, pc, ov1) == NULL) {
		stream_pool_give(s->pool, mid->charge);
		piece_free(s->pool, mid);
		return false;
	}
	if (ov0 > pc->off) {
		if (piece_split(s, h, pc, ov0) == NULL) {
			stream_pool_give(s->pool, mid->charge);
			piece_free(s->pool, mid);
			return false;
		}
		pc = pc->next;
	}
	piece_link(h, mid, pc);
	piece_unlink(s, h, pc);
	return true;
}

/* A new piece for the part [cur, end) of the segment being inserted. */
static struct piece *
insert_piece(struct stream *s, uint64_t cur, const uint8_t *p, uint64_t b0,
    uint64_t end, uint64_t o0, uint64_t o1, bool stale)
{
	struct piece *np = piece_new(s, cur, p + (cur - b0), (uint32_t)(end - cur),
	    o0, o1);

	if (np != NULL)
		np->stale = stale;
	return np;
}

/*
 * Put bytes [b0,b1) (b0 >= next) into h's held pieces, per the policy.  A
 * stale copy (PAWS: the receiver may have dropped it) only fills holes,
 * and any other copy replaces what it put there.
 */
static void
insert(struct stream *s, int dir, fb_ns ts, uint64_t b0, const uint8_t *p,
    uint64_t b1, uint64_t o0, uint64_t o1, bool stale)
{
	struct half *h = &s->h[dir];
	struct piece *pc, *nx;
	uint64_t cur = b0;
	bool overlap = false, conflict = false, dropped = false;

	/* The first piece ending after b0, searched from the tail: in-order
	 * and nearly in-order data is the common case. */
	pc = h->tail;
	while (pc != NULL && pc->prev != NULL && pc->prev->off + pc->prev->len > b0)
		pc = pc->prev;
	if (pc != NULL && pc->off + pc->len <= b0)
		pc = NULL;
	for (; pc != NULL && pc->off < b1 && cur < b1; pc = nx) {
		uint64_t ov0, ov1;

		nx = pc->next;
		if (cur < pc->off) {
			struct piece *np = insert_piece(s, cur, p, b0, pc->off,
			    o0, o1, stale);

			if (np == NULL) {
				dropped = true;
				break;
			}
			piece_link(h, np, pc);
			cur = pc->off;
		}
		ov0 = cur;
		ov1 = FB_MIN(b1, pc->off + pc->len);
		if (stale) {
			cur = ov1;	/* what is there stays */
			continue;
		}
		if (pc->stale) {
			if (memcmp(pc->data + (ov0 - pc->off), p + (ov0 - b0),
			    ov1 - ov0) != 0)
				s->pool->st.stale_replaced++;
			if (!replace(s, h, pc, ov0, ov1, p, b0, b1))
				dropped = true;
			cur = ov1;
			continue;
		}
		if (memcmp(pc->data + (ov0 - pc->off), p + (ov0 - b0), ov1 - ov0) == 0) {
			overlap = true;
		} else {
			const uint8_t *nb = p + (ov0 - b0);
			uint8_t *ob = pc->data + (ov0 - pc->off);

			conflict = true;
			if (policy_new_wins(s->policy, pc->o0, pc->o1, o0, o1)) {
				report_conflict(s, dir, ts, ov0, nb, ob, ov1 - ov0);
				if (!replace(s, h, pc, ov0, ov1, p, b0, b1))
					dropped = true;
			} else {
				report_conflict(s, dir, ts, ov0, ob, nb, ov1 - ov0);
			}
		}
		cur = ov1;
	}
	if (!dropped && cur < b1) {
		struct piece *np = insert_piece(s, cur, p, b0, b1, o0, o1, stale);

		if (np == NULL)
			dropped = true;
		else
			piece_link(h, np, pc);
	}
	if (conflict)
		s->pool->st.conflicts++;
	else if (overlap)
		s->pool->st.overlaps++;
	if (dropped)
		s->pool->st.mem_drops++;
}

/* Segments */

struct stream *
stream_new(struct stream_pool *sp, enum fb_policy policy,
    const struct stream_events *ev, void *arg)
{
	struct stream *s;

	if (sp == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->pool = sp;
	s->policy = policy;
	s->ev = ev;
	s->arg = arg;
	sp->st.streams++;
	return s;
}

/* The TSval of a segment's timestamp option, if it has one. */
static bool
tcp_tsval(const struct fb_packet *p, uint32_t *tsval)
{
	uint32_t hlen, i;

	if (p->l4 == NULL || p->l4_len < 20)
		return false;
	hlen = (uint32_t)(p->l4[12] >> 4) * 4;
	if (hlen > p->l4_len)
		return false;
	for (i = 20; i < hlen;) {
		uint8_t kind = p->l4[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hlen || (len = p->l4[i + 1]) < 2 || i + len > hlen)
			break;
		if (kind == 8 && len == 10) {
			const uint8_t *o = p->l4 + i + 2;

			*tsval = (uint32_t)o[0] << 24 | (uint32_t)o[1] << 16 |
			    (uint32_t)o[2] << 8 | o[3];
			return true;
		}
		i += len;
	}
	return false;
}

/* Does a segment [seq, seq + len) start at or before what the receiver
 * acknowledged (or, with no acknowledgement seen, the next byte), and
 * reach it?  A copy wholly below it is a duplicate the receiver refuses
 * before it looks at the timestamp (Linux tcp_sequence, RFC 793's
 * acceptability test): its newer TSval never becomes TS.Recent there. */
static bool
at_left_edge(const struct half *h, uint32_t seq, uint32_t len)
{
	int64_t off;

	if (!h->have_base)
		return true;
	off = rel(h, seq);
	return off <= (int64_t)(h->have_acked ? FB_MAX(h->acked, h->next) :
	    h->next) &&
	    off + (int64_t)len >= (int64_t)(h->have_acked ? h->acked : h->next);
}

/*
 * PAWS (RFC 7323): once both SYNs negotiated timestamps, a segment whose
 * TSval is older than TS.Recent of its side is stale and the receiver
 * discards it; a forged RST or FIN with an old timestamp must not end the
 * session (suricata-verify bug-3286).  TS.Recent moves only with a
 * segment that starts at or before the receiver's last acknowledgement
 * (RFC 7323 4.3, Linux tcp_replace_ts_recent): a segment that arrives
 * ahead of a hole, with a newer TSval, must not make the hole's own
 * segments, sent earlier with older TSvals, stale.  Reordered on the wire,
 * they are what the receiver takes next.  Nor must a copy of bytes the
 * receiver already acknowledged (a spurious retransmission): it never
 * reaches the timestamp check there (fastpath.sh P: one such copy made 76
 * late segments of a hole stale, which the receiver took and we gave up).
 */
static bool
paws_ok(struct stream *s, int dir, const struct fb_packet *p, uint32_t data_seq)
{
	struct half *h = &s->h[dir];
	uint32_t tsval;
	bool has = tcp_tsval(p, &tsval);

	if (p->tcp_flags & TH_SYN) {
		h->ts_syn = has;
		if (has) {
			h->ts_valid = true;
			h->ts_recent = tsval;
		}
		return true;
	}
	if (!has || !h->ts_valid || !s->h[!dir].ts_syn)
		return true;
	if ((int32_t)(tsval - h->ts_recent) < 0)
		return false;
	if (at_left_edge(h, data_seq, p->payload_len))
		h->ts_recent = tsval;
	return true;
}

/*
 * One side sent its SYN and has not yet acknowledged anything: it is in
 * SYN_SENT and waits for the other side's SYN, dropping all else.
 */
static bool
handshake_pending(const struct stream *s)
{
	const struct half *a = &s->h[0], *b = &s->h[1];

	if (a->syn == b->syn)
		return false;
	return a->syn ? !a->est : !b->est;
}

/*
 * Is a RST of dir acceptable to its receiver?  Its sequence number must
 * fall in what the receiver expects: from the next byte it has not
 * acknowledged to a window past the highest byte seen.  During the
 * handshake no RST ends the stream: a forged RST (or FIN) ahead of the
 * real SYN/ACK is a known evasion (suricata-verify bug-3286), and a real
 * refusal carries no data, so the flow's own end closes the stream.
 */
static bool
rst_ok(struct stream *s, int dir, const struct fb_packet *p)
{
	struct half *h = &s->h[dir];
	int64_t off;

	if (handshake_pending(s))
		return false;
	if (!h->have_base)
		return true;		/* picked up mid-stream: nothing to check */
	off = rel(h, p->seq);
	return off >= (int64_t)h->next &&
	    (uint64_t)off <= FB_MAX(h->hi, h->next) + 1 + 65535;
}

static void
on_rst(struct stream *s, int dir, fb_ns ts)
{
	s->reset = true;
	finish_dir(s, dir, ts, STREAM_END_RST);
	finish_dir(s, !dir, ts, STREAM_END_RST);
}

/* The peer acknowledged dir up to ack: what it took is final. */
static void
on_ack(struct stream *s, int dir, uint32_t ack, fb_ns ts)
{
	struct half *h = &s->h[dir];
	int64_t off;
	uint64_t upto;

	if (!h->have_base || h->ended)
		return;
	off = rel(h, ack);
	if (off >= 0 && (uint64_t)off <= FB_MAX(h->hi, h->next) + 1 &&
	    (!h->have_acked || (uint64_t)off > h->acked)) {
		h->have_acked = true;
		h->acked = (uint64_t)off;
	}
	if (off <= (int64_t)h->next || (uint64_t)off > h->next + STREAM_WINDOW)
		return;
	upto = (uint64_t)off;
	if (h->fin && upto > h->fin_off)
		upto = h->fin_off;
	flush_to(s, dir, ts, upto, GAP_ACKED);
	check_fin(s, dir, ts);
}

/* Payload bytes and FIN of one segment (data_seq: its first byte). */
static void
on_data(struct stream *s, int dir, const struct fb_packet *p, uint32_t data_seq,
    fb_ns ts)
{
	struct half *h = &s->h[dir];
	uint64_t len = p->payload_len, b0, b1;
	int64_t off = rel(h, data_seq);
	const uint8_t *data = p->payload;

	if (off + (int64_t)len < (int64_t)h->next - (int64_t)STREAM_WINDOW ||
	    off > (int64_t)(h->next + STREAM_WINDOW)) {
		s->pool->st.out_of_window++;
		return;
	}
	if ((p->tcp_flags & TH_FIN) && !h->fin) {
		h->fin = true;
		h->fin_off = (uint64_t)FB_MAX(off + (int64_t)len, (int64_t)h->next);
	}
	urg_mark(h, p, off);
	if (len == 0)
		return;
	b0 = (uint64_t)FB_MAX(off, (int64_t)h->next);
	b1 = (uint64_t)FB_MAX(off + (int64_t)len, (int64_t)h->next);
	if (h->fin)
		b1 = FB_MIN(b1, h->fin_off);	/* nothing counts after the FIN */
	if (b0 > (uint64_t)off || b1 < (uint64_t)(off + (int64_t)len)) {
		/* Part of it was already delivered (a retransmission). */
		s->pool->st.overlaps++;
	}
	if (b0 >= b1)
		return;
	h->hi = FB_MAX(h->hi, b1);
	if (s->pool->st.mem_used + sizeof(struct piece) * 2 + (b1 - b0) > s->pool->max) {
		/* The pool is short: give the bytes already in order to the
		 * session now (no later copy can then change them) rather than
		 * drop this segment. */
		flush_to(s, dir, ts, contiguous_end(h), GAP_LIMIT);
	}
	insert(s, dir, ts, b0, data + (b0 - (uint64_t)off), b1,
	    (uint64_t)FB_MAX(off, 0), (uint64_t)(off + (int64_t)len), false);
}

/*
 * The payload of a segment PAWS calls old.  Its receiver drops it if its
 * own TS.Recent is newer, but ours is only an estimate of that: the
 * receiver's order of arrival is not the order we saw (a segment late in
 * one CPU's backlog there, a spurious retransmission ahead of the late
 * originals), and it may well have taken the copy.  So the bytes only
 * fill holes, any other copy replaces them, and they are delivered only
 * when the receiver acknowledges past them; otherwise they count as the
 * hole they filled.  Its flags and ACK count for nothing.  (Dropped
 * outright until session 18: the receiver acknowledged past them and the
 * stream reported gaps, fastpath.sh P.)
 */
static void
on_stale_data(struct stream *s, int dir, const struct fb_packet *p,
    uint32_t data_seq, fb_ns ts)
{
	struct half *h = &s->h[dir];
	uint64_t len = p->payload_len, b0, b1;
	int64_t off = rel(h, data_seq);

	if (!h->have_base || h->ended || len == 0 ||
	    off + (int64_t)len <= (int64_t)h->next ||
	    off > (int64_t)(h->next + STREAM_WINDOW))
		return;
	b0 = (uint64_t)FB_MAX(off, (int64_t)h->next);
	b1 = (uint64_t)(off + (int64_t)len);
	if (h->fin)
		b1 = FB_MIN(b1, h->fin_off);
	if (b0 >= b1 || s->pool->st.mem_used + sizeof(struct piece) * 2 +
	    (b1 - b0) > s->pool->max)
		return;
	h->hi = FB_MAX(h->hi, b1);
	insert(s, dir, ts, b0, p->payload + (b0 - (uint64_t)off), b1,
	    (uint64_t)FB_MAX(off, 0), (uint64_t)(off + (int64_t)len), true);
	enforce_limits(s, dir, ts);
}

/*
 * The other side sends data: the bytes this side sent before, as far as they
 * are contiguous, are delivered now, even unacknowledged.  Otherwise a reply
 * that crossed an unacknowledged segment on the wire (a banner, then a
 * password typed before the banner arrived) would reach the transcript
 * after it, and the two sides' words would be out of the order in which
 * they were spoken.  Holes still wait for their ACK or the end.
 */
static void
peer_spoke(struct stream *s, int dir, fb_ns ts)
{
	struct half *h = &s->h[dir];
	uint64_t end;

	if (!h->have_base || h->ended)
		return;
	end = contiguous_end(h);
	if (h->fin && end > h->fin_off)
		end = h->fin_off;
	if (end > h->next) {
		flush_to(s, dir, ts, end, GAP_ACKED);
		check_fin(s, dir, ts);
	}
}

void
stream_segment(struct stream *s, int dir, const struct fb_packet *p, fb_ns ts)
{
	struct half *h;
	uint8_t fl = p->tcp_flags;
	uint32_t data_seq = p->seq + ((fl & TH_SYN) ? 1 : 0);

	if (s == NULL || s->reset || (dir != STREAM_ORIG && dir != STREAM_RESP))
		return;
	h = &s->h[dir];
	if (!paws_ok(s, dir, p, data_seq)) {
		s->pool->st.out_of_window++;
		if (!(fl & (TH_SYN | TH_RST)) && p->payload_len > 0)
			on_stale_data(s, dir, p, data_seq, ts);
		return;
	}
	if (fl & TH_RST) {
		/* A RST's payload is a diagnostic, never stream data. */
		if (!(fl & TH_SYN) && rst_ok(s, dir, p))
			on_rst(s, dir, ts);
		else
			s->pool->st.out_of_window++;
		return;
	}
	if ((fl & TH_SYN) && (!h->have_base ||
	    (h->next == 0 && h->hi == 0 && h->head == NULL))) {
		h->have_base = true;
		h->base = data_seq;
	}
	if (fl & TH_SYN)
		h->syn = true;
	if (!h->syn && handshake_pending(s)) {
		/* The peer is still waiting for this side's SYN: its stack
		 * drops anything else, and so do we. */
		s->pool->st.out_of_window++;
		return;
	}
	if ((fl & TH_ACK) && !(fl & TH_SYN))
		h->est = true;
	if (!h->have_base && (p->payload_len > 0 || (fl & TH_FIN))) {
		/* Picked up mid-stream: the first byte seen is offset 0. */
		h->have_base = true;
		h->base = data_seq;
	}
	if (p->payload_len > 0)
		peer_spoke(s, !dir, ts);
	if (h->have_base && !h->ended && (p->payload_len > 0 || (fl & TH_FIN)))
		on_data(s, dir, p, data_seq, ts);
	if (fl & TH_ACK)
		on_ack(s, !dir, p->ack, ts);
	if (!h->ended) {
		if (h->fin && contiguous_end(h) >= h->fin_off) {
			flush_to(s, dir, ts, h->fin_off, GAP_ACKED);
			check_fin(s, dir, ts);
		}
		if (!h->ended)
			enforce_limits(s, dir, ts);
	}
}

void
stream_close(struct stream *s, fb_ns ts)
{
	if (s == NULL)
		return;
	finish_dir(s, STREAM_ORIG, ts, STREAM_END_CLOSE);
	finish_dir(s, STREAM_RESP, ts, STREAM_END_CLOSE);
	free(s);
}
