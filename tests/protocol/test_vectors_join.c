/* SPDX-License-Identifier: MIT */
/*
 * docs/vectors/join.json, recomputed: the JoinToken's bytes and text (the
 * text read back by Strata's own parser, sync_token_parse), the throwaway
 * CURVE pair its secret gives, and the join proof: its message, the bytes
 * signed, the signature by Strata's key code and by libsodium, and the Join
 * frame a child sends.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/sync/sync_internal.h"
#include "vector_file.h"

#define TOKEN_PREFIX_TEXT "strata-join:"
#define TEXT_FIELD_MAX 256

static uint8_t *pack_token(const json_t *v, size_t *len)
{
	Strata__JoinToken tok = STRATA__JOIN_TOKEN__INIT;
	uint8_t parent[KEY_BYTES], root[KEY_BYTES], secret[SEED_BYTES], *out;
	char endpoint[TEXT_FIELD_MAX], name[TEXT_FIELD_MAX];

	vf_hex_n(v, "parent", parent, KEY_BYTES);
	vf_hex_n(v, "root", root, KEY_BYTES);
	vf_hex_n(v, "secret", secret, SEED_BYTES);
	snprintf(endpoint, sizeof endpoint, "%s", vf_str(v, "endpoint"));
	snprintf(name, sizeof name, "%s", vf_str(v, "org_path"));
	tok.endpoint = endpoint;
	tok.parent = (ProtobufCBinaryData){KEY_BYTES, parent};
	tok.root = (ProtobufCBinaryData){KEY_BYTES, root};
	tok.secret = (ProtobufCBinaryData){SEED_BYTES, secret};
	tok.expires_ms = vf_u64(v, "expires_ms");
	tok.name = name;
	tok.role = (Strata__Role)vf_u64(v, "role");
	*len = strata__join_token__get_packed_size(&tok);
	cr_assert((out = malloc(*len)));
	strata__join_token__pack(&tok, out);
	return out;
}

Test(vectors_join, token)
{
	json_t *doc = vf_load("join");
	const json_t *v = vf_vector(doc, "token");
	uint8_t seed[SEED_BYTES], pk[KEY_BYTES], sk[2 * KEY_BYTES], *raw, cpk[KEY_BYTES], csk[KEY_BYTES];
	size_t len, b64;
	char *text;
	Strata__JoinToken *tok = NULL;
	struct err e = {{0}};

	cr_assert_eq(keys_init(), 0);
	vf_hex_n(v, "parent_seed", seed, SEED_BYTES);
	crypto_sign_seed_keypair(pk, sk, seed);
	vf_assert_hex(v, "parent", pk, KEY_BYTES);
	vf_hex_n(v, "root_seed", seed, SEED_BYTES);
	crypto_sign_seed_keypair(pk, sk, seed);
	vf_assert_hex(v, "root", pk, KEY_BYTES);
	raw = pack_token(v, &len);
	vf_assert_hex(v, "token", raw, len);
	b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	cr_assert((text = malloc(strlen(TOKEN_PREFIX_TEXT) + b64)));
	strcpy(text, TOKEN_PREFIX_TEXT);
	sodium_bin2base64(text + strlen(TOKEN_PREFIX_TEXT), b64, raw, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	cr_assert_str_eq(text, vf_str(v, "text"));
	/* Strata's parser reads the vector's text back to the same fields */
	cr_assert_eq(sync_token_parse(vf_str(v, "text"), &tok, &e), 0, "%s", e.msg);
	cr_assert_str_eq(tok->endpoint, vf_str(v, "endpoint"));
	cr_assert_str_eq(tok->name, vf_str(v, "org_path"));
	cr_assert_eq(tok->expires_ms, vf_u64(v, "expires_ms"));
	cr_assert_eq((uint64_t)tok->role, vf_u64(v, "role"));
	vf_assert_hex(v, "secret", tok->secret.data, tok->secret.len);
	/* the throwaway CURVE key pair both sides derive from the secret */
	crypto_box_seed_keypair(cpk, csk, tok->secret.data);
	vf_assert_hex(v, "curve_public", cpk, KEY_BYTES);
	vf_assert_hex(v, "curve_secret", csk, KEY_BYTES);
	sodium_memzero(tok->secret.data, tok->secret.len);
	strata__join_token__free_unpacked(tok, NULL);
	free(text);
	free(raw);
	json_decref(doc);
}

Test(vectors_join, proof)
{
	json_t *doc = vf_load("join");
	const json_t *v = vf_vector(doc, "proof");
	uint8_t seed[SEED_BYTES], parent[KEY_BYTES], sig[SIG_BYTES], *msg, *signed_msg, *packed;
	const char *name = vf_str(v, "org_path");
	size_t nl = strlen(name), ml = 2 * KEY_BYTES + nl, dl = strlen(DOMAIN_JOIN) + 1, len;
	struct keypair *kp = NULL;
	struct err e = {{0}};
	Strata__Join j = STRATA__JOIN__INIT;
	Strata__Frame f = STRATA__FRAME__INIT;

	cr_assert_eq(keys_init(), 0);
	vf_hex_n(v, "child_seed", seed, SEED_BYTES);
	vf_hex_n(v, "parent", parent, KEY_BYTES);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	vf_assert_hex(v, "child", keypair_public(kp), KEY_BYTES);
	/* parent key || child key || org path, no separator and no NUL */
	cr_assert((msg = malloc(ml)) && (signed_msg = malloc(dl + ml)));
	memcpy(msg, parent, KEY_BYTES);
	memcpy(msg + KEY_BYTES, keypair_public(kp), KEY_BYTES);
	memcpy(msg + 2 * KEY_BYTES, name, nl);
	vf_assert_hex(v, "proof_message", msg, ml);
	memcpy(signed_msg, DOMAIN_JOIN, dl);
	memcpy(signed_msg + dl, msg, ml);
	vf_assert_hex(v, "signed_message", signed_msg, dl + ml);
	cr_assert_eq(keypair_sign(kp, DOMAIN_JOIN, msg, ml, sig), 0);
	vf_assert_hex(v, "signature", sig, SIG_BYTES);
	cr_assert_eq(sig_verify(keypair_public(kp), DOMAIN_JOIN, msg, ml, sig), 0);
	cr_assert_eq(crypto_sign_verify_detached(sig, signed_msg, dl + ml, keypair_public(kp)), 0);
	j.key = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)keypair_public(kp)};
	j.name = (char *)name;
	j.proof = (ProtobufCBinaryData){SIG_BYTES, sig};
	cr_assert((packed = malloc(strata__join__get_packed_size(&j))));
	len = strata__join__pack(&j, packed);
	vf_assert_hex(v, "join", packed, len);
	free(packed);
	f.msg_case = STRATA__FRAME__MSG_JOIN;
	f.join = &j;
	cr_assert((packed = malloc(strata__frame__get_packed_size(&f))));
	len = strata__frame__pack(&f, packed);
	vf_assert_hex(v, "frame", packed, len);
	free(packed);
	free(msg);
	free(signed_msg);
	keypair_destroy(&kp);
	json_decref(doc);
}
