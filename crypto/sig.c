/* SPDX-License-Identifier: MIT */
/*
 * Ed25519 signatures over DOMAIN NUL MESSAGE. The domain keeps a signature
 * made for one message type from ever verifying as another. Small messages
 * are prefixed on the stack; large ones in one heap copy.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/keys_internal.h"

enum { STACK_MSG = 2048 };

/* Builds DOMAIN NUL MSG in buf (if it fits) or in a fresh heap buffer. */
static uint8_t *prefixed(uint8_t *buf, size_t cap, const char *domain, const uint8_t *msg,
			 size_t len, size_t *out_len)
{
	size_t dlen = strlen(domain) + 1;
	uint8_t *p = buf;

	if (len > SIZE_MAX - dlen)
		return NULL;
	if (dlen + len > cap && !(p = malloc(dlen + len)))
		return NULL;
	memcpy(p, domain, dlen);
	if (len)
		memcpy(p + dlen, msg, len);
	*out_len = dlen + len;
	return p;
}

int keypair_sign(const struct keypair *kp, const char *domain, const uint8_t *msg, size_t len,
		 uint8_t sig[SIG_BYTES])
{
	uint8_t stack[STACK_MSG];
	size_t n = 0;
	uint8_t *m = prefixed(stack, sizeof stack, domain, msg, len, &n);

	if (!m)
		return -ENOMEM;
	crypto_sign_ed25519_detached(sig, NULL, m, n, kp->sk);
	if (m != stack)
		free(m);
	return 0;
}

int sig_verify(const uint8_t pk[KEY_BYTES], const char *domain, const uint8_t *msg, size_t len,
	       const uint8_t sig[SIG_BYTES])
{
	uint8_t stack[STACK_MSG];
	size_t n = 0;
	uint8_t *m = prefixed(stack, sizeof stack, domain, msg, len, &n);
	int rc;

	if (!m)
		return -ENOMEM;
	rc = crypto_sign_ed25519_verify_detached(sig, m, n, pk);
	if (m != stack)
		free(m);
	return rc == 0 ? 0 : -EBADMSG;
}

int keypair_sign_raw(const struct keypair *kp, const uint8_t *msg, size_t len, uint8_t sig[SIG_BYTES])
{
	crypto_sign_ed25519_detached(sig, NULL, msg, len, kp->sk);
	return 0;
}

int sig_verify_raw(const uint8_t pk[KEY_BYTES], const uint8_t *msg, size_t len, const uint8_t sig[SIG_BYTES])
{
	return crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0 ? 0 : -EBADMSG;
}

int key_to_curve(uint8_t curve_pk[KEY_BYTES], const uint8_t pk[KEY_BYTES])
{
	return crypto_sign_ed25519_pk_to_curve25519(curve_pk, pk) == 0 ? 0 : -EINVAL;
}
