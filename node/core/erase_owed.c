/* SPDX-License-Identifier: MIT */
/*
 * Companion erases this node owes. strata erase erases a record and its
 * companion (a request and its resident's contact) in one transaction, in
 * two feeds: the record's erase request in its feed (up), the companion's
 * in the companion's (private). But only the record's feed travels: nobody
 * else holds the private feed. A store put back from a backup made before
 * the erase fetches the record's erase back from its links and strips the
 * record; the companion's erase is lost with the private feed, and the
 * contact is back.
 *
 * So the rule, checked whenever the node may sign again (node_fence_lift,
 * in the same transaction that lifts the fence, and at the start of strata
 * serve when no fence holds): for every erase request of its own for a
 * record whose type has a companion, any entry of its own companion feed
 * that still holds the companion's value and was signed before that erase
 * request (entry time, as the node's clock said) is owed an erase. The node
 * is the companion's author: it writes that erase request now, with the
 * record erase's reason, and every entry that held the value is stripped
 * (erase.c). A companion value signed after the record's erase (the
 * request added again) is not the erased one: if the current value is
 * such, it is written again after the new erase request, so that it stays.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"

/* One companion erase owed. */
struct owed {
	const struct record_type *c; /* the companion's type */
	uint8_t key[LIMIT_KEY_BYTES];
	size_t key_len;
	char *reason;                /* the record erase's (may be NULL) */
	uint8_t *live;               /* a value signed after the erase, to keep */
	size_t live_len;
};

struct owed_list {
	struct owed *v;
	size_t n, cap;
	const uint8_t *self;
	struct store_txn *t;
	int err;
	struct err *e;
};

static void owed_free(struct owed_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].reason);
		free(l->v[i].live);
	}
	free(l->v);
}

/* The signing time of entry seq of this node's feed. */
static int entry_time(struct store_txn *t, const uint8_t self[KEY_BYTES], const char *feed, uint64_t seq,
		      uint64_t *ms, struct err *e)
{
	struct changeset *cs = NULL;
	const uint8_t *b;
	size_t bl;
	int ret = store_log_get(t, self, feed, seq, &b, &bl, NULL, e);

	if (ret < 0)
		return ret == -ENOENT ? -EIO : ret;
	if (changeset_decode(&cs, b, bl, e) < 0) {
		err_prefix(e, "stored entry %s #%llu", feed, (unsigned long long)seq);
		return -EIO;
	}
	*ms = cs->time_ms;
	changeset_destroy(&cs);
	return 0;
}

/* Is any value of companion c under key that this node's companion feed
 * still holds signed at or before erased_ms? Then o->live gets a copy of
 * the current value if that was signed after (a later add: it stays). */
static int companion_owed(struct owed_list *l, struct owed *o, uint64_t erased_ms, bool *owed)
{
	const struct record_type *c = o->c;
	const uint8_t *v;
	uint64_t *seqs = NULL, ms = 0;
	size_t vl, held = 0;
	struct store_origin org;
	int ret;

	*owed = false;
	if ((ret = erase_holder_seqs(l->t, l->self, c->feed, c->collection, o->key, o->key_len, &seqs, &held, l->e)) < 0)
		return ret;
	for (size_t i = 0; i < held && !*owed && ret == 0; i++)
		if ((ret = entry_time(l->t, l->self, c->feed, seqs[i], &ms, l->e)) == 0)
			*owed = ms <= erased_ms;
	free(seqs);
	if (ret < 0 || !*owed)
		return ret;
	if (store_state_get(l->t, c->collection, l->self, o->key, o->key_len, &v, &vl, &org, &(struct err){0}) < 0 ||
	    vl == 0 || strcmp(org.feed, c->feed) != 0)
		return 0;
	if ((ret = entry_time(l->t, l->self, c->feed, org.seq, &ms, l->e)) < 0 || ms <= erased_ms)
		return ret;
	if (!(o->live = malloc(vl))) {
		err_set(l->e, "out of memory");
		return -ENOMEM;
	}
	memcpy(o->live, v, vl);
	o->live_len = vl;
	return 0;
}

/* Has the companion an erase request of this node's signed at or after
 * erased_ms (strata erase writes both in one commit)? Then every value it
 * held before is stripped already: the common case, decided without
 * reading the companion feed. */
static int covered(struct owed_list *l, const struct owed *o, uint64_t erased_ms, bool *cov)
{
	char ekey[LIMIT_KEY_BYTES + 1];
	const uint8_t *v;
	size_t vl;
	struct store_origin org;
	uint64_t ms;
	int ret;

	*cov = false;
	if (erase_key_make(ekey, sizeof ekey, o->c->collection, o->key, o->key_len, &(struct err){0}) < 0 ||
	    store_state_get(l->t, record_erase.collection, l->self, (const uint8_t *)ekey, strlen(ekey), &v, &vl, &org,
			    &(struct err){0}) < 0 ||
	    strcmp(org.feed, o->c->feed) != 0)
		return 0;
	if ((ret = entry_time(l->t, l->self, org.feed, org.seq, &ms, l->e)) < 0)
		return ret;
	*cov = ms >= erased_ms;
	return 0;
}

/* store_state_each over this node's erase requests: collects the owed. */
static int collect(const struct store_record *r, void *arg)
{
	struct owed_list *l = arg;
	char collection[LIMIT_NAME_BYTES + 1];
	const struct record_type *t;
	const uint8_t *key;
	size_t key_len;
	struct owed o = {0};
	Strata__Erasure *er;
	uint64_t erased_ms;
	bool owed = false, cov = false;
	int ret;

	if (erase_key_split(r->key, r->key_len, collection, &key, &key_len, &(struct err){0}) < 0 ||
	    !(t = record_type_find(collection)) || !t->companion)
		return 0;
	o.c = t->companion;
	memcpy(o.key, key, key_len);
	o.key_len = key_len;
	if ((ret = entry_time(l->t, l->self, r->origin.feed, r->origin.seq, &erased_ms, l->e)) < 0 ||
	    (ret = covered(l, &o, erased_ms, &cov)) < 0 || (!cov && (ret = companion_owed(l, &o, erased_ms, &owed)) < 0)) {
		l->err = ret;
		return 1;
	}
	if (!owed)
		return 0;
	if ((er = strata__erasure__unpack(NULL, r->value_len, r->value))) {
		o.reason = er->reason && *er->reason ? strdup(er->reason) : NULL;
		strata__erasure__free_unpacked(er, NULL);
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4;
		struct owed *p = realloc(l->v, cap * sizeof *p);

		if (!p) {
			free(o.reason);
			free(o.live);
			err_set(l->e, "out of memory");
			l->err = -ENOMEM;
			return 1;
		}
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = o;
	return 0;
}

/* Writes the erase request owed for o through w (then o's live value). */
static int write_owed(struct node *n, struct node_writer *w, const struct owed *o, struct err *e)
{
	char ekey[LIMIT_KEY_BYTES + 1];
	uint8_t *buf = NULL;
	size_t len = 0, held = 0;
	int ret;

	if ((ret = erase_key_make(ekey, sizeof ekey, o->c->collection, o->key, o->key_len, e)) < 0 ||
	    (ret = node_erase_request(node_writer_txn(w), n->id, o->c->feed, o->c->collection, o->key, o->key_len,
				      o->reason, node_now_ms(), &buf, &len, &held, e)) < 0 ||
	    (ret = node_writer_switch(w, o->c->feed, NULL, e)) < 0 ||
	    (ret = node_writer_put(w, record_erase.collection, (const uint8_t *)ekey, strlen(ekey), buf, len, e)) < 0)
		goto out;
	/* sealed first: the value is a later entry than the erase request */
	if (o->live && ((ret = node_writer_switch(w, o->c->feed, NULL, e)) < 0 ||
			(ret = node_writer_put(w, o->c->collection, o->key, o->key_len, o->live, o->live_len, e)) < 0))
		goto out;
out:
	free(buf);
	return ret;
}

int erase_owed_write(struct node *n, struct node_writer *w, size_t *written, struct err *e)
{
	struct owed_list l = {.self = n->id, .t = node_writer_txn(w), .e = e};
	int ret;

	*written = 0;
	if (node_is_auditor(n, l.t)) /* writes no data feeds: erased nothing of its own */
		return 0;
	ret = store_state_each(l.t, record_erase.collection, n->id, collect, &l, e);
	if (l.err)
		ret = l.err;
	for (size_t i = 0; ret >= 0 && i < l.n; i++)
		if ((ret = write_owed(n, w, &l.v[i], e)) == 0)
			(*written)++;
	owed_free(&l);
	return ret < 0 ? ret : 0;
}

int node_erase_owed(struct node *n, size_t *written, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_scrub_counts sc;
	int ret;

	*written = 0;
	if ((ret = node_writer_begin(n, FEED_PRIVATE, &w, e)) == -EACCES) { /* an auditor: erased nothing */
		*e = (struct err){0};
		return 0;
	}
	if (ret < 0 || (ret = erase_owed_write(n, w, written, e)) < 0 ||
	    (*written && (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)) {
		node_writer_abort(&w);
		*written = 0;
		return ret;
	}
	node_writer_abort(&w); /* nothing owed: nothing to commit */
	if (*written && node_scrub(n, &sc, e) == -EAGAIN)
		*e = (struct err){0}; /* done at the next scrub */
	return 0;
}
