/*
 * flow: the connection table.
 *
 * Promises: memory is fixed at creation (max_flows entries, preallocated, no
 * allocation per frame); lookup is by 5-tuple in either direction; each flow
 * has per-state timeouts; when the table is full the stalest flow is evicted,
 * half-open/embryonic ones first, and every flow that leaves the table (ended,
 * timed out, evicted) is handed to the on_end callback exactly once, so it is
 * logged.  The table knows nothing of policy: control decides verdicts.
 *
 * Eviction is safe for containment because the engine never treats a packet
 * without a flow as part of an old connection: a honeypot's mid-stream TCP
 * segment with no flow is dropped, and its UDP/ICMP/other packets with no flow
 * open (and count) a new connection.
 */
#ifndef FB_FLOW_H
#define FB_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "decode.h"
#include "util.h"

enum fb_dir {
	DIR_INBOUND,		/* opened from outside towards the honeynet */
	DIR_OUTBOUND,		/* opened by a honeypot towards outside */
	DIR_INTERNAL,		/* both ends inside the honeynet (seen on one leg) */
	DIR_EXTERNAL		/* neither end inside (should not cross; logged) */
};
const char *dir_name(enum fb_dir);

enum fb_tcp_state {
	TCP_NONE,		/* not TCP */
	TCP_SYN_SENT,		/* SYN from the originator */
	TCP_SYN_RECEIVED,	/* SYN-ACK from the responder */
	TCP_ESTABLISHED,	/* ACK of the SYN-ACK, or data both ways */
	TCP_FIN_WAIT,		/* FIN one way */
	TCP_CLOSED,		/* FIN both ways */
	TCP_RESET,		/* RST seen */
	TCP_MIDSTREAM		/* picked up without a handshake */
};
const char *tcp_state_name(enum fb_tcp_state);

/* Why a flow left the table. */
enum fb_end {
	END_CLOSED,		/* FIN/RST then the closed timeout */
	END_TIMEOUT,		/* idle */
	END_EVICTED,		/* table full */
	END_SHUTDOWN		/* fishbowl stopped or the replay ended */
};
const char *end_name(enum fb_end);

struct fb_flowkey {
	struct fb_addr	 src, dst;	/* originator, responder */
	uint16_t	 sport, dport;	/* ICMP: the echo id in both, or 0 */
	uint8_t		 proto;
	uint16_t	 vlan;		/* outermost VLAN id, 0 untagged */
};

struct fb_flow {
	struct fb_flowkey key;
	uint64_t	 id;		/* unique per run, also in conn.jsonl */
	fb_ns		 first, last;
	uint64_t	 pkts[2];	/* [0] originator->responder, [1] back */
	uint64_t	 bytes[2];	/* wire bytes */
	enum fb_dir	 dir;
	enum fb_tcp_state tcp_state;
	uint8_t		 fin_seen;	/* bit 0: from originator, bit 1: from responder */
	struct fb_addr	 honeypot;	/* the honeynet end (src for outbound) */
	uint8_t		 cls;		/* enum fb_class */
	uint8_t		 verdict;	/* enum fb_verdict of its opening packet */
	uint8_t		 reason;	/* enum fb_reason of that verdict */
	bool		 counted;	/* it used one of the honeypot's outbound connections */
	bool		 isn_known;	/* isn holds the sequence number of its opening SYN */
	bool		 risn_known;	/* risn holds the responder's, from its SYN-ACK */
	/* The originator acknowledged the responder's SYN (ack = risn + 1)
	 * or its next sequence number as its latest segment left it (ack =
	 * rnext): it hears the responder, which a spoofed source cannot. */
	bool		 proven;
	bool		 known;		/* marked in the kernel's table (known.h) */
	bool		 fast;		/* and fast (fastpath.h) */
	bool		 no_fast;	/* carried a frame too long for the
					   fast path (past KNOWN_FAST_MAXLEN):
					   never fast again */
	bool		 rnext_known;	/* rnext holds seq + length of the responder's
					 * latest segment (not SYN or RST) */
	uint32_t	 isn;
	uint32_t	 risn;
	uint32_t	 rnext;
	uint64_t	 dropped[2];	/* packets dropped each way */
	void		*app;		/* for later stages (reassembly); NULL here */

	/* table internals */
	uint32_t	 hnext;		/* hash chain, index + 1, 0 = end */
	uint32_t	 lprev, lnext;	/* LRU list, index + 1 */
	uint32_t	 hash;		/* of key: unlinking needs no second hash */
	uint8_t		 list;		/* which LRU list */
	bool		 in_use;
};

struct flow_timeouts {
	fb_ns	tcp_embryonic;
	fb_ns	tcp_established;
	fb_ns	tcp_closed;
	fb_ns	udp;
	fb_ns	other;
};

struct flow_stats {
	uint64_t	active;
	uint64_t	created;
	uint64_t	ended;
	uint64_t	timed_out;
	uint64_t	evicted;
	uint64_t	max;
};

typedef void (*flow_end_cb)(struct fb_flow *, enum fb_end, void *arg);

struct flow_table;

struct flow_table *flow_table_new(uint32_t max_flows, const struct flow_timeouts *,
	    flow_end_cb on_end, void *arg);
void	 flow_table_free(struct flow_table *);	/* does not call on_end */

/* Key of a decoded IP packet as sent (src = sender). false if not keyable. */
bool	 flow_key_of(const struct fb_packet *, struct fb_flowkey *);

/*
 * Find the flow of a packet.  *reverse is set when the packet travels from
 * the responder to the originator.  ICMP errors are not looked up here; use
 * flow_lookup_key with the key built from p->inner.
 */
struct fb_flow *flow_lookup(struct flow_table *, const struct fb_flowkey *, bool *reverse);

/*
 * Create a flow with key as originator->responder.  When the table is full,
 * evicts (on_end with END_EVICTED) and reuses the stalest entry.
 * Never fails when max_flows > 0.
 */
struct fb_flow *flow_create(struct flow_table *, const struct fb_flowkey *, fb_ns now);

/* Account one packet, advance the TCP state, refresh its LRU position. */
void	 flow_update(struct flow_table *, struct fb_flow *, const struct fb_packet *,
	    bool reverse, fb_ns now);

/* End flows idle past their timeout (call from the timer, and as time passes in replay). */
void	 flow_expire(struct flow_table *, fb_ns now);
/* End every flow (shutdown / end of replay). */
void	 flow_flush(struct flow_table *);
void	 flow_stats(const struct flow_table *, struct flow_stats *);
/* Visit every live flow (status). */
void	 flow_foreach(struct flow_table *, void (*fn)(struct fb_flow *, void *), void *arg);

#endif
