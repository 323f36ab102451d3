/* SPDX-License-Identifier: MIT */
/*
 * An erase applied by another process while this one has the store open
 * (the CLI's `strata erase` beside a running daemon), on a real store, no
 * daemon: the erased bytes must not come back into data.mdb through this
 * process's later writes once it has closed the node (erase_scrub.c,
 * node_close).
 *
 * LMDB recycles the page buffers of a process's write transactions without
 * clearing them, and a page it fills from one keeps the buffer's old middle:
 * the long-lived process's buffers hold pages with the value from before the
 * erase. The erasing process scrubs data.mdb at once; a write of the other
 * process after that (the daemon writing its links' state at stop, in
 * sync_rotate_records) put the value back on disk, intermittently in the
 * daemon tests and every time here.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "node/core/admin.h"
#include "node/core/node.h"

#define MEMBERS 60
#define ERASED_ID "M0003"
#define ERASED_PHONE "13800000003"
#define ID_CAP 16
#define PHONE_CAP 16

static char tmp[64];
static char dir[128];
static struct node *n; /* the long-lived process (the daemon) */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	struct node_init_opts o = {.name = "root", .root = true};
	struct err e = {0};

	snprintf(tmp, sizeof tmp, "/tmp/strata-eclose-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(dir, sizeof dir, "%s/node", tmp);
	cr_assert_eq(node_create(dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	node_set_fence_wait(n, 0);
}

static void teardown(void)
{
	node_close(&n);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(erase_close, .init = setup, .fini = teardown);

/* How many times needle's bytes occur in data.mdb, read raw. */
static size_t store_count(const char *needle)
{
	char path[256];
	size_t nl = strlen(needle), count = 0, len;
	FILE *f;
	char *buf;
	long size;

	snprintf(path, sizeof path, "%s/store/data.mdb", dir);
	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	cr_assert_geq(size = ftell(f), 0);
	rewind(f);
	cr_assert_not_null(buf = malloc((size_t)size + 1));
	len = fread(buf, 1, (size_t)size, f);
	fclose(f);
	for (size_t i = 0; i + nl <= len; i++)
		if (memcmp(buf + i, needle, nl) == 0)
			count++;
	free(buf);
	return count;
}

/* Writes members first..last (ids M0001.., phones 1380000000x..) through n
 * in one commit. */
static void put_members(int first, int last)
{
	struct node_writer *w = NULL;
	struct err e = {0};

	cr_assert_eq(node_writer_begin(n, FEED_UP, &w, &e), 0, "%s", e.msg);
	for (int i = first; i <= last; i++) {
		Strata__Member m = STRATA__MEMBER__INIT;
		char id[ID_CAP], phone[PHONE_CAP];

		snprintf(id, sizeof id, "M%04d", i);
		snprintf(phone, sizeof phone, "138%08d", i);
		m.id = id;
		m.name = "resident";
		m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
		m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
		m.joined = "2021-07-01";
		m.phone = phone;
		cr_assert_eq(node_writer_put_msg(w, "member", (const uint8_t *)id, strlen(id),
						 (const ProtobufCMessage *)&m, &e),
			     0, "%s", e.msg);
	}
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
}

/* `strata erase` in another process: its own node handle, then its scrub. */
static void erase_in_another_process(const char *id)
{
	int status = 0;
	pid_t pid = fork();

	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct node *m = NULL;
		struct node_erase_result r;
		struct store_scrub_counts c;
		struct err e = {0};
		int ret = node_open(&m, dir, 0, &e);

		if (ret == 0) {
			node_set_fence_wait(m, 0);
			ret = node_erase(m, "member", id, "left the branch", &r, &e);
		}
		if (ret == 0) /* as cmd_erase.c: the freed pages overwritten at once */
			ret = node_scrub(m, &c, &e);
		if (ret < 0)
			fprintf(stderr, "erase in the other process: %s\n", e.msg);
		node_close(&m);
		_exit(ret < 0 ? 1 : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the erasing process failed (status %d)", status);
}

Test(erase_close, a_write_after_another_process_erased_leaves_no_old_bytes_once_closed)
{
	/* This process writes the member, then more writes that copy the
	 * pages holding it (its recycled buffers now hold the phone). */
	put_members(1, MEMBERS / 2);
	put_members(MEMBERS / 2 + 1, MEMBERS);
	cr_assert_gt(store_count(ERASED_PHONE), 0, "the phone number was never stored");
	erase_in_another_process(ERASED_ID);
	cr_assert_eq(store_count(ERASED_PHONE), 0, "the erasing process's scrub left the phone number in data.mdb");
	/* A write of this process after the erase (the daemon's links' state
	 * at stop, a received batch): then it stops. */
	put_members(MEMBERS + 1, MEMBERS + 2);
	node_close(&n);
	cr_assert_eq(store_count(ERASED_PHONE), 0,
		     "the erased phone number is back in data.mdb after a write of a process that had the store "
		     "open during the erase, and its close");
	cr_assert_gt(store_count("13800000004"), 0, "a phone number that was not erased is gone");
}

Test(erase_close, closing_without_an_erase_meanwhile_writes_nothing)
{
	struct store_txn *t = NULL;
	const uint8_t *v;
	size_t len;
	struct err e = {0};

	put_members(1, 2);
	node_close(&n);
	/* no scrub, so no meta "scrubbed" stamp, when nothing was erased */
	cr_assert_eq(node_open(&n, dir, NODE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_meta_get(t, "scrubbed", &v, &len, &e), -ENOENT, "a scrub ran at close with no erase");
	store_txn_abort(&t);
}
