/* SPDX-License-Identifier: MIT */
/*
 * Per-link cursors by feed id: open addressing on a hash of (author, feed).
 * A city holds one entry per feed of its subtree, so lookups must stay O(1).
 */
#include <stdlib.h>
#include <string.h>

#include "node/sync/feedmap.h"

struct feedmap_slot {
	bool used;
	uint8_t author[32];
	char feed[33];
	struct feedmap_val val;
};

static uint64_t hash(const uint8_t author[32], const char *feed)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 32; i++)
		h = (h ^ author[i]) * 1099511628211ull;
	for (; *feed; feed++)
		h = (h ^ (uint8_t)*feed) * 1099511628211ull;
	return h;
}

static struct feedmap_slot *probe(const struct feedmap *m, const uint8_t author[32], const char *feed)
{
	size_t i = hash(author, feed) & (m->cap - 1);

	for (;;) {
		struct feedmap_slot *s = &m->slots[i];

		if (!s->used || (memcmp(s->author, author, 32) == 0 && strcmp(s->feed, feed) == 0))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

struct feedmap_val *sync_feedmap_find(const struct feedmap *m, const uint8_t author[32], const char *feed)
{
	struct feedmap_slot *s;

	if (!m->cap || strlen(feed) > 32)
		return NULL;
	s = probe(m, author, feed);
	return s->used ? &s->val : NULL;
}

static int grow(struct feedmap *m)
{
	struct feedmap old = *m;

	m->cap = old.cap ? 2 * old.cap : 64;
	m->used = 0;
	if (!(m->slots = calloc(m->cap, sizeof *m->slots))) {
		*m = old;
		return -1;
	}
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].used) {
			*probe(m, old.slots[i].author, old.slots[i].feed) = old.slots[i];
			m->used++;
		}
	free(old.slots);
	return 0;
}

struct feedmap_val *sync_feedmap_get(struct feedmap *m, const uint8_t author[32], const char *feed)
{
	struct feedmap_slot *s;

	if (strlen(feed) > 32)
		return NULL;
	if ((m->used + 1) * 2 > m->cap && grow(m) < 0)
		return NULL;
	s = probe(m, author, feed);
	if (!s->used) {
		memset(s, 0, sizeof *s);
		s->used = true;
		memcpy(s->author, author, 32);
		strcpy(s->feed, feed);
		m->used++;
	}
	return &s->val;
}

void sync_feedmap_clear(struct feedmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof *m);
}
