/*
 * Unit tests of openers: the classic BPF program of the openers' ring, run
 * on crafted packets by a small interpreter that models what the kernel's
 * fanout hook gives it (skb->protocol after the kernel took the outer VLAN
 * tag into metadata, loads relative to the network header, a load past the
 * end ends the program with 0).  The kernel itself runs the program on the
 * same kinds of frames in tests/netns/openers.sh.
 */
#include <stdbool.h>
#include <stdio.h>

#include "testutil.h"
#include "openers.h"

/* What the program sees: skb->protocol and the bytes from the network
 * header on. */
struct pkt {
	uint16_t	proto;
	uint8_t		b[200];
	uint32_t	len;
};

static bool
load(const struct pkt *p, int32_t k, uint32_t x, int size, uint32_t *out)
{
	int64_t off = (int64_t)k + x;
	uint32_t v = 0;

	/* Only network-header loads and the protocol are used. */
	if (off < SKF_NET_OFF || off >= SKF_AD_OFF)
		fail_msg("load at %lld: not relative to the network header",
		    (long long)off);
	off -= SKF_NET_OFF;
	if (off + size > p->len)
		return false;
	for (int i = 0; i < size; i++)
		v = v << 8 | p->b[off + i];
	*out = v;
	return true;
}

/* Run the program: its return value, and a check that it ends. */
static uint32_t
run(const struct pkt *p)
{
	uint32_t A = 0, X = 0, v, pc = 0;

	for (int steps = 0; steps < 64; steps++) {
		const struct sock_filter *f;
		uint16_t code;

		assert_true(pc < openers_prog_len);
		f = &openers_prog[pc++];
		code = f->code;
		switch (code) {
		case BPF_LD | BPF_W | BPF_ABS:
			assert_int_equal((int32_t)f->k, SKF_AD_OFF + SKF_AD_PROTOCOL);
			A = p->proto;
			break;
		case BPF_LD | BPF_B | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_IND:
			if (!load(p, (int32_t)f->k, BPF_MODE(code) == BPF_IND ? X : 0,
			    BPF_SIZE(code) == BPF_H ? 2 : 1, &v))
				return 0;
			A = v;
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (!load(p, (int32_t)f->k, 0, 1, &v))
				return 0;
			X = (v & 0xf) << 2;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			A &= f->k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += A == f->k ? f->jt : f->jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += (A & f->k) ? f->jt : f->jf;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			fail_msg("instruction %u: code %#x not modelled", pc - 1, code);
		}
	}
	fail_msg("no return after 64 steps");
	return 0;
}

/* IPv4 with ihl 32-bit words of header, TCP flags, total length len. */
static struct pkt
v4(uint8_t ihl, uint8_t ipproto, uint16_t frag, uint8_t flags)
{
	struct pkt p;
	uint32_t hl = ihl * 4u;

	memset(&p, 0, sizeof(p));
	p.proto = 0x0800;
	p.b[0] = (uint8_t)(0x40 | ihl);
	p.b[6] = (uint8_t)(frag >> 8);
	p.b[7] = (uint8_t)frag;
	p.b[8] = 64;
	p.b[9] = ipproto;
	/* Options: ACK in the byte where flags would be at IHL 5. */
	for (uint32_t i = 20; i < hl; i++)
		p.b[i] = 0x10;
	p.b[hl + 12] = 0x50;
	p.b[hl + 13] = flags;
	p.len = hl + 20;
	return p;
}

static struct pkt
v6(uint8_t nh, uint8_t flags)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.proto = 0x86dd;
	p.b[0] = 0x60;
	p.b[6] = nh;
	p.b[7] = 64;
	p.b[40 + 12] = 0x50;
	p.b[40 + 13] = flags;
	p.len = 60;
	return p;
}

#define SYN	0x02
#define ACK	0x10
#define FIN	0x01
#define RST	0x04
#define ECE	0x40
#define CWR	0x80

static void
test_v4_syn_is_an_opener(void **st)
{
	struct pkt p = v4(5, 6, 0, SYN);

	(void)st;
	assert_int_equal(run(&p), OPENERS_RING);
	p = v4(5, 6, 0, SYN | ECE | CWR);
	assert_int_equal(run(&p), OPENERS_RING);
	p = v4(5, 6, 0x4000, SYN);		/* DF */
	assert_int_equal(run(&p), OPENERS_RING);
	p = v4(5, 6, 0x2000, SYN);		/* first fragment (MF) */
	assert_int_equal(run(&p), OPENERS_RING);
	p = v4(5, 6, 0, SYN | FIN);		/* odd, but an opener */
	assert_int_equal(run(&p), OPENERS_RING);
}

static void
test_v4_header_length_is_read(void **st)
{
	(void)st;
	for (uint8_t ihl = 5; ihl <= 15; ihl++) {
		struct pkt p = v4(ihl, 6, 0, SYN);

		assert_int_equal(run(&p), OPENERS_RING);
		p = v4(ihl, 6, 0, SYN | ACK);
		assert_int_equal(run(&p), OPENERS_MAIN);
	}
	/* Flags bytes at IHL 5 say SYN, the real ones (IHL 6) say ACK. */
	struct pkt p = v4(6, 6, 0, ACK);

	p.b[20 + 13] = SYN;
	assert_int_equal(run(&p), OPENERS_MAIN);
}

static void
test_v4_others_go_to_main(void **st)
{
	static const uint8_t fl[] = { 0, ACK, SYN | ACK, FIN | ACK, RST, RST | ACK,
	    SYN | ACK | ECE };
	struct pkt p;

	(void)st;
	for (size_t i = 0; i < sizeof(fl); i++) {
		p = v4(5, 6, 0, fl[i]);
		assert_int_equal(run(&p), OPENERS_MAIN);
	}
	p = v4(5, 17, 0, SYN);			/* UDP with that byte */
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v4(5, 1, 0, SYN);			/* ICMP */
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v4(5, 6, 0x0001, SYN);		/* later fragment: no TCP header */
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v4(5, 6, 0x3fff, SYN);
	assert_int_equal(run(&p), OPENERS_MAIN);
}

static void
test_short_packets_go_to_main(void **st)
{
	struct pkt p = v4(5, 6, 0, SYN);

	(void)st;
	p.len = 33;				/* ends before the flags */
	assert_int_equal(run(&p), OPENERS_MAIN);
	p.len = 34;
	assert_int_equal(run(&p), OPENERS_RING);
	p = v4(15, 6, 0, SYN);
	p.len = 60 + 13;			/* options, then too short */
	assert_int_equal(run(&p), OPENERS_MAIN);
	p.len = 0;
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v6(6, SYN);
	p.len = 53;
	assert_int_equal(run(&p), OPENERS_MAIN);
}

static void
test_v6(void **st)
{
	struct pkt p = v6(6, SYN);

	(void)st;
	assert_int_equal(run(&p), OPENERS_RING);
	p = v6(6, SYN | ECE | CWR);
	assert_int_equal(run(&p), OPENERS_RING);
	p = v6(6, SYN | ACK);
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v6(6, ACK);
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v6(17, SYN);
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v6(0, SYN);				/* hop-by-hop first: main */
	assert_int_equal(run(&p), OPENERS_MAIN);
	p = v6(44, SYN);			/* fragment header: main */
	assert_int_equal(run(&p), OPENERS_MAIN);
}

static void
test_other_ethertypes_go_to_main(void **st)
{
	struct pkt p = v4(5, 6, 0, SYN);

	(void)st;
	/* An inner tag left in the frame (QinQ), ARP, anything else. */
	static const uint16_t et[] = { 0x8100, 0x88a8, 0x0806, 0x8864, 0x0000,
	    0xffff };
	for (size_t i = 0; i < sizeof(et) / sizeof(et[0]); i++) {
		p.proto = et[i];
		assert_int_equal(run(&p), OPENERS_MAIN);
	}
	p = v6(6, SYN);
	p.proto = 0x0800;			/* IPv6 bytes, IPv4 type */
	assert_int_equal(run(&p), OPENERS_MAIN);
}

/* Every jump lands inside the program, and it ends in returns. */
static void
test_program_shape(void **st)
{
	(void)st;
	assert_true(openers_prog_len <= 32);
	for (size_t i = 0; i < openers_prog_len; i++) {
		const struct sock_filter *f = &openers_prog[i];

		if (BPF_CLASS(f->code) == BPF_JMP) {
			assert_true(i + 1 + f->jt < openers_prog_len);
			assert_true(i + 1 + f->jf < openers_prog_len);
		}
	}
	assert_int_equal(BPF_CLASS(openers_prog[openers_prog_len - 1].code), BPF_RET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_syn_is_an_opener),
		cmocka_unit_test(test_v4_header_length_is_read),
		cmocka_unit_test(test_v4_others_go_to_main),
		cmocka_unit_test(test_short_packets_go_to_main),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_other_ethertypes_go_to_main),
		cmocka_unit_test(test_program_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
