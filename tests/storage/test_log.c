/* SPDX-License-Identifier: MIT */
/* storage_log: reading, walking and replacing log entries. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
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
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "a", 1, 50);
	test_append_range(t, A, "ab", 1, 5);
	test_append_range(t, B, "a", 1, 7);
	test_commit(&t);
}

static void teardown(void)
{
	store_close(&S);
	test_dir_remove();
}

TestSuite(storage_log, .init = setup, .fini = teardown);

struct walk {
	const uint8_t *author;
	const char *feed;
	uint64_t first, last;
	size_t n;
	size_t stop_after;
};

static int check_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len,
		       void *arg)
{
	struct walk *w = arg;
	if (w->n == 0)
		w->first = seq;
	else
		CHECK(seq == w->last + 1, "seq order: %llu after %llu", (unsigned long long)seq,
		      (unsigned long long)w->last);
	w->last = seq;
	w->n++;
	uint8_t want[32];
	fake_hash(want, w->author, w->feed, seq, 0);
	CHECK(memcmp(hash, want, 32) == 0, "hash of #%llu", (unsigned long long)seq);
	char text[96];
	int n = snprintf(text, sizeof text, "entry %s #%llu v0", w->feed, (unsigned long long)seq);
	CHECK(len == (size_t)n && memcmp(bytes, text, len) == 0, "bytes of #%llu",
	      (unsigned long long)seq);
	return w->stop_after && w->n == w->stop_after ? 42 : 0;
}

static struct walk walk(struct store_txn *t, const uint8_t *author, const char *feed,
			uint64_t from, uint64_t to)
{
	struct walk w = {.author = author, .feed = feed};
	int rc = store_log_each(t, author, feed, from, to, check_entry, &w, E());
	cr_assert_eq(rc, 0, "%d %s", rc, test_err.msg);
	return w;
}

Test(storage_log, get)
{
	struct store_txn *t = test_begin(S, false);
	const uint8_t *b;
	size_t len;
	uint8_t hash[32], want[32];
	cr_assert_eq(store_log_get(t, A, "ab", 3, &b, &len, hash, E()), 0, "%s", test_err.msg);
	fake_hash(want, A, "ab", 3, 0);
	cr_assert_eq(memcmp(hash, want, 32), 0);
	cr_assert_eq(len, strlen("entry ab #3 v0"));
	cr_assert_eq(memcmp(b, "entry ab #3 v0", len), 0);
	cr_assert_eq(store_log_get(t, A, "ab", 3, &b, &len, NULL, E()), 0);
	cr_assert_eq(store_log_get(t, A, "ab", 6, &b, &len, hash, E()), -ENOENT);
	cr_assert(strstr(test_err.msg, "#6"), "%s", test_err.msg);
	cr_assert_eq(store_log_get(t, A, "zz", 1, &b, &len, hash, E()), -ENOENT);
	cr_assert_eq(store_log_get(t, A, "ab", 0, &b, &len, hash, E()), -ENOENT);
	store_txn_abort(&t);
}

Test(storage_log, each_ranges)
{
	struct store_txn *t = test_begin(S, false);
	struct walk w = walk(t, A, "a", 0, 0);
	cr_assert_eq(w.n, 50); /* not the entries of feed "ab" nor of author B */
	cr_assert_eq(w.first, 1);
	cr_assert_eq(w.last, 50);
	w = walk(t, A, "a", 1, 0);
	cr_assert_eq(w.n, 50);
	w = walk(t, A, "a", 10, 20);
	cr_assert_eq(w.n, 11);
	cr_assert_eq(w.first, 10);
	cr_assert_eq(w.last, 20);
	w = walk(t, A, "a", 45, 0);
	cr_assert_eq(w.n, 6);
	cr_assert_eq(w.first, 45);
	w = walk(t, A, "a", 50, 50);
	cr_assert_eq(w.n, 1);
	w = walk(t, A, "a", 40, 1000);
	cr_assert_eq(w.n, 11);
	cr_assert_eq(w.last, 50);
	w = walk(t, A, "a", 51, 0);
	cr_assert_eq(w.n, 0);
	w = walk(t, A, "a", 20, 10);
	cr_assert_eq(w.n, 0);
	w = walk(t, A, "ab", 0, 0);
	cr_assert_eq(w.n, 5);
	w = walk(t, B, "a", 0, 0);
	cr_assert_eq(w.n, 7);
	w = walk(t, B, "ab", 0, 0);
	cr_assert_eq(w.n, 0);
	w = walk(t, B, "b", 0, 0);
	cr_assert_eq(w.n, 0);

	/* early stop: fn's value comes back */
	struct walk s = {.author = A, .feed = "a", .stop_after = 3};
	cr_assert_eq(store_log_each(t, A, "a", 5, 0, check_entry, &s, E()), 42);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.last, 7);
	store_txn_abort(&t);
}

Test(storage_log, each_sees_own_writes)
{
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, A, "a", 51, 60);
	struct walk w = walk(t, A, "a", 48, 0);
	cr_assert_eq(w.n, 13);
	cr_assert_eq(w.last, 60);
	store_txn_abort(&t);
}

Test(storage_log, replace_keeps_hash)
{
	struct store_txn *t = test_begin(S, true);
	const uint8_t *b;
	size_t len;
	uint8_t hash[32], want[32];
	const char *erased = "entry with the value erased, a longer body than before";
	cr_assert_eq(store_log_replace(t, A, "a", 7, (const uint8_t *)erased, strlen(erased), E()), 0,
		     "%s", test_err.msg);
	cr_assert_eq(store_log_replace(t, A, "a", 8, NULL, 0, E()), 0, "%s", test_err.msg);
	cr_assert_eq(store_log_replace(t, A, "a", 51, (const uint8_t *)"x", 1, E()), -ENOENT);
	cr_assert_eq(store_log_replace(t, B, "ab", 1, (const uint8_t *)"x", 1, E()), -ENOENT);
	test_commit(&t);

	t = test_begin(S, false);
	cr_assert_eq(store_log_get(t, A, "a", 7, &b, &len, hash, E()), 0);
	fake_hash(want, A, "a", 7, 0);
	cr_assert_eq(memcmp(hash, want, 32), 0);
	cr_assert_eq(len, strlen(erased));
	cr_assert_eq(memcmp(b, erased, len), 0);
	cr_assert_eq(store_log_get(t, A, "a", 8, &b, &len, hash, E()), 0);
	fake_hash(want, A, "a", 8, 0);
	cr_assert_eq(memcmp(hash, want, 32), 0);
	cr_assert_eq(len, 0);
	/* neighbours and head untouched */
	cr_assert_eq(store_log_get(t, A, "a", 6, &b, &len, hash, E()), 0);
	cr_assert_eq(memcmp(b, "entry a #6 v0", len), 0);
	struct store_head h;
	cr_assert_eq(store_head_get(t, A, "a", &h, E()), 0);
	cr_assert_eq(h.seq, 50);
	/* replacing needs a write transaction */
	cr_assert_eq(store_log_replace(t, A, "a", 7, (const uint8_t *)"x", 1, E()), -EROFS);
	store_txn_abort(&t);

	/* a replaced entry still counts as the same entry for append */
	t = test_begin(S, true);
	struct test_entry te;
	test_entry_make(&te, A, "a", 7, 0, NULL, 0);
	cr_assert_eq(store_append(t, &te.en, E()), -EALREADY);
	store_txn_abort(&t);
}

Test(storage_log, long_feed_walk)
{
	/* a walk over many entries is one cursor pass */
	struct store_txn *t = test_begin(S, true);
	test_append_range(t, B, "long", 1, 1500);
	test_commit(&t);
	t = test_begin(S, false);
	struct walk w = walk(t, B, "long", 0, 0);
	cr_assert_eq(w.n, 1500);
	cr_assert_eq(w.last, 1500);
	w = walk(t, B, "long", 1490, 0);
	cr_assert_eq(w.n, 11);
	store_txn_abort(&t);
}
