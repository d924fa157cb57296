/*
 * known_cost: what the known-flows program (src/known.c) costs the kernel
 * per frame.  Loads it with a fresh table, runs it 1 000 000 times on an
 * IPv4 and an IPv6 TCP frame with BPF_PROG_TEST_RUN and prints the
 * kernel's average (ns per run, its test loop included).  As root:
 *
 *   make && cc -std=c11 -D_GNU_SOURCE -Isrc bench/known_cost.c \
 *       build/libfishbowl.a -o build/known_cost && build/known_cost
 */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "known.h"

static int
ns_per_run(int prog, unsigned char *frame, unsigned len, unsigned *ret)
{
	union bpf_attr at;

	memset(&at, 0, sizeof(at));
	at.test.prog_fd = (unsigned)prog;
	at.test.data_in = (unsigned long)frame;
	at.test.data_size_in = len;
	at.test.repeat = 1000000;
	if (syscall(SYS_bpf, BPF_PROG_TEST_RUN, &at, sizeof(at)) != 0) {
		perror("BPF_PROG_TEST_RUN");
		return -1;
	}
	*ret = at.test.retval;
	return (int)at.test.duration;
}

int
main(void)
{
	unsigned char v4[74] = { 0 }, v6[94] = { 0 };
	struct known_table t;
	char why[512];
	unsigned ret;
	int progs[2], prog, ns;

	if (known_open(&t, 1u << 18, false, NULL, progs, why, sizeof(why)) == -1) {
		fprintf(stderr, "known_cost: %s\n", why);
		return 1;
	}
	prog = progs[0];
	close(progs[1]);
	v4[12] = 0x08; v4[14] = 0x45; v4[23] = 6; v4[26] = 10; v4[30] = 10;
	v4[34] = 0x9c; v4[35] = 0x40; v4[37] = 22;	/* 40000 -> 22 */
	v6[12] = 0x86; v6[13] = 0xdd; v6[14] = 0x60; v6[20] = 6;
	ns = ns_per_run(prog, v4, sizeof(v4), &ret);
	printf("IPv4 TCP: %d ns a frame (ring %u)\n", ns, ret);
	ns = ns_per_run(prog, v6, sizeof(v6), &ret);
	printf("IPv6 TCP: %d ns a frame (ring %u)\n", ns, ret);
	close(prog);
	known_close(&t);
	return 0;
}
