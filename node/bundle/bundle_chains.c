/* SPDX-License-Identifier: MIT */
/*
 * The chains a bundle's entries need (docs/PROTOCOL.md, "Where trust
 * flows"): when an export leaves the trust feeds out (--feeds without
 * trust), the trust feeds of every exported author's chain still go in, so
 * that an auditor can verify each entry against the root with nothing but
 * the bundle.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/bundle/bundle_internal.h"

/* The keys whose trust feeds go in: a growing array, sorted at the end. */
struct keyset {
	uint8_t (*k)[KEY_BYTES];
	size_t n, cap;
};

static int key_add(struct keyset *s, const uint8_t key[KEY_BYTES])
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *p = realloc(s->k, cap * KEY_BYTES);

		if (!p)
			return -ENOMEM;
		s->k = p;
		s->cap = cap;
	}
	memcpy(s->k[s->n++], key, KEY_BYTES);
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, KEY_BYTES);
}

/* KEY and every issuer on its chain into s. */
static int add_chain(struct store_txn *t, const uint8_t key[KEY_BYTES], struct keyset *s, struct err *e)
{
	struct node_chain w;
	int ret;

	if ((ret = key_add(s, key)) < 0)
		return ret;
	node_chain_begin(&w, key);
	while ((ret = node_chain_next(t, &w, e)) == 0)
		if ((ret = key_add(s, w.issuer)) < 0)
			break;
	node_chain_end(&w);
	/* the end of a chain (a root, no certificate): the audit judges it */
	return ret == -ENOENT || ret == -ELOOP ? 0 : ret;
}

int bundle_chain_feeds(struct store_txn *t, const struct store_head *heads, size_t n, const struct bundle_filter *f,
		       bool **keep, struct err *e)
{
	struct keyset s = {0};
	int ret = 0;

	*keep = NULL;
	if (bundle_wanted(f, FEED_TRUST))
		return 0; /* every trust feed goes in anyway */
	for (size_t i = 0; i < n && ret == 0; i++)
		if (bundle_wanted(f, heads[i].feed))
			ret = add_chain(t, heads[i].author, &s, e);
	if (ret == 0 && !(*keep = calloc(n ? n : 1, sizeof **keep)))
		ret = -ENOMEM;
	if (ret == 0) {
		if (s.n)
			qsort(s.k, s.n, KEY_BYTES, key_cmp);
		for (size_t i = 0; i < n && s.n; i++)
			(*keep)[i] = strcmp(heads[i].feed, FEED_TRUST) == 0 &&
				     bsearch(heads[i].author, s.k, s.n, KEY_BYTES, key_cmp);
	}
	if (ret == -ENOMEM)
		err_set(e, "out of memory");
	free(s.k);
	return ret;
}
