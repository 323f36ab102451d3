/* SPDX-License-Identifier: MIT */
/*
 * State: the current value of every (collection, owner, key), as left by
 * the ops of the entries appended so far. Keys are collection | NUL |
 * owner(32) | key, so one collection, and within it one owner, is a
 * contiguous range walked with one cursor; values are feed len(1) | feed |
 * seq (BE) | value, the origin first. Pointers handed out point into LMDB's
 * map and stay valid until the transaction ends (in a write transaction,
 * only until its next write).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "storage/store_internal.h"

#define ORIGIN_MIN (1 + 8) /* feed len and seq, with an empty feed name */

/* Writes the key (or with key == NULL and key_len == 0 and owner NULL, the
 * collection prefix) into buf; returns its length or -EINVAL. */
static int state_key(const struct store *s, uint8_t *buf, const char *collection,
		     const uint8_t *owner, const uint8_t *key, size_t key_len, struct err *e)
{
	size_t clen = collection ? strlen(collection) : 0;
	if (clen == 0) {
		err_set(e, "store %s: state collection name is empty", s->dir);
		return -EINVAL;
	}
	if (!key && key_len) {
		err_set(e, "store %s: state key of collection %s is NULL", s->dir, collection);
		return -EINVAL;
	}
	size_t n = clen + 1 + (owner ? STORE_AUTHOR_LEN : 0) + key_len;
	if (n > s->max_key) {
		err_set(e, "store %s: state key in collection %s is too long: %zu bytes with the "
			   "collection name and owner, at most %zu",
			s->dir, collection, n, s->max_key);
		return -EINVAL;
	}
	memcpy(buf, collection, clen + 1); /* with its NUL, the separator */
	if (owner)
		memcpy(buf + clen + 1, owner, STORE_AUTHOR_LEN);
	if (key_len)
		memcpy(buf + clen + 1 + (owner ? STORE_AUTHOR_LEN : 0), key, key_len);
	return (int)n;
}

static int origin_decode(const struct store *s, const MDB_val *v, struct store_origin *o,
			 const uint8_t **val, size_t *val_len, const char *collection,
			 struct err *e)
{
	const uint8_t *p = v->mv_data;
	size_t flen = v->mv_size ? p[0] : 0;
	if (v->mv_size < ORIGIN_MIN || v->mv_size < ORIGIN_MIN + flen) {
		err_set(e, "store %s: a state record of collection %s is %zu bytes: data.mdb is corrupt",
			s->dir, collection, v->mv_size);
		return -EIO;
	}
	if (o) {
		memcpy(o->feed, p + 1, flen);
		o->feed[flen] = '\0';
		o->seq = be64_get(p + 1 + flen);
	}
	*val = p + 1 + flen + 8;
	*val_len = v->mv_size - (1 + flen + 8);
	return 0;
}

int store_state_apply(struct store *s, MDB_txn *txn, const uint8_t author[32], const char *feed,
		      size_t feed_len, uint64_t seq, const struct store_op *op, struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	MDB_val k, v;
	int ret = state_key(s, kbuf, op->collection, author, op->key, op->key_len, e);
	if (ret < 0)
		return ret;
	k.mv_size = (size_t)ret;
	k.mv_data = kbuf;

	switch (op->kind) {
	case STORE_PUT:
		if (!op->value && op->value_len) {
			err_set(e, "store %s: put in collection %s without a value", s->dir,
				op->collection);
			return -EINVAL;
		}
		v.mv_size = 1 + feed_len + 8 + op->value_len;
		v.mv_data = NULL;
		ret = lmdb_err(mdb_put(txn, s->state, &k, &v, MDB_RESERVE), e,
			       "store %s: writing state of collection %s", s->dir, op->collection);
		if (ret < 0)
			return ret;
		uint8_t *p = v.mv_data;
		p[0] = (uint8_t)feed_len;
		memcpy(p + 1, feed, feed_len);
		be64_put(p + 1 + feed_len, seq);
		if (op->value_len)
			memcpy(p + 1 + feed_len + 8, op->value, op->value_len);
		return 0;
	case STORE_DELETE: {
		int rc = mdb_del(txn, s->state, &k, NULL);
		if (rc == MDB_NOTFOUND)
			rc = MDB_SUCCESS;
		return lmdb_err(rc, e, "store %s: deleting state of collection %s", s->dir,
				op->collection);
	}
	}
	err_set(e, "store %s: unknown state op %d", s->dir, (int)op->kind);
	return -EINVAL;
}

int store_state_erase(struct store_txn *t, const char *collection, const uint8_t owner[32], const uint8_t *key,
		      size_t key_len, struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX], origin[ORIGIN_MIN + 255];
	const uint8_t *val;
	size_t val_len, olen;
	MDB_val k, v;
	int ret = -EINVAL;

	if (!t || !owner) {
		err_set(e, "store_state_erase: bad arguments");
		goto out;
	}
	if ((ret = store_txn_writable(t, "erasing a state value", e)) < 0 ||
	    (ret = state_key(t->s, kbuf, collection, owner, key, key_len, e)) < 0)
		goto out;
	k.mv_size = (size_t)ret;
	k.mv_data = kbuf;
	int rc = mdb_get(t->txn, t->s->state, &k, &v);
	if (rc == MDB_NOTFOUND) {
		err_set(e, "store %s: no such record in collection %s", t->s->dir, collection);
		ret = -ENOENT;
		goto out;
	}
	if ((ret = lmdb_err(rc, e, "store %s: reading state of collection %s", t->s->dir, collection)) < 0 ||
	    (ret = origin_decode(t->s, &v, NULL, &val, &val_len, collection, e)) < 0)
		goto out;
	olen = v.mv_size - val_len;
	memcpy(origin, v.mv_data, olen);
	/* As in store_log_replace: zero in place, then shrink, so that no part
	 * of the value is left in the page's unused space. */
	v.mv_data = NULL;
	rc = mdb_put(t->txn, t->s->state, &k, &v, MDB_RESERVE);
	if ((ret = lmdb_err(rc, e, "store %s: erasing a value of collection %s", t->s->dir, collection)) < 0)
		goto out;
	memset(v.mv_data, 0, v.mv_size);
	v.mv_size = olen;
	v.mv_data = NULL;
	rc = mdb_put(t->txn, t->s->state, &k, &v, MDB_RESERVE);
	if ((ret = lmdb_err(rc, e, "store %s: erasing a value of collection %s", t->s->dir, collection)) < 0)
		goto out;
	memcpy(v.mv_data, origin, olen);
	ret = 0;
out:
	return ret;
}

#define SUPERSEDED_INDEX "superseded"

/* The "superseded" index key of (owner, collection, key); its length. */
static int superseded_key(uint8_t *buf, size_t cap, const char *collection, const uint8_t *owner, const uint8_t *key,
			  size_t key_len)
{
	size_t cl = strlen(collection) + 1;

	if (STORE_AUTHOR_LEN + cl + key_len > cap)
		return -EINVAL;
	memcpy(buf, owner, STORE_AUTHOR_LEN);
	memcpy(buf + STORE_AUTHOR_LEN, collection, cl);
	if (key_len)
		memcpy(buf + STORE_AUTHOR_LEN + cl, key, key_len);
	return (int)(STORE_AUTHOR_LEN + cl + key_len);
}

int store_state_supersede(struct store_txn *t, const char *collection, const uint8_t owner[32], const uint8_t *key,
			  size_t key_len, const uint8_t by[32], struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX], mbuf[STORE_KEY_MAX];
	MDB_val k;
	int ret, ml, rc;

	if (!t || !owner || !by || !collection) {
		err_set(e, "store_state_supersede: bad arguments");
		return -EINVAL;
	}
	if ((ret = store_txn_writable(t, "superseding a state record", e)) < 0 ||
	    (ret = state_key(t->s, kbuf, collection, owner, key, key_len, e)) < 0)
		return ret;
	if ((ml = superseded_key(mbuf, sizeof mbuf, collection, owner, key, key_len)) < 0) {
		err_set(e, "store %s: a key of collection %s is too long to mark", t->s->dir, collection);
		return ml;
	}
	k.mv_size = (size_t)ret;
	k.mv_data = kbuf;
	rc = mdb_del(t->txn, t->s->state, &k, NULL);
	if (rc == MDB_NOTFOUND)
		rc = MDB_SUCCESS;
	if ((ret = lmdb_err(rc, e, "store %s: deleting state of collection %s", t->s->dir, collection)) < 0)
		return ret;
	return store_index_put(t, SUPERSEDED_INDEX, mbuf, (size_t)ml, by, STORE_AUTHOR_LEN, e);
}

int store_state_superseded(struct store_txn *t, const char *collection, const uint8_t owner[32], const uint8_t *key,
			   size_t key_len, uint8_t by[32])
{
	uint8_t mbuf[STORE_KEY_MAX];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	int ml;

	if (!t || !owner || !collection ||
	    (ml = superseded_key(mbuf, sizeof mbuf, collection, owner, key, key_len)) < 0 ||
	    store_index_get(t, SUPERSEDED_INDEX, mbuf, (size_t)ml, &v, &vl, &ignore) < 0 || vl != STORE_AUTHOR_LEN)
		return 0;
	if (by)
		memcpy(by, v, STORE_AUTHOR_LEN);
	return 1;
}

int store_state_get(struct store_txn *t, const char *collection, const uint8_t owner[32],
		    const uint8_t *key, size_t key_len, const uint8_t **val, size_t *val_len,
		    struct store_origin *origin, struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	MDB_val k, v;
	int ret = -EINVAL;

	if (!t || !owner || !val || !val_len) {
		err_set(e, "store_state_get: bad arguments");
		goto out;
	}
	if ((ret = state_key(t->s, kbuf, collection, owner, key, key_len, e)) < 0)
		goto out;
	k.mv_size = (size_t)ret;
	k.mv_data = kbuf;
	int rc = mdb_get(t->txn, t->s->state, &k, &v);
	if (rc == MDB_NOTFOUND) {
		err_set(e, "store %s: no such record in collection %s", t->s->dir, collection);
		ret = -ENOENT;
		goto out;
	}
	if ((ret = lmdb_err(rc, e, "store %s: reading state of collection %s", t->s->dir,
			    collection)) < 0)
		goto out;
	ret = origin_decode(t->s, &v, origin, val, val_len, collection, e);
out:
	return ret;
}

/* Walks the records of a collection (of one owner), calling fn for each,
 * or only counting them when fn is NULL. */
static int state_walk(struct store_txn *t, const char *collection, const uint8_t *owner,
		      int (*fn)(const struct store_record *r, void *arg), void *arg, size_t *count,
		      struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	MDB_cursor *c = NULL;
	MDB_val k, v;
	size_t n = 0;
	int ret = state_key(t->s, kbuf, collection, owner, NULL, 0, e);

	if (ret < 0)
		goto out;
	size_t plen = (size_t)ret;
	size_t clen = strlen(collection);
	k.mv_size = plen;
	k.mv_data = kbuf;
	if ((ret = lmdb_err(mdb_cursor_open(t->txn, t->s->state, &c), e,
			    "store %s: reading collection %s", t->s->dir, collection)) < 0)
		goto out;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == MDB_SUCCESS) {
		if (k.mv_size < plen || memcmp(k.mv_data, kbuf, plen) != 0)
			break; /* past the collection (or owner) */
		if (k.mv_size < clen + 1 + STORE_AUTHOR_LEN) {
			err_set(e, "store %s: a state key of collection %s is %zu bytes: data.mdb is "
				   "corrupt",
				t->s->dir, collection, k.mv_size);
			ret = -EIO;
			goto out;
		}
		n++;
		if (fn) {
			const uint8_t *kp = k.mv_data;
			struct store_record r = {
				.collection = collection,
				.owner = kp + clen + 1,
				.key = kp + clen + 1 + STORE_AUTHOR_LEN,
				.key_len = k.mv_size - (clen + 1 + STORE_AUTHOR_LEN),
			};
			if ((ret = origin_decode(t->s, &v, &r.origin, &r.value, &r.value_len,
						 collection, e)) < 0)
				goto out;
			if ((ret = fn(&r, arg)) != 0)
				goto out;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		rc = MDB_SUCCESS;
	if ((ret = lmdb_err(rc, e, "store %s: reading collection %s", t->s->dir, collection)) < 0)
		goto out;
	if (count)
		*count = n;
out:
	if (c)
		mdb_cursor_close(c);
	return ret;
}

int store_state_each(struct store_txn *t, const char *collection, const uint8_t *owner,
		     int (*fn)(const struct store_record *r, void *arg), void *arg, struct err *e)
{
	if (!t || !fn) {
		err_set(e, "store_state_each: bad arguments");
		return -EINVAL;
	}
	return state_walk(t, collection, owner, fn, arg, NULL, e);
}

int store_state_count(struct store_txn *t, const char *collection, const uint8_t *owner,
		      size_t *count, struct err *e)
{
	if (!t || !count) {
		err_set(e, "store_state_count: bad arguments");
		return -EINVAL;
	}
	return state_walk(t, collection, owner, NULL, NULL, count, e);
}
