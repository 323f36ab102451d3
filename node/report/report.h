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
	size_t accepted;    /* of those, the ones this node had accepted (Report.accepted) */
	bool provisional;   /* the period had not ended yet */
	struct figures own, total;
};

/* The report for period of the unit KEY belongs to, by whichever of its
 * keys (node_unit_keys, newest first) wrote one: *val, *val_len and origin
 * as store_state_get, author receives that key. -ENOENT if none. */
int report_unit_get(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
		    const uint8_t **val, size_t *val_len, struct store_origin *origin, uint8_t author[KEY_BYTES]);

/* Computes and writes this node's report for PERIOD: its own figures, the
 * roll-up of the latest report of each child for PERIOD, the heads it
 * was computed from, and the children whose rolled-up report this node
 * had accepted; a later submit for the same period supersedes it (the
 * history keeps both). Refused (-EINVAL) for a period not begun yet, and
 * (-EACCES, report_locked) while the period is locked; provisional during
 * the period. Caller clears r's figures. */
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


/* The latest decision on a unit's report (0 decision: none seen here). */
#define REPORT_COMMENT_MAX 2000 /* a decision's comment: 1-2000 bytes */
#define REPORT_COMMENT_SIZE (REPORT_COMMENT_MAX + 1) /* ... and its NUL */

/* A decision on a unit's report (message Approval, feed down of a level
 * above): what report_decision_get and the view's walk read. */
struct report_decision {
	int decision;                 /* 0: none held; else STRATA__DECISION__DECISION_* */
	uint64_t report_seq;          /* the report entry decided on */
	bool stale;                   /* (view) on an earlier report: resubmitted since */
	uint64_t at_ms;               /* its signed time */
	char by[NODE_NAME_SIZE];      /* the org path of the level that decided */
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

/* --- periods (decision.c) ---
 * A period is a month in the node's time zone: the process's local time
 * (TZ, else the system's zone; docs/OPERATIONS.md). A report for a period
 * that has not begun is refused; one for the period under way is allowed
 * and marked provisional (submitted before the period ended; shown so by
 * submit and history). A provisional report may be accepted: the month is
 * then locked as it stands, records dated later in it included, until a
 * reopen. */

/* The first millisecond of PERIOD and the first one after it (UTC ms),
 * local midnights. -EINVAL if period is not YYYY-MM. */
int report_period_bounds(const char *period, uint64_t *start_ms, uint64_t *end_ms);

#define REPORT_TIME_SIZE 32 /* "YYYY-MM-DD HH:MM" (local time) and its NUL, with room */
void report_time_text(uint64_t ms, char out[REPORT_TIME_SIZE]);

/* --- decisions (decision.c) ---
 * A decision on a unit's report for a period is a signed Approval in the
 * down feed of a level above it (docs/PROTOCOL.md): its parent accepts,
 * returns or reopens; a level further up only reopens. Decisions are by
 * unit: on any of its keys (node_unit_keys), by any key of the deciding
 * unit. The one that counts is the latest by signed time. */


/* "accepted", "returned", "reopened", or "pending" (0). */
const char *report_decision_word(int decision);

/* Calls fn for every decision this node holds on the unit KEY for PERIOD
 * (NULL: every period), read from the approvals of the levels above it (up
 * its certificate chain). A non-zero return of fn stops and is returned. */
int report_decisions_each(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
			  int (*fn)(const char *period, const struct report_decision *d, void *arg), void *arg,
			  struct err *e) WUR;

/* The latest of them into *d (d->decision 0: none). */
int report_decision_get(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
			struct report_decision *d, struct err *e) WUR;

/* --- locks (decision.c) ---
 * A period of this unit is locked while the latest decision on its report
 * for it is ACCEPTED: records that count in it may not change (node/domain
 * checks them: domain_lock_check) and its report may not be submitted
 * again, until a REOPENED decision. Checked against the decisions this node
 * holds (its parent's down feed, and the ones above). */
struct report_lock {
	char period[REPORT_PERIOD_SIZE];
	struct report_decision d; /* the acceptance */
};
struct report_locks {
	struct report_lock *v;
	size_t n, cap;
};

/* The latest decision on this unit's report for each period that has
 * one (in l, in no order; locked or not). */
int report_decisions_all(struct node *n, struct store_txn *t, struct report_locks *l, struct err *e) WUR;
/* This unit's locked periods. -ENOMEM, or the store's error. */
int report_locks_load(struct node *n, struct store_txn *t, struct report_locks *l, struct err *e) WUR;
void report_locks_free(struct report_locks *l);
/* The lock of PERIOD, or NULL. */
const struct report_lock *report_locks_find(const struct report_locks *l, const char *period);
/* "period P was accepted by ORG/PATH on YYYY-MM-DD; ask it to reopen". */
void report_lock_text(const struct report_lock *k, char *out, size_t cap);
/* 0 if this unit's PERIOD is open; -EACCES with report_lock_text if locked. */
int report_locked(struct node *n, struct store_txn *t, const char *period, struct err *e) WUR;

/* --- acting on a report (approve.c) --- */

/* Who may act on the report of the unit named UNIT (an org path) for
 * PERIOD, as this node sees it. */
struct report_authority {
	char unit[NODE_NAME_SIZE];
	uint8_t key[KEY_BYTES];        /* the unit's current key */
	char parent[NODE_NAME_SIZE];   /* who accepts or returns its reports */
	bool may_decide;               /* this node is its parent: accept, return, reopen */
	bool may_reopen;               /* this node is its parent or a level above it */
	bool reported;                 /* this node holds a report of it for the period */
	uint64_t report_seq;           /* that report (the latest) */
	uint64_t submitted_ms;         /* its signed time */
	bool provisional;              /* submitted before the period ended */
	struct report_decision latest; /* the latest decision this node holds */
};

/* Fills *a for UNIT (this node's own org path included). -ESRCH if this
 * node knows no unit of that path in its tree; -EINVAL for a bad period. */
int report_authority_get(struct node *n, const char *period, const char *unit, struct report_authority *a,
			 struct err *e) WUR;

/* The units below the unit KEY expected to report for PERIOD: its child
 * units (not peers) whose first certificate was issued before the period
 * ended and that are not revoked (a key replaced by rotation counts as its
 * unit's current key). fn gets each one's org path and current key; a
 * non-zero return stops and is returned. */
int report_expected_each(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], const char *period,
			 int (*fn)(const char *name, const uint8_t key[KEY_BYTES], void *arg), void *arg,
			 struct err *e) WUR;

enum report_verb { REPORT_ACCEPT, REPORT_RETURN, REPORT_REOPEN };

/* A signed decision in this node's down feed on the report of the unit
 * CHILD (org path) for PERIOD:
 * - accept, return: only the child's parent (this node); the report must
 *   exist. Accept also needs every unit expected below the child accepted by
 *   the child in that very report (Report.accepted), else -EACCES naming
 *   the units missing or not accepted. Return needs a comment.
 * - reopen: the parent (the latest decision must be its acceptance) or
 *   any level above (it does not hold the parent's decisions, which travel
 *   down: any report may be reopened); needs a comment. A reopen from
 *   further up also reopens each level in between that has a report for
 *   the period, in the same change set, so that the figures can flow up
 *   again.
 * -ESRCH naming who can act when this node may not (or no such unit, or no
 * report); -EINVAL for a bad period or comment. */
int report_decide(struct node *n, const char *period, const char *child, enum report_verb verb,
		  const char *comment, struct err *e) WUR;

/* --- history and status (report_history.c) --- */

/* Every submission of the unit UNIT (org path; NULL: this node) for
 * PERIOD and every decision on it that this node holds, in signed-time
 * order: a JSON array of {"time", "event" ("submitted", "accepted",
 * "returned", "reopened"), "by", "seq" (the report), "comment"?,
 * "provisional"?}. Caller owns *out. -ESRCH for an unknown unit. */
int report_history(struct node *n, const char *unit, const char *period, json_t **out, struct err *e) WUR;

/* The latest decision on each of this unit's most recent decided periods
 * (at most max, newest first): a JSON array of {"period", "decision",
 * "by", "time", "comment"?}. For `strata status`. */
int report_recent_decisions(struct node *n, size_t max, json_t **out, struct err *e) WUR;

#endif
