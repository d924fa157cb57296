/* Unit tests of util: JSON escaping of hostile strings, day names, midnight. */
#include <stdio.h>

#include "testutil.h"
#include "util.h"

static void
test_json_escapes_hostile_bytes(void **state)
{
	struct jbuf jb;
	const char evil[] = "a\"b\\c\n\x01\xff\xc3\xa9</script>";

	(void)state;
	jb_init(&jb);
	jb_begin(&jb);
	jb_strn(&jb, "t", evil, sizeof(evil) - 1);
	jb_u64(&jb, "n", 42);
	jb_end(&jb);
	assert_string_equal(jb.p,
	    "{\"t\":\"a\\\"b\\\\c\\n\\u0001\\u00ff\xc3\xa9</script>\",\"n\":42}\n");
	jb_free(&jb);
}

/* One byte as the escaper must write it when it stands alone among ASCII. */
static size_t
ref_escape(unsigned char c, char *o)
{
	if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
		o[0] = (char)c;
		return 1;
	}
	if (c == '"' || c == '\\')
		return (size_t)sprintf(o, "\\%c", c);
	if (c == '\n')
		return (size_t)sprintf(o, "\\n");
	if (c == '\r')
		return (size_t)sprintf(o, "\\r");
	if (c == '\t')
		return (size_t)sprintf(o, "\\t");
	return (size_t)sprintf(o, "\\u%04x", c);
}

/* Strings are checked 8 bytes at a time: every byte value at every place
 * of a word, and a UTF-8 sequence across a word boundary. */
static void
test_json_escapes_every_byte_everywhere(void **state)
{
	char in[20], want[64];
	struct jbuf jb;

	(void)state;
	jb_init(&jb);
	for (int c = 0; c < 256; c++) {
		for (size_t at = 0; at < sizeof(in); at++) {
			size_t w = 0;

			memset(in, 'a', sizeof(in));
			in[at] = (char)c;
			want[w++] = '"';
			for (size_t i = 0; i < sizeof(in); i++)
				w += ref_escape((unsigned char)in[i], want + w);
			want[w++] = '"';
			want[w] = '\0';
			jb_reset(&jb);
			jb_strn(&jb, NULL, in, sizeof(in));
			assert_string_equal(jb.p, want);
		}
	}
	jb_reset(&jb);
	jb_strn(&jb, NULL, "abcdefg\xc3\xa9hijklmnop\xe2\x82", 20);
	assert_string_equal(jb.p, "\"abcdefg\xc3\xa9hijklmnop\\u00e2\\u0082\"");
	jb_free(&jb);
}

static void
test_json_nested(void **state)
{
	struct jbuf jb;

	(void)state;
	jb_init(&jb);
	jb_begin(&jb);
	jb_obj_begin(&jb, "o");
	jb_bool(&jb, "b", true);
	jb_obj_end(&jb);
	jb_arr_begin(&jb, "a");
	jb_i64(&jb, NULL, -1);
	jb_str(&jb, NULL, "x");
	jb_arr_end(&jb);
	jb_end(&jb);
	assert_string_equal(jb.p, "{\"o\":{\"b\":true},\"a\":[-1,\"x\"]}\n");
	jb_free(&jb);
}

static void
test_time_day_and_midnight(void **state)
{
	char d[11], iso[32];
	fb_ns t = 1795724363LL * FB_NS_PER_SEC + 123456789;	/* 2026-11-26T20:19:23Z */

	(void)state;
	time_day(t, d);
	assert_string_equal(d, "2026-11-26");
	time_iso(t, iso);
	assert_string_equal(iso, "2026-11-26T20:19:23.123456Z");
	assert_int_equal(time_next_midnight(t), 1795737600LL * FB_NS_PER_SEC);
	time_day(time_next_midnight(t), d);
	assert_string_equal(d, "2026-11-27");
}

/* The cursor's numbers and times are the members' (jb_u64, time_iso). */
static void
test_cursor_numbers_and_times(void **state)
{
	static const uint64_t v[] = { 0, 7, 9, 10, 42, 99, 100, 999, 1000, 9999,
	    10000, 65535, 99999, 100000, 1234567, 4294967296ULL,
	    10000000000000000000ULL, UINT64_MAX };
	static const fb_ns t[] = { -5, 0, 999, 1000, 1795724363LL * FB_NS_PER_SEC,
	    1795724363LL * FB_NS_PER_SEC + 9999, 1795724363LL * FB_NS_PER_SEC + 999999999 };
	struct jbuf a, b;
	char iso[32];

	(void)state;
	jb_init(&a);
	jb_init(&b);
	for (size_t i = 0; i < nitems(v); i++) {
		char *o;

		jb_reset(&a);
		jb_begin(&a);
		jb_u64(&a, "n", v[i]);
		jb_end(&a);
		jb_reset(&b);
		o = jb_put_lit(jb_room(&b, 64), "{\"n\":");
		o = jb_put_lit(jb_put_u64(o, v[i]), "}\n");
		jb_commit(&b, o);
		assert_string_equal(a.p, b.p);
		assert_int_equal(a.len, b.len);
	}
	for (size_t i = 0; i < nitems(t); i++) {
		char *o;

		time_iso(t[i], iso);
		jb_reset(&b);
		o = jb_put_time(jb_room(&b, 64), t[i]);
		jb_commit(&b, o);
		assert_string_equal(iso, b.p);
	}
	time_iso(1795724363LL * FB_NS_PER_SEC + 9999, iso);
	assert_string_equal(iso, "2026-11-26T20:19:23.000009Z");
	time_iso(-5, iso);
	assert_string_equal(iso, "1970-01-01T00:00:00.000000Z");
	jb_free(&a);
	jb_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_escapes_hostile_bytes),
		cmocka_unit_test(test_json_escapes_every_byte_everywhere),
		cmocka_unit_test(test_json_nested),
		cmocka_unit_test(test_time_day_and_midnight),
		cmocka_unit_test(test_cursor_numbers_and_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
