/* SPDX-License-Identifier: MIT */
/*
 * A consistent copy of a live store, through LMDB's own copy API: it reads
 * one snapshot (a read transaction), so writers in this and other processes
 * go on meanwhile, and compacts (free pages are left out, so erased values
 * that sat in free pages are not copied either).
 */
#include <errno.h>
#include <unistd.h>

#include "storage/store_internal.h"

int store_copy_fd(struct store *s, int fd, struct err *e)
{
	/* its read transaction holds the map as one of ours does (grow.c) */
	store_lock_shared(s);
	int ret = lmdb_err(mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT), e, "store %s: copying", s->dir);
	store_unlock_shared(s);

	if (ret == 0 && fdatasync(fd) < 0) {
		ret = -errno;
		err_set(e, "store %s: copy not flushed to disk", s->dir);
	}
	return ret;
}
