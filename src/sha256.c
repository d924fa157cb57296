/*
 * sha256: a thin wrapper over libcrypto's EVP interface (the low-level
 * SHA256_* calls are deprecated in OpenSSL 3).
 */
#include <string.h>

#include <openssl/evp.h>

#include "sha256.h"

int
sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	h->ctx = NULL;
	if (c == NULL)
		return -1;
	if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		return -1;
	}
	h->ctx = c;
	return 0;
}

void
sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (h->ctx != NULL && n > 0)
		EVP_DigestUpdate(h->ctx, p, n);
}

void
sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	memset(out, 0, SHA256_LEN);
	if (h->ctx == NULL)
		return;
	if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != SHA256_LEN)
		memset(out, 0, SHA256_LEN);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void
sha256_abort(struct sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void
sha256_buf(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	struct sha256 h;

	if (sha256_init(&h) != 0) {
		memset(out, 0, SHA256_LEN);
		return;
	}
	sha256_update(&h, p, n);
	sha256_final(&h, out);
}

void
sha256_hex(const uint8_t d[SHA256_LEN], char out[SHA256_HEXLEN])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
