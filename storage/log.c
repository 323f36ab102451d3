/* SPDX-License-Identifier: MIT */
/*
 * The log: every appended entry, keyed author | len | feed name | seq (BE)
 * so that one feed's entries are contiguous and in seq order, valued
 * entry hash | exact envelope bytes. Reads hand out pointers into LMDB's
 * map, valid until the transaction ends (in a write transaction, only until
 * its next write: LMDB may then reuse the page); walks use one cursor.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "storage/store_internal.h"

static int log_args(struct store_txn *t, const uint8_t *author, const char *feed, const char *fn,
		    struct err *e)
{
	if (!t || !author) {
		err_set(e, "%s: bad arguments", fn);
		return -EINVAL;
	}
	return store_feed_check(t->s, feed, e);
}

static int value_check(struct store *s, const MDB_val *v, const uint8_t *author, const char *feed,
		       uint64_t seq, struct err *e)
{
	if (v->mv_size >= STORE_HASH_LEN)
		return 0;
	char label[300];
	store_feed_label(label, sizeof label, author, feed);
	err_set(e, "store %s: log record %s #%" PRIu64 " is %zu bytes: data.mdb is corrupt", s->dir,
		label, seq, v->mv_size);
	return -EIO;
}

int store_log_get(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
		  const uint8_t **bytes, size_t *len, uint8_t hash[32], struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	char label[300];
	MDB_val k, v;
	int ret = log_args(t, author, feed, "store_log_get", e);

	if (ret < 0)
		goto out;
	if (!bytes || !len) {
		err_set(e, "store_log_get: bad arguments");
		ret = -EINVAL;
		goto out;
	}
	k.mv_size = log_key(kbuf, author, feed, (size_t)ret, seq);
	k.mv_data = kbuf;
	store_feed_label(label, sizeof label, author, feed);
	int rc = mdb_get(t->txn, t->s->log, &k, &v);
	if (rc == MDB_NOTFOUND) {
		err_set(e, "store %s: feed %s has no entry #%" PRIu64, t->s->dir, label, seq);
		ret = -ENOENT;
		goto out;
	}
	if ((ret = lmdb_err(rc, e, "store %s: reading %s #%" PRIu64, t->s->dir, label, seq)) < 0)
		goto out;
	if ((ret = value_check(t->s, &v, author, feed, seq, e)) < 0)
		goto out;
	if (hash)
		memcpy(hash, v.mv_data, STORE_HASH_LEN);
	*bytes = (const uint8_t *)v.mv_data + STORE_HASH_LEN;
	*len = v.mv_size - STORE_HASH_LEN;
	ret = 0;
out:
	return ret;
}

int store_log_each(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t from,
		   uint64_t to,
		   int (*fn)(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg),
		   void *arg, struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	char label[300];
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int ret = log_args(t, author, feed, "store_log_each", e);

	if (ret < 0)
		goto out;
	if (!fn) {
		err_set(e, "store_log_each: bad arguments");
		ret = -EINVAL;
		goto out;
	}
	size_t flen = (size_t)ret;
	ret = 0;
	if (to != 0 && from > to)
		goto out;
	size_t plen = log_prefix(kbuf, author, feed, flen);
	be64_put(kbuf + plen, from);
	k.mv_size = plen + 8;
	k.mv_data = kbuf;
	store_feed_label(label, sizeof label, author, feed);

	if ((ret = lmdb_err(mdb_cursor_open(t->txn, t->s->log, &c), e, "store %s: reading log of %s",
			    t->s->dir, label)) < 0)
		goto out;
	/* k points at kbuf only until the first get; after that at the map */
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == MDB_SUCCESS) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, kbuf, plen) != 0)
			break; /* past this feed */
		uint64_t seq = be64_get((const uint8_t *)k.mv_data + plen);
		if (to != 0 && seq > to)
			break;
		if ((ret = value_check(t->s, &v, author, feed, seq, e)) < 0)
			goto out;
		const uint8_t *p = v.mv_data;
		if ((ret = fn(seq, p, p + STORE_HASH_LEN, v.mv_size - STORE_HASH_LEN, arg)) != 0)
			goto out;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		rc = MDB_SUCCESS;
	ret = lmdb_err(rc, e, "store %s: reading log of %s", t->s->dir, label);
out:
	if (c)
		mdb_cursor_close(c);
	return ret;
}

int store_log_replace(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
		      const uint8_t *bytes, size_t len, struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	uint8_t hash[STORE_HASH_LEN];
	char label[300];
	MDB_val k, v;
	int ret = log_args(t, author, feed, "store_log_replace", e);

	if (ret < 0)
		goto out;
	size_t flen = (size_t)ret;
	if (!bytes && len) {
		err_set(e, "store_log_replace: bad arguments");
		ret = -EINVAL;
		goto out;
	}
	if ((ret = store_txn_writable(t, "replacing a log entry", e)) < 0)
		goto out;
	k.mv_size = log_key(kbuf, author, feed, flen, seq);
	k.mv_data = kbuf;
	store_feed_label(label, sizeof label, author, feed);
	int rc = mdb_get(t->txn, t->s->log, &k, &v);
	if (rc == MDB_NOTFOUND) {
		err_set(e, "store %s: feed %s has no entry #%" PRIu64 " to replace", t->s->dir, label,
			seq);
		ret = -ENOENT;
		goto out;
	}
	if ((ret = lmdb_err(rc, e, "store %s: reading %s #%" PRIu64, t->s->dir, label, seq)) < 0)
		goto out;
	if ((ret = value_check(t->s, &v, author, feed, seq, e)) < 0)
		goto out;
	/* copy the hash out: the put below may move the page it lives on */
	memcpy(hash, v.mv_data, STORE_HASH_LEN);
	/* Zero the old bytes in place first (same size: LMDB overwrites the
	 * value where it is, in this transaction's copy of the page). A put of
	 * another size moves the page's other records over the old one and may
	 * leave part of it in the page's unused space, written to the file. */
	v.mv_data = NULL;
	rc = mdb_put(t->txn, t->s->log, &k, &v, MDB_RESERVE);
	if ((ret = lmdb_err(rc, e, "store %s: replacing %s #%" PRIu64, t->s->dir, label, seq)) < 0)
		goto out;
	memset(v.mv_data, 0, v.mv_size);
	v.mv_size = STORE_HASH_LEN + len;
	v.mv_data = NULL;
	rc = mdb_put(t->txn, t->s->log, &k, &v, MDB_RESERVE);
	if ((ret = lmdb_err(rc, e, "store %s: replacing %s #%" PRIu64, t->s->dir, label, seq)) < 0)
		goto out;
	memcpy(v.mv_data, hash, STORE_HASH_LEN);
	if (len)
		memcpy((uint8_t *)v.mv_data + STORE_HASH_LEN, bytes, len);
	ret = 0;
out:
	return ret;
}
