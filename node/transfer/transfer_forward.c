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

/* Forwards release ID of FROM, checked in the writer's transaction. 1 when
 * written, 0 when there is nothing to do (already forwarded; with
 * strict, that is an error), negative on error. */
int transfer_forward_one(struct node *n, const uint8_t from[KEY_BYTES], const char *id, bool approved, bool strict,
			 transfer_note_fn note, void *arg, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_txn *t;
	Strata__Release *r = NULL;
	Strata__Forward f = STRATA__FORWARD__INIT;
	uint8_t lca[KEY_BYTES], hash[HASH_BYTES];
	char key[TRANSFER_KEY_MAX + 1], today[RECORD_DATE_SIZE], from_name[NODE_NAME_SIZE];
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
	if (transfer_has_rec(t, record_forward.collection, node_id(n), key)) {
		ret = 0;
		if (strict) {
			err_set(e, "transfer %s from %s is already forwarded", id, from_name);
			ret = -EINVAL;
		}
		goto out;
	}
	if (r->to.len != KEY_BYTES || transfer_same(r->to.data, from) || transfer_lca(n, t, from, r->to.data, lca) < 0 ||
	    !transfer_same(lca, node_id(n))) {
		ret = 0;
		if (strict) {
			err_set(e, "this node is not the lowest common ancestor of %s and %s; that one forwards transfer %s",
				from_name, r->to_name, id);
			ret = -EINVAL;
		}
		goto out;
	}
	if ((ret = transfer_entry_hash(t, record_release.collection, from, id, hash, e)) < 0)
		goto out;
	date_today(today);
	f.from.data = (uint8_t *)from;
	f.from.len = KEY_BYTES;
	f.id = (char *)id;
	f.to_name = r->to_name;
	f.to = r->to;
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
