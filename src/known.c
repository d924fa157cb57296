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

/* Ports as the program reads them: only TCP and UDP have them. */
static uint64_t
hash_dir(const struct known_table *t, const struct fb_flowkey *k, bool back)
{
	bool ports = k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP;
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

void
known_forget(struct known_table *t, const struct fb_flowkey *k)
{
	for (int back = 0; back < 2; back++) {
		uint64_t h = hash_dir(t, k, back);
		uint64_t tag = tag_of(h);

		/* Only ours: the slot may have gone to another flow since. */
		(void)__atomic_compare_exchange_n(&t->slots[h & t->mask], &tag, 0,
		    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
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

/* The assembler */

struct bpfasm {
	struct bpf_insn	*p;
	size_t		 n;
	int		 at[16];		/* label -> instruction, -1 unset */
	struct { size_t insn; int label; } fix[32];
	size_t		 nfix;
};

enum label { L_MAIN, L_NEW, L_V4, L_V6, L_V4PORTS, L_V4HASH, L_V6PORTS,
	L_V6HASH, L_LOOKUP, NLABELS };

static void
emit(struct bpfasm *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn *i;

	/* A programming error, caught by the unit tests. */
	if (a->n >= KNOWN_PROG_MAX)
		abort();
	i = &a->p[a->n++];
	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
}

static void
label(struct bpfasm *a, enum label l)
{
	a->at[l] = (int)a->n;
}

/* if (dst OP imm) goto l; BPF_JA for an unconditional jump */
static void
jump(struct bpfasm *a, uint8_t op, uint8_t dst, int32_t imm, enum label l)
{
	if (a->nfix >= nitems(a->fix))
		abort();
	a->fix[a->nfix].insn = a->n;
	a->fix[a->nfix].label = l;
	a->nfix++;
	emit(a, BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}

/* if (dst == src) goto l */
static void
jump_eq_reg(struct bpfasm *a, uint8_t dst, uint8_t src, enum label l)
{
	if (a->nfix >= nitems(a->fix))
		abort();
	a->fix[a->nfix].insn = a->n;
	a->fix[a->nfix].label = l;
	a->nfix++;
	emit(a, BPF_JMP | BPF_JEQ | BPF_X, dst, src, 0, 0);
}

static void
ld_imm64(struct bpfasm *a, uint8_t dst, uint8_t src, uint64_t v)
{
	emit(a, BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (int32_t)(uint32_t)v);
	emit(a, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

#define MOV_IMM(d, v)	emit(a, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, v)
#define MOV_REG(d, s)	emit(a, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ALU_IMM(op, d, v) emit(a, BPF_ALU64 | (op) | BPF_K, d, 0, 0, v)
#define ALU_REG(op, d, s) emit(a, BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LDX(sz, d, s, o) emit(a, BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) emit(a, BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define CALL(f)		emit(a, BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()		emit(a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Stack: the IP header at FP_HDR (40 bytes), the ports at FP_PORTS, the
 * map key at FP_KEY.  Every offset is a multiple of the load's size (the
 * verifier wants stack accesses aligned). */
#define FP_HDR		(-112)
#define FP_PORTS	(-72)
#define FP_KEY		(-4)

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
ports(struct bpfasm *a, enum label has, enum label hash, int off_is_ihl, int32_t off)
{
	MOV_IMM(BPF_REG_9, 0);
	jump(a, BPF_JEQ, BPF_REG_8, IPPROTO_TCP, has);
	jump(a, BPF_JNE, BPF_REG_8, IPPROTO_UDP, hash);
	label(a, has);
	if (off_is_ihl) {
		LDX(BPF_B, BPF_REG_2, BPF_REG_10, FP_HDR);
		ALU_IMM(BPF_AND, BPF_REG_2, 0xf);
		ALU_IMM(BPF_LSH, BPF_REG_2, 2);
		load_net(a, BPF_REG_2, 0, FP_PORTS, 4);
	} else {
		load_net(a, -1, off, FP_PORTS, 4);
	}
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_W, BPF_REG_9, BPF_REG_10, FP_PORTS);
}

size_t
known_prog_build(struct bpf_insn *prog, int map_fd, uint32_t mask, uint64_t seed)
{
	struct bpfasm as, *a = &as;

	memset(a, 0, sizeof(*a));
	a->p = prog;
	for (int i = 0; i < NLABELS; i++)
		a->at[i] = -1;

	MOV_REG(BPF_REG_6, BPF_REG_1);
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
	load_net(a, -1, 0, FP_HDR, 20);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_B, BPF_REG_8, BPF_REG_10, FP_HDR + 9);
	jump(a, BPF_JEQ, BPF_REG_8, IPPROTO_ICMP, L_MAIN);
	LDX(BPF_H, BPF_REG_1, BPF_REG_10, FP_HDR + 6);
	emit(a, BPF_ALU | BPF_END | BPF_TO_BE, BPF_REG_1, 0, 0, 16);
	ALU_IMM(BPF_AND, BPF_REG_1, 0x1fff);
	jump(a, BPF_JNE, BPF_REG_1, 0, L_NEW);
	ports(a, L_V4PORTS, L_V4HASH, 1, 0);
	label(a, L_V4HASH);
	ld_imm64(a, BPF_REG_7, 0, seed);
	ld_imm64(a, BPF_REG_4, 0, KNOWN_K);
	mix_stack(a, FP_HDR + 12);
	mix_stack(a, FP_HDR + 16);
	MOV_REG(BPF_REG_1, BPF_REG_9);
	mix_r1(a);
	MOV_REG(BPF_REG_1, BPF_REG_8);
	mix_r1(a);
	jump(a, BPF_JA, 0, 0, L_LOOKUP);

	/* IPv6: the fixed header, the ports right after it */
	label(a, L_V6);
	load_net(a, -1, 0, FP_HDR, 40);
	jump(a, BPF_JNE, BPF_REG_0, 0, L_NEW);
	LDX(BPF_B, BPF_REG_8, BPF_REG_10, FP_HDR + 6);
	jump(a, BPF_JEQ, BPF_REG_8, IPPROTO_ICMPV6, L_MAIN);
	ports(a, L_V6PORTS, L_V6HASH, 0, 40);
	label(a, L_V6HASH);
	ld_imm64(a, BPF_REG_7, 0, seed);
	ld_imm64(a, BPF_REG_4, 0, KNOWN_K);
	for (int i = 0; i < 8; i++)
		mix_stack(a, (int16_t)(FP_HDR + 8 + 4 * i));
	MOV_REG(BPF_REG_1, BPF_REG_9);
	mix_r1(a);
	MOV_REG(BPF_REG_1, BPF_REG_8);
	mix_r1(a);

	/* finish, then: slot = h & mask, tag = h >> 32 | 1 */
	label(a, L_LOOKUP);
	ALU_REG(BPF_MUL, BPF_REG_7, BPF_REG_4);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_RSH, BPF_REG_1, 29);
	ALU_REG(BPF_XOR, BPF_REG_7, BPF_REG_1);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_AND, BPF_REG_1, (int32_t)mask);
	STX(BPF_W, BPF_REG_10, BPF_REG_1, FP_KEY);
	ALU_IMM(BPF_RSH, BPF_REG_7, 32);
	ALU_IMM(BPF_OR, BPF_REG_7, 1);
	ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)map_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
	CALL(BPF_FUNC_map_lookup_elem);
	jump(a, BPF_JEQ, BPF_REG_0, 0, L_NEW);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 0);
	jump_eq_reg(a, BPF_REG_1, BPF_REG_7, L_MAIN);
	jump(a, BPF_JA, 0, 0, L_NEW);

	for (size_t i = 0; i < a->nfix; i++) {
		struct bpf_insn *j = &a->p[a->fix[i].insn];

		j->off = (int16_t)(a->at[a->fix[i].label] - (int)a->fix[i].insn - 1);
	}
	return a->n;
}

/* The kernel */

static long
sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

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
	return (int)sys_bpf(BPF_MAP_CREATE, &at);
}

static int
prog_load(const struct bpf_insn *prog, size_t n, char *why, size_t whylen)
{
	static char log[4096];
	union bpf_attr at;
	int fd;

	memset(&at, 0, sizeof(at));
	at.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	at.insns = (uint64_t)(uintptr_t)prog;
	at.insn_cnt = (uint32_t)n;
	at.license = (uint64_t)(uintptr_t)"ISC";
	at.log_buf = (uint64_t)(uintptr_t)log;
	at.log_size = sizeof(log);
	at.log_level = 1;
	snprintf(at.prog_name, sizeof(at.prog_name), "fb_known");
	log[0] = '\0';
	fd = (int)sys_bpf(BPF_PROG_LOAD, &at);
	if (fd == -1 && errno == ENOSPC) {	/* the log, not the program */
		at.log_level = 0;
		at.log_buf = 0;
		at.log_size = 0;
		fd = (int)sys_bpf(BPF_PROG_LOAD, &at);
	}
	if (fd == -1) {
		char *nl = strchr(log, '\n');
		int e = errno;

		if (nl != NULL)
			*nl = '\0';
		snprintf(why, whylen, "BPF_PROG_LOAD: %s%s%s", strerror(e),
		    log[0] ? ": " : "", log);
		errno = e;
	}
	return fd;
}

int
known_open(struct known_table *t, uint32_t slots, int *prog_fd, char *why, size_t whylen)
{
	struct bpf_insn prog[KNOWN_PROG_MAX];
	size_t n;
	void *m;

	memset(t, 0, sizeof(*t));
	t->map_fd = -1;
	*prog_fd = -1;
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
	n = known_prog_build(prog, t->map_fd, t->mask, t->seed);
	if ((*prog_fd = prog_load(prog, n, why, whylen)) == -1) {
		known_close(t);
		return -1;
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
	t->slots = NULL;
	t->map_fd = -1;
}
