/* SPDX-License-Identifier: MIT */
/*
 * Shared by the files of report show (view.c: the recomputation index and
 * decisions; walk.c: the walk; view_json.c and summary.c: its outputs).
 * Not a public header: node/report only.
 */
#ifndef STRATA_REPORT_VIEW_INTERNAL_H
#define STRATA_REPORT_VIEW_INTERNAL_H

#include "node/report/report.h"

#define REPORT_ISO_SIZE 32 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL, with room */

/* A recomputation to keep in the index once the view is read. */
struct report_memo;

/* One view being read: the walk's context. */
struct report_ctx {
	struct node *n;
	struct store_txn *t;
	const char *period;
	uint64_t deadline, period_end, now;
	struct report_walk_opts o;
	report_row_fn fn;
	void *arg;
	int ret;
	struct err *e;
	uint8_t own[NODE_KEYS_MAX][KEY_BYTES]; /* this node's keys */
	size_t n_own;
	unsigned long since_release; /* units read since the resident memory was last looked at */
	unsigned long rss_bound;     /* bytes of resident memory above which the map is let go (0: never) */
	struct report_memo *memo;    /* recomputations to keep */
	size_t n_memo, cap_memo;
};

/* ms as "YYYY-MM-DDTHH:MM:SSZ" (UTC: the JSON's times). */
void report_iso_utc(char out[REPORT_ISO_SIZE], uint64_t ms);

/* The figures of KEY's up feed replayed to UP_SEQ for v->period: from the
 * index if an earlier view computed them, else replayed (and queued for
 * the index). -ENOENT if this node does not hold that much of the feed;
 * -ENODATA (e says why) if an erased value prevents it. */
int report_recompute(struct report_ctx *v, const uint8_t key[KEY_BYTES], uint64_t up_seq, struct figures *f,
		     struct err *e);

/* Keeps the queued recomputations, best effort, and frees them. */
void report_memo_save(struct report_ctx *v);

/* The latest decision on the report REPORT_SEQ of the unit whose keys are
 * UKEYS (newest first) by any level above it (the issuers of its
 * certificate chain), into *d; shown: whether a decision (or the lack of
 * one: "pending") can be seen here. ISSUER: the key that certified the
 * unit (NULL for this node: its parent). */
void report_row_decision(struct report_ctx *v, const uint8_t ukeys[][KEY_BYTES], size_t nukeys, const uint8_t *issuer,
			 uint64_t report_seq, struct report_decision *d, bool *shown);

#endif
