/* SPDX-License-Identifier: MIT */
/*
 * protocol: Strata's wire format. Building, signing, decoding and verifying
 * change sets (envelopes), with hard limits enforced before anything is
 * trusted. The generated protobuf-c record messages (Strata__Member, ...)
 * are part of this interface so that a record type lives in strata.proto and
 * one file of node/records/; the wire messages are only reached through the
 * functions below.
 */
#ifndef STRATA_PROTOCOL_H
#define STRATA_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "protocol/strata.pb-c.h"

/* Limits a decoder enforces; anything larger is refused before allocation
 * where the size is known up front. */
#define LIMIT_ENVELOPE_BYTES (16u << 20) /* one encoded envelope */
#define LIMIT_OPS 10000u                  /* ops in one change set */
#define LIMIT_KEY_BYTES 256u              /* a record key */
#define LIMIT_NAME_BYTES 32u              /* a collection or feed name */
#define LIMIT_VALUE_BYTES (64u << 10)     /* one record value */

/* Feed names (DESIGN.md, "Feeds and where they flow"). The audience is a
 * property of the feed: `notice` is split from `down` so that a peer whose
 * agreement names notices receives no report approval or transfer step. */
#define FEED_UP "up"         /* records, to ancestors */
#define FEED_REPORT "report" /* reports and acks, to ancestors and agreed peers */
#define FEED_DOWN "down"     /* approvals, returns, transfer steps: descendants only */
#define FEED_NOTICE "notice" /* notices: descendants and agreed peers */
#define FEED_TRUST "trust"   /* certificates, revocations, rotations */
/* personal data, which stays at its author unless [privacy] contact_levels
 * lets it travel up (docs/OPERATIONS.md, "What travels how far") */
#define FEED_PRIVATE "private"

enum op_kind { OP_PUT = 1, OP_DELETE = 2 };

/* One decoded op. Pointers point into the changeset that holds it. */
struct op {
	enum op_kind kind;
	const char *collection; /* NUL-terminated, 1..LIMIT_NAME_BYTES */
	const uint8_t *key;
	size_t key_len;         /* 1..LIMIT_KEY_BYTES */
	/* puts only, zeros for deletes: the commitment the body signs, which
	 * is Op.value_commit (salted) or, for a put written before salted
	 * commitments, Op.value_hash (BLAKE2b-256 of the value) */
	uint8_t value_hash[HASH_BYTES];
	const uint8_t *value;   /* NULL for deletes and erased values */
	size_t value_len;
	bool salted;            /* puts: the body has value_commit, not value_hash */
	const uint8_t *salt;    /* SALT_BYTES beside a present salted value, else NULL */
};

/* A value's salt (Value.salt): fresh random bytes per put, erased with it. */
#define SALT_BYTES 32

/* The salted commitment of a value (Op.value_commit): BLAKE2b-256 keyed
 * with the salt, libsodium crypto_generichash(out, 32, value, len, salt,
 * 32). Without the salt, nobody can confirm a guessed value from it. */
void changeset_value_commit(uint8_t out[HASH_BYTES], const uint8_t salt[SALT_BYTES], const uint8_t *value,
			    size_t len);

/* Does value (len bytes) match op's commitment: the keyed hash with salt
 * for a salted put (salt NULL: false), the plain hash for an old one? */
bool changeset_value_matches(const struct op *op, const uint8_t *value, size_t len, const uint8_t *salt);

/* A decoded envelope. Every pointer stays valid until changeset_destroy. */
struct changeset {
	uint8_t author[KEY_BYTES];
	const char *feed; /* NUL-terminated, 1..LIMIT_NAME_BYTES */
	uint64_t seq;     /* >= 1 */
	uint8_t prev[HASH_BYTES];
	uint64_t time_ms;
	size_t n_ops;
	struct op *ops;
	const uint8_t *body; /* the exact signed bytes */
	size_t body_len;
	uint8_t signature[SIG_BYTES];
	uint8_t hash[HASH_BYTES]; /* BLAKE2b-256(body): the entry's id, next prev */
	const uint8_t *envelope;  /* a private copy of the exact input bytes */
	size_t envelope_len;
};

/* Decodes an envelope and checks its structure: sizes within the limits,
 * every required field present, no unknown field, author and prev and hash
 * lengths right, seq >= 1, seq 1 has an all-zero prev, feed and collection
 * names of [a-z0-9_-], ops of a known kind, puts with exactly one of a
 * value hash (old puts) and a value commitment (salted), each 32 bytes,
 * deletes with neither, values naming existing puts in increasing order,
 * with a salt of SALT_BYTES iff their op is salted, and matching their
 * op's commitment (changeset_value_matches). Does NOT check the signature (changeset_verify).
 * Copies buf; caller owns *out (changeset_destroy). -EBADMSG with a reason
 * on any failure, -ENOMEM. */
int changeset_decode(struct changeset **out, const uint8_t *buf, size_t len, struct err *e) WUR;

/* Checks the Ed25519 signature by cs->author over DOMAIN_CHANGESET NUL body.
 * 0, or -EBADMSG with a reason. */
int changeset_verify(const struct changeset *cs, struct err *e) WUR;

/* Frees *cs and sets it to NULL. NULL-safe. */
void changeset_destroy(struct changeset **cs);

/* Builds a new change set: collects ops and values, then encodes, signs and
 * returns the envelope bytes. Opaque. */
struct changeset_builder;

/* Starts a change set for (author of kp, feed) at seq with the given prev
 * hash. Caller owns *out. */
int changeset_builder_new(struct changeset_builder **out, const char *feed, uint64_t seq,
			  const uint8_t prev[HASH_BYTES], uint64_t time_ms, struct err *e) WUR;

/* Adds put(collection, key) = value (value copied). -E2BIG past a limit. */
int changeset_builder_put(struct changeset_builder *b, const char *collection, const uint8_t *key,
			  size_t key_len, const uint8_t *value, size_t value_len, struct err *e) WUR;

/* Every put a builder adds is salted: a fresh salt of SALT_BYTES (from
 * libsodium's randombytes, drawn many at a time per thread; never two
 * puts with one salt, a forked child included), Op.value_commit =
 * changeset_value_commit, the salt in Value.salt beside the data.
 *
 * For tests and published vectors only; the product never calls this.
 * Builders made after it (changeset_builder_new) draw each put's salt
 * from draw(ctx, op index, salt) instead (a fixed salt makes a change set
 * reproducible), or, with unsalted true, write puts in the form before
 * salted commitments (Op.value_hash, no salt), so that a test can hold a
 * store with old entries. (NULL, NULL, false) restores the default. Not
 * thread-safe: set it before any builder is made. */
typedef void changeset_salt_fn(void *ctx, size_t op, uint8_t salt[SALT_BYTES]);
void changeset_test_salts(changeset_salt_fn *draw, void *ctx, bool unsalted);

/* Adds delete(collection, key). -E2BIG past a limit. */
int changeset_builder_delete(struct changeset_builder *b, const char *collection, const uint8_t *key,
			     size_t key_len, struct err *e) WUR;

/* Number of ops and encoded bytes added so far (for batching decisions). */
size_t changeset_builder_ops(const struct changeset_builder *b);
size_t changeset_builder_bytes(const struct changeset_builder *b);

/* Encodes the body with kp's public key as author, signs it, and returns the
 * envelope in *env (malloc'd, caller frees) of *env_len bytes, and the body
 * hash in hash if not NULL. The builder stays usable only for destroy. */
int changeset_builder_finish(struct changeset_builder *b, const struct keypair *kp, uint8_t **env,
			     size_t *env_len, uint8_t hash[HASH_BYTES], struct err *e) WUR;

/* Frees *b and sets it to NULL. NULL-safe. */
void changeset_builder_destroy(struct changeset_builder **b);

/* Re-frames an envelope without the value of op index `op` (for erasure):
 * the whole Value goes, its data and its salt; the body and signature
 * bytes are kept exactly. Caller frees *out. */
int changeset_strip_value(const struct changeset *cs, size_t op, uint8_t **out, size_t *out_len,
			  struct err *e) WUR;

/* Prev elision for replication (changeset_elide.c): in envelopes[0..n)
 * sent in order, zeroes each prev that is the hash of the body of the
 * envelope before it (same author and feed, the seq before), in place;
 * returns how many. changesets_prev_restore puts back every zero prev that
 * follows such an envelope, in place, and returns how many; it trusts
 * nothing, so an elision it cannot undo leaves bytes that the decoder and
 * the signature check refuse. Other envelopes are left as they are. */
size_t changesets_prev_elide(ProtobufCBinaryData *env, size_t n);
size_t changesets_prev_restore(ProtobufCBinaryData *env, size_t n);

#endif
