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
	void (*grown_log)(void *arg, const char *line); /* metrics.c: node_on_store_grown */
	void *grown_log_arg;
};

/* The store's grow callback (metrics.c): hands the log line to the
 * node's logger, or writes it to stderr. */
void node_store_grown(void *arg, const struct store_growth *g);

/* How long a writer waits for a running daemon to lift the write fence:
 * STRATA_FENCE_WAIT (seconds, 0..3600) or NODE_FENCE_WAIT_MS (fence.c). */
unsigned fence_wait_default(void);

/* Reads DIR/strata.conf into *c (defaults for what it does not set). */
/* Opens strata.conf at PATH for reading, checked as node.key is (a regular
 * file no one else may read or write: it names the parent this node
 * trusts): 1 with *f open, 0 when there is none, or a negative errno (e). */
int node_config_open(const char *path, FILE **f, struct err *e);
int node_config_load(struct node_config *c, const char *dir, struct err *e);

/* Writes a fresh DIR/strata.conf with the given listen endpoint and level
 * (P may be NULL: no level, a commented example). */
int node_config_write(const char *dir, const char *listen, const struct node_profile *p, struct err *e);

/* The certificate index (cert_index.c writes it; revoked.c reads it too):
 * subject key -> issuer key (32) | the Certificate message. */
#define CERT_INDEX "cert"
/* The state collection of certificates (node/records/cert.c, which core
 * may not include): what trust entries put, key = subject key. */
#define CERT_COLLECTION "cert"

/* Keeps the certificate index in step with an appended trust entry (same
 * transaction), and the "revoked" index with its revocations
 * (cert_index.c). */
int node_trust_index_apply(struct store_txn *t, const struct changeset *cs, struct err *e);

/* Records one revocation op of a trust entry in the "revoked" index when
 * its author is the issuer whose certificate this node's index holds (or
 * that issuer's successor); the earliest revoked_ms of a key counts, and a
 * successor certified by the same issuer gets its "predecessor" (revoked.c). */
int node_revocation_apply(struct store_txn *t, const struct changeset *cs, const struct op *op, struct err *e);
/* SUBJECT's indexed issuer changed (the first-issuer rule): a kept
 * revocation of it by a key that may no longer revoke it is dropped, and
 * the revocation the keeping issuer's state holds, if any, applied. */
int node_revocation_recheck(struct store_txn *t, const uint8_t subject[KEY_BYTES], struct err *e);

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

/* In erase_apply's transaction, after an erase removed a value: bumps meta
 * scrub_due and erase_gen, so that node_scrub overwrites the old bytes
 * (erase_scrub.c). */
int erase_mark_scrub_due(struct store_txn *t, struct err *e);

/* node_close's last step on a writable handle: node_scrub if an erase was
 * applied since it opened or last scrubbed, else nothing; when that scrub
 * cannot finish, meta scrub_due stays bumped for the next one (erase_scrub.c
 * says why). */
void erase_scrub_close(struct node *n);

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

/* A writer (writer.c; the bulk writer's store thread in writer_bulk.c). */
#include <pthread.h>

/* Change sets handed to the store thread, at most this many at a time. */
#define BULK_QUEUE 2

struct bulk_job {
	struct changeset *cs;
	size_t ops, bytes;
};

struct node_writer {
	struct node *n;
	char feed[LIMIT_NAME_BYTES + 1];
	struct store_txn *txn;
	struct changeset_builder *b;
	uint64_t head_seq;
	uint8_t head_hash[HASH_BYTES];
	size_t sealed;       /* change sets ingested so far */
	size_t uncommitted;  /* of which not yet committed */
	size_t bytes_open;   /* envelope bytes of those */
	size_t ops_open;     /* ops added since the last commit */
	size_t ops_committed;
	/* A bulk writer's store thread. The fields below, and txn and the
	 * counters above, belong to it once it runs; shared ones under mu. */
	bool bulk;
	bool lifting;        /* lifts the fence in txn: does not check it (fence.c) */
	bool thread_started;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bulk_job q[BULK_QUEUE];
	size_t q_head, q_len;
	bool busy;       /* a job is taken off q and not done */
	bool ready;      /* the transaction is begun (or failed: wret) */
	enum { BULK_RUN, BULK_COMMIT, BULK_ABORT } end;
	bool done;       /* the thread has committed or aborted */
	int wret;        /* the store thread's first failure */
	struct err werr;
	/* The feed's head the caller's checks saw (bulk writer), or NULL. */
	const struct store_head *from;
};

/* Begins w's write transaction and checks that n may write w->feed; reads
 * the feed's head (writer.c). */
int writer_open(struct node_writer *w, struct err *e);

/* Commits what is sealed and opens the next transaction, bounding memory
 * (writer.c). */
int writer_checkpoint(struct node_writer *w, struct err *e);

/* Starts w's store thread and waits until it has begun the transaction
 * (writer_open); its result (writer_bulk.c). */
int writer_bulk_start(struct node_writer *w, struct err *e);

/* Signs and decodes the open change set (on the caller's thread) and hands
 * it to the store thread, which checks and appends it as node_ingest does. */
int writer_bulk_seal(struct node_writer *w, struct err *e);

/* Ends a bulk writer's store thread: it finishes what it was handed, then
 * commits (how == BULK_COMMIT, if nothing failed) or aborts. Its result. */
int writer_bulk_end(struct node_writer *w, int how, struct err *e);

/* The ops the store thread has committed, once it has done what it was handed. */
size_t writer_bulk_ops_committed(struct node_writer *w);

/* Ends the store thread (aborting) and frees what it was handed. */
void writer_bulk_release(struct node_writer *w);

#endif
