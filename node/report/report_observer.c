/* SPDX-License-Identifier: MIT */
/*
 * The recomputation checks of reports as an observer of the node
 * (node_observe): after a batch that stored reports, each of their authors'
 * reports is checked now rather than at the first view.
 */
#include <stdio.h>
#include <string.h>

#include "node/records/records.h"
#include "node/report/report.h"
#include "protocol/protocol.h"

#define NOTE_SIZE (REPORT_COMMENT_MAX + 2 * NODE_NAME_SIZE + 128) /* one line of the log */

/* op of cs (a down entry) if it is a decision on one of this unit's keys:
 * the line "report P: returned by ORG/PATH: \"comment\"" for the log. */
static void note_decision(struct node *n, struct store_txn *t, const struct changeset *cs, const struct op *op,
			  const struct node_commit *c)
{
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES];
	size_t nown = node_own_keys(n, t, own, NODE_KEYS_MAX);
	Strata__Approval *a;
	char by[NODE_NAME_SIZE], line[NOTE_SIZE];
	bool mine = false;

	if (op->kind != OP_PUT || !op->value || strcmp(op->collection, record_approval.collection) != 0 ||
	    !(a = strata__approval__unpack(NULL, op->value_len, op->value)))
		return;
	for (size_t i = 0; i < nown && !mine; i++)
		mine = a->child.len == KEY_BYTES && memcmp(a->child.data, own[i], KEY_BYTES) == 0;
	if (mine) {
		if (node_key_name(n, t, cs->author, by) < 0)
			key_hex(by, cs->author);
		snprintf(line, sizeof line, "report %s of %s (report #%llu): %s by %s%s%s%s", a->period, node_name(n),
			 (unsigned long long)a->report_seq, report_decision_word(a->decision), by,
			 a->comment ? ": \"" : "", a->comment ? a->comment : "", a->comment ? "\"" : "");
		c->note(c->note_arg, line);
	}
	strata__approval__free_unpacked(a, NULL);
}

/* The decisions on this unit's reports that the batch brought. */
static void note_decisions(struct node *n, const struct node_commit *c)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};

	if (!c->note)
		return;
	/* a read transaction only for a batch that brought a down entry: the
	 * observer runs after every batch a link stores */
	for (size_t i = 0; i < c->count; i++)
		if (c->res[i] == 0 && c->cs[i] && strcmp(c->cs[i]->feed, FEED_DOWN) == 0 &&
		    memcmp(c->cs[i]->author, node_id(n), KEY_BYTES) != 0 &&
		    (t || store_txn_begin(node_store(n), false, &t, &ignore) == 0))
			for (size_t k = 0; k < c->cs[i]->n_ops; k++)
				note_decision(n, t, c->cs[i], &c->cs[i]->ops[k], c);
	store_txn_abort(&t);
}

/* Was a report of cs[i]'s author stored earlier in this batch? (one
 * author's reports are checked once a batch) */
static bool author_seen(const struct node_commit *c, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (c->res[k] == 0 && c->cs[k] && strcmp(c->cs[k]->feed, FEED_REPORT) == 0 &&
		    memcmp(c->cs[k]->author, c->cs[i]->author, KEY_BYTES) == 0)
			return true;
	return false;
}

static void observe(struct node *n, const struct node_commit *c, void *arg)
{
	(void)arg;
	if (c->event != NODE_EVENT_RECEIVED)
		return;
	note_decisions(n, c);
	for (size_t i = 0; i < c->count; i++) {
		struct err e = {0};

		if (c->res[i] != 0 || !c->cs[i] || strcmp(c->cs[i]->feed, FEED_REPORT) != 0 || author_seen(c, i))
			continue;
		if (report_checks_fill(n, c->cs[i]->author, &e) < 0 && c->note) {
			char msg[sizeof e.msg + 64];

			snprintf(msg, sizeof msg, "report checks not kept: %s", e.msg);
			c->note(c->note_arg, msg);
		}
	}
}

int report_observe(struct node *n)
{
	return node_observe(n, observe, NULL);
}
