/* SPDX-License-Identifier: MIT */
/*
 * The automatic steps (transfer.h): a scan of what this node holds for the
 * steps that are its to take now, each then taken in its own write
 * transaction (transfer_process); what a batch from a link sets off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

/* --- the scan --- */

struct todo {
	uint8_t owner[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1]; /* a release's id, or "<hex>/<id>" */
};

struct scan {
	struct node *n;
	struct store_txn *t;
	struct todo *v;
	size_t count, cap;
	int oom;
};

static void push(struct scan *s, const uint8_t owner[KEY_BYTES], const uint8_t *key, size_t key_len)
{
	if (key_len > TRANSFER_KEY_MAX)
		return;
	if (s->count == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct todo *v = realloc(s->v, cap * sizeof *v);

		if (!v) {
			s->oom = 1;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v[s->count].owner, owner, KEY_BYTES);
	memcpy(s->v[s->count].key, key, key_len);
	s->v[s->count].key[key_len] = '\0';
	s->count++;
}

/* A release this node is the common ancestor of, neither forwarded nor
 * refused yet. */
static int scan_release(const struct store_record *r, void *arg)
{
	struct scan *s = arg;
	Strata__Release *rel;
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1], why[TRANSFER_WHY_SIZE];
	uint8_t lca[KEY_BYTES], to[KEY_BYTES];

	if (!r->value || r->key_len > TRANSFER_ID_MAX)
		return 0;
	memcpy(id, r->key, r->key_len);
	id[r->key_len] = '\0';
	if (transfer_key(key, r->owner, id) < 0 || transfer_has_rec(s->t, record_forward.collection, node_id(s->n), key) ||
	    transfer_has_rec(s->t, record_outcome.collection, node_id(s->n), key))
		return 0;
	if (!(rel = strata__release__unpack(NULL, r->value_len, r->value)))
		return 0;
	if (rel->to.len == KEY_BYTES && !transfer_same(rel->to.data, r->owner) &&
	    transfer_release_lca(s->n, s->t, r->owner, rel->to.data, rel->to_name, lca) == 0 &&
	    transfer_same(lca, node_id(s->n)) &&
	    /* with manual approval, only the ones to refuse (transfer_forward_one) */
	    (!node_config(s->n)->transfer_manual || transfer_forward_to(s->n, s->t, r->owner, rel, to, why) == 1))
		push(s, r->owner, r->key, r->key_len);
	strata__release__free_unpacked(rel, NULL);
	return 0;
}

/* An acceptance of a transfer this node forwarded, without its outcome. */
static int scan_acceptance(const struct store_record *r, void *arg)
{
	struct scan *s = arg;
	char key[TRANSFER_KEY_MAX + 1];

	if (r->key_len > TRANSFER_KEY_MAX)
		return 0;
	memcpy(key, r->key, r->key_len);
	key[r->key_len] = '\0';
	if (transfer_has_rec(s->t, record_forward.collection, node_id(s->n), key) &&
	    !transfer_has_rec(s->t, record_outcome.collection, node_id(s->n), key))
		push(s, r->owner, r->key, r->key_len);
	return 0;
}

/* An own release, not closed, whose outcome has arrived. */
static int scan_own(const struct store_record *r, void *arg)
{
	struct scan *s = arg;
	Strata__Release *rel;
	char key[TRANSFER_KEY_MAX + 1], id[TRANSFER_ID_MAX + 1];
	uint8_t lca[KEY_BYTES];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};

	if (!r->value || r->key_len > TRANSFER_ID_MAX ||
	    store_index_get(s->t, TRANSFER_CLOSED_INDEX, r->key, r->key_len, &v, &vl, &ignore) == 0)
		return 0;
	memcpy(id, r->key, r->key_len);
	id[r->key_len] = '\0';
	if (transfer_key(key, r->owner, id) < 0 || !(rel = strata__release__unpack(NULL, r->value_len, r->value)))
		return 0;
	if (rel->to.len == KEY_BYTES &&
	    transfer_release_lca(s->n, s->t, r->owner, rel->to.data, rel->to_name, lca) == 0 &&
	    transfer_has_rec(s->t, record_outcome.collection, lca, key))
		push(s, r->owner, r->key, r->key_len);
	strata__release__free_unpacked(rel, NULL);
	return 0;
}

enum phase { PHASE_FORWARD, PHASE_OUTCOME, PHASE_CLOSE };

static int run_phase(struct node *n, enum phase p, transfer_note_fn note, void *arg, struct err *e)
{
	struct scan s = {.n = n};
	struct err first = {0}, why = {0};
	int ret, taken = 0, failed = 0;

	if ((ret = store_txn_begin(node_store(n), false, &s.t, e)) < 0)
		return ret;
	switch (p) {
	case PHASE_FORWARD: ret = store_state_each(s.t, record_release.collection, NULL, scan_release, &s, e); break;
	case PHASE_OUTCOME: ret = store_state_each(s.t, record_acceptance.collection, NULL, scan_acceptance, &s, e); break;
	case PHASE_CLOSE: ret = store_state_each(s.t, record_release.collection, node_id(n), scan_own, &s, e); break;
	}
	store_txn_abort(&s.t);
	if (ret == 0 && s.oom) {
		err_set(e, "out of memory");
		ret = -ENOMEM;
	}
	for (size_t i = 0; ret == 0 && i < s.count; i++) {
		int r = 0;

		memset(&why, 0, sizeof why);
		switch (p) {
		case PHASE_FORWARD: r = transfer_forward_one(n, s.v[i].owner, s.v[i].key, false, false, note, arg, &why); break;
		case PHASE_OUTCOME: r = transfer_outcome_one(n, s.v[i].owner, s.v[i].key, note, arg, &why); break;
		case PHASE_CLOSE: r = transfer_close_one(n, s.v[i].key, note, arg, &why); break;
		}
		if (r > 0) {
			taken += r;
		} else if (r < 0 && !failed) {
			first = why;
			failed = r;
		}
	}
	free(s.v);
	if (ret < 0)
		return ret;
	if (failed < 0) {
		*e = first;
		return failed;
	}
	return taken;
}

int transfer_process(struct node *n, transfer_note_fn note, void *arg, struct err *e)
{
	int taken = 0, failed = 0;
	struct err first = {0};

	if (!node_root(n)) /* not in a trust domain yet: no transfers */
		return 0;
	for (enum phase p = PHASE_FORWARD; p <= PHASE_CLOSE; p++) {
		struct err why = {0};
		int r;

		/* with [transfer] approve = manual the forward phase only
		 * refuses (transfer_forward_one): a person approves the rest */
		r = run_phase(n, p, note, arg, &why);
		if (r >= 0)
			taken += r;
		else if (!failed) {
			failed = r;
			first = why;
		}
	}
	if (failed) {
		*e = first;
		return failed;
	}
	return taken;
}

static bool transfer_collection(const char *c)
{
	return strcmp(c, record_release.collection) == 0 || strcmp(c, record_forward.collection) == 0 ||
	       strcmp(c, record_acceptance.collection) == 0 || strcmp(c, record_outcome.collection) == 0;
}

bool transfer_touches(const struct changeset *cs)
{
	for (size_t i = 0; i < cs->n_ops; i++)
		if (transfer_collection(cs->ops[i].collection))
			return true;
	return false;
}

void transfer_after_batch(struct node *n, struct changeset *const *cs, const int *res, size_t count,
			  transfer_note_fn note, void *arg)
{
	struct err e = {0};
	bool touched = false;

	for (size_t i = 0; i < count && !touched; i++)
		touched = res[i] == 0 && cs[i] && transfer_touches(cs[i]);
	if (touched && transfer_process(n, note, arg, &e) < 0)
		transfer_note(note, arg, "transfer step not taken: %s", e.msg);
}
