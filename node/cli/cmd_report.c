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
#include "node/core/admin.h"
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
		"only the parent of a unit decides on its reports. accept needs every unit\n"
		"below the child accepted by it in the report (the refusal names the units\n"
		"missing); a provisional report (the month under way) may be accepted, which\n"
		"locks the month as it stands. An accepted month\n"
		"is locked at the child: records dated in it cannot be added or changed, nor\n"
		"the report submitted again (erasing a person's data still works), until its\n"
		"parent or a level above reopens it (reopen, with a comment; from further up\n"
		"it reopens every level in between). A month not begun cannot be reported;\n"
		"one under way is reported as provisional. Months are in the node's time\n"
		"zone (TZ). history lists every submission and decision of a unit (default:\n"
		"this node) for the month, oldest first.\n");
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
			printf(_("submitted the report of %s for %s (report #%llu; %zu child report%s rolled up, %zu of them "
			       "accepted)%s\n"),
			       node_name(n), period, (unsigned long long)r.seq, r.children, r.children == 1 ? "" : "s",
			       r.accepted, r.provisional ? "; provisional: the month has not ended" : "");
			cli_report_figures(_("own"), own, 2);
			cli_report_figures(_("total"), total, 2);
			json_decref(own);
			json_decref(total);
		}
		figures_clear(&r.own);
		figures_clear(&r.total);
	}
	return ret;
}

static void put_stdout(const char *text, void *arg)
{
	(void)arg;
	cli_json_puts(text, stdout);
}

/* report show: the view of period, as JSON or as a tree of lines, or
 * (summary) the reporting rates; all written as the walk goes. */
static int show(struct node *n, const char *period, bool tree, bool summary, bool json, struct err *e)
{
	int ret;

	if (!report_period_valid(period)) {
		err_set(e, "period \"%s\" is not a month YYYY-MM", period);
		return -EINVAL;
	}
	if (summary)
		ret = json ? report_summary_write(n, period, put_stdout, NULL, e) : cli_report_summary_text(n, period, e);
	else
		ret = json ? report_view_write(n, period, tree, put_stdout, NULL, e) : cli_report_view_text(n, period, tree, e);
	if (ret < 0)
		fflush(stdout); /* what was written stays; the error follows on stderr */
	return ret;
}

/* report accept / return / reopen: decides on the report of unit FROM. */
static int decide(struct node *n, const char *period, const char *from, enum report_verb verb, const char *comment,
		  struct err *e)
{
	static const char *const done[] = {N_("accepted the report of %s for %s\n"), N_("returned the report of %s for %s\n"),
					    N_("reopened the report of %s for %s\n")};
	int ret;

	if ((ret = report_decide(n, period, from, verb, comment, e)) == 0) {
		sync_notify(node_dir(n));
		printf(_(done[verb]), from, period);
	}
	return ret;
}

/* report history: every submission and decision, oldest first. */
/* Who decides on the unit's reports and what this node may do (issue 14:
 * who may act on which report is shown). */
static json_t *authority_json(const struct report_authority *a)
{
	json_t *may = json_array();

	if (a->may_decide) {
		json_array_append_new(may, json_string("accept"));
		json_array_append_new(may, json_string("return"));
	}
	if (a->may_reopen)
		json_array_append_new(may, json_string("reopen"));
	return json_pack("{s:s, s:o}", "decided_by", a->parent, "this_node_may", may);
}

static void authority_print(const struct report_authority *a)
{
	if (!a->parent[0])
		printf("%s", _("  its reports are decided by no level above (a root)\n"));
	else if (a->may_decide)
		printf(_("  decided by %s: this node (accept, return, reopen)\n"), a->parent);
	else if (a->may_reopen)
		printf(_("  decided by %s; this node, above it, may reopen\n"), a->parent);
	else
		printf(_("  decided by %s; this node may not decide on it\n"), a->parent);
}

static int history(struct node *n, const char *period, const char *unit, bool json, struct err *e)
{
	struct report_authority a;
	json_t *h, *ev;
	size_t i;
	int ret;

	if ((ret = report_history(n, unit, period, &h, e)) < 0)
		return ret;
	if ((ret = report_authority_get(n, period, unit ? unit : node_name(n), &a, e)) < 0) {
		json_decref(h);
		return ret;
	}
	if (json) {
		cli_json_print(json_pack("{s:s, s:s, s:o, s:o}", "unit", unit ? unit : node_name(n), "period", period,
					 "history", h, "authority", authority_json(&a)));
		return 0;
	}
	printf("%s, %s:%s\n", unit ? unit : node_name(n), period, json_array_size(h) ? "" : _(" nothing submitted"));
	authority_print(&a);
	json_array_foreach(h, i, ev) {
		const char *comment = json_string_value(json_object_get(ev, "comment"));
		const char *event = json_string_value(json_object_get(ev, "event"));

		/* the event word (report_history.c: N_) in the user's language */
		printf("  %s  ", json_string_value(json_object_get(ev, "time")));
		cli_cell(stdout, event && *event ? _(event) : "-", 9, false);
		printf(_("report #%lld by %s"), (long long)json_integer_value(json_object_get(ev, "seq")),
		       esc(json_string_value(json_object_get(ev, "by"))));
		if (json_is_true(json_object_get(ev, "provisional")))
			printf("%s", _(" (provisional)"));
		if (comment)
			printf(": \"%s\"", esc(comment));
		printf("\n");
	}
	json_decref(h);
	return 0;
}

/* The options of one verb. */
struct report_opts {
	struct cli_common c;
	const char *verb, *period, *from, *comment, *unit;
	bool tree, summary;
};

/* What each verb requires and refuses; CLI_GO_ON or the usage exit. */
static int check_options(const char *what, const struct report_opts *o)
{
	const char *verb = o->verb;

	if (!o->period)
		return cli_usage(what, "--period YYYY-MM is required");
	if (o->summary && strcmp(verb, "show"))
		return cli_usage(what, "--summary is an option of report show");
	if ((!strcmp(verb, "accept") || !strcmp(verb, "return") || !strcmp(verb, "reopen")) && !o->from)
		return cli_usage(what, "--from ORG/PATH (the unit whose report it is) is required");
	if (!strcmp(verb, "return") && !o->comment)
		return cli_usage(what, "--comment is required: say what to fix");
	if (!strcmp(verb, "reopen") && !o->comment)
		return cli_usage(what, "--comment is required: say why the month is reopened");
	if (o->unit && strcmp(verb, "history"))
		return cli_usage(what, "--unit is for report history");
	return CLI_GO_ON;
}

/* Parses argv (after the verb); CLI_GO_ON or an exit code. */
static int parse(int argc, char **argv, const char *what, struct report_opts *o)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},     {"period", required_argument, NULL, 'p'},
		{"from", required_argument, NULL, 'f'},    {"comment", required_argument, NULL, 'c'},
		{"tree", no_argument, NULL, 't'},          {"json", no_argument, NULL, 'j'},
		{"unit", required_argument, NULL, 'u'},    {"summary", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	int opt;

	cli_common_init(&o->c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': o->c.dir = optarg; break;
		case 'p': o->period = optarg; break;
		case 'f': o->from = optarg; break;
		case 'c': o->comment = optarg; break;
		case 't': o->tree = true; break;
		case 'u': o->unit = optarg; break;
		case 's': o->summary = true; break;
		case 'j': o->c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage(what, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage(what, "unexpected argument \"%s\"", argv[optind]);
	return check_options(what, o);
}

/* show writes nothing but its index of recomputations (report_view):
 * read-write if it may, else read-only (it then recomputes each time);
 * history only reads; the others sign. */
static int open_for(const char *verb, const char *dir, struct node **n, struct err *e)
{
	int ret;

	if (!strcmp(verb, "history"))
		return node_open(n, dir, NODE_RDONLY | NODE_NO_KEY, e);
	ret = node_open(n, dir, strcmp(verb, "show") ? 0 : NODE_NO_KEY, e);
	if (ret < 0 && !strcmp(verb, "show")) {
		*e = (struct err){0};
		ret = node_open(n, dir, NODE_RDONLY | NODE_NO_KEY, e);
	}
	return ret;
}

int cmd_report_main(int argc, char **argv)
{
	struct report_opts o = {0};
	char what[32];
	struct node *n = NULL;
	struct err e = {0};
	int ret;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	o.verb = argv[1];
	snprintf(what, sizeof what, "report %s", o.verb);
	if (strcmp(o.verb, "submit") && strcmp(o.verb, "show") && strcmp(o.verb, "accept") && strcmp(o.verb, "return") &&
	    strcmp(o.verb, "reopen") && strcmp(o.verb, "history"))
		return cli_usage("report", "unknown subcommand \"%s\" (submit, show, accept, return, reopen, history)",
				 o.verb);
	if ((ret = parse(argc - 1, argv + 1, what, &o)) != CLI_GO_ON)
		return ret;
#ifdef __GLIBC__
	/* A view that recomputes reports decodes every change set of each
	 * descendant's up feed into buffers of a few hundred KiB, freed after
	 * each one: glibc would hand them back to the kernel and fault them in
	 * again for the next, a third of the CPU time on a virtual machine.
	 * This process ends with the view: keep the memory. Only a tuning. */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
	if ((ret = open_for(o.verb, o.c.dir, &n, &e)) < 0)
		return cli_fail_err(what, ret, &e);
	if (!strcmp(o.verb, "submit"))
		ret = submit(n, o.period, o.c.json, &e);
	else if (!strcmp(o.verb, "show"))
		ret = show(n, o.period, o.tree, o.summary, o.c.json, &e);
	else if (!strcmp(o.verb, "history"))
		ret = history(n, o.period, o.unit, o.c.json, &e);
	else
		ret = decide(n, o.period, o.from,
			     !strcmp(o.verb, "accept") ? REPORT_ACCEPT
			     : !strcmp(o.verb, "return") ? REPORT_RETURN : REPORT_REOPEN,
			     o.comment, &e);
	node_close(&n);
	return ret < 0 ? cli_fail_err(what, ret, &e) : EXIT_OK;
}
