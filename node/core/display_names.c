/* SPDX-License-Identifier: MIT */
/*
 * Units' display names ("湖里区" beside xiamen/huli): where they live and
 * how a listing finds them.
 *
 * Decided (issue 14): the display name is part of the unit's certificate
 * (Certificate.display_name), set by the parent at `strata invite
 * --display-name` (a root's own at `strata init --root --display-name`).
 * So it is signed by the issuer like the org path it names, travels with
 * the certificate along the tree (the parent, the child itself, every level
 * above and every sibling that receives the trust feed see it), survives a
 * key rotation (the new certificate copies it: node/sync/rotate.c) and a
 * backup, and an audit checks it with the chain. A certificate without one
 * encodes nothing new: existing signed bytes do not change. Changing a
 * unit's display name is not offered (it would need a new certificate).
 */
#include <errno.h>
#include <string.h>

#include "node/core/admin.h"
#include "node/core/node_internal.h"
#include "node/records/records.h"

struct names {
	json_t *map;
};

static int on_cert(const struct store_record *r, void *arg)
{
	struct names *w = arg;
	Strata__Certificate *c;

	if (!r->value_len || !(c = strata__certificate__unpack(NULL, r->value_len, r->value)))
		return 0; /* an erased or unreadable record: strata verify reports it */
	/* the first certificate read for a path keeps it: a rotation's
	 * certificates name the same unit with the same name */
	if (c->display_name && display_name_valid(c->display_name) && org_path_valid(c->name) &&
	    !json_object_get(w->map, c->name))
		json_object_set_new(w->map, c->name, json_string(c->display_name));
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

int node_display_names(struct node *n, json_t **out, struct err *e)
{
	struct names w = {.map = json_object()};
	struct store_txn *t = NULL;
	int ret;

	*out = NULL;
	if (!w.map) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	if ((ret = store_txn_begin(n->store, false, &t, e)) < 0 ||
	    (ret = store_state_each(t, CERT_COLLECTION, NULL, on_cert, &w, e)) < 0) {
		store_txn_abort(&t);
		json_decref(w.map);
		return ret;
	}
	store_txn_abort(&t);
	*out = w.map;
	return 0;
}

const char *node_unit_display_name(const json_t *names, const char *org_path)
{
	return org_path ? json_string_value(json_object_get(names, org_path)) : NULL;
}
