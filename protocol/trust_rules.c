/* SPDX-License-Identifier: MIT */
/*
 * The pure rules of the trust messages (trust_rules.h): feed names, org
 * paths, roles, what a certificate allows, the bytes of a rotation proof.
 */
#include <errno.h>
#include <string.h>

#include "protocol/trust_rules.h"

static const char *const role_words[] = {[STRATA__ROLE__ROLE_ROOT] = "root",
					  [STRATA__ROLE__ROLE_CHILD] = "child",
					  [STRATA__ROLE__ROLE_PEER] = "peer",
					  [STRATA__ROLE__ROLE_AUDITOR] = "auditor"};

bool cert_role_known(Strata__Role r)
{
	return (size_t)r < sizeof role_words / sizeof role_words[0] && role_words[r];
}

const char *cert_role_word(Strata__Role r)
{
	return cert_role_known(r) ? role_words[r] : "unknown";
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

bool display_name_valid(const char *s)
{
	char shown[DISPLAY_NAME_MAX * TEXT_ESCAPE_EXPANSION + 1];
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > DISPLAY_NAME_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return false;
	/* printable as it is: text_escape changes nothing */
	return text_escape(shown, sizeof shown, s, n) == n && memcmp(shown, s, n) == 0;
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

void rotation_proof_message(uint8_t out[ROTATION_PROOF_MSG_BYTES], const uint8_t issuer[KEY_BYTES],
			    const uint8_t old_key[KEY_BYTES], const uint8_t new_key[KEY_BYTES])
{
	memcpy(out, issuer, KEY_BYTES);
	memcpy(out + KEY_BYTES, old_key, KEY_BYTES);
	memcpy(out + 2 * KEY_BYTES, new_key, KEY_BYTES);
}
