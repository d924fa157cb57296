/*
 * fastpath: the tc program, its maps, and the reader of the ring buffers
 * (see fastpath.h).  The program is assembled here (bpfasm.h), like
 * known.c's; tests/unit/test_fastpath.c runs both programs in the kernel,
 * one after the other on one CPU, as a frame meets them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/pkt_cls.h>

#include "bpfasm.h"
#include "fastpath.h"
#include "known.h"
#include "util.h"

#ifndef BPF_TCX_INGRESS_
#define BPF_TCX_INGRESS_	46	/* enum bpf_attach_type, Linux 6.6 */
#endif

#define RB_BUSY		(1u << 31)	/* BPF_RINGBUF_BUSY_BIT */
#define RB_DISCARD	(1u << 30)	/* BPF_RINGBUF_DISCARD_BIT */
#define RB_HDR		8u		/* BPF_RINGBUF_HDR_SZ */

/* Record sizes the program reserves (a reservation's size is a constant
 * of the program): the smallest that holds FAST_HDR and the frame. */
static const int32_t rec_class[] = {
	128, 256, 512, 1024, 1536, 2048, 4096, 9216 + FAST_HDR, 16384, 32768,
	KNOWN_FAST_MAXLEN + 64 + FAST_HDR
};

/* Labels; the classes' follow L_CLASS0. */
enum label { L_PASS, L_FAST, L_NEW, L_FASTGO, L_CTL, L_KINDDONE, L_GOT, L_FULL,
	L_GATE, L_OTHER, L_DISCARD, L_REDIRECT, L_SUBMIT, L_CLASS0 };

#define FP_KEY	(-4)
#define FP_KIND	(-16)
#define FP_REV	(-24)
#define FP_SYN	(-32)
#define FP_WAKE	(-40)

/* Offset of a drop counter of kind FAST_KNOWN; r9 points a kind further
 * for the newcomers' ring buffer. */
static int16_t
drop_off(int leg, enum fast_drop why)
{
	return (int16_t)(offsetof(struct fast_ctl, drops) +
	    ((size_t)leg * FAST_NDROP + why) * sizeof(uint64_t));
}

#define KIND_STRIDE	((int32_t)(2 * FAST_NDROP * sizeof(uint64_t)))

/* r9 = the control value (of the kind); count a drop, say TC_ACT_SHOT */
static void
drop_here(struct bpfasm *a, int l, int leg, enum fast_drop why)
{
	bpfasm_label(a, l);
	MOV_IMM(BPF_REG_1, 1);
	bpfasm_emit(a, BPF_STX | BPF_ATOMIC | BPF_DW, BPF_REG_9, BPF_REG_1,
	    drop_off(leg, why), BPF_ADD);
	MOV_IMM(BPF_REG_0, TC_ACT_SHOT);
	EXIT();
}

size_t
fastpath_prog_build(struct bpf_insn *prog, const struct fast_prog_opts *o)
{
	int note_fd = o->note_fd, ctl_fd = o->ctl_fd, rb_fd = o->rb_fd;
	int new_fd = o->new_fd, leg = o->leg, out_ifindex = o->out_ifindex;
	struct bpfasm as, *a = &as;
	int c;

	bpfasm_init(a, prog, FAST_PROG_MAX);
	MOV_REG(BPF_REG_6, BPF_REG_1);
	ST_IMM(BPF_W, BPF_REG_10, FP_KEY, 0);
	/* The note, cleared whatever it says: one note, one frame. */
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)note_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
	CALL(BPF_FUNC_map_lookup_elem);
	bpfasm_jump(a, BPF_JEQ, BPF_REG_0, 0, L_PASS);
	LDX(BPF_DW, BPF_REG_7, BPF_REG_0, 0);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_0, 8);
	STX(BPF_DW, BPF_REG_10, BPF_REG_1, FP_REV);
	ST_IMM(BPF_DW, BPF_REG_0, 0, 0);
	ST_IMM(BPF_DW, BPF_REG_0, 8, 0);
	/* An outsider's opener: its answer's slot to write once recorded. */
	MOV_REG(BPF_REG_1, BPF_REG_7);
	ALU_IMM(BPF_AND, BPF_REG_1, KNOWN_NOTE_SYN);
	STX(BPF_DW, BPF_REG_10, BPF_REG_1, FP_SYN);
	ALU_IMM(BPF_AND, BPF_REG_7, ~KNOWN_NOTE_SYN);
	LDX(BPF_W, BPF_REG_1, BPF_REG_6, (int16_t)offsetof(struct __sk_buff, protocol));
	ALU_IMM(BPF_LSH, BPF_REG_1, 16);
	ALU_IMM(BPF_OR, BPF_REG_1, KNOWN_NOTE_MARK | leg);
	bpfasm_jump_reg(a, BPF_JEQ, BPF_REG_7, BPF_REG_1, L_FAST);
	if (new_fd >= 0) {
		ALU_IMM(BPF_OR, BPF_REG_1, KNOWN_NOTE_NEW);
		bpfasm_jump_reg(a, BPF_JEQ, BPF_REG_7, BPF_REG_1, L_NEW);
	}
	bpfasm_label(a, L_PASS);
	MOV_IMM(BPF_REG_0, TC_ACT_OK);
	EXIT();

	/* Ours: record it, then forward it; or drop it, counted.  r7 the
	 * ring buffer, r9 the control value (moved to the kind's counters
	 * once the gate is read), r8 the frame's length. */
	bpfasm_label(a, L_FAST);
	ST_IMM(BPF_DW, BPF_REG_10, FP_KIND, 0);
	bpfasm_ld_imm64(a, BPF_REG_7, BPF_PSEUDO_MAP_FD, (uint32_t)rb_fd);
	bpfasm_jump(a, BPF_JA, 0, 0, L_FASTGO);
	bpfasm_label(a, L_NEW);
	if (new_fd >= 0) {
		ST_IMM(BPF_DW, BPF_REG_10, FP_KIND, 1);
		bpfasm_ld_imm64(a, BPF_REG_7, BPF_PSEUDO_MAP_FD, (uint32_t)new_fd);
	}
	bpfasm_label(a, L_FASTGO);
	bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)ctl_fd);
	MOV_REG(BPF_REG_2, BPF_REG_10);
	ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
	CALL(BPF_FUNC_map_lookup_elem);
	bpfasm_jump(a, BPF_JNE, BPF_REG_0, 0, L_CTL);
	MOV_IMM(BPF_REG_0, TC_ACT_SHOT);	/* no control value: closed */
	EXIT();
	bpfasm_label(a, L_CTL);
	MOV_REG(BPF_REG_9, BPF_REG_0);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_9, (int16_t)offsetof(struct fast_ctl, wake));
	STX(BPF_DW, BPF_REG_10, BPF_REG_1, FP_WAKE);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_9, (int16_t)offsetof(struct fast_ctl, gate));
	LDX(BPF_DW, BPF_REG_2, BPF_REG_10, FP_KIND);
	bpfasm_jump(a, BPF_JEQ, BPF_REG_2, 0, L_KINDDONE);
	ALU_IMM(BPF_ADD, BPF_REG_9, KIND_STRIDE);
	bpfasm_label(a, L_KINDDONE);
	bpfasm_jump(a, BPF_JNE, BPF_REG_1, 0, L_GATE);
	LDX(BPF_W, BPF_REG_8, BPF_REG_6, (int16_t)offsetof(struct __sk_buff, len));
	bpfasm_jump(a, BPF_JLT, BPF_REG_8, 14, L_OTHER);
	for (c = 0; c < (int)nitems(rec_class); c++) {
		bpfasm_label(a, L_CLASS0 + c);
		bpfasm_jump(a, BPF_JGT, BPF_REG_8, rec_class[c] - FAST_HDR,
		    c + 1 < (int)nitems(rec_class) ? L_CLASS0 + c + 1 : L_OTHER);
		MOV_REG(BPF_REG_1, BPF_REG_7);
		MOV_IMM(BPF_REG_2, rec_class[c]);
		MOV_IMM(BPF_REG_3, 0);
		CALL(BPF_FUNC_ringbuf_reserve);
		bpfasm_jump(a, BPF_JA, 0, 0, L_GOT);
	}
	bpfasm_label(a, L_GOT);
	bpfasm_jump(a, BPF_JEQ, BPF_REG_0, 0, L_FULL);
	MOV_REG(BPF_REG_7, BPF_REG_0);
	CALL(BPF_FUNC_ktime_get_ns);
	STX(BPF_DW, BPF_REG_7, BPF_REG_0, 0);
	STX(BPF_W, BPF_REG_7, BPF_REG_8, 8);
	ST_IMM(BPF_W, BPF_REG_7, 12, leg);
	MOV_REG(BPF_REG_1, BPF_REG_6);
	MOV_IMM(BPF_REG_2, 0);
	MOV_REG(BPF_REG_3, BPF_REG_7);
	ALU_IMM(BPF_ADD, BPF_REG_3, FAST_HDR);
	MOV_REG(BPF_REG_4, BPF_REG_8);
	CALL(BPF_FUNC_skb_load_bytes);
	bpfasm_jump(a, BPF_JNE, BPF_REG_0, 0, L_DISCARD);
	/* Wake the reader only if it sleeps: while busy it polls. */
	MOV_IMM(BPF_REG_2, BPF_RB_NO_WAKEUP);
	LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_WAKE);
	bpfasm_jump(a, BPF_JEQ, BPF_REG_1, 0, L_SUBMIT);
	MOV_IMM(BPF_REG_2, 0);
	bpfasm_label(a, L_SUBMIT);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	CALL(BPF_FUNC_ringbuf_submit);
	if (o->pend_fd >= 0) {
		/* Recorded: the honeypot's SYN-ACK to it may cross fast. */
		LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_SYN);
		bpfasm_jump(a, BPF_JEQ, BPF_REG_1, 0, L_REDIRECT);
		LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_REV);
		ALU_IMM(BPF_RSH, BPF_REG_1, 32);
		STX(BPF_W, BPF_REG_10, BPF_REG_1, FP_KEY);
		bpfasm_ld_imm64(a, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)o->pend_fd);
		MOV_REG(BPF_REG_2, BPF_REG_10);
		ALU_IMM(BPF_ADD, BPF_REG_2, FP_KEY);
		CALL(BPF_FUNC_map_lookup_elem);
		bpfasm_jump(a, BPF_JEQ, BPF_REG_0, 0, L_REDIRECT);
		LDX(BPF_DW, BPF_REG_1, BPF_REG_10, FP_REV);
		MOV32_REG(BPF_REG_1, BPF_REG_1);
		STX(BPF_DW, BPF_REG_0, BPF_REG_1, 0);
	}
	bpfasm_label(a, L_REDIRECT);
	MOV_IMM(BPF_REG_1, out_ifindex);
	MOV_IMM(BPF_REG_2, 0);
	CALL(BPF_FUNC_redirect);
	EXIT();
	bpfasm_label(a, L_DISCARD);
	MOV_REG(BPF_REG_1, BPF_REG_7);
	MOV_IMM(BPF_REG_2, 0);
	CALL(BPF_FUNC_ringbuf_discard);
	drop_here(a, L_OTHER, leg, FAST_DROP_OTHER);
	drop_here(a, L_FULL, leg, FAST_DROP_FULL);
	drop_here(a, L_GATE, leg, FAST_DROP_GATE);
	return bpfasm_finish(a);
}

int
fastpath_prog_load(const struct bpf_insn *prog, size_t n, char *why, size_t whylen)
{
	return bpfasm_load(BPF_PROG_TYPE_SCHED_CLS, prog, n, "fb_fastpath", why,
	    whylen);
}

/* The maps */

static int
ctl_open(struct fastpath *f, char *why, size_t whylen)
{
	union bpf_attr at;
	void *m;

	memset(&at, 0, sizeof(at));
	at.map_type = BPF_MAP_TYPE_ARRAY;
	at.key_size = sizeof(uint32_t);
	at.value_size = sizeof(struct fast_ctl);
	at.max_entries = 1;
	at.map_flags = BPF_F_MMAPABLE;
	snprintf(at.map_name, sizeof(at.map_name), "fb_fast_ctl");
	if ((f->ctl_fd = (int)bpfasm_sys(BPF_MAP_CREATE, &at)) == -1) {
		snprintf(why, whylen, "BPF_MAP_CREATE (control): %s", strerror(errno));
		return -1;
	}
	f->ctl_len = (size_t)sysconf(_SC_PAGESIZE);
	m = mmap(NULL, f->ctl_len, PROT_READ | PROT_WRITE, MAP_SHARED, f->ctl_fd, 0);
	if (m == MAP_FAILED) {
		snprintf(why, whylen, "mmap of the control map: %s", strerror(errno));
		return -1;
	}
	f->ctl = m;
	return 0;
}

/* Map ring buffer fd (of bytes): its consumer page (ours to write), then
 * the producer page and the data, which the kernel maps twice in a row so
 * a record that wraps reads as one.  Reading starts where the consumer
 * stopped (an adopted one's: fastpath_adopt). */
static int
rb_map(struct fast_rb *l, int fd, uint64_t bytes, char *why, size_t whylen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *m;

	l->fd = fd;
	l->size = bytes;
	l->cons_len = page;
	m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, l->fd, 0);
	if (m == MAP_FAILED) {
		snprintf(why, whylen, "mmap of the ring buffer: %s", strerror(errno));
		return -1;
	}
	l->cons_pos = m;
	l->prod_len = page + 2 * (size_t)bytes;
	m = mmap(NULL, l->prod_len, PROT_READ, MAP_SHARED, l->fd, (off_t)page);
	if (m == MAP_FAILED) {
		l->prod_len = 0;
		snprintf(why, whylen, "mmap of the ring buffer's data: %s",
		    strerror(errno));
		return -1;
	}
	l->prod_pos = m;
	l->data = (const uint8_t *)m + page;
	l->pos = __atomic_load_n(l->cons_pos, __ATOMIC_ACQUIRE);
	return 0;
}

/* A new ring buffer of bytes. */
static int
rb_open(struct fast_rb *l, uint64_t bytes, char *why, size_t whylen)
{
	union bpf_attr at;
	int fd;

	memset(&at, 0, sizeof(at));
	at.map_type = BPF_MAP_TYPE_RINGBUF;
	at.max_entries = (uint32_t)bytes;
	snprintf(at.map_name, sizeof(at.map_name), "fb_fast_rb");
	if ((fd = (int)bpfasm_sys(BPF_MAP_CREATE, &at)) == -1) {
		snprintf(why, whylen, "BPF_MAP_CREATE (ring buffer of %llu bytes): %s",
		    (unsigned long long)bytes, strerror(errno));
		return -1;
	}
	return rb_map(l, fd, bytes, why, whylen);
}

static void
rb_close(struct fast_rb *l)
{
	if (l->prod_len != 0)
		munmap((void *)(uintptr_t)l->prod_pos, l->prod_len);
	if (l->cons_pos != NULL)
		munmap(l->cons_pos, l->cons_len);
	if (l->fd != -1)
		close(l->fd);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

void
fastpath_init(struct fastpath *f)
{
	memset(f, 0, sizeof(*f));
	f->ctl_fd = f->pin_parent = f->pin_lock = -1;
	for (int i = 0; i < 2; i++) {
		f->prog_fd[i] = f->link_fd[i] = -1;
		for (int k = 0; k < FAST_NKIND; k++)
			f->rb[i][k].fd = -1;
	}
}

static bool
good_size(uint64_t b)
{
	return b >= (uint64_t)sysconf(_SC_PAGESIZE) && (b & (b - 1)) == 0;
}

int
fastpath_maps(struct fastpath *f, uint64_t rb_bytes, uint64_t new_bytes, char *why,
    size_t whylen)
{
	if (!good_size(rb_bytes) || (new_bytes != 0 && !good_size(new_bytes))) {
		snprintf(why, whylen, "ring buffer of %llu or %llu bytes: not a power "
		    "of two of at least a page", (unsigned long long)rb_bytes,
		    (unsigned long long)new_bytes);
		return -1;
	}
	if (ctl_open(f, why, whylen) == -1)
		return -1;
	for (int i = 0; i < 2; i++)
		if (f->rb[i][FAST_KNOWN].fd == -1 &&
		    rb_open(&f->rb[i][FAST_KNOWN], rb_bytes, why, whylen) == -1)
			return -1;
	for (int i = 0; i < 2 && new_bytes != 0; i++)
		if (f->rb[i][FAST_NEW].fd == -1 &&
		    rb_open(&f->rb[i][FAST_NEW], new_bytes, why, whylen) == -1)
			return -1;
	fastpath_clock(f);
	return 0;
}

/* Both legs' programs detached and unloaded; the maps stay. */
static void
progs_close(struct fastpath *f)
{
	fastpath_detach(f);
	for (int i = 0; i < 2; i++) {
		if (f->prog_fd[i] != -1)
			close(f->prog_fd[i]);
		f->prog_fd[i] = -1;
	}
}

static int
tcx_attach(int prog_fd, int ifindex, char *why, size_t whylen)
{
	union bpf_attr at;
	int fd;

	memset(&at, 0, sizeof(at));
	at.link_create.prog_fd = (uint32_t)prog_fd;
	at.link_create.target_ifindex = (uint32_t)ifindex;
	at.link_create.attach_type = BPF_TCX_INGRESS_;
	if ((fd = (int)bpfasm_sys(BPF_LINK_CREATE, &at)) == -1)
		snprintf(why, whylen, "tcx ingress link on ifindex %d (Linux >= 6.6): %s",
		    ifindex, strerror(errno));
	return fd;
}

int
fastpath_attach(struct fastpath *f, int note_fd, int pend_fd, const int ifindex[2],
    char *why, size_t whylen)
{
	struct bpf_insn prog[FAST_PROG_MAX];
	struct fast_prog_opts o;
	size_t n;

	for (int i = 0; i < 2; i++) {
		memset(&o, 0, sizeof(o));
		o.note_fd = note_fd;
		o.ctl_fd = f->ctl_fd;
		o.rb_fd = f->rb[i][FAST_KNOWN].fd;
		o.new_fd = f->rb[i][FAST_NEW].fd;
		o.pend_fd = i == LEG_OUTSIDE ? pend_fd : -1;
		o.leg = i;
		o.out_ifindex = ifindex[i ^ 1];
		n = fastpath_prog_build(prog, &o);
		if ((f->prog_fd[i] = fastpath_prog_load(prog, n, why, whylen)) == -1 ||
		    (f->link_fd[i] = tcx_attach(f->prog_fd[i], ifindex[i], why,
		    whylen)) == -1) {
			progs_close(f);
			return -1;
		}
	}
	return 0;
}

void
fastpath_detach(struct fastpath *f)
{
	for (int i = 0; i < 2; i++) {
		if (f->link_fd[i] != -1)
			close(f->link_fd[i]);
		f->link_fd[i] = -1;
	}
}

static void unpin(struct fastpath *);

void
fastpath_close(struct fastpath *f)
{
	uint64_t left;

	/* Detach both legs before anything else: nothing crosses after. */
	progs_close(f);
	fastpath_release(f);
	if ((left = fastpath_pending(f)) == 0)
		unpin(f);
	else if (f->pin_dir[0] != '\0')
		log_warnx("fast path: %llu bytes of records not read stay pinned in "
		    "%s: the next start on this capture directory reads them",
		    (unsigned long long)left, f->pin_dir);
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++)
			rb_close(&f->rb[i][k]);
	if (f->ctl != NULL)
		munmap(f->ctl, f->ctl_len);
	if (f->ctl_fd != -1)
		close(f->ctl_fd);
	if (f->pin_parent != -1)
		close(f->pin_parent);
	if (f->pin_lock != -1)
		close(f->pin_lock);
	fastpath_init(f);
}

/* Pinned ring buffers */

#define BPF_FS_MAGIC_	0xcafe4a11UL
#define PIN_PARENT	FAST_PIN_ROOT "/fishbowl"

static const char *const leg_name[2] = { "outside", "inside" };
static const char *const kind_name[FAST_NKIND] = { "known", "new" };

static void
pin_name(char *buf, size_t n, int leg, int kind)
{
	snprintf(buf, n, "rb-%s-%s", leg_name[leg], kind_name[kind]);
}

static bool
is_bpffs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == BPF_FS_MAGIC_;
}

/* Whether another process shares our mount namespace: a bpffs we mount in
 * a namespace of our own (`ip netns exec` makes one) vanishes with us, and
 * its pins with it.  Cannot tell: yes. */
static bool
mntns_shared(void)
{
	char self[64], other[64], p[64];
	struct dirent *de;
	bool shared = false;
	ssize_t n;
	DIR *d;

	if ((n = readlink("/proc/self/ns/mnt", self, sizeof(self) - 1)) <= 0 ||
	    (d = opendir("/proc")) == NULL)
		return true;
	self[n] = '\0';
	while (!shared && (de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/ns/mnt", pid);
		if ((n = readlink(p, other, sizeof(other) - 1)) <= 0)
			continue;
		other[n] = '\0';
		shared = strcmp(self, other) == 0;
	}
	closedir(d);
	return shared;
}

static int
bpffs_mount(char *why, size_t whylen)
{
	if (mount("bpf", FAST_PIN_ROOT, "bpf", 0, "mode=0700") == -1) {
		snprintf(why, whylen, "bpffs is not mounted there and mounting it "
		    "failed: %s", strerror(errno));
		return -1;
	}
	if (!mntns_shared()) {
		umount2(FAST_PIN_ROOT, MNT_DETACH);
		snprintf(why, whylen, "bpffs is not mounted there, and mounted by "
		    "fishbowl in a mount namespace of its own (ip netns exec makes "
		    "one) it would vanish with fishbowl (mount it in the host's, or "
		    "run fishbowl with nsenter --net)");
		return -1;
	}
	log_info("mounted bpffs at %s (the fast path pins its ring buffers there)",
	    FAST_PIN_ROOT);
	return 0;
}

int
fastpath_pins(struct fastpath *f, const char *capture_dir, bool create,
    unsigned uid, unsigned gid, char *why, size_t whylen)
{
	struct statx sx;
	struct stat st;
	unsigned long long born = 0;
	int fd;

	f->pin_uid = uid;
	f->pin_gid = gid;
	/* One fishbowl per capture directory: a second would read the first's
	 * ring buffers under its feet. */
	if ((f->pin_lock = open(capture_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    flock(f->pin_lock, LOCK_EX | LOCK_NB) == -1 ||
	    statx(f->pin_lock, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &sx) == -1) {
		snprintf(why, whylen, "%s: %s", capture_dir, errno == EWOULDBLOCK ?
		    "another fishbowl runs on it" : strerror(errno));
		return -1;
	}
	if (sx.stx_mask & STATX_BTIME)
		born = (unsigned long long)sx.stx_btime.tv_sec * 1000000000ull +
		    sx.stx_btime.tv_nsec;
	snprintf(f->pin_key, sizeof(f->pin_key), "%llx-%llx-%llx",
	    (unsigned long long)makedev(sx.stx_dev_major, sx.stx_dev_minor),
	    (unsigned long long)sx.stx_ino, born);
	snprintf(f->pin_dir, sizeof(f->pin_dir), "%s/%s", PIN_PARENT, f->pin_key);
	if (!is_bpffs(FAST_PIN_ROOT)) {
		if (!create) {
			snprintf(why, whylen, "bpffs is not mounted there");
			return -1;
		}
		if (bpffs_mount(why, whylen) == -1)
			return -1;
	}
	/* Sticky, others may enter and write but not list: fishbowl's user
	 * removes its own instance's directory at a clean stop. */
	if (create && mkdir(PIN_PARENT, 01733) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "mkdir %s: %s", PIN_PARENT, strerror(errno));
		return -1;
	}
	fd = open(PIN_PARENT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || fstat(fd, &st) == -1) {
		snprintf(why, whylen, "%s: %s", PIN_PARENT, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: not ours (uid %u)", PIN_PARENT,
		    (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	if (create && (st.st_mode & 07777) != 01733 && fchmod(fd, 01733) == -1) {
		snprintf(why, whylen, "chmod %s: %s", PIN_PARENT, strerror(errno));
		close(fd);
		return -1;
	}
	f->pin_parent = fd;
	return 0;
}

/* KEY is a directory of ours (root's, or the user's we run as), not a
 * link that would send the pins elsewhere. */
static bool
key_dir_ours(const struct fastpath *f)
{
	struct stat st;

	return fstatat(f->pin_parent, f->pin_key, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == f->pin_uid) &&
	    (st.st_mode & 022) == 0;
}

/* Open pin name (in KEY) if it is a ring buffer we pinned; its size. */
static int
adopt_one(struct fastpath *f, const char *name, uint32_t *bytes, char *why,
    size_t whylen)
{
	char path[192];
	struct bpf_map_info mi;
	union bpf_attr at;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->pin_dir, name);
	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return -1;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "%s: not pinned by us (uid %u)", path,
		    (unsigned)st.st_uid);
		return -1;
	}
	memset(&at, 0, sizeof(at));
	at.pathname = (uint64_t)(uintptr_t)path;
	if ((fd = (int)bpfasm_sys(BPF_OBJ_GET, &at)) == -1) {
		snprintf(why, whylen, "BPF_OBJ_GET %s: %s", path, strerror(errno));
		return -1;
	}
	memset(&mi, 0, sizeof(mi));
	memset(&at, 0, sizeof(at));
	at.info.bpf_fd = (uint32_t)fd;
	at.info.info_len = sizeof(mi);
	at.info.info = (uint64_t)(uintptr_t)&mi;
	if (bpfasm_sys(BPF_OBJ_GET_INFO_BY_FD, &at) == -1 ||
	    mi.type != BPF_MAP_TYPE_RINGBUF || !good_size(mi.max_entries)) {
		snprintf(why, whylen, "%s: not a ring buffer of the fast path", path);
		close(fd);
		return -1;
	}
	*bytes = mi.max_entries;
	return fd;
}

int
fastpath_adopt(struct fastpath *f, char *why, size_t whylen)
{
	char name[32], e[256];
	uint32_t bytes;
	int n = 0, fd;

	why[0] = '\0';
	if (f->pin_parent == -1 || !key_dir_ours(f))
		return 0;
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++) {
			struct fast_rb *l = &f->rb[i][k];

			pin_name(name, sizeof(name), i, k);
			e[0] = '\0';
			if ((fd = adopt_one(f, name, &bytes, e, sizeof(e))) == -1) {
				if (e[0] != '\0') {
					snprintf(why, whylen, "%s", e);
					f->unreadable++;
				}
				continue;
			}
			if (rb_map(l, fd, bytes, e, sizeof(e)) == -1) {
				snprintf(why, whylen, "%s: %s", name, e);
				rb_close(l);
				f->unreadable++;
				continue;
			}
			l->pinned = true;
			l->recover_end = __atomic_load_n(l->prod_pos, __ATOMIC_ACQUIRE);
			n++;
		}
	if (n > 0)
		fastpath_clock(f);
	return n;
}

int
fastpath_pin(struct fastpath *f, char *why, size_t whylen)
{
	char name[32], path[192];
	union bpf_attr at;

	if (f->pin_parent == -1) {
		snprintf(why, whylen, "no directory for them");
		return -1;
	}
	if (mkdirat(f->pin_parent, f->pin_key, 0700) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "mkdir %s: %s", f->pin_dir, strerror(errno));
		return -1;
	}
	if (!key_dir_ours(f) || fchownat(f->pin_parent, f->pin_key, f->pin_uid,
	    f->pin_gid, AT_SYMLINK_NOFOLLOW) == -1) {
		snprintf(why, whylen, "%s: %s", f->pin_dir, key_dir_ours(f) ?
		    strerror(errno) : "not a directory of ours");
		return -1;
	}
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++) {
			struct fast_rb *l = &f->rb[i][k];

			if (l->fd == -1 || l->pinned)
				continue;
			pin_name(name, sizeof(name), i, k);
			snprintf(path, sizeof(path), "%s/%s", f->pin_dir, name);
			memset(&at, 0, sizeof(at));
			at.pathname = (uint64_t)(uintptr_t)path;
			at.bpf_fd = (uint32_t)l->fd;
			if (bpfasm_sys(BPF_OBJ_PIN, &at) == -1) {
				snprintf(why, whylen, "BPF_OBJ_PIN %s: %s", path,
				    strerror(errno));
				return -1;
			}
			l->pinned = true;
		}
	return 0;
}

/* Through the directory opened at start: fishbowl's user owns KEY (root
 * is gone by now, and may not reach FAST_PIN_ROOT by path). */
static void
unpin(struct fastpath *f)
{
	char name[32];
	bool any = false;
	int kfd;

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++)
			any |= f->rb[i][k].pinned;
	if (!any || f->pin_parent == -1)
		return;
	kfd = openat(f->pin_parent, f->pin_key, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	if (kfd == -1) {
		log_warn("fast path: cannot unpin its ring buffers in %s", f->pin_dir);
		return;
	}
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++) {
			if (!f->rb[i][k].pinned)
				continue;
			pin_name(name, sizeof(name), i, k);
			if (unlinkat(kfd, name, 0) == -1 && errno != ENOENT)
				log_warn("fast path: unpin %s/%s", f->pin_dir, name);
			f->rb[i][k].pinned = false;
		}
	close(kfd);
	if (unlinkat(f->pin_parent, f->pin_key, AT_REMOVEDIR) == -1)
		log_warn("fast path: rmdir %s", f->pin_dir);
}

uint64_t
fastpath_pending(const struct fastpath *f)
{
	uint64_t n = 0;

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++) {
			const struct fast_rb *l = &f->rb[i][k];

			if (l->prod_pos != NULL)
				n += __atomic_load_n(l->prod_pos, __ATOMIC_ACQUIRE) -
				    l->pos;
		}
	return n;
}

uint64_t
fastpath_recovered(const struct fastpath *f, int leg)
{
	return f->rb[leg][FAST_KNOWN].recovered + f->rb[leg][FAST_NEW].recovered;
}

/* The reader */

#define CLOCK_TRIES	4			/* readings of the clock pair */
#define CLOCK_PAIR_GOOD	2000			/* ns: tight enough, stop */
#define CLOCK_PAIR_MAX	50000			/* ns: wider, the last offset stays */

/*
 * CLOCK_MONOTONIC to CLOCK_REALTIME, for the records' times, which the
 * reader merges with the rings' (real time).  The real clock is read
 * between two readings of the monotonic one, and the tightest of a few
 * tries taken: read as a plain pair, a preemption between the two reads
 * (milliseconds on two CPUs shared with the endpoints) shifted every
 * record of the batch by that much against the rings' frames, so an ACK
 * could be taken before the data it acknowledges (a reassembly gap,
 * tests/netns/fastpath.sh P; docs/performance.md, session 17).  No pair
 * tight enough: the last offset stays.
 */
void
fastpath_clock(struct fastpath *f)
{
	int64_t width = INT64_MAX, offset = 0;

	for (int i = 0; i < CLOCK_TRIES && width > CLOCK_PAIR_GOOD; i++) {
		struct timespec m0, r, m1;
		int64_t a, b;

		clock_gettime(CLOCK_MONOTONIC, &m0);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m1);
		a = (int64_t)m0.tv_sec * FB_NS_PER_SEC + m0.tv_nsec;
		b = (int64_t)m1.tv_sec * FB_NS_PER_SEC + m1.tv_nsec;
		if (b - a < width) {
			width = b - a;
			offset = (int64_t)r.tv_sec * FB_NS_PER_SEC + r.tv_nsec -
			    (a + width / 2);
		}
	}
	if (width <= CLOCK_PAIR_MAX || !f->clock_set) {
		f->mono_to_real = offset;
		f->clock_set = true;
	}
}

/*
 * The next committed record of l at l->pos, skipping discarded ones; NULL
 * if none (or one still being written: records commit in order).  A
 * record the kernel wrote badly (a length that cannot be) is skipped and
 * counted, never read past.
 */
static const uint8_t *
next_record(struct fast_rb *l, uint32_t *caplen)
{
	for (;;) {
		uint64_t prod = __atomic_load_n(l->prod_pos, __ATOMIC_ACQUIRE);
		const uint8_t *h;
		uint32_t len, flen;

		if (l->pos >= prod)
			return NULL;
		h = l->data + (l->pos & (l->size - 1));
		len = __atomic_load_n((const uint32_t *)(const void *)h, __ATOMIC_ACQUIRE);
		if (len & RB_BUSY)
			return NULL;
		if (len & RB_DISCARD) {
			l->pos += (((len & ~RB_DISCARD) + RB_HDR + 7) & ~7u);
			continue;
		}
		memcpy(&flen, h + RB_HDR + 8, sizeof(flen));
		if (len < FAST_HDR || len > l->size || flen > len - FAST_HDR) {
			l->bad++;
			l->pos += ((len + RB_HDR + 7) & ~7u);
			continue;
		}
		*caplen = flen;
		return h + RB_HDR;
	}
}

bool
fastpath_peek(struct fastpath *f, int leg, enum fast_kind kind, fb_ns *ts)
{
	struct fast_rb *l = &f->rb[leg][kind];
	const uint8_t *r;
	uint32_t caplen;
	uint64_t mono;

	if (l->prod_pos == NULL || (r = next_record(l, &caplen)) == NULL)
		return false;
	memcpy(&mono, r, sizeof(mono));
	*ts = (fb_ns)((int64_t)mono + f->mono_to_real);
	return true;
}

bool
fastpath_busy(const struct fastpath *f, int leg)
{
	for (int k = 0; k < FAST_NKIND; k++) {
		const struct fast_rb *l = &f->rb[leg][k];
		uint64_t prod;
		uint32_t len;

		if (l->prod_pos == NULL ||
		    l->pos >= (prod = __atomic_load_n(l->prod_pos, __ATOMIC_ACQUIRE)))
			continue;
		len = __atomic_load_n((const uint32_t *)(const void *)
		    (l->data + (l->pos & (l->size - 1))), __ATOMIC_ACQUIRE);
		/* Only if a record was reserved after it (on another CPU),
		 * maybe committed and its frame forwarded and answered: the
		 * record being written has not crossed yet, so nothing
		 * answers it. */
		if ((len & RB_BUSY) && prod > l->pos +
		    (((len & ~(RB_BUSY | RB_DISCARD)) + RB_HDR + 7) & ~7u))
			return true;
	}
	return false;
}

void
fastpath_take(struct fastpath *f, int leg, enum fast_kind kind, struct fb_frame *fr)
{
	struct fast_rb *l = &f->rb[leg][kind];
	const uint8_t *r;
	uint32_t caplen, len;
	uint64_t mono;

	if ((r = next_record(l, &caplen)) == NULL)
		abort();	/* only after a fastpath_peek that saw it */
	memcpy(&mono, r, sizeof(mono));
	memcpy(&len, r - RB_HDR, sizeof(len));
	memset(fr, 0, sizeof(*fr));
	fr->data = r + FAST_HDR;
	fr->caplen = caplen;
	fr->wirelen = caplen;
	fr->ts = (fb_ns)((int64_t)mono + f->mono_to_real);
	fr->leg = (enum fb_leg)leg;
	fr->forwarded = true;
	fr->unknown = kind == FAST_NEW;
	if (l->pos < l->recover_end)
		l->recovered++;		/* a killed fishbowl's: crossed then */
	l->pos += ((len + RB_HDR + 7) & ~7u);
	l->frames++;
	l->bytes += caplen;
}

void
fastpath_release(struct fastpath *f)
{
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++)
			if (f->rb[i][k].cons_pos != NULL)
				__atomic_store_n(f->rb[i][k].cons_pos, f->rb[i][k].pos,
				    __ATOMIC_RELEASE);
}

void
fastpath_mark(const struct fastpath *f, struct fast_mark *m)
{
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++)
			m->pos[i][k] = f->rb[i][k].pos;
}

void
fastpath_release_to(struct fastpath *f, const struct fast_mark *m)
{
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++)
			if (f->rb[i][k].cons_pos != NULL &&
			    m->pos[i][k] > __atomic_load_n(f->rb[i][k].cons_pos,
			    __ATOMIC_RELAXED) && m->pos[i][k] <= f->rb[i][k].pos)
				__atomic_store_n(f->rb[i][k].cons_pos, m->pos[i][k],
				    __ATOMIC_RELEASE);
}

void
fastpath_gate(struct fastpath *f, bool closed)
{
	if (f->ctl != NULL)
		__atomic_store_n(&f->ctl->gate, closed ? 1 : 0, __ATOMIC_RELEASE);
}

void
fastpath_wake(struct fastpath *f, bool wake)
{
	if (f->ctl != NULL)
		__atomic_store_n(&f->ctl->wake, wake ? 1 : 0, __ATOMIC_SEQ_CST);
}

uint64_t
fastpath_drops(const struct fastpath *f, int leg, enum fast_kind kind,
    enum fast_drop why)
{
	if (f->ctl == NULL)
		return 0;
	return __atomic_load_n(&f->ctl->drops[kind][leg][why], __ATOMIC_RELAXED);
}

uint64_t
fastpath_bytes(const struct fastpath *f)
{
	uint64_t n = 0;

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++)
			n += f->rb[i][k].fd != -1 ? f->rb[i][k].size : 0;
	return n;
}

uint64_t
fastpath_frames(const struct fastpath *f, int leg)
{
	return f->rb[leg][FAST_KNOWN].frames + f->rb[leg][FAST_NEW].frames;
}

bool
fastpath_roomy(const struct fastpath *f)
{
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < FAST_NKIND; k++) {
			const struct fast_rb *l = &f->rb[i][k];

			if (l->fd != -1 && __atomic_load_n(l->prod_pos, __ATOMIC_ACQUIRE) -
			    l->pos > l->size / 4)
				return false;
		}
	return true;
}
