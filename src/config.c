/*
 * config: the INI configuration (fishbowl.conf(5)), read with inih.
 *
 * Owns struct fb_config and the meaning of every key.  Promises: every key
 * is known and every value checked (unknown sections and keys, duplicates,
 * empty lists, trailing garbage and out-of-range values are all errors);
 * loading stops at the first problem and reports it as
 * "FILE:LINE: [section] key = value: why" with the value made printable;
 * defaults are the safe ones the manual documents; a loaded config owns all
 * of its memory and config_free() releases it.
 *
 * inih is fed one line at a time through our own reader, so that we know
 * the line number of every call (inih's handler is not given one), can stop
 * at the first error, can check section headers ourselves (inih ignores
 * text after ']' and does not report empty sections), strip '#' as well as
 * ';' inline comments, and refuse lines too long for inih's fixed buffer
 * instead of having them silently split in two.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"

#define CONFIG_MAX_BYTES	(1024 * 1024)	/* a config file is small */
#define SHOW_MAX		64		/* value bytes shown in messages */
#define NS_PER_MIN		(60 * FB_NS_PER_SEC)
#define NS_PER_HOUR		(3600 * FB_NS_PER_SEC)
#define NS_PER_DAY		(86400 * FB_NS_PER_SEC)
#define MIB			(1024ULL * 1024ULL)

struct hp_src {			/* where a honeypot was listed, for messages */
	int	 line;
};

struct ctx {
	const char	*name;		/* file name for messages */
	const char	*text;
	size_t		 len;
	size_t		 pos;		/* reader position in text */
	int		 lineno;	/* line last handed to inih */
	bool		 indented;	/* that line started with blank space */
	int		 last_key;	/* key of the last key line, -1 after a header */
	struct fb_config *cfg;
	int		 seen[64];	/* line where each key was set, 0 = not yet */
	struct hp_src	*hp_src;	/* parallel to cfg->honeypots */
	size_t		 hp_cap, hp_src_cap, net_cap, exempt_cap, deny_cap;
	size_t		 pol_cap, listen_cap;
	char		*err;
	size_t		 errlen;
	bool		 failed;
	int		 fail_line;	/* line of the error, 0 for the file */
	char		 why[160];	/* room for a formatted reason */
};

/* ------------------------------------------------------------------ */
/* Messages */

/* Printable ASCII as is, every other byte as \xNN; at most max input bytes. */
static void
sanitize(char *dst, size_t dstlen, const char *src, size_t max)
{
	size_t o = 0, i;

	if (dstlen == 0)
		return;
	for (i = 0; src[i] != '\0' && i < max; i++) {
		unsigned char ch = (unsigned char)src[i];
		char tmp[5];
		size_t n;

		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			tmp[0] = (char)ch;
			n = 1;
		} else {
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
			n = 4;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, tmp, n);
		o += n;
	}
	if (src[i] != '\0' && o + 3 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* The first error wins; later ones are ignored. */
static void FB_PRINTF(3, 4)
fail(struct ctx *c, int line, const char *fmt, ...)
{
	char name[512], msg[512];
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	c->fail_line = line;
	if (c->err == NULL || c->errlen == 0)
		return;
	sanitize(name, sizeof(name), c->name, 400);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(c->err, c->errlen, "%s:%d: %s", name, line, msg);
	else
		snprintf(c->err, c->errlen, "%s: %s", name, msg);
}

static void
fail_kv(struct ctx *c, const char *section, const char *key, const char *val,
    const char *why)
{
	char s[SHOW_MAX * 4 + 4], k[SHOW_MAX * 4 + 4], v[SHOW_MAX * 4 + 4];

	sanitize(s, sizeof(s), section, SHOW_MAX);
	sanitize(k, sizeof(k), key, SHOW_MAX);
	sanitize(v, sizeof(v), val, SHOW_MAX);
	fail(c, c->lineno, "[%s] %s = %s: %s", s, k, v, why);
}

/* ------------------------------------------------------------------ */
/* Value parsers: each returns NULL, or why the value is wrong. */

static const char *
why(struct ctx *c, const char *fmt, ...) FB_PRINTF(2, 3);

static const char *
why(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return c->why;
}

/* Decimal digits only; 0 or -1 (not a number, or above max). */
static int
parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static const char *
p_uint(struct ctx *c, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (parse_u64(v, strlen(v), max, out) == -1 || *out < min)
		return why(c, "must be a whole number from %llu to %llu",
		    (unsigned long long)min, (unsigned long long)max);
	return NULL;
}

static const char *
p_u32(struct ctx *c, const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t x;
	const char *w = p_uint(c, v, min, max, &x);

	if (w == NULL)
		*out = (uint32_t)x;
	return w;
}

/* A size in MiB. */
static const char *
p_mib(struct ctx *c, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t x;
	const char *w = p_uint(c, v, min, max, &x);

	if (w == NULL)
		*out = x * MIB;
	return w;
}

/* N, Ns, Nm, Nh or Nd; 1 s to 30 days. */
static const char *
p_duration(struct ctx *c, const char *v, fb_ns *out)
{
	size_t n = strlen(v);
	uint64_t x, mult = 1, max = 30 * 86400;

	(void)c;
	if (n > 0) {
		switch (v[n - 1]) {
		case 's': mult = 1; n--; break;
		case 'm': mult = 60; n--; break;
		case 'h': mult = 3600; n--; break;
		case 'd': mult = 86400; n--; break;
		default: break;
		}
	}
	if (parse_u64(v, n, max, &x) == -1)
		return "must be a duration: N seconds, or Ns, Nm, Nh, Nd (e.g. 30s, 2h)";
	if (x * mult < 1 || x * mult > max)
		return "must be from 1s to 30d";
	*out = (fb_ns)(x * mult) * FB_NS_PER_SEC;
	return NULL;
}

static const char *
p_limit(struct ctx *c, const char *v, struct fb_limit *l)
{
	const char *slash;
	uint64_t n;

	(void)c;
	if (strcasecmp(v, "allow") == 0) {
		*l = (struct fb_limit){ .kind = LIMIT_ALLOW };
		return NULL;
	}
	if (strcasecmp(v, "block") == 0) {
		*l = (struct fb_limit){ .kind = LIMIT_BLOCK };
		return NULL;
	}
	if ((slash = strchr(v, '/')) == NULL)
		return "must be N/PERIOD (e.g. 5/day), allow or block";
	if (parse_u64(v, (size_t)(slash - v), 65535, &n) == -1 || n == 0)
		return "count must be a whole number from 1 to 65535";
	l->kind = LIMIT_COUNT;
	l->n = (uint32_t)n;
	slash++;
	if (strcasecmp(slash, "minute") == 0)
		l->period = NS_PER_MIN;
	else if (strcasecmp(slash, "hour") == 0)
		l->period = NS_PER_HOUR;
	else if (strcasecmp(slash, "day") == 0)
		l->period = NS_PER_DAY;
	else if (strcasecmp(slash, "total") == 0)
		l->period = 0;
	else
		return "period must be minute, hour, day or total";
	return NULL;
}

/* NUMBER UNIT in bits (bit, kbit, mbit, gbit) or bytes (bps, kbps, mbps,
 * gbps) per second, 1000-based like tc(8); or allow (0). */
static const char *
p_rate(struct ctx *c, const char *v, uint64_t *out)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 },
		{ "gbit", 1000000000 },
		{ "bps", 8 }, { "kbps", 8000 }, { "mbps", 8000000 },
		{ "gbps", 8000000000ULL },
	};
	const uint64_t max = 1000ULL * 1000000000ULL;	/* 1 Tbit/s */
	size_t digits = 0;
	uint64_t x;

	(void)c;
	if (strcasecmp(v, "allow") == 0) {
		*out = 0;
		return NULL;
	}
	while (v[digits] >= '0' && v[digits] <= '9')
		digits++;
	if (digits == 0)
		return "must be a rate like 512kbit or 10mbit, or allow";
	for (size_t i = 0; i < nitems(units); i++) {
		if (strcasecmp(v + digits, units[i].unit) != 0)
			continue;
		if (parse_u64(v, digits, max, &x) == -1 || x == 0 ||
		    x > max / units[i].mult)
			return "must be from 1bit to 1000gbit";
		*out = x * units[i].mult;
		return NULL;
	}
	return "unit must be bit, kbit, mbit, gbit (bits per second) or "
	    "bps, kbps, mbps, gbps (bytes per second)";
}

static const char *
p_choice(const char *v, const char *a, const char *b, int *out)
{
	if (strcasecmp(v, a) == 0)
		*out = 0;
	else if (strcasecmp(v, b) == 0)
		*out = 1;
	else
		return NULL;
	return "";
}

/* A Linux interface name (dev_valid_name). */
static const char *
p_ifname(const char *v, char out[IF_NAMESIZE])
{
	size_t n = strlen(v);

	if (n == 0 || n >= IF_NAMESIZE)
		return "must be an interface name of 1 to 15 characters";
	if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return "not an interface name";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch <= 0x20 || ch >= 0x7f || ch == '/' || ch == ':')
			return "not an interface name (no '/', ':', spaces or "
			    "control characters)";
	}
	fb_strlcpy(out, v, IF_NAMESIZE);
	return NULL;
}

static const char *
p_path(const char *v, size_t max, char **out)
{
	size_t n = strlen(v);

	if (v[0] != '/')
		return "must be an absolute path";
	if (n >= max)
		return "path too long";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return "control characters in path";
	free(*out);
	*out = xstrdup(v);
	return NULL;
}

static const char *
p_user(const char *v, char **out)
{
	size_t n = strlen(v);

	if (n == 0 || n > 32 || v[0] == '-')
		return "must be a user name of 1 to 32 characters";
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    ch == '.'))
			return "a user name has only letters, digits, '_', '-' and '.'";
	}
	free(*out);
	*out = xstrdup(v);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Lists: comma-separated, continued on indented lines. */

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 8;
	return xrealloc(p, *cap, size);
}

/* One list element of the given kind; NULL or why. */
static const char *
list_add(struct ctx *c, int key, const char *elem);

/* Splits v on commas and adds every element; NULL or why.  One comma may
 * end the line, since a list can go on over indented lines. */
static const char *
p_list(struct ctx *c, int key, const char *v)
{
	char buf[256], show[SHOW_MAX * 4 + 4];
	const char *p = v, *w;

	if (*v == '\0')
		return "empty list";
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		const char *s = p, *e = p + n;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (s == e && comma == NULL && p != v)
			return NULL;	/* "a, b," goes on on the next line */
		if (s == e)
			return "empty element in list (stray comma?)";
		if ((size_t)(e - s) >= sizeof(buf)) {
			sanitize(show, sizeof(show), s, 24);
			return why(c, "element too long: %s", show);
		}
		memcpy(buf, s, (size_t)(e - s));
		buf[e - s] = '\0';
		if ((w = list_add(c, key, buf)) != NULL)
			return w;
		if (comma == NULL)
			return NULL;
		p = comma + 1;
	}
}

/* ------------------------------------------------------------------ */
/* The keys */

enum key_id {
	K_OUTSIDE, K_INSIDE, K_NETWORKS, K_HONEYPOTS,
	K_TCP, K_UDP, K_ICMP, K_OTHER, K_RATE, K_EXEMPT, K_DENY, K_ON_LIMIT,
	K_DIR, K_ROTATE_MB, K_KEEP_DAYS, K_MIN_FREE_MB, K_ON_FAILURE,
	K_USER, K_SOCKET,
	K_MAX_FLOWS, K_MAX_HONEYPOTS, K_RING_MB, K_OPENERS_RING_MB, K_KNOWN_FLOWS,
	K_FAST_PATH, K_FAST_PATH_MB,
	K_MALFORMED,
	K_TO_EMBRYONIC, K_TO_ESTABLISHED, K_TO_CLOSED, K_TO_UDP, K_TO_OTHER,
	K_L_ENABLE, K_L_MEMORY_MB, K_L_POLICY, K_L_HOST_POLICY, K_L_TRANSCRIPT_MB,
	K_L_FILE_MB, K_L_DISK_MB, K_L_SEBEK_PORT,
	K_LS_LISTEN, K_LS_MAX_MESSAGE, K_LS_PEER_RATE, K_LS_MAX_PEERS,
	K_COUNT
};

static const struct key {
	const char	*section;
	const char	*name;
	bool		 list;
} keys[K_COUNT] = {
	[K_OUTSIDE] = { "honeynet", "outside", false },
	[K_INSIDE] = { "honeynet", "inside", false },
	[K_NETWORKS] = { "honeynet", "networks", true },
	[K_HONEYPOTS] = { "honeynet", "honeypots", true },
	[K_TCP] = { "control", "tcp", false },
	[K_UDP] = { "control", "udp", false },
	[K_ICMP] = { "control", "icmp", false },
	[K_OTHER] = { "control", "other", false },
	[K_RATE] = { "control", "rate", false },
	[K_EXEMPT] = { "control", "exempt", true },
	[K_DENY] = { "control", "deny", true },
	[K_ON_LIMIT] = { "control", "on_limit", false },
	[K_DIR] = { "capture", "dir", false },
	[K_ROTATE_MB] = { "capture", "rotate_mb", false },
	[K_KEEP_DAYS] = { "capture", "keep_days", false },
	[K_MIN_FREE_MB] = { "capture", "min_free_mb", false },
	[K_ON_FAILURE] = { "capture", "on_failure", false },
	[K_USER] = { "run", "user", false },
	[K_SOCKET] = { "run", "socket", false },
	[K_MAX_FLOWS] = { "engine", "max_flows", false },
	[K_MAX_HONEYPOTS] = { "engine", "max_honeypots", false },
	[K_RING_MB] = { "engine", "ring_mb", false },
	[K_OPENERS_RING_MB] = { "engine", "openers_ring_mb", false },
	[K_KNOWN_FLOWS] = { "engine", "known_flows", false },
	[K_FAST_PATH] = { "engine", "fast_path", false },
	[K_FAST_PATH_MB] = { "engine", "fast_path_mb", false },
	[K_MALFORMED] = { "engine", "malformed", false },
	[K_TO_EMBRYONIC] = { "engine", "timeout_tcp_embryonic", false },
	[K_TO_ESTABLISHED] = { "engine", "timeout_tcp_established", false },
	[K_TO_CLOSED] = { "engine", "timeout_tcp_closed", false },
	[K_TO_UDP] = { "engine", "timeout_udp", false },
	[K_TO_OTHER] = { "engine", "timeout_other", false },
	[K_L_ENABLE] = { "layers", "enable", false },
	[K_L_MEMORY_MB] = { "layers", "memory_mb", false },
	[K_L_POLICY] = { "layers", "policy", false },
	[K_L_HOST_POLICY] = { "layers", "host_policy", true },
	[K_L_TRANSCRIPT_MB] = { "layers", "transcript_max_mb", false },
	[K_L_FILE_MB] = { "layers", "file_max_mb", false },
	[K_L_DISK_MB] = { "layers", "disk_mb", false },
	[K_L_SEBEK_PORT] = { "layers", "sebek_port", false },
	[K_LS_LISTEN] = { "logserver", "listen", true },
	[K_LS_MAX_MESSAGE] = { "logserver", "max_message", false },
	[K_LS_PEER_RATE] = { "logserver", "peer_rate", false },
	[K_LS_MAX_PEERS] = { "logserver", "max_peers", false },
};

_Static_assert(K_COUNT <= 64, "struct ctx seen[] is too small");

static const char *const sections[] = {
	"honeynet", "control", "capture", "run", "engine", "layers", "logserver",
};

static bool
section_known(const char *s)
{
	for (size_t i = 0; i < nitems(sections); i++)
		if (strcmp(s, sections[i]) == 0)
			return true;
	return false;
}

static int
key_find(const char *section, const char *name)
{
	for (int i = 0; i < K_COUNT; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return i;
	return -1;
}

/* "PREFIX POLICY", e.g. "10.0.0.5 windows" or "2001:db8::/64 linux". */
static const char *
host_policy_add(struct ctx *c, const char *elem, const char *show)
{
	struct fb_host_policy hp;
	const char *sp = strchr(elem, ' ');
	char pfx[FB_ADDRSTRLEN + 8];

	if (sp == NULL || (size_t)(sp - elem) >= sizeof(pfx))
		return why(c, "%s is not PREFIX POLICY (e.g. 10.0.0.5 windows)", show);
	memcpy(pfx, elem, (size_t)(sp - elem));
	pfx[sp - elem] = '\0';
	while (*sp == ' ')
		sp++;
	if (prefix_parse(pfx, &hp.pfx) == -1)
		return why(c, "%s: %s is not an address or network", show, pfx);
	if (policy_parse(sp, &hp.policy) == -1)
		return why(c, "%s: policy must be first, last, bsd, bsd-right, linux, "
		    "windows or solaris", show);
	c->cfg->host_policies = grow(c->cfg->host_policies, &c->pol_cap,
	    c->cfg->n_host_policies, sizeof(hp));
	c->cfg->host_policies[c->cfg->n_host_policies++] = hp;
	return NULL;
}

/* udp:ADDR[:PORT] or tcp:ADDR[:PORT]; IPv6 with a port as [ADDR]:PORT. */
static const char *
listen_add(struct ctx *c, const char *elem, const char *show)
{
	struct fb_listen l = { .port = 514 };
	char host[FB_ADDRSTRLEN + 2];
	const char *rest, *colon;
	uint64_t port;
	size_t n;

	if (strncasecmp(elem, "udp:", 4) == 0)
		l.proto = IPPROTO_UDP;
	else if (strncasecmp(elem, "tcp:", 4) == 0)
		l.proto = IPPROTO_TCP;
	else
		return why(c, "%s must start with udp: or tcp:", show);
	rest = elem + 4;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (close == NULL)
			return why(c, "%s: [ without ]", show);
		n = (size_t)(close - rest - 1);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			return why(c, "%s: text after ]", show);
		rest++;
	} else {
		colon = strchr(rest, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address, no port */
		n = colon != NULL ? (size_t)(colon - rest) : strlen(rest);
	}
	if (n == 0 || n >= sizeof(host))
		return why(c, "%s: no address", show);
	memcpy(host, rest, n);
	host[n] = '\0';
	if (addr_parse(host, &l.addr) == -1)
		return why(c, "%s: %s is not an address", show, host);
	if (colon != NULL) {
		if (parse_u64(colon + 1, strlen(colon + 1), 65535, &port) == -1 || port == 0)
			return why(c, "%s: port must be 1 to 65535", show);
		l.port = (uint16_t)port;
	}
	c->cfg->listen = grow(c->cfg->listen, &c->listen_cap, c->cfg->n_listen, sizeof(l));
	c->cfg->listen[c->cfg->n_listen++] = l;
	return NULL;
}

static const char *
list_add(struct ctx *c, int key, const char *elem)
{
	struct fb_config *cfg = c->cfg;
	char show[SHOW_MAX * 4 + 4];
	struct fb_prefix pfx;
	struct fb_addr a;
	struct fb_dest d;

	sanitize(show, sizeof(show), elem, SHOW_MAX);
	switch (key) {
	case K_NETWORKS:
		if (prefix_parse(elem, &pfx) == -1)
			return why(c, "%s is not a network (ADDR/LEN)", show);
		if (pfx.len == 0 || (pfx.len == 96 && addr_is_v4(&pfx.addr)))
			return why(c, "%s would make every address a honeypot", show);
		cfg->networks = grow(cfg->networks, &c->net_cap, cfg->n_networks,
		    sizeof(*cfg->networks));
		cfg->networks[cfg->n_networks++] = pfx;
		return NULL;
	case K_HONEYPOTS:
		if (addr_parse(elem, &a) == -1)
			return why(c, "%s is not an address", show);
		if (addr_is_unspecified(&a) || addr_is_multicast(&a))
			return why(c, "%s is not a host address", show);
		/* Checked here when networks came first (the usual order),
		 * after the whole file otherwise. */
		if (c->seen[K_NETWORKS] != 0 && !config_in_networks(cfg, &a))
			return why(c, "%s is not in networks", show);
		cfg->honeypots = grow(cfg->honeypots, &c->hp_cap, cfg->n_honeypots,
		    sizeof(*cfg->honeypots));
		c->hp_src = grow(c->hp_src, &c->hp_src_cap, cfg->n_honeypots,
		    sizeof(*c->hp_src));
		c->hp_src[cfg->n_honeypots].line = c->lineno;
		cfg->honeypots[cfg->n_honeypots++] = a;
		return NULL;
	case K_EXEMPT:
	case K_DENY:
		if (dest_parse(elem, &d) == -1)
			return why(c, "%s is not a destination "
			    "(ADDR[/LEN][:PORT][/tcp|/udp], IPv6 with a port in [ ])", show);
		if (key == K_EXEMPT) {
			cfg->exempt = grow(cfg->exempt, &c->exempt_cap, cfg->n_exempt,
			    sizeof(*cfg->exempt));
			cfg->exempt[cfg->n_exempt++] = d;
		} else {
			cfg->deny = grow(cfg->deny, &c->deny_cap, cfg->n_deny,
			    sizeof(*cfg->deny));
			cfg->deny[cfg->n_deny++] = d;
		}
		return NULL;
	case K_L_HOST_POLICY:
		return host_policy_add(c, elem, show);
	case K_LS_LISTEN:
		return listen_add(c, elem, show);
	default:
		return "not a list";
	}
}

/* Sets one scalar key; NULL or why. */
static const char *
set_scalar(struct ctx *c, int key, const char *v)
{
	struct fb_config *cfg = c->cfg;
	uint64_t x;
	const char *w;
	int ch;

	switch (key) {
	case K_OUTSIDE:
	case K_INSIDE: {
		char *dst = key == K_OUTSIDE ? cfg->outside : cfg->inside;
		const char *other = key == K_OUTSIDE ? cfg->inside : cfg->outside;

		if ((w = p_ifname(v, dst)) != NULL)
			return w;
		if (strcmp(cfg->outside, cfg->inside) == 0 && other[0] != '\0')
			return "outside and inside must be different interfaces";
		return NULL;
	}
	case K_TCP:
	case K_UDP:
	case K_ICMP:
	case K_OTHER:
		return p_limit(c, v, &cfg->limit[key - K_TCP]);
	case K_RATE:
		return p_rate(c, v, &cfg->rate_bps);
	case K_ON_LIMIT:
		if (p_choice(v, "block", "alert", &ch) == NULL)
			return "must be block or alert";
		cfg->on_limit = ch ? ON_LIMIT_ALERT : ON_LIMIT_BLOCK;
		return NULL;
	case K_DIR:
		return p_path(v, PATH_MAX - 64, &cfg->capture_dir);
	case K_ROTATE_MB:
		if ((w = p_uint(c, v, 1, 1048576, &x)) != NULL)
			return w;
		cfg->rotate_bytes = x * MIB;
		return NULL;
	case K_KEEP_DAYS:
		return p_u32(c, v, 0, 36500, &cfg->keep_days);
	case K_MIN_FREE_MB:
		if ((w = p_uint(c, v, 0, 1ULL << 30, &x)) != NULL)
			return w;
		cfg->min_free_bytes = x * MIB;
		return NULL;
	case K_ON_FAILURE:
		if (p_choice(v, "block", "forward", &ch) == NULL)
			return "must be block or forward";
		cfg->on_failure = ch ? ON_FAILURE_FORWARD : ON_FAILURE_BLOCK;
		return NULL;
	case K_USER:
		return p_user(v, &cfg->run_user);
	case K_SOCKET:
		return p_path(v, sizeof(((struct sockaddr_un *)0)->sun_path),
		    &cfg->socket_path);
	case K_MAX_FLOWS:
		return p_u32(c, v, 16, 16777216, &cfg->max_flows);
	case K_MAX_HONEYPOTS:
		return p_u32(c, v, 1, 1048576, &cfg->max_honeypots);
	case K_RING_MB:
		return p_u32(c, v, 1, 4096, &cfg->ring_mb);
	case K_OPENERS_RING_MB:
		return p_u32(c, v, 0, 4096, &cfg->openers_ring_mb);
	case K_KNOWN_FLOWS:
		if (p_choice(v, "no", "yes", &ch) == NULL)
			return "must be yes or no";
		cfg->known_flows = ch == 1;
		return NULL;
	case K_FAST_PATH:
		if (p_choice(v, "no", "yes", &ch) == NULL)
			return "must be yes or no";
		cfg->fast_path = ch == 1;
		return NULL;
	case K_FAST_PATH_MB:
		return p_u32(c, v, 1, 1024, &cfg->fast_path_mb);
	case K_MALFORMED:
		if (p_choice(v, "drop", "forward", &ch) == NULL)
			return "must be drop or forward";
		cfg->malformed = ch ? MALFORMED_FORWARD : MALFORMED_DROP;
		return NULL;
	case K_TO_EMBRYONIC:
		return p_duration(c, v, &cfg->timeout_tcp_embryonic);
	case K_TO_ESTABLISHED:
		return p_duration(c, v, &cfg->timeout_tcp_established);
	case K_TO_CLOSED:
		return p_duration(c, v, &cfg->timeout_tcp_closed);
	case K_TO_UDP:
		return p_duration(c, v, &cfg->timeout_udp);
	case K_TO_OTHER:
		return p_duration(c, v, &cfg->timeout_other);
	case K_L_ENABLE:
		if (p_choice(v, "no", "yes", &ch) == NULL)
			return "must be yes or no";
		cfg->layers = ch == 1;
		return NULL;
	case K_L_MEMORY_MB:
		return p_mib(c, v, 1, 65536, &cfg->layers_memory_bytes);
	case K_L_POLICY:
		if (policy_parse(v, &cfg->policy) == -1)
			return "must be first, last, bsd, bsd-right, linux, windows or solaris";
		return NULL;
	case K_L_TRANSCRIPT_MB:
		return p_mib(c, v, 1, 1048576, &cfg->transcript_max_bytes);
	case K_L_FILE_MB:
		return p_mib(c, v, 1, 1048576, &cfg->file_max_bytes);
	case K_L_DISK_MB:
		return p_mib(c, v, 1, 1ULL << 30, &cfg->layers_disk_bytes);
	case K_L_SEBEK_PORT:
		if ((w = p_uint(c, v, 0, 65535, &x)) != NULL)
			return w;
		cfg->sebek_port = (uint16_t)x;
		return NULL;
	case K_LS_MAX_MESSAGE:
		return p_u32(c, v, 480, 65536, &cfg->log_max_message);
	case K_LS_PEER_RATE:
		return p_u32(c, v, 1, 1000000, &cfg->log_peer_rate);
	case K_LS_MAX_PEERS:
		return p_u32(c, v, 1, 65536, &cfg->log_max_peers);
	default:
		return "unknown key";
	}
}

/* inih's handler: 1 to go on, 0 on error (the reader then stops). */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct ctx *c = user;
	const char *w;
	int key;
	bool cont;

	if (c->failed)
		return 0;
	if (section[0] == '\0') {
		fail_kv(c, section, name, value, "key before any [section]");
		return 0;
	}
	if ((key = key_find(section, name)) == -1) {
		fail_kv(c, section, name, value, "unknown key");
		return 0;
	}
	/* inih hands an indented line to the previous key as more of its
	 * value (Python configparser style).  Lists may go on that way; any
	 * other key must not, and an indented "key = value" would otherwise
	 * silently become part of the previous value. */
	cont = c->indented && c->last_key == key;
	if (cont && !keys[key].list) {
		fail_kv(c, section, name, value, "indented line continues the "
		    "previous value; only lists may go on over lines");
		return 0;
	}
	if (!cont && c->seen[key] != 0) {
		w = why(c, "duplicate key (first set on line %d)", c->seen[key]);
		fail_kv(c, section, name, value, w);
		return 0;
	}
	if (!cont) {
		c->seen[key] = c->lineno;
		c->last_key = key;
	}
	w = keys[key].list ? p_list(c, key, value) : set_scalar(c, key, value);
	if (w != NULL) {
		fail_kv(c, section, name, value, w);
		return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* The reader: one line per call, with our own line count. */

static bool
blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* Length of s[0..n) before a ';' or '#' comment that follows blank space
 * (or starts the line). */
static size_t
uncommented_len(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] == ';' || s[i] == '#') && (i == 0 || blank(s[i - 1])))
			return i;
	return n;
}

/* A section header line (already trimmed): checked here, since inih
 * ignores anything after ']' and never reports an empty section. */
static void
check_header(struct ctx *c, const char *s)
{
	const char *close = strchr(s, ']');
	char name[64], show[SHOW_MAX * 4 + 4];
	size_t n;

	if (close == NULL) {
		sanitize(show, sizeof(show), s, SHOW_MAX);
		fail(c, c->lineno, "%s: section header without ']'", show);
		return;
	}
	if (close[1] != '\0') {
		sanitize(show, sizeof(show), s, SHOW_MAX);
		fail(c, c->lineno, "%s: text after the section header", show);
		return;
	}
	n = (size_t)(close - s - 1);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (!section_known(name)) {
		sanitize(show, sizeof(show), name, SHOW_MAX);
		fail(c, c->lineno, "[%s]: unknown section (known: honeynet, "
		    "control, capture, run, engine, layers, logserver)", show);
	}
}

static char *
reader(char *buf, int num, void *stream)
{
	struct ctx *c = stream;
	const char *line, *nl, *s;
	size_t n, len;

	if (c->failed || c->pos >= c->len)
		return NULL;
	line = c->text + c->pos;
	nl = memchr(line, '\n', c->len - c->pos);
	n = nl != NULL ? (size_t)(nl - line) : c->len - c->pos;
	c->pos += n + (nl != NULL);
	c->lineno++;
	if (c->lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;	/* a UTF-8 byte order mark */
		n -= 3;
	}
	/* Comments and blank space go here, so that only what inih needs
	 * has to fit its buffer: a long comment is fine. */
	n = uncommented_len(line, n);
	for (s = line; s < line + n && blank(*s); s++)
		;
	len = n - (size_t)(s - line);
	while (len > 0 && blank(s[len - 1]))
		len--;
	c->indented = s != line && len > 0;
	if (num < 3 || len + c->indented > (size_t)num - 2) {
		fail(c, c->lineno, "line longer than %d bytes (lists can go on "
		    "over indented lines)", num > 2 ? num - 2 : 0);
		return NULL;
	}
	/* inih gets the trimmed line, with one blank in front if it was
	 * indented, so that its continuation rule sees the same thing. */
	buf[0] = ' ';
	memcpy(buf + c->indented, s, len);
	buf[c->indented + len] = '\0';
	s = buf + c->indented;
	/* The same decisions inih is about to take on this line. */
	if (len == 0 || (c->indented && c->last_key != -1)) {
		/* blank, or more of the last key's value */
	} else if (*s == '[') {
		check_header(c, s);
		c->last_key = -1;	/* as inih forgets the previous name */
	} else if (strpbrk(s, "=:") == NULL) {
		char show[SHOW_MAX * 4 + 4];

		sanitize(show, sizeof(show), s, SHOW_MAX);
		fail(c, c->lineno, "%s: expected [section] or key = value", show);
	}
	if (c->failed)
		return NULL;
	len += c->indented;
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */

static void
config_defaults(struct fb_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->limit[CLASS_TCP] = (struct fb_limit){ LIMIT_COUNT, 5, NS_PER_DAY };
	cfg->limit[CLASS_UDP] = (struct fb_limit){ LIMIT_COUNT, 5, NS_PER_DAY };
	cfg->limit[CLASS_ICMP] = (struct fb_limit){ LIMIT_BLOCK, 0, 0 };
	cfg->limit[CLASS_OTHER] = (struct fb_limit){ LIMIT_BLOCK, 0, 0 };
	cfg->rate_bps = 512000;
	cfg->on_limit = ON_LIMIT_BLOCK;
	cfg->capture_dir = xstrdup("/var/lib/fishbowl");
	cfg->rotate_bytes = 512 * MIB;
	cfg->keep_days = 0;
	cfg->min_free_bytes = 1024 * MIB;
	cfg->on_failure = ON_FAILURE_BLOCK;
	cfg->run_user = xstrdup("nobody");
	cfg->socket_path = xstrdup("/run/fishbowl/control.sock");
	cfg->max_flows = 65536;
	cfg->max_honeypots = 4096;
	cfg->ring_mb = 64;
	cfg->openers_ring_mb = 8;	/* ring_mb / 8 unless set (check_whole) */
	cfg->known_flows = true;
	cfg->fast_path = true;
	cfg->fast_path_mb = 64;
	cfg->malformed = MALFORMED_DROP;
	cfg->timeout_tcp_embryonic = 30 * FB_NS_PER_SEC;
	cfg->timeout_tcp_established = 2 * NS_PER_HOUR;
	cfg->timeout_tcp_closed = 10 * FB_NS_PER_SEC;
	cfg->timeout_udp = 60 * FB_NS_PER_SEC;
	cfg->timeout_other = 60 * FB_NS_PER_SEC;
	cfg->layers = true;
	cfg->layers_memory_bytes = 256 * MIB;
	cfg->policy = POLICY_LINUX;
	cfg->transcript_max_bytes = 64 * MIB;
	cfg->file_max_bytes = 64 * MIB;
	cfg->layers_disk_bytes = 8192 * MIB;
	cfg->sebek_port = 1101;
	cfg->log_max_message = 8192;
	cfg->log_peer_rate = 1000;
	cfg->log_max_peers = 256;
}

/* The text of line n (1-based) of the input, sanitised, for syntax errors. */
static void
line_text(const struct ctx *c, int n, char *out, size_t outlen)
{
	const char *p = c->text, *end = c->text + c->len, *nl;
	char tmp[SHOW_MAX + 1];
	size_t len;

	for (int i = 1; i < n && p < end; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl != NULL ? nl + 1 : end;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	len = (size_t)((nl != NULL ? nl : end) - p);
	while (len > 0 && blank(p[len - 1]))
		len--;
	while (len > 0 && blank(*p)) {
		p++;
		len--;
	}
	if (len > SHOW_MAX) {
		memcpy(tmp, p, SHOW_MAX);
		tmp[SHOW_MAX] = '\0';
		sanitize(out, outlen, tmp, SHOW_MAX);
		fb_strlcpy(out + strlen(out), "...", outlen - strlen(out));
	} else {
		memcpy(tmp, p, len);
		tmp[len] = '\0';
		sanitize(out, outlen, tmp, SHOW_MAX);
	}
}

struct hp_sort {
	struct fb_addr	 a;
	int		 line;
};

static int
hp_sort_cmp(const void *x, const void *y)
{
	const struct hp_sort *p = x, *q = y;
	int c = addr_cmp(&p->a, &q->a);

	return c != 0 ? c : (p->line > q->line) - (p->line < q->line);
}

/* After the whole file: what needs all of it. */
static void
check_whole(struct ctx *c)
{
	struct fb_config *cfg = c->cfg;
	struct hp_sort *v, *dup = NULL;
	char a[FB_ADDRSTRLEN];
	size_t i;

	/* Unset: an eighth of the main ring (at least 1 MiB). */
	if (c->seen[K_OPENERS_RING_MB] == 0)
		cfg->openers_ring_mb = FB_MAX(cfg->ring_mb / 8, 1u);
	/* Unset: as big as the main ring. */
	if (c->seen[K_FAST_PATH_MB] == 0)
		cfg->fast_path_mb = cfg->ring_mb;
	if (cfg->n_networks == 0) {
		fail(c, 0, "[honeynet] networks: required");
		return;
	}
	/* Honeypots listed before networks could not be checked then. */
	for (i = 0; i < cfg->n_honeypots; i++) {
		if (!config_in_networks(cfg, &cfg->honeypots[i])) {
			addr_fmt(&cfg->honeypots[i], a);
			fail(c, c->hp_src[i].line, "[honeynet] honeypots = %s: "
			    "%s is not in networks", a, a);
			return;
		}
	}
	if (cfg->n_honeypots > cfg->max_honeypots) {
		fail(c, c->seen[K_HONEYPOTS], "[honeynet] honeypots: %zu "
		    "honeypots, more than [engine] max_honeypots = %u",
		    cfg->n_honeypots, cfg->max_honeypots);
		return;
	}
	/* Duplicates, sorted so that a long list stays cheap; the one
	 * reported is the repeat that comes first in the file. */
	if (cfg->n_honeypots < 2)
		return;
	v = xcalloc(cfg->n_honeypots, sizeof(*v));
	for (i = 0; i < cfg->n_honeypots; i++)
		v[i] = (struct hp_sort){ cfg->honeypots[i], c->hp_src[i].line };
	qsort(v, cfg->n_honeypots, sizeof(*v), hp_sort_cmp);
	for (i = 1; i < cfg->n_honeypots; i++)
		if (addr_eq(&v[i].a, &v[i - 1].a) &&
		    (dup == NULL || v[i].line < dup->line))
			dup = &v[i];
	if (dup != NULL) {
		addr_fmt(&dup->a, a);
		/* dup[-1] is the earliest line of that address before it */
		fail(c, dup->line, "[honeynet] honeypots = %s: listed twice "
		    "(also on line %d)", a, dup[-1].line);
	}
	free(v);
}

static int
config_parse(const char *name, const char *text, size_t len,
    struct fb_config *cfg, char *err, size_t errlen)
{
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.text = text;
	c.len = len;
	c.cfg = cfg;
	c.err = err;
	c.errlen = errlen;
	c.last_key = -1;
	if (errlen > 0)
		err[0] = '\0';
	config_defaults(cfg);
	cfg->path = xstrdup(name);

	rc = ini_parse_stream(reader, &c, handler, &c);
	if (rc > 0 && (!c.failed || rc < c.fail_line)) {
		/* inih's own complaint about a line (the reader should have
		 * caught it first): it goes on reading, so it may be earlier
		 * than ours. */
		char show[SHOW_MAX * 4 + 8];

		c.failed = false;
		line_text(&c, rc, show, sizeof(show));
		fail(&c, rc, "%s: expected [section] or key = value", show);
	} else if (rc < 0 && !c.failed) {
		fail(&c, 0, "cannot parse (inih error %d)", rc);
	}
	if (!c.failed)
		check_whole(&c);
	free(c.hp_src);
	if (c.failed) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

int
config_load_string(const char *name, const char *text, struct fb_config *cfg,
    char *err, size_t errlen)
{
	if (name == NULL)
		name = "(string)";
	if (text == NULL)
		text = "";
	return config_parse(name, text, strlen(text), cfg, err, errlen);
}

int
config_load(const char *path, struct fb_config *cfg, char *err, size_t errlen)
{
	char name[512], *buf = NULL;
	size_t len = 0;
	ssize_t r;
	struct stat st;
	int fd, rc;
	const char *nul;

	memset(cfg, 0, sizeof(*cfg));
	sanitize(name, sizeof(name), path, 400);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	/* O_NONBLOCK so a FIFO cannot hang us before this check. */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", name);
		close(fd);
		return -1;
	}
	buf = xcalloc(1, CONFIG_MAX_BYTES + 1);
	for (;;) {
		r = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_MAX_BYTES) {
			snprintf(err, errlen, "%s: larger than %d bytes", name,
			    CONFIG_MAX_BYTES);
			goto fail;
		}
	}
	close(fd);
	fd = -1;
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		int line = 1;

		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		snprintf(err, errlen, "%s:%d: NUL byte in the file", name, line);
		goto fail;
	}
	rc = config_parse(path, buf, len, cfg, err, errlen);
	free(buf);
	return rc;
fail:
	if (fd != -1)
		close(fd);
	free(buf);
	return -1;
}

void
config_free(struct fb_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->networks);
	free(cfg->honeypots);
	free(cfg->exempt);
	free(cfg->deny);
	free(cfg->capture_dir);
	free(cfg->run_user);
	free(cfg->socket_path);
	free(cfg->host_policies);
	free(cfg->listen);
	memset(cfg, 0, sizeof(*cfg));
}

static const char *const policy_names[POLICY_MAX] = {
	[POLICY_FIRST] = "first", [POLICY_LAST] = "last", [POLICY_BSD] = "bsd",
	[POLICY_BSD_RIGHT] = "bsd-right", [POLICY_LINUX] = "linux",
	[POLICY_WINDOWS] = "windows", [POLICY_SOLARIS] = "solaris",
};

const char *
policy_name(enum fb_policy p)
{
	return (unsigned)p < POLICY_MAX ? policy_names[p] : "?";
}

int
policy_parse(const char *s, enum fb_policy *out)
{
	for (int i = 0; i < POLICY_MAX; i++)
		if (strcasecmp(s, policy_names[i]) == 0) {
			*out = (enum fb_policy)i;
			return 0;
		}
	return -1;
}

enum fb_policy
config_policy_for(const struct fb_config *cfg, const struct fb_addr *a)
{
	const struct fb_host_policy *best = NULL;

	for (size_t i = 0; i < cfg->n_host_policies; i++) {
		const struct fb_host_policy *hp = &cfg->host_policies[i];
		if (prefix_contains(&hp->pfx, a) && (best == NULL || hp->pfx.len > best->pfx.len))
			best = hp;
	}
	return best != NULL ? best->policy : cfg->policy;
}

bool
config_in_networks(const struct fb_config *cfg, const struct fb_addr *a)
{
	for (size_t i = 0; i < cfg->n_networks; i++)
		if (prefix_contains(&cfg->networks[i], a))
			return true;
	return false;
}

bool
config_is_honeypot(const struct fb_config *cfg, const struct fb_addr *a)
{
	if (cfg->n_honeypots == 0)
		return config_in_networks(cfg, a);
	for (size_t i = 0; i < cfg->n_honeypots; i++)
		if (addr_eq(&cfg->honeypots[i], a))
			return true;
	return false;
}

const char *
class_name(enum fb_class cls)
{
	switch (cls) {
	case CLASS_TCP:
		return "tcp";
	case CLASS_UDP:
		return "udp";
	case CLASS_ICMP:
		return "icmp";
	case CLASS_OTHER:
		return "other";
	default:
		return "?";
	}
}

void
limit_fmt(const struct fb_limit *l, char *buf, size_t len)
{
	switch (l->kind) {
	case LIMIT_ALLOW:
		snprintf(buf, len, "allow");
		return;
	case LIMIT_BLOCK:
		snprintf(buf, len, "block");
		return;
	case LIMIT_COUNT:
		break;
	default:
		snprintf(buf, len, "?");
		return;
	}
	if (l->period == 0)
		snprintf(buf, len, "%u/total", l->n);
	else if (l->period == NS_PER_MIN)
		snprintf(buf, len, "%u/minute", l->n);
	else if (l->period == NS_PER_HOUR)
		snprintf(buf, len, "%u/hour", l->n);
	else if (l->period == NS_PER_DAY)
		snprintf(buf, len, "%u/day", l->n);
	else
		snprintf(buf, len, "%u/%llds", l->n,
		    (long long)(l->period / FB_NS_PER_SEC));
}
