/*
 * engine: the pipeline from frame to verdict to capture to forward.
 *
 * Per batch: every frame is decoded and given a verdict (policy below), every
 * frame is queued to the pcap writer, the writer's batch is written out, and
 * only then are the frames with a FORWARD verdict handed to the I/O source to
 * be sent.  If the write failed and on_failure = block, the batch's forwards
 * are withheld: nothing crosses unrecorded.
 *
 * Policy (docs/fishbowl.8 "DATA CONTROL" is the user's version):
 *  - ARP passes both ways unless its sender address is spoofed; IPv6
 *    neighbour discovery passes; other non-IP frames are dropped.
 *  - From inside: a source outside `networks` is spoofed (dropped) except the
 *    unspecified/link-local sources of DHCP and ICMPv6 housekeeping.  Frames
 *    to other honeynet addresses and to local multicast do not leave.  Every
 *    byte out is charged to the honeypot's rate cap.  A packet of a tracked
 *    connection follows the connection's verdict; a packet that opens a new
 *    connection asks control; a mid-stream TCP segment or a reply with no
 *    connection is dropped (no state: fail closed).
 *  - From outside: a source inside `networks` is spoofed (dropped); all else
 *    passes, and each new connection towards the honeynet is logged.
 *  - Fragments after the first follow the first fragment's verdict (a small
 *    cache keyed by addresses, protocol and IP id); unknown ones from inside
 *    are dropped.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>

#include "capture.h"
#include "config.h"
#include "control.h"
#include "decode.h"
#include "engine.h"
#include "event.h"
#include "flow.h"
#include "io.h"
#include "fastpath.h"
#include "known.h"
#include "layers.h"
#include "logserver.h"
#include "util.h"

#define BATCH_MAX	256
#define FRAG_SLOTS	4096		/* power of two */
#define FRAG_TTL	(30 * FB_NS_PER_SEC)
#define TICK_NS		(FB_NS_PER_SEC)
#define SPOOF_EVENT_GAP	(10 * FB_NS_PER_SEC)
#define MALFORMED_EVENT_GAP (10 * FB_NS_PER_SEC)

struct frag_slot {
	struct fb_addr	 src, dst;
	uint32_t	 id;
	uint8_t		 proto;
	uint8_t		 verdict;
	fb_ns		 ts;
	bool		 used;
};

struct counters {
	uint64_t	 fwd_frames, fwd_bytes;
	uint64_t	 drop_frames, drop_bytes;
	uint64_t	 by_reason[REASON_MAX];
	uint64_t	 malformed[MAL_MAX];
	uint64_t	 withheld;	/* forwards withheld because capture failed */
	uint64_t	 known_remarks;	/* known flows found in the newcomers' ring */
	uint64_t	 fast_judged_drop;/* frames the kernel forwarded (fast
					   path) that policy would drop */
	uint64_t	 fast_marks;	/* flows (and again) marked fast */
};

struct engine {
	struct fb_config	*cfg;
	struct fb_io		*io;
	struct engine_opts	 opts;
	char			*data_dir;
	char			*state_path;
	int			 linktype;

	struct flow_table	*flows;
	struct control		*control;
	struct capture		*capture;
	struct event_log	*events;
	struct layers		*layers;	/* NULL when [layers] enable = no */
	struct logserver	*logserver;	/* live only */

	struct counters		 c;
	struct frag_slot	*frags;
	uint32_t		 frag_seed;	/* addr_hash_seed: ids come from the wire */

	fb_ns			 now;		/* wall time live, packet time in replay */
	fb_ns			 started;
	fb_ns			 next_tick;
	fb_ns			 last_spoof_event;
	uint64_t		 spoof_since_event;
	fb_ns			 last_malformed_event;
	bool			 capture_failing;	/* fail-closed episode */
	bool			 low_space;
	bool			 fast_gate_closed;	/* fastpath_gate */
	bool			 fast_suspended;	/* no disk reserve for it */
	/* Flows marked fast in this batch: the kernel's bits are set once
	 * the batch is sent (fast_mark). */
	struct fb_flow		*fast_due[BATCH_MAX];
	struct fb_flowkey	 fast_due_key[BATCH_MAX];
	int			 n_fast_due;
	bool			 batch_full;	/* the last read left frames in
						   the rings (fast_mark_due) */
	uint64_t		 kernel_drops_seen;
	uint64_t		 fast_pins_seen;	/* unreadable, alerted */
	uint64_t		 kernel_drops_openers_seen;

	struct fb_frame		 batch[BATCH_MAX];
	uint8_t			 verdict[BATCH_MAX];
	uint8_t			 reason[BATCH_MAX];
	/* The flow decide() found or made for the current frame, and its
	 * direction: the capture layers take it instead of a second lookup. */
	struct fb_flow		*pkt_flow;
	bool			 pkt_reverse;
};

static void	on_flow_end(struct fb_flow *, enum fb_end, void *);

static enum fb_verdict
drop(struct engine *e, enum fb_reason r, enum fb_reason *reason)
{
	(void)e;
	*reason = r;
	return VERDICT_DROP;
}

static enum fb_verdict
pass(enum fb_reason r, enum fb_reason *reason)
{
	*reason = r;
	return VERDICT_FORWARD;
}

/* Events */

static void
emit(struct engine *e, enum fb_prio prio, const char *type, const char *msg,
    const struct fb_addr *hp, const struct fb_flow *f, const struct fb_packet *p,
    const char *extra)
{
	struct fb_event ev = {
		.ts = e->now, .prio = prio, .type = type, .msg = msg,
		.flow = f, .pkt = p, .extra_json = extra,
	};

	if (hp != NULL) {
		ev.has_honeypot = true;
		ev.honeypot = *hp;
	}
	event_emit(e->events, &ev);
}

static void
note_spoof(struct engine *e, const struct fb_packet *p, bool inside)
{
	char src[FB_ADDRSTRLEN], msg[160], extra[64];

	e->spoof_since_event++;
	if (e->last_spoof_event != 0 && e->now - e->last_spoof_event < SPOOF_EVENT_GAP)
		return;
	snprintf(msg, sizeof(msg), "spoofed source %s from the %s",
	    addr_fmt(&p->src, src), inside ? "honeynet" : "outside");
	snprintf(extra, sizeof(extra), "\"leg\":\"%s\",\"frames\":%llu",
	    inside ? "inside" : "outside", (unsigned long long)e->spoof_since_event);
	emit(e, PRIO_MEDIUM, "spoofed", msg, NULL, NULL, p, extra);
	e->last_spoof_event = e->now;
	e->spoof_since_event = 0;
}

static void
note_malformed(struct engine *e, const struct fb_packet *p)
{
	char msg[160], extra[96];

	e->c.malformed[p->malformed]++;
	if (e->last_malformed_event != 0 &&
	    e->now - e->last_malformed_event < MALFORMED_EVENT_GAP)
		return;
	snprintf(msg, sizeof(msg), "malformed frame: %s", malformed_text(p->malformed));
	snprintf(extra, sizeof(extra), "\"malformed\":\"%s\"", malformed_name(p->malformed));
	emit(e, PRIO_LOW, "malformed", msg, NULL, NULL, p->ipver ? p : NULL, extra);
	e->last_malformed_event = e->now;
}

/* Fragments after the first inherit the first one's verdict. */

static struct frag_slot *
frag_slot(struct engine *e, const struct fb_packet *p)
{
	/* Secret seed: with a fixed one, chosen ids could make a datagram's
	 * fragments evict another's first-fragment verdict at will. */
	uint32_t h = addr_hash(&p->src, e->frag_seed ^ p->frag_id) ^
	    addr_hash(&p->dst, e->frag_seed + p->proto);

	return &e->frags[h & (FRAG_SLOTS - 1)];
}

static void
frag_remember(struct engine *e, const struct fb_packet *p, enum fb_verdict v)
{
	struct frag_slot *s = frag_slot(e, p);

	s->src = p->src;
	s->dst = p->dst;
	s->id = p->frag_id;
	s->proto = p->proto;
	s->verdict = (uint8_t)v;
	s->ts = e->now;
	s->used = true;
}

static bool
frag_lookup(struct engine *e, const struct fb_packet *p, enum fb_verdict *v)
{
	struct frag_slot *s = frag_slot(e, p);

	if (!s->used || s->id != p->frag_id || s->proto != p->proto ||
	    !addr_eq(&s->src, &p->src) || !addr_eq(&s->dst, &p->dst) ||
	    e->now - s->ts > FRAG_TTL)
		return false;
	*v = (enum fb_verdict)s->verdict;
	return true;
}

/* Classification helpers */

static enum fb_class
class_of(const struct fb_packet *p)
{
	switch (p->proto) {
	case IPPROTO_TCP:
		return CLASS_TCP;
	case IPPROTO_UDP:
		return CLASS_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return CLASS_ICMP;
	default:
		return CLASS_OTHER;
	}
}

static bool
is_dhcp(const struct fb_packet *p)
{
	return p->proto == IPPROTO_UDP && p->l4 != NULL &&
	    ((p->sport == 68 && p->dport == 67) || (p->sport == 546 && p->dport == 547));
}

/* ICMPv6 housekeeping that uses link-local sources: ND, MLD. */
static bool
is_icmp6_local(const struct fb_packet *p)
{
	if (p->is_nd)
		return true;
	return p->proto == IPPROTO_ICMPV6 && p->l4 != NULL &&
	    (p->icmp_type == 130 || p->icmp_type == 131 || p->icmp_type == 132 ||
	     p->icmp_type == 143);
}

/* A packet that opens a connection when no flow exists. */
static bool
opens_connection(const struct fb_packet *p)
{
	switch (p->proto) {
	case IPPROTO_TCP:
		return (p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return !p->icmp_reply && !p->icmp_error;
	default:
		return true;
	}
}

/* ARP sender protocol address (bytes 14..17 of the ARP body), if IPv4 ARP. */
static bool
arp_sender(const struct fb_packet *p, struct fb_addr *a)
{
	uint32_t off = 14 + 4u * p->n_vlan;
	const uint8_t *arp = p->frame + off;

	if (p->caplen < off + 28 || arp[4] != 6 || arp[5] != 4 ||
	    arp[2] != 0x08 || arp[3] != 0x00)
		return false;
	addr_from_v4(a, arp + 14);
	return true;
}

static enum fb_verdict
decide_arp(struct engine *e, const struct fb_packet *p, bool inside, enum fb_reason *reason)
{
	struct fb_addr sender;

	if (!arp_sender(p, &sender) || addr_is_unspecified(&sender))
		return pass(REASON_L2, reason);
	if (inside && !config_in_networks(e->cfg, &sender) && !addr_is_link_local(&sender))
		return drop(e, REASON_SPOOF_INSIDE, reason);
	if (!inside && config_in_networks(e->cfg, &sender))
		return drop(e, REASON_SPOOF_OUTSIDE, reason);
	return pass(REASON_L2, reason);
}

/* ICMP errors: follow the connection they are about, if there is one. */
static struct fb_flow *
icmp_error_flow(struct engine *e, const struct fb_packet *p)
{
	struct fb_flowkey k;
	bool rev;

	if (!p->inner.valid)
		return NULL;
	memset(&k, 0, sizeof(k));
	k.src = p->inner.src;
	k.dst = p->inner.dst;
	k.sport = p->inner.sport;
	k.dport = p->inner.dport;
	k.proto = p->inner.proto;
	k.vlan = p->n_vlan ? p->vlan[0] : 0;
	return flow_lookup(e->flows, &k, &rev);
}

/* A honeypot asks to open a connection: control decides, the flow remembers. */
static enum fb_verdict
outbound_open(struct engine *e, struct fb_flow *f, const struct fb_packet *p,
    enum fb_reason *reason)
{
	enum fb_verdict v;

	if (p->proto == IPPROTO_TCP) {
		f->isn = p->seq;
		f->isn_known = true;
	}
	v = control_outbound(e->control, &p->src, class_of(p), &p->dst, p->proto,
	    p->dport, f, e->now, reason);
	f->verdict = (uint8_t)v;
	f->reason = (uint8_t)*reason;
	if (v == VERDICT_FORWARD && *reason != REASON_EXEMPT)
		f->counted = true;
	return v;
}

static struct fb_flow *
new_flow(struct engine *e, const struct fb_flowkey *k, const struct fb_packet *p,
    enum fb_dir dir)
{
	struct fb_flow *f = flow_create(e->flows, k, e->now);

	f->dir = dir;
	f->cls = (uint8_t)class_of(p);
	f->honeypot = dir == DIR_OUTBOUND ? p->src : p->dst;
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (TH_SYN | TH_ACK)) != TH_SYN)
		f->tcp_state = TCP_MIDSTREAM;
	return f;
}

/*
 * A bare SYN from the honeypot on a flow it opened is a new connection on
 * the same ports, to be counted again, unless it retransmits the SYN that
 * opened the flow (same sequence number) on a connection not yet over.
 * Without the sequence check a flood of SYNs that cycles through the source
 * ports (hping3 --flood, no answers) re-opened its first few half-open flows
 * for ever: one allowed connection became unlimited SYNs to the target.
 */
static bool
is_new_syn(const struct fb_flow *f, const struct fb_packet *p)
{
	if (f->tcp_state == TCP_CLOSED || f->tcp_state == TCP_RESET)
		return true;
	return !f->isn_known || p->seq != f->isn;
}

static enum fb_verdict
decide_inside_flow(struct engine *e, struct fb_flow *f, const struct fb_packet *p,
    bool reverse, enum fb_reason *reason)
{
	enum fb_verdict v;

	if (reverse)		/* the honeypot answers a connection from outside */
		return pass(REASON_REPLY, reason);
	if (f->dir != DIR_OUTBOUND)
		return pass(REASON_ESTABLISHED, reason);
	if (p->proto == IPPROTO_TCP && opens_connection(p) && is_new_syn(f, p)) {
		f->counted = false;
		f->tcp_state = TCP_SYN_SENT;
		return outbound_open(e, f, p, reason);
	}
	if (f->verdict == VERDICT_FORWARD)
		return pass(REASON_ESTABLISHED, reason);
	/* Refused before: an opening packet asks again (the window may have
	 * freed); anything else stays refused. */
	if (opens_connection(p)) {
		v = outbound_open(e, f, p, reason);
		return v;
	}
	*reason = (enum fb_reason)f->reason;
	return VERDICT_DROP;
}

/*
 * The per-honeypot rate cap, last: only a frame that would leave spends the
 * honeypot's bytes.  Charged before the verdict, the honeypot's answers to
 * an inbound flood (RSTs and SYN-ACKs for flows the flood evicted, refused
 * SYNs) ate the bucket its real traffic needed.
 */
static enum fb_verdict
rate_cap(struct engine *e, const struct fb_packet *p, enum fb_verdict v,
    enum fb_reason *reason)
{
	if (v == VERDICT_FORWARD &&
	    control_rate(e->control, &p->src, p->wirelen, e->now) == VERDICT_DROP)
		return drop(e, REASON_RATE, reason);
	return v;
}

static enum fb_verdict
decide_from_inside(struct engine *e, const struct fb_packet *p, bool src_in,
    enum fb_reason *reason)
{
	struct fb_flowkey k;
	struct fb_flow *f;
	enum fb_verdict v;
	bool reverse = false, local_src;

	local_src = addr_is_unspecified(&p->src) || addr_is_link_local(&p->src);
	if (!src_in) {
		if (local_src && (is_dhcp(p) || is_icmp6_local(p)))
			return pass(REASON_L2, reason);
		note_spoof(e, p, true);
		return drop(e, REASON_SPOOF_INSIDE, reason);
	}
	/* A honeynet address that sends exists: status shows it from now on. */
	control_seen(e->control, &p->src, e->now);
	if (is_icmp6_local(p))
		return pass(REASON_L2, reason);
	/* Sebek records are captured, never forwarded (sebek.h). */
	if (p->proto == IPPROTO_UDP && p->l4 != NULL && e->cfg->sebek_port != 0 &&
	    p->dport == e->cfg->sebek_port)
		return drop(e, REASON_SEBEK, reason);
	if (addr_is_multicast(&p->dst))
		return is_dhcp(p) ? pass(REASON_L2, reason) : drop(e, REASON_INTERNAL, reason);
	if (config_in_networks(e->cfg, &p->dst))
		return drop(e, REASON_INTERNAL, reason);

	if (p->is_fragment && !p->first_fragment) {
		if (frag_lookup(e, p, &v) && v == VERDICT_FORWARD)
			return rate_cap(e, p, pass(REASON_ESTABLISHED, reason), reason);
		return drop(e, REASON_NO_STATE, reason);
	}
	if (p->icmp_error) {
		f = icmp_error_flow(e, p);
		if (f == NULL || (f->dir == DIR_OUTBOUND && f->verdict != VERDICT_FORWARD))
			return drop(e, REASON_ICMP_UNRELATED, reason);
		return rate_cap(e, p, pass(REASON_REPLY, reason), reason);
	}
	if (!flow_key_of(p, &k))
		return drop(e, REASON_NO_STATE, reason);

	f = flow_lookup(e->flows, &k, &reverse);
	if (f != NULL) {
		v = decide_inside_flow(e, f, p, reverse, reason);
		flow_update(e->flows, f, p, reverse, e->now);
	} else if (opens_connection(p)) {
		f = new_flow(e, &k, p, DIR_OUTBOUND);
		v = outbound_open(e, f, p, reason);
		flow_update(e->flows, f, p, false, e->now);
	} else {
		return drop(e, REASON_NO_STATE, reason);
	}
	e->pkt_flow = f;
	e->pkt_reverse = reverse;
	/* A connection allowed here but over the rate keeps its slot: its
	 * retransmitted SYN passes as established once bytes are free. */
	v = rate_cap(e, p, v, reason);
	if (v == VERDICT_DROP)
		f->dropped[reverse ? 1 : 0]++;
	if (p->is_fragment)
		frag_remember(e, p, v);
	return v;
}

/* s at o; returns the end.  For messages built by hand on the hot path. */
static char *
put_str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

/* One per inbound connection, so built without snprintf (a third of the
 * replay's instructions went to it). */
static void
note_inbound(struct engine *e, const struct fb_flow *f, const struct fb_packet *p)
{
	char a[FB_ADDRSTRLEN], msg[200], port[6], *o = msg, *d = port + sizeof(port);
	unsigned v = p->dport;

	o = put_str(o, "inbound ");
	o = put_str(o, p->proto == IPPROTO_TCP ? "tcp" : p->proto == IPPROTO_UDP ? "udp" :
	    (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) ? "icmp" : "ip");
	o = put_str(o, " connection from ");
	o = put_str(o, addr_fmt(&p->src, a));
	o = put_str(o, " to ");
	o = put_str(o, addr_fmt(&p->dst, a));
	o = put_str(o, " port ");
	*--d = '\0';
	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	o = put_str(o, d);
	*o = '\0';
	emit(e, PRIO_LOW, "inbound", msg, &p->dst, f, NULL, NULL);
}

static enum fb_verdict
decide_from_outside(struct engine *e, const struct fb_packet *p, bool src_in,
    enum fb_reason *reason)
{
	struct fb_flowkey k;
	struct fb_flow *f;
	bool reverse;

	if (src_in) {
		note_spoof(e, p, false);
		return drop(e, REASON_SPOOF_OUTSIDE, reason);
	}
	if (p->is_nd)
		return pass(REASON_L2, reason);
	if (!config_in_networks(e->cfg, &p->dst))
		return pass(REASON_EXTERNAL, reason);
	if (p->is_fragment && !p->first_fragment)
		return pass(REASON_INBOUND, reason);
	if (p->icmp_error || !flow_key_of(p, &k))
		return pass(REASON_INBOUND, reason);

	f = flow_lookup(e->flows, &k, &reverse);
	if (f == NULL) {
		f = new_flow(e, &k, p, DIR_INBOUND);
		f->verdict = VERDICT_FORWARD;
		f->reason = REASON_INBOUND;
		note_inbound(e, f, p);
		flow_update(e->flows, f, p, false, e->now);
		e->pkt_flow = f;
		e->pkt_reverse = false;
		return pass(REASON_INBOUND, reason);
	}
	flow_update(e->flows, f, p, reverse, e->now);
	e->pkt_flow = f;
	e->pkt_reverse = reverse;
	return pass(reverse ? REASON_REPLY : REASON_INBOUND, reason);
}

static enum fb_leg
infer_leg(struct engine *e, const struct fb_packet *p, bool src_in)
{
	struct fb_addr sender;

	if (p->ipver != 0)
		return src_in ? LEG_INSIDE : LEG_OUTSIDE;
	if (p->is_arp && arp_sender(p, &sender) && config_in_networks(e->cfg, &sender))
		return LEG_INSIDE;
	return LEG_OUTSIDE;
}

/* The verdict for one frame. */
static enum fb_verdict
decide(struct engine *e, struct fb_frame *fr, struct fb_packet *p, enum fb_reason *reason)
{
	bool malformed, src_in;

	e->pkt_flow = NULL;
	malformed = decode_frame(e->linktype, fr->data, fr->caplen, fr->wirelen, p) != 0;
	/* asked once: the leg, the spoofing checks and the direction need it */
	src_in = p->ipver != 0 && config_in_networks(e->cfg, &p->src);
	if (fr->leg == LEG_UNKNOWN)
		fr->leg = infer_leg(e, p, src_in);
	if (malformed) {
		note_malformed(e, p);
		/* A bad frame still has to pass the spoofing check. */
		if (p->ipver != 0) {
			bool inside = fr->leg == LEG_INSIDE;
			if (inside != src_in) {
				if (inside)
					note_spoof(e, p, true);
				return drop(e, inside ? REASON_SPOOF_INSIDE :
				    REASON_SPOOF_OUTSIDE, reason);
			}
		}
		if (e->cfg->malformed == MALFORMED_FORWARD && fr->leg == LEG_OUTSIDE)
			return pass(REASON_MALFORMED, reason);
		return drop(e, REASON_MALFORMED, reason);
	}
	if (p->is_arp)
		return decide_arp(e, p, fr->leg == LEG_INSIDE, reason);
	if (p->ipver == 0)
		return drop(e, REASON_NON_IP, reason);
	if (fr->leg == LEG_INSIDE)
		return decide_from_inside(e, p, src_in, reason);
	return decide_from_outside(e, p, src_in, reason);
}

/* Timers */

static void
check_kernel_drops(struct engine *e)
{
	struct io_stats st;
	uint64_t drops, openers;
	char msg[128], extra[160];

	memset(&st, 0, sizeof(st));
	e->io->ops->stats(e->io, &st);
	drops = st.kernel_drops[0] + st.kernel_drops[1];
	if (drops <= e->kernel_drops_seen)
		return;
	snprintf(msg, sizeof(msg), "%llu frames lost by the kernel before capture",
	    (unsigned long long)(drops - e->kernel_drops_seen));
	/* Which ring: the openers' holds a flood's frames and those of
	 * flows not yet known; the main one the known flows'. */
	openers = st.kernel_drops_openers[0] + st.kernel_drops_openers[1];
	snprintf(extra, sizeof(extra), "\"lost\":%llu,\"lost_total\":%llu,"
	    "\"lost_openers\":%llu,\"lost_main\":%llu",
	    (unsigned long long)(drops - e->kernel_drops_seen), (unsigned long long)drops,
	    (unsigned long long)(openers - e->kernel_drops_openers_seen),
	    (unsigned long long)((drops - e->kernel_drops_seen) -
	    (openers - e->kernel_drops_openers_seen)));
	emit(e, PRIO_CRITICAL, "capture", msg, NULL, NULL, NULL, extra);
	e->kernel_drops_seen = drops;
	e->kernel_drops_openers_seen = openers;
}

/*
 * Ring buffers a killed fishbowl left pinned that this one cannot read
 * (fastpath_adopt: not ours, not a ring buffer): the frames in them
 * crossed and are not in the capture.  How many is unknown; that there
 * are is alerted.
 */
static void
check_fast_pins(struct engine *e)
{
	struct io_stats st;
	char msg[200];

	memset(&st, 0, sizeof(st));
	e->io->ops->stats(e->io, &st);
	if (st.fast_pins_unreadable <= e->fast_pins_seen)
		return;
	snprintf(msg, sizeof(msg), "fast path: %llu ring buffers a fishbowl that "
	    "did not stop cleanly left pinned cannot be read: the frames in "
	    "them are not in the capture",
	    (unsigned long long)(st.fast_pins_unreadable - e->fast_pins_seen));
	emit(e, PRIO_CRITICAL, "capture", msg, NULL, NULL, NULL, NULL);
	e->fast_pins_seen = st.fast_pins_unreadable;
}

static void
tick(struct engine *e)
{
	bool low;

	if (e->now < e->next_tick)
		return;
	e->next_tick = e->now + TICK_NS;
	flow_expire(e->flows, e->now);
	control_tick(e->control, e->now);
	layers_tick(e->layers, e->now);
	low = capture_tick(e->capture, e->now);
	if (low && !e->low_space) {
		struct capture_stats cs;
		char msg[160];

		capture_stats(e->capture, &cs);
		snprintf(msg, sizeof(msg), "capture disk space low: %llu MB free, minimum %llu MB%s",
		    (unsigned long long)(cs.free_bytes >> 20),
		    (unsigned long long)(e->cfg->min_free_bytes >> 20),
		    e->cfg->on_failure == ON_FAILURE_BLOCK ? "; gateway closed" : "");
		emit(e, PRIO_CRITICAL, "capture", msg, NULL, NULL, NULL, NULL);
	} else if (!low && e->low_space) {
		emit(e, PRIO_MEDIUM, "capture", "capture disk space recovered", NULL, NULL,
		    NULL, NULL);
	}
	e->low_space = low;
	check_kernel_drops(e);
	check_fast_pins(e);
}

/* Capture failure: fail closed (or open, if configured), alerting once. */
static bool
capture_blocks(struct engine *e, bool failed)
{
	bool closed = e->cfg->on_failure == ON_FAILURE_BLOCK;

	if (failed && !e->capture_failing) {
		struct capture_stats cs;
		char msg[200];

		capture_stats(e->capture, &cs);
		snprintf(msg, sizeof(msg), "capture write failed (%llu frames lost so far)%s",
		    (unsigned long long)cs.lost_frames,
		    closed ? "; gateway closed until capture works" : "");
		emit(e, PRIO_CRITICAL, "capture", msg, NULL, NULL, NULL, NULL);
	} else if (!failed && e->capture_failing) {
		emit(e, PRIO_MEDIUM, "capture", "capture writing again", NULL, NULL, NULL, NULL);
	}
	e->capture_failing = failed;
	return closed && (failed || e->low_space);
}

static void
account(struct engine *e, const struct fb_frame *fr, enum fb_verdict v, enum fb_reason r)
{
	e->c.by_reason[r]++;
	if (v == VERDICT_FORWARD) {
		e->c.fwd_frames++;
		e->c.fwd_bytes += fr->wirelen;
	} else {
		e->c.drop_frames++;
		e->c.drop_bytes += fr->wirelen;
	}
}

/* The listed honeypots are shown by status before they send anything. */
static void
track_listed(struct engine *e)
{
	for (size_t i = 0; i < e->cfg->n_honeypots; i++)
		if (control_seen(e->control, &e->cfg->honeypots[i], e->now) == -1)
			log_warnx("honeypot table full: raise max_honeypots");
}

/* Replay: time starts with the first frame, so uptime is capture time. */
static void
replay_clock(struct engine *e, fb_ns ts)
{
	if (e->started == 0) {
		e->started = ts;
		e->now = ts;
		track_listed(e);
	}
	if (ts > e->now)
		e->now = ts;
}

/*
 * Which flows the kernel may file as known (known.h): only those whose
 * other end has answered in a way a flood cannot fake, so a flood cannot
 * mark its own frames known.  A connection out that data control allowed
 * (the honeypot is ours, its address checked against the leg); a TCP
 * connection in whose client acknowledged the honeypot's SYN or its next
 * sequence number (flow.c tcp_prove: a spoofed source never sees those
 * numbers); a UDP, ICMP echo or other exchange in that the honeypot
 * answered and the client then used again (a ping from outside: at its
 * second request).  The kernel looks ICMP up only for echoes; errors and
 * neighbour discovery go to the main ring whatever is marked.
 */
static bool
known_wanted(const struct fb_flow *f)
{
	if (f->dir == DIR_OUTBOUND)
		return f->verdict == VERDICT_FORWARD;
	if (f->dir != DIR_INBOUND)
		return false;
	if (f->key.proto == IPPROTO_TCP)
		return f->proven;
	return f->pkts[1] > 0 && f->pkts[0] >= 2;
}

/*
 * The fast path (fastpath.h) may forward a known flow's frames from a leg
 * when nothing data control does to them is left to decide: from outside,
 * always (inbound frames pass); from inside, only without a rate cap
 * (each byte out is charged to the honeypot's bucket, which the kernel
 * does not know).  The opener of a connection never takes it (known.h).
 */
static bool
fast_from_inside_ok(const struct engine *e)
{
	return e->cfg->rate_bps == 0;
}

/* The fast path runs: attached, and not suspended (open_outputs). */
static bool
fast_live(const struct engine *e)
{
	return e->io->fast != NULL && !e->fast_suspended;
}

/* A flow data control still forwards whole: open (no RST, not FIN both
 * ways), and allowed if it is one out. */
static bool
fast_may(const struct fb_flow *f)
{
	if (f->key.proto == IPPROTO_ICMP || f->key.proto == IPPROTO_ICMPV6)
		return false;		/* known.c: never the fast way */
	if (f->tcp_state == TCP_RESET || f->tcp_state == TCP_CLOSED)
		return false;
	return f->dir == DIR_INBOUND || f->verdict == VERDICT_FORWARD;
}

/* Set flow f's bits in the kernel on each direction that may be fast;
 * k's source side is the honeypot's for a connection out, the outside's
 * for one in. */
static void
fast_set_bits(struct engine *e, struct fb_flow *f)
{
	bool src_inside = f->dir == DIR_OUTBOUND;

	for (int back = 0; back < 2; back++) {
		bool from_inside = src_inside != (back != 0);

		if (from_inside && !fast_from_inside_ok(e))
			continue;
		known_set_fast(e->io->known, &f->key, back != 0,
		    from_inside ? LEG_INSIDE : LEG_OUTSIDE, true);
	}
}

/*
 * Mark flow f fast, new (it was just proven) or again (it was held, or
 * its mark went): only once this batch is sent and the rings were empty
 * when it was read (fast_mark_due).  A frame of f that crossed fast now
 * would overtake those of f still in fishbowl or in its rings -- a new
 * TCP connection's first data follows the very ACK that proves it -- and
 * TCP takes a reordering for a loss (known.c divert()).
 */
static void
fast_mark(struct engine *e, struct fb_flow *f)
{
	if (!fast_may(f) || f->no_fast)
		return;
	if (!f->fast || e->n_fast_due == 0 ||
	    e->fast_due[e->n_fast_due - 1] != f) {
		if (e->n_fast_due == BATCH_MAX)
			return;		/* marked again by a later frame */
		e->fast_due[e->n_fast_due] = f;
		e->fast_due_key[e->n_fast_due++] = f->key;
	}
	f->fast = true;
}

/*
 * Once the frames fishbowl forwarded have left (none still with the
 * sending thread), the last read emptied the rings (a full batch left
 * frames behind, maybe of these flows), they are still empty now (frames
 * filed while the batch was judged and sent: a bulk stream's held flow
 * has its next super-frame there within a hundred microseconds) and the
 * ring buffers have room again (at most a quarter full, or the kernel
 * would divert the flows at once): the flows marked since that are still
 * fast (not unmarked later, not ended and reused: the table's entries
 * stay put, so the key tells).
 */
static void
fast_mark_due(struct engine *e)
{
	if (e->n_fast_due == 0 || e->batch_full ||
	    (e->io->ops->all_sent != NULL && !e->io->ops->all_sent(e->io)) ||
	    !fastpath_roomy(e->io->fast))
		return;
	if (e->io->ops->rings_empty != NULL && !e->io->ops->rings_empty(e->io))
		return;
	for (int i = 0; i < e->n_fast_due; i++) {
		struct fb_flow *f = e->fast_due[i];

		if (f->fast && memcmp(&f->key, &e->fast_due_key[i], sizeof(f->key)) == 0) {
			fast_set_bits(e, f);
			e->c.fast_marks++;
		}
	}
	e->n_fast_due = 0;
}

/* Flow f's frames are judged before they cross again. */
static void
fast_unmark(struct engine *e, struct fb_flow *f)
{
	for (int back = 0; back < 2; back++)
		for (int leg = 0; leg < 2; leg++)
			known_set_fast(e->io->known, &f->key, back != 0, leg, false);
	f->fast = false;
}

/*
 * After each frame of a fast flow: once it is over (RST, FIN both ways)
 * or data control turned against it (a refused SYN on its ports), its
 * next frames are judged first: a honeypot over its limit must not send
 * on the ports of a connection that ended.
 */
static void
fast_check_flow(struct engine *e, struct fb_flow *f, enum fb_verdict v)
{
	if (f->fast && (v != VERDICT_FORWARD || !fast_may(f)))
		fast_unmark(e, f);
}

/* The outside leg's program reads the networks (the inbound fast path:
 * a frame from a source in none of them is the kernel's to forward). */
static void
fast_networks(struct engine *e)
{
	if (!fast_live(e) || e->io->known == NULL)
		return;
	known_set_inside_ok(e->io->known, fast_from_inside_ok(e));
	if (!known_set_networks(e->io->known, e->cfg->networks, e->cfg->n_networks))
		log_warnx("fast path: more networks than the kernel's table holds "
		    "(%d IPv4, %d in all): every frame from outside is judged "
		    "before it crosses", KNOWN_NETS4 - 1, KNOWN_NETS6 - 1);
}

/* After a frame of flow f was judged to be forwarded. */
static void
known_note(struct engine *e, const struct fb_frame *fr, const struct fb_packet *p,
    struct fb_flow *f)
{
	if (f->known) {
		bool remarked = false;

		/* Another flow took one of its slots: mark it again.  (Later
		 * fragments always come that way: they carry no ports.) */
		if (fr->unknown && !p->is_fragment) {
			if (known_remark(e->io->known, &f->key) > 0)
				e->c.known_remarks++;
			remarked = true;
		}
		/* A known flow's frame through the rings, or marked again:
		 * fast again if its mark went (marked again, a reload, a
		 * disagreement) and may be. */
		if (fast_live(e) && (remarked || !fr->forwarded) &&
		    !p->is_fragment &&
		    !(p->proto == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x02))
			fast_mark(e, f);
		return;
	}
	if (known_wanted(f)) {
		known_mark(e->io->known, &f->key);
		f->known = true;
		if (fast_live(e))
			fast_mark(e, f);
	}
}

/*
 * A frame the kernel forwarded (fast path) that policy would have
 * dropped: counted, and its flow leaves the fast path (its next frames
 * are judged before they cross).  A malformed frame of an allowed flow is
 * the known case: the kernel parsed its addresses and ports, the decoder
 * refused the rest.
 */
static void
fast_disagree(struct engine *e, struct fb_flow *f)
{
	e->c.fast_judged_drop++;
	if (f != NULL && f->known)
		fast_unmark(e, f);
}

/* The fast path's gate follows the gateway's: closed, the kernel drops
 * (and counts) the fast flows' frames instead of forwarding them. */
static bool
gate(struct engine *e, bool closed)
{
	if (e->io->fast != NULL && closed != e->fast_gate_closed) {
		fastpath_gate(e->io->fast, closed);
		e->fast_gate_closed = closed;
	}
	return closed;
}

static void
process_batch(struct engine *e, int n)
{
	struct fb_packet p;
	enum fb_reason reason;
	bool failed = false, crossed = e->opts.live;
	int i;

	e->batch_full = n == BATCH_MAX;
	for (i = 0; i < n; i++) {
		struct fb_frame *fr = &e->batch[i];
		enum fb_verdict v;

		crossed = crossed && fr->forwarded;

		if (!e->opts.live)
			replay_clock(e, fr->ts);
		tick(e);
		v = decide(e, fr, &p, &reason);
		if (fr->forwarded && v != VERDICT_FORWARD) {
			fast_disagree(e, e->pkt_flow);
			v = VERDICT_FORWARD;	/* it crossed */
		} else if (fast_live(e) && e->pkt_flow != NULL) {
			fast_check_flow(e, e->pkt_flow, v);
		}
		/* Longer than the kernel's fast path takes (a GSO
		 * super-frame past 64 KiB, BIG TCP): it held its flow (known.c
		 * divert()), which stays off the fast path rather than switch
		 * ways at every such frame. */
		if (e->pkt_flow != NULL && p.l3_len > KNOWN_FAST_MAXLEN)
			e->pkt_flow->no_fast = true;
		if (e->io->known != NULL && v == VERDICT_FORWARD && e->pkt_flow != NULL)
			known_note(e, fr, &p, e->pkt_flow);
		e->verdict[i] = (uint8_t)v;
		e->reason[i] = (uint8_t)reason;
		/* Here, not after forwarding: the flow this frame belongs to is
		 * the one decide() just saw, before a later frame's timers or
		 * evictions can end it.  Spoofed frames reached no one: were
		 * they reassembled, an attacker could write the other side's
		 * words into a transcript. */
		if (reason != REASON_SPOOF_INSIDE && reason != REASON_SPOOF_OUTSIDE)
			layers_packet(e->layers, &p, fr->ts, e->pkt_flow, e->pkt_reverse);
		if (capture_write(e->capture, fr->ts, fr->data, fr->caplen, fr->wirelen) != 0)
			failed = true;
	}
	/*
	 * Every frame crossed already, recorded first in the fast path's ring
	 * buffers, which keep them until the writer is done (io.h behind):
	 * the batch is written behind while the next one is read.  Frames
	 * still to be forwarded are in the file before they cross.
	 */
	if ((crossed ? capture_flush_behind(e->capture) :
	    capture_flush(e->capture)) != 0)
		failed = true;
	/* The disk is full: what crossed was written into the reserve; the
	 * gateway stays closed until the reserve is held again. */
	if (capture_reserve_spent(e->capture))
		failed = true;
	/* Counted only now: a forward withheld for capture is a drop. */
	if (gate(e, capture_blocks(e, failed))) {
		for (i = 0; i < n; i++) {
			if (e->batch[i].forwarded) {
				account(e, &e->batch[i], VERDICT_FORWARD,
				    (enum fb_reason)e->reason[i]);
			} else if (e->verdict[i] == VERDICT_FORWARD) {
				e->c.withheld++;
				account(e, &e->batch[i], VERDICT_DROP, REASON_CAPTURE_FAILED);
			} else {
				account(e, &e->batch[i], VERDICT_DROP,
				    (enum fb_reason)e->reason[i]);
			}
		}
		fast_mark_due(e);
		return;
	}
	for (i = 0; i < n; i++) {
		struct fb_frame *fr = &e->batch[i];

		account(e, fr, (enum fb_verdict)e->verdict[i], (enum fb_reason)e->reason[i]);
		if (e->verdict[i] == VERDICT_FORWARD && !fr->forwarded)
			e->io->ops->forward(e->io, fr,
			    fr->leg == LEG_INSIDE ? LEG_OUTSIDE : LEG_INSIDE);
	}
	e->io->ops->flush(e->io);
	fast_mark_due(e);
}

/* Life cycle */

static void
on_flow_end(struct fb_flow *f, enum fb_end end, void *arg)
{
	struct engine *e = arg;

	if (f->known && e->io->known != NULL)
		known_forget(e->io->known, &f->key);
	layers_flow_end(e->layers, f, e->now);
	event_conn(e->events, f, end_name(end), e->now);
}

static char *
path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = xcalloc(1, n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/*
 * What crosses the fast path must find room on a full disk: without the
 * reserve (a disk too full at start) the fast path is suspended, and
 * every frame is judged and written before it crosses, as without it.
 * (Records already in the ring buffers are read as always.)
 */
static void
fast_need_reserve(struct engine *e)
{
	struct capture_stats cs;

	if (e->io->fast == NULL || e->io->known == NULL)
		return;
	capture_stats(e->capture, &cs);
	if (cs.reserve)
		return;
	known_fast_suspend(e->io->known);
	e->fast_suspended = true;
	log_warnx("fast path suspended: no disk in reserve for what crosses it; "
	    "every frame is judged and written before it crosses");
}

static int
open_outputs(struct engine *e, char *err, size_t errlen)
{
	struct capture_opts co = {
		.dir = e->data_dir, .linktype = e->linktype,
		.rotate_bytes = e->cfg->rotate_bytes, .keep_days = e->cfg->keep_days,
		.min_free_bytes = e->cfg->min_free_bytes,
		.mapped_end = e->opts.live,
		/* Replay forwards nothing: its pcap can be written behind. */
		.writer_thread = !e->opts.live,
		/* Live, batches that crossed the fast path: written behind. */
		.behind_writer = e->opts.live && e->io->fast != NULL,
		/* What crossed the fast path before it was written must find
		 * room on a full disk. */
		.reserve_bytes = e->io->fast != NULL ? fastpath_bytes(e->io->fast) : 0,
	};
	char *state_dir;

	if (mkdir_p(e->data_dir, 0750) == -1) {
		snprintf(err, errlen, "%s: %s", e->data_dir, strerror(errno));
		return -1;
	}
	e->events = event_log_open(e->data_dir, e->opts.syslog_ident);
	if (e->events == NULL) {
		snprintf(err, errlen, "%s: cannot open the event logs", e->data_dir);
		return -1;
	}
	/* Lines gather and go out once per turn of engine_run (a batch). */
	event_log_buffered(e->events, true);
	/* Replay: the lines' write(2)s on the second core, as the pcap's. */
	if (!e->opts.live)
		event_log_writer_thread(e->events);
	e->capture = capture_open(&co);
	if (e->capture == NULL) {
		snprintf(err, errlen, "%s: cannot open the packet capture: %s",
		    e->data_dir, strerror(errno));
		return -1;
	}
	fast_need_reserve(e);
	if (e->opts.persist) {
		state_dir = path_join(e->data_dir, "state");
		if (mkdir_p(state_dir, 0750) == -1) {
			snprintf(err, errlen, "%s: %s", state_dir, strerror(errno));
			free(state_dir);
			return -1;
		}
		e->state_path = path_join(state_dir, "control.state");
		free(state_dir);
	}
	e->control = control_new(e->cfg, e->state_path, e->events, err, errlen);
	if (e->control == NULL)
		return -1;
	/* Before privileges are dropped: port 514 is privileged. */
	if (e->opts.live && e->cfg->n_listen > 0 &&
	    (e->logserver = logserver_open(e->cfg, e->events, err, errlen)) == NULL)
		return -1;
	return 0;
}

/* Replay from a mapped capture: the input says when its frames go away. */
static void
release_frames(void *arg)
{
	capture_release(arg);
}

/* Live: the input asks how many batches are still written behind. */
static unsigned
capture_behind_cb(void *arg)
{
	return capture_behind(arg);
}

static struct flow_table *
open_flows(struct engine *e)
{
	struct flow_timeouts to = {
		.tcp_embryonic = e->cfg->timeout_tcp_embryonic,
		.tcp_established = e->cfg->timeout_tcp_established,
		.tcp_closed = e->cfg->timeout_tcp_closed,
		.udp = e->cfg->timeout_udp,
		.other = e->cfg->timeout_other,
	};

	return flow_table_new(e->cfg->max_flows, &to, on_flow_end, e);
}

struct engine *
engine_new(struct fb_config *cfg, struct fb_io *io, const struct engine_opts *opts,
    char *err, size_t errlen)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->cfg = cfg;
	e->io = io;
	e->opts = *opts;
	e->data_dir = xstrdup(opts->data_dir ? opts->data_dir : cfg->capture_dir);
	e->linktype = io->ops->linktype(io);
	e->frags = xcalloc(FRAG_SLOTS, sizeof(*e->frags));
	e->frag_seed = addr_hash_seed(e->frags);
	e->started = opts->live ? time_now() : 0;
	e->now = e->started;
	if (open_outputs(e, err, errlen) == -1) {
		engine_free(e);
		return NULL;
	}
	/* Replay from a mapped file: long frames written from where they lie. */
	if (!opts->live && io->keeps_frames && capture_keep_frames(e->capture)) {
		io->release = release_frames;
		io->release_arg = e->capture;
	}
	/* Live, super-frames too: each batch is written (capture_flush)
	 * before the next one is read, while its frames are still there. */
	if (opts->live)
		capture_keep_frames(e->capture);
	if (opts->live) {
		io->behind = capture_behind_cb;
		io->behind_arg = e->capture;
	}
	e->flows = open_flows(e);
	if (e->flows == NULL) {
		snprintf(err, errlen, "cannot allocate a flow table of %u flows",
		    cfg->max_flows);
		engine_free(e);
		return NULL;
	}
	if (opts->live)
		track_listed(e);
	fast_networks(e);
	e->layers = layers_new(cfg, e->data_dir, e->events, e->flows);
	if (e->layers != NULL)
		logserver_set_layers(e->logserver, e->layers);
	return e;
}

const char *
engine_data_dir(const struct engine *e)
{
	return e->data_dir;
}

static void
engine_note(struct engine *e, const char *msg)
{
	if (e->events != NULL)
		emit(e, PRIO_MEDIUM, "engine", msg, NULL, NULL, NULL, NULL);
}

static void ctl_serve(struct engine *, int);

/*
 * Stopping with the fast path: the kernel stops forwarding first (the tc
 * programs detached), then every frame it recorded, which has crossed, is
 * read, judged and written before the capture closes.  (Frames still in
 * the rings have not crossed: they are read too, as they come.)
 */
static void
drain_fast(struct engine *e)
{
	int n, rounds = 0;

	if (e->io->fast == NULL)
		return;
	fastpath_detach(e->io->fast);
	while (rounds++ < 100000 &&
	    (n = e->io->ops->next_batch(e->io, e->batch, BATCH_MAX, 0)) > 0) {
		e->now = time_now();
		process_batch(e, n);
	}
}

int
engine_run(struct engine *e, volatile sig_atomic_t *stop,
    volatile sig_atomic_t *reload, int ctl_fd)
{
	fb_ns next_ctl = 0;
	char err[512];
	int n;

	if (e->opts.live)
		engine_note(e, "fishbowl started");
	while (stop == NULL || !*stop) {
		n = e->io->ops->next_batch(e->io, e->batch, BATCH_MAX, 100);
		if (e->opts.live)
			e->now = time_now();
		if (n < 0)
			break;
		if (n > 0)
			process_batch(e, n);
		else if (e->opts.live)
			tick(e);
		logserver_serve(e->logserver, e->now);
		if (reload != NULL && *reload) {
			*reload = 0;
			if (engine_reload(e, err, sizeof(err)) == -1)
				log_warnx("reload failed: %s", err);
		}
		if (ctl_fd >= 0 && time_mono() >= next_ctl) {
			next_ctl = time_mono() + 50 * FB_NS_PER_MSEC;
			ctl_serve(e, ctl_fd);
		}
		/* Live, lines go out every turn; replay lets them gather up to
		 * the buffer's size (a write(2) per 128 KiB, not per batch). */
		if (e->opts.live)
			event_flush(e->events);
	}
	drain_fast(e);
	event_flush(e->events);		/* in the status that follows */
	/* Replay's last batch may still be in the writer's hands. */
	if (capture_sync(e->capture) != 0)
		capture_blocks(e, true);
	return e->io->failed ? -1 : 0;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	if (e->flows != NULL) {
		flow_flush(e->flows);	/* ends every session into the layers */
		flow_table_free(e->flows);
	}
	layers_free(e->layers);
	if (e->control != NULL) {
		control_save(e->control);
		control_free(e->control);
	}
	if (e->opts.live && e->events != NULL)
		engine_note(e, "fishbowl stopped");
	if (e->io != NULL)
		e->io->release = NULL;	/* the capture goes first */
	if (e->capture != NULL)
		capture_close(e->capture);
	logserver_close(e->logserver);
	if (e->events != NULL)
		event_log_close(e->events);
	if (e->io != NULL)
		e->io->ops->close(e->io);
	free(e->frags);
	free(e->data_dir);
	free(e->state_path);
	free(e);
}

int
engine_unblock(struct engine *e, const struct fb_addr *a)
{
	return control_unblock(e->control, a, e->opts.live ? time_now() : e->now);
}

int
engine_reload(struct engine *e, char *err, size_t errlen)
{
	struct fb_config *ncfg = xcalloc(1, sizeof(*ncfg));

	if (config_load(e->cfg->path, ncfg, err, errlen) == -1) {
		free(ncfg);
		return -1;
	}
	if (strcmp(ncfg->outside, e->cfg->outside) != 0 ||
	    strcmp(ncfg->inside, e->cfg->inside) != 0 ||
	    strcmp(ncfg->capture_dir, e->cfg->capture_dir) != 0)
		log_warnx("reload: interfaces and capture dir changes need a restart");
	/* Swap the policy parts in place so every stage keeps its pointer. */
	{
		struct fb_config old = *e->cfg;

		*e->cfg = *ncfg;
		fb_strlcpy(e->cfg->outside, old.outside, sizeof(e->cfg->outside));
		fb_strlcpy(e->cfg->inside, old.inside, sizeof(e->cfg->inside));
		free(e->cfg->capture_dir);
		e->cfg->capture_dir = old.capture_dir;
		old.capture_dir = NULL;
		config_free(&old);
	}
	free(ncfg);
	control_reload(e->control, e->cfg);
	/* The rate cap may be back: every flow is judged again before it is
	 * fast again (known_note). */
	if (fast_live(e))
		known_unfast_all(e->io->known);
	fast_networks(e);
	track_listed(e);
	engine_note(e, "configuration reloaded");
	log_info("configuration reloaded from %s", e->cfg->path);
	return 0;
}

/* Status */

static void
status_honeypot_json(struct engine *e, const struct hp_status *hs, struct jbuf *jb)
{
	char a[FB_ADDRSTRLEN], lim[32];

	jb_obj_begin(jb, NULL);
	jb_str(jb, "addr", addr_fmt(&hs->addr, a));
	jb_str(jb, "state", hp_state_name(hs->state));
	jb_time(jb, "since", hs->since);
	jb_str(jb, "why", hs->why);
	jb_obj_begin(jb, "classes");
	for (int c = 0; c < CLASS_MAX; c++) {
		const struct hp_class_status *cs = &hs->cls[c];

		jb_obj_begin(jb, class_name((enum fb_class)c));
		limit_fmt(&e->cfg->limit[c], lim, sizeof(lim));
		jb_str(jb, "limit", lim);
		jb_u64(jb, "in_window", cs->in_window);
		jb_u64(jb, "total", cs->total);
		jb_u64(jb, "refused", cs->refused);
		jb_bool(jb, "blocked", cs->blocked);
		if (cs->blocked)
			jb_time(jb, "blocked_since", cs->blocked_since);
		if (cs->next_free)
			jb_time(jb, "next_free", cs->next_free);
		jb_obj_end(jb);
	}
	jb_obj_end(jb);
	jb_u64(jb, "bytes_out", hs->bytes_out);
	jb_u64(jb, "rate_dropped_frames", hs->rate_dropped_frames);
	jb_u64(jb, "rate_dropped_bytes", hs->rate_dropped_bytes);
	jb_obj_end(jb);
}

static void
status_totals_json(struct engine *e, struct jbuf *jb)
{
	struct flow_stats fs;
	struct capture_stats cs;
	struct event_stats es;
	struct io_stats is;

	flow_stats(e->flows, &fs);
	capture_stats(e->capture, &cs);
	event_stats(e->events, &es);
	memset(&is, 0, sizeof(is));
	e->io->ops->stats(e->io, &is);

	jb_obj_begin(jb, "totals");
	jb_obj_begin(jb, "forwarded");
	jb_u64(jb, "frames", e->c.fwd_frames);
	jb_u64(jb, "bytes", e->c.fwd_bytes);
	jb_obj_end(jb);
	jb_obj_begin(jb, "dropped");
	jb_u64(jb, "frames", e->c.drop_frames);
	jb_u64(jb, "bytes", e->c.drop_bytes);
	jb_u64(jb, "withheld_capture_failed", e->c.withheld);
	jb_obj_begin(jb, "by_reason");
	for (int r = REASON_LIMIT; r < REASON_MAX; r++)
		if (e->c.by_reason[r])
			jb_u64(jb, reason_name((enum fb_reason)r), e->c.by_reason[r]);
	jb_obj_end(jb);
	jb_obj_end(jb);
	jb_obj_begin(jb, "passed_by_reason");
	for (int r = 0; r < REASON_LIMIT; r++)
		if (e->c.by_reason[r])
			jb_u64(jb, reason_name((enum fb_reason)r), e->c.by_reason[r]);
	jb_obj_end(jb);
	jb_obj_begin(jb, "malformed");
	for (int m = 1; m < MAL_MAX; m++)
		if (e->c.malformed[m])
			jb_u64(jb, malformed_name((enum fb_malformed)m), e->c.malformed[m]);
	jb_obj_end(jb);
	jb_obj_begin(jb, "flows");
	jb_u64(jb, "active", fs.active);
	jb_u64(jb, "max", fs.max);
	jb_u64(jb, "created", fs.created);
	jb_u64(jb, "timed_out", fs.timed_out);
	jb_u64(jb, "evicted", fs.evicted);
	jb_obj_end(jb);
	jb_obj_begin(jb, "capture");
	jb_u64(jb, "frames", cs.frames);
	jb_u64(jb, "bytes", cs.bytes);
	jb_u64(jb, "files", cs.files);
	jb_u64(jb, "lost_frames", cs.lost_frames);
	jb_u64(jb, "write_errors", cs.write_errors);
	/* Batches that crossed the fast path, written behind the engine,
	 * and their bytes that went around the page cache (O_DIRECT). */
	jb_u64(jb, "behind_batches", cs.behind_batches);
	jb_u64(jb, "direct_bytes", cs.direct_bytes);
	jb_u64(jb, "kernel_drops", is.kernel_drops[0] + is.kernel_drops[1]);
	/* Split: a SYN flood overflows the openers' ring, not the other. */
	jb_u64(jb, "kernel_drops_openers",
	    is.kernel_drops_openers[0] + is.kernel_drops_openers[1]);
	jb_u64(jb, "kernel_drops_other",
	    is.kernel_drops[0] + is.kernel_drops[1] -
	    is.kernel_drops_openers[0] - is.kernel_drops_openers[1]);
	jb_u64(jb, "free_bytes", cs.free_bytes);
	jb_bool(jb, "low_space", cs.low_space);
	jb_bool(jb, "failing", e->capture_failing);
	/* The fast path's disk reserve (capture.h): held, or spent (full). */
	jb_bool(jb, "reserve", cs.reserve);
	jb_bool(jb, "reserve_spent", cs.reserve_spent);
	jb_str(jb, "file", cs.current);
	jb_obj_end(jb);
	jb_obj_begin(jb, "io");
	jb_u64(jb, "rx_frames_outside", is.rx_frames[LEG_OUTSIDE]);
	jb_u64(jb, "rx_frames_inside", is.rx_frames[LEG_INSIDE]);
	jb_u64(jb, "tx_frames_outside", is.tx_frames[LEG_OUTSIDE]);
	jb_u64(jb, "tx_frames_inside", is.tx_frames[LEG_INSIDE]);
	jb_u64(jb, "tx_errors", is.tx_errors[0] + is.tx_errors[1]);
	jb_bool(jb, "openers_ring", is.openers_ring[0] && is.openers_ring[1]);
	jb_u64(jb, "rx_frames_openers", is.rx_openers[0] + is.rx_openers[1]);
	/* The openers' ring takes every frame of a flow not yet known. */
	jb_bool(jb, "known_filter", is.known_filter[0] && is.known_filter[1]);
	jb_u64(jb, "known_marks", e->io->known != NULL ? e->io->known->marks : 0);
	jb_u64(jb, "known_remarks", e->c.known_remarks);
	/* The fast path: frames the kernel recorded and forwarded itself. */
	jb_bool(jb, "fast_path", is.fast_path && !e->fast_suspended);
	jb_bool(jb, "fast_suspended", e->fast_suspended);
	jb_u64(jb, "fast_frames", is.fast_frames[0] + is.fast_frames[1]);
	jb_u64(jb, "fast_frames_outside", is.fast_frames[LEG_OUTSIDE]);
	jb_u64(jb, "fast_frames_inside", is.fast_frames[LEG_INSIDE]);
	jb_u64(jb, "fast_drops", is.fast_drops[0] + is.fast_drops[1]);
	/* Of fast_frames: read from ring buffers a killed fishbowl left. */
	jb_u64(jb, "fast_recovered", is.fast_recovered[0] + is.fast_recovered[1]);
	/* Pinned ring buffers found that could not be read: frames lost. */
	jb_u64(jb, "fast_pins_unreadable", is.fast_pins_unreadable);
	jb_u64(jb, "fast_marks", e->c.fast_marks);
	jb_u64(jb, "fast_judged_drop", e->c.fast_judged_drop);
	jb_bool(jb, "fast_gate_closed", e->fast_gate_closed);
	jb_obj_end(jb);
	jb_obj_begin(jb, "events");
	jb_u64(jb, "low", es.events[PRIO_LOW]);
	jb_u64(jb, "medium", es.events[PRIO_MEDIUM]);
	jb_u64(jb, "high", es.events[PRIO_HIGH]);
	jb_u64(jb, "critical", es.events[PRIO_CRITICAL]);
	jb_u64(jb, "conn_records", es.conn_records);
	jb_u64(jb, "write_errors", es.write_errors);
	jb_obj_end(jb);
	jb_obj_end(jb);
}

void
engine_status_json(struct engine *e, struct jbuf *jb)
{
	fb_ns now = e->opts.live ? time_now() : e->now;
	struct hp_status hs;
	size_t n = control_count(e->control);

	jb_begin(jb);
	jb_bool(jb, "running", true);
	jb_i64(jb, "uptime_s", (now - e->started) / FB_NS_PER_SEC);
	jb_str(jb, "config", e->cfg->path);
	jb_str(jb, "data_dir", e->data_dir);
	jb_arr_begin(jb, "honeypots");
	for (size_t i = 0; i < n; i++) {
		control_status(e->control, i, now, &hs);
		status_honeypot_json(e, &hs, jb);
	}
	jb_arr_end(jb);
	status_totals_json(e, jb);
	layers_status_json(e->layers, jb);
	logserver_status_json(e->logserver, jb);
	jb_end(jb);
}

void
engine_status_text(struct engine *e, struct jbuf *jb)
{
	fb_ns now = e->opts.live ? time_now() : e->now;
	size_t n = control_count(e->control);
	struct hp_status hs;
	struct flow_stats fs;
	struct capture_stats cs;
	struct io_stats is;
	char a[FB_ADDRSTRLEN], t[32], lim[32];

	flow_stats(e->flows, &fs);
	capture_stats(e->capture, &cs);
	memset(&is, 0, sizeof(is));
	e->io->ops->stats(e->io, &is);
	jb_reset(jb);
	jb_printf(jb, "fishbowl: running %llds, data in %s\n",
	    (long long)((now - e->started) / FB_NS_PER_SEC), e->data_dir);
	jb_printf(jb, "\nhoneypots: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		control_status(e->control, i, now, &hs);
		time_iso(hs.since, t);
		jb_printf(jb, "  %-39s %-11s since %s  %s\n", addr_fmt(&hs.addr, a),
		    hp_state_name(hs.state), t, hs.why);
		for (int c = 0; c < CLASS_MAX; c++) {
			const struct hp_class_status *k = &hs.cls[c];

			if (k->total == 0 && k->refused == 0)
				continue;
			limit_fmt(&e->cfg->limit[c], lim, sizeof(lim));
			jb_printf(jb, "    %-5s %u in window (limit %s), %llu total, %llu refused",
			    class_name((enum fb_class)c), k->in_window, lim,
			    (unsigned long long)k->total, (unsigned long long)k->refused);
			if (k->blocked) {
				time_iso(k->blocked_since, t);
				jb_printf(jb, ", BLOCKED since %s", t);
			}
			jb_printf(jb, "\n");
		}
		if (hs.rate_dropped_frames)
			jb_printf(jb, "    rate cap dropped %llu frames, %llu bytes\n",
			    (unsigned long long)hs.rate_dropped_frames,
			    (unsigned long long)hs.rate_dropped_bytes);
	}
	jb_printf(jb, "\nforwarded: %llu frames, %llu bytes\n",
	    (unsigned long long)e->c.fwd_frames, (unsigned long long)e->c.fwd_bytes);
	jb_printf(jb, "dropped:   %llu frames, %llu bytes\n",
	    (unsigned long long)e->c.drop_frames, (unsigned long long)e->c.drop_bytes);
	for (int r = REASON_LIMIT; r < REASON_MAX; r++)
		if (e->c.by_reason[r])
			jb_printf(jb, "  %-28s %llu\n", reason_name((enum fb_reason)r),
			    (unsigned long long)e->c.by_reason[r]);
	jb_printf(jb, "flows:     %llu active of %llu, %llu evicted\n",
	    (unsigned long long)fs.active, (unsigned long long)fs.max,
	    (unsigned long long)fs.evicted);
	jb_printf(jb, "capture:   %llu frames, %llu lost, %llu kernel drops "
	    "(%llu openers, %llu other), %llu write errors%s\n",
	    (unsigned long long)cs.frames, (unsigned long long)cs.lost_frames,
	    (unsigned long long)(is.kernel_drops[0] + is.kernel_drops[1]),
	    (unsigned long long)(is.kernel_drops_openers[0] + is.kernel_drops_openers[1]),
	    (unsigned long long)(is.kernel_drops[0] + is.kernel_drops[1] -
	    is.kernel_drops_openers[0] - is.kernel_drops_openers[1]),
	    (unsigned long long)cs.write_errors, cs.low_space ? ", DISK SPACE LOW" : "");
	jb_printf(jb, "           file %s\n", cs.current);
	if (!e->opts.live)
		return;
	if (is.openers_ring[0] && is.openers_ring[1])
		jb_printf(jb, "rings:     main and openers' per leg, the openers' for %s; "
		    "%llu frames through it, %llu flows marked known\n",
		    is.known_filter[0] && is.known_filter[1] ?
		    "flows not yet known" : "connection openers",
		    (unsigned long long)(is.rx_openers[0] + is.rx_openers[1]),
		    (unsigned long long)(e->io->known != NULL ? e->io->known->marks : 0));
	else
		jb_printf(jb, "rings:     one per leg (no openers' ring)\n");
	if (is.fast_path && e->fast_suspended)
		jb_printf(jb, "fast path: suspended (no disk in reserve for it)\n");
	else if (is.fast_path)
		jb_printf(jb, "fast path: %llu frames recorded and forwarded by the "
		    "kernel, %llu dropped there (no room, or gateway closed), "
		    "%llu that policy would drop\n",
		    (unsigned long long)(is.fast_frames[0] + is.fast_frames[1]),
		    (unsigned long long)(is.fast_drops[0] + is.fast_drops[1]),
		    (unsigned long long)e->c.fast_judged_drop);
	if (is.fast_recovered[0] + is.fast_recovered[1] > 0)
		jb_printf(jb, "fast path: %llu frames recovered from the ring buffers "
		    "a fishbowl killed before left (pinned)\n",
		    (unsigned long long)(is.fast_recovered[0] + is.fast_recovered[1]));
	if (is.fast_pins_unreadable > 0)
		jb_printf(jb, "fast path: %llu pinned ring buffers a fishbowl "
		    "killed before left cannot be read: their frames are lost\n",
		    (unsigned long long)is.fast_pins_unreadable);
}

/* Control socket: one request line per connection, answer, close. */

/* Non-blocking writes with a short poll: a client that stops reading
 * must not stall the gateway. */
static void
ctl_reply(int fd, const char *s, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (poll(&pfd, 1, 500) != 1)
				return;
			continue;
		}
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
ctl_handle(struct engine *e, int fd, char *req)
{
	struct jbuf jb;
	struct fb_addr a;
	char msg[600];

	req[strcspn(req, "\r\n")] = '\0';
	jb_init(&jb);
	if (strcmp(req, "status") == 0) {
		engine_status_text(e, &jb);
		ctl_reply(fd, jb.p, jb.len);
	} else if (strcmp(req, "status-json") == 0) {
		engine_status_json(e, &jb);
		ctl_reply(fd, jb.p, jb.len);
	} else if (strncmp(req, "unblock ", 8) == 0) {
		if (addr_parse(req + 8, &a) == -1)
			snprintf(msg, sizeof(msg), "error: not an address\n");
		else if (engine_unblock(e, &a) == -1)
			snprintf(msg, sizeof(msg), "error: %.64s is not a known honeypot\n", req + 8);
		else
			snprintf(msg, sizeof(msg), "ok: %.64s unblocked\n", req + 8);
		ctl_reply(fd, msg, strlen(msg));
	} else if (strcmp(req, "reload") == 0) {
		char err[512];

		if (engine_reload(e, err, sizeof(err)) == -1)
			snprintf(msg, sizeof(msg), "error: %s\n", err);
		else
			snprintf(msg, sizeof(msg), "ok: reloaded\n");
		ctl_reply(fd, msg, strlen(msg));
	} else {
		snprintf(msg, sizeof(msg), "error: unknown request\n");
		ctl_reply(fd, msg, strlen(msg));
	}
	jb_free(&jb);
}

static void
ctl_serve(struct engine *e, int lfd)
{
	char req[256];
	struct pollfd pfd;
	size_t len;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		len = 0;
		pfd.fd = fd;
		pfd.events = POLLIN;
		/* The client writes its line at once; do not let it stall us. */
		while (len < sizeof(req) - 1 && poll(&pfd, 1, 200) == 1) {
			ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);

			if (r <= 0)
				break;
			len += (size_t)r;
			if (memchr(req, '\n', len) != NULL)
				break;
		}
		req[len] = '\0';
		if (len > 0)
			ctl_handle(e, fd, req);
		close(fd);
	}
}
