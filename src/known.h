/*
 * known: the flows the gateway already carries, as the kernel sees them,
 * and the eBPF program that files every frame of a leg by that list
 * (io_afpacket.c joins it to the leg's fanout group, PACKET_FANOUT_EBPF):
 * frames of a known flow to the main ring, frames of any other flow to the
 * newcomers' ring (the "openers' ring" of the configuration and status).
 *
 * Why: a flood of frames of no flow the gateway carries (SYNs, ACKs, UDP
 * from random ports, pings, fragments, from random or spoofed sources) fills
 * only the newcomers' ring; the intruder's sessions, the honeypots'
 * allowed connections out and the transfers in progress keep their ring.
 * The classic BPF program of openers.h (connection openers only) is the
 * fallback where this one cannot be loaded.
 *
 * The list is a table of tags (32 bits in 8-byte slots) in a BPF array map that is mapped
 * into our memory (BPF_F_MMAPABLE): the engine marks a flow with two
 * stores (one per direction), no system call, so it works after the
 * privilege drop and under the seccomp filter that forbids bpf().  A
 * frame's slot and tag come from a hash, keyed by a secret seed that is a
 * constant of the program, of what the frame carries: its addresses, its
 * protocol and, for TCP and UDP, its ports.  Two flows in one slot: the
 * later mark wins; the other flow's frames go to the newcomers' ring, and
 * the engine marks it again when it sees one there (known_mark).
 *
 * What the program sends where (returns KNOWN_MAIN or KNOWN_NEW):
 *   not IPv4 or IPv6 (ARP ...)             main
 *   ICMP, ICMPv6 but echo and errors       main (neighbour discovery,
 *                                           router advertisements ...)
 *   ICMP error                             as the packet it quotes would
 *                                           be (its addresses, protocol,
 *                                           TCP/UDP ports); newcomers' if
 *                                           cut short or not IP
 *   ICMP echo, cut short before its id     newcomers'
 *   still VLAN-tagged (QinQ's inner tag:    newcomers'
 *    the kernel took the outer one)
 *   IPv4 later fragment, header cut short  newcomers'
 *   IPv6 with extension headers            newcomers' (its key names the
 *                                           first extension header, which
 *                                           no flow is marked with)
 *   otherwise                              main if the slot holds the tag
 *                                           (an echo's key: addresses and
 *                                           its identifier as both ports);
 *                                           never the fast path for ICMP
 *
 * Which flows are marked is the engine's choice (engine.c, known_wanted):
 * only flows whose other end has answered in a way a spoofer cannot, so a
 * flood cannot mark its own frames known.
 *
 * The fast path (fastpath.h): a slot also holds, above the tag, one bit per
 * leg, "fast from this leg".  The program of that leg (each leg has its
 * own) then sends a frame of the flow to the sink member, KNOWN_SINK, a
 * socket that takes nothing, and leaves a note in a per-CPU map for the
 * leg's tc program, which runs next for the same frame on the same CPU:
 * the note names the leg and the frame's protocol, and the tc program
 * clears it.  Never for a TCP opener (SYN without ACK), nor a frame longer
 * than KNOWN_FAST_MAXLEN.  A fast flow's frame that goes the old way for
 * want of room, or for being that long, *holds* its flow on that leg (a
 * second bit per leg, KNOWN_HOLD_BIT): its next frames go the old way too
 * until the engine marks it fast again, so they never overtake it.
 */
#ifndef FB_KNOWN_H
#define FB_KNOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "addr.h"
#include "flow.h"

#define KNOWN_MAIN	0	/* fanout index of the main ring */
#define KNOWN_NEW	1	/* of the newcomers' (openers') ring */
#define KNOWN_SINK	2	/* of the sink: the fast path's frames */

#define KNOWN_TAG_MASK	0xffffffffULL
#define KNOWN_FAST_BIT(leg) (1ULL << (32 + (leg)))
/* Held on leg: the kernel sent one of the flow's frames the old way (its
 * ring buffer was more than half full); the flow's next frames there go
 * the old way too, not the newcomers' fast way, until the engine marks it
 * fast again (known.c divert()). */
#define KNOWN_HOLD_BIT(leg) (1ULL << (34 + (leg)))
#define KNOWN_NOTE_MARK	0x100		/* note = protocol << 16 | MARK | kind | leg */
#define KNOWN_NOTE_NEW	0x200		/* kind: an outsider's, flow not known */
#define KNOWN_NOTE_SYN	0x400		/* ... its opener: the tc program writes
					   the answer's tag in the pending table */
#define KNOWN_PENDING	65536		/* slots of the pending answers' table */
#define KNOWN_FAST_MAXLEN 65536		/* longest frame (as the tap sees it,
					   from the network header) given to
					   the fast path: a GSO super-frame
					   (offloads on) of the usual 64 KiB
					   at most; a longer one (BIG TCP)
					   holds its flow there for good (the
					   engine's no_fast) */

#define KNOWN_PROG_MAX	1024	/* instructions, with room */

/* The honeynet's networks as the outside leg's program reads them (the
 * inbound fast path, fastpath.h): addresses and masks as the frame's
 * bytes, in native-order words.  Unused entries match nothing. */
#define KNOWN_NETS4	16
#define KNOWN_NETS6	16
struct known_nets {
	uint32_t	v4[KNOWN_NETS4][2];	/* address, mask */
	uint64_t	v6[KNOWN_NETS6][4];	/* address (2 words), mask (2) */
	uint64_t	inside_ok;		/* no rate cap: a SYN-ACK from
						   inside may take the fast path */
};

struct known_table {
	uint64_t	*slots;		/* mapped from the kernel's array map */
	uint32_t	 mask;		/* slots - 1, a power of two */
	uint64_t	 seed;		/* secret, also in the program */
	int		 map_fd;	/* -1: no table */
	int		 note_fd;	/* the per-CPU note, -1: no fast path */
	int		 nets_fd;	/* the networks, -1: no inbound fast path */
	int		 pend_fd;	/* answers pending (SYN-ACKs), -1: none */
	struct known_nets *nets;	/* mapped from it */
	size_t		 nets_len;
	size_t		 map_len;	/* bytes mapped */
	uint64_t	 marks;		/* flows marked, counting marks again */
};

/* Slots (8 bytes each) for a flow table of max_flows: a power of two, 4
 * per flow, at least 64 Ki (512 KiB), at most 2 Mi (16 MiB). */
uint32_t known_slots_for(uint32_t max_flows);

/*
 * Create the map of `slots` slots (a power of two) with a fresh secret
 * seed, map it, and load the program of each leg (and, with fast, the
 * per-CPU note); prog_fd[leg] is the program to attach (close it once
 * attached: the fanout group keeps its own reference).  -1 with why on
 * any failure (old kernel, no CAP_BPF, a verifier refusal: why holds its
 * complaint), nothing left open.
 */
/* The fast path's ring buffers, per leg and kind (0 known flows', 1
 * newcomers'; fd -1: none): a frame for one more than half full goes the
 * old way instead (fishbowl forwards it once written: senders are paced
 * by the capture instead of losing frames). */
struct known_rings {
	int		 fd[2][2];
	uint64_t	 size[2][2];
};

int	 known_open(struct known_table *, uint32_t slots, bool fast,
	    const struct known_rings *rings, int prog_fd[2], char *why, size_t whylen);
void	 known_close(struct known_table *);

struct known_prog_opts {
	int		 map_fd;
	uint32_t	 mask;
	uint64_t	 seed;
	int		 note_fd;	/* -1: no fast path */
	int		 nets_fd;	/* -1: none */
	int		 pend_fd;	/* -1: none */
	bool		 inbound;	/* the outside leg's: outsiders' frames */
	int		 ring_fd[2];	/* this leg's ring buffers (known_rings) */
	uint64_t	 ring_size[2];
	int		 leg;		/* the leg the program files for */
	uint32_t	 fast_maxlen;	/* 0: KNOWN_FAST_MAXLEN (the unit
					   tests' frames are shorter) */
};

/*
 * Build the program into prog (at least KNOWN_PROG_MAX instructions);
 * returns the count.  Exposed for the unit tests, which run it in the
 * kernel (BPF_PROG_TEST_RUN) against known_key_hash.
 */
size_t	 known_prog_build(struct bpf_insn *prog, const struct known_prog_opts *);

/* The hash the program computes for a frame from src to dst (addresses as
 * fb_addr, ports in host order, 0 for protocols without them). */
uint64_t known_key_hash(uint64_t seed, const struct fb_addr *src,
	    const struct fb_addr *dst, uint16_t sport, uint16_t dport, uint8_t proto);

/* Mark the flow of key k known in both directions (again, if a collision
 * took a slot), or forget it: a slot is cleared only if it still holds
 * this flow's tag. */
void	 known_mark(struct known_table *, const struct fb_flowkey *k);
void	 known_forget(struct known_table *, const struct fb_flowkey *k);
/* The fast path suspended: no flow fast, no outsider's frame taken (the
 * networks guard: every source the honeynet's), no honeypot's answer; the
 * kernel sends every frame to the rings again. */
void	 known_fast_suspend(struct known_table *);
/* A known flow's frame came the newcomers' way: take back the slots
 * another flow took; a slot still this flow's keeps its fast bits (a leg
 * without one sends the flow's frames there, and clearing the other's
 * would send its frames the slow way: known.c divert()).  Returns how
 * many slots were taken back. */
int	 known_remark(struct known_table *, const struct fb_flowkey *k);

/* The fast bit of leg on the slot of k's direction (back: dst to src),
 * if the slot is still k's; all fast bits off (a reload, the gate). */
void	 known_set_fast(struct known_table *, const struct fb_flowkey *k, bool back,
	    int leg, bool fast);
bool	 known_is_fast(const struct known_table *, const struct fb_flowkey *k,
	    bool back, int leg);
void	 known_unfast_all(struct known_table *);

/* Write the honeynet's networks into the table the outside leg's program
 * reads (at start, and at each reload); false if there are more than it
 * holds: then every source counts as the honeynet's (no inbound fast
 * path, every frame judged first). */
bool	 known_set_networks(struct known_table *, const struct fb_prefix *nets,
	    size_t n);
/* No rate cap on the honeypots' bytes: their SYN-ACKs to outsiders' SYNs
 * may take the fast path. */
void	 known_set_inside_ok(struct known_table *, bool ok);

#endif
