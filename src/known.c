/*
 * known: the kernel's list of known flows and the eBPF program that reads
 * it (see known.h).  The program is assembled here, instruction by
 * instruction, so the build needs no BPF compiler; tests/unit/test_known.c
 * runs it in the kernel against known_key_hash, and tests/netns/openers.sh
 * under floods.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/if_ether.h>

#include "bpfasm.h"
#include "known.h"
#include "util.h"

/* One multiplier for every mixing step (the golden ratio's 64 bits). */
#define KNOWN_K		0x9e3779b97f4a7c15ULL

/*
 * The hash, written once in C; the program below does the same steps on
 * the same 32-bit words (each a native-order load of 4 bytes of the frame,
 * as BPF_LDX_MEM(BPF_W) reads them).
 */
static inline uint64_t
mix(uint64_t h, uint32_t w)
{
	h ^= w;
	h *= KNOWN_K;
	h ^= h >> 32;
	return h;
}

static inline uint64_t
finish(uint64_t h)
{
	h *= KNOWN_K;
	h ^= h >> 29;
	return h;
}

static inline uint32_t
word(const uint8_t *b)
{
	uint32_t w;

	memcpy(&w, b, sizeof(w));
	return w;
}

uint64_t
known_key_hash(uint64_t seed, const struct fb_addr *src, const struct fb_addr *dst,
    uint16_t sport, uint16_t dport, uint8_t proto)
{
	uint8_t ports[4] = { (uint8_t)(sport >> 8), (uint8_t)sport,
	    (uint8_t)(dport >> 8), (uint8_t)dport };
	uint64_t h = seed;

	if (addr_is_v4(src)) {
		h = mix(h, word(src->b + 12));
		h = mix(h, word(dst->b + 12));
	} else {
		for (int i = 0; i < 16; i += 4)
			h = mix(h, word(src->b + i));
		for (int i = 0; i < 16; i += 4)
			h = mix(h, word(dst->b + i));
	}
	h = mix(h, word(ports));
	h = mix(h, proto);
	return finish(h);
}

static inline uint64_t
tag_of(uint64_t h)
{
	return h >> 32 | 1;	/* never 0, the empty slot */
}

/* Ports as the program reads them: TCP's and UDP's, and an ICMP echo's
 * identifier in both (flow.c). */
static uint64_t
hash_dir(const struct known_table *t, const struct fb_flowkey *k, bool back)
{
	bool ports = k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP ||
	    k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6;
	uint16_t sp = ports ? k->sport : 0, dp = ports ? k->dport : 0;

	if (back)
		return known_key_hash(t->seed, &k->dst, &k->src, dp, sp, k->proto);
	return known_key_hash(t->seed, &k->src, &k->dst, sp, dp, k->proto);
}

void
known_mark(struct known_table *t, const struct fb_flowkey *k)
{
	for (int back = 0; back < 2; back++) {
		uint64_t h = hash_dir(t, k, back);

		__atomic_store_n(&t->slots[h & t->mask], tag_of(h), __ATOMIC_RELAXED);
	}
	t->marks++;
}

int
known_remark(struct known_table *t, const struct fb_flowkey *k)
{
	int taken = 0;

	for (int back = 0; back < 2; back++) {
		uint64_t h = hash_dir(t, k, back);
		uint64_t *slot = &t->slots[h & t->mask];

		if ((__atomic_load_n(slot, __ATOMIC_RELAXED) & KNOWN_TAG_MASK) != tag_of(h)) {
			__atomic_store_n(slot, tag_of(h), __ATOMIC_RELAXED);
			taken++;
		}
	}
	if (taken > 0)
		t->marks++;
	return taken;
}

/* Replace slot's value by what(value) if it still holds tag. */
static void
slot_update(uint64_t *slot, uint64_t tag, uint64_t clear, uint64_t set)
{
	uint64_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);

	while ((v & KNOWN_TAG_MASK) == tag) {
		uint64_t want = (v & ~clear) | set;

		if (want == v || __atomic_compare_exchange_n(slot, &v, want, false,
		    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return;
	}
}

void
known_forget(struct known_table *t, const struct fb_flowkey *k)
{
	for (int back = 0; back < 2; back++) {
		uint64_t h = hash_dir(t, k, back);

		/* Only ours: the slot may have gone to another flow since. */
		slot_update(&t->slots[h & t->mask], tag_of(h), ~0ULL, 0);
	}
}

void
known_set_fast(struct known_table *t, const struct fb_flowkey *k, bool back,
    int leg, bool fast)
{
	uint64_t h = hash_dir(t, k, back), bit = KNOWN_FAST_BIT(leg);
	uint64_t hold = KNOWN_HOLD_BIT(leg);

	/* Fast or not, no longer held. */
	slot_update(&t->slots[h & t->mask], tag_of(h), fast ? hold : bit | hold,
	    fast ? bit : 0);
}

bool
known_is_fast(const struct known_table *t, const struct fb_flowkey *k, bool back,
    int leg)
{
	uint64_t h = hash_dir(t, k, back);
	uint64_t v = __atomic_load_n(&t->slots[h & t->mask], __ATOMIC_RELAXED);

	return (v & KNOWN_TAG_MASK) == tag_of(h) && (v & KNOWN_FAST_BIT(leg)) != 0;
}

void
known_unfast_all(struct known_table *t)
{
	uint64_t fast = KNOWN_FAST_BIT(0) | KNOWN_FAST_BIT(1) |
	    KNOWN_HOLD_BIT(0) | KNOWN_HOLD_BIT(1);

	for (uint64_t i = 0; i <= t->mask; i++) {
		uint64_t v = __atomic_load_n(&t->slots[i], __ATOMIC_RELAXED);

		if (v & fast)
			slot_update(&t->slots[i], v & KNOWN_TAG_MASK, fast, 0);
	}
}

uint32_t
known_slots_for(uint32_t max_flows)
{
	uint64_t want = (uint64_t)max_flows * 4;
	uint32_t n = 1u << 16;

	while (n < want && n < (1u << 21))
		n <<= 1;
	return n;
}

/* The program */

enum klabel { L_MAIN, L_NEW, L_V4, L_V6, L_V4PORTS, L_V4HASH, L_V6PORTS,
	L_V6HASH, L_LOOKUP, L_FOUND, L_FASTLEN, L_MISS, L_INBOUND, L_FALLBACK,
	L_NOTE_FAIL, L_V6NETS, L_OUTSIDER, L_OUTNOTE, L_REV6, L_REVFIN, L_SYNACK,
	L_WF6, L_WFL4, L_WFTCP, L_WFUDP, L_WFOK, L_WFDONE, L_DIVERT, L_ISFAST,
	L_V4NOTICMP, L_V6NOTICMP, L_V4ERR, L_V4ERRP, L_V6ERR, L_V6ERRP, L_NET6_0, NLABELS = L_NET6_0 + KNOWN_NETS6 };
_Static_assert(NLABELS <= BPFASM_LABELS, "known.c: more labels than bpfasm holds");

#define emit		bpfasm_emit
#define label		bpfasm_label
#define jump		bpfasm_jump

/* Stack: the IP header at FP_HDR (40 bytes), the ports at FP_PORTS, the
 * map key at FP_KEY.  Every offset is a multiple of the load's size (the
 * verifier wants stack accesses aligned). */
#define FP_HDR		(-112)
#define FP_PORTS	(-72)
#define FP_FLAGS	(-64)
#define FP_L4		(-16)
#define FP_FAM		(-24)		/* 4 or 6 */
#define FP_FALLBACK	(-32)		/* where a frame not taken goes */
#define FP_REV		(-40)		/* the note's second word */
#define FP_PKEY		(-44)		/* key into the pending table */
#define FP_PAY		(-56)		/* the IP payload's length */
#define FP_WF		(-128)		/* 1: well formed, may take the fast path */
#define FP_TMP		(-120)		/* a few bytes of the L4 header */
#define FP_KEY		(-4)
#define FP_ISICMP	(-8)		/* 1: an ICMP echo or error (W) */

/* r0 = skb_load_bytes_relative(skb = r6, off, fp + to, len, network header) */
static void
load_net(struct bpfasm *a, int off_reg, int32_t off, int16_t to, int32_t len)
{
	MOV_REG(BPF_REG_1, BPF_REG_6);
	if (off_reg >= 0)
		MOV_REG(BPF_REG_2, off_reg);
	else
		MOV_IMM(BPF_REG_2, off);
	MOV_REG(BPF_REG_3, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_3, to);
	MOV_IMM(BPF_REG_4, len);
	MOV_IMM(BPF_REG_5, BPF_HDR_START_NET);
	CALL(BPF_FUNC_skb_load_bytes_relative);
}

/* r7 = mix(r7, the u32 in r1); r4 holds KNOWN_K; clobbers r1 */
static void
mix_r1(struct bpfasm *a)
{
	ALU_REG(BPF_XOR, BPF_REG_7, BPF_REG_1);
	ALU_REG(BPF_MUL, BPF_REG_7, BPF_REG_4);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_RSH, BPF_REG_1, 32);
	ALU_REG(BPF_XOR, BPF_REG_7, BPF_REG_1);
}

static void
mix_stack(struct bpfasm *a, int16_t off)
{
	LDX(BPF_W, BPF_REG_1, BPF_REG_10, off);
	mix_r1(a);
}

/* r9 = the 4 bytes of ports at network offset (r2 or off), or 0 when r8
 * (the protocol) is neither TCP nor UDP. */
static void
ports(struct bpfasm *a, enum klabel has, enum klabel hash, int off_is_ihl, int32_t off)
{
	MOV_IMM(BPF_REG_9, 0);
	jump(a, BPF_JEQ, BPF_REG_8, IPPROTO_TCP, has);
	jump(a, BPF_JNE, BPF_REG_8, IPPROTO_UDP, hash);
	label(a, has);
	if (off_is_ihl) {
		LDX(BPF_B, BPF_REG_2, BPF_REG_10, FP_HDR);
		ALU_IMM(BPF_AND, BPF_REG_2, 0xf);
		ALU_IMM(BPF_LSH, BPF_REG_2, 2);
		STX(BPF_DW, BPF_REG_10, BPF_REG_2, FP_L4);
		load_net(a, BPF_REG_2, 0, FP_PORTS, 4);
	} else {
		ST_IMM(BPF_DW, BPF_REG_10, FP_L4, off);
		load_net(a, -1, off, FP_PORTS, 4);
	}
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_W, BPF_REG_9, BPF_REG_10, FP_PORTS);
}

/*
 * r9 = an ICMP echo's identifier, twice (the flow key's two ports, as
 * flow.c makes them: a request and its reply have one key).  An error
 * (v6: types 1-4; v4: 3, 4, 5, 11, 12) goes to err, to be filed by the
 * packet it quotes (icmp_error_quoted); any other type (neighbour
 * discovery, router advertisements ...) to the main ring; one cut short
 * before its identifier to the newcomers'.  FP_PORTS takes the first 8
 * bytes.
 */
static void
icmp_echo_id(struct bpfasm *a, int off_is_ihl, int32_t off, int req, int rep,
    enum klabel err)
{
	static const int32_t errs4[] = { 3, 4, 5, 11, 12 }, errs6[] = { 1, 2, 3, 4 };
	const int32_t *errs = off_is_ihl ? errs4 : errs6;
	size_t nerrs = off_is_ihl ? nitems(errs4) : nitems(errs6);

	if (off_is_ihl) {
		LDX(BPF_B, BPF_REG_2, BPF_REG_10, FP_HDR);
		ALU_IMM(BPF_AND, BPF_REG_2, 0xf);
		ALU_IMM(BPF_LSH, BPF_REG_2, 2);
		STX(BPF_DW, BPF_REG_10, BPF_REG_2, FP_L4);
		load_net(a, BPF_REG_2, 0, FP_PORTS, 8);
	} else {
		ST_IMM(BPF_DW, BPF_REG_10, FP_L4, off);
		load_net(a, -1, off, FP_PORTS, 8);
	}
	ST_IMM(BPF_W, BPF_REG_10, FP_ISICMP, 1);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_B, BPF_REG_1, BPF_REG_10, FP_PORTS);		/* the type */
	for (size_t i = 0; i < nerrs; i++)
		jump(a, BPF_JEQ, BPF_REG_1, errs[i], err);
	emit(a, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 1, rep);
	MOV_IMM(BPF_REG_1, req);
	jump(a, BPF_JNE, BPF_REG_1, req, L_MAIN);
	LDX(BPF_H, BPF_REG_9, BPF_REG_10, FP_PORTS + 4);
	MOV_REG(BPF_REG_1, BPF_REG_9);
	ALU_IMM(BPF_LSH, BPF_REG_1, 16);
	ALU_REG(BPF_OR, BPF_REG_9, BPF_REG_1);
}

/*
 * An ICMP error is filed by the packet it quotes (after its 8-byte
 * header): that packet's addresses, protocol (r8) and, for TCP and UDP,
 * ports (r9) hash as that packet itself would, so an error about a known
 * flow (a port unreachable for the honeypot's datagram out, a time
 * exceeded for its connection) goes to the main ring, and one about no
 * known flow (a flood of forged errors) to the newcomers'.  The quoted
 * header replaces the frame's at FP_HDR; then on to the family's hash
 * (hash).  Cut short, or not the family it should be: the newcomers'.
 */
static void
icmp_error_quoted(struct bpfasm *a, bool v6, enum klabel ports, enum klabel hash)
{
	if (v6) {
		load_net(a, -1, 40 + 8, FP_HDR, 40);
		jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
		LDX(BPF_B, BPF_REG_1, BPF_REG_10, FP_HDR);
		ALU_IMM(BPF_RSH, BPF_REG_1, 4);
		jump(a, BPF_JNE, BPF_REG_1, 6, L_NEW);
		LDX(BPF_B, BPF_REG_8, BPF_REG_10, FP_HDR + 6);
		MOV_IMM(BPF_REG_2, 40 + 8 + 40);
	} else {
		LDX(BPF_DW, BPF_REG_2, BPF_REG_10, FP_L4);
		ALU_IMM(BPF_ADD, BPF_REG_2, 8);
		load_net(a, BPF_REG_2, 0, FP_HDR, 20);
		jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
		LDX(BPF_B, BPF_REG_1, BPF_REG_10, FP_HDR);
		MOV_REG(BPF_REG_3, BPF_REG_1);
		ALU_IMM(BPF_RSH, BPF_REG_3, 4);
		jump(a, BPF_JNE, BPF_REG_3, 4, L_NEW);
		ALU_IMM(BPF_AND, BPF_REG_1, 0xf);
		jump(a, BPF_JLT, BPF_REG_1, 5, L_NEW);
		ALU_IMM(BPF_LSH, BPF_REG_1, 2);
		LDX(BPF_DW, BPF_REG_2, BPF_REG_10, FP_L4);
		ALU_IMM(BPF_ADD, BPF_REG_2, 8);
		ALU_REG(BPF_ADD, BPF_REG_2, BPF_REG_1);
		LDX(BPF_B, BPF_REG_8, BPF_REG_10, FP_HDR + 9);
	}
	MOV_IMM(BPF_REG_9, 0);
	jump(a, BPF_JEQ, BPF_REG_8, IPPROTO_TCP, ports);
	jump(a, BPF_JNE, BPF_REG_8, IPPROTO_UDP, hash);
	label(a, ports);
	load_net(a, BPF_REG_2, 0, FP_PORTS, 4);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_W, BPF_REG_9, BPF_REG_10, FP_PORTS);
	jump(a, BPF_JA, 0, 0, hash);
}

/*
 * The slot held the frame's tag (r1 the slot, r8 the protocol).  With the
 * fast path (fastpath.h), a flow marked fast from this leg is passed to
 * the kernel's forwarding: the frame goes to the sink member (nobody's
 * ring), and the per-CPU note tells the leg's tc program, which runs on
 * this CPU right after, to record and forward it.  A TCP opener (SYN
 * without ACK) never: a new connection on an old flow's ports is data
 * control's to count.
 */
/*
 * With the fast path: is the frame well formed as the engine's decoder
 * wants it (decode.c)?  Only then may it cross before it is judged
 * (FP_WF = 1; note() checks): IPv4 of version 4 without options nor
 * fragmentation, a total length that fits the frame; IPv6 of version 6
 * whose payload fits; a TCP data offset of at least 5 words within the
 * payload, a UDP length of at least 8 within it.  Emitted once, at
 * L_LOOKUP (both families pass there); keeps r7 (the hash), r8, r9, and
 * loads r4 (KNOWN_K) again (a helper call takes it).
 */
static void
well_formed(struct bpfasm *a)
{
	ST_IMM(BPF_DW, BPF_REG_10, FP_WF, 0);
	LDX(BPF_W, BPF_REG_2, BPF_REG_6, (int16_t)offsetof(struct __sk_buff, len));
	LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_FAM);
	jump(a, BPF_JNE, BPF_REG_1, 4, L_WF6);
	LDX(BPF_B, BPF_REG_1, BPF_REG_10, FP_HDR);
	MOV_REG(BPF_REG_3, BPF_REG_1);
	ALU_IMM(BPF_RSH, BPF_REG_3, 4);
	jump(a, BPF_JNE, BPF_REG_3, 4, L_WFDONE);
	ALU_IMM(BPF_AND, BPF_REG_1, 0xf);
	jump(a, BPF_JNE, BPF_REG_1, 5, L_WFDONE);
	LDX(BPF_H, BPF_REG_1, BPF_REG_10, FP_HDR + 6);
	emit(a, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
	ALU_IMM(BPF_AND, BPF_REG_1, 0x3fff);		/* MF, offset */
	jump(a, BPF_JNE, BPF_REG_1, 0, L_WFDONE);
	LDX(BPF_H, BPF_REG_1, BPF_REG_10, FP_HDR + 2);
	emit(a, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
	jump(a, BPF_JLT, BPF_REG_1, 20, L_WFDONE);
	bpfasm_jump_reg(a, BPF_JGT, BPF_REG_1, BPF_REG_2, L_WFDONE);
	ALU_IMM(BPF_SUB, BPF_REG_1, 20);
	STX(BPF_DW, BPF_REG_10, BPF_REG_1, FP_PAY);
	jump(a, BPF_JA, 0, 0, L_WFL4);
	label(a, L_WF6);
	LDX(BPF_B, BPF_REG_1, BPF_REG_10, FP_HDR);
	ALU_IMM(BPF_RSH, BPF_REG_1, 4);
	jump(a, BPF_JNE, BPF_REG_1, 6, L_WFDONE);
	LDX(BPF_H, BPF_REG_1, BPF_REG_10, FP_HDR + 4);
	emit(a, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
	MOV_REG(BPF_REG_3, BPF_REG_1);
	ALU_IMM(BPF_ADD, BPF_REG_3, 40);
	bpfasm_jump_reg(a, BPF_JGT, BPF_REG_3, BPF_REG_2, L_WFDONE);
	STX(BPF_DW, BPF_REG_10, BPF_REG_1, FP_PAY);
	label(a, L_WFL4);
	jump(a, BPF_JEQ, BPF_REG_8, IPPROTO_TCP, L_WFTCP);
	jump(a, BPF_JEQ, BPF_REG_8, IPPROTO_UDP, L_WFUDP);
	jump(a, BPF_JA, 0, 0, L_WFOK);
	label(a, L_WFTCP);
	LDX(BPF_DW, BPF_REG_2, BPF_REG_10, FP_L4);
	ALU_IMM(BPF_ADD, BPF_REG_2, 12);
	load_net(a, BPF_REG_2, 0, FP_TMP, 1);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_WFDONE);
	LDX(BPF_B, BPF_REG_1, BPF_REG_10, FP_TMP);
	ALU_IMM(BPF_RSH, BPF_REG_1, 4);
	ALU_IMM(BPF_LSH, BPF_REG_1, 2);
	jump(a, BPF_JLT, BPF_REG_1, 20, L_WFDONE);
	LDX(BPF_DW, BPF_REG_3, BPF_REG_10, FP_PAY);
	bpfasm_jump_reg(a, BPF_JGT, BPF_REG_1, BPF_REG_3, L_WFDONE);
	jump(a, BPF_JA, 0, 0, L_WFOK);
	label(a, L_WFUDP);
	LDX(BPF_DW, BPF_REG_2, BPF_REG_10, FP_L4);
	ALU_IMM(BPF_ADD, BPF_REG_2, 4);
	load_net(a, BPF_REG_2, 0, FP_TMP, 2);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_WFDONE);
	LDX(BPF_H, BPF_REG_1, BPF_REG_10, FP_TMP);
	emit(a, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
	jump(a, BPF_JLT, BPF_REG_1, 8, L_WFDONE);
	LDX(BPF_DW, BPF_REG_3, BPF_REG_10, FP_PAY);
	bpfasm_jump_reg(a, BPF_JGT, BPF_REG_1, BPF_REG_3, L_WFDONE);
	label(a, L_WFOK);
	ST_IMM(BPF_DW, BPF_REG_10, FP_WF, 1);
	label(a, L_WFDONE);
	bpfasm_ld_imm64(a, BPF_REG_4, 0, KNOWN_K);
}

/*
 * A known flow's frame for a ring buffer more than half full goes the old
 * way, and so do its flow's next frames on this leg: its fast bit here is
 * cleared and its hold bit set (atomic: fishbowl may be changing the
 * slot's other bits; held, an outsider's frame of it does not take the
 * newcomers' fast way either),
 * and fishbowl sets it again only once it has sent what it holds of the
 * flow (engine.c fast_mark).  Otherwise the flow's frames would alternate
 * between the two ways while the fill hovers at half, the later ones
 * overtaking those in fishbowl, and TCP would take every such reordering
 * for a loss (a third of a bulk transfer's segments sent twice).
 * FP_KEY still holds the flow's slot.
 */
static void
divert(struct bpfasm *a, const struct known_prog_opts *o)
{
	label(a, L_DIVERT);
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->map_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
	CALL(BPF_FUNC_map_lookup_elem);
	jump(a, BPF_JEQ, BPF_REG_0, 0, L_FALLBACK);
	/* Held first: a frame on another CPU that finds it not fast must
	 * find it held. */
	bpfasm_ld_imm64(a, BPF_REG_1, 0, KNOWN_HOLD_BIT(o->leg));
	bpfasm_emit(a, BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_OR);
	bpfasm_ld_imm64(a, BPF_REG_1, 0, ~KNOWN_FAST_BIT(o->leg));
	bpfasm_emit(a, BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_0, BPF_REG_1, 0, BPF_AND);
	jump(a, BPF_JA, 0, 0, L_FALLBACK);
}

/*
 * Leave the note for the tc program (kind: 0 a known flow's frame, its
 * main ring buffer; KNOWN_NOTE_NEW an outsider's frame of a flow not
 * known, the newcomers' one) and file the frame in the sink; a frame too
 * long, or no note to write, goes where FP_FALLBACK says; a known flow's
 * frame for a ring buffer more than half full, see divert().
 */
static void
note(struct bpfasm *a, const struct known_prog_opts *o, int kind)
{
	int k = (kind & KNOWN_NOTE_NEW) != 0;

	LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_WF);
	jump(a, BPF_JEQ, BPF_REG_1, 0, L_FALLBACK);
	LDX(BPF_W, BPF_REG_1, BPF_REG_6, (int16_t)offsetof(struct __sk_buff, len));
	jump(a, BPF_JGT, BPF_REG_1,
	    o->fast_maxlen != 0 ? (int32_t)o->fast_maxlen : KNOWN_FAST_MAXLEN,
	    k == 0 && o->ring_fd[k] >= 0 ? L_DIVERT : L_FALLBACK);
	if (o->ring_fd[k] >= 0) {
		/* The capture falls behind: the old way paces the sender. */
		bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->ring_fd[k]);
		MOV_IMM(BPF_REG_2, BPF_RB_AVAIL_DATA);
		CALL(BPF_FUNC_ringbuf_query);
		jump(a, BPF_JGT, BPF_REG_0, (int32_t)(o->ring_size[k] / 2),
		    k == 0 ? L_DIVERT : L_FALLBACK);
	}
	ST_IMM(BPF_W, BPF_REG_10, FP_KEY, 0);
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->note_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
	CALL(BPF_FUNC_map_lookup_elem);
	jump(a, BPF_JEQ, BPF_REG_0, 0, L_FALLBACK);
	LDX(BPF_W, BPF_REG_1, BPF_REG_6, (int16_t)offsetof(struct __sk_buff, protocol));
	ALU_IMM(BPF_LSH, BPF_REG_1, 16);
	ALU_IMM(BPF_OR, BPF_REG_1, KNOWN_NOTE_MARK | kind | o->leg);
	STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_REV);
	STX(BPF_DW, BPF_REG_0, BPF_REG_1, 8);
	MOV_IMM(BPF_REG_0, KNOWN_SINK);
	EXIT();
	if (k == 0 && o->ring_fd[k] >= 0)
		divert(a, o);	/* after a frame too long, or no room */
}

/* r1 = the TCP flags of the frame (FP_L4 set by ports()); to fail if the
 * byte cannot be read. */
static void
tcp_flags(struct bpfasm *a, int fail)
{
	LDX(BPF_DW, BPF_REG_2, BPF_REG_10, FP_L4);
	ALU_IMM(BPF_ADD, BPF_REG_2, 13);
	load_net(a, BPF_REG_2, 0, FP_FLAGS, 1);
	jump(a, BPF_JNE, BPF_REG_0, 0, fail);
	LDX(BPF_B, BPF_REG_1, BPF_REG_10, FP_FLAGS);
}

/*
 * An outsider's TCP opener (SYN alone), about to cross: FP_REV = the slot
 * (in the pending table) and tag of the answer's direction, the same hash
 * with the addresses and ports swapped; the tc program writes it there
 * once the SYN is recorded, and the inside leg's program lets the
 * honeypot's SYN-ACK for it take the fast path (pending_synack).
 */
static void
reverse_hash(struct bpfasm *a, const struct known_prog_opts *o)
{
	bpfasm_ld_imm64(a, BPF_REG_7, 0, o->seed);
	bpfasm_ld_imm64(a, BPF_REG_4, 0, KNOWN_K);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_FAM);
	jump(a, BPF_JNE, BPF_REG_1, 4, L_REV6);
	mix_stack(a, FP_HDR + 16);
	mix_stack(a, FP_HDR + 12);
	jump(a, BPF_JA, 0, 0, L_REVFIN);
	label(a, L_REV6);
	for (int i = 0; i < 4; i++)
		mix_stack(a, (int16_t)(FP_HDR + 24 + 4 * i));
	for (int i = 0; i < 4; i++)
		mix_stack(a, (int16_t)(FP_HDR + 8 + 4 * i));
	label(a, L_REVFIN);
	/* the ports' two halves swapped */
	MOV32_REG(BPF_REG_1, BPF_REG_9);
	MOV32_REG(BPF_REG_2, BPF_REG_9);
	bpfasm_emit(a, BPF_ALU | BPF_LSH | BPF_K, BPF_REG_1, 0, 0, 16);
	bpfasm_emit(a, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
	bpfasm_emit(a, BPF_ALU | BPF_OR | BPF_X, BPF_REG_1, BPF_REG_2, 0, 0);
	mix_r1(a);
	MOV_REG(BPF_REG_1, BPF_REG_8);
	mix_r1(a);
	ALU_REG(BPF_MUL, BPF_REG_7, BPF_REG_4);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_RSH, BPF_REG_1, 29);
	ALU_REG(BPF_XOR, BPF_REG_7, BPF_REG_1);
	/* FP_REV = (h & pending mask) << 32 | (h >> 32 | 1) */
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_AND, BPF_REG_1, KNOWN_PENDING - 1);
	ALU_IMM(BPF_LSH, BPF_REG_1, 32);
	ALU_IMM(BPF_RSH, BPF_REG_7, 32);
	ALU_IMM(BPF_OR, BPF_REG_7, 1);
	ALU_REG(BPF_OR, BPF_REG_1, BPF_REG_7);
	STX(BPF_DW, BPF_REG_10, BPF_REG_1, FP_REV);
}

/*
 * The inside leg, a frame of no known flow: a SYN-ACK whose outsider's SYN
 * crossed the fast path just before (its tag in the pending table, taken
 * once) is the answer data control forwards anyway (an inbound
 * connection's reply), if no rate cap counts the honeypot's bytes
 * (known_nets.inside_ok): to the inside leg's newcomers' ring buffer.
 * Also when the slot holds the tag of an earlier flow on those addresses
 * and ports, no longer fast (a client that reuses its ports).  r7 holds
 * the frame's tag, FP_KEY its slot; FP_FALLBACK where it goes otherwise.
 */
static void
pending_synack(struct bpfasm *a, const struct known_prog_opts *o)
{
	label(a, L_SYNACK);
	jump(a, BPF_JNE, BPF_REG_8, IPPROTO_TCP, L_FALLBACK);
	tcp_flags(a, L_FALLBACK);
	ALU_IMM(BPF_AND, BPF_REG_1, 0x17);		/* FIN SYN RST ACK */
	jump(a, BPF_JNE, BPF_REG_1, 0x12, L_FALLBACK);
	ST_IMM(BPF_W, BPF_REG_10, FP_PKEY, 0);
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->nets_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_PKEY);
	CALL(BPF_FUNC_map_lookup_elem);
	jump(a, BPF_JEQ, BPF_REG_0, 0, L_FALLBACK);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_0, (int16_t)offsetof(struct known_nets, inside_ok));
	jump(a, BPF_JEQ, BPF_REG_1, 0, L_FALLBACK);
	LDX(BPF_W, BPF_REG_1, BPF_REG_10, FP_KEY);
	ALU_IMM(BPF_AND, BPF_REG_1, KNOWN_PENDING - 1);
	STX(BPF_W, BPF_REG_10, BPF_REG_1, FP_PKEY);
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->pend_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_PKEY);
	CALL(BPF_FUNC_map_lookup_elem);
	jump(a, BPF_JEQ, BPF_REG_0, 0, L_FALLBACK);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
	bpfasm_jump_reg(a, BPF_JNE, BPF_REG_1, BPF_REG_7, L_FALLBACK);
	ST_IMM(BPF_DW, BPF_REG_0, 0, 0);
	note(a, o, KNOWN_NOTE_NEW);
}

/*
 * An outsider's frame (the outside leg's program, with the networks
 * table): from a source in none of the honeynet's networks, it is
 * forwarded whatever its flow (data control passes every frame in but a
 * spoofed one), so the kernel may take it: to the newcomers' ring
 * buffer.  From a honeynet source (spoofed), to FP_FALLBACK.  The table's
 * unused entries match nothing; each IPv4 network is also an IPv6 entry
 * (its mapped form), as the decoder sees a mapped source.
 */
static void
inbound(struct bpfasm *a, const struct known_prog_opts *o)
{
	label(a, L_INBOUND);
	ST_IMM(BPF_W, BPF_REG_10, FP_KEY, 0);
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->nets_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
	CALL(BPF_FUNC_map_lookup_elem);
	jump(a, BPF_JEQ, BPF_REG_0, 0, L_FALLBACK);
	MOV_REG(BPF_REG_7, BPF_REG_0);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_FAM);
	jump(a, BPF_JNE, BPF_REG_1, 4, L_V6NETS);
	LDX(BPF_W, BPF_REG_2, BPF_REG_10, FP_HDR + 12);
	for (int i = 0; i < KNOWN_NETS4; i++) {
		int16_t at = (int16_t)offsetof(struct known_nets, v4[i]);

		LDX(BPF_W, BPF_REG_3, BPF_REG_7, (int16_t)(at + 4));
		ALU_REG(BPF_AND, BPF_REG_3, BPF_REG_2);
		LDX(BPF_W, BPF_REG_4, BPF_REG_7, at);
		bpfasm_jump_reg(a, BPF_JEQ, BPF_REG_3, BPF_REG_4, L_FALLBACK);
	}
	jump(a, BPF_JA, 0, 0, L_OUTSIDER);
	label(a, L_V6NETS);
	LDX(BPF_DW, BPF_REG_2, BPF_REG_10, FP_HDR + 8);
	LDX(BPF_DW, BPF_REG_5, BPF_REG_10, FP_HDR + 16);
	for (int i = 0; i < KNOWN_NETS6; i++) {
		int16_t at = (int16_t)offsetof(struct known_nets, v6[i]);

		LDX(BPF_DW, BPF_REG_3, BPF_REG_7, (int16_t)(at + 16));
		ALU_REG(BPF_AND, BPF_REG_3, BPF_REG_2);
		LDX(BPF_DW, BPF_REG_4, BPF_REG_7, at);
		bpfasm_jump_reg(a, BPF_JNE, BPF_REG_3, BPF_REG_4, L_NET6_0 + i);
		LDX(BPF_DW, BPF_REG_3, BPF_REG_7, (int16_t)(at + 24));
		ALU_REG(BPF_AND, BPF_REG_3, BPF_REG_5);
		LDX(BPF_DW, BPF_REG_4, BPF_REG_7, (int16_t)(at + 8));
		bpfasm_jump_reg(a, BPF_JEQ, BPF_REG_3, BPF_REG_4, L_FALLBACK);
		label(a, L_NET6_0 + i);
	}
	label(a, L_OUTSIDER);
	if (o->pend_fd >= 0) {
		jump(a, BPF_JNE, BPF_REG_8, IPPROTO_TCP, L_OUTNOTE);
		tcp_flags(a, L_OUTNOTE);
		ALU_IMM(BPF_AND, BPF_REG_1, 0x17);
		jump(a, BPF_JNE, BPF_REG_1, 0x02, L_OUTNOTE);
		reverse_hash(a, o);
		note(a, o, KNOWN_NOTE_NEW | KNOWN_NOTE_SYN);
	}
	label(a, L_OUTNOTE);
	note(a, o, KNOWN_NOTE_NEW);
}

static void
fast_check(struct bpfasm *a, const struct known_prog_opts *o)
{
	MOV_REG(BPF_REG_3, BPF_REG_1);			/* the slot's value */
	ALU_IMM(BPF_RSH, BPF_REG_1, 32 + o->leg);
	ALU_IMM(BPF_AND, BPF_REG_1, 1);
	if (o->inbound) {
		/* Known, not fast from here: maybe an outsider's frame, unless
		 * the flow is held (divert()). */
		ST_IMM(BPF_DW, BPF_REG_10, FP_FALLBACK, KNOWN_MAIN);
		jump(a, BPF_JNE, BPF_REG_1, 0, L_ISFAST);
		ALU_IMM(BPF_RSH, BPF_REG_3, 34 + o->leg);
		ALU_IMM(BPF_AND, BPF_REG_3, 1);
		jump(a, BPF_JNE, BPF_REG_3, 0, L_MAIN);
		jump(a, BPF_JA, 0, 0, L_INBOUND);
		label(a, L_ISFAST);
	} else if (o->nets_fd >= 0 && o->pend_fd >= 0) {
		/* Or the answer to an outsider's SYN on reused ports. */
		ST_IMM(BPF_DW, BPF_REG_10, FP_FALLBACK, KNOWN_MAIN);
		jump(a, BPF_JEQ, BPF_REG_1, 0, L_SYNACK);
	} else {
		jump(a, BPF_JEQ, BPF_REG_1, 0, L_MAIN);
	}
	jump(a, BPF_JNE, BPF_REG_8, IPPROTO_TCP, L_FASTLEN);
	tcp_flags(a, L_MAIN);
	ALU_IMM(BPF_AND, BPF_REG_1, 0x12);		/* SYN, ACK */
	/* An outsider's opener on a known flow's ports (the client reused
	 * them) is an outsider's frame like any: forwarded. */
	jump(a, BPF_JEQ, BPF_REG_1, 0x02, o->inbound ? L_INBOUND : L_MAIN);
	label(a, L_FASTLEN);
	ST_IMM(BPF_DW, BPF_REG_10, FP_FALLBACK, KNOWN_MAIN);
	note(a, o, 0);
}

size_t
known_prog_build(struct bpf_insn *prog, const struct known_prog_opts *o)
{
	struct bpfasm as, *a = &as;

	bpfasm_init(a, prog, KNOWN_PROG_MAX);

	MOV_REG(BPF_REG_6, BPF_REG_1);
	ST_IMM(BPF_DW, BPF_REG_10, FP_REV, 0);
	ST_IMM(BPF_W, BPF_REG_10, FP_ISICMP, 0);
	LDX(BPF_W, BPF_REG_7, BPF_REG_6, (int16_t)offsetof(struct __sk_buff, protocol));
	jump(a, BPF_JEQ, BPF_REG_7, htons(ETH_P_IP), L_V4);
	jump(a, BPF_JEQ, BPF_REG_7, htons(ETH_P_IPV6), L_V6);
	/* A tag still in the frame (the inner one of QinQ: the kernel took
	 * the outer one) hides what it carries: not known. */
	jump(a, BPF_JEQ, BPF_REG_7, htons(ETH_P_8021Q), L_NEW);
	jump(a, BPF_JEQ, BPF_REG_7, htons(ETH_P_8021AD), L_NEW);
	label(a, L_MAIN);
	MOV_IMM(BPF_REG_0, KNOWN_MAIN);
	EXIT();
	label(a, L_NEW);
	MOV_IMM(BPF_REG_0, KNOWN_NEW);
	EXIT();

	/* IPv4: the fixed header, then the ports after 4 x IHL bytes */
	label(a, L_V4);
	ST_IMM(BPF_DW, BPF_REG_10, FP_FAM, 4);
	load_net(a, -1, 0, FP_HDR, 20);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_B, BPF_REG_8, BPF_REG_10, FP_HDR + 9);
	LDX(BPF_H, BPF_REG_1, BPF_REG_10, FP_HDR + 6);
	emit(a, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
	ALU_IMM(BPF_AND, BPF_REG_1, 0x1fff);
	jump(a, BPF_JNE, BPF_REG_1, 0, L_NEW);
	jump(a, BPF_JNE, BPF_REG_8, IPPROTO_ICMP, L_V4NOTICMP);
	icmp_echo_id(a, 1, 0, 8, 0, L_V4ERR);
	jump(a, BPF_JA, 0, 0, L_V4HASH);
	label(a, L_V4ERR);
	icmp_error_quoted(a, false, L_V4ERRP, L_V4HASH);
	label(a, L_V4NOTICMP);
	ports(a, L_V4PORTS, L_V4HASH, 1, 0);
	label(a, L_V4HASH);
	bpfasm_ld_imm64(a, BPF_REG_7, 0, o->seed);
	bpfasm_ld_imm64(a, BPF_REG_4, 0, KNOWN_K);
	mix_stack(a, FP_HDR + 12);
	mix_stack(a, FP_HDR + 16);
	MOV_REG(BPF_REG_1, BPF_REG_9);
	mix_r1(a);
	MOV_REG(BPF_REG_1, BPF_REG_8);
	mix_r1(a);
	jump(a, BPF_JA, 0, 0, L_LOOKUP);

	/* IPv6: the fixed header, the ports right after it */
	label(a, L_V6);
	ST_IMM(BPF_DW, BPF_REG_10, FP_FAM, 6);
	load_net(a, -1, 0, FP_HDR, 40);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_B, BPF_REG_8, BPF_REG_10, FP_HDR + 6);
	jump(a, BPF_JNE, BPF_REG_8, IPPROTO_ICMPV6, L_V6NOTICMP);
	icmp_echo_id(a, 0, 40, 128, 129, L_V6ERR);
	jump(a, BPF_JA, 0, 0, L_V6HASH);
	label(a, L_V6ERR);
	icmp_error_quoted(a, true, L_V6ERRP, L_V6HASH);
	label(a, L_V6NOTICMP);
	ports(a, L_V6PORTS, L_V6HASH, 0, 40);
	label(a, L_V6HASH);
	bpfasm_ld_imm64(a, BPF_REG_7, 0, o->seed);
	bpfasm_ld_imm64(a, BPF_REG_4, 0, KNOWN_K);
	for (int i = 0; i < 8; i++)
		mix_stack(a, (int16_t)(FP_HDR + 8 + 4 * i));
	MOV_REG(BPF_REG_1, BPF_REG_9);
	mix_r1(a);
	MOV_REG(BPF_REG_1, BPF_REG_8);
	mix_r1(a);

	/* finish, then: slot = h & mask, tag = h >> 32 | 1 */
	label(a, L_LOOKUP);
	if (o->note_fd >= 0)
		well_formed(a);
	ALU_REG(BPF_MUL, BPF_REG_7, BPF_REG_4);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_RSH, BPF_REG_1, 29);
	ALU_REG(BPF_XOR, BPF_REG_7, BPF_REG_1);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_AND, BPF_REG_1, (int32_t)o->mask);
	STX(BPF_W, BPF_REG_10, BPF_REG_1, FP_KEY);
	ALU_IMM(BPF_RSH, BPF_REG_7, 32);
	ALU_IMM(BPF_OR, BPF_REG_7, 1);
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->map_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
	CALL(BPF_FUNC_map_lookup_elem);
	jump(a, BPF_JEQ, BPF_REG_0, 0, L_MISS);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
	MOV32_REG(BPF_REG_2, BPF_REG_1);		/* the tag, without the fast bits */
	bpfasm_jump_reg(a, BPF_JEQ, BPF_REG_2, BPF_REG_7, L_FOUND);
	label(a, L_MISS);
	/* An echo of no known flow, or an error about none: a newcomer,
	 * never the fast way. */
	LDX(BPF_W, BPF_REG_2, BPF_REG_10, FP_ISICMP);
	jump(a, BPF_JNE, BPF_REG_2, 0, L_NEW);
	if (o->note_fd >= 0 && o->nets_fd >= 0 && o->inbound) {
		ST_IMM(BPF_DW, BPF_REG_10, FP_FALLBACK, KNOWN_NEW);
		jump(a, BPF_JA, 0, 0, L_INBOUND);
	} else if (o->note_fd >= 0 && o->nets_fd >= 0 && o->pend_fd >= 0) {
		ST_IMM(BPF_DW, BPF_REG_10, FP_FALLBACK, KNOWN_NEW);
		jump(a, BPF_JA, 0, 0, L_SYNACK);
	} else {
		jump(a, BPF_JA, 0, 0, L_NEW);
	}
	label(a, L_FOUND);
	if (o->note_fd < 0) {
		jump(a, BPF_JA, 0, 0, L_MAIN);
		return bpfasm_finish(a);
	}
	/* A known echo, or an error about a known flow: the main ring; ICMP
	 * never takes the fast path. */
	LDX(BPF_W, BPF_REG_2, BPF_REG_10, FP_ISICMP);	/* r1: the slot */
	jump(a, BPF_JNE, BPF_REG_2, 0, L_MAIN);
	fast_check(a, o);
	label(a, L_FALLBACK);
	LDX(BPF_DW, BPF_REG_0, BPF_REG_10, FP_FALLBACK);
	EXIT();
	if (o->nets_fd >= 0 && o->inbound)
		inbound(a, o);
	else if (o->nets_fd >= 0 && o->pend_fd >= 0)
		pending_synack(a, o);
	return bpfasm_finish(a);
}

/* The kernel */

static int
map_create(uint32_t slots)
{
	union bpf_attr at;

	memset(&at, 0, sizeof(at));
	at.map_type = BPF_MAP_TYPE_ARRAY;
	at.key_size = sizeof(uint32_t);
	/* 8 bytes: the kernel rounds an array's values up to 8 anyway, and
	 * the mapping shows them at that stride. */
	at.value_size = sizeof(uint64_t);
	at.max_entries = slots;
	at.map_flags = BPF_F_MMAPABLE;
	snprintf(at.map_name, sizeof(at.map_name), "fb_known");
	return (int)bpfasm_sys(BPF_MAP_CREATE, &at);
}

static int
note_create(void)
{
	union bpf_attr at;

	memset(&at, 0, sizeof(at));
	at.map_type = BPF_MAP_TYPE_PERCPU_ARRAY;
	at.key_size = sizeof(uint32_t);
	at.value_size = 2 * sizeof(uint64_t);	/* the note, the answer's slot */
	at.max_entries = 1;
	snprintf(at.map_name, sizeof(at.map_name), "fb_fast_note");
	return (int)bpfasm_sys(BPF_MAP_CREATE, &at);
}

static void nets_guard(struct known_nets *, bool);

static int
pending_create(void)
{
	union bpf_attr at;

	memset(&at, 0, sizeof(at));
	at.map_type = BPF_MAP_TYPE_ARRAY;
	at.key_size = sizeof(uint32_t);
	at.value_size = sizeof(uint64_t);
	at.max_entries = KNOWN_PENDING;
	snprintf(at.map_name, sizeof(at.map_name), "fb_fast_pending");
	return (int)bpfasm_sys(BPF_MAP_CREATE, &at);
}

static int
nets_create(struct known_table *t)
{
	union bpf_attr at;
	void *m;

	memset(&at, 0, sizeof(at));
	at.map_type = BPF_MAP_TYPE_ARRAY;
	at.key_size = sizeof(uint32_t);
	at.value_size = sizeof(struct known_nets);
	at.max_entries = 1;
	at.map_flags = BPF_F_MMAPABLE;
	snprintf(at.map_name, sizeof(at.map_name), "fb_fast_nets");
	if ((t->nets_fd = (int)bpfasm_sys(BPF_MAP_CREATE, &at)) == -1)
		return -1;
	t->nets_len = ((sizeof(struct known_nets) + 4095) / 4096) * 4096;
	m = mmap(NULL, t->nets_len, PROT_READ | PROT_WRITE, MAP_SHARED, t->nets_fd, 0);
	if (m == MAP_FAILED)
		return -1;
	t->nets = m;
	/* Until known_set_networks: every source is the honeynet's. */
	nets_guard(t->nets, true);
	return 0;
}

/* An entry that matches nothing: (x & 0) is never 1. */
static void
nets_clear4(struct known_nets *n, int i)
{
	__atomic_store_n(&n->v4[i][1], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&n->v4[i][0], 1, __ATOMIC_RELAXED);
}

static void
nets_clear6(struct known_nets *n, int i)
{
	for (int w = 0; w < 2; w++) {
		__atomic_store_n(&n->v6[i][2 + w], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&n->v6[i][w], 1, __ATOMIC_RELAXED);
	}
}

/* The 16 bytes of mask of a prefix of len bits. */
static void
mask_of(uint8_t len, uint8_t m[16])
{
	for (int i = 0; i < 16; i++) {
		int bits = (int)len - 8 * i;

		m[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

/* Entry 0 of each family is the guard: it matches every source while
 * the others change (a reload), nothing once they are written. */
static void
nets_guard(struct known_nets *k, bool all)
{
	__atomic_store_n(&k->v4[0][1], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&k->v4[0][0], all ? 0 : 1, __ATOMIC_RELAXED);
	for (int w = 0; w < 2; w++) {
		__atomic_store_n(&k->v6[0][2 + w], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&k->v6[0][w], all ? 0 : 1, __ATOMIC_RELAXED);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void
nets_put6(struct known_nets *k, int e, const struct fb_prefix *p)
{
	uint8_t m[16], a[16];
	uint64_t w;

	mask_of(p->len, m);
	for (int b = 0; b < 16; b++)
		a[b] = p->addr.b[b] & m[b];
	for (int wd = 0; wd < 2; wd++) {
		memcpy(&w, m + 8 * wd, 8);
		__atomic_store_n(&k->v6[e][2 + wd], w, __ATOMIC_RELAXED);
		memcpy(&w, a + 8 * wd, 8);
		__atomic_store_n(&k->v6[e][wd], w, __ATOMIC_RELAXED);
	}
}

/* The IPv4 entry of a network, false if it covers no IPv4 address. */
static bool
net4_of(const struct fb_prefix *p, uint32_t *a4, uint32_t *m4)
{
	static const uint8_t mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
	uint8_t m[16];

	mask_of(p->len, m);
	if (p->len < 96) {
		for (int b = 0; b < 12; b++)
			if ((mapped[b] & m[b]) != (p->addr.b[b] & m[b]))
				return false;
		*a4 = *m4 = 0;			/* every IPv4 source */
		return true;
	}
	if (memcmp(p->addr.b, mapped, 12) != 0)
		return false;
	memcpy(m4, m + 12, 4);
	memcpy(a4, p->addr.b + 12, 4);
	*a4 &= *m4;
	return true;
}

void
known_fast_suspend(struct known_table *t)
{
	known_unfast_all(t);
	if (t->nets != NULL)
		nets_guard(t->nets, true);
	known_set_inside_ok(t, false);
}

void
known_set_inside_ok(struct known_table *t, bool ok)
{
	if (t->nets != NULL)
		__atomic_store_n(&t->nets->inside_ok, ok ? 1 : 0, __ATOMIC_RELAXED);
}

bool
known_set_networks(struct known_table *t, const struct fb_prefix *nets, size_t n)
{
	struct known_nets *k = t->nets;
	int n4 = 1;

	if (k == NULL)
		return false;
	nets_guard(k, true);
	if (nets == NULL || n > KNOWN_NETS6 - 1)
		return false;
	for (int i = 1; i < KNOWN_NETS4; i++)
		nets_clear4(k, i);
	for (int i = 1; i < KNOWN_NETS6; i++)
		nets_clear6(k, i);
	for (size_t i = 0; i < n; i++) {
		uint32_t a4, m4;

		nets_put6(k, (int)i + 1, &nets[i]);
		if (!net4_of(&nets[i], &a4, &m4))
			continue;
		if (n4 >= KNOWN_NETS4)
			return false;		/* the guard still matches all */
		__atomic_store_n(&k->v4[n4][1], m4, __ATOMIC_RELAXED);
		__atomic_store_n(&k->v4[n4][0], a4, __ATOMIC_RELAXED);
		n4++;
	}
	nets_guard(k, false);
	return true;
}

int
known_open(struct known_table *t, uint32_t slots, bool fast,
    const struct known_rings *rings, int prog_fd[2], char *why, size_t whylen)
{
	struct bpf_insn prog[KNOWN_PROG_MAX];
	struct known_prog_opts o;
	size_t n;
	void *m;

	memset(t, 0, sizeof(*t));
	t->map_fd = t->note_fd = t->nets_fd = t->pend_fd = -1;
	prog_fd[0] = prog_fd[1] = -1;
	if (slots == 0 || (slots & (slots - 1)) != 0) {
		snprintf(why, whylen, "%u slots: not a power of two", slots);
		return -1;
	}
	if (getrandom(&t->seed, sizeof(t->seed), 0) != (ssize_t)sizeof(t->seed)) {
		snprintf(why, whylen, "getrandom: %s", strerror(errno));
		return -1;
	}
	if ((t->map_fd = map_create(slots)) == -1) {
		snprintf(why, whylen, "BPF_MAP_CREATE (array, mmapable): %s",
		    strerror(errno));
		return -1;
	}
	t->map_len = (size_t)slots * sizeof(uint64_t);
	m = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, t->map_fd, 0);
	if (m == MAP_FAILED) {
		snprintf(why, whylen, "mmap of the map: %s", strerror(errno));
		known_close(t);
		return -1;
	}
	t->slots = m;
	t->mask = slots - 1;
	if (fast && (t->note_fd = note_create()) == -1) {
		snprintf(why, whylen, "BPF_MAP_CREATE (per-CPU array): %s",
		    strerror(errno));
		known_close(t);
		return -1;
	}
	if (fast && nets_create(t) == -1) {
		snprintf(why, whylen, "the networks' map: %s", strerror(errno));
		known_close(t);
		return -1;
	}
	if (fast && (t->pend_fd = pending_create()) == -1) {
		snprintf(why, whylen, "the pending answers' map: %s", strerror(errno));
		known_close(t);
		return -1;
	}
	for (int leg = 0; leg < 2; leg++) {
		memset(&o, 0, sizeof(o));
		o.map_fd = t->map_fd;
		o.mask = t->mask;
		o.seed = t->seed;
		o.note_fd = t->note_fd;
		o.nets_fd = t->nets_fd;
		o.pend_fd = t->pend_fd;
		o.inbound = leg == 0;			/* LEG_OUTSIDE */
		for (int k = 0; k < 2; k++) {
			o.ring_fd[k] = rings != NULL ? rings->fd[leg][k] : -1;
			o.ring_size[k] = rings != NULL ? rings->size[leg][k] : 0;
		}
		o.leg = leg;
		n = known_prog_build(prog, &o);
		prog_fd[leg] = bpfasm_load(BPF_PROG_TYPE_SOCKET_FILTER, prog, n,
		    "fb_known", why, whylen);
		if (prog_fd[leg] == -1) {
			if (leg == 1)
				close(prog_fd[0]);
			prog_fd[0] = -1;
			known_close(t);
			return -1;
		}
	}
	return 0;
}

void
known_close(struct known_table *t)
{
	if (t->slots != NULL)
		munmap(t->slots, t->map_len);
	if (t->map_fd != -1)
		close(t->map_fd);
	if (t->note_fd != -1)
		close(t->note_fd);
	if (t->nets != NULL)
		munmap(t->nets, t->nets_len);
	if (t->nets_fd != -1)
		close(t->nets_fd);
	if (t->pend_fd != -1)
		close(t->pend_fd);
	t->slots = NULL;
	t->nets = NULL;
	t->map_fd = t->note_fd = t->nets_fd = t->pend_fd = -1;
}
