/* SPDX-License-Identifier: MIT */
/*
 * A small set of byte strings with linear probing and tombstones; used by
 * the store verification for keys awaiting a later delete, which is almost
 * always a handful, so simplicity beats cleverness here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/keyset.h"

struct keyset_slot {
	uint8_t *key; /* NULL: empty */
	size_t len;
	bool dead;    /* removed: keep probing past it */
};

static uint64_t fnv(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static struct keyset_slot *find(const struct keyset *s, const void *key, size_t len)
{
	if (!s->cap)
		return NULL;
	for (size_t i = fnv(key, len) & (s->cap - 1), n = 0; n < s->cap; i = (i + 1) & (s->cap - 1), n++) {
		struct keyset_slot *sl = &s->slots[i];

		if (!sl->key && !sl->dead)
			return NULL;
		if (sl->key && sl->len == len && memcmp(sl->key, key, len) == 0)
			return sl;
	}
	return NULL;
}

static int grow(struct keyset *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64;
	struct keyset_slot *old = s->slots, *slots = calloc(cap, sizeof *slots);
	size_t old_cap = s->cap;

	if (!slots)
		return -ENOMEM;
	s->slots = slots;
	s->cap = cap;
	s->used = 0;
	for (size_t i = 0; i < old_cap; i++) {
		if (!old[i].key)
			continue;
		size_t j = fnv(old[i].key, old[i].len) & (cap - 1);

		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = (struct keyset_slot){.key = old[i].key, .len = old[i].len};
		s->used++;
	}
	free(old);
	return 0;
}

int keyset_add(struct keyset *s, const void *key, size_t len)
{
	size_t i;

	if (find(s, key, len))
		return 0;
	if ((s->used + 1) * 2 > s->cap && grow(s) < 0)
		return -ENOMEM;
	i = fnv(key, len) & (s->cap - 1);
	while (s->slots[i].key)
		i = (i + 1) & (s->cap - 1);
	if (!(s->slots[i].key = malloc(len ? len : 1)))
		return -ENOMEM;
	memcpy(s->slots[i].key, key, len);
	s->slots[i].len = len;
	s->slots[i].dead = false;
	s->used++;
	return 0;
}

bool keyset_remove(struct keyset *s, const void *key, size_t len)
{
	struct keyset_slot *sl = find(s, key, len);

	if (!sl)
		return false;
	free(sl->key);
	sl->key = NULL;
	sl->dead = true;
	return true;
}

void keyset_each(const struct keyset *s, void (*fn)(const void *key, size_t len, void *arg), void *arg)
{
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].key)
			fn(s->slots[i].key, s->slots[i].len, arg);
}

void keyset_clear(struct keyset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i].key);
	free(s->slots);
	memset(s, 0, sizeof *s);
}
