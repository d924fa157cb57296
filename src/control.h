/*
 * control: data control.  Decides, for each new connection and each byte a
 * honeypot sends out, whether it may cross, and keeps each honeypot's state.
 *
 * Promises:
 * - Outbound connection limits are exact sliding windows: per honeypot and
 *   class, at most n connections are allowed in any period-long span (never
 *   n+1), by remembering the times of the last n allowed ones.  "total"
 *   (period 0) holds until control_unblock().
 * - States clean -> compromised (first outbound connection) -> contained
 *   (a limit reached) -> compromised (window frees it, or unblock); one event
 *   per transition, plus a HIGH event per forwarded outbound connection and
 *   one CRITICAL "blocked" event per block episode.
 * - The per-honeypot rate cap is a token bucket over all bytes sent out.
 * - State that limits connections is saved to the state file before the
 *   verdict that changes it is returned (write to a temporary file, rename),
 *   so a kill -9 can never forget a counted connection; if the save fails the
 *   connection is refused (fail closed).
 * - Bounded: at most max_honeypots states; when full, new outbound
 *   connections from untracked honeypots are refused (fail closed).
 */
#ifndef FB_CONTROL_H
#define FB_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "event.h"
#include "util.h"

enum fb_verdict { VERDICT_FORWARD, VERDICT_DROP };

#define FB_REASON_LIST(X)						\
	X(INBOUND,	"inbound")	/* from outside: always passes */\
	X(REPLY,	"reply")	/* part of a tracked connection */\
	X(ESTABLISHED,	"established")					\
	X(WITHIN_LIMIT,	"within-limit")	/* new outbound, counted */	\
	X(ALLOWED,	"class-allowed") /* class limit is allow */	\
	X(EXEMPT,	"exempt")	/* destination listed exempt */	\
	X(ON_LIMIT_ALERT, "over-limit-alert-only")			\
	X(L2,		"l2")		/* ARP, neighbour discovery */	\
	X(INTERNAL,	"internal")					\
	X(LIMIT,	"limit")	/* over the limit: blocked */	\
	X(CLASS_BLOCKED, "class-blocked") /* class limit is block */	\
	X(DENY,		"deny")						\
	X(SPOOF_INSIDE,	"spoofed-source-inside")			\
	X(SPOOF_OUTSIDE, "spoofed-source-outside")			\
	X(RATE,		"rate")						\
	X(NO_STATE,	"no-state")	/* honeypot mid-stream TCP, no flow */\
	X(ICMP_UNRELATED, "icmp-error-unrelated")			\
	X(MALFORMED,	"malformed")					\
	X(NON_IP,	"non-ip")					\
	X(CAPTURE_FAILED, "capture-failed")				\
	X(STATE_SAVE,	"state-save-failed")				\
	X(TABLE_FULL,	"honeypot-table-full")				\
	X(SEBEK,	"sebek")					\
	X(EXTERNAL,	"external")

enum fb_reason {
#define X(name, text) REASON_##name,
	FB_REASON_LIST(X)
#undef X
	REASON_MAX
};
const char *reason_name(enum fb_reason);

enum fb_hp_state { HP_CLEAN, HP_COMPROMISED, HP_CONTAINED };
const char *hp_state_name(enum fb_hp_state);

struct hp_class_status {
	uint32_t	 in_window;	/* connections counted in the current window */
	uint64_t	 total;		/* counted since first seen */
	uint64_t	 refused;	/* new connections dropped */
	bool		 blocked;
	fb_ns		 blocked_since;
	fb_ns		 next_free;	/* when the window next allows one (0 = now / never) */
};

struct hp_status {
	struct fb_addr	 addr;
	enum fb_hp_state state;
	fb_ns		 since;
	char		 why[128];
	struct hp_class_status cls[CLASS_MAX];
	uint64_t	 rate_dropped_frames;
	uint64_t	 rate_dropped_bytes;
	uint64_t	 bytes_out;
};

struct control;

/*
 * state_path: file for windows and blocks (NULL: keep in memory only).
 * Loads it if it exists (a corrupt file is an error: fail closed).
 * Returns NULL with a message in err on failure.
 */
struct control *control_new(const struct fb_config *, const char *state_path,
	    struct event_log *, char *err, size_t errlen);
void	 control_free(struct control *);
/* Apply a new config (limits, rate, exempt, deny); windows and blocks kept. */
void	 control_reload(struct control *, const struct fb_config *);

/*
 * A honeypot opens a new outbound connection of class cls to dst (proto,
 * dport).  Returns the verdict; *reason says why.  Counts it when forwarded.
 * flow may be NULL; it is used for the event text.
 */
enum fb_verdict control_outbound(struct control *, const struct fb_addr *hp,
	    enum fb_class cls, const struct fb_addr *dst, uint8_t proto,
	    uint16_t dport, const struct fb_flow *flow, fb_ns now, enum fb_reason *reason);

/* A honeypot sends bytes out (any frame leaving it): the rate cap. */
enum fb_verdict control_rate(struct control *, const struct fb_addr *hp,
	    uint32_t bytes, fb_ns now);

/* Timers: windows freeing honeypots (state transitions), state save. */
void	 control_tick(struct control *, fb_ns now);

/* Operator: forget the windows and blocks of hp.  0, or -1 if unknown. */
int	 control_unblock(struct control *, const struct fb_addr *hp, fb_ns now);

/*
 * A honeypot exists (listed in the config, or seen sending): track it from
 * now on, state clean, so status shows it before it opens anything.
 * Counts nothing.  0, or -1 if the table is full.
 */
int	 control_seen(struct control *, const struct fb_addr *hp, fb_ns now);

/* Status: number of honeypots known, and each one's status. */
size_t	 control_count(const struct control *);
void	 control_status(struct control *, size_t i, fb_ns now, struct hp_status *);
/* Flush the state file now (also on shutdown). 0 or -1. */
int	 control_save(struct control *);

#endif
