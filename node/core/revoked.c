/* SPDX-License-Identifier: MIT */
/*
 * Revocations and rotations. A revocation in an issuer's `trust` feed
 * enters the "revoked" index when its author is the issuer of the key's
 * certificate (or that issuer's successor by rotation); a rotation is a
 * revocation with a successor, which then takes over the unit's records
 * (index "predecessor", read by unit.c). What a revoked key signed or
 * certified before its revocation stays valid.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/core/node_internal.h"
#include "node/records/records.h"

#define REVOKED_INDEX "revoked" /* subject -> revoked_ms (u64 BE) | revoker (32) [| successor (32)] */
#define SUCCESSORS_MAX 16 /* rotations followed from one key */

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
	char name[NODE_NAME_SIZE], by[NODE_NAME_SIZE], who[17], when[40], reason[300] = "";
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

int node_issued_before_revocation(struct store_txn *t, const uint8_t issuer[KEY_BYTES], const char *issuer_name,
				  const char *child_name, uint64_t issued_ms, struct err *e)
{
	struct node_revocation r;
	struct err ignore = {0};
	char who[17], when[40];
	int ret = node_revocation_get(t, issuer, &r, &ignore);

	if (ret == -ENOENT || (ret == 0 && r.revoked_ms > issued_ms))
		return 0;
	if (ret < 0) {
		err_set(e, "%s", ignore.msg);
		return ret;
	}
	hex_encode(who, issuer, 8);
	fmt_ms(when, r.revoked_ms);
	err_set(e, "the certificate of %s was issued by %s (%s…) after that key was revoked at %s", child_name,
		issuer_name, who, when);
	return -EACCES;
}

/* Is AUTHOR the key whose certificate of SUBJECT this node's index holds,
 * or that key's successor by rotation (transitively)? */
static bool effective_issuer(struct store_txn *t, const uint8_t subject[KEY_BYTES], const uint8_t author[KEY_BYTES])
{
	const uint8_t *v;
	size_t len;
	uint8_t k[KEY_BYTES];
	struct err ignore = {0};

	if (store_index_get(t, CERT_INDEX, subject, KEY_BYTES, &v, &len, &ignore) < 0 || len < KEY_BYTES)
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
	if (strcmp(cs->feed, FEED_TRUST) != 0)
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
		if (store_state_get(t, CERT_COLLECTION, cs->author, op->key, KEY_BYTES, &v, &len, NULL, &ignore) < 0 &&
		    !effective_issuer(t, op->key, cs->author)) {
			char who[17];

			hex_encode(who, op->key, 8);
			err_set(e, "op %zu: only the issuer of its certificate may revoke key %s…", i, who);
			return -EACCES;
		}
	}
	return 0;
}

/* The revocation of a key that counts, by signed data alone (so that a
 * store, its export and any order of arrival agree): among the accepted
 * revocations of the key (by its certificate's issuer or that issuer's
 * successor), the one with the earliest revoked_ms (an erased value: its
 * entry's time_ms); at equal times the smaller revoker key; at the same
 * revoker, the first in its feed (docs/PROTOCOL.md "Revocation"). */
static bool revocation_wins(uint64_t when, const uint8_t by[KEY_BYTES], const struct node_revocation *held)
{
	if (when != held->revoked_ms)
		return when < held->revoked_ms;
	return memcmp(by, held->by, KEY_BYTES) < 0;
}

int node_revocation_apply(struct store_txn *t, const struct changeset *cs, const struct op *op, struct err *e)
{
	uint8_t rec[8 + 2 * KEY_BYTES];
	uint64_t when = cs->time_ms;
	size_t len = 8 + KEY_BYTES;
	Strata__Revocation *r = NULL;
	struct node_revocation held;
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	int ret;

	if (op->kind != OP_PUT || op->key_len != KEY_BYTES || !effective_issuer(t, op->key, cs->author))
		return 0;
	/* an erased value: the entry's own time */
	if (op->value && (r = strata__revocation__unpack(NULL, op->value_len, op->value))) {
		when = r->revoked_ms;
		if (r->has_successor && r->successor.len == KEY_BYTES) {
			memcpy(rec + 8 + KEY_BYTES, r->successor.data, KEY_BYTES);
			len += KEY_BYTES;
		}
		strata__revocation__free_unpacked(r, NULL);
	}
	ret = node_revocation_get(t, op->key, &held, &ignore);
	if (ret == 0 && !revocation_wins(when, cs->author, &held))
		return 0;
	if (ret < 0 && ret != -ENOENT) {
		err_set(e, "%s", ignore.msg);
		return ret;
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

int node_revocation_recheck(struct store_txn *t, const uint8_t subject[KEY_BYTES], struct err *e)
{
	const uint8_t *v, *holder;
	size_t vl;
	struct store_origin o;
	struct changeset *entry = NULL;
	struct err ignore = {0};
	int ret = store_index_get(t, REVOKED_INDEX, subject, KEY_BYTES, &v, &vl, &ignore);

	if (ret == 0 && vl >= 8 + KEY_BYTES && effective_issuer(t, subject, v + 8))
		return 0; /* kept by a key that still may revoke it */
	if (ret == 0 && (ret = store_index_del(t, REVOKED_INDEX, subject, KEY_BYTES, e)) < 0)
		return ret;
	if (store_index_get(t, CERT_INDEX, subject, KEY_BYTES, &holder, &vl, &ignore) < 0 || vl < KEY_BYTES)
		return 0;
	/* the issuer that keeps it now: its own revocation of it, if its state holds one */
	if (store_state_get(t, "revocation", holder, subject, KEY_BYTES, &v, &vl, &o, &ignore) < 0)
		return 0;
	{
		const uint8_t *bytes;
		size_t len;
		struct op op = {.kind = OP_PUT, .collection = "revocation", .key = subject, .key_len = KEY_BYTES,
				.value = v, .value_len = vl};

		/* the entry that wrote it: its author and time (an erased value counts from it) */
		if (store_log_get(t, holder, o.feed, o.seq, &bytes, &len, NULL, &ignore) < 0 ||
		    changeset_decode(&entry, bytes, len, &ignore) < 0)
			return 0;
		ret = node_revocation_apply(t, entry, &op, e);
		changeset_destroy(&entry);
	}
	return ret;
}
