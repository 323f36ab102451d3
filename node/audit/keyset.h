/* SPDX-License-Identifier: MIT */
/* A set of byte strings (open addressing), private to audit/. */
#ifndef STRATA_KEYSET_H
#define STRATA_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keyset {
	struct keyset_slot *slots;
	size_t cap, used;
};

/* Adds a copy of key; 0, or -ENOMEM. Adding a present key is a no-op. */
int keyset_add(struct keyset *s, const void *key, size_t len);
/* Removes key if present; true if it was. */
bool keyset_remove(struct keyset *s, const void *key, size_t len);
/* Calls fn for every key. */
void keyset_each(const struct keyset *s, void (*fn)(const void *key, size_t len, void *arg), void *arg);
/* Frees everything; the set is empty and usable again. */
void keyset_clear(struct keyset *s);

#endif
