/*
 * addr: IPv4/IPv6 addresses, prefixes and destination patterns.
 *
 * Promises: one address type for both families (IPv4 held as the mapped
 * form ::ffff:a.b.c.d, so comparisons and hashing never branch on family);
 * parsers accept only complete, canonical-enough input and reject trailing
 * garbage; nothing here allocates.
 */
#ifndef FB_ADDR_H
#define FB_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define FB_ADDRSTRLEN	46

struct fb_addr {
	uint8_t	 b[16];		/* network order; IPv4 as ::ffff:a.b.c.d */
};

struct fb_prefix {
	struct fb_addr	addr;	/* host bits cleared */
	uint8_t		len;	/* 0..128, counted on the 128-bit form */
};

/* A destination pattern: ADDR[/LEN][:PORT][/tcp|/udp] (IPv6 with a port:
 * [ADDR]:PORT or [ADDR/LEN]:PORT). port 0 = any port, proto 0 = any. */
struct fb_dest {
	struct fb_prefix pfx;
	uint16_t	 port;
	uint8_t		 proto;	/* 0, IPPROTO_TCP or IPPROTO_UDP */
};

static inline bool
addr_is_v4(const struct fb_addr *a)
{
	/* ::ffff:0:0/96, compared as two words: this runs for every frame */
	static const uint8_t mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
	uint64_t x, mx;
	uint32_t y, my;

	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 4);
	memcpy(&mx, mapped, 8);
	memcpy(&my, mapped + 8, 4);
	return x == mx && y == my;
}

void	 addr_from_v4(struct fb_addr *, const uint8_t v4[4]);
void	 addr_from_v6(struct fb_addr *, const uint8_t v6[16]);
bool	 addr_eq(const struct fb_addr *, const struct fb_addr *);
int	 addr_cmp(const struct fb_addr *, const struct fb_addr *);
uint32_t addr_hash(const struct fb_addr *, uint32_t seed);
/* A secret seed for a table hashed with addr_hash over addresses (and ids)
 * from the wire: drawn from the kernel, so collisions cannot be chosen. */
uint32_t addr_hash_seed(const void *table);
bool	 addr_is_unspecified(const struct fb_addr *);	/* 0.0.0.0 or :: */
bool	 addr_is_link_local(const struct fb_addr *);	/* 169.254/16, fe80::/10 */
bool	 addr_is_multicast(const struct fb_addr *);	/* 224/4, ff00::/8, 255.255.255.255 */

/* Text <-> address.  Parsers return 0, or -1 for bad input. */
int	 addr_parse(const char *s, struct fb_addr *);
const char *addr_fmt(const struct fb_addr *, char buf[FB_ADDRSTRLEN]);
/* The same text at o, no NUL; returns its end.  Uses up to FB_ADDRSTRLEN
 * bytes at o (scratch past the end included). */
char	*addr_put(char *o, const struct fb_addr *);
/* "10.0.0.0/24", "2001:db8::/32", or a bare address (full length). */
int	 prefix_parse(const char *s, struct fb_prefix *);
const char *prefix_fmt(const struct fb_prefix *, char buf[FB_ADDRSTRLEN + 4]);
bool	 prefix_contains(const struct fb_prefix *, const struct fb_addr *);
int	 dest_parse(const char *s, struct fb_dest *);
bool	 dest_match(const struct fb_dest *, const struct fb_addr *, uint8_t proto,
	    uint16_t port);

#endif
