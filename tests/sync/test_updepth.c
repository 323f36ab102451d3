/* SPDX-License-Identifier: MIT */
/*
 * sync_updepth: a district configured with up_depth = 1 keeps its streets'
 * member records (their `up` feeds) to itself, while its own `up` feed and
 * every trust feed still reach the city. That is how the top of a national
 * tree stays one machine.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "net.h"

TestSuite(sync_updepth, .init = net_setup, .fini = net_teardown);

struct want {
	struct net_node *at, *author;
	const char *feed;
};

static bool has_feed(void *arg)
{
	struct want *w = arg;

	return net_head(w->at, w->author->key, w->feed, NULL) > 0;
}

Test(sync_updepth, district_keeps_streets_records_below_up_depth)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *huli = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	char path[4200], csv[256];
	struct want w;
	FILE *f;

	net_node_start(city);
	net_node_join(huli, city, NULL);
	snprintf(path, sizeof path, "%s/strata.conf", huli->dir);
	cr_assert_not_null(f = fopen(path, "a"));
	fputs("\n[node]\nup_depth = 1\n", f);
	fclose(f);
	net_node_start(huli);
	net_node_join(street, huli, NULL);
	net_node_start(street);

	net_gen_members(net_path(csv, "street.csv"), 25, "JS", 5);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	net_ok("member", "add", "-d", huli->dir, "--id", "HL000001", "--name", "陈建国", "--category", "full",
	       "--joined", "2024-06-01", NULL);

	w = (struct want){huli, street, "up"};
	NET_WAIT(NET_DEADLINE_MS, has_feed(&w), "the district to hold the street's up feed");
	w = (struct want){city, huli, "up"};
	NET_WAIT(NET_DEADLINE_MS, has_feed(&w), "the city to hold the district's own up feed");
	w = (struct want){city, street, "trust"};
	w.author = huli; /* the certificate of the street lives in the district's trust feed */
	NET_WAIT(NET_DEADLINE_MS, has_feed(&w), "the city to hold the district's trust feed");
	net_sleep_ms(1500);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 0,
		     "the street's up feed went 2 levels up past a district with up_depth = 1");
	cr_assert_eq(net_count(city, "member", NULL), 1);
	cr_assert_eq(net_count(huli, "member", NULL), 26);
}
