/*
 * The fast path's two programs in the kernel (BPF_PROG_TEST_RUN), run one
 * after the other on one CPU as a frame meets them on a leg: known.h's
 * fanout program (it files the frame; for a flow marked fast it leaves
 * the note), then fastpath.h's tc program (it records the frame in the
 * leg's ring buffer, then redirects it; or drops it, counted).  Skipped
 * where bpf() or tcx are not allowed; a program the verifier refuses is a
 * failure.  Last, the ring buffers pinned, a "kill" and an adoption.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/pkt_cls.h>
#include <cmocka.h>

#include "addr.h"
#include "bpfasm.h"
#include "decode.h"
#include "fastpath.h"
#include "flow.h"
#include "known.h"

#define SYN	0x02
#define ACK	0x10
#define OUT_IFINDEX 1		/* lo: BPF_PROG_TEST_RUN never sends it */

struct frame {
	uint8_t		b[2048];
	uint32_t	len;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* TCP over IPv4 from 10.1.0.s:sp to 10.99.0.9:80 with payload bytes. */
static struct frame
tcp(uint8_t s, uint16_t sp, uint8_t flags, uint32_t payload)
{
	struct frame f;
	uint8_t *ip = f.b + 14, *l4 = ip + 20;

	memset(&f, 0, sizeof(f));
	memcpy(f.b, "\x02\0\0\0\0\x02" "\x02\0\0\0\0\x01", 12);
	put16(f.b + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + payload));
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, (uint8_t[]){ 10, 1, 0, s }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 99, 0, 9 }, 4);
	put16(l4, sp);
	put16(l4 + 2, 80);
	l4[12] = 0x50;
	l4[13] = flags;
	for (uint32_t i = 0; i < payload; i++)
		l4[20 + i] = (uint8_t)(i * 7 + s);
	f.len = 14 + 40 + payload;
	return f;
}

/* The answer: TCP over IPv4 from 10.99.0.9:80 back to 10.1.0.s:sp. */
static struct frame
tcp_back(uint8_t s, uint16_t sp, uint8_t flags)
{
	struct frame f = tcp(s, sp, flags, 0);
	uint8_t *ip = f.b + 14, tmp[4];

	memcpy(tmp, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, tmp, 4);
	put16(ip + 20, 80);
	put16(ip + 22, sp);
	return f;
}

/* TCP over IPv6 from src to 2001:db8::9 port 80. */
static struct frame
tcp6(const char *src, uint16_t sp, uint8_t flags)
{
	struct frame f;
	uint8_t *ip = f.b + 14, *l4 = ip + 40;

	memset(&f, 0, sizeof(f));
	memcpy(f.b, "\x02\0\0\0\0\x02" "\x02\0\0\0\0\x01", 12);
	put16(f.b + 12, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, 20);
	ip[6] = 6;
	ip[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::9", ip + 24), 1);
	put16(l4, sp);
	put16(l4 + 2, 80);
	l4[12] = 0x50;
	l4[13] = flags;
	f.len = 14 + 40 + 20;
	return f;
}

static struct fb_prefix
prefix(const char *s)
{
	struct fb_prefix p;

	assert_int_equal(prefix_parse(s, &p), 0);
	return p;
}

static struct fb_flowkey
key_of(const struct frame *f)
{
	struct fb_packet p;
	struct fb_flowkey k;

	(void)decode_frame(FB_LINK_ETHERNET, f->b, f->len, f->len, &p);
	assert_true(flow_key_of(&p, &k));
	return k;
}

static struct known_table kt;
static struct fastpath fp;
static int known_progs[2] = { -1, -1 }, tc_prog[2] = { -1, -1 };
static bool no_bpf;

static int
setup(void **st)
{
	struct bpf_insn prog[FAST_PROG_MAX];
	char why[512];
	cpu_set_t one;
	size_t n;

	(void)st;
	fastpath_init(&fp);
	/* Both programs must meet the frame on one CPU: the note is per CPU. */
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == -1)
		return -1;
	if (known_open(&kt, 1u << 16, true, NULL, known_progs, why, sizeof(why)) == -1) {
		if (errno == EPERM || errno == ENOSYS ||
		    strncmp(why, "BPF_MAP_CREATE", 14) == 0 ||
		    strncmp(why, "mmap", 4) == 0) {
			fprintf(stderr, "test_fastpath: skipped: %s\n", why);
			no_bpf = true;
			return 0;
		}
		fprintf(stderr, "known_open: %s\n", why);
		return -1;
	}
	/* One page of ring buffer per leg: small enough to fill. */
	if (fastpath_maps(&fp, (uint64_t)sysconf(_SC_PAGESIZE),
	    (uint64_t)sysconf(_SC_PAGESIZE), why, sizeof(why)) == -1) {
		fprintf(stderr, "test_fastpath: skipped: %s\n", why);
		no_bpf = true;
		return 0;
	}
	for (int leg = 0; leg < 2; leg++) {
		struct fast_prog_opts o = {
			.note_fd = kt.note_fd, .ctl_fd = fp.ctl_fd,
			.rb_fd = fp.rb[leg][FAST_KNOWN].fd, .new_fd = fp.rb[leg][FAST_NEW].fd,
			.pend_fd = leg == 0 ? kt.pend_fd : -1, .leg = leg,
			.out_ifindex = OUT_IFINDEX
		};

		n = fastpath_prog_build(prog, &o);
		if ((tc_prog[leg] = fastpath_prog_load(prog, n, why, sizeof(why))) == -1) {
			fprintf(stderr, "fastpath_prog_load: %s\n", why);
			return -1;
		}
	}
	return 0;
}

static int
teardown(void **st)
{
	(void)st;
	for (int i = 0; i < 2; i++) {
		if (known_progs[i] != -1)
			close(known_progs[i]);
		if (tc_prog[i] != -1)
			close(tc_prog[i]);
	}
	fastpath_close(&fp);
	known_close(&kt);
	return 0;
}

#define NEED_BPF() do {							\
	if (no_bpf) {							\
		print_message("skipped: no CAP_BPF or bpf() here\n");	\
		skip();							\
	}								\
} while (0)

static int
run(int prog, const struct frame *f)
{
	union bpf_attr at;

	memset(&at, 0, sizeof(at));
	at.test.prog_fd = (uint32_t)prog;
	at.test.data_in = (uint64_t)(uintptr_t)f->b;
	at.test.data_size_in = f->len;
	at.test.repeat = 1;
	if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &at, sizeof(at)) != 0)
		fail_msg("BPF_PROG_TEST_RUN (%u bytes): %s", f->len, strerror(errno));
	return (int)at.test.retval;
}

/* The frame meets leg's fanout program, then its tc program. */
struct met { int fanout, tc; };

static struct met
meet(int leg, const struct frame *f)
{
	struct met m;

	m.fanout = run(known_progs[leg], f);
	m.tc = run(tc_prog[leg], f);
	return m;
}

/* Every record a ring buffer of the leg holds, each checked against f. */
static int
drain_kind(int leg, enum fast_kind kind, const struct frame *f)
{
	struct fb_frame fr;
	fb_ns ts;
	int n = 0;

	while (fastpath_peek(&fp, leg, kind, &ts)) {
		fastpath_take(&fp, leg, kind, &fr);
		assert_true(fr.forwarded);
		assert_int_equal(fr.unknown, kind == FAST_NEW);
		assert_int_equal(fr.leg, leg);
		assert_int_equal(fr.caplen, f->len);
		assert_memory_equal(fr.data, f->b, f->len);
		n++;
	}
	fastpath_release(&fp);
	return n;
}

static int
drain(int leg, const struct frame *f)
{
	assert_int_equal(drain_kind(leg, FAST_NEW, f), 0);
	return drain_kind(leg, FAST_KNOWN, f);
}

static void
forget(const struct frame *f)
{
	struct fb_flowkey k = key_of(f);

	known_forget(&kt, &k);
}

static void
test_unknown_and_known_flows_pass(void **st)
{
	struct frame f = tcp(1, 40001, ACK, 100);
	struct fb_flowkey k = key_of(&f);
	struct met m;

	(void)st;
	NEED_BPF();
	m = meet(0, &f);
	assert_int_equal(m.fanout, KNOWN_NEW);
	assert_int_equal(m.tc, TC_ACT_OK);
	known_mark(&kt, &k);
	m = meet(0, &f);
	assert_int_equal(m.fanout, KNOWN_MAIN);
	assert_int_equal(m.tc, TC_ACT_OK);
	assert_int_equal(drain(0, &f), 0);
	forget(&f);
}

static void
test_fast_flow_recorded_then_redirected(void **st)
{
	struct frame f = tcp(2, 40002, ACK, 1400);
	struct fb_flowkey k = key_of(&f);
	struct met m;

	(void)st;
	NEED_BPF();
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	assert_true(known_is_fast(&kt, &k, false, 0));
	assert_false(known_is_fast(&kt, &k, true, 0));
	m = meet(0, &f);
	assert_int_equal(m.fanout, KNOWN_SINK);
	assert_int_equal(m.tc, TC_ACT_REDIRECT);
	assert_int_equal(drain(0, &f), 1);
	/* The other leg's program: the bit is this leg's only. */
	m = meet(1, &f);
	assert_int_equal(m.fanout, KNOWN_MAIN);
	assert_int_equal(m.tc, TC_ACT_OK);
	assert_int_equal(drain(1, &f), 0);
	/* Marked again (a collision took the slot, then gave it back): the
	 * fast bit went with the old mark. */
	known_mark(&kt, &k);
	m = meet(0, &f);
	assert_int_equal(m.fanout, KNOWN_MAIN);
	assert_int_equal(m.tc, TC_ACT_OK);
	forget(&f);
}

static void
test_opener_and_long_frames_not_fast(void **st)
{
	struct frame syn = tcp(3, 40003, SYN, 0), synack = tcp(3, 40003, SYN | ACK, 0);
	struct fb_flowkey k = key_of(&syn);
	struct met m;

	(void)st;
	NEED_BPF();
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	m = meet(0, &syn);
	assert_int_equal(m.fanout, KNOWN_MAIN);
	assert_int_equal(m.tc, TC_ACT_OK);
	m = meet(0, &synack);
	assert_int_equal(m.fanout, KNOWN_SINK);
	assert_int_equal(m.tc, TC_ACT_REDIRECT);
	assert_int_equal(drain(0, &synack), 1);
	forget(&syn);
}

static void
test_note_is_for_one_frame(void **st)
{
	struct frame f = tcp(4, 40004, ACK, 10);
	struct fb_flowkey k = key_of(&f);

	(void)st;
	NEED_BPF();
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 1, true);
	assert_int_equal(run(known_progs[1], &f), KNOWN_SINK);
	/* The other leg's tc program does not take leg 1's note ... */
	assert_int_equal(run(tc_prog[0], &f), TC_ACT_OK);
	/* ... and clears it: no frame without its own note is taken. */
	assert_int_equal(run(tc_prog[1], &f), TC_ACT_OK);
	assert_int_equal(run(known_progs[1], &f), KNOWN_SINK);
	assert_int_equal(run(tc_prog[1], &f), TC_ACT_REDIRECT);
	assert_int_equal(run(tc_prog[1], &f), TC_ACT_OK);
	assert_int_equal(drain(1, &f), 1);
	forget(&f);
	assert_false(known_is_fast(&kt, &k, false, 1));
	assert_int_equal(run(known_progs[1], &f), KNOWN_NEW);
}

static void
test_gate_closed_drops_counted(void **st)
{
	struct frame f = tcp(5, 40005, ACK, 200);
	struct fb_flowkey k = key_of(&f);
	uint64_t before = fastpath_drops(&fp, 0, FAST_KNOWN, FAST_DROP_GATE);

	(void)st;
	NEED_BPF();
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	fastpath_gate(&fp, true);
	for (int i = 0; i < 3; i++) {
		struct met m = meet(0, &f);

		assert_int_equal(m.fanout, KNOWN_SINK);
		assert_int_equal(m.tc, TC_ACT_SHOT);
	}
	assert_int_equal(fastpath_drops(&fp, 0, FAST_KNOWN, FAST_DROP_GATE) - before, 3);
	assert_int_equal(drain(0, &f), 0);
	fastpath_gate(&fp, false);
	assert_int_equal(meet(0, &f).tc, TC_ACT_REDIRECT);
	assert_int_equal(drain(0, &f), 1);
	forget(&f);
}

/* A full ring buffer: what does not fit is dropped, counted; every frame
 * redirected is in it. */
static void
test_full_ring_never_forwards_unrecorded(void **st)
{
	struct frame f = tcp(6, 40006, ACK, 1000);
	struct fb_flowkey k = key_of(&f);
	uint64_t before = fastpath_drops(&fp, 0, FAST_KNOWN, FAST_DROP_FULL);
	int redirected = 0, shot = 0;

	(void)st;
	NEED_BPF();
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	for (int i = 0; i < 10; i++) {
		struct met m = meet(0, &f);

		assert_int_equal(m.fanout, KNOWN_SINK);
		if (m.tc == TC_ACT_REDIRECT)
			redirected++;
		else if (m.tc == TC_ACT_SHOT)
			shot++;
		else
			fail_msg("tc program said %d", m.tc);
	}
	assert_true(redirected >= 1);
	assert_true(shot >= 1);
	assert_int_equal(redirected + shot, 10);
	assert_int_equal(fastpath_drops(&fp, 0, FAST_KNOWN, FAST_DROP_FULL) - before, (uint64_t)shot);
	assert_int_equal(drain(0, &f), redirected);
	/* Room again once read. */
	assert_int_equal(meet(0, &f).tc, TC_ACT_REDIRECT);
	assert_int_equal(drain(0, &f), 1);
	forget(&f);
}

static void
test_unfast_all(void **st)
{
	struct frame f = tcp(7, 40007, ACK, 10);
	struct fb_flowkey k = key_of(&f);

	(void)st;
	NEED_BPF();
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	known_set_fast(&kt, &k, true, 1, true);
	known_unfast_all(&kt);
	assert_false(known_is_fast(&kt, &k, false, 0));
	assert_false(known_is_fast(&kt, &k, true, 1));
	assert_int_equal(run(known_progs[0], &f), KNOWN_MAIN);	/* still known */
	forget(&f);
}

static void honeynet(void);

/* Leg 0's fanout program as fishbowl loads it: reading the ring buffers'
 * fill, so it can hold a flow (known.c divert()). */
static int
known_prog_with_rings(uint32_t maxlen)
{
	static struct bpf_insn prog[KNOWN_PROG_MAX];
	struct known_prog_opts o;
	char why[512];
	int fd;

	memset(&o, 0, sizeof(o));
	o.map_fd = kt.map_fd;
	o.mask = kt.mask;
	o.seed = kt.seed;
	o.note_fd = kt.note_fd;
	o.nets_fd = kt.nets_fd;
	o.pend_fd = kt.pend_fd;
	o.inbound = true;
	o.leg = 0;
	o.fast_maxlen = maxlen;
	for (int i = 0; i < FAST_NKIND; i++) {
		o.ring_fd[i] = fp.rb[0][i].fd;
		o.ring_size[i] = fp.rb[0][i].size;
	}
	fd = bpfasm_load(BPF_PROG_TYPE_SOCKET_FILTER, prog, known_prog_build(prog, &o),
	    "t_known", why, sizeof(why));
	if (fd == -1)
		fail_msg("%s", why);
	return fd;
}

/* A GSO super-frame (longer than KNOWN_FAST_MAXLEN; here, as the kernel
 * runs test frames of a page at most, longer than 1000 bytes) of a fast
 * flow goes the old way and holds its flow on that leg: the flow's next
 * frames, short ones too, go the old way (in order behind it); the other
 * leg's bit stays. */
static void
test_long_frame_holds_flow(void **st)
{
	struct frame big = tcp(8, 40008, ACK, 1200);
	struct frame small = tcp(8, 40008, ACK, 100);
	struct fb_flowkey k = key_of(&small);
	int fd;

	(void)st;
	NEED_BPF();
	fd = known_prog_with_rings(1000);
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	known_set_fast(&kt, &k, true, 1, true);
	assert_int_equal(run(fd, &small), KNOWN_SINK);
	assert_int_equal(run(tc_prog[0], &small), TC_ACT_REDIRECT);
	assert_int_equal(drain(0, &small), 1);
	assert_int_equal(run(fd, &big), KNOWN_MAIN);
	assert_int_equal(run(tc_prog[0], &big), TC_ACT_OK);
	assert_false(known_is_fast(&kt, &k, false, 0));
	assert_true(known_is_fast(&kt, &k, true, 1));
	assert_int_equal(run(fd, &small), KNOWN_MAIN);
	assert_int_equal(run(tc_prog[0], &small), TC_ACT_OK);
	assert_int_equal(drain(0, &small), 0);
	close(fd);
	forget(&small);
}

/* With the ring buffers' fill read: a fast frame for one more than half
 * full goes the old way (the main ring), with no note. */
static void
test_half_full_ring_diverts(void **st)
{
	struct frame f = tcp(50, 40050, ACK, 1500);	/* a 2 KiB record */
	struct fb_flowkey k = key_of(&f);
	int fd;

	(void)st;
	NEED_BPF();
	fd = known_prog_with_rings(0);
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	/* A page of ring buffer: one record of 2 KiB fills half of it. */
	assert_int_equal(run(fd, &f), KNOWN_SINK);
	assert_int_equal(run(tc_prog[0], &f), TC_ACT_REDIRECT);
	assert_int_equal(run(fd, &f), KNOWN_MAIN);
	assert_int_equal(run(tc_prog[0], &f), TC_ACT_OK);
	/* Diverted, the flow is held on this leg: its next frames go the
	 * old way (not the newcomers' fast way) although there is room
	 * again, until the engine marks it fast again; the other leg's bit
	 * stays as it was. */
	assert_false(known_is_fast(&kt, &k, false, 0));
	assert_int_equal(drain(0, &f), 1);
	assert_int_equal(run(fd, &f), KNOWN_MAIN);
	honeynet();	/* an outsider's frame: held all the same */
	assert_int_equal(run(fd, &f), KNOWN_MAIN);
	known_set_fast(&kt, &k, true, 1, true);
	assert_int_equal(run(fd, &f), KNOWN_MAIN);
	assert_true(known_is_fast(&kt, &k, true, 1));
	known_set_fast(&kt, &k, false, 0, true);
	assert_int_equal(run(fd, &f), KNOWN_SINK);
	assert_int_equal(run(tc_prog[0], &f), TC_ACT_REDIRECT);
	assert_int_equal(drain(0, &f), 1);
	close(fd);
	forget(&f);
}

/* What the decoder would refuse never crosses before it is judged. */
static void
test_malformed_judged_first(void **st);

/* The honeynet here: 10.99.0.0/16 and 2001:db8::/32. */
static void
honeynet(void)
{
	struct fb_prefix nets[2] = { prefix("10.99.0.0/16"), prefix("2001:db8::/32") };

	assert_true(known_set_networks(&kt, nets, 2));
}

static void
test_outsiders_frames(void **st)
{
	struct frame out = tcp(20, 40020, ACK, 300), spoof = tcp(20, 40020, ACK, 10);
	struct frame v6 = tcp6("2001:db9::1", 40021, ACK), v6in = tcp6("2001:db8::5", 40021, ACK);
	struct frame mapped = tcp6("::ffff:10.99.0.5", 40022, ACK);
	struct met m;

	(void)st;
	NEED_BPF();
	/* Until the networks are written, every source is the honeynet's. */
	m = meet(0, &out);
	assert_int_equal(m.fanout, KNOWN_NEW);
	assert_int_equal(m.tc, TC_ACT_OK);
	honeynet();
	m = meet(0, &out);
	assert_int_equal(m.fanout, KNOWN_SINK);
	assert_int_equal(m.tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(0, FAST_NEW, &out), 1);
	assert_int_equal(drain_kind(0, FAST_KNOWN, &out), 0);
	/* The inside leg takes no outsider's frame. */
	m = meet(1, &out);
	assert_int_equal(m.fanout, KNOWN_NEW);
	assert_int_equal(m.tc, TC_ACT_OK);
	/* A honeynet source from outside is spoofed: judged first. */
	spoof.b[14 + 12 + 1] = 99;		/* 10.99.0.20 */
	m = meet(0, &spoof);
	assert_int_equal(m.fanout, KNOWN_NEW);
	assert_int_equal(m.tc, TC_ACT_OK);
	/* IPv6, and an IPv4 honeynet address in its mapped form. */
	m = meet(0, &v6);
	assert_int_equal(m.fanout, KNOWN_SINK);
	assert_int_equal(m.tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(0, FAST_NEW, &v6), 1);
	assert_int_equal(meet(0, &v6in).fanout, KNOWN_NEW);
	assert_int_equal(meet(0, &mapped).fanout, KNOWN_NEW);
	/* Too many networks: every source is the honeynet's again. */
	{
		struct fb_prefix many[KNOWN_NETS6];
		char b[32];

		for (int i = 0; i < KNOWN_NETS6; i++) {
			snprintf(b, sizeof(b), "10.%d.0.0/16", 100 + i);
			many[i] = prefix(b);
		}
		assert_false(known_set_networks(&kt, many, KNOWN_NETS6));
		m = meet(0, &out);
		assert_int_equal(m.fanout, KNOWN_NEW);
		assert_int_equal(m.tc, TC_ACT_OK);
		assert_true(known_set_networks(&kt, many, KNOWN_NETS6 - 1));
		assert_int_equal(meet(0, &out).fanout, KNOWN_SINK);
		assert_int_equal(drain_kind(0, FAST_NEW, &out), 1);
	}
	assert_false(known_set_networks(&kt, NULL, 0));
}

/* The honeypot's SYN-ACK to an outsider's SYN that crossed fast: fast
 * too, once, and only without a rate cap. */
/* An ICMP echo from outside (10.1.0.s, identifier id) to 10.99.0.9. */
static struct frame
echo(uint8_t s, uint16_t id)
{
	struct frame f = tcp(s, 0, 0, 0);
	uint8_t *ip = f.b + 14, *l4 = ip + 20;

	ip[9] = 1;
	memset(l4, 0, 20);
	l4[0] = 8;				/* echo request */
	put16(l4 + 4, id);
	return f;
}

/* ICMP never takes the fast way: an outsider's echo is a newcomer, and a
 * known echo flow goes to the main ring even with its fast bit set. */
static void
test_icmp_never_fast(void **st)
{
	struct frame f = echo(30, 0x7777);
	struct fb_flowkey k = key_of(&f);
	struct met m;

	(void)st;
	NEED_BPF();
	honeynet();
	m = meet(0, &f);
	assert_int_equal(m.fanout, KNOWN_NEW);
	assert_int_equal(m.tc, TC_ACT_OK);
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	m = meet(0, &f);
	assert_int_equal(m.fanout, KNOWN_MAIN);
	assert_int_equal(m.tc, TC_ACT_OK);
	assert_int_equal(drain_kind(0, FAST_NEW, &f), 0);
	assert_int_equal(drain_kind(0, FAST_KNOWN, &f), 0);
	forget(&f);
}

static void
test_synack_follows_syn(void **st)
{
	struct frame syn = tcp(30, 40030, SYN, 0), synack = tcp_back(30, 40030, SYN | ACK);
	struct frame stray = tcp_back(31, 40031, SYN | ACK);
	struct met m;

	(void)st;
	NEED_BPF();
	honeynet();
	known_set_inside_ok(&kt, true);
	/* No SYN crossed for it. */
	assert_int_equal(meet(1, &stray).fanout, KNOWN_NEW);
	m = meet(0, &syn);
	assert_int_equal(m.fanout, KNOWN_SINK);
	assert_int_equal(m.tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(0, FAST_NEW, &syn), 1);
	m = meet(1, &synack);
	assert_int_equal(m.fanout, KNOWN_SINK);
	assert_int_equal(m.tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(1, FAST_NEW, &synack), 1);
	/* Taken once: a second SYN-ACK is judged first. */
	m = meet(1, &synack);
	assert_int_equal(m.fanout, KNOWN_NEW);
	assert_int_equal(m.tc, TC_ACT_OK);
	/* With a rate cap, never. */
	known_set_inside_ok(&kt, false);
	assert_int_equal(meet(0, &syn).tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(0, FAST_NEW, &syn), 1);
	assert_int_equal(meet(1, &synack).fanout, KNOWN_NEW);
	/* An ACK on those ports from inside is not an answer to wait for. */
	known_set_inside_ok(&kt, true);
	assert_int_equal(meet(0, &syn).tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(0, FAST_NEW, &syn), 1);
	{
		struct frame ack = tcp_back(30, 40030, ACK);

		assert_int_equal(meet(1, &ack).fanout, KNOWN_NEW);
	}
	assert_int_equal(meet(1, &synack).tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(1, FAST_NEW, &synack), 1);
	assert_false(known_set_networks(&kt, NULL, 0));
}

/* A client that reuses a known flow's ports: its SYN is an outsider's. */
static void
test_reused_ports_syn(void **st)
{
	struct frame syn = tcp(40, 40040, SYN, 0);
	struct fb_flowkey k = key_of(&syn);

	(void)st;
	NEED_BPF();
	honeynet();
	known_set_inside_ok(&kt, true);
	/* Known from before, not fast (it ended): the SYN and its SYN-ACK
	 * are an outsider's and its answer. */
	known_mark(&kt, &k);
	assert_int_equal(meet(0, &syn).tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(0, FAST_NEW, &syn), 1);
	{
		struct frame synack = tcp_back(40, 40040, SYN | ACK);
		struct met m = meet(1, &synack);

		assert_int_equal(m.fanout, KNOWN_SINK);
		assert_int_equal(m.tc, TC_ACT_REDIRECT);
		assert_int_equal(drain_kind(1, FAST_NEW, &synack), 1);
		/* taken: a second one is judged first, in the main ring */
		assert_int_equal(meet(1, &synack).fanout, KNOWN_MAIN);
	}
	known_set_fast(&kt, &k, false, 0, true);
	assert_int_equal(meet(0, &syn).tc, TC_ACT_REDIRECT);
	assert_int_equal(drain_kind(0, FAST_NEW, &syn), 1);
	/* On the inside leg, an opener on known ports is data control's. */
	known_set_fast(&kt, &k, false, 1, true);
	assert_int_equal(meet(1, &syn).fanout, KNOWN_MAIN);
	forget(&syn);
	assert_false(known_set_networks(&kt, NULL, 0));
}

static void
test_malformed_judged_first(void **st)
{
	struct frame good = tcp(60, 40060, ACK, 100);
	struct frame f;
	struct fb_flowkey k = key_of(&good);
	uint8_t *ip = good.b + 14;

	(void)st;
	NEED_BPF();
	honeynet();
	assert_int_equal(meet(0, &good).fanout, KNOWN_SINK);
	assert_int_equal(drain_kind(0, FAST_NEW, &good), 1);
	/* a total length beyond the frame */
	f = good;
	put16(f.b + 14 + 2, 400);
	assert_int_equal(meet(0, &f).fanout, KNOWN_NEW);
	/* a first fragment (more fragments) */
	f = good;
	put16(f.b + 14 + 6, 0x2000);
	assert_int_equal(meet(0, &f).fanout, KNOWN_NEW);
	/* a TCP data offset under 5 words, and one beyond the payload */
	f = good;
	f.b[14 + 20 + 12] = 0x40;
	assert_int_equal(meet(0, &f).fanout, KNOWN_NEW);
	f = tcp(60, 40060, ACK, 0);		/* 60 bytes of header in 20 */
	f.b[14 + 20 + 12] = 0xf0;
	assert_int_equal(meet(0, &f).fanout, KNOWN_NEW);
	/* not version 4 */
	f = good;
	f.b[14] = 0x55;
	assert_int_equal(meet(0, &f).fanout, KNOWN_NEW);
	/* a known fast flow's malformed frame goes to the main ring */
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	f = tcp(60, 40060, ACK, 0);
	f.b[14 + 20 + 12] = 0xf0;
	assert_int_equal(meet(0, &f).fanout, KNOWN_MAIN);
	assert_int_equal(meet(0, &good).fanout, KNOWN_SINK);
	assert_int_equal(drain(0, &good), 1);
	forget(&good);
	(void)ip;
	assert_false(known_set_networks(&kt, NULL, 0));
}

/*
 * Killed, then started again (fastpath.h "Killed"): the ring buffers are
 * pinned; a process that dies leaves them, records and consumer position
 * with them; the next adopts them and reads on from where the dead one
 * gave back, counting those frames recovered; once empty, closing unpins.
 * In a mount namespace of this test's own, with a bpffs of its own.
 */
static void
test_pinned_survive_and_adopted(void **st)
{
	struct frame f = tcp(9, 40009, ACK, 100);
	struct fb_flowkey k = key_of(&f);
	struct fastpath b, other;
	struct fb_frame fr;
	char dir[] = "/tmp/fb-test-pins.XXXXXX", dir2[] = "/tmp/fb-test-pins.XXXXXX";
	char why[512], pin_dir[128], path[256];
	fb_ns ts;

	(void)st;
	NEED_BPF();
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("bpf", FAST_PIN_ROOT, "bpf", 0, NULL) == -1) {
		print_message("skipped: no mount namespace with a bpffs: %s\n",
		    strerror(errno));
		skip();
	}
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(dir2));
	/* The fixture's ring buffers, pinned as fishbowl pins them. */
	assert_int_equal(fastpath_pins(&fp, dir, true, 0, 0, why, sizeof(why)), 0);
	assert_int_equal(fastpath_adopt(&fp, why, sizeof(why)), 0);
	assert_int_equal(fastpath_pin(&fp, why, sizeof(why)), 0);
	snprintf(pin_dir, sizeof(pin_dir), "%s", fp.pin_dir);
	/* A second fishbowl on this capture directory, while this one runs,
	 * never gets at its ring buffers. */
	fastpath_init(&other);
	assert_int_equal(fastpath_pins(&other, dir, false, 0, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "another fishbowl runs on it"));
	fastpath_close(&other);
	snprintf(path, sizeof(path), "%s/rb-outside-known", pin_dir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/rb-inside-new", pin_dir);
	assert_int_equal(access(path, F_OK), 0);
	/* Three frames cross; the first is read and given back; then the
	 * process "dies" (closes everything, unpins nothing: not empty). */
	known_mark(&kt, &k);
	known_set_fast(&kt, &k, false, 0, true);
	for (int i = 0; i < 3; i++)
		assert_int_equal(meet(0, &f).tc, TC_ACT_REDIRECT);
	assert_true(fastpath_peek(&fp, 0, FAST_KNOWN, &ts));
	fastpath_take(&fp, 0, FAST_KNOWN, &fr);
	fastpath_release(&fp);
	assert_int_equal(fastpath_recovered(&fp, 0), 0);
	for (int i = 0; i < 2; i++) {
		close(tc_prog[i]);	/* (they hold the maps too) */
		tc_prog[i] = -1;
	}
	fastpath_close(&fp);
	snprintf(path, sizeof(path), "%s/rb-outside-known", pin_dir);
	assert_int_equal(access(path, F_OK), 0);
	/* Another instance (another capture directory) finds none of them. */
	fastpath_init(&other);
	assert_int_equal(fastpath_pins(&other, dir2, false, 0, 0, why, sizeof(why)), 0);
	assert_int_equal(fastpath_adopt(&other, why, sizeof(why)), 0);
	fastpath_close(&other);
	/* The next start on this one: the two frames not given back. */
	fastpath_init(&b);
	assert_int_equal(fastpath_pins(&b, dir, false, 0, 0, why, sizeof(why)), 0);
	assert_string_equal(b.pin_dir, pin_dir);
	assert_int_equal(fastpath_adopt(&b, why, sizeof(why)), 2 * FAST_NKIND);
	assert_string_equal(why, "");
	assert_true(fastpath_pending(&b) > 0);
	for (int i = 0; i < 2; i++) {
		assert_true(fastpath_peek(&b, 0, FAST_KNOWN, &ts));
		fastpath_take(&b, 0, FAST_KNOWN, &fr);
		assert_true(fr.forwarded);	/* crossed: never sent again */
		assert_int_equal(fr.leg, 0);
		assert_int_equal(fr.caplen, f.len);
		assert_memory_equal(fr.data, f.b, f.len);
	}
	assert_false(fastpath_peek(&b, 0, FAST_KNOWN, &ts));
	assert_int_equal(fastpath_recovered(&b, 0), 2);
	assert_int_equal(fastpath_recovered(&b, 1), 0);
	fastpath_release(&b);
	assert_int_equal(fastpath_pending(&b), 0);
	/* Empty: closing unpins, and removes the instance's directory. */
	fastpath_close(&b);
	assert_int_equal(access(pin_dir, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
	rmdir(dir2);
	forget(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_and_known_flows_pass),
		cmocka_unit_test(test_fast_flow_recorded_then_redirected),
		cmocka_unit_test(test_opener_and_long_frames_not_fast),
		cmocka_unit_test(test_note_is_for_one_frame),
		cmocka_unit_test(test_gate_closed_drops_counted),
		cmocka_unit_test(test_full_ring_never_forwards_unrecorded),
		cmocka_unit_test(test_unfast_all),
		cmocka_unit_test(test_outsiders_frames),
		cmocka_unit_test(test_icmp_never_fast),
		cmocka_unit_test(test_synack_follows_syn),
		cmocka_unit_test(test_reused_ports_syn),
		cmocka_unit_test(test_half_full_ring_diverts),
		cmocka_unit_test(test_long_frame_holds_flow),
		cmocka_unit_test(test_malformed_judged_first),
		/* Last: it closes the fixture's programs and maps. */
		cmocka_unit_test(test_pinned_survive_and_adopted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
