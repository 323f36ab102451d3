/* SPDX-License-Identifier: MIT */
/*
 * List and export the records of any type of the engine (domain.h).
 */
#include <errno.h>
#include <string.h>

#include "node/core/node.h"
#include "node/domain/domain.h"

struct walk {
	const struct domain_filter *q;
	struct node *n;
	struct store_txn *txn;
	int (*fn)(const struct domain_row *r, void *arg);
	void *arg;
	size_t count;
	uint8_t last_owner[KEY_BYTES];
	char branch[NODE_NAME_SIZE];
};

static bool matches(const struct domain_filter *q, const ProtobufCMessage *m)
{
	char buf[RECORD_TEXT_SIZE];

	for (size_t i = 0; i < q->t->n_fields && i < DOMAIN_FIELDS_MAX; i++) {
		const char *want = q->value[i];

		if (!want)
			continue;
		record_get_text(q->t, m, &q->t->fields[i], buf, sizeof buf);
		if (q->t->fields[i].type == FIELD_MEMBERS) { /* one whole id of the list */
			bool found = false;
			char *save = NULL;

			for (char *id = strtok_r(buf, ",", &save); id && !found; id = strtok_r(NULL, ",", &save))
				found = strcmp(id, want) == 0;
			if (!found)
				return false;
		} else if (strcmp(buf, want) != 0) {
			return false;
		}
	}
	return true;
}

static int walk_one(const struct store_record *r, void *arg)
{
	struct walk *w = arg;
	const struct record_type *t = w->q->t;
	ProtobufCMessage *m;
	int ret = 0;

	if (r->value_len == 0) /* erased (strata erase): nothing to show */
		return 0;
	if (!(m = protobuf_c_message_unpack(t->descriptor, NULL, r->value_len, r->value)))
		return 0;
	if (memcmp(w->last_owner, r->owner, KEY_BYTES) != 0) {
		memcpy(w->last_owner, r->owner, KEY_BYTES);
		if (node_key_name(w->n, w->txn, r->owner, w->branch) < 0)
			hex_encode(w->branch, r->owner, 8);
	}
	if (matches(w->q, m)) {
		ProtobufCMessage *cm = record_companion_get(t, w->txn, r->owner, r->key, r->key_len);
		struct domain_row row = {.t = t, .m = m, .cm = cm, .branch = w->branch};

		ret = w->fn(&row, w->arg);
		record_free(cm);
		w->count++;
	}
	record_free(m);
	return ret;
}

int domain_record_each(const char *dir, const struct domain_filter *q, int (*fn)(const struct domain_row *r, void *arg),
		       void *arg, size_t *count, struct err *e)
{
	struct walk w = {.q = q, .fn = fn, .arg = arg};
	int ret;

	*count = 0;
	if ((ret = node_open(&w.n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0 ||
	    (ret = store_txn_begin(node_store(w.n), false, &w.txn, e)) < 0)
		goto out;
	memset(w.last_owner, 0xff, sizeof w.last_owner);
	if ((ret = fn(NULL, arg)) != 0)
		goto out;
	if (q->own) { /* this node's keys: the current one, then any it rotated away from */
		uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
		size_t nown = node_own_keys(w.n, w.txn, own, NODE_KEYS_MAX);

		for (size_t i = 0; i < nown && ret == 0; i++)
			ret = store_state_each(w.txn, q->t->collection, own[i], walk_one, &w, e);
	} else {
		ret = store_state_each(w.txn, q->t->collection, NULL, walk_one, &w, e);
	}
	*count = w.count;
out:
	store_txn_abort(&w.txn);
	node_close(&w.n);
	return ret;
}

json_t *domain_row_json(const struct domain_row *r, bool branch)
{
	json_t *j = record_json(r->t, r->m);

	record_companion_json(r->t, r->cm, j);
	if (branch)
		json_object_set_new(j, "branch", json_string(r->branch));
	return j;
}

static void csv_cell(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void domain_csv_header(FILE *f, const struct record_type *t, bool branch)
{
	size_t ncomp = record_companion_cols(t);

	if (branch)
		fputs("branch,", f);
	for (size_t i = 0; i < t->n_fields; i++)
		fprintf(f, "%s%c", t->fields[i].name, i + 1 < t->n_fields + ncomp ? ',' : '\n');
	for (size_t i = 0, k = 0; ncomp && i < t->companion->n_fields; i++)
		if (!(t->companion->fields[i].flags & FIELD_KEY))
			fprintf(f, ++k < ncomp ? "%s," : "%s\n", t->companion->fields[i].name);
}

void domain_csv_row(FILE *f, const struct domain_row *r, bool branch)
{
	const struct record_type *t = r->t;
	size_t ncomp = record_companion_cols(t);
	char buf[RECORD_TEXT_SIZE];

	if (branch) {
		csv_cell(f, r->branch);
		fputc(',', f);
	}
	for (size_t i = 0; i < t->n_fields; i++) {
		record_get_text(t, r->m, &t->fields[i], buf, sizeof buf);
		csv_cell(f, buf);
		fputc(i + 1 < t->n_fields + ncomp ? ',' : '\n', f);
	}
	for (size_t i = 0, k = 0; ncomp && i < t->companion->n_fields; i++) {
		if (t->companion->fields[i].flags & FIELD_KEY)
			continue;
		buf[0] = '\0';
		if (r->cm)
			record_get_text(t->companion, r->cm, &t->companion->fields[i], buf, sizeof buf);
		csv_cell(f, buf);
		fputc(++k < ncomp ? ',' : '\n', f);
	}
}

/* --- members with dues unpaid --- */

struct unpaid_walk {
	struct node *n;
	struct store_txn *txn;
	const char *period;
	char end[RECORD_DATE_SIZE];
	int (*fn)(const struct domain_unpaid *u, void *arg);
	void *arg;
	size_t count;
};

static int unpaid_one(const struct store_record *r, void *arg)
{
	struct unpaid_walk *w = arg;
	Strata__Member *m;
	Strata__Dues *d = NULL;
	char key[LIMIT_KEY_BYTES + 1];
	const uint8_t *v;
	size_t vl;
	struct err ignore = {0};
	int ret = 0;

	if (r->value_len == 0 || !(m = strata__member__unpack(NULL, r->value_len, r->value)))
		return 0; /* erased, or not decodable: the figure does not count it either */
	if (dues_member_due(m, w->end)) {
		if (dues_key(key, sizeof key, m->id, w->period) >= 0 &&
		    node_own_state_get(w->n, w->txn, record_dues.collection, (const uint8_t *)key, strlen(key), &v, &vl,
				       NULL, NULL, &ignore) == 0 && vl > 0)
			d = strata__dues__unpack(NULL, vl, v);
		if (dues_unpaid(m, d, w->period, w->end)) {
			struct domain_unpaid u = {.m = m, .d = d};

			ret = w->fn(&u, w->arg);
			w->count++;
		}
	}
	if (d)
		strata__dues__free_unpacked(d, NULL);
	strata__member__free_unpacked(m, NULL);
	return ret;
}

int domain_dues_unpaid(const char *dir, const char *period, int (*fn)(const struct domain_unpaid *u, void *arg),
		       void *arg, size_t *count, struct err *e)
{
	struct unpaid_walk w = {.period = period, .fn = fn, .arg = arg};
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown;
	int ret;

	*count = 0;
	snprintf(w.end, sizeof w.end, "%.7s-01", period ? period : "");
	if (!period || strlen(period) != 7 || !date_valid(w.end)) {
		err_set(e, "period \"%s\" is not a month written YYYY-MM", period ? period : "");
		return -EINVAL;
	}
	snprintf(w.end, sizeof w.end, "%s-31", period); /* the period's last day, as the figure compares */
	if ((ret = node_open(&w.n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0 ||
	    (ret = store_txn_begin(node_store(w.n), false, &w.txn, e)) < 0)
		goto out;
	if ((ret = fn(NULL, arg)) != 0)
		goto out;
	nown = node_own_keys(w.n, w.txn, own, NODE_KEYS_MAX);
	for (size_t i = 0; i < nown && ret == 0; i++)
		ret = store_state_each(w.txn, record_member.collection, own[i], unpaid_one, &w, e);
	*count = w.count;
out:
	store_txn_abort(&w.txn);
	node_close(&w.n);
	return ret;
}

json_t *domain_unpaid_json(const struct domain_unpaid *u)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "member", u->m->id, "name", u->m->name, "joined", u->m->joined);

	if (j)
		json_object_set_new(j, "amount", u->d ? json_integer((json_int_t)u->d->amount) : json_null());
	return j;
}
