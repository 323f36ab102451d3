/* SPDX-License-Identifier: MIT */
/* Shared between the bundle files (bundle.c, bundle_chains.c). */
#ifndef STRATA_BUNDLE_INTERNAL_H
#define STRATA_BUNDLE_INTERNAL_H

#include "node/bundle/bundle.h"

/* Does the filter (NULL: everything) take FEED? */
bool bundle_wanted(const struct bundle_filter *f, const char *feed);

/* When the filter leaves trust out: *keep (n flags, malloc'd) marks the
 * trust feeds among heads that certify an exported feed's author (the
 * author's own and each issuer on its chain); *keep is NULL when every
 * trust feed is exported anyway. 0, or a negative errno (e). */
int bundle_chain_feeds(struct store_txn *t, const struct store_head *heads, size_t n, const struct bundle_filter *f,
		       bool **keep, struct err *e);

#endif
