/* SPDX-License-Identifier: MIT */
/*
 * audit/history: the checks of `strata audit` that span feeds and need a
 * node (its trust and report logic), after verify_store has checked every
 * entry on its own: transfers between branches fit together (every
 * acceptance and forward names a real release, no member is active at two
 * branches at once), and every report's figures equal a recomputation from
 * the heads it names (node/report's recomputation, the same as `report
 * show`). Each failure goes through the verify hooks with its feed and seq.
 */
#ifndef STRATA_AUDIT_HISTORY_H
#define STRATA_AUDIT_HISTORY_H

#include <stddef.h>

#include "node/audit/audit.h"
#include "node/core/node.h"

/* What the history checks covered. */
struct audit_history_counts {
	size_t certificates;      /* certificate records held (each a verified entry) */
	size_t transfers;         /* acceptances and forwards checked against their release */
	size_t reports;           /* report entries recomputed from the heads they name */
	size_t reports_unchecked; /* report entries whose up feed this store does not hold far enough */
	size_t failures;
};

/* Checks transfers in the store of n as of read transaction t. Failures
 * through h (may be NULL) and counted in c. 0, or a negative code when the
 * store could not be read (e). */
int audit_transfers(struct node *n, struct store_txn *t, struct audit_history_counts *c,
		    const struct verify_hooks *h, struct err *e) WUR;

/* Recomputes every report entry of every report feed held: its own figures
 * from the author's up feed at the head the report names, its total as its
 * own plus the child reports it names. Failures and return as above. */
int audit_reports(struct node *n, struct store_txn *t, struct audit_history_counts *c,
		  const struct verify_hooks *h, struct err *e) WUR;

/* Runs every history check in one read transaction of n's store; c is
 * zeroed first. 0 when all hold, -EBADMSG when any failed, or another
 * negative code (e). */
int audit_history(struct node *n, struct audit_history_counts *c, const struct verify_hooks *h,
		  struct err *e) WUR;

/* audit_bundle (audit.h), then the history checks on its scratch node
 * before it is removed; x (may be NULL: skipped) receives their counts. */
int audit_bundle_history(const char *path, const uint8_t root[32], struct verify_counts *c,
			 struct audit_history_counts *x, const struct verify_hooks *h, struct err *e) WUR;

/* The caller's hooks (outer, may be NULL: failures, erased values and
 * progress are forwarded to it) with every author checked against n's
 * trust: its certificate chain allowing the feed (node_authorize), and not
 * revoked at each entry's time (node_check_revoked). th must outlive the
 * hooks returned (their arg). */
struct audit_trust_hooks {
	const struct verify_hooks *outer;
	struct node *n;
};
struct verify_hooks audit_trust_hooks_init(struct audit_trust_hooks *th, struct node *n,
					   const struct verify_hooks *outer);

/* `strata verify`: the store of the node in DIR (opened read-only, no key)
 * through verify_store, every author checked against that node's own trust
 * (audit_trust_hooks_init around h). Returns as verify_store does: 0,
 * -EBADMSG when anything failed (each through h), another negative code
 * (e) when the node cannot be opened or read. */
int verify_node(const char *dir, struct verify_counts *c, const struct verify_hooks *h, struct err *e) WUR;

/* `strata audit -d DIR`: the same with ROOT pinned as the only trusted
 * root (whatever the store says), then audit_history; c and x receive the
 * counts. 0 when everything holds, -EBADMSG when anything failed, another
 * negative code when the audit could not run (e). */
int audit_node(const char *dir, const uint8_t root[32], struct verify_counts *c, struct audit_history_counts *x,
	       const struct verify_hooks *h, struct err *e) WUR;

#endif
