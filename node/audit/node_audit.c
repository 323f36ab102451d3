/* SPDX-License-Identifier: MIT */
/*
 * `strata verify` and `strata audit` of a node's store as one call each:
 * the store opened read-only, every author checked against the node's
 * trust (certificate chains to its pinned root, revocations at each
 * entry's time), what the walk finds handed to the caller's hooks. The
 * same trust hooks serve the bundle audit's scratch node.
 */
#include <errno.h>

#include "node/audit/history.h"

static void fwd_failure(const struct verify_failure *f, void *arg)
{
	const struct audit_trust_hooks *s = arg;

	if (s->outer && s->outer->failure)
		s->outer->failure(f, s->outer->arg);
}

static void fwd_evidence(const struct verify_evidence *x, void *arg)
{
	const struct audit_trust_hooks *s = arg;

	if (s->outer && s->outer->evidence)
		s->outer->evidence(x, s->outer->arg);
}

static void fwd_erased(const struct verify_erased *x, void *arg)
{
	const struct audit_trust_hooks *s = arg;

	if (s->outer && s->outer->erased)
		s->outer->erased(x, s->outer->arg);
}

static void fwd_progress(size_t done, size_t total, void *arg)
{
	const struct audit_trust_hooks *s = arg;

	if (s->outer && s->outer->progress)
		s->outer->progress(done, total, s->outer->arg);
}

static int trust_authorize(struct store_txn *t, const uint8_t author[32], const char *feed, struct err *e, void *arg)
{
	return node_authorize(((const struct audit_trust_hooks *)arg)->n, t, author, feed, 0, e);
}

/* An entry signed by a revoked key at or after its revocation fails. */
static int trust_entry(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
		       uint64_t time_ms, struct err *e, void *arg)
{
	(void)feed;
	(void)seq;
	return node_check_revoked(((const struct audit_trust_hooks *)arg)->n, t, author, time_ms, e);
}

struct verify_hooks audit_trust_hooks_init(struct audit_trust_hooks *th, struct node *n,
					   const struct verify_hooks *outer)
{
	th->outer = outer;
	th->n = n;
	return (struct verify_hooks){.failure = fwd_failure, .evidence = fwd_evidence, .erased = fwd_erased,
				     .authorize = trust_authorize, .entry = trust_entry, .progress = fwd_progress,
				     .arg = th, .complete = outer ? outer->complete : NULL};
}

int verify_node(const char *dir, struct verify_counts *c, const struct verify_hooks *h, struct err *e)
{
	struct audit_trust_hooks th;
	struct verify_hooks hooks;
	struct node *n = NULL;
	int ret;

	if ((ret = node_open(&n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0)
		return ret;
	hooks = audit_trust_hooks_init(&th, n, h);
	ret = verify_store(node_store(n), c, &hooks, e);
	node_close(&n);
	return ret;
}

int audit_node(const char *dir, const uint8_t root[32], struct verify_counts *c, struct audit_history_counts *x,
	       const struct verify_hooks *h, struct err *e)
{
	struct audit_trust_hooks th;
	struct verify_hooks hooks;
	struct node *n = NULL;
	int ret;

	if ((ret = node_open(&n, dir, NODE_RDONLY | NODE_NO_KEY, e)) < 0)
		return ret;
	node_pin_root(n, root);
	hooks = audit_trust_hooks_init(&th, n, h);
	/* Every check of `strata verify` (kept evidence of equivocation too),
	 * then the history checks. */
	ret = verify_store(node_store(n), c, &hooks, e);
	if (ret < 0 && ret != -EBADMSG)
		goto out;
	ret = audit_history(n, x, &hooks, e);
	if (ret < 0 && ret != -EBADMSG)
		goto out;
	ret = c->failures || x->failures ? -EBADMSG : 0;
out:
	node_close(&n);
	return ret;
}
