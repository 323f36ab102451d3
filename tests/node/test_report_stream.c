/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of report show's walk (node/report/walk.c, view_json.c,
 * summary.c) on a real store: a city with 2 districts of 3 branches, built
 * by bench's strata-gen-rollup (real nodes, signed entries, reports) and
 * imported here with bundle_import. The JSON written unit by unit
 * (report_view_write) is the very text of the tree gathered by the same
 * walk (report_view) dumped as JSON_INDENT(2); the summary counts every
 * unit by level; the deadline and the period's end are local time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/bundle/bundle.h"
#include "node/core/node.h"
#include "node/report/report.h"
#include "testproc.h"

#define DISTRICTS 2
#define BRANCHES 3 /* per district */
#define PATH_CAP 512

static char dir[PATH_CAP], city[PATH_CAP + 32];
static struct node *n;

/* The text a writer puts, gathered. */
struct buf {
	char *p;
	size_t len, cap;
};

static void put(const char *text, void *arg)
{
	struct buf *b = arg;
	size_t l = strlen(text);

	if (b->len + l + 1 > b->cap) {
		b->cap = 2 * (b->len + l + 1);
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->len, text, l + 1);
	b->len += l;
}

/* Called first by each test (an assertion in .init would say nothing). */
static void city_build(void)
{
	char gen[PATH_CAP], out[PATH_CAP + 16], bundle[PATH_CAP + 32], d[8], b[8];
	struct spawn_result r;
	struct bundle_counts c;
	size_t dup;
	struct err e = {{0}};

	snprintf(dir, sizeof dir, "/tmp/strata-stream-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(out, sizeof out, "%s/net", dir);
	snprintf(d, sizeof d, "%d", DISTRICTS);
	snprintf(b, sizeof b, "%d", BRANCHES);
	spawn_build_path(gen, sizeof gen, "bench/strata-gen-rollup");
	spawn_run(&r, NULL,
		  (char *[]){gen, "--out", out, "--districts", d, "--branches", b, "--members", "4", "--months", "2",
			     "--period", "2026-11", NULL},
		  120000);
	cr_assert_eq(r.status, 0, "strata-gen-rollup: %s", r.err);
	free(r.out);
	free(r.err);
	snprintf(city, sizeof city, "%s/city", out);
	snprintf(bundle, sizeof bundle, "%s/rollup.bundle", out);
	cr_assert_eq(node_open(&n, city, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(bundle_import(n, bundle, &c, &dup, &e), 0, "%s", e.msg);
}

static void teardown(void)
{
	node_close(&n);
	if (*dir)
		spawn_remove_tree(dir);
}

TestSuite(report_stream, .fini = teardown);

/* The streamed document is the gathered tree's JSON_INDENT(2) dump. */
static void same_document(const char *period, bool tree)
{
	struct buf b = {0};
	json_t *j = NULL;
	char *want;
	struct err e = {{0}};

	cr_assert_eq(report_view(n, period, tree, &j, &e), 0, "%s", e.msg);
	cr_assert_eq(report_view_write(n, period, tree, put, &b, &e), 0, "%s", e.msg);
	want = json_dumps(j, JSON_INDENT(2));
	cr_assert_not_null(want);
	cr_assert_eq(b.len, strlen(want) + 1, "streamed %zu bytes, the tree %zu", b.len, strlen(want) + 1);
	cr_assert(strncmp(b.p, want, strlen(want)) == 0 && b.p[b.len - 1] == '\n', "streamed:\n%s\ntree:\n%s", b.p,
		  want);
	free(want);
	free(b.p);
	json_decref(j);
}

Test(report_stream, streamed_json_is_the_trees_json)
{
	json_t *j = NULL;
	struct err e = {{0}};
	size_t reported = 0;

	city_build();

	same_document("2026-11", true);
	same_document("2026-11", false);
	same_document("2026-10", true); /* nobody reported */
	/* and the tree is the whole city: every district and branch reported */
	cr_assert_eq(report_view(n, "2026-11", true, &j, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < json_array_size(json_object_get(json_object_get(j, "node"), "children")); i++) {
		json_t *dj = json_array_get(json_object_get(json_object_get(j, "node"), "children"), i), *bj;
		size_t k;

		reported += json_is_true(json_object_get(dj, "reported"));
		json_array_foreach(json_object_get(dj, "children"), k, bj) {
			reported += json_is_true(json_object_get(bj, "reported"));
			cr_assert_str_eq(json_string_value(json_object_get(bj, "check")), "matches");
		}
	}
	cr_assert_eq(reported, DISTRICTS + DISTRICTS * BRANCHES);
	json_decref(j);
}

static int count_rows(const struct report_row *r, void *arg)
{
	(*(size_t *)arg)++;
	cr_assert(!r->expected || r->status == REPORT_MISSING, "%s is listed but reported", r->name);
	return 0;
}

Test(report_stream, summary_counts_by_level)
{
	struct report_summary s;
	struct err e = {{0}};
	size_t listed = 0;
	char period[REPORT_PERIOD_SIZE];
	time_t now = time(NULL);
	struct tm tm;

	city_build();

	/* 2026-11: the generator certified every unit now, after the period:
	 * none is expected, each is listed with the reason */
	cr_assert_eq(report_summary(n, "2026-11", count_rows, &listed, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(s.levels, 2);
	cr_assert_eq(s.level[1].not_expected, DISTRICTS);
	cr_assert_eq(s.level[2].not_expected, DISTRICTS * BRANCHES);
	cr_assert_eq(s.total.expected, 0);
	cr_assert_eq(listed, DISTRICTS + DISTRICTS * BRANCHES);
	/* this month: every unit expected, none has reported yet */
	localtime_r(&now, &tm);
	strftime(period, sizeof period, "%Y-%m", &tm);
	listed = 0;
	cr_assert_eq(report_summary(n, period, count_rows, &listed, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(s.level[1].expected, DISTRICTS);
	cr_assert_eq(s.level[2].expected, DISTRICTS * BRANCHES);
	cr_assert_eq(s.total.missing, DISTRICTS + DISTRICTS * BRANCHES);
	cr_assert_eq(s.total.reported, 0);
	cr_assert_eq(listed, DISTRICTS + DISTRICTS * BRANCHES);
	cr_assert_eq(report_rate(s.total.reported, s.total.expected), 0.0);
}

Test(report_stream, summary_json_agrees)
{
	struct buf b = {0};
	struct report_summary s;
	struct err e = {{0}};
	json_t *j;

	city_build();

	cr_assert_eq(report_summary(n, "2026-11", NULL, NULL, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(report_summary_write(n, "2026-11", put, &b, &e), 0, "%s", e.msg);
	j = json_loads(b.p, 0, NULL);
	cr_assert_not_null(j, "not JSON:\n%s", b.p);
	cr_assert_eq(json_array_size(json_object_get(j, "not_expected")), s.total.not_expected);
	cr_assert_eq(json_array_size(json_object_get(j, "not_reported")), s.total.missing);
	cr_assert_eq(json_array_size(json_object_get(j, "levels")), s.levels);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "total"), "not_expected")),
		     (json_int_t)s.total.not_expected);
	json_decref(j);
	free(b.p);
}

Test(report_stream, deadline_is_local_time)
{
	struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 11, .tm_mday = 6};
	uint64_t utc = (uint64_t)timegm(&tm) * 1000;

	setenv("TZ", "CST-8", 1); /* China: UTC+8, no daylight saving */
	tzset();
	/* the end of 2026-12-05 in Beijing is 16:00 UTC that day */
	cr_assert_eq(report_deadline_ms("2026-11", 5), utc - 8 * 3600 * 1000ull);
	cr_assert_eq(report_period_end_ms("2026-11"), utc - 5 * 86400000ull - 8 * 3600 * 1000ull);
	cr_assert_eq(report_deadline_ms("2026-12", 5), (uint64_t)1799193600000ull - 8 * 3600 * 1000ull); /* 2027-01-06 UTC */
	cr_assert_eq(report_deadline_ms("2026-13", 5), 0);
	setenv("TZ", "UTC0", 1);
	tzset();
	cr_assert_eq(report_deadline_ms("2026-11", 5), utc);
}
