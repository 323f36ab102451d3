/* SPDX-License-Identifier: MIT */
/*
 * Erase requests (collection "erase", key "<collection>/<record key>"): the
 * owner of a record asks that its value be removed from every store. An
 * erase travels in the feed of the record it names (so it follows the data
 * everywhere the data went, after it in the chain); it cannot name a trust
 * record (certificates and revocations carry authority) nor another erase.
 * What it does to a store, and who may write it, is node/core/erase.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/records/records.h"

#define REASON_MAX 256

int erase_key_split(const uint8_t *key, size_t key_len, char collection[LIMIT_NAME_BYTES + 1],
		    const uint8_t **rec_key, size_t *rec_len, struct err *e)
{
	const uint8_t *slash = key ? memchr(key, '/', key_len) : NULL;
	const struct record_type *t;
	size_t cl;

	if (!slash || (cl = (size_t)(slash - key)) == 0 || cl > LIMIT_NAME_BYTES || cl + 1 == key_len) {
		err_set(e, "an erase key is \"<collection>/<record key>\"");
		return -EINVAL;
	}
	memcpy(collection, key, cl);
	collection[cl] = '\0';
	if (!(t = record_type_find(collection))) {
		err_set(e, "erase names unknown collection \"%s\"", collection);
		return -EINVAL;
	}
	if (!t->feed || strcmp(t->feed, FEED_TRUST) == 0) {
		err_set(e, "%s records cannot be erased", collection);
		return -EINVAL;
	}
	*rec_key = slash + 1;
	*rec_len = key_len - cl - 1;
	return 0;
}

int erase_key_make(char *out, size_t cap, const char *collection, const uint8_t *key, size_t key_len,
		   struct err *e)
{
	size_t cl = strlen(collection);

	if (cl + 1 + key_len > LIMIT_KEY_BYTES || cl + 1 + key_len >= cap) {
		err_set(e, "%s key of %zu bytes is too long to name in an erase request (at most %zu)", collection,
			key_len, (size_t)LIMIT_KEY_BYTES - cl - 1);
		return -E2BIG;
	}
	memcpy(out, collection, cl);
	out[cl] = '/';
	memcpy(out + cl + 1, key, key_len);
	out[cl + 1 + key_len] = '\0';
	return (int)(cl + 1 + key_len);
}

static const char *erase_feed_of(const uint8_t *key, size_t key_len, struct err *e)
{
	char collection[LIMIT_NAME_BYTES + 1];
	const uint8_t *k;
	size_t kl;

	if (erase_key_split(key, key_len, collection, &k, &kl, e) < 0)
		return NULL;
	return record_type_find(collection)->feed;
}

/* Residues in ascending seq order, each exactly the residue of itself
 * (record_residue): nothing but the fields the figures read, so that an
 * erase request cannot carry on what it erases. */
static int residues_validate(const Strata__Erasure *r, const char *collection, struct err *e)
{
	for (size_t i = 0; i < r->n_residues; i++) {
		const Strata__ErasedResidue *x = r->residues[i];
		uint8_t *again = NULL;
		size_t len = 0;
		int ret;

		if (x->seq == 0 || (i > 0 && x->seq <= r->residues[i - 1]->seq)) {
			err_set(e, "erase request residue %zu: seqs must ascend from 1", i + 1);
			return -EINVAL;
		}
		ret = record_residue(collection, x->value.data, x->value.len, &again, &len, e);
		if (ret == 1 && (len != x->value.len || memcmp(again, x->value.data, len) != 0))
			ret = -EINVAL;
		free(again);
		if (ret == -ENOMEM)
			return ret;
		if (ret != 1) {
			err_set(e, "erase request residue %zu (entry #%llu) is not a %s residue: it may hold only what "
				   "the figures read",
				i + 1, (unsigned long long)x->seq, collection);
			return -EINVAL;
		}
	}
	return 0;
}

static int erase_validate(const ProtobufCMessage *msg, const uint8_t *key, size_t key_len, struct err *e)
{
	const Strata__Erasure *r = (const Strata__Erasure *)msg;
	char collection[LIMIT_NAME_BYTES + 1];
	const uint8_t *k;
	size_t kl;
	int ret;

	if (key && (ret = erase_key_split(key, key_len, collection, &k, &kl, e)) < 0)
		return ret;
	if (r->erased_ms == 0) {
		err_set(e, "erase request has no time");
		return -EINVAL;
	}
	if (r->reason && (strlen(r->reason) > REASON_MAX || !text_valid(r->reason, strlen(r->reason)))) {
		err_set(e, "erase reason is longer than %d bytes or not plain UTF-8 text", REASON_MAX);
		return -EINVAL;
	}
	return key ? residues_validate(r, collection, e) : 0;
}

const struct record_type record_erase = {
	.collection = "erase",
	.feed = NULL, /* the feed of the record it names: feed_of */
	.feed_of = erase_feed_of,
	.descriptor = &strata__erasure__descriptor,
	.validate = erase_validate,
	.noun = N_("erase request"),
	.summary = N_("remove a record's value from every store that holds it"),
};
RECORD_REGISTER(200, record_erase);
