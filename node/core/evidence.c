/* SPDX-License-Identifier: MIT */
/*
 * Evidence of equivocation: two signed entries of one author for one (feed,
 * seq) with different hashes. A proof anyone can check with the author's
 * key alone; kept in index "evidence" under author | len | feed | seq, and
 * the feed frozen, in the caller's transaction. Used by links and bundles.
 * This file owns that key layout: everyone else reads it through
 * node_evidence_key_decode / node_evidence_each (node.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"

size_t node_evidence_key_encode(uint8_t out[NODE_EVIDENCE_KEY_MAX], const uint8_t author[KEY_BYTES], const char *feed,
				uint64_t seq)
{
	size_t fl = strlen(feed);

	if (fl == 0 || fl > LIMIT_NAME_BYTES)
		return 0;
	memcpy(out, author, KEY_BYTES);
	out[KEY_BYTES] = (uint8_t)fl;
	memcpy(out + KEY_BYTES + 1, feed, fl);
	be64_put(out + KEY_BYTES + 1 + fl, seq);
	return KEY_BYTES + 1 + fl + 8;
}

int node_evidence_key_decode(const uint8_t *key, size_t len, struct node_evidence_key *out)
{
	size_t fl;

	if (len < KEY_BYTES + 1 || (fl = key[KEY_BYTES]) > LIMIT_NAME_BYTES)
		return -EBADMSG;
	out->checkpoint = len == KEY_BYTES + 1 + fl + 8 + 1 && key[len - 1] == NODE_EVIDENCE_CKPT_TAG;
	if (len != KEY_BYTES + 1 + fl + 8 + out->checkpoint)
		return -EBADMSG;
	memcpy(out->author, key, KEY_BYTES);
	memcpy(out->feed, key + KEY_BYTES + 1, fl);
	out->feed[fl] = '\0';
	out->seq = be64_get(key + KEY_BYTES + 1 + fl);
	return 0;
}

struct evidence_walk {
	int (*fn)(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg);
	void *arg;
};

static int on_kept(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg)
{
	struct evidence_walk *w = arg;
	struct node_evidence_key k;

	return w->fn(node_evidence_key_decode(key, key_len, &k) == 0 ? &k : NULL, val, len, w->arg);
}

int node_evidence_each(struct store_txn *t,
		       int (*fn)(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg), void *arg,
		       struct err *e)
{
	struct evidence_walk w = {.fn = fn, .arg = arg};

	return store_index_each(t, NODE_EVIDENCE_INDEX, on_kept, &w, e);
}

int node_evidence_check(const uint8_t *first, size_t first_len, const uint8_t *second, size_t second_len,
			struct changeset **out, struct err *e)
{
	struct changeset *a = NULL, *b = NULL;
	int ret;

	if ((ret = changeset_decode(&a, first, first_len, e)) < 0 || (ret = changeset_verify(a, e)) < 0 ||
	    (ret = changeset_decode(&b, second, second_len, e)) < 0 || (ret = changeset_verify(b, e)) < 0)
		goto out;
	if (memcmp(a->author, b->author, KEY_BYTES) != 0 || strcmp(a->feed, b->feed) != 0 || a->seq != b->seq) {
		err_set(e, "the two entries are not of the same author, feed and seq");
		ret = -EINVAL;
	} else if (memcmp(a->hash, b->hash, HASH_BYTES) == 0) {
		err_set(e, "the two entries are the same entry");
		ret = -EINVAL;
	}
out:
	changeset_destroy(&b);
	if (ret == 0 && out)
		*out = a;
	else
		changeset_destroy(&a);
	return ret;
}

int node_evidence_store(struct store_txn *t, const uint8_t *first, size_t first_len, const uint8_t *second,
			size_t second_len, bool *known, struct err *e)
{
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	struct changeset *a = NULL;
	uint8_t key[NODE_EVIDENCE_KEY_MAX], *buf = NULL;
	const uint8_t *old;
	size_t klen, len, oldlen;
	struct store_head h;
	struct err ignore = {0};
	int ret;

	*known = false;
	if ((ret = node_evidence_check(first, first_len, second, second_len, &a, e)) < 0)
		return ret;
	if ((klen = node_evidence_key_encode(key, a->author, a->feed, a->seq)) == 0) {
		err_set(e, "the entries' feed name is not a valid feed name");
		ret = -EINVAL;
		goto out;
	}
	*known = store_index_get(t, NODE_EVIDENCE_INDEX, key, klen, &old, &oldlen, &ignore) == 0;
	if (!*known) {
		ev.first.data = (uint8_t *)first;
		ev.first.len = first_len;
		ev.second.data = (uint8_t *)second;
		ev.second.len = second_len;
		len = strata__evidence__get_packed_size(&ev);
		if (!(buf = malloc(len))) {
			err_set(e, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		strata__evidence__pack(&ev, buf);
		if ((ret = store_index_put(t, NODE_EVIDENCE_INDEX, key, klen, buf, len, e)) < 0)
			goto out;
	}
	if (store_head_get(t, a->author, a->feed, &h, &ignore) == 0 && !(h.flags & STORE_FEED_FROZEN) &&
	    (ret = store_feed_set_flags(t, a->author, a->feed, h.flags | STORE_FEED_FROZEN, e)) < 0)
		goto out;
	ret = 0;
out:
	changeset_destroy(&a);
	free(buf);
	return ret;
}

/* Freezes (author, feed) if it is held and not frozen yet. */
static int freeze(struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed, struct err *e)
{
	struct store_head h;
	struct err ignore = {0};

	if (store_head_get(t, author, feed, &h, &ignore) == 0 && !(h.flags & STORE_FEED_FROZEN))
		return store_feed_set_flags(t, author, feed, h.flags | STORE_FEED_FROZEN, e);
	return 0;
}

int node_evidence_checkpoint_store(struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed,
				   uint64_t size, const uint8_t *first, size_t first_len, const uint8_t *second,
				   size_t second_len, bool *known, struct err *e)
{
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	uint8_t key[NODE_EVIDENCE_KEY_MAX], *buf;
	const uint8_t *old;
	size_t klen, len, oldlen;
	struct err ignore = {0};
	int ret;

	*known = false;
	if ((klen = node_evidence_key_encode(key, author, feed, size)) == 0) {
		err_set(e, "the checkpoint's feed name is not a valid feed name");
		return -EINVAL;
	}
	key[klen++] = NODE_EVIDENCE_CKPT_TAG;
	*known = store_index_get(t, NODE_EVIDENCE_INDEX, key, klen, &old, &oldlen, &ignore) == 0;
	if (!*known) {
		ev.first.data = (uint8_t *)first;
		ev.first.len = first_len;
		ev.second.data = (uint8_t *)second;
		ev.second.len = second_len;
		ev.has_checkpoint = 1;
		ev.checkpoint = 1;
		len = strata__evidence__get_packed_size(&ev);
		if (!(buf = malloc(len))) {
			err_set(e, "out of memory");
			return -ENOMEM;
		}
		strata__evidence__pack(&ev, buf);
		ret = store_index_put(t, NODE_EVIDENCE_INDEX, key, klen, buf, len, e);
		free(buf);
		if (ret < 0)
			return ret;
	}
	return freeze(t, author, feed, e);
}
