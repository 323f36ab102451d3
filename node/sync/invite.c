/* SPDX-License-Identifier: MIT */
/*
 * Invitations: the parent's half of enrollment without a pre-shared list.
 * A token carries a one-time random seed; both sides derive the same
 * throwaway CURVE key pair from it, the parent records only its public half
 * (index "invite") with the org path, role, feeds and expiry, and the ZAP
 * handler admits that key until it is used once or expires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/sync/sync_internal.h"
#include "protocol/trust_rules.h"

#define TOKEN_PREFIX "strata-join:"

static char *default_child_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_NOTICE, FEED_TRUST, FEED_PRIVATE};
static char *default_peer_feeds[] = {FEED_REPORT};
static char *default_peer_receive[] = {FEED_NOTICE};

#define FEEDS_KNOWN "up, report, down, notice, trust, private"

/* Why a peer agreement cannot name FEED in the given direction. */
static const char *peer_refusal(const char *feed, bool publish)
{
	if (strcmp(feed, FEED_TRUST) == 0)
		return "trust is not part of an agreement: certificates travel as far as they prove a key, and a peer's "
		       "own trust feed stays in its domain";
	if (strcmp(feed, FEED_PRIVATE) == 0)
		return "private holds residents' contact details, which never leave the unit's own tree";
	if (publish)
		return strcmp(feed, FEED_UP) == 0 ? "up would bring the peer's members' records into this domain"
		       : strcmp(feed, FEED_DOWN) == 0 || strcmp(feed, FEED_NOTICE) == 0
			       ? "a peer sends no notices, approvals or transfer steps into this domain"
			       : "this node would refuse it";
	return strcmp(feed, FEED_UP) == 0       ? "up carries the records of this domain's members and residents"
	       : strcmp(feed, FEED_DOWN) == 0   ? "down carries report approvals, returns and transfer steps about "
						  "members and units of this domain"
	       : strcmp(feed, FEED_REPORT) == 0 ? "report carries the figures of this domain's units"
					        : "this node would not send it";
}

/* Refuses an invitation that could not work: feeds the role cannot use, a
 * peer whose agreement would carry data about this domain's members,
 * residents or units, a peer whose org path would place it in the tree. */
static int check_invite(struct node *n, struct store_txn *t, const struct sync_invite_opts *o, struct err *e)
{
	char root_name[NODE_NAME_SIZE] = "";

	for (size_t i = 0; i < o->n_feeds + o->n_receive; i++) {
		const char *f = i < o->n_feeds ? o->feeds[i] : o->receive[i - o->n_feeds];

		if (!feed_name_known(f)) {
			err_set(e, "unknown feed \"%s\" (" FEEDS_KNOWN ")", f);
			return -EINVAL;
		}
	}
	if (o->role == STRATA__ROLE__ROLE_AUDITOR && (o->feeds || o->receive)) {
		err_set(e, "an auditor publishes nothing and receives every feed that reaches this node: "
			   "--publish and --receive do not apply");
		return -EINVAL;
	}
	if (o->role == STRATA__ROLE__ROLE_CHILD && o->receive) {
		err_set(e, "--receive is for peers: a child receives down, notice and trust from its parent");
		return -EINVAL;
	}
	if (o->role != STRATA__ROLE__ROLE_PEER)
		return 0;
	for (size_t i = 0; i < o->n_feeds; i++)
		if (!feed_peer_may_publish(o->feeds[i])) {
			err_set(e, "a peer publishes only report, not %s: %s", o->feeds[i], peer_refusal(o->feeds[i], true));
			return -EINVAL;
		}
	for (size_t i = 0; i < o->n_receive; i++)
		if (!feed_peer_may_receive(o->receive[i])) {
			err_set(e, "a peer receives only notice, not %s: %s", o->receive[i],
				peer_refusal(o->receive[i], false));
			return -EINVAL;
		}
	/* the root's path is a prefix of ours; before its certificate has
	 * arrived, its first segment stands for it */
	if (node_key_name(n, t, node_root(n), root_name) < 0) {
		snprintf(root_name, sizeof root_name, "%s", node_name(n));
		root_name[strcspn(root_name, "/")] = '\0';
	}
	if (strcmp(o->name, root_name) == 0 || org_path_under(o->name, root_name) ||
	    strcmp(o->name, node_name(n)) == 0 || org_path_under(o->name, node_name(n))) {
		err_set(e, "a peer's org path must not lie in this domain's tree (%s): \"%s\" would look like a branch; "
			   "use its own name, e.g. xmfy-hospital",
			root_name, o->name);
		return -EINVAL;
	}
	return 0;
}

/* The checks of sync_invite that need no store. 0, -EINVAL, -ERANGE. */
static int invite_valid(struct node *n, const struct sync_invite_opts *o, const char *endpoint, struct err *e)
{
	if (!endpoint[0]) {
		err_set(e, "this node has no listen endpoint: set [node] listen in %s/%s or pass --endpoint",
			node_dir(n), NODE_CONF_FILE);
		return -EINVAL;
	}
	if (!node_root(n)) {
		err_set(e, "this node has joined no trust domain yet, so it cannot invite");
		return -EINVAL;
	}
	if (o->ttl_ms < SYNC_INVITE_TTL_MIN_MS || o->ttl_ms > SYNC_INVITE_TTL_MAX_MS) {
		err_set(e, "a join token is valid for 1 second to 30 days");
		return -ERANGE;
	}
	if (!org_path_valid(o->name)) {
		err_set(e, "org path \"%s\" is not valid", o->name);
		return -EINVAL;
	}
	if (o->display_name && !display_name_valid(o->display_name)) {
		err_set(e, "display name \"%s\" is not valid: 1 to %d bytes of printable text, no space at either end",
			o->display_name, DISPLAY_NAME_MAX);
		return -EINVAL;
	}
	if (o->role == STRATA__ROLE__ROLE_CHILD && !org_path_under(o->name, node_name(n))) {
		err_set(e, "a child of %s must have an org path below it, like %s/NAME", node_name(n), node_name(n));
		return -EINVAL;
	}
	return 0;
}

/* The feeds the invitation grants: o's, else the role's defaults. */
static void invite_grants(Strata__Invite *inv, const struct sync_invite_opts *o)
{
	if (o->feeds) {
		inv->feeds = o->feeds;
		inv->n_feeds = o->n_feeds;
	} else if (o->role == STRATA__ROLE__ROLE_CHILD) {
		inv->feeds = default_child_feeds;
		inv->n_feeds = sizeof default_child_feeds / sizeof default_child_feeds[0];
	} else if (o->role == STRATA__ROLE__ROLE_PEER) {
		inv->feeds = default_peer_feeds;
		inv->n_feeds = 1;
	}
	if (o->receive) {
		inv->receive = o->receive;
		inv->n_receive = o->n_receive;
	} else if (o->role == STRATA__ROLE__ROLE_PEER) {
		inv->receive = default_peer_receive;
		inv->n_receive = 1;
	}
}

int sync_invite(struct node *n, const struct sync_invite_opts *o, char **token, struct err *e)
{
	Strata__Invite inv = STRATA__INVITE__INIT;
	Strata__JoinToken tok = STRATA__JOIN_TOKEN__INIT;
	uint8_t *secret = sodium_malloc(SEED_BYTES), *curve_sk = sodium_malloc(KEY_BYTES);
	uint8_t curve_pk[KEY_BYTES], *rec = NULL, *raw = NULL;
	const char *endpoint = o->endpoint && *o->endpoint ? o->endpoint : node_config(n)->listen;
	struct store_txn *t = NULL;
	size_t len, raw_len, b64_len;
	char *out = NULL;
	int ret = -ENOMEM;

	if (!secret || !curve_sk) {
		err_set(e, "out of memory");
		goto out;
	}
	if ((ret = invite_valid(n, o, endpoint, e)) < 0)
		goto out;
	if ((ret = store_txn_begin(node_store(n), true, &t, e)) < 0 || (ret = check_invite(n, t, o, e)) < 0)
		goto out;
	randombytes_buf(secret, SEED_BYTES);
	crypto_box_seed_keypair(curve_pk, curve_sk, secret);
	inv.name = (char *)o->name;
	inv.display_name = (char *)o->display_name;
	inv.role = o->role;
	inv.expires_ms = node_now_ms() + o->ttl_ms;
	invite_grants(&inv, o);
	len = strata__invite__get_packed_size(&inv);
	if (!(rec = malloc(len))) {
		ret = -ENOMEM;
		goto out;
	}
	strata__invite__pack(&inv, rec);
	if ((ret = store_index_put(t, "invite", curve_pk, KEY_BYTES, rec, len, e)) < 0 ||
	    (ret = store_txn_commit(&t, e)) < 0)
		goto out;
	tok.endpoint = (char *)endpoint;
	tok.parent.data = (uint8_t *)node_id(n);
	tok.parent.len = KEY_BYTES;
	tok.root.data = (uint8_t *)node_root(n);
	tok.root.len = KEY_BYTES;
	tok.secret.data = secret;
	tok.secret.len = SEED_BYTES;
	tok.expires_ms = inv.expires_ms;
	tok.name = (char *)o->name;
	tok.role = o->role;
	raw_len = strata__join_token__get_packed_size(&tok);
	b64_len = sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	ret = -ENOMEM;
	if (!(raw = sodium_malloc(raw_len)) || !(out = malloc(strlen(TOKEN_PREFIX) + b64_len)))
		goto out;
	strata__join_token__pack(&tok, raw);
	strcpy(out, TOKEN_PREFIX);
	sodium_bin2base64(out + strlen(TOKEN_PREFIX), b64_len, raw, raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	*token = out;
	out = NULL;
	ret = 0;
out:
	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	store_txn_abort(&t);
	sodium_free(secret);
	sodium_free(curve_sk);
	sodium_free(raw);
	free(rec);
	free(out);
	return ret;
}

int sync_token_parse(const char *text, Strata__JoinToken **out, struct err *e)
{
	size_t plen = strlen(TOKEN_PREFIX), cap, bin_len = 0;
	uint8_t *bin = NULL;
	int ret = -EINVAL;

	*out = NULL;
	if (strncmp(text, TOKEN_PREFIX, plen) != 0) {
		err_set(e, "not a join token (it should start with %s)", TOKEN_PREFIX);
		return -EINVAL;
	}
	cap = strlen(text) - plen;
	if (!(bin = sodium_malloc(cap ? cap : 1))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	if (sodium_base642bin(bin, cap, text + plen, cap, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    !(*out = strata__join_token__unpack(NULL, bin_len, bin))) {
		err_set(e, "the join token is damaged (copy it again, whole)");
		goto out;
	}
	if ((*out)->parent.len != KEY_BYTES || (*out)->root.len != KEY_BYTES || (*out)->secret.len != SEED_BYTES) {
		err_set(e, "the join token is damaged (wrong key lengths)");
		goto out;
	}
	ret = 0;
out:
	if (ret < 0 && *out) {
		sodium_memzero((*out)->secret.data, (*out)->secret.len);
		strata__join_token__free_unpacked(*out, NULL);
		*out = NULL;
	}
	sodium_free(bin);
	return ret;
}
