/* SPDX-License-Identifier: MIT */
/*
 * The signed checkpoints a node holds (node/core/checkpoint.h). This file
 * owns the layout of two indexes (store.h "index"):
 *   NODE_CHECKPOINT_INDEX  author(32) | feed name -> the newest signed note
 *   NODE_WITNESSED_INDEX   author(32) | feed name -> the newest note with a
 *                          cosignature
 * each value being the note's text exactly as note_format writes it (the
 * author's line first, then by key), so that what a node sends is what it
 * holds. Keys differ in length with the feed name; lookups are exact.
 *
 * Rules of keeping, for each index separately: a larger note replaces the
 * held one; one of the same size and root merges its signature lines into
 * the held one; a smaller one changes nothing (a node keeps the newest);
 * one of the same size and another root is refused with -EBADE and
 * nothing is written to either index (witness.c makes it evidence).
 * Signatures are not checked here: callers keep only notes they checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/checkpoint.h"
#include "node/core/node_internal.h"
#include "storage/store.h"

#define CKPT_KEY_MAX (KEY_BYTES + LIMIT_NAME_BYTES)

static size_t ckpt_key(uint8_t out[CKPT_KEY_MAX], const uint8_t author[KEY_BYTES], const char *feed)
{
	size_t fl = strlen(feed);

	if (fl == 0 || fl > LIMIT_NAME_BYTES)
		return 0;
	memcpy(out, author, KEY_BYTES);
	memcpy(out + KEY_BYTES, feed, fl);
	return KEY_BYTES + fl;
}

static const char *index_name(bool witnessed)
{
	return witnessed ? NODE_WITNESSED_INDEX : NODE_CHECKPOINT_INDEX;
}

int node_checkpoint_get(struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed, bool witnessed,
			const uint8_t **note, size_t *len, struct err *e)
{
	uint8_t key[CKPT_KEY_MAX];
	size_t kl = ckpt_key(key, author, feed);

	if (!kl) {
		err_set(e, "no checkpoint of a feed name of %zu bytes", strlen(feed));
		return -EINVAL;
	}
	return store_index_get(t, index_name(witnessed), key, kl, note, len, e);
}

static bool has_cosignature(const struct note *n)
{
	for (size_t i = 0; i < n->n_sigs; i++)
		if (n->sigs[i].alg == NOTE_ALG_COSIGNATURE)
			return true;
	return false;
}

/* What n does to one index: *out the note to write (or *write false). */
static int merge_one(struct store_txn *t, const struct note *n, bool witnessed, struct note *out, bool *write,
		     struct err *e)
{
	const uint8_t *held;
	size_t len;
	struct note h;
	int ret = node_checkpoint_get(t, n->cp.author, n->cp.feed, witnessed, &held, &len, e);

	*write = false;
	if (ret == -ENOENT || (ret == 0 && note_parse((const char *)held, len, &h, NULL) < 0)) {
		*out = *n; /* none held (an unreadable one is replaced) */
		*write = true;
		return 0;
	}
	if (ret < 0)
		return ret;
	if (n->cp.size < h.cp.size)
		return 0;
	if (n->cp.size > h.cp.size) {
		*out = *n;
		*write = true;
		return 0;
	}
	if (memcmp(n->cp.root, h.cp.root, TLOG_HASH_BYTES) != 0) {
		char hex[KEY_HEX];
		key_hex(hex, n->cp.author);
		err_set(e, "two checkpoints of %.16s/%s at size %" PRIu64 " with different roots", hex, n->cp.feed,
			n->cp.size);
		return -EBADE;
	}
	*out = h;
	for (size_t i = 0; i < n->n_sigs; i++) {
		size_t j = 0;
		while (j < h.n_sigs && !(h.sigs[j].alg == n->sigs[i].alg &&
					 !memcmp(h.sigs[j].key, n->sigs[i].key, KEY_BYTES) &&
					 !memcmp(h.sigs[j].sig, n->sigs[i].sig, SIG_BYTES)))
			j++;
		if (j < h.n_sigs)
			continue; /* the same line */
		if ((ret = note_add_sig(out, &n->sigs[i], e)) < 0)
			return ret;
		*write = true;
	}
	return 0;
}

static int write_one(struct store_txn *t, const struct note *n, bool witnessed, struct err *e)
{
	uint8_t key[CKPT_KEY_MAX];
	size_t kl = ckpt_key(key, n->cp.author, n->cp.feed), len;
	char *text = malloc(NOTE_MAX);
	int ret;

	if (!text) {
		err_set(e, "out of memory keeping a checkpoint");
		return -ENOMEM;
	}
	if ((ret = note_format(n, text, &len, e)) == 0)
		ret = store_index_put(t, index_name(witnessed), key, kl, (const uint8_t *)text, len, e);
	free(text);
	return ret;
}

int node_checkpoint_put(struct store_txn *t, const struct note *n, struct err *e)
{
	struct note *m = malloc(2 * sizeof *m);
	bool w_all = false, w_wit = false;
	int ret;

	if (!m) {
		err_set(e, "out of memory keeping a checkpoint");
		return -ENOMEM;
	}
	if (!ckpt_key((uint8_t[CKPT_KEY_MAX]){0}, n->cp.author, n->cp.feed) || n->cp.size < 1 || n->n_sigs < 1) {
		err_set(e, "a checkpoint to keep needs a feed name of 1..%u bytes, a size and a signature",
			LIMIT_NAME_BYTES);
		ret = -EINVAL;
		goto out;
	}
	/* Decide for both indexes before writing either: a refusal changes nothing. */
	if ((ret = merge_one(t, n, false, &m[0], &w_all, e)) < 0)
		goto out;
	if (has_cosignature(n) && (ret = merge_one(t, n, true, &m[1], &w_wit, e)) < 0)
		goto out;
	if (w_all && (ret = write_one(t, &m[0], false, e)) < 0)
		goto out;
	if (w_wit && (ret = write_one(t, &m[1], true, e)) < 0)
		goto out;
	ret = w_all || w_wit ? 1 : 0;
out:
	free(m);
	return ret;
}

int node_checkpoint_sign_own(struct node *nd, struct store_txn *t, const char *feed, struct err *e)
{
	struct store_head h;
	struct note n;
	const uint8_t *held;
	size_t len;
	char *text = NULL;
	int ret;

	if (!nd->key) {
		err_set(e, "node %s was opened without its key: it cannot sign checkpoints", nd->dir);
		return -EPERM;
	}
	if ((ret = store_head_get(t, nd->id, feed, &h, e)) == -ENOENT)
		return 0; /* nothing written in that feed yet */
	if (ret < 0)
		return ret;
	/* a frozen feed (equivocation) is signed no more, and a restored store
	 * signs nothing before its fence lifts: the rules live here, so that
	 * every caller (links, export, prove) keeps them */
	if ((h.flags & STORE_FEED_FROZEN) || node_fence_check(nd, t, &(struct err){0}) < 0)
		return 0;
	ret = node_checkpoint_get(t, nd->id, feed, false, &held, &len, e);
	if (ret == 0 && note_parse((const char *)held, len, &n, NULL) == 0 && n.cp.size >= h.seq)
		return 0;
	if (ret < 0 && ret != -ENOENT)
		return ret;
	memset(&n, 0, sizeof n);
	memcpy(n.cp.author, nd->id, KEY_BYTES);
	snprintf(n.cp.feed, sizeof n.cp.feed, "%s", feed);
	n.cp.size = h.seq;
	if ((ret = store_tree_root(t, nd->id, feed, h.seq, n.cp.root, e)) < 0)
		return ret;
	if (!(text = malloc(NOTE_MAX))) {
		err_set(e, "out of memory signing a checkpoint");
		return -ENOMEM;
	}
	if ((ret = note_sign_checkpoint(nd->key, &n.cp, text, &len, e)) == 0 &&
	    (ret = note_parse(text, len, &n, e)) == 0)
		ret = node_checkpoint_put(t, &n, e);
	free(text);
	return ret < 0 ? ret : 0;
}

struct each_walk {
	int (*fn)(const uint8_t author[KEY_BYTES], const char *feed, const uint8_t *note, size_t len, void *arg);
	void *arg;
};

static int on_held(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg)
{
	struct each_walk *w = arg;
	char feed[LIMIT_NAME_BYTES + 1];
	size_t fl = key_len - KEY_BYTES;

	if (key_len <= KEY_BYTES || fl > LIMIT_NAME_BYTES)
		return 0; /* not a key of this layout: skipped */
	memcpy(feed, key + KEY_BYTES, fl);
	feed[fl] = '\0';
	return w->fn(key, feed, val, len, w->arg);
}

int node_checkpoint_each(struct store_txn *t, bool witnessed,
			 int (*fn)(const uint8_t author[KEY_BYTES], const char *feed, const uint8_t *note, size_t len,
				   void *arg),
			 void *arg, struct err *e)
{
	struct each_walk w = {.fn = fn, .arg = arg};

	return store_index_each(t, index_name(witnessed), on_held, &w, e);
}
