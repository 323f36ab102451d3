/* SPDX-License-Identifier: MIT */
/*
 * docs/vectors/salted.json (issue 15, D8): salted value commitments. Each
 * vector's outputs are recomputed from its inputs with Strata's code (the
 * builder, with the vector's salt passed in through changeset_test_salts;
 * the decoder; changeset_strip_value) and, where they can be, with
 * libsodium directly: the commitment (crypto_generichash keyed with the
 * salt), the entry hash and the Ed25519 signature over the domain and the
 * body. STRATA_VECTORS_PRINT=1 prints what Strata computes, to write a new
 * vector.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

#define HEX_CAP (2 * LIMIT_VALUE_BYTES + 1)

static json_t *load(void)
{
	char path[4096];
	const char *src = getenv("STRATA_TEST_SRCDIR");
	json_error_t je;
	json_t *j;

	cr_assert_not_null(src, "STRATA_TEST_SRCDIR is not set");
	snprintf(path, sizeof path, "%s/docs/vectors/salted.json", src);
	j = json_load_file(path, 0, &je);
	cr_assert_not_null(j, "%s:%d: %s", path, je.line, je.text);
	cr_assert(json_is_string(json_object_get(j, "description")));
	return j;
}

/* The vector's field as bytes (hex, lowercase); *len its length. */
static uint8_t *bytes_of(const json_t *v, const char *field, size_t *len)
{
	const char *hex = json_string_value(json_object_get(v, field));
	uint8_t *out;

	cr_assert_not_null(hex, "vector has no %s", field);
	*len = strlen(hex) / 2;
	cr_assert_not_null(out = malloc(*len + 1));
	cr_assert_eq(sodium_hex2bin(out, *len + 1, hex, strlen(hex), NULL, len, NULL), 0, "%s: not hex", field);
	return out;
}

/* Compares bytes with the vector's hex of field (or prints them). */
static void expect(const json_t *v, const char *field, const uint8_t *p, size_t n)
{
	char *hex = malloc(2 * n + 1);

	hex_encode(hex, p, n);
	if (getenv("STRATA_VECTORS_PRINT"))
		fprintf(stderr, "%s: \"%s\": \"%s\",\n", json_string_value(json_object_get(v, "name")), field, hex);
	else
		cr_assert_str_eq(hex, json_string_value(json_object_get(v, field)), "%s: %s",
				 json_string_value(json_object_get(v, "name")), field);
	free(hex);
}

static const uint8_t *the_salt;

static void vector_salt(void *ctx, size_t op, uint8_t salt[SALT_BYTES])
{
	(void)ctx;
	(void)op;
	memcpy(salt, the_salt, SALT_BYTES);
}

/* kind "value_commit": salt, value -> commit. */
static void check_commit(const json_t *v)
{
	size_t sl, vl, cl;
	uint8_t *salt = bytes_of(v, "salt", &sl), *value = bytes_of(v, "value", &vl), c[HASH_BYTES], d[HASH_BYTES];

	cr_assert_eq(sl, SALT_BYTES);
	changeset_value_commit(c, salt, value, vl);
	expect(v, "commit", c, HASH_BYTES);
	crypto_generichash(d, sizeof d, value, vl, salt, sl); /* libsodium directly */
	cr_assert_arr_eq(c, d, HASH_BYTES);
	free(bytes_of(v, "commit", &cl));
	free(salt);
	free(value);
}

/* libsodium directly: the signature over "strata/changeset/v1" NUL body
 * by the seed's key, and the entry hash. */
static void check_independently(const json_t *v, const uint8_t *seed)
{
	size_t bl, sl, hl;
	uint8_t *body = bytes_of(v, "body", &bl), *sig = bytes_of(v, "signature", &sl), *hash = bytes_of(v, "entry_hash", &hl);
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], h[HASH_BYTES];
	size_t dl = strlen("strata/changeset/v1") + 1;
	uint8_t *msg = malloc(dl + bl);

	cr_assert_eq(crypto_sign_seed_keypair(pk, sk, seed), 0);
	memcpy(msg, "strata/changeset/v1", dl);
	memcpy(msg + dl, body, bl);
	cr_assert_eq(crypto_sign_verify_detached(sig, msg, dl + bl, pk), 0, "the signature does not verify");
	crypto_generichash(h, sizeof h, body, bl, NULL, 0);
	cr_assert_arr_eq(h, hash, HASH_BYTES);
	sodium_memzero(sk, sizeof sk);
	free(msg);
	free(body);
	free(sig);
	free(hash);
}

/* kind "changeset_salted": one put of value with salt, signed by seed's
 * key at (feed, seq 1, time_ms) -> public, commit, body, signature,
 * entry_hash, envelope, envelope_erased. */
static void check_changeset(const json_t *v)
{
	size_t sl, vl, kl, el;
	uint8_t *seed = bytes_of(v, "seed", &sl), *salt = bytes_of(v, "salt", &sl);
	uint8_t *value = bytes_of(v, "value", &vl), *key = bytes_of(v, "key", &kl), *env, *stripped;
	struct keypair *kp = NULL;
	struct changeset_builder *b = NULL;
	struct changeset *cs = NULL;
	struct err e = {{0}};

	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	the_salt = salt;
	changeset_test_salts(vector_salt, NULL, false);
	cr_assert_eq(changeset_builder_new(&b, json_string_value(json_object_get(v, "feed")), 1, NULL,
					   (uint64_t)json_integer_value(json_object_get(v, "time_ms")), &e),
		     0, "%s", e.msg);
	changeset_test_salts(NULL, NULL, false);
	cr_assert_eq(changeset_builder_put(b, json_string_value(json_object_get(v, "collection")), key, kl, value, vl, &e),
		     0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, &el, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_decode(&cs, env, el, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
	cr_assert(cs->ops[0].salted);
	expect(v, "public", keypair_public(kp), KEY_BYTES);
	expect(v, "commit", cs->ops[0].value_hash, HASH_BYTES);
	expect(v, "body", cs->body, cs->body_len);
	expect(v, "signature", cs->signature, SIG_BYTES);
	expect(v, "entry_hash", cs->hash, HASH_BYTES);
	expect(v, "envelope", env, el);
	cr_assert_eq(changeset_strip_value(cs, 0, &stripped, &sl, &e), 0, "%s", e.msg);
	expect(v, "envelope_erased", stripped, sl);
	if (!getenv("STRATA_VECTORS_PRINT"))
		check_independently(v, seed);
	free(stripped);
	changeset_destroy(&cs);
	changeset_builder_destroy(&b);
	keypair_destroy(&kp);
	free(env);
	free(seed);
	free(salt);
	free(value);
	free(key);
}

Test(protocol_vectors_salted, every_vector_recomputes)
{
	json_t *j, *vs, *v;
	size_t i, commits = 0, changesets = 0;

	cr_assert_eq(keys_init(), 0);
	j = load();
	vs = json_object_get(j, "vectors");
	cr_assert(json_is_array(vs) && json_array_size(vs) > 0);
	json_array_foreach(vs, i, v) {
		const char *kind = json_string_value(json_object_get(v, "kind"));

		cr_assert_not_null(kind, "vector %zu has no kind", i);
		if (strcmp(kind, "value_commit") == 0) {
			check_commit(v);
			commits++;
		} else if (strcmp(kind, "changeset_salted") == 0) {
			check_changeset(v);
			changesets++;
		} else {
			cr_assert_fail("vector %zu: unknown kind %s", i, kind);
		}
	}
	cr_assert_gt(commits, 0);
	cr_assert_gt(changesets, 0);
	json_decref(j);
}
