/* SPDX-License-Identifier: MIT */
/*
 * One click: a node's report for a period. Its own figures from its own
 * records, plus the roll-up of the latest report of each child for the
 * period (a peer's report is not part of the total: a peer is another
 * organization, whose figures the host shows beside its own, never in them), computed and written in one write transaction so that
 * the heads it names are exactly the data it was computed from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/report.h"

struct rollup {
	struct node *node;
	struct store_txn *t;
	const char *period;
	struct figures *total;
	Strata__FeedHead *heads;
	size_t n, cap;
	ProtobufCBinaryData *accepted; /* the children whose rolled-up report this node accepted */
	size_t n_accepted;
	int ret;
};

int report_unit_get(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
		    const uint8_t **val, size_t *val_len, struct store_origin *origin, uint8_t author[KEY_BYTES])
{
	uint8_t keys[NODE_KEYS_MAX][KEY_BYTES];
	size_t nkeys = node_unit_keys(n, t, key, keys, NODE_KEYS_MAX);
	struct err ignore = {0};

	for (size_t i = 0; i < nkeys; i++)
		if (store_state_get(t, record_report.collection, keys[i], (const uint8_t *)period, strlen(period), val,
				    val_len, origin, &ignore) == 0) {
			memcpy(author, keys[i], KEY_BYTES);
			return 0;
		}
	return -ENOENT;
}

/* Did this node accept the child's report AUTHOR SEQ (its latest decision
 * on the unit of KEY for the period)? Then the report names it (u->accepted
 * has room for every child head: same capacity). */
static int note_accepted(struct rollup *u, const uint8_t key[KEY_BYTES], const uint8_t author[KEY_BYTES], uint64_t seq)
{
	struct report_decision d;
	struct err ignore = {0};
	ProtobufCBinaryData *a = realloc(u->accepted, u->cap * sizeof *a);

	if (!a)
		return -ENOMEM;
	u->accepted = a;
	if (report_decision_get(u->node, u->t, key, u->period, &d, &ignore) == 0 &&
	    d.decision == STRATA__DECISION__DECISION_ACCEPTED && d.report_seq == seq) {
		if (!(a[u->n_accepted].data = malloc(KEY_BYTES)))
			return -ENOMEM;
		memcpy(a[u->n_accepted].data, author, KEY_BYTES);
		a[u->n_accepted++].len = KEY_BYTES;
	}
	return 0;
}

static int add_child(const struct store_record *r, void *arg)
{
	struct rollup *u = arg;
	Strata__Certificate *c = strata__certificate__unpack(NULL, r->value_len, r->value);
	Strata__Report *rep = NULL;
	struct store_origin o;
	const uint8_t *v;
	size_t vl;
	uint8_t author[KEY_BYTES];

	if (!c)
		return 0;
	/* a child unit counts once (a peer's figures never do): under its current key, with the report any of
	 * its keys wrote last (report_unit_get) */
	if (c->role == STRATA__ROLE__ROLE_CHILD && c->subject.len == KEY_BYTES &&
	    node_key_successor(u->t, c->subject.data, author) < 0 &&
	    report_unit_get(u->node, u->t, c->subject.data, u->period, &v, &vl, &o, author) == 0 &&
	    (rep = strata__report__unpack(NULL, vl, v))) {
		if (u->n == u->cap) {
			size_t cap = u->cap ? 2 * u->cap : 16;
			Strata__FeedHead *h = realloc(u->heads, cap * sizeof *h);

			if (!h) {
				u->ret = -ENOMEM;
				goto out;
			}
			u->heads = h;
			u->cap = cap;
		}
		strata__feed_head__init(&u->heads[u->n]);
		u->heads[u->n].author.len = KEY_BYTES;
		u->heads[u->n].author.data = malloc(KEY_BYTES);
		if (!u->heads[u->n].author.data) {
			u->ret = -ENOMEM;
			goto out;
		}
		memcpy(u->heads[u->n].author.data, author, KEY_BYTES);
		u->heads[u->n].feed = FEED_REPORT;
		u->heads[u->n].seq = o.seq;
		u->n++;
		if ((u->ret = note_accepted(u, c->subject.data, author, o.seq)) < 0)
			goto out;
		int r = figures_add_proto(u->total, rep->total);

		if (r < 0)
			u->ret = r; /* -ERANGE: a figure beyond FIGURE_MAX */
	}
out:
	if (rep)
		strata__report__free_unpacked(rep, NULL);
	strata__certificate__free_unpacked(c, NULL);
	return u->ret;
}

/* r->own: this unit's figures for u->period in u->t; r->total: those and
 * the reports of its children (u gathers their heads). */
static int roll_up(struct rollup *u, struct report_result *r, struct err *e)
{
	uint8_t mine[NODE_KEYS_MAX][KEY_BYTES];
	size_t nmine;
	int ret;

	if ((ret = report_compute_state(u->node, u->t, node_id(u->node), u->period, &r->own, e)) < 0 ||
	    (ret = figures_copy(&r->total, &r->own)) < 0)
		return ret;
	u->total = &r->total;
	/* children certified by any of this unit's keys */
	nmine = node_own_keys(u->node, u->t, mine, NODE_KEYS_MAX);
	for (size_t i = 0; i < nmine; i++)
		if ((ret = store_state_each(u->t, "cert", mine[i], add_child, u, e)) < 0 || (ret = u->ret) < 0) {
			if (ret == -ERANGE)
				err_set(e, "the figures of %s with the child reports add up to more than %lld, the most a "
					   "figure may be; nothing written",
					u->period, FIGURE_MAX);
			return ret;
		}
	return 0;
}

/* A period that has begun (-EINVAL if not); *provisional while it runs. */
static int period_open(const char *period, bool *provisional, struct err *e)
{
	uint64_t start, end, now = node_now_ms();
	char at[REPORT_TIME_SIZE];

	if (report_period_bounds(period, &start, &end) < 0) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	if (now < start) {
		report_time_text(start, at);
		err_set(e, "period %s has not begun (it begins %s): a report is for a month under way or past", period, at);
		return -EINVAL;
	}
	*provisional = now < end;
	return 0;
}

int report_submit(struct node *n, const char *period, struct report_result *r, struct err *e)
{
	Strata__Report rep = STRATA__REPORT__INIT;
	Strata__Figures own = STRATA__FIGURES__INIT, total = STRATA__FIGURES__INIT;
	Strata__FeedHead up = STRATA__FEED_HEAD__INIT, *own_heads[1], **child_heads = NULL;
	struct rollup u = {.node = n, .period = period};
	struct node_writer *w = NULL;
	struct store_head h;
	struct err ignore = {0};
	uint8_t *buf = NULL;
	size_t len;
	int ret;

	memset(r, 0, sizeof *r);
	if ((ret = period_open(period, &r->provisional, e)) < 0 || (ret = node_writer_begin(n, FEED_REPORT, &w, e)) < 0)
		return ret;
	u.t = node_writer_txn(w);
	if ((ret = report_locked(n, u.t, period, e)) < 0) {
		char why[sizeof e->msg];

		snprintf(why, sizeof why, "%s", e->msg);
		memset(e, 0, sizeof *e);
		err_set(e, "not submitted: %s", why);
		goto out;
	}
	if ((ret = roll_up(&u, r, e)) < 0)
		goto out;
	ret = store_head_get(u.t, node_id(n), FEED_UP, &h, &ignore);
	if (ret < 0 && ret != -ENOENT)
		goto out;
	if (h.seq) {
		up.author.data = (uint8_t *)node_id(n);
		up.author.len = KEY_BYTES;
		up.feed = FEED_UP;
		up.seq = h.seq;
		own_heads[0] = &up;
		rep.n_heads = 1;
		rep.heads = own_heads;
	}
	ret = -ENOMEM;
	if (u.n && !(child_heads = calloc(u.n, sizeof *child_heads)))
		goto out;
	for (size_t i = 0; i < u.n; i++)
		child_heads[i] = &u.heads[i];
	rep.n_children = u.n;
	rep.children = child_heads;
	rep.n_accepted = u.n_accepted;
	rep.accepted = u.accepted;
	rep.period = (char *)period;
	figures_to_proto(&r->own, &own);
	figures_to_proto(&r->total, &total);
	rep.own = &own;
	rep.total = &total;
	len = strata__report__get_packed_size(&rep);
	if (!(buf = malloc(len)))
		goto out;
	strata__report__pack(&rep, buf);
	if ((ret = node_writer_put(w, record_report.collection, (const uint8_t *)period, strlen(period), buf, len, e)) < 0 ||
	    (ret = node_writer_commit(&w, NULL, &r->seq, e)) < 0)
		goto out;
	r->children = u.n;
	r->accepted = u.n_accepted;
out:
	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	if (ret < 0) {
		figures_clear(&r->own);
		figures_clear(&r->total);
	}
	node_writer_abort(&w);
	for (size_t i = 0; i < u.n; i++)
		free(u.heads[i].author.data);
	free(u.heads);
	for (size_t i = 0; i < u.n_accepted; i++)
		free(u.accepted[i].data);
	free(u.accepted);
	free(child_heads);
	free(buf);
	return ret;
}
