/* SPDX-License-Identifier: MIT */
/*
 * The key lifecycle records of the trust feed:
 *   revocation (key = the revoked key): the issuer of a key's certificate
 *     withdraws it from a given time on; with a successor, the revocation
 *     is the issuer's half of a key rotation;
 *   rotation (key = the new key): the old key names its successor, with the
 *     new key's signature proving that its holder asked for it.
 * Who may write them (the issuer, the old key) is checked at ingest in
 * node/core/revoked.c, which also keeps the "revoked" index.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

#define REASON_MAX 256

static int revocation_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Revocation *r = (const Strata__Revocation *)msg;

	if (r->subject.len != KEY_BYTES) {
		err_set(e, "revocation subject is %zu bytes, not %d", r->subject.len, KEY_BYTES);
		return -EINVAL;
	}
	if (key && (key_len != KEY_BYTES || memcmp(key, r->subject.data, KEY_BYTES) != 0)) {
		err_set(e, "revocation is stored under a key other than its subject");
		return -EINVAL;
	}
	if (r->revoked_ms == 0) {
		err_set(e, "revocation has no time");
		return -EINVAL;
	}
	if (r->reason && (strlen(r->reason) > REASON_MAX || !text_valid(r->reason, strlen(r->reason)))) {
		err_set(e, "revocation reason is longer than %d bytes or not plain UTF-8 text", REASON_MAX);
		return -EINVAL;
	}
	if (r->has_successor &&
	    (r->successor.len != KEY_BYTES || memcmp(r->successor.data, r->subject.data, KEY_BYTES) == 0)) {
		err_set(e, "revocation successor must be another 32-byte key");
		return -EINVAL;
	}
	return 0;
}

static int rotation_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Rotation *r = (const Strata__Rotation *)msg;
	uint8_t m[ROTATION_PROOF_MSG_BYTES];

	if (r->old_key.len != KEY_BYTES || r->new_key.len != KEY_BYTES || r->issuer.len != KEY_BYTES ||
	    r->proof.len != SIG_BYTES) {
		err_set(e, "rotation keys must be 32 bytes and its proof 64");
		return -EINVAL;
	}
	if (key && (key_len != KEY_BYTES || memcmp(key, r->new_key.data, KEY_BYTES) != 0)) {
		err_set(e, "rotation is stored under a key other than its new key");
		return -EINVAL;
	}
	if (memcmp(r->old_key.data, r->new_key.data, KEY_BYTES) == 0 || r->rotated_ms == 0) {
		err_set(e, "rotation must name a new key other than the old one, and a time");
		return -EINVAL;
	}
	rotation_proof_message(m, r->issuer.data, r->old_key.data, r->new_key.data);
	if (sig_verify(r->new_key.data, DOMAIN_ROTATE, m, sizeof m, r->proof.data) < 0) {
		err_set(e, "rotation proof does not verify: the new key did not sign it");
		return -EINVAL;
	}
	return 0;
}

const struct record_type record_revocation = {
	.collection = "revocation",
	.feed = FEED_TRUST,
	.descriptor = &strata__revocation__descriptor,
	.validate = revocation_validate,
	.noun = N_("revocation"),
};
RECORD_REGISTER(30, record_revocation);

const struct record_type record_rotation = {
	.collection = "rotation",
	.feed = FEED_TRUST,
	.descriptor = &strata__rotation__descriptor,
	.validate = rotation_validate,
	.noun = N_("key rotation"),
};
RECORD_REGISTER(31, record_rotation);
