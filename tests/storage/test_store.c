/* SPDX-License-Identifier: MIT */
/* storage_store: opening, creating and refusing stores; meta; transactions. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

TestSuite(storage_store, .init = test_dir_make, .fini = test_dir_remove);

static void data_path(char *out, size_t n)
{
	snprintf(out, n, "%s/data.mdb", test_dir);
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat sb;
	cr_assert_eq(stat(path, &sb), 0);
	return sb.st_size;
}

Test(storage_store, create_and_reopen)
{
	uint8_t author[32];
	fake_author(author, 1);

	struct store *s = test_open(STORE_CREATE);
	struct store_txn *t = test_begin(s, false);
	const uint8_t *v;
	size_t len;
	cr_assert_eq(store_meta_get(t, "schema", &v, &len, E()), 0, "%s", test_err.msg);
	cr_assert_eq(len, 4);
	cr_assert_eq(v[0], 0);
	cr_assert_eq(v[1], 0);
	cr_assert_eq(v[2], 0);
	cr_assert_eq(v[3], STORE_SCHEMA);
	store_txn_abort(&t);
	cr_assert_null(t);

	t = test_begin(s, true);
	test_append_range(t, author, "posts", 1, 3);
	test_commit(&t);
	store_close(&s);
	cr_assert_null(s);
	store_close(&s); /* NULL-safe */

	/* reopen without CREATE, read-write then read-only */
	s = test_open(0);
	t = test_begin(s, false);
	struct store_head h;
	cr_assert_eq(store_head_get(t, author, "posts", &h, E()), 0, "%s", test_err.msg);
	cr_assert_eq(h.seq, 3);
	store_txn_abort(&t);
	store_close(&s);

	s = test_open(STORE_RDONLY);
	t = test_begin(s, false);
	cr_assert_eq(store_head_get(t, author, "posts", &h, E()), 0);
	cr_assert_eq(h.seq, 3);
	store_txn_abort(&t);
	cr_assert_eq(store_txn_begin(s, true, &t, E()), -EROFS);
	cr_assert_null(t);
	cr_assert(strstr(test_err.msg, "read-only"), "%s", test_err.msg);
	store_close(&s);

	/* CREATE on an existing store keeps it */
	s = test_open(STORE_CREATE);
	t = test_begin(s, false);
	cr_assert_eq(store_head_get(t, author, "posts", &h, E()), 0);
	cr_assert_eq(h.seq, 3);
	store_txn_abort(&t);
	store_close(&s);
}

Test(storage_store, create_makes_directory)
{
	char sub[128];
	snprintf(sub, sizeof sub, "%s/node", test_dir);
	struct store *s = NULL;
	cr_assert_eq(store_open(&s, sub, STORE_CREATE, E()), 0, "%s", test_err.msg);
	store_close(&s);
	struct stat sb;
	cr_assert_eq(stat(sub, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700);
	cr_assert_eq(store_open(&s, sub, 0, E()), 0, "%s", test_err.msg);
	store_close(&s);
}

Test(storage_store, missing_store)
{
	struct store *s = NULL;
	char msg[600];

	cr_assert_eq(store_open(&s, test_dir, 0, E()), -ENOENT);
	cr_assert_null(s);
	snprintf(msg, sizeof msg, "no Strata store in %s", test_dir);
	cr_assert(strstr(test_err.msg, msg), "%s", test_err.msg);

	cr_assert_eq(store_open(&s, test_dir, STORE_RDONLY, E()), -ENOENT);
	cr_assert(strstr(test_err.msg, "no Strata store"), "%s", test_err.msg);

	char sub[128];
	snprintf(sub, sizeof sub, "%s/nope/deeper", test_dir);
	cr_assert_eq(store_open(&s, sub, 0, E()), -ENOENT);
	cr_assert_null(s);

	/* nothing was created by the refused opens */
	char path[128];
	data_path(path, sizeof path);
	cr_assert_neq(access(path, F_OK), 0);

	/* an empty data.mdb (a crash during creation) is no store either */
	write_file(path, NULL, 0);
	cr_assert_eq(store_open(&s, test_dir, 0, E()), -ENOENT);
	cr_assert(strstr(test_err.msg, "no Strata store"), "%s", test_err.msg);
	cr_assert_eq(file_size(path), 0);
}

Test(storage_store, garbage_data_mdb)
{
	char path[128];
	data_path(path, sizeof path);
	static uint8_t junk[65536];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (uint8_t)(x >> 16);
	}
	write_file(path, junk, sizeof junk);

	struct store *s = NULL;
	int flags[] = {0, STORE_RDONLY, STORE_CREATE};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(store_open(&s, test_dir, flags[i], E()), -EIO, "flags %d: %s", flags[i],
			     test_err.msg);
		cr_assert_null(s);
		cr_assert(strstr(test_err.msg, test_dir), "%s", test_err.msg);
		cr_assert(strstr(test_err.msg, "data.mdb is corrupt"), "%s", test_err.msg);
	}
	/* CREATE did not overwrite the file */
	cr_assert_eq(file_size(path), (off_t)sizeof junk);

	/* a short text file */
	write_file(path, (const uint8_t *)"hello\n", 6);
	cr_assert_eq(store_open(&s, test_dir, 0, E()), -EIO, "%s", test_err.msg);
	cr_assert_null(s);
}

Test(storage_store, truncated_data_mdb)
{
	struct store *s = test_open(STORE_CREATE);
	struct store_txn *t = test_begin(s, true);
	static uint8_t big[4000];
	for (int i = 0; i < 100; i++) {
		char name[16];
		snprintf(name, sizeof name, "big%d", i);
		memset(big, i, sizeof big);
		cr_assert_eq(store_meta_put(t, name, big, sizeof big, E()), 0, "%s", test_err.msg);
	}
	test_commit(&t);
	store_close(&s);

	char path[128];
	data_path(path, sizeof path);
	off_t size = file_size(path);
	cr_assert_gt(size, 16 * 4096);
	cr_assert_eq(truncate(path, size / 2), 0);
	cr_assert_eq(store_open(&s, test_dir, 0, E()), -EIO, "%s", test_err.msg);
	cr_assert_null(s);
	cr_assert(strstr(test_err.msg, "truncated"), "%s", test_err.msg);
	cr_assert_eq(store_open(&s, test_dir, STORE_RDONLY, E()), -EIO, "%s", test_err.msg);
}

Test(storage_store, newer_schema_refused)
{
	struct store *s = test_open(STORE_CREATE);
	struct store_txn *t = test_begin(s, true);
	uint8_t v[4] = {0, 0, 0, STORE_SCHEMA + 1};
	cr_assert_eq(store_meta_put(t, "schema", v, 4, E()), 0, "%s", test_err.msg);
	test_commit(&t);
	store_close(&s);

	char msg[600];
	snprintf(msg, sizeof msg, "store %s has schema %d, this build reads up to %d; upgrade Strata",
		 test_dir, STORE_SCHEMA + 1, STORE_SCHEMA);
	int flags[] = {0, STORE_RDONLY, STORE_CREATE};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(store_open(&s, test_dir, flags[i], E()), -EPROTONOSUPPORT, "%s",
			     test_err.msg);
		cr_assert_null(s);
		cr_assert_str_eq(test_err.msg, msg);
	}
}

Test(storage_store, bad_map_size)
{
	struct store *s = NULL;
	setenv("STRATA_MAP_SIZE", "lots", 1);
	cr_assert_eq(store_open(&s, test_dir, STORE_CREATE, E()), -EINVAL);
	cr_assert(strstr(test_err.msg, "STRATA_MAP_SIZE"), "%s", test_err.msg);
	cr_assert_null(s);
	setenv("STRATA_MAP_SIZE", "2097152", 1);
	s = test_open(STORE_CREATE);
	store_close(&s);
	unsetenv("STRATA_MAP_SIZE");
}

Test(storage_store, bad_flags)
{
	struct store *s = NULL;
	cr_assert_eq(store_open(&s, test_dir, STORE_CREATE | STORE_RDONLY, E()), -EINVAL);
	cr_assert_eq(store_open(&s, test_dir, 1 << 5, E()), -EINVAL);
	cr_assert_eq(store_open(&s, NULL, STORE_CREATE, E()), -EINVAL);
	cr_assert_null(s);
}

Test(storage_store, meta_put_get)
{
	struct store *s = test_open(STORE_CREATE);
	struct store_txn *t = test_begin(s, true);
	const uint8_t *v;
	size_t len;
	cr_assert_eq(store_meta_get(t, "org", &v, &len, E()), -ENOENT);
	cr_assert(strstr(test_err.msg, "org"), "%s", test_err.msg);
	cr_assert_eq(store_meta_put(t, "org", (const uint8_t *)"acme/eu", 7, E()), 0);
	cr_assert_eq(store_meta_put(t, "empty", NULL, 0, E()), 0, "%s", test_err.msg);
	cr_assert_eq(store_meta_put(t, "", (const uint8_t *)"x", 1, E()), -EINVAL);
	cr_assert_eq(store_meta_get(t, "org", &v, &len, E()), 0);
	cr_assert_eq(len, 7);
	cr_assert_eq(memcmp(v, "acme/eu", 7), 0);
	test_commit(&t);

	t = test_begin(s, true);
	cr_assert_eq(store_meta_put(t, "org", (const uint8_t *)"acme", 4, E()), 0);
	store_txn_abort(&t); /* aborted: not kept */
	store_txn_abort(&t); /* NULL-safe */
	store_close(&s);

	s = test_open(STORE_RDONLY);
	t = test_begin(s, false);
	cr_assert_eq(store_meta_get(t, "org", &v, &len, E()), 0);
	cr_assert_eq(len, 7);
	cr_assert_eq(memcmp(v, "acme/eu", 7), 0);
	cr_assert_eq(store_meta_get(t, "empty", &v, &len, E()), 0);
	cr_assert_eq(len, 0);
	/* a read transaction cannot write */
	cr_assert_eq(store_meta_put(t, "org", (const uint8_t *)"x", 1, E()), -EROFS);
	/* committing a read transaction just ends it */
	test_commit(&t);
	store_close(&s);
}
