/*
 * Unit tests of ftp: detection, exact ftp.jsonl records (multi-line and
 * preliminary replies, passwords kept, long lines cut), PASV + RETR and
 * EPSV + STOR data connections claimed through session_open and carved
 * with the control connection's id, PORT to the client (no alert) and to
 * a third host (an "ftp-bounce" alert), expiry and unannounced
 * connections left alone.
 */
#include "layertest.h"
#include "files.h"
#include "ftp.h"

static bool
det(const char *c, const char *s)
{
	const uint8_t *const seen[2] = { (const uint8_t *)c, (const uint8_t *)s };
	const size_t n[2] = { strlen(c), strlen(s) };

	return ftp_analyser.detect(seen, n);
}

static void
test_detect(void **state)
{
	(void)state;
	assert_true(det("USER anonymous\r\n", "220 (vsFTPd 3.0.3)\r\n"));
	assert_true(det("user bob\r\n", "220-hello\r\n"));
	assert_true(det("AUTH TLS\r\n", "220 ready\r\n"));
	assert_true(det("FEAT\r\n", "220 ready\r\n"));
	assert_false(det("EHLO x\r\n", "220 mail ESMTP\r\n"));	/* SMTP */
	assert_false(det("", "220 ready\r\n"));			/* wait for the client */
	assert_false(det("USER bob\r\n", "200 ready\r\n"));
	assert_false(det("USER bob\r\n", ""));
	assert_false(ftp_data_analyser.detect((const uint8_t *const[2]){
	    (const uint8_t *)"x", (const uint8_t *)"y" }, (const size_t[2]){ 1, 1 }));
}

#define CTRL	"\"conn\":3,\"honeypot\":\"10.0.0.5\",\"client\":\"10.0.0.5\"," \
		"\"cport\":40000,\"server\":\"203.0.113.80\",\"sport\":21,"
#define TS(us)	"{\"ts\":\"2026-11-26T20:19:23.00000" #us "Z\","

static void
say(void *f, int dir, int us, const char *s)
{
	ftp_analyser.data(f, dir, T(T0, us), (const uint8_t *)s, strlen(s));
}

#define TOOL	"\x7f" "ELF toolkit bytes\n"

/* Control connection 3 (honeypot 10.0.0.5:40000 -> 203.0.113.80:21),
 * PASV data connection 4 to 203.0.113.80:50000 (195*256+80). */
static void
test_pasv_retr(void **state)
{
	struct session_info si, di;
	struct session *s;
	struct ftp_links_stats st;
	char want[4096];
	void *f;

	(void)state;
	lt_conn(&si, 3, 40000, 21);
	f = ftp_analyser.open(ly, &si);
	assert_non_null(f);
	say(f, 1, 1, "220-Welcome\r\n220 ready\r\n");
	say(f, 0, 2, "USER anonymous\r\n");
	say(f, 1, 3, "331 Please specify the password.\r\n");
	say(f, 0, 4, "PASS s3cret\r\n");
	say(f, 1, 5, "230 Login successful.\r\n");
	say(f, 0, 6, "PASV\r\n");
	say(f, 1, 7, "227 Entering Passive Mode (203,0,113,80,195,80).\r\n");
	say(f, 0, 8, "RETR tool\xfc.bin\r\n");
	/* The data connection's first bytes open its session: claimed. */
	lt_conn(&di, 4, 40001, 50000);
	di.start = T(T0, 9);
	s = session_open(ly, &di);
	assert_non_null(s);
	session_data(s, 1, T(T0, 9), (const uint8_t *)TOOL, 10);
	say(f, 1, 9, "150 Opening BINARY mode data connection.\r\n");
	session_data(s, 1, T(T0, 9), (const uint8_t *)TOOL + 10, strlen(TOOL) - 10);
	session_close(s, T(T0, 9));
	say(f, 1, 9, "226 Transfer complete.\r\n");
	say(f, 0, 9, "QUIT\r\n");
	ftp_analyser.close(f, T(T0 + 1, 0));
	lt_check_carved(lt_hex(TOOL, strlen(TOOL)), TOOL, strlen(TOOL));
	lt_check_file(DAYDIR "/ftp.jsonl",
	    TS(1) CTRL "\"command\":null,\"reply\":220,\"reply_text\":\"Welcome\"}\n"
	    TS(2) CTRL "\"user\":\"anonymous\",\"command\":\"USER\",\"arg\":\"anonymous\","
	    "\"reply\":331,\"reply_text\":\"Please specify the password.\"}\n"
	    TS(4) CTRL "\"user\":\"anonymous\",\"command\":\"PASS\",\"arg\":\"s3cret\","
	    "\"reply\":230,\"reply_text\":\"Login successful.\"}\n"
	    TS(6) CTRL "\"user\":\"anonymous\",\"command\":\"PASV\","
	    "\"reply\":227,\"reply_text\":\"Entering Passive Mode (203,0,113,80,195,80).\"}\n"
	    TS(8) CTRL "\"user\":\"anonymous\",\"command\":\"RETR\",\"arg\":\"tool\\u00fc.bin\","
	    "\"prelim_reply\":150,\"reply\":226,\"reply_text\":\"Transfer complete.\"}\n"
	    "{\"ts\":\"2026-11-26T20:19:23.000009Z\"," CTRL "\"user\":\"anonymous\","
	    "\"command\":\"QUIT\",\"reply\":null}\n");
	snprintf(want, sizeof(want),
	    "{\"ts\":\"2026-11-26T20:19:23.000009Z\",\"end\":\"2026-11-26T20:19:23.000009Z\","
	    "\"conn\":4,\"ctrl_conn\":3,\"proto\":\"ftp\",\"direction\":\"download\","
	    "\"honeypot\":\"10.0.0.5\",\"src\":\"203.0.113.80\",\"sport\":50000,"
	    "\"dst\":\"10.0.0.5\",\"dport\":40001,\"name\":\"tool\\u00fc.bin\",\"size\":%zu,"
	    "\"sha256\":\"%s\",\"mime\":\"application/octet-stream\",\"complete\":true}\n",
	    strlen(TOOL), lt_hex(TOOL, strlen(TOOL)));
	lt_check_file(DAYDIR "/files.jsonl", want);
	/* The session index calls it ftp-data. */
	{
		char *idx = lt_slurp(DAYDIR "/sessions.jsonl", NULL);

		assert_non_null(idx);
		assert_non_null(strstr(idx, "\"id\":4,"));
		assert_non_null(strstr(idx, "\"protocol\":\"ftp-data\""));
		free(idx);
	}
	ftp_links_stats(ly->ftp, &st);
	assert_int_equal(st.registered, 1);
	assert_int_equal(st.claimed, 1);
	assert_int_equal(st.bounces, 0);
	/* Used up: the same endpoints again are not claimed. */
	assert_null(ftp_data_claim(ly, &di));
}

static void
test_epsv_stor_port(void **state)
{
	struct session_info si, di;
	struct ftp_links_stats st;
	void *f, *d;
	char *rec;

	(void)state;
	lt_conn(&si, 3, 40000, 21);
	f = ftp_analyser.open(ly, &si);
	say(f, 1, 1, "220 ready\r\n");
	say(f, 0, 2, "EPSV\r\nSTOR up.txt\r\n");
	say(f, 1, 3, "229 Entering Extended Passive Mode (|||6446|)\r\n");
	lt_conn(&di, 5, 40002, 6446);
	d = ftp_data_claim(ly, &di);
	assert_non_null(d);
	ftp_data_analyser.data(d, 0, T(T0, 4), (const uint8_t *)"uploaded\n", 9);
	ftp_data_analyser.close(d, T(T0, 5));
	/* PORT to the client itself: the server will connect from port 20. */
	say(f, 0, 6, "PORT 10,0,0,5,4,1\r\nRETR a\r\n");
	say(f, 1, 7, "200 PORT ok\r\n");
	memset(&di, 0, sizeof(di));
	di.conn_id = 6;
	lt_v4(&di.key.src, 203, 0, 113, 80);
	lt_v4(&di.key.dst, 10, 0, 0, 5);
	di.key.sport = 20;
	di.key.dport = 4 * 256 + 1;
	di.start = T(T0, 8);
	di.honeypot = di.key.dst;
	d = ftp_data_claim(ly, &di);
	assert_non_null(d);
	ftp_data_analyser.data(d, 0, T(T0, 8), (const uint8_t *)"port data", 9);
	ftp_data_analyser.gap(d, 0, T(T0, 8), 100);
	ftp_data_analyser.data(d, 0, T(T0, 8), (const uint8_t *)"lost", 4);
	ftp_data_analyser.close(d, T(T0, 9));
	ftp_analyser.close(f, T(T0, 10));
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"conn\":5,\"ctrl_conn\":3,\"proto\":\"ftp\","
	    "\"direction\":\"upload\",\"honeypot\":\"10.0.0.5\",\"src\":\"10.0.0.5\","
	    "\"sport\":40002,\"dst\":\"203.0.113.80\",\"dport\":6446,\"name\":\"up.txt\","
	    "\"size\":9,"));
	assert_non_null(strstr(rec, "\"conn\":6,\"ctrl_conn\":3,\"proto\":\"ftp\","
	    "\"direction\":\"download\",\"honeypot\":\"10.0.0.5\",\"src\":\"203.0.113.80\","
	    "\"sport\":20,\"dst\":\"10.0.0.5\",\"dport\":1025,\"name\":\"a\",\"size\":9,"));
	assert_non_null(strstr(rec, "\"complete\":false,\"truncated\":\"gap\"}\n"));
	free(rec);
	lt_check_carved(lt_hex("uploaded\n", 9), "uploaded\n", 9);
	lt_check_carved(lt_hex("port data", 9), "port data", 9);
	ftp_links_stats(ly->ftp, &st);
	assert_int_equal(st.registered, 2);
	assert_int_equal(st.claimed, 2);
	assert_int_equal(st.bounces, 0);
	assert_null(lt_slurp(DAYDIR "/alerts.jsonl", NULL));
}

static void
test_bounce(void **state)
{
	struct session_info si;
	struct ftp_links_stats st;
	void *f;
	char *al;

	(void)state;
	lt_conn(&si, 3, 40000, 21);
	f = ftp_analyser.open(ly, &si);
	say(f, 1, 1, "220 ready\r\n");
	say(f, 0, 2, "USER a\r\nPORT 192,0,2,25,0,25\r\nEPRT |2|2001:db8::1|25|\r\n"
	    "EPRT |1|10.0.0.5|2000|\r\n");
	say(f, 1, 3, "331 ok\r\n200 ok\r\n200 ok\r\n200 ok\r\n");
	ftp_analyser.close(f, T(T0, 4));
	ftp_links_stats(ly->ftp, &st);
	assert_int_equal(st.bounces, 2);
	assert_int_equal(st.registered, 3);
	al = lt_slurp(DAYDIR "/alerts.jsonl", NULL);
	assert_non_null(al);
	assert_non_null(strstr(al, "\"type\":\"ftp-bounce\""));
	assert_non_null(strstr(al, "FTP bounce: client 10.0.0.5 asked the server "
	    "203.0.113.80 to connect to a third host 192.0.2.25 port 25"));
	assert_non_null(strstr(al, "\"ctrl_conn\":3,\"target\":\"192.0.2.25\",\"target_port\":25"));
	assert_non_null(strstr(al, "\"target\":\"2001:db8::1\",\"target_port\":25"));
	assert_null(strstr(al, "2000"));
	free(al);
}

static void
test_limits(void **state)
{
	struct session_info si, di;
	struct ftp_links_stats st;
	static char longl[5000];
	char *rec;
	void *f;
	int i;

	(void)state;
	lt_conn(&si, 3, 40000, 21);
	f = ftp_analyser.open(ly, &si);
	say(f, 1, 1, "220 ready\r\n");
	memset(longl, 'x', sizeof(longl) - 3);
	memcpy(longl, "SITE ", 5);
	strcpy(longl + sizeof(longl) - 3, "\r\n");
	say(f, 0, 2, longl);
	say(f, 1, 3, "500 no\r\n");
	/* More PASV replies than the table holds: the oldest give way. */
	for (i = 0; i < FTP_LINKS_MAX + 10; i++) {
		char r[80];

		snprintf(r, sizeof(r), "227 ok (203,0,113,80,%d,%d)\r\n", 100 + i / 256, i % 256);
		say(f, 1, 4, r);
	}
	ftp_analyser.close(f, T(T0, 5));
	ftp_links_stats(ly->ftp, &st);
	assert_int_equal(st.long_lines, 1);
	assert_int_equal(st.registered, FTP_LINKS_MAX + 10);
	assert_int_equal(st.replaced, 10);
	rec = lt_slurp(DAYDIR "/ftp.jsonl", NULL);
	assert_non_null(strstr(rec, "\"command\":\"SITE\",\"arg\":\"xxx"));
	assert_non_null(strstr(rec, "\"command_cut\":true,\"reply\":500,"));
	free(rec);
	/* Port 100*256+5 gave way; 100*256+20 is there until it expires. */
	lt_conn(&di, 9, 40009, 100 * 256 + 5);
	assert_null(ftp_data_claim(ly, &di));
	lt_conn(&di, 9, 40009, 100 * 256 + 20);
	di.start = T(T0, 0) + FTP_LINK_TTL + 5000;
	assert_null(ftp_data_claim(ly, &di));
	ftp_links_stats(ly->ftp, &st);
	assert_int_equal(st.expired, FTP_LINKS_MAX);
	/* A connection nobody announced is left to content detection. */
	lt_conn(&di, 10, 40010, 21);
	assert_null(ftp_data_claim(ly, &di));
}

/* The data can arrive before the RETR/LIST line (a line is delivered once
 * acknowledged, the data connection may come first): named at its end;
 * a listing is then dropped. */
static void
test_late_command(void **state)
{
	struct session_info si, di;
	void *f, *d1, *d2;
	char *rec;

	(void)state;
	lt_conn(&si, 3, 40000, 21);
	f = ftp_analyser.open(ly, &si);
	say(f, 1, 1, "220 ready\r\n");
	say(f, 0, 2, "PASV\r\n");
	say(f, 1, 3, "227 ok (203,0,113,80,1,2)\r\n");
	lt_conn(&di, 4, 40001, 258);
	d1 = ftp_data_claim(ly, &di);
	assert_non_null(d1);
	ftp_data_analyser.data(d1, 1, T(T0, 4), (const uint8_t *)"late data", 9);
	say(f, 0, 5, "RETR late.bin\r\n");
	say(f, 0, 6, "PASV\r\n");
	say(f, 1, 7, "150 go\r\n226 ok\r\n227 ok (203,0,113,80,1,3)\r\n");
	lt_conn(&di, 5, 40002, 259);
	d2 = ftp_data_claim(ly, &di);
	assert_non_null(d2);
	ftp_data_analyser.data(d2, 1, T(T0, 8), (const uint8_t *)"-rw-r--r-- x\r\n", 14);
	say(f, 0, 9, "LIST\r\n");
	/* The second RETR must not rename the first data connection's file. */
	say(f, 0, 9, "PASV\r\nRETR other\r\n");
	ftp_data_analyser.close(d2, T(T0, 10));
	ftp_data_analyser.close(d1, T(T0, 10));
	ftp_analyser.close(f, T(T0, 11));
	rec = lt_slurp(DAYDIR "/files.jsonl", NULL);
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"conn\":4,\"ctrl_conn\":3,"));
	assert_non_null(strstr(rec, "\"name\":\"late.bin\",\"size\":9,"));
	assert_null(strstr(rec, "\"conn\":5,"));
	free(rec);
	lt_check_carved(lt_hex("late data", 9), "late data", 9);
	assert_int_equal(lt_count_files(), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test_setup_teardown(test_pasv_retr, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_epsv_stor_port, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_bounce, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_limits, lt_setup, lt_teardown),
		cmocka_unit_test_setup_teardown(test_late_command, lt_setup, lt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
