/*
 * ftp: the FTP analyser (control connections, recognised by content: a
 * "220" greeting from the server and an FTP command from the client, on
 * any port), the table of expected data connections (struct ftp_links in
 * struct layers), and the ftp-data analyser that carves what a data
 * connection carries.
 *
 * Promises: every command and its final reply is one line of
 * DIR/DAY/ftp.jsonl (time, connection id, honeypot, command, argument as
 * sent — passwords included, this is a honeypot —, reply code and text),
 * lines bounded (FTP_LINE_MAX, longer ones cut and marked); PORT, EPRT,
 * 227 (PASV) and 229 (EPSV) register the data connection they announce in
 * a bounded table (FTP_LINKS_MAX entries, each expiring after
 * FTP_LINK_TTL; the oldest gives way when full, counted); a TCP session
 * whose endpoints match an entry is claimed by ftp_data_claim at
 * session_open, before any content detection, and its bytes are carved as
 * the file named by the RETR/STOR argument, with the control connection's
 * id; a PORT or EPRT naming another host than the client (FTP bounce) is
 * an alert "ftp-bounce".
 */
#ifndef FB_FTP_H
#define FB_FTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "util.h"

#define FTP_LINE_MAX	2048		/* one command or reply line */
#define FTP_PENDING_MAX	16		/* commands awaiting a reply */
#define FTP_LINKS_MAX	256		/* expected data connections */
#define FTP_LINK_TTL	(300 * FB_NS_PER_SEC)

extern const struct analyser ftp_analyser;
/* Never detected by content: opened by session_open through ftp_data_claim. */
extern const struct analyser ftp_data_analyser;

struct ftp_links_stats {
	uint64_t	registered, claimed, expired, replaced;
	uint64_t	bounces;	/* PORT/EPRT to a third host */
	uint64_t	commands, replies;
	uint64_t	long_lines;	/* lines cut at FTP_LINE_MAX */
};

struct ftp_links *ftp_links_new(void);
void	 ftp_links_free(struct ftp_links *);
void	 ftp_links_stats(const struct ftp_links *, struct ftp_links_stats *);
void	 ftp_links_status_json(const struct ftp_links *, struct jbuf *);

/* At session_open: if the connection is an announced FTP data connection,
 * the ftp_data_analyser state for it (the entry is used up), else NULL. */
void	*ftp_data_claim(struct layers *, const struct session_info *);

#endif
