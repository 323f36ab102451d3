/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the storage tests: a fresh temporary directory per test,
 * opening a store in it, and fabricated entries (storage checks no crypto,
 * so hashes are any bytes that differ per author, feed, seq and variant).
 */
#ifndef STRATA_TEST_STORAGE_UTIL_H
#define STRATA_TEST_STORAGE_UTIL_H

#include <criterion/criterion.h>
#include <stdint.h>

#include "storage/store.h"

/* An assert that says nothing to the runner when it holds: a passing
 * Criterion assert costs a message to the runner, too slow for loops over
 * thousands of entries (especially under ASan). */
#define CHECK(cond, ...)                          \
	do {                                      \
		if (!(cond))                      \
			cr_assert_fail(__VA_ARGS__); \
	} while (0)

extern char test_dir[64];
extern struct err test_err;

/* Fixture: makes test_dir (mkdtemp under /tmp) / removes it recursively. */
void test_dir_make(void);
void test_dir_remove(void);

/* Clears test_err and returns it: every call gets a fresh reason. */
struct err *E(void);

/* Opens the store in test_dir with flags, asserting success. */
struct store *test_open(int flags);

/* A write (or read) transaction, asserting success. */
struct store_txn *test_begin(struct store *s, bool write);
void test_commit(struct store_txn **t);

void fake_author(uint8_t out[32], uint8_t n);
void fake_hash(uint8_t out[32], const uint8_t author[32], const char *feed, uint64_t seq,
	       uint8_t variant);

/* An entry with its own storage. en points into the struct: do not copy. */
struct test_entry {
	struct store_entry en;
	uint8_t prev[32];
	uint8_t hash[32];
	uint8_t bytes[96];
};

/* Fills te as entry seq of (author, feed) whose prev is variant 0 of seq-1
 * (zero for seq 1) and whose hash is hash(seq, variant). */
void test_entry_make(struct test_entry *te, const uint8_t author[32], const char *feed,
		     uint64_t seq, uint8_t variant, const struct store_op *ops, size_t n_ops);

/* Appends seq from..to (variant 0, no ops) of (author, feed) in t,
 * asserting success. */
void test_append_range(struct store_txn *t, const uint8_t author[32], const char *feed,
		       uint64_t from, uint64_t to);

/* Entries big enough to fill a small map (test_mapfull, test_mapgrow): seq
 * of (author, "big"), TEST_BIG_BODY bytes of body and a TEST_BIG_VALUE-byte
 * value under docs/k<seq>, both filled by test_big_fill. Thread-safe. */
#define TEST_BIG_BODY 3000
#define TEST_BIG_VALUE 1000
void test_big_fill(uint8_t *buf, size_t n, uint64_t seq);
int test_append_big(struct store_txn *t, const uint8_t author[32], uint64_t seq, struct err *e);

#endif
