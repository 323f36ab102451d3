/* SPDX-License-Identifier: MIT */
/*
 * The standard figures of a node for a period, from its records. The same
 * computation runs on two sources: the records in state (when a node
 * reports) and the records replayed from its `up` feed up to a given head
 * (when the level above checks a report), so that both must agree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/report.h"

/* One record as a source yields it: pointers valid for the transaction. */
struct rec {
	const char *collection;
	const uint8_t *owner;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
	size_t order; /* replay: position in the log, the last one wins */
	uint64_t seq; /* replay: the entry */
	bool erased;  /* replay: a put whose value its owner erased */
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int push(struct recs *r, const struct rec *x)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct rec *v = realloc(r->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *x;
	return 0;
}

bool report_period_valid(const char *p)
{
	char d[RECORD_DATE_SIZE];

	if (!p || strlen(p) != 7)
		return false;
	snprintf(d, sizeof d, "%s-01", p);
	return date_valid(d);
}

/* --- the values being counted, and the lookups a type's figures make --- */

struct source {
	const struct recs *r;
	const struct rec **index; /* r by (collection, key), built at the first find */
	struct store_txn *t;
	bool live; /* from state: held() reads it */
	const uint8_t (*keys)[KEY_BYTES]; /* live: the unit's keys (node_unit_keys), held() reads under each */
	size_t nkeys;
};

static int rec_cmp(const struct rec *x, const char *collection, const uint8_t *key, size_t key_len)
{
	int c = strcmp(x->collection, collection);

	if (c)
		return c;
	if (x->key_len != key_len)
		return x->key_len < key_len ? -1 : 1;
	return memcmp(x->key, key, key_len);
}

static int index_cmp(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;

	return rec_cmp(x, y->collection, y->key, y->key_len);
}

static ProtobufCMessage *decode(const char *collection, const uint8_t *value, size_t len)
{
	const struct record_type *t = record_type_find(collection);

	return t && value ? protobuf_c_message_unpack(t->descriptor, NULL, len, value) : NULL;
}

static ProtobufCMessage *find(struct figures_ctx *c, const char *collection, const char *key)
{
	struct source *s = c->source;
	size_t lo = 0, hi = s->r->n, kl = strlen(key);

	if (!s->index) {
		if (!(s->index = malloc((s->r->n ? s->r->n : 1) * sizeof *s->index))) {
			c->ret = c->ret ? c->ret : -ENOMEM;
			return NULL;
		}
		for (size_t i = 0; i < s->r->n; i++)
			s->index[i] = &s->r->v[i];
		qsort(s->index, s->r->n, sizeof *s->index, index_cmp);
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = rec_cmp(s->index[mid], collection, (const uint8_t *)key, kl);

		if (cmp == 0)
			return decode(collection, s->index[mid]->value, s->index[mid]->value_len);
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static ProtobufCMessage *held(struct figures_ctx *c, const char *collection, const char *key)
{
	struct source *s = c->source;
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	if (!s->live)
		return NULL;
	/* whichever of the unit's keys wrote it (an ack before a key rotation) */
	for (size_t k = 0; k < (s->nkeys ? s->nkeys : 1); k++)
		if (store_state_get(s->t, collection, s->nkeys ? s->keys[k] : c->owner, (const uint8_t *)key, strlen(key),
				    &v, &vl, NULL, &ignore) == 0)
			return decode(collection, v, vl);
	return NULL;
}

/* Computes from the values in r (those of one collection together), each
 * counted by its type's .figures. */
static int compute(const struct recs *r, const char *period, const char *today, const struct source *unit,
		   const uint8_t *owner, const char *joined, struct store_txn *t, struct figures *f, struct err *e)
{
	char end[RECORD_DATE_SIZE];
	struct source s = {.r = r, .t = t, .live = unit != NULL};
	struct figures_ctx c = {.f = &f->p, .period = period, .end = end, .today = today, .owner = owner,
				.joined = joined, .find = find, .held = held, .source = &s};
	const struct record_type *type = NULL;

	if (unit) {
		s.keys = unit->keys;
		s.nkeys = unit->nkeys;
	}
	memset(f, 0, sizeof *f);
	snprintf(end, sizeof end, "%s-31", period); /* the last day, as far as string order goes */
	for (size_t i = 0; i < r->n && c.ret == 0; i++) {
		const struct rec *x = &r->v[i];
		ProtobufCMessage *m;

		if (!type || strcmp(type->collection, x->collection) != 0)
			type = record_type_find(x->collection);
		if (!type || !type->figures || (type->figures_received && !s.live) ||
		    !(m = protobuf_c_message_unpack(type->descriptor, NULL, x->value_len, x->value)))
			continue;
		c.author = x->owner;
		type->figures(&c, m);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	free(s.index);
	if (c.ret == -ENOMEM) {
		err_set(e, "out of memory computing figures");
		figures_clear(f);
		return -ENOMEM;
	}
	if (c.ret == -ERANGE) {
		err_set(e, "a figure of %s is too large to add up (more than %lld)", period, FIGURE_MAX);
		figures_clear(f);
		return -ERANGE;
	}
	if (figures_check(&f->p, "computed", e) < 0) {
		figures_clear(f);
		return -ERANGE;
	}
	return 0;
}

/* --- sources --- */

static int collect_state(const struct store_record *sr, void *arg)
{
	struct rec x = {.collection = sr->collection,
			.owner = sr->owner,
			.key = sr->key,
			.key_len = sr->key_len,
			.value = sr->value,
			.value_len = sr->value_len};

	return push(arg, &x);
}

/* Records from above (notices): every one this node holds not written by
 * itself (by none of its keys, before and after rotations). */
struct received {
	struct recs *r;
	const uint8_t (*keys)[KEY_BYTES];
	size_t nkeys;
};

static int collect_received(const struct store_record *sr, void *arg)
{
	const struct received *a = arg;

	for (size_t k = 0; k < a->nkeys; k++)
		if (memcmp(sr->owner, a->keys[k], KEY_BYTES) == 0)
			return 0;
	return collect_state(sr, a->r);
}

int report_compute_state(struct node *n, struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *period,
			 struct figures *f, struct err *e)
{
	struct recs r = {0};
	char today[RECORD_DATE_SIZE];
	int ret = 0;

	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(n, t, owner, keys, NODE_KEYS_MAX), ntypes;
	struct received args = {.r = &r, .keys = (const uint8_t(*)[KEY_BYTES])keys, .nkeys = nkeys};
	struct source unit = {.keys = args.keys, .nkeys = nkeys};
	const struct record_type *const *types = record_types(&ntypes);

	/* The unit's records of every type its figures read (in its up feed:
	 * what the level above replays), whichever of its keys wrote them (at
	 * most one holds each: node/core/unit.c); then those received. */
	for (size_t k = 0; k < nkeys && ret == 0; k++)
		for (size_t i = 0; i < ntypes && ret == 0; i++)
			if (types[i]->figures && !types[i]->figures_received && types[i]->feed &&
			    strcmp(types[i]->feed, FEED_UP) == 0)
				ret = store_state_each(t, types[i]->collection, keys[k], collect_state, &r, e);
	for (size_t i = 0; i < ntypes && ret == 0; i++)
		if (types[i]->figures && types[i]->figures_received)
			ret = store_state_each(t, types[i]->collection, NULL, collect_received, &args, e);
	date_today(today);
	if (ret == 0) {
		char joined[RECORD_DATE_SIZE];
		bool known = node_unit_joined(n, t, owner, joined, sizeof joined) == 0;

		ret = compute(&r, period, today, &unit, owner, known ? joined : NULL, t, f, e);
	}
	free(r.v);
	return ret;
}

struct replay {
	struct recs *r;
	const uint8_t *owner;
	size_t order;
	int ret;
	struct changeset **keep; /* decoded entries: the records point into them */
	size_t nkeep, capkeep;
	Strata__Erasure **erasures; /* erase requests whose residues records point into */
	size_t nerasures;
};

static int replay_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct replay *p = arg;
	struct changeset *cs = NULL;
	struct err ignore = {0};

	(void)hash;
	if (changeset_decode(&cs, bytes, len, &ignore) < 0)
		return 0; /* strata verify reports it; a report cannot be checked past it */
	if (p->nkeep == p->capkeep) {
		size_t cap = p->capkeep ? 2 * p->capkeep : 64;
		struct changeset **v = realloc(p->keep, cap * sizeof *v);

		if (!v) {
			changeset_destroy(&cs);
			return p->ret = -ENOMEM;
		}
		p->keep = v;
		p->capkeep = cap;
	}
	p->keep[p->nkeep++] = cs;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		struct rec x = {.collection = op->collection,
				.owner = p->owner,
				.key = op->key,
				.key_len = op->key_len,
				.value = op->kind == OP_PUT ? op->value : NULL,
				.value_len = op->value_len,
				.order = p->order++,
				.seq = seq,
				.erased = op->kind == OP_PUT && !op->value};

		if (push(p->r, &x) < 0)
			return p->ret = -ENOMEM;
	}
	return 0;
}

static int by_key_then_order(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	int c = strcmp(x->collection, y->collection);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	if ((c = memcmp(x->key, y->key, x->key_len)))
		return c;
	return (x->order > y->order) - (x->order < y->order);
}

/* Did an erase request of x's key come after x in the replayed entries? */
static bool erased_in_range(const struct recs *all, const struct rec *x, const char *ekey)
{
	size_t el = strlen(ekey);

	for (size_t i = 0; i < all->n; i++) {
		const struct rec *y = &all->v[i];

		if (y->order > x->order && y->key_len == el && strcmp(y->collection, "erase") == 0 &&
		    memcmp(y->key, ekey, el) == 0)
			return true;
	}
	return false;
}

/* A record whose last put (as of the report's head) its owner erased
 * since: what the report counted of it is its residue in the erase request
 * (node/records/residue.c). 1 with x's value set to the residue (kept
 * alive in p), 0 when it counts for nothing (the figures do not read its
 * collection, or the erase came before the report's head: the report was
 * computed without it), -ENODATA when the erase request carries no residue
 * for it (e says which). */
static int erased_value(struct store_txn *t, struct replay *p, const struct recs *all, struct rec *x, struct err *e)
{
	char ekey[LIMIT_KEY_BYTES + 1];
	const uint8_t *v = NULL;
	size_t vl = 0;
	struct err ignore = {0};
	Strata__Erasure *er = NULL, **more;
	const Strata__ErasedResidue *hit = NULL;

	if (!record_has_residue(x->collection))
		return 0;
	if (erase_key_make(ekey, sizeof ekey, x->collection, x->key, x->key_len, &ignore) < 0)
		goto none;
	if (erased_in_range(all, x, ekey))
		return 0;
	if (store_state_get(t, record_erase.collection, p->owner, (const uint8_t *)ekey, strlen(ekey), &v, &vl, NULL,
			    &ignore) < 0 ||
	    !(er = strata__erasure__unpack(NULL, vl, v)))
		goto none;
	if (!(more = realloc(p->erasures, (p->nerasures + 1) * sizeof *more))) {
		strata__erasure__free_unpacked(er, NULL);
		err_set(e, "out of memory recomputing figures");
		return -ENOMEM;
	}
	p->erasures = more;
	p->erasures[p->nerasures++] = er;
	for (size_t i = 0; i < er->n_residues && er->residues[i]->seq <= x->seq; i++)
		hit = er->residues[i];
	if (!hit)
		goto none;
	x->value = hit->value.data;
	x->value_len = hit->value.len;
	x->erased = false;
	return 1;
none:
	/* What the report counted of it is gone with its value. */
	err_set(e, "%s %.*s it may count was erased since (strata erase) by a request that keeps no residue of it",
		x->collection, (int)x->key_len, (const char *)x->key);
	return -ENODATA;
}

int report_compute_replay(struct node *n, struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *period,
			  uint64_t up_seq, struct figures *f, struct err *e)
{
	struct recs all = {0}, latest = {0};
	struct replay p = {.r = &all, .owner = owner};
	struct store_head h;
	struct err ignore = {0};
	int ret;

	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(n, t, owner, keys, NODE_KEYS_MAX);

	memset(f, 0, sizeof *f);
	/* The keys the unit rotated away from first, oldest first, each to
	 * its end (a replaced key writes no more): what they wrote is the
	 * unit's, and what a later key wrote of the same record wins. */
	for (size_t k = nkeys; k-- > 1;) {
		struct store_head ph;

		if (store_head_get(t, keys[k], FEED_UP, &ph, &ignore) == 0 && ph.seq &&
		    (ret = store_log_each(t, keys[k], FEED_UP, 1, ph.seq, replay_entry, &p, e)) < 0)
			goto out;
	}
	ret = store_head_get(t, owner, FEED_UP, &h, &ignore);
	if (ret < 0 && ret != -ENOENT)
		goto out;
	if (h.seq < up_seq) {
		err_set(e, "this node holds the up feed up to #%llu, the report was computed at #%llu",
			(unsigned long long)h.seq, (unsigned long long)up_seq);
		ret = -ENOENT;
		goto out;
	}
	if (up_seq && (ret = store_log_each(t, owner, FEED_UP, 1, up_seq, replay_entry, &p, e)) < 0)
		goto out;
	if ((ret = p.ret) < 0)
		goto out;
	/* The last op of each key is the record's state at that head. */
	if (all.n > 1)
		qsort(all.v, all.n, sizeof *all.v, by_key_then_order);
	for (size_t i = 0; i < all.n; i++) {
		bool last = i + 1 == all.n || strcmp(all.v[i].collection, all.v[i + 1].collection) != 0 ||
			    all.v[i].key_len != all.v[i + 1].key_len ||
			    memcmp(all.v[i].key, all.v[i + 1].key, all.v[i].key_len) != 0;

		if (last && all.v[i].erased && (ret = erased_value(t, &p, &all, &all.v[i], e)) < 0)
			goto out;
		if (last && all.v[i].value && (ret = push(&latest, &all.v[i])) < 0)
			goto out;
	}
	ret = compute(&latest, period, "9999-12-31", NULL, owner, NULL, t, f, e);
out:
	if (ret == -ENOMEM)
		err_set(e, "out of memory recomputing figures");
	for (size_t i = 0; i < p.nkeep; i++)
		changeset_destroy(&p.keep[i]);
	free(p.keep);
	for (size_t i = 0; i < p.nerasures; i++)
		strata__erasure__free_unpacked(p.erasures[i], NULL);
	free(p.erasures);
	free(all.v);
	free(latest.v);
	return ret;
}
