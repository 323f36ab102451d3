/* SPDX-License-Identifier: MIT */
/*
 * The known-answer vector of docs/PROTOCOL-vectors.md: a change set from a
 * fixed seed must encode to exactly these bytes, and its signature is
 * checked again with libsodium directly, not through crypto/, so the vector
 * stands on its own for anyone writing another implementation.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

#define SEED_HEX "0101010101010101010101010101010101010101010101010101010101010101"
#define PUBLIC_HEX "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
#define BODY_HEX \
	"0a208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f" \
	"6f5c120275701801222000000000000000000000000000000000000000000000" \
	"000000000000000000002880d095ffbc313233080112066d656d6265721a054d" \
	"303030312220324dcf027dd4a30a932c441f365a25e86b173defa4b8e5894825" \
	"3471b81b72cf"
#define SIGNATURE_HEX \
	"8e4fb08cb1e5a3fec117f378094aa72745000f967d758cb5f0041c06a86ba4d0" \
	"7ce5530f734410d4cb41c438499b9ecb5505bf7d98b785829a3e8b7bd0afe401"
#define ENTRY_HASH_HEX "2717966dfd1cbf8c759acc6c0f5a55e3401b9129e991cb0ffbbf0304f434b739"
#define ENVELOPE_HEX \
	"0a86010a208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf37488" \
	"01b40f6f5c120275701801222000000000000000000000000000000000000000" \
	"000000000000000000000000002880d095ffbc313233080112066d656d626572" \
	"1a054d303030312220324dcf027dd4a30a932c441f365a25e86b173defa4b8e5" \
	"8948253471b81b72cf12408e4fb08cb1e5a3fec117f378094aa72745000f967d" \
	"758cb5f0041c06a86ba4d07ce5530f734410d4cb41c438499b9ecb5505bf7d98" \
	"b785829a3e8b7bd0afe4011a090800120568656c6c6f"
#define VALUE_HASH_HEX "324dcf027dd4a30a932c441f365a25e86b173defa4b8e58948253471b81b72cf"

static char *hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	hex_encode(s, p, n);
	return s;
}

Test(protocol_vector, changeset_v1)
{
	uint8_t seed[SEED_BYTES], *env;
	size_t len;
	struct keypair *kp = NULL;
	struct changeset_builder *b = NULL;
	struct changeset *cs = NULL;
	struct err e = {{0}};

	cr_assert_eq(keys_init(), 0);
	memset(seed, 0x01, sizeof seed);
	char *s = hex_of(seed, sizeof seed);
	cr_assert_str_eq(s, SEED_HEX);
	free(s);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	/* the form of puts before salted commitments (value_hash): entries
	 * written so are still valid and still exist (salted: test_vectors_salted.c) */
	changeset_test_salts(NULL, NULL, true);
	cr_assert_eq(changeset_builder_new(&b, "up", 1, NULL, 1700000000000ull, &e), 0, "%s", e.msg);
	changeset_test_salts(NULL, NULL, false);
	cr_assert_eq(changeset_builder_put(b, "member", (const uint8_t *)"M0001", 5, (const uint8_t *)"hello", 5,
					   &e),
		     0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, &len, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);

	char *pk = hex_of(keypair_public(kp), KEY_BYTES);
	char *body = hex_of(cs->body, cs->body_len);
	char *sig = hex_of(cs->signature, SIG_BYTES);
	char *hash = hex_of(cs->hash, HASH_BYTES);
	char *vhash = hex_of(cs->ops[0].value_hash, HASH_BYTES);
	char *envh = hex_of(env, len);
	cr_log_info("public %s\nbody %s\nsignature %s\nentry hash %s\nvalue hash %s\nenvelope %s", pk, body, sig,
		    hash, vhash, envh);
	cr_assert_str_eq(pk, PUBLIC_HEX);
	cr_assert_str_eq(body, BODY_HEX);
	cr_assert_str_eq(sig, SIGNATURE_HEX);
	cr_assert_str_eq(hash, ENTRY_HASH_HEX);
	cr_assert_str_eq(vhash, VALUE_HASH_HEX);
	cr_assert_str_eq(envh, ENVELOPE_HEX);

	/* Independently of crypto/ and protocol/: libsodium over the vector's
	 * own bytes. */
	uint8_t spk[crypto_sign_PUBLICKEYBYTES], ssk[crypto_sign_SECRETKEYBYTES];
	cr_assert_eq(crypto_sign_seed_keypair(spk, ssk, seed), 0);
	uint8_t want_body[512], want_sig[SIG_BYTES], h[32];
	size_t body_len;
	cr_assert_eq(sodium_hex2bin(want_body, sizeof want_body, BODY_HEX, strlen(BODY_HEX), NULL, &body_len, NULL),
		     0);
	cr_assert_eq(sodium_hex2bin(want_sig, sizeof want_sig, SIGNATURE_HEX, strlen(SIGNATURE_HEX), NULL, NULL,
				    NULL),
		     0);
	size_t dlen = strlen(DOMAIN_CHANGESET);
	cr_assert_str_eq(DOMAIN_CHANGESET, "strata/changeset/v1");
	uint8_t *msg = malloc(dlen + 1 + body_len);
	memcpy(msg, "strata/changeset/v1", dlen + 1); /* with its NUL */
	memcpy(msg + dlen + 1, want_body, body_len);
	cr_assert_eq(crypto_sign_verify_detached(want_sig, msg, dlen + 1 + body_len, spk), 0);
	msg[dlen] = '/'; /* without the NUL separator it must not verify */
	cr_assert_neq(crypto_sign_verify_detached(want_sig, msg, dlen + 1 + body_len, spk), 0);
	crypto_generichash(h, sizeof h, want_body, body_len, NULL, 0);
	s = hex_of(h, sizeof h);
	cr_assert_str_eq(s, ENTRY_HASH_HEX);
	free(s);
	crypto_generichash(h, sizeof h, (const uint8_t *)"hello", 5, NULL, 0);
	s = hex_of(h, sizeof h);
	cr_assert_str_eq(s, VALUE_HASH_HEX);
	free(s);

	sodium_memzero(ssk, sizeof ssk);
	free(msg);
	free(pk);
	free(body);
	free(sig);
	free(hash);
	free(vhash);
	free(envh);
	changeset_destroy(&cs);
	changeset_builder_destroy(&b);
	keypair_destroy(&kp);
	free(env);
}
