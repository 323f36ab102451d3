/* SPDX-License-Identifier: MIT */
/*
 * What the files of node/transfer share, not part of transfer.h: reading
 * and writing the transfer records, positions in the tree, and the single
 * steps the automatic scan and `strata transfer` both take. Each step
 * function checks and writes in one write transaction of its own.
 */
#ifndef STRATA_TRANSFER_INTERNAL_H
#define STRATA_TRANSFER_INTERNAL_H

#include "node/transfer/transfer.h"

#define TRANSFER_CHAIN_MAX (NODE_CHAIN_MAX + 1) /* a key and the issuers of its chain */
#define TRANSFER_CLOSED_INDEX "transfer-closed" /* own releases whose outcome was applied */

/* --- transfer_common.c --- */

/* Formats one line for note (may be NULL: nothing). */
void transfer_note(transfer_note_fn note, void *arg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Are two keys the same? */
bool transfer_same(const uint8_t *a, const uint8_t *b);

/* Is KEY 32 zero bytes (a release's new branch the old one did not know, an
 * outcome's acceptance hash when the common ancestor refused)? */
bool transfer_key_zero(const uint8_t *key);

/* KEY's org path if known here, else the start of its hex and "…". */
void transfer_name_of(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES], char out[NODE_NAME_SIZE]);

/* Reads and decodes (collection rt, the unit of owner, key), whichever of
 * the unit's keys wrote it. -ENOENT if absent (e left empty), -EIO if it
 * does not decode. Free *out with transfer_free_rec. */
int transfer_get_rec(struct store_txn *t, const struct record_type *rt, const uint8_t owner[KEY_BYTES],
		     const char *key, void **out, struct store_origin *o, struct err *e);
void transfer_free_rec(void *m);

/* Does the unit of owner hold (collection, key)? */
bool transfer_has_rec(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key);

/* The hash of the entry that last wrote (collection, owner's unit, key). */
int transfer_entry_hash(struct store_txn *t, const char *collection, const uint8_t owner[KEY_BYTES], const char *key,
			uint8_t hash[HASH_BYTES], struct err *e);

/* Packs m and puts it at (collection, key) in w's change set. */
int transfer_put_msg(struct node_writer *w, const char *collection, const char *key, const ProtobufCMessage *m,
		     struct err *e);

/* node_writer_begin, leaving e empty on success. */
int transfer_begin(struct node *n, const char *feed, struct node_writer **w, struct err *e);

/* Splits "<hex>/<id>" into the old branch's key and the id. -EINVAL if it
 * is not one. */
int transfer_split_key(const uint8_t *key, size_t len, uint8_t from[KEY_BYTES], char id[TRANSFER_ID_MAX + 1]);

/* A date a person gave (NULL: today) into date: -EINVAL, e filled, when it
 * is not a real YYYY-MM-DD date or is in the future. */
int transfer_check_date(const char *given, char date[RECORD_DATE_SIZE], struct err *e);

/* A reason a person gave: NULL, or 1..TRANSFER_REASON_MAX bytes of text;
 * -EINVAL, e filled, otherwise. */
int transfer_check_reason(const char *reason, struct err *e);

/* --- transfer_tree.c --- */

/* The lowest common ancestor of a and b (either may be it). -ENOENT if
 * either is not a node of this domain. */
int transfer_lca(struct node *n, struct store_txn *t, const uint8_t a[KEY_BYTES], const uint8_t b[KEY_BYTES],
		 uint8_t out[KEY_BYTES]);

/* Is this node KEY, or on KEY's chain of issuers up to the root? */
bool transfer_at_or_above(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES]);

/* Is KEY this node, or on this node's chain of issuers up to the root
 * (a key of one of those units: an older one, before a rotation, too)? */
bool transfer_on_own_chain(struct node *n, struct store_txn *t, const uint8_t key[KEY_BYTES]);

/* The lowest common ancestor of FROM and the new branch of a release (to:
 * its key, or 32 zero bytes when the old branch did not hold its
 * certificate; to_name: its org path). By the keys' chains where both are
 * known here; else by org path: the deepest node of FROM's chain (FROM
 * included) whose path is to_name or a prefix of it followed by '/'. The
 * old branch, the nodes the release passes on its way up and the common
 * ancestor all find the same node. -ENOENT if there is none here. */
int transfer_release_lca(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES],
			 const uint8_t to[KEY_BYTES], const char *to_name, uint8_t out[KEY_BYTES]);

/* At the common ancestor: the key of the unit named to_name, which it
 * holds, its whole subtree's certificates being held here. 0 with key; 1
 * when the transfer is to be refused (no such unit below this node, more
 * than one, the old branch FROM itself, revoked), with the reason in why
 * (cap bytes) and key the unit's key if one was found, else zero bytes; a
 * negative code (why says) if the store cannot be read. */
int transfer_destination(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES],
			 const char *to_name, uint8_t key[KEY_BYTES], char *why, size_t cap);

/* transfer_common.c: does this node hold a transfer record of id ID (a
 * release of any branch, or a forward, acceptance or outcome of any old
 * branch)? A new release takes an id no transfer known here has, so that
 * a member who comes back and leaves again on one day gets distinct ids. */
bool transfer_id_held(struct store_txn *t, const char *id);

#define TRANSFER_WHY_SIZE 512 /* why the common ancestor refuses a transfer */

/* transfer_forward.c: the new branch of release r of FROM as the common
 * ancestor resolves it: the key the old branch wrote, or, when it wrote
 * zero bytes (it did not hold the certificate), the unit of to_name in
 * this node's subtree, all of whose certificates it holds. 0 with to; 1 to
 * refuse, why saying why; negative if the store cannot be read. */
int transfer_forward_to(struct node *n, struct store_txn *t, const uint8_t from[KEY_BYTES], const Strata__Release *r,
			uint8_t to[KEY_BYTES], char why[TRANSFER_WHY_SIZE]);

/* --- the single steps: 1 when written, 0 when there is nothing to do, or
 * a negative code with e filled --- */

/* transfer_forward.c: forwards release ID of FROM as the common ancestor;
 * with strict, nothing to do (already forwarded, not the common ancestor)
 * is an error too. */
int transfer_forward_one(struct node *n, const uint8_t from[KEY_BYTES], const char *id, bool approved, bool strict,
			 transfer_note_fn note, void *arg, struct err *e);

/* transfer_outcome.c: passes down the decision of the acceptance KEY by
 * TO, of a transfer this node forwarded. */
int transfer_outcome_one(struct node *n, const uint8_t to[KEY_BYTES], const char *key, transfer_note_fn note,
			 void *arg, struct err *e);

/* transfer_outcome.c: as the old branch, applies the outcome of own
 * release ID once (the member marked transferred if accepted). */
int transfer_close_one(struct node *n, const char *id, transfer_note_fn note, void *arg, struct err *e);

#endif
