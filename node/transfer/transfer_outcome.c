/* SPDX-License-Identifier: MIT */
/*
 * Steps 4 and 5 (transfer.h): the common ancestor passes the new branch's
 * decision down; the old branch applies it to its registry once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

/* --- step 4: outcome (the common ancestor) --- */

int transfer_outcome_one(struct node *n, const uint8_t to[KEY_BYTES], const char *key, transfer_note_fn note, void *arg,
			 struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Forward *f = NULL;
	Strata__Acceptance *a = NULL;
	Strata__Outcome o = STRATA__OUTCOME__INIT;
	uint8_t hash[HASH_BYTES];
	char today[RECORD_DATE_SIZE], from_name[NODE_NAME_SIZE];
	struct err ignore = {0};
	int ret;

	if ((ret = transfer_begin(n, FEED_DOWN, &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if (transfer_has_rec(t, record_outcome.collection, node_id(n), key) ||
	    transfer_get_rec(t, &record_forward, node_id(n), key, (void **)&f, NULL, &ignore) < 0 ||
	    transfer_get_rec(t, &record_acceptance, to, key, (void **)&a, NULL, &ignore) < 0) {
		ret = 0;
		goto out;
	}
	transfer_name_of(n, t, f->from.data, from_name);
	if (!transfer_same(f->to.data, to)) {
		transfer_note(note, arg, "transfer %s from %s: an acceptance by a node it was not forwarded to; ignored", f->id,
		       from_name);
		ret = 0;
		goto out;
	}
	if (a->release_hash.len != HASH_BYTES || memcmp(a->release_hash.data, f->release_hash.data, HASH_BYTES) != 0) {
		transfer_note(note, arg, "transfer %s from %s: the acceptance names another release; ignored", f->id, from_name);
		ret = 0;
		goto out;
	}
	if ((ret = transfer_entry_hash(t, record_acceptance.collection, to, key, hash, e)) < 0)
		goto out;
	date_today(today);
	o.from = f->from;
	o.id = f->id;
	o.release_hash = f->release_hash;
	o.to = f->to;
	o.acceptance_hash.data = hash;
	o.acceptance_hash.len = HASH_BYTES;
	o.decision = a->decision;
	o.member_id = a->member_id;
	o.date = today;
	if ((ret = transfer_put_msg(w, record_outcome.collection, key, &o.base, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	transfer_note(note, arg, "transfer %s: %s by %s; outcome passed down to %s", f->id,
	       a->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? "accepted" : "refused", f->to_name,
	       from_name);
	ret = 1;
out:
	node_writer_abort(&w);
	transfer_free_rec(f);
	transfer_free_rec(a);
	return ret;
}

/* --- step 5: the old branch applies the outcome --- */

int transfer_close_one(struct node *n, const char *id, transfer_note_fn note, void *arg, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Release *r = NULL;
	Strata__Outcome *o = NULL;
	Strata__Member *m = NULL;
	uint8_t lca[KEY_BYTES], hash[HASH_BYTES];
	char key[TRANSFER_KEY_MAX + 1];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	bool marked = false;
	int ret;

	if (transfer_key(key, node_id(n), id) < 0)
		return 0;
	if ((ret = transfer_begin(n, FEED_UP, &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if (store_index_get(t, TRANSFER_CLOSED_INDEX, (const uint8_t *)id, strlen(id), &v, &vl, &ignore) == 0 ||
	    transfer_get_rec(t, &record_release, node_id(n), id, (void **)&r, NULL, &ignore) < 0 ||
	    r->to.len != KEY_BYTES || transfer_release_lca(n, t, node_id(n), r->to.data, r->to_name, lca) < 0 ||
	    transfer_get_rec(t, &record_outcome, lca, key, (void **)&o, NULL, &ignore) < 0) {
		ret = 0;
		goto out;
	}
	if ((ret = transfer_entry_hash(t, record_release.collection, node_id(n), id, hash, e)) < 0)
		goto out;
	if (o->release_hash.len != HASH_BYTES || memcmp(o->release_hash.data, hash, HASH_BYTES) != 0) {
		transfer_note(note, arg, "transfer %s: the outcome names another release; ignored", id);
		ret = 0;
		goto out;
	}
	if (o->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED &&
	    transfer_get_rec(t, &record_member, node_id(n), r->member->id, (void **)&m, NULL, &ignore) == 0 &&
	    m->status == STRATA__MEMBER_STATUS__STATUS_ACTIVE) {
		m->status = STRATA__MEMBER_STATUS__STATUS_TRANSFERRED;
		if ((ret = transfer_put_msg(w, record_member.collection, m->id, &m->base, e)) < 0)
			goto out;
		marked = true;
	}
	/* applied once: a member who later comes back stays active */
	if ((ret = store_index_put(t, TRANSFER_CLOSED_INDEX, (const uint8_t *)id, strlen(id), (const uint8_t *)"1", 1, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	if (o->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED)
		transfer_note(note, arg, "transfer %s: accepted by %s; member %s %s", id, r->to_name, r->member->id,
		       marked ? "marked transferred" : "was no longer active here");
	else if (o->acceptance_hash.len == HASH_BYTES && transfer_key_zero(o->acceptance_hash.data))
		transfer_note(note, arg, "transfer %s: refused by the common ancestor, not forwarded (%s is no unit it "
			      "holds, or is revoked); member %s stays here", id, r->to_name, r->member->id);
	else
		transfer_note(note, arg, "transfer %s: refused by %s; member %s stays here", id, r->to_name, r->member->id);
	ret = 1;
out:
	node_writer_abort(&w);
	transfer_free_rec(r);
	transfer_free_rec(o);
	transfer_free_rec(m);
	return ret;
}
