/*
 * libFuzzer target for defrag: the input is a policy byte, an IP-version
 * and mode byte, then fragments of 5 bytes (offset in 8-byte units, length
 * in 8-byte units or bytes, more-fragments flag, one of four ids, one of
 * two protocols, a clock step).  Fragments are built as real IPv4 or IPv6
 * packets and decoded as the engine would.  Checks besides the sanitizers:
 * a rebuilt datagram decodes as one whole IP datagram of exactly its
 * length (its transport header may be garbage); in "consistent" mode (every copy of an offset carries the
 * same byte) its payload is the byte of every offset, whatever the policy;
 * memory stays under the cap, and is back to zero after the free.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "defrag.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t
byte_of(uint32_t off)
{
	return (uint8_t)(off * 13 + (off >> 8) + 1);
}

static uint32_t
mkfrag(uint8_t *b, int v6, uint32_t id, uint8_t proto, uint32_t off, bool more,
    const uint8_t *pl, uint32_t len)
{
	memset(b, 0, 48);
	if (!v6) {
		b[0] = 0x45;
		b[2] = (uint8_t)((20 + len) >> 8);
		b[3] = (uint8_t)(20 + len);
		b[5] = (uint8_t)id;
		b[6] = (uint8_t)((more ? 0x20 : 0) | ((off / 8) >> 8));
		b[7] = (uint8_t)(off / 8);
		b[8] = 64;
		b[9] = proto;
		b[12] = 10, b[15] = 1, b[16] = 10, b[19] = 2;
		memcpy(b + 20, pl, len);
		return 20 + len;
	}
	b[0] = 0x60;
	b[4] = (uint8_t)((8 + len) >> 8);
	b[5] = (uint8_t)(8 + len);
	b[6] = IPPROTO_FRAGMENT;
	b[7] = 64;
	b[8] = 0x20, b[23] = 1, b[24] = 0x20, b[39] = 2;
	b[40] = proto;
	b[42] = (uint8_t)(off >> 8);
	b[43] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
	b[47] = (uint8_t)id;
	memcpy(b + 48, pl, len);
	return 48 + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[48 + 2048], pl[2048];
	struct fb_config cfg;
	struct stream_pool *sp;
	struct defrag *d;
	struct defrag_stats st;
	struct stream_stats ss;
	int v6;
	bool consistent;
	fb_ns now = 0;
	size_t i;

	if (size < 2)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.policy = (enum fb_policy)(data[0] % POLICY_MAX);
	cfg.layers_memory_bytes = (uint64_t)((data[1] >> 2) + 1) * 4096;
	v6 = data[1] & 1;
	consistent = (data[1] & 2) != 0;
	sp = stream_pool_new(cfg.layers_memory_bytes);
	d = defrag_new(&cfg, sp);
	if (sp == NULL || d == NULL)
		abort();
	for (i = 2; i + 5 <= size; i += 5) {
		const uint8_t *h = data + i;
		uint32_t off = ((uint32_t)h[0] << 8 | h[1]) % 256 * 8;
		uint32_t len = (h[2] & 0x80) ? (h[2] & 0x7f) + 1 : ((h[2] & 0x7f) + 1) * 8;
		bool more = (h[3] & 1) != 0;
		uint32_t id = (h[3] >> 1) & 3;
		uint8_t proto = (h[3] & 8) ? IPPROTO_UDP : (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
		struct defrag_result res;
		struct fb_packet p, whole;
		uint32_t n;

		now += (fb_ns)(h[4] & 0x0f) * FB_NS_PER_SEC;
		for (uint32_t k = 0; k < len; k++)
			pl[k] = consistent ? byte_of(off + k) : (uint8_t)(h[4] ^ k);
		n = mkfrag(frame, v6, id, proto, off, more, pl, len);
		if (decode_frame(FB_LINK_RAW, frame, n, n, &p) != 0 || !p.is_fragment)
			continue;
		defrag_packet(d, &p, now, &res);
		if (res.dgram != NULL) {
			uint32_t hl = v6 ? 40 : 20;

			/* The payload is arbitrary, so only its transport header
			 * may be malformed: the IP layer must be whole. */
			decode_frame(FB_LINK_RAW, res.dgram, res.len, res.len, &whole);
			if (res.len < hl || whole.ipver != (v6 ? 6 : 4) || whole.is_fragment ||
			    whole.l3_len != res.len ||
			    (whole.malformed != MAL_NONE && whole.malformed < MAL_TCP_SHORT))
				abort();
			if (consistent)
				for (uint32_t k = 0; k < res.len - hl; k++)
					if (res.dgram[hl + k] != byte_of(k))
						abort();
		}
		if (h[4] & 0x80)
			defrag_tick(d, now);
		defrag_stats(d, &st);
		if (st.mem_used > st.mem_max)
			abort();
	}
	defrag_free(d);
	stream_pool_stats(sp, &ss);
	if (ss.mem_used != 0)
		abort();
	stream_pool_free(sp);
	return 0;
}
