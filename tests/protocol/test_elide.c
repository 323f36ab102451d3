/* SPDX-License-Identifier: MIT */
/*
 * Prev elision (changeset_elide.c): a run of one feed loses exactly the
 * prevs a receiver can derive, restore gives back the exact bytes (every
 * envelope decodes and verifies again), an interleaved feed and a gap keep
 * their prevs, and nothing a hostile sender does (a zeroed prev that does
 * not follow, truncated or random bytes) makes restore read out of bounds
 * or turn a bad envelope into one that verifies.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

static struct keypair *ka, *kb;

static void setup(void)
{
	uint8_t seed[SEED_BYTES];
	struct err e = {{0}};

	cr_assert_eq(keys_init(), 0);
	memset(seed, 5, sizeof seed);
	cr_assert_eq(keypair_from_seed(&ka, seed, &e), 0, "%s", e.msg);
	memset(seed, 6, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kb, seed, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	keypair_destroy(&ka);
	keypair_destroy(&kb);
}

TestSuite(protocol_elide, .init = setup, .fini = teardown);

/* Entry seq of (kp, feed) after prev; envelope malloc'd, hash of its body out. */
static ProtobufCBinaryData entry(const struct keypair *kp, const char *feed, uint64_t seq, const uint8_t *prev,
				 uint8_t hash[HASH_BYTES])
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	char key[32], value[64];
	uint8_t *env;
	size_t len;

	snprintf(key, sizeof key, "K%llu", (unsigned long long)seq);
	snprintf(value, sizeof value, "value of %s %llu", feed, (unsigned long long)seq);
	cr_assert_eq(changeset_builder_new(&b, feed, seq, prev, 1000 + seq, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "member", (const uint8_t *)key, strlen(key), (const uint8_t *)value,
					   strlen(value), &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, &len, hash, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	return (ProtobufCBinaryData){len, env};
}

static bool verifies(ProtobufCBinaryData v)
{
	struct changeset *cs = NULL;
	struct err e = {{0}};
	bool ok = changeset_decode(&cs, v.data, v.len, &e) == 0 && changeset_verify(cs, &e) == 0;

	changeset_destroy(&cs);
	return ok;
}

/* a1 a2 a3 b1 a4 a6 b2: a run of three, an interleaved feed, a gap (a5) */
#define N 7
static void batch(ProtobufCBinaryData v[N], ProtobufCBinaryData orig[N])
{
	uint8_t ha[7][HASH_BYTES], hb[3][HASH_BYTES];

	v[0] = entry(ka, "up", 1, NULL, ha[1]);
	v[1] = entry(ka, "up", 2, ha[1], ha[2]);
	v[2] = entry(ka, "up", 3, ha[2], ha[3]);
	v[3] = entry(kb, "up", 1, NULL, hb[1]);
	v[4] = entry(ka, "up", 4, ha[3], ha[4]);
	memset(ha[5], 0x55, HASH_BYTES); /* a5 is not in the batch */
	v[5] = entry(ka, "up", 6, ha[5], ha[6]);
	v[6] = entry(kb, "up", 2, hb[1], hb[2]);
	for (int i = 0; i < N; i++) {
		orig[i].len = v[i].len;
		orig[i].data = malloc(v[i].len);
		memcpy(orig[i].data, v[i].data, v[i].len);
	}
}

static void free_batch(ProtobufCBinaryData v[N], ProtobufCBinaryData orig[N])
{
	for (int i = 0; i < N; i++) {
		free(v[i].data);
		free(orig[i].data);
	}
}

Test(protocol_elide, a_run_loses_its_prevs_and_gets_back_the_exact_bytes)
{
	ProtobufCBinaryData v[N], orig[N];

	batch(v, orig);
	/* only a2 and a3 follow the envelope before them */
	cr_assert_eq(changesets_prev_elide(v, N), 2);
	for (int i = 0; i < N; i++) {
		bool changed = memcmp(v[i].data, orig[i].data, v[i].len) != 0;

		cr_assert_eq(changed, i == 1 || i == 2, "envelope %d %s", i, changed ? "changed" : "unchanged");
		cr_assert_eq(verifies(v[i]), !changed, "envelope %d with an elided prev %s", i,
			     changed ? "still verifies" : "does not verify");
	}
	cr_assert_eq(changesets_prev_restore(v, N), 2);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(v[i].len, orig[i].len);
		cr_assert_eq(memcmp(v[i].data, orig[i].data, v[i].len), 0, "envelope %d differs after restore", i);
		cr_assert(verifies(v[i]), "envelope %d does not verify after restore", i);
	}
	/* nothing to restore twice, nothing to elide in one envelope */
	cr_assert_eq(changesets_prev_restore(v, N), 0);
	cr_assert_eq(changesets_prev_elide(v, 1), 0);
	cr_assert_eq(changesets_prev_elide(v, 0), 0);
	free_batch(v, orig);
}

Test(protocol_elide, a_zero_prev_that_does_not_follow_stays_zero_and_fails)
{
	ProtobufCBinaryData v[N], orig[N], two[2];

	batch(v, orig);
	changesets_prev_elide(v, N);
	/* a3 without a2 before it: restore cannot derive its prev */
	two[0] = v[0];
	two[1] = v[2];
	cr_assert_eq(changesets_prev_restore(two, 2), 0);
	cr_assert_not(verifies(two[1]), "a3 with a zero prev verifies");
	/* a2 elided, but sent after b1: it does not follow */
	two[0] = v[3];
	two[1] = v[1];
	cr_assert_eq(changesets_prev_restore(two, 2), 0);
	cr_assert_not(verifies(two[1]));
	free_batch(v, orig);
}

Test(protocol_elide, broken_and_random_bytes_are_left_alone)
{
	ProtobufCBinaryData v[N], orig[N], two[2];
	uint8_t junk[300];

	batch(v, orig);
	changesets_prev_elide(v, N);
	srand(7);
	for (int round = 0; round < 2000; round++) {
		/* cut inside the body or the signature (without its values an
		 * envelope is whole: an erased value; a value frame holds the
		 * value's 32-byte salt too) */
		size_t cut = (size_t)rand() % (v[1].len - 40 - (SALT_BYTES + 2));
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, v[1].data, cut);
		two[0] = v[0];
		two[1] = (ProtobufCBinaryData){cut, copy}; /* truncated */
		changesets_prev_restore(two, 2);
		cr_assert_not(verifies(two[1]), "a truncated envelope verifies");
		free(copy);
		for (size_t i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)rand();
		two[1] = (ProtobufCBinaryData){(size_t)rand() % sizeof junk, junk};
		changesets_prev_restore(two, 2);
		two[0] = two[1];
		two[1] = v[1];
		changesets_prev_restore(two, 2);
	}
	/* the first envelope truncated in its body, then a2: a2 stays zero */
	two[0] = (ProtobufCBinaryData){v[0].len / 2, v[0].data};
	two[1] = v[1];
	cr_assert_eq(changesets_prev_restore(two, 2), 0);
	free_batch(v, orig);
}
