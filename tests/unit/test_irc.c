/*
 * Unit tests of irc: exact irc.jsonl records for registration, joins on two
 * channels, messages to channels and users, CTCP ACTION/VERSION/DCC SEND,
 * nick changes, topics, kicks, modes, parts and quits; lines split across
 * chunks, gaps, overlong lines, partial lines at the end, hostile bytes
 * escaped; the honeypot as server; IPv6; detection by content; the parser.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "config.h"
#include "event.h"
#include "irc.h"
#include "layers.h"

#define D26		(1795651200LL * FB_NS_PER_SEC)	/* 2026-11-26T00:00:00Z */
#define T(sec)		(D26 + 8 * 3600 * FB_NS_PER_SEC + (fb_ns)(sec) * FB_NS_PER_SEC)
#define FILE_PATH	"2026-11-26/irc.jsonl"

/* The members every record of the test connection starts with. */
#define H(sec, dir)	"{\"ts\":\"2026-11-26T08:00:" sec ".000000Z\",\"conn_id\":7," \
			"\"honeypot\":\"10.0.0.5\",\"dir\":\"" dir "\"," \
			"\"server\":\"203.0.113.7:6667\""
#define OUT		"from_honeypot"
#define IN		"to_honeypot"

static char tmpdir[256];
static struct fb_config cfg;
static struct event_log *ev;
static struct layers *lay;

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	log_init("test_irc", 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/fbircXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(config_load_string("t.conf",
	    "[honeynet]\nnetworks = 10.0.0.0/24\n", &cfg, err, sizeof(err)), 0);
	assert_non_null(ev = event_log_open(tmpdir, NULL));
	assert_non_null(lay = layers_new(&cfg, tmpdir, ev, NULL));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	layers_free(lay);
	event_log_close(ev);
	config_free(&cfg);
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void
v4(struct fb_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	const uint8_t b[4] = { x, y, z, w };

	addr_from_v4(a, b);
}

/* Connection 7: the honeypot 10.0.0.5:40000 connected out to 203.0.113.7:6667. */
static void *
conn_out(void)
{
	struct session_info si;
	void *c;

	memset(&si, 0, sizeof(si));
	si.conn_id = 7;
	v4(&si.key.src, 10, 0, 0, 5);
	v4(&si.key.dst, 203, 0, 113, 7);
	si.key.sport = 40000;
	si.key.dport = 6667;
	si.key.proto = 6;
	si.dir = DIR_OUTBOUND;
	si.honeypot = si.key.src;
	si.start = T(0);
	assert_non_null(c = irc_analyser.open(lay, &si));
	return c;
}

#define SAY(c, dir, sec, lit)	irc_analyser.data((c), (dir), T(sec), \
				    (const uint8_t *)(lit), sizeof(lit) - 1)

static char *
slurp(void)
{
	char path[512];
	struct stat st;
	char *b;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, FILE_PATH);
	if ((fd = open(path, O_RDONLY)) == -1)
		return strdup("");
	assert_int_equal(fstat(fd, &st), 0);
	b = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(b);
	assert_int_equal(read(fd, b, (size_t)st.st_size), st.st_size);
	close(fd);
	return b;
}

/* The file holds exactly want; it is then emptied for the next step (the
 * event log keeps its descriptor open, O_APPEND). */
static void
expect(const char *want)
{
	char path[512], *got = slurp();

	assert_string_equal(got, want);
	free(got);
	snprintf(path, sizeof(path), "%s/%s", tmpdir, FILE_PATH);
	assert_int_equal(truncate(path, 0), 0);
}

static struct irc_stats
stats(void)
{
	struct irc_stats st;

	irc_stats_get(lay->irc, &st);
	return st;
}

/* NICK tim and the welcome at second 0, records discarded. */
static void *
welcomed(void)
{
	void *c = conn_out();

	SAY(c, 0, 0, "NICK tim\r\nUSER tim 0 * :Tim\r\n");
	SAY(c, 1, 0, ":irc.example.net 001 tim :Welcome\r\n");
	expect(H("00", OUT) ",\"command\":\"NICK\",\"new_nick\":\"tim\"}\n"
	    H("00", OUT) ",\"nick\":\"tim\",\"command\":\"USER\",\"params\":[\"tim\",\"0\",\"*\",\"Tim\"]}\n"
	    H("00", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"001\",\"target\":\"tim\",\"text\":\"Welcome\"}\n");
	return c;
}

static void
test_registration(void **state)
{
	void *c = conn_out();

	(void)state;
	SAY(c, 0, 1, "CAP LS 302\r\nNICK tim\r\nUSER tim 0 * :Tim W\r\n");
	SAY(c, 1, 2, ":irc.example.net NOTICE * :*** Looking up your hostname\r\n"
	    ":irc.example.net 001 tim :Welcome to ExampleNet tim!tim@10.0.0.5\r\n"
	    ":irc.example.net 005 tim CHANTYPES=# :are supported\r\n");
	SAY(c, 0, 3, "PING :irc.example.net\r\n");
	SAY(c, 1, 4, ":irc.example.net PONG irc.example.net :irc.example.net\n");
	irc_analyser.close(c, T(5));
	expect(H("01", OUT) ",\"command\":\"CAP\",\"params\":[\"LS\",\"302\"]}\n"
	    H("01", OUT) ",\"command\":\"NICK\",\"new_nick\":\"tim\"}\n"
	    H("01", OUT) ",\"nick\":\"tim\",\"command\":\"USER\",\"params\":[\"tim\",\"0\",\"*\",\"Tim W\"]}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"NOTICE\",\"target\":\"*\",\"text\":\"*** Looking up your hostname\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"001\",\"target\":\"tim\",\"text\":\"Welcome to ExampleNet tim!tim@10.0.0.5\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"005\",\"params\":[\"tim\",\"CHANTYPES=#\",\"are supported\"]}\n"
	    H("03", OUT) ",\"nick\":\"tim\",\"command\":\"PING\",\"params\":[\"irc.example.net\"]}\n"
	    H("04", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"PONG\",\"params\":[\"irc.example.net\",\"irc.example.net\"]}\n");
	assert_int_equal(stats().records, 8);
	assert_int_equal(stats().lines, 8);
	assert_int_equal(stats().mem_used, 0);
}

static void
test_join_two_channels_and_talk(void **state)
{
	void *c = welcomed();

	(void)state;
	SAY(c, 0, 1, "JOIN #alpha\r\nJOIN #beta s3cret\r\n");
	SAY(c, 1, 2, ":tim!tim@10.0.0.5 JOIN #alpha\r\n"
	    ":irc.example.net 332 tim #alpha :Welcome to alpha\r\n"
	    ":irc.example.net 353 tim = #alpha :tim @bob\r\n"
	    ":tim!tim@10.0.0.5 JOIN :#beta\r\n"
	    ":bob!b@h JOIN #beta bobacct :Bob R\r\n");
	SAY(c, 0, 3, "PRIVMSG #alpha :hello alpha\r\nPRIVMSG #beta :hello beta\r\n"
	    "PRIVMSG bob :psst\r\n");
	SAY(c, 1, 4, ":bob!b@198.51.100.2 PRIVMSG #alpha :hi tim\r\n"
	    ":bob!b@198.51.100.2 PRIVMSG tim :psst back\r\n");
	irc_analyser.close(c, T(5));
	expect(H("01", OUT) ",\"nick\":\"tim\",\"command\":\"JOIN\",\"target\":\"#alpha\"}\n"
	    H("01", OUT) ",\"nick\":\"tim\",\"command\":\"JOIN\",\"target\":\"#beta\",\"key\":\"s3cret\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"tim!tim@10.0.0.5\",\"command\":\"JOIN\",\"target\":\"#alpha\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"332\",\"target\":\"#alpha\",\"text\":\"Welcome to alpha\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"353\",\"params\":[\"tim\",\"=\",\"#alpha\",\"tim @bob\"]}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"tim!tim@10.0.0.5\",\"command\":\"JOIN\",\"target\":\"#beta\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"JOIN\",\"target\":\"#beta\",\"params\":[\"#beta\",\"bobacct\",\"Bob R\"]}\n"
	    H("03", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"hello alpha\"}\n"
	    H("03", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#beta\",\"text\":\"hello beta\"}\n"
	    H("03", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"bob\",\"text\":\"psst\"}\n"
	    H("04", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@198.51.100.2\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"hi tim\"}\n"
	    H("04", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@198.51.100.2\",\"command\":\"PRIVMSG\",\"target\":\"tim\",\"text\":\"psst back\"}\n");
}

static void
test_ctcp(void **state)
{
	void *c = welcomed();

	(void)state;
	SAY(c, 0, 1, "PRIVMSG #alpha :\001ACTION waves\001\r\n"
	    "PRIVMSG bob :\001DCC SEND ssh.trace 167772182 35000 1320211\001\r\n"
	    "PRIVMSG bob :\001dcc send \"my file.tgz\" 3405803783 1024\001\r\n"
	    "PRIVMSG bob :\001DCC SEND x.bin 2001:db8::7 99999 -1\r\n");
	SAY(c, 1, 2, ":bob!b@h PRIVMSG tim :\001VERSION\001\r\n"
	    ":bob!b@h NOTICE tim :\001VERSION irssi v1.4\001\r\n"
	    ":bob!b@h PRIVMSG tim :not \001ctcp\001\r\n");
	irc_analyser.close(c, T(3));
	expect(H("01", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"ctcp\":\"ACTION\",\"text\":\"waves\"}\n"
	    H("01", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"bob\",\"ctcp\":\"DCC\",\"text\":\"SEND ssh.trace 167772182 35000 1320211\","
	    "\"dcc\":{\"type\":\"SEND\",\"file\":\"ssh.trace\",\"ip\":\"10.0.0.22\",\"port\":35000,\"size\":1320211}}\n"
	    H("01", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"bob\",\"ctcp\":\"DCC\",\"text\":\"send \\\"my file.tgz\\\" 3405803783 1024\","
	    "\"dcc\":{\"type\":\"SEND\",\"file\":\"my file.tgz\",\"ip\":\"203.0.113.7\",\"port\":1024}}\n"
	    H("01", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"bob\",\"ctcp\":\"DCC\",\"text\":\"SEND x.bin 2001:db8::7 99999 -1\","
	    "\"dcc\":{\"type\":\"SEND\",\"file\":\"x.bin\",\"ip\":\"2001:db8::7\"}}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"PRIVMSG\",\"target\":\"tim\",\"ctcp\":\"VERSION\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"NOTICE\",\"target\":\"tim\",\"ctcp\":\"VERSION\",\"text\":\"irssi v1.4\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"PRIVMSG\",\"target\":\"tim\",\"text\":\"not \\u0001ctcp\\u0001\"}\n");
	assert_int_equal(stats().dcc, 3);
}

static void
test_nick_topic_kick_mode_part_quit(void **state)
{
	void *c = welcomed();

	(void)state;
	SAY(c, 0, 1, "NICK tom\r\n");
	SAY(c, 1, 2, ":irc.example.net 433 tim tom :Nickname is already in use\r\n");
	SAY(c, 0, 3, "NICK tam\r\n");
	SAY(c, 1, 4, ":TIM!tim@10.0.0.5 NICK :tam\r\n:bob!b@h NICK bobby\r\n");
	SAY(c, 0, 5, "TOPIC #alpha :new topic\r\nMODE #alpha +o bobby\r\n");
	SAY(c, 1, 6, ":tam!tim@10.0.0.5 TOPIC #alpha :new topic\r\n"
	    ":bobby!b@h KICK #beta tam :go away\r\n"
	    ":bobby!b@h MODE #alpha -o+b  tam *!*@h\r\n");
	SAY(c, 0, 7, "PART #alpha :bye all\r\nQUIT :leaving now\r\n");
	SAY(c, 1, 8, "ERROR :Closing link: 10.0.0.5 (Quit: leaving now)\r\n");
	irc_analyser.close(c, T(9));
	expect(H("01", OUT) ",\"nick\":\"tim\",\"command\":\"NICK\",\"new_nick\":\"tom\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"irc.example.net\",\"command\":\"433\",\"params\":[\"tim\",\"tom\",\"Nickname is already in use\"]}\n"
	    H("03", OUT) ",\"nick\":\"tim\",\"command\":\"NICK\",\"new_nick\":\"tam\"}\n"
	    H("04", IN) ",\"nick\":\"tim\",\"from\":\"TIM!tim@10.0.0.5\",\"command\":\"NICK\",\"new_nick\":\"tam\"}\n"
	    H("04", IN) ",\"nick\":\"tam\",\"from\":\"bob!b@h\",\"command\":\"NICK\",\"new_nick\":\"bobby\"}\n"
	    H("05", OUT) ",\"nick\":\"tam\",\"command\":\"TOPIC\",\"target\":\"#alpha\",\"text\":\"new topic\"}\n"
	    H("05", OUT) ",\"nick\":\"tam\",\"command\":\"MODE\",\"target\":\"#alpha\",\"modes\":\"+o bobby\"}\n"
	    H("06", IN) ",\"nick\":\"tam\",\"from\":\"tam!tim@10.0.0.5\",\"command\":\"TOPIC\",\"target\":\"#alpha\",\"text\":\"new topic\"}\n"
	    H("06", IN) ",\"nick\":\"tam\",\"from\":\"bobby!b@h\",\"command\":\"KICK\",\"target\":\"#beta\",\"victim\":\"tam\",\"text\":\"go away\"}\n"
	    H("06", IN) ",\"nick\":\"tam\",\"from\":\"bobby!b@h\",\"command\":\"MODE\",\"target\":\"#alpha\",\"modes\":\"-o+b tam *!*@h\"}\n"
	    H("07", OUT) ",\"nick\":\"tam\",\"command\":\"PART\",\"target\":\"#alpha\",\"text\":\"bye all\"}\n"
	    H("07", OUT) ",\"nick\":\"tam\",\"command\":\"QUIT\",\"text\":\"leaving now\"}\n"
	    H("08", IN) ",\"nick\":\"tam\",\"command\":\"ERROR\",\"params\":[\"Closing link: 10.0.0.5 (Quit: leaving now)\"]}\n");
}

/* One line over four chunks (the CR and LF apart); its time is the last's. */
static void
test_split_line(void **state)
{
	void *c = welcomed();

	(void)state;
	SAY(c, 0, 1, "PRIVMSG #al");
	SAY(c, 1, 2, ":bob!b@h PRIVMSG #alpha :interleaved\r\n:bob!b@h PRI");
	SAY(c, 0, 3, "pha :hel");
	SAY(c, 0, 4, "lo\r");
	assert_true(stats().mem_used > 0);
	SAY(c, 0, 5, "\nPRIVMSG #alpha :whole\n");
	SAY(c, 1, 6, "VMSG #alpha :rest\r\n");
	irc_analyser.close(c, T(7));
	expect(H("02", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"interleaved\"}\n"
	    H("04", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"hello\"}\n"
	    H("05", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"whole\"}\n"
	    H("06", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"rest\"}\n");
	assert_int_equal(stats().mem_used, 0);
	assert_int_equal(stats().partial, 0);
}

/* A gap drops the line it cut; the first line after it is marked. */
static void
test_gap(void **state)
{
	void *c = welcomed();

	(void)state;
	SAY(c, 0, 1, "PRIVMSG #alpha :one\r\nPRIVMSG #alpha :before the g");
	irc_analyser.gap(c, 0, T(2), 100);
	SAY(c, 0, 3, "ap and after\r\nPRIVMSG #alpha :two\r\n");
	irc_analyser.gap(c, 1, T(4), 10);	/* between lines: nothing lost */
	SAY(c, 1, 5, ":bob!b@h PRIVMSG #alpha :three\r\n");
	irc_analyser.close(c, T(6));
	expect(H("01", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"one\"}\n"
	    H("03", OUT) ",\"nick\":\"tim\",\"command\":\"AP\",\"params\":[\"and\",\"after\"],\"after_gap\":true}\n"
	    H("03", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"two\"}\n"
	    H("05", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"PRIVMSG\",\"target\":\"#alpha\",\"text\":\"three\",\"after_gap\":true}\n");
	assert_int_equal(stats().gaps, 2);
	assert_int_equal(stats().gap_lines, 1);
	assert_int_equal(stats().mem_used, 0);
}

/* Lines past IRC_LINE_MAX: whole in one chunk, and over many chunks. */
static void
test_overlong(void **state)
{
	static const char head[] = "PRIVMSG #alpha :";
	size_t n = IRC_LINE_MAX + 1000, keep = IRC_LINE_MAX - (sizeof(head) - 1), i;
	uint8_t *big = malloc(n + 2);
	char *want = malloc(3 * keep + 4096), *w;
	void *c = welcomed();

	(void)state;
	memcpy(big, head, sizeof(head) - 1);
	memset(big + sizeof(head) - 1, 'x', n - (sizeof(head) - 1));
	memcpy(big + n, "\r\n", 2);
	irc_analyser.data(c, 0, T(1), big, n + 2);
	for (i = 0; i < n + 2; i += 1000)
		irc_analyser.data(c, 0, T(2), big + i, FB_MIN((size_t)1000, n + 2 - i));
	SAY(c, 0, 3, "PRIVMSG #alpha :ok\r\n");
	/* Exactly IRC_LINE_MAX is not overlong. */
	big[IRC_LINE_MAX] = '\n';
	irc_analyser.data(c, 0, T(4), big, IRC_LINE_MAX / 2);
	irc_analyser.data(c, 0, T(5), big + IRC_LINE_MAX / 2, IRC_LINE_MAX / 2 + 1);
	irc_analyser.close(c, T(6));

	w = want;
	for (i = 1; i <= 2; i++) {
		w += sprintf(w, H("0%zu", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\","
		    "\"target\":\"#alpha\",\"text\":\"", i);
		memset(w, 'x', keep);
		w += keep;
		w += sprintf(w, "\",\"overlong\":true}\n");
	}
	w += sprintf(w, H("03", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\","
	    "\"target\":\"#alpha\",\"text\":\"ok\"}\n");
	w += sprintf(w, H("05", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\","
	    "\"target\":\"#alpha\",\"text\":\"");
	memset(w, 'x', keep);
	w += keep;
	sprintf(w, "\"}\n");
	expect(want);
	assert_int_equal(stats().overlong, 2);
	assert_int_equal(stats().mem_used, 0);
	free(big);
	free(want);
}

static void
test_hostile_bytes(void **state)
{
	static const uint8_t l1[] = "PRIVMSG #a\"b :nul\0here \xff\xc3\x28 \x1b[31mred\x1b[0m"
	    " \"q\" \\ \xe2\x82\xac\x07\r\n";
	static const uint8_t l2[] = ":ev\0il!x@\"y\" NICK :n\\k\r\n";
	static const uint8_t l3[] = "@a=b\\s;c=\"d\" :s\x01 PRIVMSG #a :\x01\x1b]0;pwn\x07\x01\r\n";
	void *c = welcomed();

	(void)state;
	irc_analyser.data(c, 0, T(1), l1, sizeof(l1) - 1);
	irc_analyser.data(c, 1, T(2), l2, sizeof(l2) - 1);
	irc_analyser.data(c, 1, T(3), l3, sizeof(l3) - 1);
	SAY(c, 1, 4, ":tim!x@y NICK :\xc3\xa9v\x01il\r\n");
	SAY(c, 1, 5, ":srv 001 tim :x\r\n");	/* a second welcome names us again */
	SAY(c, 0, 6, "QUIT\r\n");
	irc_analyser.close(c, T(7));
	expect(H("01", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#a\\\"b\","
	    "\"text\":\"nul\\u0000here \\u00ff\\u00c3( \\u001b[31mred\\u001b[0m \\\"q\\\" \\\\ \xe2\x82\xac\\u0007\"}\n"
	    H("02", IN) ",\"nick\":\"tim\",\"from\":\"ev\\u0000il!x@\\\"y\\\"\",\"command\":\"NICK\",\"new_nick\":\"n\\\\k\"}\n"
	    H("03", IN) ",\"nick\":\"tim\",\"tags\":\"a=b\\\\s;c=\\\"d\\\"\",\"from\":\"s\\u0001\",\"command\":\"PRIVMSG\",\"target\":\"#a\","
	    "\"ctcp\":\"\\u001b]0;PWN\\u0007\"}\n"
	    H("04", IN) ",\"nick\":\"tim\",\"from\":\"tim!x@y\",\"command\":\"NICK\",\"new_nick\":\"\xc3\xa9v\\u0001il\"}\n"
	    H("05", IN) ",\"nick\":\"\xc3\xa9v\\u0001il\",\"from\":\"srv\",\"command\":\"001\",\"target\":\"tim\",\"text\":\"x\"}\n"
	    H("06", OUT) ",\"nick\":\"tim\",\"command\":\"QUIT\"}\n");
}

/* Unterminated lines at the end, a line without a command, a lone CR. */
static void
test_partial_and_odd_lines(void **state)
{
	void *c = welcomed();

	(void)state;
	SAY(c, 1, 1, ":only.a.prefix\r\n@only=tags\r\n   \r\n\r\n");
	SAY(c, 0, 2, "PRIVMSG #a :one\rPRIVMSG #a :two\nPRIVMSG #a :unfinished");
	SAY(c, 1, 3, ":bob!b@h PRIVMSG #a :also unfin");
	irc_analyser.close(c, T(4));
	expect(H("01", IN) ",\"nick\":\"tim\",\"raw\":\":only.a.prefix\"}\n"
	    H("01", IN) ",\"nick\":\"tim\",\"raw\":\"@only=tags\"}\n"
	    H("01", IN) ",\"nick\":\"tim\",\"raw\":\"   \"}\n"
	    H("02", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#a\",\"text\":\"one\"}\n"
	    H("02", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#a\",\"text\":\"two\"}\n"
	    H("04", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#a\",\"text\":\"unfinished\",\"partial\":true}\n"
	    H("04", IN) ",\"nick\":\"tim\",\"from\":\"bob!b@h\",\"command\":\"PRIVMSG\",\"target\":\"#a\",\"text\":\"also unfin\",\"partial\":true}\n");
	assert_int_equal(stats().no_command, 3);
	assert_int_equal(stats().partial, 2);
	assert_int_equal(stats().mem_used, 0);
}

/* The honeypot runs the server (inbound, client from outside), over IPv6;
 * the client is learnt from the numeric replies the honeypot sends. */
static void
test_honeypot_server_ipv6(void **state)
{
	struct session_info si;
	void *c;
	char *got;

	(void)state;
	memset(&si, 0, sizeof(si));
	si.conn_id = 9;
	assert_int_equal(addr_parse("2001:db8::66", &si.key.src), 0);
	assert_int_equal(addr_parse("2001:db8:1::5", &si.key.dst), 0);
	si.key.sport = 51000;
	si.key.dport = 7000;
	si.dir = DIR_INBOUND;
	si.honeypot = si.key.dst;
	assert_non_null(c = irc_analyser.open(lay, &si));
	/* The server speaks first from the responder side. */
	SAY(c, 1, 1, ":hp.local 001 evil :Welcome\r\n");
	SAY(c, 0, 2, "JOIN #x\r\n");
	irc_analyser.close(c, T(3));
	got = slurp();
	assert_string_equal(got,
	    "{\"ts\":\"2026-11-26T08:00:01.000000Z\",\"conn_id\":9,\"honeypot\":\"2001:db8:1::5\",\"dir\":\"from_honeypot\","
	    "\"server\":\"[2001:db8:1::5]:7000\",\"from\":\"hp.local\",\"command\":\"001\",\"target\":\"evil\",\"text\":\"Welcome\"}\n"
	    "{\"ts\":\"2026-11-26T08:00:02.000000Z\",\"conn_id\":9,\"honeypot\":\"2001:db8:1::5\",\"dir\":\"to_honeypot\","
	    "\"server\":\"[2001:db8:1::5]:7000\",\"nick\":\"evil\",\"command\":\"JOIN\",\"target\":\"#x\"}\n");
	free(got);
}

/* A reconnect to another server: each connection keeps its own nick. */
static void
test_two_connections(void **state)
{
	void *a = welcomed(), *b = conn_out();

	(void)state;
	SAY(b, 0, 1, "NICK tim2\r\n");
	SAY(a, 0, 2, "PRIVMSG #a :from a\r\n");
	SAY(b, 0, 3, "PRIVMSG #a :from b\r\n");
	irc_analyser.close(a, T(4));
	irc_analyser.close(b, T(4));
	expect(H("01", OUT) ",\"command\":\"NICK\",\"new_nick\":\"tim2\"}\n"
	    H("02", OUT) ",\"nick\":\"tim\",\"command\":\"PRIVMSG\",\"target\":\"#a\",\"text\":\"from a\"}\n"
	    H("03", OUT) ",\"nick\":\"tim2\",\"command\":\"PRIVMSG\",\"target\":\"#a\",\"text\":\"from b\"}\n");
	assert_int_equal(stats().conns, 2);
}

/* A long nick is cut to IRC_NICK_MAX (counted). */
static void
test_long_nick(void **state)
{
	char line[300], want[2048];
	void *c = conn_out();

	(void)state;
	memset(line, 'n', sizeof(line));
	memcpy(line, "NICK ", 5);
	memcpy(line + 200, "\r\nQUIT\r\n", 8);
	irc_analyser.data(c, 0, T(1), (const uint8_t *)line, 208);
	irc_analyser.close(c, T(2));
	snprintf(want, sizeof(want), H("01", OUT) ",\"command\":\"NICK\",\"new_nick\":\"%.195s\"}\n"
	    H("01", OUT) ",\"nick\":\"%.64s\",\"command\":\"QUIT\"}\n", line + 5, line + 5);
	expect(want);
	assert_int_equal(stats().nick_cut, 1);
}

static bool
det(const char *a, const char *b)
{
	const uint8_t *seen[2] = { (const uint8_t *)a, (const uint8_t *)b };
	const size_t n[2] = { a ? strlen(a) : 0, b ? strlen(b) : 0 };

	return irc_analyser.detect(seen, n);
}

static void
test_detect(void **state)
{
	(void)state;
	assert_true(det("NICK tim\r\n", NULL));
	assert_true(det("nick tim\n", ""));
	assert_true(det("USER a b c :d\r\n", NULL));
	assert_true(det("PASS x\r\nNICK y\r\n", NULL));
	assert_true(det("CAP LS 302\r\n", NULL));
	assert_true(det("JOIN #x\r\n", NULL));
	assert_true(det("", ":irc.local NOTICE * :*** Looking up your hostname\r\n"));
	assert_true(det("", "NOTICE AUTH :*** Looking up your hostname\r\n"));
	assert_true(det(NULL, ":irc.local 001 tim :Welcome\r\n"));
	assert_true(det("PING :x\r\n", NULL));
	assert_true(det("@time=1 :n!u@h PRIVMSG #x :hi\r\n", NULL));
	assert_true(det("NICK tim\r\n", "NOTICE AUTH :partial"));
	/* Not (yet) IRC. */
	assert_false(det("NICK tim", NULL));			/* no line yet */
	assert_false(det("PASS x\r\n", NULL));			/* could be FTP */
	assert_false(det("USER anonymous\r\n", "220 FTP ready\r\n"));
	assert_false(det("USER anonymous\r\nPASS x\r\n", NULL));
	assert_false(det("NICK tim\r\n", "220 smtp.example ESMTP\r\n"));
	assert_false(det("", "220 smtp.example ESMTP\r\n"));
	assert_false(det("GET / HTTP/1.0\r\n\r\n", NULL));
	assert_false(det("EHLO x\r\n", NULL));
	assert_false(det("", ":x 1234 y\r\n"));
	assert_false(det("", ":x FOO y\r\n"));
	assert_false(det("JOIN x\r\n", NULL));
	assert_false(det("PRIVMSG x\r\n", NULL));
	assert_false(det("\xff\xfb\x01\xff\xfd\x18\r\n", NULL));
	assert_false(det(NULL, NULL));
}

static void
test_parse(void **state)
{
	struct irc_msg m;
	static const char l1[] = "@k=v;x  :pre!u@h   CMD  a  b :c d  ";
	static const char l2[] = "X 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 :17";
	static const char l3[] = "X a :";

	(void)state;
	assert_int_equal(irc_parse((const uint8_t *)l1, sizeof(l1) - 1, &m), 0);
	assert_int_equal(m.tags.n, 5);
	assert_memory_equal(m.tags.p, "k=v;x", 5);
	assert_int_equal(m.prefix.n, 7);
	assert_memory_equal(m.prefix.p, "pre!u@h", 7);
	assert_int_equal(m.cmd.n, 3);
	assert_int_equal(m.nparams, 3);
	assert_memory_equal(m.param[1].p, "b", 1);
	assert_int_equal(m.param[2].n, 5);
	assert_memory_equal(m.param[2].p, "c d  ", 5);
	assert_int_equal(irc_parse((const uint8_t *)l2, sizeof(l2) - 1, &m), 0);
	assert_int_equal(m.nparams, IRC_MAX_PARAMS);
	assert_int_equal(m.param[14].n, 9);
	assert_memory_equal(m.param[14].p, "15 16 :17", 9);
	assert_int_equal(irc_parse((const uint8_t *)l3, sizeof(l3) - 1, &m), 0);
	assert_int_equal(m.nparams, 2);
	assert_int_equal(m.param[1].n, 0);
	assert_int_equal(irc_parse((const uint8_t *)":p", 2, &m), -1);
	assert_int_equal(irc_parse((const uint8_t *)"@t :p ", 6, &m), -1);
	assert_int_equal(irc_parse((const uint8_t *)"", 0, &m), -1);
}

/* The status member: counters for all connections. */
static void
test_status(void **state)
{
	struct jbuf jb;
	void *c = welcomed();

	(void)state;
	irc_analyser.close(c, T(1));
	jb_init(&jb);
	jb_begin(&jb);
	irc_status_json(lay->irc, &jb);
	jb_end(&jb);
	assert_string_equal(jb.p, "{\"irc\":{\"conns\":1,\"lines\":3,\"records\":3,"
	    "\"write_errors\":0,\"no_command\":0,\"overlong\":0,\"gaps\":0,\"gap_lines\":0,"
	    "\"partial\":0,\"mem_drops\":0,\"nick_cut\":0,\"dcc\":0,\"mem_used\":0}}\n");
	jb_free(&jb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_two_channels_and_talk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nick_topic_kick_mode_part_quit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_and_odd_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_honeypot_server_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_nick, setup, teardown),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
