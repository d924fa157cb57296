/*
 * flow: the connection table.
 *
 * Owns every struct fb_flow of the run.  Promises (see flow.h): memory is
 * fixed at creation; lookup finds a flow from either direction; each flow
 * has a timeout by state; when full, the stalest closed flow is evicted
 * first, then the stalest embryonic one, then a UDP, ICMP or other
 * exchange (its reply proves nothing: the honeypot answers spoofed sources
 * too), then an embryonic connection a honeypot was allowed to open
 * (counted), and only then an established TCP connection, so a flood of
 * new sources never pushes out a real session, nor a honeypot's allowed
 * connection waiting for its answer, while there is anything cheaper to
 * drop; every flow that leaves is handed to on_end
 * exactly once.
 *
 * Layout: one array of max_flows entries, a free list threaded through
 * hnext, a bucket array (a power of two >= max_flows) of chains linked by
 * index + 1.  The hash is SipHash-1-3 (one round per word, three to
 * finish: the keyed hash Python and Rust use against hash flooding) with a
 * random 128-bit key drawn at creation (getrandom) over the two endpoints
 * in canonical order, so both directions of a connection land in the same
 * bucket, and an attacker, who never sees the key nor a hash, cannot aim
 * collisions at a bucket: the chains stay short whatever the addresses and
 * ports of a flood.  IPv4 keys take two words (siphash13_2), IPv6 five.
 * No other table shares this hash: the honeypot table (control.c) and
 * the fragment table (defrag.c) hash with addr_hash.
 *
 * Every flow sits on exactly one LRU list, chosen by its state so that all
 * the flows of a list share one timeout; the lists are ordered by last use,
 * so expiry walks each from its oldest end and stops at the first flow that
 * is still alive: O(flows expired) per call.  To keep the lists ordered even
 * if a caller's clock steps back, a flow's last time is never set below the
 * latest time the table has seen (a backward step only delays expiry, it
 * never skips a flow).
 */
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "flow.h"

/*
 * The LRU lists.  Eviction tiers: closed, then embryonic, then UDP, ICMP
 * and other exchanges with traffic both ways, then the embryonic
 * connections a honeypot was allowed to open (counted against its limit:
 * few by construction), then established TCP.  Without the counted tier an
 * inbound flood evicts the honeypot's own half-open connection before its
 * SYN-ACK is read: the slot is spent and the connection lost.  UDP and
 * ICMP go below it because their "both ways" proves nothing: the honeypot
 * answers a spoofed ping or datagram as readily as a real one, so a ping
 * flood from random sources is a table of established flows (measured:
 * tests/netns/openers.sh I, 1 of 3 allowed connections before); losing
 * one costs its flow record an early end, no frame, and a ping sent again
 * makes a new flow.
 */
enum {
	L_CLOSED,		/* TCP CLOSED or RESET: tcp_closed */
	L_EMB_TCP,		/* SYN_SENT, SYN_RECEIVED, MIDSTREAM: tcp_embryonic */
	L_EMB_UDP,		/* UDP, no reply yet: udp */
	L_EMB_OTHER,		/* ICMP and other, no reply yet: other */
	L_CNT_TCP,		/* the same, counted outbound connections */
	L_CNT_UDP,
	L_CNT_OTHER,
	L_EST_TCP,		/* ESTABLISHED, FIN_WAIT: tcp_established */
	L_EST_UDP,		/* UDP, traffic both ways: udp */
	L_EST_OTHER,		/* ICMP and other, traffic both ways: other */
	L_MAX
};

static const struct {
	uint8_t	first, last;
} tiers[] = {
	{ L_CLOSED, L_CLOSED },
	{ L_EMB_TCP, L_EMB_OTHER },
	{ L_EST_UDP, L_EST_OTHER },
	{ L_CNT_TCP, L_CNT_OTHER },
	{ L_EST_TCP, L_EST_TCP },
};

struct lru {
	uint32_t	 head, tail;	/* index + 1; head = most recent */
	fb_ns		 timeout;
};

struct flow_table {
	struct fb_flow	*f;
	uint32_t	 max;
	uint32_t	*bucket;	/* index + 1 of the chain's first flow */
	uint32_t	 mask;
	uint32_t	 free;		/* free list through hnext, index + 1 */
	struct lru	 lru[L_MAX];
	uint64_t	 k0, k1;	/* SipHash key */
	/* The last key looked up and its hash: a miss is followed by a
	 * flow_create of the same key, which then does not hash it again. */
	struct fb_flowkey hint_key;
	uint32_t	 hint_hash;
	uint64_t	 next_id;
	fb_ns		 clock;		/* latest time seen */
	flow_end_cb	 on_end;
	void		*arg;
	struct flow_stats st;
};

const char *
dir_name(enum fb_dir d)
{
	switch (d) {
	case DIR_INBOUND:
		return "inbound";
	case DIR_OUTBOUND:
		return "outbound";
	case DIR_INTERNAL:
		return "internal";
	case DIR_EXTERNAL:
		return "external";
	}
	return "unknown";
}

const char *
tcp_state_name(enum fb_tcp_state s)
{
	switch (s) {
	case TCP_NONE:
		return "none";
	case TCP_SYN_SENT:
		return "syn_sent";
	case TCP_SYN_RECEIVED:
		return "syn_received";
	case TCP_ESTABLISHED:
		return "established";
	case TCP_FIN_WAIT:
		return "fin_wait";
	case TCP_CLOSED:
		return "closed";
	case TCP_RESET:
		return "reset";
	case TCP_MIDSTREAM:
		return "midstream";
	}
	return "unknown";
}

const char *
end_name(enum fb_end e)
{
	switch (e) {
	case END_CLOSED:
		return "closed";
	case END_TIMEOUT:
		return "timeout";
	case END_EVICTED:
		return "evicted";
	case END_SHUTDOWN:
		return "shutdown";
	}
	return "unknown";
}

/* SipHash-1-3 */

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));	/* one load */
	return le64toh(v);
}

static uint64_t
siphash13(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		m = le64(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < len % 8; j++)
		b |= (uint64_t)in[end + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* siphash13 of the 16 bytes m0, m1 (little-endian words), unrolled. */
static inline uint64_t
siphash13_2(uint64_t k0, uint64_t k1, uint64_t m0, uint64_t m1)
{
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	const uint64_t b = (uint64_t)16 << 56;

	v3 ^= m0;
	SIPROUND;
	v0 ^= m0;
	v3 ^= m1;
	SIPROUND;
	v0 ^= m1;
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* Endpoints in canonical order (lower address/port first): direction-free. */
static uint32_t
key_hash(const struct flow_table *t, const struct fb_flowkey *k)
{
	uint8_t buf[2 * 18 + 4];		/* 5 words: no partial last word */
	const struct fb_addr *a = &k->src, *b = &k->dst;
	uint16_t pa = k->sport, pb = k->dport;
	int c;

	if (addr_is_v4(a) && addr_is_v4(b)) {
		/* IPv4, nearly every flow: each endpoint (address, port) as
		 * one 48-bit number, lower first: two words, not five */
		uint32_t a4, b4;
		uint64_t x, y, lo, hi;

		memcpy(&a4, a->b + 12, 4);
		memcpy(&b4, b->b + 12, 4);
		x = (uint64_t)be32toh(a4) << 16 | pa;
		y = (uint64_t)be32toh(b4) << 16 | pb;
		lo = FB_MIN(x, y);
		hi = FB_MAX(x, y);
		return (uint32_t)siphash13_2(t->k0, t->k1,
		    lo | (uint64_t)k->proto << 48 | (uint64_t)4 << 56,
		    hi | (uint64_t)k->vlan << 48);
	}
	c = memcmp(a->b, b->b, sizeof(a->b));
	if (c > 0 || (c == 0 && pa > pb)) {
		a = &k->dst;
		b = &k->src;
		pa = k->dport;
		pb = k->sport;
	}
	memcpy(buf, a->b, 16);
	buf[16] = (uint8_t)(pa >> 8);
	buf[17] = (uint8_t)pa;
	memcpy(buf + 18, b->b, 16);
	buf[34] = (uint8_t)(pb >> 8);
	buf[35] = (uint8_t)pb;
	buf[36] = k->proto;
	buf[37] = (uint8_t)(k->vlan >> 8);
	buf[38] = (uint8_t)k->vlan;
	buf[39] = 0;
	return (uint32_t)siphash13(t->k0, t->k1, buf, sizeof(buf));
}

static bool
same_addr(const struct fb_addr *a, const struct fb_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* 1: same direction, -1: reversed, 0: another flow. */
static int
key_match(const struct fb_flowkey *f, const struct fb_flowkey *k)
{
	if (f->proto != k->proto || f->vlan != k->vlan)
		return 0;
	if (f->sport == k->sport && f->dport == k->dport &&
	    same_addr(&f->src, &k->src) && same_addr(&f->dst, &k->dst))
		return 1;
	if (f->sport == k->dport && f->dport == k->sport &&
	    same_addr(&f->src, &k->dst) && same_addr(&f->dst, &k->src))
		return -1;
	return 0;
}

static void
random_key(struct flow_table *t)
{
	uint64_t k[2];
	ssize_t n = getrandom(k, sizeof(k), 0);

	if (n != (ssize_t)sizeof(k)) {
		/* No kernel randomness (very old kernel): weaker, still unguessable
		 * from outside without knowing our start time to the nanosecond. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)t;
		clock_gettime(CLOCK_REALTIME, &ts);
		k[1] = (uint64_t)ts.tv_sec << 32 ^ (uint64_t)ts.tv_nsec;
	}
	t->k0 = k[0];
	t->k1 = k[1];
}

struct flow_table *
flow_table_new(uint32_t max_flows, const struct flow_timeouts *to,
    flow_end_cb on_end, void *arg)
{
	struct flow_table *t;
	uint32_t nb = 1;

	if (max_flows == 0 || max_flows > (1U << 30))
		return NULL;
	while (nb < max_flows)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->f = calloc(max_flows, sizeof(*t->f));
	t->bucket = calloc(nb, sizeof(*t->bucket));
	if (t->f == NULL || t->bucket == NULL) {
		flow_table_free(t);
		return NULL;
	}
	t->max = max_flows;
	t->mask = nb - 1;
	for (uint32_t i = 0; i < max_flows; i++)
		t->f[i].hnext = i + 2 <= max_flows ? i + 2 : 0;
	t->free = 1;
	t->lru[L_CLOSED].timeout = to->tcp_closed;
	t->lru[L_EMB_TCP].timeout = t->lru[L_CNT_TCP].timeout = to->tcp_embryonic;
	t->lru[L_EST_TCP].timeout = to->tcp_established;
	t->lru[L_EMB_UDP].timeout = t->lru[L_CNT_UDP].timeout = t->lru[L_EST_UDP].timeout =
	    to->udp;
	t->lru[L_EMB_OTHER].timeout = t->lru[L_CNT_OTHER].timeout =
	    t->lru[L_EST_OTHER].timeout = to->other;
	t->on_end = on_end;
	t->arg = arg;
	t->next_id = 1;
	t->st.max = max_flows;
	random_key(t);
	t->hint_hash = key_hash(t, &t->hint_key);	/* the hint holds: a zero key */
	return t;
}

void
flow_table_free(struct flow_table *t)
{
	if (t == NULL)
		return;
	free(t->f);
	free(t->bucket);
	free(t);
}

bool
flow_key_of(const struct fb_packet *p, struct fb_flowkey *k)
{
	bool ports;

	memset(k, 0, sizeof(*k));
	if (p->ipver == 0)
		return false;
	k->src = p->src;
	k->dst = p->dst;
	k->proto = p->proto;
	k->vlan = p->n_vlan > 0 ? p->vlan[0] : 0;
	/* A fragment after the first carries no transport header: it is keyed
	 * with ports 0 (the engine matches such fragments by IP id instead). */
	ports = !(p->is_fragment && !p->first_fragment) && p->l4 != NULL;
	if (!ports)
		return true;
	switch (p->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		k->sport = p->sport;
		k->dport = p->dport;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* Echo (and the other query/reply pairs): the identifier in
		 * both ports, so the reply finds the request's flow. */
		if (p->icmp_request || p->icmp_reply)
			k->sport = k->dport = p->sport;
		break;
	default:
		break;
	}
	return true;
}

struct fb_flow *
flow_lookup(struct flow_table *t, const struct fb_flowkey *k, bool *reverse)
{
	uint32_t h = key_hash(t, k), i = t->bucket[h & t->mask];
	int m;

	t->hint_key = *k;
	t->hint_hash = h;

	while (i != 0) {
		struct fb_flow *f = &t->f[i - 1];

		if ((m = key_match(&f->key, k)) != 0) {
			if (reverse != NULL)
				*reverse = m < 0;
			return f;
		}
		i = f->hnext;
	}
	return NULL;
}

/* LRU lists */

static uint32_t
idx(const struct flow_table *t, const struct fb_flow *f)
{
	return (uint32_t)(f - t->f) + 1;
}

static void
lru_unlink(struct flow_table *t, struct fb_flow *f)
{
	struct lru *l = &t->lru[f->list];

	if (f->lprev != 0)
		t->f[f->lprev - 1].lnext = f->lnext;
	else
		l->head = f->lnext;
	if (f->lnext != 0)
		t->f[f->lnext - 1].lprev = f->lprev;
	else
		l->tail = f->lprev;
	f->lprev = f->lnext = 0;
}

static void
lru_push(struct flow_table *t, struct fb_flow *f, uint8_t list)
{
	struct lru *l = &t->lru[list];

	f->list = list;
	f->lprev = 0;
	f->lnext = l->head;
	if (l->head != 0)
		t->f[l->head - 1].lprev = idx(t, f);
	else
		l->tail = idx(t, f);
	l->head = idx(t, f);
}

static uint8_t
list_of(const struct fb_flow *f)
{
	bool both = f->pkts[0] > 0 && f->pkts[1] > 0;

	switch (f->key.proto) {
	case IPPROTO_TCP:
		switch (f->tcp_state) {
		case TCP_CLOSED:
		case TCP_RESET:
			return L_CLOSED;
		case TCP_ESTABLISHED:
		case TCP_FIN_WAIT:
			return L_EST_TCP;
		default:
			return f->counted ? L_CNT_TCP : L_EMB_TCP;
		}
	case IPPROTO_UDP:
		return both ? L_EST_UDP : f->counted ? L_CNT_UDP : L_EMB_UDP;
	default:
		return both ? L_EST_OTHER : f->counted ? L_CNT_OTHER : L_EMB_OTHER;
	}
}

static void
hash_unlink(struct flow_table *t, struct fb_flow *f)
{
	uint32_t *pp = &t->bucket[f->hash & t->mask];
	uint32_t me = idx(t, f);

	while (*pp != 0) {
		if (*pp == me) {
			*pp = f->hnext;
			f->hnext = 0;
			return;
		}
		pp = &t->f[*pp - 1].hnext;
	}
}

/* Take f out of the table and hand it to on_end; f stays readable during
 * the callback and is free afterwards. */
static void
flow_end(struct flow_table *t, struct fb_flow *f, enum fb_end why)
{
	hash_unlink(t, f);
	lru_unlink(t, f);
	t->st.active--;
	t->st.ended++;
	if (why == END_EVICTED)
		t->st.evicted++;
	else if (why == END_TIMEOUT || why == END_CLOSED)
		t->st.timed_out++;
	if (t->on_end != NULL)
		t->on_end(f, why, t->arg);
	f->in_use = false;
	f->hnext = t->free;
	t->free = idx(t, f);
}

/* The least recently used flow of the cheapest non-empty tier. */
static struct fb_flow *
victim(struct flow_table *t)
{
	for (size_t i = 0; i < nitems(tiers); i++) {
		struct fb_flow *best = NULL;

		for (uint8_t l = tiers[i].first; l <= tiers[i].last; l++) {
			struct fb_flow *f;

			if (t->lru[l].tail == 0)
				continue;
			f = &t->f[t->lru[l].tail - 1];
			if (best == NULL || f->last < best->last)
				best = f;
		}
		if (best != NULL)
			return best;
	}
	return NULL;
}

static fb_ns
advance(struct flow_table *t, fb_ns now)
{
	if (now > t->clock)
		t->clock = now;
	return t->clock;
}

struct fb_flow *
flow_create(struct flow_table *t, const struct fb_flowkey *k, fb_ns now)
{
	struct fb_flow *f;
	uint32_t b;

	if (t->free == 0) {
		f = victim(t);
		if (f == NULL)
			return NULL;
		flow_end(t, f, END_EVICTED);
	}
	f = &t->f[t->free - 1];
	t->free = f->hnext;
	memset(f, 0, sizeof(*f));
	f->key = *k;
	f->id = t->next_id++;
	f->first = now;
	f->last = advance(t, now);
	f->in_use = true;
	/* a key of flow_key_of (zeroed padding) compares equal to its copy */
	f->hash = memcmp(k, &t->hint_key, sizeof(*k)) == 0 ? t->hint_hash :
	    key_hash(t, k);
	b = f->hash & t->mask;
	f->hnext = t->bucket[b];
	t->bucket[b] = idx(t, f);
	lru_push(t, f, list_of(f));
	t->st.active++;
	t->st.created++;
	return f;
}

/*
 * Whether the originator hears the responder (f->proven): its ACK names
 * the responder's SYN (risn + 1) or the responder's next sequence number
 * as its latest segment left it (rnext: seq + data length; a bare ACK's
 * seq is the number the other side acknowledges while it uploads).  A
 * spoofed source never sees those numbers.  The second form proves
 * connections picked up mid-stream (after a restart) and those whose
 * handshake ACK was not seen.
 */
static void
tcp_prove(struct fb_flow *f, const struct fb_packet *p, bool reverse)
{
	if (reverse) {
		if (!(p->tcp_flags & (TH_SYN | TH_RST))) {
			f->rnext = p->seq + p->payload_len;
			f->rnext_known = true;
		}
		return;
	}
	if (!(p->tcp_flags & TH_ACK))
		return;
	if ((f->risn_known && p->ack == f->risn + 1) ||
	    (f->rnext_known && p->ack == f->rnext))
		f->proven = true;
}

/* The TCP state machine; the packet is already counted in f->pkts. */
static void
tcp_advance(struct fb_flow *f, const struct fb_packet *p, bool reverse)
{
	uint8_t fl = p->tcp_flags;
	bool syn = (fl & (TH_SYN | TH_ACK)) == TH_SYN;
	bool synack = (fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK);

	if (fl & TH_RST) {
		f->tcp_state = TCP_RESET;
		return;
	}
	switch (f->tcp_state) {
	case TCP_NONE:
		f->tcp_state = syn && !reverse ? TCP_SYN_SENT : TCP_MIDSTREAM;
		break;
	case TCP_SYN_SENT:
		if (reverse && synack) {
			f->tcp_state = TCP_SYN_RECEIVED;
			f->risn = p->seq;
			f->risn_known = true;
		}
		else if (!(fl & TH_SYN) && p->payload_len > 0 &&
		    f->pkts[reverse ? 0 : 1] > 0)
			f->tcp_state = TCP_ESTABLISHED;	/* data both ways */
		break;
	case TCP_SYN_RECEIVED:
		if (!reverse && (fl & (TH_SYN | TH_ACK)) == TH_ACK)
			f->tcp_state = TCP_ESTABLISHED;
		break;
	case TCP_MIDSTREAM:
		if (f->pkts[0] > 0 && f->pkts[1] > 0)
			f->tcp_state = TCP_ESTABLISHED;
		break;
	case TCP_CLOSED:
	case TCP_RESET:
		/* The ports are reused for a new connection. */
		if (syn && !reverse) {
			f->tcp_state = TCP_SYN_SENT;
			f->fin_seen = 0;
			f->risn_known = false;
		}
		return;
	default:
		break;
	}
	if (!f->proven)
		tcp_prove(f, p, reverse);
	/* A FIN closes only a connection known to be established: FINs of a
	 * scan (no reply) leave the flow embryonic, cheap to evict. */
	if (fl & TH_FIN)
		f->fin_seen |= reverse ? 2 : 1;
	if (f->fin_seen != 0 &&
	    (f->tcp_state == TCP_ESTABLISHED || f->tcp_state == TCP_FIN_WAIT))
		f->tcp_state = f->fin_seen == 3 ? TCP_CLOSED : TCP_FIN_WAIT;
}

void
flow_update(struct flow_table *t, struct fb_flow *f, const struct fb_packet *p,
    bool reverse, fb_ns now)
{
	int d = reverse ? 1 : 0;
	uint8_t l;

	f->pkts[d]++;
	f->bytes[d] += p->wirelen;
	f->last = advance(t, now);
	if (f->key.proto == IPPROTO_TCP && p->proto == IPPROTO_TCP && p->l4 != NULL)
		tcp_advance(f, p, reverse);
	l = list_of(f);
	if (l == f->list && t->lru[l].head == idx(t, f))
		return;		/* already the newest of its list: a burst */
	lru_unlink(t, f);
	lru_push(t, f, l);
}

void
flow_expire(struct flow_table *t, fb_ns now)
{
	for (uint8_t l = 0; l < L_MAX; l++) {
		struct lru *q = &t->lru[l];

		while (q->tail != 0) {
			struct fb_flow *f = &t->f[q->tail - 1];

			if (now - f->last <= q->timeout)
				break;
			flow_end(t, f, l == L_CLOSED ? END_CLOSED : END_TIMEOUT);
		}
	}
}

void
flow_flush(struct flow_table *t)
{
	for (uint8_t l = 0; l < L_MAX; l++)
		while (t->lru[l].tail != 0)
			flow_end(t, &t->f[t->lru[l].tail - 1], END_SHUTDOWN);
}

void
flow_stats(const struct flow_table *t, struct flow_stats *s)
{
	*s = t->st;
}

void
flow_foreach(struct flow_table *t, void (*fn)(struct fb_flow *, void *), void *arg)
{
	for (uint32_t i = 0; i < t->max; i++)
		if (t->f[i].in_use)
			fn(&t->f[i], arg);
}
