/* SPDX-License-Identifier: MIT */
/*
 * Evidence of equivocation: two signed entries of one author for one (feed,
 * seq) with different hashes. A proof anyone can check with the author's
 * key alone; kept in index "evidence" under author | len | feed | seq, and
 * the feed frozen, in the caller's transaction. Used by links and bundles.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node_internal.h"

#define EVIDENCE_INDEX "evidence"

static size_t evidence_key(uint8_t *buf, const struct changeset *cs)
{
	size_t fl = strlen(cs->feed);

	memcpy(buf, cs->author, KEY_BYTES);
	buf[KEY_BYTES] = (uint8_t)fl;
	memcpy(buf + KEY_BYTES + 1, cs->feed, fl);
	be64_put(buf + KEY_BYTES + 1 + fl, cs->seq);
	return KEY_BYTES + 1 + fl + 8;
}

int node_evidence_check(const uint8_t *first, size_t first_len, const uint8_t *second, size_t second_len,
			struct changeset **out, struct err *e)
{
	struct changeset *a = NULL, *b = NULL;
	int ret;

	if ((ret = changeset_decode(&a, first, first_len, e)) < 0 || (ret = changeset_verify(a, e)) < 0 ||
	    (ret = changeset_decode(&b, second, second_len, e)) < 0 || (ret = changeset_verify(b, e)) < 0)
		goto out;
	if (memcmp(a->author, b->author, KEY_BYTES) != 0 || strcmp(a->feed, b->feed) != 0 || a->seq != b->seq) {
		err_set(e, "the two entries are not of the same author, feed and seq");
		ret = -EINVAL;
	} else if (memcmp(a->hash, b->hash, HASH_BYTES) == 0) {
		err_set(e, "the two entries are the same entry");
		ret = -EINVAL;
	}
out:
	changeset_destroy(&b);
	if (ret == 0 && out)
		*out = a;
	else
		changeset_destroy(&a);
	return ret;
}

int node_evidence_store(struct store_txn *t, const uint8_t *first, size_t first_len, const uint8_t *second,
			size_t second_len, bool *known, struct err *e)
{
	Strata__Evidence ev = STRATA__EVIDENCE__INIT;
	struct changeset *a = NULL;
	uint8_t key[KEY_BYTES + 1 + LIMIT_NAME_BYTES + 8], *buf = NULL;
	const uint8_t *old;
	size_t klen, len, oldlen;
	struct store_head h;
	struct err ignore = {0};
	int ret;

	*known = false;
	if ((ret = node_evidence_check(first, first_len, second, second_len, &a, e)) < 0)
		return ret;
	klen = evidence_key(key, a);
	*known = store_index_get(t, EVIDENCE_INDEX, key, klen, &old, &oldlen, &ignore) == 0;
	if (!*known) {
		ev.first.data = (uint8_t *)first;
		ev.first.len = first_len;
		ev.second.data = (uint8_t *)second;
		ev.second.len = second_len;
		len = strata__evidence__get_packed_size(&ev);
		if (!(buf = malloc(len))) {
			err_set(e, "out of memory");
			ret = -ENOMEM;
			goto out;
		}
		strata__evidence__pack(&ev, buf);
		if ((ret = store_index_put(t, EVIDENCE_INDEX, key, klen, buf, len, e)) < 0)
			goto out;
	}
	if (store_head_get(t, a->author, a->feed, &h, &ignore) == 0 && !(h.flags & STORE_FEED_FROZEN) &&
	    (ret = store_feed_set_flags(t, a->author, a->feed, h.flags | STORE_FEED_FROZEN, e)) < 0)
		goto out;
	ret = 0;
out:
	changeset_destroy(&a);
	free(buf);
	return ret;
}
