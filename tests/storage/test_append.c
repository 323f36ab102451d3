/* SPDX-License-Identifier: MIT */
/* storage_append: store_append's checks and what a refused entry leaves. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint8_t A[32], B[32];
static struct store *S;

static void setup(void)
{
	test_dir_make();
	fake_author(A, 1);
	fake_author(B, 2);
	S = test_open(STORE_CREATE);
}

static void teardown(void)
{
	store_close(&S);
	test_dir_remove();
}

TestSuite(storage_append, .init = setup, .fini = teardown);

static uint64_t head_seq(struct store_txn *t, const uint8_t *author, const char *feed)
{
	struct store_head h;
	int rc = store_head_get(t, author, feed, &h, E());
	if (rc == -ENOENT)
		return 0;
	cr_assert_eq(rc, 0, "%s", test_err.msg);
	return h.seq;
}

static bool has_entry(struct store_txn *t, const uint8_t *author, const char *feed, uint64_t seq)
{
	const uint8_t *b;
	size_t len;
	int rc = store_log_get(t, author, feed, seq, &b, &len, NULL, E());
	cr_assert(rc == 0 || rc == -ENOENT, "%d %s", rc, test_err.msg);
	return rc == 0;
}

static bool has_state(struct store_txn *t, const char *coll, const uint8_t *owner, const char *key)
{
	const uint8_t *v;
	size_t len;
	int rc = store_state_get(t, coll, owner, (const uint8_t *)key, strlen(key), &v, &len, NULL,
				 E());
	cr_assert(rc == 0 || rc == -ENOENT, "%d %s", rc, test_err.msg);
	return rc == 0;
}

static struct store_op put_k(const char *key)
{
	return (struct store_op){.kind = STORE_PUT, .collection = "docs",
				 .key = (const uint8_t *)key, .key_len = strlen(key),
				 .value = (const uint8_t *)"v", .value_len = 1};
}

struct heads {
	int n;
	int stop_at;
	struct store_head h[8];
};

static int collect_head(const struct store_head *h, void *arg)
{
	struct heads *c = arg;
	cr_assert_lt(c->n, 8);
	c->h[c->n++] = *h;
	return c->n == c->stop_at ? 7 : 0;
}

Test(storage_append, seq_1_to_n_and_heads)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 100);
	test_append_range(t, A, "p", 1, 5);
	test_append_range(t, B, "posts", 1, 3);
	test_commit(&t);

	t = test_begin(S, false);
	struct store_head h;
	uint8_t want[32];
	cr_assert_eq(store_head_get(t, A, "posts", &h, E()), 0, "%s", test_err.msg);
	cr_assert_eq(h.seq, 100);
	fake_hash(want, A, "posts", 100, 0);
	cr_assert_eq(memcmp(h.hash, want, 32), 0);
	cr_assert_eq(memcmp(h.author, A, 32), 0);
	cr_assert_str_eq(h.feed, "posts");
	cr_assert_eq(h.flags, 0);
	cr_assert_eq(head_seq(t, A, "p"), 5);
	cr_assert_eq(head_seq(t, B, "posts"), 3);
	for (uint64_t seq = 1; seq <= 100; seq++)
		cr_assert(has_entry(t, A, "posts", seq));
	cr_assert_not(has_entry(t, A, "posts", 101));

	/* an unknown feed: -ENOENT, zero head with author and feed filled */
	memset(&h, 0xff, sizeof h);
	cr_assert_eq(store_head_get(t, B, "nothing", &h, E()), -ENOENT);
	cr_assert_eq(h.seq, 0);
	cr_assert_eq(h.flags, 0);
	uint8_t zero[32] = {0};
	cr_assert_eq(memcmp(h.hash, zero, 32), 0);
	cr_assert_eq(memcmp(h.author, B, 32), 0);
	cr_assert_str_eq(h.feed, "nothing");

	/* heads in key order: author, then feed name */
	struct heads c = {0};
	cr_assert_eq(store_heads_each(t, collect_head, &c, E()), 0, "%s", test_err.msg);
	cr_assert_eq(c.n, 3);
	cr_assert_eq(memcmp(c.h[0].author, A, 32), 0);
	cr_assert_str_eq(c.h[0].feed, "p");
	cr_assert_eq(c.h[0].seq, 5);
	cr_assert_str_eq(c.h[1].feed, "posts");
	cr_assert_eq(c.h[1].seq, 100);
	cr_assert_eq(memcmp(c.h[2].author, B, 32), 0);
	cr_assert_eq(c.h[2].seq, 3);

	/* the same as an array */
	struct store_head *list = NULL;
	size_t nlist = 0;
	cr_assert_eq(store_heads_list(t, &list, &nlist, E()), 0, "%s", test_err.msg);
	cr_assert_eq(nlist, 3);
	for (size_t i = 0; i < nlist; i++)
		cr_assert(memcmp(list[i].author, c.h[i].author, 32) == 0 && strcmp(list[i].feed, c.h[i].feed) == 0 &&
				  list[i].seq == c.h[i].seq && memcmp(list[i].hash, c.h[i].hash, 32) == 0 &&
				  list[i].flags == c.h[i].flags,
			  "head %zu differs", i);
	free(list);

	/* early stop returns fn's value */
	struct heads d = {.stop_at = 2};
	cr_assert_eq(store_heads_each(t, collect_head, &d, E()), 7);
	cr_assert_eq(d.n, 2);
	store_txn_abort(&t);
}

Test(storage_append, gap_refused_nothing_written)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 3);

	struct store_op ops[1] = {put_k("gap")};
	struct test_entry te;
	test_entry_make(&te, A, "posts", 5, 0, ops, 1);
	cr_assert_eq(store_append(t, &te.en, E()), -ERANGE);
	cr_assert(strstr(test_err.msg, "head is #3"), "%s", test_err.msg);
	cr_assert(strstr(test_err.msg, "#5"), "%s", test_err.msg);
	cr_assert_eq(head_seq(t, A, "posts"), 3);
	cr_assert_not(has_entry(t, A, "posts", 5));
	cr_assert_not(has_state(t, "docs", A, "gap"));

	/* a gap on an unknown feed */
	test_entry_make(&te, B, "new", 2, 0, ops, 1);
	cr_assert_eq(store_append(t, &te.en, E()), -ERANGE);
	cr_assert_eq(head_seq(t, B, "new"), 0);
	struct store_head h;
	cr_assert_eq(store_head_get(t, B, "new", &h, E()), -ENOENT);

	/* the parent transaction is still usable */
	test_entry_make(&te, A, "posts", 4, 0, ops, 1);
	cr_assert_eq(store_append(t, &te.en, E()), 0, "%s", test_err.msg);
	test_commit(&t);

	t = test_begin(S, false);
	cr_assert_eq(head_seq(t, A, "posts"), 4);
	cr_assert(has_entry(t, A, "posts", 4));
	cr_assert(has_state(t, "docs", A, "gap"));
	store_txn_abort(&t);
}

Test(storage_append, wrong_prev_refused)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 3);
	struct store_op ops[1] = {put_k("k")};
	struct test_entry te;
	test_entry_make(&te, A, "posts", 4, 0, ops, 1);
	fake_hash(te.prev, A, "posts", 3, 1); /* not the stored #3 */
	cr_assert_eq(store_append(t, &te.en, E()), -EBADE);
	cr_assert(strstr(test_err.msg, "prev"), "%s", test_err.msg);
	cr_assert_eq(head_seq(t, A, "posts"), 3);
	cr_assert_not(has_entry(t, A, "posts", 4));
	cr_assert_not(has_state(t, "docs", A, "k"));

	/* seq 1 must have a zero prev */
	test_entry_make(&te, B, "posts", 1, 0, ops, 1);
	te.prev[5] = 1;
	cr_assert_eq(store_append(t, &te.en, E()), -EBADE);
	cr_assert_eq(head_seq(t, B, "posts"), 0);
	cr_assert_not(has_state(t, "docs", B, "k"));

	test_entry_make(&te, A, "posts", 4, 0, ops, 1);
	cr_assert_eq(store_append(t, &te.en, E()), 0, "%s", test_err.msg);
	test_commit(&t);
}

Test(storage_append, duplicate_is_noop)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 1);
	struct store_op ops[1] = {put_k("k")};
	struct test_entry te;
	test_entry_make(&te, A, "posts", 2, 0, ops, 1);
	cr_assert_eq(store_append(t, &te.en, E()), 0);
	test_append_range(t, A, "posts", 3, 3);
	/* a later entry deletes k; replaying #2 must not bring it back */
	struct store_op del = {.kind = STORE_DELETE, .collection = "docs",
			       .key = (const uint8_t *)"k", .key_len = 1};
	struct test_entry t4;
	test_entry_make(&t4, A, "posts", 4, 0, &del, 1);
	cr_assert_eq(store_append(t, &t4.en, E()), 0, "%s", test_err.msg);
	test_commit(&t);

	t = test_begin(S, true);
	cr_assert_eq(store_append(t, &te.en, E()), -EALREADY);
	cr_assert(strstr(test_err.msg, "already"), "%s", test_err.msg);
	cr_assert_eq(store_append(t, &t4.en, E()), -EALREADY);
	cr_assert_eq(head_seq(t, A, "posts"), 4);
	cr_assert_not(has_state(t, "docs", A, "k"));
	const uint8_t *b;
	size_t len;
	cr_assert_eq(store_log_get(t, A, "posts", 2, &b, &len, NULL, E()), 0);
	cr_assert_eq(len, te.en.len);
	cr_assert_eq(memcmp(b, te.bytes, len), 0);
	test_commit(&t);
}

Test(storage_append, conflict_is_ebade)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 3);
	struct store_op ops[1] = {put_k("conflict")};
	struct test_entry te;
	test_entry_make(&te, A, "posts", 2, 1, ops, 1); /* same seq, other hash */
	cr_assert_eq(store_append(t, &te.en, E()), -EBADE);
	cr_assert(strstr(test_err.msg, "conflicts"), "%s", test_err.msg);
	uint8_t hash[32], want[32];
	const uint8_t *b;
	size_t len;
	cr_assert_eq(store_log_get(t, A, "posts", 2, &b, &len, hash, E()), 0);
	fake_hash(want, A, "posts", 2, 0);
	cr_assert_eq(memcmp(hash, want, 32), 0);
	cr_assert_eq(head_seq(t, A, "posts"), 3);
	cr_assert_not(has_state(t, "docs", A, "conflict"));
	test_commit(&t);
}

Test(storage_append, frozen_feed_refuses)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 3);
	cr_assert_eq(store_feed_set_flags(t, A, "posts", STORE_FEED_FROZEN, E()), 0, "%s",
		     test_err.msg);
	cr_assert_eq(store_feed_set_flags(t, B, "posts", STORE_FEED_FROZEN, E()), -ENOENT);
	test_commit(&t);

	t = test_begin(S, true);
	struct store_head h;
	cr_assert_eq(store_head_get(t, A, "posts", &h, E()), 0);
	cr_assert_eq(h.flags, STORE_FEED_FROZEN);
	cr_assert_eq(h.seq, 3);
	uint8_t want[32];
	fake_hash(want, A, "posts", 3, 0);
	cr_assert_eq(memcmp(h.hash, want, 32), 0, "set_flags kept the head hash");

	struct test_entry te;
	test_entry_make(&te, A, "posts", 4, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), -EPERM);
	cr_assert(strstr(test_err.msg, "frozen"), "%s", test_err.msg);
	test_entry_make(&te, A, "posts", 2, 0, NULL, 0); /* frozen is checked first */
	cr_assert_eq(store_append(t, &te.en, E()), -EPERM);
	cr_assert_eq(head_seq(t, A, "posts"), 3);
	cr_assert_not(has_entry(t, A, "posts", 4));

	/* unfreezing lets appends through again */
	cr_assert_eq(store_feed_set_flags(t, A, "posts", 0, E()), 0);
	test_entry_make(&te, A, "posts", 4, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), 0, "%s", test_err.msg);
	test_commit(&t);
}

Test(storage_append, failing_op_rolls_back_entry)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 3);

	/* the first op and the log record are written before the bad op */
	static uint8_t long_key[600];
	struct store_op ops[2] = {put_k("first"), put_k("second")};
	ops[1].key = long_key;
	ops[1].key_len = sizeof long_key;
	struct test_entry te;
	test_entry_make(&te, A, "posts", 4, 0, ops, 2);
	cr_assert_eq(store_append(t, &te.en, E()), -EINVAL);
	cr_assert(strstr(test_err.msg, "too long"), "%s", test_err.msg);
	cr_assert_eq(head_seq(t, A, "posts"), 3);
	cr_assert_not(has_entry(t, A, "posts", 4));
	cr_assert_not(has_state(t, "docs", A, "first"));

	ops[1] = put_k("second");
	ops[1].collection = "";
	cr_assert_eq(store_append(t, &te.en, E()), -EINVAL);
	cr_assert_not(has_state(t, "docs", A, "first"));
	ops[1].collection = "docs";
	ops[1].kind = 99;
	cr_assert_eq(store_append(t, &te.en, E()), -EINVAL);
	cr_assert_not(has_entry(t, A, "posts", 4));

	ops[1].kind = STORE_PUT;
	cr_assert_eq(store_append(t, &te.en, E()), 0, "%s", test_err.msg);
	test_commit(&t);
	t = test_begin(S, false);
	cr_assert(has_state(t, "docs", A, "first"));
	cr_assert(has_state(t, "docs", A, "second"));
	store_txn_abort(&t);
}

Test(storage_append, bad_arguments)
{
	struct store_txn *t = test_begin(S, true);
	struct test_entry te;
	test_entry_make(&te, A, "posts", 0, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), -EINVAL);
	test_entry_make(&te, A, "", 1, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), -EINVAL);
	char name[257];
	memset(name, 'f', 256);
	name[256] = '\0';
	test_entry_make(&te, A, name, 1, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), -EINVAL);
	cr_assert(strstr(test_err.msg, "feed name"), "%s", test_err.msg);
	name[255] = '\0'; /* 255 bytes is the longest name */
	test_entry_make(&te, A, name, 1, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), 0, "%s", test_err.msg);
	struct store_head h;
	cr_assert_eq(store_head_get(t, A, name, &h, E()), 0);
	cr_assert_str_eq(h.feed, name);
	cr_assert_eq(store_append(NULL, &te.en, E()), -EINVAL);
	cr_assert_eq(store_append(t, NULL, E()), -EINVAL);
	test_commit(&t);

	/* appending needs a write transaction */
	t = test_begin(S, false);
	test_entry_make(&te, A, "posts", 1, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), -EROFS);
	store_txn_abort(&t);
}

Test(storage_append, abort_keeps_nothing)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "posts", 1, 10);
	store_txn_abort(&t);
	t = test_begin(S, false);
	cr_assert_eq(head_seq(t, A, "posts"), 0);
	cr_assert_not(has_entry(t, A, "posts", 1));
	store_txn_abort(&t);
}
