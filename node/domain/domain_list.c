/* SPDX-License-Identifier: MIT */
/*
 * List and export the records of any type of the engine (domain.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node.h"
#include "node/domain/domain.h"

#define CSV_BOM "\xef\xbb\xbf" /* UTF-8's byte-order mark: Excel then opens the file as UTF-8 */
#define CSV_EOL "\r\n"          /* RFC 4180's line end, what Excel writes */
#define DOMAIN_BRANCH_ZH "单位"   /* the branch column of an export in Chinese */

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
	char buf[RECORD_TEXT_SIZE], norm[RECORD_INPUT_SIZE];
	struct err ignore = {0};
	int64_t fen;

	for (size_t i = 0; i < q->t->n_fields && i < DOMAIN_FIELDS_MAX; i++) {
		const char *want = q->value[i];

		if (!want)
			continue;
		/* the filter as the field reads input: 2026/1, 正式党员, 12.5 yuan */
		want = record_input_text(q->t, &q->t->fields[i], want, norm, sizeof norm);
		if (q->t->fields[i].type == FIELD_MONEY && record_yuan_parse("", want, INT64_MAX / 100, &fen, &ignore) == 0) {
			record_yuan_text(fen, norm);
			want = norm;
		}
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

/* Field f's column name: English, or Chinese (where t has one) with zh. */
static const char *column(const struct record_type *t, const struct record_field *f, bool zh)
{
	const char *z = zh ? record_field_zh(t, f) : NULL;

	return z ? z : f->name;
}

static void csv_header(FILE *f, const struct record_type *t, bool branch, bool zh)
{
	const struct record_type *c = t->companion;

	if (branch)
		fprintf(f, "%s,", zh ? DOMAIN_BRANCH_ZH : "branch");
	for (size_t i = 0; i < t->n_fields; i++) {
		csv_cell(f, column(t, &t->fields[i], zh));
		fputs(i + 1 < t->n_fields ? "," : "", f);
	}
	for (size_t i = 0; c && i < c->n_fields; i++)
		if (!(c->fields[i].flags & FIELD_KEY)) {
			fputc(',', f);
			csv_cell(f, column(c, &c->fields[i], zh));
		}
	fputs(CSV_EOL, f);
}

/* Field f of m as a cell: an enum word in Chinese with zh. */
static void field_cell(FILE *f, const struct record_type *t, const ProtobufCMessage *m, const struct record_field *fd,
		       bool zh, char *buf, size_t cap)
{
	const char *z;

	buf[0] = '\0';
	if (m)
		record_get_text(t, m, fd, buf, cap);
	z = zh && fd->type == FIELD_ENUM && buf[0] ? record_enum_zh(t, fd, buf) : NULL;
	csv_cell(f, z ? z : buf);
}

/* buf: RECORD_TEXT_SIZE bytes. */
static void csv_row(FILE *f, const struct domain_row *r, bool branch, bool zh, char *buf)
{
	const struct record_type *t = r->t, *c = t->companion;

	if (branch) {
		csv_cell(f, r->branch);
		fputc(',', f);
	}
	for (size_t i = 0; i < t->n_fields; i++) {
		field_cell(f, t, r->m, &t->fields[i], zh, buf, RECORD_TEXT_SIZE);
		fputs(i + 1 < t->n_fields ? "," : "", f);
	}
	for (size_t i = 0; c && i < c->n_fields; i++)
		if (!(c->fields[i].flags & FIELD_KEY)) {
			fputc(',', f);
			field_cell(f, c, r->cm, &c->fields[i], zh, buf, RECORD_TEXT_SIZE);
		}
	fputs(CSV_EOL, f);
}

struct export {
	FILE *f;
	const struct domain_filter *q;
	const struct domain_export_opts *o;
	char *buf; /* a field as text, RECORD_TEXT_SIZE */
};

static int export_row(const struct domain_row *r, void *arg)
{
	struct export *x = arg;
	bool zh = x->o && x->o->zh;

	if (!r) { /* the store is open */
		fputs(CSV_BOM, x->f);
		csv_header(x->f, x->q->t, !x->q->own, zh);
	} else {
		csv_row(x->f, r, !x->q->own, zh, x->buf);
	}
	return ferror(x->f) ? -EIO : 0;
}

int domain_export(const char *dir, const struct domain_filter *q, FILE *f, const struct domain_export_opts *o,
		  size_t *count, struct err *e)
{
	struct export x = {.f = f, .q = q, .o = o, .buf = malloc(RECORD_TEXT_SIZE)};
	int ret;

	*count = 0;
	if (!x.buf) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	ret = domain_record_each(dir, q, export_row, &x, count, e);
	free(x.buf);

	if (ret == -EIO && !e->msg[0])
		err_set(e, "cannot write the export: %s", strerror(errno));
	return ret;
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
