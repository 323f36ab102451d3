/* SPDX-License-Identifier: MIT */
/*
 * crypto/tlog: the Merkle tree of a feed and its signed checkpoints, in the
 * formats transparency logs use, so that tools Strata did not write check
 * them (Go's golang.org/x/mod/sumdb/{tlog,note}; docs/PROTOCOL.md
 * "Checkpoints and proofs").
 *
 * Tree (RFC 6962 / RFC 9162 section 2.1, SHA-256): leaf i (0-based) of the
 * feed (author, feed) is its entry seq i + 1; its record is that entry's
 * 32-byte entry hash (BLAKE2b-256 of the body), so
 *   leaf hash  = SHA-256(0x00 || entry hash)
 *   node hash  = SHA-256(0x01 || left || right)
 * and the hash of a tree of n >= 1 leaves is RFC 6962's MTH (Go: tlog.TreeHash
 * with tlog.RecordHash(entry hash) as leaves). An erased value never changes
 * a body, so it never changes the tree.
 *
 * Checkpoint (C2SP tlog-checkpoint), the body of a signed note:
 *   "strata/<author hex>/<feed>\n<size, decimal>\n<base64 std of root>\n"
 * no extension lines. Signed notes (C2SP signed-note): body, an empty line,
 * then signature lines "\u2014 <name> <base64(key id || signature)>\n".
 *   - the author's signature: Ed25519 (type 0x01) over the body bytes, name
 *     "strata/<author hex>", key id = SHA-256(name || 0x0A || 0x01 || key)[:4];
 *   - a witness's cosignature (C2SP tlog-cosignature v1, type 0x04): name
 *     "strata/<witness hex>", key id = SHA-256(name || 0x0A || 0x04 || key)[:4],
 *     Ed25519 over "cosignature/v1\ntime <T>\n" || body, T unix seconds; the
 *     line's base64 holds key id || T (8 bytes, big-endian) || signature.
 * No signature here carries Strata's "strata/<kind>/v1" NUL prefix: the note
 * text and the cosignature header start with bytes no other Strata signed
 * message starts with (docs/PROTOCOL.md says why they cannot collide).
 *
 * Depends on libsodium (SHA-256, Ed25519) and crypto.h only.
 */
#ifndef STRATA_TLOG_H
#define STRATA_TLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define TLOG_HASH_BYTES 32
#define TLOG_HEIGHT_MAX 64                    /* a tree of up to 2^64 - 1 leaves */
#define TLOG_PATH_MAX (2 * TLOG_HEIGHT_MAX)   /* hashes in an inclusion or consistency proof */
#define NOTE_MAX 8192                         /* bytes of a signed note Strata reads or writes */
#define NOTE_SIGS_MAX 16                      /* signature lines in one note */
#define NOTE_NAME_MAX 80                      /* bytes of a key name */
#define CHECKPOINT_ORIGIN_MAX 128             /* bytes of an origin line */
#define NOTE_ALG_ED25519 0x01
#define NOTE_ALG_COSIGNATURE 0x04

/* --- RFC 6962 hashing --- */
void tlog_leaf_hash(uint8_t out[TLOG_HASH_BYTES], const uint8_t entry_hash[HASH_BYTES]);
void tlog_node_hash(uint8_t out[TLOG_HASH_BYTES], const uint8_t left[TLOG_HASH_BYTES],
		    const uint8_t right[TLOG_HASH_BYTES]);

/* The right edge of a tree: the roots of its complete subtrees, largest
 * (leftmost) first, popcount(size) of them. Appending is O(1) amortized;
 * the root folds them right to left. */
struct tlog_frontier {
	uint64_t size;
	size_t n;                                      /* == popcount(size) */
	uint8_t h[TLOG_HEIGHT_MAX][TLOG_HASH_BYTES];
};
void tlog_frontier_init(struct tlog_frontier *f);
/* Appends one leaf (its leaf hash). */
void tlog_frontier_push(struct tlog_frontier *f, const uint8_t leaf_hash[TLOG_HASH_BYTES]);
/* The tree hash of f's size leaves; size must be >= 1. */
void tlog_frontier_root(const struct tlog_frontier *f, uint8_t root[TLOG_HASH_BYTES]);

/* Leaf hashes are read through a callback: leaves from..to-1 in order, one
 * call each. Non-zero from fn stops and is returned. */
typedef int (*tlog_leaves_fn)(uint64_t from, uint64_t to,
			      int (*each)(const uint8_t leaf_hash[TLOG_HASH_BYTES], void *acc), void *acc,
			      void *arg);

/* Inclusion proof of leaf index (0-based) in the tree of size leaves,
 * RFC 9162 2.1.3 (the path Go's tlog.ProveRecord gives, in the same order).
 * path has room for TLOG_PATH_MAX hashes; *n_path receives the count.
 * Reads O(size) leaves. 0, -ERANGE (index >= size), or fn's error. */
int tlog_prove_inclusion(uint64_t index, uint64_t size, tlog_leaves_fn fn, void *arg,
			 uint8_t path[][TLOG_HASH_BYTES], size_t *n_path, struct err *e);
/* Checks an inclusion proof with O(log size) hashes (RFC 9162 2.1.3.2). */
bool tlog_check_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[TLOG_HASH_BYTES],
			  const uint8_t path[][TLOG_HASH_BYTES], size_t n_path,
			  const uint8_t root[TLOG_HASH_BYTES]);
/* Consistency proof from the tree of m leaves to the tree of n (1 <= m <= n),
 * RFC 9162 2.1.4 (Go's tlog.ProveTree). Reads O(n) leaves. */
int tlog_prove_consistency(uint64_t m, uint64_t n, tlog_leaves_fn fn, void *arg,
			   uint8_t path[][TLOG_HASH_BYTES], size_t *n_path, struct err *e);
bool tlog_check_consistency(uint64_t m, const uint8_t root_m[TLOG_HASH_BYTES], uint64_t n,
			    const uint8_t root_n[TLOG_HASH_BYTES], const uint8_t path[][TLOG_HASH_BYTES],
			    size_t n_path);

/* --- checkpoints and signed notes --- */
struct checkpoint {
	uint8_t author[KEY_BYTES];
	char feed[33];                 /* a feed name: 1..32 bytes of [a-z0-9_-] */
	uint64_t size;                 /* >= 1 */
	uint8_t root[TLOG_HASH_BYTES];
};
/* One signature line of a note. */
struct note_sig {
	uint8_t alg;                   /* NOTE_ALG_ED25519 or NOTE_ALG_COSIGNATURE */
	uint8_t key[KEY_BYTES];        /* the signer, from the name "strata/<hex>" */
	uint64_t time;                 /* cosignatures: T, unix seconds; else 0 */
	uint8_t sig[SIG_BYTES];
};
/* A parsed signed checkpoint: the body and every signature line that
 * names a Strata key ("strata/<64 hex>"), each with its type found from its
 * key id. Parsing checks the format only, not signatures. */
struct note {
	struct checkpoint cp;
	size_t n_sigs;
	struct note_sig sigs[NOTE_SIGS_MAX];
};

/* Writes the checkpoint body (text above) into out (cap >= CHECKPOINT_ORIGIN_MAX + 80),
 * NUL-terminated; returns its length. */
size_t checkpoint_body(char *out, size_t cap, const struct checkpoint *cp);
/* The author's signature over cp: the whole signed note (body, empty line,
 * one signature line) into out (NOTE_MAX), *len its length. kp must be
 * cp->author's key. */
int note_sign_checkpoint(const struct keypair *kp, const struct checkpoint *cp, char *out, size_t *len,
			 struct err *e) WUR;
/* Parses a signed note: the exact format above, every byte accounted for
 * (no extension lines, no unknown signature line types for Strata names,
 * a line for a foreign name is kept out of n but allowed; at least one
 * line by a Strata key). -EINVAL with the
 * line and what is wrong. */
int note_parse(const char *text, size_t len, struct note *out, struct err *e) WUR;
/* Checks the signature sigs[i] of n against n->cp (the author's, or a
 * cosignature over n->cp). true when it verifies. */
bool note_sig_verify(const struct note *n, size_t i);
/* Does n carry a valid Ed25519 line by its author, n->cp.author? */
bool note_author_signed(const struct note *n);
/* Adds (or replaces, same key and type) a signature to n. -ENOSPC past
 * NOTE_SIGS_MAX. */
int note_add_sig(struct note *n, const struct note_sig *s, struct err *e) WUR;
/* A witness's cosignature over n->cp at time t (unix seconds) by kp. */
int note_cosign(const struct keypair *kp, const struct note *n, uint64_t t, struct note_sig *out,
		struct err *e) WUR;
/* Writes n (body, empty line, its signature lines: the author's first,
 * then cosignatures by key order) into out (NOTE_MAX); *len its length. */
int note_format(const struct note *n, char *out, size_t *len, struct err *e) WUR;
/* The key id of a Strata key's lines of type alg (0x01 or 0x04):
 * SHA-256("strata/<hex>" || 0x0A || alg || key)[:4]. */
void note_key_id(const uint8_t key[KEY_BYTES], uint8_t alg, uint8_t out[4]);
/* The C2SP verifier key of a Strata key's checkpoint signatures,
 * "strata/<hex>+<key id hex>+<base64(0x01 || key)>" (what Go's
 * note.NewVerifier reads), NUL-terminated into out (cap >= 160); returns
 * its length. */
#define NOTE_VKEY_MAX 160
size_t note_vkey(char *out, size_t cap, const uint8_t key[KEY_BYTES]);

#endif
