/*
 * openers: the classic BPF program that splits a leg's receive path in two
 * (io_afpacket.c, PACKET_FANOUT_CBPF): connection openers to a ring of
 * their own, everything else to the main ring, so that a SYN flood fills
 * only the openers' ring and the rest of the traffic keeps its ring.
 *
 * An opener is TCP with SYN set and ACK clear, in IPv4 (any header length,
 * first fragment or unfragmented) or IPv6 (TCP right after the fixed
 * header).  The program reads the packet as the kernel's fanout hook sees
 * it: the EtherType from skb->protocol (SKF_AD_PROTOCOL) and the IP header
 * at the network header (SKF_NET_OFF), never at an offset from the start
 * of the frame, which differs between receive paths.  A VLAN tag the kernel
 * took into metadata (every outer tag: it untags before any packet socket
 * sees the frame) is therefore not in the way: a tagged SYN is an opener.
 * Whatever is left tagged in the frame (the inner tag of QinQ), IPv6 with
 * extension headers, non-first fragments, anything short or malformed (a
 * load past the end ends the program with 0) goes to the main ring.
 *
 * Promises: returns OPENERS_RING for an opener, OPENERS_MAIN otherwise; a
 * fixed program of 18 instructions, no loops (classic BPF has none).
 */
#ifndef FB_OPENERS_H
#define FB_OPENERS_H

#include <stddef.h>
#include <linux/filter.h>

#define OPENERS_MAIN	0	/* index of the main socket in the fanout group */
#define OPENERS_RING	1	/* index of the openers' socket */

extern const struct sock_filter openers_prog[];
extern const size_t openers_prog_len;

#endif
