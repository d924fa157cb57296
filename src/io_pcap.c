/*
 * io_pcap: the replay source, frames from a pcap or pcapng file.
 *
 * Owns the libpcap handle and one arena per batch.  libpcap reuses its buffer
 * for every record, so each frame of a batch is copied into the arena; the
 * copies stay valid until the next call to next_batch, as io.h promises.
 * Classic pcap files (the common case, and what we write) skip libpcap's
 * per-record reads: a regular file is mapped 16 MiB at a time (populated
 * at once: the kernel's copy into a read buffer was a tenth of a replay),
 * anything else read 1 MiB at a time into an 8 MiB buffer (room for the
 * largest record); frames point into the window or buffer (no copy), the
 * records parsed here with every length checked; libpcap still opens the
 * file (its checks, its errors, pcapng).  Like read(2), the mapped reader
 * follows a file that grows and stops at its end.  A file cut shorter
 * while it is mapped would raise SIGBUS on the vanished pages: the handler
 * puts zero pages in their place and the replay ends at the next batch
 * with an error (the frames of the batch at hand may carry those zeros).
 * Frames come with leg LEG_UNKNOWN (the engine infers it) and no vnet
 * header; forward and flush only count.  Mapped, a frame's bytes stay
 * where they are until the window moves, and the window is only moved
 * after io.release (the pcap writer is done with them; see io.h).  Timestamps are read at nanosecond
 * precision whatever the file's.  A damaged file ends the replay with an
 * error message (next_batch returns -1), never a crash.
 */
#include <byteswap.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "io.h"
#include "util.h"

#define ARENA_BYTES	(4u << 20)	/* per batch; more frames wait for the next */
#define FRAME_CAP	(256u << 10)	/* larger records are cut (caplen < wirelen) */
#define RBUF_BYTES	(8u << 20)	/* classic pcap: the buffer, for the largest record */
#ifndef READ_BYTES
#define READ_BYTES	(1u << 20)	/* read this much at a time: frames are still
					 * in the cache when decoded and copied */
#endif
#define REC_HDR		16
#define REC_MAX		(RBUF_BYTES / 2)	/* a bigger record: a damaged file */
#define MAP_BYTES	(16u << 20)	/* the mapped window: > REC_HDR + REC_MAX */

/* LINKTYPE_* values (the file format's numbers, not the DLT_ ones). */
#define LT_NULL		0
#define LT_ETHERNET	1
#define LT_RAW		101
#define LT_LOOP		108
#define LT_LINUX_SLL	113
#define LT_IPV4		228
#define LT_IPV6		229

struct io_pc {
	struct fb_io	 io;
	pcap_t		*p;
	char		*path;
	uint8_t		*arena;
	int		 linktype;
	bool		 done;
	struct io_stats	 st;
	/* classic pcap, read here: */
	bool		 own;
	bool		 swapped;	/* file written on the other byte order */
	bool		 nsec;		/* nanosecond timestamps (else µs) */
	bool		 eof;
	int		 fd;		/* libpcap's descriptor, read with pread */
	off_t		 off;		/* next file offset to read */
	uint8_t		*rbuf;		/* the buffer, or the mapped window */
	size_t		 rlen, rpos;	/* bytes in rbuf, next record at rpos */
	bool		 mapped;	/* rbuf is a window of the file at off */
	size_t		 pf;		/* rbuf prefetched up to here (mapped) */
};

static uint32_t
get32(const struct io_pc *c, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return c->swapped ? bswap_32(v) : v;
}

/* Keep the unread tail (part of one record) and fill rbuf up. */
static int
own_refill(struct io_pc *c)
{
	ssize_t n;

	memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
	c->rlen -= c->rpos;
	c->rpos = 0;
	while (c->rlen < RBUF_BYTES) {
		n = pread(c->fd, c->rbuf + c->rlen, FB_MIN(RBUF_BYTES - c->rlen, READ_BYTES),
		    c->off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("%s: read", c->path);
			return -1;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		c->rlen += (size_t)n;
		c->off += n;
		if (c->rlen >= READ_BYTES)
			break;
	}
	return 0;
}

/*
 * The mapped reader.  One window at a time, of one reader at a time (the
 * SIGBUS handler's range); the main thread alone reads it.
 */
static uint8_t *volatile bus_lo, *volatile bus_hi;	/* the window */
static volatile sig_atomic_t bus_hit;
static bool map_taken;

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uint8_t *a = si->si_addr;
	uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);

	(void)uc;
	if (a >= bus_lo && a < bus_hi &&
	    mmap((void *)((uintptr_t)a & ~(ps - 1)), ps, PROT_READ,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
		bus_hit = 1;	/* the file shrank: zeros here, and the end */
		return;
	}
	signal(sig, SIG_DFL);	/* not ours: what it would have done */
	raise(sig);
}

static void
map_drop(struct io_pc *c)
{
	if (c->rbuf != NULL && c->io.release != NULL)
		c->io.release(c->io.release_arg);	/* done with its frames */
	if (c->rbuf != NULL)
		munmap(c->rbuf, c->rlen);
	bus_lo = bus_hi = NULL;
	c->rbuf = NULL;
	c->rlen = c->rpos = 0;
}

/* Map the window that starts at the unread record (the file's size seen
 * again, as a read would).  0 or -1. */
static int
map_refill(struct io_pc *c)
{
	static long ps;
	off_t next = c->off + (off_t)c->rpos, start;
	struct stat st;
	size_t len;
	void *m;

	if (ps == 0)
		ps = sysconf(_SC_PAGESIZE);
	if (fstat(c->fd, &st) == -1) {
		log_warn("%s: stat", c->path);
		return -1;
	}
	start = next - next % ps;
	map_drop(c);
	c->off = next;
	if (st.st_size <= next) {
		c->eof = true;		/* nothing left: no window */
		return 0;
	}
	c->off = start;
	c->rpos = (size_t)(next - start);
	len = (size_t)FB_MIN((off_t)MAP_BYTES, st.st_size - start);
	m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, c->fd, start);
	if (m == MAP_FAILED) {
		log_warn("%s: mmap", c->path);
		return -1;
	}
	c->rbuf = m;
	c->rlen = len;
	c->pf = c->rpos;
	bus_lo = m;
	bus_hi = (uint8_t *)m + len;
	if (start + (off_t)len >= st.st_size)
		c->eof = true;	/* the window holds the rest of the file */
	return 0;
}

/* A regular file is mapped (see the top), if no other reader holds the
 * SIGBUS handler. */
static bool
map_start(struct io_pc *c)
{
	struct sigaction sa;
	struct stat st;

	if (map_taken || fstat(c->fd, &st) == -1 || !S_ISREG(st.st_mode))
		return false;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) == -1)
		return false;
	map_taken = true;
	bus_hit = 0;
	c->mapped = true;
	c->io.keeps_frames = true;
	return true;
}

/*
 * Mapped: the window ahead of the next record into the cache, a batch or
 * so before it is parsed.  Each record's header says where the next one
 * is, so parsing the window cold waits on memory once per record (it cost
 * what the copy of read(2) saved); prefetched, the window streams in at
 * the memory's bandwidth while the batch before is processed.
 */
#ifndef PF_AHEAD
#define PF_AHEAD	(256u << 10)
#endif

static void
prefetch_ahead(struct io_pc *c)
{
	size_t end = FB_MIN(c->rlen, c->rpos + PF_AHEAD);

	for (c->pf = FB_MAX(c->pf, c->rpos); c->pf < end; c->pf += 64)
		__builtin_prefetch(c->rbuf + c->pf, 0, 3);
}

/* Frames of whole records in rbuf, up to max; stops at a partial record. */
static int
own_parse(struct io_pc *c, struct fb_frame *frames, int max)
{
	int n = 0;

	if (c->mapped)
		prefetch_ahead(c);

	while (n < max && c->rlen - c->rpos >= REC_HDR) {
		const uint8_t *h = c->rbuf + c->rpos;
		uint32_t sec = get32(c, h), frac = get32(c, h + 4);
		uint32_t incl = get32(c, h + 8), orig = get32(c, h + 12);
		uint32_t len = FB_MIN(incl, FRAME_CAP);

		if (incl > REC_MAX) {
			log_warnx("%s: invalid packet capture length %u", c->path, incl);
			c->done = c->io.failed = true;
			break;
		}
		if (c->rlen - c->rpos - REC_HDR < incl)
			break;
		frames[n].data = h + REC_HDR;
		frames[n].caplen = len;
		frames[n].wirelen = FB_MAX(orig, len);
		frames[n].ts = (fb_ns)sec * FB_NS_PER_SEC +
		    (c->nsec ? frac : (fb_ns)frac * 1000);
		frames[n].leg = LEG_UNKNOWN;
		frames[n].vnet = NULL;
		c->st.rx_frames[0]++;
		c->st.rx_bytes[0] += frames[n].wirelen;
		c->rpos += REC_HDR + incl;
		n++;
		if (c->mapped)
			prefetch_ahead(c);
	}
	return n;
}

static int
own_next_batch(struct io_pc *c, struct fb_frame *frames, int max)
{
	int n;

	for (;;) {
		if (c->done)
			return -1;
		n = own_parse(c, frames, max);
		if (c->mapped && bus_hit) {
			log_warnx("%s: the file shrank while it was being read", c->path);
			c->done = c->io.failed = true;
			return -1;
		}
		if (n > 0 || c->done)
			break;
		if (c->eof) {
			if (c->rpos < c->rlen) {
				log_warnx("%s: truncated dump file; the last record "
				    "is cut (%zu bytes)", c->path, c->rlen - c->rpos);
				c->io.failed = true;
			}
			c->done = true;
			break;
		}
		if ((c->mapped ? map_refill(c) : own_refill(c)) == -1)
			c->done = c->io.failed = true;
	}
	return n > 0 ? n : -1;
}

static int
pc_next_batch(struct fb_io *io, struct fb_frame *frames, int max, int timeout_ms)
{
	struct io_pc *c = (struct io_pc *)io;
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t used = 0;
	uint32_t len;
	int n = 0, r;

	(void)timeout_ms;
	if (c->own)
		return own_next_batch(c, frames, max);
	if (c->done)
		return -1;
	while (n < max) {
		r = pcap_next_ex(c->p, &h, &d);
		if (r == 0)
			continue;	/* live-only "timeout": not for files */
		if (r == PCAP_ERROR_BREAK) {
			c->done = true;
			break;
		}
		if (r < 0) {
			log_warnx("%s: %s", c->path, pcap_geterr(c->p));
			c->done = c->io.failed = true;
			break;
		}
		len = FB_MIN(h->caplen, FRAME_CAP);
		memcpy(c->arena + used, d, len);
		frames[n].data = c->arena + used;
		frames[n].caplen = len;
		frames[n].wirelen = FB_MAX(h->len, len);
		frames[n].ts = (fb_ns)h->ts.tv_sec * FB_NS_PER_SEC + h->ts.tv_usec;
		frames[n].leg = LEG_UNKNOWN;
		frames[n].vnet = NULL;
		used += len;
		n++;
		c->st.rx_frames[0]++;
		c->st.rx_bytes[0] += frames[n - 1].wirelen;
		/* End the batch while the largest frame still fits: libpcap
		 * cannot un-read a record. */
		if (ARENA_BYTES - used < FRAME_CAP)
			break;
	}
	if (n == 0 && c->done)
		return -1;
	return n;
}

static int
pc_forward(struct fb_io *io, const struct fb_frame *fr, enum fb_leg out)
{
	struct io_pc *c = (struct io_pc *)io;

	if (out != LEG_OUTSIDE && out != LEG_INSIDE)
		return -1;
	c->st.tx_frames[out]++;
	c->st.tx_bytes[out] += fr->wirelen;
	return 0;
}

static int
pc_flush(struct fb_io *io)
{
	(void)io;
	return 0;
}

static void
pc_stats(struct fb_io *io, struct io_stats *st)
{
	*st = ((struct io_pc *)io)->st;
}

static int
pc_linktype(struct fb_io *io)
{
	return ((struct io_pc *)io)->linktype;
}

static void
pc_close(struct fb_io *io)
{
	struct io_pc *c = (struct io_pc *)io;

	if (c == NULL)
		return;
	if (c->p != NULL)
		pcap_close(c->p);
	free(c->arena);
	if (c->mapped) {
		c->io.release = NULL;	/* whoever set it may be gone */
		map_drop(c);
		map_taken = false;	/* the handler stays: it passes on what is not ours */
	} else {
		free(c->rbuf);
	}
	free(c->path);
	free(c);
}

static const struct fb_io_ops pc_ops = {
	.name = "pcap",
	.next_batch = pc_next_batch,
	.forward = pc_forward,
	.flush = pc_flush,
	.stats = pc_stats,
	.linktype = pc_linktype,
	.close = pc_close,
};

/* DLT_ values differ from LINKTYPE_ ones on some systems; the capture we
 * write and the decoder speak LINKTYPE_. */
static int
dlt_to_linktype(int dlt)
{
	switch (dlt) {
	case DLT_NULL:
		return LT_NULL;
	case DLT_EN10MB:
		return LT_ETHERNET;
	case DLT_RAW:
		return LT_RAW;
	case DLT_LOOP:
		return LT_LOOP;
	case DLT_LINUX_SLL:
		return LT_LINUX_SLL;
	case DLT_IPV4:
		return LT_IPV4;
	case DLT_IPV6:
		return LT_IPV6;
	default:
		return dlt;	/* the rest are the same numbers */
	}
}

/* A classic pcap file is read here (see the top); others through libpcap. */
static void
own_open(struct io_pc *c)
{
	uint8_t hdr[24];
	uint32_t magic;
	FILE *f = pcap_file(c->p);

	if (f == NULL || (c->fd = fileno(f)) == -1 ||
	    pread(c->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return;
	memcpy(&magic, hdr, sizeof(magic));
	switch (magic) {
	case 0xa1b2c3d4U:
		break;
	case 0xa1b23c4dU:
		c->nsec = true;
		break;
	case 0xd4c3b2a1U:
		c->swapped = true;
		break;
	case 0x4d3cb2a1U:
		c->swapped = c->nsec = true;
		break;
	default:
		return;		/* pcapng, or a pcap variant: libpcap's job */
	}
	c->off = sizeof(hdr);
	if (!map_start(c) && (c->rbuf = malloc(RBUF_BYTES)) == NULL)
		return;
	c->own = true;
}

struct fb_io *
io_pcap_open(const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct io_pc *c;
	pcap_t *p;

	perr[0] = '\0';
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (p == NULL) {
		snprintf(err, errlen, "%s: %s", path, perr[0] ? perr : "cannot open");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->arena = malloc(ARENA_BYTES)) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		if (c != NULL)
			free(c->arena);
		free(c);
		pcap_close(p);
		return NULL;
	}
	c->io.ops = &pc_ops;
	c->p = p;
	c->linktype = dlt_to_linktype(pcap_datalink(p));
	own_open(c);
	return &c->io;
}
