/* SPDX-License-Identifier: MIT */
/*
 * Auditing reports: every report entry of every report feed held, the
 * superseded ones too, is recomputed from the heads it names with
 * node/report's recomputation (the one `report show` uses): its own figures
 * from its author's up feed replayed to the named head, its total as its
 * own plus the totals of the child reports it names. A store that does not
 * hold the author's up feed that far (a level above up_depth) cannot
 * recompute it: that is counted, not failed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "node/audit/history.h"
#include "node/report/report.h"
#include "node/records/records.h"

struct walk {
	struct node *n;
	struct store_txn *t;
	struct audit_history_counts *c;
	const struct verify_hooks *h;
	const struct store_head *head;
	int ret;
};

static void fail(struct walk *w, uint64_t seq, const char *reason)
{
	w->c->failures++;
	if (w->h && w->h->failure)
		w->h->failure(&(struct verify_failure){.author = w->head->author, .feed = FEED_REPORT, .seq = seq,
						       .reason = reason},
			      w->h->arg);
}

static void figures_of(const Strata__Figures *p, struct figures *f, int *ret)
{
	memset(f, 0, sizeof *f);
	int r;

	if (p && (r = figures_add_proto(f, p)) < 0)
		*ret = r;
}

/* add_child: the entry a report names as a child's is held and holds no
 * report of the period: the report names something that is not a report. */
#define ADD_CHILD_NONE 2

/* Adds to sum the total of the child report (child, "report", seq) for
 * period. 1 when added, 0 when this store does not hold it (or the value
 * was erased), ADD_CHILD_NONE when the entry holds no report of the
 * period, <0 on error. */
static int add_child(struct walk *w, const Strata__FeedHead *fh, const char *period, struct figures *sum)
{
	const uint8_t *bytes;
	size_t len;
	struct changeset *cs = NULL;
	struct err ignore = {0};
	int found = 0;
	bool erased = false;

	if (fh->author.len != KEY_BYTES || strcmp(fh->feed, FEED_REPORT) != 0 ||
	    store_log_get(w->t, fh->author.data, FEED_REPORT, fh->seq, &bytes, &len, NULL, &ignore) < 0 ||
	    changeset_decode(&cs, bytes, len, &ignore) < 0)
		return 0;
	for (size_t i = 0; i < cs->n_ops && !found; i++) {
		const struct op *op = &cs->ops[i];
		Strata__Report *r;

		if (op->kind != OP_PUT || strcmp(op->collection, record_report.collection) != 0)
			continue;
		if (!op->value || !(r = strata__report__unpack(NULL, op->value_len, op->value))) {
			erased = true; /* no value to read: the child's total stays unchecked */
			continue;
		}
		if (strcmp(r->period, period) == 0 && (found = figures_add_proto(sum, r->total)) == 0)
			found = 1; /* else -ERANGE (beyond FIGURE_MAX) or -ENOMEM */
		strata__report__free_unpacked(r, NULL);
	}
	changeset_destroy(&cs);
	return found || erased ? found : ADD_CHILD_NONE;
}

static void check_report(struct walk *w, uint64_t seq, const Strata__Report *rep)
{
	const uint8_t *author = w->head->author;
	struct figures own, total, again = {0}, sum = {0};
	char diff[FIGURES_DIFF_SIZE], reason[FIGURES_DIFF_SIZE + 252]; /* the diff and the sentence around it */
	struct err why = {0};
	uint64_t up_seq = 0;
	bool children_held = true;
	int ret = 0, r;

	figures_of(rep->own, &own, &ret);
	figures_of(rep->total, &total, &ret);
	for (size_t i = 0; i < rep->n_heads; i++)
		if (strcmp(rep->heads[i]->feed, FEED_UP) == 0 && rep->heads[i]->author.len == KEY_BYTES &&
		    memcmp(rep->heads[i]->author.data, author, KEY_BYTES) == 0)
			up_seq = rep->heads[i]->seq;
	r = report_compute_replay(w->n, w->t, author, rep->period, up_seq, &again, &why);
	if (r == -ENOENT || r == -ENODATA) {
		/* not held that far, or counted a value erased by a request
		 * that keeps no residue of it (written before residues) */
		w->c->reports_unchecked++;
	} else if (r < 0) {
		ret = r;
	} else {
		w->c->reports++;
		if (figures_diff(&own, &again, diff, sizeof diff)) {
			snprintf(reason, sizeof reason, "report %s: its own figures differ from a recomputation from up #%llu: %s",
				 rep->period, (unsigned long long)up_seq, diff);
			fail(w, seq, reason);
		}
	}
	/* The total is its own figures plus the child reports it names. */
	if (ret == 0 && figures_copy(&sum, &own) < 0)
		ret = -ENOMEM;
	for (size_t i = 0; ret == 0 && i < rep->n_children; i++) {
		if ((r = add_child(w, rep->children[i], rep->period, &sum)) == -ERANGE) {
			snprintf(reason, sizeof reason,
				 "report %s: its own figures plus the %zu child report(s) it names add up to more than "
				 "%lld, the most a figure may be",
				 rep->period, rep->n_children, FIGURE_MAX);
			fail(w, seq, reason);
			children_held = false;
			break;
		}
		if (r == ADD_CHILD_NONE) {
			char who[17];

			hex_encode(who, rep->children[i]->author.data, 8);
			snprintf(reason, sizeof reason,
				 "report %s: child report %zu it names (%s…/report #%llu) holds no report for %s",
				 rep->period, i + 1, who, (unsigned long long)rep->children[i]->seq, rep->period);
			fail(w, seq, reason);
			children_held = false;
			continue;
		}
		if (r < 0)
			ret = r;
		children_held &= r == 1;
	}
	if (ret == 0 && children_held && figures_diff(&total, &sum, diff, sizeof diff)) {
		snprintf(reason, sizeof reason,
			 "report %s: its total differs from its own figures plus the %zu child report(s) it names: %s",
			 rep->period, rep->n_children, diff);
		fail(w, seq, reason);
	}
	figures_clear(&own);
	figures_clear(&total);
	figures_clear(&again);
	figures_clear(&sum);
	if (ret < 0 && !w->ret)
		w->ret = ret;
}

static int on_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct walk *w = arg;
	struct changeset *cs = NULL;
	struct err ignore = {0};

	(void)hash;
	if (changeset_decode(&cs, bytes, len, &ignore) < 0)
		return 0; /* verify_store reports it */
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		Strata__Report *rep;

		if (op->kind != OP_PUT || !op->value || strcmp(op->collection, record_report.collection) != 0)
			continue;
		if (!(rep = strata__report__unpack(NULL, op->value_len, op->value)))
			continue; /* verify_store's record check reports it */
		check_report(w, seq, rep);
		strata__report__free_unpacked(rep, NULL);
	}
	changeset_destroy(&cs);
	return w->ret;
}

static int on_feed(const struct store_head *h, void *arg)
{
	struct walk *w = arg;
	struct err ignore = {0};

	if (strcmp(h->feed, FEED_REPORT) != 0)
		return 0;
	w->head = h;
	if (store_log_each(w->t, h->author, FEED_REPORT, 1, h->seq, on_entry, w, &ignore) < 0 && !w->ret)
		return 0; /* a hole in the log: verify_store reports it */
	return w->ret;
}

int audit_reports(struct node *n, struct store_txn *t, struct audit_history_counts *c,
		  const struct verify_hooks *h, struct err *e)
{
	struct walk w = {.n = n, .t = t, .c = c, .h = h};
	int ret = store_heads_each(t, on_feed, &w, e);

	if (w.ret == -ENOMEM)
		err_set(e, "out of memory recomputing reports");
	return w.ret ? w.ret : ret;
}
