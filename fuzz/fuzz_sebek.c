/*
 * libFuzzer target for the Sebek collector.  The input is a script of
 * datagrams: a control byte, a length byte, then that many payload bytes
 * (cut at the end of the input).  Control bits 0-1 pick the source (two
 * honeypots, a third honeypot address and an outside address), bit 2 the
 * source MAC (a second MAC forges), bit 3 "fix up" (version 3 and a length
 * field matching the datagram, so the fuzzer reaches the collector and not
 * only the decoder), bit 4 repeats the datagram 50 times (long keystroke
 * lines, counters), bit 5 runs sebek_tick an hour later (quiet processes
 * flushed).  The whole input also goes through sebek_decode, whose data
 * must lie inside it, and sebek_keys_render with a small buffer.
 *
 * Checked promises: every accepted record is a sebek.jsonl line, so the
 * file holds exactly records + lines lines once the collector is freed,
 * each a whole JSON line with no raw control byte; every datagram is
 * counted once (accepted or by one reason); keystroke consumers are opened
 * and closed in pairs and fed only what records carried.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "decode.h"
#include "event.h"
#include "sebek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0	(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26 */

static struct fb_config cfg;
static char dir[] = "/tmp/fbfuzzsebekXXXXXX";
static bool ready;
static long opened, closed;
static uint64_t fed;

static void *
k_open(void *arg, const struct fb_addr *hp, const struct sebek_hdr *h)
{
	(void)arg; (void)hp; (void)h;
	opened++;
	return &opened;
}

static void
k_feed(void *arg, void *ctx, fb_ns ts, const uint8_t *p, size_t n)
{
	(void)arg; (void)ts;
	if (ctx != &opened || n > SEBEK_KS_MAX || (n > 0 && p == NULL))
		abort();
	fed += n;
}

static void
k_close(void *arg, void *ctx, fb_ns ts)
{
	(void)arg; (void)ts;
	if (ctx != &opened)
		abort();
	closed++;
}

static const struct sebek_key_ops kops = { k_open, k_feed, k_close };

static void
init(void)
{
	char err[256];

	if (mkdtemp(dir) == NULL ||
	    config_load_string("f.conf", "[honeynet]\nnetworks = 10.0.0.0/24\n", &cfg,
	    err, sizeof(err)) != 0)
		abort();
	ready = true;
}

static uint64_t out_lines;

/* Every sebek.jsonl line checked and counted; the run's files removed. */
static void
check_line(const char *line, ssize_t n)
{
	if (strncmp(line, "{\"ts\":", 6) != 0 || n < 3 ||
	    line[n - 1] != '\n' || line[n - 2] != '}')
		abort();
	for (ssize_t i = 0; i < n - 1; i++)
		if ((unsigned char)line[i] < 0x20)
			abort();
	out_lines++;
}

static int
out_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *base = strrchr(p, '/');

	(void)st;
	if (ftw->level == 0)
		return 0;
	if (flag == FTW_F && base != NULL && strcmp(base, "/sebek.jsonl") == 0) {
		FILE *f = fopen(p, "r");
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		if (f == NULL)
			abort();
		while ((n = getline(&line, &cap, f)) > 0)
			check_line(line, n);
		free(line);
		fclose(f);
	}
	return remove(p);
}

static uint64_t
check_output(void)
{
	out_lines = 0;
	nftw(dir, out_cb, 16, FTW_DEPTH | FTW_PHYS);
	return out_lines;
}

static void
check_decode(const uint8_t *p, size_t n)
{
	struct sebek_hdr h;
	const uint8_t *d;
	char text[37];

	if (sebek_decode(p, n, &h, &d) == SEBEK_OK &&
	    (d != p + SEBEK_HDR_LEN || h.length != n - SEBEK_HDR_LEN || h.com[12] != '\0'))
		abort();
	if (sebek_keys_render(p, n, text, sizeof(text)) >= sizeof(text) ||
	    strlen(text) >= sizeof(text))
		abort();
}

static void
datagram(struct sebek *s, uint8_t ctl, const uint8_t *p, size_t n, fb_ns ts)
{
	static const char *const src[] = { "10.0.0.5", "10.0.0.6", "10.0.0.7", "192.0.2.1" };
	uint8_t buf[300];
	struct fb_packet pk;

	memcpy(buf, p, n);
	if ((ctl & 0x08) && n >= SEBEK_HDR_LEN) {
		uint32_t len = (uint32_t)(n - SEBEK_HDR_LEN);

		buf[4] = 0, buf[5] = SEBEK_VERSION;
		buf[52] = 0, buf[53] = 0, buf[54] = (uint8_t)(len >> 8), buf[55] = (uint8_t)len;
	}
	memset(&pk, 0, sizeof(pk));
	if (addr_parse(src[ctl & 3], &pk.src) != 0 || addr_parse("10.0.0.1", &pk.dst) != 0)
		abort();
	memset(pk.eth_src, 0x02, 6);
	pk.eth_src[5] = (ctl & 0x04) ? 0xbb : 0xaa;
	pk.proto = 17;
	pk.sport = 1024;
	pk.dport = 1101;
	pk.payload = buf;
	pk.payload_len = (uint32_t)n;
	sebek_packet(s, &pk, ts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_log *ev;
	struct sebek *s;
	struct sebek_stats st;
	uint64_t dgrams = 0;
	size_t pos = 0;
	fb_ns ts = T0;

	if (!ready)
		init();
	log_init("fuzz_sebek", -1);
	check_decode(data, size);
	if ((ev = event_log_open(dir, NULL)) == NULL)
		abort();
	s = sebek_new(&cfg, ev, NULL);
	sebek_set_key_ops(s, &kops, NULL);
	opened = closed = 0;
	fed = 0;
	while (pos + 2 <= size) {
		uint8_t ctl = data[pos];
		size_t n = FB_MIN((size_t)data[pos + 1], size - pos - 2);
		int reps = (ctl & 0x10) ? 50 : 1;

		pos += 2;
		while (reps-- > 0) {
			ts += FB_NS_PER_MSEC;
			datagram(s, ctl, data + pos, n, ts);
			dgrams++;
		}
		pos += n;
		if (ctl & 0x20) {
			ts += 3600 * FB_NS_PER_SEC;
			sebek_tick(s, ts);
		}
	}
	/* Quiet processes write their partial lines: all counted now. */
	sebek_tick(s, ts + 3600 * FB_NS_PER_SEC);
	sebek_stats(s, &st);
	sebek_free(s);
	event_log_close(ev);
	if (st.datagrams != dgrams || st.records + st.short_records + st.bad_version +
	    st.bad_length + st.not_honeypot + st.mac_mismatch + st.table_full != dgrams)
		abort();
	if (opened != closed || check_output() != st.records + st.lines)
		abort();
	return 0;
}
