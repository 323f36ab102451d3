/* SPDX-License-Identifier: MIT */
/*
 * Salted value commitments (issue 15): a put commits with exactly one of
 * value_hash (the old form) and value_commit (keyed with Value.salt); the
 * decoder takes both, refuses every mismatch of salt and commitment with
 * its reason, and stripping a value takes its salt with it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "protocol/protocol.h"

static struct keypair *kp;

static void setup(void)
{
	uint8_t seed[SEED_BYTES];
	struct err e = {{0}};

	cr_assert_eq(keys_init(), 0);
	memset(seed, 9, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	changeset_test_salts(NULL, NULL, false);
	keypair_destroy(&kp);
}

TestSuite(protocol_salted, .init = setup, .fini = teardown);

static const uint8_t *K(const char *s)
{
	return (const uint8_t *)s;
}

/* Two puts (alpha, beta) and a delete, salted unless unsalted. */
static uint8_t *build(bool unsalted, size_t *len)
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	uint8_t *env = NULL;

	changeset_test_salts(NULL, NULL, unsalted);
	cr_assert_eq(changeset_builder_new(&b, "up", 1, NULL, 1700000000000ull, &e), 0, "%s", e.msg);
	changeset_test_salts(NULL, NULL, false);
	cr_assert_eq(changeset_builder_put(b, "member", K("M1"), 2, K("alpha"), 5, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "member", K("M2"), 2, K("beta"), 4, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_delete(b, "member", K("M3"), 2, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, len, NULL, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	return env;
}

static bool contains(const uint8_t *p, size_t n, const uint8_t *needle, size_t nl)
{
	for (size_t i = 0; i + nl <= n; i++)
		if (memcmp(p + i, needle, nl) == 0)
			return true;
	return false;
}

/* Both forms decode and verify; each op says which it is, and its
 * commitment is the keyed hash (libsodium directly) or the plain one. */
Test(protocol_salted, both_forms_decode)
{
	for (int unsalted = 0; unsalted < 2; unsalted++) {
		size_t len;
		uint8_t *env = build(unsalted, &len), h[HASH_BYTES];
		struct changeset *cs = NULL;
		struct err e = {{0}};

		cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
		cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
		for (size_t i = 0; i < 2; i++) {
			const struct op *o = &cs->ops[i];

			cr_assert_eq(o->salted, !unsalted);
			if (unsalted) {
				cr_assert_null(o->salt);
				crypto_generichash(h, sizeof h, o->value, o->value_len, NULL, 0);
			} else {
				cr_assert_not_null(o->salt);
				crypto_generichash(h, sizeof h, o->value, o->value_len, o->salt, SALT_BYTES);
			}
			cr_assert_arr_eq(o->value_hash, h, HASH_BYTES);
			cr_assert(changeset_value_matches(o, o->value, o->value_len, o->salt));
			cr_assert_not(changeset_value_matches(o, K("gamma"), 5, o->salt));
		}
		cr_assert_not(cs->ops[0].salted && changeset_value_matches(&cs->ops[0], K("alpha"), 5, NULL),
			      "a salted commitment matched without its salt");
		cr_assert_not(cs->ops[2].salted);
		changeset_destroy(&cs);
		free(env);
	}
}

/* Stripping op 0 removes its data and its salt; op 1 keeps both. */
Test(protocol_salted, strip_takes_the_salt)
{
	size_t len, slen;
	uint8_t *env = build(false, &len), *stripped = NULL, salt0[SALT_BYTES], salt1[SALT_BYTES];
	struct changeset *cs = NULL, *s2 = NULL;
	struct err e = {{0}};

	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
	memcpy(salt0, cs->ops[0].salt, SALT_BYTES);
	memcpy(salt1, cs->ops[1].salt, SALT_BYTES);
	cr_assert_eq(changeset_strip_value(cs, 0, &stripped, &slen, &e), 0, "%s", e.msg);
	cr_assert_eq(slen, len - (2 + 2 + 2 + 5 + 2 + SALT_BYTES), "the whole Value frame goes");
	cr_assert_not(contains(stripped, slen, salt0, SALT_BYTES), "the erased value's salt is still there");
	cr_assert_not(contains(stripped, slen, K("alpha"), 5));
	cr_assert_eq(changeset_decode(&s2, stripped, slen, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(s2, &e), 0, "%s", e.msg);
	cr_assert_arr_eq(s2->hash, cs->hash, HASH_BYTES);
	cr_assert_null(s2->ops[0].value);
	cr_assert_null(s2->ops[0].salt);
	cr_assert(s2->ops[0].salted, "the body still says the put is salted");
	cr_assert_arr_eq(s2->ops[1].salt, salt1, SALT_BYTES);
	changeset_destroy(&s2);
	changeset_destroy(&cs);
	free(stripped);
	free(env);
}

/* env re-framed with value 0's salt set by f; decoded, must fail with why. */
static void refused(const uint8_t *env, size_t len, void (*f)(Strata__Value *, uint8_t *), const char *why)
{
	Strata__Envelope *m = strata__envelope__unpack(NULL, len, env);
	uint8_t salt[SALT_BYTES + 1], *out;
	struct changeset *cs = NULL;
	struct err e = {{0}};

	cr_assert_not_null(m);
	ProtobufCBinaryData was = m->values[0]->salt;
	protobuf_c_boolean had = m->values[0]->has_salt;
	memset(salt, 0x33, sizeof salt);
	f(m->values[0], salt);
	out = malloc(strata__envelope__get_packed_size(m));
	size_t n = strata__envelope__pack(m, out);
	m->values[0]->salt = was;
	m->values[0]->has_salt = had;
	strata__envelope__free_unpacked(m, NULL);
	cr_assert_eq(changeset_decode(&cs, out, n, &e), -EBADMSG, "decoded: %s", why);
	cr_assert_null(cs);
	cr_assert(strstr(e.msg, why), "%s (want %s)", e.msg, why);
	free(out);
}

static void drop(Strata__Value *v, uint8_t *s)
{
	(void)s;
	v->has_salt = 0;
	v->salt = (ProtobufCBinaryData){0, NULL};
}

static void shorter(Strata__Value *v, uint8_t *s)
{
	v->has_salt = 1;
	v->salt = (ProtobufCBinaryData){SALT_BYTES - 1, s};
}

static void longer(Strata__Value *v, uint8_t *s)
{
	v->has_salt = 1;
	v->salt = (ProtobufCBinaryData){SALT_BYTES + 1, s};
}

static void other(Strata__Value *v, uint8_t *s)
{
	v->has_salt = 1;
	v->salt = (ProtobufCBinaryData){SALT_BYTES, s};
}

Test(protocol_salted, wrong_salts_are_refused)
{
	size_t len, olen;
	uint8_t *env = build(false, &len), *old = build(true, &olen);

	refused(env, len, drop, "op 0: value has no salt, but its put commits with one");
	refused(env, len, shorter, "op 0: salt is 31 bytes, not 32");
	refused(env, len, longer, "op 0: salt is 33 bytes, not 32");
	refused(env, len, other, "op 0: value commitment does not match its value");
	refused(old, olen, other, "op 0: value has a salt, but its put has an unsalted value hash");
	free(env);
	free(old);
}

/* Bodies with both commitments, a short one, or one on a delete. */
Test(protocol_salted, wrong_commitments_are_refused)
{
	static const struct {
		int kind, hash, commit;
		size_t len;
		const char *why;
	} cases[] = {
		{STRATA__OP_KIND__OP_PUT, 1, 1, HASH_BYTES, "op 0: put has both a value hash and a value commitment"},
		{STRATA__OP_KIND__OP_PUT, 0, 1, HASH_BYTES - 1, "op 0: value commitment is 31 bytes, not 32"},
		{STRATA__OP_KIND__OP_PUT, 0, 0, HASH_BYTES, "op 0: put has no value hash nor value commitment"},
		{STRATA__OP_KIND__OP_DELETE, 0, 1, HASH_BYTES, "op 0: delete carries a value commitment"},
	};
	uint8_t h[HASH_BYTES] = {1}, prev[HASH_BYTES] = {0}, sig[SIG_BYTES] = {0};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Strata__Op op = STRATA__OP__INIT, *ops[] = {&op};
		Strata__ChangeSetBody body = STRATA__CHANGE_SET_BODY__INIT;
		Strata__Envelope env = STRATA__ENVELOPE__INIT;
		struct changeset *cs = NULL;
		struct err e = {{0}};
		uint8_t bbuf[256], ebuf[512];

		op.kind = cases[i].kind;
		op.collection = "member";
		op.key = (ProtobufCBinaryData){2, (uint8_t *)"M1"};
		op.has_value_hash = cases[i].hash;
		op.value_hash = (ProtobufCBinaryData){HASH_BYTES, h};
		op.has_value_commit = cases[i].commit;
		op.value_commit = (ProtobufCBinaryData){cases[i].len, h};
		body.author = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)keypair_public(kp)};
		body.feed = "up";
		body.seq = 1;
		body.prev = (ProtobufCBinaryData){HASH_BYTES, prev};
		body.n_ops = 1;
		body.ops = ops;
		env.body = (ProtobufCBinaryData){strata__change_set_body__pack(&body, bbuf), bbuf};
		env.signature = (ProtobufCBinaryData){SIG_BYTES, sig};
		size_t n = strata__envelope__pack(&env, ebuf);
		cr_assert_eq(changeset_decode(&cs, ebuf, n, &e), -EBADMSG, "case %zu decoded", i);
		cr_assert(strstr(e.msg, cases[i].why), "case %zu: %s", i, e.msg);
	}
}

/* The salt of the one put of a fresh salted change set. */
static void next_salt(uint8_t salt[SALT_BYTES])
{
	size_t len;
	uint8_t *env = build(false, &len);
	struct changeset *cs = NULL;
	struct err e = {{0}};

	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
	memcpy(salt, cs->ops[0].salt, SALT_BYTES);
	changeset_destroy(&cs);
	free(env);
}

/* Salts are drawn many at a time; a forked child must not use the ones
 * its parent will: one salt on two values would let the erasure of one
 * leave its salt beside the other. */
Test(protocol_salted, a_forked_child_draws_other_salts)
{
	uint8_t parent[SALT_BYTES], child[SALT_BYTES];
	int fd[2], status;
	pid_t pid;

	next_salt(parent); /* the pool is filled */
	cr_assert_eq(pipe(fd), 0);
	cr_assert_geq(pid = fork(), 0);
	if (pid == 0) {
		next_salt(child);
		_exit(write(fd[1], child, SALT_BYTES) == SALT_BYTES ? 0 : 1);
	}
	next_salt(parent);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(read(fd[0], child, SALT_BYTES), SALT_BYTES);
	close(fd[0]);
	close(fd[1]);
	cr_assert(memcmp(parent, child, SALT_BYTES) != 0, "parent and child drew the same salt");
}
