/* SPDX-License-Identifier: MIT */
/*
 * Democratic appraisal (node/records/appraisal.c), end to end: the proof
 * that a record type is its message and one file (issue 13). Two branches
 * under a street record appraisals of their members and of themselves;
 * their reports carry the distribution by grade, the street's rolls both up,
 * and an appraisal erased after its branch reported still lets a node that
 * never saw it recompute that report from the erase request's residue, and
 * `strata audit` pass. Feeds move as bundles (no daemon after the joins).
 *
 * `strata appraisal ...` comes from the registry (the CLI's command table
 * iterates it): records are written with it; the refusals are checked
 * through the library calls it makes (record_set, record_check_input) to
 * compare the errno as well as the reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "net.h"
#include "node/core/node.h"
#include "node/records/records.h"

#define PERIOD "2026-11"

TestSuite(sync_appraisal, .init = net_setup, .fini = net_teardown);

static bool cli_has_appraisal(void)
{
	struct net_run r;
	bool ok;

	net_run(&r, "appraisal", "--help", NULL);
	ok = r.status == 0;
	net_run_free(&r);
	cr_assert(ok, "strata appraisal: no such command (the CLI's table lists every registered type)");
	return ok;
}

/* Writes an appraisal at x through the library, as the generic command
 * does: 0, or the -errno of the rules (e says which). */
static int lib_add(const struct net_node *x, const char *const *kv, struct err *e)
{
	const struct record_type *t = record_type_find("appraisal");
	ProtobufCMessage *m = record_new(t);
	struct node *n = NULL;
	struct node_writer *w = NULL;
	char key[LIMIT_KEY_BYTES + 1];
	uint8_t buf[512];
	size_t len;
	int ret = 0;

	cr_assert(t && m);
	cr_assert_eq(keys_init(), 0);
	for (; *kv && ret == 0; kv += 2)
		ret = record_set(t, m, record_field_find(t, kv[0]), kv[1], e);
	cr_assert_eq(node_open(&n, x->dir, 0, e), 0, "%s", e->msg);
	cr_assert_eq(node_writer_begin(n, FEED_UP, &w, e), 0, "%s", e->msg);
	if (ret == 0)
		ret = record_check_input(t, m, node_writer_txn(w), (const uint8_t(*)[32])node_id(n), 1, e);
	if (ret == 0 && (ret = record_key(t, m, key, sizeof key, e)) == 0) {
		len = protobuf_c_message_get_packed_size(m);
		cr_assert(len <= sizeof buf);
		protobuf_c_message_pack(m, buf);
		ret = node_writer_put(w, "appraisal", (const uint8_t *)key, strlen(key), buf, len, e);
		if (ret == 0)
			ret = node_writer_commit(&w, NULL, NULL, e);
	}
	node_writer_abort(&w);
	node_close(&n);
	record_free(m);
	return ret;
}

/* One appraisal held on 2026-11-05, its votes "E,Q,B,U". */
static void add(const struct net_node *x, const char *subject, const char *grade, const char *votes)
{
	char v[4][16];

	cr_assert_eq(sscanf(votes, "%15[^,],%15[^,],%15[^,],%15s", v[0], v[1], v[2], v[3]), 4);
	net_ok("appraisal", "add", "-d", x->dir, "--year", "2026", "--subject", subject, "--grade", grade,
	       "--votes_excellent", v[0], "--votes_qualified", v[1], "--votes_basically_qualified", v[2],
	       "--votes_unqualified", v[3], "--date", "2026-11-05", NULL);
}

/* An appraisal of YEAR the rules refuse with want and msg. */
static void refused(const struct net_node *x, const char *year, const char *subject, const char *grade,
		    const char *ve, const char *date, int want, const char *msg)
{
	const char *kv[] = {"year", year, "subject", subject, "grade", grade, "votes_excellent", ve,
			    "votes_qualified", "3", "votes_basically_qualified", "0", "votes_unqualified", "0",
			    "date", date, NULL};
	struct err e = {0};

	cr_assert_eq(lib_add(x, kv, &e), want, "%s: %s", msg, e.msg);
	cr_assert(net_has(e.msg, msg), "expected \"%s\", got \"%s\"", msg, e.msg);
}

/* strata appraisal import, list and export (the generic record command):
 * a CSV row of 2025 imported, listed with the rest, exported back. */
static void cli_import_list_export(const struct net_node *a)
{
	const char *row = "2025,A2,qualified,1,5,0,0,2025-12-01";
	char csv[256], out[256], data[512];
	struct net_run r;
	FILE *f;

	snprintf(data, sizeof data,
		 "year,subject,grade,votes_excellent,votes_qualified,votes_basically_qualified,votes_unqualified,date\n%s\n",
		 row);
	cr_assert_not_null(f = fopen(net_path(csv, "appraisal.csv"), "w"));
	fputs(data, f);
	fclose(f);
	net_ok("appraisal", "import", "-d", a->dir, csv, NULL);
	net_run(&r, "appraisal", "list", "-d", a->dir, "--json", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "\"2025\"") && net_has(r.out, "\"branch\"") &&
			  net_has(r.out, "\"basically-qualified\""),
		  "appraisal list: exit %d\n%s%s", r.status, r.out, r.err);
	net_run_free(&r);
	net_ok("appraisal", "export", "-d", a->dir, "-o", net_path(out, "appraisal-out.csv"), NULL);
	cr_assert(net_has(net_own(net_read_file(out), free), row), "the export lacks the imported row");
}

/* The "own" or "total" figures of `strata report submit --json` at x. */
static json_t *submit(const struct net_node *x)
{
	struct net_run r;
	json_t *j;

	net_run(&r, "report", "submit", "-d", x->dir, "--period", PERIOD, "--json", NULL);
	cr_assert_eq(r.status, 0, "report submit at %s: %s", x->label, r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	return j;
}

static void expect_fig(json_t *f, const char *name, long long want, const char *where)
{
	json_t *v = json_object_get(f, name);

	cr_expect_eq(v ? json_integer_value(v) : 0, want, "%s: %s is %lld, expected %lld", where, name,
		     v ? (long long)json_integer_value(v) : 0, want);
}

static void members(const struct net_node *x, const char *const *ids)
{
	for (; *ids; ids++)
		net_ok("member", "add", "-d", x->dir, "--id", *ids, "--name", "N", "--category", "full", "--joined",
		       "2020-01-01", NULL);
}

Test(sync_appraisal, branches_report_the_distribution_the_street_rolls_up_and_an_erase_keeps_it_checkable)
{
	struct net_node *street = net_node_init("street", "xiamen", true, true);
	struct net_node *a = net_node_init("a", "xiamen/a", false, false), *b = net_node_init("b", "xiamen/b", false, false);
	struct net_node fresh;
	char bundle[256], after[256];
	json_t *j;
	struct net_run r;

	net_node_start(street);
	net_node_join(a, street, NULL);
	net_node_join(b, street, NULL);
	net_node_stop(street); /* from here on, files only */
	members(a, (const char *const[]){"A1", "A2", "A3", NULL});
	members(b, (const char *const[]){"B1", "B2", NULL});
	refused(a, "2026", "A1", "unqualified", "9", "2026-11-05", -EINVAL, "the grade it gives received no vote");
	refused(a, "2026", "Z9", "excellent", "9", "2026-11-05", -ESRCH, "member Z9 is not in this branch's registry");
	refused(a, "2026", "A1", "excellent", "9", "2025-11-05", -EINVAL, "not in its year");
	{
		/* the last day of this year, in the future unless today is it */
		char today[11], last[11], year[5];

		date_today(today);
		snprintf(last, sizeof last, "%.4s-12-31", today);
		snprintf(year, sizeof year, "%.4s", today);
		if (strcmp(today, last) < 0)
			refused(a, year, "A1", "excellent", "9", last, -EINVAL, "in the future");
	}
	add(a, "A1", "excellent", "10,2,0,0");
	add(a, "A2", "qualified", "1,11,0,0");
	add(a, "A3", "basically-qualified", "0,3,8,1");
	add(a, "branch", "excellent", "9,3,0,0");
	cli_has_appraisal();
	cli_import_list_export(a);
	add(b, "B1", "excellent", "7,1,0,0");
	add(b, "B2", "unqualified", "0,0,2,6");
	add(b, "branch", "qualified", "2,6,0,0");

	j = submit(a);
	expect_fig(json_object_get(j, "own"), "appraisal_excellent", 1, "a");
	expect_fig(json_object_get(j, "own"), "appraisal_qualified", 1, "a");
	expect_fig(json_object_get(j, "own"), "appraisal_basically_qualified", 1, "a");
	expect_fig(json_object_get(j, "own"), "appraisal_unqualified", 0, "a");
	expect_fig(json_object_get(j, "own"), "branch_appraisal_excellent", 1, "a");
	net_release(j);
	net_release(submit(b));

	net_copy_tree(street->dir, net_path(bundle, "fresh")); /* a street that will never see A1's value */
	for (int i = 0; i < 2; i++) {
		net_ok("export", "-d", (i ? b : a)->dir, "-o", net_path(bundle, i ? "b.bundle" : "a.bundle"), NULL);
		net_ok("import", "-d", street->dir, bundle, NULL);
	}
	j = submit(street);
	expect_fig(json_object_get(j, "total"), "appraisal_excellent", 2, "street total");
	expect_fig(json_object_get(j, "total"), "appraisal_qualified", 1, "street total");
	expect_fig(json_object_get(j, "total"), "appraisal_basically_qualified", 1, "street total");
	expect_fig(json_object_get(j, "total"), "appraisal_unqualified", 1, "street total");
	expect_fig(json_object_get(j, "total"), "branch_appraisal_excellent", 1, "street total");
	expect_fig(json_object_get(j, "total"), "branch_appraisal_qualified", 1, "street total");
	expect_fig(json_object_get(j, "own"), "appraisal_excellent", 0, "street own");
	net_release(j);
	net_run(&r, "report", "show", "-d", street->dir, "--period", PERIOD, NULL);
	cr_assert(r.status == 0 && net_has(r.out, "appraisal_excellent 2, appraisal_qualified 1") &&
			  net_has(r.out, "branch_appraisal_excellent 1, branch_appraisal_qualified 1") &&
			  !net_has(r.out, "mismatch"),
		  "report show at the street: exit %d\n%s%s", r.status, r.out, r.err);
	net_run_free(&r);

	/* A1's appraisal is erased after a reported it; a street that never
	 * saw the value recomputes a's report from the residue. */
	net_ok("erase", "-d", a->dir, "--collection", "appraisal", "--key", "2026/A1", NULL);
	net_ok("export", "-d", a->dir, "-o", net_path(after, "after.bundle"), NULL);
	fresh = *street;
	snprintf(fresh.label, sizeof fresh.label, "fresh");
	net_path(fresh.dir, "fresh");
	net_ok("import", "-d", fresh.dir, after, NULL);
	net_run(&r, "report", "show", "-d", fresh.dir, "--period", PERIOD, "--tree", "--json", NULL);
	cr_assert(r.status == 0 && net_has(r.out, "\"check\": \"matches\"") && !net_has(r.out, "mismatch"),
		  "a's report at a street that never saw A1's appraisal: %s%s", r.out, r.err);
	net_run_free(&r);
	net_run(&r, "audit", "-d", fresh.dir, "--root", street->hex, NULL);
	cr_assert(r.status == 0 && net_has(r.out, "1 reports recomputed; 0 failures"), "audit: exit %d\n%s%s", r.status,
		  r.out, r.err);
	net_run_free(&r);
	net_stop_all();
}
