/* SPDX-License-Identifier: MIT */
/*
 * node_cli_member: `strata member add|update|show|list` through the real
 * binary. Fields round-trip through the store; every refused input exits 2
 * and leaves the log (strata log --json) exactly as it was.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run.h"

static void setup(void)
{
	test_tmp_make();
	node_init("xiamen/huli/hetong");
}

TestSuite(node_cli_member, .init = setup, .fini = test_tmp_remove);

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Runs member show --id ID --json, asserting exit 0; caller decrefs. */
static json_t *show(const char *id)
{
	struct run r;
	json_t *j;

	run_strata(&r, "member", "show", "-d", test_node, "--id", id, "--json", NULL);
	cr_assert_eq(r.status, 0, "show %s: exit %d: %s", id, r.status, r.err);
	j = run_json(&r);
	run_free(&r);
	return j;
}

static void add_ok(const char *id, const char *name, const char *status)
{
	struct run r;

	run_strata(&r, "member", "add", "-d", test_node, "--id", id, "--name", name, "--category", "full", "--joined",
		   "2019-03-04", "--status", status, NULL);
	cr_assert_eq(r.status, 0, "add %s: exit %d: %s", id, r.status, r.err);
	run_free(&r);
}

/* A date n days from now (UTC), YYYY-MM-DD. */
static void date_in_days(char out[11], int n)
{
	time_t t = time(NULL) + (time_t)n * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static void assert_full_member(json_t *j)
{
	cr_assert_str_eq(str(j, "id"), "M-001.a");
	cr_assert_str_eq(str(j, "name"), "王秀英 (Wang Xiuying)");
	cr_assert_str_eq(str(j, "category"), "probationary");
	cr_assert_str_eq(str(j, "status"), "lapsed");
	cr_assert_str_eq(str(j, "joined"), "2001-02-28");
	cr_assert_str_eq(str(j, "phone"), "+86 139-1234-5678");
	cr_assert_str_eq(str(j, "birth"), "1970-05-06");
	cr_assert_str_eq(str(j, "gender"), "female");
	cr_assert_str_eq(str(j, "address"), "思明区中山路 12号, Xiamen");
}

Test(node_cli_member, add_show_list_round_trip_every_field)
{
	struct run r;
	json_t *j, *a;

	run_strata(&r, "member", "add", "-d", test_node, "--id", "M-001.a", "--name", "王秀英 (Wang Xiuying)",
		   "--category", "probationary", "--status", "lapsed", "--joined", "2001-02-28", "--phone",
		   "+86 139-1234-5678", "--birth", "1970-05-06", "--gender", "female", "--address",
		   "思明区中山路 12号, Xiamen", "--json", NULL);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	j = run_json(&r);
	assert_full_member(j);
	cr_assert_str_eq(str(j, "feed"), "up");
	cr_assert_eq(json_integer_value(json_object_get(j, "seq")), 1);
	json_decref(j);
	run_free(&r);

	j = show("M-001.a");
	assert_full_member(j);
	cr_assert_str_eq(str(j, "feed"), "up");
	cr_assert_eq(json_integer_value(json_object_get(j, "seq")), 1);
	json_decref(j);

	run_strata(&r, "member", "show", "-d", test_node, "--id", "M-001.a", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "name:      王秀英 (Wang Xiuying)\n"), "%s", r.out);
	cr_assert(has(r.out, "phone:     +86 139-1234-5678\n"), "%s", r.out);
	cr_assert(has(r.out, "address:   思明区中山路 12号, Xiamen\n"), "%s", r.out);
	cr_assert(has(r.out, "written:   up #1"), "%s", r.out);
	run_free(&r);

	run_strata(&r, "member", "list", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	a = run_json(&r);
	cr_assert_eq(json_array_size(a), 1);
	assert_full_member(json_array_get(a, 0));
	json_decref(a);
	run_free(&r);

	/* the write is one signed entry of feed up with one put */
	run_strata(&r, "log", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	a = run_json(&r);
	cr_assert_eq(json_array_size(a), 1);
	j = json_array_get(a, 0);
	cr_assert_str_eq(str(j, "feed"), "up");
	cr_assert_eq(json_integer_value(json_object_get(j, "seq")), 1);
	cr_assert_eq(json_array_size(json_object_get(j, "ops")), 1);
	j = json_array_get(json_object_get(j, "ops"), 0);
	cr_assert_str_eq(str(j, "kind"), "put");
	cr_assert_str_eq(str(j, "collection"), "member");
	cr_assert_str_eq(str(j, "key"), "M-001.a");
	json_decref(a);
	run_free(&r);
	cr_assert_eq(node_verify(test_node), 0);
}

Test(node_cli_member, add_defaults_optional_fields)
{
	struct run r;
	json_t *j;

	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Li", "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "added member M1 (up #1)"), "%s", r.out);
	run_free(&r);
	j = show("M1");
	cr_assert_str_eq(str(j, "status"), "active");
	cr_assert(json_is_null(json_object_get(j, "phone")));
	cr_assert(json_is_null(json_object_get(j, "birth")));
	cr_assert(json_is_null(json_object_get(j, "gender")));
	json_decref(j);
}

Test(node_cli_member, add_existing_id_is_rejected_and_changes_nothing)
{
	struct run r;
	json_t *j;

	add_ok("M1", "Wang", "active");
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Other", "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "strata: member add: "), "%s", r.err);
	cr_assert(has(r.err, "already exists"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);
	j = show("M1");
	cr_assert_str_eq(str(j, "name"), "Wang");
	json_decref(j);
}

Test(node_cli_member, update_of_missing_id_is_rejected)
{
	struct run r;

	add_ok("M1", "Wang", "active");
	run_strata(&r, "member", "update", "-d", test_node, "--id", "M2", "--name", "Li", NULL);
	/* an unknown id is refused input (cli.h: EXIT_REJECTED), not a system failure */
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "no member with id M2"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);
	cr_assert_eq(node_member_count(test_node), 1);
}

Test(node_cli_member, show_of_missing_id_is_rejected)
{
	struct run r;

	run_strata(&r, "member", "show", "-d", test_node, "--id", "M404", NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "no member with id M404"), "%s", r.err);
	cr_assert_eq(r.out_len, 0, "%s", r.out);
	run_free(&r);
}

struct bad_case {
	const char *opt, *val, *reason;
};

/* Every bad field, given to add (with the other fields valid) and to
 * update, exits 2 with its reason, and the log and the member stay. */
Test(node_cli_member, bad_fields_are_rejected_and_the_log_is_unchanged)
{
	static char future[11], tomorrow[11], long_address[302];
	struct bad_case bad[] = {
		{"--joined", "2026-02-30", "not a real date"},
		{"--joined", "2023-02-29", "not a real date"},
		{"--joined", "2020-1-1x", "not a real date"}, /* 2020-1-01 reads as 2020-01-01 (issue 14) */
		{"--joined", "1799-12-31", "not a real date"},
		{"--joined", future, "in the future"},
		{"--joined", tomorrow, "in the future"},
		{"--birth", "2021-01-01", "is after joined date"},
		{"--birth", "2019-13-01", "not a real date"},
		{"--category", "boss", "category \"boss\""},
		{"--category", "Full", "category \"Full\""},
		{"--status", "retired", "status \"retired\""},
		{"--gender", "f", "gender \"f\""},
		{"--phone", "abc", "not a phone number"},
		{"--phone", "12", "not a phone number"},
		{"--phone", "139+1234", "not a phone number"},
		{"--phone", "123456789012345678901234567890123", "not a phone number"},
		{"--name", "tab\tok but newline\nnot", "name"},
		{"--address", "line one\nline two", "address must be 1-300 bytes of text"},
		{"--address", long_address, "address must be 1-300 bytes of text"},
	};
	struct run r;
	json_t *before, *after;

	date_in_days(future, 400);
	date_in_days(tomorrow, 2);
	memset(long_address, 'a', 301); /* one byte over */
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Wang", "--category", "full",
		   "--joined", "2020-06-01", "--birth", "1980-01-01", "--phone", "13912345678", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	before = show("M1");

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *joined = strcmp(bad[i].opt, "--joined") == 0 ? bad[i].val : "2020-06-01";
		char *argv[32] = {(char *)strata_path(), "member", "add", "-d", test_node, "--id", "M2",
				  "--joined", (char *)joined, "--name", "Li", "--category", "full", NULL};
		size_t n = 13;

		if (strcmp(bad[i].opt, "--joined") != 0) {
			argv[n++] = (char *)bad[i].opt;
			argv[n++] = (char *)bad[i].val;
			argv[n] = NULL;
		}
		run_argv(&r, NULL, argv);
		cr_assert_eq(r.status, 2, "add %s %s: exit %d: %s", bad[i].opt, bad[i].val, r.status, r.err);
		cr_assert(has(r.err, bad[i].reason), "add %s %s: %s", bad[i].opt, bad[i].val, r.err);
		cr_assert(has(r.err, "strata: member add: "), "%s", r.err);
		run_free(&r);

		run_strata(&r, "member", "update", "-d", test_node, "--id", "M1", bad[i].opt, bad[i].val, NULL);
		cr_assert_eq(r.status, 2, "update %s %s: exit %d: %s", bad[i].opt, bad[i].val, r.status, r.err);
		cr_assert(has(r.err, bad[i].reason), "update %s %s: %s", bad[i].opt, bad[i].val, r.err);
		run_free(&r);

		cr_assert_eq(node_log_len(test_node, NULL, 0), 1, "%s %s wrote to the log", bad[i].opt, bad[i].val);
	}
	cr_assert_eq(node_member_count(test_node), 1);
	after = show("M1");
	cr_assert(json_equal(before, after), "member M1 changed");
	json_decref(before);
	json_decref(after);
	cr_assert_eq(node_verify(test_node), 0);
}

Test(node_cli_member, bad_ids_are_rejected)
{
	static const char *const ids[] = {"a b", "M/1", "é", "",
					  "12345678901234567890123456789012345678901234567890123456789012345"};
	struct run r;

	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		run_strata(&r, "member", "add", "-d", test_node, "--id", ids[i], "--name", "Li", "--category", "full",
			   "--joined", "2020-01-01", NULL);
		cr_assert_eq(r.status, 2, "id \"%s\": exit %d: %s", ids[i], r.status, r.err);
		run_free(&r);
	}
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
	/* 64 characters is the longest id */
	add_ok("1234567890123456789012345678901234567890123456789012345678901234", "Li", "active");
}

Test(node_cli_member, update_changes_given_fields_and_empty_clears)
{
	struct run r;
	json_t *j;

	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Wang", "--category", "full",
		   "--joined", "2020-06-01", "--birth", "1980-01-01", "--phone", "13912345678", "--gender", "male",
		   NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);

	run_strata(&r, "member", "update", "-d", test_node, "--id", "M1", "--status", "deceased", "--name",
		   "Wang Wei", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "seq")), 2);
	json_decref(j);
	run_free(&r);
	j = show("M1");
	cr_assert_str_eq(str(j, "name"), "Wang Wei");
	cr_assert_str_eq(str(j, "status"), "deceased");
	cr_assert_str_eq(str(j, "category"), "full");
	cr_assert_str_eq(str(j, "joined"), "2020-06-01");
	cr_assert_str_eq(str(j, "phone"), "13912345678");
	cr_assert_str_eq(str(j, "birth"), "1980-01-01");
	cr_assert_str_eq(str(j, "gender"), "male");
	cr_assert_eq(json_integer_value(json_object_get(j, "seq")), 2);
	json_decref(j);

	run_strata(&r, "member", "update", "-d", test_node, "--id", "M1", "--phone", "", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "updated member M1 (up #3)"), "%s", r.out);
	run_free(&r);
	j = show("M1");
	cr_assert(json_is_null(json_object_get(j, "phone")), "phone not cleared");
	cr_assert_str_eq(str(j, "birth"), "1980-01-01");
	cr_assert_str_eq(str(j, "gender"), "male");
	json_decref(j);

	run_strata(&r, "member", "update", "-d", test_node, "--id", "M1", "--gender", "", "--birth", "", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	j = show("M1");
	cr_assert(json_is_null(json_object_get(j, "gender")), "gender not cleared");
	cr_assert(json_is_null(json_object_get(j, "birth")), "birth not cleared");
	cr_assert(json_is_null(json_object_get(j, "phone")));
	cr_assert_str_eq(str(j, "name"), "Wang Wei");
	json_decref(j);

	/* a required field cannot be cleared */
	run_strata(&r, "member", "update", "-d", test_node, "--id", "M1", "--name", "", NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 4);
	cr_assert_eq(node_verify(test_node), 0);
}

Test(node_cli_member, update_checks_birth_against_the_stored_joined_date)
{
	struct run r;

	add_ok("M1", "Wang", "active"); /* joined 2019-03-04 */
	run_strata(&r, "member", "update", "-d", test_node, "--id", "M1", "--birth", "2019-03-05", NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "after joined date 2019-03-04"), "%s", r.err);
	run_free(&r);
	run_strata(&r, "member", "update", "-d", test_node, "--id", "M1", "--birth", "2019-03-04", NULL);
	cr_assert_eq(r.status, 0, "born on the day of joining is allowed: %s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 2);
}

static size_t list_count(const char *opt, const char *val, const char *expect_id)
{
	struct run r;
	json_t *a;
	size_t n;

	run_strata(&r, "member", "list", "-d", test_node, opt, val, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	a = run_json(&r);
	n = json_array_size(a);
	for (size_t i = 0; i < n; i++) {
		json_t *m = json_array_get(a, i);

		cr_assert_str_eq(str(m, opt + 2), val, "list %s %s returned %s", opt, val, str(m, "id"));
		if (expect_id)
			cr_assert_str_eq(str(m, "id"), expect_id);
	}
	json_decref(a);
	run_free(&r);
	return n;
}

Test(node_cli_member, list_filters_by_status_and_category)
{
	struct run r;

	add_ok("A1", "One", "active");
	add_ok("A2", "Two", "active");
	add_ok("L1", "Three", "lapsed");
	add_ok("D1", "Four", "deceased");
	run_strata(&r, "member", "add", "-d", test_node, "--id", "P1", "--name", "Five", "--category", "probationary",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);

	cr_assert_eq(node_member_count(test_node), 5);
	cr_assert_eq(list_count("--status", "active", NULL), 3); /* A1, A2, P1 */
	cr_assert_eq(list_count("--status", "lapsed", "L1"), 1);
	cr_assert_eq(list_count("--status", "deceased", "D1"), 1);
	cr_assert_eq(list_count("--status", "transferred", NULL), 0);
	cr_assert_eq(list_count("--category", "probationary", "P1"), 1);
	cr_assert_eq(list_count("--category", "full", NULL), 4);

	run_strata(&r, "member", "list", "-d", test_node, "--status", "lapsed", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "L1"), "%s", r.out);
	cr_assert(!has(r.out, "A1"), "%s", r.out);
	cr_assert(has(r.out, "\n1 member\n"), "%s", r.out);
	run_free(&r);

	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert(has(r.out, "\n5 members\n"), "%s", r.out);
	run_free(&r);

	/* after an update the filter sees the new status */
	run_strata(&r, "member", "update", "-d", test_node, "--id", "A2", "--status", "lapsed", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	cr_assert_eq(list_count("--status", "lapsed", NULL), 2);
	cr_assert_eq(list_count("--status", "active", NULL), 2);
	cr_assert_eq(list_count("--category", "full", NULL), 4);
}

Test(node_cli_member, empty_list)
{
	struct run r;

	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "0 members"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_member_count(test_node), 0);
}

Test(node_cli_member, name_is_at_most_200_bytes)
{
	char name[202];
	struct run r;

	memset(name, 'n', 201);
	name[201] = '\0';
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", name, "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 2, "201-byte name: exit %d", r.status);
	run_free(&r);
	name[200] = '\0';
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", name, "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "200-byte name: %s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);
}
