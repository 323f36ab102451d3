/* SPDX-License-Identifier: MIT */
/*
 * `strata erase` as one operation: the owner writes an erase request in the
 * record's feed (and one for its companion, a request's contact, in the
 * companion's feed) in one transaction; ingest strips the value from this
 * node's entries and state in the same commit (erase.c), and the request
 * travels on with the feed so that every other node does the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/admin.h"
#include "node/core/node_internal.h"
#include "node/records/records.h"

/* The erase request's value (Erasure { reason, erased_ms }), checked as
 * ingest will check it. */
int node_erase_check(const char *collection, const char *key, const char *reason, struct err *e)
{
	const struct record_type *rt = record_type_find(collection);
	Strata__Erasure er = STRATA__ERASURE__INIT;
	char ekey[LIMIT_KEY_BYTES + 1];
	uint8_t *buf;
	size_t len;
	int ret;

	if (!rt) {
		err_set(e, "unknown collection \"%s\"", collection);
		return -EINVAL;
	}
	if (!rt->feed || strcmp(rt->feed, FEED_TRUST) == 0) {
		err_set(e, "%s records cannot be erased: they carry authority (certificates, revocations) or are erase "
			   "requests themselves",
			collection);
		return -EINVAL;
	}
	if (!key || !*key) {
		err_set(e, "the record's key is empty");
		return -EINVAL;
	}
	if (erase_key_make(ekey, sizeof ekey, collection, (const uint8_t *)key, strlen(key), e) < 0)
		return -EINVAL;
	er.reason = (char *)reason;
	er.erased_ms = node_now_ms();
	len = strata__erasure__get_packed_size(&er);
	if (!(buf = malloc(len))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	strata__erasure__pack(&er, buf);
	ret = record_check("erase", rt->feed, (const uint8_t *)ekey, strlen(ekey), buf, len, e);
	free(buf);
	return ret < 0 ? -EINVAL : 0;
}

/* How many entries of this unit's feed (written by any of its keys, the
 * ones it rotated away from too) hold a value of (collection, key), and
 * how many of those are unsalted (added to *unsalted). */
static int own_holders(struct node *n, struct store_txn *t, const char *feed, const char *collection,
		       const char *key, size_t *count, size_t *unsalted, struct err *e)
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, t, own, NODE_KEYS_MAX), one, old;
	int ret = 0;

	*count = 0;
	for (size_t i = 0; i < nown && ret == 0; i++)
		if ((ret = node_erase_holders(t, own[i], feed, collection, (const uint8_t *)key, strlen(key), &one,
					      &old, e)) == 0) {
			*count += one;
			*unsalted += old;
		}
	return ret;
}

/* Is there a record with this key by another owner? */
struct other {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *self;
	bool found;
	uint8_t owner[KEY_BYTES];
};

static int find_other(const struct store_record *r, void *arg)
{
	struct other *o = arg;

	if (r->key_len == o->key_len && memcmp(r->key, o->key, r->key_len) == 0 &&
	    memcmp(r->owner, o->self, KEY_BYTES) != 0) {
		o->found = true;
		memcpy(o->owner, r->owner, KEY_BYTES);
		return 1;
	}
	return 0;
}

/* Why there is nothing of this node's to erase: the code and sentence of
 * node_erase's contract. */
static int nothing_to_erase(struct node *n, struct store_txn *t, const struct record_type *rt, const char *key,
			    const char *ekey, struct err *e)
{
	struct other o = {.key = (const uint8_t *)key, .key_len = strlen(key), .self = n->id};
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	if (store_state_get(t, "erase", n->id, (const uint8_t *)ekey, strlen(ekey), &v, &vl, NULL, &ignore) == 0) {
		err_set(e, "%s %s is erased already", err_gettext(rt->noun), key);
		return -EEXIST;
	}
	if (store_state_each(t, rt->collection, NULL, find_other, &o, e) < 0)
		return -EIO;
	if (o.found) {
		char name[NODE_NAME_MAX + 1] = "", hex[2 * 8 + 1];

		hex_encode(hex, o.owner, 8);
		node_key_name(n, t, o.owner, name);
		err_set(e,
			"%s %s here was written by %s (%s…), not by this node: only the node that wrote a record may "
			"erase it",
			err_gettext(rt->noun), key, name[0] ? name : "another node", hex);
		return -EPERM;
	}
	err_set(e, "this node wrote no %s %s", err_gettext(rt->noun), key);
	return -ESRCH;
}

/* One erase request of (collection, key) in feed, its residues read in w's
 * transaction; *held: the entries that held a value (0: nothing written),
 * of which unsalted ones are added to *unsalted. switch_to: w is on
 * another feed and moves to feed first. */
static int put_request(struct node *n, struct node_writer *w, bool switch_to, const char *feed,
		       const char *collection, const char *key, const char *reason, uint64_t erased_ms, size_t *held,
		       size_t *unsalted, struct err *e)
{
	char ekey[LIMIT_KEY_BYTES + 1];
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if ((ret = node_erase_request(node_writer_txn(w), n->id, feed, collection, (const uint8_t *)key, strlen(key),
				      reason, erased_ms, &buf, &len, held, e)) < 0 ||
	    (ret = own_holders(n, node_writer_txn(w), feed, collection, key, held, unsalted, e)) < 0 || *held == 0)
		goto out;
	if ((ret = erase_key_make(ekey, sizeof ekey, collection, (const uint8_t *)key, strlen(key), e)) < 0 ||
	    (switch_to && (ret = node_writer_switch(w, feed, NULL, e)) < 0))
		goto out;
	ret = node_writer_put(w, "erase", (const uint8_t *)ekey, strlen(ekey), buf, len, e);
out:
	free(buf);
	return ret;
}

int node_erase(struct node *n, const char *collection, const char *key, const char *reason,
	       struct node_erase_result *out, struct err *e)
{
	const struct record_type *rt = record_type_find(collection), *c;
	char ekey[LIMIT_KEY_BYTES + 1];
	struct node_writer *w = NULL;
	uint64_t erased_ms = node_now_ms();
	int ret;

	memset(out, 0, sizeof *out);
	if ((ret = node_erase_check(collection, key, reason, e)) < 0)
		return ret;
	out->feed = rt->feed;
	if ((ret = erase_key_make(ekey, sizeof ekey, collection, (const uint8_t *)key, strlen(key), e)) < 0 ||
	    (ret = node_writer_begin(n, rt->feed, &w, e)) < 0 ||
	    (ret = put_request(n, w, false, rt->feed, collection, key, reason, erased_ms, &out->entries,
				&out->unsalted, e)) < 0)
		goto out;
	if (out->entries == 0) {
		ret = nothing_to_erase(n, node_writer_txn(w), rt, key, ekey, e);
		goto out;
	}
	/* seals: the head is the erase request's */
	if ((ret = node_writer_switch(w, rt->feed, &out->seq, e)) < 0)
		goto out;
	/* The companion goes with it, in the same transaction: w moves to its
	 * feed, with an erase request of its own (the companion's residues,
	 * none for a contact: no figure reads it). */
	if ((c = rt->companion) &&
	    (ret = put_request(n, w, true, c->feed, c->collection, key, reason, erased_ms, &out->companion_entries,
				&out->unsalted, e)) < 0)
		goto out;
	if (c && out->companion_entries)
		out->companion_feed = c->feed;
	ret = node_writer_commit(&w, NULL, NULL, e);
out:
	node_writer_abort(&w);
	if (ret < 0)
		memset(out, 0, sizeof *out);
	return ret;
}
