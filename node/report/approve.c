/* SPDX-License-Identifier: MIT */
/*
 * Acting on a report: who may (report_authority_get), which units below a
 * unit are expected to report (report_expected_each), and the signed
 * decision itself (report_decide: accept, return, reopen). The rules are
 * report.h's; docs/PROTOCOL.md "Approvals" states them for other nodes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/report.h"

#define MISSING_TEXT_SIZE 1200 /* the units a refused acceptance names, cut there */

static bool own_key(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES])
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, t, own, NODE_KEYS_MAX);

	for (size_t i = 0; i < nown; i++)
		if (memcmp(own[i], key, KEY_BYTES) == 0)
			return true;
	return false;
}

/* report_authority_get in transaction t. */
static int authority(struct node *n, struct store_txn *t, const char *period, const char *unit,
		     struct report_authority *a, struct err *e)
{
	uint8_t key[KEY_BYTES];
	struct node_chain c;
	struct err ignore = {0};
	const uint8_t *v;
	size_t vl;
	struct store_origin o;
	uint8_t author[KEY_BYTES];
	uint64_t start, end;
	int ret;

	memset(a, 0, sizeof *a);
	if (report_period_bounds(period, &start, &end) < 0) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	snprintf(a->unit, sizeof a->unit, "%s", unit);
	if (strcmp(unit, node_name(n)) == 0)
		memcpy(key, node_id(n), KEY_BYTES);
	else if ((ret = node_unit_named(t, unit, key, e)) < 0)
		return ret;
	else if (ret == 0) {
		err_set(e, "%s is not a child of %s, nor a unit below it that this node knows", unit, node_name(n));
		return -ESRCH;
	} else if (ret > 1) {
		err_set(e, "%d units are named %s; this node cannot tell which", ret, unit);
		return -EINVAL;
	}
	memcpy(a->key, key, KEY_BYTES);
	/* up its chain: is this node its parent, or further up? */
	node_chain_begin(&c, key);
	while (node_chain_next(t, &c, &ignore) == 0 && memcmp(c.subject, c.issuer, KEY_BYTES) != 0) {
		if (c.depth == 0 && node_key_name(n, t, c.issuer, a->parent) < 0)
			key_hex(a->parent, c.issuer);
		if (own_key(n, t, c.issuer)) {
			a->may_decide = c.depth == 0;
			a->may_reopen = true;
			break;
		}
	}
	node_chain_end(&c);
	if (report_unit_get(n, t, key, period, &v, &vl, &o, author) == 0) {
		a->reported = true;
		a->report_seq = o.seq;
		if (store_log_get(t, author, FEED_REPORT, o.seq, &v, &vl, NULL, &ignore) == 0) {
			struct changeset *cs = NULL;

			if (changeset_decode(&cs, v, vl, &ignore) == 0)
				a->submitted_ms = cs->time_ms;
			changeset_destroy(&cs);
		}
		a->provisional = a->submitted_ms < end;
	}
	return report_decision_get(n, t, key, period, &a->latest, e);
}

int report_authority_get(struct node *n, const char *period, const char *unit, struct report_authority *a,
			 struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	ret = authority(n, t, period, unit, a, e);
	store_txn_abort(&t);
	return ret;
}

struct expect {
	struct node *n;
	struct store_txn *t;
	const uint8_t *parent;
	uint64_t end;
	int (*fn)(const char *name, const uint8_t key[KEY_BYTES], void *arg);
	void *arg;
};

/* Did the unit of KEY exist before END: its first key's certificate? */
static bool existed(struct expect *x, const uint8_t key[KEY_BYTES])
{
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES], issuer[KEY_BYTES];
	size_t nkeys = node_unit_keys(x->n, x->t, key, keys, NODE_KEYS_MAX);
	Strata__Certificate *c = NULL;
	struct err ignore = {0};
	bool yes = false;

	if (node_cert_get(x->t, keys[nkeys - 1], issuer, &c, &ignore) == 0)
		yes = c->issued_ms < x->end;
	if (c)
		strata__certificate__free_unpacked(c, NULL);
	return yes;
}

static int expect_kid(const struct store_record *r, void *arg)
{
	struct expect *x = arg;
	Strata__Certificate *c = strata__certificate__unpack(NULL, r->value_len, r->value);
	struct node_revocation rv;
	struct err ignore = {0};
	int ret = 0;

	if (!c)
		return 0;
	if (c->role == STRATA__ROLE__ROLE_CHILD && c->subject.len == KEY_BYTES &&
	    memcmp(c->subject.data, x->parent, KEY_BYTES) != 0 &&
	    node_key_successor(x->t, c->subject.data, (uint8_t[KEY_BYTES]){0}) < 0 &&
	    node_revocation_get(x->t, c->subject.data, &rv, &ignore) < 0 && existed(x, c->subject.data))
		ret = x->fn(c->name, c->subject.data, x->arg);
	strata__certificate__free_unpacked(c, NULL);
	return ret;
}

int report_expected_each(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
			 int (*fn)(const char *name, const uint8_t key[KEY_BYTES], void *arg), void *arg,
			 struct err *e)
{
	struct expect x = {.n = n, .t = t, .parent = key, .fn = fn, .arg = arg};
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(n, t, key, keys, NODE_KEYS_MAX);
	uint64_t start;
	int ret = 0;

	if (report_period_bounds(period, &start, &x.end) < 0) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	/* children certified by any of the unit's keys */
	for (size_t i = 0; i < nkeys && ret == 0; i++)
		ret = store_state_each(t, record_cert.collection, keys[i], expect_kid, &x, e);
	return ret;
}

struct below {
	struct node *n;
	struct store_txn *t;
	const char *period;
	const Strata__Report *rep; /* the child's report */
	char text[MISSING_TEXT_SIZE];
	size_t count;
};

/* An expected unit below the child: is it among those the child accepted
 * in the report decided on? */
static int check_below(const char *name, const uint8_t key[KEY_BYTES], void *arg)
{
	struct below *b = arg;
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES], author[KEY_BYTES];
	size_t nkeys = node_unit_keys(b->n, b->t, key, keys, NODE_KEYS_MAX), len = strlen(b->text);
	const uint8_t *v;
	size_t vl;
	struct store_origin o;

	for (size_t i = 0; i < b->rep->n_accepted; i++)
		for (size_t k = 0; k < nkeys; k++)
			if (b->rep->accepted[i].len == KEY_BYTES && memcmp(b->rep->accepted[i].data, keys[k], KEY_BYTES) == 0)
				return 0;
	snprintf(b->text + len, sizeof b->text - len, "%s%s (%s)", b->count ? ", " : "", name,
		 report_unit_get(b->n, b->t, key, b->period, &v, &vl, &o, author) == 0 ? "not accepted" : "not reported");
	b->count++;
	return 0;
}

/* May the report of the unit in a (its latest, held in t) be accepted? */
static int may_accept(struct node *n, struct store_txn *t, const char *period, const struct report_authority *a,
		      struct err *e)
{
	struct below b = {.n = n, .t = t, .period = period};
	const uint8_t *v;
	size_t vl;
	struct store_origin o;
	uint8_t author[KEY_BYTES];
	int ret;

	/* a provisional report (the month under way) may be accepted: the
	 * month is then locked as it stands (report.h) */
	if ((ret = report_unit_get(n, t, a->key, period, &v, &vl, &o, author)) < 0 ||
	    !(b.rep = strata__report__unpack(NULL, vl, v))) {
		err_set(e, "the report of %s for %s does not decode; run strata verify", a->unit, period);
		return -EIO;
	}
	ret = report_expected_each(n, t, a->key, period, check_below, &b, e);
	strata__report__free_unpacked((Strata__Report *)b.rep, NULL);
	if (ret < 0)
		return ret;
	if (b.count) {
		err_set(e, "cannot accept the report of %s for %s: %zu unit%s below it %s not accepted by %s in that "
			   "report: %s; %s accepts them, then submits again",
			a->unit, period, b.count, b.count == 1 ? "" : "s", b.count == 1 ? "is" : "are", a->unit, b.text,
			a->unit);
		return -EACCES;
	}
	return 0;
}

/* Why this node may not VERB the report of a's unit; -ESRCH. */
static int not_allowed(struct node *n, const struct report_authority *a, enum report_verb verb, struct err *e)
{
	if (a->may_reopen && verb != REPORT_REOPEN)
		err_set(e, "%s is not a child of %s: it is decided by its parent %s; this node (%s) can reopen it",
			a->unit, node_name(n), a->parent, node_name(n));
	else if (a->parent[0])
		err_set(e, "%s is not a child of %s: it is decided by its parent %s%s", a->unit, node_name(n), a->parent,
			verb == REPORT_REOPEN ? ", which (or a level above it) can reopen it" : "");
	else
		err_set(e, "%s is not a child of %s: no level above it decides on its reports", a->unit, node_name(n));
	return -ESRCH;
}

/* Puts the approval (child, period, seq, decision, comment) through w. */
static int put_approval(struct node_writer *w, const uint8_t child[KEY_BYTES], const char *period, uint64_t seq,
			Strata__Decision decision, const char *comment, struct err *e)
{
	Strata__Approval a = STRATA__APPROVAL__INIT;
	char key[KEY_HEX + REPORT_PERIOD_SIZE];

	a.child.data = (uint8_t *)child;
	a.child.len = KEY_BYTES;
	a.period = (char *)period;
	a.report_seq = seq;
	a.decision = decision;
	a.comment = (char *)comment;
	key_hex(key, child);
	strcat(key, "/");
	strcat(key, period);
	return node_writer_put_msg(w, record_approval.collection, (const uint8_t *)key, strlen(key),
				   &a.base, e);
}

/* A reopen from further up: each level between this node and the unit
 * that has a report for the period is reopened too. This node does not
 * hold the decisions of the levels below it (their down feeds travel
 * down), so it cannot tell which were accepted: a reopen of a report that
 * was not accepted only says the period is open, which it was. */
static int reopen_between(struct node *n, struct node_writer *w, const uint8_t unit[KEY_BYTES], const char *period,
			  const char *comment, struct err *e)
{
	struct store_txn *t = node_writer_txn(w);
	struct node_chain c;
	struct err ignore = {0};
	int ret = 0;

	node_chain_begin(&c, unit);
	while (ret == 0 && node_chain_next(t, &c, &ignore) == 0 && !own_key(n, t, c.issuer) &&
	       memcmp(c.subject, c.issuer, KEY_BYTES) != 0) {
		const uint8_t *v;
		size_t vl;
		struct store_origin o;
		uint8_t author[KEY_BYTES];

		if (report_unit_get(n, t, c.issuer, period, &v, &vl, &o, author) == 0)
			ret = put_approval(w, author, period, o.seq, STRATA__DECISION__DECISION_REOPENED, comment, e);
	}
	node_chain_end(&c);
	return ret;
}

int report_decide(struct node *n, const char *period, const char *child, enum report_verb verb,
		  const char *comment, struct err *e)
{
	static const Strata__Decision decision[] = {STRATA__DECISION__DECISION_ACCEPTED,
						    STRATA__DECISION__DECISION_RETURNED,
						    STRATA__DECISION__DECISION_REOPENED};
	struct report_authority a;
	struct node_writer *w = NULL;
	struct store_txn *t;
	const uint8_t *v;
	size_t vl;
	struct store_origin o;
	uint8_t author[KEY_BYTES];
	int ret;

	if (!report_period_valid(period)) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	if (comment && (!*comment || !text_valid(comment, strlen(comment)) || strlen(comment) > REPORT_COMMENT_MAX)) {
		err_set(e, "the comment must be 1-%d bytes of text", REPORT_COMMENT_MAX);
		return -EINVAL;
	}
	if (!comment && verb != REPORT_ACCEPT) {
		err_set(e, "a %s needs a comment: say why", verb == REPORT_RETURN ? "return" : "reopen");
		return -EINVAL;
	}
	if ((ret = node_writer_begin(n, FEED_DOWN, &w, e)) < 0)
		return ret;
	t = node_writer_txn(w);
	if ((ret = authority(n, t, period, child, &a, e)) < 0)
		goto out;
	if (!(verb == REPORT_REOPEN ? a.may_reopen : a.may_decide)) {
		ret = not_allowed(n, &a, verb, e);
		goto out;
	}
	/* the report of the child's unit, by whichever key wrote it */
	if (report_unit_get(n, t, a.key, period, &v, &vl, &o, author) < 0) {
		ret = -ESRCH;
		err_set(e, "%s has not reported for %s", child, period);
		goto out;
	}
	if (verb == REPORT_ACCEPT && (ret = may_accept(n, t, period, &a, e)) < 0)
		goto out;
	/* the parent holds its own decisions; a level further up does not hold
	 * the parent's (they travel down), so it may reopen any report */
	if (verb == REPORT_REOPEN && a.may_decide && a.latest.decision != STRATA__DECISION__DECISION_ACCEPTED) {
		ret = -EACCES;
		err_set(e, "nothing to reopen: the report of %s for %s is %s", child, period,
			err_gettext(report_decision_word(a.latest.decision)));
		goto out;
	}
	if ((ret = put_approval(w, author, period, o.seq, decision[verb],
				comment, e)) < 0 ||
	    (verb == REPORT_REOPEN && !a.may_decide && (ret = reopen_between(n, w, a.key, period, comment, e)) < 0) ||
	    (ret = node_writer_commit(&w, NULL, NULL, e)) < 0)
		goto out;
out:
	node_writer_abort(&w);
	return ret;
}
