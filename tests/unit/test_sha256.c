/*
 * Unit tests of sha256: the FIPS 180-2 vectors, incremental updates split at
 * every offset equal to the one-shot digest, and unusable contexts.
 */
#include "testutil.h"
#include "sha256.h"

static void
hex_of(const void *p, size_t n, char out[SHA256_HEXLEN])
{
	uint8_t d[SHA256_LEN];

	sha256_buf(p, n, d);
	sha256_hex(d, out);
}

static void
test_vectors(void **state)
{
	char hex[SHA256_HEXLEN];

	(void)state;
	hex_of("", 0, hex);
	assert_string_equal(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_incremental(void **state)
{
	uint8_t buf[300], one[SHA256_LEN], inc[SHA256_LEN];
	struct sha256 h;
	size_t i, cut;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	sha256_buf(buf, sizeof(buf), one);
	for (cut = 0; cut <= sizeof(buf); cut++) {
		assert_int_equal(sha256_init(&h), 0);
		sha256_update(&h, buf, cut);
		sha256_update(&h, buf + cut, sizeof(buf) - cut);
		sha256_final(&h, inc);
		assert_null(h.ctx);
		assert_memory_equal(one, inc, SHA256_LEN);
	}
}

static void
test_unusable(void **state)
{
	struct sha256 h = { NULL };
	uint8_t d[SHA256_LEN], zero[SHA256_LEN] = { 0 };

	(void)state;
	sha256_update(&h, "x", 1);
	sha256_final(&h, d);
	assert_memory_equal(d, zero, SHA256_LEN);
	assert_int_equal(sha256_init(&h), 0);
	sha256_update(&h, "x", 1);
	sha256_abort(&h);
	assert_null(h.ctx);
	sha256_abort(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_unusable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
