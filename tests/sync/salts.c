/* SPDX-License-Identifier: MIT */
/* Salted values in the sync tests: salts.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "salts.h"

size_t net_salts_of(const struct net_node *n, const uint8_t author[KEY_BYTES], const char *feed,
		    const char *collection, const char *key, uint8_t salts[][SALT_BYTES], size_t max)
{
	struct store *st = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};
	char dir[300];
	size_t count = 0, kl = strlen(key);

	snprintf(dir, sizeof dir, "%s/store", n->dir);
	cr_assert_eq(store_open(&st, dir, STORE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(st, false, &t, &e), 0, "%s", e.msg);
	for (uint64_t seq = 1;; seq++) {
		struct changeset *cs = NULL;
		const uint8_t *b;
		size_t bl;

		if (store_log_get(t, author, feed, seq, &b, &bl, NULL, &e) < 0)
			break;
		cr_assert_eq(changeset_decode(&cs, b, bl, &e), 0, "%s", e.msg);
		for (size_t i = 0; i < cs->n_ops; i++) {
			const struct op *o = &cs->ops[i];

			if (o->kind != OP_PUT || strcmp(o->collection, collection) || o->key_len != kl ||
			    memcmp(o->key, key, kl))
				continue;
			cr_assert(o->salted && o->salt, "%s's put at %s #%llu is not salted or has no value", key, feed,
				  (unsigned long long)seq);
			cr_assert_lt(count, max);
			memcpy(salts[count++], o->salt, SALT_BYTES);
		}
		changeset_destroy(&cs);
	}
	store_txn_abort(&t);
	store_close(&st);
	return count;
}

size_t net_salts_in(const struct net_node *n, uint8_t salts[][SALT_BYTES], size_t count)
{
	char path[320];
	size_t found = 0;

	snprintf(path, sizeof path, "%s/store/data.mdb", n->dir);
	for (size_t i = 0; i < count; i++)
		found += net_file_count_bytes(path, salts[i], SALT_BYTES) > 0;
	return found;
}
