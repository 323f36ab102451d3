/* SPDX-License-Identifier: MIT */
/*
 * What a node holds, read for people and front ends (`strata id`, `strata
 * status`, `strata fence`, `strata log`): its feed heads, the proofs of
 * equivocation it keeps, its peer agreements and pinned roots, its write
 * fence, and its signed history entry by entry. Each function reads in a
 * read transaction of its own and hands back data (JSON or decoded
 * entries); none prints.
 */
#include <errno.h>
#include <string.h>

#include "node/core/admin.h"
#include "node/core/checkpoint.h"
#include "node/core/node_internal.h"

struct overview {
	const struct node *n;
	struct store_txn *t;
	json_t *feeds, *evidence;
};

/* The held checkpoint of an own feed (witnessed: the newest co-signed
 * one): {"size", "witnesses": [{"key", "name"}]}, or null. */
static json_t *held_checkpoint(struct overview *o, const struct store_head *h, bool witnessed)
{
	const uint8_t *b;
	size_t len;
	struct note nt;
	json_t *by;

	if (node_checkpoint_get(o->t, h->author, h->feed, witnessed, &b, &len, &(struct err){0}) < 0 ||
	    note_parse((const char *)b, len, &nt, &(struct err){0}) < 0)
		return json_null();
	by = json_array();
	for (size_t i = 0; i < nt.n_sigs; i++) {
		char name[NODE_NAME_MAX + 1] = "", hex[KEY_HEX];

		if (nt.sigs[i].alg != NOTE_ALG_COSIGNATURE)
			continue;
		node_key_name(o->n, o->t, nt.sigs[i].key, name);
		key_hex(hex, nt.sigs[i].key);
		json_array_append_new(by, json_pack("{s:s, s:s}", "key", hex, "name", name));
	}
	return json_pack("{s:I, s:o}", "size", (json_int_t)nt.cp.size, "witnesses", by);
}

static int on_head(const struct store_head *h, void *arg)
{
	struct overview *o = arg;
	char name[NODE_NAME_MAX + 1], hex[KEY_HEX];
	json_t *j;

	node_key_name(o->n, o->t, h->author, name);
	key_hex(hex, h->author);
	j = json_pack("{s:s, s:s, s:s, s:I, s:b}", "author", hex, "name", name, "feed", h->feed, "seq",
		      (json_int_t)h->seq, "frozen", (h->flags & STORE_FEED_FROZEN) != 0);
	if (memcmp(h->author, o->n->id, KEY_BYTES) == 0) { /* own feeds: what the witnesses co-signed */
		json_object_set_new(j, "checkpoint", held_checkpoint(o, h, false));
		json_object_set_new(j, "witnessed", held_checkpoint(o, h, true));
	}
	json_array_append_new(o->feeds, j);
	return 0;
}

static int on_evidence(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg)
{
	struct overview *o = arg;
	char name[NODE_NAME_MAX + 1], hex[KEY_HEX];

	(void)val;
	(void)len;
	if (!k) /* a malformed key: strata verify reports it */
		return 0;
	node_key_name(o->n, o->t, k->author, name);
	key_hex(hex, k->author);
	json_array_append_new(o->evidence, json_pack("{s:s, s:s, s:s, s:I, s:b}", "author", hex, "name", name, "feed",
						     k->feed, "seq", (json_int_t)k->seq, "checkpoint", k->checkpoint));
	return 0;
}

int node_overview(struct node *n, json_t **out, struct err *e)
{
	struct overview o = {.n = n, .feeds = json_array(), .evidence = json_array()};
	struct node_fence fence = {0};
	json_t *j = json_object();
	int ret;

	*out = NULL;
	json_object_set_new(j, "feeds", o.feeds);
	json_object_set_new(j, "evidence", o.evidence);
	if ((ret = store_txn_begin(n->store, false, &o.t, e)) < 0 || (ret = store_heads_each(o.t, on_head, &o, e)) < 0 ||
	    (ret = node_evidence_each(o.t, on_evidence, &o, e)) < 0 || (ret = node_agreements_add(n, o.t, j, e)) < 0) {
		store_txn_abort(&o.t);
		json_decref(j);
		return ret;
	}
	if (node_fence_read(n, o.t, &fence, &(struct err){0}) < 0)
		fence.set = false; /* shown as not fenced, as before the fence existed */
	store_txn_abort(&o.t);
	json_object_set_new(j, "write_fence", fence.set ? json_string(fence.reason) : json_null());
	json_t *store = node_store_json(n, &(struct err){0});
	json_object_set_new(j, "store", store ? store : json_null()); /* metrics.c */
	*out = j;
	return 0;
}

int node_fence_get(struct node *n, struct node_fence *f, struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	if ((ret = store_txn_begin(n->store, false, &t, e)) == 0)
		ret = node_fence_read(n, t, f, e);
	store_txn_abort(&t);
	return ret;
}

int node_agreements_json(struct node *n, json_t *j, struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	if ((ret = store_txn_begin(n->store, false, &t, e)) == 0)
		ret = node_agreements_add(n, t, j, e);
	store_txn_abort(&t);
	return ret;
}

struct log_walk {
	const char *feed;
	struct store_txn *t;
	int (*fn)(const struct changeset *cs, uint64_t seq, const struct err *why, void *arg);
	void *arg;
	struct err *e;
};

static int on_entry(uint64_t seq, const uint8_t hash[HASH_BYTES], const uint8_t *bytes, size_t len, void *arg)
{
	struct log_walk *w = arg;
	struct changeset *cs = NULL;
	struct err why = {0};
	int ret;

	(void)hash;
	if (changeset_decode(&cs, bytes, len, &why) < 0)
		return w->fn(NULL, seq, &why, w->arg);
	ret = w->fn(cs, seq, NULL, w->arg);
	changeset_destroy(&cs);
	return ret;
}

static int on_feed(const struct store_head *h, void *arg)
{
	struct log_walk *w = arg;

	if (w->feed && strcmp(w->feed, h->feed) != 0)
		return 0;
	return store_log_each(w->t, h->author, h->feed, 1, 0, on_entry, w, w->e);
}

int node_log_each(struct node *n, const char *feed,
		  int (*fn)(const struct changeset *cs, uint64_t seq, const struct err *why, void *arg), void *arg,
		  struct err *e)
{
	struct log_walk w = {.feed = feed, .fn = fn, .arg = arg, .e = e};
	int ret;

	if ((ret = store_txn_begin(n->store, false, &w.t, e)) == 0)
		ret = store_heads_each(w.t, on_feed, &w, e);
	store_txn_abort(&w.t);
	return ret;
}
