/*
 * keys: what an intruder typed, as lines, in DIR/DAY/keystrokes.jsonl.
 * One line editor shared by every source of keys: cleartext sessions
 * (telnet, rlogin, raw shells), Sebek records, shell lines from syslog.
 *
 * Promises: a line is what the terminal's line discipline would have
 * passed on: backspace and DEL erase a character (a whole UTF-8 sequence),
 * ^U the line, ^W a word; CR, LF, CR LF and CR NUL end a line (one line
 * each); ^C and ^D end a line and are shown ("^C"); other control bytes are
 * shown in caret form ("^Z"); escape sequences (arrows, function keys) are
 * left out of the line; the raw keys that made the line are kept beside it.
 * Lines are bounded (KEYS_LINE_MAX bytes: a longer one is written in
 * pieces); every byte is treated as hostile, and reaches JSON only through
 * jbuf.
 */
#ifndef FB_KEYS_H
#define FB_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

#define KEYS_LINE_MAX	4096	/* edited line */
#define KEYS_RAW_MAX	8192	/* raw keys kept per line */

struct layers;

/* Where keys come from.  Strings are copied by keyline_new. */
struct key_origin {
	const char	*source;	/* "telnet", "rlogin", "shell", "sebek", "syslog" */
	struct fb_addr	 honeypot;
	/* A connection (cleartext sessions): its conn.jsonl id and ends. */
	bool		 has_conn;
	uint64_t	 conn_id;
	struct fb_addr	 src, dst;
	uint16_t	 sport, dport;
	/* A process on the honeypot (Sebek): */
	bool		 has_proc;
	uint32_t	 pid, uid, fd;
	uint64_t	 inode;
	const char	*command;	/* may be NULL */
};

struct keyline;

struct keyline *keyline_new(struct layers *, const struct key_origin *);
/* Keys as typed at time ts; whole lines are written as they end. */
void	 keyline_feed(struct keyline *, fb_ns ts, const uint8_t *p, size_t n);
/* Writes the unfinished line, if any (end of session). */
void	 keyline_flush(struct keyline *, fb_ns ts);
/* Flushes, then frees. */
void	 keyline_free(struct keyline *, fb_ns ts);

/* A source that already has whole lines (syslog): one record as it is;
 * raw may be NULL. */
void	 keys_line(struct layers *, fb_ns ts, const struct key_origin *,
	    const char *line, size_t n, const uint8_t *raw, size_t rawn);

#endif
