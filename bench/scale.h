/* SPDX-License-Identifier: MIT */
/*
 * strata-bench-scale (issue 16, "Measured, then extrapolated"): what is
 * shared by its three files. scale.c: the tree, the routing rule, main and
 * the printed figures; scale_traffic.c: traffic from the rule; scale_emit.c: the signed entries of every unit and
 * their delivery to the measured stores; scale_measure.c: what a store
 * holds, a new leaf's join and the root's month roll-up.
 */
#ifndef STRATA_BENCH_SCALE_H
#define STRATA_BENCH_SCALE_H

#include <stdbool.h>
#include <stdint.h>

#include "node/core/node.h"

/* The feeds the bench writes (private is not modelled: docs/SCALE.md). */
enum scale_feed { SF_TRUST, SF_UP, SF_REPORT, SF_DOWN, SF_NOTICE, SF_COUNT };

/* Levels of the tree, from the root. */
enum scale_level { SL_ROOT, SL_CITY, SL_COUNTY, SL_STREET, SL_BRANCH, SL_COUNT };

#define SCALE_NONE UINT32_MAX
#define SCALE_DAY_MS 86400000ull
#define SCALE_MONTHS 12
#define SCALE_MEASURED (SL_COUNT + 1) /* one store per level on one path, and a new leaf */
#define SCALE_BATCH 4096              /* entries per write transaction of a measured store */

/* Where a unit's feed stands: the next entry's seq and prev. */
struct scale_pos {
	uint64_t seq; /* the last seq signed (0: none) */
	uint8_t prev[HASH_BYTES];
};

/* One measured store: a real node directory on the root-to-leaf path. */
struct scale_store {
	uint32_t unit;
	struct node *n;
	struct keypair *kp; /* its own key (node_create made it) */
	struct store_txn *t; /* the open write transaction (NULL: none) */
	size_t pending;      /* entries in t */
	uint64_t delivered;  /* entries ingested into it */
	char dir[NODE_PATH_MAX];
};

/* The tree: units numbered breadth first, so that the children of a unit,
 * and its descendants at each level, are a contiguous range. Unit n_units
 * (one past the last) is the new leaf, a child of the measured street
 * outside its children's range: it joins at the end. */
struct scale_tree {
	uint32_t n_units;              /* without the new leaf */
	uint32_t level_start[SL_COUNT + 1];
	uint32_t *parent;              /* SCALE_NONE for the root */
	uint32_t *first_child, *n_children;
	uint8_t *depth;
	uint8_t (*seed)[32];            /* key seeds (measured units: their node.key) */
	uint8_t (*pub)[KEY_BYTES];
	struct scale_pos *pos[SF_COUNT]; /* per unit */
	uint32_t *count[SF_COUNT];       /* entries written per unit and feed (signed or not) */
	/* up_depth of the units of each level (0: no limit): how many levels
	 * above its author a unit of that level forwards an up feed */
	unsigned up_depth[SL_COUNT];
	bool profiles; /* up_depth from the deployment profiles (else one value) */
	/* the measured stores: [level] on the path, [SL_COUNT] the new leaf */
	struct scale_store m[SCALE_MEASURED];
	uint32_t m_unit[SCALE_MEASURED];
	char period[SCALE_MONTHS][16];   /* YYYY-MM, oldest first */
	uint64_t period_end_ms[SCALE_MONTHS];
	uint64_t now_ms;
	/* the last month's entries for the root go to this bundle (the roll-up) */
	void *rollup_out;
	uint64_t signed_entries;
};

extern const char *const scale_feed_name[SF_COUNT];

/* The routing rule: does unit X hold feed F of author A? */
bool scale_route_holds(const struct scale_tree *t, uint32_t x, uint32_t a, enum scale_feed f);

/* Is ANC an ancestor of X (not X itself)? */
bool scale_is_ancestor(const struct scale_tree *t, uint32_t anc, uint32_t x);

/* The org path of unit u into out[NODE_NAME_SIZE]. */
void scale_name(const struct scale_tree *t, uint32_t u, char *out);

/* The members of branch u (19 on average: 99 million in 5.2 million units). */
unsigned scale_members(uint32_t u);

/* Member i of branch b as its import writes it (id and joined: the
 * caller's buffers). Member 17 is lapsed, every ninth probationary. */
void scale_member_fill(Strata__Member *m, uint32_t b, unsigned i, char *id, size_t idcap, char joined[16]);

/* --- scale_emit.c --- */

/* One put of a change set. */
struct scale_op {
	const char *collection;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *val;
	size_t val_len;
};

/* The key of unit A: a measured store's own, or one derived from its seed
 * (*own true: the caller destroys it). */
int scale_signer(struct scale_tree *t, uint32_t a, struct keypair **kp, bool *own, struct err *e);

/* One change set of A's feed F holding ops, at its next seq, signed by kp
 * (NULL: A's own, made here), delivered where the rule sends it (the root's
 * copy into the roll-up bundle instead when to_bundle). hash, if not NULL,
 * receives its entry hash. Counted always; signed when a measured store
 * holds the feed, or force. */
int scale_emit_one(struct scale_tree *t, struct keypair *kp, uint32_t a, enum scale_feed f, uint64_t ts,
		   const struct scale_op *ops, size_t n, bool force, bool to_bundle, uint8_t hash[HASH_BYTES],
		   struct err *e);

/* The roll-up bundle (t->rollup_out): opened with the root's header,
 * closed with its end record. */
int scale_bundle_open(struct scale_tree *t, const char *path, struct err *e);
int scale_bundle_close(struct scale_tree *t, struct err *e);

/* Each writes every entry of its kind for every unit, signing and
 * delivering those a measured store holds; counts the others. */
int scale_emit_trust(struct scale_tree *t, struct err *e);
int scale_emit_members(struct scale_tree *t, struct err *e);
int scale_emit_notices(struct scale_tree *t, struct err *e);
int scale_emit_revocations(struct scale_tree *t, unsigned count, struct err *e);
/* --- scale_steps.c --- */
/* Reports of every unit for every month; the last month's entries for the
 * root are written to the open roll-up bundle instead of ingested. */
int scale_emit_reports(struct scale_tree *t, struct err *e);
/* count transfers between branches: release, forward, acceptance, outcome. */
int scale_emit_transfers(struct scale_tree *t, unsigned count, struct err *e);
/* The new leaf's certificate, by the measured street. */
int scale_emit_leaf_cert(struct scale_tree *t, struct err *e);
/* Commits every measured store's open transaction. */
int scale_flush(struct scale_tree *t, struct err *e);
/* Delivers one signed entry of A's feed F to every measured store the rule
 * gives it (except skip, SCALE_MEASURED for none). */
int scale_deliver(struct scale_tree *t, uint32_t a, enum scale_feed f, const uint8_t *env, size_t len, int skip,
		  struct err *e);

/* --- scale_traffic.c --- */

struct scale_traffic {
	uint64_t entries[SF_COUNT], delivered[SF_COUNT];
	uint64_t enroll, enroll_legacy, certs;
};

/* The units other than A that hold A's feed F (the rule asked of A's
 * ancestors and descendants). */
uint64_t scale_receivers(const struct scale_tree *t, uint32_t a, enum scale_feed f);
/* scale_receivers against the rule asked of every unit, for a sample of
 * authors at every level: false (and a line on stderr) if they differ. */
bool scale_rule_check(const struct scale_tree *t);
void scale_traffic(const struct scale_tree *t, struct scale_traffic *tr);
void scale_print_traffic(const struct scale_tree *t, const struct scale_traffic *tr, bool rule_ok);

/* --- scale_measure.c --- */

struct scale_held {
	uint64_t entries[SF_COUNT], bytes[SF_COUNT];
	uint64_t certs;      /* certificates in state (collection cert) */
	uint64_t mdb_bytes;  /* data.mdb */
};

int scale_held(struct scale_store *s, struct scale_held *h, struct err *e);

/* `strata init` of unit u's node in dir as the measured store of level
 * (its key read back as the unit's), and its side of the join. */
int scale_store_create(struct scale_tree *t, int level, uint32_t u, const char *dir, struct err *e);

/* The new leaf's join: what it downloads from its parent (the measured
 * street) by the rule, ingested into its store. */
struct scale_join {
	uint64_t entries, bytes, trust_entries, trust_bytes;
	double seconds;
};
int scale_join_leaf(struct scale_tree *t, struct scale_join *j, struct err *e);

/* The root's month roll-up, in a child process (this program re-executed
 * with --rollup): bundle import of the month's reports and the report
 * checks (as `strata import`), then the view at one level. */
/* A memory cgroup the roll-up runs in (scale_cgroup.c). */
struct scale_cgroup {
	char dir[NODE_PATH_MAX];
	bool v2;
	unsigned mib;             /* its limit; 0: none could be made */
	long long peak_bytes;     /* the most charged to it (page cache included); -1 unknown */
	long long failcnt;        /* v1: times the limit was hit (the kernel reclaimed); -1 unknown */
};
/* Makes a cgroup limited to MIB MiB: 0, or -1 (cg->mib 0) where none can
 * be made (no root, no writable hierarchy, mib 0). */
int scale_cgroup_make(struct scale_cgroup *cg, unsigned mib);
/* Moves the calling process into it (a no-op without one): 0 or -1. */
int scale_cgroup_enter(const struct scale_cgroup *cg);
/* Reads its peak and removes it, once its processes have exited. */
void scale_cgroup_done(struct scale_cgroup *cg);
/* Drops the node's data.mdb from the page cache (written out first), so
 * that the roll-up reads it from disk and its cgroup is charged for what it
 * maps, as on a machine that just started. */
void scale_drop_cache(const char *node_dir);

struct scale_rollup {
	struct scale_cgroup cg;   /* the memory ceiling it ran within */
	int signal;               /* the signal that killed it (the limit's OOM killer), or 0 */
	uint64_t entries;
	double import_s, checks_s, view_s, total_s;
	uint64_t rows;
	long maxrss_kib;          /* peak RSS (VmHWM at its end) */
	long fork_maxrss_kib;     /* wait4's ru_maxrss: with the pages fork copied before exec */
	long anon_kib, file_kib;  /* RssAnon and RssFile at the end of the roll-up */
	long hwm_import_kib;      /* peak RSS after the import, before the checks */
	long anon_peak_kib, file_peak_kib; /* sampled peaks of RssAnon and RssFile */
};
int scale_rollup_run(const char *self, const char *dir, const char *bundle, const char *period, unsigned limit_mib,
		     struct scale_rollup *r, struct err *e);
/* The child's side: prints one line of figures on stdout. */
int scale_rollup_child(const char *dir, const char *bundle, const char *period);

double scale_now_s(void);

#endif
