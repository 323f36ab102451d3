/* SPDX-License-Identifier: MIT */
/* The key pair's layout, shared by the files of crypto/ only. */
#ifndef STRATA_KEYS_INTERNAL_H
#define STRATA_KEYS_INTERNAL_H

#include <sodium.h>

struct keypair {
	uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	uint8_t *sk; /* crypto_sign_ed25519_SECRETKEYBYTES of sodium_malloc'd memory */
};

/* The seed (the first half of the Ed25519 secret key), for key files. */
const uint8_t *keypair_seed_internal(const struct keypair *kp);

#endif
