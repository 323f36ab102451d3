/* SPDX-License-Identifier: MIT */
/*
 * storage_mapfull: a store whose map reached its ceiling ([store] map_max)
 * refuses with -ENOSPC, from append or from commit, with a reason naming
 * map_max, keeps every committed entry and stays readable; a larger
 * ceiling lets it grow again. (Before issue 16 the map did not grow and
 * STRATA_MAP_SIZE was the limit; test_mapgrow.c tests the growth.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

TestSuite(storage_mapfull, .init = test_dir_make, .fini = test_dir_remove);

static uint8_t A[32];

static int check_body(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len,
		      void *arg)
{
	uint64_t *n = arg;
	uint8_t want[TEST_BIG_BODY], wh[32];
	CHECK(seq == *n + 1, "#%llu after #%llu", (unsigned long long)seq, (unsigned long long)*n);
	*n = seq;
	fake_hash(wh, A, "big", seq, 0);
	CHECK(memcmp(hash, wh, 32) == 0, "hash of #%llu", (unsigned long long)seq);
	test_big_fill(want, sizeof want, seq);
	CHECK(len == TEST_BIG_BODY && memcmp(bytes, want, len) == 0, "bytes of #%llu",
	      (unsigned long long)seq);
	return 0;
}

/* Opens the store with a ceiling of max bytes. */
static struct store *open_max(int flags, uint64_t max)
{
	struct store *s = NULL;
	struct store_map_conf conf = {.max = max};
	int rc = store_open_map(&s, test_dir, flags, &conf, E());
	cr_assert_eq(rc, 0, "store_open_map: %d %s", rc, test_err.msg);
	return s;
}

#define MAX_SMALL ((uint64_t)1 << 20)

static void check_store(int flags, uint64_t committed)
{
	struct store *s = open_max(flags, MAX_SMALL);
	struct store_txn *t = test_begin(s, false);
	struct store_head h;
	cr_assert_eq(store_head_get(t, A, "big", &h, E()), 0, "%s", test_err.msg);
	cr_assert_eq(h.seq, committed);
	uint64_t n = 0;
	cr_assert_eq(store_log_each(t, A, "big", 0, 0, check_body, &n, E()), 0, "%s", test_err.msg);
	cr_assert_eq(n, committed);
	size_t count = 0;
	cr_assert_eq(store_state_count(t, "docs", A, &count, E()), 0);
	cr_assert_eq(count, committed);
	store_txn_abort(&t);
	store_close(&s);
}

Test(storage_mapfull, enospc_then_still_readable)
{
	fake_author(A, 1);
	setenv("STRATA_MAP_SIZE", "1048576", 1);
	struct store *s = open_max(STORE_CREATE, MAX_SMALL);
	uint64_t committed = 0;
	bool full = false, from_append = false;

	for (int round = 0; round < 1000 && !full; round++) {
		struct store_txn *t = test_begin(s, true);
		uint64_t seq = committed;
		for (int i = 0; i < 10; i++) {
			int rc = test_append_big(t, A, seq + 1, E());
			if (rc == -ENOSPC) {
				full = from_append = true;
				cr_assert(strstr(test_err.msg, "map_max"), "%s", test_err.msg);
				break;
			}
			cr_assert_eq(rc, 0, "%d %s", rc, test_err.msg);
			seq++;
		}
		if (from_append) {
			/* the failed entry left the transaction usable */
			struct store_head h;
			int rc = store_head_get(t, A, "big", &h, E());
			if (seq == 0)
				cr_assert_eq(rc, -ENOENT);
			else
				cr_assert_eq(h.seq, seq, "%s", test_err.msg);
			const uint8_t *b;
			size_t len;
			cr_assert_eq(store_log_get(t, A, "big", seq + 1, &b, &len, NULL, E()), -ENOENT);
		}
		int rc = store_txn_commit(&t, E());
		cr_assert_null(t);
		if (rc == -ENOSPC) {
			full = true;
			continue; /* nothing of this transaction is kept */
		}
		cr_assert_eq(rc, 0, "%d %s", rc, test_err.msg);
		committed = seq;
	}
	cr_assert(full, "a 1 MiB store never filled up");
	cr_log_info("full after %llu entries, refused by %s", (unsigned long long)committed,
		    from_append ? "append" : "commit");
	cr_assert_gt(committed, 10);

	/* still usable for reading, in this handle and after reopening */
	struct store_txn *t = test_begin(s, false);
	struct store_head h;
	cr_assert_eq(store_head_get(t, A, "big", &h, E()), 0);
	cr_assert_eq(h.seq, committed);
	store_txn_abort(&t);
	store_close(&s);
	check_store(0, committed);
	check_store(STORE_RDONLY, committed);

	/* still full with the small map */
	s = open_max(0, MAX_SMALL);
	t = test_begin(s, true);
	int rc = 0;
	for (uint64_t seq = committed + 1; rc == 0 && seq < committed + 100; seq++)
		rc = test_append_big(t, A, seq, E());
	cr_assert_eq(rc, -ENOSPC);
	store_txn_abort(&t);
	store_close(&s);

	/* a larger ceiling lets it grow */
	s = open_max(0, 8 * MAX_SMALL);
	t = test_begin(s, true);
	for (uint64_t seq = committed + 1; seq <= committed + 20; seq++)
		cr_assert_eq(test_append_big(t, A, seq, E()), 0, "%s", test_err.msg);
	test_commit(&t);
	store_close(&s);
	check_store(STORE_RDONLY, committed + 20);
	unsetenv("STRATA_MAP_SIZE");
}
