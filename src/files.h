/*
 * files: carving of files carried by HTTP bodies and FTP data connections
 * into DIR/DAY/files/, named by their SHA-256, with one record per carved
 * file in DIR/DAY/files.jsonl.
 *
 * Promises: a file is streamed to a temporary name in the day's files/
 * folder while its SHA-256 is computed incrementally, and renamed to the
 * hex digest when it ends, so files/ never holds a half-written file under
 * a final name and the same content carved twice is one file; no file
 * grows past cfg->file_max_bytes, nor past the day's disk budget
 * (layers_disk_take); a file whose bytes are not all there is kept with
 * what was seen and marked truncated with the first reason (a gap in the
 * stream, the size cap, the disk budget, the connection ending before the
 * announced length, a body that would not decode, a write error); the MIME
 * type comes from the content (libmagic over the first bytes), never from
 * what the sender claimed.  The magic database is loaded by carver_new,
 * which runs before fishbowl drops its privileges.
 */
#ifndef FB_FILES_H
#define FB_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "sha256.h"
#include "util.h"

struct layers;
struct carver;
struct carve;

enum carve_trunc {
	CARVE_COMPLETE,
	CARVE_GAP,		/* bytes missing in the stream */
	CARVE_CAP,		/* cfg->file_max_bytes reached */
	CARVE_DISK,		/* the day's disk budget refused more */
	CARVE_EARLY_END,	/* the connection ended before the announced end */
	CARVE_DECODE,		/* the content encoding would not decode */
	CARVE_FRAMING,		/* the body's framing broke (bad chunk size) */
	CARVE_ERROR		/* the file could not be written */
};
const char *carve_trunc_name(enum carve_trunc);

struct carver_stats {
	uint64_t	files;		/* records written */
	uint64_t	complete, truncated;
	uint64_t	duplicates;	/* content already in files/ that day */
	uint64_t	bytes;		/* written to files/ */
	uint64_t	errors;		/* open/write/rename failures */
	uint64_t	mime_cached;	/* MIME types known from an earlier copy */
};

/* What is known of a file when its first byte arrives. */
struct carve_meta {
	const char	*proto;		/* "http", "ftp" */
	uint64_t	 conn_id;	/* the connection carrying the bytes */
	uint64_t	 ctrl_conn_id;	/* FTP: the control connection, else 0 */
	bool		 upload;	/* sent by the client (POST/PUT body, STOR) */
	const char	*name;		/* URL or file name as sent (escaped in JSON) */
	struct fb_addr	 src, dst;	/* sender and receiver of the bytes */
	uint16_t	 sport, dport;
	struct fb_addr	 honeypot;
	const char	*encoding;	/* content encoding removed, or NULL */
	int64_t		 announced;	/* Content-Length, SIZE, or -1 */
};

/* NULL on failure (logged): the layers then carve nothing. */
struct carver *carver_new(const struct fb_config *);
void	 carver_free(struct carver *);
void	 carver_stats(const struct carver *, struct carver_stats *);
void	 carver_status_json(const struct carver *, struct jbuf *);

/* A new file; nothing touches the disk before its first byte.  NULL when
 * the layers have no carver. */
struct carve *carve_begin(struct layers *, fb_ns ts, const struct carve_meta *);
/* The next bytes of the file, in order. */
void	 carve_write(struct carve *, const uint8_t *p, size_t n);
/* The file cannot be complete: keep what was written, take no more. */
void	 carve_stop(struct carve *, enum carve_trunc why);
/* The name learnt late (FTP: the RETR/STOR line may come after the data). */
void	 carve_set_name(struct carve *, const char *name);
/* Not a file after all (an FTP listing): remove it, write no record, free. */
void	 carve_discard(struct carve *);
/* Bytes written so far (after decoding), or 0 for NULL. */
uint64_t carve_size(const struct carve *);
/* No more bytes will be taken (stopped, or NULL): callers skip decoding. */
bool	 carve_stopped(const struct carve *);
/* Ends the file: renames it, writes its record (why is ignored when an
 * earlier stop gave a reason), frees.  Copies the hex digest into sha
 * (if not NULL; "" when nothing was carved).  Returns whether a file was
 * recorded. */
bool	 carve_end(struct carve *, fb_ns ts, enum carve_trunc why,
	    char sha[SHA256_HEXLEN]);

#endif
