/* SPDX-License-Identifier: MIT */
/*
 * The certificate index. Certificates are records of the issuers' `trust`
 * feeds; ingest keeps an index from subject to (issuer, certificate) in the
 * same transaction (node_trust_index_apply). Of several issuers that
 * certified one key, the first-issuer rule picks the one that keeps it, by
 * signed data alone (node_cert_first_wins; docs/PROTOCOL.md "Trust:
 * certificates"), whatever order the entries arrived in: a certificate
 * that wins switches the index when it comes. What reads it: certificates,
 * roles, the org paths of keys.
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

bool node_cert_first_wins(uint64_t a_ms, const uint8_t a[KEY_BYTES], uint64_t b_ms, const uint8_t b[KEY_BYTES])
{
	if (a_ms != b_ms)
		return a_ms < b_ms;
	return memcmp(a, b, KEY_BYTES) < 0;
}

struct first_scan {
	const uint8_t *subject;
	uint64_t ms;
	bool found;
};

static int scan_first(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct first_scan *f = arg;
	struct changeset *cs = NULL;
	struct err ignore = {0};

	(void)seq;
	(void)hash;
	if (changeset_decode(&cs, bytes, len, &ignore) < 0)
		return 0; /* a stored entry decoded when it came in; verify reports one that does not */
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		Strata__Certificate *c;

		if (op->kind != OP_PUT || !op->value || strcmp(op->collection, CERT_COLLECTION) != 0 ||
		    op->key_len != KEY_BYTES || memcmp(op->key, f->subject, KEY_BYTES) != 0 ||
		    !(c = strata__certificate__unpack(NULL, op->value_len, op->value)))
			continue;
		if (!f->found || c->issued_ms < f->ms)
			f->ms = c->issued_ms;
		f->found = true;
		strata__certificate__free_unpacked(c, NULL);
	}
	changeset_destroy(&cs);
	return 0;
}

int node_cert_first_ms(struct store_txn *t, const uint8_t issuer[KEY_BYTES], const uint8_t subject[KEY_BYTES],
		       uint64_t *ms, struct err *e)
{
	struct first_scan f = {.subject = subject};
	struct store_head h;
	int ret = store_head_get(t, issuer, FEED_TRUST, &h, e);

	if (ret < 0)
		return ret;
	if ((ret = store_log_each(t, issuer, FEED_TRUST, 1, h.seq, scan_first, &f, e)) < 0)
		return ret;
	if (!f.found)
		return -ENOENT;
	*ms = f.ms;
	return 0;
}

/* Puts (issuer, certificate) as SUBJECT's indexed certificate. */
static int index_put(struct store_txn *t, const uint8_t subject[KEY_BYTES], const uint8_t issuer[KEY_BYTES],
		     const uint8_t *cert, size_t len, struct err *e)
{
	uint8_t *rec = malloc(KEY_BYTES + len);
	int ret;

	if (!rec) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	memcpy(rec, issuer, KEY_BYTES);
	memcpy(rec + KEY_BYTES, cert, len);
	ret = store_index_put(t, CERT_INDEX, subject, KEY_BYTES, rec, KEY_BYTES + len, e);
	free(rec);
	return ret;
}

/* Does ISSUER take SUBJECT from HOLDER by the first-issuer rule? */
static int takes_over(struct store_txn *t, const uint8_t subject[KEY_BYTES], const uint8_t issuer[KEY_BYTES],
		      const uint8_t holder[KEY_BYTES], bool *yes, struct err *e)
{
	uint64_t mine, theirs;
	int ret;

	*yes = false;
	if ((ret = node_cert_first_ms(t, issuer, subject, &mine, e)) < 0)
		return ret == -ENOENT ? 0 : ret;
	if ((ret = node_cert_first_ms(t, holder, subject, &theirs, e)) == -ENOENT) {
		*yes = true; /* the holder's log holds no certificate of it: a stale index */
		return 0;
	}
	if (ret < 0)
		return ret;
	*yes = node_cert_first_wins(mine, issuer, theirs, holder);
	return 0;
}

/* SUBJECT's holder deleted its certificate: the rule picks among the
 * certificates other issuers' state holds for it (none: not indexed). */
static int index_recompute(struct store_txn *t, const uint8_t subject[KEY_BYTES], struct err *e)
{
	struct store_head *heads = NULL;
	const uint8_t *best = NULL, *v, *best_v = NULL;
	size_t n = 0, len, best_len = 0;
	uint64_t best_ms = 0, ms;
	int ret;

	if ((ret = store_index_del(t, CERT_INDEX, subject, KEY_BYTES, e)) < 0 ||
	    (ret = store_heads_list(t, &heads, &n, e)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		struct err ignore = {0};

		if (strcmp(heads[i].feed, FEED_TRUST) != 0 ||
		    store_state_get(t, CERT_COLLECTION, heads[i].author, subject, KEY_BYTES, &v, &len, NULL, &ignore) < 0 ||
		    node_cert_first_ms(t, heads[i].author, subject, &ms, &ignore) < 0)
			continue;
		if (!best || node_cert_first_wins(ms, heads[i].author, best_ms, best)) {
			best = heads[i].author;
			best_ms = ms;
			best_v = v;
			best_len = len;
		}
	}
	if (best)
		ret = index_put(t, subject, best, best_v, best_len, e);
	free(heads);
	return ret;
}

/* One certificate op of an issuer's trust entry, by the first-issuer rule
 * (node.h: node_cert_first_wins). */
static int cert_apply(struct store_txn *t, const struct changeset *cs, const struct op *op, struct err *e)
{
	const uint8_t *v;
	size_t len;
	bool yes = true, switched = false;
	int ret = store_index_get(t, CERT_INDEX, op->key, KEY_BYTES, &v, &len, e);

	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (ret == 0 && len < KEY_BYTES) {
		err_set(e, "the certificate index holds a malformed record; run strata verify");
		return -EIO;
	}
	if (ret == 0 && memcmp(v, cs->author, KEY_BYTES) != 0) {
		uint8_t holder[KEY_BYTES];

		/* another issuer holds it: a delete of ours changes nothing; a put takes it only by the rule */
		memcpy(holder, v, KEY_BYTES);
		if (op->kind == OP_DELETE || !op->value)
			return 0;
		if ((ret = takes_over(t, op->key, cs->author, holder, &yes, e)) < 0)
			return ret;
		if (!yes)
			return 0;
		switched = true;
	}
	if (op->kind == OP_DELETE) {
		if (ret != 0 || (ret = index_recompute(t, op->key, e)) < 0)
			return ret == -ENOENT ? 0 : ret;
		switched = true;
	} else if (!op->value) {
		return 0;
	} else if ((ret = index_put(t, op->key, cs->author, op->value, op->value_len, e)) < 0) {
		return ret;
	}
	/* the keeping issuer changed: only its revocation (or its successor's) counts */
	return switched ? node_revocation_recheck(t, op->key, e) : 0;
}

int node_trust_index_apply(struct store_txn *t, const struct changeset *cs, struct err *e)
{
	int ret;

	if (strcmp(cs->feed, FEED_TRUST) != 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];

		if (strcmp(op->collection, "revocation") == 0) {
			if ((ret = node_revocation_apply(t, cs, op, e)) < 0)
				return ret;
			continue;
		}
		if (strcmp(op->collection, CERT_COLLECTION) != 0 || op->key_len != KEY_BYTES)
			continue;
		if ((ret = cert_apply(t, cs, op, e)) < 0)
			return ret;
	}
	return 0;
}

/* --- checking the index against the rule (strata verify) --- */

struct cert_pair {
	uint8_t subject[KEY_BYTES], issuer[KEY_BYTES];
};

struct pair_list {
	struct cert_pair *v;
	size_t n, cap;
};

static int collect_cert(const struct store_record *r, void *arg)
{
	struct pair_list *l = arg;

	if (r->key_len != KEY_BYTES)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct cert_pair *v = realloc(l->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memcpy(l->v[l->n].subject, r->key, KEY_BYTES);
	memcpy(l->v[l->n].issuer, r->owner, KEY_BYTES);
	l->n++;
	return 0;
}

static int by_subject(const void *a, const void *b)
{
	return memcmp(a, b, KEY_BYTES);
}

/* The issuer the rule picks among pairs v[0..n) (one subject). */
static int rule_pick(struct store_txn *t, const struct cert_pair *v, size_t n, const uint8_t **best, struct err *e)
{
	uint64_t best_ms = 0, ms;
	int ret;

	*best = v[0].issuer;
	if (n == 1)
		return 0;
	*best = NULL;
	for (size_t i = 0; i < n; i++) {
		if ((ret = node_cert_first_ms(t, v[i].issuer, v[i].subject, &ms, e)) == -ENOENT)
			continue;
		if (ret < 0)
			return ret;
		if (!*best || node_cert_first_wins(ms, v[i].issuer, best_ms, *best)) {
			*best = v[i].issuer;
			best_ms = ms;
		}
	}
	return 0;
}

int node_cert_index_check(struct store_txn *t,
			  void (*bad)(const uint8_t subject[KEY_BYTES], const uint8_t *indexed, const uint8_t *rule,
				      void *arg),
			  void *arg, struct err *e)
{
	struct pair_list l = {0};
	int ret = store_state_each(t, CERT_COLLECTION, NULL, collect_cert, &l, e);

	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	if (ret < 0)
		goto out;
	if (l.n)
		qsort(l.v, l.n, sizeof *l.v, by_subject);
	for (size_t i = 0, j; i < l.n; i = j) {
		const uint8_t *v, *rule;
		size_t len;
		struct err ignore = {0};

		for (j = i + 1; j < l.n && memcmp(l.v[j].subject, l.v[i].subject, KEY_BYTES) == 0; j++)
			;
		if ((ret = rule_pick(t, &l.v[i], j - i, &rule, e)) < 0)
			goto out;
		if (store_index_get(t, CERT_INDEX, l.v[i].subject, KEY_BYTES, &v, &len, &ignore) < 0 || len < KEY_BYTES)
			v = NULL;
		if (!v != !rule || (v && memcmp(v, rule, KEY_BYTES) != 0))
			bad(l.v[i].subject, v, rule, arg);
	}
	ret = 0;
out:
	free(l.v);
	return ret;
}

/* --- stores indexed before the rule (node_open) --- */

#define CERT_RULE_META "cert_rule" /* "1": the index follows node_cert_first_wins */

struct subjects {
	uint8_t (*v)[KEY_BYTES];
	size_t n, cap;
	int ret;
};

static void collect_bad(const uint8_t subject[KEY_BYTES], const uint8_t *indexed, const uint8_t *rule, void *arg)
{
	struct subjects *l = arg;

	(void)indexed;
	(void)rule;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		uint8_t(*v)[KEY_BYTES] = realloc(l->v, cap * sizeof *v);

		if (!v) {
			l->ret = -ENOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	memcpy(l->v[l->n++], subject, KEY_BYTES);
}

int node_cert_index_upgrade(struct store *s, size_t *fixed, struct err *e)
{
	struct store_txn *t = NULL;
	struct subjects l = {0};
	const uint8_t *v;
	size_t len;
	struct err ignore = {0};
	int ret;

	*fixed = 0;
	if ((ret = store_txn_begin(s, false, &t, e)) < 0)
		return ret;
	ret = store_meta_get(t, CERT_RULE_META, &v, &len, &ignore);
	ret = ret == 0 && len == 1 && v[0] == '1';
	store_txn_abort(&t);
	if (ret)
		return 0;
	if ((ret = store_txn_begin(s, true, &t, e)) < 0)
		return ret;
	if ((ret = node_cert_index_check(t, collect_bad, &l, e)) == 0 && (ret = l.ret) == -ENOMEM)
		err_set(e, "out of memory");
	for (size_t i = 0; ret == 0 && i < l.n; i++)
		if ((ret = index_recompute(t, l.v[i], e)) == 0)
			ret = node_revocation_recheck(t, l.v[i], e);
	if (ret == 0 && (ret = store_meta_put(t, CERT_RULE_META, (const uint8_t *)"1", 1, e)) == 0)
		ret = store_txn_commit(&t, e);
	store_txn_abort(&t);
	free(l.v);
	if (ret == 0)
		*fixed = l.n;
	return ret;
}
