/*
 * defrag: IPv4 and IPv6 fragment reassembly.
 *
 * Promises: a datagram is rebuilt only when every byte from offset 0 to
 * the end given by the last fragment has arrived, with the first
 * fragment's header (IPv4: length and fragment fields fixed, checksum
 * recomputed; IPv6: the fragment header removed); overlapping fragments
 * are resolved by the target policy of the receiving host (the
 * destination when it is a honeypot, else the honeypot end, else the
 * destination: config_policy_for) with the same rules as TCP
 * (policy_new_wins in stream.h); overlaps whose bytes differ are counted
 * and flagged once per datagram, as is a first fragment too short to hold
 * its transport header (a classic filter evasion); incomplete datagrams
 * expire after DEFRAG_TIMEOUT; memory is charged to the layers' shared
 * pool and capped at a quarter of it, the oldest datagram making way for
 * new ones, so a flood of fragments never grows it.  Every header field
 * is attacker-chosen: nothing here trusts one.
 */
#ifndef FB_DEFRAG_H
#define FB_DEFRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"
#include "util.h"

#define DEFRAG_TIMEOUT		(30 * FB_NS_PER_SEC)	/* Linux ipfrag_time */

struct stream_pool;
struct defrag;

struct defrag_stats {
	uint64_t	fragments;	/* taken in */
	uint64_t	datagrams;	/* rebuilt */
	uint64_t	overlaps;	/* overlapping fragments, same bytes */
	uint64_t	conflicts;	/* overlapping fragments, different bytes */
	uint64_t	tiny;		/* first fragments shorter than their L4 header */
	uint64_t	invalid;	/* past the end, second end, truncated, too many */
	uint64_t	timeouts;	/* datagrams never completed */
	uint64_t	evicted;	/* datagrams dropped to make room */
	uint64_t	mem_drops;	/* fragments dropped: no memory */
	uint64_t	pending;	/* datagrams being reassembled now */
	uint64_t	mem_used, mem_max;
};

/* What one fragment did. */
struct defrag_result {
	/* A whole datagram (raw IP, decode with FB_LINK_RAW), valid until the
	 * next call; NULL if none was completed. */
	const uint8_t	*dgram;
	uint32_t	 len;
	/* Raise the datagram's one evasion alert now: why ("overlap" or
	 * "tiny"), the policy applied, the offset and length concerned. */
	const char	*alert;
	enum fb_policy	 policy;
	uint32_t	 alert_off, alert_len;
};

struct defrag *defrag_new(const struct fb_config *, struct stream_pool *);
void	 defrag_free(struct defrag *);
/* One fragment (p->is_fragment, not malformed) at time ts. */
void	 defrag_packet(struct defrag *, const struct fb_packet *, fb_ns ts,
	    struct defrag_result *);
/* Expire datagrams older than DEFRAG_TIMEOUT. */
void	 defrag_tick(struct defrag *, fb_ns now);
void	 defrag_stats(const struct defrag *, struct defrag_stats *);
/* The "defrag" object of fishbowl status --json (inside "layers"). */
void	 defrag_status_json(const struct defrag *, struct jbuf *);

#endif
