/* SPDX-License-Identifier: MIT */
/*
 * Meta: small named values of the node (schema version, own key, org path,
 * pinned roots). Values read point into LMDB's map and stay valid until the
 * transaction ends (in a write transaction, only until its next write).
 */
#include <errno.h>
#include <string.h>

#include "storage/store_internal.h"

static int meta_key(const struct store_txn *t, const char *name, MDB_val *k, struct err *e)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > t->s->max_key) {
		err_set(e, "store %s: meta name of %zu bytes, must be 1..%zu", t->s->dir, n,
			t->s->max_key);
		return -EINVAL;
	}
	k->mv_size = n;
	k->mv_data = (void *)name;
	return 0;
}

int store_meta_get(struct store_txn *t, const char *name, const uint8_t **val, size_t *len,
		   struct err *e)
{
	MDB_val k, v;
	int ret = -EINVAL;

	if (!t || !val || !len) {
		err_set(e, "store_meta_get: bad arguments");
		goto out;
	}
	if ((ret = meta_key(t, name, &k, e)) < 0)
		goto out;
	int rc = mdb_get(t->txn, t->s->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		err_set(e, "store %s: meta %s is not set", t->s->dir, name);
		ret = -ENOENT;
		goto out;
	}
	if ((ret = lmdb_err(rc, e, "store %s: reading meta %s", t->s->dir, name)) < 0)
		goto out;
	*val = v.mv_data;
	*len = v.mv_size;
out:
	return ret;
}

int store_meta_put(struct store_txn *t, const char *name, const uint8_t *val, size_t len,
		   struct err *e)
{
	MDB_val k, v;
	int ret = -EINVAL;

	if (!t || (!val && len)) {
		err_set(e, "store_meta_put: bad arguments");
		goto out;
	}
	if ((ret = store_txn_writable(t, "setting meta", e)) < 0)
		goto out;
	if ((ret = meta_key(t, name, &k, e)) < 0)
		goto out;
	v.mv_size = len;
	v.mv_data = (void *)val;
	ret = lmdb_err(mdb_put(t->txn, t->s->meta, &k, &v, 0), e, "store %s: writing meta %s",
		       t->s->dir, name);
out:
	return ret;
}
