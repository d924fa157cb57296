/*
 * session: what a reassembled TCP connection said, for people.  Writes the
 * transcript (DIR/DAY/sessions/), its index line (DIR/DAY/sessions.jsonl),
 * guesses the protocol from content (never from port numbers) and hands the
 * bytes to the protocol analysers (telnet, FTP, HTTP, IRC ...).
 *
 * Promises: a transcript shows both directions in time order, each chunk
 * marked with its time and direction; printable text as is, other bytes
 * escaped, long binary runs summarised by length and SHA-256; gaps and
 * policy conflicts are shown where they happened; a transcript never grows
 * past cfg->transcript_max_bytes (it is then marked truncated, and the
 * analysers still see the bytes); every byte came from an attacker and is
 * treated so.
 */
#ifndef FB_SESSION_H
#define FB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "flow.h"
#include "util.h"

struct layers;

/* What the layers know of a connection when its first data arrives. */
struct session_info {
	uint64_t	 conn_id;	/* fb_flow.id, the "id" in conn.jsonl */
	struct fb_flowkey key;		/* originator -> responder */
	enum fb_dir	 dir;		/* inbound (from outside) or outbound */
	struct fb_addr	 honeypot;
	fb_ns		 start;		/* first packet of the flow */
};

/*
 * A protocol analyser.  The session asks each registered analyser, in
 * order, whether the first bytes of the connection look like its protocol
 * (detect is called with the bytes seen so far in each direction, until one
 * says yes or a few KiB have passed); the one that says yes is opened and
 * gets every later byte, gap and the end.  Analysers write their own
 * records (irc.jsonl, files.jsonl, keystrokes.jsonl ...) through the
 * layers context and must bound their own memory.
 */
struct analyser {
	const char	*name;		/* protocol guess in sessions.jsonl: "irc" */
	/* seen[d], n[d]: the first bytes of each direction so far. */
	bool	(*detect)(const uint8_t *const seen[2], const size_t n[2]);
	void	*(*open)(struct layers *, const struct session_info *);
	void	(*data)(void *st, int dir, fb_ns ts, const uint8_t *p, size_t n);
	void	(*gap)(void *st, int dir, fb_ns ts, uint64_t n);
	void	(*close)(void *st, fb_ns ts);
	/* Optional: after data(), the bytes the transcript shows instead of
	 * the raw ones (telnet without its option negotiation); NULL member:
	 * the raw bytes.  Valid until the next call. */
	const uint8_t *(*view)(void *st, size_t *n);
};

struct session;

struct session *session_open(struct layers *, const struct session_info *);
void	 session_data(struct session *, int dir, fb_ns ts, const uint8_t *p, size_t n);
void	 session_gap(struct session *, int dir, fb_ns ts, uint64_t n);
void	 session_conflict(struct session *, int dir, fb_ns ts, uint64_t off,
	    const uint8_t *kept, const uint8_t *other, size_t n);
void	 session_end(struct session *, int dir, fb_ns ts, int how);	/* enum stream_end */
/* Writes the index line, closes the transcript and the analyser; frees. */
void	 session_close(struct session *, fb_ns ts);
/* Writes out transcript bytes that waited WRITE_AGE (a second) or more:
 * a transcript is written in few large writes, yet lags at most that. */
void	 session_tick(struct layers *, fb_ns now);

#endif
