/*
 * Unit tests of config: defaults, every key, every kind of error with its
 * exact "FILE:LINE: [section] key = value: why" text, comments, continued
 * lists, hostile bytes in messages, loading from files (and the shipped
 * examples/fishbowl.conf), membership, limit_fmt and class_name.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "config.h"

#define NET	"[honeynet]\nnetworks = 10.0.0.0/24\n"	/* lines 1-2 */
#define SEC	(1000000000LL)

static char err[1024];

static int
load(const char *text, struct fb_config *c)
{
	err[0] = '\0';
	return config_load_string("t.conf", text, c, err, sizeof(err));
}

static void
ok(const char *text, struct fb_config *c)
{
	if (load(text, c) != 0)
		fail_msg("unexpected error: %s\n--- config:\n%s", err, text);
}

/* Loading fails with exactly this message, and leaves cfg empty. */
static void
bad(const char *text, const char *want)
{
	static const struct fb_config zero;
	struct fb_config c;

	memset(&c, 0xa5, sizeof(c));
	if (load(text, &c) != -1)
		fail_msg("accepted:\n%s", text);
	if (strcmp(err, want) != 0)
		fail_msg("--- config:\n%s--- want: %s\n--- got:  %s", text, want, err);
	assert_memory_equal(&c, &zero, sizeof(c));
}

static struct fb_addr
A(const char *s)
{
	struct fb_addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	return a;
}

static void
test_defaults(void **state)
{
	struct fb_config c;
	char buf[32];

	(void)state;
	ok(NET, &c);
	assert_string_equal(c.path, "t.conf");
	assert_string_equal(c.outside, "");
	assert_string_equal(c.inside, "");
	assert_int_equal(c.n_networks, 1);
	assert_int_equal(c.n_honeypots, 0);
	assert_null(c.honeypots);
	limit_fmt(&c.limit[CLASS_TCP], buf, sizeof(buf));
	assert_string_equal(buf, "5/day");
	limit_fmt(&c.limit[CLASS_UDP], buf, sizeof(buf));
	assert_string_equal(buf, "5/day");
	assert_int_equal(c.limit[CLASS_TCP].kind, LIMIT_COUNT);
	assert_int_equal(c.limit[CLASS_TCP].n, 5);
	assert_int_equal(c.limit[CLASS_TCP].period, 86400 * SEC);
	assert_int_equal(c.limit[CLASS_ICMP].kind, LIMIT_BLOCK);
	assert_int_equal(c.limit[CLASS_OTHER].kind, LIMIT_BLOCK);
	assert_int_equal(c.rate_bps, 512000);
	assert_int_equal(c.n_exempt, 0);
	assert_int_equal(c.n_deny, 0);
	assert_int_equal(c.on_limit, ON_LIMIT_BLOCK);
	assert_string_equal(c.capture_dir, "/var/lib/fishbowl");
	assert_int_equal(c.rotate_bytes, 512ULL << 20);
	assert_int_equal(c.keep_days, 0);
	assert_int_equal(c.min_free_bytes, 1024ULL << 20);
	assert_int_equal(c.on_failure, ON_FAILURE_BLOCK);
	assert_string_equal(c.run_user, "nobody");
	assert_string_equal(c.socket_path, "/run/fishbowl/control.sock");
	assert_int_equal(c.max_flows, 65536);
	assert_int_equal(c.max_honeypots, 4096);
	assert_int_equal(c.ring_mb, 64);
	assert_int_equal(c.openers_ring_mb, 8);
	assert_int_equal(c.malformed, MALFORMED_DROP);
	assert_int_equal(c.timeout_tcp_embryonic, 30 * SEC);
	assert_int_equal(c.timeout_tcp_established, 7200 * SEC);
	assert_int_equal(c.timeout_tcp_closed, 10 * SEC);
	assert_int_equal(c.timeout_udp, 60 * SEC);
	assert_int_equal(c.timeout_other, 60 * SEC);
	config_free(&c);
	/* config_free leaves a zeroed struct and may be called again. */
	config_free(&c);
	assert_null(c.path);
}

static void
test_every_key(void **state)
{
	struct fb_config c;
	char buf[FB_ADDRSTRLEN + 4];

	(void)state;
	ok("; every key\n"
	    "[honeynet]\n"
	    "outside = eth1\n"
	    "inside = veth-hp0\n"
	    "networks = 192.0.2.0/24, 2001:db8:1::/64, 10.9.0.0/16\n"
	    "honeypots = 192.0.2.10, 2001:db8:1::10\n"
	    "[control]\n"
	    "tcp = 3/hour\n"
	    "udp = 65535/minute\n"
	    "icmp = 1/total\n"
	    "other = allow\n"
	    "rate = 10Mbit\n"
	    "exempt = 192.0.2.1:53/udp, [2001:db8:1::1]:53\n"
	    "deny = 198.51.100.0/24, 203.0.113.25:25/tcp\n"
	    "on_limit = alert\n"
	    "[capture]\n"
	    "dir = /srv/honeynet data\n"
	    "rotate_mb = 1048576\n"
	    "keep_days = 90\n"
	    "min_free_mb = 0\n"
	    "on_failure = forward\n"
	    "[run]\n"
	    "user = _fishbowl\n"
	    "socket = /tmp/fb.sock\n"
	    "[engine]\n"
	    "max_flows = 16\n"
	    "max_honeypots = 2\n"
	    "ring_mb = 4096\n"
	    "openers_ring_mb = 3\n"
	    "malformed = forward\n"
	    "timeout_tcp_embryonic = 5\n"
	    "timeout_tcp_established = 1d\n"
	    "timeout_tcp_closed = 1s\n"
	    "timeout_udp = 2m\n"
	    "timeout_other = 3h\n", &c);
	assert_string_equal(c.outside, "eth1");
	assert_string_equal(c.inside, "veth-hp0");
	assert_int_equal(c.n_networks, 3);
	assert_string_equal(prefix_fmt(&c.networks[0], buf), "192.0.2.0/24");
	assert_string_equal(prefix_fmt(&c.networks[1], buf), "2001:db8:1::/64");
	assert_string_equal(prefix_fmt(&c.networks[2], buf), "10.9.0.0/16");
	assert_int_equal(c.n_honeypots, 2);
	assert_string_equal(addr_fmt(&c.honeypots[0], buf), "192.0.2.10");
	assert_string_equal(addr_fmt(&c.honeypots[1], buf), "2001:db8:1::10");

	assert_int_equal(c.limit[CLASS_TCP].kind, LIMIT_COUNT);
	assert_int_equal(c.limit[CLASS_TCP].n, 3);
	assert_int_equal(c.limit[CLASS_TCP].period, 3600 * SEC);
	assert_int_equal(c.limit[CLASS_UDP].n, 65535);
	assert_int_equal(c.limit[CLASS_UDP].period, 60 * SEC);
	assert_int_equal(c.limit[CLASS_ICMP].kind, LIMIT_COUNT);
	assert_int_equal(c.limit[CLASS_ICMP].n, 1);
	assert_int_equal(c.limit[CLASS_ICMP].period, 0);
	assert_int_equal(c.limit[CLASS_OTHER].kind, LIMIT_ALLOW);
	assert_int_equal(c.rate_bps, 10000000);
	assert_int_equal(c.n_exempt, 2);
	assert_int_equal(c.exempt[0].port, 53);
	assert_int_equal(c.exempt[0].proto, IPPROTO_UDP);
	assert_int_equal(c.exempt[1].port, 53);
	assert_int_equal(c.exempt[1].proto, 0);
	assert_string_equal(prefix_fmt(&c.exempt[1].pfx, buf), "2001:db8:1::1/128");
	assert_int_equal(c.n_deny, 2);
	assert_string_equal(prefix_fmt(&c.deny[0].pfx, buf), "198.51.100.0/24");
	assert_int_equal(c.deny[1].proto, IPPROTO_TCP);
	assert_int_equal(c.on_limit, ON_LIMIT_ALERT);

	assert_string_equal(c.capture_dir, "/srv/honeynet data");
	assert_int_equal(c.rotate_bytes, 1ULL << 40);
	assert_int_equal(c.keep_days, 90);
	assert_int_equal(c.min_free_bytes, 0);
	assert_int_equal(c.on_failure, ON_FAILURE_FORWARD);
	assert_string_equal(c.run_user, "_fishbowl");
	assert_string_equal(c.socket_path, "/tmp/fb.sock");
	assert_int_equal(c.max_flows, 16);
	assert_int_equal(c.max_honeypots, 2);
	assert_int_equal(c.ring_mb, 4096);
	assert_int_equal(c.openers_ring_mb, 3);
	assert_int_equal(c.malformed, MALFORMED_FORWARD);
	assert_int_equal(c.timeout_tcp_embryonic, 5 * SEC);
	assert_int_equal(c.timeout_tcp_established, 86400 * SEC);
	assert_int_equal(c.timeout_tcp_closed, 1 * SEC);
	assert_int_equal(c.timeout_udp, 120 * SEC);
	assert_int_equal(c.timeout_other, 3 * 3600 * SEC);
	config_free(&c);
}

/* Unset, the openers' ring is an eighth of ring_mb (at least 1 MiB),
 * wherever ring_mb is set; set, it is what it says, 0 included. */
static void
test_openers_ring_mb(void **state)
{
	struct fb_config c;

	(void)state;
	ok(NET "[engine]\nring_mb = 16\n", &c);
	assert_int_equal(c.openers_ring_mb, 2);
	config_free(&c);
	ok("[engine]\nring_mb = 4\n" NET, &c);
	assert_int_equal(c.openers_ring_mb, 1);
	config_free(&c);
	ok(NET "[engine]\nopeners_ring_mb = 0\nring_mb = 16\n", &c);
	assert_int_equal(c.openers_ring_mb, 0);
	config_free(&c);
	ok(NET "[engine]\nopeners_ring_mb = 4096\nring_mb = 1\n", &c);
	assert_int_equal(c.openers_ring_mb, 4096);
	config_free(&c);
}

/* The fast path: off unless asked; its ring buffer as big as the main
 * ring unless set; bad values named with their line. */
static void
test_fast_path(void **state)
{
	struct fb_config c;

	(void)state;
	ok(NET "[engine]\nring_mb = 16\n", &c);
	assert_true(c.fast_path);		/* the default */
	assert_int_equal(c.fast_path_mb, 16);
	config_free(&c);
	ok(NET "[engine]\nfast_path = yes\nfast_path_mb = 128\nring_mb = 16\n", &c);
	assert_true(c.fast_path);
	assert_int_equal(c.fast_path_mb, 128);
	config_free(&c);
	ok(NET "[engine]\nfast_path = no\n", &c);
	assert_false(c.fast_path);
	config_free(&c);
	bad(NET "[engine]\nfast_path = maybe\n",
	    "t.conf:4: [engine] fast_path = maybe: must be yes or no");
	bad(NET "[engine]\nfast_path_mb = 0\n",
	    "t.conf:4: [engine] fast_path_mb = 0: must be a whole number from 1 to 1024");
}

static void
test_limits(void **state)
{
	static const struct { const char *v, *fmt; } t[] = {
		{ "allow", "allow" }, { "block", "block" }, { "BLOCK", "block" },
		{ "1/minute", "1/minute" }, { "5/hour", "5/hour" },
		{ "5/day", "5/day" }, { "5/total", "5/total" },
		{ "65535/day", "65535/day" },
	};
	struct fb_config c;
	char text[128], buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), NET "[control]\nudp = %s\n", t[i].v);
		ok(text, &c);
		limit_fmt(&c.limit[CLASS_UDP], buf, sizeof(buf));
		assert_string_equal(buf, t[i].fmt);
		config_free(&c);
	}
	bad(NET "[control]\ntcp = 5/fortnight\n",
	    "t.conf:4: [control] tcp = 5/fortnight: period must be minute, hour, day or total");
	bad(NET "[control]\ntcp = 0/day\n",
	    "t.conf:4: [control] tcp = 0/day: count must be a whole number from 1 to 65535");
	bad(NET "[control]\ntcp = 65536/day\n",
	    "t.conf:4: [control] tcp = 65536/day: count must be a whole number from 1 to 65535");
	bad(NET "[control]\ntcp = -1/day\n",
	    "t.conf:4: [control] tcp = -1/day: count must be a whole number from 1 to 65535");
	bad(NET "[control]\ntcp = /day\n",
	    "t.conf:4: [control] tcp = /day: count must be a whole number from 1 to 65535");
	bad(NET "[control]\ntcp = 5\n",
	    "t.conf:4: [control] tcp = 5: must be N/PERIOD (e.g. 5/day), allow or block");
	bad(NET "[control]\ntcp = 5/day/x\n",
	    "t.conf:4: [control] tcp = 5/day/x: period must be minute, hour, day or total");
	bad(NET "[control]\ntcp = 5 / day\n",
	    "t.conf:4: [control] tcp = 5 / day: count must be a whole number from 1 to 65535");
	bad(NET "[control]\nicmp = allowed\n",
	    "t.conf:4: [control] icmp = allowed: must be N/PERIOD (e.g. 5/day), allow or block");
	bad(NET "[control]\nother =\n",
	    "t.conf:4: [control] other = : must be N/PERIOD (e.g. 5/day), allow or block");
}

static void
test_rates(void **state)
{
	static const struct { const char *v; uint64_t bps; } t[] = {
		{ "allow", 0 }, { "1bit", 1 }, { "512kbit", 512000 },
		{ "800kbit", 800000 }, { "1mbit", 1000000 }, { "10Mbit", 10000000 },
		{ "2gbit", 2000000000ULL }, { "100bps", 800 }, { "100kbps", 800000 },
		{ "1mbps", 8000000 }, { "1000gbit", 1000000000000ULL },
		{ "125gbps", 1000000000000ULL },
	};
	struct fb_config c;
	char text[128];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), NET "[control]\nrate = %s\n", t[i].v);
		ok(text, &c);
		assert_int_equal(c.rate_bps, t[i].bps);
		config_free(&c);
	}
	bad(NET "[control]\nrate = 512\n",
	    "t.conf:4: [control] rate = 512: unit must be bit, kbit, mbit, gbit "
	    "(bits per second) or bps, kbps, mbps, gbps (bytes per second)");
	bad(NET "[control]\nrate = 512kb\n",
	    "t.conf:4: [control] rate = 512kb: unit must be bit, kbit, mbit, gbit "
	    "(bits per second) or bps, kbps, mbps, gbps (bytes per second)");
	bad(NET "[control]\nrate = 1.5mbit\n",
	    "t.conf:4: [control] rate = 1.5mbit: unit must be bit, kbit, mbit, gbit "
	    "(bits per second) or bps, kbps, mbps, gbps (bytes per second)");
	bad(NET "[control]\nrate = 0kbit\n",
	    "t.conf:4: [control] rate = 0kbit: must be from 1bit to 1000gbit");
	bad(NET "[control]\nrate = 1001gbit\n",
	    "t.conf:4: [control] rate = 1001gbit: must be from 1bit to 1000gbit");
	bad(NET "[control]\nrate = 99999999999999999999999bit\n",
	    "t.conf:4: [control] rate = 99999999999999999999999bit: must be from 1bit to 1000gbit");
	bad(NET "[control]\nrate = fast\n",
	    "t.conf:4: [control] rate = fast: must be a rate like 512kbit or 10mbit, or allow");
	bad(NET "[control]\nrate = 512 kbit\n",
	    "t.conf:4: [control] rate = 512 kbit: unit must be bit, kbit, mbit, gbit "
	    "(bits per second) or bps, kbps, mbps, gbps (bytes per second)");
}

static void
test_durations_and_numbers(void **state)
{
	struct fb_config c;

	(void)state;
	ok(NET "[engine]\ntimeout_udp = 30d\ntimeout_other = 2592000\n", &c);
	assert_int_equal(c.timeout_udp, 2592000 * SEC);
	assert_int_equal(c.timeout_other, 2592000 * SEC);
	config_free(&c);
	bad(NET "[engine]\ntimeout_udp = 0\n",
	    "t.conf:4: [engine] timeout_udp = 0: must be from 1s to 30d");
	bad(NET "[engine]\ntimeout_udp = 31d\n",
	    "t.conf:4: [engine] timeout_udp = 31d: must be from 1s to 30d");
	bad(NET "[engine]\ntimeout_udp = 99999999999999999999999d\n",
	    "t.conf:4: [engine] timeout_udp = 99999999999999999999999d: must be a duration: "
	    "N seconds, or Ns, Nm, Nh, Nd (e.g. 30s, 2h)");
	bad(NET "[engine]\ntimeout_tcp_closed = 10 s\n",
	    "t.conf:4: [engine] timeout_tcp_closed = 10 s: must be a duration: "
	    "N seconds, or Ns, Nm, Nh, Nd (e.g. 30s, 2h)");
	bad(NET "[engine]\ntimeout_tcp_closed = 1w\n",
	    "t.conf:4: [engine] timeout_tcp_closed = 1w: must be a duration: "
	    "N seconds, or Ns, Nm, Nh, Nd (e.g. 30s, 2h)");
	bad(NET "[engine]\ntimeout_tcp_closed = s\n",
	    "t.conf:4: [engine] timeout_tcp_closed = s: must be a duration: "
	    "N seconds, or Ns, Nm, Nh, Nd (e.g. 30s, 2h)");
	bad(NET "[engine]\nmax_flows = 15\n",
	    "t.conf:4: [engine] max_flows = 15: must be a whole number from 16 to 16777216");
	bad(NET "[engine]\nmax_flows = 16777217\n",
	    "t.conf:4: [engine] max_flows = 16777217: must be a whole number from 16 to 16777216");
	bad(NET "[engine]\nmax_flows = 0x100\n",
	    "t.conf:4: [engine] max_flows = 0x100: must be a whole number from 16 to 16777216");
	bad(NET "[engine]\nmax_flows = +100\n",
	    "t.conf:4: [engine] max_flows = +100: must be a whole number from 16 to 16777216");
	bad(NET "[engine]\nmax_flows = 100 flows\n",
	    "t.conf:4: [engine] max_flows = 100 flows: must be a whole number from 16 to 16777216");
	bad(NET "[engine]\nopeners_ring_mb = 4097\n",
	    "t.conf:4: [engine] openers_ring_mb = 4097: must be a whole number from 0 to 4096");
	bad(NET "[engine]\nopeners_ring_mb = -1\n",
	    "t.conf:4: [engine] openers_ring_mb = -1: must be a whole number from 0 to 4096");
	bad(NET "[engine]\nopeners_ring_mb = off\n",
	    "t.conf:4: [engine] openers_ring_mb = off: must be a whole number from 0 to 4096");
	bad(NET "[engine]\nring_mb = 0\n",
	    "t.conf:4: [engine] ring_mb = 0: must be a whole number from 1 to 4096");
	bad(NET "[engine]\nmax_honeypots = 0\n",
	    "t.conf:4: [engine] max_honeypots = 0: must be a whole number from 1 to 1048576");
	bad(NET "[engine]\nmalformed = pass\n",
	    "t.conf:4: [engine] malformed = pass: must be drop or forward");
	bad(NET "[capture]\nrotate_mb = 0\n",
	    "t.conf:4: [capture] rotate_mb = 0: must be a whole number from 1 to 1048576");
	bad(NET "[capture]\nrotate_mb = 18446744073709551617\n",
	    "t.conf:4: [capture] rotate_mb = 18446744073709551617: must be a whole number from 1 to 1048576");
	bad(NET "[capture]\nkeep_days = -1\n",
	    "t.conf:4: [capture] keep_days = -1: must be a whole number from 0 to 36500");
	bad(NET "[capture]\nmin_free_mb = lots\n",
	    "t.conf:4: [capture] min_free_mb = lots: must be a whole number from 0 to 1073741824");
	bad(NET "[capture]\non_failure = ignore\n",
	    "t.conf:4: [capture] on_failure = ignore: must be block or forward");
	bad(NET "[control]\non_limit = drop\n",
	    "t.conf:4: [control] on_limit = drop: must be block or alert");
}

static void
test_names_and_paths(void **state)
{
	struct fb_config c;

	(void)state;
	ok(NET "outside = abcdefghijklmno\n", &c);
	assert_string_equal(c.outside, "abcdefghijklmno");
	config_free(&c);
	bad(NET "outside = abcdefghijklmnop\n",
	    "t.conf:3: [honeynet] outside = abcdefghijklmnop: must be an interface name of 1 to 15 characters");
	bad(NET "inside = eth/1\n",
	    "t.conf:3: [honeynet] inside = eth/1: not an interface name (no '/', ':', spaces or control characters)");
	bad(NET "inside = eth 1\n",
	    "t.conf:3: [honeynet] inside = eth 1: not an interface name (no '/', ':', spaces or control characters)");
	bad(NET "inside = ..\n",
	    "t.conf:3: [honeynet] inside = ..: not an interface name");
	bad(NET "inside =\n",
	    "t.conf:3: [honeynet] inside = : must be an interface name of 1 to 15 characters");
	bad(NET "outside = eth0\ninside = eth0\n",
	    "t.conf:4: [honeynet] inside = eth0: outside and inside must be different interfaces");
	bad(NET "[capture]\ndir = var/lib/fishbowl\n",
	    "t.conf:4: [capture] dir = var/lib/fishbowl: must be an absolute path");
	bad(NET "[capture]\ndir =\n",
	    "t.conf:4: [capture] dir = : must be an absolute path");
	bad(NET "[run]\nsocket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
	    "t.conf:4: [run] socket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: path too long");
	bad(NET "[run]\nuser = -root\n",
	    "t.conf:4: [run] user = -root: must be a user name of 1 to 32 characters");
	bad(NET "[run]\nuser = ro ot\n",
	    "t.conf:4: [run] user = ro ot: a user name has only letters, digits, '_', '-' and '.'");
}

static void
test_networks_and_honeypots(void **state)
{
	struct fb_config c;
	struct fb_addr a;

	(void)state;
	ok("[honeynet]\nnetworks = 10.0.0.0/24, 2001:db8:1::/64\nhoneypots = 10.0.0.5, 2001:db8:1::5\n", &c);
	a = A("10.0.0.5");
	assert_true(config_in_networks(&c, &a));
	assert_true(config_is_honeypot(&c, &a));
	a = A("10.0.0.6");
	assert_true(config_in_networks(&c, &a));
	assert_false(config_is_honeypot(&c, &a));
	a = A("2001:db8:1::5");
	assert_true(config_is_honeypot(&c, &a));
	a = A("2001:db8:2::5");
	assert_false(config_in_networks(&c, &a));
	assert_false(config_is_honeypot(&c, &a));
	a = A("10.0.1.5");
	assert_false(config_in_networks(&c, &a));
	config_free(&c);

	/* Without honeypots, every address in networks is one. */
	ok(NET, &c);
	a = A("10.0.0.77");
	assert_true(config_is_honeypot(&c, &a));
	a = A("10.0.1.77");
	assert_false(config_is_honeypot(&c, &a));
	config_free(&c);

	/* Honeypots before networks are checked at the end, at their line. */
	ok("[honeynet]\nhoneypots = 10.0.0.5\nnetworks = 10.0.0.0/24\n", &c);
	assert_int_equal(c.n_honeypots, 1);
	config_free(&c);
	bad("[honeynet]\nhoneypots = 10.0.0.5,\n  10.0.9.5\nnetworks = 10.0.0.0/24\n",
	    "t.conf:3: [honeynet] honeypots = 10.0.9.5: 10.0.9.5 is not in networks");
	bad(NET "honeypots = 10.0.0.5, 10.0.1.5\n",
	    "t.conf:3: [honeynet] honeypots = 10.0.0.5, 10.0.1.5: 10.0.1.5 is not in networks");
	bad(NET "honeypots = 10.0.0.5, 10.0.0.6\n  10.0.0.5\n",
	    "t.conf:4: [honeynet] honeypots = 10.0.0.5: listed twice (also on line 3)");
	bad(NET "honeypots = 10.0.0.5, 10.0.0.6, 10.0.0.7\n[engine]\nmax_honeypots = 2\n",
	    "t.conf:3: [honeynet] honeypots: 3 honeypots, more than [engine] max_honeypots = 2");
	bad(NET "honeypots = 10.0.0.0/24\n",
	    "t.conf:3: [honeynet] honeypots = 10.0.0.0/24: 10.0.0.0/24 is not an address");
	bad(NET "honeypots = 0.0.0.0\n",
	    "t.conf:3: [honeynet] honeypots = 0.0.0.0: 0.0.0.0 is not a host address");
	bad(NET "honeypots =\n",
	    "t.conf:3: [honeynet] honeypots = : empty list");
	bad(NET "honeypots = 10.0.0.5,,10.0.0.6\n",
	    "t.conf:3: [honeynet] honeypots = 10.0.0.5,,10.0.0.6: empty element in list (stray comma?)");
	bad(NET "honeypots = , 10.0.0.6\n",
	    "t.conf:3: [honeynet] honeypots = , 10.0.0.6: empty element in list (stray comma?)");
	bad("[honeynet]\nnetworks = 10.0.0.0/24 10.0.1.0/24\n",
	    "t.conf:2: [honeynet] networks = 10.0.0.0/24 10.0.1.0/24: 10.0.0.0/24 10.0.1.0/24 is not a network (ADDR/LEN)");
	bad("[honeynet]\nnetworks = 10.0.0.0/33\n",
	    "t.conf:2: [honeynet] networks = 10.0.0.0/33: 10.0.0.0/33 is not a network (ADDR/LEN)");
	bad("[honeynet]\nnetworks = 0.0.0.0/0\n",
	    "t.conf:2: [honeynet] networks = 0.0.0.0/0: 0.0.0.0/0 would make every address a honeypot");
	bad("[honeynet]\nnetworks =\n",
	    "t.conf:2: [honeynet] networks = : empty list");
	bad("[honeynet]\noutside = eth0\n",
	    "t.conf: [honeynet] networks: required");
	bad("", "t.conf: [honeynet] networks: required");
	bad("; nothing\n\n[control]\n", "t.conf: [honeynet] networks: required");
}

static void
test_dest_lists(void **state)
{
	struct fb_config c;
	struct fb_addr a = A("203.0.113.53");

	(void)state;
	ok(NET "[control]\nexempt = 203.0.113.53:53/udp\ndeny = 198.51.100.0/24/tcp, [2001:db8::/32]:25\n", &c);
	assert_int_equal(c.n_exempt, 1);
	assert_true(dest_match(&c.exempt[0], &a, IPPROTO_UDP, 53));
	assert_false(dest_match(&c.exempt[0], &a, IPPROTO_TCP, 53));
	assert_int_equal(c.n_deny, 2);
	a = A("198.51.100.7");
	assert_true(dest_match(&c.deny[0], &a, IPPROTO_TCP, 9999));
	assert_false(dest_match(&c.deny[0], &a, IPPROTO_UDP, 9999));
	a = A("2001:db8:5::1");
	assert_true(dest_match(&c.deny[1], &a, IPPROTO_TCP, 25));
	config_free(&c);
	bad(NET "[control]\nexempt = 203.0.113.53:53/icmp\n",
	    "t.conf:4: [control] exempt = 203.0.113.53:53/icmp: 203.0.113.53:53/icmp is not a destination "
	    "(ADDR[/LEN][:PORT][/tcp|/udp], IPv6 with a port in [ ])");
	bad(NET "[control]\ndeny = 203.0.113.53:0\n",
	    "t.conf:4: [control] deny = 203.0.113.53:0: 203.0.113.53:0 is not a destination "
	    "(ADDR[/LEN][:PORT][/tcp|/udp], IPv6 with a port in [ ])");
	bad(NET "[control]\ndeny =\n", "t.conf:4: [control] deny = : empty list");
}

static void
test_structure_errors(void **state)
{
	(void)state;
	bad("networks = 10.0.0.0/24\n",
	    "t.conf:1: [] networks = 10.0.0.0/24: key before any [section]");
	bad(NET "[honeypot]\n",
	    "t.conf:3: [honeypot]: unknown section (known: honeynet, control, capture, run, engine, layers, logserver)");
	bad(NET "[Control]\ntcp = 1/day\n",
	    "t.conf:3: [Control]: unknown section (known: honeynet, control, capture, run, engine, layers, logserver)");
	bad(NET "[control\n",
	    "t.conf:3: [control: section header without ']'");
	bad(NET "[control] tcp = 1/day\n",
	    "t.conf:3: [control] tcp = 1/day: text after the section header");
	bad(NET "[control]\ntcp 1/day\n",
	    "t.conf:4: tcp 1/day: expected [section] or key = value");
	bad(NET "[control]\ntcpp = 1/day\n",
	    "t.conf:4: [control] tcpp = 1/day: unknown key");
	bad(NET "[control]\nnetworks = 10.0.0.0/8\n",
	    "t.conf:4: [control] networks = 10.0.0.0/8: unknown key");
	bad(NET "[control]\n= 1/day\n",
	    "t.conf:4: [control]  = 1/day: unknown key");
	bad(NET "[control]\ntcp = 1/day\nudp = 1/day\ntcp = 2/day\n",
	    "t.conf:6: [control] tcp = 2/day: duplicate key (first set on line 4)");
	/* Repeating a section is fine; repeating a key across them is not. */
	bad(NET "[control]\ntcp = 1/day\n[capture]\n[control]\ntcp = 2/day\n",
	    "t.conf:7: [control] tcp = 2/day: duplicate key (first set on line 4)");
	bad(NET "networks = 10.0.1.0/24\n",
	    "t.conf:3: [honeynet] networks = 10.0.1.0/24: duplicate key (first set on line 2)");
	/* The first error is the one reported. */
	bad(NET "[control]\ntcp = 1/fortnight\nudp = 9/week\n[bogus]\n",
	    "t.conf:4: [control] tcp = 1/fortnight: period must be minute, hour, day or total");
	bad(NET "junk\n[control]\ntcp = 1/fortnight\n",
	    "t.conf:3: junk: expected [section] or key = value");
	bad(NET "[control]\ntcp = 1/fortnight\njunk\n",
	    "t.conf:4: [control] tcp = 1/fortnight: period must be minute, hour, day or total");
}

static void
test_comments_and_layout(void **state)
{
	struct fb_config c;
	char buf[32];

	(void)state;
	ok("\xef\xbb\xbf# a BOM, comments of both kinds, CRLF, blank space\r\n"
	    "; semicolon comment\r\n"
	    "\r\n"
	    "[honeynet]   ; inline after a header\r\n"
	    "networks = 10.0.0.0/24 ; inline\r\n"
	    "\t# indented comment\r\n"
	    "[control]\r\n"
	    "  tcp   =   3/hour   # inline hash\r\n"
	    "udp=4/hour\t;tab before\r\n"
	    "icmp = 1/total", &c);	/* no final newline */
	limit_fmt(&c.limit[CLASS_TCP], buf, sizeof(buf));
	assert_string_equal(buf, "3/hour");
	limit_fmt(&c.limit[CLASS_UDP], buf, sizeof(buf));
	assert_string_equal(buf, "4/hour");
	limit_fmt(&c.limit[CLASS_ICMP], buf, sizeof(buf));
	assert_string_equal(buf, "1/total");
	config_free(&c);

	/* A comment needs blank space before it; otherwise it is the value. */
	bad(NET "[control]\ntcp = 3/hour;no\n",
	    "t.conf:4: [control] tcp = 3/hour;no: period must be minute, hour, day or total");
	bad(NET "[control]\ntcp = 3/hour#no\n",
	    "t.conf:4: [control] tcp = 3/hour#no: period must be minute, hour, day or total");
}

static void
test_continued_lists(void **state)
{
	struct fb_config c;

	(void)state;
	ok("[honeynet]\n"
	    "networks = 10.0.0.0/24,\n"
	    "  10.1.0.0/24   # second\n"
	    "\n"
	    "  ; a comment between does not end the list\n"
	    "\t2001:db8::/64, 10.2.0.0/24\n"
	    "honeypots = 10.0.0.1\n"
	    "   10.1.0.1\n", &c);
	assert_int_equal(c.n_networks, 4);
	assert_int_equal(c.n_honeypots, 2);
	config_free(&c);
	/* An indented key after another key is more of that key's value. */
	bad(NET "[control]\ntcp = 1/day\n  udp = 2/day\n",
	    "t.conf:5: [control] tcp = udp = 2/day: indented line continues the "
	    "previous value; only lists may go on over lines");
	bad(NET "  networks = 10.1.0.0/24\n",
	    "t.conf:3: [honeynet] networks = networks = 10.1.0.0/24: networks = 10.1.0.0/24 "
	    "is not a network (ADDR/LEN)");
	/* ... but right after a header it is just an indented key. */
	ok("[honeynet]\n  networks = 10.0.0.0/8\n[control]\n\ttcp = 1/day\n", &c);
	assert_int_equal(c.limit[CLASS_TCP].n, 1);
	config_free(&c);
	/* A list line may end with one comma; not the list's very start. */
	bad(NET "[control]\nexempt = 10.0.0.1, , \n",
	    "t.conf:4: [control] exempt = 10.0.0.1, ,: empty element in list (stray comma?)");
}

static char *
repeat(char *buf, char ch, size_t n)
{
	memset(buf, ch, n);
	buf[n] = '\0';
	return buf;
}

static void
test_long_lines(void **state)
{
	char text[2048], a[512], h[512];
	struct fb_config c;

	(void)state;
	/* 198 bytes without comments and blank space at the ends is the most
	 * inih's line buffer holds (with "\n\0"). */
	snprintf(text, sizeof(text), NET "[capture]\ndir = /%s   ; %s\n",
	    repeat(a, 'a', 198 - 7), repeat(h, 'c', 300));
	ok(text, &c);
	assert_int_equal(strlen(c.capture_dir), 198 - 6);
	config_free(&c);
	/* (an indented line keeps one blank in front for inih) */
	snprintf(text, sizeof(text), NET "[capture]\n\t\tdir = /%s\n",
	    repeat(a, 'a', 197 - 7));
	ok(text, &c);
	config_free(&c);
	snprintf(text, sizeof(text), NET "[capture]\ndir = /%s\n", repeat(a, 'a', 199 - 7));
	bad(text, "t.conf:4: line longer than 198 bytes (lists can go on over "
	    "indented lines)");
	/* ... also as the last line without a newline, and on line 1. */
	snprintf(text, sizeof(text), NET "[capture]\ndir = /%s", repeat(a, 'a', 199 - 7));
	bad(text, "t.conf:4: line longer than 198 bytes (lists can go on over "
	    "indented lines)");
	snprintf(text, sizeof(text), "[%s]\n" NET, repeat(a, 'a', 197));
	bad(text, "t.conf:1: line longer than 198 bytes (lists can go on over "
	    "indented lines)");
	/* A long comment is fine anywhere. */
	snprintf(text, sizeof(text), "#%s\n" NET "  ;%s\n", repeat(a, '#', 400),
	    repeat(h, ';', 400));
	ok(text, &c);
	config_free(&c);
}

static void
test_hostile_bytes_in_messages(void **state)
{
	char want[512];

	(void)state;
	bad(NET "[control]\ntcp = \x1b[31m\x01\xff/day\n",
	    "t.conf:4: [control] tcp = \\x1b[31m\\x01\\xff/day: count must be a whole number from 1 to 65535");
	bad(NET "[control]\nt\x7f\\p = 1\n",
	    "t.conf:4: [control] t\\x7f\\x5cp = 1: unknown key");
	bad(NET "[c\xc3\xa9]\n",
	    "t.conf:3: [c\\xc3\\xa9]: unknown section (known: honeynet, control, capture, run, engine, layers, logserver)");
	/* Long values are cut to 64 bytes and marked. */
	snprintf(want, sizeof(want), "t.conf:4: [control] tcp = %.64s...: "
	    "count must be a whole number from 1 to 65535",
	    "1111111111111111111111111111111111111111111111111111111111111111111111111111111");
	bad(NET "[control]\ntcp = 11111111111111111111111111111111111111111111111111111111111111111111111111111111/day\n",
	    want);
	/* A name with odd bytes is shown escaped too. */
	{
		struct fb_config c;

		assert_int_equal(config_load_string("a\nb.conf", "", &c, err, sizeof(err)), -1);
		assert_string_equal(err, "a\\x0ab.conf: [honeynet] networks: required");
	}
	{
		struct fb_config c;

		assert_int_equal(config_load_string(NULL, NULL, &c, err, sizeof(err)), -1);
		assert_string_equal(err, "(string): [honeynet] networks: required");
	}
	/* A tiny error buffer is cut, never overrun; NULL is allowed. */
	{
		struct fb_config c;
		char small[8];

		memset(small, 'x', sizeof(small));
		assert_int_equal(config_load_string("t.conf", "", &c, small, sizeof(small)), -1);
		assert_string_equal(small, "t.conf:");
		assert_int_equal(config_load_string("t.conf", "", &c, NULL, 0), -1);
	}
}

static char tmpdir[64];

static int
setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fb-test-config.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void
test_load_file(void **state)
{
	struct fb_config c;
	char path[128], want[256];
	static const char nul[] = NET "[control]\ntcp = 1/d\0ay\n";
	char *big;

	(void)state;
	snprintf(path, sizeof(path), "%s/ok.conf", tmpdir);
	write_file(path, NET "[control]\ntcp = 7/hour\n", strlen(NET "[control]\ntcp = 7/hour\n"));
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.limit[CLASS_TCP].n, 7);
	config_free(&c);

	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	write_file(path, NET "[control]\ntcp = 3/fortnight\n", strlen(NET "[control]\ntcp = 3/fortnight\n"));
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: [control] tcp = 3/fortnight: period must be minute, hour, day or total", path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/nul.conf", tmpdir);
	write_file(path, nul, sizeof(nul) - 1);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: NUL byte in the file", path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);

	assert_int_equal(config_load(tmpdir, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	assert_string_equal(err, want);

	/* A device or a FIFO is refused without reading (or hanging). */
	assert_int_equal(config_load("/dev/null", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "/dev/null: not a regular file");
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
	big = calloc(1, 2 << 20);
	assert_non_null(big);
	memset(big, '\n', 2 << 20);
	memcpy(big, NET, strlen(NET));
	write_file(path, big, 2 << 20);
	free(big);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	assert_string_equal(err, want);
}

static void
test_example_config(void **state)
{
	struct fb_config c;
	char path[4096];
	const char *root = getenv("FB_ROOT");
	struct fb_addr a;
	char buf[32];

	(void)state;
	snprintf(path, sizeof(path), "%s/examples/fishbowl.conf", root != NULL ? root : ".");
	if (config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(c.outside, "eth1");
	assert_string_equal(c.inside, "eth2");
	assert_int_equal(c.n_networks, 2);
	assert_int_equal(c.n_honeypots, 4);
	a = A("2001:db8:100::10");
	assert_true(config_is_honeypot(&c, &a));
	a = A("192.0.2.99");
	assert_true(config_in_networks(&c, &a));
	assert_false(config_is_honeypot(&c, &a));
	limit_fmt(&c.limit[CLASS_UDP], buf, sizeof(buf));
	assert_string_equal(buf, "20/day");
	assert_int_equal(c.n_exempt, 2);
	assert_int_equal(c.n_deny, 2);
	assert_int_equal(c.keep_days, 90);
	config_free(&c);
}

/* [layers] and [logserver]: defaults, every key, and the errors. */
static void
test_layers_and_logserver(void **state)
{
	struct fb_config c;

	(void)state;
	ok(NET, &c);
	assert_true(c.layers);
	assert_int_equal(c.layers_memory_bytes, 256ULL << 20);
	assert_int_equal(c.policy, POLICY_LINUX);
	assert_int_equal(c.sebek_port, 1101);
	assert_int_equal(c.n_listen, 0);
	assert_int_equal(c.log_max_message, 8192);
	config_free(&c);

	ok(NET "[layers]\nenable = no\nmemory_mb = 32\npolicy = windows\n"
	    "host_policy = 10.0.0.5 bsd, 10.0.0.0/28 solaris, 2001:db8::/32 first\n"
	    "transcript_max_mb = 2\nfile_max_mb = 3\ndisk_mb = 100\nsebek_port = 0\n"
	    "[logserver]\nlisten = udp:0.0.0.0, tcp:[::1]:6514, tcp:10.0.0.1:1514, udp:::\n"
	    "max_message = 480\npeer_rate = 50\nmax_peers = 4\n", &c);
	assert_false(c.layers);
	assert_int_equal(c.layers_memory_bytes, 32ULL << 20);
	assert_int_equal(c.transcript_max_bytes, 2ULL << 20);
	assert_int_equal(c.file_max_bytes, 3ULL << 20);
	assert_int_equal(c.layers_disk_bytes, 100ULL << 20);
	assert_int_equal(c.sebek_port, 0);
	assert_int_equal(c.n_host_policies, 3);
	{
		struct fb_addr a5 = A("10.0.0.5"), a6 = A("10.0.0.6"), a99 = A("10.0.0.99");
		struct fb_addr v6 = A("2001:db8::1");
		assert_int_equal(config_policy_for(&c, &a5), POLICY_BSD);	/* longest */
		assert_int_equal(config_policy_for(&c, &a6), POLICY_SOLARIS);
		assert_int_equal(config_policy_for(&c, &a99), POLICY_WINDOWS);
		assert_int_equal(config_policy_for(&c, &v6), POLICY_FIRST);
	}
	assert_int_equal(c.n_listen, 4);
	assert_int_equal(c.listen[0].proto, IPPROTO_UDP);
	assert_int_equal(c.listen[0].port, 514);
	assert_int_equal(c.listen[1].proto, IPPROTO_TCP);
	assert_int_equal(c.listen[1].port, 6514);
	assert_int_equal(c.listen[2].port, 1514);
	assert_int_equal(c.listen[3].port, 514);
	assert_true(addr_is_unspecified(&c.listen[3].addr));
	assert_int_equal(c.log_max_message, 480);
	assert_int_equal(c.log_peer_rate, 50);
	assert_int_equal(c.log_max_peers, 4);
	config_free(&c);

	bad(NET "[layers]\npolicy = vms\n",
	    "t.conf:4: [layers] policy = vms: must be first, last, bsd, bsd-right, "
	    "linux, windows or solaris");
	bad(NET "[layers]\nhost_policy = 10.0.0.5\n",
	    "t.conf:4: [layers] host_policy = 10.0.0.5: 10.0.0.5 is not PREFIX POLICY "
	    "(e.g. 10.0.0.5 windows)");
	bad(NET "[layers]\nhost_policy = 10.0.0.5 hpux\n",
	    "t.conf:4: [layers] host_policy = 10.0.0.5 hpux: 10.0.0.5 hpux: policy must "
	    "be first, last, bsd, bsd-right, linux, windows or solaris");
	bad(NET "[layers]\nenable = maybe\n",
	    "t.conf:4: [layers] enable = maybe: must be yes or no");
	bad(NET "[logserver]\nlisten = 10.0.0.1:514\n",
	    "t.conf:4: [logserver] listen = 10.0.0.1:514: 10.0.0.1:514 must start "
	    "with udp: or tcp:");
	bad(NET "[logserver]\nlisten = tcp:10.0.0.1:0\n",
	    "t.conf:4: [logserver] listen = tcp:10.0.0.1:0: tcp:10.0.0.1:0: port "
	    "must be 1 to 65535");
	bad(NET "[logserver]\nlisten = udp:host.example\n",
	    "t.conf:4: [logserver] listen = udp:host.example: udp:host.example: "
	    "host.example is not an address");
	bad(NET "[logserver]\nmax_message = 100\n",
	    "t.conf:4: [logserver] max_message = 100: must be a whole number from "
	    "480 to 65536");
}

static void
test_names(void **state)
{
	struct fb_limit l = { LIMIT_COUNT, 9, 7 * SEC };
	char buf[32];

	(void)state;
	assert_string_equal(class_name(CLASS_TCP), "tcp");
	assert_string_equal(class_name(CLASS_UDP), "udp");
	assert_string_equal(class_name(CLASS_ICMP), "icmp");
	assert_string_equal(class_name(CLASS_OTHER), "other");
	assert_string_equal(class_name(CLASS_MAX), "?");
	limit_fmt(&l, buf, sizeof(buf));
	assert_string_equal(buf, "9/7s");
	l.period = 0;
	limit_fmt(&l, buf, sizeof(buf));
	assert_string_equal(buf, "9/total");
	limit_fmt(&l, buf, 3);
	assert_string_equal(buf, "9/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_openers_ring_mb),
		cmocka_unit_test(test_fast_path),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_durations_and_numbers),
		cmocka_unit_test(test_names_and_paths),
		cmocka_unit_test(test_networks_and_honeypots),
		cmocka_unit_test(test_dest_lists),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_comments_and_layout),
		cmocka_unit_test(test_continued_lists),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_layers_and_logserver),
		cmocka_unit_test(test_hostile_bytes_in_messages),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_example_config),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
