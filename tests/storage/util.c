/* SPDX-License-Identifier: MIT */
/* Helpers shared by the storage tests (see util.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testproc.h"
#include "util.h"

char test_dir[64];
struct err test_err;

void test_dir_make(void)
{
	strcpy(test_dir, "/tmp/strata-storage-XXXXXX");
	cr_assert_not_null(mkdtemp(test_dir), "mkdtemp: %s", strerror(errno));
	unsetenv("STRATA_MAP_SIZE");
}

void test_dir_remove(void)
{
	if (test_dir[0])
		spawn_remove_tree(test_dir);
	test_dir[0] = '\0';
}

struct err *E(void)
{
	memset(&test_err, 0, sizeof test_err);
	return &test_err;
}

struct store *test_open(int flags)
{
	struct store *s = NULL;
	int rc = store_open(&s, test_dir, flags, E());
	cr_assert_eq(rc, 0, "store_open: %d %s", rc, test_err.msg);
	cr_assert_not_null(s);
	return s;
}

struct store_txn *test_begin(struct store *s, bool write)
{
	struct store_txn *t = NULL;
	int rc = store_txn_begin(s, write, &t, E());
	cr_assert_eq(rc, 0, "store_txn_begin: %d %s", rc, test_err.msg);
	return t;
}

void test_commit(struct store_txn **t)
{
	int rc = store_txn_commit(t, E());
	cr_assert_eq(rc, 0, "store_txn_commit: %d %s", rc, test_err.msg);
	cr_assert_null(*t);
}

void fake_author(uint8_t out[32], uint8_t n)
{
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(n * 37 + i);
	out[0] = n; /* authors sort by n */
}

void fake_hash(uint8_t out[32], const uint8_t author[32], const char *feed, uint64_t seq,
	       uint8_t variant)
{
	uint32_t f = 2166136261u;
	for (const char *p = feed; *p; p++)
		f = (f ^ (uint8_t)*p) * 16777619u;
	be64_put(out, seq);
	out[8] = variant;
	for (int i = 0; i < 4; i++)
		out[9 + i] = (uint8_t)(f >> (8 * i));
	memcpy(out + 13, author, 19);
}

void test_entry_make(struct test_entry *te, const uint8_t author[32], const char *feed,
		     uint64_t seq, uint8_t variant, const struct store_op *ops, size_t n_ops)
{
	memset(te, 0, sizeof *te);
	if (seq > 1)
		fake_hash(te->prev, author, feed, seq - 1, 0);
	fake_hash(te->hash, author, feed, seq, variant);
	int n = snprintf((char *)te->bytes, sizeof te->bytes, "entry %s #%llu v%u", feed,
			 (unsigned long long)seq, variant);
	te->en = (struct store_entry){
		.author = author,
		.feed = feed,
		.seq = seq,
		.prev = te->prev,
		.hash = te->hash,
		.bytes = te->bytes,
		.len = (size_t)n < sizeof te->bytes ? (size_t)n : sizeof te->bytes - 1,
		.n_ops = n_ops,
		.ops = ops,
	};
}

void test_append_range(struct store_txn *t, const uint8_t author[32], const char *feed,
		       uint64_t from, uint64_t to)
{
	for (uint64_t seq = from; seq <= to; seq++) {
		struct test_entry te;
		test_entry_make(&te, author, feed, seq, 0, NULL, 0);
		int rc = store_append(t, &te.en, E());
		CHECK(rc == 0, "append #%llu: %d %s", (unsigned long long)seq, rc, test_err.msg);
	}
}

void test_big_fill(uint8_t *buf, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seq * 131 + i);
}

int test_append_big(struct store_txn *t, const uint8_t author[32], uint64_t seq, struct err *e)
{
	static _Thread_local uint8_t body[TEST_BIG_BODY], value[TEST_BIG_VALUE];
	uint8_t prev[32] = {0}, hash[32];
	char key[32];

	if (seq > 1)
		fake_hash(prev, author, "big", seq - 1, 0);
	fake_hash(hash, author, "big", seq, 0);
	test_big_fill(body, sizeof body, seq);
	test_big_fill(value, sizeof value, seq + 7);
	snprintf(key, sizeof key, "k%llu", (unsigned long long)seq);
	struct store_op op = {.kind = STORE_PUT, .collection = "docs", .key = (const uint8_t *)key,
			      .key_len = strlen(key), .value = value, .value_len = sizeof value};
	struct store_entry en = {.author = author, .feed = "big", .seq = seq, .prev = prev, .hash = hash,
				 .bytes = body, .len = sizeof body, .n_ops = 1, .ops = &op};
	return store_append(t, &en, e);
}
