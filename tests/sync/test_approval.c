/* SPDX-License-Identifier: MIT */
/*
 * sync_approval: multi-level approval of monthly reports over one daemon
 * network city -> district -> street -> three branches (issue 14), in
 * stages: a street's acceptance needs its branches accepted (a missing
 * one is named; a revoked one is not expected); who may act is named in a
 * refusal; a return reaches the branch's daemon log; an acceptance locks
 * the month at the branch (add, import and submit refused with the
 * reason, erase still works) and survives a key rotation; the district
 * reopens it two levels down; the history lists every step in order.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/sync/net.h"

TestSuite(sync_approval, .init = net_setup, .fini = net_teardown);

/* The month under way (local time, as the nodes see it): the units below
 * are expected for it (they joined before it ended), its reports are
 * provisional and may still be accepted. */
static char PERIOD[8], PREV[8], TODAY[11];
#define FUTURE "2099-01"

static struct {
	struct net_node *city, *district, *street, *hetong, *lianhua, *gulang;
	uint64_t first; /* hetong's first report */
	char backup[256]; /* hetong's store before any acceptance */
} N;

/* Runs strata ARGS; asserts the exit status; out gets stdout+stderr. */
static void expect(int status, char *out, size_t cap, const char *arg, ...) __attribute__((sentinel));

static void expect(int status, char *out, size_t cap, const char *arg, ...)
{
	const char *argv[24] = {arg};
	struct net_run r;
	va_list ap;
	size_t n = 1;

	va_start(ap, arg);
	while (n < 23 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	net_run(&r, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7], argv[8], argv[9], argv[10],
		argv[11], argv[12], argv[13], argv[14], argv[15], NULL);
	snprintf(out, cap, "%s%s", r.out, r.err);
	cr_assert_eq(r.status, status, "strata %s %s: exit %d, expected %d: %s", argv[0], argv[1], r.status, status, out);
	net_run_free(&r);
}

static uint64_t submit(struct net_node *n)
{
	struct net_run r;
	json_t *j;
	uint64_t seq;

	net_run(&r, "report", "submit", "-d", n->dir, "--period", PERIOD, "--json", NULL);
	cr_assert_eq(r.status, 0, "submit at %s: %s", n->label, r.err);
	j = net_run_json(&r);
	seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	cr_assert(json_is_true(json_object_get(j, "provisional")), "the month under way is provisional: %s", r.out);
	net_release(j);
	net_run_free(&r);
	return seq;
}

static bool has_report(const struct net_node *at, const struct net_node *of, uint64_t seq)
{
	return net_head(at, of->key, FEED_REPORT, NULL) >= seq;
}

static bool has_down(const struct net_node *at, const struct net_node *of)
{
	return net_head(at, of->key, FEED_DOWN, NULL) == net_head(of, of->key, FEED_DOWN, NULL);
}

static void start(void)
{
	char out[4096];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(PERIOD, sizeof PERIOD, "%Y-%m", &tm);
	strftime(TODAY, sizeof TODAY, "%Y-%m-%d", &tm);
	tm.tm_mday = 1;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	mktime(&tm);
	strftime(PREV, sizeof PREV, "%Y-%m", &tm);

	N.city = net_node_init("city", "xiamen", true, true);
	N.district = net_node_init("huli", "xiamen/huli", false, true);
	N.street = net_node_init("jinshan", "xiamen/huli/jinshan", false, true);
	N.hetong = net_node_init("hetong", "xiamen/huli/jinshan/hetong", false, false);
	N.lianhua = net_node_init("lianhua", "xiamen/huli/jinshan/lianhua", false, false);
	N.gulang = net_node_init("gulang", "xiamen/huli/jinshan/gulang", false, false);
	net_node_start(N.city);
	net_node_join(N.district, N.city, NULL);
	net_node_start(N.district);
	net_node_join(N.street, N.district, NULL);
	net_node_start(N.street);
	net_node_join(N.hetong, N.street, NULL);
	net_node_start(N.hetong);
	net_node_join(N.lianhua, N.street, NULL);
	net_node_start(N.lianhua);
	net_node_join(N.gulang, N.street, NULL); /* never reports: revoked later */
	net_ok("member", "add", "-d", N.hetong->dir, "--id", "HT1", "--name", "郑文君", "--category", "full", "--joined",
	       "2019-03-12", "--phone", "13800000001", NULL);
	net_ok("member", "add", "-d", N.hetong->dir, "--id", "HT2", "--name", "林海燕", "--category", "full", "--joined",
	       "2020-05-01", NULL);
	net_ok("dues", "add", "-d", N.hetong->dir, "--member", "HT1", "--period", PERIOD, "--amount", "1000", "--paid",
	       TODAY, NULL);
	/* a month not begun is refused; nothing written */
	expect(2, out, sizeof out, "report", "submit", "-d", N.hetong->dir, "--period", FUTURE, NULL);
	cr_assert(net_has(out, "period " FUTURE " has not begun"), "%s", out);
	cr_assert_eq(net_head(N.hetong, N.hetong->key, FEED_REPORT, NULL), 0);
}

/* The street returns hetong's first report; the return reaches the branch. */
static void return_reaches_the_branch(void)
{
	char out[4096], want[512];

	N.first = submit(N.hetong);
	NET_WAIT(NET_DEADLINE_MS, has_report(N.street, N.hetong, N.first), "hetong's report at the street");
	/* the district is not the parent: the refusal names who may act */
	NET_WAIT(NET_DEADLINE_MS, has_report(N.district, N.hetong, N.first), "hetong's report at the district");
	expect(2, out, sizeof out, "report", "return", "-d", N.district->dir, "--period", PERIOD, "--from",
	       N.hetong->path, "--comment", "x", NULL);
	cr_assert(net_has(out, "xiamen/huli/jinshan/hetong is not a child of xiamen/huli: it is decided by its parent "
			       "xiamen/huli/jinshan; this node (xiamen/huli) can reopen it"),
		  "%s", out);
	expect(1, out, sizeof out, "report", "reopen", "-d", N.street->dir, "--period", PERIOD, "--from", N.hetong->path,
	       NULL);
	cr_assert(net_has(out, "--comment is required"), "%s", out);
	net_ok("report", "return", "-d", N.street->dir, "--period", PERIOD, "--from", N.hetong->path, "--comment",
	       "HT2 的10月党费未登记", NULL);
	snprintf(want, sizeof want, "report %s of xiamen/huli/jinshan/hetong (report #1): returned by xiamen/huli/jinshan: "
		 "\"HT2 的10月党费未登记\"", PERIOD);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(N.hetong, want), "the return in hetong's daemon log");
	expect(0, out, sizeof out, "status", "-d", N.hetong->dir, NULL);
	snprintf(want, sizeof want, "%s report #1 returned by xiamen/huli/jinshan on ", PERIOD);
	cr_assert(net_has(out, want) &&
			  net_has(out, "\"HT2 的10月党费未登记\""),
		  "status at hetong: %s", out);	/* a backup from before any acceptance, for lock_survives_restore */
	net_ok("backup", "-d", N.hetong->dir, "-o", net_path(N.backup, "hetong.backup"), NULL);
}

/* The district cannot accept the street while branches are missing. */
static void acceptance_needs_the_level_below(void)
{
	char out[4096];
	uint64_t s, seq;

	net_ok("dues", "add", "-d", N.hetong->dir, "--member", "HT2", "--period", PERIOD, "--amount", "1000", "--paid",
	       TODAY, NULL);
	seq = submit(N.hetong);
	NET_WAIT(NET_DEADLINE_MS, has_report(N.street, N.hetong, seq), "hetong's second report at the street");
	net_ok("report", "accept", "-d", N.street->dir, "--period", PERIOD, "--from", N.hetong->path, NULL);
	s = submit(N.street);
	NET_WAIT(NET_DEADLINE_MS, has_report(N.district, N.street, s), "the street's report at the district");
	expect(2, out, sizeof out, "report", "accept", "-d", N.district->dir, "--period", PERIOD, "--from",
	       N.street->path, NULL);
	cr_assert(net_has(out, "cannot accept the report of xiamen/huli/jinshan for ") &&
			  net_has(out, ": 2 units below it are not accepted") &&
			  net_has(out, "xiamen/huli/jinshan/lianhua (not reported)") &&
			  net_has(out, "xiamen/huli/jinshan/gulang (not reported)") && !net_has(out, "hetong"),
		  "%s", out);
	/* lianhua reports and is accepted; gulang is revoked: not expected */
	seq = submit(N.lianhua);
	NET_WAIT(NET_DEADLINE_MS, has_report(N.street, N.lianhua, seq), "lianhua's report at the street");
	net_ok("report", "accept", "-d", N.street->dir, "--period", PERIOD, "--from", N.lianhua->path, NULL);
	net_ok("revoke", "-d", N.street->dir, "--name", N.gulang->path, "--reason", "merged", NULL);
	s = submit(N.street);
	NET_WAIT(NET_DEADLINE_MS, has_report(N.district, N.street, s), "the street's second report at the district");
	NET_WAIT(NET_DEADLINE_MS, net_head(N.district, N.street->key, FEED_TRUST, NULL) ==
					  net_head(N.street, N.street->key, FEED_TRUST, NULL),
		 "the revocation at the district");
	net_ok("report", "accept", "-d", N.district->dir, "--period", PERIOD, "--from", N.street->path, NULL);
}

/* hetong's accepted month is locked; erasing still works. */
static void lock_refuses_changes(void)
{
	char out[4096], csv[256], want[256];
	uint64_t up;
	FILE *f;

	NET_WAIT(NET_DEADLINE_MS, has_down(N.hetong, N.street), "the street's decisions at hetong");
	up = net_head(N.hetong, N.hetong->key, FEED_UP, NULL);
	/* last month's dues paid this month count in this month */
	expect(2, out, sizeof out, "dues", "add", "-d", N.hetong->dir, "--member", "HT2", "--period", PREV, "--amount",
	       "500", "--paid", TODAY, NULL);
	snprintf(want, sizeof want, "counts in %s (its paid): period %s was accepted by xiamen/huli/jinshan on ", PERIOD,
		 PERIOD);
	cr_assert(net_has(out, want) && net_has(out, "ask it to reopen"), "dues add in the accepted month: %s", out);
	net_path(csv, "dues.csv");
	cr_assert_not_null(f = fopen(csv, "w"));
	fprintf(f, "member,period,amount,paid,method\nHT2,%s,500,%s,cash\n", PREV, TODAY);
	fclose(f);
	expect(2, out, sizeof out, "dues", "import", "-d", N.hetong->dir, csv, NULL);
	snprintf(want, sizeof want, "period %s was accepted by xiamen/huli/jinshan", PERIOD);
	cr_assert(net_has(out, want), "dues import with a row in the accepted month: %s", out);
	/* members too (the bulk importer): one joined in the accepted month */
	net_path(csv, "members.csv");
	cr_assert_not_null(f = fopen(csv, "w"));
	fprintf(f, "id,name,category,joined\nHT8,陈建国,full,2018-01-02\nHT9,张三,probationary,%s\n", TODAY);
	fclose(f);
	expect(2, out, sizeof out, "member", "import", "-d", N.hetong->dir, csv, NULL);
	cr_assert(net_has(out, want) && net_has(out, "(its joined)"), "member import with a join in the month: %s", out);
	expect(2, out, sizeof out, "report", "submit", "-d", N.hetong->dir, "--period", PERIOD, NULL);
	cr_assert(net_has(out, "not submitted: ") && net_has(out, want), "%s", out);
	cr_assert_eq(net_head(N.hetong, N.hetong->key, FEED_UP, NULL), up, "a refused change wrote to hetong's up feed");
	cr_assert_eq(net_head(N.hetong, N.hetong->key, FEED_REPORT, NULL), 2, "a refused submit wrote a report");
	/* another month is open */
	net_ok("dues", "add", "-d", N.hetong->dir, "--member", "HT1", "--period", PREV, "--amount", "500", NULL);
	/* erasing a person's data is never refused by a lock */
	net_ok("erase", "-d", N.hetong->dir, "--collection", "member", "--key", "HT1", "--reason", "asked", NULL);
}

/* The district reopens hetong two levels down; hetong resubmits. */
static void reopen_from_above(void)
{
	char out[4096];
	uint64_t seq;

	expect(2, out, sizeof out, "report", "reopen", "-d", N.hetong->dir, "--period", PERIOD, "--from",
	       N.lianhua->path, "--comment", "x", NULL);
	cr_assert(net_has(out, "it is decided by its parent xiamen/huli/jinshan"), "%s", out);
	net_ok("report", "reopen", "-d", N.district->dir, "--period", PERIOD, "--from", N.hetong->path, "--comment",
	       "补录10月党费", NULL);
	NET_WAIT(NET_DEADLINE_MS, has_down(N.hetong, N.district), "the reopen at hetong");
	NET_WAIT(NET_DEADLINE_MS, net_log_has(N.hetong, "reopened by xiamen/huli: \"补录10月党费\""),
		 "the reopen in hetong's daemon log");
	net_ok("dues", "add", "-d", N.hetong->dir, "--member", "HT2", "--period", PREV, "--amount", "500", "--paid",
	       TODAY, NULL);
	seq = submit(N.hetong);
	NET_WAIT(NET_DEADLINE_MS, has_report(N.street, N.hetong, seq) && has_down(N.street, N.district),
		 "hetong's report and the reopen at the street");
	net_ok("report", "accept", "-d", N.street->dir, "--period", PERIOD, "--from", N.hetong->path, NULL);
	/* the street was reopened with it: it can submit again */
	submit(N.street);
}

static void history_in_order(void)
{
	static const char *const want[] = {"submitted", "returned", "submitted", "accepted",
					   "reopened",  "submitted", "accepted"};
	struct net_run r;
	json_t *j, *h;

	NET_WAIT(NET_DEADLINE_MS, has_down(N.hetong, N.street), "the last acceptance at hetong");
	net_run(&r, "report", "history", "-d", N.hetong->dir, "--period", PERIOD, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = net_run_json(&r);
	h = json_object_get(j, "history");
	cr_assert_eq(json_array_size(h), 7, "%s", r.out);
	for (size_t i = 0; i < 7; i++)
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(h, i), "event")), want[i], "%s", r.out);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 4), "by")), "xiamen/huli");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1), "comment")), "HT2 的10月党费未登记");
	/* who may act: at the branch itself, its parent decides and it may not */
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "authority"), "decided_by")),
			 N.street->path, "%s", r.out);
	cr_assert_eq(json_array_size(json_object_get(json_object_get(j, "authority"), "this_node_may")), 0, "%s", r.out);
	net_release(j);
	net_run_free(&r);
	/* the district sees the street's unit history from its own store */
	net_run(&r, "report", "history", "-d", N.district->dir, "--period", PERIOD, "--unit", N.street->path, NULL);
	cr_assert(r.status == 0 && net_has(r.out, "accepted  report #") && net_has(r.out, "reopened  report #"), "%s%s",
		  r.out, r.err);
	cr_assert(net_has(r.out, "decided by xiamen/huli: this node (accept, return, reopen)"), "%s", r.out);
	net_run_free(&r);
	/* two levels down the district may only reopen */
	net_run(&r, "report", "history", "-d", N.district->dir, "--period", PERIOD, "--unit", N.hetong->path, NULL);
	cr_assert(r.status == 0 && net_has(r.out, "decided by xiamen/huli/jinshan; this node, above it, may reopen"),
		  "%s%s", r.out, r.err);
	net_run_free(&r);
}

/* After a key rotation the lock still applies to the unit. */
/* Restored from the backup made before any acceptance, hetong learns the
 * decisions again from its street (its down feed comes back with the links)
 * and the accepted month is locked again once its write fence lifts. */
static void lock_survives_restore(void)
{
	char out[4096];

	net_node_stop(N.hetong);
	expect(0, out, sizeof out, "restore", "-d", N.hetong->dir, "-i", N.backup, NULL);
	net_node_start(N.hetong);
	NET_WAIT(NET_DEADLINE_MS, has_down(N.hetong, N.street), "the street's decisions back at the restored hetong");
	NET_WAIT(NET_DEADLINE_MS, json_is_null(json_object_get(net_node_status(N.hetong), "write_fence")),
		 "the restored hetong's write fence to lift");
	expect(2, out, sizeof out, "dues", "update", "-d", N.hetong->dir, "--member", "HT2", "--period", PERIOD,
	       "--amount", "100", NULL);
	cr_assert(net_has(out, "was accepted by xiamen/huli/jinshan"), "after the restore: %s", out);
}

static void lock_survives_rotation(void)
{
	char out[4096];

	net_node_stop(N.hetong);
	expect(0, out, sizeof out, "rotate-key", "-d", N.hetong->dir, NULL);
	expect(2, out, sizeof out, "dues", "update", "-d", N.hetong->dir, "--member", "HT2", "--period", PERIOD,
	       "--amount", "100", NULL);
	cr_assert(net_has(out, "was accepted by xiamen/huli/jinshan"), "after the rotation: %s", out);
}

Test(sync_approval, accept_lock_reopen_history_across_levels, .timeout = 240)
{
	start();
	return_reaches_the_branch();
	acceptance_needs_the_level_below();
	lock_refuses_changes();
	reopen_from_above();
	history_in_order();
	lock_survives_restore();
	lock_survives_rotation();
}
