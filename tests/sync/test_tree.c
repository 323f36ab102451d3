/* SPDX-License-Identifier: MIT */
/*
 * sync_tree: a three-level tree of real daemons (a city, two districts,
 * two streets each) converges, and every node holds exactly the feeds the
 * routing rules give it: its own, the `up` feeds of its descendants and no
 * one else's (a street never holds a sibling's, a district never another
 * district's streets'), and the trust feeds of its chain and its subtree
 * only (issue 16: a street holds no trust feed of another district's).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_tree, .init = net_setup, .fini = net_teardown);

#define MEMBERS 200

/* Is path strictly below anc in the org tree? */
static bool below(const char *path, const char *anc)
{
	size_t n = strlen(anc);

	return strncmp(path, anc, n) == 0 && path[n] == '/';
}

static struct net_node *by_key(struct net_node **all, size_t n, const uint8_t key[KEY_BYTES])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(all[i]->key, key, KEY_BYTES) == 0)
			return all[i];
	return NULL;
}

/* Does node x hold every feed it should, at its author's head? */
static bool holds_all(struct net_node **all, size_t n, struct net_node *x)
{
	for (size_t i = 0; i < n; i++) {
		struct net_node *a = all[i];
		uint64_t want;

		if (a == x || below(a->path, x->path)) {
			want = net_head(a, a->key, FEED_UP, NULL);
			if (want && net_head(x, a->key, FEED_UP, NULL) != want)
				return false;
		}
		if (a != x && !below(a->path, x->path) && !below(x->path, a->path))
			continue;
		want = net_head(a, a->key, FEED_TRUST, NULL);
		if (want && net_head(x, a->key, FEED_TRUST, NULL) != want)
			return false;
	}
	return true;
}

static bool links_settled(struct net_node *x, size_t want_links)
{
	json_t *st = net_node_status(x), *links = json_object_get(json_object_get(st, "daemon"), "links"), *l;
	bool ok = json_array_size(links) == want_links;
	size_t i;

	json_array_foreach(links, i, l) ok = ok && json_is_true(json_object_get(l, "connected")) &&
					      json_integer_value(json_object_get(l, "lag")) == 0;
	net_release(st);
	return ok;
}

Test(sync_tree, three_levels_converge_with_each_feed_where_it_belongs)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *d[2] = {net_node_init("siming", "xiamen/siming", false, true),
				 net_node_init("huli", "xiamen/huli", false, true)};
	struct net_node *s[4] = {
		net_node_init("zhonghua", "xiamen/siming/zhonghua", false, false),
		net_node_init("xiagang", "xiamen/siming/xiagang", false, false),
		net_node_init("jinshan", "xiamen/huli/jinshan", false, false),
		net_node_init("jiangtou", "xiamen/huli/jiangtou", false, false),
	};
	struct net_node *all[7] = {city, d[0], d[1], s[0], s[1], s[2], s[3]};
	const char *prefix[4] = {"ZH", "XG", "JS", "JT"};

	net_node_start(city);
	for (int i = 0; i < 2; i++) {
		net_node_join(d[i], city, NULL);
		net_node_start(d[i]);
	}
	for (int i = 0; i < 4; i++) {
		net_node_join(s[i], d[i / 2], NULL);
		net_node_start(s[i]);
	}
	for (int i = 0; i < 4; i++) {
		char csv[256], name[48];

		snprintf(name, sizeof name, "%s.csv", s[i]->label);
		net_gen_members(net_path(csv, name), MEMBERS, prefix[i], (unsigned long)i + 1);
		net_ok("member", "import", "-d", s[i]->dir, csv, NULL);
	}
	net_ok("member", "add", "-d", d[0]->dir, "--id", "SM000001", "--name", "林海燕", "--category", "full",
	       "--joined", "2019-03-12", NULL);
	net_ok("member", "add", "-d", d[1]->dir, "--id", "HL000001", "--name", "陈建国", "--category",
	       "probationary", "--joined", "2024-06-01", NULL);

	for (size_t i = 0; i < 7; i++)
		NET_WAIT(NET_DEADLINE_MS, holds_all(all, 7, all[i]), "%s to hold its descendants' up feeds and its chain's and subtree's trust feeds",
			 all[i]->label);

	/* Exactly: no up feed of a node that is not itself or below it, and
	 * no feed of a kind nobody wrote. */
	for (size_t i = 0; i < 7; i++) {
		struct store_head *h = NULL;
		size_t n = net_heads(all[i], &h);

		for (size_t k = 0; k < n; k++) {
			struct net_node *a = by_key(all, 7, h[k].author);

			cr_assert_not_null(a, "%s holds feed %s of an author outside the tree", all[i]->label, h[k].feed);
			if (strcmp(h[k].feed, "trust") == 0) {
				cr_assert(a == all[i] || below(a->path, all[i]->path) || below(all[i]->path, a->path),
					  "%s (%s) holds the trust feed of %s (%s), neither above nor below it",
					  all[i]->label, all[i]->path, a->label, a->path);
				continue;
			}
			cr_assert_str_eq(h[k].feed, "up", "%s holds a %s feed of %s; nobody wrote one", all[i]->label,
					 h[k].feed, a->path);
			cr_assert(a == all[i] || below(a->path, all[i]->path),
				  "%s (%s) holds the up feed of %s (%s), which is not below it", all[i]->label,
				  all[i]->path, a->label, a->path);
			cr_assert_eq(h[k].flags, 0, "%s holds %s/%s flagged %u", all[i]->label, a->label, h[k].feed,
				     h[k].flags);
		}
		net_release(h);
	}

	/* What that means for the records each level sees. */
	cr_assert_eq(net_count(city, "member", NULL), 4 * MEMBERS + 2);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(net_count(d[i], "member", NULL), 2 * MEMBERS + 1, "%s sees %zu members", d[i]->label,
			     net_count(d[i], "member", NULL));
	for (int i = 0; i < 4; i++)
		cr_assert_eq(net_count(s[i], "member", NULL), MEMBERS, "%s sees %zu members", s[i]->label,
			     net_count(s[i], "member", NULL));

	/* The links say the same: connected, nothing left to send. */
	NET_WAIT(NET_DEADLINE_MS, links_settled(city, 2), "the city's two links to be connected with lag 0");
	NET_WAIT(NET_DEADLINE_MS, links_settled(d[0], 3), "siming's three links to be connected with lag 0");
	NET_WAIT(NET_DEADLINE_MS, links_settled(s[3], 1), "jiangtou's link to be connected with lag 0");

	for (size_t i = 0; i < 7; i++) {
		char out[2048];

		cr_assert_eq(net_node_verify(all[i], out, sizeof out), 0, "verify %s: %s", all[i]->label, out);
	}

	/* An auditor's bundle of a district's up feeds alone carries the
	 * chains they need (the city's and the district's trust feeds): its
	 * audit against the root key, with nothing else, is clean. */
	{
		struct net_run r;
		char bundle[256];

		net_ok("export", "-d", d[0]->dir, "-o", net_path(bundle, "siming-up.bundle"), "--feeds", "up", NULL);
		net_run(&r, "audit", bundle, "--root", city->hex, NULL);
		cr_assert_eq(r.status, 0, "audit of siming's up feeds: exit %d: %s%s", r.status, r.out, r.err);
		net_run_free(&r);
	}
	net_stop_all();
}
