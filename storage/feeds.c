/* SPDX-License-Identifier: MIT */
/*
 * Feed heads: the `feeds` database maps author | feed name to the feed's
 * head seq, head hash, flags and (since issue 15) the frontier of its
 * Merkle tree. Appending moves a head (append.c); this file reads heads,
 * lists them and sets flags such as frozen; tree.c reads the frontier.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store_internal.h"

void store_feed_label(char *out, size_t size, const uint8_t author[32], const char *feed)
{
	snprintf(out, size, "%02x%02x%02x%02x/%s", author[0], author[1], author[2], author[3],
		 feed ? feed : "(null)");
}

int store_feed_check(const struct store *s, const char *feed, struct err *e)
{
	size_t n = feed ? strlen(feed) : 0;
	if (n < 1 || n > STORE_FEED_MAX) {
		err_set(e, "store %s: feed name of %zu bytes, must be 1..%d", s->dir, n,
			STORE_FEED_MAX);
		return -EINVAL;
	}
	return (int)n;
}

/* A record is 44 bytes (written before the tree) or 44 + 32 * popcount(seq). */
static bool head_size_ok(const MDB_val *v)
{
	if (v->mv_size == STORE_HEAD_VAL_LEN)
		return true;
	if (v->mv_size < STORE_HEAD_VAL_LEN + TLOG_HASH_BYTES)
		return false;
	uint64_t seq = be64_get(v->mv_data);
	return v->mv_size == STORE_HEAD_VAL_LEN + (size_t)__builtin_popcountll(seq) * TLOG_HASH_BYTES;
}

static int head_decode(struct store *s, const MDB_val *v, struct store_head *h, struct err *e)
{
	if (!head_size_ok(v)) {
		char label[300];
		store_feed_label(label, sizeof label, h->author, h->feed);
		err_set(e, "store %s: head record of feed %s is %zu bytes, not %d (+ 32 per bit set in the "
			   "head seq): data.mdb is corrupt",
			s->dir, label, v->mv_size, STORE_HEAD_VAL_LEN);
		return -EIO;
	}
	const uint8_t *p = v->mv_data;
	h->seq = be64_get(p);
	memcpy(h->hash, p + 8, STORE_HASH_LEN);
	h->flags = be32_get(p + 8 + STORE_HASH_LEN);
	return 0;
}

int store_head_read(struct store *s, MDB_txn *txn, const uint8_t author[32], const char *feed,
		    size_t feed_len, struct store_head *h, struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	MDB_val k = {.mv_size = feed_key(kbuf, author, feed, feed_len), .mv_data = kbuf};
	MDB_val v;

	memset(h, 0, sizeof *h);
	memcpy(h->author, author, STORE_AUTHOR_LEN);
	memcpy(h->feed, feed, feed_len);
	int rc = mdb_get(txn, s->feeds, &k, &v);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc != MDB_SUCCESS) {
		char label[300];
		store_feed_label(label, sizeof label, author, feed);
		return lmdb_err(rc, e, "store %s: reading head of feed %s", s->dir, label);
	}
	return head_decode(s, &v, h, e);
}

int store_head_write(struct store *s, MDB_txn *txn, const struct store_head *h, size_t feed_len,
		     const struct tlog_frontier *f)
{
	uint8_t kbuf[STORE_KEY_MAX];
	uint8_t vbuf[STORE_HEAD_VAL_MAX];
	MDB_val k = {.mv_size = feed_key(kbuf, h->author, h->feed, feed_len), .mv_data = kbuf};
	MDB_val v = {.mv_size = STORE_HEAD_VAL_LEN, .mv_data = vbuf}, old;

	if (f) {
		for (size_t i = 0; i < f->n; i++)
			memcpy(vbuf + STORE_HEAD_VAL_LEN + i * TLOG_HASH_BYTES, f->h[i], TLOG_HASH_BYTES);
		v.mv_size += f->n * TLOG_HASH_BYTES;
	} else if (mdb_get(txn, s->feeds, &k, &old) == MDB_SUCCESS && head_size_ok(&old) &&
		   be64_get(old.mv_data) == h->seq) {
		memcpy(vbuf, old.mv_data, old.mv_size); /* the frontier stays */
		v.mv_size = old.mv_size;
	}
	be64_put(vbuf, h->seq);
	memcpy(vbuf + 8, h->hash, STORE_HASH_LEN);
	be32_put(vbuf + 8 + STORE_HASH_LEN, h->flags);
	return mdb_put(txn, s->feeds, &k, &v, 0);
}

int store_head_get(struct store_txn *t, const uint8_t author[32], const char *feed,
		   struct store_head *h, struct err *e)
{
	if (!t || !author || !h) {
		err_set(e, "store_head_get: bad arguments");
		return -EINVAL;
	}
	int n = store_feed_check(t->s, feed, e);
	if (n < 0)
		return n;
	int ret = store_head_read(t->s, t->txn, author, feed, (size_t)n, h, e);
	if (ret == -ENOENT) {
		char label[300];
		store_feed_label(label, sizeof label, author, feed);
		err_set(e, "store %s: no feed %s", t->s->dir, label);
	}
	return ret;
}

int store_feed_set_flags(struct store_txn *t, const uint8_t author[32], const char *feed,
			 uint32_t flags, struct err *e)
{
	struct store_head h;
	char label[300];
	int ret = -EINVAL;

	if (!t || !author) {
		err_set(e, "store_feed_set_flags: bad arguments");
		goto out;
	}
	if ((ret = store_txn_writable(t, "setting feed flags", e)) < 0)
		goto out;
	int n = store_feed_check(t->s, feed, e);
	if ((ret = n) < 0)
		goto out;
	store_feed_label(label, sizeof label, author, feed);
	ret = store_head_read(t->s, t->txn, author, feed, (size_t)n, &h, e);
	if (ret == -ENOENT)
		err_set(e, "store %s: no feed %s", t->s->dir, label);
	if (ret < 0)
		goto out;
	h.flags = flags;
	ret = lmdb_err(store_head_write(t->s, t->txn, &h, (size_t)n, NULL), e,
		       "store %s: setting flags of feed %s", t->s->dir, label);
out:
	return ret;
}

int store_heads_each(struct store_txn *t, int (*fn)(const struct store_head *h, void *arg),
		     void *arg, struct err *e)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int ret = -EINVAL;

	if (!t || !fn) {
		err_set(e, "store_heads_each: bad arguments");
		goto out;
	}
	if ((ret = lmdb_err(mdb_cursor_open(t->txn, t->s->feeds, &c), e, "store %s: listing feeds",
			    t->s->dir)) < 0)
		goto out;
	int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == MDB_SUCCESS) {
		struct store_head h;
		memset(&h, 0, sizeof h);
		if (k.mv_size <= STORE_AUTHOR_LEN || k.mv_size > STORE_AUTHOR_LEN + STORE_FEED_MAX) {
			err_set(e, "store %s: a feeds key is %zu bytes: data.mdb is corrupt", t->s->dir,
				k.mv_size);
			ret = -EIO;
			goto out;
		}
		memcpy(h.author, k.mv_data, STORE_AUTHOR_LEN);
		memcpy(h.feed, (const uint8_t *)k.mv_data + STORE_AUTHOR_LEN,
		       k.mv_size - STORE_AUTHOR_LEN);
		if ((ret = head_decode(t->s, &v, &h, e)) < 0)
			goto out;
		if ((ret = fn(&h, arg)) != 0)
			goto out;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		rc = MDB_SUCCESS;
	ret = lmdb_err(rc, e, "store %s: listing feeds", t->s->dir);
out:
	if (c)
		mdb_cursor_close(c);
	return ret;
}

struct head_list {
	struct store_head *v;
	size_t n, cap;
};

static int append_head(const struct store_head *h, void *arg)
{
	struct head_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct store_head *v = realloc(l->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *h;
	return 0;
}

int store_heads_list(struct store_txn *t, struct store_head **out, size_t *n, struct err *e)
{
	struct head_list l = {0};
	int ret = store_heads_each(t, append_head, &l, e);

	if (ret == -ENOMEM)
		err_set(e, "out of memory listing feeds");
	if (ret < 0) {
		free(l.v);
		l.v = NULL;
		l.n = 0;
	}
	*out = l.v;
	*n = l.n;
	return ret < 0 ? ret : 0;
}
