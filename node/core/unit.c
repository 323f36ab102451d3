/* SPDX-License-Identifier: MIT */
/*
 * A unit's records belong to the unit, not to one key. A key that replaced
 * another by rotation (a revocation naming it as successor, signed by the
 * issuer of both: node_key_chain) owns what its predecessors wrote: state
 * stays keyed (collection, author, key), and an op of the successor on a
 * key supersedes its predecessors' records of that key, in the same
 * transaction that appends it:
 *   - their state records of that key are removed, so the unit holds at
 *     most one record per (collection, key), whichever key wrote it last;
 *   - a mark (store_state_supersede) remembers it, so that an entry of
 *     the predecessor that arrives late (it is older: it was signed
 *     before the revocation) changes nothing in state, whatever order the
 *     feeds reach a node in (and loses any value the successor erased:
 *     erase.c).
 * The trust feed is outside this rule: certificates and revocations keep
 * their own rules (revoked.c). The log keeps every entry as signed: an
 * auditor re-derives all of this from the trust feeds and the log
 * (node/audit/verify.c; docs/PROTOCOL.md, "Ownership across key
 * rotations").
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "node/core/node_internal.h"


size_t node_key_chain(struct store_txn *t, const uint8_t key[KEY_BYTES], uint8_t out[][KEY_BYTES], size_t max)
{
	const uint8_t *v;
	size_t len, k = 0;
	struct err ignore = {0};

	if (max == 0)
		return 0;
	memcpy(out[k++], key, KEY_BYTES);
	while (k < max && store_index_get(t, PREDECESSOR_INDEX, out[k - 1], KEY_BYTES, &v, &len, &ignore) == 0 &&
	       len == KEY_BYTES) {
		bool seen = false;

		for (size_t i = 0; i < k; i++)
			seen = seen || memcmp(out[i], v, KEY_BYTES) == 0;
		if (seen) /* a loop cannot be made by honest issuers; stop */
			break;
		memcpy(out[k++], v, KEY_BYTES);
	}
	return k;
}

int node_key_successor(struct store_txn *t, const uint8_t key[KEY_BYTES], uint8_t out[KEY_BYTES])
{
	struct node_revocation r;
	const uint8_t *v;
	size_t len;
	struct err ignore = {0};

	if (node_revocation_get(t, key, &r, &ignore) < 0 || !r.has_successor)
		return -ENOENT;
	/* only a successor whose predecessor link was recorded */
	if (store_index_get(t, PREDECESSOR_INDEX, r.successor, KEY_BYTES, &v, &len, &ignore) < 0 || len != KEY_BYTES ||
	    memcmp(v, key, KEY_BYTES) != 0)
		return -ENOENT;
	memcpy(out, r.successor, KEY_BYTES);
	return 0;
}

size_t node_unit_keys(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES],
		      uint8_t out[][KEY_BYTES], size_t max)
{
	return memcmp(key, n->id, KEY_BYTES) == 0 ? node_own_keys(n, t, out, max) : node_key_chain(t, key, out, max);
}

int node_unit_joined(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char *out, size_t cap)
{
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES], issuer[KEY_BYTES];
	Strata__Certificate *c = NULL;
	struct err ignore = {0};
	size_t k = node_unit_keys(n, t, key, keys, NODE_KEYS_MAX);
	time_t secs;
	struct tm tm;

	if (cap) /* the unit's first key is the last of its chain */
		out[0] = '\0';
	if (k == 0 || node_cert_get(t, keys[k - 1], issuer, &c, &ignore) < 0)
		return -ENOENT;
	secs = (time_t)(c->issued_ms / 1000);
	strata__certificate__free_unpacked(c, NULL);
	if (!gmtime_r(&secs, &tm) || strftime(out, cap, "%Y-%m-%d", &tm) == 0)
		return -ENOENT;
	return 0;
}

size_t unit_predecessors(struct node *n, struct store_txn *t, const uint8_t author[KEY_BYTES],
			 uint8_t out[][KEY_BYTES], size_t max)
{
	size_t k = node_unit_keys(n, t, author, out, max);

	if (k == 0)
		return 0;
	memmove(out, out + 1, (k - 1) * KEY_BYTES);
	return k - 1;
}

int unit_filter(struct node *n, struct store_txn *t, const struct changeset *cs, bool *skip, struct err *e)
{
	uint8_t next[KEY_BYTES];

	(void)n;
	(void)e;
	memset(skip, 0, cs->n_ops * sizeof *skip);
	if (strcmp(cs->feed, FEED_TRUST) == 0 || node_key_successor(t, cs->author, next) < 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++)
		skip[i] = store_state_superseded(t, cs->ops[i].collection, cs->author, cs->ops[i].key,
						 cs->ops[i].key_len, NULL) == 1;
	return 0;
}

int unit_apply(struct node *n, struct store_txn *t, const struct changeset *cs, const bool *skip, struct err *e)
{
	uint8_t pred[NODE_KEYS_MAX][KEY_BYTES];
	size_t np;
	int ret;

	if (strcmp(cs->feed, FEED_TRUST) == 0 || !(np = unit_predecessors(n, t, cs->author, pred, NODE_KEYS_MAX)))
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];

		if (skip && skip[i])
			continue;
		for (size_t p = 0; p < np; p++)
			if ((ret = store_state_supersede(t, op->collection, pred[p], op->key, op->key_len, cs->author,
							 e)) < 0) {
				err_prefix(e, "op %zu", i);
				return ret;
			}
	}
	return 0;
}

int node_own_state_get(const struct node *n, struct store_txn *t, const char *collection, const uint8_t *key,
		       size_t key_len, const uint8_t **val, size_t *val_len, struct store_origin *origin,
		       uint8_t owner[KEY_BYTES], struct err *e)
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, t, own, NODE_KEYS_MAX);
	int ret = -ENOENT;

	/* newest first: at most one of them holds the key (unit_apply) */
	for (size_t i = 0; i < nown && ret == -ENOENT; i++) {
		memset(e, 0, sizeof *e);
		ret = store_state_get(t, collection, own[i], key, key_len, val, val_len, origin, e);
		if (ret == 0 && owner)
			memcpy(owner, own[i], KEY_BYTES);
	}
	return ret;
}

/* node_unit_named: one certificate of the state (a store_state_each call). */
struct unit_named {
	struct store_txn *t;
	const char *name;
	uint8_t *key;
	size_t found;
};

static int unit_named_one(const struct store_record *r, void *arg)
{
	struct unit_named *b = arg;
	Strata__Certificate *c, *indexed = NULL;
	uint8_t issuer[KEY_BYTES], next[KEY_BYTES];
	struct err ignore = {0};

	if (!r->value || r->key_len != KEY_BYTES || !(c = strata__certificate__unpack(NULL, r->value_len, r->value)))
		return 0;
	/* the certificate that counts is the indexed one (the first issuer keeps a key);
	 * a key replaced by rotation is its unit's old key: the unit goes by its current one */
	if (strcmp(c->name, b->name) == 0 && node_key_successor(b->t, r->key, next) < 0 &&
	    (c->role == STRATA__ROLE__ROLE_CHILD || c->role == STRATA__ROLE__ROLE_ROOT) &&
	    node_cert_get(b->t, r->key, issuer, &indexed, &ignore) == 0 && memcmp(issuer, r->owner, KEY_BYTES) == 0 &&
	    (!b->found || memcmp(b->key, r->key, KEY_BYTES) != 0)) {
		memcpy(b->key, r->key, KEY_BYTES);
		b->found++;
	}
	if (indexed)
		strata__certificate__free_unpacked(indexed, NULL);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

int node_unit_named(struct store_txn *t, const char *name, uint8_t key[KEY_BYTES], struct err *e)
{
	struct unit_named b = {.t = t, .name = name, .key = key};
	int ret = store_state_each(t, CERT_COLLECTION, NULL, unit_named_one, &b, e);

	return ret < 0 ? ret : (int)(b.found > 1000 ? 1000 : b.found) /* a count to say, kept small */;
}
