/*
 * sha256: incremental SHA-256 over OpenSSL's libcrypto (EVP), for carved
 * files, transcripts' binary summaries and anything else that names bytes
 * by their hash.
 *
 * Promises: sha256_init either succeeds or leaves the context unusable and
 * says so (-1); update and final on such a context are harmless no-ops, and
 * final then yields the all-zero digest; final releases the context, so a
 * context that was finalised or never initialised needs no cleanup.
 */
#ifndef FB_SHA256_H
#define FB_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN	32
#define SHA256_HEXLEN	65	/* 64 hex digits and a NUL */

struct sha256 {
	void	*ctx;		/* EVP_MD_CTX, NULL when unusable or finished */
};

int	 sha256_init(struct sha256 *);
void	 sha256_update(struct sha256 *, const void *p, size_t n);
void	 sha256_final(struct sha256 *, uint8_t out[SHA256_LEN]);
/* Frees an unfinished context (abandoned hashes). */
void	 sha256_abort(struct sha256 *);
/* One-shot digest of p[0..n). */
void	 sha256_buf(const void *p, size_t n, uint8_t out[SHA256_LEN]);
/* Lower-case hex of a digest. */
void	 sha256_hex(const uint8_t d[SHA256_LEN], char out[SHA256_HEXLEN]);

#endif
