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
#include <time.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"

#define TRUST_INDEX "cert"
#define REVOKED_INDEX "revoked" /* subject -> revoked_ms (u64 BE) | revoker (32) [| successor (32)] */
#define SUCCESSORS_MAX 16 /* rotations followed from one key */

int node_cert_get(struct store_txn *t, const uint8_t subject[KEY_BYTES], uint8_t issuer[KEY_BYTES],
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

int node_revocation_get(struct store_txn *t, const uint8_t subject[KEY_BYTES], struct node_revocation *out,
			struct err *e)
{
	const uint8_t *v;
	size_t len;
	int ret = store_index_get(t, REVOKED_INDEX, subject, KEY_BYTES, &v, &len, e);

	if (ret < 0)
		return ret;
	if (len != 8 + KEY_BYTES && len != 8 + 2 * KEY_BYTES) {
		err_set(e, "the revocation index holds a malformed record; run strata verify");
		return -EIO;
	}
	memset(out, 0, sizeof *out);
	out->revoked_ms = be64_get(v);
	memcpy(out->by, v + 8, KEY_BYTES);
	if ((out->has_successor = len == 8 + 2 * KEY_BYTES))
		memcpy(out->successor, v + 8 + KEY_BYTES, KEY_BYTES);
	return 0;
}

/* "2026-11-25 18:36:01.123 UTC" */
static void fmt_ms(char out[40], uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&s, &tm) || !strftime(out, 40, "%Y-%m-%d %H:%M:%S", &tm)) {
		snprintf(out, 40, "%llu ms", (unsigned long long)ms);
		return;
	}
	snprintf(out + strlen(out), 40 - strlen(out), ".%03u UTC", (unsigned)(ms % 1000));
}

int node_revocation_text(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], uint64_t at_ms,
			 char *out, size_t cap)
{
	struct node_revocation r;
	struct err ignore = {0};
	char name[256], by[256], who[17], when[40], reason[300] = "";
	const uint8_t *v;
	size_t len;
	int ret = node_revocation_get(t, key, &r, &ignore);

	if (ret == -ENOENT || (ret == 0 && r.revoked_ms > at_ms))
		return 0;
	if (ret < 0) {
		snprintf(out, cap, "%s", ignore.msg);
		return ret;
	}
	hex_encode(who, key, 8);
	node_key_name(n, t, key, name);
	node_key_name(n, t, r.by, by);
	fmt_ms(when, r.revoked_ms);
	if (store_state_get(t, "revocation", r.by, key, KEY_BYTES, &v, &len, NULL, &ignore) == 0) {
		Strata__Revocation *rv = strata__revocation__unpack(NULL, len, v);

		if (rv && rv->reason && rv->reason[0])
			snprintf(reason, sizeof reason, " (%s)", rv->reason);
		if (rv)
			strata__revocation__free_unpacked(rv, NULL);
	}
	if (r.has_successor) {
		char next[17];

		hex_encode(next, r.successor, 8);
		snprintf(out, cap, "the key of %s (%s…) was rotated away at %s: revoked, replaced by %s…",
			 name[0] ? name : "an unknown node", who, when, next);
	} else {
		snprintf(out, cap, "the key of %s (%s…) was revoked by %s at %s%s", name[0] ? name : "an unknown node",
			 who, by[0] ? by : "its issuer", when, reason);
	}
	return 1;
}

int node_check_revoked(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], uint64_t time_ms,
		       struct err *e)
{
	char text[700], at[40];
	int ret = node_revocation_text(n, t, key, time_ms, text, sizeof text);

	if (ret == 0)
		return 0;
	if (ret < 0) {
		err_set(e, "%s", text);
		return ret;
	}
	fmt_ms(at, time_ms);
	err_set(e, "%s; this entry is dated %s", text, at);
	return -EACCES;
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

int node_key_name(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char out[256])
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
	snprintf(out, 256, "%s", c->name);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

bool node_key_in_tree(const struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char out[256])
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
	snprintf(out, 256, "%s", c->name);
	in = c->role == STRATA__ROLE__ROLE_CHILD || c->role == STRATA__ROLE__ROLE_ROOT;
	strata__certificate__free_unpacked(c, NULL);
	return in;
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

/* Was ISSUER revoked when it issued a certificate dated issued_ms? */
static int issued_before_revocation(const struct node *n, struct store_txn *t, const uint8_t issuer[KEY_BYTES],
				    const char *issuer_name, const char *child_name, uint64_t issued_ms, struct err *e)
{
	struct node_revocation r;
	struct err ignore = {0};
	char who[17], when[40];
	int ret = node_revocation_get(t, issuer, &r, &ignore);

	(void)n;
	if (ret == -ENOENT || (ret == 0 && r.revoked_ms > issued_ms))
		return 0;
	if (ret < 0) {
		err_set(e, "%s", ignore.msg);
		return ret;
	}
	short_hex(who, issuer);
	fmt_ms(when, r.revoked_ms);
	err_set(e, "the certificate of %s was issued by %s (%s…) after that key was revoked at %s", child_name,
		issuer_name, who, when);
	return -EACCES;
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
	char name[256];
	Strata__Role role;
	uint64_t issued_ms;
};

/* Does the link W of the chain of author WHO (hex) hold? At depth 0 its
 * certificate must allow FEED; above, it certifies CHILD, the key below. */
static int link_allows(const struct node *n, struct store_txn *t, const struct node_chain *w, const char *who,
		       const char *feed, const struct chain_child *child, struct err *e)
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
	if ((ret = issued_before_revocation(n, t, w->subject, c->name, child->name, child->issued_ms, e)) < 0)
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
	short_hex(who, author);
	if (n->has_peer_root && memcmp(author, n->peer_root, KEY_BYTES) == 0)
		return peer_allows(n, t, feed, who, e);
	if (!n->has_root && !n->has_peer_root) {
		err_set(e, "author %s… is not this node, and this node has joined no trust domain yet", who);
		return -EACCES;
	}
	node_chain_begin(&w, author);
	while ((ret = node_chain_next(t, &w, e)) == 0) {
		if ((ret = link_allows(n, t, &w, who, feed, &child, e)) < 0)
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
		short_hex(at, w.subject);
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

/* Is AUTHOR the key whose certificate of SUBJECT this node's index holds,
 * or that key's successor by rotation (transitively)? */
static bool effective_issuer(struct store_txn *t, const uint8_t subject[KEY_BYTES], const uint8_t author[KEY_BYTES])
{
	const uint8_t *v;
	size_t len;
	uint8_t k[KEY_BYTES];
	struct err ignore = {0};

	if (store_index_get(t, TRUST_INDEX, subject, KEY_BYTES, &v, &len, &ignore) < 0 || len < KEY_BYTES)
		return false;
	memcpy(k, v, KEY_BYTES);
	for (int i = 0; i < SUCCESSORS_MAX; i++) {
		struct node_revocation r;

		if (memcmp(k, author, KEY_BYTES) == 0)
			return true;
		if (node_revocation_get(t, k, &r, &ignore) < 0 || !r.has_successor)
			return false;
		memcpy(k, r.successor, KEY_BYTES);
	}
	return false;
}

int node_trust_check(struct store_txn *t, const struct changeset *cs, struct err *e)
{
	if (strcmp(cs->feed, "trust") != 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		bool revocation = strcmp(op->collection, "revocation") == 0;
		const uint8_t *v;
		size_t len;
		struct err ignore = {0};

		if (!revocation && strcmp(op->collection, "rotation") != 0)
			continue;
		if (op->kind == OP_DELETE) {
			err_set(e, "op %zu: a %s cannot be withdrawn", i, op->collection);
			return -EACCES;
		}
		if (op->key_len != KEY_BYTES) {
			err_set(e, "op %zu: a %s key must be a 32-byte key", i, op->collection);
			return -EINVAL;
		}
		if (!revocation) {
			Strata__Rotation *r;
			bool mine;

			if (!op->value) /* erased: nothing left to check */
				continue;
			if (!(r = strata__rotation__unpack(NULL, op->value_len, op->value))) {
				err_set(e, "op %zu: rotation value does not decode", i);
				return -EINVAL;
			}
			mine = r->old_key.len == KEY_BYTES && memcmp(r->old_key.data, cs->author, KEY_BYTES) == 0;
			strata__rotation__free_unpacked(r, NULL);
			if (!mine) {
				err_set(e, "op %zu: a rotation must be written by the old key it names", i);
				return -EACCES;
			}
			continue;
		}
		if (memcmp(op->key, cs->author, KEY_BYTES) == 0) {
			err_set(e, "op %zu: a key cannot revoke itself; its issuer revokes it", i);
			return -EACCES;
		}
		/* Only the issuer of the key's certificate (or its successor) may revoke it. */
		if (store_state_get(t, "cert", cs->author, op->key, KEY_BYTES, &v, &len, NULL, &ignore) < 0 &&
		    !effective_issuer(t, op->key, cs->author)) {
			char who[17];

			short_hex(who, op->key);
			err_set(e, "op %zu: only the issuer of its certificate may revoke key %s…", i, who);
			return -EACCES;
		}
	}
	return 0;
}

/* Records a revocation in the "revoked" index when its author is the issuer
 * whose certificate this node's index holds; the first revocation of a key
 * stays. */
static int revocation_apply(struct store_txn *t, const struct changeset *cs, const struct op *op, struct err *e)
{
	uint8_t rec[8 + 2 * KEY_BYTES];
	uint64_t when = cs->time_ms;
	size_t len = 8 + KEY_BYTES;
	Strata__Revocation *r = NULL;
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	int ret;

	if (op->kind != OP_PUT || op->key_len != KEY_BYTES || !effective_issuer(t, op->key, cs->author))
		return 0;
	ret = store_index_get(t, REVOKED_INDEX, op->key, KEY_BYTES, &v, &vl, &ignore);
	if (ret == 0)
		return 0;
	if (ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		return ret;
	}
	/* an erased value: the entry's own time */
	if (op->value && (r = strata__revocation__unpack(NULL, op->value_len, op->value))) {
		when = r->revoked_ms;
		if (r->has_successor && r->successor.len == KEY_BYTES) {
			memcpy(rec + 8 + KEY_BYTES, r->successor.data, KEY_BYTES);
			len += KEY_BYTES;
		}
		strata__revocation__free_unpacked(r, NULL);
	}
	be64_put(rec, when);
	memcpy(rec + 8, cs->author, KEY_BYTES);
	if ((ret = store_index_put(t, REVOKED_INDEX, op->key, KEY_BYTES, rec, len, e)) < 0)
		return ret;
	/* The successor takes over the unit's records (unit.c) only when the
	 * same issuer (or its successor) certified it, and only once. */
	if (len == 8 + 2 * KEY_BYTES && effective_issuer(t, rec + 8 + KEY_BYTES, cs->author) &&
	    memcmp(rec + 8 + KEY_BYTES, op->key, KEY_BYTES) != 0) {
		ret = store_index_get(t, PREDECESSOR_INDEX, rec + 8 + KEY_BYTES, KEY_BYTES, &v, &vl, &ignore);
		if (ret == -ENOENT)
			return store_index_put(t, PREDECESSOR_INDEX, rec + 8 + KEY_BYTES, KEY_BYTES, op->key, KEY_BYTES,
					       e);
		if (ret < 0) {
			err_set(e, "%s", ignore.msg);
			return ret;
		}
	}
	return 0;
}

int node_trust_index_apply(struct store_txn *t, const struct changeset *cs, struct err *e)
{
	int ret;

	if (strcmp(cs->feed, "trust") != 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		const uint8_t *v;
		size_t len;
		uint8_t *rec;

		if (strcmp(op->collection, "revocation") == 0) {
			if ((ret = revocation_apply(t, cs, op, e)) < 0)
				return ret;
			continue;
		}
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
