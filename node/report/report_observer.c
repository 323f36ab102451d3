/* SPDX-License-Identifier: MIT */
/*
 * The recomputation checks of reports as an observer of the node
 * (node_observe): after a batch that stored reports, each of their authors'
 * reports is checked now rather than at the first view.
 */
#include <stdio.h>
#include <string.h>

#include "node/report/report.h"
#include "protocol/protocol.h"

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
