/* SPDX-License-Identifier: MIT */
/* The node's fields, shared by the files of node/core/ only. */
#ifndef STRATA_NODE_INTERNAL_H
#define STRATA_NODE_INTERNAL_H

#include "node/core/node.h"
#include "protocol/protocol.h"

struct node {
	char *dir;
	char name[NODE_NAME_MAX + 1];
	uint8_t id[KEY_BYTES];
	uint8_t root[KEY_BYTES];
	bool has_root;
	uint8_t peer_root[KEY_BYTES]; /* the root of the domain this node joined as a peer */
	bool has_peer_root;
	struct keypair *key; /* NULL when opened with NODE_NO_KEY */
	struct store *store;
	struct node_config config;
	bool scrub_due;    /* writable: node_scrub may have work (meta scrub_due, erase_gen) */
	uint64_t erase_gen; /* meta erase_gen when this process last opened or scrubbed the store */
	unsigned fence_wait_ms; /* node_writer_begin waits this long for a daemon to lift the fence */
	struct node_observer *observers; /* observe.c: run after commits, in this order */
	size_t n_observers;
};

/* How long a writer waits for a running daemon to lift the write fence:
 * STRATA_FENCE_WAIT (seconds, 0..3600) or NODE_FENCE_WAIT_MS (fence.c). */
unsigned fence_wait_default(void);

/* Reads DIR/strata.conf into *c (defaults for what it does not set). */
int node_config_load(struct node_config *c, const char *dir, struct err *e);

/* Writes a fresh DIR/strata.conf with the given listen endpoint. */
int node_config_write(const char *dir, const char *listen, struct err *e);

/* The certificate index (cert_index.c writes it; revoked.c reads it too):
 * subject key -> issuer key (32) | the Certificate message. */
#define CERT_INDEX "cert"

/* Keeps the certificate index in step with an appended trust entry (same
 * transaction), and the "revoked" index with its revocations
 * (cert_index.c). */
int node_trust_index_apply(struct store_txn *t, const struct changeset *cs, struct err *e);

/* Records one revocation op of a trust entry in the "revoked" index when
 * its author is the issuer whose certificate this node's index holds (or
 * that issuer's successor); the first revocation of a key stays, and a
 * successor certified by the same issuer gets its "predecessor" (revoked.c). */
int node_revocation_apply(struct store_txn *t, const struct changeset *cs, const struct op *op, struct err *e);

/* Before a trust entry is appended: only the issuer of a key's certificate
 * (or its successor by rotation) revokes it, a rotation is written by the
 * old key it names, and neither is ever deleted. -EACCES/-EINVAL (revoked.c). */
int node_trust_check(struct store_txn *t, const struct changeset *cs, struct err *e);

/* Was ISSUER (named issuer_name) revoked when it issued the certificate of
 * child_name dated issued_ms? 0 if not; -EACCES with the sentence if so
 * (what a revoked key certified before its revocation stays valid);
 * another negative code if the index cannot be read (revoked.c). */
int node_issued_before_revocation(struct store_txn *t, const uint8_t issuer[KEY_BYTES], const char *issuer_name,
				  const char *child_name, uint64_t issued_ms, struct err *e);

/* After an entry is appended (same transaction): applies the erase
 * requests among its ops (erase.c). Only fails for a store that cannot be
 * read or written (-EIO, -ENOSPC, -ENOMEM): the caller aborts t. */
int erase_apply(struct node *n, struct store_txn *t, const struct changeset *cs, struct err *e);

/* Index of the rotation chain (revoked.c writes it, unit.c reads it):
 * successor key -> the key it replaced (32 bytes). */
#define PREDECESSOR_INDEX "predecessor"

/* Ownership across key rotations (unit.c). Before an entry is appended:
 * skip[i] set for each op that a successor of its author has superseded
 * already (it must not change state). After: the successor's ops remove
 * its predecessors' state records of the same keys and mark them. */
int unit_filter(struct node *n, struct store_txn *t, const struct changeset *cs, bool *skip, struct err *e);
int unit_apply(struct node *n, struct store_txn *t, const struct changeset *cs, const bool *skip, struct err *e);

/* The keys that AUTHOR replaced by rotation, newest first, into out (at
 * this node's own key, its own record of them; elsewhere the trust
 * feeds'); how many. */
size_t unit_predecessors(struct node *n, struct store_txn *t, const uint8_t author[KEY_BYTES],
			 uint8_t out[][KEY_BYTES], size_t max);

/* The seqs of owner's FEED whose entries still hold a value of
 * (collection, key), ascending; caller frees *seqs (erase.c). */
int erase_holder_seqs(struct store_txn *t, const uint8_t owner[KEY_BYTES], const char *feed, const char *collection,
		      const uint8_t *key, size_t key_len, uint64_t **seqs, size_t *count, struct err *e);

/* Writes through w (any feed; it is left on the companion's) the companion
 * erase requests this node owes (erase_owed.c): *written gets how many. */
int erase_owed_write(struct node *n, struct node_writer *w, size_t *written, struct err *e);

/* node_writer_begin for the writer that lifts the fence in its own
 * transaction (fence.c): no fence check, no wait (writer.c). */
int writer_begin_lifting(struct node *n, const char *feed, struct node_writer **out, struct err *e);

#endif
