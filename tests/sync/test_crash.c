/* SPDX-License-Identifier: MIT */
/*
 * sync_crash: SIGKILL of a middle node during a large catch-up. A street
 * imports 50,000 members (500 change sets of 100) while its district is
 * down; the district starts and is killed with SIGKILL in the middle of
 * receiving them, more than once, then restarted. The network converges:
 * the city ends with every member, every store verifies, nothing is lost
 * or stored twice.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_crash, .init = net_setup, .fini = net_teardown);

#define MEMBERS 50000
#define OPS 100
#define ENTRIES (MEMBERS / OPS)
#define KILLS 3

Test(sync_crash, district_killed_during_catch_up_loses_nothing)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *district = net_node_init("huli", "xiamen/huli", false, true);
	struct net_node *street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	struct net_node *all[3] = {city, district, street};
	uint64_t at = 0, seen[KILLS] = {0};
	int kills = 0;
	char csv[256];

	net_node_start(city);
	net_node_join(district, city, NULL);
	net_node_start(district);
	net_node_join(street, district, NULL);
	net_node_set_ops(street, OPS);
	net_node_start(street);
	net_ok("member", "add", "-d", street->dir, "--id", "JS900001", "--name", "郑文君", "--category", "full",
	       "--joined", "1950-07-01", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 1, "the first entry to reach the city");

	/* The backlog: written while the district is down. */
	net_node_stop(district);
	at = net_head(district, street->key, FEED_UP, NULL);
	net_gen_members(net_path(csv, "members.csv"), MEMBERS, "JS", 7);
	net_ok("member", "import", "-d", street->dir, csv, NULL);
	cr_assert_eq(net_head(street, street->key, FEED_UP, NULL), 1 + ENTRIES);

	/* Kill the district each time it is part-way through the backlog. */
	while (kills < KILLS) {
		uint64_t deadline, seq;

		net_node_start(district);
		deadline = net_now_ms() + NET_DEADLINE_MS;
		while ((seq = net_head(district, street->key, FEED_UP, NULL)) <= at && net_now_ms() < deadline)
			net_sleep_ms(2); /* a batch takes longer: we see each commit */
		if (seq >= 1 + ENTRIES)
			break; /* it got everything before we saw it in between */
		cr_assert_gt(seq, at, "the district made no progress within %d ms after a restart:\n%s",
			     NET_DEADLINE_MS, net_diag());
		net_node_kill(district);
		seen[kills++] = seq;
		at = net_head(district, street->key, FEED_UP, NULL); /* what survived the kill */
		cr_assert_geq(at, seq, "the district lost committed entries in the kill: head %llu, was %llu",
			      (unsigned long long)at, (unsigned long long)seq);
	}
	cr_assert_geq(kills, 1, "the district was never caught part-way through the catch-up");
	cr_log_info("district killed %d times, at up heads %llu, %llu, %llu of %d", kills, (unsigned long long)seen[0],
		    (unsigned long long)seen[1], (unsigned long long)seen[2], 1 + ENTRIES);
	if (!district->pid)
		net_node_start(district);

	NET_WAIT(3 * NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 1 + ENTRIES,
		 "the city to hold the street's whole up feed (#%d); it holds #%llu, the district #%llu", 1 + ENTRIES,
		 (unsigned long long)net_head(city, street->key, FEED_UP, NULL),
		 (unsigned long long)net_head(district, street->key, FEED_UP, NULL));
	cr_assert_eq(net_head(district, street->key, FEED_UP, NULL), 1 + ENTRIES);
	cr_assert_eq(net_count(city, "member", street->key), MEMBERS + 1, "the city holds %zu members of the street",
		     net_count(city, "member", street->key));
	cr_assert_eq(net_count(district, "member", street->key), MEMBERS + 1);
	net_stop_all();
	for (int i = 0; i < 3; i++) {
		char out[2048];

		cr_assert_eq(net_node_verify(all[i], out, sizeof out), 0, "verify %s: %s", all[i]->label, out);
	}
}
