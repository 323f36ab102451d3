/* SPDX-License-Identifier: MIT */
/*
 * What a level sees of a period: its own report and, per child (with tree:
 * per descendant whose reports reached it), reported or not, on time or
 * late, accepted or returned, the figures, and whether the figures match a
 * recomputation from the very heads the report names. Also the decision
 * on a child's report (accept or return), a signed entry of the down feed.
 * Peers' reports are listed apart ("peers"): they are not in the total.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/records/records.h"
#include "node/report/report.h"

#define ISO_TIME_SIZE 32 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL, with room */
#define WHY_TEXT_SIZE 700 /* "not checked: " and the reason */

/* The end of the deadline day (UTC ms): day D of the month after PERIOD. */
static uint64_t deadline_ms(const char *period, unsigned day)
{
	struct tm tm = {0};

	tm.tm_year = atoi(period) - 1900;
	tm.tm_mon = atoi(period + 5); /* the next month (0-based: this is +1) */
	tm.tm_mday = (int)day + 1;
	return (uint64_t)timegm(&tm) * 1000;
}

static void iso(char out[ISO_TIME_SIZE], uint64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, ISO_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void figures_of(const Strata__Figures *p, struct figures *f)
{
	memset(f, 0, sizeof *f);
	if (figures_add_proto(f, p) < 0)
		figures_clear(f);
}

/* Recomputations already done, by (author, period, up head): a pure
 * function of signed, immutable log entries, so it is computed once and
 * kept in an index instead of replaying every descendant's up feed at each
 * `report show` (a city holds about a thousand of them). The last byte of
 * the key is the version of the figure definitions: a change to figures.c
 * that alters a recomputation must bump it. */
#define CHECK_INDEX "report-check"
#define CHECK_VERSION 1
#define CHECK_KEY_BYTES (KEY_BYTES + 7 + 8 + 1)

struct memo {
	uint8_t key[CHECK_KEY_BYTES];
	uint8_t *val;
	size_t len;
};

struct view {
	struct node *n;
	struct store_txn *t;
	const char *period;
	uint64_t deadline;
	bool tree;
	int ret;
	struct err *e;
	struct memo *memo; /* recomputations to keep once the view is read */
	size_t n_memo, cap_memo;
};

static void check_key(uint8_t k[CHECK_KEY_BYTES], const uint8_t author[KEY_BYTES], const char *period, uint64_t seq)
{
	memcpy(k, author, KEY_BYTES);
	memcpy(k + KEY_BYTES, period, 7);
	be64_put(k + KEY_BYTES + 7, seq);
	k[CHECK_KEY_BYTES - 1] = CHECK_VERSION;
}

/* The figures of KEY's up feed replayed to UP_SEQ for the period: from the
 * index if an earlier view computed them, else replayed (and queued for
 * the index). -ENOENT if this node does not hold that much of the feed. */
static int recompute(struct view *v, const uint8_t key[KEY_BYTES], uint64_t up_seq, struct figures *f,
		     struct err *e)
{
	uint8_t k[CHECK_KEY_BYTES];
	const uint8_t *val;
	size_t vl;
	struct err ignore = {0};
	Strata__Figures *p, tmp;
	struct memo *m;
	int ret;

	check_key(k, key, v->period, up_seq);
	if (store_index_get(v->t, CHECK_INDEX, k, sizeof k, &val, &vl, &ignore) == 0 &&
	    (p = strata__figures__unpack(NULL, vl, val))) {
		memset(f, 0, sizeof *f);
		ret = figures_add_proto(f, p);
		strata__figures__free_unpacked(p, NULL);
		if (ret == 0)
			return 0;
		figures_clear(f);
	}
	if ((ret = report_compute_replay(v->n, v->t, key, v->period, up_seq, f, e)) < 0)
		return ret;
	if (v->n_memo == v->cap_memo) {
		size_t cap = v->cap_memo ? 2 * v->cap_memo : 64;

		if (!(m = realloc(v->memo, cap * sizeof *m)))
			return 0; /* only the index is lost */
		v->memo = m;
		v->cap_memo = cap;
	}
	m = &v->memo[v->n_memo];
	memcpy(m->key, k, sizeof k);
	figures_to_proto(f, &tmp);
	m->len = strata__figures__get_packed_size(&tmp);
	if ((m->val = malloc(m->len ? m->len : 1))) {
		strata__figures__pack(&tmp, m->val);
		v->n_memo++;
	}
	return 0;
}

/* Keeps the queued recomputations, best effort: a store opened read-only,
 * or any failure, only means the next view replays them again. */
static void memo_save(struct view *v)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};
	size_t i;

	if (v->n_memo && store_txn_begin(node_store(v->n), true, &t, &ignore) == 0) {
		for (i = 0; i < v->n_memo; i++)
			if (store_index_put(t, CHECK_INDEX, v->memo[i].key, CHECK_KEY_BYTES, v->memo[i].val, v->memo[i].len,
					    &ignore) < 0)
				break;
		if (i == v->n_memo && store_txn_commit(&t, &ignore) == 0)
			t = NULL;
		store_txn_abort(&t);
	}
	for (i = 0; i < v->n_memo; i++)
		free(v->memo[i].val);
	free(v->memo);
	v->memo = NULL;
	v->n_memo = v->cap_memo = 0;
}

static json_t *node_json(struct view *v, const uint8_t key[KEY_BYTES], const uint8_t *issuer, const char *name,
			 const char *role, unsigned depth);

struct kids {
	struct view *v;
	const uint8_t *parent;
	json_t *arr;
	unsigned depth;
	Strata__Role role; /* children, or peers (listed apart, outside the total) */
};

static int add_kid(const struct store_record *r, void *arg)
{
	struct kids *k = arg;
	Strata__Certificate *c = strata__certificate__unpack(NULL, r->value_len, r->value);

	if (!c)
		return 0;
	/* a key replaced by rotation is shown as its unit's current key */
	if (c->role == k->role && c->subject.len == KEY_BYTES && memcmp(c->subject.data, k->parent, KEY_BYTES) != 0 &&
	    node_key_successor(k->v->t, c->subject.data, (uint8_t[KEY_BYTES]){0}) < 0)
		json_array_append_new(k->arr, node_json(k->v, c->subject.data, k->parent, c->name,
							cert_role_word(c->role), k->depth));
	strata__certificate__free_unpacked(c, NULL);
	return k->v->ret;
}

/* The approval this node's parent (issuer) wrote on its report. */
static json_t *decision(struct view *v, const uint8_t *issuer, const uint8_t key[KEY_BYTES], uint64_t seq)
{
	char k[KEY_HEX + 16];
	const uint8_t *val;
	size_t vl;
	struct err ignore = {0};
	Strata__Approval *a;
	json_t *j;

	if (!issuer)
		return json_null();
	key_hex(k, key);
	strcat(k, "/");
	strncat(k, v->period, 7);
	if (store_state_get(v->t, record_approval.collection, issuer, (const uint8_t *)k, strlen(k), &val, &vl, NULL,
			    &ignore) < 0 ||
	    !(a = strata__approval__unpack(NULL, vl, val)))
		/* a decision travels down from its parent: further up it is not seen */
		return memcmp(issuer, node_id(v->n), KEY_BYTES) == 0 ? json_string("pending") : json_null();
	if (a->report_seq != seq)
		j = json_string("pending (resubmitted after a decision)");
	else
		j = json_pack("{s:s, s:s*}", "decision", /* no comment given: no key, not null */
			      a->decision == STRATA__DECISION__DECISION_ACCEPTED ? "accepted" : "returned", "comment",
			      a->comment);
	strata__approval__free_unpacked(a, NULL);
	return j;
}

/* Recomputes the own figures from the up feed at the head the report rep
 * (by author) names, and says in o whether they match its own. */
static void check_json(struct view *v, json_t *o, const Strata__Report *rep, const uint8_t author[KEY_BYTES],
		       const struct figures *own)
{
	uint64_t up_seq = 0;
	struct figures again;
	char diff[FIGURES_DIFF_SIZE];
	struct err why = {0};
	int r;

	for (size_t i = 0; i < rep->n_heads; i++)
		if (strcmp(rep->heads[i]->feed, FEED_UP) == 0 && rep->heads[i]->author.len == KEY_BYTES &&
		    memcmp(rep->heads[i]->author.data, author, KEY_BYTES) == 0)
			up_seq = rep->heads[i]->seq;
	r = recompute(v, author, up_seq, &again, &why);
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

static json_t *node_json(struct view *v, const uint8_t key[KEY_BYTES], const uint8_t *issuer, const char *name,
			 const char *role, unsigned depth)
{
	json_t *o;
	char hex[KEY_HEX];
	const uint8_t *val;
	size_t vl;
	struct store_origin origin;
	struct err ignore = {0};
	Strata__Report *rep = NULL;
	uint8_t author[KEY_BYTES], keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(v->n, v->t, key, keys, NODE_KEYS_MAX);

	key_hex(hex, key);
	o = json_pack("{s:s, s:s, s:s}", "name", name, "key", hex, "role", role);
	if (report_unit_get(v->n, v->t, key, v->period, &val, &vl, &origin, author) == 0 &&
	    (rep = strata__report__unpack(NULL, vl, val))) {
		const uint8_t *env;
		size_t env_len;
		struct changeset *cs = NULL;
		uint64_t when = 0;
		char at[ISO_TIME_SIZE];
		struct figures own, total;

		if (store_log_get(v->t, author, FEED_REPORT, origin.seq, &env, &env_len, NULL, &ignore) == 0 &&
		    changeset_decode(&cs, env, env_len, &ignore) == 0)
			when = cs->time_ms;
		changeset_destroy(&cs);
		iso(at, when);
		figures_of(rep->own, &own);
		figures_of(rep->total, &total);
		json_object_set_new(o, "reported", json_true());
		json_object_set_new(o, "report_seq", json_integer((json_int_t)origin.seq));
		json_object_set_new(o, "submitted", json_string(at));
		json_object_set_new(o, "on_time", json_boolean(when <= v->deadline));
		/* a peer's report is not decided on (a decision travels in down) */
		json_object_set_new(o, "approval",
				    strcmp(role, "peer") == 0 ? json_null() : decision(v, issuer, author, origin.seq));
		json_object_set_new(o, "own", figures_json(&own));
		json_object_set_new(o, "total", figures_json(&total));
		json_object_set_new(o, "children_rolled_up", json_integer((json_int_t)rep->n_children));
		if (depth > 0)
			check_json(v, o, rep, author, &own);
		figures_clear(&own);
		figures_clear(&total);
		strata__report__free_unpacked(rep, NULL);
	} else {
		json_object_set_new(o, "reported", json_false());
		json_object_set_new(o, "on_time", json_boolean(node_now_ms() <= v->deadline));
	}
	if (depth == 0 || v->tree) {
		struct kids k = {.v = v, .parent = key, .arr = json_array(), .depth = depth + 1,
				 .role = STRATA__ROLE__ROLE_CHILD};
		struct kids p = {.v = v, .parent = key, .arr = json_array(), .depth = depth + 1,
				 .role = STRATA__ROLE__ROLE_PEER};

		/* children and peers certified by any of the unit's keys */
		for (size_t i = 0; i < nkeys; i++)
			if ((store_state_each(v->t, record_cert.collection, keys[i], add_kid, &k, v->e) < 0 ||
			     store_state_each(v->t, record_cert.collection, keys[i], add_kid, &p, v->e) < 0) &&
			    !v->ret)
				v->ret = -EIO;
		json_object_set_new(o, "children", k.arr);
		json_object_set_new(o, "peers", p.arr);
	}
	return o;
}

int report_view(struct node *n, const char *period, bool tree, json_t **out, struct err *e)
{
	struct view v = {.n = n, .period = period, .tree = tree, .e = e};
	char when[ISO_TIME_SIZE];
	json_t *root;
	int ret;

	if (!report_period_valid(period)) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	v.deadline = deadline_ms(period, node_config(n)->report_deadline_day);
	if ((ret = store_txn_begin(node_store(n), false, &v.t, e)) < 0)
		return ret;
	v.n = n;
	/* its own report's decision comes from its parent, whose down feed reached it */
	root = node_json(&v, node_id(n), node_config(n)->has_parent ? node_config(n)->parent_key : NULL, node_name(n),
			 "self", 0);
	store_txn_abort(&v.t);
	memo_save(&v);
	if (v.ret < 0) {
		json_decref(root);
		return v.ret;
	}
	iso(when, v.deadline);
	*out = json_pack("{s:s, s:s, s:o}", "period", period, "deadline", when, "node", root);
	return 0;
}

/* --- recomputations kept as reports arrive --- */

static int fill_one(const struct store_record *r, void *arg)
{
	struct view *v = arg;
	Strata__Report *rep;
	char period[REPORT_PERIOD_SIZE];
	uint64_t up_seq = 0;
	struct figures f;
	struct err ignore = {0};

	if (memcmp(r->owner, node_id(v->n), KEY_BYTES) == 0 || r->key_len != 7 ||
	    !(rep = strata__report__unpack(NULL, r->value_len, r->value)))
		return 0;
	memcpy(period, r->key, 7);
	period[7] = '\0';
	for (size_t i = 0; i < rep->n_heads; i++)
		if (strcmp(rep->heads[i]->feed, FEED_UP) == 0 && rep->heads[i]->author.len == KEY_BYTES &&
		    memcmp(rep->heads[i]->author.data, r->owner, KEY_BYTES) == 0)
			up_seq = rep->heads[i]->seq;
	strata__report__free_unpacked(rep, NULL);
	if (!report_period_valid(period))
		return 0;
	v->period = period;
	/* held already, or computed and queued; -ENOENT (the up feed has not
	 * arrived that far yet) is left to a later view */
	if (recompute(v, r->owner, up_seq, &f, &ignore) == 0)
		figures_clear(&f);
	v->period = NULL;
	return 0;
}

int report_checks_fill(struct node *n, const uint8_t *author, struct err *e)
{
	struct view v = {.n = n, .e = e};
	int ret;

	if ((ret = store_txn_begin(node_store(n), false, &v.t, e)) < 0)
		return ret;
	ret = store_state_each(v.t, record_report.collection, author, fill_one, &v, e);
	store_txn_abort(&v.t);
	memo_save(&v);
	return ret < 0 ? ret : 0;
}
