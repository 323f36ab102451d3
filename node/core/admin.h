/* SPDX-License-Identifier: MIT */
/*
 * node core: the administrative operations a person takes on a node, one
 * call each, and what a node holds read for listings. Every front end (the
 * `strata` CLI, an HTTP API) calls these: they take an open node, write or
 * read in transactions of their own, and hand back data (structs, JSON,
 * decoded entries); none prints. A function that writes leaves telling a
 * running daemon (sync_notify, node/sync) to its caller, which may not link
 * the daemon.
 */
#ifndef STRATA_NODE_ADMIN_H
#define STRATA_NODE_ADMIN_H

#include <jansson.h>

#include "node/core/node.h"

/* --- strata erase (erase_op.c) --- */

/* The checks of an erase that need no store: a known collection that may
 * be erased (not trust records, not erase requests), a key, a reason
 * within limits. 0, -EINVAL with the reason, -ENOMEM. node_erase runs them
 * too; a front end may run them before it opens the node. */
int node_erase_check(const char *collection, const char *key, const char *reason, struct err *e) WUR;

/* What node_erase wrote. */
struct node_erase_result {
	const char *feed;           /* the record's feed */
	uint64_t seq;               /* the erase request's entry in it */
	size_t entries;             /* entries of that feed whose value it removes */
	const char *companion_feed; /* the companion's feed when its value went too, else NULL */
	size_t companion_entries;   /* entries of the companion's feed whose value it removes */
	/* Of entries + companion_entries: those whose put commits to the value
	 * without a salt (value_hash, written before salted commitments). Their
	 * signed hash stays, so a guessed value can still be confirmed from
	 * it; puts written since are salted and cannot be (PROTOCOL.md,
	 * "Erasure"). */
	size_t unsalted;
};

/* Erases the value of this unit's record (collection, key; reason may be
 * NULL) from every store that holds it: an erase request signed by this
 * node goes into the record's feed, and one for its companion (a request's
 * contact, feed private) into the companion's, in one transaction; ingest
 * removes the values from this store in the same commit. The caller then
 * tells a running daemon (sync_notify) and overwrites the freed pages
 * (node_scrub). Refusals change nothing: -EINVAL (node_erase_check),
 * -EEXIST (erased already), -EPERM (another node wrote the record),
 * -ESRCH (this node wrote no such record), -EBUSY (the write fence), or
 * the writer's codes; e says why. *out is zeroed on failure. */
int node_erase(struct node *n, const char *collection, const char *key, const char *reason,
	       struct node_erase_result *out, struct err *e) WUR;

/* --- strata revoke (revoke.c) --- */

#define NODE_REVOKE_MAX 16 /* keys one revoke withdraws at most (a name certified again) */

/* What node_revoke wrote. */
struct node_revoke_result {
	uint8_t keys[NODE_REVOKE_MAX][KEY_BYTES]; /* the keys revoked, in the order written */
	size_t n;
	uint64_t revoked_ms;                      /* the revocations' time */
};

/* Revokes every key this unit (any of its keys, node_own_keys) certified
 * for org path NAME that is not revoked yet: one revocation each in this
 * node's trust feed, one commit (reason may be NULL). The caller then
 * tells a running daemon (sync_notify). Refusals change nothing: -EINVAL
 * (not an org path, or a reason over the limits), -EPERM (another node
 * certified NAME: only the issuer may revoke), -ESRCH (no certificate for
 * NAME is known here), -EEXIST (revoked already), -EBUSY (the write
 * fence), or the writer's codes; e says why. */
int node_revoke(struct node *n, const char *name, const char *reason, struct node_revoke_result *out,
		struct err *e) WUR;

/* --- peer agreements as data (agreement.c, overview.c) --- */

/* Adds "pinned_roots" ([{key, domain: "own"|"host"}]) and "agreements"
 * ([{as: "peer"|"host", with, key, host_root (on a peer), publishes,
 * receives (feed arrays, null while the certificate has not arrived)}]) to
 * J, as of read transaction t / a read transaction of its own. */
int node_agreements_add(const struct node *n, struct store_txn *t, json_t *j, struct err *e) WUR;
int node_agreements_json(struct node *n, json_t *j, struct err *e) WUR;

/* --- the store's map and its growth (metrics.c; storage/store.h "Growth
 * of the map") --- */

/* Who hears of a growth of the store's map: fn gets one line, "store: map
 * grown from A MiB to B MiB (C MiB used, ceiling D)", in whichever thread
 * grew it (a daemon's log; without one the line goes to stderr, prefixed
 * "strata: ", once per growth). Set it before other threads use n. */
void node_on_store_grown(struct node *n, void (*fn)(void *arg, const char *line), void *arg);

/* The store's map as JSON (the "store" object of `strata status --json`):
 * {map_bytes, map_max_bytes, map_max_from_disk, used_bytes, map_grown_total}.
 * NULL (e set) if the store cannot say. */
json_t *node_store_json(struct node *n, struct err *e);

/* Writes the node's metrics to f in the Prometheus text exposition format
 * 0.0.4: strata_store_map_bytes, strata_store_map_max_bytes,
 * strata_store_used_bytes (gauges) and strata_store_map_grown_total
 * (counter). 0, or a negative code with the reason. */
int node_metrics_write(struct node *n, FILE *f, struct err *e) WUR;

/* --- what a node holds, for listings (overview.c) --- */

/* Reads, in one read transaction, what `strata status` shows of the store
 * into *out (a new object, caller owns): "feeds" (every head: author, name,
 * feed, seq, frozen), "evidence" (every kept proof of equivocation: author,
 * name, feed, seq), "pinned_roots" and "agreements" (node_agreements_add),
 * "write_fence" (the fence's reason, or null), "store" (node_store_json, or
 * null). 0, or a negative code (e)
 * with *out NULL. */
int node_overview(struct node *n, json_t **out, struct err *e) WUR;

/* The display names of the units whose certificates this node holds
 * (its own, its parent's and the root's, every unit below it, its peers):
 * *out is a JSON object {org path: display name} (caller decrefs), built in
 * one read of the store, for a listing to look names up in
 * (node_unit_display_name). Units without one are not in it.
 * display_names.c says where display names live and why. */
int node_display_names(struct node *n, json_t **out, struct err *e) WUR;

/* The display name of ORG_PATH in NAMES (node_display_names), or NULL if
 * it has none. The result lives as long as NAMES. */
const char *node_unit_display_name(const json_t *names, const char *org_path);

/* The write fence (node_fence_read) in a read transaction of its own. */
int node_fence_get(struct node *n, struct node_fence *f, struct err *e) WUR;

/* Calls fn for every stored entry, feed by feed (in the order of the feeds
 * table), each in seq order from 1; only FEED's when feed is not NULL. cs
 * is the decoded entry, valid during the call; an entry that does not
 * decode is passed as cs NULL with why. A non-zero return of fn stops the
 * walk and is returned; a negative code (e) if the store cannot be read. */
int node_log_each(struct node *n, const char *feed,
		  int (*fn)(const struct changeset *cs, uint64_t seq, const struct err *why, void *arg), void *arg,
		  struct err *e) WUR;

#endif
