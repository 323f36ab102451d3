/* SPDX-License-Identifier: MIT */
/*
 * sync_status: `strata status` lists every configured link, connected or
 * not, with its state, since when, last seen and last error, whether or not
 * the daemon runs (a child that never connected, one that went away, a
 * parent that went away); `status --check` exits 3 on a link down past its
 * threshold, a frozen feed or a nearly full disk, and 0 otherwise.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_status, .init = net_setup, .fini = net_teardown);

/* The entry of `status --json`'s links for node who, or NULL. */
static json_t *link_of(json_t *st, const struct net_node *who)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(st, "links"), i, v) {
		const char *k = json_string_value(json_object_get(v, "key"));

		if (k && strcmp(k, who->hex) == 0)
			return v;
	}
	return NULL;
}

static const char *state_of(json_t *st, const struct net_node *who)
{
	json_t *l = link_of(st, who);

	return l ? json_string_value(json_object_get(l, "state")) : "(not listed)";
}

/* Does n's status show who's link in state? */
static bool shows(const struct net_node *n, const struct net_node *who, const char *state)
{
	json_t *st = net_node_status(n);
	bool ok = strcmp(state_of(st, who), state) == 0;

	net_release(st);
	return ok;
}

/* city <- gone (connected, then stopped), city <- never (joined, never
 * served): the city lists both, in text and JSON, daemon running or not. */
Test(sync_status, children_connected_or_not_are_listed)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *gone = net_node_init("gone", "xiamen/siming", false, false);
	struct net_node *never = net_node_init("never", "xiamen/huli", false, false);
	struct net_run r;
	json_t *st, *l;

	net_node_start(city);
	net_node_join(gone, city, NULL);
	net_node_join(never, city, NULL);
	net_node_start(gone);
	NET_WAIT(NET_DEADLINE_MS, shows(city, gone, "connected"), "the city to show siming connected");
	net_node_stop(gone);
	/* the city drops a link silent for 10 s: it must still list it */
	NET_WAIT(NET_DEADLINE_MS, shows(city, gone, "disconnected"), "the city to show siming disconnected");
	st = net_node_status(city);
	l = link_of(st, gone);
	cr_assert_str_eq(json_string_value(json_object_get(l, "role")), "child");
	cr_assert_str_eq(json_string_value(json_object_get(l, "name")), "xiamen/siming");
	cr_assert(json_is_integer(json_object_get(l, "last_seen_ms")), "no last-seen time for siming");
	cr_assert(json_is_integer(json_object_get(l, "since_ms")), "no since for siming");
	cr_assert_str_eq(state_of(st, never), "never connected");
	cr_assert(json_is_null(json_object_get(link_of(st, never), "last_seen_ms")));
	cr_assert(json_is_integer(json_object_get(link_of(st, never), "since_ms")), "no since for huli");
	net_release(st);
	net_run(&r, "status", "-d", city->dir, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(net_has(r.out, "xiamen/siming") && net_has(r.out, "disconnected"), "%s", r.out);
	cr_assert(net_has(r.out, "xiamen/huli") && net_has(r.out, "never connected"), "%s", r.out);
	net_run_free(&r);

	/* without the daemon: as it last kept them */
	net_node_stop(city);
	st = net_node_status(city);
	cr_assert(json_is_null(json_object_get(st, "daemon")));
	cr_assert_str_eq(state_of(st, gone), "disconnected");
	cr_assert(json_is_integer(json_object_get(link_of(st, gone), "last_seen_ms")));
	cr_assert_str_eq(state_of(st, never), "never connected");
	net_release(st);
	net_run(&r, "status", "-d", city->dir, NULL);
	cr_assert(net_has(r.out, "xiamen/siming") && net_has(r.out, "xiamen/huli"), "%s", r.out);
	net_run_free(&r);
}

/* A parent that went away: its child shows it disconnected, with the time
 * it was last heard and the last error, running or not. */
Test(sync_status, parent_gone_shows_last_seen_and_error)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("street", "xiamen/siming", false, false);
	json_t *st, *l;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_start(street);
	NET_WAIT(NET_DEADLINE_MS, shows(street, city, "connected"), "the street to show its parent connected");
	net_node_stop(city);
	NET_WAIT(NET_DEADLINE_MS, shows(street, city, "disconnected"), "the street to show its parent gone");
	st = net_node_status(street);
	l = link_of(st, city);
	cr_assert_str_eq(json_string_value(json_object_get(l, "role")), "parent");
	cr_assert_str_eq(json_string_value(json_object_get(l, "kind")), "parent");
	cr_assert(json_is_integer(json_object_get(l, "last_seen_ms")), "no last-seen time for the parent");
	cr_assert(json_is_string(json_object_get(l, "last_error")), "no last error for the parent");
	net_release(st);
	net_node_stop(street);
	st = net_node_status(street);
	l = link_of(st, city);
	cr_assert_str_eq(json_string_value(json_object_get(l, "state")), "disconnected");
	cr_assert(json_is_integer(json_object_get(l, "last_seen_ms")), "no last-seen time once stopped");
	cr_assert(json_is_string(json_object_get(l, "last_error")), "no last error once stopped");
	net_release(st);
}

static int check(const struct net_node *n, const char *link_down, const char *disk_free, const char *expect)
{
	struct net_run r;
	int code;

	net_run(&r, "status", "-d", n->dir, "--check", "--link-down", link_down, "--disk-free", disk_free, NULL);
	code = r.status;
	if (expect)
		cr_assert(net_has(r.out, expect), "status --check does not say \"%s\":\n%s", expect, r.out);
	net_run_free(&r);
	return code;
}

/* Links down past the threshold, a full disk: exit 3; within: 0. */
Test(sync_status, check_links_and_disk)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *never = net_node_init("never", "xiamen/huli", false, false);
	struct net_run r;
	json_t *j;

	net_node_start(city);
	net_node_join(never, city, NULL);
	cr_assert_eq(check(city, "3600", "0", "check: ok"), 0);
	net_sleep_ms(1100);
	cr_assert_eq(check(city, "0", "0", "xiamen/huli"), 3);
	cr_assert_eq(check(city, "3600", "100", "nearly full"), 3);
	net_run(&r, "status", "-d", city->dir, "--check", "--link-down", "0", "--json", NULL);
	cr_assert_eq(r.status, 3);
	j = net_run_json(&r);
	cr_assert(json_is_false(json_object_get(json_object_get(j, "check"), "ok")));
	cr_assert_eq(json_array_size(json_object_get(json_object_get(j, "check"), "problems")), 1);
	net_run_free(&r);
	net_run(&r, "status", "-d", city->dir, "--check", "--link-down", "soon", NULL);
	cr_assert_eq(r.status, 1, "a bad threshold is a usage error");
	net_run_free(&r);
	net_node_stop(city);
	/* huli joined but never ran its daemon: its parent link has never
	 * been up, whatever the threshold */
	cr_assert_eq(check(never, "3600", "0", "no daemon (strata serve) has run"), 3);
}

static void add_member(struct net_node *n, const char *id)
{
	net_ok("member", "add", "-d", n->dir, "--id", id, "--name", "郑文君", "--category", "full", "--joined",
	       "2021-07-01", NULL);
}

/* A street restored from a copy signs a second up #2: the city freezes
 * its feed, and its check fails on it. */
Test(sync_status, check_frozen_feed)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("street", "xiamen/siming", false, false);
	char copy[256];
	uint32_t flags = 0;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_start(street);
	add_member(street, "JS000001");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 1, "the city to hold up #1");
	net_node_stop(street);
	net_copy_tree(street->dir, net_path(copy, "street-at-1"));
	net_node_start(street);
	add_member(street, "JS000002");
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 2, "the city to hold up #2");
	cr_assert_eq(check(city, "3600", "0", "check: ok"), 0);
	net_node_stop(street);
	net_remove_tree(street->dir);
	net_copy_tree(copy, street->dir);
	add_member(street, "JS000003"); /* a different up #2 */
	net_node_start(street);
	NET_WAIT(NET_DEADLINE_MS, (net_head(city, street->key, FEED_UP, &flags), flags & STORE_FEED_FROZEN),
		 "the city to freeze the street's up feed");
	cr_assert_eq(check(city, "3600", "0", "frozen"), 3);
	net_stop_all();
}
