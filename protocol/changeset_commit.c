/* SPDX-License-Identifier: MIT */
/*
 * Value commitments. A put's signed body commits to its value without
 * holding it, so that the value can be erased while every signature and
 * chain still verifies. Since issue 15 the commitment is salted
 * (Op.value_commit: BLAKE2b-256 keyed with a random 32-byte salt that
 * travels beside the value in Value.salt and is erased with it): once the
 * value and its salt are gone, nobody holding the body can confirm a
 * guessed value. Puts written before keep their plain BLAKE2b-256
 * (Op.value_hash), which is signed and cannot change: a guess at their
 * value can still be confirmed (docs/PROTOCOL.md, "Erasure").
 */
#include <sodium.h>
#include <string.h>

#include "protocol/protocol.h"

void changeset_value_commit(uint8_t out[HASH_BYTES], const uint8_t salt[SALT_BYTES], const uint8_t *value,
			    size_t len)
{
	/* 32-byte key and output are within libsodium's bounds: cannot fail */
	(void)crypto_generichash(out, HASH_BYTES, value, len, salt, SALT_BYTES);
}

bool changeset_value_matches(const struct op *op, const uint8_t *value, size_t len, const uint8_t *salt)
{
	uint8_t h[HASH_BYTES];

	if (op->kind != OP_PUT)
		return false;
	if (op->salted) {
		if (!salt)
			return false;
		changeset_value_commit(h, salt, value, len);
	} else {
		hash_blake2b(h, value, len);
	}
	/* nothing secret is compared (both hashes are of what the caller
	 * holds): plain memcmp, which is faster than sodium_memcmp */
	return memcmp(h, op->value_hash, HASH_BYTES) == 0;
}
