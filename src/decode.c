/*
 * decode: turns one captured frame into a struct fb_packet.
 *
 * Owns: link-layer parsing (Ethernet with up to two 802.1Q/802.1ad tags, raw
 * IP, BSD loopback), IPv4 (options, fragments), IPv6 (extension header
 * chain, fragment header), TCP, UDP, ICMP and ICMPv6 including the packet
 * quoted inside an ICMP error.
 *
 * Promises: every read is preceded by a bounds check against the bytes we
 * actually have; every length field is checked both against what was
 * captured and against the header that encloses it; no allocation and no
 * per-byte loops except the IPv4 option walk (at most 40 bytes).  The first
 * problem found is recorded in p->malformed and decoding stops there, so what
 * was decoded before it (addresses, for the spoofing check and the logs)
 * stays valid.
 *
 * Snaplen truncation (caplen < wirelen) is not an attack: length fields may
 * then exceed what was captured, as long as they fit in what was on the wire.
 * Everything else that claims more bytes than we have is malformed.
 */
#include <stddef.h>
#include <string.h>

#include "decode.h"

#define ETH_HLEN	14
#define ETHERTYPE_IP	0x0800
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8
#define ETHERTYPE_IPV6	0x86dd
#define ARP_LEN		28

#define IP4_HLEN_MIN	20
#define IP6_HLEN	40
#define IP6_MAX_EXT	8
#define TCP_HLEN_MIN	20
#define UDP_HLEN	8
#define ICMP_HLEN	8

#define P_ICMP		1
#define P_TCP		6
#define P_UDP		17
#define P_IP6_HOP	0
#define P_IP6_ROUTE	43
#define P_IP6_FRAG	44
#define P_ESP		50
#define P_AH		51
#define P_ICMP6		58
#define P_IP6_NONE	59
#define P_IP6_DST	60
#define P_MOBILITY	135
#define P_HIP		139
#define P_SHIM6		140

/* Names: the enum identifiers in lower case, built once before main(). */
#define NAME_MAX_LEN	16
#define X(name, text) _Static_assert(sizeof(#name) <= NAME_MAX_LEN, "name too long");
FB_MALFORMED_LIST(X)
#undef X

static const char *const mal_upper[MAL_MAX] = {
#define X(name, text) [MAL_##name] = #name,
	FB_MALFORMED_LIST(X)
#undef X
};
static const char *const mal_text[MAL_MAX] = {
#define X(name, text) [MAL_##name] = text,
	FB_MALFORMED_LIST(X)
#undef X
};
static char mal_lower[MAL_MAX][NAME_MAX_LEN];

static void mal_names_init(void) __attribute__((constructor));

static void
mal_names_init(void)
{
	for (int m = 0; m < MAL_MAX; m++) {
		const char *s = mal_upper[m];
		size_t i;

		for (i = 0; s[i] != '\0' && i < NAME_MAX_LEN - 1; i++)
			mal_lower[m][i] = (s[i] >= 'A' && s[i] <= 'Z') ?
			    (char)(s[i] - 'A' + 'a') : s[i];
		mal_lower[m][i] = '\0';
	}
}

const char *
malformed_name(enum fb_malformed m)
{
	if ((unsigned)m >= MAL_MAX)
		return "unknown";
	if (mal_lower[m][0] == '\0')	/* no constructor support: harmless redo */
		mal_names_init();
	return mal_lower[m];
}

const char *
malformed_text(enum fb_malformed m)
{
	if ((unsigned)m >= MAL_MAX)
		return "unknown";
	return mal_text[m];
}

/* Big-endian reads; the caller has checked the bounds. */
static inline uint16_t
be16(const uint8_t *b)
{
	return (uint16_t)((uint16_t)b[0] << 8 | b[1]);
}

static inline uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* Record the first problem; returns -1 so callers can `return bad(...)`. */
static inline int
bad(struct fb_packet *p, enum fb_malformed why)
{
	if (p->malformed == MAL_NONE)
		p->malformed = why;
	return -1;
}

/* True when the capture was cut short by the snaplen. */
static inline bool
snapped(const struct fb_packet *p)
{
	return p->caplen < p->wirelen;
}

/* Bytes that were on the wire from h onwards (h points into the frame). */
static inline uint32_t
wire_left(const struct fb_packet *p, const uint8_t *h)
{
	uint32_t off = (uint32_t)(h - p->frame);

	return p->wirelen > off ? p->wirelen - off : 0;
}

/*
 * Transport layer.  `avail` bytes of the segment were captured, `claimed` is
 * the length the IP header gives it.  `partial` is set for a first fragment
 * with more to come: the transport header need not be complete, and its own
 * length fields describe the reassembled datagram.
 */

static int
decode_tcp(struct fb_packet *p, const uint8_t *h, uint32_t avail,
    uint32_t claimed, bool partial)
{
	uint32_t hlen;

	if (avail < TCP_HLEN_MIN)
		return partial ? 0 : bad(p, MAL_TCP_SHORT);
	hlen = (uint32_t)(h[12] >> 4) * 4;
	if (hlen < TCP_HLEN_MIN)
		return bad(p, MAL_TCP_HLEN);
	if (hlen > avail) {
		if (partial)
			return 0;
		/* options cut by the snaplen are fine, beyond the IP length not */
		if (!snapped(p) || hlen > claimed)
			return bad(p, MAL_TCP_HLEN);
	}
	p->l4 = h;
	p->l4_len = avail;
	p->sport = be16(h);
	p->dport = be16(h + 2);
	p->seq = be32(h + 4);
	p->ack = be32(h + 8);
	p->tcp_flags = h[13];
	p->win = be16(h + 14);
	if (hlen <= avail) {
		p->payload = h + hlen;
		p->payload_len = avail - hlen;
	}
	return 0;
}

static int
decode_udp(struct fb_packet *p, const uint8_t *h, uint32_t avail,
    uint32_t claimed, bool partial)
{
	uint32_t ulen;

	if (avail < UDP_HLEN)
		return partial ? 0 : bad(p, MAL_UDP_SHORT);
	ulen = be16(h + 4);
	p->l4 = h;
	p->sport = be16(h);
	p->dport = be16(h + 2);
	if (ulen < UDP_HLEN || (!partial && ulen > claimed) ||
	    (!partial && !snapped(p) && ulen > avail)) {
		p->l4_len = avail;
		return bad(p, MAL_UDP_LEN);
	}
	p->l4_len = ulen < avail ? ulen : avail;
	p->payload = h + UDP_HLEN;
	p->payload_len = p->l4_len - UDP_HLEN;
	return 0;
}

/* ICMP types that carry an identifier at offset 4 (query/reply pairs). */
static bool
icmp_has_id(bool v6, uint8_t type)
{
	if (v6)
		return type == 128 || type == 129;
	switch (type) {
	case 0: case 8: case 13: case 14: case 15: case 16: case 17: case 18:
		return true;
	default:
		return false;
	}
}

/*
 * IPv6 extension header chain.  Walks from the fixed header up to the first
 * upper-layer (or unknown) next header, or up to the end of a fragment header
 * whose offset is not zero (what follows it is the middle of a datagram).
 */
struct ip6_chain {
	uint32_t	off;		/* of the upper-layer header */
	uint8_t		nxt;		/* upper-layer protocol */
	bool		frag;		/* a fragment header was seen */
	bool		frag_more;
	uint16_t	frag_off;	/* bytes */
	uint32_t	frag_id;
	uint32_t	frag_end;	/* offset just past the fragment header */
};

static enum fb_malformed
ip6_walk(const uint8_t *ip, uint32_t len, struct ip6_chain *c)
{
	uint32_t off = IP6_HLEN, elen;
	uint8_t nxt = ip[6];
	int n;

	memset(c, 0, sizeof(*c));
	for (n = 0;; n++) {
		switch (nxt) {
		case P_IP6_HOP:
		case P_IP6_ROUTE:
		case P_IP6_FRAG:
		case P_IP6_DST:
		case P_AH:
		case P_MOBILITY:
		case P_HIP:
		case P_SHIM6:
			break;
		default:
			goto done;
		}
		if (n == IP6_MAX_EXT)
			return MAL_IP6_EXT_DEPTH;
		/* hop-by-hop is only allowed right after the fixed header */
		if (nxt == P_IP6_HOP && n != 0)
			return MAL_IP6_EXT;
		if (len - off < 8)	/* every extension header is >= 8 bytes */
			return MAL_IP6_EXT;
		if (nxt == P_IP6_FRAG) {
			if (c->frag)	/* nested fragmentation: never legitimate */
				return MAL_IP6_EXT;
			c->frag = true;
			c->frag_off = be16(ip + off + 2) & 0xfff8;
			c->frag_more = (ip[off + 3] & 1) != 0;
			c->frag_id = be32(ip + off + 4);
			elen = 8;
			c->frag_end = off + elen;
		} else if (nxt == P_AH) {
			elen = ((uint32_t)ip[off + 1] + 2) * 4;
			if (elen < 12)
				return MAL_IP6_EXT;
		} else
			elen = ((uint32_t)ip[off + 1] + 1) * 8;
		if (elen > len - off)
			return MAL_IP6_EXT;
		nxt = ip[off];
		off += elen;
		if (c->frag && c->frag_off != 0)
			break;
	}
done:
	c->off = off;
	c->nxt = nxt;
	return MAL_NONE;
}

/*
 * The packet quoted by an ICMP error: its addresses and the first bytes of
 * its transport header, so the error can be matched to its connection.
 * Best effort and never recursive: a quoted ICMP error is not looked into.
 */
static void
inner_l4(struct fb_inner *in, const uint8_t *h, uint32_t len)
{
	switch (in->proto) {
	case P_TCP:
	case P_UDP:
		if (len < 4)
			return;
		in->sport = be16(h);
		in->dport = be16(h + 2);
		break;
	case P_ICMP:
	case P_ICMP6:
		if (len < ICMP_HLEN)
			return;
		if (icmp_has_id(in->proto == P_ICMP6, h[0]))
			in->sport = in->dport = be16(h + 4);
		break;
	default:
		break;
	}
	in->valid = true;
}

static void
inner_ip4(struct fb_inner *in, const uint8_t *ip, uint32_t len)
{
	uint32_t hlen;

	if (len < IP4_HLEN_MIN || (ip[0] >> 4) != 4)
		return;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (hlen < IP4_HLEN_MIN || hlen > len)
		return;
	addr_from_v4(&in->src, ip + 12);
	addr_from_v4(&in->dst, ip + 16);
	in->proto = ip[9];
	if ((be16(ip + 6) & 0x1fff) != 0)	/* not the first fragment */
		return;
	inner_l4(in, ip + hlen, len - hlen);
}

static void
inner_ip6(struct fb_inner *in, const uint8_t *ip, uint32_t len)
{
	struct ip6_chain c;

	if (len < IP6_HLEN || (ip[0] >> 4) != 6)
		return;
	addr_from_v6(&in->src, ip + 8);
	addr_from_v6(&in->dst, ip + 24);
	in->proto = ip[6];
	if (ip6_walk(ip, len, &c) != MAL_NONE)
		return;
	in->proto = c.nxt;
	if (c.frag && c.frag_off != 0)
		return;
	inner_l4(in, ip + c.off, len - c.off);
}

static int
decode_icmp(struct fb_packet *p, const uint8_t *h, uint32_t avail, bool partial,
    bool v6)
{
	uint8_t t;

	if (avail < ICMP_HLEN)
		return partial ? 0 : bad(p, MAL_ICMP_SHORT);
	p->l4 = h;
	p->l4_len = avail;
	p->icmp_type = t = h[0];
	p->icmp_code = h[1];
	p->payload = h + ICMP_HLEN;
	p->payload_len = avail - ICMP_HLEN;
	if (v6) {
		p->icmp_request = t == 128 || t == 139;
		p->icmp_reply = t == 129 || t == 140;
		p->icmp_error = t >= 1 && t <= 4;
		p->is_nd = t >= 133 && t <= 137;
	} else {
		p->icmp_request = t == 8 || t == 13 || t == 15 || t == 17;
		p->icmp_reply = t == 0 || t == 14 || t == 16 || t == 18;
		p->icmp_error = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
	}
	if (icmp_has_id(v6, t))
		p->sport = p->dport = be16(h + 4);
	if (p->icmp_error) {
		if (v6)
			inner_ip6(&p->inner, p->payload, p->payload_len);
		else
			inner_ip4(&p->inner, p->payload, p->payload_len);
	}
	return 0;
}

static int
decode_l4(struct fb_packet *p, const uint8_t *h, uint32_t avail,
    uint32_t claimed, bool partial)
{
	switch (p->proto) {
	case P_TCP:
		return decode_tcp(p, h, avail, claimed, partial);
	case P_UDP:
		return decode_udp(p, h, avail, claimed, partial);
	case P_ICMP:
		return decode_icmp(p, h, avail, partial, false);
	case P_ICMP6:
		return decode_icmp(p, h, avail, partial, true);
	default:
		return 0;
	}
}

/* IPv4 options: EOL ends the list, NOP is one byte, others are TLVs. */
static bool
ip4_options_ok(const uint8_t *ip, uint32_t hlen)
{
	uint32_t i = IP4_HLEN_MIN, olen;

	while (i < hlen) {
		if (ip[i] == 0)
			return true;
		if (ip[i] == 1) {
			i++;
			continue;
		}
		if (hlen - i < 2)
			return false;
		olen = ip[i + 1];
		if (olen < 2 || olen > hlen - i)
			return false;
		i += olen;
	}
	return true;
}

static int
decode_ip4(struct fb_packet *p, const uint8_t *ip, uint32_t len)
{
	uint32_t hlen, totlen, off;
	uint16_t ff;

	if (len < IP4_HLEN_MIN)
		return bad(p, MAL_IP4_SHORT);
	if ((ip[0] >> 4) != 4)
		return bad(p, MAL_IP4_VERSION);
	p->ipver = 4;
	p->l3 = ip;
	p->l3_len = len;
	p->ttl = ip[8];
	p->proto = ip[9];
	addr_from_v4(&p->src, ip + 12);
	addr_from_v4(&p->dst, ip + 16);
	p->first_fragment = true;

	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (hlen < IP4_HLEN_MIN || hlen > len)
		return bad(p, MAL_IP4_HLEN);
	totlen = be16(ip + 2);
	if (totlen < hlen)
		return bad(p, MAL_IP4_TOTLEN);
	if (totlen > len) {
		if (!snapped(p) || totlen > wire_left(p, ip))
			return bad(p, MAL_IP4_TOTLEN);
	} else
		p->l3_len = totlen;	/* drop Ethernet padding */
	if (hlen > IP4_HLEN_MIN && !ip4_options_ok(ip, hlen))
		return bad(p, MAL_IP4_OPTIONS);

	ff = be16(ip + 6);
	off = (uint32_t)(ff & 0x1fff) * 8;
	if (off != 0 || (ff & 0x2000)) {
		p->is_fragment = true;
		p->first_fragment = off == 0;
		p->frag_id = be16(ip + 4);
		p->frag_off = (uint16_t)off;
		p->frag_more = (ff & 0x2000) != 0;
		if (off + (totlen - hlen) > 65535)
			return bad(p, MAL_FRAG_INVALID);
		if (off != 0)
			return 0;
	}
	return decode_l4(p, ip + hlen, p->l3_len - hlen, totlen - hlen,
	    p->frag_more);
}

static int
decode_ip6(struct fb_packet *p, const uint8_t *ip, uint32_t len)
{
	struct ip6_chain c;
	enum fb_malformed why;
	uint32_t tot;

	if (len < IP6_HLEN)
		return bad(p, MAL_IP6_SHORT);
	if ((ip[0] >> 4) != 6)
		return bad(p, MAL_IP6_VERSION);
	p->ipver = 6;
	p->l3 = ip;
	p->l3_len = len;
	p->ttl = ip[7];
	p->proto = ip[6];
	addr_from_v6(&p->src, ip + 8);
	addr_from_v6(&p->dst, ip + 24);
	p->first_fragment = true;

	/* Length 0 means a jumbogram (hop-by-hop option), which we do not
	 * support, unless nothing follows the header at all. */
	if (be16(ip + 4) == 0 && ip[6] != P_IP6_NONE)
		return bad(p, MAL_IP6_PLEN);
	tot = IP6_HLEN + be16(ip + 4);
	if (tot > len) {
		if (!snapped(p) || tot > wire_left(p, ip))
			return bad(p, MAL_IP6_PLEN);
	} else
		p->l3_len = tot;

	if ((why = ip6_walk(ip, p->l3_len, &c)) != MAL_NONE)
		return bad(p, why);
	p->proto = c.nxt;
	if (c.frag && (c.frag_off != 0 || c.frag_more)) {
		p->is_fragment = true;
		p->first_fragment = c.frag_off == 0;
		p->frag_id = c.frag_id;
		p->frag_off = c.frag_off;
		p->frag_more = c.frag_more;
		if (c.frag_off + (tot - c.frag_end) > 65535)
			return bad(p, MAL_FRAG_INVALID);
		if (c.frag_off != 0)
			return 0;
	}
	if (c.nxt == P_IP6_NONE || c.nxt == P_ESP)
		return 0;
	return decode_l4(p, ip + c.off, p->l3_len - c.off, tot - c.off,
	    p->frag_more);
}

/* Raw IP: the version nibble says which. */
static int
decode_raw(struct fb_packet *p, const uint8_t *f, uint32_t len)
{
	if (len < 1)
		return bad(p, MAL_IP4_SHORT);
	if ((f[0] >> 4) == 6)
		return decode_ip6(p, f, len);
	if ((f[0] >> 4) == 4)
		return decode_ip4(p, f, len);
	return bad(p, MAL_IP4_VERSION);
}

/* BSD loopback: a 4-byte address family in the capturing host's order. */
static int
decode_null(struct fb_packet *p, const uint8_t *f, uint32_t len)
{
	uint32_t fam;

	if (len < 4)
		return bad(p, MAL_ETH_SHORT);
	fam = (uint32_t)f[0] | (uint32_t)f[1] << 8 | (uint32_t)f[2] << 16 |
	    (uint32_t)f[3] << 24;
	if (fam > 0xffff)	/* written by a big-endian host */
		fam = be32(f);
	switch (fam) {
	case 2:			/* AF_INET everywhere */
		return decode_ip4(p, f + 4, len - 4);
	case 24:		/* AF_INET6: NetBSD, OpenBSD */
	case 28:		/* FreeBSD */
	case 30:		/* Darwin */
		return decode_ip6(p, f + 4, len - 4);
	default:
		return 0;	/* some other family: not IP, not malformed */
	}
}

static int
decode_eth(struct fb_packet *p, const uint8_t *f, uint32_t len)
{
	uint32_t off = ETH_HLEN;
	uint16_t type;

	if (len < ETH_HLEN)
		return bad(p, MAL_ETH_SHORT);
	memcpy(p->eth_dst, f, 6);
	memcpy(p->eth_src, f + 6, 6);
	type = be16(f + 12);
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ) {
		if (p->n_vlan == 2)
			return bad(p, MAL_VLAN_DEPTH);
		if (len - off < 4)
			return bad(p, MAL_VLAN_SHORT);
		p->vlan[p->n_vlan++] = be16(f + off) & 0x0fff;
		type = be16(f + off + 2);
		off += 4;
	}
	p->ethertype = type;
	switch (type) {
	case ETHERTYPE_ARP:
		p->is_arp = true;
		if (len - off < ARP_LEN)
			return bad(p, MAL_ARP_SHORT);
		return 0;
	case ETHERTYPE_IP:
		return decode_ip4(p, f + off, len - off);
	case ETHERTYPE_IPV6:
		return decode_ip6(p, f + off, len - off);
	default:
		return 0;
	}
}

int
decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
    uint32_t wirelen, struct fb_packet *p)
{
	memset(p, 0, sizeof(*p));
	if (frame == NULL)
		caplen = 0;
	p->frame = frame;
	p->caplen = caplen;
	p->wirelen = wirelen;
	p->malformed = MAL_NONE;

	switch (linktype) {
	case FB_LINK_ETHERNET:
		decode_eth(p, frame, caplen);
		break;
	case FB_LINK_RAW:
		decode_raw(p, frame, caplen);
		break;
	case FB_LINK_IPV4:
		decode_ip4(p, frame, caplen);
		break;
	case FB_LINK_IPV6:
		decode_ip6(p, frame, caplen);
		break;
	case FB_LINK_NULL:
		decode_null(p, frame, caplen);
		break;
	default:
		bad(p, MAL_LINKTYPE);
		break;
	}
	return p->malformed == MAL_NONE ? 0 : -1;
}
