/* SPDX-License-Identifier: MIT */
/*
 * The verbs of `strata notice` and `strata dues` beyond the generic record
 * commands (cmd_record.c hands them here):
 *   strata notice ack    --from ORG-PATH|KEY --notice ID [--acked DATE]
 *   strata notice status --notice ID
 *   strata notice list   --unacked | --received
 *   strata dues list     --unpaid --period YYYY-MM
 * Each parses, calls one library function (node/domain/domain_notice.h,
 * domain.h) and prints.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/domain/domain_notice.h"
#include "node/sync/sync.h"

void cmd_record_help_more(FILE *f, const struct record_type *t)
{
	if (t == &record_notice)
		cli_help(f, "       strata notice ack    [-d DIR] --from ORG-PATH|KEY --notice ID [--acked DATE] [--json]\n"
		      "       strata notice status [-d DIR] --notice ID [--json]\n"
		      "       strata notice list   [-d DIR] --received|--unacked [--json]\n\n"
		      "ack acknowledges a notice received from above, naming its sender by org path\n"
		      "(or key); --acked defaults to today. status shows, for a notice this node\n"
		      "sent, every unit below (and every peer it is shared with) and whether it\n"
		      "acknowledged: units that joined after the due date, and revoked ones, are\n"
		      "listed but not counted. list --received lists the notices received with\n"
		      "their sender and answer; --unacked only those not acknowledged yet.\n");
	else if (t == &record_dues)
		cli_help(f, "       strata dues list     [-d DIR] --unpaid --period YYYY-MM [--json]\n\n"
		      "list --unpaid lists the members whose dues of the month are unpaid: exactly\n"
		      "those the report's members_unpaid counts (active, joined by the month's end,\n"
		      "no dues record of the month with a paid date).\n");
}

#define NOTE_SIZE 96 /* "peer; not counted: joined after the due date" */

struct opts {
	struct cli_common c;
	const char *from, *notice, *acked, *period;
	bool unacked, received, unpaid;
};

/* Parses the options of these verbs; CLI_GO_ON or an exit code. */
static int parse(const char *what, int argc, char **argv, struct opts *o, const struct record_type *t)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},    {"json", no_argument, NULL, 'j'},
		{"from", required_argument, NULL, 'f'},   {"notice", required_argument, NULL, 'N'},
		{"acked", required_argument, NULL, 'a'},  {"period", required_argument, NULL, 'p'},
		{"unacked", no_argument, NULL, 'u'},      {"received", no_argument, NULL, 'r'},
		{"unpaid", no_argument, NULL, 'U'},       {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	memset(o, 0, sizeof *o);
	cli_common_init(&o->c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': o->c.dir = optarg; break;
		case 'j': o->c.json = true; break;
		case 'f': o->from = optarg; break;
		case 'N': o->notice = optarg; break;
		case 'a': o->acked = optarg; break;
		case 'p': o->period = optarg; break;
		case 'u': o->unacked = true; break;
		case 'r': o->received = true; break;
		case 'U': o->unpaid = true; break;
		case 'h': cmd_record_help_more(stdout, t); return EXIT_OK;
		default: return cli_usage(what, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage(what, "unexpected argument \"%s\"", argv[optind]);
	return CLI_GO_ON;
}

static int notice_ack(int argc, char **argv)
{
	struct opts o;
	struct domain_record r = {0};
	struct err e = {0};
	int ret = parse("notice ack", argc, argv, &o, &record_notice);

	if (ret != CLI_GO_ON)
		return ret;
	if (!o.from || !o.notice)
		return cli_usage("notice ack", "--from ORG-PATH and --notice ID are required");
	if ((ret = domain_notice_ack(o.c.dir, o.from, o.notice, o.acked, &r, &e)) < 0) {
		domain_record_release(&r);
		return cli_fail_err("notice ack", ret, &e);
	}
	sync_notify(o.c.dir);
	if (o.c.json)
		cli_json_print(domain_record_json(&r));
	else
		printf("acknowledged notice %s from %s on %s (%s #%llu)\n", esc(o.notice), esc(o.from),
		       ((const Strata__NoticeAck *)r.m)->acked, r.feed, (unsigned long long)r.seq);
	domain_record_release(&r);
	return EXIT_OK;
}

static void status_print(const struct domain_notice_status *s)
{
	printf("notice %s  %s\n", esc(s->id), esc(s->title));
	printf("due %s; %zu units expected: %zu acked, %zu acked late, %zu not acked yet, %zu overdue\n",
	       s->due[0] ? s->due : "(none)", s->expected, s->acked, s->acked_late, s->open, s->overdue);
	printf("%-32s %-10s %-10s %-10s %s\n", "UNIT", "JOINED", "ANSWER", "ACKED", "NOTE");
	for (size_t i = 0; i < s->n; i++) {
		const struct domain_notice_unit *u = &s->units[i];
		char note[NOTE_SIZE];

		snprintf(note, sizeof note, "%s%s%s%s", u->peer ? "peer" : "", u->peer && !u->expected ? "; " : "",
			 u->expected ? "" : "not counted: ", u->expected ? "" : u->why);
		printf("%-32s %-10s %-10s %-10s%s%s\n", esc(u->name), u->joined[0] ? u->joined : "-",
		       notice_answer_word(u->answer), u->acked[0] ? u->acked : "-", note[0] ? " " : "", note);
	}
}

static int notice_status(int argc, char **argv)
{
	struct opts o;
	struct domain_notice_status s;
	struct err e = {0};
	int ret = parse("notice status", argc, argv, &o, &record_notice);

	if (ret != CLI_GO_ON)
		return ret;
	if (!o.notice)
		return cli_usage("notice status", "--notice ID is required");
	if ((ret = domain_notice_status(o.c.dir, o.notice, &s, &e)) < 0)
		return cli_fail_err("notice status", ret, &e);
	if (o.c.json)
		cli_json_print(domain_notice_status_json(&s));
	else
		status_print(&s);
	domain_notice_status_release(&s);
	return EXIT_OK;
}

struct rows {
	bool json;
	size_t count;
};

static int received_row(const struct domain_notice_row *r, void *arg)
{
	struct rows *w = arg;
	json_t *j;

	if (!r) {
		if (w->json)
			fputs("[", stdout);
		else
			printf("%-24s %-12s %-10s %-10s %-10s %s\n", "FROM", "ID", "DUE", "ANSWER", "ACKED", "TITLE");
		return 0;
	}
	if (w->json) {
		j = json_pack("{s:s, s:s, s:s, s:s, s:b}", "from", r->from, "sender", r->from_hex, "id", r->notice->id,
			      "title", r->notice->title, "counts", r->counts);
		if (j) {
			json_object_set_new(j, "due", r->notice->due ? json_string(r->notice->due) : json_null());
			json_object_set_new(j, "acked", r->acked[0] ? json_string(r->acked) : json_null());
			json_object_set_new(j, "answer", json_string(notice_answer_word(r->answer)));
			fputs(w->count ? ",\n" : "\n", stdout);
			cli_json_dumpf(j, stdout, JSON_COMPACT);
			json_decref(j);
		}
	} else {
		printf("%-24s %-12s %-10s %-10s %-10s %s%s\n", esc(r->from), esc(r->notice->id),
		       r->notice->due ? r->notice->due : "-", notice_answer_word(r->answer), r->acked[0] ? r->acked : "-",
		       esc(r->notice->title), r->counts ? "" : " (due before this unit joined: not counted)");
	}
	w->count++;
	return 0;
}

static int notice_received(int argc, char **argv)
{
	struct opts o;
	struct rows w = {0};
	struct err e = {0};
	size_t count = 0;
	int ret = parse("notice list", argc, argv, &o, &record_notice);

	if (ret != CLI_GO_ON)
		return ret;
	w.json = o.c.json;
	ret = domain_notice_received(o.c.dir, o.unacked, received_row, &w, &count, &e);
	if (ret < 0)
		return cli_fail_err("notice list", ret, &e);
	if (w.json)
		fputs(count ? "\n]\n" : "]\n", stdout);
	else
		printf("%zu notice%s%s\n", count, count == 1 ? "" : "s", o.unacked ? " not acknowledged" : " received");
	return EXIT_OK;
}

static int unpaid_row(const struct domain_unpaid *u, void *arg)
{
	struct rows *w = arg;

	if (!u) {
		if (w->json)
			fputs("[", stdout);
		else
			printf("%-16s %-16s %-10s %s\n", "MEMBER", "NAME", "JOINED", "DUE (yuan)");
		return 0;
	}
	if (w->json) {
		json_t *j = domain_unpaid_json(u);

		fputs(w->count ? ",\n" : "\n", stdout);
		cli_json_dumpf(j, stdout, JSON_COMPACT);
		json_decref(j);
	} else if (u->d) {
		printf("%-16s %-16s %-10s %lld.%02lld\n", esc(u->m->id), esc(u->m->name), u->m->joined,
		       (long long)(u->d->amount / 100), (long long)(u->d->amount % 100));
	} else {
		printf("%-16s %-16s %-10s %s\n", esc(u->m->id), esc(u->m->name), u->m->joined, "(no dues record)");
	}
	w->count++;
	return 0;
}

static int dues_list_unpaid(int argc, char **argv)
{
	struct opts o;
	struct rows w = {0};
	struct err e = {0};
	size_t count = 0;
	int ret = parse("dues list", argc, argv, &o, &record_dues);

	if (ret != CLI_GO_ON)
		return ret;
	if (!o.period)
		return cli_usage("dues list", "--unpaid needs --period YYYY-MM");
	w.json = o.c.json;
	if ((ret = domain_dues_unpaid(o.c.dir, o.period, unpaid_row, &w, &count, &e)) < 0)
		return cli_fail_err("dues list", ret, &e);
	if (w.json)
		fputs(count ? "\n]\n" : "]\n", stdout);
	else
		printf("%zu member%s unpaid in %s\n", count, count == 1 ? "" : "s", o.period);
	return EXIT_OK;
}

static bool has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], flag) == 0)
			return true;
	return false;
}

int cmd_record_more(const struct record_type *t, int argc, char **argv)
{
	if (t == &record_notice && strcmp(argv[1], "ack") == 0)
		return notice_ack(argc - 1, argv + 1);
	if (t == &record_notice && strcmp(argv[1], "status") == 0)
		return notice_status(argc - 1, argv + 1);
	if (t == &record_notice && strcmp(argv[1], "list") == 0 &&
	    (has_flag(argc, argv, "--unacked") || has_flag(argc, argv, "--received")))
		return notice_received(argc - 1, argv + 1);
	if (t == &record_dues && strcmp(argv[1], "list") == 0 && has_flag(argc, argv, "--unpaid"))
		return dues_list_unpaid(argc - 1, argv + 1);
	return CLI_GO_ON;
}
