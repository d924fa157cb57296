/*
 * sebek: the Sebek v3 collector.  Honeypots running the Honeynet Project's
 * Sebek client send one record per UDP datagram to [layers] sebek_port;
 * the engine captures those frames and drops them (reason "sebek"), and
 * layers.c hands each of them here.
 *
 * Promises: a record is decoded exactly as the original server
 * (sbk_extract + sbk_ks_log.pl) did: version 3 only, 56-byte big-endian
 * header, the data length must match the datagram; a keystroke line is the
 * data of read records (type 0, length <= 100) of one process (honeypot,
 * pid, inode, fd) up to a CR or LF, with the same key names.  Where the
 * original trusted the network, this one does not: a record is accepted
 * only from a honeypot address (config_is_honeypot) and from the MAC first
 * seen for that address (a record with another MAC is rejected, counted
 * and alerted once per address); the number of honeypots is bounded only by
 * [engine] max_honeypots (counted when full); loss is counted per honeypot
 * from gaps in the record counter; the skew between the honeypot's clock
 * and the packet time is in every record and in status.  Every record is a
 * line of DIR/DAY/sebek.jsonl, within the Sebek share of the day's disk
 * budget (layers.h; beyond it lines are dropped, counted by the layers);
 * docs/formats.md lists the fields.
 */
#ifndef FB_SEBEK_H
#define FB_SEBEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"
#include "event.h"
#include "util.h"

#define SEBEK_HDR_LEN		56
#define SEBEK_VERSION		3
#define SEBEK_KS_MAX		100	/* sbk_ks_log: read records this long at most */
#define SEBEK_LINE_MAX		4096	/* a keystroke line is cut (and flushed) here */

enum sebek_type { SEBEK_READ, SEBEK_WRITE, SEBEK_SOCKET, SEBEK_OPEN };

/* One decoded record header (host byte order). */
struct sebek_hdr {
	uint32_t	 magic;
	uint16_t	 version, type;
	uint32_t	 counter, time_sec, time_usec;
	uint32_t	 ppid, pid, uid, fd, inode;
	char		 com[13];	/* NUL-terminated, as sent (may hold any byte) */
	uint32_t	 length;
};

/* Type 2 (socket) data: 15 packed bytes. */
struct sebek_sock {
	uint8_t		 dst_ip[4], src_ip[4];
	uint16_t	 dst_port, src_port, call;
	uint8_t		 proto;
};

enum sebek_err {
	SEBEK_OK,
	SEBEK_SHORT,		/* fewer than 56 bytes */
	SEBEK_VERSION_BAD,	/* version != 3 */
	SEBEK_LENGTH_BAD,	/* length does not match the datagram */
};

/* Decode a record from a UDP payload; data points after the header. */
enum sebek_err sebek_decode(const uint8_t *p, size_t n, struct sebek_hdr *,
	    const uint8_t **data);
bool	 sebek_decode_sock(const uint8_t *data, size_t n, struct sebek_sock *);
const char *sebek_type_name(uint16_t type);	/* "read", ... or "unknown" */
/* sbk_ks_log.pl's rendering of keystroke bytes into out (NUL-terminated,
 * cut to outlen); returns the length. */
size_t	 sebek_keys_render(const uint8_t *p, size_t n, char *out, size_t outlen);

struct sebek_stats {
	uint64_t	 datagrams;	/* UDP datagrams to sebek_port seen */
	uint64_t	 records;	/* accepted */
	uint64_t	 short_records, bad_version, bad_length;
	uint64_t	 not_honeypot;	/* source not a honeypot address */
	uint64_t	 mac_mismatch;	/* source MAC differs from the first seen */
	uint64_t	 table_full;	/* honeypots not tracked: [engine] max_honeypots */
	uint64_t	 lost;		/* records missing from counter gaps */
	uint64_t	 counter_resets;/* counter went back (client restart, replay) */
	uint64_t	 lines;		/* keystroke lines */
	uint64_t	 procs_full;	/* keystrokes not assembled: process table full */
	uint64_t	 write_errors;
};

struct sebek;

/* Keystroke consumers (keys.c through layers.c): one context per process,
 * opened at its first keystroke record, fed the data of each, closed when
 * the process goes quiet or at the end. */
struct sebek_key_ops {
	void	*(*open)(void *arg, const struct fb_addr *honeypot, const struct sebek_hdr *);
	void	 (*feed)(void *arg, void *ctx, fb_ns ts, const uint8_t *p, size_t n);
	void	 (*close)(void *arg, void *ctx, fb_ns ts);
};

struct layers;
/* layers: whose sebek share of the disk budget bounds sebek.jsonl (NULL:
 * unbounded, for tests). */
struct sebek *sebek_new(const struct fb_config *, struct event_log *, struct layers *);
void	 sebek_free(struct sebek *);
void	 sebek_set_key_ops(struct sebek *, const struct sebek_key_ops *, void *arg);
/* A UDP datagram to sebek_port (the caller checked the port). */
void	 sebek_packet(struct sebek *, const struct fb_packet *, fb_ns ts);
/* Processes quiet for a while have their partial lines written out. */
void	 sebek_tick(struct sebek *, fb_ns now);
void	 sebek_stats(const struct sebek *, struct sebek_stats *);
/* The "sebek" member of the layers status. */
void	 sebek_status_json(const struct sebek *, struct jbuf *);

#endif
