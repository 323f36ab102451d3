/* SPDX-License-Identifier: MIT */
/*
 * Deployment profiles: the table of levels and their defaults, and what a
 * node will hold (profile.h says why the values are what they are;
 * docs/OPERATIONS.md "Deployment profiles" gives the reason per level).
 */
#include <string.h>

#include "node/core/node.h"

/* From the leaves up. up_depth: 3 below the city (a unit's records reach
 * three levels up: a branch's members reach its street, district and city,
 * so "a city keeps its members' records" (DESIGN.md) and the city, the
 * common ancestor of a transfer between two districts, receives both
 * sides), 1 from the city up (its parent receives only the city's own
 * records, and reports: the province and the nation hold reports only).
 * contact_levels 0 everywhere: a resident's contact stays at the node that
 * serves the resident until an operator sends it up by hand. */
static const struct node_profile profiles[] = {
	{NODE_LEVEL_BRANCH, "branch", "支部", 3, 0},
	{NODE_LEVEL_STREET, "street", "街道", 3, 0},
	{NODE_LEVEL_DISTRICT, "district", "区", 3, 0},
	{NODE_LEVEL_CITY, "city", "市", 1, 0},
	{NODE_LEVEL_PROVINCE, "province", "省", 1, 0},
	{NODE_LEVEL_NATIONAL, "national", "全国", 1, 0},
};

#define N_PROFILES (sizeof profiles / sizeof profiles[0])

const struct node_profile *node_profile_find(const char *word)
{
	if (!word)
		return NULL;
	for (size_t i = 0; i < N_PROFILES; i++)
		if (strcmp(word, profiles[i].word) == 0 || strcmp(word, profiles[i].zh) == 0)
			return &profiles[i];
	return NULL;
}

const struct node_profile *node_profile_get(enum node_level level)
{
	for (size_t i = 0; i < N_PROFILES; i++)
		if (profiles[i].level == level)
			return &profiles[i];
	return NULL;
}

void node_profile_apply(struct node_config *c, bool up_depth_set, bool contact_levels_set)
{
	const struct node_profile *p = node_profile_get(c->level);

	if (!p)
		return;
	if (!up_depth_set)
		c->up_depth = p->up_depth;
	if (!contact_levels_set)
		c->contact_levels = p->contact_levels;
}

/* How many levels below a node of level P the feed of a unit arrives from,
 * when each unit below forwards it at most FORWARD levels above its author
 * (0: no limit): no more than the levels there are below P. */
static unsigned levels_below(const struct node_profile *p, unsigned forward)
{
	unsigned there = (unsigned)(p->level - NODE_LEVEL_BRANCH);

	return forward == 0 || forward > there ? there : forward;
}

void node_holds_get(const struct node_config *c, bool root, struct node_holds *h)
{
	const struct node_profile *below;

	memset(h, 0, sizeof *h);
	h->profile = node_profile_get(c->level);
	h->root = root;
	h->up_depth = c->up_depth;
	h->contact_levels = c->contact_levels;
	if (!h->profile) { /* the units below at the plain defaults */
		h->up_below = NODE_HOLDS_ALL;
		h->contacts_below = 0;
		return;
	}
	if (!(below = node_profile_get(h->profile->level - 1)))
		return; /* a branch: no level below it */
	h->up_below = levels_below(h->profile, below->up_depth);
	/* contacts never travel further than the up feed (route.c) */
	if (below->contact_levels) {
		h->contacts_below = levels_below(h->profile, below->contact_levels);
		if (h->contacts_below > h->up_below)
			h->contacts_below = h->up_below;
	}
}

static json_t *levels_json(unsigned n)
{
	return n == NODE_HOLDS_ALL ? json_null() : json_integer(n);
}

json_t *node_holds_json(const struct node_holds *h)
{
	return json_pack("{s:s?, s:i, s:i, s:{s:o, s:i, s:s, s:[sss], s:s}, s:{s:o, s:i, s:s}}", "level",
			 h->profile ? h->profile->word : NULL, "up_depth", (json_int_t)h->up_depth, "contact_levels",
			 (json_int_t)h->contact_levels, "holds", "up_levels_below", levels_json(h->up_below),
			 "private_levels_below", (json_int_t)h->contacts_below, "report", "subtree", "trust", "chain",
			 "self", "subtree", "down", "ancestors", "sends", "up_levels_above",
			 h->root ? json_integer(0) : levels_json(h->up_depth ? h->up_depth : NODE_HOLDS_ALL),
			 "private_levels_above", (json_int_t)(h->root ? 0 : h->contact_levels), "report",
			 h->root ? "none" : "root");
}
