/*
 * layers: the capture layers above the pcap ("Data capture" in DESIGN.md):
 * IP defragmentation, TCP stream reassembly, session transcripts,
 * keystrokes, IRC, carved files, Sebek records, syslog seen on the wire.
 *
 * Promises: the engine hands every decoded frame here after its verdict,
 * forwarded or dropped, live and in replay alike, and nothing here can
 * change a verdict or hold up forwarding; memory is bounded by
 * configuration ([layers] memory_mb for reassembly, per-layer caps), and
 * disk by per-day budgets that each layer asks before writing: [layers]
 * disk_mb for transcripts and carved files, and for each layer that writes
 * a record per thing seen (sebek.jsonl, syslog.jsonl, irc.jsonl) its own
 * share of disk_mb / LAYERS_REC_SHARE, so a flood of forged records fills
 * neither the disk nor another layer's budget; when a budget is hit a layer
 * degrades and says so (counted, shown in status, alerted once per day per
 * budget) while pcap capture and containment carry on.  Outputs go into the day folder of the data they
 * describe, DIR/YYYY-MM-DD/.
 *
 * Every layer module keeps its state behind one pointer in struct layers
 * and adds one line to each of layers_new, layers_free, layers_status_json.
 */
#ifndef FB_LAYERS_H
#define FB_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"
#include "event.h"
#include "flow.h"
#include "util.h"

struct stream_pool;
struct defrag;
struct keylog;
struct ftp_links;
struct carver;
struct sebek;
struct irc_totals;
struct syslog_sink;

struct layers_stats {
	uint64_t	 tcp_no_flow;		/* segments of flows the table no longer has */
	uint64_t	 sessions;		/* connections that carried data */
	uint64_t	 disk_refused;		/* writes refused by the day's budget */
	uint64_t	 disk_used;		/* bytes written today by budgeted layers */
	uint64_t	 evasion_events;	/* conflict alerts raised */
	/* session.c, keys.c, telnet.c */
	uint64_t	 sessions_logged;	/* sessions.jsonl lines */
	uint64_t	 transcripts;		/* transcript files created */
	uint64_t	 transcripts_truncated;	/* cut by the cap or the budget */
	uint64_t	 transcript_errors;	/* transcripts that failed to write */
	uint64_t	 keystroke_lines;	/* keystrokes.jsonl lines */
	uint64_t	 telnet_sb_overlong;	/* subnegotiations cut at SB_MAX */
};

/* The record-writing layers, each with its own day budget. */
enum layers_rec { LREC_SEBEK, LREC_SYSLOG, LREC_IRC, LREC_KEYS, LREC_N };
#define LAYERS_REC_SHARE	16	/* each gets disk_mb / 16 a day */

struct layers_rec_budget {
	uint64_t	 used;		/* bytes written today */
	uint64_t	 refused;	/* records refused today */
	bool		 alerted;
};

struct layers {
	const struct fb_config	*cfg;
	char			*data_dir;
	struct event_log	*events;
	struct flow_table	*flows;
	struct layers_stats	 st;
	int64_t			 disk_day;	/* UTC day the budget counts */
	int64_t			 name_day;	/* layers_day: the day last named */
	bool			 name_valid;
	char			 name[11];	/* ... as YYYY-MM-DD */
	bool			 disk_alerted;
	struct layers_rec_budget rec[LREC_N];

	/* Module state, each owned by its module. */
	struct stream_pool	*streams;	/* stream.c */
	struct defrag		*defrag;	/* defrag.c */
	struct keylog		*keys;		/* keys.c */
	struct ftp_links	*ftp;		/* ftp.c: expected data connections */
	struct carver		*carver;	/* files.c */
	struct sebek		*sebek;		/* sebek.c */
	struct irc_totals	*irc;		/* irc.c, made by its first connection */
	struct syslog_sink	*wire_syslog;	/* syslogmsg.c: UDP 514 on the wire */
	struct session		*unwritten[2];	/* session.c: head, tail of transcripts
						 * with bytes to write, oldest first */
};

/* NULL when cfg->layers is off. */
struct layers *layers_new(const struct fb_config *, const char *data_dir,
	    struct event_log *, struct flow_table *);
/* Call after the flow table was flushed (flows end into the layers). */
void	 layers_free(struct layers *);

/* One decoded frame (p->malformed frames are ignored), at packet time ts.
 * f: the flow the engine found or made for p just now, reverse its
 * direction (saves a lookup per TCP segment), or NULL: the layers look it
 * up.  A fragment's flow is looked up once its datagram is whole. */
void	 layers_packet(struct layers *, const struct fb_packet *, fb_ns ts,
	    struct fb_flow *f, bool reverse);
/* The flow table's on_end: finish the connection's session. */
void	 layers_flow_end(struct layers *, struct fb_flow *, fb_ns now);
void	 layers_tick(struct layers *, fb_ns now);
/* The "layers" member of fishbowl status --json. */
void	 layers_status_json(struct layers *, struct jbuf *);

/* A shell command line seen in syslog (a syslog_command_fn, arg the
 * layers): a keystrokes.jsonl line with source "syslog". */
struct syslog_origin;
struct syslog_msg;
void	 layers_syslog_command(void *, fb_ns, const struct syslog_origin *,
	    const struct syslog_msg *, const uint8_t *cmd, size_t n);

/* For the modules. */

/* May a layer write n more bytes on the day of ts?  Counts what it grants;
 * a refusal is counted and alerted once per day. */
bool	 layers_disk_take(struct layers *, fb_ns ts, uint64_t n);
/* May a record layer write a record of n bytes on the day of ts?  Its own
 * share of the day (LAYERS_REC_SHARE), counted and alerted as above. */
bool	 layers_record_take(struct layers *, enum layers_rec, fb_ns ts, uint64_t n);
/* Append one whole line to DIR/DAY/name (e.g. "irc.jsonl") for the day of ts. */
int	 layers_append(struct layers *, fb_ns ts, const char *name,
	    const char *line, size_t len);
/* DIR/DAY/sub (created) for the day of ts into buf; 0 or -1. */
int	 layers_day_dir(struct layers *, fb_ns ts, const char *sub, char *buf,
	    size_t len);
/* YYYY-MM-DD of ts (UTC), valid until the next call. */
const char *layers_day(struct layers *, fb_ns ts);
/* DIR/DAY/sub for the day of ts into buf, not created; 0 or -1. */
int	 layers_day_path(struct layers *, fb_ns ts, const char *sub, char *buf,
	    size_t len);
/* open(2) of DIR/DAY/sub/name (its path into path), creating DIR/DAY/sub
 * only when the open says it is missing; a descriptor or -1 (errno). */
int	 layers_day_open(struct layers *, fb_ns ts, const char *sub, const char *name,
	    int flags, unsigned mode, char *path, size_t len);
/* An event in alerts.jsonl (honeypot and flow optional). */
void	 layers_event(struct layers *, fb_ns ts, enum fb_prio, const char *type,
	    const char *msg, const struct fb_addr *honeypot, const struct fb_flow *,
	    const char *extra_json);

#endif
