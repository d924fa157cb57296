/*
 * bridge_probe: bridges two interfaces with nothing but the io API, so the
 * live I/O layer can be tested alone (tests/netns/io_bridge.sh).  Every frame
 * from one leg is forwarded to the other.  On SIGINT/SIGTERM it prints the
 * io statistics as "key value" lines on stdout and exits; on SIGUSR1 it
 * prints them and carries on.  It also counts the frames that came with a
 * GSO or partial-checksum virtio-net header, to show that path is exercised.
 *
 *	bridge_probe OUTSIDE INSIDE [RING_MB]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_net.h>

#include "io.h"
#include "util.h"

#define BATCH	256

static volatile sig_atomic_t stop, dump;
static unsigned long long gso_frames, csum_frames, batches;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump = 1;
	else
		stop = 1;
}

static void
note_vnet(const struct fb_frame *fr)
{
	const struct virtio_net_hdr *vh = fr->vnet;

	if (vh == NULL)
		return;
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		gso_frames++;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		csum_frames++;
}

static void
print_stats(struct fb_io *io)
{
	struct io_stats st;
	static const char *leg[2] = { "outside", "inside" };

	memset(&st, 0, sizeof(st));
	io->ops->stats(io, &st);
	for (int i = 0; i < 2; i++) {
		printf("rx_frames_%s %llu\n", leg[i], (unsigned long long)st.rx_frames[i]);
		printf("rx_bytes_%s %llu\n", leg[i], (unsigned long long)st.rx_bytes[i]);
		printf("tx_frames_%s %llu\n", leg[i], (unsigned long long)st.tx_frames[i]);
		printf("tx_bytes_%s %llu\n", leg[i], (unsigned long long)st.tx_bytes[i]);
		printf("tx_errors_%s %llu\n", leg[i], (unsigned long long)st.tx_errors[i]);
		printf("kernel_drops_%s %llu\n", leg[i], (unsigned long long)st.kernel_drops[i]);
		printf("kernel_freezes_%s %llu\n", leg[i], (unsigned long long)st.kernel_freezes[i]);
		printf("kernel_drops_openers_%s %llu\n", leg[i],
		    (unsigned long long)st.kernel_drops_openers[i]);
		printf("rx_openers_%s %llu\n", leg[i], (unsigned long long)st.rx_openers[i]);
		printf("openers_ring_%s %d\n", leg[i], st.openers_ring[i] ? 1 : 0);
	}
	printf("batches %llu\n", batches);
	printf("gso_frames %llu\n", gso_frames);
	printf("csum_partial_frames %llu\n", csum_frames);
	printf("end\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	static struct fb_frame frames[BATCH];
	struct sigaction sa;
	struct fb_io *io;
	uint32_t ring_mb;
	char err[512];
	int n;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: bridge_probe OUTSIDE INSIDE [RING_MB [OPENERS_MB]]\n");
		return 2;
	}
	log_init("bridge_probe", 1);
	ring_mb = argc >= 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : 32;
	io = io_afpacket_open(argv[1], argv[2], ring_mb,
	    argc == 5 ? (uint32_t)strtoul(argv[4], NULL, 10) : FB_MAX(ring_mb / 8, 1u),
	    0, 0, NULL, err, sizeof(err));	/* no engine marks flows: openers only; no fast path */
	if (io == NULL) {
		fprintf(stderr, "bridge_probe: %s\n", err);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	fprintf(stderr, "bridge_probe: ready\n");
	while (!stop) {
		if (dump) {
			dump = 0;
			print_stats(io);
		}
		n = io->ops->next_batch(io, frames, BATCH, 100);
		if (n < 0)
			break;
		if (n == 0)
			continue;
		batches++;
		for (int i = 0; i < n; i++) {
			note_vnet(&frames[i]);
			io->ops->forward(io, &frames[i], frames[i].leg == LEG_INSIDE ?
			    LEG_OUTSIDE : LEG_INSIDE);
		}
		io->ops->flush(io);
	}
	print_stats(io);
	io->ops->close(io);
	return 0;
}
