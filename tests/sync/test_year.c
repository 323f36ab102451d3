/* SPDX-License-Identifier: MIT */
/*
 * sync_year: a whole year of monthly reports at a district (issue 14,
 * "Tests"), over real daemons: the district huli (the root here), four
 * streets, and their branches (hetong has two, the others one). Every unit
 * imports its members (some joining in the year) and paid dues; the
 * district sends a notice that some units acknowledge in time, one late,
 * the others not at all; a member moves from hetong/b1 to jinshan/b1 and
 * back; hetong revokes its branch b2 after its first six months; jinshan
 * gets a new branch "in June" that reports from June on; jiangtou's branch
 * reports the last month after its street did (late), so the street
 * submits again; the district returns jiangtou's January and jiangtou
 * fixes and resubmits it. Then `report show --json` at the district is
 * checked, for each of the twelve months, against this file's own counts
 * of every unit's own figures and of what each street's total rolled up.
 *
 * The year is the twelve finished months 2025-12 .. 2026-11 (decision: a
 * finished month, so that the rules for the current and future periods do
 * not apply). The reports are all written now, so "on time" is computed
 * here from each month's deadline and the clock, like the view does.
 * "Joined in June" is the branch's first report (it joins the network
 * during the test; its certificate carries today's date).
 *
 * One file over ~500 lines on purpose: one network, and the stages share
 * the model (Y) that every check reads; issue 14's features add stages here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "node/core/node.h"

TestSuite(sync_year, .init = net_setup, .fini = net_teardown);

#define MONTHS 12
#define UNITS 11    /* the district, four streets, six branches */
#define STREETS 4
#define MEMBERS_MAX 8
#define ID_CAP 16
#define JUNE 6      /* index of 2026-06 in the year */
#define NOTICE_MONTH 4 /* 2026-04: notice N1 is due on its 10th */
#define FIXED_MONTH 1  /* 2026-01: jiangtou's, returned and fixed */
#define FIXED_MEMBER 1 /* the member whose January dues were missing */
#define T_MEMBER 0  /* hetong/b1's member that moves and comes back */

static const char *const period[MONTHS] = {"2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
					   "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"};

/* Units by index: 0 the district, 1..4 the streets, 5.. the branches. */
enum { HULI, HETONG, JINSHAN, JIANGTOU, DIANQIAN, HT_B1, HT_B2, JS_B1, JT_B1, DQ_B1, JS_B2 };

static const struct {
	const char *label, *path;
	int parent; /* -1: the root */
} unit_def[UNITS] = {
	{"huli", "huli", -1},
	{"hetong", "huli/hetong", HULI},
	{"jinshan", "huli/jinshan", HULI},
	{"jiangtou", "huli/jiangtou", HULI},
	{"dianqian", "huli/dianqian", HULI},
	{"ht-b1", "huli/hetong/b1", HETONG},
	{"ht-b2", "huli/hetong/b2", HETONG},     /* revoked after its first six months */
	{"js-b1", "huli/jinshan/b1", JINSHAN},
	{"jt-b1", "huli/jiangtou/b1", JIANGTOU}, /* the late unit */
	{"dq-b1", "huli/dianqian/b1", DIANQIAN},
	{"js-b2", "huli/jinshan/b2", JINSHAN},   /* joined in June */
};

/* The figures this test follows (the others stay 0 in its data). */
enum { F_FULL, F_ACTIVE, F_TRANSFERRED, F_NEW, F_UNPAID, F_DUES_PAID, F_ACKED, F_LATE, F_TIN, F_TOUT, NFIG };

static const char *const fig_name[NFIG] = {
	"members_full", "members_active", "members_transferred", "members_new", "members_unpaid",
	"dues_paid", "notices_acked", "notices_late", "transfers_in", "transfers_out",
};

struct fig {
	long long v[NFIG];
};

static struct {
	struct net_node *n[UNITS];
	int nmem[UNITS];
	char joined[UNITS][MEMBERS_MAX][11];
	bool fixed;                   /* jiangtou paid its missing January dues */
	bool t_moved;                 /* the member went to js-b1 and came back */
	const char *ack[UNITS];       /* the date each unit acknowledged N1, or NULL */
	bool reported[UNITS][MONTHS]; /* as the street holds it when it submits */
	struct fig total[UNITS][MONTHS];
	char out[4096];
} Y;

static void member_id(char out[ID_CAP], int u, int j)
{
	snprintf(out, ID_CAP, "U%02dM%02d", u, j);
}

/* Member j of unit u pays its dues of month i unless this says not. */
static bool pays(int u, int i, int j)
{
	return (i + j + u) % 5 != 0 || (Y.fixed && u == JIANGTOU && i == FIXED_MONTH && j == FIXED_MEMBER);
}

/* Has member j of unit u joined by the end of month i? */
static bool joined_by(int u, int j, int i)
{
	return strncmp(Y.joined[u][j], period[i], 7) <= 0;
}

/* ---- the test's own figures ---- */

static void own_figures(int u, int i, struct fig *f)
{
	memset(f, 0, sizeof *f);
	for (int j = 0; j < Y.nmem[u]; j++) {
		f->v[F_FULL]++;
		f->v[F_ACTIVE]++;
		f->v[F_NEW] += strncmp(Y.joined[u][j], period[i], 7) == 0;
		if (joined_by(u, j, i)) {
			f->v[F_UNPAID] += !pays(u, i, j);
			f->v[F_DUES_PAID] += pays(u, i, j);
		}
	}
	if (Y.t_moved && u == JS_B1) { /* it holds the member, transferred on */
		f->v[F_FULL]++;
		f->v[F_TRANSFERRED]++;
	}
	if (Y.t_moved && (u == HT_B1 || u == JS_B1)) {
		f->v[F_TOUT] += strcmp(period[i], u == HT_B1 ? "2026-08" : "2026-10") == 0;
		f->v[F_TIN] += strcmp(period[i], u == HT_B1 ? "2026-10" : "2026-08") == 0;
	}
	if (i == NOTICE_MONTH && u != HULI) {
		bool in_time = Y.ack[u] && strcmp(Y.ack[u], "2026-04-10") <= 0;

		f->v[F_ACKED] += in_time;
		f->v[F_LATE] += !in_time;
	}
}

static char *dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	return net_own(s ? s : strdup("(null)"), free);
}

static void check_fig(json_t *j, const struct fig *f, const char *what, int u, int i)
{
	cr_assert(json_is_object(j), "%s of %s for %s: none: %s", what, unit_def[u].label, period[i], dump(j));
	for (int k = 0; k < NFIG; k++) {
		json_t *v = json_object_get(j, fig_name[k]);

		cr_assert(json_is_integer(v) && json_integer_value(v) == f->v[k],
			  "%s of %s for %s: %s is %s, expected %lld\n%s", what, unit_def[u].label, period[i], fig_name[k],
			  dump(v), f->v[k], dump(j));
	}
}

/* ---- writing through the CLI ---- */

/* Unit u's members (2 to 4 from 2020, one joining in three of the months;
 * the June branch's from June on) and the dues they paid. */
static void write_data(int u)
{
	char path[256], name[64], id[ID_CAP];
	FILE *f;
	int base = 2 + u % 3;

	Y.nmem[u] = 0;
	for (int j = 0; j < base; j++)
		snprintf(Y.joined[u][Y.nmem[u]++], 11, "2020-01-01");
	for (int k = 0; k < 3; k++) {
		int i = u == JS_B2 ? JUNE + 1 + 2 * k : u % 4 + 4 * k;

		snprintf(Y.joined[u][Y.nmem[u]++], 11, "%s-15", period[i]);
	}
	snprintf(name, sizeof name, "%s-members.csv", unit_def[u].label);
	cr_assert_not_null(f = fopen(net_path(path, name), "w"));
	fprintf(f, "id,name,category,joined\n");
	for (int j = 0; j < Y.nmem[u]; j++) {
		member_id(id, u, j);
		fprintf(f, "%s,党员%s,full,%s\n", id, id, Y.joined[u][j]);
	}
	fclose(f);
	net_ok("member", "import", "-d", Y.n[u]->dir, path, NULL);
	snprintf(name, sizeof name, "%s-dues.csv", unit_def[u].label);
	cr_assert_not_null(f = fopen(net_path(path, name), "w"));
	fprintf(f, "member,period,amount,paid,method\n");
	for (int j = 0; j < Y.nmem[u]; j++)
		for (int i = 0; i < MONTHS; i++)
			if (joined_by(u, j, i) && pays(u, i, j)) {
				member_id(id, u, j);
				fprintf(f, "%s,%s,50,%s-20,cash\n", id, period[i], period[i]);
			}
	fclose(f);
	net_ok("dues", "import", "-d", Y.n[u]->dir, path, NULL);
}

/* `report submit` of unit u for month i; checks its own figures and the
 * total it rolled up from what the street holds (Y.reported). */
static void submit(int u, int i)
{
	struct net_run r;
	json_t *j;
	struct fig own;

	net_run(&r, "report", "submit", "-d", Y.n[u]->dir, "--period", period[i], "--json", NULL);
	cr_assert_eq(r.status, 0, "report submit at %s for %s: exit %d: %s", unit_def[u].label, period[i], r.status,
		     r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	own_figures(u, i, &own);
	Y.total[u][i] = own;
	for (int c = 0; c < UNITS; c++)
		if (unit_def[c].parent == u && Y.reported[c][i])
			for (int k = 0; k < NFIG; k++)
				Y.total[u][i].v[k] += Y.total[c][i].v[k];
	check_fig(json_object_get(j, "own"), &own, "submitted own figures", u, i);
	check_fig(json_object_get(j, "total"), &Y.total[u][i], "submitted total", u, i);
	net_release(j);
}

/* Waits until parent holds u's report feed as far as u wrote it. */
static void wait_reports(int u)
{
	struct net_node *x = Y.n[u], *p = Y.n[unit_def[u].parent];
	uint64_t rep = net_head(x, x->key, FEED_REPORT, NULL);

	NET_WAIT(NET_DEADLINE_MS, net_head(p, x->key, FEED_REPORT, NULL) == rep, "%s to hold %s's reports (#%llu)",
		 p->label, x->label, (unsigned long long)rep);
}

static void join_and_start(int u)
{
	Y.n[u] = net_node_init(unit_def[u].label, unit_def[u].path, u == HULI, u <= DIANQIAN);
	if (u != HULI)
		net_node_join(Y.n[u], Y.n[unit_def[u].parent], NULL);
	net_node_start(Y.n[u]);
	write_data(u);
}

/* Is hetong/b1's member T shown with status at unit u? */
static bool t_status_is(int u, const char *status)
{
	struct net_run r;
	char id[ID_CAP];
	bool yes;

	member_id(id, HT_B1, T_MEMBER);
	net_run(&r, "member", "show", "-d", Y.n[u]->dir, "--id", id, NULL);
	yes = r.status == 0 && net_has(r.out, status);
	net_run_free(&r);
	return yes;
}

/* Does `transfer list` at unit u show transfer id in state want? */
static bool transfer_state_is(int u, const char *id, const char *want)
{
	struct net_run r;
	json_t *arr, *t;
	size_t i;
	bool found = false;

	net_run(&r, "transfer", "list", "-d", Y.n[u]->dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "transfer list at %s: %s", unit_def[u].label, r.err);
	arr = net_run_json(&r);
	json_array_foreach(arr, i, t)
		found |= strcmp(json_string_value(json_object_get(t, "id")) ?: "", id) == 0 &&
			 strcmp(json_string_value(json_object_get(t, "state")) ?: "", want) == 0;
	net_release(arr);
	net_run_free(&r);
	return found;
}

/* ---- the stages ---- */

/* N1, due 2026-04-10, from the district to every unit below: hetong,
 * hetong/b1 and jinshan/b1 acknowledge in time, jiangtou/b1 after the due
 * date (late), the others never (late). */
static void stage_notice(void)
{
	static const struct {
		int u;
		const char *date;
	} acks[] = {{HETONG, "2026-04-08"}, {HT_B1, "2026-04-09"}, {JS_B1, "2026-04-10"}, {JT_B1, "2026-04-20"}};

	net_ok("notice", "add", "-d", Y.n[HULI]->dir, "--id", "N1", "--title", "关于开展4月主题党日活动的通知",
	       "--due", "2026-04-10", NULL);
	for (int u = HETONG; u < JS_B2; u++)
		NET_WAIT(NET_DEADLINE_MS, net_count(Y.n[u], "notice", Y.n[HULI]->key) == 1, "%s to hold notice N1",
			 unit_def[u].label);
	for (size_t k = 0; k < sizeof acks / sizeof acks[0]; k++) {
		/* issue 14: notices by name — added when notices lands: acknowledge
		 * with --sender huli (the org path) instead of the key, and check
		 * at the district who has and has not acknowledged N1 (hetong,
		 * ht-b1, js-b1 in time; jt-b1 late; the rest not at all), and at a
		 * branch what it has not yet acknowledged. */
		net_ok("ack", "add", "-d", Y.n[acks[k].u]->dir, "--sender", Y.n[HULI]->hex, "--notice", "N1", "--acked",
		       acks[k].date, NULL);
		Y.ack[acks[k].u] = acks[k].date;
	}
}

/* Moves T from hetong/b1 to jinshan/b1 in August (the district, their
 * common ancestor, forwards) and back in October: a transfer out and in at
 * each, T active at hetong/b1 again and transferred at jinshan/b1. */
static void move(int from, int to, const char *released, const char *accepted)
{
	char id[ID_CAP * 2], t[ID_CAP];

	member_id(t, HT_B1, T_MEMBER);
	snprintf(id, sizeof id, "%s-%.4s%.2s%.2s", t, released, released + 5, released + 8);
	NET_WAIT(NET_DEADLINE_MS, net_has_cert(Y.n[from], Y.n[to]->key), "%s to hold %s's certificate",
		 unit_def[from].label, unit_def[to].label);
	net_ok("transfer", "release", "-d", Y.n[from]->dir, "--member", t, "--to", unit_def[to].path, "--date", released,
	       NULL);
	NET_WAIT(NET_DEADLINE_MS, transfer_state_is(to, id, "forwarded"), "the forward of %s to reach %s", id,
		 unit_def[to].label);
	net_ok("transfer", "accept", "-d", Y.n[to]->dir, "--id", id, "--from", unit_def[from].path, "--date", accepted,
	       NULL);
	NET_WAIT(NET_DEADLINE_MS, t_status_is(from, "transferred"), "%s to mark %s transferred", unit_def[from].label, t);
	cr_assert(t_status_is(to, "active"), "%s is not active at %s after accepting it", t, unit_def[to].label);
}

static void stage_transfer_and_return(void)
{
	move(HT_B1, JS_B1, "2026-08-10", "2026-08-12");
	move(JS_B1, HT_B1, "2026-10-05", "2026-10-07");
	Y.t_moved = true;
}

/* Submits months first..last of unit u and waits for its street. */
static void report_months(int u, int first, int last)
{
	for (int i = first; i <= last; i++)
		submit(u, i);
	wait_reports(u);
	for (int i = first; i <= last; i++)
		Y.reported[u][i] = true;
}

/* The branches report their year; jiangtou/b1 all but November (late:
 * stage_late_unit); hetong/b2 its first six months, then hetong revokes
 * it: it can report no more, and its street holds no more of its reports. */
static void stage_branches_report(void)
{
	struct net_run r;
	uint64_t held;

	report_months(HT_B1, 0, MONTHS - 1);
	report_months(JS_B1, 0, MONTHS - 1);
	report_months(JT_B1, 0, MONTHS - 2);
	report_months(DQ_B1, 0, MONTHS - 1);
	report_months(HT_B2, 0, JUNE - 1);
	held = net_head(Y.n[HETONG], Y.n[HT_B2]->key, FEED_REPORT, NULL);
	net_ok("revoke", "-d", Y.n[HETONG]->dir, "--name", unit_def[HT_B2].path, "--reason", "支部撤销", NULL);
	/* once the revocation reached it, it refuses to sign, saying why */
	NET_WAIT(NET_DEADLINE_MS, net_count(Y.n[HT_B2], "revocation", Y.n[HETONG]->key) == 1,
		 "hetong/b2 to hold its revocation");
	net_run(&r, "report", "submit", "-d", Y.n[HT_B2]->dir, "--period", period[JUNE], NULL);
	cr_assert(r.status == 2 && net_has(r.err, "was revoked by huli/hetong"),
		  "report submit at the revoked hetong/b2: exit %d: %s", r.status, r.err);
	net_run_free(&r);
	/* hetong/b1's next reports pass the same street after it */
	report_months(HT_B1, JUNE, JUNE);
	cr_assert_eq(net_head(Y.n[HETONG], Y.n[HT_B2]->key, FEED_REPORT, NULL), held,
		     "hetong took a report the revoked hetong/b2 signed after its revocation");
}

/* jinshan/b2 joins "in June": its members from then on, its reports from
 * June to November. */
static void stage_june_branch(void)
{
	join_and_start(JS_B2);
	report_months(JS_B2, JUNE, MONTHS - 1);
}

static void stage_streets_report(void)
{
	for (int u = HETONG; u <= DIANQIAN; u++)
		report_months(u, 0, MONTHS - 1);
}

/* jiangtou/b1 reports November after its street did: the street's total
 * missed it until the street submits again. */
static void stage_late_unit(void)
{
	struct fig before = Y.total[JIANGTOU][MONTHS - 1];

	report_months(JT_B1, MONTHS - 1, MONTHS - 1);
	report_months(JIANGTOU, MONTHS - 1, MONTHS - 1);
	cr_assert_gt(Y.total[JIANGTOU][MONTHS - 1].v[F_FULL], before.v[F_FULL],
		     "the late branch's report changed nothing in its street's total");
}

/* One child's entry in a view: reported, figures, the check, on time. */
static void check_child(json_t *o, int u, int i, bool on_time)
{
	struct fig own;

	cr_assert_str_eq(json_string_value(json_object_get(o, "name")), unit_def[u].path, "%s", dump(o));
	cr_assert(json_is_true(json_object_get(o, "reported")), "%s for %s: %s", unit_def[u].label, period[i], dump(o));
	cr_assert_eq(json_is_true(json_object_get(o, "on_time")), on_time, "%s for %s: %s", unit_def[u].label,
		     period[i], dump(o));
	own_figures(u, i, &own);
	check_fig(json_object_get(o, "own"), &own, "own figures in the view", u, i);
	check_fig(json_object_get(o, "total"), &Y.total[u][i], "total in the view", u, i);
	cr_assert_str_eq(json_string_value(json_object_get(o, "check")), "matches", "%s for %s: %s", unit_def[u].label,
			 period[i], dump(o));
}

/* The deadline of month i (the end of day 5 of the next month, UTC) as
 * the view prints it, and whether it is still ahead. */
static bool deadline_of(int i, char out[32])
{
	int y = atoi(period[i]), m = atoi(period[i] + 5);
	struct tm tm = {.tm_year = (m == 12 ? y + 1 : y) - 1900, .tm_mon = m % 12, .tm_mday = 6};

	strftime(out, 32, "%Y-%m-%dT00:00:00Z", &tm);
	return time(NULL) <= timegm(&tm);
}

static json_t *child(json_t *o, int u)
{
	json_t *k;
	size_t x;

	json_array_foreach(json_object_get(o, "children"), x, k)
		if (strcmp(json_string_value(json_object_get(k, "key")) ?: "", Y.n[u]->hex) == 0)
			return k;
	cr_assert_fail("%s is not among the children: %s", unit_def[u].label, dump(o));
	return NULL;
}

static json_t *view(int at, int i)
{
	struct net_run r;
	json_t *j;

	net_run(&r, "report", "show", "-d", Y.n[at]->dir, "--period", period[i], "--tree", "--json", NULL);
	cr_assert_eq(r.status, 0, "report show at %s for %s: %s", unit_def[at].label, period[i], r.err);
	j = net_run_json(&r);
	net_run_free(&r);
	return j;
}

static const char *approval_word(json_t *o)
{
	json_t *a = json_object_get(o, "approval");

	return json_is_string(a) ? json_string_value(a) : json_string_value(json_object_get(a, "decision"));
}

/* The district returns jiangtou's January (one member's dues missing);
 * jiangtou records them and submits again. */
static void stage_return_and_resubmit(void)
{
	struct fig before, after;
	char id[ID_CAP];
	json_t *j;

	own_figures(JIANGTOU, FIXED_MONTH, &before);
	net_ok("report", "return", "-d", Y.n[HULI]->dir, "--period", period[FIXED_MONTH], "--from",
	       unit_def[JIANGTOU].path, "--comment", "1月党费有1人未登记，请核实后重新上报", NULL);
	NET_WAIT(NET_DEADLINE_MS, net_count(Y.n[JIANGTOU], "approval", Y.n[HULI]->key) == 1,
		 "jiangtou to hold the district's decision");
	member_id(id, JIANGTOU, FIXED_MEMBER);
	cr_assert(!pays(JIANGTOU, FIXED_MONTH, FIXED_MEMBER), "the test's data: %s paid January", id);
	net_ok("dues", "add", "-d", Y.n[JIANGTOU]->dir, "--member", id, "--period", period[FIXED_MONTH], "--amount", "50",
	       "--paid", "2026-01-25", "--method", "cash", NULL);
	Y.fixed = true;
	own_figures(JIANGTOU, FIXED_MONTH, &after);
	cr_assert_eq(after.v[F_UNPAID], before.v[F_UNPAID] - 1);
	report_months(JIANGTOU, FIXED_MONTH, FIXED_MONTH);
	j = view(HULI, FIXED_MONTH);
	cr_assert_str_eq(approval_word(child(json_object_get(j, "node"), JIANGTOU)),
			 "pending (resubmitted after a decision)");
	net_release(j);
}

static void stage_lock_and_reopen(void)
{
	json_t *j;

	net_ok("report", "accept", "-d", Y.n[HULI]->dir, "--period", period[FIXED_MONTH], "--from",
	       unit_def[JIANGTOU].path, "--comment", "好", NULL);
	j = view(HULI, FIXED_MONTH);
	cr_assert_str_eq(approval_word(child(json_object_get(j, "node"), JIANGTOU)), "accepted");
	net_release(j);
	/* issue 14: lock & reopen — added when approval lands: with January
	 * accepted, `dues add` at jiangtou for 2026-01 is refused naming the
	 * acceptance and changes nothing; the district reopens it (a signed
	 * decision), jiangtou records the change and resubmits, the district
	 * accepts again; and the district cannot accept its own January
	 * before every street's is accepted (the refusal names the missing
	 * ones). Update Y.fixed-style state and the counts below with it. */
}

/* Reporting rates as the tree shows them today: branches that reported
 * each month, against the test's own count. */
static void check_rates(json_t *node, int i)
{
	int want = 0, got = 0;
	json_t *k;
	size_t x;

	for (int b = HT_B1; b < UNITS; b++)
		want += Y.reported[b][i];
	for (int s = HETONG; s <= DIANQIAN; s++)
		json_array_foreach(json_object_get(child(node, s), "children"), x, k)
			got += json_is_true(json_object_get(k, "reported"));
	cr_assert_eq(got, want, "branches reported for %s: %d in the tree, expected %d: %s", period[i], got, want,
		     dump(node));
	/* issue 14: reporting rate — added when view lands: `report show
	 * --summary --json` at the district for each month: expected units
	 * (hetong/b2 not after its revocation, jinshan/b2 not before June),
	 * reported, on time, late (jiangtou/b1 in November), missing, as
	 * counts and rates per level, and the units that have not reported,
	 * all against Y.reported. */
}

/* Each month at the district: every street reported, its own figures and
 * the total it rolled up as this test counted them, the check, on time. */
static void stage_district_views(void)
{
	for (int i = 0; i < MONTHS; i++) {
		char deadline[32];
		bool ahead = deadline_of(i, deadline);
		json_t *j = view(HULI, i), *o = json_object_get(j, "node");

		cr_assert_str_eq(json_string_value(json_object_get(j, "deadline")), deadline);
		for (int s = HETONG; s <= DIANQIAN; s++) {
			check_child(child(o, s), s, i, ahead);
			cr_assert_str_eq(approval_word(child(o, s)), s == JIANGTOU && i == FIXED_MONTH ? "accepted" : "pending",
					 "%s for %s", unit_def[s].label, period[i]);
		}
		check_rates(o, i);
		net_release(j);
	}
}

static void stage_district_reports(void)
{
	for (int i = 0; i < MONTHS; i++)
		submit(HULI, i);
}

Test(sync_year, a_district_reports_a_whole_year)
{
	for (int u = 0; u < JS_B2; u++) /* the network but jinshan/b2, with each unit's data */
		join_and_start(u);
	stage_notice();
	stage_transfer_and_return();
	stage_branches_report();
	stage_june_branch();
	stage_streets_report();
	stage_late_unit();
	stage_return_and_resubmit();
	stage_lock_and_reopen();
	stage_district_views();
	stage_district_reports();
}
