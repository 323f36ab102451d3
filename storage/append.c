/* SPDX-License-Identifier: MIT */
/*
 * Appending an entry: checks it against the feed head (frozen, duplicate,
 * conflict, gap, prev), then writes the log record, moves the head with
 * the feed's tree frontier (one leaf pushed: a SHA-256 or two) and applies
 * the entry's ops to state, all in a nested transaction so that a refused
 * or failed entry leaves the caller's transaction as it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "storage/store_internal.h"

static int append_check(struct store *s, MDB_txn *txn, const struct store_entry *en,
			size_t flen, const char *label, struct store_head *h, struct err *e)
{
	int ret = store_head_read(s, txn, en->author, en->feed, flen, h, e);
	if (ret == -ENOENT)
		ret = 0; /* a new feed: head seq 0, zero hash */
	if (ret < 0)
		return ret;

	if (h->flags & STORE_FEED_FROZEN) {
		err_set(e, "store %s: feed %s is frozen (equivocation seen), entry #%" PRIu64
			   " refused",
			s->dir, label, en->seq);
		return -EPERM;
	}
	if (en->seq <= h->seq) {
		uint8_t kbuf[STORE_KEY_MAX];
		MDB_val k = {.mv_size = log_key(kbuf, en->author, en->feed, flen, en->seq),
			     .mv_data = kbuf};
		MDB_val v;
		int rc = mdb_get(txn, s->log, &k, &v);
		if (rc == MDB_NOTFOUND) {
			err_set(e, "store %s: feed %s has head #%" PRIu64 " but no entry #%" PRIu64
				   ": data.mdb is inconsistent",
				s->dir, label, h->seq, en->seq);
			return -EIO;
		}
		if ((ret = lmdb_err(rc, e, "store %s: reading %s #%" PRIu64, s->dir, label,
				    en->seq)) < 0)
			return ret;
		if (v.mv_size >= STORE_HASH_LEN && !memcmp(v.mv_data, en->hash, STORE_HASH_LEN)) {
			err_set(e, "store %s: feed %s already has entry #%" PRIu64, s->dir, label,
				en->seq);
			return -EALREADY;
		}
		err_set(e, "store %s: feed %s #%" PRIu64 " conflicts with the stored entry of the "
			   "same seq (a different hash)",
			s->dir, label, en->seq);
		return -EBADE;
	}
	if (en->seq - h->seq > 1) {
		err_set(e, "store %s: feed %s: got entry #%" PRIu64 " but the head is #%" PRIu64
			   " (a gap)",
			s->dir, label, en->seq, h->seq);
		return -ERANGE;
	}
	if (memcmp(en->prev, h->hash, STORE_HASH_LEN) != 0) {
		err_set(e, "store %s: feed %s #%" PRIu64 ": prev is not the hash of head #%" PRIu64
			   " (a conflicting entry)",
			s->dir, label, en->seq, h->seq);
		return -EBADE;
	}
	return 0;
}

int store_append(struct store_txn *t, const struct store_entry *en, struct err *e)
{
	MDB_txn *child = NULL;
	struct store_head h;
	struct tlog_frontier f;
	uint8_t leaf[TLOG_HASH_BYTES];
	char label[300];
	int ret = -EINVAL;

	if (!t || !en || !en->author || !en->prev || !en->hash || (!en->bytes && en->len) ||
	    (!en->ops && en->n_ops) || en->seq == 0) {
		err_set(e, "store_append: bad arguments");
		goto out;
	}
	if ((ret = store_feed_check(t->s, en->feed, e)) < 0)
		goto out;
	size_t flen = (size_t)ret;
	if ((ret = store_txn_writable(t, "appending", e)) < 0)
		goto out;
	struct store *s = t->s;
	store_feed_label(label, sizeof label, en->author, en->feed);

	int rc = mdb_txn_begin(s->env, t->txn, 0, &child);
	if ((ret = lmdb_err(rc, e, "store %s: appending %s #%" PRIu64, s->dir, label, en->seq)) < 0) {
		child = NULL;
		goto out;
	}
	if ((ret = append_check(s, child, en, flen, label, &h, e)) < 0)
		goto out;
	if ((ret = store_frontier_load(s, child, &h, flen, &f, NULL, e)) < 0)
		goto out;

	uint8_t kbuf[STORE_KEY_MAX];
	MDB_val k = {.mv_size = log_key(kbuf, en->author, en->feed, flen, en->seq), .mv_data = kbuf};
	MDB_val v = {.mv_size = STORE_HASH_LEN + en->len, .mv_data = NULL};
	rc = mdb_put(child, s->log, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		err_set(e, "store %s: feed %s has an entry #%" PRIu64 " beyond its head #%" PRIu64
			   ": data.mdb is inconsistent",
			s->dir, label, en->seq, h.seq);
		ret = -EIO;
		goto out;
	}
	if ((ret = lmdb_err(rc, e, "store %s: appending %s #%" PRIu64, s->dir, label, en->seq)) < 0)
		goto out;
	memcpy(v.mv_data, en->hash, STORE_HASH_LEN);
	if (en->len)
		memcpy((uint8_t *)v.mv_data + STORE_HASH_LEN, en->bytes, en->len);

	h.seq = en->seq;
	memcpy(h.hash, en->hash, STORE_HASH_LEN);
	tlog_leaf_hash(leaf, en->hash);
	tlog_frontier_push(&f, leaf);
	rc = store_head_write(s, child, &h, flen, &f);
	if ((ret = lmdb_err(rc, e, "store %s: moving head of %s to #%" PRIu64, s->dir, label,
			    en->seq)) < 0)
		goto out;

	for (size_t i = 0; i < en->n_ops; i++) {
		ret = store_state_apply(s, child, en->author, en->feed, flen, en->seq, &en->ops[i], e);
		if (ret < 0)
			goto out;
	}

	rc = mdb_txn_commit(child);
	child = NULL;
	ret = lmdb_err(rc, e, "store %s: appending %s #%" PRIu64, s->dir, label, en->seq);
out:
	if (child)
		mdb_txn_abort(child);
	return ret;
}
