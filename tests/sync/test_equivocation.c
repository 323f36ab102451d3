/* SPDX-License-Identifier: MIT */
/*
 * sync_equivocation: a street that signs two different entries for one seq
 * of its `up` feed (here: its node directory restored from a copy taken
 * before its last write, then a different write) is caught. The district
 * logs an ALARM, keeps the proof (status: evidence naming author, feed and
 * seq) and freezes the feed; the proof reaches the city.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_equivocation, .init = net_setup, .fini = net_teardown);

static void add_member(struct net_node *n, const char *id, const char *name)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", name, "--category", "full", "--joined",
	       "2021-07-01", NULL);
}

/* Does `strata status --json` of n show evidence on (author, feed, seq)? */
static bool has_evidence(const struct net_node *n, const struct net_node *author, const char *feed, uint64_t seq)
{
	json_t *st = net_node_status(n), *v;
	bool found = false;
	size_t i;

	json_array_foreach(json_object_get(st, "evidence"), i, v) {
		const char *a = json_string_value(json_object_get(v, "author"));
		const char *f = json_string_value(json_object_get(v, "feed"));

		if (a && f && strcmp(a, author->hex) == 0 && strcmp(f, feed) == 0 &&
		    (uint64_t)json_integer_value(json_object_get(v, "seq")) == seq)
			found = true;
	}
	net_release(st);
	return found;
}

/* Does `strata status --json` of n show (author, feed) frozen? */
static bool shows_frozen(const struct net_node *n, const struct net_node *author, const char *feed)
{
	json_t *st = net_node_status(n), *v;
	bool frozen = false;
	size_t i;

	json_array_foreach(json_object_get(st, "feeds"), i, v) {
		const char *a = json_string_value(json_object_get(v, "author"));
		const char *f = json_string_value(json_object_get(v, "feed"));

		if (a && f && strcmp(a, author->hex) == 0 && strcmp(f, feed) == 0)
			frozen = json_is_true(json_object_get(v, "frozen"));
	}
	net_release(st);
	return frozen;
}

struct fx {
	struct net_node *city, *district, *street;
	char snapshot[256];
};

/* city <- district <- street; the street's up feed reaches seq 3, with a
 * copy of the street's directory taken at seq 2; the street is stopped
 * and its directory is back at that copy. */
static void fork_street(struct fx *x)
{
	x->city = net_node_init("city", "xiamen", true, true);
	x->district = net_node_init("huli", "xiamen/huli", false, true);
	x->street = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	net_node_start(x->city);
	net_node_join(x->district, x->city, NULL);
	net_node_start(x->district);
	net_node_join(x->street, x->district, NULL);
	net_node_start(x->street);

	add_member(x->street, "JS000001", "郑文君");
	add_member(x->street, "JS000002", "林海燕");
	NET_WAIT(NET_DEADLINE_MS, net_head(x->city, x->street->key, FEED_UP, NULL) == 2,
		 "the city to hold up #2 of the street");
	net_node_stop(x->street);
	net_copy_tree(x->street->dir, net_path(x->snapshot, "jinshan-at-2"));
	net_node_start(x->street);
	add_member(x->street, "JS000003", "陈建国");
	NET_WAIT(NET_DEADLINE_MS, net_head(x->city, x->street->key, FEED_UP, NULL) == 3,
		 "the city to hold up #3 of the street");
	cr_assert_eq(net_head(x->district, x->street->key, FEED_UP, NULL), 3);
	net_node_stop(x->street);

	net_remove_tree(x->street->dir);
	net_copy_tree(x->snapshot, x->street->dir);
	cr_assert_eq(net_head(x->street, x->street->key, FEED_UP, NULL), 2, "the restored street is not at up #2");
}

static void expect_caught(struct fx *x)
{
	uint32_t flags = 0;

	NET_WAIT(10000 * NET_SLOW, net_log_has(x->district, "ALARM"), "the district to raise an ALARM on the equivocation");
	NET_WAIT(NET_DEADLINE_MS, has_evidence(x->district, x->street, FEED_UP, 3),
		 "the district's status to show evidence on the street's up #3");
	cr_assert(shows_frozen(x->district, x->street, FEED_UP),
		  "the district did not freeze the street's up feed:\n%s",
		  net_diag());
	net_head(x->district, x->street->key, FEED_UP, &flags);
	cr_assert(flags & STORE_FEED_FROZEN, "the district's store does not flag the street's up feed frozen");
	NET_WAIT(NET_DEADLINE_MS, has_evidence(x->city, x->street, FEED_UP, 3),
		 "the proof to reach the city (its status to show evidence on the street's up #3)");
	cr_assert_eq(net_head(x->district, x->street->key, FEED_UP, NULL), 3,
		     "the district appended to the street's feed after the equivocation");
}

/* The fork is at the head: the restored street writes one entry, seq 3,
 * and says no more. Both sides then hold seq 3, but different ones. */
Test(sync_equivocation, fork_at_the_head_is_detected_and_reaches_the_root)
{
	struct fx x = {0};

	fork_street(&x);
	add_member(x.street, "JS000004", "黄志强"); /* a different up #3 */
	cr_assert_eq(net_head(x.street, x.street->key, FEED_UP, NULL), 3);
	net_node_start(x.street);
	expect_caught(&x);
	net_stop_all();
}

/* The fork below the head: the restored street writes seq 3 and 4, so its
 * first new entry does not chain onto what the district holds. */
Test(sync_equivocation, fork_below_the_head_is_detected_and_reaches_the_root)
{
	struct fx x = {0};

	fork_street(&x);
	add_member(x.street, "JS000004", "黄志强"); /* a different up #3 */
	add_member(x.street, "JS000005", "吴秀兰"); /* and #4 on top of it */
	cr_assert_eq(net_head(x.street, x.street->key, FEED_UP, NULL), 4);
	net_node_start(x.street);
	expect_caught(&x);
	net_stop_all();
}
