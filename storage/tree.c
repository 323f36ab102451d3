/* SPDX-License-Identifier: MIT */
/*
 * The Merkle tree of a feed (store.h, crypto/tlog.h): leaf i is entry
 * seq i + 1, its record the 32-byte entry hash stored before the envelope
 * in `log` (erasing a value replaces the envelope, never that hash, so the
 * tree never changes). The head's frontier lives in the feed's record
 * (feeds.c; append.c pushes one leaf per entry); a record written before
 * the tree existed has none, and it is rebuilt here from `log` (O(head),
 * once: the next append, or a root at the head in a write transaction,
 * writes it back). Roots below the head and proofs
 * read the leaves they need from `log` (O(size): a rare command).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "storage/store_internal.h"

struct leaves {
	struct store *s;
	MDB_txn *txn;
	const uint8_t *author;
	const char *feed;
	size_t flen;
	struct err *e;
};

/* Calls each with the leaf hashes of entries from + 1 .. to (0-based
 * leaves from..to-1), one cursor walk; a missing entry is -EIO. */
static int read_leaves(uint64_t from, uint64_t to, int (*each)(const uint8_t leaf_hash[TLOG_HASH_BYTES], void *acc),
		       void *acc, void *arg)
{
	struct leaves *l = arg;
	uint8_t kbuf[STORE_KEY_MAX], leaf[TLOG_HASH_BYTES];
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t want = from + 1;
	char label[300];
	int ret;

	if (from >= to)
		return 0;
	store_feed_label(label, sizeof label, l->author, l->feed);
	size_t plen = log_prefix(kbuf, l->author, l->feed, l->flen);
	be64_put(kbuf + plen, want);
	k = (MDB_val){.mv_size = plen + 8, .mv_data = kbuf};
	if ((ret = lmdb_err(mdb_cursor_open(l->txn, l->s->log, &c), l->e, "store %s: reading log of %s",
			    l->s->dir, label)) < 0)
		return ret;
	int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (; rc == MDB_SUCCESS && want <= to; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), want++) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, kbuf, plen) != 0 ||
		    be64_get((const uint8_t *)k.mv_data + plen) != want || v.mv_size < STORE_HASH_LEN)
			break;
		tlog_leaf_hash(leaf, v.mv_data);
		if ((ret = each(leaf, acc)) != 0)
			goto out;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		ret = lmdb_err(rc, l->e, "store %s: reading log of %s", l->s->dir, label);
		goto out;
	}
	ret = 0;
	if (want <= to) {
		err_set(l->e, "store %s: feed %s has no entry #%" PRIu64 " below its head: data.mdb is inconsistent",
			l->s->dir, label, want);
		ret = -EIO;
	}
out:
	mdb_cursor_close(c);
	return ret;
}

static int push_leaf(const uint8_t leaf_hash[TLOG_HASH_BYTES], void *acc)
{
	tlog_frontier_push(acc, leaf_hash);
	return 0;
}

/* The frontier of entries 1..size, from `log`. */
static int frontier_from_log(struct leaves *l, uint64_t size, struct tlog_frontier *f)
{
	tlog_frontier_init(f);
	return read_leaves(0, size, push_leaf, f, l);
}

int store_frontier_load(struct store *s, MDB_txn *txn, const struct store_head *h, size_t feed_len,
			struct tlog_frontier *f, bool *rebuilt, struct err *e)
{
	uint8_t kbuf[STORE_KEY_MAX];
	MDB_val k = {.mv_size = feed_key(kbuf, h->author, h->feed, feed_len), .mv_data = kbuf}, v;
	struct leaves l = {.s = s, .txn = txn, .author = h->author, .feed = h->feed, .flen = feed_len, .e = e};

	if (rebuilt)
		*rebuilt = false;
	tlog_frontier_init(f);
	if (h->seq == 0)
		return 0;
	int rc = mdb_get(txn, s->feeds, &k, &v);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc, e, "store %s: reading the tree of a feed", s->dir);
	size_t n = (size_t)__builtin_popcountll(h->seq);
	if (v.mv_size == STORE_HEAD_VAL_LEN + n * TLOG_HASH_BYTES) {
		const uint8_t *p = (const uint8_t *)v.mv_data + STORE_HEAD_VAL_LEN;
		for (size_t i = 0; i < n; i++)
			memcpy(f->h[i], p + i * TLOG_HASH_BYTES, TLOG_HASH_BYTES);
		f->n = n;
		f->size = h->seq;
		return 0;
	}
	if (rebuilt)
		*rebuilt = true;
	return frontier_from_log(&l, h->seq, f); /* a record older than the tree */
}

/* Common checks: arguments, the feed, its head; 1 <= lo <= hi <= head. */
static int tree_open(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t lo, uint64_t hi,
		     const char *what, struct store_head *h, struct leaves *l, struct err *e)
{
	char label[300];
	int ret;

	if (!t || !author) {
		err_set(e, "%s: bad arguments", what);
		return -EINVAL;
	}
	if ((ret = store_feed_check(t->s, feed, e)) < 0)
		return ret;
	*l = (struct leaves){.s = t->s, .txn = t->txn, .author = author, .feed = feed, .flen = (size_t)ret, .e = e};
	store_feed_label(label, sizeof label, author, feed);
	ret = store_head_read(t->s, t->txn, author, feed, l->flen, h, e);
	if (ret == -ENOENT)
		err_set(e, "store %s: no feed %s", t->s->dir, label);
	if (ret < 0)
		return ret;
	if (lo < 1 || lo > hi || hi > h->seq) {
		err_set(e, "store %s: feed %s: no tree of entries %" PRIu64 "..%" PRIu64 " (its head is #%" PRIu64 ")",
			t->s->dir, label, lo, hi, h->seq);
		return -ERANGE;
	}
	return 0;
}

int store_tree_root(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t size,
		    uint8_t root[32], struct err *e)
{
	struct store_head h;
	struct leaves l;
	struct tlog_frontier f;
	int ret = tree_open(t, author, feed, size ? 1 : 0, size, "store_tree_root", &h, &l, e);

	if (ret < 0)
		return ret;
	bool rebuilt = false;
	if (size == h.seq)
		ret = store_frontier_load(t->s, t->txn, &h, l.flen, &f, &rebuilt, e);
	else
		ret = frontier_from_log(&l, size, &f);
	if (ret < 0)
		return ret;
	/* an old record's frontier, rebuilt once: kept when the caller writes */
	if (rebuilt && t->write &&
	    (ret = lmdb_err(store_head_write(t->s, t->txn, &h, l.flen, &f), e, "store %s: keeping a feed's tree",
			    t->s->dir)) < 0)
		return ret;
	tlog_frontier_root(&f, root);
	return 0;
}

int store_tree_inclusion(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
			 uint64_t size, uint8_t path[][32], size_t *n_path, struct err *e)
{
	struct store_head h;
	struct leaves l;
	int ret = tree_open(t, author, feed, seq, size, "store_tree_inclusion", &h, &l, e);

	if (!n_path)
		return -EINVAL;
	*n_path = 0;
	if (ret < 0)
		return ret;
	return tlog_prove_inclusion(seq - 1, size, read_leaves, &l, path, n_path, e);
}

int store_tree_consistency(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t m,
			   uint64_t n, uint8_t path[][32], size_t *n_path, struct err *e)
{
	struct store_head h;
	struct leaves l;
	int ret = tree_open(t, author, feed, m, n, "store_tree_consistency", &h, &l, e);

	if (!n_path)
		return -EINVAL;
	*n_path = 0;
	if (ret < 0)
		return ret;
	return tlog_prove_consistency(m, n, read_leaves, &l, path, n_path, e);
}
