/*
 * bpfasm: a small assembler for the eBPF programs fishbowl loads itself
 * (known.c, fastpath.c), so the build needs no BPF compiler.  Labels are
 * small integers a program names in its own enum; jumps to them are fixed
 * up by bpfasm_finish.  Overflowing the program or the fix-up list is a
 * programming error (abort), caught by the unit tests that load every
 * program into the kernel.
 */
#ifndef FB_BPFASM_H
#define FB_BPFASM_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

#define BPFASM_LABELS	64
#define BPFASM_FIXES	384

struct bpfasm {
	struct bpf_insn	*p;
	size_t		 n, max;
	int		 at[BPFASM_LABELS];	/* label -> instruction, -1 unset */
	struct { size_t insn; int label; } fix[BPFASM_FIXES];
	size_t		 nfix;
};

void	bpfasm_init(struct bpfasm *, struct bpf_insn *prog, size_t max);
void	bpfasm_emit(struct bpfasm *, uint8_t code, uint8_t dst, uint8_t src,
	    int16_t off, int32_t imm);
void	bpfasm_label(struct bpfasm *, int label);
/* if (dst OP imm) goto l; op BPF_JA: always */
void	bpfasm_jump(struct bpfasm *, uint8_t op, uint8_t dst, int32_t imm, int l);
/* if (dst OP src) goto l */
void	bpfasm_jump_reg(struct bpfasm *, uint8_t op, uint8_t dst, uint8_t src, int l);
void	bpfasm_ld_imm64(struct bpfasm *, uint8_t dst, uint8_t src, uint64_t v);
/* Resolve the jumps; returns the instruction count. */
size_t	bpfasm_finish(struct bpfasm *);

/* The bpf() system call. */
long	bpfasm_sys(int cmd, union bpf_attr *);
/* Load a program of type; -1 with why (the verifier's complaint) on
 * failure.  FB_BPF_LOG in the environment prints the whole log. */
int	bpfasm_load(uint32_t type, const struct bpf_insn *prog, size_t n,
	    const char *name, char *why, size_t whylen);

/* Shorthands; each expects `struct bpfasm *a` in scope. */
#define MOV_IMM(d, v)	bpfasm_emit(a, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, v)
#define MOV_REG(d, s)	bpfasm_emit(a, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV32_REG(d, s)	bpfasm_emit(a, BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define ALU_IMM(op, d, v) bpfasm_emit(a, BPF_ALU64 | (op) | BPF_K, d, 0, 0, v)
#define ALU_REG(op, d, s) bpfasm_emit(a, BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LDX(sz, d, s, o) bpfasm_emit(a, BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) bpfasm_emit(a, BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST_IMM(sz, d, o, v) bpfasm_emit(a, BPF_ST | BPF_MEM | (sz), d, 0, o, v)
#define CALL(f)		bpfasm_emit(a, BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define EXIT()		bpfasm_emit(a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#endif
