/* SPDX-License-Identifier: MIT */
/*
 * node_cli_import: `strata member import` through the real binary: bulk
 * imports batched into change sets, idempotent re-imports, files with bad
 * rows (every bad line reported, nothing written), header errors, RFC 4180
 * quoting and line numbers, --dry-run.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

static void setup(void)
{
	test_tmp_make();
	node_init("xiamen/huli");
}

TestSuite(node_cli_import, .init = setup, .fini = test_tmp_remove);

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void import(struct run *r, const char *csv)
{
	run_strata(r, "member", "import", "-d", test_node, csv, NULL);
}

/* "FILE:LINE:" as the import prints it. */
static bool names_line(const char *err, const char *csv, int line)
{
	char want[400];

	snprintf(want, sizeof want, "strata: member import: %s:%d: ", csv, line);
	return has(err, want);
}

/* The lines of err that name a line of csv. */
static size_t bad_lines_named(const char *err, const char *csv)
{
	char want[400];
	size_t n = 0;

	snprintf(want, sizeof want, "strata: member import: %s:", csv);
	for (const char *p = err; (p = strstr(p, want)); p += strlen(want)) {
		const char *q = p + strlen(want);

		n += *q >= '0' && *q <= '9';
	}
	return n;
}

Test(node_cli_import, generated_500_rows_in_one_change_set)
{
	char csv[256];
	size_t ops[4];
	struct run r;
	json_t *j;

	gen_members(tmp_path(csv, "m.csv"), 500, 11);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.out, "imported 500 members"), "%s", r.out);
	cr_assert(has(r.out, "in 1 change set "), "%s", r.out);
	cr_assert(has(r.out, "(up head #1)"), "%s", r.out);
	cr_assert(has(r.out, "0 already present"), "%s", r.out);
	run_free(&r);

	cr_assert_eq(node_member_count(test_node), 500);
	cr_assert_eq(node_log_len(test_node, ops, 4), 1);
	cr_assert_eq(ops[0], 500);
	run_strata(&r, "verify", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "verify: exit %d: %s %s", r.status, r.out, r.err);
	j = run_json(&r);
	cr_assert(json_is_true(json_object_get(j, "ok")));
	cr_assert_eq(json_integer_value(json_object_get(j, "entries")), 1);
	cr_assert_eq(json_integer_value(json_object_get(j, "ops")), 500);
	cr_assert_eq(json_integer_value(json_object_get(j, "state_records")), 500);
	json_decref(j);
	run_free(&r);
}

/* Every field of every generated row comes back from list --json. */
Test(node_cli_import, generated_rows_round_trip)
{
	char csv[256], line[1024];
	struct run r;
	json_t *a, *byid = json_object();
	size_t rows = 0;
	FILE *f;

	gen_members(tmp_path(csv, "m.csv"), 300, 5);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "member", "list", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	a = run_json(&r);
	run_free(&r);
	for (size_t i = 0; i < json_array_size(a); i++)
		json_object_set(byid, str(json_array_get(a, i), "id"), json_array_get(a, i));

	f = fopen(csv, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof line, f));
	cr_assert_str_eq(line, "id,name,category,joined,phone,birth,gender\n");
	while (fgets(line, sizeof line, f)) {
		char *fld[7], *save = NULL, *p = line;
		json_t *m;

		line[strcspn(line, "\n")] = '\0';
		for (int k = 0; k < 7; k++, p = NULL)
			fld[k] = strtok_r(p, ",", &save);
		cr_assert_not_null(fld[6], "generator line without 7 fields: %s", line);
		m = json_object_get(byid, fld[0]);
		cr_assert_not_null(m, "member %s was not imported", fld[0]);
		cr_assert_str_eq(str(m, "name"), fld[1]);
		cr_assert_str_eq(str(m, "category"), fld[2]);
		cr_assert_str_eq(str(m, "joined"), fld[3]);
		cr_assert_str_eq(str(m, "phone"), fld[4]);
		cr_assert_str_eq(str(m, "birth"), fld[5]);
		cr_assert_str_eq(str(m, "gender"), fld[6]);
		cr_assert_str_eq(str(m, "status"), "active");
		rows++;
	}
	fclose(f);
	cr_assert_eq(rows, 300);
	cr_assert_eq(json_object_size(byid), 300);
	json_decref(byid);
	json_decref(a);
}

Test(node_cli_import, ops_per_changeset_batches_and_reimport_is_a_no_op)
{
	char csv[256];
	size_t ops[16];
	struct run r;
	json_t *j;

	node_set_ops_per_changeset(test_node, 100);
	gen_members(tmp_path(csv, "m.csv"), 1000, 3);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.out, "imported 1000 members"), "%s", r.out);
	cr_assert(has(r.out, "in 10 change sets (up head #10)"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, ops, 16), 10);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(ops[i], 100, "entry %d has %zu ops", i + 1, ops[i]);

	run_strata(&r, "member", "import", "-d", test_node, csv, "--json", NULL);
	cr_assert_eq(r.status, 0, "re-import: exit %d: %s", r.status, r.err);
	j = run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "rows")), 1000);
	cr_assert_eq(json_integer_value(json_object_get(j, "imported")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "unchanged")), 1000);
	cr_assert_eq(json_integer_value(json_object_get(j, "changesets")), 0);
	json_decref(j);
	run_free(&r);

	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "imported 0 members"), "%s", r.out);
	cr_assert(has(r.out, "1000 already present"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 10);
	cr_assert_eq(node_member_count(test_node), 1000);
	cr_assert_eq(node_verify(test_node), 0);
}

/* The summary line names the feed's head; after an import that wrote
 * nothing the head is still #10, not #0. */
Test(node_cli_import, reimport_reports_the_current_head)
{
	char csv[256];
	struct run r;

	node_set_ops_per_changeset(test_node, 100);
	gen_members(tmp_path(csv, "m.csv"), 1000, 3);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(!has(r.out, "up head #0"), "re-import claims the head is #0: %s", r.out);
	run_free(&r);
}

Test(node_cli_import, overlapping_import_adds_only_the_new_rows)
{
	char a[256], b[256];
	struct run r;

	gen_members(tmp_path(a, "a.csv"), 100, 9);
	gen_members(tmp_path(b, "b.csv"), 150, 9); /* same seed: the first 100 rows are a.csv's */
	import(&r, a);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	import(&r, b);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "imported 50 members"), "%s", r.out);
	cr_assert(has(r.out, "100 already present"), "%s", r.out);
	cr_assert(has(r.out, "(up head #2)"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_member_count(test_node), 150);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 2);
	cr_assert_eq(node_verify(test_node), 0);
}

/* Rows out of id order (the import takes a shortcut for a file already in
 * id order): all imported, written in file order, and a second run finds
 * them all present. */
Test(node_cli_import, rows_out_of_id_order_import_in_file_order)
{
	static const char csv_text[] = "id,name,category,joined\n"
				       "M3,Wang Fang,full,2020-01-03\n"
				       "M1,Li Na,full,2020-01-01\n"
				       "M2,Zhang Wei,probationary,2020-01-02\n";
	char csv[256];
	struct run r;
	json_t *a;

	write_file(tmp_path(csv, "m.csv"), csv_text, strlen(csv_text));
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "imported 3 members"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "log", "-d", test_node, "--feed", "up", "--ops", "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	{
		const char *k3 = strstr(r.out, "\"key\":\"M3\""), *k1 = strstr(r.out, "\"key\":\"M1\""),
			   *k2 = strstr(r.out, "\"key\":\"M2\"");

		cr_assert(k3 && k1 && k2 && k3 < k1 && k1 < k2, "not in file order: %s", r.out);
	}
	run_free(&r);
	run_strata(&r, "member", "list", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	a = run_json(&r);
	run_free(&r);
	cr_assert_eq(json_array_size(a), 3);
	json_decref(a);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "imported 0 members"), "%s", r.out);
	cr_assert(has(r.out, "3 already present"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_verify(test_node), 0);
}

/* Every kind of bad row in one file: each line is named with its reason,
 * the count is right, and nothing is written. */
Test(node_cli_import, bad_rows_are_all_reported_and_nothing_is_imported)
{
	char csv[256];
	struct run r;

	/* one good member first, so "unchanged" means more than "empty" */
	run_strata(&r, "member", "add", "-d", test_node, "--id", "OLD", "--name", "Old", "--category", "full",
		   "--joined", "2010-01-01", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);

	tmp_path(csv, "bad.csv");
	write_str(csv, "id,name,category,joined,phone,birth\n"       /* 1 */
		       "M1,Wang Wei,full,2020-01-01,,\n"             /* 2 ok */
		       "M2,Li Na,full,2026-02-30,,\n"                /* 3 bad date */
		       "M3,Zhang San,boss,2020-01-01,,\n"            /* 4 unknown category */
		       "M4,Liu Yang,full,2020-01-01,,\n"             /* 5 ok */
		       "M1,Chen Jie,full,2020-01-01,,\n"             /* 6 duplicate of line 2 */
		       "M5,Zhao Lei,full,2020-01-01,\n"              /* 7 a column missing */
		       "M6,,full,2020-01-01,,\n"                     /* 8 blank name */
		       ",Wu Min,full,2020-01-01,,\n"                 /* 9 blank id */
		       "M7,Zhou Tao,full,,,\n"                       /* 10 blank joined */
		       "M8,Xu Fang,full,2020-01-01,phone?,\n"        /* 11 bad phone */
		       "M9,Sun Li,full,2000-01-01,,2001-01-01\n"     /* 12 birth after joined */
		       "M10,Ma Jun,full,2020-01-01,,\n");            /* 13 ok */
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(names_line(r.err, csv, 3) && has(r.err, "2026-02-30"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 4) && has(r.err, "category \"boss\""), "%s", r.err);
	cr_assert(names_line(r.err, csv, 6) && has(r.err, "duplicate id M1 (first on line 2)"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 7) && has(r.err, "has 5 columns, the header has 6"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 8) && has(r.err, "name is missing"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 9) && has(r.err, "id is missing"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 10) && has(r.err, "joined date is missing"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 11) && has(r.err, "not a phone number"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 12) && has(r.err, "is after joined date"), "%s", r.err);
	cr_assert(!names_line(r.err, csv, 2) && !names_line(r.err, csv, 5) && !names_line(r.err, csv, 13),
		  "a good line is named: %s", r.err);
	cr_assert_eq(bad_lines_named(r.err, csv), 9, "%s", r.err);
	cr_assert(has(r.err, "9 bad rows; nothing imported"), "%s", r.err);
	/* listed in line order */
	cr_assert(strstr(r.err, "bad.csv:3:") < strstr(r.err, "bad.csv:4:") &&
		  strstr(r.err, "bad.csv:4:") < strstr(r.err, "bad.csv:12:"), "%s", r.err);
	cr_assert_eq(r.out_len, 0, "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);
	cr_assert_eq(node_member_count(test_node), 1);
}

/* A file that is not UTF-8 is read as GB18030 (what Chinese Excel writes),
 * and one that is neither (a latin-1 name whose bytes are no GB18030
 * either) is refused whole, naming the first line that is not UTF-8 and
 * how to save the file (issue 14; before, it was one more bad row). */
Test(node_cli_import, latin1_file_is_refused_whole_naming_its_line)
{
	char csv[256];
	struct run r;

	tmp_path(csv, "latin1.csv");
	write_str(csv, "id,name,category,joined\n" /* 1 */
		       "M1,Wang,full,2020-01-01\n" /* 2 ok */
		       "M2,Li,full,2026-02-30\n"   /* 3 bad date */
		       "M3,Jos\xe9,full,2020-01-01\n" /* 4 latin-1 */
		       "M4,Chen,boss,2020-01-01\n" /* 5 unknown category */
		       "M5,Zhao,full,2020-01-01\n"); /* 6 ok */
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(names_line(r.err, csv, 4) && has(r.err, "neither UTF-8 nor GB18030"), "%s", r.err);
	cr_assert(has(r.err, "CSV UTF-8"), "the fix is not named: %s", r.err);
	cr_assert_eq(bad_lines_named(r.err, csv), 1, "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
	cr_assert_eq(node_member_count(test_node), 0);
}

Test(node_cli_import, latin1_alone_is_rejected_and_nothing_is_imported)
{
	char csv[256];
	struct run r;

	tmp_path(csv, "latin1.csv");
	/* "\xfc," is no GB18030 either ("M\xfcller" would read as GB18030) */
	write_str(csv, "id,name,category,joined\nM1,Wang,full,2020-01-01\nM3,M\xfc,full,2020-01-01\n");
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(names_line(r.err, csv, 3) && has(r.err, "UTF-8"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
}

Test(node_cli_import, header_without_a_required_column_is_rejected)
{
	static const char *const cols[] = {"id", "name", "category", "joined"};
	char csv[256], head[128], want[64];
	struct run r;

	tmp_path(csv, "h.csv");
	for (int i = 0; i < 4; i++) {
		head[0] = '\0';
		for (int k = 0; k < 4; k++)
			if (k != i)
				strcat(strcat(head, head[0] ? "," : ""), cols[k]);
		strcat(head, "\nM1,a,b\n");
		write_str(csv, head);
		import(&r, csv);
		cr_assert_eq(r.status, 2, "without %s: exit %d: %s", cols[i], r.status, r.err);
		snprintf(want, sizeof want, "no \"%s\" column", cols[i]);
		cr_assert(has(r.err, want), "without %s: %s", cols[i], r.err);
		cr_assert(names_line(r.err, csv, 1), "%s", r.err);
		run_free(&r);
	}
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
}

Test(node_cli_import, header_with_an_unknown_or_repeated_column_is_rejected)
{
	char csv[256];
	struct run r;

	tmp_path(csv, "h.csv");
	write_str(csv, "id,name,category,joined,email\nM1,Wang,full,2020-01-01,w@x\n");
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "unknown column \"email\""), "%s", r.err);
	run_free(&r);

	write_str(csv, "id,name,category,joined,name\nM1,Wang,full,2020-01-01,Li\n");
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "\"name\" appears twice"), "%s", r.err);
	run_free(&r);

	write_str(csv, "");
	import(&r, csv);
	cr_assert_eq(r.status, 2, "empty file: exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "empty"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
}

Test(node_cli_import, columns_in_any_order_with_optional_ones)
{
	char csv[256];
	struct run r;
	json_t *a, *m;

	tmp_path(csv, "o.csv");
	write_str(csv, "gender,joined,address,status,id,category,name\n"
		       "other,2015-07-08,\"7 Lujiang Rd, Apt 3\",transferred,X1,probationary,Lin Xia\n");
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "member", "list", "-d", test_node, "--json", NULL);
	a = run_json(&r);
	cr_assert_eq(json_array_size(a), 1);
	m = json_array_get(a, 0);
	cr_assert_str_eq(str(m, "id"), "X1");
	cr_assert_str_eq(str(m, "name"), "Lin Xia");
	cr_assert_str_eq(str(m, "category"), "probationary");
	cr_assert_str_eq(str(m, "status"), "transferred");
	cr_assert_str_eq(str(m, "joined"), "2015-07-08");
	cr_assert_str_eq(str(m, "gender"), "other");
	cr_assert_str_eq(str(m, "address"), "7 Lujiang Rd, Apt 3");
	cr_assert(json_is_null(json_object_get(m, "phone")));
	json_decref(a);
	run_free(&r);
}

/* RFC 4180: quoted commas, doubled quotes, quoted ids, a byte-order mark,
 * CRLF line ends and blank lines. */
Test(node_cli_import, quoted_fields_import_exactly)
{
	char csv[256];
	struct run r;
	json_t *a;

	tmp_path(csv, "q.csv");
	write_str(csv, "\xef\xbb\xbfid,name,category,joined,phone\r\n"
		       "Q1,\"Wang, Wei\",full,2020-01-01,\r\n"
		       "\r\n"
		       "\"Q2\",\"Li \"\"Junior\"\" Na\",\"full\",2020-01-02,\"+86 139 0000\"\r\n"
		       "Q3,\"陈, 杰\",probationary,2020-01-03,\r\n");
	import(&r, csv);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.out, "imported 3 members"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "member", "list", "-d", test_node, "--json", NULL);
	a = run_json(&r);
	cr_assert_eq(json_array_size(a), 3);
	cr_assert_str_eq(str(json_array_get(a, 0), "id"), "Q1");
	cr_assert_str_eq(str(json_array_get(a, 0), "name"), "Wang, Wei");
	cr_assert_str_eq(str(json_array_get(a, 1), "id"), "Q2");
	cr_assert_str_eq(str(json_array_get(a, 1), "name"), "Li \"Junior\" Na");
	cr_assert_str_eq(str(json_array_get(a, 1), "phone"), "+86 139 0000");
	cr_assert_str_eq(str(json_array_get(a, 2), "name"), "陈, 杰");
	cr_assert_str_eq(str(json_array_get(a, 2), "joined"), "2020-01-03");
	json_decref(a);
	run_free(&r);
}

/* A quoted field spanning lines: its row is named by the line it starts
 * on, and the rows after it by their own physical lines. */
Test(node_cli_import, line_numbers_stay_right_after_a_multi_line_field)
{
	char csv[256];
	struct run r;

	tmp_path(csv, "ml.csv");
	write_str(csv, "id,name,category,joined\n"           /* 1 */
		       "M1,\"Wang, Wei\",full,2020-01-01\n"  /* 2 */
		       "M2,\"Li\n"                           /* 3: row starts */
		       "Na\n"                                /* 4 */
		       "Jr\",full,2020-02-30\n"              /* 5: bad date */
		       "M3,Zhang,full,2020-01-01\n"          /* 6 */
		       "M4,Chen,boss,2020-01-01\n"           /* 7: unknown category */
		       "\"M5\n\",Liu,full,2020-01-01\n"      /* 8-9: newline in the id */
		       "M6,Zhao,full,2021-02-29\n");         /* 10: not a leap year */
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(names_line(r.err, csv, 3), "row starting on line 3 not named: %s", r.err);
	cr_assert(names_line(r.err, csv, 7) && has(r.err, "boss"), "%s", r.err);
	cr_assert(names_line(r.err, csv, 8), "row starting on line 8 not named: %s", r.err);
	cr_assert(names_line(r.err, csv, 10) && has(r.err, "2021-02-29"), "%s", r.err);
	cr_assert_eq(bad_lines_named(r.err, csv), 4, "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
}

Test(node_cli_import, csv_syntax_errors_are_rejected)
{
	char csv[256];
	struct run r;

	tmp_path(csv, "s.csv");
	write_str(csv, "id,name,category,joined\nM1,\"Wang,full,2020-01-01\nM2,Li,full,2020-01-01\n");
	import(&r, csv);
	cr_assert_eq(r.status, 2, "unterminated quote: exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "s.csv:2"), "%s", r.err);
	run_free(&r);

	write_str(csv, "id,name,category,joined\nM1,Wang,full,2020-01-01\nM2,Li\"x,full,2020-01-01\n");
	import(&r, csv);
	cr_assert_eq(r.status, 2, "stray quote: exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "s.csv:3"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
}

Test(node_cli_import, dry_run_writes_nothing)
{
	char csv[256];
	struct run r;
	json_t *j;

	gen_members(tmp_path(csv, "m.csv"), 200, 2);
	run_strata(&r, "member", "import", "-d", test_node, "--dry-run", csv, NULL);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.out, "200 rows are valid: 200 would be imported, 0 already present"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
	cr_assert_eq(node_member_count(test_node), 0);

	run_strata(&r, "member", "import", "-d", test_node, "--dry-run", "--json", csv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	cr_assert(json_is_true(json_object_get(j, "dry_run")));
	cr_assert_eq(json_integer_value(json_object_get(j, "rows")), 200);
	cr_assert_eq(json_integer_value(json_object_get(j, "imported")), 0);
	json_decref(j);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);

	/* a dry run still finds bad rows */
	write_str(csv, "id,name,category,joined\nM1,Wang,full,2020-13-01\n");
	run_strata(&r, "member", "import", "-d", test_node, "--dry-run", csv, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(names_line(r.err, csv, 2), "%s", r.err);
	run_free(&r);
}

Test(node_cli_import, present_member_with_other_values_is_rejected)
{
	char csv[256];
	struct run r;
	json_t *j;

	tmp_path(csv, "c.csv");
	write_str(csv, "id,name,category,joined\nM1,Wang,full,2020-01-01\nM2,Li,full,2020-01-01\n");
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);

	write_str(csv, "id,name,category,joined\nM1,Wang,full,2020-01-01\nM3,Zhao,full,2020-01-01\n"
		       "M2,Li Na,full,2020-01-01\n");
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(names_line(r.err, csv, 4), "%s", r.err);
	cr_assert(has(r.err, "member M2 already exists with other values"), "%s", r.err);
	cr_assert_eq(bad_lines_named(r.err, csv), 1, "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);
	cr_assert_eq(node_member_count(test_node), 2);
	run_strata(&r, "member", "show", "-d", test_node, "--id", "M2", "--json", NULL);
	j = run_json(&r);
	cr_assert_str_eq(str(j, "name"), "Li");
	json_decref(j);
	run_free(&r);
}

Test(node_cli_import, missing_file_is_a_system_error)
{
	char csv[256];
	struct run r;

	import(&r, tmp_path(csv, "nope.csv"));
	cr_assert_eq(r.status, 4, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "cannot open"), "%s", r.err);
	run_free(&r);
}

Test(node_cli_import, header_only_imports_nothing)
{
	char csv[256];
	struct run r;

	tmp_path(csv, "h.csv");
	write_str(csv, "id,name,category,joined\n");
	import(&r, csv);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.out, "imported 0 members"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
}

/* Past 50 bad rows the rest are counted, not listed. */
Test(node_cli_import, many_bad_rows_are_capped_and_counted)
{
	char csv[256], *text, want[64];
	size_t len = 0;
	struct run r;

	text = malloc(64 * 80);
	len += (size_t)sprintf(text, "id,name,category,joined\n");
	for (int i = 0; i < 60; i++)
		len += (size_t)sprintf(text + len, "B%d,Name,full,2020-02-3%d\n", i, i % 2); /* Feb 30, 31 */
	len += (size_t)sprintf(text + len, "OK1,Name,full,2020-02-29\n");
	tmp_path(csv, "many.csv");
	write_file(csv, text, len);
	free(text);
	import(&r, csv);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert_eq(bad_lines_named(r.err, csv), 50, "%s", r.err);
	cr_assert(names_line(r.err, csv, 2) && names_line(r.err, csv, 51) && !names_line(r.err, csv, 52), "%s",
		  r.err);
	cr_assert(has(r.err, "... and 10 more bad rows"), "%s", r.err);
	snprintf(want, sizeof want, "60 bad rows; nothing imported");
	cr_assert(has(r.err, want), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
}

/* One op per change set: 40 entries across two checkpoints and a tail. */
Test(node_cli_import, one_op_per_change_set_crosses_checkpoints)
{
	char csv[256];
	size_t ops[64];
	struct run r;

	node_set_ops_per_changeset(test_node, 1);
	gen_members(tmp_path(csv, "m.csv"), 40, 8);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "in 40 change sets (up head #40)"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, ops, 64), 40);
	for (int i = 0; i < 40; i++)
		cr_assert_eq(ops[i], 1);
	cr_assert_eq(node_member_count(test_node), 40);
	cr_assert_eq(node_verify(test_node), 0);
}

/* Writes s to the FIFO once the importer opens it for reading (within 10 s,
 * while pid runs). */
static void feed_fifo(const char *fifo, const char *s, pid_t pid)
{
	int fd = -1, status;

	for (int i = 0; i < 1000 && fd < 0; i++) {
		fd = open(fifo, O_WRONLY | O_NONBLOCK);
		if (fd < 0) {
			cr_assert_eq(errno, ENXIO, "open %s: %s", fifo, strerror(errno));
			cr_assert_eq(waitpid(pid, &status, WNOHANG), 0, "the import ended before reading %s", fifo);
			usleep(10000);
		}
	}
	cr_assert_geq(fd, 0, "the import did not open %s", fifo);
	cr_assert_eq(fcntl(fd, F_SETFL, 0), 0);
	cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

/* The file is read twice (checked, then written): a row that reads
 * differently the second time stops the import, and nothing half-written
 * stays. A FIFO gives the importer one file, then another. */
Test(node_cli_import, a_file_that_changes_between_the_passes_stops_the_import)
{
	char fifo[256], csv[256];
	const char *first = "id,name,category,joined\nF1,Wang Wei,full,2020-01-01\nF2,Li Na,full,2020-01-02\n"
			    "F3,Zhao Lei,full,2020-01-03\n";
	const char *second = "id,name,category,joined\nF1,Wang Wei,full,2020-01-01\nF2,Li Na,full,2020-01-02\n"
			     "F3,Zhao Lei,probationary,2020-01-03\n";
	struct run r;
	pid_t pid;
	int status;

	node_set_ops_per_changeset(test_node, 1);
	tmp_path(fifo, "members.fifo");
	cr_assert_eq(mkfifo(fifo, 0600), 0, "mkfifo: %s", strerror(errno));
	pid = run_strata_bg("member", "import", "-d", test_node, fifo, NULL);
	feed_fifo(fifo, first, pid);
	feed_fifo(fifo, second, pid);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "the import of a changed file ended with status %d",
		  status);
	cr_assert_eq(node_member_count(test_node), 0, "rows of a file that changed were kept");
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
	cr_assert_eq(node_verify(test_node), 0);

	/* the file as it is now imports whole */
	tmp_path(csv, "members.csv");
	write_str(csv, second);
	import(&r, csv);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.out, "imported 3 members"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_member_count(test_node), 3);
}
