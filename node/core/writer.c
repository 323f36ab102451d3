/* SPDX-License-Identifier: MIT */
/*
 * Local writes: records become ops, ops become signed change sets of up to
 * ops_per_changeset each, and every change set goes through node_ingest like
 * any received one. A bulk write commits once its uncommitted change sets
 * hold NODE_OPS_PER_TXN ops or NODE_BYTES_PER_TXN bytes, so that its memory
 * stays bounded (16 change sets of 1,000 ops, or 16,000 of one op: an
 * fdatasync each costs as much as signing and checking ten one-op change
 * sets); each commit holds only whole, verified change sets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/core/node_internal.h"
#include "protocol/protocol.h"

struct node_writer {
	struct node *n;
	char feed[LIMIT_NAME_BYTES + 1];
	struct store_txn *txn;
	struct changeset_builder *b;
	uint64_t head_seq;
	uint8_t head_hash[HASH_BYTES];
	size_t sealed;       /* change sets ingested so far */
	size_t uncommitted;  /* of which not yet committed */
	size_t bytes_open;   /* envelope bytes of those */
	size_t ops_open;     /* ops added since the last commit */
	size_t ops_committed;
};

uint64_t node_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int node_writer_begin(struct node *n, const char *feed, struct node_writer **out, struct err *e)
{
	struct node_writer *w = calloc(1, sizeof *w);
	struct store_head h;
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
	if ((ret = store_txn_begin(n->store, true, &w->txn, e)) < 0)
		goto out;
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
	if (strcmp(feed, "trust") != 0 && node_is_auditor(n, w->txn)) {
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
	w->head_seq = h.seq;
	memcpy(w->head_hash, h.hash, HASH_BYTES);
	*out = w;
	w = NULL;
	ret = 0;
out:
	node_writer_abort(&w);
	return ret;
}

struct store_txn *node_writer_txn(struct node_writer *w)
{
	return w->txn;
}

/* Signs the open change set and ingests it. */
static int seal(struct node_writer *w, struct err *e)
{
	uint8_t *env = NULL;
	size_t len = 0;
	int ret;

	if (!w->b || changeset_builder_ops(w->b) == 0)
		return 0;
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
static int checkpoint(struct node_writer *w, struct err *e)
{
	int ret;

	if (w->ops_open < NODE_OPS_PER_TXN && w->bytes_open < NODE_BYTES_PER_TXN)
		return 0;
	if ((ret = store_txn_commit(&w->txn, e)) < 0)
		return ret;
	w->uncommitted = 0;
	w->bytes_open = 0;
	w->ops_committed += w->ops_open;
	w->ops_open = 0;
	return store_txn_begin(w->n->store, true, &w->txn, e);
}

static int room(struct node_writer *w, size_t need, struct err *e)
{
	int ret;

	if (w->b && (changeset_builder_ops(w->b) >= w->n->config.ops_per_changeset ||
		     changeset_builder_bytes(w->b) + need > LIMIT_ENVELOPE_BYTES / 2)) {
		if ((ret = seal(w, e)) < 0 || (ret = checkpoint(w, e)) < 0)
			return ret;
	}
	if (!w->b)
		return changeset_builder_new(&w->b, w->feed, w->head_seq + 1, w->head_hash, node_now_ms(), e);
	return 0;
}

int node_writer_put(struct node_writer *w, const char *collection, const uint8_t *key, size_t key_len,
		    const uint8_t *value, size_t value_len, struct err *e)
{
	int ret = room(w, key_len + value_len + 64, e);

	if (ret < 0 || (ret = changeset_builder_put(w->b, collection, key, key_len, value, value_len, e)) < 0)
		return ret;
	w->ops_open++;
	return 0;
}

int node_writer_put_hashed(struct node_writer *w, const char *collection, const uint8_t *key, size_t key_len,
			   const uint8_t *value, size_t value_len, const uint8_t value_hash[HASH_BYTES],
			   struct err *e)
{
	int ret = room(w, key_len + value_len + 64, e);

	if (ret < 0 ||
	    (ret = changeset_builder_put_hashed(w->b, collection, key, key_len, value, value_len, value_hash, e)) < 0)
		return ret;
	w->ops_open++;
	return 0;
}

int node_writer_delete(struct node_writer *w, const char *collection, const uint8_t *key,
		       size_t key_len, struct err *e)
{
	int ret = room(w, key_len + 64, e);

	if (ret < 0 || (ret = changeset_builder_delete(w->b, collection, key, key_len, e)) < 0)
		return ret;
	w->ops_open++;
	return 0;
}

size_t node_writer_ops_committed(const struct node_writer *w)
{
	return w->ops_committed;
}

int node_writer_commit(struct node_writer **wp, size_t *changesets, uint64_t *head, struct err *e)
{
	struct node_writer *w = *wp;
	int ret;

	if ((ret = seal(w, e)) < 0 || (ret = store_txn_commit(&w->txn, e)) < 0)
		goto out;
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
	store_txn_abort(&(*w)->txn);
	changeset_builder_destroy(&(*w)->b);
	free(*w);
	*w = NULL;
}
