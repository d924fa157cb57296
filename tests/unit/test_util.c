/* Unit tests of util: JSON escaping of hostile strings, day names, midnight. */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_escapes_hostile_bytes),
		cmocka_unit_test(test_json_nested),
		cmocka_unit_test(test_time_day_and_midnight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
