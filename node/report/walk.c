/* SPDX-License-Identifier: MIT */
/*
 * report show's walk (issue 14): this node, then depth first each child
 * (with tree: each descendant whose certificate reached it) and each peer,
 * one row per unit handed to a callback as it is read, without building
 * the tree: what it reads of the store was read first, in key order, into
 * tables of O(units) (gather.c, gather_tree.c). Per unit: whether it is expected
 * to report for the period, its report (on time, late or missing, by the
 * deadline in the node's time zone), the latest decision on it by a level
 * above, and (with figures) the figures and the recomputation check.
 *
 * Who is expected (the decision of issue 14): a child or descendant unit
 * that existed before the period ended (the first certificate of its unit,
 * across key rotations, issued before then) and was not revoked before
 * then; a peer or an auditor never is. A rotated unit is one unit: listed
 * once under its current key, its report by whichever of its keys wrote it
 * (node_unit_keys), its age from its first key's certificate.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/records/records.h"
#include "node/report/view_internal.h"

#define WHY_TEXT_SIZE 700     /* "not checked: " and the reason */
#define WHY_NOT_SIZE 96       /* "revoked on YYYY-MM-DD" and the like */
#define DAY_SIZE 16           /* "YYYY-MM-DD" and its NUL, with room */
/* The store's map is let go (store_map_release, report_map_tick) when the
 * resident memory passes a bound, $STRATA_VIEW_RSS_MB (0: never). The
 * walk reads its big regions in key order first (gather.c), so that what
 * it lets go it does not read again. docs/PERFORMANCE.md, "Issue 14". */
#define RSS_BOUND_MB 40 /* the default bound */

static int walk_unit(struct report_ctx *v, const uint8_t key[KEY_BYTES], const uint8_t *issuer,
		     const Strata__Certificate *c, const char *name, unsigned depth);

static void local_day(char out[DAY_SIZE], uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&s, &tm);
	strftime(out, DAY_SIZE, "%Y-%m-%d", &tm);
}

/* Is the unit of the child certificate C (current key KEY, its keys UKEYS)
 * expected to report for the period? If not, why into why. */
static bool expected_of(struct report_ctx *v, const Strata__Certificate *c, const uint8_t ukeys[][KEY_BYTES],
			size_t nukeys, char why[WHY_NOT_SIZE])
{
	uint64_t first = c->issued_ms;
	struct node_revocation r;
	struct err ignore = {0};
	char day[DAY_SIZE];

	for (size_t i = 1; i < nukeys; i++) {
		Strata__Certificate *old = NULL;
		uint8_t by[KEY_BYTES];

		if (node_cert_get(v->t, ukeys[i], by, &old, &ignore) == 0 && old->issued_ms < first)
			first = old->issued_ms;
		if (old)
			strata__certificate__free_unpacked(old, NULL);
	}
	if (node_revocation_get(v->t, ukeys[0], &r, &ignore) == 0 && !r.has_successor && r.revoked_ms < v->period_end) {
		local_day(day, r.revoked_ms);
		snprintf(why, WHY_NOT_SIZE, "revoked on %s", day);
		return false;
	}
	if (first >= v->period_end) {
		local_day(day, first);
		snprintf(why, WHY_NOT_SIZE, "joined on %s, after the period", day);
		return false;
	}
	return true;
}

/* Recomputes the own figures from the up feed at the head the report rep
 * (by author) names, and says in o whether they match its own. */
static void check_json(struct report_ctx *v, json_t *o, const Strata__Report *rep, const uint8_t author[KEY_BYTES],
		       const struct figures *own)
{
	struct figures again;
	char diff[FIGURES_DIFF_SIZE];
	struct err why = {0};
	int r = report_recompute(v, author, report_up_seq(rep, author), &again, &why);

	if (r == 0) {
		bool differs = figures_diff(own, &again, diff, sizeof diff);

		json_object_set_new(o, "check", json_string(differs ? "mismatch" : "matches"));
		if (differs)
			json_object_set_new(o, "mismatch", json_string(diff));
	} else if (r == -ENODATA) {
		char why_text[WHY_TEXT_SIZE];

		snprintf(why_text, sizeof why_text, "not checked: %s", why.msg);
		json_object_set_new(o, "check", json_string(why_text));
	} else {
		json_object_set_new(o, "check", json_string("not checked: this node does not hold its records"));
	}
	figures_clear(&again);
}

static void figures_of(const Strata__Figures *p, struct figures *f)
{
	memset(f, 0, sizeof *f);
	if (p && figures_add_proto(f, p) < 0)
		figures_clear(f);
}

static const char *const decision_words[] = {"pending", "accepted", "returned", "reopened"};

/* The approval of row r as report_view shows it: "pending", "pending
 * (resubmitted after a decision)", an object, or null. */
static json_t *approval_json(const struct report_row *r)
{
	char at[REPORT_ISO_SIZE];
	int d = r->decision.decision;

	if (r->peer || !r->decision_shown)
		return json_null();
	if (!d)
		return json_string("pending");
	if (r->decision.stale)
		return json_string("pending (resubmitted after a decision)");
	report_iso_utc(at, r->decision.at_ms);
	return json_pack("{s:s, s:s*, s:s, s:s}", "decision", /* no comment given: no key, not null */
			 d > 0 && d <= 3 ? decision_words[d] : "unknown", "comment",
			 r->decision.has_comment ? r->decision.comment : NULL, "by", r->decision.by, "at", at);
}

/* The unit's JSON object, without its children and peers. */
static json_t *unit_json(struct report_ctx *v, const struct report_row *r, const char *role, const Strata__Report *rep,
			 const uint8_t author[KEY_BYTES])
{
	static const char *const status[] = {"on_time", "late", "missing"};
	char hex[KEY_HEX], at[REPORT_ISO_SIZE];
	json_t *o;

	key_hex(hex, r->key);
	o = json_pack("{s:s, s:s, s:s}", "name", r->name, "key", hex, "role", role);
	json_object_set_new(o, "reported", json_boolean(rep != NULL));
	if (rep) {
		report_iso_utc(at, r->submitted_ms);
		json_object_set_new(o, "report_seq", json_integer((json_int_t)r->report_seq));
		json_object_set_new(o, "submitted", json_string(at));
	}
	json_object_set_new(o, "on_time", json_boolean(r->status == REPORT_ON_TIME));
	json_object_set_new(o, "status", json_string(status[r->status]));
	json_object_set_new(o, "expected", json_boolean(r->expected));
	if (!r->expected)
		json_object_set_new(o, "not_expected", json_string(r->why_not));
	if (!rep) {
		if (r->expected && r->depth > 0)
			json_object_set_new(o, "overdue", json_boolean(r->overdue));
		return o;
	}
	{
		struct figures own, total;

		/* a peer's report is not decided on (a decision travels in down) */
		json_object_set_new(o, "approval", approval_json(r));
		figures_of(rep->own, &own);
		figures_of(rep->total, &total);
		json_object_set_new(o, "own", figures_json(&own));
		json_object_set_new(o, "total", figures_json(&total));
		json_object_set_new(o, "children_rolled_up", json_integer((json_int_t)rep->n_children));
		if (r->depth > 0)
			check_json(v, o, rep, author, &own);
		figures_clear(&own);
		figures_clear(&total);
	}
	return o;
}

/* When the report entry at (author, report feed, seq) was signed. */
static uint64_t signed_ms(struct report_ctx *v, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq)
{
	const uint8_t *env;
	size_t env_len;
	struct changeset *cs = NULL;
	struct err ignore = {0};
	uint64_t when = 0;

	if (report_gather_time(v, author, feed, seq, &when) == 0)
		return when;
	if (store_log_get(v->t, author, feed, seq, &env, &env_len, NULL, &ignore) == 0 &&
	    changeset_decode(&cs, env, env_len, &ignore) == 0)
		when = cs->time_ms;
	changeset_destroy(&cs);
	return when;
}

/* The approval records by the keys of the unit of ISSUER on any of UKEYS
 * for the period: the newest into d. */
static void approvals_by(struct report_ctx *v, const uint8_t issuer[KEY_BYTES], const uint8_t ukeys[][KEY_BYTES],
			 size_t nukeys, uint64_t report_seq, struct report_decision *d)
{
	uint8_t ikeys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nik = node_unit_keys(v->n, v->t, issuer, ikeys, NODE_KEYS_MAX);
	char k[KEY_HEX + REPORT_PERIOD_SIZE];

	for (size_t u = 0; u < nukeys; u++) {
		key_hex(k, ukeys[u]);
		strcat(k, "/");
		strcat(k, v->period);
		for (size_t i = 0; i < nik; i++) {
			const uint8_t *val;
			size_t vl;
			struct store_origin o;
			struct err ignore = {0};
			Strata__Approval *a;
			uint64_t at;

			int got = report_gather_approval(v, ikeys[i], k, &val, &vl, &o.seq); /* 1: not gathered */

			if (got == 1)
				got = store_state_get(v->t, record_approval.collection, ikeys[i], (const uint8_t *)k, strlen(k),
						      &val, &vl, &o, &ignore);
			if (got < 0 || !(a = strata__approval__unpack(NULL, vl, val)))
				continue;
			at = signed_ms(v, ikeys[i], FEED_DOWN, o.seq);
			if (!d->decision || at >= d->at_ms) {
				d->decision = (int)a->decision;
				d->stale = a->report_seq != report_seq;
				d->at_ms = at;
				d->has_comment = a->comment != NULL;
				snprintf(d->comment, sizeof d->comment, "%s", a->comment ? a->comment : "");
				if (node_key_name(v->n, v->t, ikeys[i], d->by) < 0)
					key_hex(d->by, ikeys[i]); /* KEY_HEX < NODE_NAME_SIZE */
			}
			strata__approval__free_unpacked(a, NULL);
		}
	}
}

/* The issuer of SUBJECT's certificate in the index (node_cert_get). */
static int issuer_of(struct report_ctx *v, const uint8_t subject[KEY_BYTES], uint8_t by[KEY_BYTES])
{
	Strata__Certificate *c = NULL;
	struct err ignore = {0};
	int ret = report_tree_issuer(v, subject, by); /* 1: not listed */

	if (ret != 1)
		return ret;
	ret = node_cert_get(v->t, subject, by, &c, &ignore);
	if (c)
		strata__certificate__free_unpacked(c, NULL);
	return ret;
}

void report_row_decision(struct report_ctx *v, const uint8_t ukeys[][KEY_BYTES], size_t nukeys, const uint8_t *issuer,
			 uint64_t report_seq, struct report_decision *d, bool *shown)
{
	uint8_t subject[KEY_BYTES], by[KEY_BYTES];
	const struct node_config *cfg = node_config(v->n);
	bool any = false;

	memset(d, 0, sizeof *d);
	/* a decision travels down from the level that made it: the unit's
	 * issuer, or a level above it (a reopen); every issuer up the chain
	 * (node_chain_next's walk, its issuers listed first when they could
	 * be: issuer_of) */
	memcpy(subject, ukeys[0], KEY_BYTES);
	for (int depth = 0; depth < NODE_CHAIN_MAX && issuer_of(v, subject, by) == 0 &&
			    memcmp(by, subject, KEY_BYTES) != 0;
	     depth++) {
		approvals_by(v, by, ukeys, nukeys, report_seq, d);
		any = true;
		memcpy(subject, by, KEY_BYTES);
	}
	if (!any && !issuer && cfg->has_parent)
		approvals_by(v, cfg->parent_key, ukeys, nukeys, report_seq, d);
	*shown = d->decision != 0;
	/* none seen: "pending" where this node is the one to decide; further
	 * up a decision is not seen (it travels down) */
	for (size_t i = 0; issuer && i < v->n_own && !*shown; i++)
		*shown = memcmp(issuer, v->own[i], KEY_BYTES) == 0;
}

struct kids {
	struct report_ctx *v;
	const uint8_t *parent;
	unsigned depth;
	Strata__Role role; /* children, or peers (listed apart, outside the total) */
};

static int add_kid(const struct store_record *r, void *arg)
{
	struct kids *k = arg;
	Strata__Certificate *c = strata__certificate__unpack(NULL, r->value_len, r->value);
	int ret = 0;

	if (!c)
		return 0;
	/* a key replaced by rotation is shown as its unit's current key */
	if (c->role == k->role && c->subject.len == KEY_BYTES && memcmp(c->subject.data, k->parent, KEY_BYTES) != 0 &&
	    node_key_successor(k->v->t, c->subject.data, (uint8_t[KEY_BYTES]){0}) < 0)
		ret = walk_unit(k->v, c->subject.data, r->owner, c, c->name, k->depth);
	strata__certificate__free_unpacked(c, NULL);
	return ret;
}

/* Emits an event without a unit (PEERS, END). */
static int event(struct report_ctx *v, enum report_event ev, const uint8_t key[KEY_BYTES], const char *name,
		 unsigned depth)
{
	struct report_row row = {.event = ev, .depth = depth, .key = key, .name = name, .lists = true};

	return v->fn(&row, v->arg);
}

/* The children (or peers) of the unit whose keys are KEYS. */
static int list_kids(struct report_ctx *v, const uint8_t keys[][KEY_BYTES], size_t nkeys, const uint8_t *key,
		     unsigned depth, Strata__Role role)
{
	struct kids k = {.v = v, .parent = key, .depth = depth + 1, .role = role};
	int ret;

	/* children and peers certified by any of the unit's keys */
	for (size_t i = 0; i < nkeys; i++) {
		if (!report_tree_kids(v, keys[i], add_kid, &k, &ret)) /* not listed first */
			ret = store_state_each(v->t, record_cert.collection, keys[i], add_kid, &k, v->e);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/* The row of the unit KEY (certificate C by ISSUER; both NULL for this
 * node) before the figures: expected, status, decision. */
static void row_fill(struct report_ctx *v, struct report_row *row, const uint8_t keys[][KEY_BYTES], size_t nkeys,
		     const uint8_t *issuer, const Strata__Certificate *c, const Strata__Report *rep,
		     const uint8_t author[KEY_BYTES], uint64_t seq, char why[WHY_NOT_SIZE])
{
	row->peer = c && c->role == STRATA__ROLE__ROLE_PEER;
	row->expected = !row->peer && (!c || expected_of(v, c, keys, nkeys, why));
	if (row->peer)
		snprintf(why, WHY_NOT_SIZE, "a peer: listed apart, not in the total");
	row->why_not = row->expected ? NULL : why;
	if (rep) {
		row->report_seq = seq;
		row->submitted_ms = signed_ms(v, author, FEED_REPORT, seq);
		row->status = row->submitted_ms <= v->deadline ? REPORT_ON_TIME : REPORT_LATE;
	} else {
		row->status = REPORT_MISSING;
		row->overdue = v->now > v->deadline;
	}
	if (rep && !row->peer && v->o.figures) /* a summary shows no decisions */
		report_row_decision(v, keys, nkeys, issuer, seq, &row->decision, &row->decision_shown);
}

static int walk_unit(struct report_ctx *v, const uint8_t key[KEY_BYTES], const uint8_t *issuer,
		     const Strata__Certificate *c, const char *name, unsigned depth)
{
	struct report_row row = {.event = REPORT_EV_UNIT, .depth = depth, .name = name, .key = key};
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES], author[KEY_BYTES];
	size_t nkeys = node_unit_keys(v->n, v->t, key, keys, NODE_KEYS_MAX);
	char why[WHY_NOT_SIZE] = "";
	const uint8_t *val;
	size_t vl;
	struct store_origin origin = {0};
	Strata__Report *rep = NULL;
	int ret;

	row.lists = depth == 0 || (v->o.tree && depth < REPORT_LEVELS_MAX);
	ret = report_gather_report(v, keys, nkeys, &val, &vl, &origin.seq, author); /* 1: not gathered */
	if (ret == 1)
		ret = report_unit_get(v->n, v->t, key, v->period, &val, &vl, &origin, author);
	if (ret == 0)
		rep = strata__report__unpack(NULL, vl, val);
	row_fill(v, &row, keys, nkeys, issuer, c, rep, author, origin.seq, why);
	if (v->o.figures)
		row.unit = unit_json(v, &row, c ? cert_role_word(c->role) : "self", rep, author);
	if (rep)
		strata__report__free_unpacked(rep, NULL);
	ret = v->fn(&row, v->arg);
	json_decref(row.unit);
	report_map_tick(v);
	if (ret || !row.lists)
		return ret;
	if ((ret = list_kids(v, keys, nkeys, key, depth, STRATA__ROLE__ROLE_CHILD)) != 0 ||
	    (ret = event(v, REPORT_EV_PEERS, key, name, depth)) != 0 ||
	    (ret = list_kids(v, keys, nkeys, key, depth, STRATA__ROLE__ROLE_PEER)) != 0 ||
	    (ret = event(v, REPORT_EV_END, key, name, depth)) != 0)
		return ret;
	return 0;
}

int report_walk(struct node *n, const char *period, const struct report_walk_opts *o, report_row_fn fn, void *arg,
		uint64_t *deadline_ms, struct err *e)
{
	struct report_ctx v = {.n = n, .period = period, .o = *o, .fn = fn, .arg = arg, .e = e};
	int ret;

	if (!report_period_valid(period)) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	v.deadline = report_deadline_ms(period, node_config(n)->report_deadline_day);
	v.period_end = report_period_end_ms(period);
	v.now = node_now_ms();
	if (deadline_ms)
		*deadline_ms = v.deadline;
	if ((ret = store_txn_begin(node_store(n), false, &v.t, e)) < 0)
		return ret;
	v.n_own = node_own_keys(n, v.t, v.own, NODE_KEYS_MAX);
	v.rss_bound = (getenv("STRATA_VIEW_RSS_MB") ? strtoul(getenv("STRATA_VIEW_RSS_MB"), NULL, 10) : RSS_BOUND_MB)
		      << 20;
	/* first the units, then what they need in key order (gather.c); if
	 * that fails for memory, the walk reads the store as it goes */
	if (report_gather_begin(&v) < 0 || report_tree_list(&v) != 0 || report_gather(&v) < 0) {
		report_gather_end(&v);
		report_tree_end(&v);
	}
	/* its own report's decision comes from its parent, whose down feed reached it */
	ret = walk_unit(&v, node_id(n), NULL, NULL, node_name(n), 0);
	store_txn_abort(&v.t);
	report_gather_end(&v);
	report_tree_end(&v);
	report_memo_save(&v);
	return ret;
}
