/* SPDX-License-Identifier: MIT */
/*
 * Decoding, verifying and stripping change sets: the round trip, and every
 * way a received envelope can be wrong (flipped bytes, truncation, random
 * bytes, oversize, and each structural rule, crafted with the generated
 * protobuf-c code and re-signed so that only the rule under test fails).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/protocol.h"

static struct keypair *kp, *kp2;

static void setup(void)
{
	uint8_t seed[SEED_BYTES];
	struct err e = {{0}};
	cr_assert_eq(keys_init(), 0);
	memset(seed, 7, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	memset(seed, 8, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kp2, seed, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	keypair_destroy(&kp);
	keypair_destroy(&kp2);
}

TestSuite(protocol_changeset, .init = setup, .fini = teardown);

/* put(member, M1, "alpha"), delete(member, M2), put(dues, M1/2026-01, "12.50")
 * on feed up at seq 2. */
static void build_small(uint8_t **env, size_t *len, uint8_t hash[HASH_BYTES])
{
	struct changeset_builder *b = NULL;
	struct err e = {{0}};
	uint8_t prev[HASH_BYTES];
	memset(prev, 0xab, sizeof prev);
	cr_assert_eq(changeset_builder_new(&b, "up", 2, prev, 1700000000123, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "member", (const uint8_t *)"M1", 2, (const uint8_t *)"alpha", 5, &e),
		     0, "%s", e.msg);
	cr_assert_eq(changeset_builder_delete(b, "member", (const uint8_t *)"M2", 2, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "dues", (const uint8_t *)"M1/2026-01", 10, (const uint8_t *)"12.50",
					   5, &e),
		     0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, env, len, hash, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_bytes(b), *len);
	changeset_builder_destroy(&b);
	cr_assert_null(b);
}

Test(protocol_changeset, round_trip)
{
	uint8_t *env, hash[HASH_BYTES], h[HASH_BYTES];
	size_t len;
	struct changeset *cs = NULL;
	struct err e = {{0}};
	build_small(&env, &len, hash);

	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
	cr_assert_arr_eq(cs->author, keypair_public(kp), KEY_BYTES);
	cr_assert_str_eq(cs->feed, "up");
	cr_assert_eq(cs->seq, 2);
	for (size_t i = 0; i < HASH_BYTES; i++)
		cr_assert_eq(cs->prev[i], 0xab);
	cr_assert_eq(cs->time_ms, 1700000000123ull);
	cr_assert_eq(cs->n_ops, 3);

	cr_assert_eq(cs->ops[0].kind, OP_PUT);
	cr_assert_str_eq(cs->ops[0].collection, "member");
	cr_assert_eq(cs->ops[0].key_len, 2);
	cr_assert_arr_eq(cs->ops[0].key, "M1", 2);
	cr_assert_eq(cs->ops[0].value_len, 5);
	cr_assert_arr_eq(cs->ops[0].value, "alpha", 5);
	cr_assert(cs->ops[0].salted);
	cr_assert_not_null(cs->ops[0].salt);
	changeset_value_commit(h, cs->ops[0].salt, (const uint8_t *)"alpha", 5);
	cr_assert_arr_eq(cs->ops[0].value_hash, h, HASH_BYTES);

	cr_assert_eq(cs->ops[1].kind, OP_DELETE);
	cr_assert_str_eq(cs->ops[1].collection, "member");
	cr_assert_arr_eq(cs->ops[1].key, "M2", 2);
	cr_assert_null(cs->ops[1].value);
	uint8_t zero[HASH_BYTES] = {0};
	cr_assert_arr_eq(cs->ops[1].value_hash, zero, HASH_BYTES);

	cr_assert_eq(cs->ops[2].kind, OP_PUT);
	cr_assert_str_eq(cs->ops[2].collection, "dues");
	cr_assert_arr_eq(cs->ops[2].key, "M1/2026-01", 10);
	cr_assert_arr_eq(cs->ops[2].value, "12.50", 5);

	hash_blake2b(h, cs->body, cs->body_len);
	cr_assert_arr_eq(cs->hash, h, HASH_BYTES);
	cr_assert_arr_eq(cs->hash, hash, HASH_BYTES);
	cr_assert_eq(cs->envelope_len, len);
	cr_assert_arr_eq(cs->envelope, env, len);
	cr_assert_neq(cs->envelope, env, "the envelope must be a private copy");
	cr_assert_eq(sig_verify(cs->author, DOMAIN_CHANGESET, cs->body, cs->body_len, cs->signature), 0);

	changeset_destroy(&cs);
	cr_assert_null(cs);
	changeset_destroy(&cs); /* NULL-safe */
	changeset_destroy(NULL);
	free(env);
}

Test(protocol_changeset, empty_value_and_no_ops)
{
	struct changeset_builder *b = NULL;
	struct changeset *cs = NULL;
	struct err e = {{0}};
	uint8_t *env;
	size_t len;
	cr_assert_eq(changeset_builder_new(&b, "down", 1, NULL, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, &len, NULL, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
	cr_assert_eq(cs->n_ops, 0);
	cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
	changeset_destroy(&cs);
	free(env);

	cr_assert_eq(changeset_builder_new(&b, "up", 1, NULL, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_put(b, "note", (const uint8_t *)"k", 1, NULL, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, &env, &len, NULL, &e), 0, "%s", e.msg);
	changeset_builder_destroy(&b);
	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);
	cr_assert_not_null(cs->ops[0].value, "an empty value is present, not erased");
	cr_assert_eq(cs->ops[0].value_len, 0);
	changeset_destroy(&cs);
	free(env);
}

/* Where `needle` sits in the envelope, to know which flipped bytes are
 * inside a value. */
static size_t find(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return i;
	cr_assert_fail("%s not found", needle);
	return 0;
}

Test(protocol_changeset, every_flipped_byte_is_caught)
{
	uint8_t *env;
	size_t len;
	build_small(&env, &len, NULL);
	size_t v1 = find(env, len, "alpha"), v2 = find(env, len, "12.50");
	static const uint8_t masks[] = {0x01, 0x02, 0x40, 0x80, 0xff};
	size_t checked = 0;

	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof masks; m++) {
			uint8_t *c = malloc(len);
			memcpy(c, env, len);
			c[i] ^= masks[m];
			struct changeset *cs = NULL;
			struct err e = {{0}};
			int rc = changeset_decode(&cs, c, len, &e);
			bool in_value = (i >= v1 && i < v1 + 5) || (i >= v2 && i < v2 + 5);
			if (rc == 0) {
				cr_assert(!in_value, "byte %zu ^ 0x%02x: a changed value decoded", i, masks[m]);
				rc = changeset_verify(cs, &e);
				cr_assert_eq(rc, -EBADMSG, "byte %zu ^ 0x%02x decoded and verified", i, masks[m]);
				cr_assert(strstr(e.msg, "does not verify"), "%s", e.msg);
				changeset_destroy(&cs);
			} else {
				cr_assert_eq(rc, -EBADMSG, "byte %zu: rc %d", i, rc);
				cr_assert_neq(e.msg[0], 0, "byte %zu: no reason", i);
				if (in_value)
					cr_assert(strstr(e.msg, "value commitment does not match its value"),
						  "byte %zu: %s", i, e.msg);
			}
			free(c);
			checked++;
		}
	}
	cr_assert_eq(checked, len * sizeof masks);
	free(env);
}

Test(protocol_changeset, every_truncation_fails_cleanly)
{
	uint8_t *env;
	size_t len;
	build_small(&env, &len, NULL);
	size_t decoded = 0;
	for (size_t n = 0; n < len; n++) {
		/* An exact-size copy, so that reading past it is caught by ASan. */
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, env, n);
		struct changeset *cs = NULL;
		struct err e = {{0}};
		int rc = changeset_decode(&cs, c, n, &e);
		if (rc == 0) {
			/* Only a cut between two values leaves a valid envelope: the
			 * same signed body with a value erased. */
			size_t values = 0;
			for (size_t i = 0; i < cs->n_ops; i++)
				values += cs->ops[i].value != NULL;
			cr_assert_lt(values, 2, "length %zu", n);
			cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
			changeset_destroy(&cs);
			decoded++;
		} else {
			cr_assert_eq(rc, -EBADMSG);
			cr_assert_neq(e.msg[0], 0);
		}
		free(c);
	}
	cr_assert_eq(decoded, 2, "cuts before the first and the second value");
	free(env);
}

Test(protocol_changeset, oversized_refused_before_reading)
{
	struct changeset *cs = NULL;
	struct err e = {{0}};
	uint8_t one = 0x0a;
	/* The length alone is enough: a decoder that read the buffer would
	 * run off this one byte. */
	cr_assert_eq(changeset_decode(&cs, &one, 17000000, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: 17000000 bytes exceeds the limit of 16777216");
	cr_assert_null(cs);

	memset(&e, 0, sizeof e);
	uint8_t *big = calloc(1, LIMIT_ENVELOPE_BYTES + 1);
	cr_assert_eq(changeset_decode(&cs, big, LIMIT_ENVELOPE_BYTES + 1, &e), -EBADMSG);
	cr_assert(strstr(e.msg, "exceeds the limit of 16777216"), "%s", e.msg);
	free(big);

	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_decode(&cs, NULL, 0, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: empty");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

Test(protocol_changeset, random_bytes_never_crash)
{
	uint8_t *env;
	size_t len;
	build_small(&env, &len, NULL);
	size_t ok = 0;
	for (int round = 0; round < 6000; round++) {
		size_t n;
		uint8_t *c;
		if (round % 2 == 0) {
			/* Pure noise, often starting like an envelope. */
			n = rng() % 600;
			c = malloc(n ? n : 1);
			for (size_t i = 0; i < n; i++)
				c[i] = (uint8_t)rng();
			if (n && round % 4 == 0)
				c[0] = 0x0a;
		} else {
			/* A valid envelope with a few random bytes changed, inserted
			 * or cut. */
			n = len;
			c = malloc(len);
			memcpy(c, env, len);
			for (int k = 1 + (int)(rng() % 4); k > 0; k--)
				c[rng() % len] = (uint8_t)rng();
			if (rng() % 3 == 0)
				n = rng() % len;
		}
		struct changeset *cs = NULL;
		struct err e = {{0}};
		int rc = changeset_decode(&cs, c, n, &e);
		cr_assert(rc == 0 || rc == -EBADMSG, "rc %d", rc);
		if (rc == 0) {
			struct err e2 = {{0}};
			if (changeset_verify(cs, &e2) == 0)
				ok++;
			changeset_destroy(&cs);
		} else {
			cr_assert_neq(e.msg[0], 0);
		}
		free(c);
	}
	/* Cuts between values legitimately verify; nothing else should. */
	cr_assert_lt(ok, 6000 / 4);
	free(env);
}

/* ---- hand-crafted envelopes: one rule broken at a time ---- */

#define MAXOPS 4

struct raw {
	Strata__ChangeSetBody body;
	Strata__Op ops[MAXOPS];
	Strata__Op *op_ptrs[MAXOPS];
	Strata__Value vals[MAXOPS];
	Strata__Value *val_ptrs[MAXOPS];
	uint8_t author[KEY_BYTES], prev[HASH_BYTES], hash[MAXOPS][HASH_BYTES];
	uint8_t value[MAXOPS][8];
	char feed[64], coll[MAXOPS][64];
	const uint8_t *extra; /* appended to the packed body before signing */
	size_t extra_len;
	const struct keypair *signer;
};

/* A valid change set: puts of "v0", "v1" at M0, M1, then delete M2. */
static void raw_init(struct raw *r)
{
	memset(r, 0, sizeof *r);
	strata__change_set_body__init(&r->body);
	memcpy(r->author, keypair_public(kp), KEY_BYTES);
	r->body.author = (ProtobufCBinaryData){KEY_BYTES, r->author};
	strcpy(r->feed, "up");
	r->body.feed = r->feed;
	r->body.seq = 1;
	r->body.prev = (ProtobufCBinaryData){HASH_BYTES, r->prev};
	r->body.time_ms = 5;
	r->body.n_ops = 3;
	r->body.ops = r->op_ptrs;
	for (size_t i = 0; i < 3; i++) {
		Strata__Op *o = &r->ops[i];
		strata__op__init(o);
		r->op_ptrs[i] = o;
		strcpy(r->coll[i], "member");
		o->collection = r->coll[i];
		r->value[i][0] = 'M';
		r->value[i][1] = (uint8_t)('0' + i);
		o->key = (ProtobufCBinaryData){2, r->value[i]};
		o->kind = i < 2 ? STRATA__OP_KIND__OP_PUT : STRATA__OP_KIND__OP_DELETE;
		if (i < 2) {
			uint8_t *v = r->value[i] + 4;
			v[0] = 'v';
			v[1] = (uint8_t)('0' + i);
			hash_blake2b(r->hash[i], v, 2);
			o->has_value_hash = 1;
			o->value_hash = (ProtobufCBinaryData){HASH_BYTES, r->hash[i]};
			strata__value__init(&r->vals[i]);
			r->vals[i].op = (uint32_t)i;
			r->vals[i].data = (ProtobufCBinaryData){2, v};
			r->val_ptrs[i] = &r->vals[i];
		}
	}
	r->signer = kp;
}

static Strata__Envelope raw_envelope(struct raw *r, uint8_t **body_out)
{
	size_t blen = strata__change_set_body__get_packed_size(&r->body);
	uint8_t *body = malloc(blen + r->extra_len + 1);
	strata__change_set_body__pack(&r->body, body);
	if (r->extra_len)
		memcpy(body + blen, r->extra, r->extra_len);
	blen += r->extra_len;
	static uint8_t sig[SIG_BYTES];
	cr_assert_eq(keypair_sign(r->signer, DOMAIN_CHANGESET, body, blen, sig), 0);
	Strata__Envelope env = STRATA__ENVELOPE__INIT;
	env.body = (ProtobufCBinaryData){blen, body};
	env.signature = (ProtobufCBinaryData){SIG_BYTES, sig};
	env.n_values = 2;
	env.values = r->val_ptrs;
	*body_out = body;
	return env;
}

static uint8_t *pack_env(const Strata__Envelope *env, size_t *len)
{
	*len = strata__envelope__get_packed_size(env);
	uint8_t *buf = malloc(*len + 1);
	strata__envelope__pack(env, buf);
	return buf;
}

/* Decodes and returns the result; the reason in *e. */
static int decode_env(const Strata__Envelope *env, struct err *e)
{
	size_t len;
	uint8_t *buf = pack_env(env, &len);
	struct changeset *cs = NULL;
	memset(e, 0, sizeof *e);
	int rc = changeset_decode(&cs, buf, len, e);
	if (rc == 0) {
		rc = changeset_verify(cs, e);
		changeset_destroy(&cs);
	}
	free(buf);
	return rc;
}

static int decode_raw(struct raw *r, struct err *e)
{
	uint8_t *body;
	Strata__Envelope env = raw_envelope(r, &body);
	int rc = decode_env(&env, e);
	free(body);
	return rc;
}

#define expect_reason(r, text)                                                              \
	do {                                                                                 \
		struct err e_;                                                               \
		cr_assert_eq(decode_raw(r, &e_), -EBADMSG, "expected: %s", text);            \
		cr_assert(strstr(e_.msg, text), "wanted \"%s\", got \"%s\"", text, e_.msg); \
	} while (0)

Test(protocol_changeset, raw_baseline_is_valid)
{
	struct raw r;
	struct err e;
	raw_init(&r);
	cr_assert_eq(decode_raw(&r, &e), 0, "%s", e.msg);
}

Test(protocol_changeset, seq_rules)
{
	struct raw r;
	raw_init(&r);
	r.body.seq = 0;
	expect_reason(&r, "envelope: body: seq is 0");

	raw_init(&r);
	r.prev[31] = 1;
	expect_reason(&r, "envelope: body: seq 1 has a non-zero prev");

	struct err e;
	raw_init(&r);
	r.prev[31] = 1;
	r.body.seq = 2;
	cr_assert_eq(decode_raw(&r, &e), 0, "%s", e.msg);
}

Test(protocol_changeset, field_lengths)
{
	struct raw r;
	raw_init(&r);
	r.body.author.len = 31;
	expect_reason(&r, "envelope: body: author is 31 bytes, not 32");

	raw_init(&r);
	r.body.prev.len = 0;
	expect_reason(&r, "envelope: body: prev is 0 bytes, not 32");

	raw_init(&r);
	r.ops[1].value_hash.len = 31;
	expect_reason(&r, "envelope: op 1: value hash is 31 bytes, not 32");

	raw_init(&r);
	r.ops[0].key.len = 0;
	expect_reason(&r, "envelope: op 0: key is empty");

	raw_init(&r);
	uint8_t key[LIMIT_KEY_BYTES + 1];
	memset(key, 'k', sizeof key);
	r.ops[2].key = (ProtobufCBinaryData){sizeof key, key};
	expect_reason(&r, "envelope: op 2: key of 257 bytes exceeds the limit of 256");
	r.ops[2].key.len = LIMIT_KEY_BYTES;
	struct err e;
	cr_assert_eq(decode_raw(&r, &e), 0, "%s", e.msg);

	uint8_t *body;
	raw_init(&r);
	Strata__Envelope env = raw_envelope(&r, &body);
	env.signature.len = 63;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: signature is 63 bytes, not 64");
	free(body);
}

Test(protocol_changeset, names)
{
	static const struct {
		const char *name, *reason;
	} bad[] = {
		{"", "name is empty"},
		{"Up", "name: byte 0 (0x55) is not one of [a-z0-9_-]"},
		{"a b", "name: byte 1 (0x20) is not one of"},
		{"up\x1b[2J", "name: byte 2 (0x1b)"},
		{"caf\xc3\xa9", "name: byte 3 (0xc3)"},
		{"up\xff", "name: byte 2 (0xff)"},
		{"abcdefghijklmnopqrstuvwxyz0123456", "name of 33 bytes exceeds the limit of 32"},
	};
	struct raw r;
	char want[128];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		raw_init(&r);
		strcpy(r.feed, bad[i].name);
		snprintf(want, sizeof want, "envelope: body: feed %s", bad[i].reason);
		expect_reason(&r, want);

		raw_init(&r);
		strcpy(r.coll[1], bad[i].name);
		snprintf(want, sizeof want, "envelope: op 1: collection %s", bad[i].reason);
		expect_reason(&r, want);
	}
	struct err e;
	raw_init(&r);
	strcpy(r.feed, "abcdefghijklmnopqrstuvwxyz_-0123");
	strcpy(r.coll[0], "x");
	cr_assert_eq(decode_raw(&r, &e), 0, "%s", e.msg);
}

Test(protocol_changeset, nul_inside_a_name)
{
	/* protobuf-c would hand "up" out of "up\0x": the body must be refused
	 * as not canonical, so one content never has two hashes. */
	struct raw r;
	raw_init(&r);
	strcpy(r.feed, "upzx");
	size_t blen = strata__change_set_body__get_packed_size(&r.body);
	uint8_t *body = malloc(blen);
	strata__change_set_body__pack(&r.body, body);
	size_t at = find(body, blen, "upzx");
	body[at + 2] = 0;
	uint8_t sig[SIG_BYTES];
	cr_assert_eq(keypair_sign(kp, DOMAIN_CHANGESET, body, blen, sig), 0);
	Strata__Envelope env = STRATA__ENVELOPE__INIT;
	env.body = (ProtobufCBinaryData){blen, body};
	env.signature = (ProtobufCBinaryData){SIG_BYTES, sig};
	env.n_values = 2;
	env.values = r.val_ptrs;
	struct err e;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert(strstr(e.msg, "envelope: body is not in canonical encoding"), "%s", e.msg);
	free(body);
}

Test(protocol_changeset, duplicate_field_in_body)
{
	/* seq sent twice: protobuf-c keeps the last; we refuse the body. */
	struct raw r;
	raw_init(&r);
	r.body.seq = 2;
	static const uint8_t seq_again[] = {0x18, 0x03};
	r.extra = seq_again;
	r.extra_len = sizeof seq_again;
	expect_reason(&r, "not in canonical encoding");
}

Test(protocol_changeset, op_kinds_and_hashes)
{
	struct raw r;
	raw_init(&r);
	r.ops[0].kind = (Strata__OpKind)3;
	expect_reason(&r, "envelope: op 0: kind 3 is neither put (1) nor delete (2)");

	raw_init(&r);
	r.ops[1].has_value_hash = 0;
	expect_reason(&r, "envelope: op 1: put has no value hash");

	raw_init(&r);
	r.ops[2].has_value_hash = 1;
	r.ops[2].value_hash = (ProtobufCBinaryData){HASH_BYTES, r.hash[0]};
	expect_reason(&r, "envelope: op 2: delete carries a value hash");
}

Test(protocol_changeset, unknown_fields_at_every_level)
{
	/* Appended to the body bytes, then re-signed: field 15, varint 1. */
	static const uint8_t field15[] = {0x78, 0x01};
	struct raw r;
	raw_init(&r);
	r.extra = field15;
	r.extra_len = sizeof field15;
	expect_reason(&r, "envelope: body: unknown field 15");

	static uint8_t nine = 5;
	ProtobufCMessageUnknownField uf = {.tag = 9, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = &nine};

	raw_init(&r);
	r.ops[1].base.n_unknown_fields = 1;
	r.ops[1].base.unknown_fields = &uf;
	expect_reason(&r, "envelope: op 1: unknown field 9");

	raw_init(&r);
	r.vals[1].base.n_unknown_fields = 1;
	r.vals[1].base.unknown_fields = &uf;
	expect_reason(&r, "envelope: value 1: unknown field 9");

	uint8_t *body;
	struct err e;
	raw_init(&r);
	Strata__Envelope env = raw_envelope(&r, &body);
	env.base.n_unknown_fields = 1;
	env.base.unknown_fields = &uf;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: unknown field 9");
	free(body);
}

Test(protocol_changeset, value_rules)
{
	struct raw r;
	uint8_t *body;
	struct err e;

	/* A value for the delete at op 2. */
	raw_init(&r);
	Strata__Value v2 = STRATA__VALUE__INIT;
	v2.op = 2;
	v2.data = (ProtobufCBinaryData){1, (uint8_t *)"x"};
	Strata__Value *three[] = {r.val_ptrs[0], r.val_ptrs[1], &v2};
	Strata__Envelope env = raw_envelope(&r, &body);
	env.n_values = 3;
	env.values = three;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: value 2 names op 2, which is a delete");

	/* Out of order, and the same op twice. */
	Strata__Value *swapped[] = {r.val_ptrs[1], r.val_ptrs[0]};
	env.n_values = 2;
	env.values = swapped;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert(strstr(e.msg, "envelope: value 1 names op 0 after op 1; values must be in strictly increasing "
				"op order"), "%s", e.msg);
	Strata__Value *twice[] = {r.val_ptrs[0], r.val_ptrs[0]};
	env.values = twice;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert(strstr(e.msg, "strictly increasing"), "%s", e.msg);

	/* Beyond the last op. */
	Strata__Value v9 = STRATA__VALUE__INIT;
	v9.op = 9;
	Strata__Value *beyond[] = {r.val_ptrs[0], &v9};
	env.values = beyond;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: value 1 names op 9, but the body has 3 ops");

	/* A value that is not the one hashed. */
	Strata__Value wrong = STRATA__VALUE__INIT;
	wrong.op = 1;
	wrong.data = (ProtobufCBinaryData){2, (uint8_t *)"v9"};
	Strata__Value *mismatch[] = {r.val_ptrs[0], &wrong};
	env.values = mismatch;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: op 1: value hash does not match its value");

	/* Values may be absent (erased): none at all is fine. */
	env.n_values = 0;
	cr_assert_eq(decode_env(&env, &e), 0, "%s", e.msg);
	free(body);

	/* One byte over the value limit, with a matching hash. */
	raw_init(&r);
	uint8_t *big = calloc(1, LIMIT_VALUE_BYTES + 1);
	hash_blake2b(r.hash[0], big, LIMIT_VALUE_BYTES + 1);
	r.vals[0].data = (ProtobufCBinaryData){LIMIT_VALUE_BYTES + 1, big};
	expect_reason(&r, "envelope: op 0: value of 65537 bytes exceeds the limit of 65536");
	hash_blake2b(r.hash[0], big, LIMIT_VALUE_BYTES);
	r.vals[0].data.len = LIMIT_VALUE_BYTES;
	cr_assert_eq(decode_raw(&r, &e), 0, "%s", e.msg);
	free(big);
}

Test(protocol_changeset, too_many_ops_and_values)
{
	size_t n = LIMIT_OPS + 1;
	struct raw r;
	raw_init(&r);
	Strata__Op **ops = calloc(n, sizeof *ops);
	for (size_t i = 0; i < n; i++)
		ops[i] = &r.ops[2]; /* the same delete, n times */
	r.body.n_ops = n;
	r.body.ops = ops;
	uint8_t *body;
	Strata__Envelope env = raw_envelope(&r, &body);
	env.n_values = 0;
	struct err e;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: body: 10001 ops exceeds the limit of 10000");
	free(body);

	r.body.n_ops = LIMIT_OPS;
	env = raw_envelope(&r, &body);
	env.n_values = 0;
	cr_assert_eq(decode_env(&env, &e), 0, "%s", e.msg);

	/* Values are counted before the envelope is unpacked. */
	Strata__Value **vals = calloc(n, sizeof *vals);
	for (size_t i = 0; i < n; i++)
		vals[i] = r.val_ptrs[0];
	env.n_values = n;
	env.values = vals;
	cr_assert_eq(decode_env(&env, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: 10001 values exceeds the limit of 10000");
	free(body);
	free(vals);
	free(ops);
}

Test(protocol_changeset, malformed_frames)
{
	struct changeset *cs = NULL;
	struct err e = {{0}};
	/* Only a body field: the signature is missing. */
	static const uint8_t no_sig[] = {0x0a, 0x01, 0x08};
	cr_assert_eq(changeset_decode(&cs, no_sig, sizeof no_sig, &e), -EBADMSG);
	cr_assert(strstr(e.msg, "envelope: not an Envelope message"), "%s", e.msg);

	/* A length running past the end. */
	static const uint8_t past[] = {0x0a, 0x05, 0x08};
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_decode(&cs, past, sizeof past, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: malformed protobuf at byte 0");

	/* A group (wire type 3), and field number 0. */
	static const uint8_t group[] = {0x0b, 0x0c};
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_decode(&cs, group, sizeof group, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, "envelope: malformed protobuf at byte 0");
	static const uint8_t zero_field[] = {0x00, 0x00};
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_decode(&cs, zero_field, sizeof zero_field, &e), -EBADMSG);

	/* An 11-byte varint. */
	uint8_t long_varint[12] = {0x08};
	memset(long_varint + 1, 0xff, 10);
	long_varint[11] = 0x01;
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_decode(&cs, long_varint, sizeof long_varint, &e), -EBADMSG);
	cr_assert_null(cs);
}

Test(protocol_changeset, signature_by_another_key)
{
	struct raw r;
	raw_init(&r);
	r.signer = kp2; /* the author field still names kp */
	char want[160], hex[KEY_HEX];
	key_hex(hex, keypair_public(kp));
	snprintf(want, sizeof want, "signature by %.16s\u2026 does not verify for feed up seq 1", hex);
	struct err e;
	cr_assert_eq(decode_raw(&r, &e), -EBADMSG);
	cr_assert_str_eq(e.msg, want);
}

Test(protocol_changeset, strip_value_keeps_the_signed_bytes)
{
	uint8_t *env, *s1, *s2;
	size_t len, l1, l2;
	struct changeset *cs = NULL, *c1 = NULL, *c2 = NULL;
	struct err e = {{0}};
	build_small(&env, &len, NULL);
	cr_assert_eq(changeset_decode(&cs, env, len, &e), 0, "%s", e.msg);

	cr_assert_eq(changeset_strip_value(cs, 0, &s1, &l1, &e), 0, "%s", e.msg);
	cr_assert_lt(l1, len);
	cr_assert_eq(changeset_decode(&c1, s1, l1, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(c1, &e), 0, "%s", e.msg);
	cr_assert_eq(c1->body_len, cs->body_len);
	cr_assert_arr_eq(c1->body, cs->body, cs->body_len);
	cr_assert_arr_eq(c1->signature, cs->signature, SIG_BYTES);
	cr_assert_arr_eq(c1->hash, cs->hash, HASH_BYTES);
	cr_assert_null(c1->ops[0].value);
	cr_assert_eq(c1->ops[0].value_len, 0);
	cr_assert_arr_eq(c1->ops[0].value_hash, cs->ops[0].value_hash, HASH_BYTES);
	cr_assert_arr_eq(c1->ops[2].value, "12.50", 5);

	/* No value at a delete, at an erased put, or past the end. */
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_strip_value(c1, 1, &s2, &l2, &e), -ENOENT);
	cr_assert_str_eq(e.msg, "envelope: op 1 has no value to strip");
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_strip_value(c1, 0, &s2, &l2, &e), -ENOENT);
	memset(&e, 0, sizeof e);
	cr_assert_eq(changeset_strip_value(c1, 3, &s2, &l2, &e), -ENOENT);

	cr_assert_eq(changeset_strip_value(c1, 2, &s2, &l2, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_decode(&c2, s2, l2, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(c2, &e), 0, "%s", e.msg);
	cr_assert_arr_eq(c2->body, cs->body, cs->body_len);
	cr_assert_null(c2->ops[0].value);
	cr_assert_null(c2->ops[2].value);
	/* Nothing but the frame: body field and signature field. */
	cr_assert_eq(l2, 1 + (cs->body_len < 128 ? 1 : 2) + cs->body_len + 2 + SIG_BYTES);

	changeset_destroy(&c2);
	changeset_destroy(&c1);
	changeset_destroy(&cs);
	free(s2);
	free(s1);
	free(env);
}
