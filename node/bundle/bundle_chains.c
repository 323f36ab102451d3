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

/* Marks in keep[] the trust feeds among heads whose author is KEY or
 * issued a certificate on KEY's chain. */
static int mark_chain(struct store_txn *t, const struct store_head *heads, size_t n, const uint8_t key[KEY_BYTES],
		      bool *keep, struct err *e)
{
	struct node_chain w;
	int ret;

	for (size_t i = 0; i < n; i++)
		if (strcmp(heads[i].feed, FEED_TRUST) == 0 && memcmp(heads[i].author, key, KEY_BYTES) == 0)
			keep[i] = true;
	node_chain_begin(&w, key);
	while ((ret = node_chain_next(t, &w, e)) == 0)
		for (size_t i = 0; i < n; i++)
			if (strcmp(heads[i].feed, FEED_TRUST) == 0 &&
			    memcmp(heads[i].author, w.issuer, KEY_BYTES) == 0)
				keep[i] = true;
	node_chain_end(&w);
	/* the end of a chain (a root, no certificate): the audit judges it */
	return ret == -ENOENT || ret == -ELOOP ? 0 : ret;
}

int bundle_chain_feeds(struct store_txn *t, const struct store_head *heads, size_t n, const struct bundle_filter *f,
		       bool **keep, struct err *e)
{
	int ret = 0;

	*keep = NULL;
	if (bundle_wanted(f, FEED_TRUST))
		return 0; /* every trust feed goes in anyway */
	if (!(*keep = calloc(n ? n : 1, sizeof **keep))) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		if (bundle_wanted(f, heads[i].feed))
			ret = mark_chain(t, heads, n, heads[i].author, *keep, e);
	if (ret < 0) {
		free(*keep);
		*keep = NULL;
	}
	return ret;
}
