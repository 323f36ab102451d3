/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of node/domain's notices by name (domain_notice.h) and unpaid
 * dues (domain_dues_unpaid), by library calls on a real store in a
 * temporary directory, no binary run, no daemon (the multi-node behaviour
 * is sync_test_notice_names).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "node/core/admin.h"
#include "node/domain/domain_notice.h"
#include "node/report/report.h"
#include "tests/node/run.h"

#define PERIOD "2025-06"
#define IDS_CAP 128

static void node_fixture(void)
{
	struct node_init_opts o = {.name = "demo/branch"};
	struct err e = {0};

	cr_assert_eq(keys_init(), 0);
	test_tmp_make();
	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
}

/* Adds a record of t from name, value pairs (NULL-ended); asserts success. */
static void add(const struct record_type *t, const char *const *kv)
{
	struct domain_input in = {.t = t};
	struct domain_record r = {0};
	struct err e = {0};

	for (; kv[0]; kv += 2)
		in.value[record_field_find(t, kv[0]) - t->fields] = kv[1];
	cr_assert_eq(domain_record_add(test_node, &in, &r, &e), 0, "add %s: %s", t->collection, e.msg);
	domain_record_release(&r);
}

static void member(const char *id, const char *joined, const char *status)
{
	add(&record_member,
	    (const char *[]){"id", id, "name", id, "category", "full", "joined", joined, "status", status, NULL});
}

static void dues(const char *id, const char *period, const char *paid)
{
	if (paid)
		add(&record_dues, (const char *[]){"member", id, "period", period, "amount", "1250", "paid", paid, NULL});
	else
		add(&record_dues, (const char *[]){"member", id, "period", period, "amount", "1250", NULL});
}

struct ids {
	char s[IDS_CAP];
	size_t used;
	bool header;
};

static int unpaid_row(const struct domain_unpaid *u, void *arg)
{
	struct ids *w = arg;

	if (!u) {
		w->header = true;
		return 0;
	}
	w->used += (size_t)snprintf(w->s + w->used, sizeof w->s - w->used, "%s%s", w->used ? "," : "", u->m->id);
	return 0;
}

/* The ids domain_dues_unpaid lists, and the figure members_unpaid. */
static uint64_t unpaid(struct ids *w)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct figures f = {0};
	struct err e = {0};
	size_t count = 0;
	uint64_t fig;

	memset(w, 0, sizeof *w);
	cr_assert_eq(domain_dues_unpaid(test_node, PERIOD, unpaid_row, w, &count, &e), 0, "%s", e.msg);
	cr_assert(w->header, "no first call before the rows");
	cr_assert_eq(node_open(&n, test_node, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(report_compute_state(n, t, node_id(n), PERIOD, &f, &e), 0, "%s", e.msg);
	fig = f.p.members_unpaid;
	figures_clear(&f);
	store_txn_abort(&t);
	node_close(&n);
	cr_assert_eq(fig, count, "members_unpaid %llu, listed %zu: %s", (unsigned long long)fig, count, w->s);
	return fig;
}

TestSuite(domain_notice, .init = node_fixture, .fini = test_tmp_remove);

Test(domain_notice, unpaid_lists_what_the_figure_counts)
{
	struct ids w;
	struct node *n = NULL;
	struct node_erase_result er;
	struct err e = {0};
	size_t count;

	member("M1", "2015-01-01", "active");    /* paid */
	member("M2", "2015-01-01", "active");    /* a record without a paid date */
	member("M3", "2015-01-01", "active");    /* no record; erased below */
	member("M4", "2015-01-01", "active");    /* paid another month */
	member("M5", PERIOD "-30", "active");    /* joined on the month's last day */
	member("M6", "2025-07-01", "active");    /* joined after it */
	member("M7", "2015-01-01", "lapsed");
	dues("M1", PERIOD, PERIOD "-03");
	dues("M2", PERIOD, NULL);
	dues("M4", "2025-05", "2025-05-03");
	unpaid(&w);
	cr_assert_str_eq(w.s, "M2,M3,M4,M5");

	cr_assert_eq(node_open(&n, test_node, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(node_erase(n, "member", "M3", NULL, &er, &e), 0, "%s", e.msg);
	node_close(&n);
	unpaid(&w);
	cr_assert_str_eq(w.s, "M2,M4,M5", "an erased member is listed");

	memset(&e, 0, sizeof e);
	cr_assert_eq(domain_dues_unpaid(test_node, "2025-6", unpaid_row, &w, &count, &e), -EINVAL);
	cr_assert(strstr(e.msg, "\"2025-6\""), "the refusal does not name the period: %s", e.msg);
}

static int notice_row(const struct domain_notice_row *r, void *arg)
{
	(void)r;
	(void)arg;
	return 0;
}

Test(domain_notice, refusals_name_what_was_wrong)
{
	struct domain_record r = {0};
	struct domain_notice_status s;
	struct err e = {0};
	size_t count = 99;

	cr_assert_eq(domain_notice_ack(test_node, "xiamen", "N1", NULL, &r, &e), -ESRCH);
	cr_assert(strstr(e.msg, "no notice N1 from xiamen"), "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(domain_notice_ack(test_node, "Xiamen City", "N1", NULL, &r, &e), -EINVAL);
	cr_assert(strstr(e.msg, "\"Xiamen City\" is neither an org path"), "%s", e.msg);
	memset(&e, 0, sizeof e);
	cr_assert_eq(domain_notice_status(test_node, "N1", &s, &e), -ESRCH);
	cr_assert(strstr(e.msg, "sent no notice N1"), "%s", e.msg);

	/* its own notice: status with no unit below, and not "received" */
	add(&record_notice, (const char *[]){"id", "N1", "title", "t", "due", "2025-06-15", NULL});
	memset(&e, 0, sizeof e);
	cr_assert_eq(domain_notice_status(test_node, "N1", &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(s.id, "N1");
	cr_assert_str_eq(s.due, "2025-06-15");
	cr_assert_eq(s.n + s.expected, 0, "units below a node with no children");
	domain_notice_status_release(&s);
	cr_assert_eq(domain_notice_received(test_node, false, notice_row, NULL, &count, &e), 0, "%s", e.msg);
	cr_assert_eq(count, 0, "its own notice listed as received");
	memset(&e, 0, sizeof e);
	cr_assert_eq(domain_notice_ack(test_node, "demo/branch", "N1", NULL, &r, &e), -ESRCH,
		     "a node acknowledged its own notice");
}

/* The rules the figures and the status share (node/records/notice.c). */
Test(domain_notice, answer_rules)
{
	cr_assert_eq(notice_answer("2026-11-10", "2026-11-10", "2026-12-01"), NOTICE_ACKED);
	cr_assert_eq(notice_answer("2026-11-10", "2026-11-11", "2026-12-01"), NOTICE_ACKED_LATE);
	cr_assert_eq(notice_answer("2026-11-10", NULL, "2026-11-10"), NOTICE_OPEN);
	cr_assert_eq(notice_answer("2026-11-10", NULL, "2026-11-11"), NOTICE_OVERDUE);
	cr_assert_eq(notice_answer(NULL, NULL, "2026-11-11"), NOTICE_OPEN);
	cr_assert(notice_counts_for("2026-11-10", "2026-11-10"));
	cr_assert(!notice_counts_for("2026-11-10", "2026-11-11"), "due before the unit joined");
	cr_assert(notice_counts_for(NULL, "2026-11-11") && notice_counts_for("2026-11-10", NULL));
}
