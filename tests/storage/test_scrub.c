/* SPDX-License-Identifier: MIT */
/*
 * storage_scrub: erasing a value for real. A value replaced in the log and
 * in state is still in data.mdb's bytes after the commit (LMDB's old pages
 * sit on its free list); after store_scrub it is gone, everything else
 * still reads back, and a reader holding an old snapshot keeps its pages
 * until it ends.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define PHONE "13912345678"

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

TestSuite(storage_scrub, .init = setup, .fini = teardown);

/* How many times needle occurs in test_dir/data.mdb. */
static size_t file_count(const char *needle)
{
	char path[128];
	size_t n = 0, nl = strlen(needle), len;
	uint8_t *buf;
	FILE *f;

	snprintf(path, sizeof path, "%s/data.mdb", test_dir);
	cr_assert_not_null(f = fopen(path, "rb"));
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	cr_assert_not_null(buf = malloc(len ? len : 1));
	cr_assert_eq(fread(buf, 1, len, f), len);
	fclose(f);
	for (size_t i = 0; i + nl <= len; i++)
		if (memcmp(buf + i, needle, nl) == 0)
			n++;
	free(buf);
	return n;
}

static bool has_bytes(const uint8_t *p, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++)
		if (memcmp(p + i, needle, nl) == 0)
			return true;
	return false;
}

/* Appends entries 1..n of (A, "up"); entry 3 puts request R17 with the phone
 * in its value and its envelope, the others put filler records. */
static void write_entries(uint64_t n)
{
	struct store_txn *t = test_begin(S, true);
	uint8_t prev[32] = {0};

	for (uint64_t seq = 1; seq <= n; seq++) {
		char key[16], value[200], bytes[300];
		uint8_t hash[32];

		fake_hash(hash, A, "up", seq, 0);
		if (seq == 3) {
			snprintf(key, sizeof key, "R17");
			snprintf(value, sizeof value, "request R17: leaking roof, call " PHONE);
		} else {
			snprintf(key, sizeof key, "R%llu", (unsigned long long)seq + 100);
			snprintf(value, sizeof value, "request %llu: a filler record of some length to fill pages",
				 (unsigned long long)seq);
		}
		snprintf(bytes, sizeof bytes, "envelope #%llu holding [%s]", (unsigned long long)seq, value);
		struct store_op op = {.kind = STORE_PUT, .collection = "request", .key = (const uint8_t *)key,
				      .key_len = strlen(key), .value = (const uint8_t *)value, .value_len = strlen(value)};
		struct store_entry en = {.author = A, .feed = "up", .seq = seq, .prev = prev, .hash = hash,
					 .bytes = (const uint8_t *)bytes, .len = strlen(bytes), .n_ops = 1, .ops = &op};
		cr_assert_eq(store_append(t, &en, E()), 0, "%s", test_err.msg);
		memcpy(prev, hash, 32);
	}
	test_commit(&t);
}

/* Replaces entry 3's envelope and R17's state value, as an erase does. */
static void erase_r17(void)
{
	static const char stripped[] = "envelope #3 holding []";
	struct store_txn *t = test_begin(S, true);

	cr_assert_eq(store_log_replace(t, A, "up", 3, (const uint8_t *)stripped, strlen(stripped), E()), 0, "%s",
		     test_err.msg);
	cr_assert_eq(store_state_erase(t, "request", A, (const uint8_t *)"R17", 3, E()), 0, "%s", test_err.msg);
	test_commit(&t);
}

Test(storage_scrub, erased_value_leaves_the_file_and_the_rest_stays)
{
	struct store_scrub_counts c;
	struct store_txn *t;
	const uint8_t *v;
	size_t vl;
	struct store_origin o;

	write_entries(200);
	cr_assert_geq(file_count(PHONE), 2, "the phone should be in the log and in state before the erase");
	erase_r17();
	/* What this test is about: the commit alone leaves the old pages. */
	cr_assert_geq(file_count(PHONE), 1, "LMDB dropped the old pages by itself: the scrub is not tested");
	cr_assert_eq(store_scrub(S, &c, E()), 0, "%s", test_err.msg);
	cr_assert_gt(c.pages, 0);
	cr_assert_eq(file_count(PHONE), 0, "the erased phone number is still in data.mdb after the scrub");

	/* Everything else reads back; R17 is there without its value. */
	store_close(&S);
	S = test_open(0);
	t = test_begin(S, false);
	cr_assert_eq(store_state_get(t, "request", A, (const uint8_t *)"R17", 3, &v, &vl, &o, E()), 0, "%s",
		     test_err.msg);
	cr_assert_eq(vl, 0);
	cr_assert_eq(o.seq, 3);
	cr_assert_str_eq(o.feed, "up");
	for (uint64_t seq = 1; seq <= 200; seq++) {
		char key[16], want[200];

		if (seq == 3)
			continue;
		snprintf(key, sizeof key, "R%llu", (unsigned long long)seq + 100);
		snprintf(want, sizeof want, "request %llu: a filler record of some length to fill pages",
			 (unsigned long long)seq);
		CHECK(store_state_get(t, "request", A, (const uint8_t *)key, strlen(key), &v, &vl, NULL, E()) == 0,
		      "%s", test_err.msg);
		CHECK(vl == strlen(want) && memcmp(v, want, vl) == 0, "record %s changed", key);
		CHECK(store_log_get(t, A, "up", seq, &v, &vl, NULL, E()) == 0, "%s", test_err.msg);
	}
	cr_assert_eq(store_log_get(t, A, "up", 3, &v, &vl, NULL, E()), 0, "%s", test_err.msg);
	cr_assert_eq(vl, strlen("envelope #3 holding []"));
	store_txn_abort(&t);
}

/* A reader in another process holds a snapshot from before the erase
 * while the store is scrubbed: its pages are held, and it still reads its
 * value; once it ends, the next scrub removes them. */
Test(storage_scrub, pages_an_open_reader_sees_are_held_until_it_ends)
{
	struct store_scrub_counts c;
	int go[2], ready[2], status;
	char b;
	pid_t pid;

	write_entries(50);
	cr_assert_eq(pipe(go), 0);
	cr_assert_eq(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		struct store *s = NULL;
		struct store_txn *t = NULL;
		struct err e = {0};
		const uint8_t *v;
		size_t vl;
		int ok;

		/* S is the parent's environment: left alone here (its locks are
		 * not inherited); this process opens its own. */
		if (store_open(&s, test_dir, STORE_RDONLY, &e) < 0 || store_txn_begin(s, false, &t, &e) < 0)
			_exit(10);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(11);
		ok = store_state_get(t, "request", A, (const uint8_t *)"R17", 3, &v, &vl, NULL, &e) == 0 &&
		     has_bytes(v, vl, PHONE);
		_exit(ok ? 0 : 12);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(read(ready[0], &b, 1), 1, "the reader did not start");
	erase_r17();
	cr_assert_eq(store_scrub(S, &c, E()), 0, "%s", test_err.msg);
	cr_assert_gt(c.held, 0, "pages a reader still sees were not held");
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the old snapshot lost its value (status %d)", status);
	cr_assert_eq(store_scrub(S, &c, E()), 0, "%s", test_err.msg);
	cr_assert_eq(c.held, 0);
	cr_assert_eq(file_count(PHONE), 0, "the erased phone number is still in data.mdb");
}

Test(storage_scrub, read_only_store_is_refused)
{
	struct store_scrub_counts c;

	write_entries(3);
	store_close(&S);
	S = test_open(STORE_RDONLY);
	cr_assert_eq(store_scrub(S, &c, E()), -EROFS);
}
