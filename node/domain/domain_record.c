/* SPDX-License-Identifier: MIT */
/*
 * Add, update and show one record of any type of the engine (domain.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node.h"
#include "node/domain/domain.h"
#include "node/domain/domain_internal.h"
#include "node/report/report.h"

void domain_record_release(struct domain_record *r)
{
	record_free(r->m);
	record_free(r->cm);
	r->m = r->cm = NULL;
}

/* Sets m's fields from values (one per field of t); only_key: key fields only. */
static int fill(const struct record_type *t, const char *const *values, ProtobufCMessage *m, bool only_key,
		struct err *e)
{
	for (size_t i = 0; i < t->n_fields && i < DOMAIN_FIELDS_MAX; i++) {
		const struct record_field *f = &t->fields[i];
		int ret;

		if (!values[i] || (only_key && !(f->flags & FIELD_KEY)))
			continue;
		if ((ret = record_set(t, m, f, values[i], e)) < 0)
			return ret;
	}
	return 0;
}

int domain_check_input(const struct record_type *t, const ProtobufCMessage *m, struct store_txn *txn,
		       const struct node *n, struct err *e)
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, txn, own, NODE_KEYS_MAX);

	return record_check_input(t, m, txn, (const uint8_t(*)[32])own, nown, e);
}

int domain_load(const struct record_type *t, struct store_txn *txn, const struct node *n, const char *key,
		ProtobufCMessage **out, struct store_origin *o, struct err *e)
{
	const uint8_t *v;
	size_t vl;
	struct err why = {0};
	int ret = node_own_state_get(n, txn, t->collection, (const uint8_t *)key, strlen(key), &v, &vl, o, NULL, &why);

	if (ret == -ENOENT) {
		if (t->msg_absent)
			err_set(e, t->msg_absent, key);
		else
			err_set(e, "no %s %s at this node", err_gettext(t->noun), key);
		return -ESRCH;
	}
	if (ret < 0) {
		err_set(e, "%s", why.msg);
		return ret;
	}
	if (vl == 0) {
		if (t->msg_erased)
			err_set(e, t->msg_erased, key);
		else
			err_set(e, "%s %s was erased (strata erase): its value is kept nowhere", err_gettext(t->noun), key);
		return -ESRCH;
	}
	if (!(*out = protobuf_c_message_unpack(t->descriptor, NULL, vl, v))) {
		err_set(e, "stored %s %s does not decode; run strata verify", err_gettext(t->noun), key);
		return -EIO;
	}
	return 0;
}

int domain_put(struct node_writer *w, const struct record_type *t, const ProtobufCMessage *m, const char *key,
	       struct err *e)
{
	return node_writer_put_msg(w, t->collection, (const uint8_t *)key, strlen(key), m, e);
}

/* The companion's values: its key fields from in's, its other fields from
 * in->cvalue. true if any of the latter was given. */
static bool companion_values(const struct domain_input *in, const char *cv[DOMAIN_FIELDS_MAX])
{
	const struct record_type *c = in->t->companion;
	bool given = false;

	memset(cv, 0, DOMAIN_FIELDS_MAX * sizeof *cv);
	for (size_t j = 0; c && j < c->n_fields && j < DOMAIN_FIELDS_MAX; j++) {
		if (c->fields[j].flags & FIELD_KEY) {
			const struct record_field *f = record_field_find(in->t, c->fields[j].name);

			cv[j] = f ? in->value[f - in->t->fields] : NULL;
		} else if ((cv[j] = in->cvalue[j])) {
			given = true;
		}
	}
	return given;
}

/* Switches w to the companion's feed (*head: the head of the feed left)
 * and writes the companion record under key: the one held (if any) with
 * the given fields set. *cm receives it. */
static int put_companion(const struct domain_input *in, const char *const *cv, struct node_writer *w,
			 struct node *n, const char *key, ProtobufCMessage **cm, uint64_t *head, struct err *e)
{
	const struct record_type *c = in->t->companion;
	int ret;

	if ((ret = node_writer_switch(w, c->feed, head, e)) < 0)
		return ret;
	ret = domain_load(c, node_writer_txn(w), n, key, cm, NULL, e);
	if (ret == -ESRCH) { /* none yet, or erased: a new value */
		memset(e, 0, sizeof *e);
		if (!(*cm = record_new(c))) {
			err_set(e, "out of memory");
			return -ENOMEM;
		}
	} else if (ret < 0) {
		return ret;
	}
	if ((ret = fill(c, cv, *cm, false, e)) < 0 || (ret = domain_check_input(c, *cm, node_writer_txn(w), n, e)) < 0)
		return ret;
	return domain_put(w, c, *cm, key, e);
}

/* A new record of in->t with its key fields set; out->key its key. */
static int prepare(const struct domain_input *in, ProtobufCMessage **m, struct domain_record *out, struct err *e)
{
	int ret;

	if (!(*m = record_new(in->t))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	if ((ret = fill(in->t, in->value, *m, true, e)) < 0)
		return ret;
	return record_key(in->t, *m, out->key, sizeof out->key, e);
}

/* The record to write: the stored one (update: *m replaced) or the new one
 * (add: refused if one is stored). */
static int start(const struct record_type *t, struct node_writer *w, struct node *n, bool update, ProtobufCMessage **m,
		 const char *key, struct err *e)
{
	ProtobufCMessage *old = NULL;
	int ret = domain_load(t, node_writer_txn(w), n, key, &old, NULL, e);

	if (update) {
		if (ret < 0)
			return ret;
		record_free(*m);
		*m = old;
	} else if (ret == 0) {
		record_free(old);
		memset(e, 0, sizeof *e);
		err_set(e, "%s %s already exists (use strata %s update)", err_gettext(t->noun), key, t->collection);
		return -EEXIST;
	} else if (ret != -ESRCH) {
		return ret;
	}
	memset(e, 0, sizeof *e);
	return 0;
}

static int write_record(const char *dir, const struct domain_input *in, bool update, struct domain_record *out,
			struct err *e)
{
	const struct record_type *t = in->t;
	const char *cv[DOMAIN_FIELDS_MAX];
	struct node *n = NULL;
	struct node_writer *w = NULL;
	ProtobufCMessage *m = NULL, *cm = NULL;
	uint64_t head = 0, chead = 0;
	struct report_locks locks = {0};
	int ret;

	memset(out, 0, sizeof *out);
	out->t = t;
	/* locked periods: of the record as stored (update) and as written */
	if ((ret = prepare(in, &m, out, e)) < 0 || (ret = node_open(&n, dir, 0, e)) < 0 ||
	    (ret = node_writer_begin(n, t->feed, &w, e)) < 0 || (ret = start(t, w, n, update, &m, out->key, e)) < 0 ||
	    (ret = report_locks_load(n, node_writer_txn(w), &locks, e)) < 0 ||
	    (update && (ret = domain_lock_check(&locks, t, m, e)) < 0))
		goto out;
	if ((ret = fill(t, in->value, m, false, e)) < 0 || (ret = domain_lock_check(&locks, t, m, e)) < 0 ||
	    (ret = domain_check_input(t, m, node_writer_txn(w), n, e)) < 0 ||
	    (ret = domain_put(w, t, m, out->key, e)) < 0 ||
	    (companion_values(in, cv) && (ret = put_companion(in, cv, w, n, out->key, &cm, &head, e)) < 0) ||
	    (ret = node_writer_commit(&w, NULL, cm ? &chead : &head, e)) < 0)
		goto out;
	out->m = m;
	out->cm = cm;
	m = cm = NULL;
	snprintf(out->feed, sizeof out->feed, "%s", t->feed);
	out->seq = head;
	out->cseq = chead;
out:
	report_locks_free(&locks);
	node_writer_abort(&w);
	record_free(cm);
	record_free(m);
	node_close(&n);
	return ret;
}

int domain_record_add(const char *dir, const struct domain_input *in, struct domain_record *out, struct err *e)
{
	return write_record(dir, in, false, out, e);
}

int domain_record_update(const char *dir, const struct domain_input *in, struct domain_record *out, struct err *e)
{
	return write_record(dir, in, true, out, e);
}

int domain_record_get(const char *dir, const struct domain_input *in, struct domain_record *out, struct err *e)
{
	const struct record_type *t = in->t;
	struct node *n = NULL;
	struct store_txn *txn = NULL;
	ProtobufCMessage *probe = NULL;
	struct store_origin o;
	int ret;

	memset(out, 0, sizeof *out);
	out->t = t;
	if (!(probe = record_new(t))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	if ((ret = fill(t, in->value, probe, true, e)) < 0 || (ret = record_key(t, probe, out->key, sizeof out->key, e)) < 0 ||
	    (ret = node_open(&n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0 ||
	    (ret = store_txn_begin(node_store(n), false, &txn, e)) < 0 ||
	    (ret = domain_load(t, txn, n, out->key, &out->m, &o, e)) < 0)
		goto out;
	out->cm = record_companion_get(t, txn, node_id(n), (const uint8_t *)out->key, strlen(out->key));
	snprintf(out->feed, sizeof out->feed, "%s", o.feed);
	out->seq = o.seq;
out:
	record_free(probe);
	store_txn_abort(&txn);
	node_close(&n);
	return ret;
}

json_t *domain_record_json(const struct domain_record *r)
{
	json_t *j = record_json(r->t, r->m);

	record_companion_json(r->t, r->cm, j);
	json_object_set_new(j, "feed", json_string(r->feed));
	json_object_set_new(j, "seq", json_integer((json_int_t)r->seq));
	if (r->cseq)
		json_object_set_new(j, "companion", json_pack("{s:s, s:s, s:I}", "collection", r->t->companion->collection,
							      "feed", r->t->companion->feed, "seq", (json_int_t)r->cseq));
	return j;
}
