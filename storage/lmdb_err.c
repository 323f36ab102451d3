/* SPDX-License-Identifier: MIT */
/*
 * The one place that turns LMDB return codes into Strata's negative errno
 * codes and a human reason. Everything else in storage/ hands LMDB's codes
 * here, so callers above storage never see an MDB_* value.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "storage/store_internal.h"

#define LMDB_ERR_CONTEXT_MAX 256 /* the caller's context ("store DIR: doing what"), cut beyond */

struct lmdb_code {
	int rc;
	int err;
	const char *what;
};

static const struct lmdb_code codes[] = {
	{MDB_KEYEXIST, -EEXIST, "the record already exists (MDB_KEYEXIST)"},
	{MDB_NOTFOUND, -ENOENT, "no such record (MDB_NOTFOUND)"},
	{MDB_PAGE_NOTFOUND, -EIO, "data.mdb is corrupt: a page is missing (MDB_PAGE_NOTFOUND)"},
	{MDB_CORRUPTED, -EIO, "data.mdb is corrupt (MDB_CORRUPTED)"},
	{MDB_PANIC, -EIO, "fatal LMDB error, the store must be reopened (MDB_PANIC)"},
	{MDB_VERSION_MISMATCH, -EIO,
	 "data.mdb was written by an incompatible LMDB version (MDB_VERSION_MISMATCH)"},
	{MDB_INVALID, -EIO, "data.mdb is corrupt or not an LMDB file (MDB_INVALID)"},
	{MDB_DBS_FULL, -ENOSPC, "too many named databases (MDB_DBS_FULL)"},
	{MDB_READERS_FULL, -EAGAIN, "too many readers of the store at once (MDB_READERS_FULL)"},
	{MDB_TLS_FULL, -EAGAIN, "too many threads reading the store (MDB_TLS_FULL)"},
	{MDB_TXN_FULL, -ENOSPC,
	 "too many changes in one transaction; commit smaller batches (MDB_TXN_FULL)"},
	{MDB_CURSOR_FULL, -EIO, "data.mdb tree too deep, likely corrupt (MDB_CURSOR_FULL)"},
	{MDB_PAGE_FULL, -EIO, "internal page overflow (MDB_PAGE_FULL)"},
	{MDB_MAP_RESIZED, -EAGAIN, "another process grew the store; retry (MDB_MAP_RESIZED)"},
	{MDB_INCOMPATIBLE, -EIO, "a database has unexpected flags, not a Strata store (MDB_INCOMPATIBLE)"},
	{MDB_BAD_RSLOT, -EINVAL, "reader slot misuse (MDB_BAD_RSLOT)"},
	{MDB_BAD_TXN, -EINVAL, "the transaction failed earlier and must be aborted (MDB_BAD_TXN)"},
	{MDB_BAD_VALSIZE, -EINVAL, "a key or value has an unsupported size (MDB_BAD_VALSIZE)"},
	{MDB_BAD_DBI, -EINVAL, "bad database handle (MDB_BAD_DBI)"},
};

int lmdb_err(int rc, struct err *e, const char *fmt, ...)
{
	if (rc == MDB_SUCCESS)
		return 0;

	char ctx[LMDB_ERR_CONTEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof ctx, fmt, ap);
	va_end(ap);

	if (rc == MDB_MAP_FULL)
		return store_map_full(ctx, e); /* grows, or names the ceiling to raise */
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		if (codes[i].rc == rc) {
			err_set(e, "%s: %s", ctx, codes[i].what);
			return codes[i].err;
		}
	}
	if (rc > 0) {
		/* an errno from the system: ENOMEM, ENOSPC, EACCES, EIO, ... */
		err_set(e, "%s: %s", ctx, strerror(rc));
		return -rc;
	}
	err_set(e, "%s: unknown LMDB error %d", ctx, rc);
	return -EIO;
}
