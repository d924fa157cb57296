/*
 * Unit tests of addr: parsing and printing of addresses, prefixes and
 * destination patterns (good and hostile text), the mapped IPv4 form,
 * prefix containment at the bit boundaries, classification, the hash.
 */
#include <netinet/in.h>
#include <stdio.h>

#include "testutil.h"
#include "addr.h"

static struct fb_addr
A(const char *s)
{
	struct fb_addr a;

	if (addr_parse(s, &a) != 0)
		fail_msg("addr_parse(%s) failed", s);
	return a;
}

static struct fb_prefix
P(const char *s)
{
	struct fb_prefix p;

	if (prefix_parse(s, &p) != 0)
		fail_msg("prefix_parse(%s) failed", s);
	return p;
}

static struct fb_dest
D(const char *s)
{
	struct fb_dest d;

	if (dest_parse(s, &d) != 0)
		fail_msg("dest_parse(%s) failed", s);
	return d;
}

static void
test_parse_v4_is_mapped(void **state)
{
	static const uint8_t want[16] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff, 10,0,0,5 };
	struct fb_addr a = A("10.0.0.5"), b;
	const uint8_t v4[4] = { 10, 0, 0, 5 };

	(void)state;
	assert_memory_equal(a.b, want, 16);
	assert_true(addr_is_v4(&a));
	addr_from_v4(&b, v4);
	assert_true(addr_eq(&a, &b));
	/* The same address written as IPv6 text is the same address. */
	b = A("::ffff:10.0.0.5");
	assert_true(addr_eq(&a, &b));
	assert_true(addr_is_v4(&b));
}

static void
test_parse_v6(void **state)
{
	struct fb_addr a = A("2001:db8::1"), b;
	uint8_t raw[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	(void)state;
	raw[15] = 1;
	assert_memory_equal(a.b, raw, 16);
	assert_false(addr_is_v4(&a));
	addr_from_v6(&b, raw);
	assert_true(addr_eq(&a, &b));
	/* IPv4-compatible (deprecated) form is not the mapped form. */
	b = A("::1.2.3.4");
	assert_false(addr_is_v4(&b));
}

static void
test_parse_rejects(void **state)
{
	static const char *bad[] = {
		"", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
		"1.2.3.4 ", " 1.2.3.4", "1.2.3.4x", "1.2.3.4/32", "0x1.2.3.4",
		"localhost", "fe80::1%eth0", "1::2::3", "::1/128", "[::1]",
		"1:2:3:4:5:6:7:8:9", "2001:db8::1:", "12345::",
		"1.2.3.4\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc",
	};
	struct fb_addr a, keep = A("192.0.2.1");

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = keep;
		if (addr_parse(bad[i], &a) != -1)
			fail_msg("addr_parse accepted \"%s\"", bad[i]);
		/* A failed parse leaves the output alone. */
		assert_true(addr_eq(&a, &keep));
	}
	assert_int_equal(addr_parse(NULL, &a), -1);
}

static void
test_fmt_round_trip(void **state)
{
	static const char *ok[] = {
		"0.0.0.0", "10.0.0.5", "255.255.255.255", "::", "::1",
		"2001:db8::1", "fe80::1:2:3:4", "ff02::1",
		"2001:db8:1:2:3:4:5:6",
	};
	char buf[FB_ADDRSTRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct fb_addr a = A(ok[i]);

		assert_string_equal(addr_fmt(&a, buf), ok[i]);
	}
	/* Non-canonical IPv6 text comes back canonical; mapped text as IPv4. */
	{
		struct fb_addr a = A("2001:0DB8:0:0:0:0:0:0001");

		assert_string_equal(addr_fmt(&a, buf), "2001:db8::1");
		a = A("::ffff:192.0.2.7");
		assert_string_equal(addr_fmt(&a, buf), "192.0.2.7");
	}
}

static void
test_eq_cmp(void **state)
{
	struct fb_addr a = A("10.0.0.1"), b = A("10.0.0.2"), c = A("2001:db8::1");

	(void)state;
	assert_true(addr_eq(&a, &a));
	assert_false(addr_eq(&a, &b));
	assert_int_equal(addr_cmp(&a, &b), -1);
	assert_int_equal(addr_cmp(&b, &a), 1);
	assert_int_equal(addr_cmp(&a, &a), 0);
	/* IPv4 (::ffff:...) sorts before 2001:... */
	assert_int_equal(addr_cmp(&a, &c), -1);
}

static void
test_classify(void **state)
{
	struct fb_addr a;

	(void)state;
	a = A("0.0.0.0");
	assert_true(addr_is_unspecified(&a));
	a = A("::");
	assert_true(addr_is_unspecified(&a));
	a = A("0.0.0.1");
	assert_false(addr_is_unspecified(&a));
	a = A("::1");
	assert_false(addr_is_unspecified(&a));

	a = A("169.254.3.4");
	assert_true(addr_is_link_local(&a));
	a = A("169.255.3.4");
	assert_false(addr_is_link_local(&a));
	a = A("fe80::1");
	assert_true(addr_is_link_local(&a));
	a = A("febf::1");
	assert_true(addr_is_link_local(&a));
	a = A("fec0::1");
	assert_false(addr_is_link_local(&a));

	a = A("224.0.0.1");
	assert_true(addr_is_multicast(&a));
	a = A("239.255.255.255");
	assert_true(addr_is_multicast(&a));
	a = A("240.0.0.1");
	assert_false(addr_is_multicast(&a));
	a = A("223.255.255.255");
	assert_false(addr_is_multicast(&a));
	a = A("255.255.255.255");
	assert_true(addr_is_multicast(&a));
	a = A("ff02::1");
	assert_true(addr_is_multicast(&a));
	a = A("fe02::1");
	assert_false(addr_is_multicast(&a));
	/* The IPv6 rule must not leak onto mapped IPv4 and back. */
	a = A("::ffff:224.0.0.1");
	assert_true(addr_is_multicast(&a));
}

static void
test_hash(void **state)
{
	enum { N = 65536, BUCKETS = 1024 };
	static unsigned count[BUCKETS];
	struct fb_addr a = A("10.0.0.0"), b = A("2001:db8::1");
	unsigned max = 0, flips = 0;

	(void)state;
	assert_int_equal(addr_hash(&a, 1), addr_hash(&a, 1));
	/* Table seeds come from the kernel: three draws are not all one value
	 * (a constant seed would let a sender choose collisions). */
	{
		uint32_t s1 = addr_hash_seed(&a), s2 = addr_hash_seed(&a), s3 = addr_hash_seed(&a);

		assert_false(s1 == s2 && s2 == s3);
	}
	assert_int_not_equal(addr_hash(&a, 1), addr_hash(&a, 2));
	assert_int_not_equal(addr_hash(&a, 1), addr_hash(&b, 1));
	/* Sequential addresses (a /16) spread evenly over the buckets. */
	memset(count, 0, sizeof(count));
	for (unsigned i = 0; i < N; i++) {
		a.b[14] = (uint8_t)(i >> 8);
		a.b[15] = (uint8_t)i;
		count[addr_hash(&a, 0x5eed) % BUCKETS]++;
	}
	for (unsigned i = 0; i < BUCKETS; i++)
		if (count[i] > max)
			max = count[i];
	assert_true(max < 2 * N / BUCKETS);
	/* One input bit changes about half the output bits. */
	for (unsigned bit = 0; bit < 128; bit++) {
		struct fb_addr x = b;

		x.b[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		flips += (unsigned)__builtin_popcount(addr_hash(&x, 7) ^ addr_hash(&b, 7));
	}
	assert_true(flips > 128 * 12 && flips < 128 * 20);
}

static void
test_prefix_parse(void **state)
{
	struct fb_prefix p;
	char buf[FB_ADDRSTRLEN + 4];

	(void)state;
	p = P("10.0.0.0/24");
	assert_int_equal(p.len, 120);
	assert_string_equal(prefix_fmt(&p, buf), "10.0.0.0/24");
	/* Host bits are accepted and cleared. */
	p = P("10.1.2.3/8");
	assert_int_equal(p.len, 104);
	assert_string_equal(prefix_fmt(&p, buf), "10.0.0.0/8");
	p = P("10.1.2.255/30");
	assert_string_equal(prefix_fmt(&p, buf), "10.1.2.252/30");
	p = P("192.0.2.7");
	assert_int_equal(p.len, 128);
	assert_string_equal(prefix_fmt(&p, buf), "192.0.2.7/32");
	p = P("0.0.0.0/0");
	assert_int_equal(p.len, 96);
	assert_string_equal(prefix_fmt(&p, buf), "0.0.0.0/0");
	p = P("2001:db8::1/32");
	assert_int_equal(p.len, 32);
	assert_string_equal(prefix_fmt(&p, buf), "2001:db8::/32");
	p = P("2001:db8:ffff:ffff::/33");
	assert_string_equal(prefix_fmt(&p, buf), "2001:db8:8000::/33");
	p = P("::/0");
	assert_int_equal(p.len, 0);
	assert_string_equal(prefix_fmt(&p, buf), "::/0");
	p = P("2001:db8::5");
	assert_string_equal(prefix_fmt(&p, buf), "2001:db8::5/128");
	p = P("fe80::1/10");
	assert_string_equal(prefix_fmt(&p, buf), "fe80::/10");
	p = P("10.0.0.0/32");
	assert_int_equal(p.len, 128);
	p = P("2001:db8::/128");
	assert_int_equal(p.len, 128);
}

static void
test_prefix_rejects(void **state)
{
	static const char *bad[] = {
		"", "/24", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/ 8", "10.0.0.0 /8", "10.0.0.0/8 ", "10.0.0.0/8/8",
		"10.0.0.0/8x", "2001:db8::/129", "2001:db8::/1000", "::/", "10.0.0/8",
		"10.0.0.0/99999999999999999999", "[2001:db8::]/32", "10.0.0.0/0x8",
		"host/24",
	};
	struct fb_prefix p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (prefix_parse(bad[i], &p) != -1)
			fail_msg("prefix_parse accepted \"%s\"", bad[i]);
	assert_int_equal(prefix_parse(NULL, &p), -1);
}

static void
test_prefix_contains(void **state)
{
	struct fb_prefix p;
	struct fb_addr a;

	(void)state;
	p = P("10.0.0.0/24");
	a = A("10.0.0.0");
	assert_true(prefix_contains(&p, &a));
	a = A("10.0.0.255");
	assert_true(prefix_contains(&p, &a));
	a = A("10.0.1.0");
	assert_false(prefix_contains(&p, &a));
	a = A("9.255.255.255");
	assert_false(prefix_contains(&p, &a));

	p = P("10.0.0.128/25");
	a = A("10.0.0.127");
	assert_false(prefix_contains(&p, &a));
	a = A("10.0.0.128");
	assert_true(prefix_contains(&p, &a));

	p = P("10.0.0.7/31");
	a = A("10.0.0.6");
	assert_true(prefix_contains(&p, &a));
	a = A("10.0.0.8");
	assert_false(prefix_contains(&p, &a));

	/* IPv4 /0 holds every IPv4 address and no IPv6 one; ::/0 holds all. */
	p = P("0.0.0.0/0");
	a = A("203.0.113.9");
	assert_true(prefix_contains(&p, &a));
	a = A("2001:db8::1");
	assert_false(prefix_contains(&p, &a));
	p = P("::/0");
	assert_true(prefix_contains(&p, &a));
	a = A("1.2.3.4");
	assert_true(prefix_contains(&p, &a));

	p = P("2001:db8:1::/48");
	a = A("2001:db8:1:ffff::1");
	assert_true(prefix_contains(&p, &a));
	a = A("2001:db8:2::1");
	assert_false(prefix_contains(&p, &a));
	/* Boundary inside a byte: /49 */
	p = P("2001:db8:1:8000::/49");
	a = A("2001:db8:1:7fff::1");
	assert_false(prefix_contains(&p, &a));
	a = A("2001:db8:1:8000::1");
	assert_true(prefix_contains(&p, &a));
	/* A single address */
	p = P("192.0.2.1");
	a = A("192.0.2.1");
	assert_true(prefix_contains(&p, &a));
	a = A("192.0.2.2");
	assert_false(prefix_contains(&p, &a));
}

static void
test_dest_parse(void **state)
{
	struct fb_dest d;
	char buf[FB_ADDRSTRLEN + 4];

	(void)state;
	d = D("203.0.113.53");
	assert_int_equal(d.port, 0);
	assert_int_equal(d.proto, 0);
	assert_int_equal(d.pfx.len, 128);

	d = D("203.0.113.53:53/udp");
	assert_int_equal(d.port, 53);
	assert_int_equal(d.proto, IPPROTO_UDP);
	assert_string_equal(prefix_fmt(&d.pfx, buf), "203.0.113.53/32");

	d = D("203.0.113.0/24:25/tcp");
	assert_int_equal(d.port, 25);
	assert_int_equal(d.proto, IPPROTO_TCP);
	assert_string_equal(prefix_fmt(&d.pfx, buf), "203.0.113.0/24");

	d = D("203.0.113.0/24/tcp");
	assert_int_equal(d.port, 0);
	assert_int_equal(d.proto, IPPROTO_TCP);
	assert_int_equal(d.pfx.len, 120);

	d = D("8.8.8.8/UDP");
	assert_int_equal(d.proto, IPPROTO_UDP);

	d = D("10.0.0.1:65535");
	assert_int_equal(d.port, 65535);
	assert_int_equal(d.proto, 0);

	d = D("2001:db8::1");
	assert_int_equal(d.pfx.len, 128);
	assert_int_equal(d.port, 0);
	/* Unbracketed, the last group is part of the address, not a port. */
	d = D("2001:db8::1:53");
	assert_int_equal(d.port, 0);
	assert_string_equal(prefix_fmt(&d.pfx, buf), "2001:db8::1:53/128");

	d = D("2001:db8::/32");
	assert_int_equal(d.pfx.len, 32);
	d = D("2001:db8::/32/udp");
	assert_int_equal(d.proto, IPPROTO_UDP);
	assert_int_equal(d.port, 0);

	d = D("[2001:db8::1]:53/udp");
	assert_int_equal(d.port, 53);
	assert_int_equal(d.proto, IPPROTO_UDP);
	assert_string_equal(prefix_fmt(&d.pfx, buf), "2001:db8::1/128");

	d = D("[2001:db8::/64]:53");
	assert_int_equal(d.port, 53);
	assert_int_equal(d.proto, 0);
	assert_string_equal(prefix_fmt(&d.pfx, buf), "2001:db8::/64");

	d = D("[2001:db8::1]");
	assert_int_equal(d.port, 0);
	d = D("[2001:db8::1]/tcp");
	assert_int_equal(d.proto, IPPROTO_TCP);
}

static void
test_dest_rejects(void **state)
{
	static const char *bad[] = {
		"", "/tcp", ":53", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536",
		"10.0.0.1:53/icmp", "10.0.0.1:53/tcpx", "10.0.0.1:53/", "10.0.0.1:-1",
		"10.0.0.1:5 3", "10.0.0.1: 53", "10.0.0.1:53 ", "10.0.0.1:53:54",
		"10.0.0.1:0x35", "10.0.0.1:+53", "10.0.0.1/33:53",
		"[2001:db8::1]53", "[2001:db8::1]:", "[2001:db8::1", "2001:db8::1]:53",
		"[2001:db8::1]:53x", "[]:53", "[10.0.0.1:53]", "[2001:db8::1]:99999",
		"2001:db8::/129", "[2001:db8::1]:53/tcp/udp", "10.0.0.1/tcp/udp",
		"host.example:53", "tcp", "udp",
	};
	struct fb_dest d;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dest_parse(bad[i], &d) != -1)
			fail_msg("dest_parse accepted \"%s\"", bad[i]);
	assert_int_equal(dest_parse(NULL, &d), -1);
}

static void
test_dest_match(void **state)
{
	struct fb_dest d;
	struct fb_addr a = A("203.0.113.53"), other = A("203.0.113.54");
	struct fb_addr v6 = A("2001:db8::1");

	(void)state;
	d = D("203.0.113.53:53/udp");
	assert_true(dest_match(&d, &a, IPPROTO_UDP, 53));
	assert_false(dest_match(&d, &a, IPPROTO_TCP, 53));
	assert_false(dest_match(&d, &a, IPPROTO_UDP, 54));
	assert_false(dest_match(&d, &other, IPPROTO_UDP, 53));

	d = D("203.0.113.53:53");
	assert_true(dest_match(&d, &a, IPPROTO_UDP, 53));
	assert_true(dest_match(&d, &a, IPPROTO_TCP, 53));
	/* A port pattern never matches a protocol without ports. */
	assert_false(dest_match(&d, &a, IPPROTO_ICMP, 53));
	assert_false(dest_match(&d, &a, IPPROTO_ICMP, 0));

	d = D("203.0.113.0/24");
	assert_true(dest_match(&d, &a, IPPROTO_ICMP, 0));
	assert_true(dest_match(&d, &other, IPPROTO_TCP, 80));
	assert_false(dest_match(&d, &v6, IPPROTO_TCP, 80));

	d = D("203.0.113.0/24/tcp");
	assert_true(dest_match(&d, &a, IPPROTO_TCP, 1));
	assert_false(dest_match(&d, &a, IPPROTO_UDP, 1));
	assert_false(dest_match(&d, &a, IPPROTO_ICMP, 0));

	d = D("[2001:db8::/64]:53");
	assert_true(dest_match(&d, &v6, IPPROTO_UDP, 53));
	assert_true(dest_match(&d, &v6, IPPROTO_TCP, 53));
	assert_false(dest_match(&d, &v6, IPPROTO_UDP, 5353));
	assert_false(dest_match(&d, &a, IPPROTO_UDP, 53));

	d = D("::/0");
	assert_true(dest_match(&d, &a, IPPROTO_ICMPV6, 0));
	assert_true(dest_match(&d, &v6, 200, 0));
}

/* Dotted quads come from a table of octets: every value in every place,
 * and prefixes as two masked words: every length against a bit count. */
static void
test_fmt_every_octet_and_prefix_len(void **state)
{
	struct fb_addr a, b;
	struct fb_prefix p;
	char got[FB_ADDRSTRLEN], want[32];
	uint8_t v4[4];

	(void)state;
	for (int v = 0; v < 256; v++) {
		for (int at = 0; at < 4; at++) {
			memset(v4, 7, sizeof(v4));
			v4[at] = (uint8_t)v;
			addr_from_v4(&a, v4);
			snprintf(want, sizeof(want), "%u.%u.%u.%u", v4[0], v4[1], v4[2], v4[3]);
			assert_string_equal(addr_fmt(&a, got), want);
		}
	}
	memset(&a, 0, sizeof(a));
	for (unsigned len = 0; len <= 128; len++) {
		for (unsigned bit = 0; bit < 128; bit++) {
			memset(&p, 0, sizeof(p));
			p.len = (uint8_t)len;
			b = a;
			b.b[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
			/* an address differing in one bit is inside iff the bit is a host bit */
			assert_int_equal(prefix_contains(&p, &b), bit >= len);
		}
		assert_true(prefix_contains(&p, &a));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4_is_mapped),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_fmt_round_trip),
		cmocka_unit_test(test_fmt_every_octet_and_prefix_len),
		cmocka_unit_test(test_eq_cmp),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_rejects),
		cmocka_unit_test(test_prefix_contains),
		cmocka_unit_test(test_dest_parse),
		cmocka_unit_test(test_dest_rejects),
		cmocka_unit_test(test_dest_match),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
