/*
 * config: the INI configuration (fishbowl.conf(5)), read with inih.
 *
 * Promises: every key is known and every value checked; the first problem
 * is reported as "FILE:LINE: [section] key = value: why" and the load fails
 * (unknown keys are errors, not warnings); defaults are the safe ones the
 * manual documents; a loaded config owns all its memory.
 */
#ifndef FB_CONFIG_H
#define FB_CONFIG_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

/* Classes of outbound connections, each with its own limit. */
enum fb_class {
	CLASS_TCP,
	CLASS_UDP,
	CLASS_ICMP,
	CLASS_OTHER,
	CLASS_MAX
};
const char *class_name(enum fb_class);

enum fb_limit_kind {
	LIMIT_ALLOW,		/* forward, count, alert; never block */
	LIMIT_BLOCK,		/* never forward a new outbound connection */
	LIMIT_COUNT		/* at most n in any period-long span */
};

struct fb_limit {
	enum fb_limit_kind kind;
	uint32_t	n;		/* LIMIT_COUNT: 1..65535 */
	fb_ns		period;		/* LIMIT_COUNT: 0 = total (until unblocked) */
};
/* "5/hour", "allow", "block" ... for messages and status. */
void	 limit_fmt(const struct fb_limit *, char *buf, size_t len);

enum fb_on_limit { ON_LIMIT_BLOCK, ON_LIMIT_ALERT };
enum fb_on_failure { ON_FAILURE_BLOCK, ON_FAILURE_FORWARD };
enum fb_malformed_policy { MALFORMED_DROP, MALFORMED_FORWARD };

/*
 * Target-based overlap policies (IP fragments and TCP segments): which copy
 * of an overlapping byte the receiving host's stack keeps.  The names follow
 * Snort's frag3/stream5 and Novak's "Target-Based Fragmentation Reassembly".
 */
enum fb_policy {
	POLICY_FIRST,		/* the first copy wins everywhere */
	POLICY_LAST,		/* the last copy wins everywhere */
	POLICY_BSD,
	POLICY_BSD_RIGHT,
	POLICY_LINUX,
	POLICY_WINDOWS,
	POLICY_SOLARIS,
	POLICY_MAX
};
const char *policy_name(enum fb_policy);
int	 policy_parse(const char *, enum fb_policy *);	/* 0 or -1 */

struct fb_host_policy {
	struct fb_prefix pfx;
	enum fb_policy	 policy;
};

/* A log server listening socket: udp:ADDR[:PORT] or tcp:ADDR[:PORT]. */
struct fb_listen {
	uint8_t		 proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	struct fb_addr	 addr;
	uint16_t	 port;
};

struct fb_config {
	char		*path;

	/* [honeynet] */
	char		 outside[IF_NAMESIZE];
	char		 inside[IF_NAMESIZE];
	struct fb_prefix *networks;
	size_t		 n_networks;
	struct fb_addr	*honeypots;	/* empty: every address in networks */
	size_t		 n_honeypots;

	/* [control] */
	struct fb_limit	 limit[CLASS_MAX];
	uint64_t	 rate_bps;	/* bits per second out per honeypot; 0 = allow */
	struct fb_dest	*exempt;
	size_t		 n_exempt;
	struct fb_dest	*deny;
	size_t		 n_deny;
	enum fb_on_limit on_limit;

	/* [capture] */
	char		*capture_dir;
	uint64_t	 rotate_bytes;
	uint32_t	 keep_days;	/* 0 = for ever */
	uint64_t	 min_free_bytes;
	enum fb_on_failure on_failure;

	/* [run] */
	char		*run_user;
	char		*socket_path;

	/* [engine] tuning; defaults suit a small honeynet */
	uint32_t	 max_flows;		/* flow table bound */
	uint32_t	 max_honeypots;		/* tracked honeypot states */
	uint32_t	 ring_mb;		/* per-leg RX ring size */
	uint32_t	 openers_ring_mb;	/* per-leg ring of connection
						   openers; 0: none */
	bool		 known_flows;		/* that ring takes every frame of
						   a flow not yet known (known.h),
						   not only openers */
	bool		 fast_path;		/* the kernel forwards proven
						   flows, recording first
						   (fastpath.h) */
	uint32_t	 fast_path_mb;		/* its ring buffer per leg */
	enum fb_malformed_policy malformed;
	fb_ns		 timeout_tcp_embryonic;	/* SYN seen, no handshake */
	fb_ns		 timeout_tcp_established;
	fb_ns		 timeout_tcp_closed;	/* after FIN both ways or RST */
	fb_ns		 timeout_udp;
	fb_ns		 timeout_other;

	/* [layers]: sessions, keystrokes, IRC, files, Sebek, syslog on the wire */
	bool		 layers;		/* enable = yes */
	uint64_t	 layers_memory_bytes;	/* reassembly buffers, all flows */
	enum fb_policy	 policy;		/* default overlap policy */
	struct fb_host_policy *host_policies;	/* longest prefix wins */
	size_t		 n_host_policies;
	uint64_t	 transcript_max_bytes;	/* per session */
	uint64_t	 file_max_bytes;	/* largest file carved */
	uint64_t	 layers_disk_bytes;	/* per day: sessions/ and files/ */
	uint16_t	 sebek_port;		/* UDP destination port; 0 = off */

	/* [logserver] */
	struct fb_listen *listen;
	size_t		 n_listen;
	uint32_t	 log_max_message;	/* bytes */
	uint32_t	 log_peer_rate;		/* messages per second per peer */
	uint32_t	 log_max_peers;		/* TCP connections at once */
};

/*
 * Loads path into cfg.  On error returns -1 and writes one line to err
 * ("FILE:LINE: [section] key = value: why"); cfg is then freed.
 */
int	 config_load(const char *path, struct fb_config *cfg, char *err, size_t errlen);
/* The same from a string (tests, fuzzing); name is used in messages. */
int	 config_load_string(const char *name, const char *text, struct fb_config *cfg,
	    char *err, size_t errlen);
void	 config_free(struct fb_config *);

/* Is a in the honeynet (networks)?  Is it a honeypot? */
bool	 config_in_networks(const struct fb_config *, const struct fb_addr *);
bool	 config_is_honeypot(const struct fb_config *, const struct fb_addr *);
/* The overlap policy of a host: the longest matching host_policy, else policy. */
enum fb_policy config_policy_for(const struct fb_config *, const struct fb_addr *);

#endif
