/* SPDX-License-Identifier: MIT */
/*
 * Who may write what: every entry's author is checked against a chain of
 * certificates (cert_index.c) that ends at the pinned root: each link
 * certified by the one above, below it in the org tree, and the last one
 * allowing the entry's feed. The one walk up a chain is here too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"

/* What a peer domain may write here: its certificates, and the feeds our
 * agreement (our certificate from it) says it shares with us. */
static int peer_allows(const struct node *n, struct store_txn *t, const char *feed, const char *who, struct err *e)
{
	Strata__Certificate *mine = NULL;
	struct err ignore = {0};
	bool ok;

	if (strcmp(feed, FEED_TRUST) == 0)
		return 0;
	if (node_peer_cert(n, t, &mine, &ignore) < 0) {
		err_set(e, "author %s… is in the peer domain, whose agreement has not arrived yet", who);
		return -EACCES;
	}
	ok = cert_shares(mine, feed);
	strata__certificate__free_unpacked(mine, NULL);
	if (!ok) {
		err_set(e, "the peer agreement does not share feed %s with this node", feed);
		return -EACCES;
	}
	return 0;
}

void node_chain_begin(struct node_chain *w, const uint8_t key[KEY_BYTES])
{
	memset(w, 0, sizeof *w);
	memcpy(w->subject, key, KEY_BYTES);
	w->depth = -1;
}

int node_chain_next(struct store_txn *t, struct node_chain *w, struct err *e)
{
	if (w->cert) {
		strata__certificate__free_unpacked(w->cert, NULL);
		w->cert = NULL;
		if (memcmp(w->issuer, w->subject, KEY_BYTES) == 0)
			return -ELOOP; /* self-certified: the chain goes no higher */
		memcpy(w->subject, w->issuer, KEY_BYTES);
	} else if (w->depth >= 0) {
		return -ENOENT; /* broken already */
	}
	if (w->depth + 1 >= NODE_CHAIN_MAX)
		return -ELOOP;
	w->depth++;
	return node_cert_get(t, w->subject, w->issuer, &w->cert, e);
}

void node_chain_end(struct node_chain *w)
{
	if (w->cert)
		strata__certificate__free_unpacked(w->cert, NULL);
	w->cert = NULL;
}

/* What node_authorize remembers of the certificate one link below. */
struct chain_child {
	char name[NODE_NAME_SIZE];
	Strata__Role role;
	uint64_t issued_ms;
};

/* Does the link W of the chain of author WHO (hex) hold? At depth 0 its
 * certificate must allow FEED; above, it certifies CHILD, the key below. */
static int link_allows(struct store_txn *t, const struct node_chain *w, const char *who, const char *feed,
		       const struct chain_child *child, struct err *e)
{
	const Strata__Certificate *c = w->cert;
	int ret;

	if (w->depth == 0) {
		if (cert_allows(c, feed))
			return 0;
		err_set(e, "the certificate of %s (%s…) does not allow feed %s", c->name, who, feed);
		return -EACCES;
	}
	if (c->role != STRATA__ROLE__ROLE_CHILD && c->role != STRATA__ROLE__ROLE_ROOT) {
		err_set(e, "%s (%s) may not certify others", c->name, cert_role_word(c->role));
		return -EACCES;
	}
	/* what a revoked key certified before its revocation stays valid */
	if ((ret = node_issued_before_revocation(t, w->subject, c->name, child->name, child->issued_ms, e)) < 0)
		return ret;
	/* children live below their issuer; peers and auditors are named freely */
	if (c->role == STRATA__ROLE__ROLE_CHILD && child->role == STRATA__ROLE__ROLE_CHILD &&
	    !org_path_under(child->name, c->name)) {
		err_set(e, "%s certified %s, which is not below it", c->name, child->name);
		return -EACCES;
	}
	return 0;
}

int node_authorize(const struct node *n, struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed,
		   uint64_t time_ms, struct err *e)
{
	struct node_chain w;
	struct chain_child child = {.role = STRATA__ROLE__ROLE_CHILD};
	char who[17], at[17];
	int ret = 0;

	if (time_ms && (ret = node_check_revoked(n, t, author, time_ms, e)) < 0)
		return ret;
	if (memcmp(author, n->id, KEY_BYTES) == 0 || (n->has_root && memcmp(author, n->root, KEY_BYTES) == 0))
		return 0;
	hex_encode(who, author, 8);
	if (n->has_peer_root && memcmp(author, n->peer_root, KEY_BYTES) == 0)
		return peer_allows(n, t, feed, who, e);
	if (!n->has_root && !n->has_peer_root) {
		err_set(e, "author %s… is not this node, and this node has joined no trust domain yet", who);
		return -EACCES;
	}
	node_chain_begin(&w, author);
	while ((ret = node_chain_next(t, &w, e)) == 0) {
		if ((ret = link_allows(t, &w, who, feed, &child, e)) < 0)
			goto out;
		snprintf(child.name, sizeof child.name, "%s", w.cert->name);
		child.role = w.cert->role;
		child.issued_ms = w.cert->issued_ms;
		if (n->has_root && memcmp(w.issuer, n->root, KEY_BYTES) == 0)
			goto out;
		if (n->has_peer_root && memcmp(w.issuer, n->peer_root, KEY_BYTES) == 0) {
			ret = peer_allows(n, t, feed, who, e);
			goto out;
		}
	}
	if (ret == -ENOENT) {
		hex_encode(at, w.subject, 8);
		if (w.depth)
			err_set(e, "the certificate chain of author %s… breaks at %s…: no certificate", who, at);
		else
			err_set(e, "author %s… holds no certificate in this trust domain", who);
		ret = -EACCES;
	} else if (ret == -ELOOP) {
		err_set(e, "the certificate chain of author %s… does not reach this domain's root", who);
		ret = -EACCES;
	}
out:
	node_chain_end(&w);
	return ret;
}
