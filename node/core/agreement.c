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

#include "node/core/node_internal.h"

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
	ret = store_state_each(t, "cert", n->id, on_cert, &x, e);
	return ret < 0 ? ret : x.ret;
}
