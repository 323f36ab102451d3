/* SPDX-License-Identifier: MIT */
/*
 * The history checks of `strata audit` in one read transaction: the
 * certificates held (each an entry verify_store checked, each author's
 * chain checked through its authorize hook) are counted, then transfers
 * and reports are checked across feeds.
 */
#include <errno.h>
#include <string.h>

#include "node/audit/completeness.h"
#include "node/audit/history.h"

int audit_history(struct node *n, struct audit_history_counts *c, const struct verify_hooks *h, struct err *e)
{
	struct audit_completeness *complete = h ? h->complete : NULL;
	struct store_txn *t = NULL;
	int ret;

	memset(c, 0, sizeof *c);
	if ((ret = store_txn_begin(node_store(n), false, &t, e)) < 0)
		return ret;
	if ((ret = store_state_count(t, "cert", NULL, &c->certificates, e)) < 0 ||
	    (ret = audit_transfers(n, t, c, h, e)) < 0 || (ret = audit_reports(n, t, c, h, e)) < 0)
		goto out;
	store_txn_abort(&t);
	if (complete) { /* the checkpoints met: carried, given, held */
		if ((ret = audit_completeness(n, complete, true, h, e)) < 0)
			goto out;
		c->failures += complete->failures;
	}
	ret = c->failures ? -EBADMSG : 0;
out:
	store_txn_abort(&t);
	return ret;
}
