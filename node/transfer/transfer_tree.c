/* SPDX-License-Identifier: MIT */
/*
 * Positions in the tree (transfer_internal.h, transfer.h): a node's chain of
 * certificates up to the root, the lowest common ancestor of two branches,
 * and finding a branch by org path or key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/transfer/transfer_internal.h"

struct chain {
	uint8_t k[TRANSFER_CHAIN_MAX][KEY_BYTES];
	size_t n;
};

/* KEY and its issuers up to this domain's root, each a child (or the
 * root). -ENOENT when the chain breaks or ends elsewhere. */
static int chain_of(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], struct chain *c)
{
	const uint8_t *root = node_root(n);
	struct node_chain w;
	struct err ignore = {0};
	int ret = -ENOENT;

	c->n = 0;
	memcpy(c->k[c->n++], key, KEY_BYTES);
	node_chain_begin(&w, key);
	while (c->n < TRANSFER_CHAIN_MAX) {
		if (root && transfer_same(c->k[c->n - 1], root)) {
			ret = 0;
			break;
		}
		if (node_chain_next(t, &w, &ignore) < 0 ||
		    (w.cert->role != STRATA__ROLE__ROLE_CHILD && w.cert->role != STRATA__ROLE__ROLE_ROOT) ||
		    transfer_same(w.issuer, w.subject))
			break;
		memcpy(c->k[c->n++], w.issuer, KEY_BYTES);
	}
	node_chain_end(&w);
	return ret;
}

/* The lowest common ancestor of a and b (either may be it). -ENOENT if
 * either is not a node of this domain. */
int transfer_lca(struct node *n, struct store_txn *t, const uint8_t a[KEY_BYTES], const uint8_t b[KEY_BYTES],
		 uint8_t out[KEY_BYTES])
{
	struct chain ca, cb;

	if (chain_of(n, t, a, &ca) < 0 || chain_of(n, t, b, &cb) < 0)
		return -ENOENT;
	for (size_t i = 0; i < ca.n; i++)
		for (size_t j = 0; j < cb.n; j++)
			if (transfer_same(ca.k[i], cb.k[j])) {
				memcpy(out, ca.k[i], KEY_BYTES);
				return 0;
			}
	return -ENOENT;
}

/* Is org path ABOVE the path NAME, or a prefix of it followed by '/'? */
static bool path_at_or_above(const char *above, const char *name)
{
	size_t len = strlen(above);

	return len && strncmp(above, name, len) == 0 && (name[len] == '\0' || name[len] == '/');
}

/* Where the key of the new branch is not known here (issue 16: a node
 * holds the certificates of its chain and its subtree only), by org path:
 * the deepest node of FROM's chain, FROM included, whose path is to_name
 * or a prefix of it followed by '/'. Paths are certified, each node's
 * under its issuer's, so this is the node the key walk would find. */
static int lca_by_path(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES], const char *to_name,
		       uint8_t out[KEY_BYTES])
{
	struct chain c;
	char name[NODE_NAME_SIZE];

	if (!to_name || !org_path_valid(to_name) || chain_of(n, t, from, &c) < 0)
		return -ENOENT;
	for (size_t i = 0; i < c.n; i++)
		if (node_key_name(n, t, c.k[i], name) == 0 && path_at_or_above(name, to_name)) {
			memcpy(out, c.k[i], KEY_BYTES);
			return 0;
		}
	return -ENOENT;
}

int transfer_release_lca(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES],
			 const uint8_t to[KEY_BYTES], const char *to_name, uint8_t out[KEY_BYTES])
{
	if (!transfer_key_zero(to) && transfer_lca(n, t, from, to, out) == 0)
		return 0;
	return lca_by_path(n, t, from, to_name, out);
}

/* Is KEY one of the keys of the unit of U (U, or one U replaced by
 * rotation: a forward an ancestor signed before it rotated)? */
static bool unit_has_key(struct node *n, struct store_txn *t, const uint8_t u[KEY_BYTES], const uint8_t key[KEY_BYTES])
{
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(n, t, u, keys, NODE_KEYS_MAX);

	for (size_t i = 0; i < nkeys; i++)
		if (transfer_same(keys[i], key))
			return true;
	return false;
}

bool transfer_on_own_chain(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES])
{
	struct chain c;

	if (unit_has_key(n, t, node_id(n), key))
		return true;
	if (chain_of(n, t, node_id(n), &c) < 0)
		return false;
	for (size_t i = 0; i < c.n; i++)
		if (unit_has_key(n, t, c.k[i], key))
			return true;
	return false;
}

int transfer_destination(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES],
			 const char *to_name, uint8_t key[KEY_BYTES], char *why, size_t cap)
{
	struct node_revocation rev;
	struct err ignore = {0};
	int found = node_unit_named(t, to_name, key, &ignore);

	if (found < 0) {
		snprintf(why, cap, "%s", ignore.msg);
		return found;
	}
	if (found == 0 || !transfer_at_or_above(n, t, key)) {
		memset(key, 0, KEY_BYTES);
		snprintf(why, cap, err_gettext(N_("no unit named %s is enrolled below %s")), to_name, node_name(n));
		return 1;
	}
	if (found > 1) {
		memset(key, 0, KEY_BYTES);
		snprintf(why, cap, err_gettext(N_("%d units are named %s below %s")), found, to_name, node_name(n));
		return 1;
	}
	if (transfer_same(key, from)) {
		snprintf(why, cap, err_gettext(N_("%s is the old branch itself")), to_name);
		return 1;
	}
	if (node_revocation_get(t, key, &rev, &ignore) == 0) {
		snprintf(why, cap, err_gettext(N_("the key of %s is revoked")), to_name);
		return 1;
	}
	return 0;
}

bool transfer_at_or_above(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES])
{
	struct chain c;

	if (chain_of(n, t, key, &c) < 0)
		return transfer_same(key, node_id(n));
	for (size_t i = 0; i < c.n; i++)
		if (transfer_same(c.k[i], node_id(n)))
			return true;
	return false;
}

int transfer_resolve(struct node *n, struct store_txn *t, const char *who, uint8_t key[KEY_BYTES], char *name,
		     struct err *e)
{
	struct chain c;
	char buf[NODE_NAME_SIZE];
	int ret;

	if (strlen(who) == KEY_HEX - 1 && hex_decode(key, KEY_BYTES, who) == 0) {
		if (node_key_name(n, t, key, buf) < 0) {
			err_set(e, "no node with key %.16s… is known here", who);
			return -ESRCH;
		}
	} else if (!org_path_valid(who)) {
		err_set(e, "\"%s\" is neither an org path nor a node key", who);
		return -EINVAL;
	} else if (strcmp(who, node_name(n)) == 0) {
		memcpy(key, node_id(n), KEY_BYTES);
		snprintf(buf, sizeof buf, "%s", who);
	} else {
		if ((ret = node_unit_named(t, who, key, e)) < 0)
			return ret;
		if (ret == 0) {
			err_set(e, "no branch named %s is known here", who);
			return -ESRCH;
		}
		if (ret > 1) {
			err_set(e, "%d nodes are named %s; give the node's key instead", ret, who);
			return -EINVAL;
		}
		snprintf(buf, sizeof buf, "%s", who);
	}
	if (chain_of(n, t, key, &c) < 0) {
		err_set(e, "%s is not a branch of this trust domain", buf);
		return -ESRCH;
	}
	if (name)
		snprintf(name, NODE_NAME_SIZE, "%s", buf);
	return 0;
}
