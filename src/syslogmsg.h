/*
 * syslogmsg: the syslog message parser (RFC 3164 and RFC 5424) and the
 * syslog.jsonl writer shared by the wire path (UDP 514 seen crossing the
 * bridge, layers.c) and the remote log server (logserver.c).
 *
 * Promises: syslog_parse reads only [p, p + n), never allocates, never
 * fails: whatever it is given becomes a message (missing PRI, garbage, NUL
 * bytes are tolerated, flagged and counted by the sink); parsed fields
 * point into the input.  The sink writes one JSON line per message to
 * DIR/DAY/syslog.jsonl (day of the receive time) with every field escaped
 * by jbuf (within the syslog share of the day's disk budget, layers.h, when
 * the sink has one), and recognises shell command lines (syslog_command) so they can
 * become keystroke lines.  docs/formats.md "syslog.jsonl" lists the fields.
 */
#ifndef FB_SYSLOGMSG_H
#define FB_SYSLOGMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "decode.h"
#include "event.h"
#include "util.h"

/* A field of the message: absent when p == NULL. */
struct syslog_field {
	const uint8_t	*p;
	size_t		 n;
};

enum syslog_format {
	SYSLOG_FMT_RAW,		/* no header recognised: everything is the message */
	SYSLOG_FMT_3164,	/* BSD syslog: timestamp and/or TAG recognised */
	SYSLOG_FMT_5424,	/* <PRI>1 ... */
};

/* Flags: what was odd about a message (each counted by the sink). */
#define SYSLOG_F_NO_PRI		0x01	/* no <PRI> at the start */
#define SYSLOG_F_BAD_PRI	0x02	/* <...> present but not 0..191 */
#define SYSLOG_F_NUL		0x04	/* NUL bytes in the message */
#define SYSLOG_F_BAD_HEADER	0x08	/* "<PRI>1 " but the 5424 header is broken */
#define SYSLOG_F_TRUNCATED	0x10	/* cut to the size limit (set by the caller) */

struct syslog_msg {
	int			 pri;		/* 0..191, or -1 when absent/invalid */
	enum syslog_format	 fmt;
	struct syslog_field	 timestamp, host, app, procid, msgid, sd, msg;
	uint32_t		 flags;
};

/* Parse one message (framing already removed). */
void	 syslog_parse(const uint8_t *p, size_t n, struct syslog_msg *m);
/* "kern".."local7" and "emerg".."debug"; NULL when pri < 0. */
const char *syslog_facility_name(int pri);
const char *syslog_severity_name(int pri);

/*
 * A shell command line carried by the message, if it is one of the
 * recognised forms (docs/formats.md "syslog.jsonl"):
 *   bash SYSLOG_HISTORY   "HISTORY: PID=123 UID=0 ls -la"
 *   PROMPT_COMMAND logger "root [123]: ls -la [0]"  (user [pid]: cmd [rc])
 *   key=value style       "... cmd=ls -la" or cmd="ls -la"
 *   shell tag             app bash/-bash/sh/zsh/ksh/dash: the whole message
 * Returns true and the command's bytes (pointing into the message).
 */
bool	 syslog_command(const struct syslog_msg *, const uint8_t **cmd, size_t *n);

/* Counters of a sink (one for the wire, one for the log server). */
struct syslog_stats {
	uint64_t	 messages;
	uint64_t	 rfc3164, rfc5424, raw;
	uint64_t	 no_pri, bad_pri, nul, bad_header, truncated;
	uint64_t	 commands;	/* shell command lines recognised */
	uint64_t	 write_errors;
};

/* Where a message came from, for its syslog.jsonl line. */
struct syslog_origin {
	const char		*source;	/* "wire" or "server" */
	const char		*transport;	/* "udp" or "tcp" */
	struct fb_addr		 peer;
	uint16_t		 peer_port;
	struct fb_addr		 dst;		/* the address it was sent to */
	uint16_t		 dst_port;
};

/* Called for each recognised command line (keystrokes); may be NULL. */
typedef void (*syslog_command_fn)(void *arg, fb_ns ts, const struct syslog_origin *,
	    const struct syslog_msg *, const uint8_t *cmd, size_t n);

struct layers;
struct syslog_sink {
	struct event_log	*events;
	struct layers		*budget;	/* its syslog share bounds the lines; NULL: none */
	struct syslog_stats	 st;
	syslog_command_fn	 on_command;
	void			*arg;
};

/* Parse raw (len bytes, extra_flags e.g. SYSLOG_F_TRUNCATED) received at ts,
 * count it and append its line to syslog.jsonl. */
void	 syslog_sink_message(struct syslog_sink *, fb_ns ts, const struct syslog_origin *,
	    const uint8_t *raw, size_t len, uint32_t extra_flags);
/* A UDP datagram seen crossing the bridge (the wire path). */
void	 syslog_sink_packet(struct syslog_sink *, const struct fb_packet *, fb_ns ts);
/* The JSON line of one message (without writing it). */
void	 syslog_json(struct jbuf *, fb_ns ts, const struct syslog_origin *,
	    const struct syslog_msg *, const uint8_t *raw, size_t len);
void	 syslog_stats_json(const struct syslog_stats *, struct jbuf *);

#endif
