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

/* --- report show, streamed (walk.c, view_json.c, summary.c) ---
 * A view is a walk of the tree that hands each unit to a callback as it
 * reads it, without building the tree. Before it, the walk lists its units
 * and reads the store's records they need region by region in key order
 * into compact tables (gather.c): O(units), about 0.9 KiB per unit with
 * figures (0.7 without), ~9 MiB at 10,000 branches, ~90 MiB at 100,000;
 * a city of 10,000 branches is shown in under 1 s and 64 MiB
 * (docs/PERFORMANCE.md, issue 14). report_view is the same walk gathered
 * into one JSON tree. */

/* The end of the day DAY of the month after PERIOD, in the node's local
 * time zone (the TZ of the process, as mktime sees it), as unix ms: the
 * deadline of PERIOD's reports (deadline_day of strata.conf). A DAY past
 * the month's end runs on into the next (mktime normalises). 0 if PERIOD
 * is not YYYY-MM. */
uint64_t report_deadline_ms(const char *period, unsigned day);

/* The first instant after PERIOD (midnight starting its next month), local
 * time, as unix ms; 0 if PERIOD is not YYYY-MM. A unit is expected to
 * report for PERIOD when it existed before this instant. */
uint64_t report_period_end_ms(const char *period);

/* Where a unit stands for the period. Not reported is MISSING whether or
 * not the deadline has passed (report_row.overdue says which). */
enum report_status { REPORT_ON_TIME, REPORT_LATE, REPORT_MISSING };

#define REPORT_COMMENT_SIZE 2001 /* a decision's comment (1-2000 bytes) and its NUL */

/* The latest decision on a unit's report (0 decision: none seen here). */
struct report_decision {
	int decision;          /* Strata__Decision, or 0 */
	bool stale;            /* on an earlier report: resubmitted since */
	char by[NODE_NAME_SIZE]; /* the org path of the deciding unit */
	uint64_t at_ms;        /* when it was signed */
	char comment[REPORT_COMMENT_SIZE]; /* "" and has_comment false: none */
	bool has_comment;
};

/* What the walk hands its callback: a unit (UNIT), then, when the unit
 * lists its children (lists), each child's events, PEERS, each peer's
 * events, END. */
enum report_event { REPORT_EV_UNIT, REPORT_EV_PEERS, REPORT_EV_END };

struct report_row {
	enum report_event event;
	unsigned depth;          /* 0: this node; 1: its children; ... */
	bool lists;              /* UNIT: its children and peers follow */
	bool peer;               /* a peer (listed apart, never expected) */
	const char *name;        /* its org path */
	const uint8_t *key;      /* its current key */
	/* Expected to report for the period (a child or descendant that
	 * existed before the period ended: its unit's first certificate,
	 * across rotations, issued before then, and not revoked before
	 * then; never a peer or an auditor). When not, why_not says why. */
	bool expected;
	const char *why_not;
	enum report_status status;
	bool overdue;            /* MISSING and the deadline has passed */
	uint64_t submitted_ms;   /* reported: when its report was signed */
	uint64_t report_seq;
	struct report_decision decision; /* decision_shown: 0 for peers */
	bool decision_shown;     /* false where no decision can be seen */
	/* UNIT: its JSON object in report_view's shape, without "children"
	 * and "peers" (NULL in a walk without figures); borrowed for the
	 * call. */
	json_t *unit;
};

/* Return 0 to go on; anything else stops the walk and is returned. */
typedef int (*report_row_fn)(const struct report_row *row, void *arg);

struct report_walk_opts {
	bool tree;       /* every level below (else this node and its children) */
	bool figures;    /* each row's JSON with figures and the recomputation
			  * check (else row.unit is NULL: a summary's walk) */
};

/* Walks the view of PERIOD, calling fn per event in order (a depth-first
 * walk: children before peers). Its memory: the tables above (O(units)),
 * and of the store's map at most about 40 MiB: it reads the store in key
 * order and lets the mapped pages go behind it past that
 * ($STRATA_VIEW_RSS_MB sets the bound in MiB; 0 never lets go: the map
 * grows with the store's regions read). deadline_ms, if not NULL, receives the
 * period's deadline first. -EINVAL for a bad period; the store's error;
 * or fn's non-zero return. Keeps the recomputations it made (as
 * report_view). */
int report_walk(struct node *n, const char *period, const struct report_walk_opts *o, report_row_fn fn, void *arg,
		uint64_t *deadline_ms, struct err *e) WUR;

/* Where a JSON writer below puts its text: pieces of one document, each
 * whole UTF-8 (a string is never cut). */
typedef void (*report_put_fn)(const char *text, void *arg);

/* Writes report_view's JSON through put as the walk goes, unit by unit
 * (the same document, formatted as JSON_INDENT(2) would; a newline after
 * it). An error midway leaves the document unfinished (the caller says
 * so). */
int report_view_write(struct node *n, const char *period, bool tree, report_put_fn put, void *arg,
		      struct err *e) WUR;

/* Reporting rates: counts per level below this node (level 1: children).
 * Every level is walked. The node itself is not counted. */
#define REPORT_LEVELS_MAX 16
struct report_counts {
	uint64_t expected, reported, on_time, late, missing;
	uint64_t not_expected;   /* listed units left out of expected */
};
struct report_summary {
	uint64_t deadline_ms, period_end_ms;
	unsigned levels;                         /* deepest level seen */
	struct report_counts level[REPORT_LEVELS_MAX + 1]; /* [1..levels] */
	struct report_counts total;
};

/* A rate as a fraction of expected (0 when none is expected). */
double report_rate(uint64_t part, uint64_t expected);

/* Fills s for PERIOD; fn (may be NULL) is called with each unit that is
 * expected and MISSING, and with each unit not expected (row.expected
 * false), in walk order, before the counts are final. */
int report_summary(struct node *n, const char *period, report_row_fn fn, void *arg, struct report_summary *s,
		   struct err *e) WUR;

/* The summary as JSON through put: {"period", "deadline", "not_reported": [
 * {"name", "key", "level", "overdue"}...], "not_expected": [{"name", "key",
 * "level", "why"}...], "levels": [{"level", "expected", "reported",
 * "on_time", "late", "missing", "not_expected", "reporting_rate",
 * "on_time_rate"}...], "total": {same but "level"}}. The lists are
 * written as the walk goes (not_expected kept in a temporary file till
 * the end). */
int report_summary_write(struct node *n, const char *period, report_put_fn put, void *arg, struct err *e) WUR;

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
