/* SPDX-License-Identifier: MIT */
/*
 * Peer agreements as a node holds them, for `strata id` and `strata status`:
 * on a host, each certificate it issued with role peer (what that peer
 * publishes here and what this node shares with it); on a peer, the
 * certificate its host issued it, and the host domain's root it pinned.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/core/admin.h"
#include "node/core/node_internal.h"

static json_t *feed_list(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int add_one(const struct node_agreement *a, void *arg)
{
	json_t *arr = arg, *o;
	char hex[KEY_HEX];

	key_hex(hex, a->key);
	o = json_pack("{s:s, s:s, s:s}", "as", a->this_is_peer ? "peer" : "host", "with", a->name, "key", hex);
	if (a->this_is_peer) {
		key_hex(hex, a->host_root);
		json_object_set_new(o, "host_root", json_string(hex));
	}
	json_object_set_new(o, "publishes", a->cert ? feed_list(a->cert->feeds, a->cert->n_feeds) : json_null());
	json_object_set_new(o, "receives", a->cert ? feed_list(a->cert->receive, a->cert->n_receive) : json_null());
	json_array_append_new(arr, o);
	return 0;
}

int node_agreements_add(const struct node *n, struct store_txn *t, json_t *j, struct err *e)
{
	json_t *agreements = json_array(), *roots = json_array();
	char hex[KEY_HEX];
	int ret;

	if ((ret = node_agreements_each(n, t, add_one, agreements, e)) < 0) {
		json_decref(agreements);
		json_decref(roots);
		return ret;
	}
	if (node_root(n)) {
		key_hex(hex, node_root(n));
		json_array_append_new(roots, json_pack("{s:s, s:s}", "key", hex, "domain", "own"));
	}
	if (node_peer_root(n)) {
		key_hex(hex, node_peer_root(n));
		json_array_append_new(roots, json_pack("{s:s, s:s}", "key", hex, "domain", "host"));
	}
	json_object_set_new(j, "pinned_roots", roots);
	json_object_set_new(j, "agreements", agreements);
	return 0;
}

struct each {
	const struct node *n;
	int (*fn)(const struct node_agreement *a, void *arg);
	void *arg;
	int ret;
};

static int on_cert(const struct store_record *r, void *arg)
{
	struct each *x = arg;
	Strata__Certificate *c = strata__certificate__unpack(NULL, r->value_len, r->value);
	struct node_agreement a = {.this_is_peer = false};

	if (!c)
		return 0;
	if (c->role == STRATA__ROLE__ROLE_PEER && c->subject.len == KEY_BYTES) {
		memcpy(a.key, c->subject.data, KEY_BYTES);
		snprintf(a.name, sizeof a.name, "%s", c->name);
		a.cert = c;
		x->ret = x->fn(&a, x->arg);
	}
	strata__certificate__free_unpacked(c, NULL);
	return x->ret;
}

int node_agreements_each(const struct node *n, struct store_txn *t,
			 int (*fn)(const struct node_agreement *a, void *arg), void *arg, struct err *e)
{
	struct each x = {.n = n, .fn = fn, .arg = arg};
	Strata__Certificate *mine = NULL;
	struct err ignore = {0};
	int ret;

	if (n->has_peer_root && n->config.has_parent) {
		struct node_agreement a = {.this_is_peer = true};

		memcpy(a.key, n->config.parent_key, KEY_BYTES);
		memcpy(a.host_root, n->peer_root, KEY_BYTES);
		if (node_key_name(n, t, a.key, a.name) < 0)
			snprintf(a.name, sizeof a.name, "%s", "(its certificate has not arrived yet)");
		if (node_peer_cert(n, t, &mine, &ignore) == 0)
			a.cert = mine;
		ret = fn(&a, arg);
		if (mine)
			strata__certificate__free_unpacked(mine, NULL);
		if (ret)
			return ret;
	}
	ret = store_state_each(t, CERT_COLLECTION, n->id, on_cert, &x, e);
	return ret < 0 ? ret : x.ret;
}
