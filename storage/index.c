/* SPDX-License-Identifier: MIT */
/*
 * Secondary indexes: small named key spaces in one LMDB database, written by
 * callers in the same transaction as the entries they are derived from, so
 * an index can never disagree with the log it indexes.
 */
#include <errno.h>
#include <string.h>

#include "storage/store_internal.h"

static int index_key(const struct store_txn *t, uint8_t *buf, const char *name, const uint8_t *key,
		     size_t key_len, MDB_val *k, struct err *e)
{
	size_t n = strlen(name);

	if (n == 0 || n + 1 + key_len > t->s->max_key || n + 1 + key_len > STORE_KEY_MAX) {
		err_set(e, "store %s: index %s key of %zu bytes is too long", t->s->dir, name, key_len);
		return -EINVAL;
	}
	memcpy(buf, name, n + 1);
	if (key_len)
		memcpy(buf + n + 1, key, key_len);
	k->mv_size = n + 1 + key_len;
	k->mv_data = buf;
	return 0;
}

int store_index_get(struct store_txn *t, const char *name, const uint8_t *key, size_t key_len,
		    const uint8_t **val, size_t *len, struct err *e)
{
	uint8_t buf[STORE_KEY_MAX];
	MDB_val k, v;
	int ret = index_key(t, buf, name, key, key_len, &k, e), rc;

	if (ret < 0)
		return ret;
	rc = mdb_get(t->txn, t->s->index, &k, &v);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if ((ret = lmdb_err(rc, e, "store %s: reading index %s", t->s->dir, name)) < 0)
		return ret;
	*val = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int store_index_put(struct store_txn *t, const char *name, const uint8_t *key, size_t key_len,
		    const uint8_t *val, size_t len, struct err *e)
{
	uint8_t buf[STORE_KEY_MAX];
	MDB_val k, v = {.mv_size = len, .mv_data = (void *)val};
	int ret;

	if ((ret = store_txn_writable(t, "writing an index", e)) < 0 ||
	    (ret = index_key(t, buf, name, key, key_len, &k, e)) < 0)
		return ret;
	return lmdb_err(mdb_put(t->txn, t->s->index, &k, &v, 0), e, "store %s: writing index %s", t->s->dir,
			name);
}

int store_index_del(struct store_txn *t, const char *name, const uint8_t *key, size_t key_len, struct err *e)
{
	uint8_t buf[STORE_KEY_MAX];
	MDB_val k;
	int ret, rc;

	if ((ret = store_txn_writable(t, "writing an index", e)) < 0 ||
	    (ret = index_key(t, buf, name, key, key_len, &k, e)) < 0)
		return ret;
	rc = mdb_del(t->txn, t->s->index, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc, e, "store %s: removing from index %s", t->s->dir, name);
}

int store_index_each(struct store_txn *t, const char *name,
		     int (*fn)(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg),
		     void *arg, struct err *e)
{
	uint8_t buf[STORE_KEY_MAX];
	size_t n = strlen(name) + 1;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int ret = index_key(t, buf, name, NULL, 0, &k, e), rc;

	if (ret < 0)
		return ret;
	if ((ret = lmdb_err(mdb_cursor_open(t->txn, t->s->index, &c), e, "store %s: index %s", t->s->dir, name)) < 0)
		return ret;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < n || memcmp(k.mv_data, buf, n) != 0)
			break;
		if ((ret = fn((const uint8_t *)k.mv_data + n, k.mv_size - n, v.mv_data, v.mv_size, arg)) != 0)
			goto out;
	}
	ret = rc == 0 || rc == MDB_NOTFOUND ? 0 : lmdb_err(rc, e, "store %s: walking index %s", t->s->dir, name);
out:
	mdb_cursor_close(c);
	return ret;
}
