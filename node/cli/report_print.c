/* SPDX-License-Identifier: MIT */
/*
 * What `strata report` prints for people (report show as lines and its
 * --summary table, a report's figures), in the user's language: the text
 * side of cmd_report.c, which parses and calls; the JSON comes from
 * node/report as it is.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/report/report.h"

/* walk.c's check words, translated where printed */
static const char *const check_words[] __attribute__((unused)) = {N_("matches"), N_("mismatch"),
	N_("not checked: this node does not hold its records")};

/* The figures cli_report_figures' lines print; any other (a record type's own,
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

void cli_report_figures(const char *label, json_t *f, int indent)
{
	json_t *rate = json_object_get(f, "attendance_rate"), *med = json_object_get(f, "request_close_days_median");
	char att[16] = "n/a";

	if (json_is_real(rate))
		snprintf(att, sizeof att, "%.0f%%", json_real_value(rate) * 100);
	printf(_("%*s%-6s members %lld (full %lld, probationary %lld; active %lld, lapsed %lld), new %lld; dues paid %lld "
	         "(%.2f yuan), unpaid %lld;\n"),
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
	printf(_("%*s       meetings %lld/%lld/%lld/%lld (congress/committee/group/lecture), attendance %s; study %lld "
	         "min; points %lld; requests opened %lld, closed %lld, open %lld"),
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
		printf(_(" (median %lld days to close)"), (long long)json_integer_value(med));
	printf(_("; notices acked %lld, late %lld; transfers in %lld, out %lld\n"),
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

	printf(_("period %s, reports due by the end of %s\n"), period,
	       local_time(day, deadline_ms - 1000, "%Y-%m-%d (%Z)"));
}

static void print_decision(const struct report_row *r)
{
	static const char *const words[] = {N_("pending"), N_("accepted"), N_("returned"), N_("reopened")};
	const struct report_decision *d = &r->decision;
	char at[SHOW_TIME_SIZE];

	if (r->peer || !r->decision_shown)
		return;
	if (!d->decision)
		printf("%s", _(", pending"));
	else if (d->stale)
		printf("%s", _(", pending (resubmitted after a decision)"));
	else
		printf(_(", %s by %s on %s%s%s%s"), d->decision > 0 && d->decision <= 3 ? _(words[d->decision]) : _("decided"),
		       esc(d->by), local_time(at, d->at_ms, "%Y-%m-%d %H:%M"), d->has_comment ? " (\"" : "",
		       d->has_comment ? esc(d->comment) : "", d->has_comment ? "\")" : "");
}

/* The units' display names (node_display_names), for text that names
 * units by them too: one read of the certificates; NULL (org paths only)
 * when the store cannot say. */
static json_t *display_names(struct node *n)
{
	json_t *names = NULL;

	return node_display_names(n, &names, &(struct err){0}) < 0 ? NULL : names;
}

/* A unit's org path, and its display name when it has one (湖里区). */
static void print_name(const char *name, const json_t *names)
{
	const char *dn = names ? node_unit_display_name(names, name) : NULL;

	printf("%s", esc(name));
	if (dn)
		printf(" (%s)", esc(dn));
}

/* One unit of the view as lines at indentation INDENT. */
static void print_unit(const struct report_row *r, int indent, const json_t *names)
{
	json_t *o = r->unit;
	char at[SHOW_TIME_SIZE];

	printf("%*s", indent, "");
	print_name(r->name, names);
	if (!json_is_true(json_object_get(o, "reported"))) {
		if (!r->depth)
			printf("%s", _("  (no report of its own yet)\n"));
		else if (!r->expected)
			printf(_("  not expected (%s)\n"), esc(r->why_not));
		else
			printf(_("  NOT REPORTED%s\n"), r->overdue ? _(", past the deadline") : "");
		return;
	}
	printf(_("  report #%llu submitted %s, %s"), (unsigned long long)r->report_seq,
	       local_time(at, r->submitted_ms, "%Y-%m-%d %H:%M"), r->status == REPORT_ON_TIME ? _("on time") : _("LATE"));
	print_decision(r);
	if (r->depth && !r->expected && !r->peer)
		printf(_(", not expected (%s)"), esc(r->why_not));
	if (json_object_get(o, "check"))
		printf(_(", figures %s"), _(json_string_value(json_object_get(o, "check")))); /* walk.c's words */
	printf("\n");
	if (json_object_get(o, "mismatch"))
		printf(_("%*s  MISMATCH: %s\n"), indent, "", esc(json_string_value(json_object_get(o, "mismatch"))));
	cli_report_figures(_("own"), json_object_get(o, "own"), indent + 2);
	cli_report_figures(_("total"), json_object_get(o, "total"), indent + 2);
}

/* The text view as the walk goes: children at +2, peers apart at +4. */
struct show_text {
	json_t *names; /* the units' display names (node_display_names), NULL: none */
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
			printf(_("%*speers (their figures are not part of the total above):\n"), st->indent[d - 1] + 2, "");
		st->peers_said[d - 1] |= r->peer;
	}
	st->indent[d] = indent;
	st->peers_said[d] = false;
	print_unit(r, indent, st->names);
	return 0;
}

/* report show --summary, text: the units not counted or not reported as
 * the walk finds them, then the counts per level. */
static int print_missing(const struct report_row *r, void *arg)
{
	printf("%s", r->expected ? _("  NOT REPORTED  ") : _("  not counted   "));
	print_name(r->name, arg);
	if (r->expected)
		printf(_(" (level %u)%s\n"), r->depth, r->overdue ? _(", past the deadline") : "");
	else
		printf(_(" (level %u): %s\n"), r->depth, esc(r->why_not));
	return 0;
}

static void print_counts(const char *label, const struct report_counts *c)
{
	cli_pad(stdout, label, 6);
	printf(" %8llu %8llu %6.1f%% %8llu %6.1f%% %6llu %8llu %12llu\n", (unsigned long long)c->expected,
	       (unsigned long long)c->reported, 100 * report_rate(c->reported, c->expected),
	       (unsigned long long)c->on_time, 100 * report_rate(c->on_time, c->expected), (unsigned long long)c->late,
	       (unsigned long long)c->missing, (unsigned long long)c->not_expected);
}

int cli_report_summary_text(struct node *n, const char *period, struct err *e)
{
	json_t *names = display_names(n);
	struct report_summary s;
	char label[16];
	int ret;

	print_deadline(period, report_deadline_ms(period, node_config(n)->report_deadline_day));
	if ((ret = report_summary(n, period, print_missing, names, &s, e)) < 0) {
		json_decref(names);
		return ret;
	}
	{ /* the header by display width, so that it stays over its columns in Chinese */
		static const char *const head[] = {N_("expected"), N_("reported"), N_("rate"), N_("on time"), N_("rate"),
						   N_("late"), N_("missing"), N_("not expected")};
		static const size_t width[] = {8, 8, 7, 8, 7, 6, 8, 12};

		cli_pad(stdout, _("level"), 6);
		for (size_t i = 0; i < sizeof width / sizeof width[0]; i++) {
			putchar(' ');
			cli_pad_right(stdout, _(head[i]), width[i]);
		}
		putchar('\n');
	}
	for (unsigned d = 1; d <= s.levels; d++) {
		snprintf(label, sizeof label, "%u", d);
		print_counts(label, &s.level[d]);
	}
	print_counts(_("all"), &s.total);
	json_decref(names);
	return 0;
}

int cli_report_view_text(struct node *n, const char *period, bool tree, struct err *e)
{
	struct report_walk_opts o = {.tree = tree, .figures = true};
	struct show_text st = {.names = display_names(n)};
	int ret;

	print_deadline(period, report_deadline_ms(period, node_config(n)->report_deadline_day));
	ret = report_walk(n, period, &o, print_row, &st, NULL, e);
	json_decref(st.names);
	return ret;
}
