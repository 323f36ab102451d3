/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the report figures (node/report/figures.c and
 * figures_values.c) and of the residues of erased values
 * (node/records/residue.c), on a real store: records written by the real
 * `strata`, then the library's functions called on that store.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "node/core/node.h"
#include "node/records/records.h"
#include "node/report/report.h"
#include "run.h"

#define PERIOD "2026-03"

static void setup(void)
{
	test_tmp_make();
	node_init("xiamen/huli");
}

TestSuite(node_figures, .init = setup, .fini = test_tmp_remove);

/* Runs `strata ARGS... -d test_node`, asserting exit 0. */
#define STRATA_OK(...)                                                                                             \
	do {                                                                                                       \
		struct run r_;                                                                                     \
		run_strata(&r_, __VA_ARGS__, "-d", test_node, NULL);                                               \
		cr_assert_eq(r_.status, 0, "strata %s: %s", #__VA_ARGS__, r_.err);                                 \
		run_free(&r_);                                                                                     \
	} while (0)

/* The records whose figures for PERIOD each test knows (see expect_known). */
static void add_known_records(void)
{
	STRATA_OK("member", "add", "--id", "M1", "--name", "Li", "--category", "full", "--joined", "2020-01-01");
	STRATA_OK("member", "add", "--id", "M2", "--name", "Wang", "--category", "probationary", "--joined",
		  "2026-03-10");
	STRATA_OK("member", "add", "--id", "M3", "--name", "Zhao", "--category", "full", "--joined", "2019-05-05",
		  "--status", "lapsed");
	STRATA_OK("dues", "add", "--member", "M1", "--period", PERIOD, "--amount", "50", "--paid", "2026-03-05",
		  "--method", "cash");
	STRATA_OK("dues", "add", "--member", "M2", "--period", PERIOD, "--amount", "3");
	STRATA_OK("meeting", "add", "--id", "m1", "--kind", "group-meeting", "--date", "2026-03-12", "--topic", "t",
		  "--present", "M1,M2", "--absent", "M3");
	STRATA_OK("meeting", "add", "--id", "m2", "--kind", "branch-congress", "--date", "2026-02-01", "--topic", "t");
	STRATA_OK("study", "add", "--id", "s1", "--member", "M1", "--course", "c", "--minutes", "60", "--date",
		  "2026-03-02");
	STRATA_OK("points", "add", "--member", "M1", "--period", PERIOD, "--points", "-5", "--reason", "late");
	STRATA_OK("request", "add", "--id", "q1", "--title", "lamp", "--opened", "2026-03-01", "--status", "closed",
		  "--closed", "2026-03-04");
	STRATA_OK("request", "add", "--id", "q2", "--title", "road", "--opened", "2026-02-20", "--status", "open");
}

static void expect_known(const Strata__Figures *f)
{
	cr_expect_eq(f->members_full, 2);
	cr_expect_eq(f->members_probationary, 1);
	cr_expect_eq(f->members_active, 2);
	cr_expect_eq(f->members_lapsed, 1);
	cr_expect_eq(f->members_deceased, 0);
	cr_expect_eq(f->members_transferred, 0);
	cr_expect_eq(f->members_new, 1);
	cr_expect_eq(f->dues_paid, 1);
	cr_expect_eq(f->dues_paid_amount, 5000);
	cr_expect_eq(f->members_unpaid, 1, "M2's dues have no paid date");
	cr_expect_eq(f->meetings_group, 1);
	cr_expect_eq(f->meetings_branch_congress, 0, "m2 is in another month");
	cr_expect_eq(f->meetings_committee + f->meetings_lecture, 0);
	cr_expect_eq(f->attendance_present, 2);
	cr_expect_eq(f->attendance_expected, 3);
	cr_expect_eq(f->study_minutes, 60);
	cr_expect_eq(f->points, -5);
	cr_expect_eq(f->requests_opened, 1);
	cr_expect_eq(f->requests_closed, 1);
	cr_expect_eq(f->requests_open, 1, "q2 is still open at the month's end");
	cr_assert_eq(f->n_close_days, 1);
	cr_expect_eq(f->close_days[0], 3);
	cr_expect_eq(f->notices_acked + f->notices_late + f->transfers_in + f->transfers_out, 0);
}

/* The node open with a read transaction. */
struct open_node {
	struct node *n;
	struct store_txn *t;
	struct err e;
};

static void open_node(struct open_node *o)
{
	memset(o, 0, sizeof *o);
	cr_assert_eq(keys_init(), 0);
	cr_assert_eq(node_open(&o->n, test_node, 0, &o->e), 0, "%s", o->e.msg);
	cr_assert_eq(store_txn_begin(node_store(o->n), false, &o->t, &o->e), 0, "%s", o->e.msg);
}

static void close_node(struct open_node *o)
{
	store_txn_abort(&o->t);
	node_close(&o->n);
}

Test(node_figures, computed_from_state_every_figure_counts_what_it_says)
{
	struct open_node o;
	struct figures f;

	add_known_records();
	open_node(&o);
	cr_assert_eq(report_compute_state(o.n, o.t, node_id(o.n), PERIOD, &f, &o.e), 0, "%s", o.e.msg);
	expect_known(&f.p);
	figures_clear(&f);
	close_node(&o);
}

Test(node_figures, recomputed_from_the_feed_matches_and_diff_names_what_differs)
{
	struct open_node o;
	struct figures live, again;
	struct store_head h;
	char diff[512];

	add_known_records();
	open_node(&o);
	cr_assert_eq(store_head_get(o.t, node_id(o.n), FEED_UP, &h, &o.e), 0, "%s", o.e.msg);
	cr_assert_eq(report_compute_state(o.n, o.t, node_id(o.n), PERIOD, &live, &o.e), 0, "%s", o.e.msg);
	cr_assert_eq(report_compute_replay(o.n, o.t, node_id(o.n), PERIOD, h.seq, &again, &o.e), 0, "%s", o.e.msg);
	expect_known(&again.p);
	cr_expect_not(figures_diff(&live, &again, diff, sizeof diff), "%s", diff);
	again.p.members_full++;
	again.p.points = 7;
	cr_assert(figures_diff(&live, &again, diff, sizeof diff));
	cr_expect_str_eq(diff, "members_full 2 (recomputed 3), points -5 (recomputed 7)");
	/* notices are counted only live: a recomputation leaves them zero */
	live.p.notices_late = 4;
	again.p.members_full--;
	again.p.points = -5;
	cr_expect_not(figures_diff(&live, &again, diff, sizeof diff), "%s", diff);
	figures_clear(&live);
	figures_clear(&again);
	close_node(&o);
}

Test(node_figures, roll_up_adds_every_figure_and_refuses_an_overflow_unchanged)
{
	struct open_node o;
	struct figures own, sum = {0};
	Strata__Figures p, big;

	add_known_records();
	open_node(&o);
	cr_assert_eq(report_compute_state(o.n, o.t, node_id(o.n), PERIOD, &own, &o.e), 0, "%s", o.e.msg);
	figures_to_proto(&own, &p);
	cr_assert_eq(figures_add_proto(&sum, &p), 0);
	cr_assert_eq(figures_add_proto(&sum, &p), 0);
	cr_expect_eq(sum.p.members_full, 4);
	cr_expect_eq(sum.p.dues_paid_amount, 10000);
	cr_expect_eq(sum.p.points, -10);
	cr_assert_eq(sum.p.n_close_days, 2, "close_days are concatenated");
	cr_expect_eq(sum.p.close_days[1], 3);
	strata__figures__init(&big);
	big.study_minutes = FIGURE_MAX;
	cr_expect_eq(figures_add_proto(&sum, &big), -ERANGE);
	cr_expect_eq(sum.p.study_minutes, 120, "a refused sum leaves the figures as they were");
	cr_expect_eq(sum.p.n_close_days, 2);
	big.study_minutes = 0;
	big.points = -FIGURE_MAX;
	cr_expect_eq(figures_add_proto(&sum, &big), -ERANGE, "points: at most FIGURE_MAX either sign");
	figures_clear(&own);
	figures_clear(&sum);
	close_node(&o);
}

Test(node_figures, json_lists_received_figures_last_then_derived_ones)
{
	struct open_node o;
	struct figures f, copy;
	json_t *j;
	const char *last = NULL, *k;
	json_t *v;

	add_known_records();
	open_node(&o);
	cr_assert_eq(report_compute_state(o.n, o.t, node_id(o.n), PERIOD, &f, &o.e), 0, "%s", o.e.msg);
	cr_assert_eq(figures_copy(&copy, &f), 0);
	figures_clear(&f);
	j = figures_json(&copy);
	cr_expect_eq(json_object_size(j), 28, "25 figures, the amount in yuan, a rate and a median");
	json_object_foreach(j, k, v) {
		if (last && strcmp(last, "transfers_out") == 0)
			cr_expect_str_eq(k, "notices_acked");
		last = k;
	}
	cr_expect_str_eq(last, "request_close_days_median");
	cr_expect_eq(json_integer_value(json_object_get(j, "request_close_days_median")), 3);
	cr_expect_float_eq(json_real_value(json_object_get(j, "attendance_rate")), 2.0 / 3.0, 1e-9);
	cr_expect_eq(copy.p.dues_paid_amount, 5000);
	cr_expect_str_eq(json_string_value(json_object_get(j, "dues_paid_yuan")), "50.00", "fen shown as yuan");
	json_decref(j);
	figures_clear(&copy);
	close_node(&o);
}

/* The residue of (collection, key) as record_residue makes it, unpacked. */
static ProtobufCMessage *residue_of(struct open_node *o, const char *collection, const char *key, uint8_t **bytes,
				    size_t *len)
{
	const uint8_t *v;
	size_t vl;

	cr_assert_eq(store_state_get(o->t, collection, node_id(o->n), (const uint8_t *)key, strlen(key), &v, &vl, NULL,
				     &o->e),
		     0, "%s", o->e.msg);
	cr_assert_eq(record_residue(collection, v, vl, bytes, len, &o->e), 1, "%s", o->e.msg);
	return protobuf_c_message_unpack(record_type_find(collection)->descriptor, NULL, *len, *bytes);
}

Test(node_figures, residues_keep_what_the_figures_read_in_the_bytes_of_before)
{
	struct open_node o;
	uint8_t *b, want[256];
	size_t len;
	Strata__Member *m, wm = STRATA__MEMBER__INIT;
	Strata__Meeting *mt;

	add_known_records();
	STRATA_OK("member", "update", "--id", "M1", "--phone", "13800000000", "--address", "Huli");
	open_node(&o);
	m = (Strata__Member *)residue_of(&o, "member", "M1", &b, &len);
	cr_assert(m);
	cr_expect_str_eq(m->name, "");
	cr_expect_null(m->phone);
	cr_expect_null(m->address);
	/* byte for byte what residue.c wrote before issue 13 */
	wm.id = "M1";
	wm.name = "";
	wm.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	wm.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	wm.joined = "2020-01-01";
	cr_assert_eq(strata__member__pack(&wm, want), len);
	cr_expect_eq(memcmp(want, b, len), 0);
	strata__member__free_unpacked(m, NULL);
	free(b);
	mt = (Strata__Meeting *)residue_of(&o, "meeting", "m1", &b, &len);
	cr_assert(mt);
	cr_expect_eq(mt->n_present, 2, "a count is what the figures read");
	cr_expect_str_eq(mt->present[0], "");
	cr_expect_eq(mt->n_absent, 1);
	cr_expect_str_eq(mt->topic, "");
	cr_expect_eq(mt->kind, STRATA__MEETING_KIND__KIND_GROUP_MEETING);
	strata__meeting__free_unpacked(mt, NULL);
	free(b);
	cr_expect(record_has_residue("dues"));
	cr_expect_not(record_has_residue("notice"), "a notice is counted only live (from above): no residue");
	close_node(&o);
}

/* A report whose child head names an entry that is held but holds no report
 * of the period (here: this node's own report of another month) fails the
 * audit; before, its total was left unchecked as if the child were not held. */
Test(node_figures, audit_fails_a_child_head_that_holds_no_report_of_the_period)
{
	struct open_node o;
	struct figures own;
	struct store_head h;
	struct node_writer *w = NULL;
	Strata__Report r = STRATA__REPORT__INIT;
	Strata__FeedHead child = STRATA__FEED_HEAD__INIT, *children[1] = {&child};
	Strata__Figures fo = STRATA__FIGURES__INIT;
	uint8_t buf[4096], key[32];
	char hex[65];
	size_t len;
	struct run run;

	STRATA_OK("report", "submit", "--period", "2026-02");
	open_node(&o);
	cr_assert_eq(store_head_get(o.t, node_id(o.n), FEED_REPORT, &h, &o.e), 0, "%s", o.e.msg);
	cr_assert_eq(report_compute_state(o.n, o.t, node_id(o.n), PERIOD, &own, &o.e), 0, "%s", o.e.msg);
	store_txn_abort(&o.t);
	figures_to_proto(&own, &fo);
	child.author.data = (uint8_t *)node_id(o.n);
	child.author.len = KEY_BYTES;
	child.feed = FEED_REPORT;
	child.seq = h.seq; /* the February report: not a report of PERIOD */
	r.period = PERIOD;
	r.own = &fo;
	r.total = &fo;
	r.n_children = 1;
	r.children = children;
	len = strata__report__pack(&r, buf);
	cr_assert_eq(node_writer_begin(o.n, FEED_REPORT, &w, &o.e), 0, "%s", o.e.msg);
	cr_assert_eq(node_writer_put(w, "report", (const uint8_t *)PERIOD, strlen(PERIOD), buf, len, &o.e), 0, "%s",
		     o.e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &o.e), 0, "%s", o.e.msg);
	figures_clear(&own);
	node_close(&o.n);

	node_key(test_node, hex, key);
	run_strata(&run, "audit", "-d", test_node, "--root", hex, NULL);
	cr_assert_eq(run.status, 3, "%s%s", run.out, run.err);
	cr_assert(has(run.out, "holds no report for 2026-03") || has(run.err, "holds no report for 2026-03"), "%s%s",
		  run.out, run.err);
	run_free(&run);
}
