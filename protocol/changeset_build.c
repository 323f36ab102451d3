/* SPDX-License-Identifier: MIT */
/*
 * Building a change set: ops and their values are collected into one arena
 * that grows geometrically, the exact encoded size is tracked as ops are
 * added (so a caller can cut batches by size and every limit is refused at
 * the op that would break it), and finish encodes the body once, signs it
 * and frames it with its values into an envelope.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol/protocol.h"

#define SALT_POOL 64 /* salts one random draw makes: 2 KiB */

/* Salts are drawn SALT_POOL at a time: one getrandom call per salt cost
 * more than building the rest of the op (bench/: member import). The pool
 * is per thread, not per builder, so that a change set of one op does not
 * draw 2 KiB for its one salt. Each salt is zeroed in the pool once taken:
 * what is left there is never written anywhere. */
static _Thread_local struct {
	uint8_t salt[SALT_POOL][SALT_BYTES];
	size_t left;
} pool;

/* A child of fork() must not draw the salts its parent still holds: two
 * values with one salt, and erasing one of them would leave its salt
 * beside the other. The forking thread's pool is emptied in the child. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void pool_forget(void)
{
	sodium_memzero(&pool, sizeof pool);
}

static void atfork_register(void)
{
	(void)pthread_atfork(NULL, NULL, pool_forget);
}

static void salt_draw(uint8_t salt[SALT_BYTES])
{
	if (pool.left == 0) {
		uint8_t seed[randombytes_SEEDBYTES];

		(void)pthread_once(&atfork_once, atfork_register);
		/* a fresh 256-bit seed from the system, expanded with ChaCha20
		 * in this process: 5 times cheaper than 2 KiB from getrandom */
		randombytes_buf(seed, sizeof seed);
		randombytes_buf_deterministic(pool.salt, sizeof pool.salt, seed);
		sodium_memzero(seed, sizeof seed);
		pool.left = SALT_POOL;
	}
	pool.left--;
	memcpy(salt, pool.salt[pool.left], SALT_BYTES);
	sodium_memzero(pool.salt[pool.left], SALT_BYTES);
}

/* changeset_test_salts: read by changeset_builder_new only. */
static struct {
	changeset_salt_fn *draw;
	void *ctx;
	bool unsalted;
} test_salts;

void changeset_test_salts(changeset_salt_fn *draw, void *ctx, bool unsalted)
{
	test_salts.draw = draw;
	test_salts.ctx = ctx;
	test_salts.unsalted = unsalted;
}

/* One collected op; offsets into the arena, which moves as it grows. */
struct bop {
	enum op_kind kind;
	size_t coll; /* NUL-terminated */
	size_t key, key_len;
	size_t val, val_len;
	uint8_t value_hash[HASH_BYTES]; /* the commitment: value_commit, or value_hash if unsalted */
	uint8_t salt[SALT_BYTES];
};

struct changeset_builder {
	char feed[LIMIT_NAME_BYTES + 1];
	uint64_t seq;
	uint8_t prev[HASH_BYTES];
	uint64_t time_ms;
	struct bop *ops;
	size_t n_ops, cap_ops;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	size_t body_bytes;   /* encoded ChangeSetBody so far */
	size_t values_bytes; /* encoded values fields so far */
	bool finished;
	bool unsalted;            /* tests only: puts in the old form */
	changeset_salt_fn *draw;  /* tests only: salts from here, not random */
	void *draw_ctx;
};

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* A length-delimited field with a one-byte tag (field numbers below 16). */
static size_t ld_len(size_t len)
{
	return 1 + varint_len(len) + len;
}

static size_t envelope_len(size_t body_bytes, size_t values_bytes)
{
	return ld_len(body_bytes) + ld_len(SIG_BYTES) + values_bytes;
}

static int name_ok(const char *name, const char *what, struct err *e)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > LIMIT_NAME_BYTES) {
		err_set(e, "change set: %s name must be 1 to %u bytes", what, LIMIT_NAME_BYTES);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
			err_set(e, "change set: %s name: byte %zu (0x%02x) is not one of [a-z0-9_-]", what, i,
				c);
			return -EINVAL;
		}
	}
	return 0;
}

int changeset_builder_new(struct changeset_builder **out, const char *feed, uint64_t seq,
			  const uint8_t prev[HASH_BYTES], uint64_t time_ms, struct err *e)
{
	static const uint8_t zero[HASH_BYTES];
	struct changeset_builder *b = NULL;
	int ret = -EINVAL;

	if (name_ok(feed, "feed", e) < 0)
		goto out;
	if (!prev)
		prev = zero;
	if (seq == 0) {
		err_set(e, "change set: seq is 0; a feed starts at seq 1");
		goto out;
	}
	if (seq == 1 && memcmp(prev, zero, HASH_BYTES) != 0) {
		err_set(e, "change set: seq 1 must have an all-zero prev");
		goto out;
	}
	ret = -ENOMEM;
	if (!(b = calloc(1, sizeof *b))) {
		err_set(e, "change set: out of memory");
		goto out;
	}
	strcpy(b->feed, feed);
	b->seq = seq;
	memcpy(b->prev, prev, HASH_BYTES);
	b->time_ms = time_ms;
	b->unsalted = test_salts.unsalted;
	b->draw = test_salts.draw;
	b->draw_ctx = test_salts.ctx;
	b->body_bytes = ld_len(KEY_BYTES) + ld_len(strlen(feed)) + 1 + varint_len(seq) + ld_len(HASH_BYTES) +
			1 + varint_len(time_ms);
	*out = b;
	ret = 0;
out:
	return ret;
}

/* Copies n bytes (and a NUL if nul) into the arena; the offset in *off. */
static int arena_put(struct changeset_builder *b, const void *p, size_t n, bool nul, size_t *off)
{
	size_t need = b->arena_len + n + nul;
	if (need > b->arena_cap) {
		size_t cap = b->arena_cap ? b->arena_cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *a = realloc(b->arena, cap);
		if (!a)
			return -ENOMEM;
		b->arena = a;
		b->arena_cap = cap;
	}
	*off = b->arena_len;
	if (n)
		memcpy(b->arena + b->arena_len, p, n);
	if (nul)
		b->arena[b->arena_len + n] = 0;
	b->arena_len = need;
	return 0;
}

/* The commitment of put o to its value (in the arena at o->val): a fresh
 * salt and the keyed hash, or the old plain hash for a test's unsalted
 * builder. */
static void commit_put(struct changeset_builder *b, struct bop *o, size_t idx)
{
	const uint8_t *value = b->arena + o->val;

	if (b->unsalted) {
		hash_blake2b(o->value_hash, value, o->val_len);
		return;
	}
	if (b->draw)
		b->draw(b->draw_ctx, idx, o->salt);
	else
		salt_draw(o->salt);
	changeset_value_commit(o->value_hash, o->salt, value, o->val_len);
}

static int add(struct changeset_builder *b, enum op_kind kind, const char *collection, const uint8_t *key,
	       size_t key_len, const uint8_t *value, size_t value_len, struct err *e)
{
	if (b->finished) {
		err_set(e, "change set: already finished");
		return -EINVAL;
	}
	if (b->n_ops >= LIMIT_OPS) {
		err_set(e, "change set: %u ops is the limit", LIMIT_OPS);
		return -E2BIG;
	}
	if (name_ok(collection, "collection", e) < 0)
		return -EINVAL;
	if (key_len == 0 || !key) {
		err_set(e, "change set: op %zu: key is empty", b->n_ops);
		return -EINVAL;
	}
	if (key_len > LIMIT_KEY_BYTES) {
		err_set(e, "change set: op %zu: key of %zu bytes exceeds the limit of %u", b->n_ops, key_len,
			LIMIT_KEY_BYTES);
		return -E2BIG;
	}
	if (kind == OP_PUT && value_len > LIMIT_VALUE_BYTES) {
		err_set(e, "change set: op %zu: value of %zu bytes exceeds the limit of %u", b->n_ops,
			value_len, LIMIT_VALUE_BYTES);
		return -E2BIG;
	}
	if (kind == OP_PUT && value_len && !value) {
		err_set(e, "change set: op %zu: value is NULL", b->n_ops);
		return -EINVAL;
	}

	size_t clen = strlen(collection);
	size_t op_bytes = 2 + ld_len(clen) + ld_len(key_len) + (kind == OP_PUT ? ld_len(HASH_BYTES) : 0);
	size_t body = b->body_bytes + ld_len(op_bytes);
	size_t values = b->values_bytes;
	if (kind == OP_PUT)
		values += ld_len(1 + varint_len(b->n_ops) + ld_len(value_len) + (b->unsalted ? 0 : ld_len(SALT_BYTES)));
	size_t total = envelope_len(body, values);
	if (total > LIMIT_ENVELOPE_BYTES) {
		err_set(e, "change set: op %zu would make the envelope %zu bytes, over the limit of %u",
			b->n_ops, total, LIMIT_ENVELOPE_BYTES);
		return -E2BIG;
	}

	if (b->n_ops == b->cap_ops) {
		size_t cap = b->cap_ops ? b->cap_ops * 2 : 64;
		struct bop *ops = realloc(b->ops, cap * sizeof *ops);
		if (!ops)
			goto nomem;
		b->ops = ops;
		b->cap_ops = cap;
	}
	struct bop *o = &b->ops[b->n_ops];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->key_len = key_len;
	if (arena_put(b, collection, clen, true, &o->coll) < 0 || arena_put(b, key, key_len, false, &o->key) < 0)
		goto nomem;
	if (kind == OP_PUT) {
		if (arena_put(b, value, value_len, false, &o->val) < 0)
			goto nomem;
		o->val_len = value_len;
		commit_put(b, o, b->n_ops);
	}
	b->n_ops++;
	b->body_bytes = body;
	b->values_bytes = values;
	return 0;
nomem:
	/* The op was not counted; what it put in the arena is dead weight. */
	err_set(e, "change set: out of memory");
	return -ENOMEM;
}

int changeset_builder_put(struct changeset_builder *b, const char *collection, const uint8_t *key,
			  size_t key_len, const uint8_t *value, size_t value_len, struct err *e)
{
	return add(b, OP_PUT, collection, key, key_len, value, value_len, e);
}

int changeset_builder_delete(struct changeset_builder *b, const char *collection, const uint8_t *key,
			     size_t key_len, struct err *e)
{
	return add(b, OP_DELETE, collection, key, key_len, NULL, 0, e);
}

size_t changeset_builder_ops(const struct changeset_builder *b)
{
	return b->n_ops;
}

size_t changeset_builder_bytes(const struct changeset_builder *b)
{
	return envelope_len(b->body_bytes, b->values_bytes);
}

/* The builder's ops as protobuf messages into ops (pointed to by op_ptrs),
 * and the values of its puts into vals (val_ptrs), each n_ops long; how
 * many values. The messages point into b's arena. */
static size_t wire_ops(const struct changeset_builder *b, Strata__Op *ops, Strata__Op **op_ptrs, Strata__Value *vals,
		       Strata__Value **val_ptrs)
{
	size_t n_vals = 0;

	for (size_t i = 0; i < b->n_ops; i++) {
		const struct bop *o = &b->ops[i];
		strata__op__init(&ops[i]);
		ops[i].kind = o->kind == OP_PUT ? STRATA__OP_KIND__OP_PUT : STRATA__OP_KIND__OP_DELETE;
		ops[i].collection = (char *)b->arena + o->coll;
		ops[i].key.data = b->arena + o->key;
		ops[i].key.len = o->key_len;
		if (o->kind == OP_PUT) {
			ProtobufCBinaryData commit = {HASH_BYTES, (uint8_t *)o->value_hash};

			strata__value__init(&vals[n_vals]);
			if (b->unsalted) {
				ops[i].has_value_hash = 1;
				ops[i].value_hash = commit;
			} else {
				ops[i].has_value_commit = 1;
				ops[i].value_commit = commit;
				vals[n_vals].has_salt = 1;
				vals[n_vals].salt.data = (uint8_t *)o->salt;
				vals[n_vals].salt.len = SALT_BYTES;
			}
			vals[n_vals].op = (uint32_t)i;
			vals[n_vals].data.data = b->arena + o->val;
			vals[n_vals].data.len = o->val_len;
			val_ptrs[n_vals] = &vals[n_vals];
			n_vals++;
		}
		op_ptrs[i] = &ops[i];
	}
	return n_vals;
}

/* Packs the body of b's ops (op_ptrs) into *body_buf (the caller frees it)
 * and signs it with kp into sig. */
static int sign_body(struct changeset_builder *b, const struct keypair *kp, Strata__Op **op_ptrs,
		     uint8_t **body_buf, size_t *body_len, uint8_t sig[SIG_BYTES], struct err *e)
{
	int ret;

	Strata__ChangeSetBody body = STRATA__CHANGE_SET_BODY__INIT;
	body.author.data = (uint8_t *)keypair_public(kp);
	body.author.len = KEY_BYTES;
	body.feed = b->feed;
	body.seq = b->seq;
	body.prev.data = b->prev;
	body.prev.len = HASH_BYTES;
	body.time_ms = b->time_ms;
	body.n_ops = b->n_ops;
	body.ops = op_ptrs;
	*body_len = strata__change_set_body__get_packed_size(&body);
	if (!(*body_buf = malloc(*body_len))) {
		err_set(e, "change set: out of memory");
		return -ENOMEM;
	}
	strata__change_set_body__pack(&body, *body_buf);
	if ((ret = keypair_sign(kp, DOMAIN_CHANGESET, *body_buf, *body_len, sig)) < 0) {
		err_set(e, "change set: cannot sign");
		return ret;
	}
	return 0;
}

int changeset_builder_finish(struct changeset_builder *b, const struct keypair *kp, uint8_t **env,
			     size_t *env_len, uint8_t hash[HASH_BYTES], struct err *e)
{
	Strata__Op *ops = NULL, **op_ptrs = NULL;
	Strata__Value *vals = NULL, **val_ptrs = NULL;
	uint8_t *body_buf = NULL, *env_buf = NULL;
	uint8_t sig[SIG_BYTES];
	size_t n = b->n_ops, n_vals = 0, body_len = 0;
	int ret = -EINVAL;

	if (b->finished) {
		err_set(e, "change set: already finished");
		goto out;
	}
	ret = -ENOMEM;
	/* +1: calloc(0) may return NULL. */
	if (!(ops = calloc(n + 1, sizeof *ops)) || !(op_ptrs = calloc(n + 1, sizeof *op_ptrs)) ||
	    !(vals = calloc(n + 1, sizeof *vals)) || !(val_ptrs = calloc(n + 1, sizeof *val_ptrs))) {
		err_set(e, "change set: out of memory");
		goto out;
	}
	n_vals = wire_ops(b, ops, op_ptrs, vals, val_ptrs);

	if ((ret = sign_body(b, kp, op_ptrs, &body_buf, &body_len, sig, e)) < 0)
		goto out;

	Strata__Envelope envelope = STRATA__ENVELOPE__INIT;
	envelope.body.data = body_buf;
	envelope.body.len = body_len;
	envelope.signature.data = sig;
	envelope.signature.len = SIG_BYTES;
	envelope.n_values = n_vals;
	envelope.values = val_ptrs;
	size_t len = strata__envelope__get_packed_size(&envelope);
	ret = -ENOMEM;
	if (!(env_buf = malloc(len))) {
		err_set(e, "change set: out of memory");
		goto out;
	}
	strata__envelope__pack(&envelope, env_buf);
	if (hash)
		hash_blake2b(hash, body_buf, body_len);
	b->finished = true;
	*env = env_buf;
	*env_len = len;
	env_buf = NULL;
	ret = 0;
out:
	free(env_buf);
	free(body_buf);
	free(val_ptrs);
	free(vals);
	free(op_ptrs);
	free(ops);
	return ret;
}

void changeset_builder_destroy(struct changeset_builder **b)
{
	if (!b || !*b)
		return;
	free((*b)->ops);
	free((*b)->arena);
	free(*b);
	*b = NULL;
}
