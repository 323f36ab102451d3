/* SPDX-License-Identifier: MIT */
/*
 * node/core checkpoints (issue 15): the signed checkpoints of feeds a node
 * holds, who signs and co-signs them, and how a received one is taken.
 * Formats and the tree: crypto/tlog.h; the rules: docs/PROTOCOL.md
 * "Checkpoints and proofs".
 *
 * checkpoint.c owns the layout of two indexes (store.h "index"):
 *   NODE_CHECKPOINT_INDEX  author(32) | feed -> the newest signed note held
 *                          (largest size; its signature lines merged)
 *   NODE_WITNESSED_INDEX   author(32) | feed -> the newest note holding at
 *                          least one cosignature by a witness of the author
 * witness.c decides what a received note means and when this node co-signs.
 */
#ifndef STRATA_NODE_CHECKPOINT_H
#define STRATA_NODE_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tlog.h"
#include "node/core/node.h"

#define NODE_CHECKPOINT_INDEX "checkpoint"
#define NODE_WITNESSED_INDEX "witnessed"

/* --- checkpoint.c: keeping notes --- */

/* The newest note (witnessed: the newest witnessed one) held for (author,
 * feed): *note and *len point into the map until t ends. -ENOENT if none. */
int node_checkpoint_get(struct store_txn *t, const uint8_t author[KEY_BYTES], const char *feed, bool witnessed,
			const uint8_t **note, size_t *len, struct err *e) WUR;
/* Keeps a parsed note whose signatures the caller checked: replaces the
 * held one when larger, merges signature lines into it when of the same
 * size and root, and updates the witnessed index when it holds a
 * cosignature. A note of the same size with another root is not kept
 * (-EBADE: the caller decides; witness.c makes it evidence), and nothing
 * is written. A smaller note than the held one changes nothing. Returns 1
 * when something was kept (new, larger, or new signature lines), 0 when
 * the note brought nothing new. Write txn. */
int node_checkpoint_put(struct store_txn *t, const struct note *n, struct err *e) WUR;
/* Signs a checkpoint of this node's own feed at its head when the newest
 * held is smaller, and keeps it. 0 also when there was nothing to sign, or
 * nothing may be signed: a frozen feed, or the write fence of a restored
 * store (fence.c) still up. */
int node_checkpoint_sign_own(struct node *nd, struct store_txn *t, const char *feed, struct err *e) WUR;
/* Calls fn for every held note of one index, in key order. */
int node_checkpoint_each(struct store_txn *t, bool witnessed,
			 int (*fn)(const uint8_t author[KEY_BYTES], const char *feed, const uint8_t *note, size_t len,
				   void *arg),
			 void *arg, struct err *e) WUR;

/* --- witness.c: taking a received note --- */

enum node_ckpt_outcome {
	NODE_CKPT_STORED = 1,       /* kept (new, larger, or more signatures) */
	NODE_CKPT_KNOWN,            /* nothing new in it */
	NODE_CKPT_AHEAD,            /* larger than the entries held: not kept */
	NODE_CKPT_INCONSISTENT,     /* its root is not the tree of the entries held
				       (or another note of that size): evidence kept, feed frozen */
};
/* Takes a signed note that came from a link, a bundle or a file: parses
 * it, checks the author's signature (the author must be a key this node
 * can verify: certified, chain to the root) and each cosignature, compares
 * its root with the tree of the entries held, keeps it, and when cosign is
 * true and this node is on the author's certificate chain (its issuer, or
 * an issuer above), adds this node's cosignature. Never co-signs a size
 * whose root it did not compute itself. Write txn. */
int node_checkpoint_ingest(struct node *nd, struct store_txn *t, const uint8_t *note, size_t len, bool cosign,
			   enum node_ckpt_outcome *out, struct err *e) WUR;
/* The checks of node_checkpoint_ingest without keeping anything (an
 * audit's, in a read txn): *n the parsed note with only its author's
 * signature and its witnesses' cosignatures (each verified); *out AHEAD,
 * INCONSISTENT, or KNOWN (its root is the tree of the entries held). A
 * refusal as node_checkpoint_ingest's. (witness.c) */
int node_checkpoint_check(struct node *nd, struct store_txn *t, const uint8_t *note, size_t len, struct note *n,
			  enum node_ckpt_outcome *out, struct err *e) WUR;
/* Takes evidence of an inconsistent checkpoint (Evidence with checkpoint
 * set) from a link or a bundle: FIRST a note signed by its author; SECOND
 * another note by the author of the same feed and size with another root,
 * or empty: then FIRST must contradict the entries held here. Keeps it
 * (node_evidence_checkpoint_store) and freezes the feed; *fresh: it was not
 * held before. -EINVAL when it proves nothing here. Write txn. (witness.c) */
int node_checkpoint_evidence(struct node *nd, struct store_txn *t, const uint8_t *first, size_t first_len,
			     const uint8_t *second, size_t second_len, bool *fresh, struct err *e) WUR;

#endif
