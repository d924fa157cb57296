/*
 * http: the HTTP/1.x analyser.  Recognises HTTP by content on any port
 * (a request line "METHOD SP target SP HTTP/x.y" from the client, or a
 * status line "HTTP/x.y NNN" from the server), follows keep-alive and
 * pipelined requests, writes one record per request/response exchange to
 * DIR/DAY/http.jsonl and hands every body to the carver (files.h).
 *
 * Promises: a header block is bounded (HTTP_HEADER_MAX, counted when
 * exceeded, and the direction is then no longer parsed); bodies are framed
 * by Content-Length, chunked transfer coding (every chunk-size line checked
 * and bounded) or the end of the connection, never by trusting a length
 * past what arrives; gzip and deflate content codings are removed with
 * zlib, with the output capped at cfg->file_max_bytes whatever the
 * compression ratio (a decompression bomb costs at most that); a gap in a
 * Content-Length body keeps the exchange in step (the missing bytes are
 * counted and the file marked truncated); everything the peer sent is
 * escaped on output.
 */
#ifndef FB_HTTP_H
#define FB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"
#include "util.h"

#define HTTP_HEADER_MAX		(64 * 1024)	/* one header block */
#define HTTP_CHUNK_LINE_MAX	1024		/* a chunk-size line */
#define HTTP_PENDING_MAX	32		/* requests awaiting responses */

extern const struct analyser http_analyser;

/* Process-wide counters (all connections). */
struct http_stats {
	uint64_t	requests, responses;
	uint64_t	header_overflows;	/* header blocks over HTTP_HEADER_MAX */
	uint64_t	bad_messages;		/* start lines, lengths, chunk sizes */
	uint64_t	unanswered;		/* requests that got no response */
	uint64_t	gaps;
};
void	 http_stats(struct http_stats *);
/* The "http" member of the layers' status. */
void	 http_status_json(struct jbuf *);

#endif
