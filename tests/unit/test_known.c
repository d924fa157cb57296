/*
 * Unit tests of known: the table of known flows (marking, forgetting,
 * collisions) and its eBPF program, run by the kernel itself on crafted
 * Ethernet frames (BPF_PROG_TEST_RUN, which gives a socket filter the same
 * view as the fanout hook: skb->protocol set, the network header after
 * the MAC header).  Each frame's key comes from decode_frame and
 * flow_key_of, as in the engine, so the test also shows that the program
 * and known_key_hash agree.  The kernel part needs CAP_BPF: without it,
 * those tests say they skipped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "testutil.h"
#include "decode.h"
#include "known.h"

#define SYN	0x02
#define ACK	0x10

struct frame {
	uint8_t		b[128];
	uint32_t	len;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static struct frame
ether(uint16_t type)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	memcpy(f.b, "\x02\0\0\0\0\x02" "\x02\0\0\0\0\x01", 12);
	put16(f.b + 12, type);
	f.len = 14;
	return f;
}

/* IPv4 from 10.1.0.s to 10.99.0.d, header of ihl words, L4 header after. */
static struct frame
v4(int ihl, uint8_t proto, uint8_t s, uint8_t d, uint16_t sp, uint16_t dp,
    uint16_t frag)
{
	struct frame f = ether(0x0800);
	uint8_t *ip = f.b + 14, *l4 = ip + ihl * 4;

	ip[0] = (uint8_t)(0x40 | ihl);
	put16(ip + 2, (uint16_t)(ihl * 4 + 20));
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, (uint8_t[]){ 10, 1, 0, s }, 4);
	memcpy(ip + 16, (uint8_t[]){ 10, 99, 0, d }, 4);
	for (int i = 20; i < ihl * 4; i++)
		ip[i] = 1;			/* NOP options */
	put16(l4, sp);
	put16(l4 + 2, dp);
	if (proto == 6) {
		l4[12] = 0x50;
		l4[13] = SYN;
	} else if (proto == 17) {
		put16(l4 + 4, 20);
	}
	f.len = 14 + (uint32_t)ihl * 4 + 20;
	return f;
}

static struct frame
v6(uint8_t nh, uint8_t s, uint16_t sp, uint16_t dp)
{
	struct frame f = ether(0x86dd);
	uint8_t *ip = f.b + 14, *l4 = ip + 40;

	ip[0] = 0x60;
	put16(ip + 4, 20);
	ip[6] = nh;
	ip[7] = 64;
	ip[8] = 0x20; ip[9] = 0x01; ip[10] = 0x0d; ip[11] = 0xb8; ip[23] = s;
	ip[24] = 0x20; ip[25] = 0x01; ip[26] = 0x0d; ip[27] = 0xb8; ip[28] = 0x99;
	ip[39] = 0x82;
	put16(l4, sp);
	put16(l4 + 2, dp);
	l4[12] = 0x50;
	l4[13] = SYN | ACK;
	f.len = 14 + 40 + 20;
	return f;
}

/* The flow key the engine would give the frame. */
static struct fb_flowkey
key_of(const struct frame *f)
{
	struct fb_packet p;
	struct fb_flowkey k;

	(void)decode_frame(FB_LINK_ETHERNET, f->b, f->len, f->len, &p);
	assert_true(flow_key_of(&p, &k));
	return k;
}

/* Tests on a table in our own memory: no kernel. */
static uint64_t mem[1u << 16];

static struct known_table
mem_table(void)
{
	struct known_table t;

	memset(&t, 0, sizeof(t));
	memset(mem, 0, sizeof(mem));
	t.slots = mem;
	t.mask = (1u << 16) - 1;
	t.seed = 0x0123456789abcdefULL;
	t.map_fd = -1;
	return t;
}

static int
used_slots(void)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
		n += mem[i] != 0;
	return n;
}

static void
test_mark_both_directions_and_forget(void **st)
{
	struct known_table t = mem_table();
	struct frame f = v4(5, 6, 5, 130, 40000, 22, 0);
	struct fb_flowkey k = key_of(&f);
	uint64_t h1 = known_key_hash(t.seed, &k.src, &k.dst, k.sport, k.dport, 6);
	uint64_t h2 = known_key_hash(t.seed, &k.dst, &k.src, k.dport, k.sport, 6);

	(void)st;
	assert_true(h1 != h2);
	known_mark(&t, &k);
	assert_int_equal(used_slots(), 2);
	assert_int_equal(mem[h1 & t.mask], (h1 >> 32) | 1);
	assert_int_equal(mem[h2 & t.mask], (h2 >> 32) | 1);
	assert_int_equal(t.marks, 1);
	known_mark(&t, &k);			/* again: same slots */
	assert_int_equal(used_slots(), 2);
	known_forget(&t, &k);
	assert_int_equal(used_slots(), 0);
}

static void
test_forget_leaves_another_flows_slot(void **st)
{
	struct known_table t = mem_table();
	struct frame f = v4(5, 17, 5, 130, 5353, 53, 0);
	struct fb_flowkey k = key_of(&f);
	uint64_t h = known_key_hash(t.seed, &k.src, &k.dst, k.sport, k.dport, 17);

	(void)st;
	known_mark(&t, &k);
	mem[h & t.mask] = 0x12345679;	/* a later flow took the slot */
	known_forget(&t, &k);
	assert_int_equal(mem[h & t.mask], 0x12345679);
	assert_int_equal(used_slots(), 1);
}

static void
test_seed_and_fields_change_the_hash(void **st)
{
	struct frame f = v4(5, 6, 5, 130, 40000, 22, 0);
	struct fb_flowkey k = key_of(&f);
	uint64_t h = known_key_hash(1, &k.src, &k.dst, k.sport, k.dport, 6);

	(void)st;
	assert_true(h != known_key_hash(2, &k.src, &k.dst, k.sport, k.dport, 6));
	assert_true(h != known_key_hash(1, &k.src, &k.dst, k.sport, 23, 6));
	assert_true(h != known_key_hash(1, &k.src, &k.dst, k.sport, k.dport, 17));
	assert_true(h != known_key_hash(1, &k.src, &k.src, k.sport, k.dport, 6));
}

static void
test_slots_for(void **st)
{
	(void)st;
	assert_int_equal(known_slots_for(16), 1u << 16);
	assert_int_equal(known_slots_for(65536), 1u << 18);
	assert_int_equal(known_slots_for(65537), 1u << 19);
	assert_int_equal(known_slots_for(16777216), 1u << 21);
}

/* The kernel */

static struct known_table kt;
static int prog_fd = -1, progs[2] = { -1, -1 };
static bool no_bpf;

static int
setup_kernel(void **st)
{
	char why[512];

	(void)st;
	if (known_open(&kt, 1u << 16, false, NULL, progs, why, sizeof(why)) == -1) {
		/* No privilege, no bpf(), or a kernel without mmapable arrays
		 * (before 5.5: fishbowl then files openers only): skipped.  A
		 * program the verifier refuses is a failure. */
		if (errno == EPERM || errno == ENOSYS ||
		    strncmp(why, "BPF_MAP_CREATE", 14) == 0 ||
		    strncmp(why, "mmap", 4) == 0) {
			fprintf(stderr, "test_known: kernel part skipped: %s\n", why);
			no_bpf = true;
			return 0;
		}
		fprintf(stderr, "known_open: %s\n", why);
		return -1;
	}
	prog_fd = progs[0];
	return 0;
}

static int
teardown_kernel(void **st)
{
	(void)st;
	for (int i = 0; i < 2; i++)
		if (progs[i] != -1)
			close(progs[i]);
	known_close(&kt);
	return 0;
}

/* What the program returns for the frame. */
static int
run(const struct frame *f)
{
	union bpf_attr at;

	memset(&at, 0, sizeof(at));
	at.test.prog_fd = (uint32_t)prog_fd;
	at.test.data_in = (uint64_t)(uintptr_t)f->b;
	at.test.data_size_in = f->len;
	at.test.repeat = 1;
	if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &at, sizeof(at)) != 0)
		fail_msg("BPF_PROG_TEST_RUN (%u bytes): %s", f->len, strerror(errno));
	return (int)at.test.retval;
}

#define NEED_BPF() do {							\
	if (no_bpf) {							\
		print_message("skipped: no CAP_BPF or bpf() here\n");	\
		skip();							\
	}								\
} while (0)

/* A frame of the flow and one of its reply go to main exactly while the
 * flow is marked. */
static void
check_flow(const struct frame *f, struct frame back_frame)
{
	struct fb_flowkey k = key_of(f);
	const struct frame *back = &back_frame;

	assert_int_equal(run(f), KNOWN_NEW);
	assert_int_equal(run(back), KNOWN_NEW);
	known_mark(&kt, &k);
	assert_int_equal(run(f), KNOWN_MAIN);
	assert_int_equal(run(back), KNOWN_MAIN);
	known_forget(&kt, &k);
	assert_int_equal(run(f), KNOWN_NEW);
	assert_int_equal(run(back), KNOWN_NEW);
}

/* The same frame from the other end: addresses and ports swapped. */
static struct frame
reply_v4(const struct frame *f, int ihl)
{
	struct frame r = *f;
	uint8_t *ip = r.b + 14, *l4 = ip + ihl * 4;

	memcpy(ip + 12, f->b + 14 + 16, 4);
	memcpy(ip + 16, f->b + 14 + 12, 4);
	memcpy(l4, f->b + 14 + ihl * 4 + 2, 2);
	memcpy(l4 + 2, f->b + 14 + ihl * 4, 2);
	return r;
}

static struct frame
reply_v6(const struct frame *f)
{
	struct frame r = *f;
	uint8_t *ip = r.b + 14;

	memcpy(ip + 8, f->b + 14 + 24, 16);
	memcpy(ip + 24, f->b + 14 + 8, 16);
	memcpy(ip + 40, f->b + 14 + 42, 2);
	memcpy(ip + 42, f->b + 14 + 40, 2);
	return r;
}

static void
test_kernel_v4_tcp_udp_other(void **st)
{
	struct frame f;

	(void)st;
	NEED_BPF();
	f = v4(5, 6, 5, 130, 40000, 22, 0);
	check_flow(&f, reply_v4(&f, 5));
	f = v4(7, 6, 6, 130, 40001, 80, 0);	/* options: ports after 28 bytes */
	check_flow(&f, reply_v4(&f, 7));
	f = v4(5, 17, 7, 131, 5353, 53, 0);
	check_flow(&f, reply_v4(&f, 5));
	f = v4(5, 47, 8, 131, 0, 0, 0);		/* GRE: no ports in the key */
	f.len = 14 + 20 + 4;
	check_flow(&f, reply_v4(&f, 5));
}

static void
test_kernel_v6(void **st)
{
	struct frame f;

	(void)st;
	NEED_BPF();
	f = v6(6, 5, 443, 50000);
	check_flow(&f, reply_v6(&f));
	f = v6(17, 9, 53, 50001);
	check_flow(&f, reply_v6(&f));
}

/* An ICMP echo request from 10.1.0.s (IPv4) or 2001:db8::s (IPv6, 40 +
 * 20 bytes), identifier id; echo_reply() is its answer. */
static struct frame
echo4(uint8_t s, uint16_t id)
{
	struct frame f = v4(5, 1, s, 130, 0x0800, 0x1234, 0);

	put16(f.b + 14 + 20 + 4, id);
	return f;
}

static struct frame
echo6(uint8_t s, uint16_t id)
{
	struct frame f = v6(58, s, 0x8000, 0x1234);

	put16(f.b + 14 + 40 + 4, id);
	return f;
}

static struct frame
echo_reply(const struct frame *f)
{
	bool is6 = f->b[12] == 0x86;
	struct frame r = is6 ? reply_v6(f) : reply_v4(f, 5);
	uint8_t *l4 = r.b + 14 + (is6 ? 40 : 20);

	/* reply_v*() swapped the first 4 bytes as ports: put them back */
	memcpy(l4, f->b + (l4 - r.b), 4);
	l4[0] = is6 ? 129 : 0;
	return r;
}

/* An ICMP error of type t quoting the first bytes of frame q (its network
 * header and 8 bytes after), as a router or the honeypot sends it. */
static struct frame
icmp_err(const struct frame *q, uint8_t t)
{
	bool is6 = q->b[12] == 0x86;
	uint32_t qlen = is6 ? 48 : 28;
	struct frame f = is6 ? v6(58, 1, 0, 0) : v4(5, 1, 1, 130, 0, 0, 0);
	uint8_t *ip = f.b + 14, *l4 = ip + (is6 ? 40 : 20);

	memset(l4, 0, 8);
	l4[0] = t;
	l4[1] = 3;
	memcpy(l4 + 8, q->b + 14, qlen);
	if (is6)
		put16(ip + 4, (uint16_t)(8 + qlen));
	else
		put16(ip + 2, (uint16_t)(20 + 8 + qlen));
	f.len = 14 + (is6 ? 40u : 20u) + 8 + qlen;
	return f;
}

static void
test_kernel_always_main(void **st)
{
	struct frame f;

	(void)st;
	NEED_BPF();
	f = ether(0x0806);			/* ARP */
	memset(f.b + 14, 0, 28);
	f.len = 14 + 28;
	assert_int_equal(run(&f), KNOWN_MAIN);
	f = v6(58, 5, 0x8700, 0);		/* ICMPv6 neighbour solicitation */
	assert_int_equal(run(&f), KNOWN_MAIN);
	f = v6(58, 5, 0x8600, 0);		/* router advertisement */
	assert_int_equal(run(&f), KNOWN_MAIN);
	f = v4(5, 1, 5, 130, 0x0900, 0, 0);	/* router advertisement (v4) */
	assert_int_equal(run(&f), KNOWN_MAIN);
}

/* ICMP errors are filed by the packet they quote: main while its flow is
 * known (either direction), newcomers' otherwise; cut short, or quoting
 * what is not IP of the family: newcomers'. */
static void
test_kernel_icmp_errors(void **st)
{
	struct frame udp = v4(5, 17, 5, 130, 5353, 53, 0), tcp = v4(5, 6, 6, 130, 40000, 22, 0);
	struct frame udp6 = v6(17, 9, 53, 50001);
	struct frame e, cut;
	struct fb_flowkey ku = key_of(&udp), kt6 = key_of(&udp6), ktc = key_of(&tcp);

	(void)st;
	NEED_BPF();
	e = icmp_err(&udp, 3);			/* port unreachable */
	assert_int_equal(run(&e), KNOWN_NEW);
	known_mark(&kt, &ku);
	assert_int_equal(run(&e), KNOWN_MAIN);
	e = icmp_err((struct frame[]){ reply_v4(&udp, 5) }, 3);	/* the answer's */
	assert_int_equal(run(&e), KNOWN_MAIN);
	e = icmp_err(&udp, 11);			/* time exceeded */
	assert_int_equal(run(&e), KNOWN_MAIN);
	known_forget(&kt, &ku);
	assert_int_equal(run(&e), KNOWN_NEW);
	e = icmp_err(&tcp, 3);
	assert_int_equal(run(&e), KNOWN_NEW);
	known_mark(&kt, &ktc);
	assert_int_equal(run(&e), KNOWN_MAIN);
	cut = e;				/* the quoted ports cut off */
	cut.len -= 8;
	put16(cut.b + 14 + 2, (uint16_t)(cut.len - 14));
	assert_int_equal(run(&cut), KNOWN_NEW);
	cut = e;				/* quoting something not IPv4 */
	cut.b[14 + 20 + 8] = 0x60;
	assert_int_equal(run(&cut), KNOWN_NEW);
	known_forget(&kt, &ktc);
	e = icmp_err(&udp6, 1);			/* ICMPv6 destination unreachable */
	assert_int_equal(run(&e), KNOWN_NEW);
	known_mark(&kt, &kt6);
	assert_int_equal(run(&e), KNOWN_MAIN);
	e = icmp_err(&udp6, 3);			/* time exceeded */
	assert_int_equal(run(&e), KNOWN_MAIN);
	known_forget(&kt, &kt6);
	assert_int_equal(run(&e), KNOWN_NEW);
}

/* ICMP echoes are flows of their identifier: newcomers until marked (a
 * flood of pings from random sources fills the newcomers' ring), then
 * main, request and reply alike. */
static void
test_kernel_icmp_echo(void **st)
{
	struct frame f, cut;

	(void)st;
	NEED_BPF();
	f = echo4(5, 0x4242);
	check_flow(&f, echo_reply(&f));
	f = echo6(7, 0x0001);
	check_flow(&f, echo_reply(&f));
	/* another identifier is another flow */
	f = echo4(5, 0x4242);
	{
		struct fb_flowkey k = key_of(&f);
		struct frame g = echo4(5, 0x4243);

		known_mark(&kt, &k);
		assert_int_equal(run(&f), KNOWN_MAIN);
		assert_int_equal(run(&g), KNOWN_NEW);
		known_forget(&kt, &k);
	}
	/* cut short before its identifier: a newcomer */
	cut = echo4(6, 0x4242);
	cut.len = 14 + 20 + 4;
	put16(cut.b + 14 + 2, 24);
	assert_int_equal(run(&cut), KNOWN_NEW);
}

static void
test_kernel_newcomers(void **st)
{
	struct frame f = v4(5, 6, 5, 130, 40000, 22, 0), frag, cut, ext, qinq;
	struct fb_flowkey k = key_of(&f);

	(void)st;
	NEED_BPF();
	known_mark(&kt, &k);
	assert_int_equal(run(&f), KNOWN_MAIN);
	frag = v4(5, 6, 5, 130, 40000, 22, 0x0001);	/* a later fragment */
	assert_int_equal(run(&frag), KNOWN_NEW);
	frag = v4(5, 6, 5, 130, 40000, 22, 0x4000);	/* DF only: whole */
	assert_int_equal(run(&frag), KNOWN_MAIN);
	qinq = ether(0x8100);		/* the inner tag, IPv4 behind it */
	memcpy(qinq.b + 14, "\x00\x64\x08\x00", 4);
	memcpy(qinq.b + 18, f.b + 14, f.len - 14);
	qinq.len = f.len + 4;
	assert_int_equal(run(&qinq), KNOWN_NEW);
	qinq.b[12] = 0x88;			/* 802.1ad */
	qinq.b[13] = 0xa8;
	assert_int_equal(run(&qinq), KNOWN_NEW);
	cut = f;
	cut.b[14] = 0x4f;		/* IHL 15: the ports past the frame's end */
	assert_int_equal(run(&cut), KNOWN_NEW);
	cut = f;
	cut.len = 14 + 20 + 3;				/* ports cut short */
	assert_int_equal(run(&cut), KNOWN_NEW);
	known_forget(&kt, &k);

	/* IPv6 with a hop-by-hop header: the key names header 0, which no
	 * flow is marked with, even when the TCP flow behind it is. */
	f = v6(6, 5, 443, 50000);
	k = key_of(&f);
	known_mark(&kt, &k);
	ext = f;
	ext.b[14 + 6] = 0;
	assert_int_equal(run(&ext), KNOWN_NEW);
	assert_int_equal(run(&f), KNOWN_MAIN);
	known_forget(&kt, &k);
}

/* Many flows at once: every marked one is found, no unmarked one is. */
static void
test_kernel_many_flows(void **st)
{
	struct frame f;
	struct fb_flowkey k;
	int main_marked = 0, main_other = 0;

	(void)st;
	NEED_BPF();
	for (int i = 0; i < 2000; i++) {
		f = v4(5, i % 2 ? 6 : 17, (uint8_t)i, (uint8_t)(128 + i % 100),
		    (uint16_t)(1024 + i * 7), (uint16_t)(i * 13), 0);
		k = key_of(&f);
		known_mark(&kt, &k);
	}
	for (int i = 0; i < 2000; i++) {
		f = v4(5, i % 2 ? 6 : 17, (uint8_t)i, (uint8_t)(128 + i % 100),
		    (uint16_t)(1024 + i * 7), (uint16_t)(i * 13), 0);
		main_marked += run(&f) == KNOWN_MAIN;
		f = v4(5, i % 2 ? 6 : 17, (uint8_t)i, (uint8_t)(128 + i % 100),
		    (uint16_t)(1024 + i * 7), (uint16_t)(i * 13 + 1), 0);
		main_other += run(&f) == KNOWN_MAIN;
	}
	/* Two marked flows may share a slot (the later wins): 2000 flows,
	 * 4000 marks in 65536 slots lose about 3 % to collisions. */
	assert_true(main_marked > 1850);
	assert_int_equal(main_other, 0);
	memset(kt.slots, 0, kt.map_len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mark_both_directions_and_forget),
		cmocka_unit_test(test_forget_leaves_another_flows_slot),
		cmocka_unit_test(test_seed_and_fields_change_the_hash),
		cmocka_unit_test(test_slots_for),
		cmocka_unit_test(test_kernel_v4_tcp_udp_other),
		cmocka_unit_test(test_kernel_v6),
		cmocka_unit_test(test_kernel_always_main),
		cmocka_unit_test(test_kernel_icmp_echo),
		cmocka_unit_test(test_kernel_icmp_errors),
		cmocka_unit_test(test_kernel_newcomers),
		cmocka_unit_test(test_kernel_many_flows),
	};

	return cmocka_run_group_tests(tests, setup_kernel, teardown_kernel);
}
