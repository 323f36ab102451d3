/* SPDX-License-Identifier: MIT */
/*
 * `strata revoke` as one operation: withdraw the certificates this unit
 * issued for an org path. A revocation record goes into this node's trust
 * feed; from its time on every node refuses entries signed by the revoked
 * key (and certificates it issues) and its connections (revoked.c). What it
 * signed before stays valid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/admin.h"
#include "node/core/node_internal.h"
#include "node/records/records.h"

struct find {
	const char *name;
	const uint8_t *self;
	uint8_t subjects[NODE_REVOKE_MAX][KEY_BYTES];
	size_t n;
	bool other;                  /* some other issuer certified the name */
	uint8_t other_issuer[KEY_BYTES];
};

/* The certificates one of this unit's keys issued (state "cert"). */
static int match_own(const struct store_record *r, void *arg)
{
	struct find *f = arg;
	Strata__Certificate *c;

	if (r->key_len != KEY_BYTES || !r->value || memcmp(r->key, f->self, KEY_BYTES) == 0 ||
	    !(c = strata__certificate__unpack(NULL, r->value_len, r->value)))
		return 0;
	if (strcmp(c->name, f->name) == 0 && f->n < NODE_REVOKE_MAX)
		memcpy(f->subjects[f->n++], r->key, KEY_BYTES);
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

/* The certificate index: subject -> issuer | certificate. */
static int match_any(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg)
{
	struct find *f = arg;
	Strata__Certificate *c;

	(void)key;
	if (key_len != KEY_BYTES || len < KEY_BYTES ||
	    !(c = strata__certificate__unpack(NULL, len - KEY_BYTES, val + KEY_BYTES)))
		return 0;
	if (strcmp(c->name, f->name) == 0) {
		f->other = true;
		memcpy(f->other_issuer, val, KEY_BYTES);
	}
	strata__certificate__free_unpacked(c, NULL);
	return 0;
}

/* Why this unit has no certificate of f->name to revoke. */
static int not_ours(struct node *n, struct store_txn *t, struct find *f, struct err *e)
{
	char issuer[NODE_NAME_MAX + 1] = "", hex[2 * 8 + 1];
	struct err ignore = {0};

	if (store_index_each(t, CERT_INDEX, match_any, f, &ignore) == 0 && f->other) {
		hex_encode(hex, f->other_issuer, 8);
		node_key_name(n, t, f->other_issuer, issuer);
		err_set(e, "%s was certified by %s (%s…), not by this node: only the issuer of a certificate may revoke it",
			f->name, issuer[0] ? issuer : "another node", hex);
		return -EPERM;
	}
	err_set(e, "no certificate for %s is known here", f->name);
	return -ESRCH;
}

/* Puts the revocation of subject (checked as ingest will check it). */
static int put_revocation(struct node_writer *w, const uint8_t subject[KEY_BYTES], const char *reason, uint64_t now,
			  struct err *e)
{
	Strata__Revocation r = STRATA__REVOCATION__INIT;
	uint8_t *buf;
	size_t len;
	int ret;

	r.subject.data = (uint8_t *)subject;
	r.subject.len = KEY_BYTES;
	r.reason = (char *)reason;
	r.revoked_ms = now;
	len = strata__revocation__get_packed_size(&r);
	if (!(buf = malloc(len))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	strata__revocation__pack(&r, buf);
	if ((ret = record_check("revocation", FEED_TRUST, subject, KEY_BYTES, buf, len, e)) == 0)
		ret = node_writer_put(w, "revocation", subject, KEY_BYTES, buf, len, e);
	free(buf);
	return ret;
}

/* Finds this unit's certificates of f->name (those of every key it had). */
static int find_own(struct node *n, struct store_txn *t, struct find *f, struct err *e)
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, t, own, NODE_KEYS_MAX);
	int ret;

	f->self = n->id;
	for (size_t i = 0; i < nown; i++)
		if ((ret = store_state_each(t, CERT_COLLECTION, own[i], match_own, f, e)) < 0)
			return ret;
	return 0;
}

int node_revoke(struct node *n, const char *name, const char *reason, struct node_revoke_result *out,
		struct err *e)
{
	struct find f = {.name = name};
	struct node_writer *w = NULL;
	struct store_txn *t;
	int ret;

	memset(out, 0, sizeof *out);
	out->revoked_ms = node_now_ms();
	if (!name || !org_path_valid(name)) {
		err_set(e, "not a valid org path");
		return -EINVAL;
	}
	if ((ret = node_writer_begin(n, FEED_TRUST, &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if ((ret = find_own(n, t, &f, e)) < 0)
		goto out;
	if (f.n == 0) {
		ret = not_ours(n, t, &f, e);
		goto out;
	}
	for (size_t i = 0; i < f.n; i++) {
		struct node_revocation old;
		struct err ignore = {0};

		if (node_revocation_get(t, f.subjects[i], &old, &ignore) == 0)
			continue; /* revoked already, or rotated away */
		if ((ret = put_revocation(w, f.subjects[i], reason, out->revoked_ms, e)) < 0)
			goto out;
		memcpy(out->keys[out->n++], f.subjects[i], KEY_BYTES);
	}
	if (out->n == 0) {
		err_set(e, "%s is revoked already", name);
		ret = -EEXIST;
		goto out;
	}
	ret = node_writer_commit(&w, NULL, NULL, e);
out:
	node_writer_abort(&w);
	if (ret < 0)
		out->n = 0;
	return ret;
}
