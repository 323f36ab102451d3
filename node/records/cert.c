/* SPDX-License-Identifier: MIT */
/*
 * Certificates (collection "cert", feed "trust", key = subject key): a
 * parent's signed statement that a key holds an org path, a role and the
 * feeds it may publish. The entry's signature is the issuer's signature.
 */
#include <errno.h>
#include <string.h>

#include "node/records/records.h"

static const char *const role_words[] = {[STRATA__ROLE__ROLE_ROOT] = "root",
					  [STRATA__ROLE__ROLE_CHILD] = "child",
					  [STRATA__ROLE__ROLE_PEER] = "peer",
					  [STRATA__ROLE__ROLE_AUDITOR] = "auditor"};

const char *cert_role_word(Strata__Role r)
{
	return (size_t)r < sizeof role_words / sizeof role_words[0] && role_words[r] ? role_words[r] : "unknown";
}

int cert_role_parse(const char *s, Strata__Role *out, struct err *e)
{
	for (size_t i = 1; s && i < sizeof role_words / sizeof role_words[0]; i++)
		if (strcmp(s, role_words[i]) == 0) {
			*out = (Strata__Role)i;
			return 0;
		}
	err_set(e, "role \"%s\" is not one of child, peer, auditor", s ? s : "");
	return -EINVAL;
}

bool feed_name_known(const char *s)
{
	return strcmp(s, FEED_UP) == 0 || strcmp(s, FEED_REPORT) == 0 || strcmp(s, FEED_DOWN) == 0 ||
	       strcmp(s, FEED_NOTICE) == 0 || strcmp(s, FEED_TRUST) == 0 || strcmp(s, FEED_PRIVATE) == 0;
}

/* A peer publishes signed reports only: its members' records stay in its
 * own domain, and its certificates travel only as far as they prove it. */
bool feed_peer_may_publish(const char *s)
{
	return strcmp(s, FEED_REPORT) == 0;
}

/* A peer receives notices only: every other feed of the hierarchy carries
 * data about members, residents or units (up: records; report: the units'
 * figures; down: approvals, returns and transfer steps). */
bool feed_peer_may_receive(const char *s)
{
	return strcmp(s, FEED_NOTICE) == 0;
}

bool org_path_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0, seg = 0;

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '/' || c == '\0') {
			if (seg == 0)
				return false;
			seg = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		seg++;
	}
	return true;
}

bool org_path_under(const char *child, const char *parent)
{
	size_t n = strlen(parent);

	return strncmp(child, parent, n) == 0 && child[n] == '/';
}

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
	if ((size_t)c->role >= sizeof role_words / sizeof role_words[0] || !role_words[c->role]) {
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

bool cert_allows(const Strata__Certificate *c, const char *feed)
{
	bool peer = c->role == STRATA__ROLE__ROLE_PEER;

	if (peer && !feed_peer_may_publish(feed) && strcmp(feed, FEED_TRUST) != 0)
		return false; /* an agreement from before the limits were enforced */
	for (size_t i = 0; i < c->n_feeds; i++)
		if (strcmp(c->feeds[i], feed) == 0 ||
		    /* notices were part of `down` until it was split by audience */
		    (!peer && strcmp(feed, FEED_NOTICE) == 0 && strcmp(c->feeds[i], FEED_DOWN) == 0))
			return true;
	return false;
}

bool cert_shares(const Strata__Certificate *c, const char *feed)
{
	if (!feed_peer_may_receive(feed))
		return false; /* an agreement from before the limits were enforced */
	for (size_t i = 0; i < c->n_receive; i++)
		if (strcmp(c->receive[i], feed) == 0)
			return true;
	return false;
}
