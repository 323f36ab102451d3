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
	unsigned long since_release; /* records read since the resident memory was last looked at */
	unsigned long rss_bound;     /* bytes of resident memory above which the map is let go (0: never) */
	struct report_memo *memo;    /* recomputations to keep */
	size_t n_memo, cap_memo;
	struct report_gather *g;     /* what the walk gathered first (gather.c), or NULL */
	struct report_tree *tree;    /* the units listed first (gather_tree.c), or NULL */
};

/* The index of recomputations (view.c): key author | period | up seq (BE)
 * | version of the figure definitions. */
#define REPORT_CHECK_INDEX "report-check"
#define REPORT_CHECK_KEY_BYTES (KEY_BYTES + 7 + 8 + 1)
void report_check_key(uint8_t k[REPORT_CHECK_KEY_BYTES], const uint8_t author[KEY_BYTES], const char *period,
		      uint64_t seq);

/* The seq of AUTHOR's up feed that report REP names (0 if none). */
uint64_t report_up_seq(const Strata__Report *rep, const uint8_t author[KEY_BYTES]);

/* An approval's key: the child's key in hex, "/", the period; its NUL. */
#define REPORT_APPROVAL_KEY_SIZE (KEY_HEX + REPORT_PERIOD_SIZE)

/* --- gather.c: the store's records the walk needs, read in key order
 * before it (the lookups below return 1 for a record not gathered: read
 * it from the store) --- */

/* Looks at the resident memory every few records read and lets the
 * store's map go past v->rss_bound. */
void report_map_tick(struct report_ctx *v);

/* Table helpers of gather.c and gather_tree.c: room for one more of n
 * items in *p (capacity *cap; false and *ret -ENOMEM if none); qsort and
 * bsearch that take no items (an array that may be NULL); keys by bytes. */
bool report_grow(int *ret, void **p, size_t *cap, size_t n, size_t size);
void report_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void *report_find(const void *key, const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
int report_cmp_key(const void *a, const void *b);
/* Sorts keys and removes duplicates; how many are left. */
size_t report_sort_keys(uint8_t (*k)[KEY_BYTES], size_t n);

/* The tables (v->g), empty; -ENOMEM. Freed by report_gather_end
 * (NULL-safe; v->g NULL after). */
int report_gather_begin(struct report_ctx *v);
void report_gather_end(struct report_ctx *v);

/* gather_tree.c: lists the units level by level (their certificates read
 * in key order per level, report_gather_unit for each), then the issuers
 * of their certificates. 0 or -ENOMEM, or the store's error (then
 * report_tree_end: the walk reads the store). */
int report_tree_list(struct report_ctx *v);
void report_tree_end(struct report_ctx *v);

/* The certificates OWNER issued, to fn in key order as store_state_each
 * (fn's non-zero return into *ret); false if OWNER's were not listed. */
bool report_tree_kids(struct report_ctx *v, const uint8_t owner[KEY_BYTES],
		      int (*fn)(const struct store_record *rec, void *arg), void *arg, int *ret);

/* The certificate index's issuer of SUBJECT (as node_cert_get): 0,
 * -ENOENT; 1: not listed. */
int report_tree_issuer(struct report_ctx *v, const uint8_t subject[KEY_BYTES], uint8_t issuer[KEY_BYTES]);

/* The listing of units gives the keys of a unit (LISTS: it lists others, so
 * that decisions by it are read too). */
void report_gather_unit(struct report_ctx *v, const uint8_t keys[][KEY_BYTES], size_t nkeys, bool lists);

/* Reads what the units listed need, region by region in key order. 0 or
 * -ENOMEM (then the walk reads the store: report_gather_end). */
int report_gather(struct report_ctx *v);

/* As report_unit_get for the unit whose keys are KEYS (newest first):
 * *val (in the table), its seq, its author; -ENOENT; 1: not gathered. */
int report_gather_report(struct report_ctx *v, const uint8_t keys[][KEY_BYTES], size_t nkeys, const uint8_t **val,
			 size_t *len, uint64_t *seq, uint8_t author[KEY_BYTES]);

/* When the entry (AUTHOR, FEED, SEQ) was signed into *ms (0 if it could
 * not be read); 1: not gathered. */
int report_gather_time(struct report_ctx *v, const uint8_t author[KEY_BYTES], const char *feed, uint64_t seq,
		       uint64_t *ms);

/* The recomputation at index key K: 0 with *val, -ENOENT; 1: not gathered. */
int report_gather_check(struct report_ctx *v, const uint8_t k[REPORT_CHECK_KEY_BYTES], const uint8_t **val,
			size_t *len);

/* OWNER's approval record at KEY: 0 with *val and its seq; -ENOENT; 1:
 * OWNER's decisions not gathered. */
int report_gather_approval(struct report_ctx *v, const uint8_t owner[KEY_BYTES], const char *key, const uint8_t **val,
			   size_t *len, uint64_t *seq);

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
