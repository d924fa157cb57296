/*
 * Unit tests of decode: frames are assembled byte by byte here (Ethernet,
 * VLAN tags, IPv4 with options, IPv6 with extension headers, TCP, UDP,
 * ICMP), decoded from an exact-size heap copy (so the sanitizers see any
 * read past the end), and checked field by field.  Every malformed reason
 * has a hostile frame; valid frames are truncated at every length; and real
 * captures from /work/shared/testdata, when present, must decode cleanly.
 */
#include "testutil.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <sys/stat.h>

#include "decode.h"

/* Frame builder */

struct frame {
	uint8_t		b[4096];
	uint32_t	n;
};

static void
put8(struct frame *f, uint8_t v)
{
	assert_true(f->n < sizeof(f->b));
	f->b[f->n++] = v;
}

static void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
putn(struct frame *f, const void *v, uint32_t n)
{
	assert_true(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, v, n);
	f->n += n;
}

static void
fill(struct frame *f, uint8_t c, uint32_t n)
{
	while (n-- > 0)
		put8(f, c);
}

static void
set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static const uint8_t MAC_DST[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_SRC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t V4_SRC[4] = { 10, 0, 0, 1 };
static const uint8_t V4_DST[4] = { 10, 0, 0, 2 };
static const uint8_t V6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t V6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* Ethernet addresses only: the caller adds tags and the ethertype. */
static void
eth_addrs(struct frame *f)
{
	putn(f, MAC_DST, 6);
	putn(f, MAC_SRC, 6);
}

static void
eth(struct frame *f, uint16_t type)
{
	eth_addrs(f);
	put16(f, type);
}

static void
vlan_tag(struct frame *f, uint16_t tpid, uint16_t tci)
{
	put16(f, tpid);
	put16(f, tci);
}

/* IPv4 header with optional options; returns its offset for ip4_end(). */
static uint32_t
ip4_opts(struct frame *f, uint8_t proto, const uint8_t *opts, uint32_t optlen)
{
	uint32_t off = f->n;

	assert_true(optlen % 4 == 0 && optlen <= 40);
	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, 0);		/* total length, set by ip4_end */
	put16(f, 0x1234);
	put16(f, 0x4000);	/* DF */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	putn(f, V4_SRC, 4);
	putn(f, V4_DST, 4);
	if (optlen)
		putn(f, opts, optlen);
	return off;
}

static uint32_t
ip4(struct frame *f, uint8_t proto)
{
	return ip4_opts(f, proto, NULL, 0);
}

static void
ip4_end(struct frame *f, uint32_t off)
{
	set16(f, off + 2, (uint16_t)(f->n - off));
}

static void
ip4_frag(struct frame *f, uint32_t off, uint16_t byte_off, bool more)
{
	set16(f, off + 6, (uint16_t)((byte_off / 8) | (more ? 0x2000 : 0)));
}

static uint32_t
ip6(struct frame *f, uint8_t nxt)
{
	uint32_t off = f->n;

	put32(f, 0x60000000);
	put16(f, 0);		/* payload length, set by ip6_end */
	put8(f, nxt);
	put8(f, 64);
	putn(f, V6_SRC, 16);
	putn(f, V6_DST, 16);
	return off;
}

static void
ip6_end(struct frame *f, uint32_t off)
{
	set16(f, off + 4, (uint16_t)(f->n - off - 40));
}

/* Generic extension header of (units + 1) * 8 bytes, options all PadN/zero. */
static void
ext6(struct frame *f, uint8_t nxt, uint8_t units)
{
	put8(f, nxt);
	put8(f, units);
	fill(f, 0, 6 + 8u * units);
}

static void
frag6(struct frame *f, uint8_t nxt, uint16_t byte_off, bool more, uint32_t id)
{
	put8(f, nxt);
	put8(f, 0);
	put16(f, (uint16_t)((byte_off & 0xfff8) | (more ? 1 : 0)));
	put32(f, id);
}

static uint32_t
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t optlen)
{
	uint32_t off = f->n;

	assert_true(optlen % 4 == 0 && optlen <= 40);
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, (uint8_t)((5 + optlen / 4) << 4));
	put8(f, flags);
	put16(f, 512);
	put16(f, 0);
	put16(f, 0);
	if (optlen) {
		put8(f, 2);	/* MSS */
		put8(f, 4);
		put16(f, 1460);
		fill(f, 1, optlen - 4);	/* NOPs */
	}
	return off;
}

static uint32_t
udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	uint32_t off = f->n;

	put16(f, sport);
	put16(f, dport);
	put16(f, 0);
	put16(f, 0);
	return off;
}

static void
udp_end(struct frame *f, uint32_t off)
{
	set16(f, off + 4, (uint16_t)(f->n - off));
}

static void
icmp(struct frame *f, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put16(f, id);
	put16(f, seq);
}

static void
payload(struct frame *f, uint32_t n)
{
	fill(f, 'A', n);
}

/* Decoding from an exact-size copy, kept until the next call. */

static uint8_t *copy;

static int
dec_snap(int lt, const struct frame *f, uint32_t caplen, uint32_t wirelen,
    struct fb_packet *p)
{
	free(copy);
	copy = malloc(caplen ? caplen : 1);
	assert_non_null(copy);
	memcpy(copy, f->b, caplen);
	return decode_frame(lt, copy, caplen, wirelen, p);
}

static int
dec(int lt, const struct frame *f, struct fb_packet *p)
{
	return dec_snap(lt, f, f->n, f->n, p);
}

static void
expect_bad(int lt, const struct frame *f, enum fb_malformed why)
{
	struct fb_packet p;

	assert_int_equal(dec(lt, f, &p), -1);
	assert_string_equal(malformed_name(p.malformed), malformed_name(why));
}

static bool
is_v4(const struct fb_addr *a, const uint8_t v4[4])
{
	static const uint8_t pre[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(a->b, pre, 12) == 0 && memcmp(a->b + 12, v4, 4) == 0;
}

static bool
is_v6(const struct fb_addr *a, const uint8_t v6[16])
{
	return memcmp(a->b, v6, 16) == 0;
}

/* The decoder's promise: every pointer it hands out is inside the frame. */
static void
check_bounds(const struct fb_packet *p)
{
	const uint8_t *end = p->frame + p->caplen;

	if (p->l3 != NULL)
		assert_true(p->l3 >= p->frame && p->l3 + p->l3_len <= end);
	if (p->l4 != NULL) {
		assert_non_null(p->l3);
		assert_true(p->l4 >= p->l3 && p->l4 + p->l4_len <= p->l3 + p->l3_len);
	}
	if (p->payload != NULL)
		assert_true(p->payload >= p->frame && p->payload + p->payload_len <= end);
	else
		assert_int_equal(p->payload_len, 0);
	assert_true(p->n_vlan <= 2);
	assert_true(p->malformed < MAL_MAX);
}

/* Protocols */

static void
test_eth_ipv4_tcp(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	eth(&f, 0x0800);
	o = ip4(&f, 6);
	tcp(&f, 40000, 80, TH_SYN | TH_ACK, 12);
	payload(&f, 10);
	ip4_end(&f, o);

	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.malformed, MAL_NONE);
	assert_memory_equal(p.eth_dst, MAC_DST, 6);
	assert_memory_equal(p.eth_src, MAC_SRC, 6);
	assert_int_equal(p.ethertype, 0x0800);
	assert_int_equal(p.n_vlan, 0);
	assert_int_equal(p.ipver, 4);
	assert_ptr_equal(p.l3, p.frame + 14);
	assert_int_equal(p.l3_len, 20 + 32 + 10);
	assert_true(is_v4(&p.src, V4_SRC));
	assert_true(is_v4(&p.dst, V4_DST));
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.proto, 6);
	assert_false(p.is_fragment);
	assert_true(p.first_fragment);
	assert_ptr_equal(p.l4, p.frame + 34);
	assert_int_equal(p.l4_len, 42);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 80);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ack, 2000);
	assert_int_equal(p.win, 512);
	assert_int_equal(p.tcp_flags, TH_SYN | TH_ACK);
	assert_ptr_equal(p.payload, p.frame + 14 + 20 + 32);
	assert_int_equal(p.payload_len, 10);
	assert_int_equal(p.payload[0], 'A');
	assert_int_equal(p.caplen, f.n);
	assert_int_equal(p.wirelen, f.n);
	assert_false(p.is_arp);
}

static void
test_eth_ipv4_udp(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, u;

	(void)state;
	eth(&f, 0x0800);
	o = ip4(&f, 17);
	u = udp(&f, 5353, 53);
	payload(&f, 33);
	udp_end(&f, u);
	ip4_end(&f, o);

	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.l4_len, 41);
	assert_int_equal(p.payload_len, 33);
	assert_ptr_equal(p.payload, p.l4 + 8);
	assert_int_equal(p.tcp_flags, 0);
}

/* UDP length shorter than the IP payload: payload follows the UDP length. */
static void
test_udp_shorter_than_ip(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, u;

	(void)state;
	o = ip4(&f, 17);
	u = udp(&f, 1, 2);
	payload(&f, 4);
	udp_end(&f, u);
	payload(&f, 6);		/* trailing bytes inside the IP datagram */
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(p.payload_len, 4);
}

static void
test_icmp_echo(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	eth(&f, 0x0800);
	o = ip4(&f, 1);
	icmp(&f, 8, 0, 0xbeef, 7);
	payload(&f, 56);
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.proto, 1);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_true(p.icmp_request);
	assert_false(p.icmp_reply);
	assert_false(p.icmp_error);
	assert_int_equal(p.sport, 0xbeef);
	assert_int_equal(p.dport, 0xbeef);
	assert_int_equal(p.payload_len, 56);
	assert_ptr_equal(p.payload, p.l4 + 8);

	f.b[14 + 20] = 0;	/* echo reply */
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_true(p.icmp_reply);
	assert_false(p.icmp_request);
	assert_int_equal(p.sport, 0xbeef);
}

/* Classification of every ICMP and ICMPv6 type we name. */
static void
test_icmp_classes(void **state)
{
	static const struct {
		bool	v6;
		uint8_t	type;
		bool	req, rep, err, nd, id;
	} t[] = {
		{ false, 8, true, false, false, false, true },
		{ false, 13, true, false, false, false, true },
		{ false, 15, true, false, false, false, true },
		{ false, 17, true, false, false, false, true },
		{ false, 0, false, true, false, false, true },
		{ false, 14, false, true, false, false, true },
		{ false, 16, false, true, false, false, true },
		{ false, 18, false, true, false, false, true },
		{ false, 3, false, false, true, false, false },
		{ false, 4, false, false, true, false, false },
		{ false, 5, false, false, true, false, false },
		{ false, 11, false, false, true, false, false },
		{ false, 12, false, false, true, false, false },
		{ false, 9, false, false, false, false, false },
		{ true, 128, true, false, false, false, true },
		{ true, 139, true, false, false, false, false },
		{ true, 129, false, true, false, false, true },
		{ true, 140, false, true, false, false, false },
		{ true, 1, false, false, true, false, false },
		{ true, 2, false, false, true, false, false },
		{ true, 3, false, false, true, false, false },
		{ true, 4, false, false, true, false, false },
		{ true, 133, false, false, false, true, false },
		{ true, 134, false, false, false, true, false },
		{ true, 135, false, false, false, true, false },
		{ true, 136, false, false, false, true, false },
		{ true, 137, false, false, false, true, false },
		{ true, 130, false, false, false, false, false },
		{ true, 143, false, false, false, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct frame f = { .n = 0 };
		struct fb_packet p;
		uint32_t o;

		o = t[i].v6 ? ip6(&f, 58) : ip4(&f, 1);
		icmp(&f, t[i].type, 0, 0x4242, 1);
		payload(&f, 4);	/* too short for a quoted header: inner invalid */
		if (t[i].v6)
			ip6_end(&f, o);
		else
			ip4_end(&f, o);
		assert_int_equal(dec(FB_LINK_RAW, &f, &p), 0);
		check_bounds(&p);
		assert_int_equal(p.icmp_type, t[i].type);
		assert_int_equal(p.icmp_request, t[i].req);
		assert_int_equal(p.icmp_reply, t[i].rep);
		assert_int_equal(p.icmp_error, t[i].err);
		assert_int_equal(p.is_nd, t[i].nd);
		assert_int_equal(p.sport, t[i].id ? 0x4242 : 0);
		assert_int_equal(p.dport, p.sport);
		assert_false(p.inner.valid);
	}
}

/* Port unreachable quoting the UDP datagram that caused it. */
static void
test_icmp_error_inner_v4(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, in;

	(void)state;
	eth(&f, 0x0800);
	o = ip4(&f, 1);
	icmp(&f, 3, 3, 0, 0);
	in = ip4(&f, 17);
	put16(&f, 33000);
	put16(&f, 161);
	put16(&f, 100);		/* the quoted lengths describe the original */
	put16(&f, 0);
	set16(&f, in + 2, 128);
	/* swap addresses: the quoted packet went the other way */
	memcpy(f.b + in + 12, V4_DST, 4);
	memcpy(f.b + in + 16, V4_SRC, 4);
	ip4_end(&f, o);

	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_true(p.icmp_error);
	assert_int_equal(p.icmp_code, 3);
	assert_int_equal(p.sport, 0);
	assert_true(p.inner.valid);
	assert_int_equal(p.inner.proto, 17);
	assert_true(is_v4(&p.inner.src, V4_DST));
	assert_true(is_v4(&p.inner.dst, V4_SRC));
	assert_int_equal(p.inner.sport, 33000);
	assert_int_equal(p.inner.dport, 161);
	assert_int_equal(p.payload_len, 28);

	/* quoted transport cut to 3 bytes: no ports, not valid */
	f.n -= 5;
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_false(p.inner.valid);

	/* quoted header with a bad version */
	f.n += 5;
	ip4_end(&f, o);
	f.b[in] = 0x55;
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_false(p.inner.valid);
}

/* Time exceeded quoting an echo request: the id lands in both ports. */
static void
test_icmp_error_inner_echo(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, in;

	(void)state;
	o = ip4(&f, 1);
	icmp(&f, 11, 0, 0, 0);
	in = ip4(&f, 1);
	icmp(&f, 8, 0, 0x0777, 1);
	set16(&f, in + 2, 84);
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
	assert_true(p.icmp_error);
	assert_true(p.inner.valid);
	assert_int_equal(p.inner.proto, 1);
	assert_int_equal(p.inner.sport, 0x0777);
	assert_int_equal(p.inner.dport, 0x0777);
}

/* Packet too big quoting an IPv6 TCP segment behind a destination header. */
static void
test_icmp6_error_inner(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, in;

	(void)state;
	eth(&f, 0x86dd);
	o = ip6(&f, 58);
	icmp(&f, 2, 0, 0, 1280);
	in = ip6(&f, 60);
	ext6(&f, 6, 0);
	tcp(&f, 22, 50000, TH_ACK, 0);
	set16(&f, in + 4, 1400);
	ip6_end(&f, o);

	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.proto, 58);
	assert_true(p.icmp_error);
	assert_false(p.is_nd);
	assert_true(p.inner.valid);
	assert_int_equal(p.inner.proto, 6);
	assert_true(is_v6(&p.inner.src, V6_SRC));
	assert_int_equal(p.inner.sport, 22);
	assert_int_equal(p.inner.dport, 50000);

	/* the quoted packet cut inside its fixed header */
	f.n = in + 30;
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_true(p.icmp_error);
	assert_false(p.inner.valid);
}

/* An ICMP error quoting an ICMP error: one level only, no recursion. */
static void
test_icmp_error_no_recursion(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, in, in2;

	(void)state;
	o = ip4(&f, 1);
	icmp(&f, 3, 1, 0, 0);
	in = ip4(&f, 1);
	icmp(&f, 3, 3, 0, 0);
	in2 = ip4(&f, 17);
	udp(&f, 9, 9);
	ip4_end(&f, in2);
	ip4_end(&f, in);
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
	assert_true(p.inner.valid);
	assert_int_equal(p.inner.proto, 1);
	assert_int_equal(p.inner.sport, 0);
	assert_int_equal(p.inner.dport, 0);
}

/* Quoted packets we can say little about: valid only when ports are known. */
static void
test_icmp_error_inner_odd(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, in;

	(void)state;
	/* a quoted GRE packet: addresses and protocol, no ports */
	o = ip4(&f, 1);
	icmp(&f, 3, 2, 0, 0);
	in = ip4(&f, 47);
	fill(&f, 0, 8);
	ip4_end(&f, in);
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
	assert_true(p.inner.valid);
	assert_int_equal(p.inner.proto, 47);
	assert_int_equal(p.inner.sport, 0);
	/* a quoted non-first fragment: no transport header to read */
	f.b[in + 9] = 17;
	set16(&f, in + 6, 0x2000 | 10);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
	assert_false(p.inner.valid);
	/* a quoted header whose IHL is below 5 */
	set16(&f, in + 6, 0);
	f.b[in] = 0x43;
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
	assert_false(p.inner.valid);

	/* ICMPv6: quoted extension chain that overruns the quote */
	f.n = 0;
	o = ip6(&f, 58);
	icmp(&f, 4, 1, 0, 0);
	in = ip6(&f, 60);
	ext6(&f, 17, 0);
	f.b[f.n - 7] = 9;
	udp(&f, 1, 2);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_true(p.icmp_error);
	assert_false(p.inner.valid);
	/* and a quoted non-first IPv6 fragment */
	f.n = in + 40;
	f.b[in + 6] = 44;
	frag6(&f, 17, 8, false, 1);
	udp(&f, 1, 2);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_false(p.inner.valid);
	assert_int_equal(p.inner.proto, 17);
}

static void
test_vlan_single_double(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	eth_addrs(&f);
	vlan_tag(&f, 0x8100, 0x2000 | 100);	/* priority bits are not the id */
	put16(&f, 0x0800);
	o = ip4(&f, 6);
	tcp(&f, 1, 2, TH_SYN, 0);
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.n_vlan, 1);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(p.ethertype, 0x0800);
	assert_ptr_equal(p.l3, p.frame + 18);
	assert_int_equal(p.sport, 1);

	f.n = 0;
	eth_addrs(&f);
	vlan_tag(&f, 0x88a8, 7);
	vlan_tag(&f, 0x8100, 4094);
	put16(&f, 0x86dd);
	o = ip6(&f, 17);
	udp_end(&f, udp(&f, 547, 546));
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.n_vlan, 2);
	assert_int_equal(p.vlan[0], 7);
	assert_int_equal(p.vlan[1], 4094);
	assert_int_equal(p.ethertype, 0x86dd);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.sport, 547);
	assert_int_equal(p.payload_len, 0);
}

static void
test_vlan_too_many_and_short(void **state)
{
	struct frame f = { .n = 0 };

	(void)state;
	eth_addrs(&f);
	vlan_tag(&f, 0x88a8, 1);
	vlan_tag(&f, 0x8100, 2);
	vlan_tag(&f, 0x8100, 3);
	put16(&f, 0x0800);
	fill(&f, 0, 40);
	expect_bad(FB_LINK_ETHERNET, &f, MAL_VLAN_DEPTH);

	f.n = 0;
	eth_addrs(&f);
	vlan_tag(&f, 0x8100, 1);
	f.n -= 1;		/* tag cut short */
	expect_bad(FB_LINK_ETHERNET, &f, MAL_VLAN_SHORT);
}

static void
test_arp_and_other(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;

	(void)state;
	eth(&f, 0x0806);
	put16(&f, 1);
	put16(&f, 0x0800);
	put8(&f, 6);
	put8(&f, 4);
	put16(&f, 1);
	putn(&f, MAC_SRC, 6);
	putn(&f, V4_SRC, 4);
	fill(&f, 0, 6);
	putn(&f, V4_DST, 4);
	fill(&f, 0, 18);	/* Ethernet padding */
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_true(p.is_arp);
	assert_int_equal(p.ipver, 0);
	assert_int_equal(p.ethertype, 0x0806);

	f.n = 14 + 27;
	expect_bad(FB_LINK_ETHERNET, &f, MAL_ARP_SHORT);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), -1);
	assert_true(p.is_arp);

	f.n = 0;
	eth(&f, 0x88cc);	/* LLDP: not IP, not malformed */
	fill(&f, 0, 46);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_int_equal(p.ipver, 0);
	assert_false(p.is_arp);
	assert_int_equal(p.ethertype, 0x88cc);
	assert_null(p.l3);
}

/* A minimum-size Ethernet frame: the padding is not IP payload. */
static void
test_eth_padding_trimmed(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, u;

	(void)state;
	eth(&f, 0x0800);
	o = ip4(&f, 17);
	u = udp(&f, 68, 67);
	payload(&f, 2);
	udp_end(&f, u);
	ip4_end(&f, o);
	fill(&f, 0xee, 60 - f.n);
	assert_int_equal(f.n, 60);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_int_equal(p.l3_len, 30);
	assert_int_equal(p.l4_len, 10);
	assert_int_equal(p.payload_len, 2);

	f.n = 0;
	eth(&f, 0x0800);
	o = ip4(&f, 6);
	tcp(&f, 1, 2, TH_ACK, 0);
	ip4_end(&f, o);
	fill(&f, 0xee, 6);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_int_equal(p.l3_len, 40);
	assert_int_equal(p.l4_len, 20);
	assert_int_equal(p.payload_len, 0);
}

static void
test_ipv4_options(void **state)
{
	static const uint8_t good[][8] = {
		{ 1, 1, 1, 1, 1, 1, 1, 0 },		/* NOPs then EOL */
		{ 7, 7, 4, 0, 0, 0, 0, 0 },		/* record route, room for 1 */
		{ 0x94, 4, 0, 0, 1, 0, 0, 0 },		/* router alert, NOP, EOL */
		{ 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },	/* junk after EOL */
		{ 1, 0x44, 6, 5, 0, 0, 0, 0 },		/* NOP, timestamp len 6, EOL */
	};
	static const uint8_t bad[][8] = {
		{ 7, 1, 0, 0, 0, 0, 0, 0 },		/* length 1 */
		{ 7, 0, 0, 0, 0, 0, 0, 0 },		/* length 0 */
		{ 7, 9, 4, 0, 0, 0, 0, 0 },		/* beyond the header */
		{ 1, 1, 1, 1, 1, 1, 1, 0x83 },		/* no room for the length */
		{ 0x83, 3, 1, 1, 1, 1, 0x44, 9 },	/* second option overruns */
	};
	struct fb_packet p;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct frame f = { .n = 0 };
		uint32_t o = ip4_opts(&f, 6, good[i], 8);

		tcp(&f, 1, 2, TH_SYN, 0);
		ip4_end(&f, o);
		assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
		assert_int_equal(p.sport, 1);
		assert_ptr_equal(p.l4, p.frame + 28);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct frame f = { .n = 0 };
		uint32_t o = ip4_opts(&f, 6, bad[i], 8);

		tcp(&f, 1, 2, TH_SYN, 0);
		ip4_end(&f, o);
		expect_bad(FB_LINK_IPV4, &f, MAL_IP4_OPTIONS);
		dec(FB_LINK_IPV4, &f, &p);
		assert_true(is_v4(&p.src, V4_SRC));	/* addresses survive */
		assert_null(p.l4);
	}
}

static void
test_ipv4_malformed(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	f.n = 0;
	eth(&f, 0x0800);
	fill(&f, 0x45, 19);
	expect_bad(FB_LINK_ETHERNET, &f, MAL_IP4_SHORT);

	f.n = 0;
	eth(&f, 0x0800);
	o = ip4(&f, 6);
	tcp(&f, 1, 2, TH_SYN, 0);
	ip4_end(&f, o);
	f.b[o] = 0x65;
	expect_bad(FB_LINK_ETHERNET, &f, MAL_IP4_VERSION);
	f.b[o] = 0x44;
	expect_bad(FB_LINK_ETHERNET, &f, MAL_IP4_HLEN);
	f.b[o] = 0x4f;		/* 60 bytes of header, 40 captured */
	expect_bad(FB_LINK_ETHERNET, &f, MAL_IP4_HLEN);
	f.b[o] = 0x45;
	set16(&f, o + 2, 19);
	expect_bad(FB_LINK_ETHERNET, &f, MAL_IP4_TOTLEN);
	set16(&f, o + 2, 41);	/* one more than we have, not snapped */
	expect_bad(FB_LINK_ETHERNET, &f, MAL_IP4_TOTLEN);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), -1);
	assert_int_equal(p.ipver, 4);
	assert_true(is_v4(&p.dst, V4_DST));
	/* snapped by one byte on the wire: fine */
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, f.n, f.n + 1, &p), 0);
	assert_int_equal(p.sport, 1);
	/* snapped, but claims more than was on the wire */
	set16(&f, o + 2, 1000);
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, f.n, f.n + 100, &p), -1);
	assert_int_equal(p.malformed, MAL_IP4_TOTLEN);
}

static void
test_ipv4_fragments(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, u;

	(void)state;
	/* first fragment, full TCP header */
	eth(&f, 0x0800);
	o = ip4(&f, 6);
	tcp(&f, 1111, 80, TH_SYN, 0);
	payload(&f, 16);
	ip4_end(&f, o);
	ip4_frag(&f, o, 0, true);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_true(p.is_fragment);
	assert_true(p.first_fragment);
	assert_true(p.frag_more);
	assert_int_equal(p.frag_off, 0);
	assert_int_equal(p.frag_id, 0x1234);
	assert_non_null(p.l4);
	assert_int_equal(p.sport, 1111);

	/* middle fragment: no transport header */
	ip4_frag(&f, o, 1480, true);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_true(p.is_fragment);
	assert_false(p.first_fragment);
	assert_int_equal(p.frag_off, 1480);
	assert_null(p.l4);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.tcp_flags, 0);
	assert_int_equal(p.proto, 6);

	/* last fragment */
	ip4_frag(&f, o, 2960, false);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_true(p.is_fragment);
	assert_false(p.frag_more);
	assert_null(p.l4);

	/* beyond 65535 bytes once reassembled */
	ip4_frag(&f, o, 65528, false);
	expect_bad(FB_LINK_ETHERNET, &f, MAL_FRAG_INVALID);
	/* exactly 65535: fine */
	f.n = 14;
	o = ip4(&f, 6);
	payload(&f, 7);
	ip4_end(&f, o);
	ip4_frag(&f, o, 65528, false);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);

	/* tiny first fragment: 8 bytes of TCP, no ports, no error */
	f.n = 14;
	o = ip4(&f, 6);
	put16(&f, 1111);
	put16(&f, 80);
	put32(&f, 1);
	ip4_end(&f, o);
	ip4_frag(&f, o, 0, true);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_true(p.first_fragment);
	assert_null(p.l4);
	assert_int_equal(p.sport, 0);

	/* the same tiny TCP header without fragmentation is malformed */
	ip4_frag(&f, o, 0, false);
	expect_bad(FB_LINK_ETHERNET, &f, MAL_TCP_SHORT);

	/* first fragment of a large UDP datagram: UDP length > fragment */
	f.n = 14;
	o = ip4(&f, 17);
	u = udp(&f, 4000, 4001);
	payload(&f, 64);
	ip4_end(&f, o);
	ip4_frag(&f, o, 0, true);
	set16(&f, u + 4, 3000);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	assert_int_equal(p.sport, 4000);
	assert_int_equal(p.payload_len, 64);
}

/* Frames cut by a snaplen: lengths may point past the capture. */
static void
test_snaplen_truncated(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, u;

	(void)state;
	eth(&f, 0x0800);
	o = ip4(&f, 6);
	tcp(&f, 5555, 443, TH_PUSH | TH_ACK, 12);
	payload(&f, 1400);
	ip4_end(&f, o);
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, 96, f.n, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.l3_len, 96 - 14);
	assert_int_equal(p.sport, 5555);
	assert_int_equal(p.payload_len, 96 - 14 - 20 - 32);
	/* TCP options cut by the snaplen: header fields still decoded */
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, 60, f.n, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.payload_len, 0);
	/* fixed TCP header cut: cannot classify */
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, 50, f.n, &p), -1);
	assert_int_equal(p.malformed, MAL_TCP_SHORT);
	/* the same cut without a snaplen excuse */
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, 96, 96, &p), -1);
	assert_int_equal(p.malformed, MAL_IP4_TOTLEN);

	f.n = 0;
	eth(&f, 0x86dd);
	o = ip6(&f, 17);
	u = udp(&f, 53, 53);
	payload(&f, 500);
	udp_end(&f, u);
	ip6_end(&f, o);
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, 100, f.n, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.l4_len, 100 - 54);
	assert_int_equal(p.payload_len, 100 - 62);
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, 100, 100, &p), -1);
	assert_int_equal(p.malformed, MAL_IP6_PLEN);
	/* UDP claims more than the IP payload even on the wire */
	set16(&f, u + 4, 600);
	assert_int_equal(dec_snap(FB_LINK_ETHERNET, &f, 100, f.n, &p), -1);
	assert_int_equal(p.malformed, MAL_UDP_LEN);
}

static void
test_ipv6_tcp_and_ext_chain(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	eth(&f, 0x86dd);
	o = ip6(&f, 6);
	tcp(&f, 2222, 22, TH_SYN, 0);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.ipver, 6);
	assert_true(is_v6(&p.src, V6_SRC));
	assert_true(is_v6(&p.dst, V6_DST));
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.l3_len, 60);
	assert_ptr_equal(p.l4, p.frame + 54);
	assert_int_equal(p.sport, 2222);
	assert_true(p.first_fragment);
	assert_false(p.is_fragment);

	/* hop-by-hop, routing, destination, AH, mobility, HIP, Shim6, TCP */
	f.n = 0;
	eth(&f, 0x86dd);
	o = ip6(&f, 0);
	ext6(&f, 43, 0);
	ext6(&f, 60, 1);
	ext6(&f, 51, 0);
	/* AH: 12 bytes, length field 1 */
	put8(&f, 135);
	put8(&f, 1);
	fill(&f, 0, 10);
	ext6(&f, 139, 0);
	ext6(&f, 140, 0);
	ext6(&f, 6, 0);
	tcp(&f, 3333, 25, TH_SYN, 4);
	payload(&f, 3);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_ETHERNET, &f, &p), 0);
	check_bounds(&p);
	assert_int_equal(p.proto, 6);
	assert_ptr_equal(p.l4, p.frame + 14 + 40 + 8 + 16 + 8 + 12 + 8 + 8 + 8);
	assert_int_equal(p.dport, 25);
	assert_int_equal(p.payload_len, 3);

	/* No Next Header ends the chain */
	f.n = 0;
	o = ip6(&f, 60);
	ext6(&f, 59, 0);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_int_equal(p.proto, 59);
	assert_null(p.l4);
	/* and so does a bare header with nothing after it */
	f.n = 0;
	o = ip6(&f, 59);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_int_equal(p.proto, 59);

	/* ESP: opaque */
	f.n = 0;
	o = ip6(&f, 50);
	fill(&f, 0x99, 32);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_int_equal(p.proto, 50);
	assert_null(p.l4);

	/* unknown upper layer (GRE): no transport, no error */
	f.n = 0;
	o = ip6(&f, 47);
	fill(&f, 0, 8);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_int_equal(p.proto, 47);
	assert_null(p.l4);
}

static void
test_ipv6_fragments(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	o = ip6(&f, 0);
	ext6(&f, 44, 0);
	frag6(&f, 17, 0, true, 0xdeadbeef);
	udp(&f, 5000, 53);
	set16(&f, f.n - 4, 3000);	/* UDP length of the whole datagram */
	payload(&f, 40);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	check_bounds(&p);
	assert_true(p.is_fragment);
	assert_true(p.first_fragment);
	assert_true(p.frag_more);
	assert_int_equal(p.frag_id, 0xdeadbeef);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 5000);

	/* non-first: no transport even though bytes follow */
	f.n = 0;
	o = ip6(&f, 44);
	frag6(&f, 6, 1448, true, 7);
	tcp(&f, 1, 2, TH_SYN, 0);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_true(p.is_fragment);
	assert_false(p.first_fragment);
	assert_int_equal(p.frag_off, 1448);
	assert_int_equal(p.proto, 6);
	assert_null(p.l4);
	assert_int_equal(p.sport, 0);

	/* atomic fragment (offset 0, M clear): a whole datagram */
	f.n = 0;
	o = ip6(&f, 44);
	frag6(&f, 6, 0, false, 7);
	tcp(&f, 1, 2, TH_SYN, 0);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_false(p.is_fragment);
	assert_int_equal(p.sport, 1);

	/* reassembles beyond 65535 */
	f.n = 0;
	o = ip6(&f, 44);
	frag6(&f, 6, 65528, false, 7);
	payload(&f, 16);
	ip6_end(&f, o);
	expect_bad(FB_LINK_IPV6, &f, MAL_FRAG_INVALID);

	/* first fragment whose transport header is cut: no ports, no error */
	f.n = 0;
	o = ip6(&f, 44);
	frag6(&f, 6, 0, true, 7);
	put16(&f, 1);
	put16(&f, 2);
	put32(&f, 3);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_null(p.l4);
}

static void
test_ipv6_malformed(void **state)
{
	struct frame f = { .n = 0 };
	uint32_t o;

	(void)state;
	eth(&f, 0x86dd);
	fill(&f, 0x60, 39);
	expect_bad(FB_LINK_ETHERNET, &f, MAL_IP6_SHORT);

	f.n = 0;
	o = ip6(&f, 6);
	tcp(&f, 1, 2, TH_SYN, 0);
	ip6_end(&f, o);
	f.b[0] = 0x40;
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_VERSION);
	f.b[0] = 0x60;
	set16(&f, 4, 0);	/* jumbogram without support */
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_PLEN);
	set16(&f, 4, 21);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_PLEN);

	/* extension header longer than the packet */
	f.n = 0;
	o = ip6(&f, 60);
	ext6(&f, 6, 0);
	tcp(&f, 1, 2, TH_SYN, 0);
	ip6_end(&f, o);
	f.b[41] = 3;
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_EXT);

	/* chain ends inside the header: fewer than 8 bytes left */
	f.n = 0;
	o = ip6(&f, 60);
	fill(&f, 0, 4);
	ip6_end(&f, o);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_EXT);

	/* hop-by-hop not first */
	f.n = 0;
	o = ip6(&f, 60);
	ext6(&f, 0, 0);
	ext6(&f, 59, 0);
	ip6_end(&f, o);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_EXT);

	/* two fragment headers */
	f.n = 0;
	o = ip6(&f, 44);
	frag6(&f, 44, 0, true, 1);
	frag6(&f, 6, 0, true, 2);
	tcp(&f, 1, 2, TH_SYN, 0);
	ip6_end(&f, o);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_EXT);

	/* AH shorter than its fixed part */
	f.n = 0;
	o = ip6(&f, 51);
	ext6(&f, 59, 0);
	ip6_end(&f, o);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_EXT);

	/* eight extension headers are fine, nine are not */
	f.n = 0;
	o = ip6(&f, 60);
	for (int i = 0; i < 7; i++)
		ext6(&f, 60, 0);
	ext6(&f, 59, 0);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &(struct fb_packet){ 0 }), 0);
	f.n = 0;
	o = ip6(&f, 60);
	for (int i = 0; i < 8; i++)
		ext6(&f, 60, 0);
	ext6(&f, 59, 0);
	ip6_end(&f, o);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_EXT_DEPTH);
}

static void
test_transport_malformed(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o, t, u;

	(void)state;
	o = ip4(&f, 6);
	fill(&f, 0, 19);
	ip4_end(&f, o);
	expect_bad(FB_LINK_IPV4, &f, MAL_TCP_SHORT);

	f.n = 0;
	o = ip4(&f, 6);
	t = tcp(&f, 1, 2, TH_SYN, 0);
	ip4_end(&f, o);
	f.b[t + 12] = 0x40;
	expect_bad(FB_LINK_IPV4, &f, MAL_TCP_HLEN);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), -1);
	assert_true(is_v4(&p.src, V4_SRC));	/* IP survives a bad TCP header */
	assert_int_equal(p.proto, 6);
	f.b[t + 12] = 0x60;	/* 24 bytes, 20 present */
	expect_bad(FB_LINK_IPV4, &f, MAL_TCP_HLEN);

	f.n = 0;
	o = ip4(&f, 17);
	fill(&f, 0, 7);
	ip4_end(&f, o);
	expect_bad(FB_LINK_IPV4, &f, MAL_UDP_SHORT);

	f.n = 0;
	o = ip4(&f, 17);
	u = udp(&f, 1, 2);
	payload(&f, 4);
	ip4_end(&f, o);
	set16(&f, u + 4, 7);
	expect_bad(FB_LINK_IPV4, &f, MAL_UDP_LEN);
	set16(&f, u + 4, 13);
	expect_bad(FB_LINK_IPV4, &f, MAL_UDP_LEN);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), -1);
	assert_int_equal(p.sport, 1);	/* ports were read before the length */
	set16(&f, u + 4, 12);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);

	f.n = 0;
	o = ip4(&f, 1);
	fill(&f, 8, 7);
	ip4_end(&f, o);
	expect_bad(FB_LINK_IPV4, &f, MAL_ICMP_SHORT);

	f.n = 0;
	o = ip6(&f, 58);
	fill(&f, 128, 4);
	ip6_end(&f, o);
	expect_bad(FB_LINK_IPV6, &f, MAL_ICMP_SHORT);
}

static void
test_raw_link_types(void **state)
{
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	o = ip4(&f, 6);
	tcp(&f, 10, 20, TH_SYN, 0);
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_RAW, &f, &p), 0);
	assert_int_equal(p.ipver, 4);
	assert_int_equal(p.ethertype, 0);
	assert_ptr_equal(p.l3, p.frame);
	assert_int_equal(p.sport, 10);
	assert_int_equal(dec(FB_LINK_IPV4, &f, &p), 0);
	assert_int_equal(p.dport, 20);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_VERSION);
	f.n = 20;
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_SHORT);
	f.n = 40;
	f.b[0] = 0x55;
	expect_bad(FB_LINK_RAW, &f, MAL_IP4_VERSION);

	f.n = 0;
	o = ip6(&f, 6);
	tcp(&f, 30, 40, TH_SYN, 0);
	ip6_end(&f, o);
	assert_int_equal(dec(FB_LINK_RAW, &f, &p), 0);
	assert_int_equal(p.ipver, 6);
	assert_int_equal(p.sport, 30);
	assert_int_equal(dec(FB_LINK_IPV6, &f, &p), 0);
	assert_int_equal(p.dport, 40);
	expect_bad(FB_LINK_IPV4, &f, MAL_IP4_VERSION);

	f.n = 0;
	expect_bad(FB_LINK_RAW, &f, MAL_IP4_SHORT);
	expect_bad(FB_LINK_IPV4, &f, MAL_IP4_SHORT);
	expect_bad(FB_LINK_IPV6, &f, MAL_IP6_SHORT);
	put8(&f, 0x45);
	expect_bad(FB_LINK_RAW, &f, MAL_IP4_SHORT);

	expect_bad(105, &f, MAL_LINKTYPE);
	expect_bad(-1, &f, MAL_LINKTYPE);
	assert_int_equal(decode_frame(FB_LINK_ETHERNET, NULL, 0, 0, &p), -1);
	assert_int_equal(p.malformed, MAL_ETH_SHORT);
}

static void
test_null_link_type(void **state)
{
	static const uint32_t v6fam[] = { 24, 28, 30 };
	struct frame f = { .n = 0 };
	struct fb_packet p;
	uint32_t o;

	(void)state;
	/* AF_INET from a little-endian host */
	put8(&f, 2);
	fill(&f, 0, 3);
	o = ip4(&f, 1);
	icmp(&f, 8, 0, 99, 1);
	ip4_end(&f, o);
	assert_int_equal(dec(FB_LINK_NULL, &f, &p), 0);
	assert_int_equal(p.ipver, 4);
	assert_ptr_equal(p.l3, p.frame + 4);
	assert_int_equal(p.sport, 99);
	/* and from a big-endian one */
	f.b[0] = 0;
	f.b[3] = 2;
	assert_int_equal(dec(FB_LINK_NULL, &f, &p), 0);
	assert_int_equal(p.ipver, 4);

	for (size_t i = 0; i < sizeof(v6fam) / sizeof(v6fam[0]); i++) {
		for (int big = 0; big < 2; big++) {
			f.n = 0;
			if (big)
				put32(&f, v6fam[i]);
			else {
				put8(&f, (uint8_t)v6fam[i]);
				fill(&f, 0, 3);
			}
			o = ip6(&f, 17);
			udp_end(&f, udp(&f, 7, 7));
			ip6_end(&f, o);
			assert_int_equal(dec(FB_LINK_NULL, &f, &p), 0);
			assert_int_equal(p.ipver, 6);
			assert_int_equal(p.sport, 7);
		}
	}

	/* some other family: not IP, not an error */
	f.b[0] = 0;
	f.b[3] = 17;
	assert_int_equal(dec(FB_LINK_NULL, &f, &p), 0);
	assert_int_equal(p.ipver, 0);

	f.n = 3;
	expect_bad(FB_LINK_NULL, &f, MAL_ETH_SHORT);
	f.n = 0;
	expect_bad(FB_LINK_ETHERNET, &f, MAL_ETH_SHORT);
	eth_addrs(&f);
	put8(&f, 8);
	expect_bad(FB_LINK_ETHERNET, &f, MAL_ETH_SHORT);
}

static void
test_malformed_names(void **state)
{
	(void)state;
	assert_string_equal(malformed_name(MAL_NONE), "none");
	assert_string_equal(malformed_name(MAL_TCP_HLEN), "tcp_hlen");
	assert_string_equal(malformed_name(MAL_IP6_EXT_DEPTH), "ip6_ext_depth");
	assert_string_equal(malformed_name(MAL_LINKTYPE), "linktype");
	assert_string_equal(malformed_text(MAL_VLAN_DEPTH), "more than two VLAN tags");
	assert_string_equal(malformed_text(MAL_NONE), "none");
	assert_string_equal(malformed_name(MAL_MAX), "unknown");
	assert_string_equal(malformed_text((enum fb_malformed)-1), "unknown");
	for (int m = 0; m < MAL_MAX; m++) {
		const char *s = malformed_name((enum fb_malformed)m);

		assert_true(strlen(s) > 0);
		for (const char *c = s; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			    *c == '_');
		for (int n = 0; n < m; n++)
			assert_string_not_equal(s, malformed_name((enum fb_malformed)n));
		assert_true(strlen(malformed_text((enum fb_malformed)m)) > 0);
	}
}

/*
 * Every valid frame cut at every length: no crash, no read outside the
 * capture, and a reason for the failure (or, snapped, a consistent partial
 * decode).
 */
struct sweep {
	int		lt;
	struct frame	f;
	uint32_t	ok_from;	/* a cut this long still decodes (padding) */
};

static void
sweep_one(const struct sweep *s)
{
	struct fb_packet full, p;

	assert_int_equal(dec(s->lt, &s->f, &full), 0);
	uint16_t sport = full.sport, dport = full.dport;
	uint8_t proto = full.proto;
	bool had_l4 = full.l4 != NULL;

	for (uint32_t k = 0; k < s->f.n; k++) {
		int rc = dec_snap(s->lt, &s->f, k, k, &p);

		check_bounds(&p);
		if (rc == 0)
			assert_true(s->ok_from != 0 && k >= s->ok_from);
		else
			assert_int_not_equal(p.malformed, MAL_NONE);

		rc = dec_snap(s->lt, &s->f, k, s->f.n, &p);
		check_bounds(&p);
		if (rc == 0 && p.l4 != NULL) {
			assert_true(had_l4);
			assert_int_equal(p.proto, proto);
			assert_int_equal(p.sport, sport);
			assert_int_equal(p.dport, dport);
		}
		if (rc != 0)
			assert_int_not_equal(p.malformed, MAL_NONE);
	}
}

static void
test_truncation_sweep(void **state)
{
	static struct sweep s[9];
	uint32_t o, u, in;
	const uint8_t opts[8] = { 0x94, 4, 0, 0, 1, 1, 1, 0 };

	(void)state;
	memset(s, 0, sizeof(s));

	s[0].lt = FB_LINK_ETHERNET;
	eth(&s[0].f, 0x0800);
	o = ip4_opts(&s[0].f, 6, opts, 8);
	tcp(&s[0].f, 1, 2, TH_SYN, 8);
	payload(&s[0].f, 5);
	ip4_end(&s[0].f, o);

	s[1].lt = FB_LINK_ETHERNET;
	eth_addrs(&s[1].f);
	vlan_tag(&s[1].f, 0x88a8, 10);
	vlan_tag(&s[1].f, 0x8100, 20);
	put16(&s[1].f, 0x86dd);
	o = ip6(&s[1].f, 0);
	ext6(&s[1].f, 60, 0);
	ext6(&s[1].f, 17, 1);
	u = udp(&s[1].f, 3, 4);
	payload(&s[1].f, 9);
	udp_end(&s[1].f, u);
	ip6_end(&s[1].f, o);

	s[2].lt = FB_LINK_ETHERNET;
	eth(&s[2].f, 0x0800);
	o = ip4(&s[2].f, 1);
	icmp(&s[2].f, 3, 3, 0, 0);
	in = ip4(&s[2].f, 17);
	udp(&s[2].f, 5, 6);
	ip4_end(&s[2].f, in);
	ip4_end(&s[2].f, o);

	s[3].lt = FB_LINK_ETHERNET;
	eth(&s[3].f, 0x86dd);
	o = ip6(&s[3].f, 58);
	icmp(&s[3].f, 1, 4, 0, 0);
	in = ip6(&s[3].f, 44);
	frag6(&s[3].f, 6, 0, true, 9);
	tcp(&s[3].f, 7, 8, TH_SYN, 0);
	ip6_end(&s[3].f, in);
	ip6_end(&s[3].f, o);

	s[4].lt = FB_LINK_ETHERNET;
	eth(&s[4].f, 0x86dd);
	o = ip6(&s[4].f, 44);
	frag6(&s[4].f, 6, 0, true, 9);
	tcp(&s[4].f, 9, 10, TH_SYN, 4);
	payload(&s[4].f, 8);
	ip6_end(&s[4].f, o);

	s[5].lt = FB_LINK_IPV4;
	o = ip4(&s[5].f, 17);
	u = udp(&s[5].f, 11, 12);
	payload(&s[5].f, 3);
	udp_end(&s[5].f, u);
	ip4_end(&s[5].f, o);

	s[6].lt = FB_LINK_RAW;
	o = ip6(&s[6].f, 58);
	icmp(&s[6].f, 128, 0, 13, 1);
	ip6_end(&s[6].f, o);

	s[7].lt = FB_LINK_NULL;
	put32(&s[7].f, 2);
	o = ip4(&s[7].f, 6);
	tcp(&s[7].f, 14, 15, TH_RST, 0);
	ip4_end(&s[7].f, o);

	s[8].lt = FB_LINK_ETHERNET;
	eth(&s[8].f, 0x0806);
	fill(&s[8].f, 1, 46);
	s[8].ok_from = 42;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		sweep_one(&s[i]);
}

/* Real captures: known-good ones must decode without a single complaint. */

static const char *const good_pcaps[] = {
	"zeek-traces/traces/ftp/ipv4.pcap",
	"zeek-traces/traces/ipv6-fragmented-dns.pcap",
	"zeek-traces/traces/ipv4/fragmented-1.pcap",
	"zeek-traces/traces/tcp/option-sack.pcap",
	"zeek-traces/traces/tcp-syslog.pcap",		/* raw IPv4 (228) */
	"zeek-traces/traces/irc-353.pcap",		/* BSD loopback */
	"zeek-traces/traces/irc-dcc-send.pcapng",
	"zeek-traces/traces/fake-syslog-with-padding.pcap",
	"suricata-verify/tests/detect-ipopts/input.pcap",
	"suricata-verify/tests/tcp-empty-sack/tcp-opt.pcap",	/* raw IP */
	"suricata-verify/tests/detect-itype-prefilter/icmpv4-ping.pcap",
	"suricata-verify/tests/defrag/bug-6887-defrag-ipv6-tcp/frag-ip-tcp.pcap",
	"suricata-verify/tests/defrag/bug-6887-defrag-eth-vlan-ipv4-tcp-syn/frag-eth-vlan-ip-tcp-syn.pcap",
	"suricata-verify/tests/rfb-protocol-3.8/04-vnc-openwall-3.8.pcap",
	"ndpi-pcaps/pcap/synscan.pcap",
	"ndpi-pcaps/pcap/ip_fragmented_garbage.pcap",
};

static int
linktype_of(pcap_t *pc)
{
	switch (pcap_datalink(pc)) {
	case DLT_EN10MB:
		return FB_LINK_ETHERNET;
	case DLT_RAW:
		return FB_LINK_RAW;
	case DLT_NULL:
		return FB_LINK_NULL;
#ifdef DLT_IPV4
	case DLT_IPV4:
		return FB_LINK_IPV4;
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
		return FB_LINK_IPV6;
#endif
	default:
		return -1;
	}
}

static void
test_real_captures(void **state)
{
	const char *dir = getenv("FB_TESTDATA");
	char path[1024], err[PCAP_ERRBUF_SIZE];
	struct stat st;
	int files = 0;
	long frames = 0;

	(void)state;
	if (dir == NULL)
		dir = "/work/shared/testdata";
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		print_message("# %s absent: real captures skipped\n", dir);
		skip();
	}
	for (size_t i = 0; i < sizeof(good_pcaps) / sizeof(good_pcaps[0]); i++) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct fb_packet p;
		pcap_t *pc;
		int lt, n = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, good_pcaps[i]);
		if ((pc = pcap_open_offline(path, err)) == NULL) {
			print_message("# %s: %s (skipped)\n", path, err);
			continue;
		}
		lt = linktype_of(pc);
		assert_int_not_equal(lt, -1);
		while (pcap_next_ex(pc, &h, &d) == 1) {
			n++;
			if (decode_frame(lt, d, h->caplen, h->len, &p) != 0)
				fail_msg("%s frame %d: %s", path, n,
				    malformed_name(p.malformed));
			check_bounds(&p);
		}
		pcap_close(pc);
		files++;
		frames += n;
	}
	print_message("# %d captures, %ld frames decoded cleanly\n", files, frames);
	if (files == 0)
		skip();
}

static int
teardown(void **state)
{
	(void)state;
	free(copy);
	copy = NULL;
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_ipv4_tcp),
		cmocka_unit_test(test_eth_ipv4_udp),
		cmocka_unit_test(test_udp_shorter_than_ip),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp_classes),
		cmocka_unit_test(test_icmp_error_inner_v4),
		cmocka_unit_test(test_icmp_error_inner_echo),
		cmocka_unit_test(test_icmp6_error_inner),
		cmocka_unit_test(test_icmp_error_no_recursion),
		cmocka_unit_test(test_icmp_error_inner_odd),
		cmocka_unit_test(test_vlan_single_double),
		cmocka_unit_test(test_vlan_too_many_and_short),
		cmocka_unit_test(test_arp_and_other),
		cmocka_unit_test(test_eth_padding_trimmed),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_snaplen_truncated),
		cmocka_unit_test(test_ipv6_tcp_and_ext_chain),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_ipv6_malformed),
		cmocka_unit_test(test_transport_malformed),
		cmocka_unit_test(test_raw_link_types),
		cmocka_unit_test(test_null_link_type),
		cmocka_unit_test(test_malformed_names),
		cmocka_unit_test(test_truncation_sweep),
		cmocka_unit_test(test_real_captures),
	};

	return cmocka_run_group_tests(tests, NULL, teardown);
}
