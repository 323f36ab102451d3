/* SPDX-License-Identifier: MIT */
/*
 * BLAKE2b-256: entry hashes (the chain) and value hashes.
 */
#include <sodium.h>

#include "crypto/crypto.h"

void hash_blake2b(uint8_t out[HASH_BYTES], const uint8_t *in, size_t len)
{
	crypto_generichash(out, HASH_BYTES, in, len, NULL, 0);
}
