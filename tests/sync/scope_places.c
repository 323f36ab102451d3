/* SPDX-License-Identifier: MIT */
/*
 * The model of sync_scope: places in the tree and the trust rule
 * (scope_places.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "scope_places.h"

struct scope_place scope_places[SCOPE_MAX];
size_t scope_n;
int scope_upgraded = SCOPE_NONE;
bool scope_imported[SCOPE_MAX];

int scope_add(struct net_node *n, int parent, enum scope_kind kind)
{
	cr_assert_lt(scope_n, SCOPE_MAX);
	scope_places[scope_n] = (struct scope_place){n, parent, kind, (int)scope_n, false};
	return (int)scope_n++;
}

/* Is a's unit a strict ancestor of x in the tree? */
bool scope_ancestor(int a, int x)
{
	for (int p = scope_places[x].parent; p != SCOPE_NONE; p = scope_places[p].parent)
		if (p == scope_places[a].unit)
			return true;
	return false;
}

/* The rule: may node x hold the trust feed of key a? (A unit's keys, old
 * and new, are that unit.) */
bool scope_gives(int x, int a)
{
	if (scope_places[a].unit == scope_places[x].unit)
		return true;
	switch (scope_places[x].kind) {
	case SCOPE_AUDITOR: /* everything its parent holds */
		return scope_gives(scope_places[x].parent, a);
	case SCOPE_PEER: /* its host's chain */
		return scope_places[a].kind == SCOPE_TREE &&
		       (scope_places[a].unit == scope_places[x].parent || scope_ancestor(a, scope_places[x].parent));
	default: /* its chain and its subtree */
		return scope_places[a].kind == SCOPE_TREE &&
		       (scope_ancestor(a, x) || scope_ancestor(scope_places[x].unit, a));
	}
}

/* Has x a stopped child (whose link is down)? */
bool scope_idle_child(int x)
{
	for (size_t c = 0; c < scope_n; c++)
		if (scope_places[c].parent == x && scope_places[c].idle && scope_places[c].unit == (int)c)
			return true;
	return false;
}

const char *scope_label(int i)
{
	return scope_places[i].n->label;
}

/* The head of a's own trust feed (0: it wrote none). */
uint64_t scope_own_trust(int a)
{
	return net_head(scope_places[a].n, scope_places[a].n->key, FEED_TRUST, NULL);
}

char scope_lacking[SCOPE_LACKING_SIZE];

/* Does x hold every trust feed the rule gives it, at its author's head? */
bool scope_caught_up(int x)
{
	for (size_t a = 0; a < scope_n; a++) {
		uint64_t want = scope_gives(x, (int)a) ? scope_own_trust((int)a) : 0, got;

		if (want && (got = net_head(scope_places[x].n, scope_places[a].n->key, FEED_TRUST, NULL)) != want) {
			snprintf(scope_lacking, sizeof scope_lacking, "it holds %s's trust feed up to %llu of %llu",
				 scope_label((int)a), (unsigned long long)got, (unsigned long long)want);
			return false;
		}
	}
	return true;
}

int scope_by_key(const uint8_t key[KEY_BYTES])
{
	for (size_t i = 0; i < scope_n; i++)
		if (memcmp(scope_places[i].n->key, key, KEY_BYTES) == 0)
			return (int)i;
	return SCOPE_NONE;
}

/* x holds the trust feeds of exactly the authors the rule gives it (and
 * more if `extra` says that author's feed may be there: an imported store). */
void scope_assert_exact(int x, const bool *extra)
{
	struct store_head *h = NULL;
	size_t n = net_heads(scope_places[x].n, &h), held = 0, want = 0;

	for (size_t k = 0; k < n; k++) {
		int a;

		if (strcmp(h[k].feed, FEED_TRUST) != 0)
			continue;
		a = scope_by_key(h[k].author);
		cr_assert_neq(a, SCOPE_NONE, "%s holds the trust feed of an author outside the network",
			      scope_label(x));
		cr_assert(scope_gives(x, a) || (extra && extra[a]),
			  "%s holds the trust feed of %s (%s), which the rule does not give it", scope_label(x),
			  scope_label(a), scope_places[a].n->path);
		held += scope_gives(x, a);
	}
	for (size_t a = 0; a < scope_n; a++)
		want += scope_gives(x, (int)a) && scope_own_trust((int)a) > 0;
	cr_assert_eq(held, want, "%s holds %zu of the %zu trust feeds the rule gives it", scope_label(x), held, want);
	net_release(h);
}

/* Every running node holds exactly what the rule gives it (and the upgraded
 * node what it imported). */
void scope_assert_all_exact(void)
{
	for (size_t x = 0; x < scope_n; x++)
		if (!scope_places[x].idle)
			scope_assert_exact((int)x, (int)x == scope_upgraded ? scope_imported : NULL);
}

bool scope_links_settled(const struct net_node *x)
{
	json_t *st = net_node_status(x), *links = json_object_get(json_object_get(st, "daemon"), "links"), *l;
	bool ok = json_array_size(links) > 0;
	size_t i;

	json_array_foreach(links, i, l)
		ok = ok && json_is_true(json_object_get(l, "connected")) &&
		     json_integer_value(json_object_get(l, "lag")) == 0;
	net_release(st);
	return ok;
}
