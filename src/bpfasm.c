/*
 * bpfasm: the assembler of bpfasm.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfasm.h"

void
bpfasm_init(struct bpfasm *a, struct bpf_insn *prog, size_t max)
{
	memset(a, 0, sizeof(*a));
	a->p = prog;
	a->max = max;
	for (int i = 0; i < BPFASM_LABELS; i++)
		a->at[i] = -1;
}

void
bpfasm_emit(struct bpfasm *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off,
    int32_t imm)
{
	struct bpf_insn *i;

	if (a->n >= a->max)
		abort();
	i = &a->p[a->n++];
	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
}

void
bpfasm_label(struct bpfasm *a, int l)
{
	if (l < 0 || l >= BPFASM_LABELS)
		abort();
	a->at[l] = (int)a->n;
}

static void
fixup(struct bpfasm *a, int l)
{
	if (a->nfix >= BPFASM_FIXES || l < 0 || l >= BPFASM_LABELS)
		abort();
	a->fix[a->nfix].insn = a->n;
	a->fix[a->nfix].label = l;
	a->nfix++;
}

void
bpfasm_jump(struct bpfasm *a, uint8_t op, uint8_t dst, int32_t imm, int l)
{
	fixup(a, l);
	bpfasm_emit(a, BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}

void
bpfasm_jump_reg(struct bpfasm *a, uint8_t op, uint8_t dst, uint8_t src, int l)
{
	fixup(a, l);
	bpfasm_emit(a, BPF_JMP | op | BPF_X, dst, src, 0, 0);
}

void
bpfasm_ld_imm64(struct bpfasm *a, uint8_t dst, uint8_t src, uint64_t v)
{
	bpfasm_emit(a, BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (int32_t)(uint32_t)v);
	bpfasm_emit(a, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

size_t
bpfasm_finish(struct bpfasm *a)
{
	for (size_t i = 0; i < a->nfix; i++) {
		struct bpf_insn *j = &a->p[a->fix[i].insn];

		if (a->at[a->fix[i].label] < 0)
			abort();
		j->off = (int16_t)(a->at[a->fix[i].label] - (int)a->fix[i].insn - 1);
	}
	return a->n;
}

long
bpfasm_sys(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* The verifier's complaint is the log's last line but the summary. */
static void
last_line(char *log, char *out, size_t outlen)
{
	char *end = log + strlen(log), *line;

	while (end > log && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	line = strrchr(log, '\n');
	if (line != NULL && strncmp(line + 1, "processed ", 10) == 0) {
		*line = '\0';
		line = strrchr(log, '\n');
	}
	snprintf(out, outlen, "%s", line != NULL ? line + 1 : log);
}

int
bpfasm_load(uint32_t type, const struct bpf_insn *prog, size_t n, const char *name,
    char *why, size_t whylen)
{
	static char log[65536];
	char last[256];
	union bpf_attr at;
	int fd;

	memset(&at, 0, sizeof(at));
	at.prog_type = type;
	at.insns = (uint64_t)(uintptr_t)prog;
	at.insn_cnt = (uint32_t)n;
	at.license = (uint64_t)(uintptr_t)"ISC";
	at.log_buf = (uint64_t)(uintptr_t)log;
	at.log_size = sizeof(log);
	at.log_level = 1;
	snprintf(at.prog_name, sizeof(at.prog_name), "%s", name);
	log[0] = '\0';
	fd = (int)bpfasm_sys(BPF_PROG_LOAD, &at);
	if (fd == -1 && errno == ENOSPC) {	/* the log, not the program */
		at.log_level = 0;
		at.log_buf = 0;
		at.log_size = 0;
		fd = (int)bpfasm_sys(BPF_PROG_LOAD, &at);
	}
	if (fd == -1) {
		int e = errno;

		last_line(log, last, sizeof(last));
		snprintf(why, whylen, "BPF_PROG_LOAD %s: %s%s%s", name, strerror(e),
		    last[0] ? ": " : "", last);
		if (getenv("FB_BPF_LOG") != NULL)
			fprintf(stderr, "%s\n", log);
		errno = e;
	}
	return fd;
}
