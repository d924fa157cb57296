/*
 * libFuzzer target for decode_frame.  The first input byte picks the link
 * type (low three bits) and whether the frame pretends to be cut by a snaplen
 * (bit 3: wirelen > caplen); the rest is the frame.  Besides the sanitizers,
 * it checks the decoder's promises: every pointer it hands out lies inside
 * the frame, lengths stay within what was captured, and the result agrees
 * with p->malformed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[8] = {
	FB_LINK_ETHERNET, FB_LINK_RAW, FB_LINK_IPV4, FB_LINK_IPV6,
	FB_LINK_NULL, FB_LINK_ETHERNET, FB_LINK_ETHERNET, 113 /* unsupported */
};

static void
inside(const struct fb_packet *p, const uint8_t *ptr, uint32_t len)
{
	if (ptr == NULL) {
		if (len != 0)
			abort();
		return;
	}
	if (ptr < p->frame || ptr > p->frame + p->caplen ||
	    len > (uint32_t)(p->frame + p->caplen - ptr))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fb_packet p;
	uint32_t caplen, wirelen;
	int rc;

	if (size < 1 || size > 65536 + 1)
		return 0;
	caplen = (uint32_t)(size - 1);
	wirelen = (data[0] & 0x08) ? caplen + 1500 : caplen;
	rc = decode_frame(links[data[0] & 7], data + 1, caplen, wirelen, &p);

	if ((rc == 0) != (p.malformed == MAL_NONE) || p.malformed >= MAL_MAX)
		abort();
	if (malformed_name(p.malformed) == NULL || malformed_text(p.malformed) == NULL)
		abort();
	if (p.n_vlan > 2)
		abort();
	inside(&p, p.l3, p.l3_len);
	inside(&p, p.l4, p.l4_len);
	inside(&p, p.payload, p.payload_len);
	if (p.l4 != NULL && (p.l3 == NULL || p.l4 < p.l3 ||
	    p.l4 + p.l4_len > p.l3 + p.l3_len))
		abort();
	if (p.is_fragment && !p.first_fragment && p.l4 != NULL)
		abort();
	return 0;
}
