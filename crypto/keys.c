/* SPDX-License-Identifier: MIT */
/*
 * Node key pairs. The secret half lives in sodium_malloc'd memory (guarded,
 * locked, never swapped) and is wiped when the key pair is destroyed.
 */
#include <errno.h>
#include <stdlib.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "crypto/keys_internal.h"

int keys_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static struct keypair *keypair_alloc(void)
{
	struct keypair *kp = calloc(1, sizeof *kp);

	if (!kp)
		return NULL;
	kp->sk = sodium_malloc(crypto_sign_ed25519_SECRETKEYBYTES);
	if (!kp->sk) {
		free(kp);
		return NULL;
	}
	return kp;
}

int keypair_from_seed(struct keypair **out, const uint8_t seed[SEED_BYTES], struct err *e)
{
	struct keypair *kp;

	if (keys_init() < 0) {
		err_set(e, "libsodium could not start");
		return -EIO;
	}
	if (!(kp = keypair_alloc())) {
		err_set(e, "out of memory for a key pair");
		return -ENOMEM;
	}
	crypto_sign_ed25519_seed_keypair(kp->pk, kp->sk, seed);
	*out = kp;
	return 0;
}

int keypair_generate(struct keypair **out, struct err *e)
{
	uint8_t *seed;
	int ret;

	if (keys_init() < 0) {
		err_set(e, "libsodium could not start");
		return -EIO;
	}
	if (!(seed = sodium_malloc(SEED_BYTES))) {
		err_set(e, "out of memory for a key pair");
		return -ENOMEM;
	}
	randombytes_buf(seed, SEED_BYTES);
	ret = keypair_from_seed(out, seed, e);
	sodium_free(seed); /* wipes */
	return ret;
}

void keypair_destroy(struct keypair **kp)
{
	if (!kp || !*kp)
		return;
	sodium_free((*kp)->sk); /* zeroes before unmapping */
	free(*kp);
	*kp = NULL;
}

const uint8_t *keypair_public(const struct keypair *kp)
{
	return kp->pk;
}

/* The Ed25519 secret key's first half is its seed. */
const uint8_t *keypair_seed_internal(const struct keypair *kp)
{
	return kp->sk;
}

int keypair_curve(const struct keypair *kp, uint8_t curve_pk[KEY_BYTES], uint8_t curve_sk[KEY_BYTES])
{
	if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, kp->pk) != 0)
		return -EINVAL;
	return crypto_sign_ed25519_sk_to_curve25519(curve_sk, kp->sk) == 0 ? 0 : -EINVAL;
}
