/* SPDX-License-Identifier: MIT */
/*
 * sync_scope: trust scoped to the tree (issue 16; docs/PROTOCOL.md, "Where
 * trust flows"), on one network of real daemons built in stages:
 *   1. a tree of four levels, two children each (a city, 2 districts, 4
 *      streets, 8 branches), a peer (a hospital, its own root, joined to
 *      the first district) and an auditor (joined to the second district);
 *   2. every node holds exactly the trust feeds the rule gives it (its
 *      chain, itself, its subtree; a peer its host's chain; an auditor what
 *      its parent holds), so a branch holds its sibling's certificate and
 *      none of a branch in another street;
 *   3. a street's revocation of one of its branches reaches the street's
 *      ancestors, the rest of its subtree and the auditor below them, and
 *      never the sibling subtrees (checked once a later entry of the city
 *      has reached everyone and every link has nothing left to send);
 *   4. a new leaf's join downloads its chain's trust feeds only;
 *   5. an existing store holding every trust feed (the old routing,
 *      simulated by importing the city's trust bundle into a stopped
 *      street) keeps working and forwards none of the foreign feeds;
 *   6. on the wire, a branch's link does not bring its street the trust
 *      feed of a node outside the branch's subtree, whose certificate the
 *      street knows: refused, naming why.
 * The expected holdings are computed here from the tree's shape (parent
 * indices), not from org paths.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_scope, .init = net_setup, .fini = net_teardown);

#define TREE_NODES 15 /* heap order: 0 the city, 1-2 districts, 3-6 streets, 7-14 branches */
#define FIRST_BRANCH 7
#define NO_PARENT (-1)

enum place_kind { IN_TREE, PEER, AUDITOR };

/* A key of the network: a node's, or a unit's previous key after a
 * rotation (its own place, of the same unit, with a copy of the node). */
struct place {
	struct net_node *n;
	int parent; /* index into places, NO_PARENT for the city */
	enum place_kind kind;
	int unit;  /* the place of the unit's current key (itself but for an old key) */
	bool idle; /* an old key or a stopped node: holds nothing the test waits for */
};

#define MAX_PLACES (NET_MAX_NODES + 4)
static struct place places[MAX_PLACES];
static size_t n_places;
static int upgraded = NO_PARENT; /* stage 5's street, holding what it imported */
static bool imported[MAX_PLACES];

static int add_place(struct net_node *n, int parent, enum place_kind kind)
{
	cr_assert_lt(n_places, MAX_PLACES);
	places[n_places] = (struct place){n, parent, kind, (int)n_places, false};
	return (int)n_places++;
}

/* Is a's unit a strict ancestor of x in the tree? */
static bool ancestor(int a, int x)
{
	for (int p = places[x].parent; p != NO_PARENT; p = places[p].parent)
		if (p == places[a].unit)
			return true;
	return false;
}

/* The rule: may node x hold the trust feed of key a? (A unit's keys, old
 * and new, are that unit.) */
static bool rule_gives(int x, int a)
{
	if (places[a].unit == places[x].unit)
		return true;
	switch (places[x].kind) {
	case AUDITOR: /* everything its parent holds */
		return rule_gives(places[x].parent, a);
	case PEER: /* its host's chain */
		return places[a].kind == IN_TREE &&
		       (places[a].unit == places[x].parent || ancestor(a, places[x].parent));
	default: /* its chain and its subtree */
		return places[a].kind == IN_TREE && (ancestor(a, x) || ancestor(places[x].unit, a));
	}
}

/* Has x a stopped child (whose link is down)? */
static bool idle_child(int x)
{
	for (size_t c = 0; c < n_places; c++)
		if (places[c].parent == x && places[c].idle && places[c].unit == (int)c)
			return true;
	return false;
}

static const char *label(int i)
{
	return places[i].n->label;
}

/* The head of a's own trust feed (0: it wrote none). */
static uint64_t own_trust(int a)
{
	return net_head(places[a].n, places[a].n->key, FEED_TRUST, NULL);
}

static char lacking[160]; /* what caught_up found missing last */

/* Does x hold every trust feed the rule gives it, at its author's head? */
static bool caught_up(int x)
{
	for (size_t a = 0; a < n_places; a++) {
		uint64_t want = rule_gives(x, (int)a) ? own_trust((int)a) : 0, got;

		if (want && (got = net_head(places[x].n, places[a].n->key, FEED_TRUST, NULL)) != want) {
			snprintf(lacking, sizeof lacking, "it holds %s's trust feed up to %llu of %llu", label((int)a),
				 (unsigned long long)got, (unsigned long long)want);
			return false;
		}
	}
	return true;
}

static int by_key(const uint8_t key[KEY_BYTES])
{
	for (size_t i = 0; i < n_places; i++)
		if (memcmp(places[i].n->key, key, KEY_BYTES) == 0)
			return (int)i;
	return NO_PARENT;
}

/* x holds the trust feeds of exactly the authors the rule gives it (and
 * more if `extra` says that author's feed may be there: an imported store). */
static void assert_exact(int x, const bool *extra)
{
	struct store_head *h = NULL;
	size_t n = net_heads(places[x].n, &h), held = 0, want = 0;

	for (size_t k = 0; k < n; k++) {
		int a;

		if (strcmp(h[k].feed, FEED_TRUST) != 0)
			continue;
		a = by_key(h[k].author);
		cr_assert_neq(a, NO_PARENT, "%s holds the trust feed of an author outside the network", label(x));
		cr_assert(rule_gives(x, a) || (extra && extra[a]), "%s holds the trust feed of %s (%s), which the rule does not give it",
			  label(x), label(a), places[a].n->path);
		held += rule_gives(x, a);
	}
	for (size_t a = 0; a < n_places; a++)
		want += rule_gives(x, (int)a) && own_trust((int)a) > 0;
	cr_assert_eq(held, want, "%s holds %zu of the %zu trust feeds the rule gives it", label(x), held, want);
	net_release(h);
}

/* Every running node holds exactly what the rule gives it (and the upgraded
 * street what it imported). */
static void assert_all_exact(void)
{
	for (size_t x = 0; x < n_places; x++)
		if (!places[x].idle)
			assert_exact((int)x, (int)x == upgraded ? imported : NULL);
}

static bool links_settled(const struct net_node *x)
{
	json_t *st = net_node_status(x), *links = json_object_get(json_object_get(st, "daemon"), "links"), *l;
	bool ok = json_array_size(links) > 0;
	size_t i;

	json_array_foreach(links, i, l) ok = ok && json_is_true(json_object_get(l, "connected")) &&
					      json_integer_value(json_object_get(l, "lag")) == 0;
	net_release(st);
	return ok;
}

/* --- stage 1: the network --- */

static void build_tree(void)
{
	static const char *const district[] = {"siming", "huli"};
	static const char *const street[] = {"zhonghua", "xiagang", "jinshan", "jiangtou"};
	char path[2 * sizeof places[0].n->path], lbl[2 * sizeof places[0].n->label];

	add_place(net_node_init("city", "xiamen", true, true), NO_PARENT, IN_TREE);
	for (int i = 1; i < TREE_NODES; i++) {
		int p = (i - 1) / 2;
		bool leaf = i >= FIRST_BRANCH;

		if (i < 3) {
			snprintf(path, sizeof path, "xiamen/%s", district[i - 1]);
			snprintf(lbl, sizeof lbl, "%s", district[i - 1]);
		} else if (!leaf) {
			snprintf(path, sizeof path, "%s/%s", places[p].n->path, street[i - 3]);
			snprintf(lbl, sizeof lbl, "%s", street[i - 3]);
		} else {
			snprintf(path, sizeof path, "%s/b%d", places[p].n->path, 1 + (i - FIRST_BRANCH) % 2);
			snprintf(lbl, sizeof lbl, "%s-b%d", label(p), 1 + (i - FIRST_BRANCH) % 2);
		}
		add_place(net_node_init(lbl, path, false, !leaf), p, IN_TREE);
	}
	net_node_start(places[0].n);
	for (int i = 1; i < TREE_NODES; i++) {
		net_node_join(places[i].n, places[places[i].parent].n, NULL);
		net_node_start(places[i].n);
	}
}

static void add_peer_and_auditor(void)
{
	int hosp = add_place(net_node_init("hospital", "xmfy-hospital", true, false), 1, PEER);
	int aud = add_place(net_node_init("auditor", "xiamen/huli/audit-office", false, false), 2, AUDITOR);

	net_node_join(places[hosp].n, places[1].n, "--role", "peer", NULL);
	net_node_start(places[hosp].n);
	net_node_join(places[aud].n, places[2].n, "--role", "auditor", NULL);
	net_node_start(places[aud].n);
}

/* --- stage 2: holdings --- */

/* Waits until every running node holds what the rule gives it. */
static void wait_all_caught_up(void)
{
	for (size_t x = 0; x < n_places; x++)
		if (!places[x].idle)
			NET_WAIT(NET_DEADLINE_MS, caught_up((int)x), "%s to hold the trust feeds the rule gives it (%s)",
				 label((int)x), lacking);
}

static void check_holdings(void)
{
	wait_all_caught_up();
	for (int x = 0; x < FIRST_BRANCH; x++) /* or every check below passes on nothing */
		cr_assert_gt(own_trust(x), 0, "%s, which certified children, wrote no trust feed", label(x));
	for (size_t x = 0; x < n_places; x++)
		assert_exact((int)x, NULL);
	/* the certificate index: a sibling's is in the parent's trust feed, a
	 * branch of another street in a trust feed the branch never holds */
	for (int x = FIRST_BRANCH; x < TREE_NODES; x++)
		for (int y = FIRST_BRANCH; y < TREE_NODES; y++) {
			bool same_street = places[x].parent == places[y].parent;

			cr_assert_eq(net_has_cert(places[x].n, places[y].n->key), same_street,
				     "%s %s the certificate of %s", label(x), same_street ? "lacks" : "holds", label(y));
		}
}

/* --- stage 3: a revocation deep in one subtree --- */

/* A notice of the city, written after everything before it reached the
 * city: once every running node holds it, and the links that could carry
 * more have nothing left to send, what has not arrived never will. */
static void city_notice_everywhere(const char *id)
{
	uint64_t h;

	net_ok("notice", "add", "-d", places[0].n->dir, "--id", id, "--title", "关于开展主题党日活动的通知", NULL);
	h = net_head(places[0].n, places[0].n->key, FEED_NOTICE, NULL);
	for (size_t x = 0; x < n_places; x++)
		if (!places[x].idle)
			NET_WAIT(NET_DEADLINE_MS, net_head(places[x].n, places[0].n->key, FEED_NOTICE, NULL) == h,
				 "%s to hold the city's notice %s", label((int)x), id);
	for (int x = 0; x < FIRST_BRANCH; x++)
		if (places[x].n->pid > 0 && !idle_child(x))
			NET_WAIT(NET_DEADLINE_MS, links_settled(places[x].n), "%s's links to have nothing left to send",
				 label(x));
}

static void check_revocation(void)
{
	const int street = 5, revoked = 11; /* jinshan revokes jinshan-b1 */
	uint64_t before = own_trust(street), h;
	size_t reached = 0;

	cr_assert_eq(places[revoked].parent, street);
	net_ok("revoke", "-d", places[street].n->dir, "--name", places[revoked].n->path, "--reason", "merged", NULL);
	h = own_trust(street);
	cr_assert_gt(h, before, "the revocation is not in %s's trust feed", label(street));
	/* the ancestors, the rest of the subtree and the auditor below them */
	for (size_t x = 0; x < n_places; x++)
		if ((int)x != revoked && rule_gives((int)x, street)) {
			NET_WAIT(NET_DEADLINE_MS, net_head(places[x].n, places[street].n->key, FEED_TRUST, NULL) == h,
				 "%s to hold the revocation", label((int)x));
			reached++;
		}
	cr_assert_eq(reached, 5, "the rule gives the revocation to %zu nodes, not 5 (the city, huli, jinshan, "
				 "jinshan-b2, the auditor)", reached);
	net_node_stop(places[revoked].n);
	places[revoked].idle = true;
	city_notice_everywhere("N1");
	/* the sibling subtrees: the other district's, the other street's, the peer's */
	for (size_t x = 0; x < n_places; x++)
		if (!rule_gives((int)x, street))
			cr_assert_eq(net_head(places[x].n, places[street].n->key, FEED_TRUST, NULL), 0,
				     "%s holds %s's trust feed (the revocation)", label((int)x), label(street));
	for (size_t x = 0; x < n_places; x++)
		if (!places[x].idle)
			assert_exact((int)x, NULL);
}

/* --- stage 4: a new leaf's join --- */

/* The trust feeds x holds: how many, and how many entries in all. */
static size_t trust_held(int x, uint64_t *entries)
{
	struct store_head *h = NULL;
	size_t n = net_heads(places[x].n, &h), feeds = 0;

	*entries = 0;
	for (size_t k = 0; k < n; k++)
		if (strcmp(h[k].feed, FEED_TRUST) == 0) {
			cr_assert(rule_gives(x, by_key(h[k].author)), "%s holds a trust feed outside its chain", label(x));
			feeds++;
			*entries += h[k].seq;
		}
	net_release(h);
	return feeds;
}

static void check_new_leaf(void)
{
	const int street = 4; /* xiagang */
	char path[2 * sizeof places[0].n->path];
	uint64_t entries, chain = 0, all = 0;
	int leaf;

	snprintf(path, sizeof path, "%s/b3", places[street].n->path);
	leaf = add_place(net_node_init("xiagang-b3", path, false, false), street, IN_TREE);
	net_node_join(places[leaf].n, places[street].n, NULL);
	net_node_start(places[leaf].n);
	/* useful: its parent's trust feed, with its own certificate, arrived */
	NET_WAIT(NET_DEADLINE_MS, net_head(places[leaf].n, places[street].n->key, FEED_TRUST, NULL) == own_trust(street),
		 "the new leaf to hold its street's trust feed");
	cr_assert(net_has_cert(places[leaf].n, places[leaf].n->key));
	cr_assert_leq(trust_held(leaf, &entries), 3, "the new leaf holds more than its chain's 3 trust feeds");
	NET_WAIT(NET_DEADLINE_MS, caught_up(leaf), "the new leaf to hold its chain");
	assert_exact(leaf, NULL);
	cr_assert_eq(trust_held(leaf, &entries), 3);
	for (size_t a = 0; a < n_places; a++) {
		chain += rule_gives(leaf, (int)a) ? own_trust((int)a) : 0;
		all += own_trust((int)a);
	}
	cr_assert_eq(entries, chain, "the new leaf holds %llu trust entries, its chain has %llu",
		     (unsigned long long)entries, (unsigned long long)chain);
	cr_log_info("sync_scope: the new leaf downloaded %llu of the network's %llu trust entries",
		    (unsigned long long)entries, (unsigned long long)all);
	/* its certificate went up its chain only */
	for (size_t x = 0; x < n_places; x++)
		if (!places[x].idle && (int)x != leaf)
			cr_assert_eq(net_has_cert(places[x].n, places[leaf].n->key), rule_gives((int)x, street),
				     "%s %s the new leaf's certificate", label((int)x),
				     rule_gives((int)x, street) ? "lacks" : "holds");
}

/* --- stage 5: a store from before the rule --- */

static void check_upgrade(void)
{
	const int street = 3, child = 7; /* zhonghua, holding every trust feed; zhonghua-b1 */
	char bundle[256], out[4096];
	struct net_run r;

	net_ok("export", "-d", places[0].n->dir, "--feeds", "trust", "-o", net_path(bundle, "trust.bundle"), NULL);
	net_node_stop(places[street].n);
	net_ok("import", "-d", places[street].n->dir, bundle, NULL);
	for (int a = 0; a < FIRST_BRANCH; a++) {
		imported[a] = true;
		cr_assert_eq(net_head(places[street].n, places[a].n->key, FEED_TRUST, NULL), own_trust(a),
			     "the import did not bring %s's trust feed", label(a));
	}
	upgraded = street;
	net_node_start(places[street].n);

	/* new entries both ways: members up from the street and its branch,
	 * the city's notice down to the branches */
	net_ok("member", "add", "-d", places[child].n->dir, "--id", "ZH000001", "--name", "林海燕", "--category", "full",
	       "--joined", "2019-03-12", NULL);
	net_ok("member", "add", "-d", places[street].n->dir, "--id", "ZH000002", "--name", "陈建国", "--category",
	       "full", "--joined", "2020-05-01", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(places[0].n, "member", places[child].n->key) == 1 &&
					  net_count(places[0].n, "member", places[street].n->key) == 1,
		 "the upgraded street's and its branch's members to reach the city");
	city_notice_everywhere("N2");
	wait_all_caught_up();
	assert_all_exact();
	for (int a = 0; a < FIRST_BRANCH; a++) /* nothing pruned */
		cr_assert_eq(net_head(places[street].n, places[a].n->key, FEED_TRUST, NULL), own_trust(a),
			     "the upgraded street lost %s's trust feed", label(a));
	cr_assert_eq(net_node_verify(places[street].n, out, sizeof out), 0, "verify of the upgraded street: %s", out);
	net_run(&r, "audit", "-d", places[street].n->dir, "--root", places[0].n->hex, NULL);
	cr_assert_eq(r.status, 0, "audit of the upgraded street: exit %d: %s%s", r.status, r.out, r.err);
	net_run_free(&r);
	/* and it did not even offer them: no link refused a trust feed */
	for (size_t x = 0; x < n_places; x++)
		cr_assert(!net_log_has(places[x].n, "feed trust of this author does not come through this link"),
			  "%s refused a trust feed a link offered:\n%s", label((int)x), net_diag());
}

/* --- stage 6: a link brings only what its sender may send --- */

/* The next entry of a's trust feed, validly signed and chained by a. */
static void next_trust_entry(int a, uint8_t **env, size_t *len)
{
	struct store_head *h = NULL;
	size_t n = net_heads(places[a].n, &h);

	for (size_t k = 0; k < n; k++)
		if (strcmp(h[k].feed, FEED_TRUST) == 0 && memcmp(h[k].author, places[a].n->key, KEY_BYTES) == 0) {
			net_entry(net_node_keypair(places[a].n), FEED_TRUST, h[k].seq + 1, h[k].hash, NULL, env, len,
				  NULL);
			net_release(h);
			return;
		}
	cr_assert_fail("%s has no trust feed", label(a));
}

static void check_refused_on_the_wire(void)
{
	/* xiagang knows huli's certificate (in the city's trust feed) but does
	 * not hold huli's trust feed, and its branch may not bring it */
	const int street = 4, branch = 9, foreign = 2; /* xiagang, xiagang-b1, huli */
	struct net_client *c;
	struct net_reply rep;
	uint8_t *env;
	size_t len;
	bool named = false;

	net_node_stop(places[branch].n);
	places[branch].idle = true;
	next_trust_entry(foreign, &env, &len);
	c = net_client_new_kp(places[street].n, net_node_keypair(places[branch].n));
	net_client_hello(c, places[branch].n->key, places[branch].n->path);
	net_client_entries(c, 1, &env, &len, 1, &rep, 10000 * NET_SLOW);
	for (size_t i = 0; i < rep.n_errors; i++)
		named = named || net_has(rep.errors[i]->error->reason, "feed trust of this author does not come through this link");
	cr_assert(named, "a branch brought its street the other district's trust entry, and no Error said why (%zu errors%s%s)",
		  rep.n_errors, rep.n_errors ? ": " : "", rep.n_errors ? rep.errors[0]->error->reason : "");
	net_reply_free(&rep);
	net_client_free(&c);
	cr_assert_eq(net_head(places[street].n, places[foreign].n->key, FEED_TRUST, NULL), 0,
		     "%s stored %s's trust entry from its branch", label(street), label(foreign));
}

/* --- stage 7: a street's key rotation --- */

static struct net_node old_key; /* the street's key before the rotation */

/* Rotates the key of the (stopped) node at i: its old key becomes a place
 * of the same unit. Returns that place. */
static int rotate(int i)
{
	struct net_node *n = places[i].n;
	struct net_run r;
	json_t *j;
	int old;

	old_key = *n;
	snprintf(old_key.label, sizeof old_key.label, "%.20s(old)", n->label);
	old_key.pid = 0;
	old = add_place(&old_key, places[i].parent, IN_TREE);
	places[old].unit = i;
	places[old].idle = true;
	imported[old] = imported[i]; /* stage 5 imported the feed of the key it had */
	imported[i] = false;
	net_ok("rotate-key", "-d", n->dir, NULL);
	net_run(&r, "id", "-d", n->dir, "--json", NULL);
	j = net_run_json(&r);
	cr_assert_eq(hex_decode(n->key, KEY_BYTES, json_string_value(json_object_get(j, "key"))), 0);
	memcpy(n->hex, json_string_value(json_object_get(j, "key")), KEY_HEX);
	net_release(j);
	net_run_free(&r);
	cr_assert(memcmp(n->key, old_key.key, KEY_BYTES) != 0, "rotate-key kept the key");
	return old;
}

/* Gives the running children of i its new key, as docs/OPERATIONS.md says
 * (`[parent] key` in their strata.conf), and restarts them. */
static void tell_children(int i, int old)
{
	for (size_t c = 0; c < n_places; c++) {
		char conf[300], *text, *at;
		FILE *f;

		if (places[c].parent != i || places[c].idle)
			continue;
		net_node_stop(places[c].n);
		snprintf(conf, sizeof conf, "%s/strata.conf", places[c].n->dir);
		text = net_own(net_read_file(conf), free);
		cr_assert_not_null(at = strstr(text, places[old].n->hex), "%s's strata.conf does not name its parent's key",
				   label((int)c));
		memcpy(at, places[i].n->hex, KEY_HEX - 1);
		cr_assert_not_null(f = fopen(conf, "w"));
		fputs(text, f);
		cr_assert_eq(fclose(f), 0);
		net_release(text);
		net_node_start(places[c].n);
	}
}

static void check_rotation(void)
{
	const int street = 4, sibling = 10; /* xiagang; xiagang-b2, certified by its old key */
	char path[2 * sizeof places[0].n->path];
	int old, leaf;

	net_node_stop(places[street].n);
	old = rotate(street);
	net_node_start(places[street].n);
	tell_children(street, old);
	cr_assert_gt(own_trust(old), 0, "the old key wrote no trust feed");
	/* a new leaf of the rotated street: its certificate in the new key's feed */
	snprintf(path, sizeof path, "%s/b4", places[street].n->path);
	leaf = add_place(net_node_init("xiagang-b4", path, false, false), street, IN_TREE);
	net_node_join(places[leaf].n, places[street].n, NULL);
	net_node_start(places[leaf].n);
	city_notice_everywhere("N3");
	wait_all_caught_up();
	assert_all_exact();
	/* siblings across the rotation know each other */
	cr_assert(net_has_cert(places[leaf].n, places[sibling].n->key), "the new leaf lacks its sibling's certificate");
	cr_assert(net_has_cert(places[sibling].n, places[leaf].n->key), "a branch lacks its new sibling's certificate");
}

Test(sync_scope, trust_reaches_exactly_the_chain_and_the_subtree)
{
	uint64_t t0 = net_now_ms();

	build_tree();
	add_peer_and_auditor();
	cr_log_info("sync_scope: 17 daemons enrolled in %llu ms", (unsigned long long)(net_now_ms() - t0));
	check_holdings();
	cr_log_info("sync_scope: holdings checked at %llu ms", (unsigned long long)(net_now_ms() - t0));
	check_revocation();
	cr_log_info("sync_scope: revocation checked at %llu ms", (unsigned long long)(net_now_ms() - t0));
	check_new_leaf();
	cr_log_info("sync_scope: new leaf checked at %llu ms", (unsigned long long)(net_now_ms() - t0));
	check_upgrade();
	cr_log_info("sync_scope: upgrade checked at %llu ms", (unsigned long long)(net_now_ms() - t0));
	check_refused_on_the_wire();
	check_rotation();
	cr_log_info("sync_scope: rotation checked at %llu ms", (unsigned long long)(net_now_ms() - t0));
	net_stop_all();
}
