/* SPDX-License-Identifier: MIT */
/*
 * docs/vectors/changeset.json, recomputed: each vector's body, signed bytes,
 * signature, entry hash and envelope from its seed and ops, encoded with
 * protobuf-c as Strata's builder encodes them (fields in number order,
 * minimal varints) and signed with Strata's key code; then the envelope is
 * decoded and verified by Strata's decoder, the signature checked again with
 * libsodium directly, the erased envelope made by changeset_strip_value, and
 * the record values validated by record_check. Any changed byte of the file
 * fails a comparison here. (The builder itself is not called: it writes
 * salted puts, whose vectors are salted.json's.)
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "protocol/protocol.h"
#include "vector_file.h"

#define MAX_OPS 8

/* The ops of a vector as protobuf messages, with their values. */
struct ops {
	size_t n;
	Strata__Op op[MAX_OPS], *ptr[MAX_OPS];
	Strata__Value val[MAX_OPS], *vptr[MAX_OPS];
	size_t n_values;
	uint8_t *key[MAX_OPS], *data[MAX_OPS], hash[MAX_OPS][HASH_BYTES];
	char coll[MAX_OPS][LIMIT_NAME_BYTES + 1];
};

static void op_read(const json_t *x, const json_t *want_hash, size_t i, struct ops *o)
{
	bool put = strcmp(vf_str(x, "kind"), "put") == 0;
	Strata__Op init = STRATA__OP__INIT;
	Strata__Value vinit = STRATA__VALUE__INIT;
	uint8_t again[HASH_BYTES];
	size_t kl, dl;

	o->op[i] = init;
	o->ptr[i] = &o->op[i];
	snprintf(o->coll[i], sizeof o->coll[i], "%s", vf_str(x, "collection"));
	o->key[i] = vf_hex(x, "key", &kl);
	o->op[i].kind = put ? STRATA__OP_KIND__OP_PUT : STRATA__OP_KIND__OP_DELETE;
	o->op[i].collection = o->coll[i];
	o->op[i].key = (ProtobufCBinaryData){kl, o->key[i]};
	if (!put) {
		cr_assert(json_is_null(want_hash), "op %zu: a delete has no value hash", i);
		return;
	}
	o->data[i] = vf_hex(x, "value", &dl);
	hash_blake2b(o->hash[i], o->data[i], dl);
	vf_assert_hex_is(json_string_value(want_hash), "value hash", o->hash[i], HASH_BYTES);
	crypto_generichash(again, sizeof again, o->data[i], dl, NULL, 0); /* libsodium directly */
	cr_assert_eq(memcmp(again, o->hash[i], HASH_BYTES), 0);
	o->op[i].has_value_hash = 1;
	o->op[i].value_hash = (ProtobufCBinaryData){HASH_BYTES, o->hash[i]};
	o->val[o->n_values] = vinit;
	o->val[o->n_values].op = (uint32_t)i;
	o->val[o->n_values].data = (ProtobufCBinaryData){dl, o->data[i]};
	o->vptr[o->n_values] = &o->val[o->n_values];
	o->n_values++;
}

static void ops_read(const json_t *v, struct ops *o)
{
	const json_t *arr = json_object_get(v, "ops"), *hashes = json_object_get(v, "value_hashes"), *x;
	size_t i;

	memset(o, 0, sizeof *o);
	cr_assert(json_array_size(arr) > 0 && json_array_size(arr) <= MAX_OPS);
	cr_assert_eq(json_array_size(hashes), json_array_size(arr));
	json_array_foreach(arr, i, x)
		op_read(x, json_array_get(hashes, i), i, o);
	o->n = json_array_size(arr);
}

static void ops_free(struct ops *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->key[i]);
		free(o->data[i]);
	}
}

static uint8_t *pack_body(const json_t *v, const uint8_t pk[KEY_BYTES], struct ops *o, size_t *len)
{
	Strata__ChangeSetBody b = STRATA__CHANGE_SET_BODY__INIT;
	uint8_t prev[HASH_BYTES], *out;
	char feed[LIMIT_NAME_BYTES + 1];

	vf_hex_n(v, "prev", prev, sizeof prev);
	snprintf(feed, sizeof feed, "%s", vf_str(v, "feed"));
	b.author = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)pk};
	b.feed = feed;
	b.seq = vf_u64(v, "seq");
	b.prev = (ProtobufCBinaryData){HASH_BYTES, prev};
	b.time_ms = vf_u64(v, "time_ms");
	b.n_ops = o->n;
	b.ops = o->ptr;
	*len = strata__change_set_body__get_packed_size(&b);
	cr_assert((out = malloc(*len)));
	strata__change_set_body__pack(&b, out);
	return out;
}

static uint8_t *pack_envelope(const uint8_t *body, size_t body_len, const uint8_t sig[SIG_BYTES], struct ops *o,
			      size_t *len)
{
	Strata__Envelope env = STRATA__ENVELOPE__INIT;
	uint8_t *out;

	env.body = (ProtobufCBinaryData){body_len, (uint8_t *)body};
	env.signature = (ProtobufCBinaryData){SIG_BYTES, (uint8_t *)sig};
	env.n_values = o->n_values;
	env.values = o->vptr;
	*len = strata__envelope__get_packed_size(&env);
	cr_assert((out = malloc(*len)));
	strata__envelope__pack(&env, out);
	return out;
}

/* The signed bytes, and the signature by Strata's key code and by libsodium. */
static void check_signature(const json_t *v, const struct keypair *kp, const uint8_t *body, size_t body_len,
			    uint8_t sig[SIG_BYTES])
{
	size_t dl = strlen(DOMAIN_CHANGESET) + 1, ml;
	uint8_t *msg = malloc(dl + body_len), *want;

	cr_assert(msg);
	memcpy(msg, DOMAIN_CHANGESET, dl); /* with its NUL */
	memcpy(msg + dl, body, body_len);
	vf_assert_hex(v, "signed_message", msg, dl + body_len);
	cr_assert_eq(keypair_sign(kp, DOMAIN_CHANGESET, body, body_len, sig), 0);
	vf_assert_hex(v, "signature", sig, SIG_BYTES);
	want = vf_hex(v, "signature", &ml);
	cr_assert_eq(ml, SIG_BYTES);
	cr_assert_eq(crypto_sign_verify_detached(want, msg, dl + body_len, keypair_public(kp)), 0,
		     "libsodium does not verify the vector's signature");
	free(want);
	free(msg);
}

/* Strata's decoder takes the envelope whole; the erased form is what
 * changeset_strip_value makes, and decodes too. */
static void check_decode(const json_t *v, const uint8_t *env, size_t env_len, const struct ops *o)
{
	struct changeset *cs = NULL, *cs2 = NULL;
	struct err e = {{0}};
	uint8_t *stripped = NULL;
	size_t sl;

	cr_assert_eq(changeset_decode(&cs, env, env_len, &e), 0, "%s", e.msg);
	cr_assert_eq(changeset_verify(cs, &e), 0, "%s", e.msg);
	vf_assert_hex(v, "entry_hash", cs->hash, HASH_BYTES);
	cr_assert_eq(cs->seq, vf_u64(v, "seq"));
	cr_assert_eq(cs->time_ms, vf_u64(v, "time_ms"));
	cr_assert_eq(cs->n_ops, o->n);
	if (json_object_get(v, "erased_op")) {
		cr_assert_eq(changeset_strip_value(cs, vf_u64(v, "erased_op"), &stripped, &sl, &e), 0, "%s", e.msg);
		vf_assert_hex(v, "envelope_erased", stripped, sl);
		cr_assert_eq(changeset_decode(&cs2, stripped, sl, &e), 0, "%s", e.msg);
		cr_assert_eq(memcmp(cs2->hash, cs->hash, HASH_BYTES), 0, "erasing a value changed the entry hash");
		cr_assert_null(cs2->ops[vf_u64(v, "erased_op")].value);
	}
	changeset_destroy(&cs);
	changeset_destroy(&cs2);
	free(stripped);
}

static void check_vector(const json_t *v)
{
	uint8_t seed[SEED_BYTES], pk[KEY_BYTES], sk[2 * KEY_BYTES], sig[SIG_BYTES], *body, *env;
	size_t body_len, env_len;
	struct keypair *kp = NULL;
	struct err e = {{0}};
	struct ops o;

	vf_hex_n(v, "seed", seed, sizeof seed);
	cr_assert_eq(keypair_from_seed(&kp, seed, &e), 0, "%s", e.msg);
	vf_assert_hex(v, "public_key", keypair_public(kp), KEY_BYTES);
	crypto_sign_seed_keypair(pk, sk, seed);
	cr_assert_eq(memcmp(pk, keypair_public(kp), KEY_BYTES), 0);
	ops_read(v, &o);
	body = pack_body(v, pk, &o, &body_len);
	vf_assert_hex(v, "body", body, body_len);
	check_signature(v, kp, body, body_len, sig);
	env = pack_envelope(body, body_len, sig, &o, &env_len);
	vf_assert_hex(v, "envelope", env, env_len);
	check_decode(v, env, env_len, &o);
	free(env);
	free(body);
	ops_free(&o);
	keypair_destroy(&kp);
}

Test(vectors_changeset, every_vector)
{
	json_t *doc = vf_load("changeset");
	const json_t *v;
	size_t i;

	cr_assert_eq(keys_init(), 0);
	json_array_foreach(json_object_get(doc, "vectors"), i, v)
	{
		cr_assert_str_eq(vf_str(v, "kind"), "changeset");
		check_vector(v);
	}
	json_decref(doc);
}

/* Each entry's prev is the entry hash of the one before it in the file. */
Test(vectors_changeset, chained)
{
	json_t *doc = vf_load("changeset");
	const json_t *all = json_object_get(doc, "vectors");

	for (size_t i = 1; i < json_array_size(all); i++) {
		const json_t *v = json_array_get(all, i), *before = json_array_get(all, i - 1);

		cr_assert_eq(vf_u64(v, "seq"), vf_u64(before, "seq") + 1);
		cr_assert_str_eq(vf_str(v, "prev"), vf_str(before, "entry_hash"));
	}
	json_decref(doc);
}

/* The record values of multi-op are valid records as a receiver checks them. */
Test(vectors_changeset, records_valid)
{
	json_t *doc = vf_load("changeset");
	const json_t *v = vf_vector(doc, "multi-op"), *r;
	const json_t *ops = json_object_get(v, "ops");
	struct err e = {{0}};
	size_t i;

	json_array_foreach(json_object_get(v, "records"), i, r)
	{
		const json_t *op = json_array_get(ops, vf_u64(r, "op"));
		size_t kl, vl;
		uint8_t *key = vf_hex(op, "key", &kl), *val = vf_hex(op, "value", &vl);

		cr_assert_str_eq(vf_str(op, "collection"), vf_str(r, "collection"));
		cr_assert_eq(record_check(vf_str(r, "collection"), vf_str(v, "feed"), key, kl, val, vl, &e), 0, "%s",
			     e.msg);
		free(key);
		free(val);
	}
	json_decref(doc);
}
