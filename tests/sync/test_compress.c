/* SPDX-License-Identifier: MIT */
/*
 * sync_compress: batches of entries go zstd-compressed to a parent that
 * reads them (its Hello accepts "zstd") from a street whose strata.conf says
 * [sync] compress = zstd, and as they are from one that says none, and from
 * one left at auto (the default), since its parent is on 127.0.0.1. Either
 * way every entry arrives exactly: the same heads, the same members, and
 * verify passes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_compress, .init = net_setup, .fini = net_teardown);

/* The street's parent link in its `strata status --json` (owned by the fixture). */
static json_t *parent_link(const struct net_node *n)
{
	json_t *st = net_node_status(n), *v;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(st, "daemon"), "links"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "kind")), "parent") == 0)
			return v;
	cr_assert_fail("%s's status shows no parent link: %s", n->label, json_dumps(st, 0));
	return NULL;
}

static void set_compress(const struct net_node *n, const char *v)
{
	char conf[300];
	FILE *f;

	snprintf(conf, sizeof conf, "%s/strata.conf", n->dir);
	cr_assert_not_null(f = fopen(conf, "a"));
	fprintf(f, "\n[sync]\ncompress = %s\n", v);
	fclose(f);
}

static long long num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

Test(sync_compress, batches_go_compressed_as_the_config_says)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *a = net_node_init("a", "xiamen/a", false, false);
	struct net_node *b = net_node_init("b", "xiamen/b", false, false);
	struct net_node *c = net_node_init("c", "xiamen/c", false, false);
	struct net_node *streets[3] = {a, b, c};
	char csv[256], out[2048];
	json_t *la, *lb, *lc;

	net_node_start(city);
	net_gen_members(net_path(csv, "members.csv"), 1500, "M", 7);
	for (int i = 0; i < 3; i++) {
		net_node_join(streets[i], city, NULL);
		/* one-op change sets: batches of many small entries */
		net_node_set_ops(streets[i], 1);
		net_ok("member", "import", "-d", streets[i]->dir, csv, NULL);
		cr_assert_eq(net_head(streets[i], streets[i]->key, FEED_UP, NULL), 1500);
	}
	set_compress(a, "zstd");
	set_compress(b, "none");
	for (int i = 0; i < 3; i++)
		net_node_start(streets[i]);
	for (int i = 0; i < 3; i++) {
		NET_WAIT(NET_DEADLINE_MS, net_head(city, streets[i]->key, FEED_UP, NULL) == 1500,
			 "the city to hold %s's 1,500 entries", streets[i]->label);
		cr_assert_eq(net_count(city, "member", streets[i]->key), 1500);
	}

	la = parent_link(a);
	lb = parent_link(b);
	lc = parent_link(c);
	cr_assert(json_is_true(json_object_get(la, "zstd")), "a does not compress to the city");
	cr_assert(json_is_false(json_object_get(lb, "zstd")), "b compresses although its config says none");
	cr_assert(json_is_false(json_object_get(lc, "zstd")), "c compresses on a loopback link with compress = auto");
	cr_assert_gt(num(la, "batch_bytes"), 1500 * 100, "a sent %lld bytes of batches", num(la, "batch_bytes"));
	cr_assert_lt(num(la, "batch_wire_bytes"), num(la, "batch_bytes") * 9 / 10,
		     "a's batches did not get smaller: %lld of %lld bytes", num(la, "batch_wire_bytes"),
		     num(la, "batch_bytes"));
	cr_assert_eq(num(lb, "batch_wire_bytes"), num(lb, "batch_bytes"), "b's batches were changed on the wire");
	cr_assert_eq(num(lc, "batch_wire_bytes"), num(lc, "batch_bytes"), "c's batches were changed on the wire");
	cr_assert_gt(num(lb, "batch_bytes"), 1500 * 100);

	net_stop_all();
	cr_assert_eq(net_node_verify(city, out, sizeof out), 0, "verify city: %s", out);
}

Test(sync_compress, a_bad_compress_setting_is_refused)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	char conf[300];
	struct net_run r;
	FILE *f;

	snprintf(conf, sizeof conf, "%s/strata.conf", city->dir);
	cr_assert_not_null(f = fopen(conf, "a"));
	fputs("\n[sync]\ncompress = gzip\n", f);
	fclose(f);
	net_run(&r, "serve", "-d", city->dir, NULL);
	cr_assert_neq(r.status, 0, "serve started with compress = gzip");
	cr_assert(net_has(r.err, "sync compress must be auto, zstd or none, not \"gzip\""), "%s", r.err);
	net_run_free(&r);
}
