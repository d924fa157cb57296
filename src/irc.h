/*
 * irc: the IRC layer.  Recognises IRC by content on any port and writes
 * every message of either direction to DIR/DAY/irc.jsonl: time,
 * connection, honeypot, direction, server, the client's nick, sender,
 * command, channel or target, text, CTCP decoded (ACTION, VERSION, DCC SEND
 * with its numeric address made readable).
 *
 * Promises: every line of an IRC connection becomes one record, in order,
 * both directions (RFC 1459/2812 syntax, IRCv3 tags tolerated, CRLF, LF or
 * a lone CR ending a line); a line split across chunks is joined; a line
 * longer than IRC_LINE_MAX is recorded cut (marked "overlong") and the rest
 * of it skipped; after a gap the line that straddled it is dropped and the
 * next one marked "after_gap"; a line left unterminated at the end of the
 * connection is recorded marked "partial".  Memory is bounded per
 * connection (two line buffers of at most IRC_LINE_MAX bytes, grown only
 * while a line is incomplete) and for all connections together
 * (IRC_MEM_MAX); past it a partial line is dropped and counted, never
 * buffered.  Attacker text reaches the file only through jbuf.
 */
#ifndef FB_IRC_H
#define FB_IRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "util.h"

#define IRC_LINE_MAX	8192		/* longest line kept whole (RFC: 512) */
#define IRC_NICK_MAX	64		/* longest nick tracked (longer: cut) */
#define IRC_MAX_PARAMS	15		/* RFC 2812: 14 middle + trailing */
#define IRC_MEM_MAX	(32u << 20)	/* partial-line buffers, all connections */

extern const struct analyser irc_analyser;

/* One token of a line: p[0..n), p NULL when absent. */
struct irc_tok {
	const uint8_t	*p;
	size_t		 n;
};

/* A parsed line; the tokens point into the line. */
struct irc_msg {
	struct irc_tok	 tags;		/* after '@', IRCv3 */
	struct irc_tok	 prefix;	/* after ':' */
	struct irc_tok	 cmd;
	struct irc_tok	 param[IRC_MAX_PARAMS];	/* the trailing one last */
	int		 nparams;
};

/* Splits one line (no CR/LF); -1 when it has no command. */
int	 irc_parse(const uint8_t *p, size_t n, struct irc_msg *);

/* Counters for all connections (fishbowl status, "irc" in "layers"). */
struct irc_stats {
	uint64_t	 conns;		/* connections opened as IRC */
	uint64_t	 lines;		/* lines seen (records written or not) */
	uint64_t	 records;	/* lines written to irc.jsonl */
	uint64_t	 write_errors;	/* records that could not be written */
	uint64_t	 no_command;	/* lines without a command (still recorded) */
	uint64_t	 overlong;	/* lines longer than IRC_LINE_MAX (cut) */
	uint64_t	 gaps;		/* gaps reported by reassembly */
	uint64_t	 gap_lines;	/* partial lines dropped at a gap */
	uint64_t	 partial;	/* unterminated lines at the end */
	uint64_t	 mem_drops;	/* partial lines dropped: IRC_MEM_MAX reached */
	uint64_t	 nick_cut;	/* nicks longer than IRC_NICK_MAX */
	uint64_t	 dcc;		/* DCC offers decoded */
	uint64_t	 mem_used;	/* bytes in line buffers now */
};

struct irc_totals;
struct layers;

/* The module's shared state hangs off struct layers (created by the first
 * IRC connection); these take the layers context and accept NULL. */
void	 irc_totals_free(struct irc_totals *);
void	 irc_stats_get(const struct irc_totals *, struct irc_stats *);
void	 irc_status_json(const struct irc_totals *, struct jbuf *);

#endif
