/*
 * openers: the classic BPF program of the openers' ring (see openers.h).
 * Checked instruction by instruction against crafted frames in
 * tests/unit/test_openers.c and by the kernel in tests/netns/openers.sh.
 */
#include "openers.h"

#define NET(k)	((unsigned)(SKF_NET_OFF + (k)))
#define PROTO	((unsigned)(SKF_AD_OFF + SKF_AD_PROTOCOL))
#define SYN	0x02
#define ACK	0x10

/* Jump offsets count from the next instruction: target = pc + 1 + off. */
const struct sock_filter openers_prog[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, PROTO),	/* host order */
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 8),	/* v6: 10 */
	/* IPv4: protocol TCP, fragment offset 0, flags at 4 x IHL + 13 */
	/* 2 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET(9)),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 13),	/* 17 */
	/* 4 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, NET(6)),
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 11, 0),	/* 17 */
	/* 6 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, NET(0)),	/* X = 4 x IHL */
	/* 7 */ BPF_STMT(BPF_LD | BPF_B | BPF_IND, NET(13)),
	/* 8 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, SYN | ACK),
	/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYN, 6, 7),	/* 16 : 17 */
	/* IPv6: next header TCP, flags at 40 + 13 */
	/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 6),	/* 17 */
	/* 11 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET(6)),
	/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 4),	/* 17 */
	/* 13 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NET(40 + 13)),
	/* 14 */ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, SYN | ACK),
	/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYN, 0, 1),	/* 16 : 17 */
	/* 16 */ BPF_STMT(BPF_RET | BPF_K, OPENERS_RING),
	/* 17 */ BPF_STMT(BPF_RET | BPF_K, OPENERS_MAIN),
};
const size_t openers_prog_len = sizeof(openers_prog) / sizeof(openers_prog[0]);
