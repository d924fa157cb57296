/*
 * addr: IPv4/IPv6 addresses, prefixes and destination patterns.
 *
 * Owns the one address type of the program (IPv4 held as ::ffff:a.b.c.d)
 * and its text forms.  Promises: parsers accept a whole string or nothing
 * (no trailing garbage, no scope ids, no hostnames), lengths and ports are
 * range-checked here rather than trusted to inet_pton, prefixes always have
 * their host bits cleared, and nothing allocates.  addr_hash is keyed by a
 * seed so that table layouts cannot be predicted from outside.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/random.h>

#include "addr.h"

/* Longest address text we hand to inet_pton, plus room for a NUL. */
#define ADDR_TEXT_MAX	INET6_ADDRSTRLEN

void
addr_from_v4(struct fb_addr *a, const uint8_t v4[4])
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
}

void
addr_from_v6(struct fb_addr *a, const uint8_t v6[16])
{
	memcpy(a->b, v6, 16);
}

bool
addr_eq(const struct fb_addr *x, const struct fb_addr *y)
{
	return memcmp(x->b, y->b, 16) == 0;
}

int
addr_cmp(const struct fb_addr *x, const struct fb_addr *y)
{
	int c = memcmp(x->b, y->b, 16);

	return (c > 0) - (c < 0);
}

/* The 64-bit finaliser of MurmurHash3: every input bit reaches every output bit. */
static inline uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint32_t
addr_hash_seed(const void *table)
{
	uint32_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), 0) == (ssize_t)sizeof(seed))
		return seed;
	/* No kernel randomness (very old kernel): weaker, still unknown
	 * outside without our start time to the nanosecond. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ (uint32_t)(uintptr_t)table;
}

uint32_t
addr_hash(const struct fb_addr *a, uint32_t seed)
{
	uint64_t lo, hi, k0, k1, h;

	memcpy(&lo, a->b, 8);
	memcpy(&hi, a->b + 8, 8);
	/* Two keys derived from the seed, so that neither half of the address
	 * can be cancelled against the other by a chosen input. */
	k0 = mix64((uint64_t)seed ^ 0x9e3779b97f4a7c15ULL);
	k1 = mix64((uint64_t)seed + 0x632be59bd9b4e019ULL);
	h = mix64(lo ^ k0);
	h = mix64(h ^ hi ^ k1);
	h = mix64(h + k0);
	return (uint32_t)(h ^ (h >> 32));
}

bool
addr_is_unspecified(const struct fb_addr *a)
{
	static const uint8_t zero[16];

	if (addr_is_v4(a))
		return memcmp(a->b + 12, zero, 4) == 0;
	return memcmp(a->b, zero, 16) == 0;
}

bool
addr_is_link_local(const struct fb_addr *a)
{
	if (addr_is_v4(a))
		return a->b[12] == 169 && a->b[13] == 254;
	return a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80;
}

bool
addr_is_multicast(const struct fb_addr *a)
{
	if (addr_is_v4(a))
		return (a->b[12] & 0xf0) == 0xe0 ||
		    (a->b[12] == 255 && a->b[13] == 255 &&
		    a->b[14] == 255 && a->b[15] == 255);
	return a->b[0] == 0xff;
}

/*
 * Parses exactly n bytes of s as an address.  Which family is decided by
 * the text (a ':' means IPv6); *v4 tells the caller which one it was, since
 * "::ffff:10.0.0.1" is IPv6 text that lands on an IPv4 address.
 */
static int
addr_parse_n(const char *s, size_t n, struct fb_addr *a, bool *v4)
{
	char buf[ADDR_TEXT_MAX];
	uint8_t raw[16];

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (memchr(buf, ':', n) != NULL) {
		if (inet_pton(AF_INET6, buf, raw) != 1)
			return -1;
		addr_from_v6(a, raw);
		if (v4 != NULL)
			*v4 = false;
	} else {
		if (inet_pton(AF_INET, buf, raw) != 1)
			return -1;
		addr_from_v4(a, raw);
		if (v4 != NULL)
			*v4 = true;
	}
	return 0;
}

int
addr_parse(const char *s, struct fb_addr *a)
{
	struct fb_addr tmp;

	if (s == NULL || addr_parse_n(s, strlen(s), &tmp, NULL) == -1)
		return -1;
	*a = tmp;
	return 0;
}

/* "0".."255" and their lengths, made once (addr_init_octets). */
struct octet {
	char	s[4];
	uint8_t	n;
};
static struct octet octets[256];

__attribute__((constructor)) static void
addr_init_octets(void)
{
	for (unsigned v = 0; v < 256; v++) {
		struct octet *o = &octets[v];

		if (v >= 100)
			o->s[o->n++] = (char)('0' + v / 100);
		if (v >= 10)
			o->s[o->n++] = (char)('0' + v / 10 % 10);
		o->s[o->n++] = (char)('0' + v % 10);
	}
}

char *
addr_put(char *o, const struct fb_addr *a)
{
	if (addr_is_v4(a)) {
		/* Dotted quad by hand: this runs for every logged address. */
		for (int i = 12; i < 16; i++) {
			const struct octet *oc = &octets[a->b[i]];

			memcpy(o, oc->s, 4);	/* a whole word: the rest is overwritten */
			o += oc->n;
			*o++ = '.';
		}
		return o - 1;
	}
	if (inet_ntop(AF_INET6, a->b, o, FB_ADDRSTRLEN) == NULL)
		memcpy(o, "?", 2);	/* cannot happen: 46 bytes suffice */
	return o + strlen(o);
}

const char *
addr_fmt(const struct fb_addr *a, char buf[FB_ADDRSTRLEN])
{
	*addr_put(buf, a) = '\0';
	return buf;
}

/* Decimal digits only, no sign, no spaces; *out <= max.  0 or -1. */
static int
parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static void
prefix_clear_host_bits(struct fb_prefix *p)
{
	for (int i = 0; i < 16; i++) {
		int keep = (int)p->len - i * 8;

		if (keep >= 8)
			continue;
		if (keep <= 0)
			p->addr.b[i] = 0;
		else
			p->addr.b[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

/* Exactly n bytes of s as ADDR or ADDR/LEN. */
static int
prefix_parse_n(const char *s, size_t n, struct fb_prefix *p)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash != NULL ? (size_t)(slash - s) : n;
	unsigned long len;
	bool v4;

	if (addr_parse_n(s, alen, &p->addr, &v4) == -1)
		return -1;
	if (slash == NULL) {
		p->len = 128;
		return 0;
	}
	if (parse_uint(slash + 1, n - alen - 1, v4 ? 32 : 128, &len) == -1)
		return -1;
	p->len = (uint8_t)(v4 ? len + 96 : len);
	/*
	 * "10.0.0.1/24" is taken to mean 10.0.0.0/24: people write the
	 * gateway's address with the mask, and the meaning is unambiguous.
	 */
	prefix_clear_host_bits(p);
	return 0;
}

int
prefix_parse(const char *s, struct fb_prefix *p)
{
	struct fb_prefix tmp;

	if (s == NULL || prefix_parse_n(s, strlen(s), &tmp) == -1)
		return -1;
	*p = tmp;
	return 0;
}

const char *
prefix_fmt(const struct fb_prefix *p, char buf[FB_ADDRSTRLEN + 4])
{
	char a[FB_ADDRSTRLEN];
	unsigned len = p->len;

	addr_fmt(&p->addr, a);
	/* An IPv4 prefix shows the length the user wrote (0..32). */
	if (addr_is_v4(&p->addr) && len >= 96)
		len -= 96;
	snprintf(buf, FB_ADDRSTRLEN + 4, "%s/%u", a, len);
	return buf;
}

/* The first bits bits of a 64-bit big-endian word (0..64). */
static uint64_t
mask_bits(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 64 ? ~(uint64_t)0 : ~(uint64_t)0 << (64 - bits);
}

/* Two masked word compares: this runs several times for every frame. */
bool
prefix_contains(const struct fb_prefix *p, const struct fb_addr *a)
{
	uint64_t p0, p1, a0, a1;

	if (p->len > 128)
		return false;
	memcpy(&p0, p->addr.b, 8);
	memcpy(&p1, p->addr.b + 8, 8);
	memcpy(&a0, a->b, 8);
	memcpy(&a1, a->b + 8, 8);
	return ((be64toh(p0) ^ be64toh(a0)) & mask_bits(p->len)) == 0 &&
	    ((be64toh(p1) ^ be64toh(a1)) & mask_bits(p->len > 64 ? p->len - 64u : 0)) == 0;
}

int
dest_parse(const char *s, struct fb_dest *d)
{
	struct fb_dest tmp;
	size_t n;
	const char *colon, *pfx = s;
	size_t pfxlen;
	unsigned long port;

	if (s == NULL)
		return -1;
	memset(&tmp, 0, sizeof(tmp));
	n = strlen(s);
	/* A trailing protocol first: it is the only part after a last '/'
	 * that is not a number. */
	if (n >= 4 && s[n - 4] == '/') {
		if (strcasecmp(s + n - 3, "tcp") == 0) {
			tmp.proto = IPPROTO_TCP;
			n -= 4;
		} else if (strcasecmp(s + n - 3, "udp") == 0) {
			tmp.proto = IPPROTO_UDP;
			n -= 4;
		}
	}
	if (n == 0)
		return -1;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL)
			return -1;
		pfx = s + 1;
		pfxlen = (size_t)(close - pfx);
		colon = close + 1;
		if (colon == s + n)
			colon = NULL;	/* "[2001:db8::1]" alone */
		else if (*colon != ':')
			return -1;
	} else {
		colon = memchr(s, ':', n);
		/* Two colons or more: an IPv6 address, which needs brackets
		 * to carry a port. */
		if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) != NULL)
			colon = NULL;
		pfxlen = colon != NULL ? (size_t)(colon - s) : n;
	}
	if (prefix_parse_n(pfx, pfxlen, &tmp.pfx) == -1)
		return -1;
	if (colon != NULL) {
		if (parse_uint(colon + 1, n - (size_t)(colon + 1 - s), 65535, &port) == -1 ||
		    port == 0)
			return -1;
		tmp.port = (uint16_t)port;
	}
	*d = tmp;
	return 0;
}

bool
dest_match(const struct fb_dest *d, const struct fb_addr *a, uint8_t proto,
    uint16_t port)
{
	if (d->proto != 0 && d->proto != proto)
		return false;
	if (d->port != 0) {
		/* A port only means something for TCP and UDP. */
		if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
			return false;
		if (d->port != port)
			return false;
	}
	return prefix_contains(&d->pfx, a);
}
