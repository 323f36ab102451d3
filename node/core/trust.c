/* SPDX-License-Identifier: MIT */
/*
 * Who may write what. Certificates are records of the issuers' `trust`
 * feeds; ingest keeps an index from subject to (issuer, certificate) in the
 * same transaction, and every entry's author is checked against a chain of
 * them that ends at the pinned root: each link certified by the one above,
 * below it in the org tree, and the last one allowing the entry's feed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"

#define TRUST_INDEX "cert"
#define TRUST_MAX_DEPTH 16

int trust_cert_get(struct store_txn *t, const uint8_t subject[KEY_BYTES], uint8_t issuer[KEY_BYTES],
		   Strata__Certificate **out, struct err *e)
{
	const uint8_t *v;
	size_t len;
	int ret = store_index_get(t, TRUST_INDEX, subject, KEY_BYTES, &v, &len, e);

	if (ret < 0)
		return ret;
	if (len < KEY_BYTES || !(*out = strata__certificate__unpack(NULL, len - KEY_BYTES, v + KEY_BYTES))) {
		err_set(e, "the certificate index holds a malformed record; run strata verify");
		return -EIO;
	}
	if (issuer)
		memcpy(issuer, v, KEY_BYTES);
	return 0;
}

int node_key_name(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char out[256])
{
	Strata__Certificate *c = NULL;
	struct err ignore = {0};

	if (memcmp(key, n->id, KEY_BYTES) == 0) {
		strcpy(out, n->name);
		return 0;
	}
	if (trust_cert_get(t, key, NULL, &c, &ignore) < 0) {
		out[0] = '\0';
		return -ENOENT;
	}
	snprintf(out, 256, "%s", c->name);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

static void short_hex(char out[17], const uint8_t *key)
{
	hex_encode(out, key, 8);
}

int node_peer_cert(const struct node *n, struct store_txn *t, Strata__Certificate **out, struct err *e)
{
	const uint8_t *v;
	size_t len;
	int ret;

	if (!n->has_peer_root || !n->config.has_parent)
		return -ENOENT;
	ret = store_state_get(t, "cert", n->config.parent_key, n->id, KEY_BYTES, &v, &len, NULL, e);
	if (ret < 0)
		return ret;
	if (!(*out = strata__certificate__unpack(NULL, len, v))) {
		err_set(e, "this node's peer certificate is malformed");
		return -EIO;
	}
	return 0;
}

/* What a peer domain may write here: its certificates, and the feeds our
 * agreement (our certificate from it) says it shares with us. */
static int peer_allows(const struct node *n, struct store_txn *t, const char *feed, const char *who, struct err *e)
{
	Strata__Certificate *mine = NULL;
	struct err ignore = {0};
	bool ok;

	if (strcmp(feed, "trust") == 0)
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

int node_authorize(const struct node *n, struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed,
		   struct err *e)
{
	uint8_t subject[KEY_BYTES], issuer[KEY_BYTES];
	Strata__Certificate *c = NULL;
	char who[17], child_name[256] = "";
	Strata__Role child_role = STRATA__ROLE__ROLE_CHILD;
	int ret = 0;

	if (memcmp(author, n->id, KEY_BYTES) == 0 || (n->has_root && memcmp(author, n->root, KEY_BYTES) == 0))
		return 0;
	short_hex(who, author);
	if (n->has_peer_root && memcmp(author, n->peer_root, KEY_BYTES) == 0)
		return peer_allows(n, t, feed, who, e);
	if (!n->has_root && !n->has_peer_root) {
		err_set(e, "author %s… is not this node, and this node has joined no trust domain yet", who);
		return -EACCES;
	}
	memcpy(subject, author, KEY_BYTES);
	for (int depth = 0; depth < TRUST_MAX_DEPTH; depth++) {
		ret = trust_cert_get(t, subject, issuer, &c, e);
		if (ret == -ENOENT) {
			char at[17];

			short_hex(at, subject);
			if (depth)
				err_set(e, "the certificate chain of author %s… breaks at %s…: no certificate", who, at);
			else
				err_set(e, "author %s… holds no certificate in this trust domain", who);
			return -EACCES;
		}
		if (ret < 0)
			return ret;
		if (depth == 0 && !cert_allows(c, feed)) {
			err_set(e, "the certificate of %s (%s…) does not allow feed %s", c->name, who, feed);
			ret = -EACCES;
			goto out;
		}
		if (depth > 0 && c->role != STRATA__ROLE__ROLE_CHILD && c->role != STRATA__ROLE__ROLE_ROOT) {
			err_set(e, "%s (%s) may not certify others", c->name, cert_role_word(c->role));
			ret = -EACCES;
			goto out;
		}
		/* children live below their issuer; peers and auditors are named freely */
		if (depth > 0 && c->role == STRATA__ROLE__ROLE_CHILD && child_role == STRATA__ROLE__ROLE_CHILD &&
		    !org_path_under(child_name, c->name)) {
			err_set(e, "%s certified %s, which is not below it", c->name, child_name);
			ret = -EACCES;
			goto out;
		}
		snprintf(child_name, sizeof child_name, "%s", c->name);
		child_role = c->role;
		strata__certificate__free_unpacked(c, NULL);
		c = NULL;
		if (n->has_root && memcmp(issuer, n->root, KEY_BYTES) == 0)
			return 0;
		if (n->has_peer_root && memcmp(issuer, n->peer_root, KEY_BYTES) == 0)
			return peer_allows(n, t, feed, who, e);
		if (memcmp(issuer, subject, KEY_BYTES) == 0)
			break; /* a self-certified key that is not our root */
		memcpy(subject, issuer, KEY_BYTES);
	}
	err_set(e, "the certificate chain of author %s… does not reach this domain's root", who);
	ret = -EACCES;
out:
	if (c)
		strata__certificate__free_unpacked(c, NULL);
	return ret;
}

int trust_index_apply(struct store_txn *t, const struct changeset *cs, struct err *e)
{
	int ret;

	if (strcmp(cs->feed, "trust") != 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		const uint8_t *v;
		size_t len;
		uint8_t *rec;

		if (strcmp(op->collection, "cert") != 0 || op->key_len != KEY_BYTES)
			continue;
		ret = store_index_get(t, TRUST_INDEX, op->key, KEY_BYTES, &v, &len, e);
		if (ret < 0 && ret != -ENOENT)
			return ret;
		/* The first issuer of a key keeps it: a second issuer cannot take it over. */
		if (ret == 0 && memcmp(v, cs->author, KEY_BYTES) != 0)
			continue;
		if (op->kind == OP_DELETE) {
			if ((ret = store_index_del(t, TRUST_INDEX, op->key, KEY_BYTES, e)) < 0)
				return ret;
			continue;
		}
		if (!op->value)
			continue;
		if (!(rec = malloc(KEY_BYTES + op->value_len))) {
			err_set(e, "out of memory");
			return -ENOMEM;
		}
		memcpy(rec, cs->author, KEY_BYTES);
		memcpy(rec + KEY_BYTES, op->value, op->value_len);
		ret = store_index_put(t, TRUST_INDEX, op->key, KEY_BYTES, rec, KEY_BYTES + op->value_len, e);
		free(rec);
		if (ret < 0)
			return ret;
	}
	return 0;
}
