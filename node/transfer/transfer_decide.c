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

/* The forward a person means by --from (org path or key hex) and --id.
 * The new branch need not hold the old branch's certificate (issue 16: it
 * holds its chain's and subtree's only): the forward, signed by its
 * ancestor, names the old branch by key and (from_name) by org path. */
struct find_fwd {
	struct node *n;
	struct store_txn *t;
	const char *from, *id;        /* as given */
	uint8_t old[KEY_BYTES];       /* the old branch of the forward found */
	uint8_t owner[KEY_BYTES];     /* its author */
	char to_name[NODE_NAME_SIZE]; /* where it goes */
	bool mine;                    /* addressed to this node by one of its chain */
	bool other;                   /* one addressed elsewhere (if not mine) */
};

/* Does the forward fw of old branch OLD match what the person gave? */
static bool from_matches(struct find_fwd *f, const uint8_t old[KEY_BYTES], const Strata__Forward *fw)
{
	char hex[KEY_HEX], name[NODE_NAME_SIZE];

	key_hex(hex, old);
	return strcmp(hex, f->from) == 0 || (fw->from_name && strcmp(fw->from_name, f->from) == 0) ||
	       (node_key_name(f->n, f->t, old, name) == 0 && strcmp(name, f->from) == 0);
}

static int find_forward(const struct store_record *r, void *arg)
{
	struct find_fwd *f = arg;
	Strata__Forward *fw;
	uint8_t old[KEY_BYTES];
	char id[TRANSFER_ID_MAX + 1];
	bool mine;

	if (!r->value || transfer_split_key(r->key, r->key_len, old, id) < 0 || strcmp(id, f->id) != 0 ||
	    !(fw = strata__forward__unpack(NULL, r->value_len, r->value)))
		return 0;
	if (from_matches(f, old, fw)) {
		mine = fw->to.len == KEY_BYTES && transfer_same(fw->to.data, node_id(f->n)) &&
		       transfer_on_own_chain(f->n, f->t, r->owner);
		if (mine || (!f->mine && !f->other)) {
			memcpy(f->old, old, KEY_BYTES);
			memcpy(f->owner, r->owner, KEY_BYTES);
			snprintf(f->to_name, sizeof f->to_name, "%s", fw->to_name);
		}
		f->mine |= mine;
		f->other |= !mine;
	}
	strata__forward__free_unpacked(fw, NULL);
	return f->mine ? 1 : 0;
}

/* The forward that counts: by this node's chain, addressed to this node,
 * not decided here yet; its old branch into from, its key into key. Any
 * other forward held here only explains the refusal. */
static int decide_forward(struct node *n, struct store_txn *t, const struct transfer_decide_opts *o,
			  uint8_t from[KEY_BYTES], char key[TRANSFER_KEY_MAX + 1], Strata__Forward **f, struct err *e)
{
	struct find_fwd ff = {.n = n, .t = t, .from = o->from, .id = o->id};
	Strata__Acceptance *old = NULL;
	struct err ignore = {0};
	int ret;

	if (!org_path_valid(o->from) && (strlen(o->from) != KEY_HEX - 1 || hex_decode(from, KEY_BYTES, o->from) < 0)) {
		err_set(e, "\"%s\" is neither an org path nor a node key", o->from);
		return -EINVAL;
	}
	if ((ret = store_state_each(t, record_forward.collection, NULL, find_forward, &ff, e)) < 0)
		return ret;
	if (!ff.mine && ff.other) {
		err_set(e, "transfer %s from %s is not addressed to this node (it goes to %s)", o->id, o->from,
			ff.to_name);
		return -EACCES;
	}
	if (!ff.mine) {
		err_set(e, "no transfer %s from %s has been forwarded to this node", o->id, o->from);
		return -ESRCH;
	}
	memcpy(from, ff.old, KEY_BYTES);
	if ((ret = transfer_key(key, from, o->id)) < 0 ||
	    (ret = transfer_get_rec(t, &record_forward, ff.owner, key, (void **)f, NULL, e)) < 0)
		return ret;
	if (transfer_get_rec(t, &record_acceptance, node_id(n), key, (void **)&old, NULL, &ignore) == 0) {
		err_set(e, "transfer %s from %s was already %s here on %s", o->id, o->from,
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
	char key[TRANSFER_KEY_MAX + 1], date[RECORD_DATE_SIZE];
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
	if ((ret = decide_forward(n, t, o, from, key, &f, e)) < 0)
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
