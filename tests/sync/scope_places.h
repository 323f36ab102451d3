/* SPDX-License-Identifier: MIT */
/*
 * The model sync_scope (test_scope.c) checks the network against: every
 * key of the network as a place in the tree, and the rule of
 * docs/PROTOCOL.md, "Where trust flows", computed from the places' parent
 * indices (not from org paths): which trust feeds each node may hold, and
 * assertions that it holds exactly those.
 */
#ifndef STRATA_TEST_SYNC_SCOPE_PLACES_H
#define STRATA_TEST_SYNC_SCOPE_PLACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define SCOPE_NONE (-1)

enum scope_kind { SCOPE_TREE, SCOPE_PEER, SCOPE_AUDITOR };

/* A key of the network: a node's, or a unit's previous key after a
 * rotation (a place of its own, of the same unit, with a copy of the node). */
struct scope_place {
	struct net_node *n;
	int parent; /* index into scope_places, SCOPE_NONE for the root */
	enum scope_kind kind;
	int unit;  /* the place of the unit's current key (itself but for an old key) */
	bool idle; /* an old key or a stopped node: holds nothing the test waits for */
};

#define SCOPE_MAX (NET_MAX_NODES + 4)

#define SCOPE_LACKING_SIZE 160

extern struct scope_place scope_places[SCOPE_MAX];
extern size_t scope_n;
extern int scope_upgraded;		       /* a node holding what it imported (stage 5), or SCOPE_NONE */
extern bool scope_imported[SCOPE_MAX];	       /* the keys whose trust feeds it imported */
extern char scope_lacking[SCOPE_LACKING_SIZE]; /* what scope_caught_up found missing last */

/* A new place (its own unit, not idle); returns its index. */
int scope_add(struct net_node *n, int parent, enum scope_kind kind);

/* Is a's unit a strict ancestor of x? */
bool scope_ancestor(int a, int x);

/* The rule: may node x hold the trust feed of key a? Its chain, itself and
 * its subtree; a peer its host's chain and itself; an auditor what its
 * parent may hold and itself. A unit's keys, old and new, are that unit. */
bool scope_gives(int x, int a);

/* Has x a stopped child (whose link is down)? */
bool scope_idle_child(int x);

const char *scope_label(int i);

/* The head of a's own trust feed, read in its store (0: it wrote none). */
uint64_t scope_own_trust(int a);

/* Does x hold every trust feed the rule gives it, at its author's head?
 * If not, scope_lacking says which. */
bool scope_caught_up(int x);

/* The place of a key, or SCOPE_NONE. */
int scope_by_key(const uint8_t key[KEY_BYTES]);

/* Asserts that x holds the trust feeds of exactly the authors the rule
 * gives it (extra, may be NULL: authors it may hold besides). */
void scope_assert_exact(int x, const bool *extra);

/* scope_assert_exact of every node that is not idle. */
void scope_assert_all_exact(void);

/* Are all of x's links connected with nothing left to send (lag 0)? */
bool scope_links_settled(const struct net_node *x);

#endif
