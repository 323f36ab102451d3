/* SPDX-License-Identifier: MIT */
/*
 * audit proofs (issue 15, `strata prove`, the light audit of `strata audit
 * FILE --root KEY`): one entry of a feed proved to be in a signed,
 * witnessed checkpoint of that feed, checkable with O(log n) hashes and no
 * feed. The file: "STRATA-PROOF-1\n", a 4-byte big-endian length, then
 * one protobuf message Proof (protocol/strata.proto); nothing after it.
 * docs/PROTOCOL.md "Checkpoints and proofs" says what a check shows and
 * what it cannot (revocations: a proof holds no revocation).
 */
#ifndef STRATA_AUDIT_PROOF_H
#define STRATA_AUDIT_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/tlog.h"
#include "protocol/protocol.h"

#define AUDIT_PROOF_MAGIC "STRATA-PROOF-1\n"
#define AUDIT_PROOF_MAGIC_LEN 15
#define AUDIT_PROOF_MAX (16u << 20) /* bytes of a proof file read */
#define AUDIT_PROOF_CHAIN_MAX 64    /* trust entries in one proof */
#define AUDIT_PROOF_NAME_MAX 256    /* an org path */

/* A witness whose cosignature verified, with its org path from the chain. */
struct audit_proof_witness {
	uint8_t key[KEY_BYTES];
	char name[AUDIT_PROOF_NAME_MAX];
	uint64_t time; /* the cosignature's time, unix seconds */
};

/* What a proof shows (filled by build and by check). */
struct audit_proof_info {
	uint8_t author[KEY_BYTES];
	char author_name[AUDIT_PROOF_NAME_MAX]; /* org path ("" if not known) */
	char feed[LIMIT_NAME_BYTES + 1];
	uint64_t seq;                  /* the entry proved */
	uint64_t size;                 /* the checkpoint's size */
	uint8_t root[TLOG_HASH_BYTES]; /* the checkpoint's root */
	size_t n_path;                 /* hashes in the inclusion path */
	size_t n_chain;                /* trust entries carried */
	size_t n_witnesses;
	struct audit_proof_witness witnesses[NOTE_SIGS_MAX];
	bool root_own;                 /* the pinned root's own checkpoint, no witness */
	uint64_t since_size;           /* --since: the older checkpoint's size; 0 none */
	size_t file_len;               /* bytes of the whole proof file */
};

/* What to prove: AUTHOR is 64 hex or an org path (that unit's current
 * key); since_note (may be NULL) an older signed note of the same feed
 * for a consistency proof. */
struct audit_proof_request {
	const char *author;
	const char *feed;
	uint64_t seq;
	const uint8_t *since_note;
	size_t since_len;
};

/* Builds the proof file of entry rq->seq of a feed held by the node in
 * DIR, against the newest checkpoint of the feed co-signed by a witness
 * whose size covers seq; for the node's pinned root's own feeds, without
 * one, against the root's own newest checkpoint (signing one first when
 * the node is that root and holds none that covers seq). *file (malloc'd,
 * caller frees) of *len bytes; *info what it proves. -ESRCH (no such
 * feed, entry or unit; or no checkpoint covers seq: e says the newest
 * witnessed size; or the proof built does not check here, e.g. a witness
 * whose chain this store lacks), -EINVAL (a bad request or since note),
 * -EBADE (the since note or a held note contradicts the entries held),
 * -ENOENT (no node in DIR), other negative codes on system errors. */
int audit_proof_build(const char *dir, const struct audit_proof_request *rq, uint8_t **file, size_t *len,
		      struct audit_proof_info *info, struct err *e) WUR;

/* The light audit: checks a proof file against ROOT alone: the trust
 * entries it carries (signatures; each issuer the root or certified by an
 * earlier entry; org paths under the issuer's; the author allowed to
 * publish the feed), the entry's signature, the note's author signature,
 * every cosignature by a key the entries certify (a witness: a key on
 * the author's chain above it), at least one witness unless the author is
 * ROOT, and the inclusion path; with an older checkpoint, its signature
 * and the consistency proof. 0 with *info filled; -EBADMSG with the first
 * reason in e when anything fails. Cannot show: a revocation (none is in
 * a proof), nor that the checkpoint is the newest. */
int audit_proof_check(const uint8_t *file, size_t len, const uint8_t root[KEY_BYTES], struct audit_proof_info *info,
		      struct err *e) WUR;

/* Does the file start with the proof magic? */
bool audit_proof_is(const uint8_t *head, size_t len);

#endif
