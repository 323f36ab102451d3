/* SPDX-License-Identifier: MIT */
/*
 * sync_summary: `report show --summary` and the expected set (issue 14)
 * over one network of daemons: a city, its district huli, and six streets
 * under huli, each one case of the reporting rate:
 *   ontime   reports after the period, before the deadline;
 *   late     reports after the deadline;
 *   missing  never reports;
 *   revoked  revoked during the period: not expected;
 *   rotated  reports on time, then rotates its key: one unit, on time;
 *   newer    joins after the period: not expected.
 * The period is the month before last, so that the real clock is past its
 * deadline; every process runs under a clock shim (clock_shim.c) that the
 * test moves: to day 10 of the period for the joins and the revocation, to
 * day 2 of the next month for the reports on time, then back to the real
 * clock. The summaries at the district (level 1: the streets) and at the
 * city (level 1: huli, level 2: the streets) are checked against counts
 * made here from the cases above, text against JSON.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"

TestSuite(sync_summary, .init = net_setup, .fini = net_teardown);

enum { ONTIME, LATE, MISSING, REVOKED, ROTATED, NEWER, NSTREETS };
static const char *const labels[NSTREETS] = {"ontime", "late", "missing", "revoked", "rotated", "newer"};
/* What each street is, as this test made it: expected, and then reported on time / late. */
static const bool expected[NSTREETS] = {true, true, true, false, true, false};
static const int status[NSTREETS] = {'o', 'l', 'm', 'm', 'o', 'm'}; /* on time, late, missing */

static struct {
	struct net_node *city, *huli, *s[NSTREETS];
	char period[8];
	char clock[256];
	time_t join_at, report_at; /* the clock's dates for the two phases */
} S;

/* Moves every process's clock so that it reads `at` now (0: the real clock). */
static void clock_at(time_t at)
{
	FILE *f = fopen(S.clock, "w");

	cr_assert_not_null(f);
	fprintf(f, "%lld\n", at ? (long long)(at - time(NULL)) : 0LL);
	fclose(f);
}

/* The period two months back, and noon of its day 10 and of day 2 of the next month (local time). */
static void dates(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	tm.tm_mon -= 2;
	tm.tm_mday = 10;
	tm.tm_hour = 12;
	tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	S.join_at = mktime(&tm);
	strftime(S.period, sizeof S.period, "%Y-%m", &tm);
	tm.tm_mon += 1;
	tm.tm_mday = 2;
	tm.tm_isdst = -1;
	S.report_at = mktime(&tm);
}

static void shim_on(void)
{
	char so[512];
	const char *build = getenv("STRATA_TEST_BUILDDIR");

	cr_assert_not_null(build, "STRATA_TEST_BUILDDIR is not set");
	net_path(S.clock, "clock");
	clock_at(0);
	snprintf(so, sizeof so, "%s/tests/sync/libstrata-test-clock.so", build);
	setenv("STRATA_TEST_CLOCK", S.clock, 1);
	setenv("LD_PRELOAD", so, 1);
	/* under ASan the shim is not the first library: allowed here */
	setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:verify_asan_link_order=0", 1);
}

static void submit(struct net_node *x)
{
	net_ok("report", "submit", "-d", x->dir, "--period", S.period, NULL);
}

/* Waits until AT holds x's report feed at x's head. */
static void report_reaches(struct net_node *at, struct net_node *x, const uint8_t key[KEY_BYTES])
{
	uint64_t head = net_head(x, key, FEED_REPORT, NULL);

	cr_assert_gt(head, 0, "%s wrote no report", x->label);
	NET_WAIT(NET_DEADLINE_MS, net_head(at, key, FEED_REPORT, NULL) == head, "the report of %s at %s", x->label,
		 at->label);
}

static void network_in_the_period(void)
{
	char path[64];

	dates();
	shim_on();
	clock_at(S.join_at);
	S.city = net_node_init("city", "xiamen", true, true);
	S.huli = net_node_init("huli", "xiamen/huli", false, true);
	for (int i = 0; i < NSTREETS; i++) {
		snprintf(path, sizeof path, "xiamen/huli/%s", labels[i]);
		S.s[i] = net_node_init(labels[i], path, false, false);
	}
	net_node_start(S.city);
	net_node_join(S.huli, S.city, NULL);
	net_node_start(S.huli);
	for (int i = 0; i < NSTREETS; i++)
		if (i != NEWER) {
			net_node_join(S.s[i], S.huli, NULL);
			net_node_start(S.s[i]);
		}
	net_ok("revoke", "-d", S.huli->dir, "--name", S.s[REVOKED]->path, "--reason", "merged", NULL);
	net_node_stop(S.s[REVOKED]);
}

static void reports_and_changes_after_it(void)
{
	struct net_run r;
	json_t *j;
	uint8_t rotated[KEY_BYTES];

	clock_at(S.report_at);
	submit(S.s[ONTIME]);
	submit(S.s[ROTATED]);
	report_reaches(S.huli, S.s[ROTATED], S.s[ROTATED]->key);
	submit(S.huli);
	clock_at(0);
	submit(S.s[LATE]);
	/* the rotated street rotates offline (its district certifies the new key) */
	net_node_stop(S.s[ROTATED]);
	net_run(&r, "rotate-key", "-d", S.s[ROTATED]->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "rotate-key: %s", r.err);
	j = net_run_json(&r);
	cr_assert_eq(hex_decode(rotated, KEY_BYTES, json_string_value(json_object_get(j, "new_key"))), 0);
	net_release(j);
	net_run_free(&r);
	net_node_start(S.s[ROTATED]);
	net_node_join(S.s[NEWER], S.huli, NULL);
	net_node_start(S.s[NEWER]);
	for (int i = 0; i < 2; i++) {
		struct net_node *at = i ? S.city : S.huli;

		report_reaches(at, S.s[ONTIME], S.s[ONTIME]->key);
		report_reaches(at, S.s[LATE], S.s[LATE]->key);
		report_reaches(at, S.s[ROTATED], S.s[ROTATED]->key);
		NET_WAIT(NET_DEADLINE_MS, net_has_cert(at, rotated), "the rotated key's certificate at %s", at->label);
		NET_WAIT(NET_DEADLINE_MS, net_has_cert(at, S.s[NEWER]->key), "the new street at %s", at->label);
	}
	report_reaches(S.city, S.huli, S.huli->key);
}

/* This test's own counts of the streets (level `streets` of a view). */
static void own_counts(json_int_t c[6])
{
	memset(c, 0, 6 * sizeof *c); /* expected, reported, on time, late, missing, not expected */
	for (int i = 0; i < NSTREETS; i++) {
		if (!expected[i]) {
			c[5]++;
			continue;
		}
		c[0]++;
		c[1] += status[i] != 'm';
		c[2] += status[i] == 'o';
		c[3] += status[i] == 'l';
		c[4] += status[i] == 'm';
	}
}

static void check_counts(json_t *o, const json_int_t c[6], const char *where)
{
	static const char *const names[6] = {"expected", "reported", "on_time", "late", "missing", "not_expected"};

	for (int k = 0; k < 6; k++)
		cr_assert_eq(json_integer_value(json_object_get(o, names[k])), c[k], "%s: %s is %lld, not %lld: %s", where,
			     names[k], (long long)json_integer_value(json_object_get(o, names[k])), (long long)c[k],
			     json_dumps(o, 0));
	cr_assert_float_eq(json_real_value(json_object_get(o, "reporting_rate")), (double)c[1] / (double)c[0], 1e-9,
			   "%s", where);
	cr_assert_float_eq(json_real_value(json_object_get(o, "on_time_rate")), (double)c[2] / (double)c[0], 1e-9,
			   "%s", where);
}

static json_t *summary_json(struct net_node *at)
{
	struct net_run r;
	json_t *j;

	net_run(&r, "report", "show", "-d", at->dir, "--period", S.period, "--summary", "--json", NULL);
	cr_assert_eq(r.status, 0, "report show --summary at %s: %s", at->label, r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	return j;
}

/* The streets in a summary's lists: not_reported holds the missing one,
 * not_expected the revoked and the newer one, with the reason. */
static void check_lists(json_t *j, unsigned level, const char *where)
{
	json_t *nr = json_object_get(j, "not_reported"), *ne = json_object_get(j, "not_expected"), *x;
	size_t i;
	int seen = 0;

	cr_assert_eq(json_array_size(nr), 1, "%s: not_reported %s", where, json_dumps(nr, 0));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(nr, 0), "name")), S.s[MISSING]->path);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(nr, 0), "level")), level, "%s", where);
	cr_assert(json_is_true(json_object_get(json_array_get(nr, 0), "overdue")), "%s: the deadline has passed", where);
	cr_assert_eq(json_array_size(ne), 2, "%s: not_expected %s", where, json_dumps(ne, 0));
	json_array_foreach(ne, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		const char *why = json_string_value(json_object_get(x, "why"));

		if (strcmp(name, S.s[REVOKED]->path) == 0) {
			seen |= 1;
			cr_assert(strstr(why, "revoked on"), "%s: %s", where, why);
		}
		if (strcmp(name, S.s[NEWER]->path) == 0) {
			seen |= 2;
			cr_assert(strstr(why, "after the period"), "%s: %s", where, why);
		}
	}
	cr_assert_eq(seen, 3, "%s: %s", where, json_dumps(ne, 0));
}

/* The text summary's line LABEL holds the JSON's counts of o. */
static void check_text_line(const char *out, const char *label, json_t *o)
{
	const char *p = out;
	unsigned long long v[8];
	char head[16];

	while ((p = strstr(p, label)) && !(p == out || p[-1] == '\n'))
		p++;
	cr_assert_not_null(p, "no line \"%s\" in:\n%s", label, out);
	cr_assert_eq(sscanf(p, "%15s %llu %llu %*f%% %llu %*f%% %llu %llu %llu", head, &v[0], &v[1], &v[2], &v[3], &v[4],
			    &v[5]),
		     7, "line %s of:\n%s", label, out);
	cr_assert_eq(v[0], (unsigned long long)json_integer_value(json_object_get(o, "expected")), "%s", out);
	cr_assert_eq(v[1], (unsigned long long)json_integer_value(json_object_get(o, "reported")), "%s", out);
	cr_assert_eq(v[2], (unsigned long long)json_integer_value(json_object_get(o, "on_time")), "%s", out);
	cr_assert_eq(v[3], (unsigned long long)json_integer_value(json_object_get(o, "late")), "%s", out);
	cr_assert_eq(v[4], (unsigned long long)json_integer_value(json_object_get(o, "missing")), "%s", out);
	cr_assert_eq(v[5], (unsigned long long)json_integer_value(json_object_get(o, "not_expected")), "%s", out);
}

static void summaries_match_the_tests_counts(void)
{
	json_int_t streets[6], huli[6] = {1, 1, 1, 0, 0, 0}, all[6];
	struct net_run r;
	json_t *j;

	own_counts(streets);
	for (int k = 0; k < 6; k++)
		all[k] = streets[k] + huli[k];
	/* at the district: level 1 is the streets */
	j = summary_json(S.huli);
	cr_assert_eq(json_array_size(json_object_get(j, "levels")), 1, "%s", json_dumps(j, 0));
	check_counts(json_array_get(json_object_get(j, "levels"), 0), streets, "huli, level 1");
	check_counts(json_object_get(j, "total"), streets, "huli, total");
	check_lists(j, 1, "huli");
	net_run(&r, "report", "show", "-d", S.huli->dir, "--period", S.period, "--summary", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	check_text_line(r.out, "1 ", json_array_get(json_object_get(j, "levels"), 0));
	check_text_line(r.out, "all ", json_object_get(j, "total"));
	cr_assert(net_has(r.out, "NOT REPORTED") && net_has(r.out, S.s[MISSING]->path), "%s", r.out);
	net_run_free(&r);
	net_release(j);
	/* at the city: level 1 is huli, level 2 the streets */
	j = summary_json(S.city);
	cr_assert_eq(json_array_size(json_object_get(j, "levels")), 2, "%s", json_dumps(j, 0));
	check_counts(json_array_get(json_object_get(j, "levels"), 0), huli, "city, level 1");
	check_counts(json_array_get(json_object_get(j, "levels"), 1), streets, "city, level 2");
	check_counts(json_object_get(j, "total"), all, "city, total");
	check_lists(j, 2, "city");
	net_release(j);
}

/* The tree view agrees: on_time false for the missing street, the rotated
 * one listed once (under its new key) and on time, the others not expected. */
static void tree_view_agrees(void)
{
	struct net_run r;
	json_t *j, *kids, *k;
	size_t i;
	int count[NSTREETS] = {0};

	net_run(&r, "report", "show", "-d", S.huli->dir, "--period", S.period, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	kids = json_object_get(json_object_get(j, "node"), "children");
	json_array_foreach(kids, i, k) {
		const char *name = json_string_value(json_object_get(k, "name"));

		for (int s = 0; s < NSTREETS; s++) {
			if (strcmp(name, S.s[s]->path) != 0)
				continue;
			count[s]++;
			cr_assert_eq(json_is_true(json_object_get(k, "expected")), expected[s], "%s", json_dumps(k, 0));
			cr_assert_eq(json_is_true(json_object_get(k, "on_time")), status[s] == 'o', "%s", json_dumps(k, 0));
			cr_assert_str_eq(json_string_value(json_object_get(k, "status")),
					 status[s] == 'o' ? "on_time" : status[s] == 'l' ? "late" : "missing");
		}
	}
	for (int s = 0; s < NSTREETS; s++)
		cr_assert_eq(count[s], 1, "%s is listed %d times", labels[s], count[s]);
	net_release(j);
}

/* The district decides: the view shows each decision, by whom and when,
 * and the comment of a return (JSON and text). */
static void decisions_are_shown(void)
{
	struct net_run r;
	json_t *j, *a;

	net_ok("report", "accept", "-d", S.huli->dir, "--period", S.period, "--from", S.s[ONTIME]->path, NULL);
	net_ok("report", "return", "-d", S.huli->dir, "--period", S.period, "--from", S.s[LATE]->path, "--comment",
	       "dues missing", NULL);
	net_run(&r, "report", "show", "-d", S.huli->dir, "--period", S.period, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	for (int s = 0; s < 2; s++) {
		json_t *kids = json_object_get(json_object_get(j, "node"), "children"), *k;
		size_t i;

		a = NULL;
		json_array_foreach(kids, i, k)
			if (strcmp(json_string_value(json_object_get(k, "name")), S.s[s ? LATE : ONTIME]->path) == 0)
				a = json_object_get(k, "approval");
		cr_assert(json_is_object(a), "the decision on %s: %s", labels[s ? LATE : ONTIME], json_dumps(kids, 0));
		cr_assert_str_eq(json_string_value(json_object_get(a, "decision")), s ? "returned" : "accepted");
		cr_assert_str_eq(json_string_value(json_object_get(a, "by")), S.huli->path);
		cr_assert(json_is_string(json_object_get(a, "at")) && strlen(json_string_value(json_object_get(a, "at"))) == 20,
			  "%s", json_dumps(a, 0));
		if (s)
			cr_assert_str_eq(json_string_value(json_object_get(a, "comment")), "dues missing");
	}
	net_release(j);
	net_run(&r, "report", "show", "-d", S.huli->dir, "--period", S.period, NULL);
	cr_assert(r.status == 0 && net_has(r.out, "accepted by xiamen/huli on ") &&
			  net_has(r.out, "returned by xiamen/huli on ") && net_has(r.out, "(\"dues missing\")"),
		  "the decisions in the text view:\n%s", r.out);
	net_run_free(&r);
}

/* The wall clock stepped a month ahead and back (NTP, or by hand) while the
 * daemons run: no link is dropped as "silent" (the daemon's timers are
 * monotonic, sync_clock_ms), and a report written after still goes up.
 * The test's own clock moves above (join, report dates) count too. */
static void links_survive_clock_steps(void)
{
	clock_at(time(NULL) + 30 * 86400);
	net_sleep_ms(2500); /* two sweeps and more */
	clock_at(0);
	net_sleep_ms(2500);
	net_ok("member", "add", "-d", S.s[ONTIME]->dir, "--id", "CLK001", "--name", "钟", "--category", "full",
	       "--joined", "2001-07-01", NULL);
	NET_WAIT(NET_DEADLINE_MS,
		 net_head(S.huli, S.s[ONTIME]->key, FEED_UP, NULL) == net_head(S.s[ONTIME], S.s[ONTIME]->key, FEED_UP, NULL),
		 "a write after the clock steps to reach huli");
	cr_assert(!net_log_has(S.huli, "silent for"), "a clock step dropped a link at huli:\n%s", net_diag());
	cr_assert(!net_log_has(S.city, "silent for"), "a clock step dropped a link at the city:\n%s", net_diag());
	cr_assert(!net_log_has(S.s[ONTIME], "silent for"), "a clock step dropped the street's link:\n%s", net_diag());
}

Test(sync_summary, reporting_rates_per_level_over_the_expected_set)
{
	network_in_the_period();
	reports_and_changes_after_it();
	summaries_match_the_tests_counts();
	tree_view_agrees();
	decisions_are_shown();
	links_survive_clock_steps();
	net_stop_all();
}
