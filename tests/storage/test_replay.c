/* SPDX-License-Identifier: MIT */
/*
 * storage_replay: state is a function of the log. Random entries with
 * random ops go into one store; a fresh store rebuilt by appending the
 * stored log entries (decoded from their envelope bytes) has the same heads
 * and the same state, record by record, origins included.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

TestSuite(storage_replay, .init = test_dir_make, .fini = test_dir_remove);

#define N_AUTHORS 3
#define N_FEEDS 2
#define MAX_OPS 6

static const char *const feeds[N_FEEDS] = {"f", "feed2"};
static const char *const colls[] = {"docs", "doc", "members", "x"};
#define N_COLLS (sizeof colls / sizeof colls[0])

static uint32_t rng = 2463534242u;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng % n;
}

/* Test envelope: n_ops, then per op: kind, coll index, klen, key, vlen, value. */
struct decoded {
	size_t n;
	struct store_op ops[MAX_OPS];
	char keys[MAX_OPS][16];
	uint8_t vals[MAX_OPS][32];
};

static size_t encode(uint8_t *out, const struct decoded *d, const uint8_t idx[])
{
	size_t p = 0;
	out[p++] = (uint8_t)d->n;
	for (size_t i = 0; i < d->n; i++) {
		const struct store_op *op = &d->ops[i];
		out[p++] = (uint8_t)op->kind;
		out[p++] = idx[i];
		out[p++] = (uint8_t)op->key_len;
		if (op->key_len)
			memcpy(out + p, op->key, op->key_len);
		p += op->key_len;
		out[p++] = (uint8_t)op->value_len;
		if (op->value_len)
			memcpy(out + p, op->value, op->value_len);
		p += op->value_len;
	}
	return p;
}

static void decode(struct decoded *d, const uint8_t *in, size_t len)
{
	size_t p = 0;
	CHECK(len > 0, "empty envelope");
	d->n = in[p++];
	for (size_t i = 0; i < d->n; i++) {
		struct store_op *op = &d->ops[i];
		op->kind = in[p++];
		op->collection = colls[in[p++]];
		op->key_len = in[p++];
		memcpy(d->keys[i], in + p, op->key_len);
		op->key = (const uint8_t *)d->keys[i];
		p += op->key_len;
		op->value_len = in[p++];
		memcpy(d->vals[i], in + p, op->value_len);
		op->value = op->value_len ? d->vals[i] : NULL;
		p += op->value_len;
		CHECK(p <= len, "envelope overrun");
	}
	CHECK(p == len, "envelope trailing bytes");
}

struct rebuild {
	struct store_txn *dst;
	const uint8_t *author;
	const char *feed;
	size_t n;
};

static int replay_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len,
			void *arg)
{
	struct rebuild *r = arg;
	struct decoded d;
	decode(&d, bytes, len);
	uint8_t prev[32] = {0};
	if (seq > 1) {
		const uint8_t *b;
		size_t l;
		int rc = store_log_get(r->dst, r->author, r->feed, seq - 1, &b, &l, prev, E());
		CHECK(rc == 0, "%s", test_err.msg);
	}
	struct store_entry en = {.author = r->author, .feed = r->feed, .seq = seq, .prev = prev,
				 .hash = hash, .bytes = bytes, .len = len, .n_ops = d.n,
				 .ops = d.ops};
	int rc = store_append(r->dst, &en, E());
	CHECK(rc == 0, "replay #%llu: %d %s", (unsigned long long)seq, rc, test_err.msg);
	r->n++;
	return 0;
}

struct rebuild_heads {
	struct store_txn *src, *dst;
	size_t entries;
};

static int replay_feed(const struct store_head *h, void *arg)
{
	struct rebuild_heads *rh = arg;
	struct rebuild r = {.dst = rh->dst, .author = h->author, .feed = h->feed};
	int rc = store_log_each(rh->src, h->author, h->feed, 1, 0, replay_entry, &r, E());
	cr_assert_eq(rc, 0, "%s", test_err.msg);
	cr_assert_eq(r.n, h->seq);
	rh->entries += r.n;
	return 0;
}

/* Flattened records of a store, for comparison. */
struct flat {
	size_t n;
	char rec[4096][160];
};

static int flatten(const struct store_record *r, void *arg)
{
	struct flat *f = arg;
	CHECK(f->n < 4096, "too many records");
	char *o = f->rec[f->n++];
	int p = snprintf(o, 160, "%.20s|%02x|%.*s|%.20s|%llu|", r->collection, r->owner[0],
			 (int)r->key_len, (const char *)r->key, r->origin.feed,
			 (unsigned long long)r->origin.seq);
	for (size_t i = 0; i < r->value_len && p < 150; i++)
		p += snprintf(o + p, 160 - (size_t)p, "%02x", r->value[i]);
	return 0;
}

static void flatten_store(struct store *s, struct flat *f)
{
	struct store_txn *t = test_begin(s, false);
	f->n = 0;
	for (size_t c = 0; c < N_COLLS; c++)
		cr_assert_eq(store_state_each(t, colls[c], NULL, flatten, f, E()), 0, "%s",
			     test_err.msg);
	store_txn_abort(&t);
}

static int flatten_head(const struct store_head *h, void *arg)
{
	struct flat *f = arg;
	snprintf(f->rec[f->n++], 160, "%02x|%.40s|%llu|%02x%02x|%u", h->author[0], h->feed,
		 (unsigned long long)h->seq, h->hash[0], h->hash[7], h->flags);
	return 0;
}

/* Random ops of feed f into d (idx: their collections). */
static void random_ops(struct decoded *d, uint8_t idx[MAX_OPS], int f)
{
	d->n = rnd(MAX_OPS + 1);
	for (size_t k = 0; k < d->n; k++) {
		struct store_op *op = &d->ops[k];
		idx[k] = (uint8_t)rnd(N_COLLS);
		op->collection = colls[idx[k]];
		op->kind = rnd(4) == 0 ? STORE_DELETE : STORE_PUT;
		/* keys of different feeds of one author never collide,
		 * so the per-feed replay order gives the same state */
		snprintf(d->keys[k], sizeof d->keys[k], "%s-%u", feeds[f], rnd(12));
		op->key = (const uint8_t *)d->keys[k];
		op->key_len = strlen(d->keys[k]);
		if (op->kind == STORE_PUT) {
			op->value_len = rnd(20);
			for (size_t b = 0; b < op->value_len; b++)
				d->vals[k][b] = (uint8_t)rnd(256);
			op->value = op->value_len ? d->vals[k] : NULL;
		}
	}
}

/* 15 transactions of 20 random entries by random authors and feeds into
 * src; returns how many were appended. */
static size_t append_random_log(struct store *src, uint8_t authors[N_AUTHORS][32])
{
	uint64_t heads[N_AUTHORS][N_FEEDS] = {{0}};
	size_t appended = 0;

	for (int txn = 0; txn < 15; txn++) {
		struct store_txn *t = test_begin(src, true);
		for (int i = 0; i < 20; i++) {
			int a = (int)rnd(N_AUTHORS), f = (int)rnd(N_FEEDS);
			uint64_t seq = ++heads[a][f];
			struct decoded d = {0};
			uint8_t idx[MAX_OPS];
			random_ops(&d, idx, f);
			uint8_t env[512];
			size_t len = encode(env, &d, idx);
			uint8_t prev[32] = {0}, hash[32];
			if (seq > 1)
				fake_hash(prev, authors[a], feeds[f], seq - 1, 0);
			fake_hash(hash, authors[a], feeds[f], seq, 0);
			struct store_entry en = {.author = authors[a], .feed = feeds[f], .seq = seq,
						 .prev = prev, .hash = hash, .bytes = env,
						 .len = len, .n_ops = d.n, .ops = d.ops};
			int rc = store_append(t, &en, E());
			CHECK(rc == 0, "%d %s", rc, test_err.msg);
			appended++;
		}
		test_commit(&t);
	}
	return appended;
}

/* src and dst hold the same state records and the same heads. */
static void assert_same_store(struct store *src, struct store *dst)
{
	static struct flat fa, fb;
	flatten_store(src, &fa);
	flatten_store(dst, &fb);
	cr_assert_gt(fa.n, 20, "the random ops left some state");
	cr_assert_eq(fa.n, fb.n);
	for (size_t i = 0; i < fa.n; i++)
		CHECK(!strcmp(fa.rec[i], fb.rec[i]), "record %zu: %s != %s", i, fa.rec[i], fb.rec[i]);

	/* and the same heads */
	struct store_txn *ta = test_begin(src, false), *tb = test_begin(dst, false);
	fa.n = fb.n = 0;
	cr_assert_eq(store_heads_each(ta, flatten_head, &fa, E()), 0);
	cr_assert_eq(store_heads_each(tb, flatten_head, &fb, E()), 0);
	cr_assert_eq(fa.n, N_AUTHORS * N_FEEDS);
	cr_assert_eq(fa.n, fb.n);
	for (size_t i = 0; i < fa.n; i++)
		cr_assert_str_eq(fa.rec[i], fb.rec[i]);
	store_txn_abort(&ta);
	store_txn_abort(&tb);
}

/* A store whose state went wrong would be caught: change one value in dst. */
static void assert_tamper_is_seen(struct store *src, struct store *dst, const uint8_t author[32])
{
	static struct flat fa, fb;
	struct store_txn *t = test_begin(dst, true);
	struct store_head h;
	cr_assert_eq(store_head_get(t, author, feeds[0], &h, E()), 0);
	struct store_op op = {.kind = STORE_PUT, .collection = "docs",
			      .key = (const uint8_t *)"f-1", .key_len = 3,
			      .value = (const uint8_t *)"tampered", .value_len = 8};
	struct test_entry te;
	test_entry_make(&te, author, feeds[0], h.seq + 1, 0, &op, 1);
	memcpy(te.prev, h.hash, 32);
	cr_assert_eq(store_append(t, &te.en, E()), 0, "%s", test_err.msg);
	test_commit(&t);
	flatten_store(dst, &fb);
	flatten_store(src, &fa);
	bool differ = fa.n != fb.n;
	for (size_t i = 0; !differ && i < fa.n; i++)
		differ = strcmp(fa.rec[i], fb.rec[i]) != 0;
	cr_assert(differ);
}

Test(storage_replay, state_is_replay_of_log)
{
	uint8_t authors[N_AUTHORS][32];
	for (int a = 0; a < N_AUTHORS; a++)
		fake_author(authors[a], (uint8_t)(a + 1));

	struct store *src = test_open(STORE_CREATE);
	size_t appended = append_random_log(src, authors);

	/* rebuild into a second store, in another directory */
	char dst_dir[128];
	snprintf(dst_dir, sizeof dst_dir, "%s/rebuilt", test_dir);
	struct store *dst = NULL;
	cr_assert_eq(store_open(&dst, dst_dir, STORE_CREATE, E()), 0, "%s", test_err.msg);
	struct rebuild_heads rh = {.src = test_begin(src, false), .dst = test_begin(dst, true)};
	cr_assert_eq(store_heads_each(rh.src, replay_feed, &rh, E()), 0, "%s", test_err.msg);
	cr_assert_eq(rh.entries, appended);
	store_txn_abort(&rh.src);
	test_commit(&rh.dst);

	assert_same_store(src, dst);
	assert_tamper_is_seen(src, dst, authors[0]);
	store_close(&src);
	store_close(&dst);
}
