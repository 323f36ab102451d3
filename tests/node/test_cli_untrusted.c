/* SPDX-License-Identifier: MIT */
/*
 * node_cli_untrusted: what comes from outside (CSV cells, ids, names,
 * received records) through the real binary and a real store: control
 * bytes and invalid UTF-8 in a cell are refused naming the line and column
 * and nothing is written; text with escape sequences is printed escaped in
 * errors and listings; numbers have bounded ranges and sums of report
 * figures are checked, never wrapped (issue 12, items 3 to 5).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "node/core/node.h"
#include "node/records/records.h"
#include "node/report/report.h"
#include "run.h"

static void setup(void)
{
	test_tmp_make();
	node_init("xiamen/huli");
}

TestSuite(node_cli_untrusted, .init = setup, .fini = test_tmp_remove);

/* Does s hold a byte below 0x20 other than newline, or DEL? */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\n') || *s == 0x7f)
			return true;
	return false;
}

static void add_member(const char *id, const char *name)
{
	struct run r;

	run_strata(&r, "member", "add", "-d", test_node, "--id", id, "--name", name, "--category", "full", "--joined",
		   "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "member add %s: %s", id, r.err);
	run_free(&r);
}

/* A member CSV whose line 3 holds `cell` as column 2 (name): refused. */
static void refused_cell(const char *cell, size_t cell_len, const char *why)
{
	char csv[256], data[512];
	int n = snprintf(data, sizeof data, "id,name,category,joined\nOK1,Li,full,2020-01-01\nBAD1,");
	struct run r;

	memcpy(data + n, cell, cell_len);
	n += (int)cell_len;
	n += snprintf(data + n, sizeof data - (size_t)n, ",full,2020-01-01\n");
	write_file(tmp_path(csv, "bad.csv"), data, (size_t)n);
	run_strata(&r, "member", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 2, "%s: exit %d: %s", why, r.status, r.err);
	cr_assert(has(r.err, "bad.csv:3: column 2 "), "%s: %s", why, r.err);
	cr_assert(has(r.err, why), "%s: %s", why, r.err);
	cr_assert(has(r.err, "1 bad row; nothing imported"), "%s", r.err);
	cr_assert(!has_control(r.err), "%s: a raw control byte reached the terminal", why);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0, "%s: something was written", why);
}

Test(node_cli_untrusted, csv_cells_with_control_bytes_or_bad_utf8_are_refused_naming_line_and_column)
{
	refused_cell("Li\0EVIL", 7, "control byte \\x00 at byte 3");
	refused_cell("a\033]0;pwn\007b", 10, "control byte \\x1B at byte 2");
	refused_cell("a\033[2Jb", 6, "control byte \\x1B at byte 2");
	refused_cell("\x7f", 1, "control byte \\x7F at byte 1");
	refused_cell("a\xc2\x9b" "31mb", 7, "control character U+009B at byte 2");
	refused_cell("\"a\nb\"", 5, "control byte \\x0A at byte 2");
}

Test(node_cli_untrusted, a_nul_in_an_id_does_not_cut_it)
{
	static const char data[] = "id,name,category,joined\nNUL1\0EVIL,Li,full,2020-01-01\n";
	char csv[256];
	struct run r;

	write_file(tmp_path(csv, "nul.csv"), data, sizeof data - 1);
	run_strata(&r, "member", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "nul.csv:2: column 1 holds control byte \\x00 at byte 5"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_member_count(test_node), 0);
}

Test(node_cli_untrusted, record_import_refuses_a_nul_in_a_number)
{
	static const char data[] = "member,period,amount\nM1,2024-02,10\0" "000000\n";
	char csv[256];
	struct run r;

	add_member("M1", "Li");
	write_file(tmp_path(csv, "dues.csv"), data, sizeof data - 1);
	run_strata(&r, "dues", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "dues.csv:2: column 3 holds control byte \\x00"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1, "only the member is written");
}

Test(node_cli_untrusted, an_id_with_an_escape_sequence_is_printed_escaped)
{
	struct run r;

	run_strata(&r, "member", "show", "-d", test_node, "--id", "X\033[2J\033]0;pwn\007", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(!has_control(r.err), "raw control bytes in: %s", r.err);
	cr_assert(has(r.err, "X\\x1B[2J\\x1B]0;pwn\\x07"), "%s", r.err);
	run_free(&r);

	run_strata(&r, "dues", "show", "-d", test_node, "--member", "\033[31mM", "--period", "2024-01", NULL);
	cr_assert_neq(r.status, 0);
	cr_assert(!has_control(r.err), "raw control bytes in: %s", r.err);
	run_free(&r);
}

Test(node_cli_untrusted, listings_escape_control_characters_and_keep_chinese)
{
	struct run r;

	/* U+009B (CSI in C1) is a control character: refused like ESC */
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M0", "--name", "a\xc2\x9b" "31m", "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(has(r.err, "name must be 1-200 bytes of text"), "%s", r.err);
	run_free(&r);
	/* U+202E (right-to-left override) is text a record may hold, but it
	 * reorders what a terminal shows: listings escape it */
	add_member("M1", "张三\xe2\x80\xae" "cba");
	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "张三\\xE2\\x80\\xAEcba"), "%s", r.out);
	cr_assert(!has(r.out, "\xe2\x80\xae"), "a raw override in: %s", r.out);
	run_free(&r);
	run_strata(&r, "member", "list", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "张三\\u202ecba"), "JSON: %s", r.out);
	run_free(&r);
}

Test(node_cli_untrusted, dues_at_the_documented_max_are_taken_and_one_fen_more_is_refused)
{
	struct run r;
	char csv[256];

	add_member("M1", "Li");
	run_strata(&r, "dues", "add", "-d", test_node, "--member", "M1", "--period", "2024-01", "--amount", "1000000",
		   NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	write_str(tmp_path(csv, "d.csv"), "member,period,amount\nM1,2024-02,100000001\nM1,2024-03,9223372036854775807\n");
	run_strata(&r, "dues", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(has(r.err, "d.csv:2: dues: amount 100000001 is out of range (0..1000000.00 yuan)"), "%s", r.err);
	cr_assert(has(r.err, "d.csv:3: dues: amount 9223372036854775807 is out of range"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 2, "the member and the one dues record");
}

/* Writes this node's report for 2024-01 with dues_paid_amount = amount in
 * own and total, through node_writer (which runs node_ingest's checks, as
 * for a received entry). Its result. */
static int write_report(int64_t amount, struct err *e)
{
	struct node *n = NULL;
	struct node_writer *w = NULL;
	Strata__Report rep = STRATA__REPORT__INIT;
	Strata__Figures f;
	uint8_t buf[512];
	size_t len;
	int ret;

	cr_assert_eq(keys_init(), 0);
	cr_assert_eq(node_open(&n, test_node, 0, e), 0, "%s", e->msg);
	strata__figures__init(&f);
	f.dues_paid = 1;
	f.dues_paid_amount = amount;
	rep.period = "2024-01";
	rep.own = &f;
	rep.total = &f;
	len = strata__report__get_packed_size(&rep);
	cr_assert(len <= sizeof buf);
	strata__report__pack(&rep, buf);
	ret = node_writer_begin(n, FEED_REPORT, &w, e);
	if (ret == 0)
		ret = node_writer_put(w, "report", (const uint8_t *)"2024-01", 7, buf, len, e);
	if (ret == 0)
		ret = node_writer_commit(&w, NULL, NULL, e);
	node_writer_abort(&w);
	node_close(&n);
	return ret;
}

Test(node_cli_untrusted, a_report_figure_beyond_the_max_is_refused_at_ingest)
{
	struct err e = {0};

	cr_assert_eq(write_report(INT64_MAX, &e), -EINVAL);
	cr_assert(has(e.msg, "figure dues_paid_amount is out of range"), "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(write_report(FIGURE_MAX + 1, &e), -EINVAL, "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(write_report(-1, &e), -EINVAL, "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(write_report(FIGURE_MAX, &e), 0, "%s", e.msg);
	cr_assert_eq(node_verify(test_node), 0);
}

Test(node_cli_untrusted, roll_up_sums_at_the_max_are_checked_not_wrapped)
{
	struct figures sum = {0};
	Strata__Figures child;

	strata__figures__init(&child);
	child.dues_paid_amount = FIGURE_MAX;
	child.points = -FIGURE_MAX;
	child.study_minutes = FIGURE_MAX;
	cr_assert_eq(figures_add_proto(&sum, &child), 0);
	cr_assert_eq(sum.p.dues_paid_amount, FIGURE_MAX);
	/* a second child at the max: the sum is refused and sum is unchanged */
	cr_assert_eq(figures_add_proto(&sum, &child), -ERANGE);
	cr_assert_eq(sum.p.dues_paid_amount, FIGURE_MAX);
	cr_assert_eq(sum.p.points, -FIGURE_MAX);
	cr_assert_eq(sum.p.study_minutes, (uint64_t)FIGURE_MAX);
	/* the case: values that would wrap an int64_t */
	child.dues_paid_amount = INT64_MAX;
	cr_assert_eq(figures_add_proto(&sum, &child), -ERANGE);
	child.dues_paid_amount = 0;
	child.points = 0;
	child.study_minutes = 0;
	child.members_full = UINT64_MAX;
	cr_assert_eq(figures_add_proto(&sum, &child), -ERANGE);
	cr_assert_eq(sum.p.members_full, 0);
	figures_clear(&sum);
}

/* A received value is checked as protobuf-c unpacks it, strings as C
 * strings: a NUL inside one (which no CSV, option or peer may smuggle in)
 * must make the value invalid, not hide what follows it. */
Test(node_cli_untrusted, a_received_string_with_a_nul_is_refused_at_ingest)
{
	const struct member_text t = {.id = "M7", .name = "LiXEVIL", .category = "full", .joined = "2020-01-01"};
	struct node *n = NULL;
	struct node_writer *w = NULL;
	struct err e = {0};
	Strata__Member m;
	uint8_t buf[512], *x;
	size_t len;
	int ret;

	cr_assert_eq(keys_init(), 0);
	cr_assert_eq(member_from_text(&m, &t, &e), 0, "%s", e.msg);
	len = strata__member__get_packed_size(&m);
	cr_assert(len <= sizeof buf);
	strata__member__pack(&m, buf);
	x = memchr(buf, 'X', len);
	cr_assert_not_null(x);
	*x = '\0'; /* name "Li\0EVIL" */
	cr_assert_eq(node_open(&n, test_node, 0, &e), 0, "%s", e.msg);
	ret = node_writer_begin(n, FEED_UP, &w, &e);
	if (ret == 0)
		ret = node_writer_put(w, "member", (const uint8_t *)"M7", 2, buf, len, &e);
	if (ret == 0)
		ret = node_writer_commit(&w, NULL, NULL, &e);
	node_writer_abort(&w);
	node_close(&n);
	cr_assert_eq(ret, -EINVAL, "%d %s", ret, e.msg);
	cr_assert(has(e.msg, "not in canonical form"), "%s", e.msg);
	cr_assert_eq(node_member_count(test_node), 0);
}
