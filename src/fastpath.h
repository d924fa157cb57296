/*
 * fastpath: the kernel forwards the frames that need no decision itself,
 * recording each before it forwards it, and fishbowl reads the record
 * after the fact ([engine] fast_path = yes; docs/io.md "The fast path").
 *
 * Why: a user-space bridge pays per frame what the kernel's bridge does
 * not (the copy into a new skb on send, two hand-offs between CPUs, the far
 * side's stack run in our sendmmsg); on a bulk transfer that is half the
 * gateway's time (docs/performance.md).
 *
 * Which frames is known.h's choice, as its fanout program files them: a
 * proven, allowed flow's frames the engine marked fast (to the leg's ring
 * buffer of known flows); on the outside leg, a frame from a source in none
 * of the honeynet's networks (data control forwards those anyway: to the
 * newcomers' ring buffer, so a flood fills that one); on the inside leg, a
 * SYN-ACK answering an outsider's SYN that crossed fast (the pending
 * table).  Such a frame goes to the fanout group's sink (no ring copies it)
 * with a per-CPU note; this module's tc program (tcx ingress of the leg,
 * run right after the taps on the same CPU) finds the note, copies the
 * whole frame into the ring buffer and only then redirects it out of the
 * other leg.  No room, or the gate closed (capture failing): the frame is
 * dropped, and counted; never forwarded unrecorded.  Frames without a note
 * pass untouched (to the taps' rings, as before).
 *
 * Promises: a frame crosses the fast path only if it is in a ring buffer
 * first; every frame dropped here is counted (fastpath_drops; status
 * io.fast_drops, and the kernel drops with their alert); if fishbowl stops
 * or dies the tcx links close with its files and the kernel forwards
 * nothing; frames read with fastpath_take stay valid until
 * fastpath_release.
 *
 * A full disk: the capture holds disk in reserve for what the ring buffers
 * hold (capture.h reserve_bytes, fastpath_bytes).
 *
 * Killed (SIGKILL, a crash): the ring buffers outlive fishbowl, pinned
 * in bpffs (FAST_PIN_ROOT/fishbowl/KEY/rb-LEG-KIND, KEY names the capture
 * directory: fastpath_pins).  The next start adopts them (fastpath_adopt)
 * and reads the records the dead process left, from where it stopped,
 * before and along with new frames (counted: fastpath_recovered); with the
 * fast path off that time it still reads them, then unpins them.  A clean
 * stop unpins them once they are empty (fastpath_close).  No pins, no fast
 * path: a kill would lose frames that crossed.  A pin found that cannot be
 * read (not ours, not a ring buffer) is counted, logged and alerted: what
 * it holds is lost; it stays, so this run has no fast path.  A record the dead process
 * had read but not yet given back may be written twice (its last batch).
 *
 * On by default ([engine] fast_path); suspended for the run when the
 * capture cannot hold its disk reserve (engine.c fast_need_reserve).
 *
 * Not promised: a frame is judged
 * after it crossed (known.h lets only well-formed frames take the fast
 * path; one the engine would still drop is counted, and its flow leaves
 * the fast path, but it has crossed); after a kill, its frames are in the
 * pcap only once fishbowl starts again on the same capture directory in
 * the same boot (the records' clock), and the host must not have been
 * rebooted or bpffs unmounted in between.
 */
#ifndef FB_FASTPATH_H
#define FB_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#include "io.h"

#define FAST_HDR	16	/* before the frame: ts (u64), len (u32), leg (u32) */
#define FAST_PROG_MAX	256

/* Why the tc program dropped a frame. */
enum fast_drop { FAST_DROP_FULL, FAST_DROP_GATE, FAST_DROP_OTHER, FAST_NDROP };

/* Which ring buffer: a known flow's frames, or (outside leg) outsiders'
 * frames of flows not known yet, the newcomers' (like the openers' ring:
 * a flood fills that one only). */
enum fast_kind { FAST_KNOWN, FAST_NEW, FAST_NKIND };
/* (The inside leg's newcomers' ring buffer takes the honeypots' SYN-ACKs
 * to outsiders' SYNs that crossed fast: known.h "pending".) */

/* The control array's one value, mapped into our memory. */
struct fast_ctl {
	uint64_t	gate;			/* nonzero: closed, drop */
	uint64_t	wake;			/* nonzero: wake the reader (it
						   sleeps); zero: it polls */
	uint64_t	drops[FAST_NKIND][2][FAST_NDROP]; /* kind, leg, reason */
};

/* One ring buffer and our place in it. */
struct fast_rb {
	int		 fd;
	unsigned long	*cons_pos;		/* consumer page (ours) */
	const unsigned long *prod_pos;		/* producer page */
	const uint8_t	*data;			/* mapped twice: no wrap */
	size_t		 cons_len, prod_len;
	uint64_t	 size;
	uint64_t	 pos;			/* next record to read */
	uint64_t	 frames, bytes, bad;
	bool		 pinned;		/* in bpffs (ours or adopted) */
	uint64_t	 recover_end;		/* adopted: the producer then */
	uint64_t	 recovered;		/* records read below it */
};

struct fastpath {
	int		 ctl_fd;
	struct fast_ctl	*ctl;
	size_t		 ctl_len;
	struct fast_rb	 rb[2][FAST_NKIND];	/* per leg */
	int		 prog_fd[2], link_fd[2];
	int64_t		 mono_to_real;		/* ns, refreshed per batch */
	bool		 clock_set;		/* mono_to_real measured once */
	int		 pin_parent;		/* FAST_PIN_ROOT/fishbowl, -1 */
	char		 pin_key[64];		/* the instance's directory */
	char		 pin_dir[128];		/* its path */
	unsigned	 pin_uid, pin_gid;	/* who unpins (fishbowl's user) */
	int		 pin_lock;		/* the capture directory, locked */
	unsigned	 unreadable;		/* pins found that cannot be read
						   (fastpath_adopt): their
						   frames are lost */
};

#define FAST_PIN_ROOT	"/sys/fs/bpf"

/*
 * Where this instance pins its ring buffers: FAST_PIN_ROOT/fishbowl/KEY,
 * KEY from capture_dir's identity (device, inode and birth time, hex), so
 * two fishbowls never adopt each other's, and a directory made again in
 * place of a removed one is another.  With create, bpffs is mounted at
 * FAST_PIN_ROOT if it is not (not if the mount would vanish with this
 * process: a mount namespace of its own, as `ip netns exec` makes) and
 * FAST_PIN_ROOT/fishbowl made; without, only pins already there are
 * found.  uid and gid (the user fishbowl runs as) will own KEY, so the
 * clean stop can unpin after root is dropped.  The capture directory
 * stays locked (flock) until fastpath_close: a second fishbowl on it gets
 * -1 and never reads the first's.  -1 with why: no pins (for create: no
 * fast path).  Call after fastpath_init.
 */
int	fastpath_pins(struct fastpath *, const char *capture_dir, bool create,
	    unsigned uid, unsigned gid, char *why, size_t whylen);
/* Open the pinned ring buffers found (a fishbowl that did not stop
 * cleanly left them) as this run's, reading from where it stopped.  How
 * many were adopted; why says what was wrong with a pin that is there but
 * cannot be read (not ours, not a ring buffer, cannot be mapped), and
 * f->unreadable counts those: the frames in them are not in the capture
 * (io.fast_pins_unreadable, alerted). */
int	fastpath_adopt(struct fastpath *, char *why, size_t whylen);
/* Pin every ring buffer not pinned yet.  -1 with why. */
int	fastpath_pin(struct fastpath *, char *why, size_t whylen);
/* Bytes of records not read yet, all ring buffers. */
uint64_t fastpath_pending(const struct fastpath *);
/* Records read that an adopted ring buffer held at adoption, leg's. */
uint64_t fastpath_recovered(const struct fastpath *, int leg);

/*
 * The maps (fastpath_maps, below: made first, known.h's programs read the
 * ring buffers' fill), then each leg's tc program, loaded (reading note_fd,
 * known.h's per-CPU note, and pend_fd, its pending answers) and attached
 * to the leg (tcx ingress).  -1 with why on any failure, no program left
 * attached or loaded (the maps stay: the caller closes).
 */
int	fastpath_attach(struct fastpath *, int note_fd, int pend_fd,
	    const int ifindex[2], char *why, size_t whylen);
/* Nothing open (every descriptor -1). */
void	fastpath_init(struct fastpath *);
/* Detach both legs' programs: the kernel forwards nothing more; what the
 * ring buffers hold can still be read (a stop drains them). */
void	fastpath_detach(struct fastpath *);
/* Detach first (nothing more crosses), give back the records read (the
 * caller has written them), unpin if every ring buffer is empty (else
 * they stay pinned for the next start, logged), then free. */
void	fastpath_close(struct fastpath *);

struct fast_prog_opts {
	int	note_fd, ctl_fd;	/* known.h's note; the control array */
	int	rb_fd, new_fd;		/* ring buffers: known flows', newcomers' */
	int	pend_fd;		/* known.h's pending answers (outside leg),
					   -1: none */
	int	leg, out_ifindex;
};

/* Every ring buffer at most a quarter full: room to take flows back
 * (engine.c fast_mark_due, known.c divert()). */
bool	fastpath_roomy(const struct fastpath *);

/* Build leg's tc program into prog; returns the count (unit tests). */
size_t	fastpath_prog_build(struct bpf_insn *prog, const struct fast_prog_opts *);
/* Load a built program (unit tests use it with BPF_PROG_TEST_RUN). */
int	fastpath_prog_load(const struct bpf_insn *prog, size_t n, char *why,
	    size_t whylen);
/* The control array and each leg's ring buffers: of known flows
 * (rb_bytes, a power of two of at least a page) and, with new_bytes, of
 * newcomers; those adopted already are kept (whatever their size).  -1
 * with why (the caller closes).  Call after fastpath_init. */
int	fastpath_maps(struct fastpath *, uint64_t rb_bytes, uint64_t new_bytes,
	    char *why, size_t whylen);

/* The time of the next record of leg's ring buffer kind (*ts), false if
 * it has none. */
bool	fastpath_peek(struct fastpath *, int leg, enum fast_kind, fb_ns *ts);
/* A record of leg's is being written (reserved, not yet committed) and
 * another was reserved after it: that one's frame may have crossed and
 * been answered on the other leg already. */
bool	fastpath_busy(const struct fastpath *, int leg);
/* Take it into fr (forwarded already: fr->forwarded; fr->unknown for a
 * newcomer's). */
void	fastpath_take(struct fastpath *, int leg, enum fast_kind, struct fb_frame *fr);
/* Give back to the kernel every record taken so far. */
void	fastpath_release(struct fastpath *);
/*
 * Where each ring buffer is read up to now (fastpath_mark), and the give
 * back of only the records taken before that (fastpath_release_to): the
 * frames of a batch still being written behind the engine stay in the
 * ring buffer, where a restart after a crash finds them.
 */
struct fast_mark {
	uint64_t	pos[2][FAST_NKIND];
};
void	fastpath_mark(const struct fastpath *, struct fast_mark *);
void	fastpath_release_to(struct fastpath *, const struct fast_mark *);
/* Refresh the clock offset (the records carry CLOCK_MONOTONIC): the
 * tightest of a few readings; none tight enough, the last stays. */
void	fastpath_clock(struct fastpath *);

void	fastpath_gate(struct fastpath *, bool closed);
/* Whether a record should wake the reader: off while it reads every
 * millisecond anyway (busy), on before it sleeps longer. */
void	fastpath_wake(struct fastpath *, bool wake);
uint64_t fastpath_drops(const struct fastpath *, int leg, enum fast_kind,
	    enum fast_drop);
/* What the ring buffers hold at most, all of them (the capture's reserve). */
uint64_t fastpath_bytes(const struct fastpath *);
/* Records read from leg's ring buffers, all kinds. */
uint64_t fastpath_frames(const struct fastpath *, int leg);

#endif
