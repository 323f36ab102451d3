/* SPDX-License-Identifier: MIT */
/*
 * Step 2 (transfer.h): the lowest common ancestor of the old and the new
 * branch forwards a release, on its own (transfer_process) or after a
 * person's approval (transfer_approve).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

/* transfer_internal.h: where release r goes, as the common ancestor
 * resolves it, or why it refuses it. */
int transfer_forward_to(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES], const Strata__Release *r,
			uint8_t to[KEY_BYTES], char why[TRANSFER_WHY_SIZE])
{
	struct node_revocation rev;
	struct err ignore = {0};

	if (transfer_key_zero(r->to.data))
		return transfer_destination(n, t, from, r->to_name, to, why, TRANSFER_WHY_SIZE);
	memcpy(to, r->to.data, KEY_BYTES);
	if (!transfer_at_or_above(n, t, to)) { /* a key the old branch held, no unit below here */
		snprintf(why, TRANSFER_WHY_SIZE, err_gettext(N_("no unit named %s is enrolled below %s")), r->to_name,
			 node_name(n));
		return 1;
	}
	if (node_revocation_get(t, to, &rev, &ignore) == 0 && !rev.has_successor) {
		snprintf(why, TRANSFER_WHY_SIZE, err_gettext(N_("the key of %s is revoked")), r->to_name);
		return 1;
	}
	return 0;
}

/* Puts the common ancestor's refusal of release r: an outcome, refused,
 * whose acceptance hash is 32 zero bytes (no acceptance: it was never
 * forwarded), to the key found for to_name or zero bytes. The old branch
 * applies it like any refusal: the member stays there. */
static int forward_refuse(struct node_writer *w, const uint8_t from[KEY_BYTES], const char *id, const char *key,
			  const uint8_t to[KEY_BYTES], const uint8_t hash[HASH_BYTES], struct err *e)
{
	static const uint8_t none[HASH_BYTES];
	Strata__Outcome o = STRATA__OUTCOME__INIT;
	char today[RECORD_DATE_SIZE];

	date_today(today);
	o.from.data = (uint8_t *)from;
	o.from.len = KEY_BYTES;
	o.id = (char *)id;
	o.release_hash.data = (uint8_t *)hash;
	o.release_hash.len = HASH_BYTES;
	o.to.data = (uint8_t *)to;
	o.to.len = KEY_BYTES;
	o.acceptance_hash.data = (uint8_t *)none;
	o.acceptance_hash.len = HASH_BYTES;
	o.decision = STRATA__TRANSFER_DECISION__TRANSFER_REFUSED;
	o.date = today;
	return transfer_put_msg(w, record_outcome.collection, key, &o.base, e);
}

/* Is there nothing (left) to do for release r of FROM here: forwarded or
 * refused already, or this node is not the common ancestor? 1 when so, e
 * filled with why (for strict). */
static int forward_done(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES], const char *from_name,
			const char *id, const char *key, const Strata__Release *r, struct err *e)
{
	uint8_t lca[KEY_BYTES];

	if (transfer_has_rec(t, record_forward.collection, node_id(n), key)) {
		err_set(e, "transfer %s from %s is already forwarded", id, from_name);
		return 1;
	}
	if (transfer_has_rec(t, record_outcome.collection, node_id(n), key)) {
		err_set(e, "transfer %s from %s was already refused here", id, from_name);
		return 1;
	}
	if (r->to.len != KEY_BYTES || transfer_same(r->to.data, from) ||
	    transfer_release_lca(n, t, from, r->to.data, r->to_name, lca) < 0 || !transfer_same(lca, node_id(n))) {
		err_set(e, "this node is not the lowest common ancestor of %s and %s; that one forwards transfer %s",
			from_name, r->to_name, id);
		return 1;
	}
	return 0;
}

/* Forwards release ID of FROM, checked in the writer's transaction, or
 * refuses it when its new branch is no unit of this subtree. Without
 * approved, and with [transfer] approve = manual, only refuses. 1 when
 * written, 0 when there is nothing to do (with strict, that is an error,
 * and so is a refusal, which strict does not write: the daemon does),
 * negative on error. */
int transfer_forward_one(struct node *n, const uint8_t from[KEY_BYTES], const char *id, bool approved, bool strict,
			 transfer_note_fn note, void *arg, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Release *r = NULL;
	Strata__Forward f = STRATA__FORWARD__INIT;
	uint8_t hash[HASH_BYTES], to[KEY_BYTES];
	char key[TRANSFER_KEY_MAX + 1], today[RECORD_DATE_SIZE], from_name[NODE_NAME_SIZE], why[TRANSFER_WHY_SIZE] = "";
	struct err done = {0};
	int ret;

	if (transfer_key(key, from, id) < 0) {
		err_set(e, "\"%s\" is not a transfer id", id);
		return -EINVAL;
	}
	if ((ret = transfer_begin(n, FEED_DOWN, &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	transfer_name_of(n, t, from, from_name);
	if ((ret = transfer_get_rec(t, &record_release, from, id, (void **)&r, NULL, e)) < 0) {
		if (ret == -ENOENT) {
			err_set(e, "this node holds no release %s from %s", id, from_name);
			ret = -ESRCH;
		}
		goto out;
	}
	if (forward_done(n, t, from, from_name, id, key, r, &done)) {
		ret = strict ? -EINVAL : 0;
		if (strict)
			*e = done;
		goto out;
	}
	if ((ret = transfer_forward_to(n, t, from, r, to, why)) < 0) {
		err_set(e, "%s", why);
		goto out;
	}
	if (ret == 1 && strict) {
		err_set(e, "cannot forward transfer %s from %s: %s (the daemon refuses it)", id, from_name, why);
		ret = -ESRCH;
		goto out;
	}
	if (ret == 0 && !approved && node_config(n)->transfer_manual)
		goto out; /* forwarded by `strata transfer approve` */
	if ((ret = transfer_entry_hash(t, record_release.collection, from, id, hash, e)) < 0)
		goto out;
	if (why[0]) {
		if ((ret = forward_refuse(w, from, id, key, to, hash, e)) < 0 ||
		    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
			goto out;
		transfer_note(note, arg, "transfer %s of member %s from %s to %s: refused here, not forwarded: %s", id,
			      r->member->id, from_name, r->to_name, why);
		ret = 1;
		goto out;
	}
	date_today(today);
	f.from.data = (uint8_t *)from;
	f.from.len = KEY_BYTES;
	f.from_name = org_path_valid(from_name) ? from_name : NULL;
	f.id = (char *)id;
	f.to_name = r->to_name;
	f.to.data = to;
	f.to.len = KEY_BYTES;
	f.release_hash.data = hash;
	f.release_hash.len = HASH_BYTES;
	f.mode = approved ? STRATA__FORWARD_MODE__FORWARD_APPROVED : STRATA__FORWARD_MODE__FORWARD_AUTO;
	f.member = r->member;
	f.date = today;
	f.released = r->date;
	f.reason = r->reason;
	if ((ret = transfer_put_msg(w, record_forward.collection, key, &f.base, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
	transfer_note(note, arg, "transfer %s: forwarded member %s from %s to %s%s", id, r->member->id, from_name, r->to_name,
	       approved ? " (approved)" : "");
	ret = 1;
out:
	node_writer_abort(&w);
	transfer_free_rec(r);
	return ret;
}

/* --- step 2 by hand --- */

int transfer_approve(struct node *n, const char *from, const char *id, struct err *e)
{
	struct store_txn *t = NULL;
	uint8_t key[KEY_BYTES];
	int ret;

	if (!transfer_id_valid(id)) {
		err_set(e, "\"%s\" is not a transfer id", id);
		return -EINVAL;
	}
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	ret = transfer_resolve(n, t, from, key, NULL, e);
	store_txn_abort(&t);
	if (ret < 0)
		return ret;
	ret = transfer_forward_one(n, key, id, true, true, NULL, NULL, e);
	return ret < 0 ? ret : 0;
}
