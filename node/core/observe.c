/* SPDX-License-Identifier: MIT */
/*
 * Observers: the functions domain modules (transfer, report checks)
 * register to react to entries a node stored, so that the code that
 * receives entries (node/sync) needs to know none of them. Contracts in
 * node.h.
 */
#include <errno.h>
#include <stdlib.h>

#include "node/core/node_internal.h"

struct node_observer {
	node_observer_fn fn;
	void *arg;
};

int node_observe(struct node *n, node_observer_fn fn, void *arg)
{
	struct node_observer *o = realloc(n->observers, (n->n_observers + 1) * sizeof *o);

	if (!o)
		return -ENOMEM;
	o[n->n_observers++] = (struct node_observer){fn, arg};
	n->observers = o;
	return 0;
}

void node_observers_run(struct node *n, const struct node_commit *c)
{
	for (size_t i = 0; i < n->n_observers; i++)
		n->observers[i].fn(n, c, n->observers[i].arg);
}
