/* SPDX-License-Identifier: MIT */
/*
 * sync_verdicts: `strata verify` and `strata audit` give a usable verdict,
 * the same one, on the stores real operations leave (issue 11, items 5, 6).
 *
 * Erase under a report: a street's member (with a phone number) is counted
 * by a report, then erased. The report is still recomputed from the entries
 * it names, through the residue the erase request keeps of the value (the
 * fields the figures read, no phone): `audit` passes at the street, at the
 * city after replication and on a bundle the city exports, lists the erased
 * values as ERASED, and the phone is in no store. It exited 4 ("No data
 * available") before.
 *
 * Equivocation: a street copied and written twice signs two up entries for
 * one seq; the city imports both bundles and keeps the proof. `verify` and
 * `audit` of the city then both fail (exit 3) naming the same place; verify
 * passed it before.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"

TestSuite(sync_verdicts, .init = net_setup, .fini = net_teardown);

#define PHONE "13912345678"

static const char *now_as(char out[32], const char *fmt)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 32, fmt, &tm);
	return out;
}

static bool caught_up(const struct net_node *n, const struct net_node *of, const char *feed)
{
	return net_head(n, of->key, feed, NULL) == net_head(of, of->key, feed, NULL);
}

/* How many times PHONE is in n's data.mdb. */
static size_t phone_in(const struct net_node *n)
{
	return net_store_count(n, PHONE);
}

/* `strata audit TARGET --root ROOT --json` (-d when dir) passes with no
 * report left unchecked, at least `reports` recomputed, and lists member
 * "M1" of author as erased at up #1 and #3. */
static void assert_audits_erased(const char *target, bool dir, const struct net_node *root,
				 const struct net_node *author, size_t reports)
{
	struct net_run r;
	json_t *j, *x;
	size_t i, found = 0;

	if (dir)
		net_run(&r, "audit", "-d", target, "--root", root->hex, "--json", NULL);
	else
		net_run(&r, "audit", target, "--root", root->hex, "--json", NULL);
	cr_assert_eq(r.status, 0, "audit of %s: exit %d\n%s%s", target, r.status, r.out, r.err);
	j = net_run_json(&r);
	cr_assert(json_is_true(json_object_get(j, "ok")), "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "failure_count")), 0, "%s", r.out);
	cr_assert_geq(json_integer_value(json_object_get(j, "reports")), (json_int_t)reports,
		      "audit of %s recomputed too few reports: %s", target, r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "reports_unchecked")), 0, "%s", r.out);
	json_array_foreach(json_object_get(j, "erased"), i, x) {
		uint64_t seq = (uint64_t)json_integer_value(json_object_get(x, "seq"));

		if (strcmp(json_string_value(json_object_get(x, "author")), author->hex) == 0 &&
		    strcmp(json_string_value(json_object_get(x, "collection")), "member") == 0 &&
		    strcmp(json_string_value(json_object_get(x, "key")), "M1") == 0 && (seq == 1 || seq == 3))
			found++;
	}
	cr_assert_eq(found, 2, "audit of %s does not list member M1's two values as erased: %s", target, r.out);
	net_release(j);
	net_run_free(&r);

	if (dir)
		net_run(&r, "audit", "-d", target, "--root", root->hex, NULL);
	else
		net_run(&r, "audit", target, "--root", root->hex, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(net_has(r.out, "ERASED ") && net_has(r.out, "the value of member \"M1\"") &&
		  net_has(r.out, "; 0 failures"), "%s", r.out);
	net_run_free(&r);
}

Test(sync_verdicts, report_over_an_erased_value_audits_clean)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("hetong", "xiamen/hetong", false, false);
	char period[32], today[32], file[256];
	struct net_run r;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_start(street);
	now_as(period, "%Y-%m");
	now_as(today, "%Y-%m-%d");
	/* M1 counts as new, then as lapsed; M2 stays. */
	net_ok("member", "add", "-d", street->dir, "--id", "M1", "--name", "王小明", "--category", "probationary",
	       "--joined", today, "--phone", PHONE, NULL);
	net_ok("member", "add", "-d", street->dir, "--id", "M2", "--name", "李华", "--category", "full", "--joined",
	       "2019-03-12", NULL);
	net_ok("member", "update", "-d", street->dir, "--id", "M1", "--status", "lapsed", NULL);
	net_ok("report", "submit", "-d", street->dir, "--period", period, NULL);
	NET_WAIT(NET_DEADLINE_MS, caught_up(city, street, FEED_REPORT) && caught_up(city, street, FEED_UP),
		 "the street's report at the city");
	net_ok("report", "submit", "-d", city->dir, "--period", period, NULL);

	net_ok("erase", "-d", street->dir, "--collection", "member", "--key", "M1", "--reason", "asked", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_head(city, street->key, FEED_UP, NULL) == 4, "the erase request at the city");
	NET_WAIT(NET_DEADLINE_MS, phone_in(city) == 0 && phone_in(street) == 0, "the phone to leave both stores");
	net_stop_all();

	/* The report at the city still matches a recomputation. */
	net_run(&r, "report", "show", "-d", city->dir, "--period", period, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	cr_assert(net_has(r.out, "\"matches\""), "the street's report is not recomputed at the city:\n%s", r.out);
	net_run_free(&r);

	assert_audits_erased(street->dir, true, city, street, 1);
	assert_audits_erased(city->dir, true, city, street, 2);
	net_ok("export", "-d", city->dir, "-o", net_path(file, "city.bundle"), NULL);
	assert_audits_erased(file, false, city, street, 2);
	cr_assert_eq(net_node_verify(city, NULL, 0), 0);
	cr_assert_eq(net_node_verify(street, NULL, 0), 0);
}

static void add_member(const struct net_node *n, const char *dir, const char *id)
{
	(void)n;
	net_ok("member", "add", "-d", dir, "--id", id, "--name", "黄志明", "--category", "full", "--joined",
	       "2019-03-12", NULL);
}

/* Runs `strata CMD -d DIR [--root ROOT] --json`: asserts exit 3 and a
 * failure at (author, up, seq) saying "equivocation"; and the text form
 * prints the same FAIL line. */
static void assert_equivocation_fails(const char *cmd, const struct net_node *n, const struct net_node *root,
				      const struct net_node *author, uint64_t seq)
{
	struct net_run r;
	json_t *j, *f;
	char line[128];
	size_t i;
	bool found = false;

	if (root)
		net_run(&r, cmd, "-d", n->dir, "--root", root->hex, "--json", NULL);
	else
		net_run(&r, cmd, "-d", n->dir, "--json", NULL);
	cr_assert_eq(r.status, 3, "%s of %s: exit %d, expected 3\n%s%s", cmd, n->label, r.status, r.out, r.err);
	j = net_run_json(&r);
	cr_assert(json_is_false(json_object_get(j, "ok")), "%s", r.out);
	json_array_foreach(json_object_get(j, "failures"), i, f) {
		const char *a = json_string_value(json_object_get(f, "author"));

		if (a && strcmp(a, author->hex) == 0 && strcmp(json_string_value(json_object_get(f, "feed")), "up") == 0 &&
		    (uint64_t)json_integer_value(json_object_get(f, "seq")) == seq &&
		    net_has(json_string_value(json_object_get(f, "reason")), "equivocation"))
			found = true;
	}
	cr_assert(found, "%s of %s lists no equivocation at up #%llu: %s", cmd, n->label, (unsigned long long)seq, r.out);
	net_release(j);
	net_run_free(&r);

	snprintf(line, sizeof line, "FAIL %.16s…/up #%llu: equivocation: author xiamen/zhonghua (%.16s…) signed two entries at up #%llu",
		 author->hex, (unsigned long long)seq, author->hex, (unsigned long long)seq);
	if (root)
		net_run(&r, cmd, "-d", n->dir, "--root", root->hex, NULL);
	else
		net_run(&r, cmd, "-d", n->dir, NULL);
	cr_assert_eq(r.status, 3, "%s", r.out);
	cr_assert(net_has(r.out, line), "%s of %s does not print \"%s\":\n%s", cmd, n->label, line, r.out);
	net_run_free(&r);
}

Test(sync_verdicts, verify_and_audit_agree_on_an_equivocation)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *street = net_node_init("street", "xiamen/zhonghua", false, false);
	char copy[256], file[256], forked[256];
	struct net_run r;

	net_node_start(city);
	net_node_join(street, city, NULL);
	net_node_stop(city);
	add_member(street, street->dir, "ZH000001");
	add_member(street, street->dir, "ZH000002");
	net_copy_tree(street->dir, net_path(copy, "street-copy"));
	add_member(street, street->dir, "ZH000003"); /* up #3 */
	add_member(street, copy, "ZH000004");        /* another up #3, same key */
	net_ok("export", "-d", street->dir, "-o", net_path(file, "street.bundle"), NULL);
	net_ok("export", "-d", copy, "-o", net_path(forked, "forked.bundle"), NULL);

	/* Before: a clean store, both pass. */
	net_ok("import", "-d", city->dir, file, NULL);
	cr_assert_eq(net_node_verify(city, NULL, 0), 0);
	net_ok("audit", "-d", city->dir, "--root", city->hex, NULL);

	net_run(&r, "import", "-d", city->dir, forked, NULL);
	cr_assert_eq(r.status, 2, "the fork imported: exit %d %s", r.status, r.err);
	net_run_free(&r);
	assert_equivocation_fails("verify", city, NULL, street, 3);
	assert_equivocation_fails("audit", city, city, street, 3);
}

/* A crossing: the old branch erases a released member's record and the
 * release that copied it. The transfer's steps still fit together in the
 * audit (the acceptance names a release whose residue the erase request
 * keeps) and the report that counted the release is recomputed. (The
 * forward the city wrote copies the member too: only the city can erase
 * that one, docs/PROTOCOL.md "Erasure", Limits.) */
Test(sync_verdicts, erase_of_a_transferred_member_audits_clean)
{
	struct net_node *city = net_node_init("city", "xiamen", true, true);
	struct net_node *a = net_node_init("hetong", "xiamen/hetong", false, false);
	struct net_node *b = net_node_init("jinshan", "xiamen/jinshan", false, false);
	char period[32], today[32], day[32], id[64];

	net_node_start(city);
	net_node_join(a, city, NULL);
	net_node_join(b, city, NULL);
	net_node_start(a);
	net_node_start(b);
	now_as(period, "%Y-%m");
	now_as(today, "%Y-%m-%d");
	net_ok("member", "add", "-d", a->dir, "--id", "M1", "--name", "王小明", "--category", "full", "--joined",
	       "2020-05-01", "--phone", PHONE, NULL);
	net_ok("member", "add", "-d", a->dir, "--id", "M2", "--name", "李华", "--category", "full", "--joined",
	       "2019-03-12", NULL);
	snprintf(id, sizeof id, "M1-%s", now_as(day, "%Y%m%d"));
	NET_WAIT(NET_DEADLINE_MS, net_has_cert(a, b->key), "hetong to know jinshan's certificate");
	net_ok("transfer", "release", "-d", a->dir, "--member", "M1", "--to", b->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(b, "forward", city->key) == 1, "the forward to reach jinshan");
	net_ok("transfer", "accept", "-d", b->dir, "--id", id, "--from", a->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, caught_up(city, b, FEED_UP), "the acceptance at the city");
	net_ok("report", "submit", "-d", a->dir, "--period", period, NULL); /* counts the release */
	NET_WAIT(NET_DEADLINE_MS, caught_up(city, a, FEED_REPORT) && caught_up(city, a, FEED_UP),
		 "hetong's report at the city");

	net_ok("erase", "-d", a->dir, "--collection", "release", "--key", id, NULL);
	net_ok("erase", "-d", a->dir, "--collection", "member", "--key", "M1", NULL);
	NET_WAIT(NET_DEADLINE_MS, caught_up(city, a, FEED_UP), "the erase requests at the city");
	net_stop_all();

	{
		struct net_run r;
		json_t *j;

		net_run(&r, "audit", "-d", city->dir, "--root", city->hex, "--json", NULL);
		cr_assert_eq(r.status, 0, "audit of the city: exit %d\n%s%s", r.status, r.out, r.err);
		j = net_run_json(&r);
		cr_assert_eq(json_integer_value(json_object_get(j, "failure_count")), 0, "%s", r.out);
		cr_assert_geq(json_integer_value(json_object_get(j, "transfers")), 2, "%s", r.out);
		cr_assert_geq(json_integer_value(json_object_get(j, "reports")), 1, "%s", r.out);
		cr_assert_eq(json_integer_value(json_object_get(j, "reports_unchecked")), 0, "%s", r.out);
		cr_assert_geq(json_integer_value(json_object_get(j, "erased_values")), 2, "%s", r.out);
		net_release(j);
		net_run_free(&r);
		net_run(&r, "audit", "-d", a->dir, "--root", city->hex, NULL);
		cr_assert_eq(r.status, 0, "audit of hetong: exit %d\n%s%s", r.status, r.out, r.err);
		net_run_free(&r);
	}
}
