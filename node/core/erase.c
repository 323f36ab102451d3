/* SPDX-License-Identifier: MIT */
/*
 * Applying erase requests. An erase is a record (collection "erase", key
 * "<collection>/<record key>") that the owner of a record writes in the
 * feed the record was written in; every node that stores it, locally, from
 * a link or from a bundle (all through node_ingest), removes that record's
 * value from every earlier entry of that feed and from state, in the same
 * transaction. Only the frame around each signed body changes
 * (changeset_strip_value), so signatures, hashes and chains still verify;
 * a node that sends these entries on sends them stripped. The old bytes
 * left in data.mdb's free pages are overwritten afterwards (erase_scrub.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"

static bool has_bytes(const uint8_t *p, size_t len, const uint8_t *needle, size_t nl)
{
	for (size_t i = 0; i + nl <= len; i++)
		if (p[i] == needle[0] && memcmp(p + i, needle, nl) == 0)
			return true;
	return false;
}

/* The op of cs that puts (collection, key) with a value, or -1. */
static long holding_op(const struct changeset *cs, const char *collection, const uint8_t *key, size_t key_len)
{
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];

		if (op->kind == OP_PUT && op->value && op->key_len == key_len && !memcmp(op->key, key, key_len) &&
		    !strcmp(op->collection, collection))
			return (long)i;
	}
	return -1;
}

struct holders {
	const char *collection;
	const uint8_t *key;
	size_t key_len;
	uint64_t *seqs;
	size_t n, cap;
	size_t unsalted; /* of the n: puts committing with value_hash */
	int err;
	struct err *e;
};

static int find_holder(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct holders *h = arg;
	struct changeset *cs = NULL;
	long op;

	(void)hash;
	/* Most entries do not mention the key at all: skip them undecoded. */
	if (!has_bytes(bytes, len, h->key, h->key_len))
		return 0;
	if (changeset_decode(&cs, bytes, len, h->e) < 0) {
		err_prefix(h->e, "stored entry #%llu does not decode (run strata verify)", (unsigned long long)seq);
		h->err = -EIO;
		return 1;
	}
	op = holding_op(cs, h->collection, h->key, h->key_len);
	if (op >= 0 && !cs->ops[op].salted)
		h->unsalted++;
	changeset_destroy(&cs);
	if (op < 0)
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		uint64_t *p = realloc(h->seqs, cap * sizeof *p);

		if (!p) {
			err_set(h->e, "out of memory");
			h->err = -ENOMEM;
			return 1;
		}
		h->seqs = p;
		h->cap = cap;
	}
	h->seqs[h->n++] = seq;
	return 0;
}

/* The seqs (1..before-1) of owner's feed whose entries still hold a value
 * of (collection, key). */
static int holders_find(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed, uint64_t before,
			struct holders *h, struct err *e)
{
	int ret;

	h->e = e;
	if (before <= 1)
		return 0;
	ret = store_log_each(t, owner, feed, 1, before - 1, find_holder, h, e);
	return h->err ? h->err : ret < 0 ? ret : 0;
}

int node_erase_holders(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed,
		       const char *collection, const uint8_t *key, size_t key_len, size_t *count, size_t *unsalted,
		       struct err *e)
{
	struct holders h = {.collection = collection, .key = key, .key_len = key_len};
	int ret = holders_find(t, owner, feed, UINT64_MAX, &h, e);

	*count = h.n;
	if (unsalted)
		*unsalted = h.unsalted;
	free(h.seqs);
	return ret;
}

int erase_holder_seqs(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed, const char *collection,
		      const uint8_t *key, size_t key_len, uint64_t **seqs, size_t *count, struct err *e)
{
	struct holders h = {.collection = collection, .key = key, .key_len = key_len};
	int ret = holders_find(t, owner, feed, UINT64_MAX, &h, e);

	if (ret < 0) {
		free(h.seqs);
		h.seqs = NULL;
		h.n = 0;
	}
	*seqs = h.seqs;
	*count = h.n;
	return ret;
}

/* Residues of an erase request being built. */
struct residues {
	Strata__ErasedResidue *v;
	Strata__ErasedResidue **ptr;
	size_t n, cap;
};

static void residues_free(struct residues *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].value.data);
	free(r->v);
	free(r->ptr);
}

/* Appends (seq, value), taking value; dropped if it repeats the last one. */
static int residue_add(struct residues *r, uint64_t seq, uint8_t *value, size_t len)
{
	Strata__ErasedResidue *x;

	if (r->n && r->v[r->n - 1].value.len == len && memcmp(r->v[r->n - 1].value.data, value, len) == 0) {
		free(value);
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;

		if (!(x = realloc(r->v, cap * sizeof *x))) {
			free(value);
			return -ENOMEM;
		}
		r->v = x;
		r->cap = cap;
	}
	x = &r->v[r->n++];
	strata__erased_residue__init(x);
	x->seq = seq;
	x->value.data = value;
	x->value.len = len;
	return 0;
}

/* The residues of an earlier erase request of the key (its values were
 * stripped then), kept first. */
static int residues_earlier(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *ekey,
			    struct residues *r)
{
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	Strata__Erasure *old;
	int ret = 0;

	if (store_state_get(t, record_erase.collection, owner, (const uint8_t *)ekey, strlen(ekey), &v, &vl, NULL,
			    &ignore) < 0 ||
	    !(old = strata__erasure__unpack(NULL, vl, v)))
		return 0;
	for (size_t i = 0; i < old->n_residues && ret == 0; i++) {
		const ProtobufCBinaryData *b = &old->residues[i]->value;
		uint8_t *copy = malloc(b->len ? b->len : 1);

		if (!copy)
			ret = -ENOMEM;
		else {
			memcpy(copy, b->data, b->len);
			ret = residue_add(r, old->residues[i]->seq, copy, b->len);
		}
	}
	strata__erasure__free_unpacked(old, NULL);
	return ret;
}

/* The residue of the value entry seq holds for (collection, key). */
static int residue_of_entry(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed, uint64_t seq,
			    const char *collection, const uint8_t *key, size_t key_len, struct residues *r,
			    struct err *e)
{
	struct changeset *cs = NULL;
	const uint8_t *b;
	uint8_t *res = NULL;
	size_t bl, rl = 0;
	long op;
	int ret;

	if ((ret = store_log_get(t, owner, feed, seq, &b, &bl, NULL, e)) < 0)
		return ret == -ENOENT ? -EIO : ret;
	if (changeset_decode(&cs, b, bl, e) < 0) {
		err_prefix(e, "stored entry #%llu", (unsigned long long)seq);
		return -EIO;
	}
	if ((op = holding_op(cs, collection, key, key_len)) >= 0 &&
	    (ret = record_residue(collection, cs->ops[op].value, cs->ops[op].value_len, &res, &rl, e)) == 1)
		ret = residue_add(r, seq, res, rl);
	changeset_destroy(&cs);
	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	return ret < 0 ? ret : 0;
}

int node_erase_request(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed,
		       const char *collection, const uint8_t *key, size_t key_len, const char *reason,
		       uint64_t erased_ms, uint8_t **out, size_t *out_len, size_t *holders, struct err *e)
{
	Strata__Erasure er = STRATA__ERASURE__INIT;
	struct holders h = {.collection = collection, .key = key, .key_len = key_len};
	struct residues r = {0};
	char ekey[LIMIT_KEY_BYTES + 1];
	int ret;

	*out = NULL;
	*holders = 0;
	if ((ret = erase_key_make(ekey, sizeof ekey, collection, key, key_len, e)) < 0 ||
	    (ret = holders_find(t, owner, feed, UINT64_MAX, &h, e)) < 0)
		goto out;
	*holders = h.n;
	if ((ret = residues_earlier(t, owner, ekey, &r)) < 0)
		goto oom;
	for (size_t i = 0; i < h.n && ret == 0; i++)
		ret = residue_of_entry(t, owner, feed, h.seqs[i], collection, key, key_len, &r, e);
	if (ret < 0)
		goto out;
	if (r.n && !(r.ptr = calloc(r.n, sizeof *r.ptr)))
		goto oom;
	for (size_t i = 0; i < r.n; i++)
		r.ptr[i] = &r.v[i];
	er.reason = (char *)reason;
	er.erased_ms = erased_ms;
	er.n_residues = r.n;
	er.residues = r.ptr;
	*out_len = strata__erasure__get_packed_size(&er);
	if (!(*out = malloc(*out_len ? *out_len : 1)))
		goto oom;
	strata__erasure__pack(&er, *out);
	ret = 0;
	goto out;
oom:
	err_set(e, "out of memory");
	ret = -ENOMEM;
out:
	residues_free(&r);
	free(h.seqs);
	return ret;
}

/* Strips the value of (collection, key) from stored entry seq. */
static int strip_one(struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
		     const char *collection, const uint8_t *key, size_t key_len, struct err *e)
{
	struct changeset *cs = NULL;
	const uint8_t *b;
	uint8_t *out = NULL;
	size_t bl, out_len;
	long op;
	int ret;

	if ((ret = store_log_get(t, author, feed, seq, &b, &bl, NULL, e)) < 0)
		return ret == -ENOENT ? -EIO : ret;
	if ((ret = changeset_decode(&cs, b, bl, e)) < 0) {
		err_prefix(e, "stored entry #%llu", (unsigned long long)seq);
		return -EIO;
	}
	if ((op = holding_op(cs, collection, key, key_len)) >= 0 &&
	    (ret = changeset_strip_value(cs, (size_t)op, &out, &out_len, e)) == 0)
		ret = store_log_replace(t, author, feed, seq, out, out_len, e);
	free(out);
	changeset_destroy(&cs);
	return ret;
}

/* Removes the value of (collection, key) from the entries of owner's feed
 * before seq `before` and from owner's state record, if written by that
 * feed before it. *changed tells whether anything was removed. */
static int erase_in_feed(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed, uint64_t before,
			 const char *collection, const uint8_t *key, size_t key_len, bool *changed, struct err *e)
{
	struct holders h = {.collection = collection, .key = key, .key_len = key_len};
	const uint8_t *val;
	size_t val_len;
	struct store_origin o;
	struct err ignore = {0};
	int ret;

	if ((ret = holders_find(t, owner, feed, before, &h, e)) < 0) {
		free(h.seqs);
		return ret;
	}
	for (size_t k = 0; k < h.n && ret == 0; k++)
		ret = strip_one(t, owner, feed, h.seqs[k], collection, key, key_len, e);
	*changed = *changed || h.n > 0;
	free(h.seqs);
	if (ret < 0)
		return ret;
	ret = store_state_get(t, collection, owner, key, key_len, &val, &val_len, &o, &ignore);
	if (ret == 0 && val_len > 0 && strcmp(o.feed, feed) == 0 && o.seq < before) {
		if ((ret = store_state_erase(t, collection, owner, key, key_len, e)) < 0)
			return ret;
		*changed = true;
	} else if (ret < 0 && ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		return ret;
	}
	return 0;
}

/* An entry of a key replaced by rotation that arrives after its successor
 * erased one of its values (unit.c): the value goes at once, from the
 * entry and from state. *changed as above. */
static int erase_late(struct store_txn *t, const struct changeset *cs, bool *changed, struct err *e)
{
	uint8_t by[KEY_BYTES];
	char ekey[LIMIT_KEY_BYTES + 1];
	struct err ignore = {0};
	int ret;

	if (node_key_successor(t, cs->author, by) < 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		const uint8_t *v;
		size_t vl;
		struct store_origin o;

		if (op->kind != OP_PUT || !op->value ||
		    erase_key_make(ekey, sizeof ekey, op->collection, op->key, op->key_len, &ignore) < 0 ||
		    !store_state_superseded(t, "erase", cs->author, (const uint8_t *)ekey, strlen(ekey), by) ||
		    store_state_get(t, "erase", by, (const uint8_t *)ekey, strlen(ekey), &v, &vl, &o, &ignore) < 0 ||
		    strcmp(o.feed, cs->feed) != 0)
			continue;
		if ((ret = strip_one(t, cs->author, cs->feed, cs->seq, op->collection, op->key, op->key_len, e)) < 0)
			return ret;
		*changed = true;
		if (store_state_get(t, op->collection, cs->author, op->key, op->key_len, &v, &vl, &o, &ignore) == 0 &&
		    vl > 0 && strcmp(o.feed, cs->feed) == 0 && o.seq == cs->seq &&
		    (ret = store_state_erase(t, op->collection, cs->author, op->key, op->key_len, e)) < 0)
			return ret;
	}
	return 0;
}

int erase_apply(struct node *n, struct store_txn *t, const struct changeset *cs, struct err *e)
{
	bool late = false;
	int r;

	if (strcmp(cs->feed, FEED_TRUST) != 0 && (r = erase_late(t, cs, &late, e)) < 0)
		return r;
	if (late && (r = erase_mark_scrub_due(t, e)) < 0)
		return r;
	uint8_t pred[NODE_KEYS_MAX][KEY_BYTES];
	size_t np = SIZE_MAX;

	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		char collection[LIMIT_NAME_BYTES + 1];
		const uint8_t *key;
		size_t key_len;
		bool changed = false;
		int ret;

		if (op->kind != OP_PUT || strcmp(op->collection, record_erase.collection) != 0)
			continue;
		/* checked by ingest (record_check) already */
		if (erase_key_split(op->key, op->key_len, collection, &key, &key_len, e) < 0)
			return -EINVAL;
		if ((ret = erase_in_feed(t, cs->author, cs->feed, cs->seq, collection, key, key_len, &changed, e)) < 0)
			return ret;
		/* The unit's records written by the keys it rotated away from are
		 * its own too (unit.c): their values go as well. */
		if (np == SIZE_MAX)
			np = unit_predecessors(n, t, cs->author, pred, NODE_KEYS_MAX);
		for (size_t p = 0; p < np; p++)
			if ((ret = erase_in_feed(t, pred[p], cs->feed, UINT64_MAX, collection, key, key_len, &changed,
						 e)) < 0)
				return ret;
		if (changed && (ret = erase_mark_scrub_due(t, e)) < 0)
			return ret;
	}
	return 0;
}
