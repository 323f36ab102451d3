/* SPDX-License-Identifier: MIT */
/*
 * The change set builder: its refusals, its size tracking (which must be
 * exact, since importers cut batches by it), and its speed at the scale of
 * a city's member import.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol/protocol.h"

static struct keypair *kp;

static void setup(void)
{
	uint8_t seed[SEED_BYTES];
	struct err e = {{0}};
	cr_assert_eq(keys_init(), 0);
	memset(seed, 3, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	keypair_destroy(&kp);
}

TestSuite(protocol_builder, .init = setup, .fini = teardown);

static const uint8_t *K(const char *s)
{
	return (const uint8_t *)s;
}

Test(protocol_builder, refuses_bad_starts)
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	uint8_t prev[HASH_BYTES] = {1};
	cr_assert_eq(changeset_builder_new(&b, "up", 0, NULL, 0, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "change set: seq is 0; a feed starts at seq 1");
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_builder_new(&b, "up", 1, prev, 0, &e), -EINVAL);
	cr_assert_str_eq(e.msg, "change set: seq 1 must have an all-zero prev");
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_builder_new(&b, "Up", 1, NULL, 0, &e), -EINVAL);
	cr_assert(strstr(e.msg, "feed name"), "%s", e.msg);
	cr_assert_eq(changeset_builder_new(&b, "", 1, NULL, 0, &e), -EINVAL);
	cr_assert_eq(changeset_builder_new(&b, "abcdefghijklmnopqrstuvwxyz0123456", 1, NULL, 0, &e), -EINVAL);
	cr_assert_null(b);
	cr_assert_eq(changeset_builder_new(&b, "up", 2, prev, 0, &e), 0);
	changeset_builder_destroy(&b);
	changeset_builder_destroy(&b);
	changeset_builder_destroy(NULL);
}

Test(protocol_builder, refuses_bad_ops)
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	uint8_t key[LIMIT_KEY_BYTES + 1];
	memset(key, 'k', sizeof key);
	cr_assert_eq(changeset_builder_new(&b, "up", 1, NULL, 0, &e), 0);

	cr_assert_eq(changeset_builder_put(b, "member", key, sizeof key, K("v"), 1, &e), -E2BIG);
	cr_assert_str_eq(e.msg, "change set: op 0: key of 257 bytes exceeds the limit of 256");
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_builder_delete(b, "member", key, 0, &e), -EINVAL);
	cr_assert_eq(changeset_builder_delete(b, "Member", key, 1, &e), -EINVAL);
	cr_assert_eq(changeset_builder_delete(b, NULL, key, 1, &e), -EINVAL);
	uint8_t *big = calloc(1, LIMIT_VALUE_BYTES + 1);
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_builder_put(b, "member", key, 1, big, LIMIT_VALUE_BYTES + 1, &e), -E2BIG);
	cr_assert_str_eq(e.msg, "change set: op 0: value of 65537 bytes exceeds the limit of 65536");
	cr_assert_eq(changeset_builder_ops(b), 0, "refused ops are not added");

	cr_assert_eq(changeset_builder_put(b, "member", key, LIMIT_KEY_BYTES, big, LIMIT_VALUE_BYTES, &e), 0);
	cr_assert_eq(changeset_builder_ops(b), 1);
	free(big);
	changeset_builder_destroy(&b);
}

Test(protocol_builder, ops_limit)
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	char key[16];
	cr_assert_eq(changeset_builder_new(&b, "up", 1, NULL, 0, &e), 0);
	for (unsigned i = 0; i < LIMIT_OPS; i++) {
		int n = snprintf(key, sizeof key, "M%05u", i);
		cr_assert_eq(changeset_builder_delete(b, "member", K(key), (size_t)n, &e), 0, "%s", e.msg);
	}
	cr_assert_eq(changeset_builder_delete(b, "member", K("x"), 1, &e), -E2BIG);
	cr_assert_str_eq(e.msg, "change set: 10000 ops is the limit");
	uint8_t *env;
	size_t len;
	cr_assert_eq(changeset_builder_finish(b, kp, &env, &len, NULL, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	struct changeset *cs = NULL;
	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
	cr_assert_eq(cs->n_ops, LIMIT_OPS);
	changeset_destroy(&cs);
	free(env);
}

Test(protocol_builder, envelope_limit)
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	uint8_t *v = malloc(LIMIT_VALUE_BYTES);
	char key[16];
	int rc;
	cr_assert_eq(changeset_builder_new(&b, "up", 1, NULL, 0, &e), 0);
	unsigned i = 0;
	for (;; i++) {
		memset(v, (int)i, LIMIT_VALUE_BYTES);
		int n = snprintf(key, sizeof key, "M%05u", i);
		size_t before = changeset_builder_bytes(b);
		if ((rc = changeset_builder_put(b, "member", K(key), (size_t)n, v, LIMIT_VALUE_BYTES, &e)) < 0) {
			cr_assert_eq(changeset_builder_bytes(b), before);
			break;
		}
	}
	cr_assert_eq(rc, -E2BIG);
	cr_assert(strstr(e.msg, "over the limit of 16777216"), "%s", e.msg);
	cr_assert_gt(i, 250);
	size_t bytes = changeset_builder_bytes(b);
	cr_assert_leq(bytes, LIMIT_ENVELOPE_BYTES);
	/* A small op may still fit. */
	memset(&e, 0, sizeof e);
	while (changeset_builder_delete(b, "m", K("k"), 1, &e) == 0)
		;
	cr_assert_eq(e.msg[0] != 0, true);
	bytes = changeset_builder_bytes(b);
	cr_assert_gt(bytes, LIMIT_ENVELOPE_BYTES - 16);

	uint8_t *env;
	size_t len;
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, &len, NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(len, bytes);
	struct changeset *cs = NULL;
	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
	changeset_destroy(&cs);
	changeset_builder_destroy(&b);
	free(env);
	free(v);
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* The tracked size must be the exact encoded size, across every varint
 * width boundary the fields can cross. */
Test(protocol_builder, tracked_size_is_exact)
{
	static const size_t lens[] = {0, 1, 127, 128, 129, 255, 16383, 16384, 65536};
	static const uint64_t nums[] = {1, 127, 128, 16384, 1ull << 35, UINT64_MAX};
	uint8_t *v = calloc(1, LIMIT_VALUE_BYTES);
	uint8_t key[LIMIT_KEY_BYTES];
	memset(key, 'k', sizeof key);
	uint8_t prev[HASH_BYTES] = {9};
	for (int round = 0; round < 60; round++) {
		struct changeset_builder *b = NULL;
		struct err e = {{0}};
		uint64_t seq = nums[rng() % 6];
		cr_assert_eq(changeset_builder_new(&b, round % 2 ? "up" : "report", seq, seq == 1 ? NULL : prev,
						   nums[rng() % 6] - 1, &e),
			     0, "%s", e.msg);
		size_t n_ops = rng() % 300;
		for (size_t i = 0; i < n_ops; i++) {
			size_t kl = 1 + rng() % LIMIT_KEY_BYTES;
			if (rng() % 3 == 0) {
				cr_assert_eq(changeset_builder_delete(b, "dues", key, kl, &e), 0);
			} else {
				size_t vl = rng() % 4 == 0 ? lens[rng() % 9] : rng() % 200;
				cr_assert_eq(changeset_builder_put(b, "member_x", key, kl, v, vl, &e), 0, "%s", e.msg);
			}
		}
		uint8_t *env, hash[HASH_BYTES];
		size_t len, bytes = changeset_builder_bytes(b);
		cr_assert_eq(changeset_builder_finish(b, kp, &env, &len, hash, &e), 0, "%s", e.msg);
		cr_assert_eq(len, bytes, "round %d: tracked %zu, encoded %zu", round, bytes, len);
		cr_assert_eq(changeset_builder_ops(b), n_ops);

		/* Finished: usable only for destroy. */
		cr_assert_eq(changeset_builder_delete(b, "dues", key, 1, &e), -EINVAL);
		uint8_t *again;
		size_t again_len;
		cr_assert_eq(changeset_builder_finish(b, kp, &again, &again_len, NULL, &e), -EINVAL);

		struct changeset *cs = NULL;
		memset(&e, 0, sizeof e);
		cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
		cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
		cr_assert_eq(cs->seq, seq);
		cr_assert_arr_eq(cs->hash, hash, HASH_BYTES);
		changeset_destroy(&cs);
		changeset_builder_destroy(&b);
		free(env);
	}
	free(v);
}

static void salt_of(void *ctx, size_t op, uint8_t salt[SALT_BYTES])
{
	memset(salt, *(const uint8_t *)ctx + (int)op, SALT_BYTES);
}

/* One put of value under the current test salts, as an envelope. */
static uint8_t *one_put(const uint8_t *value, size_t vlen, size_t *len)
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	uint8_t *env = NULL;

	cr_assert_eq(changeset_builder_new(&b, "up", 1, NULL, 1700000000000ull, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "member", K("M1"), 2, value, vlen, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, len, NULL, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	return env;
}

/* Every put is salted with a fresh salt (two builds of one value differ),
 * a fixed salt makes it reproducible, and the size the builder tracked is
 * the size it wrote, salted or not. */
Test(protocol_builder, puts_are_salted_fresh_each_time)
{
	static const uint8_t value[] = "\n\x02M1";
	uint8_t seed = 7, *env[4];
	size_t len[4];
	struct changeset *cs = NULL;
	struct err e = {{0}};

	env[0] = one_put(value, sizeof value - 1, &len[0]);
	env[1] = one_put(value, sizeof value - 1, &len[1]);
	cr_assert_eq(len[0], len[1]);
	cr_assert(memcmp(env[0], env[1], len[0]) != 0, "two salted puts of one value must differ");
	changeset_test_salts(salt_of, &seed, false);
	env[2] = one_put(value, sizeof value - 1, &len[2]);
	env[3] = one_put(value, sizeof value - 1, &len[3]);
	changeset_test_salts(NULL, NULL, false);
	cr_assert_eq(len[2], len[3]);
	cr_assert_arr_eq(env[2], env[3], len[2]);
	cr_assert_eq(changeset_decode(&cs, env[2], len[2], &e), 0, "%s", e.msg);
	cr_assert(cs->ops[0].salted);
	cr_assert_not_null(cs->ops[0].salt);
	cr_assert_eq(cs->ops[0].salt[0], 7);
	uint8_t c[HASH_BYTES];
	changeset_value_commit(c, cs->ops[0].salt, value, sizeof value - 1);
	cr_assert_arr_eq(cs->ops[0].value_hash, c, HASH_BYTES);
	changeset_destroy(&cs);
	for (int i = 0; i < 4; i++)
		free(env[i]);
}

/* A city's import: 209,000 members in 209 change sets of 1,000, each built,
 * signed, decoded and verified, chained. Its speed is measured by bench/
 * (bench/run: member import), never asserted here. */
Test(protocol_builder, city_import_builds_chains_and_verifies, .timeout = 120)
{
	char key[16], value[160];
	uint8_t prev[HASH_BYTES] = {0};
	uint8_t **envs = calloc(209, sizeof *envs);
	size_t *lens = calloc(209, sizeof *lens);
	for (unsigned s = 0; s < 209; s++) {
		struct changeset_builder *b = NULL;
		struct err e = {{0}};
		cr_assert_eq(changeset_builder_new(&b, "up", s + 1, prev, 1700000000000ull + s, &e), 0, "%s",
			     e.msg);
		for (unsigned i = 0; i < 1000; i++) {
			unsigned m = s * 1000 + i;
			int kl = snprintf(key, sizeof key, "M%06u", m);
			int vl = snprintf(value, sizeof value,
					  "\n\x07M%06u\x12\x0cZhang Wei %02u\x18\x01 \x01*\n2019-07-01"
					  "2\x0b" "1380000%04u",
					  m, m % 100, m % 10000);
			cr_assert_eq(changeset_builder_put(b, "member", K(key), (size_t)kl, K(value), (size_t)vl, &e),
				     0, "%s", e.msg);
		}
		cr_assert_eq(changeset_builder_finish(b, kp, &envs[s], &lens[s], prev, &e), 0, "%s", e.msg);
		changeset_builder_destroy(&b);
	}
	uint8_t want_prev[HASH_BYTES] = {0};
	for (unsigned s = 0; s < 209; s++) {
		struct changeset *cs = NULL;
		struct err e = {{0}};
		cr_assert_eq(changeset_decode(&cs, envs[s], lens[s], &e), 0, "%s", e.msg);
		cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
		cr_assert_eq(cs->n_ops, 1000);
		cr_assert_arr_eq(cs->prev, want_prev, HASH_BYTES, "the chain links");
		memcpy(want_prev, cs->hash, HASH_BYTES);
		changeset_destroy(&cs);
		free(envs[s]);
	}
	free(envs);
	free(lens);
}
