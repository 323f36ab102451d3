/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpus of fuzz_envelope into DIR: a few valid envelopes
 * and one of each common way to be wrong, in both forms of a put's value
 * commitment (value_hash before salted commitments, value_commit with a
 * fixed salt here). Deterministic (fixed seeds and salts), so
 * running it again rewrites the same files:
 *   build/tests/fuzz/fuzz_gen_corpus tests/fuzz/corpus/envelope
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

static const char *dir;

static void put_file(const char *name, const uint8_t *d, size_t n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void check(int rc, const struct err *e)
{
	if (rc < 0) {
		fprintf(stderr, "fuzz_gen_corpus: %s\n", e->msg);
		exit(1);
	}
}

static const uint8_t *K(const char *s)
{
	return (const uint8_t *)s;
}

/* A body with seq 0, signed properly: only the seq rule is broken. */
static void raw_seq0(const struct keypair *kp)
{
	Strata__Op op = STRATA__OP__INIT, *ops[] = {&op};
	op.kind = STRATA__OP_KIND__OP_DELETE;
	op.collection = "member";
	op.key = (ProtobufCBinaryData){2, (uint8_t *)"M1"};
	uint8_t prev[HASH_BYTES] = {0}, sig[SIG_BYTES];
	Strata__ChangeSetBody body = STRATA__CHANGE_SET_BODY__INIT;
	body.author = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)keypair_public(kp)};
	body.feed = "up";
	body.seq = 0;
	body.prev = (ProtobufCBinaryData){HASH_BYTES, prev};
	body.n_ops = 1;
	body.ops = ops;
	uint8_t b[256], e[512];
	size_t bl = strata__change_set_body__pack(&body, b);
	if (keypair_sign(kp, DOMAIN_CHANGESET, b, bl, sig) < 0)
		exit(1);
	Strata__Envelope env = STRATA__ENVELOPE__INIT;
	env.body = (ProtobufCBinaryData){bl, b};
	env.signature = (ProtobufCBinaryData){SIG_BYTES, sig};
	put_file("bad_seq0", e, strata__envelope__pack(&env, e));
}

static void fixed_salt(void *ctx, size_t op, uint8_t salt[SALT_BYTES])
{
	(void)ctx;
	memset(salt, 0x5a + (int)op, SALT_BYTES);
}

/* env with its first value's salt changed: dropped (len 0 and !has),
 * given a salt of len bytes, or added to an unsalted put's value. */
static void salt_reframe(const char *name, const uint8_t *env, size_t len, bool has, size_t salt_len)
{
	Strata__Envelope *m = strata__envelope__unpack(NULL, len, env);
	uint8_t salt[SALT_BYTES + 1], *out;

	if (!m || m->n_values == 0)
		exit(1);
	ProtobufCBinaryData was = m->values[0]->salt;
	protobuf_c_boolean had = m->values[0]->has_salt;

	memset(salt, 0x33, sizeof salt);
	m->values[0]->has_salt = has;
	m->values[0]->salt = (ProtobufCBinaryData){salt_len, salt};
	out = malloc(strata__envelope__get_packed_size(m));
	put_file(name, out, strata__envelope__pack(m, out));
	free(out);
	m->values[0]->salt = was; /* free_unpacked frees the one it made */
	m->values[0]->has_salt = had;
	strata__envelope__free_unpacked(m, NULL);
}

/* Salted puts: valid, stripped, and each way their salt can be wrong. */
static void salted(const struct keypair *kp, const uint8_t *legacy, size_t legacy_len)
{
	struct changeset_builder *b = NULL;
	struct changeset *cs = NULL;
	struct err e = {{0}};
	uint8_t *env, *stripped;
	size_t len, stripped_len;

	changeset_test_salts(fixed_salt, NULL, false);
	check(changeset_builder_new(&b, FEED_UP, 1, NULL, 1700000000000ull, &e), &e);
	check(changeset_builder_put(b, "member", K("M0001"), 5, K("hello"), 5, &e), &e);
	check(changeset_builder_put(b, "member", K("M0002"), 5, K("world"), 5, &e), &e);
	check(changeset_builder_finish(b, kp, &env, &len, NULL, &e), &e);
	changeset_builder_destroy(&b);
	changeset_test_salts(NULL, NULL, false);
	put_file("valid_salted", env, len);
	check(changeset_decode(&cs, env, len, &e), &e);
	check(changeset_strip_value(cs, 0, &stripped, &stripped_len, &e), &e);
	put_file("valid_salted_stripped", stripped, stripped_len);
	changeset_destroy(&cs);
	free(stripped);
	salt_reframe("bad_salt_missing", env, len, false, 0);
	salt_reframe("bad_salt_short", env, len, true, SALT_BYTES - 1);
	salt_reframe("bad_salt_wrong", env, len, true, SALT_BYTES);
	salt_reframe("bad_salt_on_value_hash", legacy, legacy_len, true, SALT_BYTES);
	free(env);
}

int main(int argc, char **argv)
{
	struct keypair *kp = NULL;
	struct changeset_builder *b = NULL;
	struct changeset *cs = NULL;
	struct err e = {{0}};
	uint8_t seed[SEED_BYTES], *env, *mixed, *stripped, hash[HASH_BYTES];
	size_t len, mixed_len, stripped_len;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	check(keys_init(), &e);
	memset(seed, 0x01, sizeof seed);
	check(keypair_from_seed(&kp, seed, &e), &e);
	/* The form before salted commitments first (value_hash). */
	changeset_test_salts(NULL, NULL, true);

	/* The known-answer vector of docs/PROTOCOL-vectors.md. */
	check(changeset_builder_new(&b, FEED_UP, 1, NULL, 1700000000000ull, &e), &e);
	check(changeset_builder_put(b, "member", K("M0001"), 5, K("hello"), 5, &e), &e);
	check(changeset_builder_finish(b, kp, &env, &len, hash, &e), &e);
	changeset_builder_destroy(&b);
	put_file("valid_vector", env, len);

	/* Wrong in one place each. */
	uint8_t *c = malloc(len + 2);
	memcpy(c, env, len);
	c[len - 70] ^= 0x01; /* inside the signature */
	put_file("bad_signature", c, len);
	memcpy(c, env, len);
	c[len - 1] ^= 0x20; /* the last byte of the value "hello" */
	put_file("bad_value_hash", c, len);
	memcpy(c, env, len);
	c[len] = 0x78; /* field 15, varint 1 */
	c[len + 1] = 0x01;
	put_file("bad_unknown_field", c, len + 2);
	put_file("bad_truncated", env, len / 2);
	put_file("bad_empty", env, 0);
	free(c);
	salted(kp, env, len);
	changeset_test_salts(NULL, NULL, true);
	free(env);

	/* seq 2 on the vector's chain: a put, a delete, an empty value. */
	check(changeset_builder_new(&b, FEED_UP, 2, hash, 1700000000001ull, &e), &e);
	check(changeset_builder_put(b, "member", K("M0002"), 5, K("world"), 5, &e), &e);
	check(changeset_builder_delete(b, "member", K("M0001"), 5, &e), &e);
	check(changeset_builder_put(b, "dues", K("M0002/2026-01"), 13, NULL, 0, &e), &e);
	check(changeset_builder_finish(b, kp, &mixed, &mixed_len, NULL, &e), &e);
	changeset_builder_destroy(&b);
	put_file("valid_mixed", mixed, mixed_len);
	check(changeset_decode(&cs, mixed, mixed_len, &e), &e);
	check(changeset_strip_value(cs, 0, &stripped, &stripped_len, &e), &e);
	put_file("valid_stripped", stripped, stripped_len);
	changeset_destroy(&cs);
	free(stripped);
	free(mixed);

	/* No ops at all, on another feed. */
	check(changeset_builder_new(&b, FEED_DOWN, 1, NULL, 0, &e), &e);
	check(changeset_builder_finish(b, kp, &env, &len, NULL, &e), &e);
	changeset_builder_destroy(&b);
	put_file("valid_no_ops", env, len);
	free(env);

	raw_seq0(kp);
	keypair_destroy(&kp);
	return 0;
}
