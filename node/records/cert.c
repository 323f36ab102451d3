/* SPDX-License-Identifier: MIT */
/*
 * Certificates (collection "cert", feed "trust", key = subject key): a
 * parent's signed statement that a key holds an org path, a role and the
 * feeds it may publish. The entry's signature is the issuer's signature.
 * The rules this validation applies (roles, org paths, feed names) and
 * what a certificate allows are in protocol/trust_rules.c, shared with
 * node/core and node/sync.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

static int cert_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Certificate *c = (const Strata__Certificate *)msg;

	if (c->subject.len != KEY_BYTES) {
		err_set(e, "certificate subject is %zu bytes, not %d", c->subject.len, KEY_BYTES);
		return -EINVAL;
	}
	if (key && (key_len != KEY_BYTES || memcmp(key, c->subject.data, KEY_BYTES) != 0)) {
		err_set(e, "certificate is stored under a key other than its subject");
		return -EINVAL;
	}
	if (!org_path_valid(c->name)) {
		err_set(e, "certificate org path \"%s\" is not valid", c->name);
		return -EINVAL;
	}
	if (c->display_name && !display_name_valid(c->display_name)) {
		err_set(e, "certificate display name is not valid (1 to %d bytes of printable UTF-8)", DISPLAY_NAME_MAX);
		return -EINVAL;
	}
	if (!cert_role_known(c->role)) {
		err_set(e, "certificate role %d is unknown", (int)c->role);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->n_feeds; i++)
		if (!feed_name_known(c->feeds[i])) {
			err_set(e, "certificate names unknown feed \"%s\"", c->feeds[i]);
			return -EINVAL;
		}
	for (size_t i = 0; i < c->n_receive; i++)
		if (!feed_name_known(c->receive[i])) {
			err_set(e, "certificate names unknown feed \"%s\"", c->receive[i]);
			return -EINVAL;
		}
	return 0;
}

const struct record_type record_cert = {
	.collection = "cert",
	.feed = FEED_TRUST,
	.descriptor = &strata__certificate__descriptor,
	.validate = cert_validate,
	.noun = "certificate",
};
RECORD_REGISTER(20, record_cert);
