/*
 * event: events, alerts and the day folder's JSON-lines logs.
 *
 * Promises: every event is one JSON object on one line of
 * DIR/YYYY-MM-DD/alerts.jsonl (the UTC day of the event's time); every ended
 * connection one line of DIR/YYYY-MM-DD/conn.jsonl; lines are written whole
 * with a single write(2), so a crash never leaves a torn line except the
 * very last; CRITICAL events and honeypot state transitions also go to
 * syslog(3) at once.  A write that fails is counted (and the first failure
 * of an episode logged), never silently dropped.  Field names are stable:
 * docs/formats.md lists them.
 */
#ifndef FB_EVENT_H
#define FB_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "flow.h"
#include "util.h"

enum fb_prio {
	PRIO_LOW,		/* inbound probes and connections */
	PRIO_MEDIUM,		/* spoofing, malformed, rate cap, capture trouble */
	PRIO_HIGH,		/* outbound connection forwarded: a compromise */
	PRIO_CRITICAL		/* a honeypot blocked, capture lost, fail-closed */
};
const char *prio_name(enum fb_prio);

struct fb_event {
	fb_ns		 ts;
	enum fb_prio	 prio;
	const char	*type;		/* stable token, e.g. "outbound", "blocked", "state" */
	const char	*msg;		/* one human sentence */
	bool		 has_honeypot;
	struct fb_addr	 honeypot;
	bool		 to_syslog;	/* state transitions: also to syslog */
	const struct fb_flow *flow;	/* optional: the connection concerned */
	const struct fb_packet *pkt;	/* optional: the packet concerned (addresses, ports) */
	/* optional extra members, already-escaped JSON object body without braces
	 * (e.g. "\"class\":\"tcp\",\"limit\":\"5/hour\""), or NULL */
	const char	*extra_json;
};

struct event_stats {
	uint64_t	events[PRIO_CRITICAL + 1];
	uint64_t	conn_records;
	uint64_t	write_errors;	/* lines that could not be written */
};

struct event_log;

/* dir: the data directory; syslog_ident NULL = no syslog (replay, tests). */
struct event_log *event_log_open(const char *dir, const char *syslog_ident);
void	 event_log_close(struct event_log *);
/*
 * Buffered: lines gather per file and are written (whole, one write(2) per
 * file) by event_flush, or when a file's buffer is full, or at close.  The
 * engine flushes at every turn of its loop, so a line is at most a batch
 * late.  Off (the default): every line is written at once.
 */
void	 event_log_buffered(struct event_log *, bool on);
/*
 * Replay (buffered): full buffers are written by a thread of their own
 * while the engine goes on (see event.c); a failed write is counted a
 * hand-over late.  event_flush and event_log_close wait for it.
 */
void	 event_log_writer_thread(struct event_log *);
void	 event_flush(struct event_log *);
void	 event_emit(struct event_log *, const struct fb_event *);
/* One conn.jsonl record for a flow that ended (or was blocked). */
void	 event_conn(struct event_log *, const struct fb_flow *, const char *end_reason,
	    fb_ns now);
void	 event_stats(const struct event_log *, struct event_stats *);

/*
 * Append one complete line to DIR/DAY/name for the day of t (creating the
 * day folder).  Shared by the later capture layers.  0 or -1 (counted).
 */
int	 event_append(struct event_log *, fb_ns t, const char *name,
	    const char *line, size_t len);

#endif
