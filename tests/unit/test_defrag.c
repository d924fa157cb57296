/*
 * Unit tests of defrag: every overlap shape under every policy with the
 * exact bytes rebuilt (IPv4 and IPv6), the Sturges-Novak vector for six
 * policies (from /work/shared/testdata, skipped when absent), the
 * suricata-verify bug-6887 captures against the reassembled packets their
 * test.yaml gives, Wireshark's fragmented ping and Zeek's fragment traces, conflicts flagged once per datagram, tiny first
 * fragments, duplicates, invalid fragments, timeouts, and the memory cap
 * under a flood (eviction, back to zero).
 */
#include "testutil.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <sys/stat.h>

#include "defrag.h"
#include "stream.h"

#define T0	(1795724363LL * FB_NS_PER_SEC)

static struct fb_config cfg;

static struct defrag *
new_defrag(enum fb_policy pol, uint64_t mem, struct stream_pool **sp)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.policy = pol;
	cfg.layers_memory_bytes = mem;
	*sp = stream_pool_new(mem);
	assert_non_null(*sp);
	return defrag_new(&cfg, *sp);
}

/* Build one fragment (IPv4 or IPv6) and decode it as the engine would. */
struct fragbuf {
	uint8_t		b[2048];
	uint32_t	n;
	struct fb_packet p;
};

static void
mkfrag(struct fragbuf *f, int ipver, uint32_t id, uint8_t proto, uint32_t off,
    bool more, const uint8_t *data, uint32_t len)
{
	uint8_t *b = f->b;

	memset(f, 0, sizeof(*f));
	if (ipver == 4) {
		b[0] = 0x45;
		b[2] = (uint8_t)((20 + len) >> 8);
		b[3] = (uint8_t)(20 + len);
		b[4] = (uint8_t)(id >> 8);
		b[5] = (uint8_t)id;
		b[6] = (uint8_t)((more ? 0x20 : 0) | ((off / 8) >> 8));
		b[7] = (uint8_t)(off / 8);
		b[8] = 64;
		b[9] = proto;
		b[12] = 10, b[15] = 1;
		b[16] = 10, b[19] = 2;
		memcpy(b + 20, data, len);
		f->n = 20 + len;
	} else {
		b[0] = 0x60;
		b[4] = (uint8_t)((8 + len) >> 8);
		b[5] = (uint8_t)(8 + len);
		b[6] = IPPROTO_FRAGMENT;
		b[7] = 64;
		b[8] = 0x20, b[9] = 0x01, b[23] = 1;
		b[24] = 0x20, b[25] = 0x01, b[39] = 2;
		b[40] = proto;
		b[42] = (uint8_t)(off >> 8);
		b[43] = (uint8_t)((off & 0xf8) | (more ? 1 : 0));
		b[44] = (uint8_t)(id >> 24);
		b[45] = (uint8_t)(id >> 16);
		b[46] = (uint8_t)(id >> 8);
		b[47] = (uint8_t)id;
		memcpy(b + 48, data, len);
		f->n = 48 + len;
	}
	assert_int_equal(decode_frame(FB_LINK_RAW, f->b, f->n, f->n, &f->p), 0);
	assert_true(f->p.is_fragment);
}

/* Feed a fragment of fill letters; the result for inspection. */
static void
feed(struct defrag *d, int ipver, uint32_t id, uint32_t off, bool more, char fill,
    uint32_t len, struct defrag_result *res)
{
	struct fragbuf f;
	uint8_t data[1024];

	assert_true(len <= sizeof(data));
	memset(data, fill, len);
	mkfrag(&f, ipver, id, ipver == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, off, more,
	    data, len);
	defrag_packet(d, &f.p, T0, res);
}

/* The payload of a rebuilt datagram, as 8-byte units ("AAJ..."). */
static void
units(const struct defrag_result *res, int ipver, char *out, size_t outlen)
{
	uint32_t hl = ipver == 4 ? 20 : 40, i, n;

	assert_non_null(res->dgram);
	n = (res->len - hl) / 8;
	assert_true(n < outlen);
	for (i = 0; i < n; i++) {
		const uint8_t *u = res->dgram + hl + i * 8;

		for (int k = 1; k < 8; k++)
			assert_int_equal(u[k], u[0]);
		out[i] = (char)u[0];
	}
	out[n] = '\0';
}

/* Old fragment, then new one, in 8-byte units; expected units per policy. */
struct ovcase {
	const char	*name;
	uint32_t	 o_off, o_len, n_off, n_len;
	const char	*want[POLICY_MAX];
};

static const struct ovcase ovcases[] = {
	{ "same start, same end", 0, 4, 0, 4,
	  { "oooo", "NNNN", "oooo", "oooo", "NNNN", "oooo", "oooo" } },
	{ "same start, new longer", 0, 4, 0, 6,
	  { "ooooNN", "NNNNNN", "ooooNN", "NNNNNN", "NNNNNN", "ooooNN", "ooooNN" } },
	{ "same start, new shorter", 0, 4, 0, 2,
	  { "oooo", "NNoo", "oooo", "oooo", "NNoo", "oooo", "oooo" } },
	{ "new inside old", 0, 6, 2, 2,
	  { "oooooo", "ooNNoo", "oooooo", "oooooo", "oooooo", "oooooo", "oooooo" } },
	{ "new covers old", 2, 2, 0, 6,
	  { "NNooNN", "NNNNNN", "NNNNNN", "NNNNNN", "NNNNNN", "NNNNNN", "NNNNNN" } },
	{ "new starts before, same end", 2, 4, 0, 6,
	  { "NNoooo", "NNNNNN", "NNNNNN", "NNoooo", "NNNNNN", "NNoooo", "NNNNNN" } },
	{ "new starts before, ends inside", 2, 4, 0, 4,
	  { "NNoooo", "NNNNoo", "NNNNoo", "NNoooo", "NNNNoo", "NNoooo", "NNoooo" } },
	{ "new starts inside, ends after", 0, 4, 2, 4,
	  { "ooooNN", "ooNNNN", "ooooNN", "ooNNNN", "ooooNN", "ooooNN", "ooooNN" } },
	{ "new starts inside, same end", 0, 4, 2, 2,
	  { "oooo", "ooNN", "oooo", "oooo", "oooo", "oooo", "oooo" } },
};

static void
run_case(int ipver, enum fb_policy pol, const struct ovcase *c)
{
	struct stream_pool *sp;
	struct defrag *d = new_defrag(pol, 1 << 24, &sp);
	struct defrag_result res;
	struct defrag_stats st;
	char got[64], want[64];
	uint32_t n = (uint32_t)strlen(c->want[pol]);

	feed(d, ipver, 7, 0, true, '.', 8, &res);
	feed(d, ipver, 7, 8 + c->o_off * 8, true, 'o', c->o_len * 8, &res);
	assert_null(res.alert);
	feed(d, ipver, 7, 8 + c->n_off * 8, true, 'N', c->n_len * 8, &res);
	assert_non_null(res.alert);
	assert_string_equal(res.alert, "overlap");
	assert_int_equal(res.policy, pol);
	feed(d, ipver, 7, 8 + n * 8, false, 'Z', 8, &res);
	units(&res, ipver, got, sizeof(got));
	snprintf(want, sizeof(want), ".%sZ", c->want[pol]);
	if (strcmp(got, want) != 0)
		fail_msg("IPv%d %s, policy %s: got %s, want %s", ipver, c->name,
		    policy_name(pol), got, want);
	defrag_stats(d, &st);
	assert_int_equal(st.conflicts, 1);
	assert_int_equal(st.datagrams, 1);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.mem_used, 0);
	defrag_free(d);
	stream_pool_free(sp);
}

static void
test_overlap_policies(void **state)
{
	(void)state;
	for (size_t i = 0; i < nitems(ovcases); i++)
		for (int pol = 0; pol < POLICY_MAX; pol++) {
			run_case(4, (enum fb_policy)pol, &ovcases[i]);
			run_case(6, (enum fb_policy)pol, &ovcases[i]);
		}
}

/* A rebuilt IPv4 datagram: header fixed, checksum right, decodes whole. */
static void
test_ipv4_header(void **state)
{
	struct stream_pool *sp;
	struct defrag *d = new_defrag(POLICY_BSD, 1 << 24, &sp);
	struct defrag_result res;
	struct fb_packet p;
	uint8_t udp[24] = { 0x30, 0x39, 0x00, 0x35, 0x00, 24, 0, 0, 'h', 'e', 'l', 'l',
	    'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!' };
	struct fragbuf f;
	uint32_t sum = 0;

	(void)state;
	mkfrag(&f, 4, 99, 17, 16, false, udp + 16, 8);
	defrag_packet(d, &f.p, T0, &res);
	assert_null(res.dgram);
	mkfrag(&f, 4, 99, 17, 0, true, udp, 8);
	defrag_packet(d, &f.p, T0, &res);
	assert_null(res.dgram);
	assert_null(res.alert);
	mkfrag(&f, 4, 99, 17, 8, true, udp + 8, 8);
	defrag_packet(d, &f.p, T0, &res);
	assert_non_null(res.dgram);
	assert_int_equal(res.len, 44);
	assert_int_equal(decode_frame(FB_LINK_RAW, res.dgram, res.len, res.len, &p), 0);
	assert_false(p.is_fragment);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 12345);
	assert_int_equal(p.payload_len, 16);
	assert_memory_equal(p.payload, "hello world!!!!!", 16);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)res.dgram[i] << 8 | res.dgram[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xffff);
	defrag_free(d);
	stream_pool_free(sp);
}

static void
test_conflict_once(void **state)
{
	struct stream_pool *sp;
	struct defrag *d = new_defrag(POLICY_FIRST, 1 << 24, &sp);
	struct defrag_result res;
	struct defrag_stats st;

	(void)state;
	feed(d, 4, 1, 0, true, 'a', 16, &res);
	feed(d, 4, 1, 8, true, 'b', 16, &res);
	assert_string_equal(res.alert, "overlap");
	assert_int_equal(res.alert_off, 8);
	assert_int_equal(res.alert_len, 8);
	feed(d, 4, 1, 0, true, 'c', 8, &res);
	assert_null(res.alert);			/* once per datagram */
	feed(d, 4, 1, 8, true, 'b', 16, &res);	/* an exact copy */
	assert_null(res.alert);
	feed(d, 4, 1, 24, false, 'z', 8, &res);
	assert_non_null(res.dgram);
	assert_int_equal(res.len, 20 + 32);
	defrag_stats(d, &st);
	assert_int_equal(st.conflicts, 2);
	assert_int_equal(st.overlaps, 1);
	defrag_free(d);
	stream_pool_free(sp);
}

/* A first fragment that cuts the TCP header (the Ptacek-Newsham trick). */
static void
test_tiny(void **state)
{
	struct stream_pool *sp;
	struct defrag *d = new_defrag(POLICY_BSD, 1 << 24, &sp);
	struct defrag_result res;
	struct defrag_stats st;
	uint8_t tcp[24] = { 0x30, 0x39, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02 };
	struct fragbuf f;
	struct fb_packet p;

	(void)state;
	mkfrag(&f, 4, 5, IPPROTO_TCP, 0, true, tcp, 8);
	defrag_packet(d, &f.p, T0, &res);
	assert_non_null(res.alert);
	assert_string_equal(res.alert, "tiny");
	mkfrag(&f, 4, 5, IPPROTO_TCP, 8, false, tcp + 8, 16);
	defrag_packet(d, &f.p, T0, &res);
	assert_null(res.alert);
	assert_non_null(res.dgram);
	assert_int_equal(decode_frame(FB_LINK_RAW, res.dgram, res.len, res.len, &p), 0);
	assert_int_equal(p.tcp_flags, TH_SYN);
	assert_int_equal(p.dport, 8080);
	defrag_stats(d, &st);
	assert_int_equal(st.tiny, 1);
	defrag_free(d);
	stream_pool_free(sp);
}

static void
test_invalid(void **state)
{
	struct stream_pool *sp;
	struct defrag *d = new_defrag(POLICY_BSD, 1 << 24, &sp);
	struct defrag_result res;
	struct defrag_stats st;

	(void)state;
	feed(d, 4, 3, 8, true, 'x', 12, &res);		/* not a multiple of 8 (bsd) */
	feed(d, 4, 3, 16, false, 'e', 8, &res);		/* the end: 24 */
	feed(d, 4, 3, 24, true, 'p', 8, &res);		/* past the end */
	feed(d, 4, 3, 8, false, 'q', 8, &res);		/* a second, different end */
	defrag_stats(d, &st);
	assert_int_equal(st.invalid, 3);
	assert_int_equal(st.pending, 1);
	feed(d, 4, 3, 0, true, 'a', 16, &res);
	assert_non_null(res.dgram);
	assert_int_equal(res.len, 20 + 24);
	defrag_free(d);
	stream_pool_free(sp);
}

/* A non-last fragment not a multiple of 8: BSD drops it, Linux cuts it. */
static void
test_ragged(void **state)
{
	struct defrag_result res;
	struct defrag_stats st;

	(void)state;
	for (int pol = POLICY_BSD; pol <= POLICY_LINUX; pol += POLICY_LINUX - POLICY_BSD) {
		struct stream_pool *sp;
		struct defrag *d = new_defrag((enum fb_policy)pol, 1 << 24, &sp);

		feed(d, 4, 9, 0, true, 'r', 13, &res);		/* 13 bytes, MF */
		feed(d, 4, 9, 8, false, 'e', 8, &res);
		defrag_stats(d, &st);
		assert_int_equal(st.invalid, 1);
		if (pol == POLICY_LINUX) {
			char got[8];

			assert_non_null(res.dgram);
			units(&res, 4, got, sizeof(got));
			assert_string_equal(got, "re");
		} else {
			assert_null(res.dgram);
			assert_int_equal(st.pending, 1);
		}
		defrag_free(d);
		stream_pool_free(sp);
	}
}

static void
test_timeout(void **state)
{
	struct stream_pool *sp;
	struct defrag *d = new_defrag(POLICY_BSD, 1 << 24, &sp);
	struct defrag_result res;
	struct defrag_stats st;

	(void)state;
	feed(d, 6, 77, 0, true, 'a', 8, &res);
	feed(d, 4, 77, 0, true, 'a', 8, &res);
	defrag_tick(d, T0 + DEFRAG_TIMEOUT);
	defrag_stats(d, &st);
	assert_int_equal(st.pending, 2);
	assert_true(st.mem_used > 0);
	defrag_tick(d, T0 + DEFRAG_TIMEOUT + 1);
	defrag_stats(d, &st);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.mem_used, 0);
	defrag_free(d);
	stream_pool_free(sp);
}

/* A flood of first fragments: memory stays capped, the oldest make way. */
static void
test_memory_cap(void **state)
{
	struct stream_pool *sp;
	struct defrag *d = new_defrag(POLICY_BSD, 1 << 20, &sp);
	struct defrag_result res;
	struct defrag_stats st;
	struct stream_stats ss;
	uint32_t i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		feed(d, 4, i, 0, true, 'f', 1000, &res);
		defrag_stats(d, &st);
		assert_true(st.mem_used <= (1 << 20) / 4);
		stream_pool_stats(sp, &ss);
		assert_int_equal(ss.mem_used, st.mem_used);
	}
	assert_true(st.evicted > 19000);
	/* The newest datagram still completes. */
	feed(d, 4, 19999, 1000, false, 'l', 8, &res);
	assert_non_null(res.dgram);
	defrag_free(d);
	stream_pool_stats(sp, &ss);
	assert_int_equal(ss.mem_used, 0);
	stream_pool_free(sp);
}

/* The testdata folder, or NULL (then the caller skips). */
static const char *
testdata(void)
{
	static const char *dirs[] = { "../shared/testdata", "/work/shared/testdata" };
	const char *env = getenv("FB_TESTDATA");
	struct stat st;

	if (env != NULL)
		return stat(env, &st) == 0 ? env : NULL;
	for (size_t i = 0; i < nitems(dirs); i++)
		if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return dirs[i];
	return NULL;
}

/* Sturges & Novak's 17 fragments, expected units per policy, both IP versions. */
static void
test_sturges_novak(void **state)
{
	const char *dir = testdata();
	char path[1024], line[512], fill, more[8], got[64];
	struct { char fill; uint32_t off, len; bool more; } fr[32];
	struct { char name[16]; char units[64]; } exp[8];
	int nfr = 0, nexp = 0, in_exp = 0, n, off, len;
	FILE *fp;

	(void)state;
	if (dir == NULL) {
		print_message("# testdata absent: Sturges-Novak vector skipped\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/target-based-defrag-vectors/"
	    "sturges-novak-ipv4-ipv6.json", dir);
	if ((fp = fopen(path, "r")) == NULL) {
		print_message("# %s absent: skipped\n", path);
		skip();
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, " {\"n\": %d, \"label\": \"%*[^\"]\", \"fill\": \"%c\", "
		    "\"offset\": %d, \"len\": %d, \"more_fragments\": %7[a-z]",
		    &n, &fill, &off, &len, more) == 5 && nfr < 32) {
			fr[nfr].fill = fill;
			fr[nfr].off = (uint32_t)off;
			fr[nfr].len = (uint32_t)len;
			fr[nfr].more = strcmp(more, "true") == 0;
			nfr++;
		} else if (strstr(line, "\"expected_reassembly_per_8_byte_block\"") != NULL) {
			in_exp = 1;
		} else if (in_exp && strchr(line, '}') != NULL) {
			in_exp = 0;
		} else if (in_exp && nexp < 8 && sscanf(line, " \"%15[^\"]\": \"%63[^\"]\"",
		    exp[nexp].name, exp[nexp].units) == 2) {
			nexp++;
		}
	}
	fclose(fp);
	assert_int_equal(nfr, 17);
	assert_int_equal(nexp, 6);
	for (int e = 0; e < nexp; e++) {
		enum fb_policy pol;

		const char *pname = exp[e].name;

		assert_int_equal(policy_parse(pname, &pol), 0);
		for (int v = 4; v <= 6; v += 2) {
			struct stream_pool *sp;
			struct defrag *d = new_defrag(pol, 1 << 24, &sp);
			struct defrag_result res;
			struct defrag_stats st;
			bool alerted = false;

			for (int i = 0; i < nfr; i++) {
				feed(d, v, 0x1234, fr[i].off, fr[i].more, fr[i].fill,
				    fr[i].len, &res);
				if (i < 9)
					assert_null(res.alert);
				alerted |= res.alert != NULL;
				if (i < nfr - 1)
					assert_null(res.dgram);
			}
			assert_true(alerted);
			units(&res, v, got, sizeof(got));
			if (strcmp(got, exp[e].units) != 0)
				fail_msg("IPv%d %s: got %s, want %s", v, pname, got,
				    exp[e].units);
			defrag_stats(d, &st);
			assert_int_equal(st.datagrams, 1);
			defrag_free(d);
			stream_pool_free(sp);
		}
		print_message("# sturges-novak %s: IPv4 and IPv6 match\n", pname);
	}
}

/* The first "packet:" of a suricata-verify test.yaml, base64-decoded. */
static int
yaml_packet(const char *path, uint8_t *out, int outlen)
{
	static char line[200000];
	FILE *fp = fopen(path, "r");
	int n = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *s = strstr(line, "packet: \""), *e;
		int pad = 0;

		if (s == NULL)
			continue;
		s += 9;
		if ((e = strchr(s, '"')) == NULL)
			break;
		*e = '\0';
		if ((int)((e - s) / 4 * 3) > outlen)
			break;
		n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)(e - s));
		if (e - s >= 2 && e[-1] == '=')
			pad += 1 + (e[-2] == '=');
		n -= pad;
		break;
	}
	fclose(fp);
	return n;
}

static int
fb_linktype(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
		return FB_LINK_ETHERNET;
	case 228:
		return FB_LINK_IPV4;
	case 229:
		return FB_LINK_IPV6;
	case DLT_RAW:
		return FB_LINK_RAW;
	default:
		return -1;
	}
}

/* suricata-verify defrag/bug-6887-*: the rebuilt packet of test.yaml. */
static void
test_suricata_verify(void **state)
{
	static const char *tests[][2] = {
		{ "bug-6887-defrag-ipv4-tcp-syn", "frag-ip-tcp-syn.pcap" },
		{ "bug-6887-defrag-eth-vlan-ipv4-tcp-syn", "frag-eth-vlan-ip-tcp-syn.pcap" },
		{ "bug-6887-defrag-ipv6-tcp", "frag-ip-tcp.pcap" },
	};
	static uint8_t want[100000];
	const char *dir = testdata();
	char path[1024], err[PCAP_ERRBUF_SIZE];

	(void)state;
	if (dir == NULL) {
		print_message("# testdata absent: suricata-verify defrag skipped\n");
		skip();
	}
	for (size_t t = 0; t < nitems(tests); t++) {
		struct stream_pool *sp;
		struct defrag *d = new_defrag(POLICY_BSD, 1 << 24, &sp);
		struct defrag_result res;
		struct pcap_pkthdr *h;
		const u_char *data;
		pcap_t *pc;
		int wn, lt, done = 0;

		snprintf(path, sizeof(path), "%s/suricata-verify/tests/defrag/%s/test.yaml",
		    dir, tests[t][0]);
		if ((wn = yaml_packet(path, want, sizeof(want))) <= 0) {
			print_message("# %s: no packet (skipped)\n", path);
			defrag_free(d);
			stream_pool_free(sp);
			continue;
		}
		snprintf(path, sizeof(path), "%s/suricata-verify/tests/defrag/%s/%s",
		    dir, tests[t][0], tests[t][1]);
		assert_non_null(pc = pcap_open_offline(path, err));
		lt = fb_linktype(pcap_datalink(pc));
		assert_int_not_equal(lt, -1);
		while (pcap_next_ex(pc, &h, &data) == 1) {
			struct fb_packet p;

			if (decode_frame(lt, data, h->caplen, h->len, &p) != 0 ||
			    !p.is_fragment)
				continue;
			defrag_packet(d, &p, T0, &res);
			if (res.dgram == NULL)
				continue;
			/* test.yaml gives the whole frame: the datagram ends it. */
			assert_true((int)res.len <= wn);
			assert_memory_equal(want + wn - res.len, res.dgram, res.len);
			done++;
		}
		pcap_close(pc);
		assert_int_equal(done, 1);
		print_message("# %s: rebuilt %d bytes as expected\n", tests[t][0], wn);
		defrag_free(d);
		stream_pool_free(sp);
	}
}

/* Other public captures: what each must produce (NOTES.md section 6 item 1). */
static void
test_public_captures(void **state)
{
	static const struct {
		const char	*file;
		uint64_t	 datagrams, conflicts, tiny;
		bool		 anomaly;	/* some conflict, tiny or invalid fragment */
		uint32_t	 len;		/* of the first datagram, 0: any */
	} caps[] = {
		/* Wireshark's 1400-byte ping in 2 fragments: 1408-byte ICMP. */
		{ "suricata-verify/tests/exception-policy-defrag-01/ipv4frags.pcap",
		  1, 0, 0, false, 20 + 1408 },
		/* Zeek core.reassembly: small, inconsistent, overlapping fragments. */
		{ "zeek-traces/traces/ipv4/fragmented-1.pcap", 0, 0, 0, true, 0 },
		{ "zeek-traces/traces/ipv4/fragmented-2.pcap", 0, 0, 0, true, 0 },
		{ "zeek-traces/traces/ipv4/fragmented-3.pcap", 0, 0, 0, false, 0 },
		{ "zeek-traces/traces/ipv4/fragmented-4.pcap", 1, 1, 0, true, 0 },
		{ "zeek-traces/traces/ipv4/fragmented-syn.pcap", 1, 0, 1, true, 0 },
		/* Overlapping IPv6 fragments (Uni Potsdam collection); the other
		 * ipv6-evasion captures nest fragment headers, which the decoder
		 * refuses as malformed before they reach defrag. */
		{ "suricata-verify/tests/ipv6-evasion/ipv6-malformed-fragments-1/frag-1.pcap",
		  1, 1, 0, true, 0 },
	};
	const char *dir = testdata();
	char path[1024], err[PCAP_ERRBUF_SIZE];

	(void)state;
	if (dir == NULL) {
		print_message("# testdata absent: public fragment captures skipped\n");
		skip();
	}
	for (size_t i = 0; i < nitems(caps); i++) {
		struct stream_pool *sp;
		struct defrag *d = new_defrag(POLICY_BSD, 1 << 24, &sp);
		struct defrag_result res;
		struct defrag_stats st;
		struct pcap_pkthdr *h;
		const u_char *data;
		uint32_t first_len = 0;
		pcap_t *pc;
		int lt;

		snprintf(path, sizeof(path), "%s/%s", dir, caps[i].file);
		if ((pc = pcap_open_offline(path, err)) == NULL) {
			print_message("# %s: %s (skipped)\n", path, err);
			defrag_free(d);
			stream_pool_free(sp);
			continue;
		}
		lt = fb_linktype(pcap_datalink(pc));
		assert_int_not_equal(lt, -1);
		while (pcap_next_ex(pc, &h, &data) == 1) {
			struct fb_packet p;

			if (decode_frame(lt, data, h->caplen, h->len, &p) != 0 ||
			    !p.is_fragment)
				continue;
			defrag_packet(d, &p, T0, &res);
			if (res.dgram != NULL && first_len == 0)
				first_len = res.len;
		}
		pcap_close(pc);
		defrag_stats(d, &st);
		if (st.datagrams != caps[i].datagrams || st.conflicts != caps[i].conflicts ||
		    st.tiny != caps[i].tiny ||
		    (st.conflicts + st.tiny + st.invalid > 0) != caps[i].anomaly ||
		    (caps[i].len != 0 && first_len != caps[i].len))
			fail_msg("%s: %llu datagrams (len %u), %llu conflicts, %llu tiny, "
			    "%llu invalid", caps[i].file, (unsigned long long)st.datagrams,
			    first_len, (unsigned long long)st.conflicts,
			    (unsigned long long)st.tiny, (unsigned long long)st.invalid);
		defrag_free(d);
		stream_pool_free(sp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlap_policies),
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_conflict_once),
		cmocka_unit_test(test_tiny),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_ragged),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_memory_cap),
		cmocka_unit_test(test_sturges_novak),
		cmocka_unit_test(test_suricata_verify),
		cmocka_unit_test(test_public_captures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
