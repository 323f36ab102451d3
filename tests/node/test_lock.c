/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the lock rule (node/domain/domain_lock.c, node/report
 * decision.c): which records count in a period (every dated field, old
 * and new values), the reason a refusal gives, periods in the node's time
 * zone, and a store holding no decision locks nothing. The decisions that
 * lock a period travel from the parent: tests/sync/test_approval.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "node/core/node.h"
#include "node/domain/domain_internal.h"
#include "node/records/records.h"
#include "node/report/report.h"
#include "tests/node/run.h"

static ProtobufCMessage *make(const struct record_type *t, const char *const *kv)
{
	ProtobufCMessage *m = record_new(t);
	struct err e = {0};

	cr_assert_not_null(m);
	for (; kv[0]; kv += 2)
		cr_assert_eq(record_set(t, m, record_field_find(t, kv[0]), kv[1], &e), 0, "%s: %s", kv[0], e.msg);
	return m;
}

/* One lock of period P, accepted by the street on 2026-04-03 (UTC noon). */
static struct report_lock lock_of(const char *p)
{
	struct report_lock k = {0};

	snprintf(k.period, sizeof k.period, "%s", p);
	k.d.decision = STRATA__DECISION__DECISION_ACCEPTED;
	k.d.at_ms = 1775217600000ULL; /* 2026-04-03T12:00:00Z */
	snprintf(k.d.by, sizeof k.d.by, "xiamen/huli/jinshan");
	return k;
}

Test(node_lock, every_dated_field_counts_in_its_month)
{
	struct report_lock v[1] = {lock_of("2026-03")};
	struct report_locks l = {.v = v, .n = 1, .cap = 1};
	ProtobufCMessage *m;
	struct err e = {0};

	setenv("TZ", "UTC", 1);
	tzset();
	/* the key's period */
	m = make(&record_dues, (const char *const[]){"member", "M1", "period", "2026-03", "amount", "1000", NULL});
	cr_assert_eq(domain_lock_check(&l, &record_dues, m, &e), -EACCES);
	cr_assert_str_eq(e.msg, "dues record M1/2026-03 counts in 2026-03 (its period): period 2026-03 was accepted by "
				"xiamen/huli/jinshan on 2026-04-03; ask it to reopen");
	record_free(m);
	/* a date of another field: last month's dues paid in the locked month */
	memset(&e, 0, sizeof e);
	m = make(&record_dues, (const char *const[]){"member", "M1", "period", "2026-02", "amount", "1000", "paid",
						     "2026-03-31", NULL});
	cr_assert_eq(domain_lock_check(&l, &record_dues, m, &e), -EACCES);
	cr_assert(strstr(e.msg, "(its paid)"), "%s", e.msg);
	record_free(m);
	/* nothing dated in it: open */
	memset(&e, 0, sizeof e);
	m = make(&record_dues, (const char *const[]){"member", "M1", "period", "2026-02", "amount", "1000", "paid",
						     "2026-04-01", NULL});
	cr_assert_eq(domain_lock_check(&l, &record_dues, m, &e), 0, "%s", e.msg);
	record_free(m);
	/* a member counts in the month it joined */
	m = make(&record_member,
		 (const char *const[]){"id", "M2", "name", "王", "category", "full", "joined", "2026-03-09", NULL});
	cr_assert_eq(domain_lock_check(&l, &record_member, m, &e), -EACCES);
	record_free(m);
	memset(&e, 0, sizeof e);
	m = make(&record_member,
		 (const char *const[]){"id", "M2", "name", "王", "category", "full", "joined", "2019-03-09", NULL});
	cr_assert_eq(domain_lock_check(&l, &record_member, m, &e), 0, "%s", e.msg);
	cr_assert_eq(domain_lock_check(NULL, &record_member, m, &e), 0, "no locks");
	record_free(m);
}

Test(node_lock, periods_are_months_of_the_node_time_zone)
{
	uint64_t s, t;

	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	cr_assert_eq(report_period_bounds("2026-03", &s, &t), 0);
	cr_assert_eq(s, 1772294400000ULL, "2026-03-01T00:00+08:00 is 2026-02-28T16:00Z: %llu", (unsigned long long)s);
	cr_assert_eq(t, 1774972800000ULL, "2026-04-01T00:00+08:00: %llu", (unsigned long long)t);
	cr_assert_eq(report_period_bounds("2026-12", &s, &t), 0);
	cr_assert_eq(t - s, 31ULL * 86400 * 1000, "December into January");
	cr_assert_eq(report_period_bounds("2026-13", &s, &t), -EINVAL);
	setenv("TZ", "UTC", 1);
	tzset();
	cr_assert_eq(report_period_bounds("2026-03", &s, &t), 0);
	cr_assert_eq(s, 1772323200000ULL);
}

Test(node_lock, a_store_without_decisions_locks_nothing, .init = test_tmp_make, .fini = test_tmp_remove)
{
	struct node_init_opts o = {.name = "demo/branch"};
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct report_locks l;
	struct err e = {0};

	cr_assert_eq(keys_init(), 0);
	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, test_node, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0);
	cr_assert_eq(report_locks_load(n, t, &l, &e), 0, "%s", e.msg);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(report_locked(n, t, "2026-03", &e), 0);
	report_locks_free(&l);
	store_txn_abort(&t);
	node_close(&n);
}
