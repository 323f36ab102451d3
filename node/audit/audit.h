/* SPDX-License-Identifier: MIT */
/*
 * audit: re-checking what a store holds, trusting nothing it says about
 * itself: every entry's signature over its exact bytes, every chain from
 * seq 1, every value against its hash and its collection's validation, and
 * the materialized state against a replay of the log. A value may be absent
 * only where its owner erased it: an erase request (collection "erase")
 * later in the same feed names it; any other missing value is a failure.
 */
#ifndef STRATA_AUDIT_H
#define STRATA_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "storage/store.h"

/* A buffer for one failure's reason: an err message and the sentence around it. */
#define AUDIT_REASON_SIZE 700

/* What was checked. */
struct verify_counts {
	size_t feeds;
	size_t entries;      /* entries read from the log */
	size_t signatures;   /* signatures that verified */
	size_t ops;
	size_t values;       /* values hashed and validated */
	size_t erased;       /* values absent because their owner erased them */
	size_t state;        /* state records compared with the log */
	size_t evidence;     /* kept proofs of equivocation (each a failure) */
	size_t failures;
};

/* One failure at an exact place. author is NULL for store-wide failures
 * (e.g. state records no entry wrote); seq is 0 for feed-wide ones. */
struct verify_failure {
	const uint8_t *author;
	const char *feed;
	uint64_t seq;
	const char *reason;
};

/* A value that is absent because an erase request of its owner, later in
 * the same feed, names it: reported, not a failure. */
struct verify_erased {
	const uint8_t *author;
	const char *feed;
	uint64_t seq;          /* the entry that held the value */
	const char *collection;
	const uint8_t *key;
	size_t key_len;
	uint64_t erase_seq;    /* the entry of the erase request */
};

/* A proof that an author signed two conflicting things, that holds: two
 * entries at one (feed, seq) with different hashes, both validly signed by
 * a certified author (a proof the store keeps, or an Evidence frame of a
 * bundle); or, with checkpoint set, two checkpoints (signed notes) of one
 * feed at one size with different roots. Reported through the evidence
 * hook, and a failure of the feed as well. */
struct verify_evidence {
	const uint8_t *author;
	const char *name;          /* the author's org path by its certificate; NULL when unknown */
	const char *feed;
	uint64_t seq;              /* the seq (checkpoint: the size both notes state) */
	const uint8_t *first_hash; /* the two entry hashes (checkpoint: the two roots), 32 bytes */
	const uint8_t *second_hash;
	bool checkpoint;
};

struct verify_hooks {
	/* Called for every erased value; may be NULL. */
	void (*erased)(const struct verify_erased *x, void *arg);
	/* Called for every failure; may be NULL. */
	void (*failure)(const struct verify_failure *f, void *arg);
	/* Called for every proof of equivocation that holds (before its
	 * failure); may be NULL. */
	void (*evidence)(const struct verify_evidence *x, void *arg);
	/* Checks that author may write feed (its certificate chain); may be
	 * NULL. Non-zero fails the feed with e's reason. */
	int (*authorize)(struct store_txn *t, const uint8_t author[32], const char *feed, struct err *e, void *arg);
	/* Checks one entry's author at the entry's time (e.g. not revoked
	 * then); may be NULL. Non-zero fails that entry with e's reason. */
	int (*entry)(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq, uint64_t time_ms,
		     struct err *e, void *arg);
	/* Called now and then with entries done and the total; may be NULL. */
	void (*progress)(size_t done, size_t total, void *arg);
	void *arg;
	/* The caller verified every entry's signature over the bytes it stored
	 * (an audit's scratch store, filled through node_ingest): counted as
	 * verified, not verified again. */
	bool signatures_verified;
	/* in/out, may be NULL: the checkpoints an audit checks completeness
	 * against (node/audit/completeness.h): audit_history runs them last and
	 * counts their failures; the bundle audit adds the bundle's own. */
	struct audit_completeness *complete;
};

/* Verifies the whole store in one read transaction. Returns 0 when every
 * check holds, -EBADMSG when any failed (each reported through the hook and
 * counted), or another negative code if the store could not be read. */
int verify_store(struct store *s, struct verify_counts *c, const struct verify_hooks *h,
		 struct err *e) WUR;

/* Reports every proof of equivocation the store keeps (index "evidence")
 * as a failure of its feed at its seq, checking the proof again (a proof
 * that does not hold is a failure too; with h->authorize, so is a proof by
 * an author without a certificate chain allowing the feed); a proof that
 * holds goes to h->evidence too. Counted in c->evidence and c->failures.
 * verify_store calls it, so that `verify` and `audit` agree.
 * 0, or a negative code if the index could not be read (e). */
int verify_evidence(struct store_txn *t, struct verify_counts *c, const struct verify_hooks *h, struct err *e) WUR;

/* The org path of AUTHOR by the certificate the store indexes for it into
 * name (NODE_NAME_SIZE bytes): 0, or -ENOENT (name empty). */
int verify_author_name(struct store_txn *t, const uint8_t author[32], char *name);

/* Reports a proof that holds (x->name filled from the store's certificate
 * index when NULL): h->evidence, then a failure naming the author,
 * counted in c->failures. */
void verify_evidence_holds(struct store_txn *t, const struct verify_evidence *x, struct verify_counts *c,
			   const struct verify_hooks *h);

/* What two conflicting checkpoints prove. */
struct verify_checkpoint_proof {
	uint8_t author[32];
	char feed[33];
	uint64_t size;
	uint8_t first_root[32], second_root[32];
};

/* Checks Evidence with checkpoint set (its first and second bytes): both are signed notes
 * (crypto/tlog.h) of one author's feed at one size with different roots,
 * each with a valid Ed25519 signature of that author. 0 with *out, or
 * -EINVAL with the reason in why (cap bytes). Whether the author is
 * certified is the caller's to check. */
int verify_checkpoint_proof(const uint8_t *first, size_t first_len, const uint8_t *second, size_t second_len,
			    struct verify_checkpoint_proof *out, char *why, size_t cap);

/* verify_checkpoint_proof, or else the other kind of checkpoint evidence
 * (docs/PROTOCOL.md): first is a note validly signed by its author whose
 * root differs from the tree of the entries t holds of that feed at that
 * size (second_root = that tree's root; second is then not read). */
int verify_checkpoint_evidence(struct store_txn *t, const uint8_t *first, size_t first_len, const uint8_t *second,
			       size_t second_len, struct verify_checkpoint_proof *out, char *why, size_t cap);

/* Audits a bundle file against ROOT alone: its entries go, in order and with
 * every check of the network, into a scratch store in a temporary directory
 * (removed afterwards) whose only trusted key is ROOT; a bad entry is
 * reported at its place and the rest of its feed as unverifiable, and the
 * audit goes on with the other feeds; then the scratch store is verified
 * like any store. 0 when everything holds, -EBADMSG when anything failed
 * (each failure through the hooks), another negative code when the audit
 * could not run. */
int audit_bundle(const char *path, const uint8_t root[32], struct verify_counts *c, const struct verify_hooks *h,
		 struct err *e) WUR;

#endif
