/*
 * logserver: the remote syslog server of [logserver] listen (UDP and TCP).
 *
 * Promises: every socket is opened by logserver_open, at start-up before
 * privileges are dropped (port 514 is privileged) and non-blocking;
 * logserver_serve never blocks and does a bounded amount of work per call
 * (it runs from the engine's loop between batches, so a flood of log
 * messages cannot hold up forwarding).  TCP carries RFC 6587 framing, octet
 * counting and LF-terminated alike, even mixed in one connection; a message
 * longer than [logserver] max_message is cut (flagged "truncated",
 * counted); each peer address gets a token bucket of peer_rate messages a
 * second (excess dropped, counted) that no other address can reset or
 * drain while the peer is active; at most max_peers TCP connections are
 * open (more are accepted and closed at once, counted), and a connection
 * quiet for LS_IDLE is closed.  Every message becomes a syslog.jsonl line
 * with source "server" (syslogmsg.h).  Live only: replay has no server.
 */
#ifndef FB_LOGSERVER_H
#define FB_LOGSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "syslogmsg.h"
#include "util.h"

#define LS_IDLE		(300 * FB_NS_PER_SEC)

/*
 * RFC 6587 framer of one TCP byte stream.  Each message is handed to fn
 * with truncated set when it was cut to max bytes (any max >= 1).  The
 * messages do not depend on how the stream was cut into feeds (fuzz_syslog
 * checks it).  Garbage cannot stall it: a frame that starts with digits
 * but no valid "LEN SP" is read as text.
 */
typedef void (*ls_msg_fn)(void *arg, const uint8_t *p, size_t n, bool truncated);

struct ls_framer {
	uint8_t		*buf;		/* max bytes */
	size_t		 len, max;
	int		 state;
	uint64_t	 want;		/* octets still to read (octet counting) */
	bool		 cut;		/* the current message was cut */
	uint64_t	 octet_frames, lf_frames;
};

void	 ls_framer_init(struct ls_framer *, size_t max);
void	 ls_framer_free(struct ls_framer *);
void	 ls_framer_feed(struct ls_framer *, const uint8_t *p, size_t n, ls_msg_fn, void *arg);
/* End of stream: a partial message is delivered as it is. */
void	 ls_framer_finish(struct ls_framer *, ls_msg_fn, void *arg);

struct logserver_stats {
	uint64_t	 udp_datagrams, tcp_accepted, tcp_refused, tcp_closed, tcp_idle;
	uint64_t	 tcp_bytes, octet_frames, lf_frames;
	uint64_t	 rate_dropped;	/* over a peer's token bucket */
	uint64_t	 peer_overflow;	/* counted against the shared overflow bucket */
	uint64_t	 truncated;	/* cut to max_message */
	uint64_t	 errors;	/* recv/accept failures */
};

struct logserver;

/* NULL with err set when a socket cannot be opened; a logserver with no
 * sockets when cfg has no listen addresses. */
struct logserver *logserver_open(const struct fb_config *, struct event_log *,
	    char *err, size_t errlen);
void	 logserver_close(struct logserver *);
/* Shell command lines go to fn (keystrokes), with arg. */
void	 logserver_on_command(struct logserver *, syslog_command_fn, void *arg);
/* The layers: command lines become keystroke lines (layers_syslog_command)
 * and syslog.jsonl lines count against the layers' syslog share. */
struct layers;
void	 logserver_set_layers(struct logserver *, struct layers *);
/* The rate limit each message passes (the peer's token bucket, or the
 * shared overflow bucket when the peer's slot belongs to another address
 * active within the last second); counted when false.  Public for tests. */
bool	 logserver_peer_allow(struct logserver *, const struct fb_addr *, fb_ns now);
/* The rate slot of address a (its hash is keyed by a secret seed); for the
 * unit tests, which look for two addresses on one slot. */
uint32_t logserver_peer_slot(const struct logserver *, const struct fb_addr *a);
/* Serve what is ready now (never waits); now is wall time. */
void	 logserver_serve(struct logserver *, fb_ns now);
/* The bound port of listen socket i (tests bind port 0). */
uint16_t logserver_port(const struct logserver *, size_t i);
void	 logserver_stats(const struct logserver *, struct logserver_stats *,
	    struct syslog_stats *);
/* The "logserver" member of status. */
void	 logserver_status_json(const struct logserver *, struct jbuf *);

#endif
