/* SPDX-License-Identifier: MIT */
/*
 * The daemon's automatic transfer steps as an observer of the node
 * (node_observe): after a batch that stored a transfer record, and when
 * steps may be due (the daemon started, the write fence was lifted, a
 * command or a bundle changed the store), transfer_process takes them.
 */
#include <stdio.h>

#include "node/transfer/transfer.h"

static void observe(struct node *n, const struct node_commit *c, void *arg)
{
	struct err e = {0};

	(void)arg;
	if (c->event == NODE_EVENT_RECEIVED) {
		transfer_after_batch(n, c->cs, c->res, c->count, c->note, c->note_arg);
		return;
	}
	if (transfer_process(n, c->note, c->note_arg, &e) < 0 && c->note) {
		char msg[sizeof e.msg + 64];

		snprintf(msg, sizeof msg, "transfer step not taken: %s", e.msg);
		c->note(c->note_arg, msg);
	}
}

int transfer_observe(struct node *n)
{
	return node_observe(n, observe, NULL);
}
