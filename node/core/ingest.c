/* SPDX-License-Identifier: MIT */
/*
 * The one door into a node's store. Every entry, whether written here, read
 * from a bundle or received from a link, passes the same checks in the same
 * order (DESIGN.md, "Verification before anything is stored") and is then
 * appended with its state update in the caller's write transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"
#include "protocol/protocol.h"

static void short_hex(char out[17], const uint8_t *key)
{
	hex_encode(out, key, 8);
}

static int op_cmp(const void *a, const void *b)
{
	const struct op *x = *(const struct op *const *)a, *y = *(const struct op *const *)b;
	int c = strcmp(x->collection, y->collection);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return memcmp(x->key, y->key, x->key_len);
}

/* Step 5: every op names a known collection of this feed, every present
 * value is a valid record, and no key is written twice in one change set
 * (so that state is a function of the log, whatever order ops apply in). */
static int check_ops(const struct changeset *cs, struct err *e)
{
	const struct op **idx = NULL;
	int ret = 0;

	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		const struct record_type *rt = record_type_find(op->collection);

		if (!rt) {
			err_set(e, "op %zu: unknown collection \"%s\"", i, op->collection);
			return -EINVAL;
		}
		if (op->kind == OP_PUT)
			ret = record_check(op->collection, cs->feed, op->key, op->key_len, op->value,
					   op->value_len, e);
		else if (!rt->feed) {
			err_set(e, "%s records are never deleted", op->collection);
			ret = -EINVAL;
		} else if (strcmp(rt->feed, cs->feed) != 0) {
			err_set(e, "collection %s travels in feed %s, not %s", op->collection, rt->feed, cs->feed);
			ret = -EINVAL;
		}
		if (ret < 0) {
			err_prefix(e, "op %zu", i);
			return ret;
		}
	}
	if (cs->n_ops < 2)
		return 0;
	if (!(idx = malloc(cs->n_ops * sizeof *idx))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < cs->n_ops; i++)
		idx[i] = &cs->ops[i];
	qsort(idx, cs->n_ops, sizeof *idx, op_cmp);
	for (size_t i = 1; i < cs->n_ops; i++)
		if (op_cmp(&idx[i - 1], &idx[i]) == 0) {
			const struct op *op = idx[i];

			err_set(e, "ops %zu and %zu both write %s \"%.*s\"", (size_t)(idx[i - 1] - cs->ops),
				(size_t)(op - cs->ops), op->collection, (int)op->key_len, (const char *)op->key);
			ret = -EINVAL;
			break;
		}
	free(idx);
	return ret;
}

int node_check_records(const struct changeset *cs, struct err *e)
{
	return check_ops(cs, e);
}

int node_ingest_changeset(struct node *n, struct store_txn *t, const struct changeset *cs, int flags,
			  struct err *e)
{
	struct store_op *ops = NULL;
	bool *skip = NULL;
	size_t n_state = 0;
	struct store_head head;
	struct err ignore = {0};
	int ret;

	if ((!(flags & NODE_SIG_CHECKED) && (ret = changeset_verify(cs, e)) < 0) ||
	    (ret = node_authorize(n, t, cs->author, cs->feed, cs->time_ms, e)) < 0)
		goto out;
	/* A duplicate is the common case on a link: answer it before the costly checks. */
	ret = store_head_get(t, cs->author, cs->feed, &head, &ignore);
	if (ret < 0 && ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		goto out;
	}
	if (cs->seq <= head.seq) {
		uint8_t stored[HASH_BYTES];
		const uint8_t *b;
		size_t bl;

		if (store_log_get(t, cs->author, cs->feed, cs->seq, &b, &bl, stored, &ignore) == 0 &&
		    memcmp(stored, cs->hash, HASH_BYTES) == 0) {
			ret = -EALREADY;
			goto out;
		}
	}
	if ((!(flags & NODE_RECORDS_CHECKED) && (ret = check_ops(cs, e)) < 0) || (ret = node_trust_check(t, cs, e)) < 0)
		goto out;
	if (cs->n_ops && (!(ops = calloc(cs->n_ops, sizeof *ops)) || !(skip = calloc(cs->n_ops, sizeof *skip)))) {
		ret = -ENOMEM;
		err_set(e, "out of memory");
		goto out;
	}
	if (cs->n_ops && (ret = unit_filter(n, t, cs, skip, e)) < 0)
		goto out;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];

		if (skip[i]) /* a successor of the author wrote this key since */
			continue;
		ops[n_state++] = (struct store_op){
			.kind = op->kind == OP_PUT ? STORE_PUT : STORE_DELETE,
			.collection = op->collection,
			.key = op->key,
			.key_len = op->key_len,
			.value = op->value,
			.value_len = op->value_len,
		};
	}
	struct store_entry en = {
		.author = cs->author,
		.feed = cs->feed,
		.seq = cs->seq,
		.prev = cs->prev,
		.hash = cs->hash,
		.bytes = cs->envelope,
		.len = cs->envelope_len,
		.n_ops = n_state,
		.ops = ops,
	};
	if ((ret = store_append(t, &en, e)) == 0 && (ret = node_trust_index_apply(t, cs, e)) == 0 &&
	    ((ret = unit_apply(n, t, cs, skip, e)) < 0 || (ret = erase_apply(n, t, cs, e)) < 0) && ret != -ENOSPC &&
	    ret != -ENOMEM)
		ret = -EIO; /* the entry is appended in t already: the caller must abort */
out:
	if (ret < 0 && ret != -EALREADY) {
		char who[17];

		short_hex(who, cs->author);
		err_prefix(e, "entry %s…/%s/%llu", who, cs->feed, (unsigned long long)cs->seq);
	}
	free(ops);
	free(skip);
	return ret;
}

int node_ingest(struct node *n, struct store_txn *t, const uint8_t *env, size_t len, struct err *e)
{
	struct changeset *cs = NULL;
	int ret = changeset_decode(&cs, env, len, e);

	if (ret == 0)
		ret = node_ingest_changeset(n, t, cs, 0, e);
	changeset_destroy(&cs);
	return ret;
}
