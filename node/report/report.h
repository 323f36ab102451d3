/* SPDX-License-Identifier: MIT */
/*
 * report: one-click upward reporting. The standard figures of a node for a
 * period, computed from its own records; the roll-up of its children's
 * reports; the signed report entry naming the exact heads it was computed
 * from; the view of an upper level (who reported, on time or late, accepted
 * or returned, the figures, and any report whose figures differ from a
 * recomputation from the same heads); and accepting or returning a report.
 */
#ifndef STRATA_REPORT_H
#define STRATA_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "node/core/node.h"

/* The figures of one node's own records for a period: message Figures
 * (strata.proto) by field, each filled by the record type that declares it
 * (struct record_type .figures); every operation below iterates the
 * message's fields, so a new figure is a new field. Its repeated fields are
 * malloc'd (figures_clear frees them). A zeroed struct is empty figures. */
struct figures {
	Strata__Figures p;
};

void figures_clear(struct figures *f);

#define REPORT_PERIOD_SIZE 8 /* a buffer for a period "YYYY-MM" and its NUL */

/* Is p a period YYYY-MM? */
bool report_period_valid(const char *p);

/* Computes OWNER's own figures for PERIOD from the records in state (as of
 * transaction t). */
int report_compute_state(struct node *n, struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *period,
			 struct figures *f, struct err *e) WUR;

/* Recomputes OWNER's figures for PERIOD from its `up` feed replayed from
 * seq 1 to up_seq: what its report should say if it was computed at that
 * head. Notice figures depend on feeds an upper level may not hold and are
 * left zero. -ENOENT if this node does not hold that much of the feed;
 * -ENODATA (the reason names it) if a record's value at that head was
 * erased since, so that the figures cannot be recomputed. */
int report_compute_replay(struct node *n, struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *period,
			  uint64_t up_seq, struct figures *f, struct err *e) WUR;

/* The names of the figures that differ between a and b (the single-valued
 * ones, but those a recomputation leaves zero: .figures_received),
 * comma-separated with both values, into out. true if any. */
#define FIGURES_DIFF_SIZE 2048 /* a buffer for figures_diff's text (cut there if longer) */
bool figures_diff(const struct figures *a, const struct figures *b, char *out, size_t cap);

/* Conversions: f's repeated figures are shared with p (p must not outlive
 * f), and its optional ones set only when not zero (a report without them
 * keeps its bytes); adding a Figures message to f (roll-up: checked
 * addition, -ERANGE past FIGURE_MAX, -ENOMEM); a deep copy. */
void figures_to_proto(const struct figures *f, Strata__Figures *p);
int figures_add_proto(struct figures *f, const Strata__Figures *p) WUR;
int figures_copy(struct figures *dst, const struct figures *src) WUR;

/* The figures as JSON (new reference): the single-valued ones in field
 * order (an optional one only when not zero), then the received ones, then
 * those the types derive (.figures_json). */
json_t *figures_json(const struct figures *f);

/* What report_submit wrote. */
struct report_result {
	uint64_t seq;       /* the report entry in this node's report feed */
	size_t children;    /* child reports rolled up */
	struct figures own, total;
};

/* The report for period of the unit KEY belongs to, by whichever of its
 * keys (node_unit_keys, newest first) wrote one: *val, *val_len and origin
 * as store_state_get, author receives that key. -ENOENT if none. */
int report_unit_get(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
		    const uint8_t **val, size_t *val_len, struct store_origin *origin, uint8_t author[KEY_BYTES]);

/* Computes and writes this node's report for PERIOD: its own figures, the
 * roll-up of the latest report of each child for PERIOD, and the heads it
 * was computed from; a later submit for the same period supersedes it (the
 * history keeps both). Caller clears r's figures. */
int report_submit(struct node *n, const char *period, struct report_result *r, struct err *e) WUR;

/* The view of this node for PERIOD: its own report, and per child (and, with
 * tree, per descendant whose reports reached it) reported or not, on time or
 * late (the deadline is day deadline_day of the next month), accepted or
 * returned, the figures, and a recomputation check. A recomputation is
 * done once per (descendant, period, up head) and kept in an index of the
 * store when n's store is writable (else redone at every view). Caller
 * owns the JSON. */
int report_view(struct node *n, const char *period, bool tree, json_t **out, struct err *e) WUR;

/* Computes and keeps (in the index report_view reads) the recomputation
 * check of every report of AUTHOR (NULL: of every node but n) that n holds
 * and has not checked yet, if n holds the up feed it names; run as reports
 * arrive (strata import, the daemon) so that a view need not. A report
 * whose up feed has not arrived is left to the view. 0, or -errno of the
 * store (a failure to keep them only costs a later view the time). */
int report_checks_fill(struct node *n, const uint8_t *author, struct err *e) WUR;

/* Registers with node n (node_observe): after a batch received, the checks
 * of the reports it stored (report_checks_fill once per author), a failure
 * told to the commit's note as "report checks not kept: ...". For the
 * program that runs the daemon. -ENOMEM. */
int report_observe(struct node *n) WUR;

/* Accepts or returns (with a comment) the report of the child with org path
 * CHILD for PERIOD: a signed approval in this node's down feed. -ESRCH if
 * there is no such child or report. */
int report_decide(struct node *n, const char *period, const char *child, bool accept, const char *comment,
		  struct err *e) WUR;

#endif
