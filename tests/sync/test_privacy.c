/* SPDX-License-Identifier: MIT */
/*
 * sync_privacy: a resident's contact (name and phone number) entered with a
 * request at a branch stays at the branch; the street and the city above
 * it get the request and its progress, and not one byte of the contact in
 * their data.mdb. [privacy] contact_levels = 2 on the branch and the
 * street lets it reach the city. A report's request figures are the same
 * either way; erasing the request erases the contact at the branch.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

TestSuite(sync_privacy, .init = net_setup, .fini = net_teardown);

#define PHONE "13912345678"
#define NAME "王秀英"
#define PHONE2 "13787654321"

/* The request `id` as `request list --json` at n shows it, or NULL. */
static json_t *listed(const struct net_node *n, const char *id)
{
	struct net_run r;
	json_t *l, *v, *found = NULL;
	size_t i;

	net_run(&r, "request", "list", "-d", n->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	l = net_run_json(&r);
	json_array_foreach(l, i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
			found = v;
	net_run_free(&r);
	return found;
}

static bool status_is(const struct net_node *n, const char *id, const char *status)
{
	json_t *j = listed(n, id);

	return j && strcmp(json_string_value(json_object_get(j, "status")), status) == 0;
}

static void set_levels(struct net_node *n, const char *levels)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof path, "%s/strata.conf", n->dir);
	cr_assert_not_null(f = fopen(path, "a"));
	fprintf(f, "\n[privacy]\ncontact_levels = %s\n", levels);
	fclose(f);
}

Test(sync_privacy, contact_stays_at_the_branch_unless_configured)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("street", "xiamen/siming", false, true);
	struct net_node *branch = net_node_init("branch", "xiamen/siming/lujiang", false, false);
	struct net_node *above[] = {street, city};
	struct net_run r;
	json_t *j;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_start(street);
	net_node_join(branch, street, NULL);
	net_node_start(branch);
	net_ok("request", "add", "-d", branch->dir, "--id", "R1", "--title", "楼道灯坏了", "--contact", NAME " " PHONE,
	       "--opened", "2026-11-02", "--status", "open", NULL);
	net_ok("request", "update", "-d", branch->dir, "--id", "R1", "--status", "in-progress", "--notes",
	       "2026-11-03: 已派电工", NULL);
	net_ok("report", "submit", "-d", branch->dir, "--period", "2026-11", NULL);
	NET_WAIT(NET_DEADLINE_MS, status_is(city, "R1", "in-progress"), "the city to see R1 in progress");
	NET_WAIT(NET_DEADLINE_MS, status_is(street, "R1", "in-progress"), "the street to see R1 in progress");

	/* the branch keeps the contact; the levels above see the progress only */
	cr_assert_gt(net_store_count(branch, PHONE), 0, "the phone is not in the branch's store: the test cannot fail");
	j = listed(branch, "R1");
	cr_assert_str_eq(json_string_value(json_object_get(j, "contact")), NAME " " PHONE);
	net_run(&r, "request", "show", "-d", branch->dir, "--id", "R1", NULL);
	cr_assert(net_has(r.out, PHONE), "show at the branch: %s", r.out);
	net_run_free(&r);
	for (size_t i = 0; i < 2; i++) {
		j = listed(above[i], "R1");
		cr_assert_null(json_object_get(j, "contact"), "%s lists a contact", above[i]->label);
		cr_assert_eq(json_array_size(json_object_get(j, "notes")), 1, "%s does not see the progress note",
			     above[i]->label);
		cr_assert_eq(net_store_count(above[i], PHONE), 0, "the phone is in %s's data.mdb", above[i]->label);
		cr_assert_eq(net_store_count(above[i], NAME), 0, "the resident's name is in %s's data.mdb", above[i]->label);
	}
	/* the report's request figures are recomputed above from the up feed alone */
	net_run(&r, "report", "show", "-d", city->dir, "--period", "2026-11", "--tree", "--json", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "\"check\": \"matches\""), "the branch's report at the city: %s%s",
		  r.out, r.err);
	net_run_free(&r);
	/* a bundle leaves the contact out unless asked */
	{
		char file[256];

		net_ok("export", "-d", branch->dir, "-o", net_path(file, "branch.bundle"), NULL);
		net_run(&r, "export", "-d", branch->dir, "-o", file, NULL);
		net_run_free(&r);
		cr_assert(!net_has(net_own(net_read_file(file), free), PHONE), "the phone is in a default bundle");
	}

	/* configured: two levels up, set on the branch and on the street */
	net_node_stop(branch);
	net_node_stop(street);
	set_levels(branch, "2");
	set_levels(street, "2");
	net_node_start(street);
	net_node_start(branch);
	net_ok("request", "add", "-d", branch->dir, "--id", "R2", "--title", "漏水", "--contact", "李先生 " PHONE2,
	       "--opened", "2026-11-05", "--status", "open", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_store_count(city, PHONE2) > 0, "the contact of R2 to reach the city");
	NET_WAIT(NET_DEADLINE_MS, (j = listed(city, "R2")) && json_object_get(j, "contact"),
		 "the city to list R2's contact");
	cr_assert_gt(net_store_count(street, PHONE2), 0);

	/* erasing the request erases its contact with it */
	net_ok("erase", "-d", branch->dir, "--collection", "request", "--key", "R1", NULL);
	cr_assert_eq(net_store_count(branch, PHONE), 0, "the phone is in the branch's data.mdb after the erase");
	NET_WAIT(NET_DEADLINE_MS, net_store_count(city, PHONE) == 0 && net_store_count(city, NAME) == 0,
		 "the contact of R1, which travelled once allowed, to leave the city's store");
	net_stop_all();
	net_run(&r, "verify", "-d", branch->dir, NULL);
	cr_assert_eq(r.status, 0, "verify at the branch: %s%s", r.out, r.err);
	net_run_free(&r);
}
