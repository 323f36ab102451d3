/* SPDX-License-Identifier: MIT */
/*
 * sync_store_grow: a street whose store starts with a 1 MiB map
 * (STRATA_MAP_SIZE) receives a branch's import through its daemon while a
 * `strata member import` on the street writes into the same store at once:
 * both processes grow the map (storage/grow.c), each says so (the daemon
 * in its log, the command on stderr), nothing is refused, the store
 * verifies, and `strata metrics` / `strata status --json` show the growth.
 * And strata.conf's [store] keys are checked with reasons naming them.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_store_grow, .init = net_setup, .fini = net_teardown);

#define MEMBERS 3000
#define SMALL_MAP "1048576"

/* The value of metric NAME in the text of `strata metrics`, or -1. */
static long long metric(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return atoll(p + n + 1);
	return -1;
}

struct caught_up {
	struct net_node *at, *author;
	uint64_t head;
};

static bool has_head(void *arg)
{
	struct caught_up *c = arg;

	return net_head(c->at, c->author->key, FEED_UP, NULL) == c->head;
}

Test(sync_store_grow, map_grows_while_the_daemon_and_a_command_write)
{
	struct net_node *street = net_node_init("jinshan", "xiamen/huli/jinshan", true, true);
	struct net_node *branch = net_node_init("hetong", "xiamen/huli/jinshan/hetong", false, false);
	char a[256], b[256];
	struct net_run r;

	net_node_start(street);
	net_node_join(branch, street, NULL);
	net_node_start(branch);
	net_node_stop(street);
	/* from here every process opens the stores with a 1 MiB map */
	setenv("STRATA_MAP_SIZE", SMALL_MAP, 1);
	net_node_start(street);

	net_gen_members(net_path(a, "branch.csv"), MEMBERS, "HT", 1);
	net_gen_members(net_path(b, "street.csv"), MEMBERS, "JS", 2);
	net_ok("member", "import", "-d", branch->dir, a, NULL);
	/* the street's daemon receives the branch's batches meanwhile */
	net_run(&r, "member", "import", "-d", street->dir, b, NULL);
	cr_assert_eq(r.status, 0, "the street's import: %s%s", r.out, r.err);
	cr_assert(net_has(r.err, "strata: store: map grown from 1 MiB to "), "the command does not say it grew the map: %s",
		  r.err);
	net_run_free(&r);
	struct caught_up c = {street, branch, net_head(branch, branch->key, FEED_UP, NULL)};
	NET_WAIT(NET_DEADLINE_MS, has_head(&c), "the street to hold the branch's import");
	cr_assert(net_log_has(street, "store: map grown from 1 MiB to "), "the daemon's log does not say:\n%s",
		  net_diag());
	cr_assert_eq(net_count(street, "member", branch->key), MEMBERS);
	cr_assert_eq(net_count(street, "member", street->key), MEMBERS);
	cr_assert(!net_log_has(street, "not stored"), "the street refused a batch:\n%s", net_diag());
	net_stop_all();
	cr_assert_eq(net_node_verify(street, NULL, 0), 0, "the street's store does not verify");

	net_run(&r, "metrics", "-d", street->dir, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(net_has(r.out, "# TYPE strata_store_map_grown_total counter"), "%s", r.out);
	long long grown = metric(r.out, "strata_store_map_grown_total"), map = metric(r.out, "strata_store_map_bytes");
	long long used = metric(r.out, "strata_store_used_bytes"), max = metric(r.out, "strata_store_map_max_bytes");
	cr_assert_geq(grown, 2, "the daemon and the command each grew their map:\n%s", r.out);
	cr_assert_gt(map, 1 << 20, "%s", r.out);
	cr_assert(used > 1 << 20 && used < map && map <= max, "%s", r.out);
	net_run_free(&r);
	unsetenv("STRATA_MAP_SIZE");

	json_t *st = net_node_status(street), *store = json_object_get(st, "store");
	cr_assert(json_is_object(store), "status --json has no store object");
	cr_assert_eq(json_integer_value(json_object_get(store, "map_grown_total")), grown);
	cr_assert_geq(json_integer_value(json_object_get(store, "map_bytes")), map);
	/* and the person's view says the same */
	{
		char want[64];

		snprintf(want, sizeof want, "grown %lld times", grown);
		net_run(&r, "status", "-d", street->dir, NULL);
		cr_assert_eq(r.status, 0, "%s", r.err);
		cr_assert(net_has(r.out, "store:  ") && net_has(r.out, want), "status says: %s", r.out);
		net_run_free(&r);
	}
}

/* Runs `strata id` on n and expects a refusal naming WANT. */
static void refused(struct net_node *n, const char *line, const char *want)
{
	char path[512];
	struct net_run r;
	FILE *f;

	snprintf(path, sizeof path, "%s/strata.conf", n->dir);
	cr_assert_not_null(f = fopen(path, "a"));
	fprintf(f, "\n[store]\n%s\n", line);
	fclose(f);
	net_run(&r, "id", "-d", n->dir, NULL);
	cr_assert_neq(r.status, 0, "%s was taken", line);
	cr_assert(net_has(r.err, want), "%s: %s", line, r.err);
	net_run_free(&r);
}

Test(sync_store_grow, store_settings_are_checked)
{
	struct net_node *a = net_node_init("a", "xiamen", true, false);
	struct net_node *b = net_node_init("b", "xiamen", true, false);
	struct net_node *c = net_node_init("c", "xiamen", true, false);
	struct net_run r;

	refused(a, "map_max = lots", "[store] map_max must be a size");
	refused(b, "map_size = 8G\nmap_max = 4G", "map_size (8589934592 bytes) is above map_max (4294967296 bytes)");
	net_node_set_map_max(c, "16M");
	net_run(&r, "metrics", "-d", c->dir, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(net_has(r.out, "\nstrata_store_map_max_bytes 16777216\n"), "%s", r.out);
	/* created before the ceiling with the default map: that stays (LMDB
	 * records it in data.mdb), it only no longer grows */
	cr_assert(net_has(r.out, "\nstrata_store_map_bytes 68719476736\n"), "%s", r.out);
	net_run_free(&r);
}
