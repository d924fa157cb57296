/*
 * decode: the frame decoder.  Ethernet, 802.1Q/802.1ad, ARP, IPv4 (options,
 * fragments), IPv6 (extension headers, fragments), TCP, UDP, ICMP, ICMPv6.
 *
 * Promises: reads only within [frame, frame + caplen); trusts no length field
 * (each is checked against what was captured and against the enclosing
 * header); never allocates; fills a struct fb_packet whose pointers point into
 * the frame.  A frame that cannot be decoded has p->malformed set to the first
 * problem found, and whatever was decoded before it stays valid (so a bad TCP
 * header still has its IP addresses, for the spoofing check and the logs).
 */
#ifndef FB_DECODE_H
#define FB_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Link types of the inputs we decode (pcap LINKTYPE_* values). */
#define FB_LINK_ETHERNET	1
#define FB_LINK_RAW		101	/* raw IP, v4 or v6 */
#define FB_LINK_IPV4		228
#define FB_LINK_IPV6		229
#define FB_LINK_NULL		0	/* BSD loopback, 4-byte host-order family */

#define FB_MALFORMED_LIST(X)						\
	X(NONE,		"none")						\
	X(ETH_SHORT,	"ethernet header truncated")			\
	X(VLAN_SHORT,	"802.1Q header truncated")			\
	X(VLAN_DEPTH,	"more than two VLAN tags")			\
	X(ARP_SHORT,	"ARP truncated")				\
	X(IP4_SHORT,	"IPv4 header truncated")			\
	X(IP4_VERSION,	"IPv4 version is not 4")			\
	X(IP4_HLEN,	"IPv4 header length invalid")			\
	X(IP4_TOTLEN,	"IPv4 total length invalid")			\
	X(IP4_OPTIONS,	"IPv4 options malformed")			\
	X(IP6_SHORT,	"IPv6 header truncated")			\
	X(IP6_VERSION,	"IPv6 version is not 6")			\
	X(IP6_PLEN,	"IPv6 payload length invalid")			\
	X(IP6_EXT,	"IPv6 extension header malformed")		\
	X(IP6_EXT_DEPTH, "too many IPv6 extension headers")		\
	X(FRAG_INVALID,	"fragment offset or length invalid")		\
	X(TCP_SHORT,	"TCP header truncated")				\
	X(TCP_HLEN,	"TCP data offset invalid")			\
	X(UDP_SHORT,	"UDP header truncated")				\
	X(UDP_LEN,	"UDP length invalid")				\
	X(ICMP_SHORT,	"ICMP header truncated")			\
	X(LINKTYPE,	"unsupported link type")

enum fb_malformed {
#define X(name, text) MAL_##name,
	FB_MALFORMED_LIST(X)
#undef X
	MAL_MAX
};
const char *malformed_name(enum fb_malformed);	/* short token: "tcp_hlen" */
const char *malformed_text(enum fb_malformed);	/* human text */

/* The transport endpoints of an ICMP error's quoted packet. */
struct fb_inner {
	struct fb_addr	src, dst;
	uint16_t	sport, dport;	/* or ICMP id in both for echo */
	uint8_t		proto;
	bool		valid;
};

struct fb_packet {
	/* link layer */
	const uint8_t	*frame;
	uint32_t	 caplen;	/* bytes we have */
	uint32_t	 wirelen;	/* bytes on the wire */
	uint8_t		 eth_src[6], eth_dst[6];
	uint16_t	 vlan[2];	/* VLAN ids, outermost first */
	uint8_t		 n_vlan;
	uint16_t	 ethertype;	/* after VLAN tags; 0 for raw IP inputs */
	bool		 is_arp;
	bool		 is_nd;		/* ICMPv6 router/neighbour solicit/advert, redirect */

	/* network layer: ipver 0 = not IP */
	uint8_t		 ipver;
	const uint8_t	*l3;
	uint32_t	 l3_len;	/* IP datagram length as captured, trimmed to the header's length */
	struct fb_addr	 src, dst;
	uint8_t		 ttl;		/* TTL or hop limit */
	uint8_t		 proto;		/* upper-layer protocol after IPv6 extension headers */
	bool		 is_fragment;	/* offset != 0 or more fragments */
	bool		 first_fragment;/* offset == 0: L4 header decoded if present */
	uint32_t	 frag_id;
	uint16_t	 frag_off;	/* in bytes */
	bool		 frag_more;

	/* transport layer: valid when l4 != NULL */
	const uint8_t	*l4;
	uint32_t	 l4_len;
	uint16_t	 sport, dport;	/* TCP/UDP ports; ICMP echo id in both */
	uint8_t		 tcp_flags;	/* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 */
	uint32_t	 seq, ack;
	uint16_t	 win;
	uint8_t		 icmp_type, icmp_code;
	bool		 icmp_request;	/* echo/timestamp/info/address-mask request, ICMPv6 echo request */
	bool		 icmp_reply;	/* the matching replies */
	bool		 icmp_error;	/* unreachable, time exceeded, param problem, redirect, too big ... */
	struct fb_inner	 inner;		/* for icmp_error */

	const uint8_t	*payload;	/* TCP/UDP payload (or ICMP body) */
	uint32_t	 payload_len;

	enum fb_malformed malformed;
};

#define TH_FIN	0x01
#define TH_SYN	0x02
#define TH_RST	0x04
#define TH_PUSH	0x08
#define TH_ACK	0x10
#define TH_URG	0x20

/*
 * Decode one frame of the given link type.  Returns 0 when fully decoded,
 * -1 when malformed (p->malformed says why).  p is always fully initialised.
 */
int	 decode_frame(int linktype, const uint8_t *frame, uint32_t caplen,
	    uint32_t wirelen, struct fb_packet *p);

#endif
