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
 *      street knows: refused, naming why;
 *   7. a street rotates its key (and tells its children, as
 *      docs/OPERATIONS.md says) and enrolls a new leaf: its old key's trust
 *      feed, with the rotation record and the first children's
 *      certificates, still goes down to all its children, the new leaf
 *      included, and the rotation (in the district's trust feed) stays out
 *      of the other district.
 * The expected holdings are computed from the tree's shape (parent
 * indices), not from org paths, in scope_places.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "scope_places.h"

TestSuite(sync_scope, .init = net_setup, .fini = net_teardown);

#define TREE_NODES 15 /* heap order: 0 the city, 1-2 districts, 3-6 streets, 7-14 branches */
#define FIRST_BRANCH 7

static struct net_node *node(int i)
{
	return scope_places[i].n;
}

/* --- stage 1: the network --- */

static void build_tree(void)
{
	static const char *const district[] = {"siming", "huli"};
	static const char *const street[] = {"zhonghua", "xiagang", "jinshan", "jiangtou"};
	char path[2 * sizeof node(0)->path], lbl[2 * sizeof node(0)->label];

	scope_add(net_node_init("city", "xiamen", true, true), SCOPE_NONE, SCOPE_TREE);
	for (int i = 1; i < TREE_NODES; i++) {
		int p = (i - 1) / 2;
		bool leaf = i >= FIRST_BRANCH;

		if (i < 3) {
			snprintf(path, sizeof path, "xiamen/%s", district[i - 1]);
			snprintf(lbl, sizeof lbl, "%s", district[i - 1]);
		} else if (!leaf) {
			snprintf(path, sizeof path, "%s/%s", node(p)->path, street[i - 3]);
			snprintf(lbl, sizeof lbl, "%s", street[i - 3]);
		} else {
			snprintf(path, sizeof path, "%s/b%d", node(p)->path, 1 + (i - FIRST_BRANCH) % 2);
			snprintf(lbl, sizeof lbl, "%s-b%d", scope_label(p), 1 + (i - FIRST_BRANCH) % 2);
		}
		scope_add(net_node_init(lbl, path, false, !leaf), p, SCOPE_TREE);
	}
	net_node_start(node(0));
	for (int i = 1; i < TREE_NODES; i++) {
		net_node_join(node(i), scope_places[scope_places[i].parent].n, NULL);
		net_node_start(node(i));
	}
}

static void add_peer_and_auditor(void)
{
	int hosp = scope_add(net_node_init("hospital", "xmfy-hospital", true, false), 1, SCOPE_PEER);
	int aud = scope_add(net_node_init("auditor", "xiamen/huli/audit-office", false, false), 2, SCOPE_AUDITOR);

	net_node_join(node(hosp), node(1), "--role", "peer", NULL);
	net_node_start(node(hosp));
	net_node_join(node(aud), node(2), "--role", "auditor", NULL);
	net_node_start(node(aud));
}

/* --- stage 2: holdings --- */

/* Waits until every running node holds what the rule gives it. */
static void wait_all_caught_up(void)
{
	for (size_t x = 0; x < scope_n; x++)
		if (!scope_places[x].idle)
			NET_WAIT(NET_DEADLINE_MS, scope_caught_up((int)x),
				 "%s to hold the trust feeds the rule gives it (%s)", scope_label((int)x),
				 scope_lacking);
}

static void check_holdings(void)
{
	wait_all_caught_up();
	for (int x = 0; x < FIRST_BRANCH; x++) /* or every check below passes on nothing */
		cr_assert_gt(scope_own_trust(x), 0, "%s, which certified children, wrote no trust feed",
			     scope_label(x));
	for (size_t x = 0; x < scope_n; x++)
		scope_assert_exact((int)x, NULL);
	/* the certificate index: a sibling's is in the parent's trust feed, a
	 * branch of another street in a trust feed the branch never holds */
	for (int x = FIRST_BRANCH; x < TREE_NODES; x++)
		for (int y = FIRST_BRANCH; y < TREE_NODES; y++) {
			bool same_street = scope_places[x].parent == scope_places[y].parent;

			cr_assert_eq(net_has_cert(node(x), node(y)->key), same_street, "%s %s the certificate of %s",
				     scope_label(x), same_street ? "lacks" : "holds", scope_label(y));
		}
}

/* --- stage 3: a revocation deep in one subtree --- */

/* A notice of the city, written after everything before it reached the
 * city: once every running node holds it, and the links that could carry
 * more have nothing left to send, what has not arrived never will. */
static void city_notice_everywhere(const char *id)
{
	uint64_t h;

	net_ok("notice", "add", "-d", node(0)->dir, "--id", id, "--title", "关于开展主题党日活动的通知", NULL);
	h = net_head(node(0), node(0)->key, FEED_NOTICE, NULL);
	for (size_t x = 0; x < scope_n; x++)
		if (!scope_places[x].idle)
			NET_WAIT(NET_DEADLINE_MS, net_head(node(x), node(0)->key, FEED_NOTICE, NULL) == h,
				 "%s to hold the city's notice %s", scope_label((int)x), id);
	for (int x = 0; x < FIRST_BRANCH; x++)
		if (node(x)->pid > 0 && !scope_idle_child(x))
			NET_WAIT(NET_DEADLINE_MS, scope_links_settled(node(x)),
				 "%s's links to have nothing left to send", scope_label(x));
}

static void check_revocation(void)
{
	const int street = 5, revoked = 11; /* jinshan revokes jinshan-b1 */
	uint64_t before = scope_own_trust(street), h;
	size_t reached = 0;

	cr_assert_eq(scope_places[revoked].parent, street);
	net_ok("revoke", "-d", node(street)->dir, "--name", node(revoked)->path, "--reason", "merged", NULL);
	h = scope_own_trust(street);
	cr_assert_gt(h, before, "the revocation is not in %s's trust feed", scope_label(street));
	/* the ancestors, the rest of the subtree and the auditor below them */
	for (size_t x = 0; x < scope_n; x++)
		if ((int)x != revoked && scope_gives((int)x, street)) {
			NET_WAIT(NET_DEADLINE_MS, net_head(node(x), node(street)->key, FEED_TRUST, NULL) == h,
				 "%s to hold the revocation", scope_label((int)x));
			reached++;
		}
	cr_assert_eq(reached, 5,
		     "the rule gives the revocation to %zu nodes, not 5 (the city, huli, jinshan, "
		     "jinshan-b2, the auditor)",
		     reached);
	net_node_stop(node(revoked));
	scope_places[revoked].idle = true;
	city_notice_everywhere("N1");
	/* the sibling subtrees: the other district's, the other street's, the peer's */
	for (size_t x = 0; x < scope_n; x++)
		if (!scope_gives((int)x, street))
			cr_assert_eq(net_head(node(x), node(street)->key, FEED_TRUST, NULL), 0,
				     "%s holds %s's trust feed (the revocation)", scope_label((int)x),
				     scope_label(street));
	for (size_t x = 0; x < scope_n; x++)
		if (!scope_places[x].idle)
			scope_assert_exact((int)x, NULL);
}

/* --- stage 4: a new leaf's join --- */

/* The trust feeds x holds: how many, and how many entries in all. */
static size_t trust_held(int x, uint64_t *entries)
{
	struct store_head *h = NULL;
	size_t n = net_heads(node(x), &h), feeds = 0;

	*entries = 0;
	for (size_t k = 0; k < n; k++)
		if (strcmp(h[k].feed, FEED_TRUST) == 0) {
			cr_assert(scope_gives(x, scope_by_key(h[k].author)), "%s holds a trust feed outside its chain",
				  scope_label(x));
			feeds++;
			*entries += h[k].seq;
		}
	net_release(h);
	return feeds;
}

static void check_new_leaf(void)
{
	const int street = 4; /* xiagang */
	char path[2 * sizeof node(0)->path];
	uint64_t entries, chain = 0, all = 0;
	int leaf;

	snprintf(path, sizeof path, "%s/b3", node(street)->path);
	leaf = scope_add(net_node_init("xiagang-b3", path, false, false), street, SCOPE_TREE);
	net_node_join(node(leaf), node(street), NULL);
	net_node_start(node(leaf));
	/* useful: its parent's trust feed, with its own certificate, arrived */
	NET_WAIT(NET_DEADLINE_MS, net_head(node(leaf), node(street)->key, FEED_TRUST, NULL) == scope_own_trust(street),
		 "the new leaf to hold its street's trust feed");
	cr_assert(net_has_cert(node(leaf), node(leaf)->key));
	cr_assert_leq(trust_held(leaf, &entries), 3, "the new leaf holds more than its chain's 3 trust feeds");
	NET_WAIT(NET_DEADLINE_MS, scope_caught_up(leaf), "the new leaf to hold its chain");
	scope_assert_exact(leaf, NULL);
	cr_assert_eq(trust_held(leaf, &entries), 3);
	for (size_t a = 0; a < scope_n; a++) {
		chain += scope_gives(leaf, (int)a) ? scope_own_trust((int)a) : 0;
		all += scope_own_trust((int)a);
	}
	cr_assert_eq(entries, chain, "the new leaf holds %llu trust entries, its chain has %llu",
		     (unsigned long long)entries, (unsigned long long)chain);
	cr_log_info("sync_scope: the new leaf downloaded %llu of the network's %llu trust entries",
		    (unsigned long long)entries, (unsigned long long)all);
	/* its certificate went up its chain only */
	for (size_t x = 0; x < scope_n; x++)
		if (!scope_places[x].idle && (int)x != leaf)
			cr_assert_eq(net_has_cert(node(x), node(leaf)->key), scope_gives((int)x, street),
				     "%s %s the new leaf's certificate", scope_label((int)x),
				     scope_gives((int)x, street) ? "lacks" : "holds");
}

/* --- stage 5: a store from before the rule --- */

static void check_upgrade(void)
{
	const int street = 3, child = 7; /* zhonghua, holding every trust feed; zhonghua-b1 */
	char bundle[256], out[4096];
	struct net_run r;

	net_ok("export", "-d", node(0)->dir, "--feeds", "trust", "-o", net_path(bundle, "trust.bundle"), NULL);
	net_node_stop(node(street));
	net_ok("import", "-d", node(street)->dir, bundle, NULL);
	for (int a = 0; a < FIRST_BRANCH; a++) {
		scope_imported[a] = true;
		cr_assert_eq(net_head(node(street), node(a)->key, FEED_TRUST, NULL), scope_own_trust(a),
			     "the import did not bring %s's trust feed", scope_label(a));
	}
	scope_upgraded = street;
	net_node_start(node(street));

	/* new entries both ways: members up from the street and its branch,
	 * the city's notice down to the branches */
	net_ok("member", "add", "-d", node(child)->dir, "--id", "ZH000001", "--name", "林海燕", "--category", "full",
	       "--joined", "2019-03-12", NULL);
	net_ok("member", "add", "-d", node(street)->dir, "--id", "ZH000002", "--name", "陈建国", "--category", "full",
	       "--joined", "2020-05-01", NULL);
	NET_WAIT(NET_DEADLINE_MS,
		 net_count(node(0), "member", node(child)->key) == 1 &&
			 net_count(node(0), "member", node(street)->key) == 1,
		 "the upgraded street's and its branch's members to reach the city");
	city_notice_everywhere("N2");
	wait_all_caught_up();
	scope_assert_all_exact();
	for (int a = 0; a < FIRST_BRANCH; a++) /* nothing pruned */
		cr_assert_eq(net_head(node(street), node(a)->key, FEED_TRUST, NULL), scope_own_trust(a),
			     "the upgraded street lost %s's trust feed", scope_label(a));
	cr_assert_eq(net_node_verify(node(street), out, sizeof out), 0, "verify of the upgraded street: %s", out);
	net_run(&r, "audit", "-d", node(street)->dir, "--root", node(0)->hex, NULL);
	cr_assert_eq(r.status, 0, "audit of the upgraded street: exit %d: %s%s", r.status, r.out, r.err);
	net_run_free(&r);
	/* and it did not even offer them: no link refused a trust feed */
	for (size_t x = 0; x < scope_n; x++)
		cr_assert(!net_log_has(node(x), "feed trust of this author does not come through this link"),
			  "%s refused a trust feed a link offered:\n%s", scope_label((int)x), net_diag());
}

/* --- stage 6: a link brings only what its sender may send --- */

/* The next entry of a's trust feed, validly signed and chained by a. */
static void next_trust_entry(int a, uint8_t **env, size_t *len)
{
	struct store_head *h = NULL;
	size_t n = net_heads(node(a), &h);

	for (size_t k = 0; k < n; k++)
		if (strcmp(h[k].feed, FEED_TRUST) == 0 && memcmp(h[k].author, node(a)->key, KEY_BYTES) == 0) {
			net_entry(net_node_keypair(node(a)), FEED_TRUST, h[k].seq + 1, h[k].hash, NULL, env, len, NULL);
			net_release(h);
			return;
		}
	cr_assert_fail("%s has no trust feed", scope_label(a));
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

	net_node_stop(node(branch));
	scope_places[branch].idle = true;
	next_trust_entry(foreign, &env, &len);
	c = net_client_new_kp(node(street), net_node_keypair(node(branch)));
	net_client_hello(c, node(branch)->key, node(branch)->path);
	net_client_entries(c, 1, &env, &len, 1, &rep, 10000 * NET_SLOW);
	for (size_t i = 0; i < rep.n_errors; i++)
		named = named || net_has(rep.errors[i]->error->reason,
					 "feed trust of this author does not come through this link");
	cr_assert(
		named,
		"a branch brought its street the other district's trust entry, and no Error said why (%zu errors%s%s)",
		rep.n_errors, rep.n_errors ? ": " : "", rep.n_errors ? rep.errors[0]->error->reason : "");
	net_reply_free(&rep);
	net_client_free(&c);
	cr_assert_eq(net_head(node(street), node(foreign)->key, FEED_TRUST, NULL), 0,
		     "%s stored %s's trust entry from its branch", scope_label(street), scope_label(foreign));
}

/* --- stage 7: a street's key rotation --- */

static struct net_node old_key; /* the street's key before the rotation */

/* Rotates the key of the (stopped) node at i: its old key becomes a place
 * of the same unit. Returns that place. */
static int rotate(int i)
{
	struct net_node *n = node(i);
	struct net_run r;
	json_t *j;
	int old;

	old_key = *n;
	snprintf(old_key.label, sizeof old_key.label, "%.20s(old)", n->label);
	old_key.pid = 0;
	old = scope_add(&old_key, scope_places[i].parent, SCOPE_TREE);
	scope_places[old].unit = i;
	scope_places[old].idle = true;
	scope_imported[old] = scope_imported[i]; /* stage 5 imported the feed of the key it had */
	scope_imported[i] = false;
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
	for (size_t c = 0; c < scope_n; c++) {
		char conf[300], *text, *at;
		FILE *f;

		if (scope_places[c].parent != i || scope_places[c].idle)
			continue;
		net_node_stop(node(c));
		snprintf(conf, sizeof conf, "%s/strata.conf", node(c)->dir);
		text = net_own(net_read_file(conf), free);
		cr_assert_not_null(at = strstr(text, node(old)->hex), "%s's strata.conf does not name its parent's key",
				   scope_label((int)c));
		memcpy(at, node(i)->hex, KEY_HEX - 1);
		cr_assert_not_null(f = fopen(conf, "w"));
		fputs(text, f);
		cr_assert_eq(fclose(f), 0);
		net_release(text);
		net_node_start(node(c));
	}
}

static void check_rotation(void)
{
	const int street = 4, sibling = 10; /* xiagang; xiagang-b2, certified by its old key */
	char path[2 * sizeof node(0)->path];
	int old, leaf;

	net_node_stop(node(street));
	old = rotate(street);
	net_node_start(node(street));
	tell_children(street, old);
	cr_assert_gt(scope_own_trust(old), 0, "the old key wrote no trust feed");
	/* a new leaf of the rotated street: its certificate in the new key's feed */
	snprintf(path, sizeof path, "%s/b4", node(street)->path);
	leaf = scope_add(net_node_init("xiagang-b4", path, false, false), street, SCOPE_TREE);
	net_node_join(node(leaf), node(street), NULL);
	net_node_start(node(leaf));
	city_notice_everywhere("N3");
	wait_all_caught_up();
	scope_assert_all_exact();
	/* siblings across the rotation know each other */
	cr_assert(net_has_cert(node(leaf), node(sibling)->key), "the new leaf lacks its sibling's certificate");
	cr_assert(net_has_cert(node(sibling), node(leaf)->key), "a branch lacks its new sibling's certificate");
}

/* Every store, each holding only its part of the trust feeds, verifies, and
 * audits clean against the city's key alone: no node lacks a chain its
 * entries need. (The hospital's store holds two trust domains, its own and
 * the city's: no one root key audits it; it verifies.) */
static void check_every_store(void)
{
	for (size_t x = 0; x < scope_n; x++) {
		char out[4096];
		struct net_run r;

		if (scope_places[x].unit != (int)x)
			continue;
		cr_assert_eq(net_node_verify(node((int)x), out, sizeof out), 0, "verify %s: %s", scope_label((int)x), out);
		if (scope_places[x].kind == SCOPE_PEER)
			continue;
		net_run(&r, "audit", "-d", node((int)x)->dir, "--root", node(0)->hex, NULL);
		cr_assert_eq(r.status, 0, "audit of %s: exit %d: %s%s", scope_label((int)x), r.status, r.out, r.err);
		net_run_free(&r);
	}
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
	check_every_store();
}
