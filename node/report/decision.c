/* SPDX-License-Identifier: MIT */
/*
 * Where a unit's report for a period stands: the decisions of the levels
 * above it that this node holds (approvals in their down feeds), the latest
 * one by signed time, who may act on it, the periods it locks, and the
 * bounds of a period in the node's time zone (report.h says the rules).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/records/records.h"
#include "node/report/report.h"

int report_period_bounds(const char *period, uint64_t *start_ms, uint64_t *end_ms)
{
	struct tm a = {0}, b = {0};
	time_t s, t;

	if (!report_period_valid(period))
		return -EINVAL;
	/* mktime: local time, TZ (the node's time zone); tm_isdst -1 lets it
	 * decide whether summer time applies */
	a.tm_year = b.tm_year = atoi(period) - 1900;
	a.tm_mon = atoi(period + 5) - 1;
	b.tm_mon = a.tm_mon + 1; /* December + 1: mktime carries into the next year */
	a.tm_mday = b.tm_mday = 1;
	a.tm_isdst = b.tm_isdst = -1;
	if ((s = mktime(&a)) == (time_t)-1 || (t = mktime(&b)) == (time_t)-1 || s < 0)
		return -EINVAL;
	*start_ms = (uint64_t)s * 1000;
	*end_ms = (uint64_t)t * 1000;
	return 0;
}

void report_time_text(uint64_t ms, char out[REPORT_TIME_SIZE])
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(out, REPORT_TIME_SIZE, "%Y-%m-%d %H:%M", &tm);
}

const char *report_decision_word(int decision)
{
	switch (decision) {
	case STRATA__DECISION__DECISION_ACCEPTED: return "accepted";
	case STRATA__DECISION__DECISION_RETURNED: return "returned";
	case STRATA__DECISION__DECISION_REOPENED: return "reopened";
	default: return "pending";
	}
}

/* The signed time of OWNER's down entry SEQ; 0 if it is not held. */
static uint64_t entry_time(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed, uint64_t seq)
{
	const uint8_t *env;
	size_t len;
	struct changeset *cs = NULL;
	struct err ignore = {0};
	uint64_t ms = 0;

	if (store_log_get(t, owner, feed, seq, &env, &len, NULL, &ignore) == 0 &&
	    changeset_decode(&cs, env, len, &ignore) == 0)
		ms = cs->time_ms;
	changeset_destroy(&cs);
	return ms;
}

struct walk {
	struct node *n;
	struct store_txn *t;
	uint8_t unit[NODE_KEYS_MAX][KEY_BYTES]; /* the unit's keys */
	size_t nunit;
	const char *period;  /* NULL: every period */
	bool parent;         /* the owner walked is the unit's parent */
	const uint8_t *owner_unit; /* that owner's current key (for its name) */
	int (*fn)(const char *period, const struct report_decision *d, void *arg);
	void *arg;
};

/* One approval of an ancestor: about one of the unit's keys? */
static int on_approval(const struct store_record *r, void *arg)
{
	struct walk *w = arg;
	char hex[KEY_HEX], period[REPORT_PERIOD_SIZE];
	struct report_decision d = {0};
	Strata__Approval *a;
	bool mine = false;
	int ret = 0;

	if (r->key_len != KEY_HEX - 1 + 1 + 7 || r->key[KEY_HEX - 1] != '/')
		return 0;
	memcpy(period, r->key + KEY_HEX, 7);
	period[7] = '\0';
	if (w->period && strcmp(period, w->period) != 0)
		return 0;
	for (size_t i = 0; i < w->nunit && !mine; i++) {
		key_hex(hex, w->unit[i]);
		mine = memcmp(hex, r->key, KEY_HEX - 1) == 0;
	}
	if (!mine || !(a = strata__approval__unpack(NULL, r->value_len, r->value)))
		return 0;
	/* the parent accepts, returns and reopens; a level further up only
	 * reopens (report_decide writes nothing else there) */
	if (w->parent || a->decision == STRATA__DECISION__DECISION_REOPENED) {
		d.decision = a->decision;
		d.report_seq = a->report_seq;
		d.at_ms = entry_time(w->t, r->owner, FEED_DOWN, r->origin.seq);
		if (node_key_name(w->n, w->t, w->owner_unit, d.by) < 0)
			key_hex(d.by, w->owner_unit);
		snprintf(d.comment, sizeof d.comment, "%s", a->comment ? a->comment : "");
		d.has_comment = a->comment != NULL;
		ret = w->fn(period, &d, w->arg);
	}
	strata__approval__free_unpacked(a, NULL);
	return ret;
}

/* The owner's approvals of the unit's keys for w->period, read by key (a
 * level may hold thousands of approvals: no walk over them). */
static int approvals_of(struct walk *w, const uint8_t owner[KEY_BYTES], struct err *e)
{
	char key[KEY_HEX + REPORT_PERIOD_SIZE];
	struct store_record r = {.collection = record_approval.collection, .owner = owner};
	struct err ignore = {0};
	int ret = 0;

	(void)e;
	for (size_t i = 0; i < w->nunit && ret == 0; i++) {
		key_hex(key, w->unit[i]);
		strcat(key, "/");
		strcat(key, w->period);
		r.key = (const uint8_t *)key;
		r.key_len = strlen(key);
		if (store_state_get(w->t, record_approval.collection, owner, r.key, r.key_len, &r.value, &r.value_len,
				    &r.origin, &ignore) == 0)
			ret = on_approval(&r, w);
	}
	return ret;
}

int report_decisions_each(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
			  int (*fn)(const char *period, const struct report_decision *d, void *arg), void *arg,
			  struct err *e)
{
	struct walk w = {.n = n, .t = t, .period = period, .fn = fn, .arg = arg};
	struct node_chain c;
	struct err ignore = {0};
	int ret = 0;

	w.nunit = node_unit_keys(n, t, key, w.unit, NODE_KEYS_MAX);
	/* the levels above the unit: the issuers up its certificate chain */
	node_chain_begin(&c, key);
	while (ret == 0 && node_chain_next(t, &c, &ignore) == 0) {
		uint8_t above[NODE_KEYS_MAX][KEY_BYTES];
		size_t nabove;

		if (memcmp(c.subject, c.issuer, KEY_BYTES) == 0)
			break;
		w.parent = c.depth == 0;
		w.owner_unit = c.issuer;
		nabove = node_unit_keys(n, t, c.issuer, above, NODE_KEYS_MAX);
		for (size_t i = 0; i < nabove && ret == 0; i++)
			ret = period ? approvals_of(&w, above[i], e)
				     : store_state_each(t, record_approval.collection, above[i], on_approval, &w, e);
	}
	node_chain_end(&c);
	return ret;
}

static int keep_latest(const char *period, const struct report_decision *d, void *arg)
{
	struct report_decision *best = arg;

	(void)period;
	/* the latest by signed time; at the same millisecond a reopen wins */
	if (!best->decision || d->at_ms > best->at_ms ||
	    (d->at_ms == best->at_ms && d->decision == STRATA__DECISION__DECISION_REOPENED))
		*best = *d;
	return 0;
}

int report_decision_get(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
			struct report_decision *d, struct err *e)
{
	memset(d, 0, sizeof *d);
	return report_decisions_each(n, t, key, period, keep_latest, d, e);
}

/* --- locks --- */

static int lock_add(const char *period, const struct report_decision *d, void *arg)
{
	struct report_locks *l = arg;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].period, period) == 0) {
			keep_latest(period, d, &l->v[i].d);
			return 0;
		}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct report_lock *v = realloc(l->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	snprintf(l->v[l->n].period, sizeof l->v[l->n].period, "%s", period);
	l->v[l->n++].d = *d;
	return 0;
}

int report_decisions_all(struct node *n, struct store_txn *t, struct report_locks *l, struct err *e)
{
	int ret;

	memset(l, 0, sizeof *l);
	if ((ret = report_decisions_each(n, t, node_id(n), NULL, lock_add, l, e)) < 0) {
		if (ret == -ENOMEM)
			err_set(e, "out of memory");
		report_locks_free(l);
	}
	return ret;
}

int report_locks_load(struct node *n, struct store_txn *t, struct report_locks *l, struct err *e)
{
	size_t k = 0;
	int ret;

	if ((ret = report_decisions_all(n, t, l, e)) < 0)
		return ret;
	/* keep the periods whose latest decision is an acceptance */
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].d.decision == STRATA__DECISION__DECISION_ACCEPTED)
			l->v[k++] = l->v[i];
	l->n = k;
	return 0;
}

void report_locks_free(struct report_locks *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}

const struct report_lock *report_locks_find(const struct report_locks *l, const char *period)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].period, period) == 0)
			return &l->v[i];
	return NULL;
}

void report_lock_text(const struct report_lock *k, char *out, size_t cap)
{
	char at[REPORT_TIME_SIZE];

	report_time_text(k->d.at_ms, at);
	at[10] = '\0'; /* the day */
	snprintf(out, cap, "period %s was accepted by %s on %s; ask it to reopen", k->period, k->d.by, at);
}

int report_locked(struct node *n, struct store_txn *t, const char *period, struct err *e)
{
	struct report_lock k = {0};
	int ret;

	if ((ret = report_decision_get(n, t, node_id(n), period, &k.d, e)) < 0)
		return ret;
	if (k.d.decision != STRATA__DECISION__DECISION_ACCEPTED)
		return 0;
	snprintf(k.period, sizeof k.period, "%s", period);
	report_lock_text(&k, e->msg, sizeof e->msg);
	return -EACCES;
}
