/* SPDX-License-Identifier: MIT */
/*
 * The history of a unit's report for a period (every submission and every
 * decision, from the feeds' logs) and the latest decisions on this unit's
 * recent reports (for `strata status`).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/admin.h"
#include "node/records/records.h"
#include "node/report/report.h"

struct event {
	uint64_t time_ms;
	size_t order;              /* log order, for equal times */
	int decision;              /* 0: a submission */
	uint64_t seq;              /* the report */
	uint8_t author[KEY_BYTES]; /* who wrote the entry */
	char *comment;
};

struct hist {
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES]; /* the unit's */
	size_t nkeys;
	char hex[NODE_KEYS_MAX][KEY_HEX];
	const char *period;
	struct event *v;
	size_t n, cap;
	int ret;
};

static struct event *push(struct hist *h)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 16;
		struct event *v = realloc(h->v, cap * sizeof *v);

		if (!v) {
			h->ret = -ENOMEM;
			return NULL;
		}
		h->v = v;
		h->cap = cap;
	}
	memset(&h->v[h->n], 0, sizeof h->v[h->n]);
	h->v[h->n].order = h->n;
	return &h->v[h->n++];
}

static bool unit_key(const struct hist *h, const uint8_t key[KEY_BYTES])
{
	for (size_t i = 0; i < h->nkeys; i++)
		if (memcmp(h->keys[i], key, KEY_BYTES) == 0)
			return true;
	return false;
}

/* A report entry of the unit for the period. */
static void on_report(struct hist *h, const struct changeset *cs, const struct op *op)
{
	struct event *ev;

	if (!unit_key(h, cs->author) || op->key_len != strlen(h->period) || memcmp(op->key, h->period, op->key_len))
		return;
	if ((ev = push(h))) {
		ev->time_ms = cs->time_ms;
		ev->seq = cs->seq;
		memcpy(ev->author, cs->author, KEY_BYTES);
	}
}

/* An approval on one of the unit's keys for the period. */
static void on_approval(struct hist *h, const struct changeset *cs, const struct op *op)
{
	Strata__Approval *a;
	struct event *ev;
	bool mine = false;

	if (op->key_len != KEY_HEX + 7 || memcmp(op->key + KEY_HEX, h->period, 7) != 0 || !op->value)
		return;
	for (size_t i = 0; i < h->nkeys && !mine; i++)
		mine = memcmp(op->key, h->hex[i], KEY_HEX - 1) == 0;
	if (!mine || !(a = strata__approval__unpack(NULL, op->value_len, op->value)))
		return;
	if ((ev = push(h))) {
		ev->time_ms = cs->time_ms;
		ev->decision = a->decision;
		ev->seq = a->report_seq;
		memcpy(ev->author, cs->author, KEY_BYTES);
		if (a->comment && !(ev->comment = strdup(a->comment)))
			h->ret = -ENOMEM;
	}
	strata__approval__free_unpacked(a, NULL);
}

static int on_entry(const struct changeset *cs, uint64_t seq, const struct err *why, void *arg)
{
	struct hist *h = arg;

	(void)seq;
	(void)why;
	for (size_t i = 0; cs && i < cs->n_ops && h->ret == 0; i++) {
		const struct op *op = &cs->ops[i];

		if (op->kind != OP_PUT)
			continue;
		if (strcmp(op->collection, record_report.collection) == 0)
			on_report(h, cs, op);
		else if (strcmp(op->collection, record_approval.collection) == 0)
			on_approval(h, cs, op);
	}
	return h->ret;
}

static int event_cmp(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->time_ms != y->time_ms)
		return x->time_ms < y->time_ms ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* The events as JSON, names read in one transaction. */
static json_t *events_json(struct node *n, const struct hist *h, uint64_t end)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};
	json_t *arr = json_array();

	if (store_txn_begin(node_store(n), false, &t, &ignore) < 0)
		t = NULL;
	for (size_t i = 0; i < h->n; i++) {
		const struct event *ev = &h->v[i];
		char by[NODE_NAME_SIZE], at[REPORT_TIME_SIZE];
		json_t *o;

		if (!t || node_key_name(n, t, ev->author, by) < 0)
			key_hex(by, ev->author);
		report_time_text(ev->time_ms, at);
		o = json_pack("{s:s, s:I, s:s, s:s, s:I}", "time", at, "time_ms", (json_int_t)ev->time_ms, "event",
			      ev->decision ? report_decision_word(ev->decision) : N_("submitted"), "by", by, "seq",
			      (json_int_t)ev->seq);
		if (ev->comment)
			json_object_set_new(o, "comment", json_string(ev->comment));
		if (!ev->decision)
			json_object_set_new(o, "provisional", json_boolean(ev->time_ms < end));
		json_array_append_new(arr, o);
	}
	store_txn_abort(&t);
	return arr;
}

int report_history(struct node *n, const char *unit, const char *period, json_t **out, struct err *e)
{
	struct hist h = {.period = period};
	struct report_authority a;
	struct store_txn *t = NULL;
	uint64_t start, end;
	int ret;

	*out = NULL;
	if ((ret = report_authority_get(n, period, unit ? unit : node_name(n), &a, e)) < 0 ||
	    (ret = report_period_bounds(period, &start, &end)) < 0 ||
	    (ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	h.nkeys = node_unit_keys(n, t, a.key, h.keys, NODE_KEYS_MAX);
	store_txn_abort(&t);
	for (size_t i = 0; i < h.nkeys; i++)
		key_hex(h.hex[i], h.keys[i]);
	if ((ret = node_log_each(n, FEED_REPORT, on_entry, &h, e)) == 0 &&
	    (ret = node_log_each(n, FEED_DOWN, on_entry, &h, e)) == 0) {
		if (h.n)
			qsort(h.v, h.n, sizeof *h.v, event_cmp);
		*out = events_json(n, &h, end);
	} else if (ret == -ENOMEM) {
		err_set(e, "out of memory");
	}
	for (size_t i = 0; i < h.n; i++)
		free(h.v[i].comment);
	free(h.v);
	return ret < 0 ? ret : 0;
}

static int period_cmp(const void *a, const void *b)
{
	return -strcmp(((const struct report_lock *)a)->period, ((const struct report_lock *)b)->period);
}

int report_recent_decisions(struct node *n, size_t max, json_t **out, struct err *e)
{
	struct report_locks l = {0};
	struct store_txn *t = NULL;
	int ret;

	*out = NULL;
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	ret = report_decisions_all(n, t, &l, e);
	store_txn_abort(&t);
	if (ret < 0)
		return ret;
	if (l.n) /* qsort of NULL is undefined even for 0 elements (UBSan) */
		qsort(l.v, l.n, sizeof *l.v, period_cmp);
	*out = json_array();
	for (size_t i = 0; i < l.n && i < max; i++) {
		const struct report_decision *d = &l.v[i].d;
		char at[REPORT_TIME_SIZE];
		json_t *o;

		report_time_text(d->at_ms, at);
		o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "period", l.v[i].period, "decision",
			      report_decision_word(d->decision), "by", d->by, "time", at, "report_seq",
			      (json_int_t)d->report_seq);
		if (d->comment[0])
			json_object_set_new(o, "comment", json_string(d->comment));
		json_array_append_new(*out, o);
	}
	report_locks_free(&l);
	return 0;
}
