/* SPDX-License-Identifier: MIT */
/*
 * storage_tree: the Merkle tree of a feed (store_tree_root, _inclusion,
 * _consistency; the frontier store_append keeps in the feeds record):
 * roots equal crypto's tree over the entry hashes at every size, proofs
 * check, an erase (store_log_replace) leaves the root unchanged, a feeds
 * record of the old 44-byte format (written here with LMDB directly) still
 * reads, proves, and gets its frontier back on the next append; range
 * refusals name the head.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/tlog.h"
#include "util.h"

#define FEED "up"
#define N_ENTRIES 150
#define OLD_RECORD_LEN 44 /* seq | hash | flags: the record before issue 15 */

static uint8_t A[32];
static struct store *S;

static void setup(void)
{
	test_dir_make();
	fake_author(A, 1);
	S = test_open(STORE_CREATE);
}

static void teardown(void)
{
	store_close(&S);
	test_dir_remove();
}

TestSuite(storage_tree, .init = setup, .fini = teardown);

/* crypto's tree over the fabricated entry hashes 1..size. */
static void want_root(uint64_t size, uint8_t root[32])
{
	struct tlog_frontier f;
	uint8_t eh[32], leaf[32];

	tlog_frontier_init(&f);
	for (uint64_t s = 1; s <= size; s++) {
		fake_hash(eh, A, FEED, s, 0);
		tlog_leaf_hash(leaf, eh);
		tlog_frontier_push(&f, leaf);
	}
	tlog_frontier_root(&f, root);
}

static void check_roots(struct store_txn *t, uint64_t head)
{
	uint8_t got[32], want[32];

	for (uint64_t size = 1; size <= head; size++) {
		CHECK(store_tree_root(t, A, FEED, size, got, E()) == 0, "%s", test_err.msg);
		want_root(size, want);
		CHECK(memcmp(got, want, 32) == 0, "root of %llu", (unsigned long long)size);
	}
}

Test(storage_tree, roots_match_crypto_at_every_size)
{
	struct store_txn *t = test_begin(S, true);
	uint8_t got[32], want[32];

	for (uint64_t seq = 1; seq <= N_ENTRIES; seq++) {
		test_append_range(t, A, FEED, seq, seq);
		CHECK(store_tree_root(t, A, FEED, seq, got, E()) == 0, "%s", test_err.msg);
		want_root(seq, want);
		CHECK(memcmp(got, want, 32) == 0, "head root at %llu", (unsigned long long)seq);
	}
	test_commit(&t);
	t = test_begin(S, false);
	check_roots(t, N_ENTRIES);
	cr_assert_eq(store_tree_root(t, A, FEED, N_ENTRIES + 1, got, E()), -ERANGE);
	cr_assert_not_null(strstr(test_err.msg, "its head is #150"), "%s", test_err.msg);
	cr_assert_eq(store_tree_root(t, A, FEED, 0, got, E()), -ERANGE);
	cr_assert_eq(store_tree_root(t, A, "other", 1, got, E()), -ENOENT);
	store_txn_abort(&t);
}

Test(storage_tree, proofs_check_against_roots)
{
	struct store_txn *t = test_begin(S, true);
	uint8_t path[TLOG_PATH_MAX][32], rm[32], rn[32], eh[32], leaf[32];
	size_t np;

	test_append_range(t, A, FEED, 1, 40);
	test_commit(&t);
	t = test_begin(S, false);
	for (uint64_t size = 1; size <= 40; size += 3) {
		want_root(size, rn);
		for (uint64_t seq = 1; seq <= size; seq++) {
			CHECK(store_tree_inclusion(t, A, FEED, seq, size, path, &np, E()) == 0, "%s", test_err.msg);
			fake_hash(eh, A, FEED, seq, 0);
			tlog_leaf_hash(leaf, eh);
			CHECK(tlog_check_inclusion(seq - 1, size, leaf, path, np, rn), "%llu in %llu",
			      (unsigned long long)seq, (unsigned long long)size);
		}
		for (uint64_t m = 1; m <= size; m++) {
			want_root(m, rm);
			CHECK(store_tree_consistency(t, A, FEED, m, size, path, &np, E()) == 0, "%s", test_err.msg);
			CHECK(tlog_check_consistency(m, rm, size, rn, path, np), "%llu -> %llu", (unsigned long long)m,
			      (unsigned long long)size);
		}
	}
	cr_assert_eq(store_tree_inclusion(t, A, FEED, 0, 5, path, &np, E()), -ERANGE);
	cr_assert_eq(store_tree_inclusion(t, A, FEED, 6, 5, path, &np, E()), -ERANGE);
	cr_assert_eq(store_tree_inclusion(t, A, FEED, 1, 41, path, &np, E()), -ERANGE);
	cr_assert_eq(store_tree_consistency(t, A, FEED, 6, 5, path, &np, E()), -ERANGE);
	cr_assert_eq(store_tree_consistency(t, A, FEED, 5, 41, path, &np, E()), -ERANGE);
	store_txn_abort(&t);
}

Test(storage_tree, erase_and_flags_leave_the_root)
{
	struct store_txn *t = test_begin(S, true);
	uint8_t before[32], after[32], mid[32], mid2[32];

	test_append_range(t, A, FEED, 1, 21);
	cr_assert_eq(store_tree_root(t, A, FEED, 21, before, E()), 0);
	cr_assert_eq(store_tree_root(t, A, FEED, 13, mid, E()), 0);
	/* an erase replaces the envelope bytes, keeping the entry hash */
	cr_assert_eq(store_log_replace(t, A, FEED, 13, (const uint8_t *)"x", 1, E()), 0, "%s", test_err.msg);
	cr_assert_eq(store_log_replace(t, A, FEED, 21, (const uint8_t *)"y", 1, E()), 0, "%s", test_err.msg);
	cr_assert_eq(store_feed_set_flags(t, A, FEED, STORE_FEED_FROZEN, E()), 0);
	test_commit(&t);
	t = test_begin(S, false);
	cr_assert_eq(store_tree_root(t, A, FEED, 21, after, E()), 0, "%s", test_err.msg);
	cr_assert_eq(store_tree_root(t, A, FEED, 13, mid2, E()), 0);
	cr_assert_arr_eq(after, before, 32);
	cr_assert_arr_eq(mid2, mid, 32);
	struct store_head h;
	cr_assert_eq(store_head_get(t, A, FEED, &h, E()), 0);
	cr_assert_eq(h.flags, STORE_FEED_FROZEN);
	check_roots(t, 21);
	store_txn_abort(&t);
}

/* Cuts the feeds record of (A, FEED) to the 44 bytes of the old format,
 * with LMDB directly (the store is closed). */
static void write_old_record(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t key[32 + sizeof FEED - 1], val[OLD_RECORD_LEN];
	MDB_val k = {.mv_size = sizeof key, .mv_data = key}, v;

	memcpy(key, A, 32);
	memcpy(key + 32, FEED, sizeof FEED - 1);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
	cr_assert_eq(mdb_env_set_mapsize(env, 64u << 20), 0);
	cr_assert_eq(mdb_env_open(env, test_dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "feeds", 0, &dbi), 0);
	cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
	cr_assert_gt(v.mv_size, OLD_RECORD_LEN, "the new record holds a frontier");
	memcpy(val, v.mv_data, OLD_RECORD_LEN);
	v = (MDB_val){.mv_size = sizeof val, .mv_data = val};
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static size_t record_len(void)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t key[32 + sizeof FEED - 1];
	MDB_val k = {.mv_size = sizeof key, .mv_data = key}, v;

	memcpy(key, A, 32);
	memcpy(key + 32, FEED, sizeof FEED - 1);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
	cr_assert_eq(mdb_env_open(env, test_dir, MDB_RDONLY, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "feeds", 0, &dbi), 0);
	cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
	size_t n = v.mv_size;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}

/* The old record again, for the append path. */
static void make_old_again(void)
{
	store_close(&S);
	write_old_record();
	S = test_open(0);
}

Test(storage_tree, old_feeds_record_is_rebuilt_from_the_log)
{
	struct store_txn *t = test_begin(S, true);
	uint8_t path[TLOG_PATH_MAX][32], root[32];
	struct store_head h;
	size_t np;

	test_append_range(t, A, FEED, 1, 23);
	test_commit(&t);
	store_close(&S);
	write_old_record();
	cr_assert_eq(record_len(), OLD_RECORD_LEN);
	S = test_open(0);
	t = test_begin(S, false);
	cr_assert_eq(store_head_get(t, A, FEED, &h, E()), 0, "%s", test_err.msg);
	cr_assert_eq(h.seq, 23);
	check_roots(t, 23); /* the head's root from the log */
	cr_assert_eq(store_tree_inclusion(t, A, FEED, 7, 23, path, &np, E()), 0);
	store_txn_abort(&t);
	t = test_begin(S, true);
	cr_assert_eq(store_feed_set_flags(t, A, FEED, 0, E()), 0); /* keeps the old form */
	test_commit(&t);
	store_close(&S);
	cr_assert_eq(record_len(), OLD_RECORD_LEN, "flags alone keep the old form");
	S = test_open(0);
	t = test_begin(S, true);
	cr_assert_eq(store_tree_root(t, A, FEED, 23, root, E()), 0); /* a root at the head in a write txn */
	test_commit(&t);
	store_close(&S);
	cr_assert_eq(record_len(), OLD_RECORD_LEN + 4 * 32, "23 = 0b10111: the frontier kept");
	make_old_again();
	t = test_begin(S, true);
	test_append_range(t, A, FEED, 24, 24);
	test_commit(&t);
	t = test_begin(S, false);
	check_roots(t, 24);
	want_root(24, root);
	store_txn_abort(&t);
	store_close(&S);
	cr_assert_eq(record_len(), OLD_RECORD_LEN + 2 * 32, "24 = 0b11000: two frontier hashes written back");
	S = test_open(0);
}
