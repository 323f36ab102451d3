/* SPDX-License-Identifier: MIT */
/*
 * Step 3 (transfer.h): the new branch accepts a transfer forwarded to it,
 * writing the member into its registry in the same change set, or refuses it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

struct find_fwd {
	const char *key;
	uint8_t owner[KEY_BYTES];
	char to_name[NODE_NAME_SIZE];
	bool found;
};

static int find_forward(const struct store_record *r, void *arg)
{
	struct find_fwd *f = arg;
	Strata__Forward *fw;

	if (!r->value || r->key_len != strlen(f->key) || memcmp(r->key, f->key, r->key_len) != 0)
		return 0;
	if (!(fw = strata__forward__unpack(NULL, r->value_len, r->value)))
		return 0;
	memcpy(f->owner, r->owner, KEY_BYTES);
	snprintf(f->to_name, sizeof f->to_name, "%s", fw->to_name);
	f->found = true;
	strata__forward__free_unpacked(fw, NULL);
	return 1;
}

/* The forward of KEY that counts: the common ancestor's, addressed to this
 * node and not decided here yet. Any other forward held here only explains
 * the refusal. */
static int decide_forward(struct node *n, struct store_txn *t, const struct transfer_decide_opts *o,
			  const uint8_t from[KEY_BYTES], const char *from_name, const char *key, Strata__Forward **f,
			  struct err *e)
{
	Strata__Acceptance *old = NULL;
	uint8_t lca[KEY_BYTES];
	struct err ignore = {0};
	int ret = 0;

	if (transfer_lca(n, t, from, node_id(n), lca) < 0 ||
	    (ret = transfer_get_rec(t, &record_forward, lca, key, (void **)f, NULL, e)) == -ENOENT) {
		struct find_fwd ff = {.key = key};

		if ((ret = store_state_each(t, record_forward.collection, NULL, find_forward, &ff, e)) < 0)
			return ret;
		if (ff.found && strcmp(ff.to_name, node_name(n)) != 0) {
			err_set(e, "transfer %s from %s is not addressed to this node (it goes to %s)", o->id, from_name,
				ff.to_name);
			return -EACCES;
		}
		err_set(e, "no transfer %s from %s has been forwarded to this node", o->id, from_name);
		return -ESRCH;
	}
	if (ret < 0)
		return ret;
	if (!transfer_same((*f)->to.data, node_id(n))) {
		err_set(e, "transfer %s from %s is not addressed to this node (it goes to %s)", o->id, from_name,
			(*f)->to_name);
		return -EACCES;
	}
	if (transfer_get_rec(t, &record_acceptance, node_id(n), key, (void **)&old, NULL, &ignore) == 0) {
		err_set(e, "transfer %s from %s was already %s here on %s", o->id, from_name,
			old->decision == STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED ? "accepted" : "refused",
			old->date);
		transfer_free_rec(old);
		return -EINVAL;
	}
	return 0;
}

/* Puts the acceptance a and, active under its id here, the member the
 * forward f carries: one change set. */
static int decide_accept(struct node *n, struct node_writer *w, const struct transfer_decide_opts *o,
			 const Strata__Forward *f, const char *key, Strata__Acceptance *a, char *member_id,
			 struct err *e)
{
	Strata__Member *existing = NULL, m;
	const char *new_id = o->member_id ? o->member_id : f->member->id;
	struct err ignore = {0};
	int ret;

	m = *f->member;
	m.base.n_unknown_fields = 0;
	m.base.unknown_fields = NULL;
	m.id = (char *)new_id;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	if ((ret = member_check_input(&m, e)) < 0) {
		err_prefix(e, "cannot accept transfer %s", o->id);
		return ret;
	}
	if (transfer_get_rec(node_writer_txn(w), &record_member, node_id(n), new_id, (void **)&existing, NULL,
			     &ignore) == 0 &&
	    existing->status != STRATA__MEMBER_STATUS__STATUS_TRANSFERRED) {
		err_set(e, "member id %s is taken in this branch's registry (%s, %s); accept with --member-id NEW",
			new_id, existing->name, member_status_word(existing->status));
		transfer_free_rec(existing);
		return -EINVAL;
	}
	transfer_free_rec(existing);
	a->decision = STRATA__TRANSFER_DECISION__TRANSFER_ACCEPTED;
	a->member_id = (char *)new_id;
	if ((ret = transfer_put_msg(w, record_acceptance.collection, key, &a->base, e)) < 0 ||
	    (ret = transfer_put_msg(w, record_member.collection, new_id, &m.base, e)) < 0)
		return ret;
	if (member_id)
		snprintf(member_id, MEMBER_ID_MAX + 1, "%s", new_id);
	return 0;
}

int transfer_decide(struct node *n, const struct transfer_decide_opts *o, char *member_id, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Forward *f = NULL;
	Strata__Acceptance a = STRATA__ACCEPTANCE__INIT;
	uint8_t from[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1], from_name[NODE_NAME_SIZE], date[RECORD_DATE_SIZE];
	int ret;

	if ((ret = transfer_check_date(o->date, date, e)) < 0)
		return ret;
	if (!transfer_id_valid(o->id)) {
		err_set(e, "\"%s\" is not a transfer id", o->id);
		return -EINVAL;
	}
	if ((ret = transfer_check_reason(o->reason, e)) < 0 || (ret = transfer_begin(n, FEED_UP, &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if ((ret = transfer_resolve(n, t, o->from, from, from_name, e)) < 0 ||
	    (ret = transfer_key(key, from, o->id)) < 0 ||
	    (ret = decide_forward(n, t, o, from, from_name, key, &f, e)) < 0)
		goto out;
	a.from.data = from;
	a.from.len = KEY_BYTES;
	a.id = (char *)o->id;
	a.release_hash = f->release_hash;
	a.date = date;
	a.reason = (char *)o->reason;
	if (!o->accept) {
		a.decision = STRATA__TRANSFER_DECISION__TRANSFER_REFUSED;
		ret = transfer_put_msg(w, record_acceptance.collection, key, &a.base, e);
	} else {
		ret = decide_accept(n, w, o, f, key, &a, member_id, e);
	}
	if (ret == 0)
		ret = node_writer_commit(&w, NULL, NULL, e);
out:
	node_writer_abort(&w);
	transfer_free_rec(f);
	return ret;
}
