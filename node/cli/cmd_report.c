/* SPDX-License-Identifier: MIT */
/*
 * strata report submit|show|accept|return|reopen|history: one-click upward
 * reporting and its approval.
 */
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/report/report.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	cli_help(f,
		"usage: strata report submit [-d DIR] --period YYYY-MM [--json]\n"
		"       strata report show   [-d DIR] --period YYYY-MM [--tree | --summary] [--json]\n"
		"       strata report accept [-d DIR] --period YYYY-MM --from ORG/PATH [--comment TEXT]\n"
		"       strata report return [-d DIR] --period YYYY-MM --from ORG/PATH --comment TEXT\n"
		"       strata report reopen [-d DIR] --period YYYY-MM --from ORG/PATH --comment TEXT\n"
		"       strata report history [-d DIR] --period YYYY-MM [--unit ORG/PATH] [--json]\n\n"
		"submit computes this node's standard figures for the month (members by\n"
		"category and status, new members, dues paid and members unpaid, meetings by\n"
		"kind and attendance, study minutes, points, requests opened, closed and still\n"
		"open, notices acknowledged and late, transfers out (members released in the\n"
		"month) and in (transfers accepted in the month)), adds the latest report of each child,\n"
		"signs it naming the exact feed heads it was computed from, and the link\n"
		"carries it up. Submitting again supersedes it; the history keeps both.\n"
		"show lists, per child (--tree: every level below), whether it reported, on\n"
		"time or late (by the end of day [report] deadline_day of the next month,\n"
		"default 5, in this machine's time zone, TZ), the latest decision on it\n"
		"(accepted, returned or reopened, by whom, when, the comment), its figures,\n"
		"and whether they match a recomputation from the heads it names. A unit\n"
		"revoked before the period ended, or certified after it, is shown as not\n"
		"expected; peers are listed apart. --summary: the reporting rates of every\n"
		"level below (expected, reported, on time, late, missing) and the units that\n"
		"have not reported.\n"
		"accept and return send a signed decision down;\n"
		"only the parent of a unit decides on its reports. accept needs a report\n"
		"submitted after the month ended and every unit below the child accepted by\n"
		"it in that report (the refusal names the units missing). An accepted month\n"
		"is locked at the child: records dated in it cannot be added or changed, nor\n"
		"the report submitted again (erasing a person's data still works), until its\n"
		"parent or a level above reopens it (reopen, with a comment; from further up\n"
		"it reopens every level in between). A month not begun cannot be reported;\n"
		"one under way is reported as provisional. Months are in the node's time\n"
		"zone (TZ). history lists every submission and decision of a unit (default:\n"
		"this node) for the month, oldest first.\n");
}

/* The figures print_figures' lines print; any other (a record type's own,
 * listed in the JSON only when not zero) gets a line of its own. */
static const char *const printed[] = {
	"members_full", "members_probationary", "members_active", "members_lapsed", "members_deceased",
	"members_transferred", "members_new", "dues_paid", "dues_paid_amount", "members_unpaid",
	"meetings_branch_congress", "meetings_committee", "meetings_group", "meetings_lecture",
	"attendance_present", "attendance_expected", "study_minutes", "points", "requests_opened",
	"requests_closed", "requests_open", "transfers_in", "transfers_out", "notices_acked", "notices_late",
	"attendance_rate", "request_close_days_median", NULL};

static void print_more_figures(json_t *f, int indent)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	json_object_foreach(f, k, v) {
		const char *const *p = printed;

		while (*p && strcmp(*p, k) != 0)
			p++;
		if (*p || !json_is_integer(v))
			continue;
		if (n++ == 0)
			printf("%*s      ", indent, "");
		else
			printf(",");
		printf(" %s %lld", k, (long long)json_integer_value(v));
	}
	if (n)
		printf("\n");
}

static void print_figures(const char *label, json_t *f, int indent)
{
	json_t *rate = json_object_get(f, "attendance_rate"), *med = json_object_get(f, "request_close_days_median");
	char att[16] = "n/a";

	if (json_is_real(rate))
		snprintf(att, sizeof att, "%.0f%%", json_real_value(rate) * 100);
	printf("%*s%-6s members %lld (full %lld, probationary %lld; active %lld, lapsed %lld), new %lld; dues paid %lld "
	       "(%.2f yuan), unpaid %lld;\n",
	       indent, "", label, (long long)(json_integer_value(json_object_get(f, "members_full")) +
					      json_integer_value(json_object_get(f, "members_probationary"))),
	       (long long)json_integer_value(json_object_get(f, "members_full")),
	       (long long)json_integer_value(json_object_get(f, "members_probationary")),
	       (long long)json_integer_value(json_object_get(f, "members_active")),
	       (long long)json_integer_value(json_object_get(f, "members_lapsed")),
	       (long long)json_integer_value(json_object_get(f, "members_new")),
	       (long long)json_integer_value(json_object_get(f, "dues_paid")),
	       (double)json_integer_value(json_object_get(f, "dues_paid_amount")) / 100.0,
	       (long long)json_integer_value(json_object_get(f, "members_unpaid")));
	printf("%*s       meetings %lld/%lld/%lld/%lld (congress/committee/group/lecture), attendance %s; study %lld "
	       "min; points %lld; requests opened %lld, closed %lld, open %lld",
	       indent, "", (long long)json_integer_value(json_object_get(f, "meetings_branch_congress")),
	       (long long)json_integer_value(json_object_get(f, "meetings_committee")),
	       (long long)json_integer_value(json_object_get(f, "meetings_group")),
	       (long long)json_integer_value(json_object_get(f, "meetings_lecture")), att,
	       (long long)json_integer_value(json_object_get(f, "study_minutes")),
	       (long long)json_integer_value(json_object_get(f, "points")),
	       (long long)json_integer_value(json_object_get(f, "requests_opened")),
	       (long long)json_integer_value(json_object_get(f, "requests_closed")),
	       (long long)json_integer_value(json_object_get(f, "requests_open")));
	if (json_is_integer(med))
		printf(" (median %lld days to close)", (long long)json_integer_value(med));
	printf("; notices acked %lld, late %lld; transfers in %lld, out %lld\n",
	       (long long)json_integer_value(json_object_get(f, "notices_acked")),
	       (long long)json_integer_value(json_object_get(f, "notices_late")),
	       (long long)json_integer_value(json_object_get(f, "transfers_in")),
	       (long long)json_integer_value(json_object_get(f, "transfers_out")));
	print_more_figures(f, indent);
}

#define SHOW_TIME_SIZE 48 /* a local time "YYYY-MM-DD HH:MM" or a day with its zone, and its NUL */
#define SHOW_DEPTH (REPORT_LEVELS_MAX + 2)

/* ms as local time (human output; the JSON's times are UTC). */
static const char *local_time(char out[SHOW_TIME_SIZE], uint64_t ms, const char *fmt)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, SHOW_TIME_SIZE, fmt, &tm);
	return out;
}

/* "reports due by the end of 2026-12-05 (CST)": the deadline is the
 * midnight after that day, local time. */
static void print_deadline(const char *period, uint64_t deadline_ms)
{
	char day[SHOW_TIME_SIZE];

	printf("period %s, reports due by the end of %s\n", period,
	       local_time(day, deadline_ms - 1000, "%Y-%m-%d (%Z)"));
}

static void print_decision(const struct report_row *r)
{
	static const char *const words[] = {"pending", "accepted", "returned", "reopened"};
	const struct report_decision *d = &r->decision;
	char at[SHOW_TIME_SIZE];

	if (r->peer || !r->decision_shown)
		return;
	if (!d->decision)
		printf(", pending");
	else if (d->stale)
		printf(", pending (resubmitted after a decision)");
	else
		printf(", %s by %s on %s%s%s%s", d->decision > 0 && d->decision <= 3 ? words[d->decision] : "decided",
		       esc(d->by), local_time(at, d->at_ms, "%Y-%m-%d %H:%M"), d->has_comment ? " (\"" : "",
		       d->has_comment ? esc(d->comment) : "", d->has_comment ? "\")" : "");
}

/* One unit of the view as lines at indentation INDENT. */
static void print_unit(const struct report_row *r, int indent)
{
	json_t *o = r->unit;
	char at[SHOW_TIME_SIZE];

	printf("%*s%s", indent, "", esc(r->name));
	if (!json_is_true(json_object_get(o, "reported"))) {
		if (!r->depth)
			printf("  (no report of its own yet)\n");
		else if (!r->expected)
			printf("  not expected (%s)\n", esc(r->why_not));
		else
			printf("  NOT REPORTED%s\n", r->overdue ? ", past the deadline" : "");
		return;
	}
	printf("  report #%llu submitted %s, %s", (unsigned long long)r->report_seq,
	       local_time(at, r->submitted_ms, "%Y-%m-%d %H:%M"), r->status == REPORT_ON_TIME ? "on time" : "LATE");
	print_decision(r);
	if (r->depth && !r->expected && !r->peer)
		printf(", not expected (%s)", esc(r->why_not));
	if (json_object_get(o, "check"))
		printf(", figures %s", json_string_value(json_object_get(o, "check")));
	printf("\n");
	if (json_object_get(o, "mismatch"))
		printf("%*s  MISMATCH: %s\n", indent, "", esc(json_string_value(json_object_get(o, "mismatch"))));
	print_figures("own", json_object_get(o, "own"), indent + 2);
	print_figures("total", json_object_get(o, "total"), indent + 2);
}

/* The text view as the walk goes: children at +2, peers apart at +4. */
struct show_text {
	int indent[SHOW_DEPTH];
	bool peers_said[SHOW_DEPTH];
};

static int print_row(const struct report_row *r, void *arg)
{
	struct show_text *st = arg;
	unsigned d = r->depth;
	int indent = 0;

	if (r->event != REPORT_EV_UNIT || d >= SHOW_DEPTH)
		return 0;
	if (d > 0) {
		indent = st->indent[d - 1] + (r->peer ? 4 : 2);
		if (r->peer && !st->peers_said[d - 1])
			printf("%*speers (their figures are not part of the total above):\n", st->indent[d - 1] + 2, "");
		st->peers_said[d - 1] |= r->peer;
	}
	st->indent[d] = indent;
	st->peers_said[d] = false;
	print_unit(r, indent);
	return 0;
}

static void put_stdout(const char *text, void *arg)
{
	(void)arg;
	cli_json_puts(text, stdout);
}

/* report show --summary, text: the units not counted or not reported as
 * the walk finds them, then the counts per level. */
static int print_missing(const struct report_row *r, void *arg)
{
	(void)arg;
	if (r->expected)
		printf("  NOT REPORTED  %s (level %u)%s\n", esc(r->name), r->depth, r->overdue ? ", past the deadline" : "");
	else
		printf("  not counted   %s (level %u): %s\n", esc(r->name), r->depth, esc(r->why_not));
	return 0;
}

static void print_counts(const char *label, const struct report_counts *c)
{
	printf("%-6s %8llu %8llu %6.1f%% %8llu %6.1f%% %6llu %8llu %12llu\n", label, (unsigned long long)c->expected,
	       (unsigned long long)c->reported, 100 * report_rate(c->reported, c->expected),
	       (unsigned long long)c->on_time, 100 * report_rate(c->on_time, c->expected), (unsigned long long)c->late,
	       (unsigned long long)c->missing, (unsigned long long)c->not_expected);
}

static int show_summary_text(struct node *n, const char *period, struct err *e)
{
	struct report_summary s;
	char label[16];
	int ret;

	print_deadline(period, report_deadline_ms(period, node_config(n)->report_deadline_day));
	if ((ret = report_summary(n, period, print_missing, NULL, &s, e)) < 0)
		return ret;
	printf("%-6s %8s %8s %7s %8s %7s %6s %8s %12s\n", "level", "expected", "reported", "rate", "on time", "rate",
	       "late", "missing", "not expected");
	for (unsigned d = 1; d <= s.levels; d++) {
		snprintf(label, sizeof label, "%u", d);
		print_counts(label, &s.level[d]);
	}
	print_counts("all", &s.total);
	return 0;
}

/* report submit: submits and prints what was rolled up. */
static int submit(struct node *n, const char *period, bool json, struct err *e)
{
	struct report_result r;
	int ret;

	if ((ret = report_submit(n, period, &r, e)) == 0) {
		json_t *own = figures_json(&r.own), *total = figures_json(&r.total);

		sync_notify(node_dir(n));
		if (json) {
			cli_json_print(json_pack("{s:s, s:s, s:I, s:I, s:I, s:b, s:o, s:o}", "node", node_name(n), "period",
						 period, "seq", (json_int_t)r.seq, "children", (json_int_t)r.children,
						 "accepted", (json_int_t)r.accepted, "provisional", r.provisional, "own", own,
						 "total", total));
		} else {
			printf("submitted the report of %s for %s (report #%llu; %zu child report%s rolled up, %zu of them "
			       "accepted)%s\n",
			       node_name(n), period, (unsigned long long)r.seq, r.children, r.children == 1 ? "" : "s",
			       r.accepted, r.provisional ? "; provisional: the month has not ended" : "");
			print_figures("own", own, 2);
			print_figures("total", total, 2);
			json_decref(own);
			json_decref(total);
		}
		figures_clear(&r.own);
		figures_clear(&r.total);
	}
	return ret;
}

/* report show: the view of period, as JSON or as a tree of lines, or
 * (summary) the reporting rates; all written as the walk goes. */
static int show(struct node *n, const char *period, bool tree, bool summary, bool json, struct err *e)
{
	struct report_walk_opts o = {.tree = tree, .figures = true};
	struct show_text st = {0};
	int ret;

	if (!report_period_valid(period)) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	if (summary)
		ret = json ? report_summary_write(n, period, put_stdout, NULL, e) : show_summary_text(n, period, e);
	else if (json)
		ret = report_view_write(n, period, tree, put_stdout, NULL, e);
	else {
		print_deadline(period, report_deadline_ms(period, node_config(n)->report_deadline_day));
		ret = report_walk(n, period, &o, print_row, &st, NULL, e);
	}
	if (ret < 0)
		fflush(stdout); /* what was written stays; the error follows on stderr */
	return ret;
}

/* report accept / return / reopen: decides on the report of unit FROM. */
static int decide(struct node *n, const char *period, const char *from, enum report_verb verb, const char *comment,
		  struct err *e)
{
	static const char *const done[] = {"accepted", "returned", "reopened"};
	int ret;

	if ((ret = report_decide(n, period, from, verb, comment, e)) == 0) {
		sync_notify(node_dir(n));
		printf("%s the report of %s for %s\n", done[verb], from, period);
	}
	return ret;
}

/* report history: every submission and decision, oldest first. */
static int history(struct node *n, const char *period, const char *unit, bool json, struct err *e)
{
	json_t *h, *ev;
	size_t i;
	int ret;

	if ((ret = report_history(n, unit, period, &h, e)) < 0)
		return ret;
	if (json) {
		cli_json_print(json_pack("{s:s, s:s, s:o}", "unit", unit ? unit : node_name(n), "period", period,
					 "history", h));
		return 0;
	}
	printf("%s, %s:%s\n", unit ? unit : node_name(n), period, json_array_size(h) ? "" : " nothing submitted");
	json_array_foreach(h, i, ev) {
		const char *comment = json_string_value(json_object_get(ev, "comment"));

		printf("  %s  %-9s report #%lld by %s", json_string_value(json_object_get(ev, "time")),
		       json_string_value(json_object_get(ev, "event")), (long long)json_integer_value(json_object_get(ev, "seq")),
		       esc(json_string_value(json_object_get(ev, "by"))));
		if (json_is_true(json_object_get(ev, "provisional")))
			printf(" (provisional)");
		if (comment)
			printf(": \"%s\"", esc(comment));
		printf("\n");
	}
	json_decref(h);
	return 0;
}

int cmd_report_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},     {"period", required_argument, NULL, 'p'},
		{"from", required_argument, NULL, 'f'},    {"comment", required_argument, NULL, 'c'},
		{"tree", no_argument, NULL, 't'},          {"json", no_argument, NULL, 'j'},
		{"unit", required_argument, NULL, 'u'},
		{"summary", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct cli_common c;
	const char *verb, *period = NULL, *from = NULL, *comment = NULL, *unit = NULL;
	char what[32];
	bool tree = false, summary = false;
	struct node *n = NULL;
	struct err e = {0};
	int opt, ret;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	verb = argv[1];
	snprintf(what, sizeof what, "report %s", verb);
	if (strcmp(verb, "submit") && strcmp(verb, "show") && strcmp(verb, "accept") && strcmp(verb, "return") &&
	    strcmp(verb, "reopen") && strcmp(verb, "history"))
		return cli_usage("report", "unknown subcommand \"%s\" (submit, show, accept, return, reopen, history)",
				 verb);
	cli_common_init(&c);
	optind = 0;
	argc--, argv++;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'p': period = optarg; break;
		case 'f': from = optarg; break;
		case 'c': comment = optarg; break;
		case 't': tree = true; break;
		case 'u': unit = optarg; break;
		case 's': summary = true; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage(what, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage(what, "unexpected argument \"%s\"", argv[optind]);
	if (!period)
		return cli_usage(what, "--period YYYY-MM is required");
	if (summary && strcmp(verb, "show"))
		return cli_usage(what, "--summary is an option of report show");
	if ((!strcmp(verb, "accept") || !strcmp(verb, "return") || !strcmp(verb, "reopen")) && !from)
		return cli_usage(what, "--from ORG/PATH (the unit whose report it is) is required");
	if (!strcmp(verb, "return") && !comment)
		return cli_usage(what, "--comment is required: say what to fix");
	if (!strcmp(verb, "reopen") && !comment)
		return cli_usage(what, "--comment is required: say why the month is reopened");
	if (unit && strcmp(verb, "history"))
		return cli_usage(what, "--unit is for report history");
#ifdef __GLIBC__
	/* A view that recomputes reports decodes every change set of each
	 * descendant's up feed into buffers of a few hundred KiB, freed after
	 * each one: glibc would hand them back to the kernel and fault them in
	 * again for the next, a third of the CPU time on a virtual machine.
	 * This process ends with the view: keep the memory. Only a tuning. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
	/* show writes nothing but its index of recomputations (report_view):
	 * read-write if it may, else read-only (it then recomputes each time);
	 * history only reads */
	if (!strcmp(verb, "history"))
		ret = node_open(&n, c.dir, NODE_RDONLY | NODE_NO_KEY, &e);
	else
		ret = node_open(&n, c.dir, strcmp(verb, "show") ? 0 : NODE_NO_KEY, &e);
	if (ret < 0 && !strcmp(verb, "show")) {
		e = (struct err){0};
		ret = node_open(&n, c.dir, NODE_RDONLY | NODE_NO_KEY, &e);
	}
	if (ret < 0)
		return cli_fail_err(what, ret, &e);
	if (!strcmp(verb, "submit"))
		ret = submit(n, period, c.json, &e);
	else if (!strcmp(verb, "show"))
		ret = show(n, period, tree, summary, c.json, &e);
	else if (!strcmp(verb, "history"))
		ret = history(n, period, unit, c.json, &e);
	else
		ret = decide(n, period, from,
			     !strcmp(verb, "accept") ? REPORT_ACCEPT : !strcmp(verb, "return") ? REPORT_RETURN : REPORT_REOPEN,
			     comment, &e);
	node_close(&n);
	return ret < 0 ? cli_fail_err(what, ret, &e) : EXIT_OK;
}
