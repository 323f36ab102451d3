/* SPDX-License-Identifier: MIT */
/*
 * Salted values in the sync tests (issue 15): the salts a node's store
 * holds beside the values of one record, and whether given bytes are in a
 * file, so that a test can show a salt travels with its value and leaves
 * every store (and bundle) with it.
 */
#ifndef STRATA_TEST_SYNC_SALTS_H
#define STRATA_TEST_SYNC_SALTS_H

#include "net.h"

#define NET_SALTS_MAX 8

/* The salts of the puts of (collection, key) in author's feed at n, read
 * from its store (read-only: a daemon may run), in seq order; asserts that
 * each such put is salted and holds its value. How many (at most max). */
size_t net_salts_of(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed,
		    const char *collection, const char *key, uint8_t salts[][SALT_BYTES], size_t max);

/* How many of salts[0..count) are anywhere in n's store/data.mdb. */
size_t net_salts_in(const struct net_node *n, uint8_t salts[][SALT_BYTES], size_t count);

#endif
