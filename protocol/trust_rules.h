/* SPDX-License-Identifier: MIT */
/*
 * trust_rules: the pure rules of the trust messages of strata.proto, shared
 * by the three layers that apply them: node/records validates certificates
 * and rotations with them, node/core checks who may write what (authorize.c,
 * revoke.c), and node/sync routes feeds per link and builds join, invite and
 * rotation messages.
 *
 * Why here and not in node/core with the rest of trust: node/records must
 * not include node/core (folders only include lower ones) and its
 * certificate and rotation validation needs the role words, the org-path
 * syntax, the known feeds and the rotation proof bytes; node/sync must not
 * include node/records (transport includes no domain header). protocol/ is
 * below both. Nothing here reads a store, a clock or a key: a function of
 * its arguments, the same on every node. node/records/records.h includes
 * this header, so its users keep seeing these names through it.
 *
 * The names keep their prefixes from node/records (cert_, org_path_,
 * feed_, rotation_) so that no caller had to change.
 */
#ifndef STRATA_TRUST_RULES_H
#define STRATA_TRUST_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "protocol/protocol.h"

/* Is s one of the feeds Strata knows: up, report, down, notice, trust,
 * private (the FEED_* constants of protocol.h)? */
bool feed_name_known(const char *s);
/* The feeds a peer agreement may name: published by the peer (report) and
 * received by it (notice). */
bool feed_peer_may_publish(const char *s);
bool feed_peer_may_receive(const char *s);

/* Is s a valid org path: 1..255 bytes of [a-z0-9_-] segments joined by '/'? */
bool org_path_valid(const char *s);

/* A unit's display name (Certificate.display_name, "湖里区"): 1..DISPLAY_NAME_MAX
 * bytes of valid UTF-8 with no control character, bidirectional override
 * or invalid byte (what text_escape would change), and no space at either
 * end. 64 bytes: 21 Chinese characters, more than any unit's name needs. */
#define DISPLAY_NAME_MAX 64
bool display_name_valid(const char *s);

/* Is child strictly below parent ("a/b/c" under "a/b", not "a/bc")? */
bool org_path_under(const char *child, const char *parent);

/* Does the certificate let its subject publish FEED / does its issuer
 * share FEED with the subject (peers)? */
bool cert_allows(const Strata__Certificate *c, const char *feed);
bool cert_shares(const Strata__Certificate *c, const char *feed);

/* The word of a role ("unknown" for a value outside the enum), whether a
 * value is a role of the enum, and the role of a word (root, child, peer,
 * auditor; -EINVAL with a reason otherwise). */
const char *cert_role_word(Strata__Role r);
bool cert_role_known(Strata__Role r);
int cert_role_parse(const char *s, Strata__Role *out, struct err *e) WUR;

#define ROTATION_PROOF_MSG_BYTES (3 * KEY_BYTES)

/* The bytes a rotation proof signs (with DOMAIN_ROTATE): issuer | old | new. */
void rotation_proof_message(uint8_t out[ROTATION_PROOF_MSG_BYTES], const uint8_t issuer[KEY_BYTES],
			    const uint8_t old_key[KEY_BYTES], const uint8_t new_key[KEY_BYTES]);

#endif
