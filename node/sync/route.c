/* SPDX-License-Identifier: MIT */
/*
 * Routing: which feeds go on which link (DESIGN.md, "Feeds and where they
 * flow"; docs/PROTOCOL.md, "Where trust flows"). `trust` is scoped to the
 * tree (issue 16): a node's trust feed goes up to its ancestors and down
 * to its subtree, so a node holds the trust feeds of its chain (the root
 * down to itself), its own, and its subtree's, and nothing else; a peer
 * child gets its host's chain, an auditor child everything its parent
 * holds. `up` and `report` go to the parent when
 * their author is this node or below it in the tree (`up` at most up_depth
 * levels above its author); `down` and `notice` go to children when their
 * author is this node or above it. A peer gets only the feeds its
 * certificate shares, and only `notice` can be shared: `down` carries
 * approvals, returns and transfer steps and never reaches a peer. A peer is
 * never "below" anyone, whatever its org path says. Receiving is the
 * mirror image: a link may only bring what its sender may send us.
 */
#include <string.h>

#include "node/sync/sync_internal.h"
#include "protocol/trust_rules.h"

static size_t depth(const char *name)
{
	size_t n = 1;

	for (; *name; name++)
		n += *name == '/';
	return n;
}

/* Is KEY's org path NAME, or below it in the tree? A peer or an auditor is
 * in nobody's subtree, whatever path it was given. */
static bool at_or_below(struct daemon *d, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *name,
			char *key_name)
{
	if (!node_key_in_tree(d->n, t, key, key_name))
		return false;
	return strcmp(key_name, name) == 0 || org_path_under(key_name, name);
}

static bool downward(const char *feed)
{
	return strcmp(feed, FEED_DOWN) == 0 || strcmp(feed, FEED_NOTICE) == 0;
}

/* Is KEY this node (or an older key of its unit, before a rotation) or one
 * of its ancestors (the pinned root included, before its own certificate
 * is held)? */
static bool self_or_above(struct daemon *d, struct store_txn *t, const uint8_t key[KEY_BYTES])
{
	char key_name[NODE_NAME_SIZE];

	if (memcmp(key, node_id(d->n), KEY_BYTES) == 0 || memcmp(key, node_root(d->n), KEY_BYTES) == 0)
		return true;
	if (!node_key_in_tree(d->n, t, key, key_name))
		return false;
	return strcmp(key_name, node_name(d->n)) == 0 || org_path_under(node_name(d->n), key_name);
}

static bool self_auditor(struct daemon *d, struct store_txn *t);

/* On a node that joined another domain as a peer: is KEY on its host's
 * chain (the host HOST or one of its ancestors, that domain's root
 * included)? Those are the trust feeds the host sends it. */
static bool host_chain(struct daemon *d, struct store_txn *t, const char *host, const uint8_t key[KEY_BYTES])
{
	char key_name[NODE_NAME_SIZE];

	if (node_peer_root(d->n) && memcmp(key, node_peer_root(d->n), KEY_BYTES) == 0)
		return true;
	if (!node_key_in_tree(d->n, t, key, key_name))
		return false;
	return strcmp(key_name, host) == 0 || org_path_under(host, key_name);
}

/* The trust feed of AUTHOR on link L (docs/PROTOCOL.md, "Where trust
 * flows"): up to the parent from this node and its subtree; down to a
 * child or a peer from this node and its ancestors; everything to an
 * auditor. A node that is a peer keeps its own trust feed home. */
static bool trust_send(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES])
{
	char author_name[NODE_NAME_SIZE];

	if (sync_link_kind(l) == LINK_PARENT)
		return memcmp(author, node_id(d->n), KEY_BYTES) == 0 ||
		       at_or_below(d, t, author, node_name(d->n), author_name);
	if (sync_link_role(l) == STRATA__ROLE__ROLE_AUDITOR)
		return true;
	return self_or_above(d, t, author);
}

/* The mirror of trust_send: what a link may bring. From the parent: our
 * ancestors' (from a host, the host's chain; to an auditor, everything);
 * from a child: its subtree's (and our chain's: see below); from a peer: nothing of ours to take (its
 * trust feed stays in its own domain unless its agreement shares it). */
static bool trust_accept(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES])
{
	char author_name[NODE_NAME_SIZE];

	if (memcmp(author, node_id(d->n), KEY_BYTES) == 0)
		return false;
	if (sync_link_kind(l) == LINK_PARENT && sync_link_role(l) == STRATA__ROLE__ROLE_PEER)
		return host_chain(d, t, sync_link_name(l), author);
	if (sync_link_kind(l) == LINK_PARENT)
		return self_auditor(d, t) || self_or_above(d, t, author);
	if (sync_link_role(l) == STRATA__ROLE__ROLE_AUDITOR)
		return false;
	if (sync_link_role(l) == STRATA__ROLE__ROLE_PEER)
		return memcmp(author, sync_link_key(l), KEY_BYTES) == 0 && sync_link_cert(l) &&
		       cert_allows(sync_link_cert(l), FEED_TRUST);
	/* from a child: its subtree's; and our own chain's, which a child
	 * running a version before issue 16 still sends up: duplicates of
	 * what we hold (or our own chain's newest), never a refusal */
	return at_or_below(d, t, author, sync_link_name(l), author_name) || self_or_above(d, t, author);
}

/* On a node that joined another domain as a peer: may it publish FEED to
 * that domain? Its certificate from the other side says so; its own trust
 * feed stays home. */
static bool agreement_allows(struct daemon *d, struct store_txn *t, const char *feed)
{
	Strata__Certificate *mine = NULL;
	struct err ignore = {0};
	bool ok;

	if (node_peer_cert(d->n, t, &mine, &ignore) < 0)
		return false;
	ok = cert_allows(mine, feed);
	strata__certificate__free_unpacked(mine, NULL);
	return ok;
}

/* Did this node join its parent as an auditor? Known once its own
 * certificate (in its parent's trust feed) has arrived. */
static bool self_auditor(struct daemon *d, struct store_txn *t)
{
	Strata__Certificate *c = NULL;
	struct err ignore = {0};

	if (d->self_auditor == 0 && node_cert_get(t, node_id(d->n), NULL, &c, &ignore) == 0) {
		d->self_auditor = c->role == STRATA__ROLE__ROLE_AUDITOR ? 1 : -1;
		strata__certificate__free_unpacked(c, NULL);
	}
	return d->self_auditor > 0;
}

/* The private feed (residents' contacts) goes only up the tree, from its
 * author or a node below this one, while the parent stands at most
 * [privacy] contact_levels (and up_depth, if set) above its author; never
 * to a child, a peer or an auditor. */
static bool private_reaches(struct daemon *d, struct store_txn *t, const struct link *l,
			    const uint8_t author[KEY_BYTES])
{
	char author_name[NODE_NAME_SIZE];
	size_t levels;

	if (sync_link_kind(l) != LINK_PARENT || sync_link_role(l) == STRATA__ROLE__ROLE_PEER || self_auditor(d, t) ||
	    !at_or_below(d, t, author, node_name(d->n), author_name))
		return false;
	levels = depth(author_name) + 1 - depth(node_name(d->n));
	/* never further than the author's up feed, which carries the requests */
	return levels <= node_config(d->n)->contact_levels &&
	       (!node_config(d->n)->up_depth || levels <= node_config(d->n)->up_depth);
}

bool sync_route_send(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES],
		     const char *feed)
{
	char author_name[NODE_NAME_SIZE];

	if (strcmp(feed, FEED_PRIVATE) == 0)
		return private_reaches(d, t, l, author);

	if (sync_link_kind(l) == LINK_PARENT && sync_link_role(l) == STRATA__ROLE__ROLE_PEER)
		return memcmp(author, node_id(d->n), KEY_BYTES) == 0 && agreement_allows(d, t, feed);
	if (strcmp(feed, FEED_TRUST) == 0)
		return trust_send(d, t, l, author);
	if (sync_link_kind(l) == LINK_PARENT && self_auditor(d, t))
		return false; /* an auditor writes no data feeds */
	if (sync_link_kind(l) == LINK_PARENT) {
		bool up = strcmp(feed, FEED_UP) == 0;

		if (!up && strcmp(feed, FEED_REPORT) != 0)
			return false;
		if (!at_or_below(d, t, author, node_name(d->n), author_name))
			return false;
		/* how many levels above the author the parent stands */
		if (up && node_config(d->n)->up_depth &&
		    depth(author_name) + 1 - depth(node_name(d->n)) > node_config(d->n)->up_depth)
			return false;
		return true;
	}
	/* child links */
	if (sync_link_role(l) == STRATA__ROLE__ROLE_PEER) /* cert_shares names notices at most */
		return sync_link_cert(l) && cert_shares(sync_link_cert(l), feed) && strcmp(feed, FEED_NOTICE) == 0 &&
		       self_or_above(d, t, author);
	if (sync_link_role(l) == STRATA__ROLE__ROLE_AUDITOR) /* everything that reaches this level */
		return true;
	return downward(feed) && self_or_above(d, t, author);
}

bool sync_route_accept(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES],
		       const char *feed)
{
	char author_name[NODE_NAME_SIZE];

	if (strcmp(feed, FEED_TRUST) == 0)
		return trust_accept(d, t, l, author);
	/* node_authorize checks the agreement */
	if (sync_link_kind(l) == LINK_PARENT && sync_link_role(l) == STRATA__ROLE__ROLE_PEER)
		return strcmp(feed, FEED_NOTICE) == 0 && memcmp(author, node_id(d->n), KEY_BYTES) != 0;
	if (sync_link_kind(l) == LINK_PARENT && self_auditor(d, t)) /* everything that reaches its parent's level */
		return memcmp(author, node_id(d->n), KEY_BYTES) != 0;
	if (sync_link_kind(l) == LINK_PARENT) /* the parent brings down feeds of our ancestors */
		return downward(feed) && memcmp(author, node_id(d->n), KEY_BYTES) != 0 &&
		       self_or_above(d, t, author);
	if (sync_link_role(l) == STRATA__ROLE__ROLE_AUDITOR)
		return false; /* auditors write no data feeds */
	if (sync_link_role(l) == STRATA__ROLE__ROLE_PEER)
		return memcmp(author, sync_link_key(l), KEY_BYTES) == 0 && sync_link_cert(l) &&
		       cert_allows(sync_link_cert(l), feed);
	return (strcmp(feed, FEED_UP) == 0 || strcmp(feed, FEED_REPORT) == 0 || strcmp(feed, FEED_PRIVATE) == 0) &&
	       at_or_below(d, t, author, sync_link_name(l), author_name);
}

bool sync_route_toward(struct daemon *d, struct store_txn *t, const struct link *l, const uint8_t author[KEY_BYTES])
{
	char author_name[NODE_NAME_SIZE];

	if (memcmp(author, sync_link_key(l), KEY_BYTES) == 0)
		return true;
	return sync_link_kind(l) == LINK_CHILD && sync_link_role(l) == STRATA__ROLE__ROLE_CHILD &&
	       at_or_below(d, t, author, sync_link_name(l), author_name);
}
