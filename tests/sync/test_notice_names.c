/* SPDX-License-Identifier: MIT */
/*
 * sync_notice_names: notices by name and unpaid dues, over real daemons (one
 * network, in stages). A city, a district, two branches:
 *
 *   xiamen ── xiamen/huli ── xiamen/huli/jinshan, xiamen/huli/hetong,
 *                            xiamen/huli/xinlin (joins, never serves, revoked)
 *
 * - a branch acknowledges the city's notice by the city's org path (the key
 *   in hex still works); a wrong path is refused naming it and the sender
 *   of that id, and writes nothing;
 * - `notice list --unacked` at a branch lists what it has not acknowledged,
 *   with the sender's org path;
 * - the city's `notice status` lists every unit below it, acknowledged or
 *   not, matching this test's own record of who acknowledged; a revoked
 *   unit is listed, not expected;
 * - a notice due before the units joined is counted against none of them:
 *   not in the sender's expected set, not in a branch's notices_late;
 * - a branch's ack still counts after it rotated its key;
 * - `dues list --unpaid --period` lists exactly the members the report's
 *   members_unpaid counts, by this test's own table, also after a member is
 *   erased and after the branch rotated its key.
 * Figures are computed by report_compute_state on each branch's store
 * (what `report submit` signs), read-only while its daemon runs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "node/core/node.h"
#include "node/report/report.h"

TestSuite(sync_notice_names, .init = net_setup, .fini = net_teardown);

#define PAST_PERIOD "2025-06"       /* a month long past: its dues and its notice */
#define PAST_DUE PAST_PERIOD "-15"  /* due before any node of the test joined */
#define DAY_SIZE 11

struct nn {
	struct net_node *city, *huli, *jinshan, *hetong;
	struct net_node *xinlin; /* joins, never serves, and is revoked */
	char today[DAY_SIZE], period[REPORT_PERIOD_SIZE];
};

static bool holds_certs(struct net_node *const *at, size_t n, struct net_node *const *of, size_t m)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
			if (at[i] != of[j] && !net_has_cert(at[i], of[j]->key))
				return false;
	return true;
}

static void nn_start(struct nn *x)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(x->today, sizeof x->today, "%Y-%m-%d", &tm);
	snprintf(x->period, sizeof x->period, "%.7s", x->today);
	x->city = net_node_init("city", "xiamen", true, true);
	x->huli = net_node_init("huli", "xiamen/huli", false, true);
	x->jinshan = net_node_init("jinshan", "xiamen/huli/jinshan", false, false);
	x->hetong = net_node_init("hetong", "xiamen/huli/hetong", false, false);
	net_node_start(x->city);
	net_node_join(x->huli, x->city, NULL);
	net_node_start(x->huli);
	net_node_join(x->jinshan, x->huli, NULL);
	net_node_start(x->jinshan);
	net_node_join(x->hetong, x->huli, NULL);
	net_node_start(x->hetong);
	x->xinlin = net_node_init("xinlin", "xiamen/huli/xinlin", false, false);
	net_node_join(x->xinlin, x->huli, NULL);

	struct net_node *all[] = {x->city, x->huli, x->jinshan, x->hetong, x->xinlin};
	NET_WAIT(NET_DEADLINE_MS, holds_certs(all, 4, all, 5), "every node to hold every certificate");
}

/* Runs strata ARGS, which must succeed, and returns its JSON output (owned
 * by the fixture: net_release). */
#define RUN_JSON(...) run_json((const char *[]){__VA_ARGS__, "--json", NULL})

static json_t *run_json(const char **argv)
{
	const char *a[12] = {0}; /* net_run stops at the first NULL */
	struct net_run r;
	json_t *j;

	for (size_t i = 0; i < 11 && argv[i]; i++)
		a[i] = argv[i];
	net_run(&r, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], NULL);
	cr_assert_eq(r.status, 0, "strata %s %s: exit %d: %s", argv[0], argv[1], r.status, r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	return j;
}

/* The figures of n's own unit for period, as report_compute_state gives them. */
static void figures_of(const struct net_node *n, const char *period, struct figures *f)
{
	struct node *nd = NULL;
	struct store_txn *t = NULL;
	struct err e = {0};

	cr_assert_eq(node_open(&nd, n->dir, NODE_RDONLY | NODE_NO_KEY, &e), 0, "open %s: %s", n->label, e.msg);
	cr_assert_eq(store_txn_begin(node_store(nd), false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(report_compute_state(nd, t, node_id(nd), period, f, &e), 0, "figures of %s: %s", n->label, e.msg);
	store_txn_abort(&t);
	node_close(&nd);
}

/* --- stage 1: notices --- */

/* Who acknowledges the city's notice N1 (due today), by this test. */
static const struct {
	const char *label;
	bool acks;
} n1_acks[] = {{"huli", true}, {"jinshan", true}, {"hetong", false}};

static struct net_node *by_label(struct nn *x, const char *label)
{
	struct net_node *all[] = {x->city, x->huli, x->jinshan, x->hetong};

	for (size_t i = 0; i < 4; i++)
		if (strcmp(all[i]->label, label) == 0)
			return all[i];
	cr_assert_fail("no node %s", label);
	return NULL;
}

/* The ids of a JSON array of objects (field key) joined by ','. */
static const char *ids_of(json_t *arr, const char *key, char *out, size_t cap)
{
	size_t i, used = 0;
	json_t *o;

	out[0] = '\0';
	json_array_foreach(arr, i, o) used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "",
							       json_string_value(json_object_get(o, key)));
	return out;
}

static void acks_by_name(struct nn *x)
{
	struct net_run r;
	uint64_t before = net_head(x->hetong, x->hetong->key, FEED_REPORT, NULL);

	/* by org path, and by key (scripts) */
	for (size_t i = 0; i < sizeof n1_acks / sizeof n1_acks[0]; i++)
		if (n1_acks[i].acks)
			net_ok("notice", "ack", "-d", by_label(x, n1_acks[i].label)->dir, "--from",
			       i == 0 ? x->city->hex : x->city->path, "--notice", "N1", NULL);
	/* a path that sent no such notice: refused, naming it and who did */
	net_run(&r, "notice", "ack", "-d", x->hetong->dir, "--from", "xiamen/siming", "--notice", "N1", NULL);
	cr_assert_eq(r.status, 2, "ack from a wrong path: exit %d: %s", r.status, r.err);
	cr_assert(net_has(r.err, "no notice N1 from xiamen/siming") && net_has(r.err, "came from xiamen"),
		  "the refusal does not name the path and the sender: %s", r.err);
	net_run_free(&r);
	net_run(&r, "notice", "ack", "-d", x->hetong->dir, "--from", "Xiamen City", "--notice", "N1", NULL);
	cr_assert(r.status == 2 && net_has(r.err, "neither an org path"), "a bad path: %d %s", r.status, r.err);
	net_run_free(&r);
	net_run(&r, "notice", "ack", "-d", x->jinshan->dir, "--from", "xiamen", "--notice", "N1", NULL);
	cr_assert(r.status == 2 && net_has(r.err, "already"), "a second ack: %d %s", r.status, r.err);
	net_run_free(&r);
	cr_assert_eq(net_head(x->hetong, x->hetong->key, FEED_REPORT, NULL), before, "a refused ack wrote an entry");
}

/* --unacked at the branches: by this test's table, with the sender's path. */
static void unacked_at_branches(struct nn *x)
{
	char ids[128];

	for (size_t i = 0; i < sizeof n1_acks / sizeof n1_acks[0]; i++) {
		json_t *j = RUN_JSON("notice", "list", "-d", by_label(x, n1_acks[i].label)->dir, "--unacked");
		size_t k;
		json_t *o;

		cr_assert_str_eq(ids_of(j, "id", ids, sizeof ids), n1_acks[i].acks ? "N0" : "N0,N1", "unacked at %s",
				 n1_acks[i].label);
		json_array_foreach(j, k, o) {
			cr_assert_str_eq(json_string_value(json_object_get(o, "from")), x->city->path);
			/* N0 was due before the unit joined: listed, not counted */
			cr_assert_eq(json_is_true(json_object_get(o, "counts")),
				     strcmp(json_string_value(json_object_get(o, "id")), "N0") != 0);
		}
		net_release(j);
	}
}

/* Does the city's status of N1 list xinlin as revoked? */
static bool xinlin_revoked(struct nn *x)
{
	json_t *j = RUN_JSON("notice", "status", "-d", x->city->dir, "--notice", "N1"), *u;
	size_t i;
	bool found = false;

	json_array_foreach(json_object_get(j, "units"), i, u) if (strcmp(json_string_value(json_object_get(u, "unit")),
									 x->xinlin->path) == 0) found =
		json_is_false(json_object_get(u, "expected")) && json_is_string(json_object_get(u, "why")) &&
		strcmp(json_string_value(json_object_get(u, "why")), "revoked") == 0;
	net_release(j);
	return found;
}

/* The city's view of N1 and N0, by the same table; xinlin, revoked, is
 * listed and not expected. */
static void status_at_city(struct nn *x)
{
	size_t n = sizeof n1_acks / sizeof n1_acks[0], acked = 0, i;
	json_t *j, *u;

	net_ok("revoke", "-d", x->huli->dir, "--name", x->xinlin->path, NULL);
	NET_WAIT(NET_DEADLINE_MS, xinlin_revoked(x), "the city to list xinlin as revoked");

	for (i = 0; i < n; i++)
		if (n1_acks[i].acks) {
			struct net_node *b = by_label(x, n1_acks[i].label);

			acked++;
			NET_WAIT(NET_DEADLINE_MS, net_count(x->city, "ack", b->key) == 1, "%s's ack at the city", b->label);
		}
	j = RUN_JSON("notice", "status", "-d", x->city->dir, "--notice", "N1");
	cr_assert_eq(json_integer_value(json_object_get(j, "expected")), (json_int_t)n);
	cr_assert_eq(json_integer_value(json_object_get(j, "acked")), (json_int_t)acked);
	cr_assert_eq(json_integer_value(json_object_get(j, "not_acked")), (json_int_t)(n - acked));
	cr_assert_eq(json_array_size(json_object_get(j, "units")), n + 1, "units listed (and xinlin)");
	json_array_foreach(json_object_get(j, "units"), i, u) {
		const char *unit = json_string_value(json_object_get(u, "unit"));
		bool acks = false;

		if (strcmp(unit, x->xinlin->path) == 0)
			continue; /* revoked: xinlin_revoked */

		for (size_t k = 0; k < n; k++)
			if (strcmp(by_label(x, n1_acks[k].label)->path, unit) == 0)
				acks = n1_acks[k].acks;
		cr_assert_str_eq(json_string_value(json_object_get(u, "answer")), acks ? "acked" : "not acked", "%s", unit);
		cr_assert(json_is_true(json_object_get(u, "expected")), "%s not expected", unit);
	}
	net_release(j);
	/* N0 was due before every unit joined: none is expected to answer */
	j = RUN_JSON("notice", "status", "-d", x->city->dir, "--notice", "N0");
	cr_assert_eq(json_integer_value(json_object_get(j, "expected")), 0);
	json_array_foreach(json_object_get(j, "units"), i, u)
		cr_assert_str_eq(json_string_value(json_object_get(u, "why")),
				 strcmp(json_string_value(json_object_get(u, "unit")), x->xinlin->path) == 0
					 ? "revoked"
					 : "joined after the due date");
	net_release(j);
}

/* The branches' own figures: N0 is late for none of them. */
static void figures_count_joined_units_only(struct nn *x)
{
	for (size_t i = 0; i < sizeof n1_acks / sizeof n1_acks[0]; i++) {
		struct net_node *b = by_label(x, n1_acks[i].label);
		struct figures past = {0}, now = {0};

		figures_of(b, PAST_PERIOD, &past);
		cr_assert_eq(past.p.notices_late, 0, "N0 is late at %s, which joined after it was due", b->label);
		cr_assert_eq(past.p.notices_acked, 0);
		figures_of(b, x->period, &now);
		cr_assert_eq(now.p.notices_acked, n1_acks[i].acks ? 1 : 0, "N1 acked at %s", b->label);
		cr_assert_eq(now.p.notices_late, 0, "N1 is due today: late nowhere yet");
		figures_clear(&past);
		figures_clear(&now);
	}
}

/* jinshan rotates its key: its ack, written by the old key, still counts
 * in its figures and its --unacked list. */
static void acks_survive_a_rotation(struct nn *x)
{
	char ids[128];
	struct figures f = {0};
	json_t *j;

	net_node_stop(x->jinshan);
	net_ok("rotate-key", "-d", x->jinshan->dir, NULL);
	net_node_start(x->jinshan);
	figures_of(x->jinshan, x->period, &f);
	cr_assert_eq(f.p.notices_acked, 1, "jinshan's ack by its old key no longer counts");
	cr_assert_eq(f.p.notices_late, 0);
	figures_clear(&f);
	j = RUN_JSON("notice", "list", "-d", x->jinshan->dir, "--unacked");
	cr_assert_str_eq(ids_of(j, "id", ids, sizeof ids), "N0", "unacked at jinshan after its rotation");
	net_release(j);
}

static void notices(struct nn *x)
{
	struct net_run r;

	net_ok("notice", "add", "-d", x->city->dir, "--id", "N1", "--title", "关于开展主题党日活动的通知", "--due",
	       x->today, NULL);
	net_ok("notice", "add", "-d", x->city->dir, "--id", "N0", "--title", "旧通知", "--due", PAST_DUE, NULL);
	NET_WAIT(NET_DEADLINE_MS,
		 net_count(x->huli, "notice", x->city->key) == 2 && net_count(x->jinshan, "notice", x->city->key) == 2 &&
			 net_count(x->hetong, "notice", x->city->key) == 2,
		 "the city's notices everywhere below it");
	acks_by_name(x);
	unacked_at_branches(x);
	status_at_city(x);
	figures_count_joined_units_only(x);
	acks_survive_a_rotation(x);
	net_run(&r, "notice", "status", "-d", x->city->dir, "--notice", "N9", NULL);
	cr_assert(r.status == 2 && net_has(r.err, "sent no notice N9"), "status of no notice: %d %s", r.status, r.err);
	net_run_free(&r);
}

/* --- stage 2: unpaid dues --- */

/* hetong's members and their dues of PAST_PERIOD, by this test. */
static const struct mem {
	const char *id, *joined, *status, *paid_period, *paid; /* paid: NULL for a record without a paid date */
	bool erased;
} mems[] = {
	{"H1", "2015-03-01", "active", PAST_PERIOD, PAST_PERIOD "-10", false},
	{"H2", "2015-03-01", "active", PAST_PERIOD, NULL, false},     /* a record, not paid */
	{"H3", "2016-05-01", "active", NULL, NULL, true},             /* no record; erased later */
	{"H4", "2017-01-01", "active", "2025-05", "2025-05-09", false}, /* paid another month */
	{"H5", PAST_PERIOD "-20", "active", NULL, NULL, false},       /* joined in the month */
	{"H6", "2025-07-01", "active", NULL, NULL, false},            /* joined after it */
	{"H7", "2015-03-01", "lapsed", NULL, NULL, false},
};
#define NMEMS (sizeof mems / sizeof mems[0])

/* The ids this test expects unpaid (erased: after the erase; paid_too: a
 * member that paid since, or NULL). */
static const char *expected_unpaid(bool erased, const char *paid_too, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NMEMS; i++) {
		const struct mem *m = &mems[i];
		bool due = strcmp(m->status, "active") == 0 && strcmp(m->joined, PAST_PERIOD "-31") <= 0;
		bool paid = m->paid && m->paid_period && strcmp(m->paid_period, PAST_PERIOD) == 0;

		if (paid_too && strcmp(m->id, paid_too) == 0)
			paid = true;
		if (due && !paid && !(erased && m->erased))
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", m->id);
	}
	return out;
}

static void add_members(struct nn *x)
{
	for (size_t i = 0; i < NMEMS; i++) {
		const struct mem *m = &mems[i];

		net_ok("member", "add", "-d", x->hetong->dir, "--id", m->id, "--name", m->id, "--category", "full",
		       "--joined", m->joined, "--status", m->status, NULL);
		if (m->paid_period && m->paid)
			net_ok("dues", "add", "-d", x->hetong->dir, "--member", m->id, "--period", m->paid_period, "--amount",
			       "5000", "--paid", m->paid, NULL);
		else if (m->paid_period)
			net_ok("dues", "add", "-d", x->hetong->dir, "--member", m->id, "--period", m->paid_period, "--amount",
			       "5000", NULL);
	}
}

/* dues list --unpaid equals want and the figure members_unpaid. */
static void unpaid_matches(struct nn *x, const char *want, const char *when)
{
	char ids[128];
	struct figures f = {0};
	json_t *j = RUN_JSON("dues", "list", "-d", x->hetong->dir, "--unpaid", "--period", PAST_PERIOD);

	cr_assert_str_eq(ids_of(j, "member", ids, sizeof ids), want, "unpaid %s", when);
	figures_of(x->hetong, PAST_PERIOD, &f);
	cr_assert_eq(f.p.members_unpaid, json_array_size(j), "members_unpaid %llu, listed %zu %s",
		     (unsigned long long)f.p.members_unpaid, json_array_size(j), when);
	figures_clear(&f);
	net_release(j);
}

static void unpaid(struct nn *x)
{
	char want[128];
	struct net_run r;

	add_members(x);
	unpaid_matches(x, expected_unpaid(false, NULL, want, sizeof want), "at first");
	net_run(&r, "dues", "list", "-d", x->hetong->dir, "--unpaid", "--period", "2025-13", NULL);
	cr_assert(r.status == 2 && net_has(r.err, "2025-13"), "a bad period: %d %s", r.status, r.err);
	net_run_free(&r);
	for (size_t i = 0; i < NMEMS; i++)
		if (mems[i].erased)
			net_ok("erase", "-d", x->hetong->dir, "--collection", "member", "--key", mems[i].id, NULL);
	unpaid_matches(x, expected_unpaid(true, NULL, want, sizeof want), "after an erase");
	/* the branch rotates its key: the members written by the old one still count */
	net_node_stop(x->hetong);
	net_ok("rotate-key", "-d", x->hetong->dir, NULL);
	net_node_start(x->hetong);
	unpaid_matches(x, expected_unpaid(true, NULL, want, sizeof want), "after a key rotation");
	/* a payment written by the new key */
	net_ok("dues", "update", "-d", x->hetong->dir, "--member", "H2", "--period", PAST_PERIOD, "--paid",
	       PAST_PERIOD "-28", NULL);
	unpaid_matches(x, expected_unpaid(true, "H2", want, sizeof want), "after H2 paid");
}

Test(sync_notice_names, notices_by_name_and_unpaid_dues, .timeout = 240)
{
	struct nn x;

	nn_start(&x);
	notices(&x);
	unpaid(&x);
	net_stop_all();
}
