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

#include "node/records/records.h"
#include "node/sync/sync_internal.h"

#define TOKEN_PREFIX "strata-join:"

static char *default_child_feeds[] = {"up", "report", "down", "trust", FEED_PRIVATE};
static char *default_peer_feeds[] = {"report"};
static char *default_peer_receive[] = {"down"};

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
	ret = -EINVAL;
	if (!endpoint[0]) {
		err_set(e, "this node has no listen endpoint: set [node] listen in %s/%s or pass --endpoint",
			node_dir(n), NODE_CONF_FILE);
		goto out;
	}
	if (!node_root(n)) {
		err_set(e, "this node has joined no trust domain yet, so it cannot invite");
		goto out;
	}
	if (!org_path_valid(o->name)) {
		err_set(e, "org path \"%s\" is not valid", o->name);
		goto out;
	}
	if (o->role == STRATA__ROLE__ROLE_CHILD && !org_path_under(o->name, node_name(n))) {
		err_set(e, "a child of %s must have an org path below it, like %s/NAME", node_name(n), node_name(n));
		goto out;
	}
	for (size_t i = 0; i < o->n_feeds; i++)
		if (!feed_name_known(o->feeds[i])) {
			err_set(e, "unknown feed \"%s\" (up, report, down, trust)", o->feeds[i]);
			goto out;
		}
	for (size_t i = 0; i < o->n_receive; i++)
		if (!feed_name_known(o->receive[i])) {
			err_set(e, "unknown feed \"%s\" (up, report, down, trust)", o->receive[i]);
			goto out;
		}
	randombytes_buf(secret, SEED_BYTES);
	crypto_box_seed_keypair(curve_pk, curve_sk, secret);
	inv.name = (char *)o->name;
	inv.role = o->role;
	inv.expires_ms = node_now_ms() + o->ttl_ms;
	if (o->feeds) {
		inv.feeds = o->feeds;
		inv.n_feeds = o->n_feeds;
	} else if (o->role == STRATA__ROLE__ROLE_CHILD) {
		inv.feeds = default_child_feeds;
		inv.n_feeds = sizeof default_child_feeds / sizeof default_child_feeds[0];
	} else if (o->role == STRATA__ROLE__ROLE_PEER) {
		inv.feeds = default_peer_feeds;
		inv.n_feeds = 1;
	}
	if (o->receive) {
		inv.receive = o->receive;
		inv.n_receive = o->n_receive;
	} else if (o->role == STRATA__ROLE__ROLE_PEER) {
		inv.receive = default_peer_receive;
		inv.n_receive = 1;
	}
	len = strata__invite__get_packed_size(&inv);
	if (!(rec = malloc(len))) {
		ret = -ENOMEM;
		goto out;
	}
	strata__invite__pack(&inv, rec);
	if ((ret = store_txn_begin(node_store(n), true, &t, e)) < 0 ||
	    (ret = store_index_put(t, "invite", curve_pk, KEY_BYTES, rec, len, e)) < 0 ||
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
