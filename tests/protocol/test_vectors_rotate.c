/* SPDX-License-Identifier: MIT */
/*
 * docs/vectors/rotate.json, recomputed: the rotation proof's message
 * (rotation_proof_message), the bytes signed, the proof by the new key
 * (Strata's key code, checked again by libsodium), the Rotation record
 * (accepted by record_check, which verifies the proof) and the Rotate frame.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "vector_file.h"

static void public_of(const json_t *v, const char *seed_field, const char *key_field, uint8_t pk[KEY_BYTES])
{
	uint8_t seed[SEED_BYTES], sk[2 * KEY_BYTES];

	vf_hex_n(v, seed_field, seed, SEED_BYTES);
	crypto_sign_seed_keypair(pk, sk, seed);
	vf_assert_hex(v, key_field, pk, KEY_BYTES);
	sodium_memzero(sk, sizeof sk);
}

static void check_messages(const json_t *v, const uint8_t issuer[KEY_BYTES], const uint8_t old[KEY_BYTES],
			   const uint8_t new_key[KEY_BYTES], const uint8_t proof[SIG_BYTES])
{
	Strata__Rotation r = STRATA__ROTATION__INIT;
	Strata__Rotate rot = STRATA__ROTATE__INIT;
	Strata__Frame f = STRATA__FRAME__INIT;
	struct err e = {{0}};
	uint8_t *packed;
	size_t len;

	r.old_key = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)old};
	r.new_key = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)new_key};
	r.issuer = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)issuer};
	r.proof = (ProtobufCBinaryData){SIG_BYTES, (uint8_t *)proof};
	r.rotated_ms = vf_u64(v, "rotated_ms");
	cr_assert((packed = malloc(strata__rotation__get_packed_size(&r))));
	len = strata__rotation__pack(&r, packed);
	vf_assert_hex(v, "rotation_record", packed, len);
	/* a receiver's check of the record, the proof included */
	cr_assert_eq(record_check("rotation", FEED_TRUST, new_key, KEY_BYTES, packed, len, &e), 0, "%s", e.msg);
	free(packed);
	rot.key = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)new_key};
	rot.proof = (ProtobufCBinaryData){SIG_BYTES, (uint8_t *)proof};
	cr_assert((packed = malloc(strata__rotate__get_packed_size(&rot))));
	len = strata__rotate__pack(&rot, packed);
	vf_assert_hex(v, "rotate", packed, len);
	free(packed);
	f.msg_case = STRATA__FRAME__MSG_ROTATE;
	f.rotate = &rot;
	cr_assert((packed = malloc(strata__frame__get_packed_size(&f))));
	len = strata__frame__pack(&f, packed);
	vf_assert_hex(v, "frame", packed, len);
	free(packed);
}

Test(vectors_rotate, proof)
{
	json_t *doc = vf_load("rotate");
	const json_t *v = vf_vector(doc, "rotation");
	uint8_t issuer[KEY_BYTES], old[KEY_BYTES], new_key[KEY_BYTES], seed[SEED_BYTES];
	uint8_t m[ROTATION_PROOF_MSG_BYTES], signed_msg[sizeof DOMAIN_ROTATE + ROTATION_PROOF_MSG_BYTES], proof[SIG_BYTES];
	struct keypair *kp = NULL;
	struct err e = {{0}};

	cr_assert_eq(keys_init(), 0);
	public_of(v, "issuer_seed", "issuer", issuer);
	public_of(v, "old_seed", "old_key", old);
	public_of(v, "new_seed", "new_key", new_key);
	rotation_proof_message(m, issuer, old, new_key);
	vf_assert_hex(v, "proof_message", m, sizeof m);
	memcpy(signed_msg, DOMAIN_ROTATE, sizeof DOMAIN_ROTATE); /* with its NUL */
	memcpy(signed_msg + sizeof DOMAIN_ROTATE, m, sizeof m);
	vf_assert_hex(v, "signed_message", signed_msg, sizeof signed_msg);
	vf_hex_n(v, "new_seed", seed, SEED_BYTES);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	cr_assert_eq(keypair_sign(kp, DOMAIN_ROTATE, m, sizeof m, proof), 0);
	vf_assert_hex(v, "proof", proof, SIG_BYTES);
	cr_assert_eq(crypto_sign_verify_detached(proof, signed_msg, sizeof signed_msg, new_key), 0);
	check_messages(v, issuer, old, new_key, proof);
	keypair_destroy(&kp);
	json_decref(doc);
}
