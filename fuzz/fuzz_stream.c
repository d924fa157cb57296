/*
 * libFuzzer target for stream: the input is a policy byte, a pool-size
 * byte and a mode byte, then segments of 8 header bytes (direction and
 * flags, sequence offset, length, acknowledgement, urgent pointer) each
 * followed by its payload.  Mode bit 2: every segment (the handshake's
 * too) carries a TCP timestamp, its TSval the last two header bytes (no
 * urgent pointer then), so PAWS and its stale copies are reached.  The sequence space starts just below the wrap.
 * Checks besides the sanitizers: each direction's deliveries never exceed
 * the bytes sent in it; in "consistent" mode (a handshake first, then
 * every copy of an offset carries the same byte) nothing conflicts and every delivered byte is
 * the byte of its offset (never invented, never shifted); every direction
 * ends exactly once; the pool stays under its cap and is back to zero
 * after the close.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ISN	0xfffff000u

struct obs {
	uint64_t	pos[2];		/* stream offset of the next callback byte */
	uint64_t	sent[2], got[2];
	int		ends[2];
	bool		consistent;
	uint64_t	conflicts;
};

static uint8_t
byte_of(int dir, uint64_t off)
{
	return (uint8_t)(off * 7 + (uint64_t)dir * 101 + (off >> 8));
}

static void
on_data(void *arg, int dir, fb_ns ts, const uint8_t *p, size_t n)
{
	struct obs *o = arg;

	(void)ts;
	if (o->ends[dir] != 0 || n == 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (o->consistent && p[i] != byte_of(dir, o->pos[dir] + i))
			abort();
	o->pos[dir] += n;
	o->got[dir] += n;
}

static void
on_gap(void *arg, int dir, fb_ns ts, uint64_t n)
{
	struct obs *o = arg;

	(void)ts;
	if (o->ends[dir] != 0 || n == 0)
		abort();
	o->pos[dir] += n;
}

static void
on_conflict(void *arg, int dir, fb_ns ts, uint64_t off, const uint8_t *kept,
    const uint8_t *other, size_t n)
{
	struct obs *o = arg;

	(void)dir, (void)ts, (void)off;
	if (n == 0 || memcmp(kept, other, n) == 0)
		abort();
	o->conflicts++;
}

static void
on_end(void *arg, int dir, fb_ns ts, enum stream_end how)
{
	struct obs *o = arg;

	(void)ts, (void)how;
	o->ends[dir]++;
}

static const struct stream_events evs = {
	.data = on_data, .gap = on_gap, .conflict = on_conflict, .end = on_end,
};

/* The TCP header: with stamps, NOP NOP and a timestamp option whose TSval
 * is hi, lo; else the urgent pointer is. */
static void
tcp_header(struct fb_packet *p, uint8_t *hdr, bool stamps, uint8_t hi, uint8_t lo)
{
	memset(hdr, 0, 32);
	if (stamps) {
		hdr[12] = 8 << 4;
		hdr[20] = hdr[21] = 1;
		hdr[22] = 8;
		hdr[23] = 10;
		hdr[26] = hi;
		hdr[27] = lo;
		p->l4_len = 32;
	} else {
		hdr[12] = 5 << 4;
		hdr[18] = hi;
		hdr[19] = lo;
		p->l4_len = 20;
	}
	p->l4 = hdr;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[256], hdr[32];
	struct stream_pool *sp;
	struct stream *s;
	struct stream_stats st;
	struct obs o;
	uint64_t cap;
	size_t i;
	bool stamps;

	if (size < 3)
		return 0;
	memset(&o, 0, sizeof(o));
	cap = (uint64_t)(data[1] + 1) * 512;
	o.consistent = (data[2] & 1) != 0;
	stamps = (data[2] & 2) != 0;
	sp = stream_pool_new(cap);
	s = stream_new(sp, (enum fb_policy)(data[0] % POLICY_MAX), &evs, &o);
	if (sp == NULL || s == NULL)
		abort();
	if (o.consistent) {
		/* Offset 0 of each direction is the byte after its SYN. */
		struct fb_packet p;

		memset(&p, 0, sizeof(p));
		tcp_header(&p, hdr, stamps, 0, 0);
		p.tcp_flags = TH_SYN;
		p.seq = ISN - 1;
		stream_segment(s, 0, &p, 0);
		p.tcp_flags = TH_SYN | TH_ACK;
		p.seq = ISN + 0x10000u - 1;
		p.ack = ISN;
		stream_segment(s, 1, &p, 0);
	}
	for (i = 3; i + 8 <= size;) {
		const uint8_t *h = data + i;
		struct fb_packet p;
		int dir = h[0] & 1;
		uint32_t off = (uint32_t)h[1] << 8 | h[2], len = h[3];
		uint32_t ack = (uint32_t)h[4] << 8 | h[5];

		i += 8;
		memset(&p, 0, sizeof(p));
		p.tcp_flags = h[0] >> 1;
		if (o.consistent)	/* urgent bytes and re-SYNs shift offsets */
			p.tcp_flags &= (uint8_t)~(TH_URG | TH_SYN);
		p.seq = ISN + (uint32_t)dir * 0x10000u + off - ((p.tcp_flags & TH_SYN) ? 1 : 0);
		p.ack = ISN + (uint32_t)(!dir) * 0x10000u + ack;
		if (o.consistent) {
			for (uint32_t k = 0; k < len; k++)
				payload[k] = byte_of(dir, off + k);
		} else {
			len = (uint32_t)FB_MIN(len, size - i);
			memcpy(payload, data + i, len);
			i += len;
		}
		tcp_header(&p, hdr, stamps, h[6], h[7]);
		p.payload = payload;
		p.payload_len = len;
		if (!(p.tcp_flags & TH_RST))
			o.sent[dir] += len;
		stream_segment(s, dir, &p, 0);
		stream_pool_stats(sp, &st);
		if (st.mem_used > cap)
			abort();
	}
	stream_close(s, 0);
	stream_pool_stats(sp, &st);
	if (st.mem_used != 0 || o.ends[0] != 1 || o.ends[1] != 1)
		abort();
	for (int d = 0; d < 2; d++)
		if (o.got[d] > o.sent[d])
			abort();
	if (o.consistent && (o.conflicts != 0 || st.conflicts != 0))
		abort();
	stream_pool_free(sp);
	return 0;
}
