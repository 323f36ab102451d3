/* SPDX-License-Identifier: MIT */
/*
 * sync_offline: a street whose daemon is stopped keeps working (members
 * added, imported and updated through the CLI) while the rest of the
 * network moves on (the city restarts, the district writes); when the
 * street serves again, everything it wrote reaches the district and the
 * city, and nothing is lost on the way.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_offline, .init = net_setup, .fini = net_teardown);

static void add_member(struct net_node *n, const char *id)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", "林海燕", "--category", "full", "--joined",
	       "2018-05-04", NULL);
}

Test(sync_offline, street_offline_while_writing_catches_up)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *district = net_node_init("siming", "xiamen/siming", false, true);
	struct net_node *street = net_node_init("zhonghua", "xiamen/siming/zhonghua", false, false);
	struct net_node *all[3] = {city, district, street};
	uint64_t head;
	size_t members;
	char csv[256];

	net_node_start(city);
	net_node_join(district, city, NULL);
	net_node_start(district);
	net_node_join(street, district, NULL);
	net_node_set_ops(street, 100);
	net_node_start(street);
	add_member(street, "ZH900001");
	add_member(street, "ZH900002");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 2,
		 "the street's first entries to reach the city");

	/* Offline: the street keeps writing; the city restarts meanwhile and
	 * the district writes too. */
	net_node_stop(street);
	add_member(street, "ZH900003");
	net_node_stop(city);
	net_gen_members(net_path(csv, "members.csv"), 1000, "ZH", 3);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	add_member(district, "SM900001");
	net_node_start(city);
	add_member(street, "ZH900004");
	net_ok("member", "update", "-d", street->dir, "--id", "ZH900001", "--status", "lapsed", NULL);
	head = net_head(street, street->key, FEED_UP, NULL);
	members = net_count(street, "member", street->key);
	cr_assert_eq(head, 2 + 1 + 10 + 2, "the street wrote %llu entries", (unsigned long long)head);
	cr_assert_eq(members, 1004);
	cr_assert_eq(net_head(city, street->key, FEED_UP, NULL), 2, "the city got entries from a stopped street");

	net_node_start(street);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == head,
		 "the city to hold everything the street wrote offline (up #%llu)", (unsigned long long)head);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, district->key, FEED_UP, NULL) == 1,
		 "the district's own entry to reach the city");
	cr_assert_eq(net_head(district, street->key, FEED_UP, NULL), head);
	cr_assert_eq(net_count(city, "member", street->key), members);
	cr_assert_eq(net_count(district, "member", street->key), members);
	cr_assert_eq(net_count(city, "member", NULL), members + 1);
	net_stop_all();
	for (int i = 0; i < 3; i++) {
		char out[2048];

		cr_assert_eq(net_node_verify(all[i], out, sizeof out), 0, "verify %s: %s", all[i]->label, out);
	}
}
