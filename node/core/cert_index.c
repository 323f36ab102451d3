/* SPDX-License-Identifier: MIT */
/*
 * The certificate index. Certificates are records of the issuers' `trust`
 * feeds; ingest keeps an index from subject to (issuer, certificate) in the
 * same transaction (node_trust_index_apply), and the first issuer of a key
 * keeps it. What reads it: certificates, roles, the org paths of keys.
 * The chain walk and authorization over it are in authorize.c; the
 * revocations and rotations in revoked.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"

int node_cert_get(struct store_txn *t, const uint8_t subject[KEY_BYTES], uint8_t issuer[KEY_BYTES],
		  Strata__Certificate **out, struct err *e)
{
	const uint8_t *v;
	size_t len;
	int ret = store_index_get(t, CERT_INDEX, subject, KEY_BYTES, &v, &len, e);

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

bool node_is_auditor(const struct node *n, struct store_txn *t)
{
	Strata__Certificate *c = NULL;
	struct err ignore = {0};
	bool auditor;

	if (node_cert_get(t, n->id, NULL, &c, &ignore) < 0)
		return false;
	auditor = c->role == STRATA__ROLE__ROLE_AUDITOR;
	strata__certificate__free_unpacked(c, NULL);
	return auditor;
}

size_t node_own_keys(const struct node *n, struct store_txn *t, uint8_t out[][KEY_BYTES], size_t max)
{
	const uint8_t *v;
	size_t len, k = 0;
	struct err ignore = {0};

	if (max == 0)
		return 0;
	memcpy(out[k++], n->id, KEY_BYTES);
	if (store_meta_get(t, "previous_keys", &v, &len, &ignore) < 0)
		return k;
	for (size_t i = 0; i + KEY_BYTES <= len && k < max; i += KEY_BYTES)
		memcpy(out[k++], v + i, KEY_BYTES);
	return k;
}

int node_key_name(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES],
		  char out[NODE_NAME_SIZE])
{
	Strata__Certificate *c = NULL;
	struct err ignore = {0};

	if (memcmp(key, n->id, KEY_BYTES) == 0) {
		strcpy(out, n->name);
		return 0;
	}
	if (node_cert_get(t, key, NULL, &c, &ignore) < 0) {
		out[0] = '\0';
		return -ENOENT;
	}
	snprintf(out, NODE_NAME_SIZE, "%s", c->name);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

bool node_key_in_tree(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES],
		  char out[NODE_NAME_SIZE])
{
	Strata__Certificate *c = NULL;
	struct err ignore = {0};
	bool in;

	out[0] = '\0';
	if (memcmp(key, n->id, KEY_BYTES) == 0) {
		strcpy(out, n->name);
		return true;
	}
	if (node_cert_get(t, key, NULL, &c, &ignore) < 0)
		return false;
	snprintf(out, NODE_NAME_SIZE, "%s", c->name);
	in = c->role == STRATA__ROLE__ROLE_CHILD || c->role == STRATA__ROLE__ROLE_ROOT;
	strata__certificate__free_unpacked(c, NULL);
	return in;
}

int node_peer_cert(const struct node *n, struct store_txn *t, Strata__Certificate **out, struct err *e)
{
	const uint8_t *v;
	size_t len;
	int ret;

	if (!n->has_peer_root || !n->config.has_parent)
		return -ENOENT;
	ret = store_state_get(t, CERT_COLLECTION, n->config.parent_key, n->id, KEY_BYTES, &v, &len, NULL, e);
	if (ret < 0)
		return ret;
	if (!(*out = strata__certificate__unpack(NULL, len, v))) {
		err_set(e, "this node's peer certificate is malformed");
		return -EIO;
	}
	return 0;
}

int node_trust_index_apply(struct store_txn *t, const struct changeset *cs, struct err *e)
{
	int ret;

	if (strcmp(cs->feed, FEED_TRUST) != 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		const uint8_t *v;
		size_t len;
		uint8_t *rec;

		if (strcmp(op->collection, "revocation") == 0) {
			if ((ret = node_revocation_apply(t, cs, op, e)) < 0)
				return ret;
			continue;
		}
		if (strcmp(op->collection, CERT_COLLECTION) != 0 || op->key_len != KEY_BYTES)
			continue;
		ret = store_index_get(t, CERT_INDEX, op->key, KEY_BYTES, &v, &len, e);
		if (ret < 0 && ret != -ENOENT)
			return ret;
		/* The first issuer of a key keeps it: a second issuer cannot take it over. */
		if (ret == 0 && memcmp(v, cs->author, KEY_BYTES) != 0)
			continue;
		if (op->kind == OP_DELETE) {
			if ((ret = store_index_del(t, CERT_INDEX, op->key, KEY_BYTES, e)) < 0)
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
		ret = store_index_put(t, CERT_INDEX, op->key, KEY_BYTES, rec, KEY_BYTES + op->value_len, e);
		free(rec);
		if (ret < 0)
			return ret;
	}
	return 0;
}
