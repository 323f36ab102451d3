/* SPDX-License-Identifier: MIT */
/*
 * Deployment profiles (issue 16; docs/OPERATIONS.md "Deployment profiles"):
 * the level of the tree a node serves (`strata init --level`, strata.conf
 * `[node] level`), the defaults a node of that level runs with, and what a
 * node will hold given its settings. Pure functions of their arguments: no
 * store is read.
 *
 * The rule the table keeps (decision, issue 16): a unit's records (its
 * `up` feed) travel three levels up and no further than the city: in a
 * city / district / street / branch tree the city keeps every member record
 * of the city ("a city keeps its members' records", DESIGN.md), and the
 * province and the nation receive a city's own records and the signed
 * reports of everything below (`report` always reaches the root).
 * Transfers travel in `up` to the two branches' lowest common ancestor, so
 * under the profiles a transfer works between any two branches of one city
 * (the ancestor at most three levels above them); one between two cities
 * needs up_depth = 4 on the cities, which then hand those branches'
 * records to the province.
 */
#ifndef STRATA_NODE_PROFILE_H
#define STRATA_NODE_PROFILE_H

#include <limits.h>
#include <stdbool.h>

#include <jansson.h>

/* Levels, from the leaves up; NODE_LEVEL_NONE: none chosen (every setting at
 * its plain default: up_depth 0, no limit). */
enum node_level {
	NODE_LEVEL_NONE = 0,
	NODE_LEVEL_BRANCH,   /* 支部: a grassroots unit, members at it */
	NODE_LEVEL_STREET,   /* 街道: a street or town party committee */
	NODE_LEVEL_DISTRICT, /* 区: a district or county */
	NODE_LEVEL_CITY,     /* 市 */
	NODE_LEVEL_PROVINCE, /* 省 */
	NODE_LEVEL_NATIONAL, /* 全国: the root of a national tree */
};

/* The level words for people and messages, English then Chinese. */
#define NODE_LEVEL_WORDS "branch, street, district, city, province or national (支部, 街道, 区, 市, 省, 全国)"

/* One level's profile: the defaults strata.conf's [node] level gives the
 * settings the file does not set itself. */
struct node_profile {
	enum node_level level;
	const char *word; /* "district": what strata.conf and JSON say */
	const char *zh;   /* "区": accepted as input too, shown beside the word */
	unsigned up_depth;       /* [node] up_depth */
	unsigned contact_levels; /* [privacy] contact_levels */
};

/* The profile named WORD (English, as strata.conf writes it, or Chinese),
 * or NULL when WORD names no level (NULL-safe). */
const struct node_profile *node_profile_find(const char *word);

/* The profile of LEVEL; NULL for NODE_LEVEL_NONE or no level. */
const struct node_profile *node_profile_get(enum node_level level);

struct node_config;

/* Gives C the profile defaults of its level for the settings strata.conf
 * did not set (up_depth_set, contact_levels_set: the file set them). No-op
 * without a level. Called by the config loader. */
void node_profile_apply(struct node_config *c, bool up_depth_set, bool contact_levels_set);

#define NODE_HOLDS_ALL UINT_MAX /* every level: up_depth 0, no limit */

/* What a node will hold and send, from its settings and its place (a root
 * or not), for `strata init` and `strata status`. What arrives from below
 * depends on the settings of the units below (the node that forwards
 * decides): counted as if each runs its level's profile (the level below
 * this one), or the plain defaults when this node has no level. Always, in
 * words for the front end: the reports of its whole subtree; the trust
 * feeds of its chain (root .. parent), its own and its whole subtree's;
 * the down feeds of its ancestors. */
struct node_holds {
	const struct node_profile *profile; /* NULL: no level chosen */
	bool root;
	unsigned up_depth, contact_levels; /* the settings in effect */
	unsigned up_below;      /* levels below whose up feeds arrive: 0 none, NODE_HOLDS_ALL */
	unsigned contacts_below; /* the same for residents' contacts (feed private) */
};

void node_holds_get(const struct node_config *c, bool root, struct node_holds *h);

/* As JSON (the caller owns it): {"level": "district" | null, "up_depth",
 * "contact_levels", "holds": {"up_levels_below": N | null (no limit),
 * "private_levels_below": N, "report": "subtree", "trust": ["chain",
 * "self", "subtree"], "down": "ancestors"}, "sends": {"up_levels_above":
 * N | null, "private_levels_above": N, "report": "root" | "none" (a
 * root)}}. */
json_t *node_holds_json(const struct node_holds *h);

#endif
