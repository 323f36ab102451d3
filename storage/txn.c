/* SPDX-License-Identifier: MIT */
/*
 * Transactions: thin owners of an LMDB transaction. Every read and write of
 * the store happens inside one; a write transaction waits for the single
 * writer lock shared by all processes that open the same directory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "storage/store_internal.h"

/* A commit that fails with EIO while less than this is free on the store's
 * filesystem ran out of space (LMDB's short write). */
#define STORE_DISK_FULL_BYTES ((unsigned long long)1 << 20)

/* Begins LMDB's transaction holding s's grow lock shared (grow.c). After
 * MDB_MAP_RESIZED (another process wrote past this one's map) adopts the
 * larger map and tries again, unless this thread holds another transaction
 * of s (adopting would wait for itself): then -EAGAIN. */
static int txn_open(struct store *s, struct store_txn *t, struct err *e)
{
	bool others = store_held_by_me(s);
	int rc;

	for (int tries = 0;; tries++) {
		store_lock_shared(s);
		rc = mdb_txn_begin(s->env, NULL, t->write ? 0 : MDB_RDONLY, &t->txn);
		if (rc == 0)
			return 0;
		store_unlock_shared(s);
		t->txn = NULL;
		if (rc != MDB_MAP_RESIZED || others || tries == 3)
			break;
		if ((rc = store_map_adopt(s)))
			break;
	}
	if (rc == MDB_MAP_RESIZED && others) {
		err_set(e, "store %s: another process grew the store while this thread holds a transaction of it; "
			   "end it and retry",
			s->dir);
		return -EAGAIN;
	}
	return lmdb_err(rc, e, "store %s: beginning a %s transaction", s->dir, t->write ? "write" : "read");
}

int store_txn_begin_raw(struct store *s, bool write, struct store_txn **out, struct err *e)
{
	struct store_txn *t = NULL;
	int ret = -EINVAL;

	if (!s || !out) {
		err_set(e, "store_txn_begin: bad arguments");
		goto out;
	}
	if (!s->env) {
		err_set(e, "store %s: unusable after it failed to reopen (restart the command or daemon)", s->dir);
		ret = -EIO;
		goto out;
	}
	if (write && (s->flags & STORE_RDONLY)) {
		err_set(e, "store %s: opened read-only, cannot write", s->dir);
		ret = -EROFS;
		goto out;
	}
	ret = -ENOMEM;
	if (!(t = calloc(1, sizeof *t))) {
		err_set(e, "store %s: out of memory", s->dir);
		goto out;
	}
	t->s = s;
	t->write = write;
	if ((ret = txn_open(s, t, e)) < 0)
		goto out;
	if (write)
		store_tl_writer = s;
	*out = t;
	t = NULL;
	ret = 0;
out:
	store_txn_abort(&t);
	return ret;
}

int store_txn_begin(struct store *s, bool write, struct store_txn **out, struct err *e)
{
	/* a growth that fails leaves the map as it was: the write may fit */
	if (s && write && s->env && !(s->flags & STORE_RDONLY))
		(void)store_map_before_write(s);
	return store_txn_begin_raw(s, write, out, e);
}

/* Ends t's hold of its store (the transaction itself is ended). */
static void txn_release(struct store_txn *t)
{
	if (t->write && store_tl_writer == t->s)
		store_tl_writer = NULL;
	store_unlock_shared(t->s);
}

/* Writing pages to a full filesystem fails in LMDB either with ENOSPC (no
 * byte written) or, after a short write, with EIO ("short write,
 * filesystem full?"). Both must read as a full disk, so that the CLI and a
 * replication peer say what to do about it; the transaction is aborted
 * either way and the meta page was not written, so nothing of it is
 * visible. Returns -ENOSPC with the reason when the store's filesystem is
 * (nearly) full, 0 when it has room (a real I/O error). */
static int disk_full(const struct store *s, int rc, struct err *e)
{
	struct statvfs sv;
	unsigned long long avail;

	if (statvfs(s->dir, &sv) < 0)
		return 0;
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	if (rc == EIO && avail >= STORE_DISK_FULL_BYTES)
		return 0;
	err_set(e, "store %s: commit: the disk holding the store is full (%llu KiB free): %s; nothing of this "
		   "transaction was written; free space and retry",
		s->dir, avail / 1024, strerror(rc));
	return -ENOSPC;
}

int store_txn_commit(struct store_txn **t, struct err *e)
{
	if (!t || !*t) {
		err_set(e, "store_txn_commit: no transaction");
		return -EINVAL;
	}
	struct store_txn *x = *t;
	*t = NULL;
	/* mdb_txn_commit frees the transaction whether or not it succeeds */
	int rc = mdb_txn_commit(x->txn);
	int ret = rc == EIO || rc == ENOSPC ? disk_full(x->s, rc, e) : 0;
	if (ret == 0)
		ret = lmdb_err(rc, e, "store %s: commit", x->s->dir);
	txn_release(x);
	free(x);
	return ret;
}

void store_txn_abort(struct store_txn **t)
{
	if (!t || !*t)
		return;
	if ((*t)->txn) {
		mdb_txn_abort((*t)->txn);
		txn_release(*t);
	}
	free(*t);
	*t = NULL;
}

int store_txn_writable(const struct store_txn *t, const char *what, struct err *e)
{
	if (t->write)
		return 0;
	err_set(e, "store %s: %s needs a write transaction", t->s->dir, what);
	return -EROFS;
}
