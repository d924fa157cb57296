/*
 * defrag: IPv4 and IPv6 fragment reassembly (contract in defrag.h).
 *
 * Each datagram being rebuilt keeps its fragments as they arrived, in
 * arrival order, each with its own extent.  When the datagram is complete
 * its bytes are decided by replaying the fragments in that order over a
 * per-byte owner map, each later fragment taking a byte from its owner
 * when policy_new_wins says so: the pairwise rule that reproduces the
 * Sturges-Novak expectations.  A datagram holds at most DEFRAG_MAX_FRAGS
 * fragments and 64 KiB of offsets, so the replay is bounded.
 *
 * Datagrams live in a hash table (key: addresses, id, and for IPv4 the
 * protocol) and on an age list, oldest first, for expiry and eviction.
 */
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "addr.h"
#include "defrag.h"
#include "stream.h"

#define DEFRAG_BUCKETS		4096
#define DEFRAG_MAX_FRAGS	256		/* per datagram */
#define DEFRAG_MAX_HDR		512		/* IPv6 unfragmentable part */
#define DEFRAG_MAX_PAYLOAD	65535
#define NO_OWNER		0xffff

struct frag {
	struct frag	*next;		/* arrival order */
	uint32_t	 o0, o1;	/* payload offsets */
	uint32_t	 charge;
	uint8_t		 data[];
};

struct dgram {
	struct dgram	*hnext;			/* hash chain */
	struct dgram	*older, *newer;		/* age list */
	struct fb_addr	 src, dst;
	uint32_t	 id;
	uint8_t		 ipver, proto;
	enum fb_policy	 policy;
	fb_ns		 first;
	struct frag	*frags, *ftail;
	uint32_t	 nfrags;
	bool		 have_end;
	uint32_t	 end;			/* payload length, from the last fragment */
	uint8_t		*hdr;			/* of the first fragment */
	uint32_t	 hdr_len;
	uint32_t	 nh_pos;		/* IPv6: next-header byte to patch */
	uint8_t		 nh;			/* IPv6: the fragment header's */
	bool		 alerted;
	uint64_t	 charge;
};

struct defrag {
	const struct fb_config	*cfg;
	struct stream_pool	*pool;
	struct dgram		*bucket[DEFRAG_BUCKETS];
	uint32_t		 seed;		/* addr_hash_seed: ids come from the wire */
	struct dgram		*oldest, *newest;
	struct defrag_stats	 st;
	uint8_t			 out[DEFRAG_MAX_HDR + DEFRAG_MAX_PAYLOAD];
	uint16_t		 owner[DEFRAG_MAX_PAYLOAD];
	struct frag		*byidx[DEFRAG_MAX_FRAGS];
};

/* One fragment as parsed from its packet. */
struct fragment {
	const uint8_t	*data;
	uint32_t	 len, off;
	bool		 more;
	const uint8_t	*hdr;		/* unfragmentable part, when off == 0 */
	uint32_t	 hdr_len;
	uint32_t	 nh_pos;
	uint8_t		 nh;
};

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Memory: charged to both our cap and the shared pool. */

static bool
mem_take(struct defrag *d, uint64_t n)
{
	if (d->st.mem_used + n > d->st.mem_max)
		return false;
	if (d->pool != NULL && !stream_pool_take(d->pool, n))
		return false;
	d->st.mem_used += n;
	return true;
}

static void
mem_give(struct defrag *d, uint64_t n)
{
	n = FB_MIN(n, d->st.mem_used);
	d->st.mem_used -= n;
	if (d->pool != NULL)
		stream_pool_give(d->pool, n);
}

/* Datagrams */

/* Keyed by a secret seed: with a fixed one, a sender who picks fragment
 * ids could put every datagram in one chain. */
static uint32_t
dg_hash(const struct defrag *d, const struct fb_addr *src, const struct fb_addr *dst,
    uint32_t id, uint8_t proto)
{
	uint32_t h = addr_hash(src, d->seed ^ id ^ ((uint32_t)proto << 24));

	return addr_hash(dst, h) % DEFRAG_BUCKETS;
}

static struct dgram **
dg_slot(struct defrag *d, const struct dgram *g)
{
	struct dgram **pp = &d->bucket[dg_hash(d, &g->src, &g->dst, g->id, g->proto)];

	while (*pp != g)
		pp = &(*pp)->hnext;
	return pp;
}

static void
dg_free(struct defrag *d, struct dgram *g)
{
	struct frag *f, *nf;

	*dg_slot(d, g) = g->hnext;
	if (g->older != NULL)
		g->older->newer = g->newer;
	else
		d->oldest = g->newer;
	if (g->newer != NULL)
		g->newer->older = g->older;
	else
		d->newest = g->older;
	for (f = g->frags; f != NULL; f = nf) {
		nf = f->next;
		free(f);
	}
	free(g->hdr);
	mem_give(d, g->charge);
	free(g);
	d->st.pending--;
}

/* Make room by dropping the oldest datagram other than keep. */
static bool
evict_one(struct defrag *d, const struct dgram *keep)
{
	struct dgram *g = d->oldest;

	if (g == keep)
		g = g != NULL ? g->newer : NULL;
	if (g == NULL)
		return false;
	d->st.evicted++;
	dg_free(d, g);
	return true;
}

/* Charge n to g, evicting older datagrams if need be. */
static bool
dg_take(struct defrag *d, struct dgram *g, uint64_t n)
{
	while (!mem_take(d, n))
		if (!evict_one(d, g))
			return false;
	if (g != NULL)
		g->charge += n;
	return true;
}

/* The receiving host whose stack decides: a honeypot destination, else the
 * honeypot end, else the destination. */
static enum fb_policy
dg_policy(const struct defrag *d, const struct fb_packet *p)
{
	if (d->cfg == NULL)
		return POLICY_BSD;
	if (!config_is_honeypot(d->cfg, &p->dst) && config_is_honeypot(d->cfg, &p->src))
		return config_policy_for(d->cfg, &p->src);
	return config_policy_for(d->cfg, &p->dst);
}

static struct dgram *
dg_find(struct defrag *d, const struct fb_packet *p, uint8_t proto, fb_ns ts,
    bool *created)
{
	uint32_t b = dg_hash(d, &p->src, &p->dst, p->frag_id, proto);
	struct dgram *g;

	*created = false;
	for (g = d->bucket[b]; g != NULL; g = g->hnext)
		if (g->id == p->frag_id && g->proto == proto && g->ipver == p->ipver &&
		    addr_eq(&g->src, &p->src) && addr_eq(&g->dst, &p->dst))
			break;
	if (g != NULL && ts - g->first > DEFRAG_TIMEOUT) {
		/* A stale datagram with a recycled id: it timed out. */
		d->st.timeouts++;
		dg_free(d, g);
		g = NULL;
	}
	if (g != NULL)
		return g;
	if (!dg_take(d, NULL, sizeof(*g)))
		return NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		mem_give(d, sizeof(*g));
		return NULL;
	}
	g->charge = sizeof(*g);
	g->src = p->src;
	g->dst = p->dst;
	g->id = p->frag_id;
	g->ipver = p->ipver;
	g->proto = proto;
	g->policy = dg_policy(d, p);
	g->first = ts;
	g->hnext = d->bucket[b];
	d->bucket[b] = g;
	g->older = d->newest;
	if (d->newest != NULL)
		d->newest->newer = g;
	else
		d->oldest = g;
	d->newest = g;
	d->st.pending++;
	*created = true;
	return g;
}

/* Parsing: where the fragment's bytes are, and its unfragmentable part. */

static bool
parse_v4(const struct fb_packet *p, struct fragment *fr)
{
	const uint8_t *ip = p->l3;
	uint32_t hlen, tot;

	if (p->l3_len < 20)
		return false;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = be16(ip + 2);
	if (hlen < 20 || tot < hlen || tot > p->l3_len)
		return false;		/* cut by the snaplen: cannot rebuild */
	fr->data = ip + hlen;
	fr->len = tot - hlen;
	fr->hdr = ip;
	fr->hdr_len = hlen;
	return true;
}

static bool
parse_v6(const struct fb_packet *p, struct fragment *fr)
{
	const uint8_t *ip = p->l3;
	uint32_t off = 40, tot, elen, nh_pos = 6;
	uint8_t nxt;

	if (p->l3_len < 40)
		return false;
	tot = 40 + (uint32_t)be16(ip + 4);
	if (tot > p->l3_len)
		return false;
	nxt = ip[6];
	/* Only the unfragmentable headers may come before the fragment header. */
	while (nxt == IPPROTO_HOPOPTS || nxt == IPPROTO_ROUTING || nxt == IPPROTO_DSTOPTS) {
		if (tot - off < 8)
			return false;
		elen = ((uint32_t)ip[off + 1] + 1) * 8;
		if (elen > tot - off || off + elen > DEFRAG_MAX_HDR)
			return false;
		nh_pos = off;
		nxt = ip[off];
		off += elen;
	}
	if (nxt != IPPROTO_FRAGMENT || tot - off < 8)
		return false;
	fr->hdr = ip;
	fr->hdr_len = off;
	fr->nh_pos = nh_pos;
	fr->nh = ip[off];
	fr->data = ip + off + 8;
	fr->len = tot - off - 8;
	return true;
}

/* Insertion */

/* Compare the new fragment with the older ones it overlaps: conflicts and
 * overlaps counted, the first conflict's place kept for the alert. */
static bool
compare_older(struct defrag *d, const struct dgram *g, const struct fragment *fr,
    uint32_t *c_off, uint32_t *c_len)
{
	const struct frag *f;
	uint32_t b0 = fr->off, b1 = fr->off + fr->len;
	bool overlap = false, conflict = false;

	for (f = g->frags; f != NULL; f = f->next) {
		uint32_t ov0 = FB_MAX(b0, f->o0), ov1 = FB_MIN(b1, f->o1);

		if (ov0 >= ov1)
			continue;
		overlap = true;
		if (memcmp(f->data + (ov0 - f->o0), fr->data + (ov0 - b0), ov1 - ov0) != 0 &&
		    !conflict) {
			conflict = true;
			*c_off = ov0;
			*c_len = ov1 - ov0;
		}
	}
	if (conflict)
		d->st.conflicts++;
	else if (overlap)
		d->st.overlaps++;
	return conflict;
}

/* An exact copy of an older fragment changes nothing under any policy. */
static bool
is_duplicate(const struct dgram *g, const struct fragment *fr)
{
	const struct frag *f;

	for (f = g->frags; f != NULL; f = f->next)
		if (f->o0 == fr->off && f->o1 == fr->off + fr->len &&
		    memcmp(f->data, fr->data, fr->len) == 0)
			return true;
	return false;
}

static bool
add_frag(struct defrag *d, struct dgram *g, const struct fragment *fr)
{
	uint32_t charge = (uint32_t)sizeof(struct frag) + fr->len;
	struct frag *f;

	if (fr->off == 0 && g->hdr == NULL) {
		if (!dg_take(d, g, fr->hdr_len))
			return false;
		if ((g->hdr = malloc(fr->hdr_len)) == NULL)
			return false;
		memcpy(g->hdr, fr->hdr, fr->hdr_len);
		g->hdr_len = fr->hdr_len;
		g->nh_pos = fr->nh_pos;
		g->nh = fr->nh;
	}
	if (!dg_take(d, g, charge))
		return false;
	if ((f = malloc(charge)) == NULL) {
		mem_give(d, charge);
		g->charge -= charge;
		return false;
	}
	f->next = NULL;
	f->o0 = fr->off;
	f->o1 = fr->off + fr->len;
	f->charge = charge;
	memcpy(f->data, fr->data, fr->len);
	if (g->ftail != NULL)
		g->ftail->next = f;
	else
		g->frags = f;
	g->ftail = f;
	g->nfrags++;
	return true;
}

/* Reassembly */

/* Is every byte in [0, end) covered?  (Fragments sorted by start would be
 * faster; at most DEFRAG_MAX_FRAGS, a sweep over starts is enough.) */
static bool
complete(const struct dgram *g)
{
	uint32_t reach = 0;
	bool moved = true;
	const struct frag *f;

	if (!g->have_end || g->hdr == NULL)
		return false;
	while (moved && reach < g->end) {
		moved = false;
		for (f = g->frags; f != NULL; f = f->next)
			if (f->o0 <= reach && f->o1 > reach) {
				reach = f->o1;
				moved = true;
			}
	}
	return reach >= g->end;
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
ip4_checksum(uint8_t *ip, uint32_t hlen)
{
	uint32_t sum = 0, i;

	ip[10] = ip[11] = 0;
	for (i = 0; i + 1 < hlen; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, ~sum & 0xffff);
}

/* Build the datagram into d->out; its length, or 0 if it cannot be. */
static uint32_t
rebuild(struct defrag *d, const struct dgram *g)
{
	uint8_t *pl = d->out + g->hdr_len;
	struct frag *f;
	uint32_t i, n = 0;

	if (g->ipver == 4 && g->hdr_len + g->end > 65535)
		return 0;
	if (g->ipver == 6 && g->hdr_len - 40 + g->end > 65535)
		return 0;
	for (i = 0; i < g->end; i++)
		d->owner[i] = NO_OWNER;
	for (f = g->frags; f != NULL; f = f->next, n++) {
		d->byidx[n] = f;
		for (i = f->o0; i < f->o1 && i < g->end; i++) {
			uint16_t o = d->owner[i];

			if (o == NO_OWNER || policy_new_wins(g->policy,
			    d->byidx[o]->o0, d->byidx[o]->o1, f->o0, f->o1))
				d->owner[i] = (uint16_t)n;
		}
	}
	for (i = 0; i < g->end; i++) {
		f = d->byidx[d->owner[i]];
		pl[i] = f->data[i - f->o0];
	}
	memcpy(d->out, g->hdr, g->hdr_len);
	if (g->ipver == 4) {
		put16(d->out + 2, g->hdr_len + g->end);
		d->out[6] &= 0x40;	/* keep DF, clear MF and the offset */
		d->out[7] = 0;
		ip4_checksum(d->out, g->hdr_len);
	} else {
		put16(d->out + 4, g->hdr_len - 40 + g->end);
		d->out[g->nh_pos] = g->nh;
	}
	return g->hdr_len + g->end;
}

/* Entry points */

static void
flag(struct dgram *g, struct defrag_result *res, const char *why, uint32_t off,
    uint32_t len)
{
	if (g->alerted)
		return;
	g->alerted = true;
	res->alert = why;
	res->policy = g->policy;
	res->alert_off = off;
	res->alert_len = len;
}

void
defrag_packet(struct defrag *d, const struct fb_packet *p, fb_ns ts,
    struct defrag_result *res)
{
	struct fragment fr;
	struct dgram *g;
	uint8_t proto;
	uint32_t c_off = 0, c_len = 0, len;
	bool created, ok;

	memset(res, 0, sizeof(*res));
	if (d == NULL || !p->is_fragment || p->l3 == NULL)
		return;
	d->st.fragments++;
	memset(&fr, 0, sizeof(fr));
	ok = p->ipver == 4 ? parse_v4(p, &fr) : p->ipver == 6 && parse_v6(p, &fr);
	fr.off = p->frag_off;
	fr.more = p->frag_more;
	if (ok && fr.more && fr.len % 8 != 0 && fr.len > 8 &&
	    dg_policy(d, p) == POLICY_LINUX) {
		/* Linux keeps such a fragment cut to a multiple of 8 (counted);
		 * BSD and the others drop it. */
		d->st.invalid++;
		fr.len &= ~7u;
	}
	if (!ok || fr.len == 0 || (fr.more && fr.len % 8 != 0) ||
	    fr.off + fr.len > DEFRAG_MAX_PAYLOAD) {
		d->st.invalid++;
		return;
	}
	/* IPv6 non-first fragments name the fragment header's next header,
	 * the first one the upper layer: key IPv6 on the id alone. */
	proto = p->ipver == 4 ? p->proto : 0;
	if ((g = dg_find(d, p, proto, ts, &created)) == NULL) {
		d->st.mem_drops++;
		return;
	}
	if (fr.off == 0 && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) &&
	    p->l4 == NULL) {
		d->st.tiny++;
		flag(g, res, "tiny", 0, fr.len);
	}
	if ((g->have_end && fr.off + fr.len > g->end) ||
	    (!fr.more && g->have_end && fr.off + fr.len != g->end) ||
	    g->nfrags >= DEFRAG_MAX_FRAGS) {
		/* Past the end, a second different end, or too many pieces. */
		d->st.invalid++;
		goto out;
	}
	if (is_duplicate(g, &fr) && (fr.more || g->have_end)) {
		/* A copy changes nothing under any policy: a retransmission. */
		d->st.overlaps++;
		goto out;
	}
	if (compare_older(d, g, &fr, &c_off, &c_len))
		flag(g, res, "overlap", c_off, c_len);
	if (!fr.more) {
		g->have_end = true;
		g->end = fr.off + fr.len;
	}
	if (!add_frag(d, g, &fr)) {
		d->st.mem_drops++;
		goto out;
	}
	if (complete(g) && (len = rebuild(d, g)) != 0) {
		d->st.datagrams++;
		res->dgram = d->out;
		res->len = len;
		dg_free(d, g);
		return;
	}
out:
	if (created && g->nfrags == 0)
		dg_free(d, g);
}

void
defrag_tick(struct defrag *d, fb_ns now)
{
	if (d == NULL)
		return;
	while (d->oldest != NULL && now - d->oldest->first > DEFRAG_TIMEOUT) {
		d->st.timeouts++;
		dg_free(d, d->oldest);
	}
}

struct defrag *
defrag_new(const struct fb_config *cfg, struct stream_pool *pool)
{
	struct defrag *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->cfg = cfg;
	d->pool = pool;
	d->seed = addr_hash_seed(d);
	/* A quarter of the reassembly budget: TCP streams keep the rest. */
	d->st.mem_max = cfg != NULL ? cfg->layers_memory_bytes / 4 : 1 << 20;
	return d;
}

void
defrag_free(struct defrag *d)
{
	if (d == NULL)
		return;
	while (d->oldest != NULL)
		dg_free(d, d->oldest);
	free(d);
}

void
defrag_stats(const struct defrag *d, struct defrag_stats *out)
{
	if (d == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = d->st;
}

void
defrag_status_json(const struct defrag *d, struct jbuf *jb)
{
	struct defrag_stats st;

	defrag_stats(d, &st);
	jb_obj_begin(jb, "defrag");
	jb_u64(jb, "fragments", st.fragments);
	jb_u64(jb, "datagrams", st.datagrams);
	jb_u64(jb, "pending", st.pending);
	jb_u64(jb, "overlaps", st.overlaps);
	jb_u64(jb, "conflicts", st.conflicts);
	jb_u64(jb, "tiny", st.tiny);
	jb_u64(jb, "invalid", st.invalid);
	jb_u64(jb, "timeouts", st.timeouts);
	jb_u64(jb, "evicted", st.evicted);
	jb_u64(jb, "mem_drops", st.mem_drops);
	jb_u64(jb, "mem_used", st.mem_used);
	jb_u64(jb, "mem_max", st.mem_max);
	jb_obj_end(jb);
}
