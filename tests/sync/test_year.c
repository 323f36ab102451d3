/* SPDX-License-Identifier: MIT */
/*
 * sync_year: a whole year of monthly reports at a district (issue 14,
 * "Tests"), over real daemons: the district huli (the root here), four
 * streets, and their branches (hetong has two, the others one). Every unit
 * imports its members (some joining in the year) and paid dues; the
 * district sends two notices that some units acknowledge, by its org
 * path, in time, one late, the others not at all; a member moves from
 * hetong/b1 to jinshan/b1 and back; hetong revokes its branch b2 after six
 * months; jinshan gets a new branch "in June" that reports from June on;
 * jiangtou's branch reports the last month after its street did (late), so
 * the street submits again; the district returns jiangtou's January,
 * jiangtou fixes and resubmits it, accepts its branch's January and
 * submits again, the district accepts: January is locked at the branch
 * until the district reopens it (and so jiangtou's), the branch pays the
 * missing dues, both levels are accepted again, and `report history`
 * lists every step. Then `report show --json` at the district is checked,
 * for each of the twelve months, against this file's own counts of every
 * unit's own figures and of what each street's total rolled up, and
 * `report show --summary` (expected, reported, on time...) for each.
 *
 * The year is the twelve finished months 2025-12 .. 2026-11 (decision: a
 * finished month, so that the rules for the current and future periods do
 * not apply). The network joins before it (2025-11-15), jinshan/b2 in June
 * and hetong/b2 is revoked in June: certificates and the revocation are
 * dated by the clock shim (clock_shim.c), which the expected sets of
 * notices, acceptance and summaries go by. Each month's reports are
 * signed on day 2 of the next month (on time) by the clock of the command
 * alone; from the late branch's November on, at the real clock (late), as
 * are the resubmissions after decisions. N2 is due today: it counts in the month under
 * way (CUR), which the units report (provisional) for it; no unit can be
 * late for it (an ack is dated today at the latest, and no answer is late
 * only once the due date passed), which the model derives rather than
 * states. A run across midnight UTC would see two "today"s: not handled.
 *
 * One file over ~500 lines on purpose: one network (a daemon per unit,
 * ~20 s), and the stages share the model (Y) that every check reads; split
 * in files, each would need the whole year again, or the model in a header.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net.h"
#include "node/core/node.h"

TestSuite(sync_year, .init = net_setup, .fini = net_teardown);

#define MONTHS 12
#define CUR MONTHS  /* index of the month under way (N2 is due in it) */
#define UNITS 11    /* the district, four streets, six branches */
#define MEMBERS_MAX 8
#define ID_CAP 16
#define DATE_CAP 11 /* YYYY-MM-DD */
#define DATE_TEXT 24 /* one printed from ints (gcc's worst case is 19) */
#define NOTICES 2
#define HIST_MAX 12    /* steps of one unit's January */
#define JUNE 6         /* index of 2026-06 in the year */
#define FIXED_MONTH 1  /* 2026-01: returned at jiangtou, reopened at its branch */
#define FIXED_MEMBER 1 /* the member whose January dues were missing (at both) */
#define T_MEMBER 0     /* hetong/b1's member that moves and comes back */
#define JOINED_AT "2025-11-15"  /* the certificates of the network, before the year */
#define JUNE_JOINED "2026-06-10" /* jinshan/b2's */
#define REVOKED_AT "2026-06-20"  /* hetong/b2's revocation */

static const char *period[MONTHS + 1] = {"2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
					 "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", NULL /* CUR */};

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

/* The district's notices; N2's due date is today (set_clock). */
static struct {
	const char *id, *title;
	char due[DATE_CAP];
} notice[NOTICES] = {{"N1", "关于开展4月主题党日活动的通知", "2026-04-10"}, {"N2", "关于报送年度工作总结的通知", ""}};

/* The figures this test follows (the others stay 0 in its data). */
enum { F_FULL, F_ACTIVE, F_TRANSFERRED, F_NEW, F_UNPAID, F_DUES_PAID, F_ACKED, F_LATE, F_TIN, F_TOUT, NFIG };

static const char *const fig_name[NFIG] = {
	"members_full", "members_active", "members_transferred", "members_new", "members_unpaid",
	"dues_paid", "notices_acked", "notices_late", "transfers_in", "transfers_out",
};

struct fig {
	long long v[NFIG];
};

/* One step of a unit's January as `report history` lists it. */
struct event {
	const char *event, *comment;
	int by;
};

static struct {
	struct net_node *n[UNITS];
	int nmem[UNITS];
	char joined[UNITS][MEMBERS_MAX][DATE_CAP];
	char today[DATE_CAP], cur[8];     /* UTC, at the start */
	char clock[256], clock_cmd[256];  /* the clock shim's files: all, one command */
	char joined_on[UNITS][DATE_CAP];  /* the unit's certificate date */
	bool revoked[UNITS];
	char revoked_on[UNITS][DATE_CAP];
	bool fixed[UNITS];                /* paid its missing January dues */
	bool t_moved;                     /* the member went to js-b1 and came back */
	const char *ack[NOTICES][UNITS];  /* the date each unit acknowledged, or NULL */
	bool reported[UNITS][MONTHS + 1]; /* as the street holds it when it submits */
	bool on_time[UNITS][MONTHS + 1];  /* its latest report of the month */
	bool late_phase;                  /* reports are submitted at the real clock */
	struct fig total[UNITS][MONTHS + 1];
	struct event hist[UNITS][HIST_MAX];
	int nhist[UNITS];
} Y;

static void member_id(char out[ID_CAP], int u, int j)
{
	snprintf(out, ID_CAP, "U%02dM%02d", u, j);
}

static void utc_date(char out[DATE_CAP])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, DATE_CAP, "%Y-%m-%d", &tm);
}

/* Moves the clock of the processes reading file to noon UTC of date
 * (NULL: the real clock), through the shim clock_shim.c. */
static void clock_write(const char *file, const char *date)
{
	struct tm tm = {.tm_hour = 12};
	long long shift = 0;
	FILE *f;

	if (date) {
		tm.tm_year = atoi(date) - 1900;
		tm.tm_mon = atoi(date + 5) - 1;
		tm.tm_mday = atoi(date + 8);
		shift = (long long)(timegm(&tm) - time(NULL));
	}
	cr_assert_not_null(f = fopen(file, "w"));
	fprintf(f, "%lld\n", shift);
	fclose(f);
}

/* The clock of every process the test starts, daemons included. */
static void clock_at(const char *date)
{
	clock_write(Y.clock, date);
}

/* The clock of the commands the test starts from now on (not of the
 * daemons running); NULL: back to clock_at's. */
static void command_clock_at(const char *date)
{
	clock_write(Y.clock_cmd, date);
	setenv("STRATA_TEST_CLOCK", date ? Y.clock_cmd : Y.clock, 1);
}

/* Today, the month under way; the clock shim on, at the real clock. */
static void set_clock(void)
{
	char so[512];

	cr_assert_not_null(getenv("STRATA_TEST_BUILDDIR"), "STRATA_TEST_BUILDDIR is not set");
	net_path(Y.clock, "clock");
	net_path(Y.clock_cmd, "clock-command");
	clock_at(NULL);
	snprintf(so, sizeof so, "%s/tests/sync/libstrata-test-clock.so", getenv("STRATA_TEST_BUILDDIR"));
	setenv("STRATA_TEST_CLOCK", Y.clock, 1);
	setenv("LD_PRELOAD", so, 1);
	/* under ASan the shim is not the first library: allowed here */
	setenv("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:verify_asan_link_order=0", 1);
	utc_date(Y.today);
	snprintf(Y.cur, sizeof Y.cur, "%.7s", Y.today);
	period[CUR] = Y.cur;
	memcpy(notice[1].due, Y.today, DATE_CAP);
	cr_assert_gt(strcmp(Y.cur, period[MONTHS - 1]), 0, "the clock is before the end of the test's year");
}

/* Member j of unit u pays its dues of month i unless this says not (none
 * of the month under way yet). */
static bool pays(int u, int i, int j)
{
	return i < CUR && ((i + j + u) % 5 != 0 || (Y.fixed[u] && i == FIXED_MONTH && j == FIXED_MEMBER));
}

/* Has member j of unit u joined by the end of month i? */
static bool joined_by(int u, int j, int i)
{
	return strncmp(Y.joined[u][j], period[i], 7) <= 0;
}

/* ---- the test's own figures ---- */

/* Unit u's answer to notice n, as notice.c words it. */
static const char *answer_of(int n, int u)
{
	const char *a = Y.ack[n][u], *due = notice[n].due;

	if (a)
		return strcmp(a, due) <= 0 ? "acked" : "acked late";
	return strcmp(due, Y.today) < 0 ? "overdue" : "not acked";
}

/* Does notice n count for unit u: below the sender, joined by the due
 * date, not revoked? */
static bool notice_counts(int n, int u)
{
	return u != HULI && !Y.revoked[u] && strcmp(Y.joined_on[u], notice[n].due) <= 0;
}

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
	for (int n = 0; n < NOTICES; n++) /* in the month of its due date */
		if (strncmp(notice[n].due, period[i], 7) == 0 && notice_counts(n, u)) {
			f->v[F_ACKED] += strcmp(answer_of(n, u), "acked") == 0;
			f->v[F_LATE] += strcmp(answer_of(n, u), "acked late") == 0 || strcmp(answer_of(n, u), "overdue") == 0;
		}
}

/* ---- reading JSON ---- */

static char *dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	return net_own(s ? s : strdup("(null)"), free);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Is o's string k v ("" for NULL and for none)? */
static bool is(json_t *o, const char *k, const char *v)
{
	return strcmp(str(o, k) ?: "", v ?: "") == 0;
}

/* The first object of the array whose string k is v, or NULL. */
static json_t *find(json_t *arr, const char *k, const char *v)
{
	json_t *o;
	size_t x;

	json_array_foreach(arr, x, o)
		if (is(o, k, v))
			return o;
	return NULL;
}

/* Runs `strata ARG...`, asserting exit 0; its JSON (net_release). */
#define RUN_JSON(...)                                                                          \
	({                                                                                     \
		struct net_run r_;                                                             \
		net_run(&r_, __VA_ARGS__, "--json", NULL);                                     \
		cr_assert_eq(r_.status, 0, "strata %s: exit %d: %s", #__VA_ARGS__, r_.status, r_.err); \
		json_t *j_ = net_run_json(&r_);                                                \
		net_run_free(&r_);                                                             \
		j_;                                                                            \
	})

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
		snprintf(Y.joined[u][Y.nmem[u]++], DATE_CAP, "2020-01-01");
	for (int k = 0; k < 3; k++)
		snprintf(Y.joined[u][Y.nmem[u]++], DATE_CAP, "%s-15", period[u == JS_B2 ? JUNE + 1 + 2 * k : u % 4 + 4 * k]);
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

/* Appends a step of unit u's January to the model of its history. */
static void logged(int u, const char *event, int by, const char *comment)
{
	cr_assert_lt(Y.nhist[u], HIST_MAX);
	Y.hist[u][Y.nhist[u]++] = (struct event){event, comment, by};
}

/* `report submit` of unit u for month i; checks its own figures and the
 * total it rolled up from what the street holds (Y.reported). */
static void submit(int u, int i)
{
	char day2[DATE_TEXT];
	json_t *j;
	struct fig own;

	/* before the late phase, on day 2 of the next month (the command's
	 * clock: the report's time is its signer's) */
	snprintf(day2, sizeof day2, "%.4d-%.2d-02", atoi(period[i]) + (atoi(period[i] + 5) == 12),
		 atoi(period[i] + 5) % 12 + 1);
	command_clock_at(i < CUR && !Y.late_phase ? day2 : NULL);
	j = RUN_JSON("report", "submit", "-d", Y.n[u]->dir, "--period", period[i]);
	command_clock_at(NULL);
	Y.on_time[u][i] = i == CUR || !Y.late_phase;

	own_figures(u, i, &own);
	Y.total[u][i] = own;
	for (int c = 0; c < UNITS; c++)
		if (unit_def[c].parent == u && Y.reported[c][i])
			for (int k = 0; k < NFIG; k++)
				Y.total[u][i].v[k] += Y.total[c][i].v[k];
	check_fig(json_object_get(j, "own"), &own, "submitted own figures", u, i);
	check_fig(json_object_get(j, "total"), &Y.total[u][i], "submitted total", u, i);
	net_release(j);
	if (i == FIXED_MONTH)
		logged(u, "submitted", u, NULL);
}

/* Waits until unit at holds u's report feed as far as u wrote it. */
static void wait_held(int at, int u)
{
	struct net_node *x = Y.n[u], *p = Y.n[at];
	uint64_t rep = net_head(x, x->key, FEED_REPORT, NULL);

	NET_WAIT(NET_DEADLINE_MS, net_head(p, x->key, FEED_REPORT, NULL) == rep, "%s to hold %s's reports (#%llu)",
		 p->label, x->label, (unsigned long long)rep);
}

/* Submits months first..last of unit u and waits for its street. */
static void report_months(int u, int first, int last)
{
	for (int i = first; i <= last; i++)
		submit(u, i);
	wait_held(unit_def[u].parent, u);
	for (int i = first; i <= last; i++)
		Y.reported[u][i] = true;
}

/* Unit u joins on date (its certificate's), then its data is written now. */
static void join_and_start(int u, const char *date)
{
	clock_at(date);
	Y.n[u] = net_node_init(unit_def[u].label, unit_def[u].path, u == HULI, u <= DIANQIAN);
	if (u != HULI)
		net_node_join(Y.n[u], Y.n[unit_def[u].parent], NULL);
	net_node_start(Y.n[u]);
	clock_at(NULL);
	snprintf(Y.joined_on[u], DATE_CAP, "%s", date);
	write_data(u);
}

/* ---- notices ---- */

/* `notice status` of notice n at the district against the model: every
 * unit below listed once, with its join date and answer, whether it counts
 * and why not; and the counts of those that do. */
static void check_notice_status(int n)
{
	static const char *const count[] = {"acked", "acked_late", "not_acked", "overdue"};
	static const char *const answer[] = {"acked", "acked late", "not acked", "overdue"};
	json_t *j = RUN_JSON("notice", "status", "-d", Y.n[HULI]->dir, "--notice", notice[n].id), *o;
	long long want[5] = {0}; /* expected, then as count[] */
	size_t listed = 0;

	for (int u = HETONG; u < UNITS; u++) {
		if (!Y.n[u])
			continue;
		listed++;
		o = find(json_object_get(j, "units"), "key", Y.n[u]->hex);
		cr_assert(o && is(o, "unit", unit_def[u].path) && is(o, "joined", Y.joined_on[u]) &&
				  is(o, "answer", answer_of(n, u)) && is(o, "acked", Y.ack[n][u]) &&
				  json_is_true(json_object_get(o, "expected")) == notice_counts(n, u) &&
				  is(o, "why", notice_counts(n, u) ? NULL : Y.revoked[u] ? "revoked" : "joined after the due date"),
			  "notice status %s, %s (joined %s, acked %s, counts %d): %s", notice[n].id, unit_def[u].label,
			  Y.joined_on[u], Y.ack[n][u] ?: "-", notice_counts(n, u), dump(j));
		want[0] += notice_counts(n, u);
		for (int a = 0; a < 4; a++)
			want[1 + a] += notice_counts(n, u) && strcmp(answer_of(n, u), answer[a]) == 0;
	}
	cr_assert_eq(json_array_size(json_object_get(j, "units")), listed, "%s", dump(j));
	cr_assert_eq(json_integer_value(json_object_get(j, "expected")), want[0], "%s", dump(j));
	for (int a = 0; a < 4; a++)
		cr_assert_eq(json_integer_value(json_object_get(j, count[a])), want[1 + a], "%s: %s", count[a], dump(j));
	net_release(j);
}

/* `notice list --unacked` at unit u: the notices from the district it has
 * not acknowledged, each saying whether it counts for u. */
static void check_unacked(int u)
{
	json_t *arr = RUN_JSON("notice", "list", "-d", Y.n[u]->dir, "--unacked"), *o;
	size_t want = 0;

	for (int n = 0; n < NOTICES; n++) {
		if (Y.ack[n][u])
			continue;
		want++;
		o = find(arr, "id", notice[n].id);
		cr_assert(o && is(o, "from", "huli") && is(o, "answer", answer_of(n, u)) &&
				  json_is_true(json_object_get(o, "counts")) == notice_counts(n, u),
			  "%s's unacknowledged %s: %s", unit_def[u].label, notice[n].id, dump(arr));
	}
	cr_assert_eq(json_array_size(arr), want, "at %s: %s", unit_def[u].label, dump(arr));
	net_release(arr);
}

/* ---- the stages ---- */

/* N1 (due 2026-04-10) and N2 (due today), from the district to every unit
 * below. N1: hetong, hetong/b1 and jinshan/b1 acknowledge in time,
 * jiangtou/b1 after the due date, the others never (late once April's
 * reports count it). N2: hetong, jinshan, hetong/b1 and dianqian/b1
 * acknowledge today (the default date); then every unit below the district
 * reports the month under way, N2's month. */
static void stage_notice(void)
{
	static const struct {
		int n, u;
		const char *date; /* NULL: no --acked */
	} acks[] = {{0, HETONG, "2026-04-08"}, {0, HT_B1, "2026-04-09"}, {0, JS_B1, "2026-04-10"}, {0, JT_B1, "2026-04-20"},
		    {1, HETONG, NULL},         {1, JINSHAN, NULL},       {1, HT_B1, NULL},         {1, DQ_B1, NULL}};

	for (int n = 0; n < NOTICES; n++)
		net_ok("notice", "add", "-d", Y.n[HULI]->dir, "--id", notice[n].id, "--title", notice[n].title, "--due",
		       notice[n].due, NULL);
	for (int u = HETONG; u < JS_B2; u++)
		NET_WAIT(NET_DEADLINE_MS, net_count(Y.n[u], "notice", Y.n[HULI]->key) == NOTICES, "%s to hold the notices",
			 unit_def[u].label);
	for (size_t k = 0; k < sizeof acks / sizeof acks[0]; k++) {
		net_ok("notice", "ack", "-d", Y.n[acks[k].u]->dir, "--from", "huli", "--notice", notice[acks[k].n].id,
		       acks[k].date ? "--acked" : NULL, acks[k].date, NULL);
		Y.ack[acks[k].n][acks[k].u] = acks[k].date ?: Y.today;
	}
	for (int u = HETONG; u < JS_B2; u++) {
		size_t want = (Y.ack[0][u] != NULL) + (Y.ack[1][u] != NULL);

		NET_WAIT(NET_DEADLINE_MS, net_count(Y.n[HULI], "ack", Y.n[u]->key) == want, "huli to hold %zu acks of %s",
			 want, unit_def[u].label);
	}
	for (int n = 0; n < NOTICES; n++)
		check_notice_status(n);
	check_unacked(JS_B1); /* N2 */
	check_unacked(DQ_B1); /* N1, overdue */
	for (int u = HT_B1; u < JS_B2; u++)
		report_months(u, CUR, CUR);
	for (int u = HETONG; u <= DIANQIAN; u++)
		report_months(u, CUR, CUR);
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
	json_t *arr = RUN_JSON("transfer", "list", "-d", Y.n[u]->dir), *t = find(arr, "id", id);
	bool yes = t && is(t, "state", want);

	net_release(arr);
	return yes;
}

/* Moves T from hetong/b1 to jinshan/b1 in August (the district, their
 * common ancestor, forwards) and back in October: a transfer out and in at
 * each, T active at hetong/b1 again and transferred at jinshan/b1. */
static void move(int from, int to, const char *released, const char *accepted)
{
	char id[ID_CAP * 2], t[ID_CAP];

	member_id(t, HT_B1, T_MEMBER);
	snprintf(id, sizeof id, "%s-%.4s%.2s%.2s", t, released, released + 5, released + 8);
	/* what the transfer needs (trust scoped to the tree, issue 16: the
	 * branches hold no certificate of each other): their common ancestor,
	 * the district, holding both */
	NET_WAIT(NET_DEADLINE_MS, net_has_cert(Y.n[HULI], Y.n[from]->key) && net_has_cert(Y.n[HULI], Y.n[to]->key),
		 "huli to hold %s's and %s's certificates", unit_def[from].label, unit_def[to].label);
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
	/* dated REVOKED_AT by the command's clock only: at a jump of the
	 * daemons' clocks their links drop, and hetong would refuse b2's
	 * reconnection before b2 holds its revocation */
	command_clock_at(REVOKED_AT);
	net_ok("revoke", "-d", Y.n[HETONG]->dir, "--name", unit_def[HT_B2].path, "--reason", "支部撤销", NULL);
	command_clock_at(NULL);
	Y.revoked[HT_B2] = true;
	snprintf(Y.revoked_on[HT_B2], DATE_CAP, "%s", REVOKED_AT);
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
 * June to November. The district's notice status then lists hetong/b2 as
 * revoked, and jinshan/b2 (counted for N2 only). */
static void stage_june_branch(void)
{
	join_and_start(JS_B2, JUNE_JOINED);
	report_months(JS_B2, JUNE, MONTHS - 1);
	NET_WAIT(NET_DEADLINE_MS, net_count(Y.n[HULI], "revocation", Y.n[HETONG]->key) == 1,
		 "huli to hold hetong's revocation");
	NET_WAIT(NET_DEADLINE_MS, net_has_cert(Y.n[HULI], Y.n[JS_B2]->key), "huli to hold jinshan/b2's certificate");
	for (int n = 0; n < NOTICES; n++)
		check_notice_status(n);
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

	Y.late_phase = true; /* from here on */
	report_months(JT_B1, MONTHS - 1, MONTHS - 1);
	report_months(JIANGTOU, MONTHS - 1, MONTHS - 1);
	cr_assert_gt(Y.total[JIANGTOU][MONTHS - 1].v[F_FULL], before.v[F_FULL],
		     "the late branch's report changed nothing in its street's total");
}

/* ---- views, decisions and history ---- */

/* One child's entry in a view: reported, figures, the check, on time. */
static void check_child(json_t *o, int u, int i, bool on_time)
{
	struct fig own;

	cr_assert(is(o, "name", unit_def[u].path) && json_is_true(json_object_get(o, "reported")) &&
			  json_is_true(json_object_get(o, "on_time")) == on_time && is(o, "check", "matches"),
		  "%s for %s (on time: %d): %s", unit_def[u].label, period[i], on_time, dump(o));
	own_figures(u, i, &own);
	check_fig(json_object_get(o, "own"), &own, "own figures in the view", u, i);
	check_fig(json_object_get(o, "total"), &Y.total[u][i], "total in the view", u, i);
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
	json_t *k = find(json_object_get(o, "children"), "key", Y.n[u]->hex);

	cr_assert(k, "%s is not among the children: %s", unit_def[u].label, dump(o));
	return k;
}

static json_t *view(int at, int i)
{
	return RUN_JSON("report", "show", "-d", Y.n[at]->dir, "--period", period[i], "--tree");
}

static const char *approval_word(json_t *o)
{
	json_t *a = json_object_get(o, "approval");

	return json_is_string(a) ? json_string_value(a) : str(a, "decision");
}

/* The district's view of street u's January: its approval is the word
 * want (comment NULL) or the decision want by huli with that comment.
 * Returns the report seq shown. */
static long long check_approval(int u, const char *want, const char *comment)
{
	json_t *j = view(HULI, FIXED_MONTH), *o = child(json_object_get(j, "node"), u), *a = json_object_get(o, "approval");
	long long seq = json_integer_value(json_object_get(o, "report_seq"));

	cr_assert(comment ? json_is_object(a) && is(a, "decision", want) && is(a, "comment", comment) && is(a, "by", "huli")
			  : strcmp(json_string_value(a) ?: "", want) == 0,
		  "%s's January at huli, expected %s \"%s\": %s", unit_def[u].label, want, comment ?: "", dump(o));
	net_release(j);
	return seq;
}

/* `report VERB` of u's January at unit at, and the steps it adds to the
 * model: a reopen from further up reopens the levels in between too. */
static void decide(int at, const char *verb, int u, const char *comment)
{
	const char *word = strcmp(verb, "accept") == 0 ? "accepted" : strcmp(verb, "return") == 0 ? "returned" : "reopened";

	net_ok("report", verb, "-d", Y.n[at]->dir, "--period", period[FIXED_MONTH], "--from", unit_def[u].path,
	       "--comment", comment, NULL);
	logged(u, word, at, comment);
	for (int p = unit_def[u].parent; strcmp(verb, "reopen") == 0 && p != at; p = unit_def[p].parent)
		logged(p, word, at, comment);
}

static json_t *history(int at, int u)
{
	return RUN_JSON("report", "history", "-d", Y.n[at]->dir, "--period", period[FIXED_MONTH], "--unit",
			unit_def[u].path);
}

static size_t history_len(int at, int u)
{
	json_t *j = history(at, u);
	size_t n = json_array_size(json_object_get(j, "history"));

	net_release(j);
	return n;
}

/* `report history` of u's January at unit at (once it holds every step):
 * the steps of the model, in order, with who and the comment. */
static void check_history(int at, int u)
{
	json_t *j, *ev;
	size_t x;

	NET_WAIT(NET_DEADLINE_MS, history_len(at, u) >= (size_t)Y.nhist[u], "%s to hold the %d steps of %s's January",
		 unit_def[at].label, Y.nhist[u], unit_def[u].label);
	j = history(at, u);
	cr_assert_eq(json_array_size(json_object_get(j, "history")), (size_t)Y.nhist[u], "%s", dump(j));
	json_array_foreach(json_object_get(j, "history"), x, ev) {
		const struct event *e = &Y.hist[u][x];

		cr_assert(is(ev, "event", e->event) && is(ev, "by", unit_def[e->by].path) && is(ev, "comment", e->comment),
			  "step %zu of %s's January at %s: expected %s by %s \"%s\": %s", x + 1, unit_def[u].label,
			  unit_def[at].label, e->event, unit_def[e->by].path, e->comment ?: "", dump(j));
	}
	net_release(j);
}

/* `strata status --json` at unit u: the latest decision on its January. */
static void check_status_decision(int u, const char *decision, int by, const char *comment, long long seq)
{
	json_t *j = RUN_JSON("status", "-d", Y.n[u]->dir);
	json_t *d = find(json_object_get(j, "report_decisions"), "period", period[FIXED_MONTH]);

	cr_assert(d && is(d, "decision", decision) && is(d, "by", unit_def[by].path) && is(d, "comment", comment) &&
			  json_integer_value(json_object_get(d, "report_seq")) == seq,
		  "status at %s: expected %s by %s (report #%lld): %s", unit_def[u].label, decision, unit_def[by].path, seq,
		  dump(j));
	net_release(j);
}

/* `dues add` at unit u of its member FIXED_MEMBER's January dues. */
static void add_missing(struct net_run *r, int u)
{
	char id[ID_CAP];

	member_id(id, u, FIXED_MEMBER);
	cr_assert(!pays(u, FIXED_MONTH, FIXED_MEMBER), "the test's data: %s paid January", id);
	net_run(r, "dues", "add", "-d", Y.n[u]->dir, "--member", id, "--period", period[FIXED_MONTH], "--amount", "50",
		"--paid", "2026-01-25", "--method", "cash", NULL);
}

static void pay_missing(int u)
{
	struct net_run r;

	add_missing(&r, u);
	cr_assert_eq(r.status, 0, "dues add at %s: %s", unit_def[u].label, r.err);
	net_run_free(&r);
	Y.fixed[u] = true;
}

/* The district returns jiangtou's January (one member's dues missing): the
 * view at the district, and `status` and the daemon's log at the street,
 * show it; jiangtou records the dues and submits again. */
static void stage_return_and_resubmit(void)
{
	static const char *const why = "1月党费有1人未登记，请核实后重新上报";
	struct fig before, after;
	long long seq = check_approval(JIANGTOU, "pending", NULL);

	own_figures(JIANGTOU, FIXED_MONTH, &before);
	decide(HULI, "return", JIANGTOU, why);
	check_approval(JIANGTOU, "returned", why);
	NET_WAIT(NET_DEADLINE_MS, net_log_has(Y.n[JIANGTOU], "returned by huli"), "jiangtou's log to show the return");
	check_status_decision(JIANGTOU, "returned", HULI, why, seq);
	pay_missing(JIANGTOU);
	own_figures(JIANGTOU, FIXED_MONTH, &after);
	cr_assert_eq(after.v[F_UNPAID], before.v[F_UNPAID] - 1);
	report_months(JIANGTOU, FIXED_MONTH, FIXED_MONTH);
	check_approval(JIANGTOU, "pending (resubmitted after a decision)", NULL);
}

/* A level accepts a child only when the child accepted every unit below
 * it that existed in the month: the district cannot accept jiangtou's
 * January before jiangtou accepted its branch's (the refusal names it, and
 * decides nothing). Jiangtou accepts it, which locks January at the
 * branch, and submits again; the district accepts. A dues add dated in
 * January at the branch is refused, naming the acceptance, and changes
 * nothing. */
static void stage_lock(void)
{
	struct net_run r;
	size_t dues = net_count(Y.n[JT_B1], "dues", Y.n[JT_B1]->key);

	net_run(&r, "report", "accept", "-d", Y.n[HULI]->dir, "--period", period[FIXED_MONTH], "--from",
		unit_def[JIANGTOU].path, "--comment", "好", NULL);
	cr_assert(r.status != 0 && net_has(r.err, "cannot accept the report of huli/jiangtou for 2026-01") &&
			  net_has(r.err, "huli/jiangtou/b1 (not accepted)"),
		  "accepting jiangtou's January before it accepted its branch: exit %d: %s", r.status, r.err);
	net_run_free(&r);
	check_history(HULI, JIANGTOU);
	decide(JIANGTOU, "accept", JT_B1, "一支部1月报表无误");
	report_months(JIANGTOU, FIXED_MONTH, FIXED_MONTH);
	decide(HULI, "accept", JIANGTOU, "好");
	check_approval(JIANGTOU, "accepted", "好");
	check_history(JT_B1, JT_B1); /* the branch holds its acceptance */
	add_missing(&r, JT_B1);
	cr_assert(r.status != 0 && net_has(r.err, "period 2026-01 was accepted by huli/jiangtou") &&
			  net_has(r.err, "ask it to reopen"),
		  "dues add in the locked January at jiangtou/b1: exit %d: %s", r.status, r.err);
	net_run_free(&r);
	cr_assert_eq(net_count(Y.n[JT_B1], "dues", Y.n[JT_B1]->key), dues, "the refused dues add changed the records");
}

/* The district reopens the branch's January (and so jiangtou's, the level
 * in between); the branch pays the missing dues and submits again,
 * jiangtou accepts it and submits again, the district accepts; both units'
 * `report history` list every step in order. */
static void stage_reopen(void)
{
	wait_held(HULI, JT_B1);
	decide(HULI, "reopen", JT_B1, "补录1月党费");
	check_approval(JIANGTOU, "reopened", "补录1月党费"); /* the level in between */
	check_history(JT_B1, JT_B1); /* the branch holds the reopen */
	pay_missing(JT_B1);
	report_months(JT_B1, FIXED_MONTH, FIXED_MONTH);
	check_history(JIANGTOU, JIANGTOU); /* the street holds its own reopen */
	decide(JIANGTOU, "accept", JT_B1, "补录无误");
	report_months(JIANGTOU, FIXED_MONTH, FIXED_MONTH);
	decide(HULI, "accept", JIANGTOU, "好");
	check_approval(JIANGTOU, "accepted", "好");
	check_history(JT_B1, JT_B1);
	check_history(HULI, JIANGTOU);
}

/* Is unit u expected to report for month i (README "report show"): its
 * certificate issued before the month ended, not revoked by then? */
static bool expected_in(int u, int i)
{
	return strncmp(Y.joined_on[u], period[i], 7) <= 0 && !(Y.revoked[u] && strncmp(Y.revoked_on[u], period[i], 7) <= 0);
}

/* `report show --summary --json` at the district for month i against the
 * model: per level (1 the streets, 2 the branches) and in all, the units
 * expected, reported, on time, late, missing and not expected, the rates;
 * the units not reported (overdue or not) and not expected (why). */
static void check_summary(int i)
{
	static const char *const names[6] = {"expected", "reported", "on_time", "late", "missing", "not_expected"};
	char deadline[32];
	bool ahead = deadline_of(i, deadline);
	json_t *j = RUN_JSON("report", "show", "-d", Y.n[HULI]->dir, "--period", period[i], "--summary"), *nr, *ne, *o;
	long long c[3][6] = {{0}}; /* level 1, level 2, all */

	for (int u = HETONG; u < UNITS; u++) {
		bool e = expected_in(u, i), r = Y.reported[u][i];
		bool t = Y.on_time[u][i];
		long long one[6] = {e, e && r, e && r && t, e && r && !t, e && !r, !e};

		if (!Y.n[u])
			continue;
		for (int k = 0; k < 6; k++) {
			c[u <= DIANQIAN ? 0 : 1][k] += one[k];
			c[2][k] += one[k];
		}
		nr = find(json_object_get(j, "not_reported"), "name", unit_def[u].path);
		ne = find(json_object_get(j, "not_expected"), "name", unit_def[u].path);
		cr_assert(!nr == !(e && !r) && (!nr || json_is_true(json_object_get(nr, "overdue")) == !ahead) && !ne == e &&
				  (!ne || net_has(str(ne, "why") ?: "", strncmp(Y.joined_on[u], period[i], 7) > 0 ? "after the period" : "revoked on")),
			  "summary for %s, %s (expected %d, reported %d): %s", period[i], unit_def[u].label, e, r, dump(j));
	}
	cr_assert_eq(json_array_size(json_object_get(j, "levels")), 2, "%s", dump(j));
	for (int l = 0; l < 3; l++) {
		o = l < 2 ? json_array_get(json_object_get(j, "levels"), l) : json_object_get(j, "total");
		for (int k = 0; k < 6; k++)
			cr_assert_eq(json_integer_value(json_object_get(o, names[k])), c[l][k], "summary for %s, %s %s: %s",
				     period[i], l < 2 ? "level" : "all", names[k], dump(o));
		cr_assert_float_eq(json_real_value(json_object_get(o, "reporting_rate")),
				   c[l][0] ? (double)c[l][1] / (double)c[l][0] : 0.0, 1e-9, "%s", dump(o));
		cr_assert_float_eq(json_real_value(json_object_get(o, "on_time_rate")),
				   c[l][0] ? (double)c[l][2] / (double)c[l][0] : 0.0, 1e-9, "%s", dump(o));
	}
	cr_assert_eq(json_array_size(json_object_get(j, "not_reported")), (size_t)c[2][4], "%s", dump(j));
	cr_assert_eq(json_array_size(json_object_get(j, "not_expected")), (size_t)c[2][5], "%s", dump(j));
	net_release(j);
}

/* The reporting rates at the district, for every month: the expected set
 * goes by the certificates' dates (hetong/b2 not from June, its revocation
 * month; jinshan/b2 from June); late are jiangtou/b1's and jiangtou's
 * November and their resubmitted January; in the month under way
 * jinshan/b2, which joined after the others reported it, is missing, not
 * overdue. */
static void stage_summaries(void)
{
	for (int i = 0; i <= CUR; i++)
		check_summary(i);
}

/* Each month at the district: every street reported, its own figures and
 * the total it rolled up as this test counted them, the check, on time,
 * the decision (jiangtou's January accepted, the rest pending). */
static void stage_district_views(void)
{
	for (int i = 0; i < MONTHS; i++) {
		char deadline[32];
		json_t *j = view(HULI, i), *o = json_object_get(j, "node");

		(void)deadline_of(i, deadline);

		cr_assert_str_eq(str(j, "deadline"), deadline);
		for (int s = HETONG; s <= DIANQIAN; s++) {
			check_child(child(o, s), s, i, Y.on_time[s][i]);
			cr_assert_str_eq(approval_word(child(o, s)), s == JIANGTOU && i == FIXED_MONTH ? "accepted" : "pending",
					 "%s for %s", unit_def[s].label, period[i]);
		}
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
	set_clock();
	for (int u = 0; u < JS_B2; u++) /* the network but jinshan/b2, with each unit's data */
		join_and_start(u, JOINED_AT);
	stage_notice();
	stage_transfer_and_return();
	stage_branches_report();
	stage_june_branch();
	stage_streets_report();
	stage_late_unit();
	stage_return_and_resubmit();
	stage_lock();
	stage_reopen();
	stage_district_views();
	stage_district_reports();
	stage_summaries();
}
