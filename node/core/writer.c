/* SPDX-License-Identifier: MIT */
/*
 * Local writes: records become ops, ops become signed change sets of up to
 * ops_per_changeset each, and every change set goes through node_ingest like
 * any received one. A bulk write commits once its uncommitted change sets
 * hold NODE_OPS_PER_TXN ops or NODE_BYTES_PER_TXN bytes, so that its memory
 * stays bounded (16 change sets of 1,000 ops, or 16,000 of one op: an
 * fdatasync each costs as much as signing and checking ten one-op change
 * sets); each commit holds only whole, verified change sets.
 *
 * A bulk writer (node_writer_begin_bulk) splits that work over two threads
 * (writer_bulk.c).
 *
 * Concurrent writers. LMDB lets one write transaction run at a time, so
 * checks a caller makes in node_writer_txn hold for what it writes, as
 * long as it is one transaction. Two things break that, and both are
 * refused with -EAGAIN rather than written over: a bulk writer whose
 * caller checked its input in an earlier read transaction (it passes the
 * feed's head it saw: if another writer appended since, the checks are
 * stale), and a checkpoint, which commits and begins anew, letting another
 * writer in between (if it appended to this feed, everything checked at
 * the start is stale, and the change sets signed for the old head would
 * clash with its entries). A feed's state is written only through its own
 * feed's entries, so its head (seq and hash) stands for all of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/core/node_internal.h"
#include "protocol/protocol.h"

uint64_t node_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Begins w's write transaction and checks that n may write w->feed; reads
 * the feed's head. */
int writer_open(struct node_writer *w, struct err *e)
{
	struct node *n = w->n;
	const char *feed = w->feed;
	struct store_head h = {0};
	int ret;

	if ((ret = store_txn_begin(n->store, true, &w->txn, e)) < 0)
		return ret;
	{
		const uint8_t *self;
		size_t self_len;
		struct err ignore = {0};

		/* strata rotate-key may have replaced the key since this node was opened */
		if (store_meta_get(w->txn, "self", &self, &self_len, &ignore) == 0 &&
		    (self_len != KEY_BYTES || memcmp(self, n->id, KEY_BYTES) != 0)) {
			ret = -ESTALE;
			err_set(e, "this node's key was rotated while this command ran; run it again");
			goto out;
		}
	}
	if (!w->lifting && (ret = node_fence_check(n, w->txn, e)) < 0)
		goto out;
	if (strcmp(feed, FEED_TRUST) != 0 && node_is_auditor(n, w->txn)) {
		ret = -EACCES;
		err_set(e, "%s is an auditor: it receives every feed that reaches its level and writes no data feeds "
			   "(nothing written to %s)", n->name, feed);
		goto out;
	}
	{
		struct err why = {0}; /* a feed not written yet is no error: keep e clean */

		ret = store_head_get(w->txn, n->id, feed, &h, &why);
		if (ret < 0 && ret != -ENOENT) {
			err_set(e, "%s", why.msg);
			goto out;
		}
	}
	if (h.flags & STORE_FEED_FROZEN) {
		ret = -EPERM;
		err_set(e, "feed %s of this node is frozen after an equivocation; see strata status", feed);
		goto out;
	}
	if (w->from && (h.seq != w->from->seq || memcmp(h.hash, w->from->hash, HASH_BYTES) != 0)) {
		ret = -EAGAIN;
		err_set(e, "another writer appended to feed %s of this node (#%llu now, #%llu when the input was "
			   "checked); nothing written",
			feed, (unsigned long long)h.seq, (unsigned long long)w->from->seq);
		goto out;
	}
	w->head_seq = h.seq;
	memcpy(w->head_hash, h.hash, HASH_BYTES);
	ret = 0;
out:
	return ret;
}

static int writer_begin(struct node *n, const char *feed, bool bulk, bool lifting, const struct store_head *from,
			struct node_writer **out, struct err *e)
{
	struct node_writer *w = calloc(1, sizeof *w);
	int ret = -ENOMEM;

	if (!w) {
		err_set(e, "out of memory");
		goto out;
	}
	if (!n->key) {
		ret = -EPERM;
		err_set(e, "node opened without its key cannot write");
		goto out;
	}
	if (strlen(feed) > LIMIT_NAME_BYTES) {
		ret = -EINVAL;
		err_set(e, "feed name %s is too long", feed);
		goto out;
	}
	strcpy(w->feed, feed);
	w->n = n;
	w->from = from;
	w->lifting = lifting;
	if (!lifting)
		node_fence_wait(n); /* a daemon that just started may be about to lift the fence */
	if ((ret = bulk ? writer_bulk_start(w, e) : writer_open(w, e)) < 0)
		goto out;
	*out = w;
	w = NULL;
	ret = 0;
out:
	node_writer_abort(&w);
	return ret;
}

int node_writer_begin(struct node *n, const char *feed, struct node_writer **out, struct err *e)
{
	return writer_begin(n, feed, false, false, NULL, out, e);
}

int writer_begin_lifting(struct node *n, const char *feed, struct node_writer **out, struct err *e)
{
	return writer_begin(n, feed, false, true, NULL, out, e);
}

int node_writer_begin_bulk(struct node *n, const char *feed, const struct store_head *from,
			   struct node_writer **out, struct err *e)
{
	return writer_begin(n, feed, true, false, from, out, e);
}

struct store_txn *node_writer_txn(struct node_writer *w)
{
	return w->bulk ? NULL : w->txn;
}

/* Signs the open change set and ingests it. */
static int seal(struct node_writer *w, struct err *e)
{
	uint8_t *env = NULL;
	size_t len = 0;
	int ret;

	if (!w->b || changeset_builder_ops(w->b) == 0)
		return 0;
	if (w->bulk)
		return writer_bulk_seal(w, e);
	ret = changeset_builder_finish(w->b, w->n->key, &env, &len, w->head_hash, e);
	changeset_builder_destroy(&w->b);
	if (ret < 0)
		return ret;
	ret = node_ingest(w->n, w->txn, env, len, e);
	free(env);
	if (ret < 0)
		return ret;
	w->head_seq++;
	w->sealed++;
	w->uncommitted++;
	w->bytes_open += len;
	return 0;
}

/* Commits what is sealed and opens the next transaction, bounding memory. */
int writer_checkpoint(struct node_writer *w, struct err *e)
{
	int ret;

	struct store_head before, after;
	struct err why = {0};

	if (w->ops_open < NODE_OPS_PER_TXN && w->bytes_open < NODE_BYTES_PER_TXN)
		return 0;
	/* this writer has appended: the feed has a head */
	if ((ret = store_head_get(w->txn, w->n->id, w->feed, &before, &why)) < 0) {
		err_set(e, "%s", why.msg);
		return ret;
	}
	if ((ret = store_txn_commit(&w->txn, e)) < 0)
		return ret;
	w->uncommitted = 0;
	w->bytes_open = 0;
	w->ops_committed += w->ops_open;
	w->ops_open = 0;
	if ((ret = store_txn_begin(w->n->store, true, &w->txn, e)) < 0)
		return ret;
	if ((ret = store_head_get(w->txn, w->n->id, w->feed, &after, &why)) < 0) {
		err_set(e, "%s", why.msg);
		return ret;
	}
	if (after.seq != before.seq || memcmp(after.hash, before.hash, HASH_BYTES) != 0) {
		err_set(e, "another writer appended to feed %s of this node while this write ran (#%llu now, #%llu "
			   "when this write last committed)",
			w->feed, (unsigned long long)after.seq, (unsigned long long)before.seq);
		return -EAGAIN;
	}
	return 0;
}

static int room(struct node_writer *w, size_t need, struct err *e)
{
	int ret;

	if (w->b && (changeset_builder_ops(w->b) >= w->n->config.ops_per_changeset ||
		     changeset_builder_bytes(w->b) + need > LIMIT_ENVELOPE_BYTES / 2)) {
		if ((ret = seal(w, e)) < 0 || (!w->bulk && (ret = writer_checkpoint(w, e)) < 0))
			return ret;
	}
	if (!w->b)
		return changeset_builder_new(&w->b, w->feed, w->head_seq + 1, w->head_hash, node_now_ms(), e);
	return 0;
}

int node_writer_put_msg(struct node_writer *w, const char *collection, const uint8_t *key, size_t key_len,
			const ProtobufCMessage *m, struct err *e)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	int ret;

	if (!buf) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	protobuf_c_message_pack(m, buf);
	ret = node_writer_put(w, collection, key, key_len, buf, len, e);
	free(buf);
	return ret;
}

int node_writer_put(struct node_writer *w, const char *collection, const uint8_t *key, size_t key_len,
		    const uint8_t *value, size_t value_len, struct err *e)
{
	int ret = room(w, key_len + value_len + 64, e);

	if (ret < 0 || (ret = changeset_builder_put(w->b, collection, key, key_len, value, value_len, e)) < 0)
		return ret;
	if (!w->bulk)
		w->ops_open++;
	return 0;
}

int node_writer_delete(struct node_writer *w, const char *collection, const uint8_t *key,
		       size_t key_len, struct err *e)
{
	int ret = room(w, key_len + 64, e);

	if (ret < 0 || (ret = changeset_builder_delete(w->b, collection, key, key_len, e)) < 0)
		return ret;
	if (!w->bulk)
		w->ops_open++;
	return 0;
}

int node_writer_switch(struct node_writer *w, const char *feed, uint64_t *head, struct err *e)
{
	struct store_head h;
	struct err why = {0};
	int ret;

	if (w->bulk || strlen(feed) > LIMIT_NAME_BYTES) {
		err_set(e, "node_writer_switch: %s", w->bulk ? "not for a bulk writer" : "feed name too long");
		return -EINVAL;
	}
	if ((ret = seal(w, e)) < 0)
		return ret;
	if (head)
		*head = w->head_seq;
	ret = store_head_get(w->txn, w->n->id, feed, &h, &why);
	if (ret < 0 && ret != -ENOENT) {
		err_set(e, "%s", why.msg);
		return ret;
	}
	if (ret == 0 && h.flags & STORE_FEED_FROZEN) {
		err_set(e, "feed %s of this node is frozen after an equivocation; see strata status", feed);
		return -EPERM;
	}
	strcpy(w->feed, feed);
	w->head_seq = ret == 0 ? h.seq : 0;
	if (ret == 0)
		memcpy(w->head_hash, h.hash, HASH_BYTES);
	else
		memset(w->head_hash, 0, HASH_BYTES);
	return 0;
}

size_t node_writer_ops_committed(struct node_writer *w)
{
	return w->thread_started ? writer_bulk_ops_committed(w) : w->ops_committed;
}

int node_writer_commit(struct node_writer **wp, size_t *changesets, uint64_t *head, struct err *e)
{
	struct node_writer *w = *wp;
	int ret;

	if (w->bulk) {
		if ((ret = seal(w, e)) < 0 || (ret = writer_bulk_end(w, BULK_COMMIT, e)) < 0)
			goto out;
	} else if ((ret = seal(w, e)) < 0 || (ret = store_txn_commit(&w->txn, e)) < 0) {
		goto out;
	}
	if (changesets)
		*changesets = w->sealed;
	if (head)
		*head = w->head_seq;
out:
	node_writer_abort(wp);
	return ret;
}

void node_writer_abort(struct node_writer **w)
{
	if (!w || !*w)
		return;
	if ((*w)->bulk)
		writer_bulk_release(*w);
	store_txn_abort(&(*w)->txn);
	changeset_builder_destroy(&(*w)->b);
	free(*w);
	*w = NULL;
}
