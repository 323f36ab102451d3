/* SPDX-License-Identifier: MIT */
/*
 * strata member add|update|list|show (import: cmd_member_import.c). Members
 * are records of collection "member" in this node's `up` feed, keyed by id.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/core/node.h"
#include "node/domain/domain.h"
#include "node/sync/sync.h"

#define BRANCH_CELLS 28 /* the BRANCH column of member list, in terminal cells */
#define BRANCH_SHOWN_SIZE 1024 /* an org path and its display name, escaped */

static void help(FILE *f)
{
	cli_help(f,
		"usage: strata member add    [-d DIR] --id ID --name NAME --category full|probationary\n"
		"                            --joined YYYY-MM-DD [--status S] [--phone P] [--birth YYYY-MM-DD]\n"
		"                            [--gender female|male|other] [--address TEXT] [--json]\n"
		"       strata member update [-d DIR] --id ID [--name ..] [--category ..] [--status ..]\n"
		"                            [--joined ..] [--phone ..] [--birth ..] [--gender ..]\n"
		"                            [--address ..] [--json]\n"
		"       strata member import [-d DIR] FILE.csv [--dry-run] [--update] [--json]\n"
		"       strata member export [-d DIR] [-o FILE.csv] [--own] [--header en|zh]\n"
		"       strata member list   [-d DIR] [--own] [--status S] [--category C] [--json]\n"
		"       strata member show   [-d DIR] --id ID [--json]\n\n"
		"The member registry of this node. Every change is a signed entry of the\n"
		"node's `up` feed. status is one of active (the default), lapsed, deceased,\n"
		"transferred. An empty value (--phone \"\") clears an optional field.\n"
		"On an upper node, list shows the members of every branch below it whose\n"
		"records reached it, with the branch (BRANCH column, \"branch\" in JSON);\n"
		"--own lists this node's own members only.\n"
		"CSV: a header row naming the columns id,name,category,joined and optionally\n"
		"status,phone,birth,gender,address, in any order, or their Chinese names (see\n"
		"strata member import --help). export writes UTF-8 with a BOM and CRLF (Excel);\n"
		"--header zh: Chinese column names and values; --own re-imports unchanged.\n");
}

/* Every option named after a field of member's table (node/records/member.c)
 * is O_FIELD: the field of its name receives the value. */
enum { O_FIELD = 256, O_JSON, O_OWN };

struct member_args {
	struct cli_common c;
	struct domain_input in;
	bool own;
};

static const struct option member_opts[] = {
	{"dir", required_argument, NULL, 'd'},          {"id", required_argument, NULL, O_FIELD},
	{"name", required_argument, NULL, O_FIELD},     {"category", required_argument, NULL, O_FIELD},
	{"status", required_argument, NULL, O_FIELD},   {"joined", required_argument, NULL, O_FIELD},
	{"phone", required_argument, NULL, O_FIELD},    {"birth", required_argument, NULL, O_FIELD},
	{"gender", required_argument, NULL, O_FIELD},   {"address", required_argument, NULL, O_FIELD},
	{"json", no_argument, NULL, O_JSON},
	{"own", no_argument, NULL, O_OWN},
	{"help", no_argument, NULL, 'h'},                   {NULL, 0, NULL, 0},
};

/* The value given for member field NAME, or NULL. */
static const char *given(const struct member_args *a, const char *name)
{
	const struct record_field *f = record_field_find(&record_member, name);

	return f ? a->in.value[f - record_member.fields] : NULL;
}

/* Parses the options of add/update/list/show. 0, or an exit code + 1000
 * (help printed or usage error) to return at once. */
static int parse(const char *what, int argc, char **argv, struct member_args *a)
{
	int opt, index = 0;

	memset(a, 0, sizeof *a);
	a->in.t = &record_member;
	cli_common_init(&a->c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", member_opts, &index)) != -1) {
		const struct record_field *f;

		if (opt == O_FIELD && (f = record_field_find(&record_member, member_opts[index].name))) {
			a->in.value[f - record_member.fields] = optarg;
			continue;
		}
		switch (opt) {
		case 'd': a->c.dir = optarg; break;
		case O_JSON: a->c.json = true; break;
		case O_OWN: a->own = true; break;
		case 'h': help(stdout); return 1000 + EXIT_OK;
		default: return 1000 + cli_usage(what, "unknown option");
		}
	}
	if (optind != argc)
		return 1000 + cli_usage(what, "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

/* Prints a member written by add or update. */
static void print_written(const char *what, const struct member_args *a, const struct domain_record *r)
{
	sync_notify(a->c.dir);
	if (a->c.json)
		cli_json_print(domain_record_json(r));
	else
		printf("%s member %s (up #%llu)\n", what, esc(r->key), (unsigned long long)r->seq);
}

static int member_add(int argc, char **argv)
{
	struct member_args a;
	struct domain_record r = {0};
	struct err e = {0};
	int ret = parse("member add", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if (!given(&a, "id") || !given(&a, "name") || !given(&a, "category") || !given(&a, "joined"))
		return cli_usage("member add", "--id, --name, --category and --joined are required");
	if ((ret = domain_record_add(a.c.dir, &a.in, &r, &e)) < 0)
		return cli_fail_err("member add", ret, &e);
	print_written("added", &a, &r);
	domain_record_release(&r);
	return EXIT_OK;
}

static int member_update(int argc, char **argv)
{
	struct member_args a;
	struct domain_record r = {0};
	struct err e = {0};
	bool any = false;
	int ret = parse("member update", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if (!given(&a, "id"))
		return cli_usage("member update", "--id is required");
	for (size_t i = 0; i < record_member.n_fields; i++)
		any |= !(record_member.fields[i].flags & FIELD_KEY) && a.in.value[i];
	if (!any)
		return cli_usage("member update", "nothing to change: give at least one field");
	if ((ret = domain_record_update(a.c.dir, &a.in, &r, &e)) < 0)
		return cli_fail_err("member update", ret, &e);
	print_written("updated", &a, &r);
	domain_record_release(&r);
	return EXIT_OK;
}

struct list_state {
	const struct member_args *a;
	json_t *names; /* units' display names (node_display_names), NULL: none */
	bool started; /* the store opened: "[" is out */
	size_t count;
};

static int list_one(const struct domain_row *r, void *arg)
{
	struct list_state *st = arg;
	const Strata__Member *m;

	if (!r) { /* the store is open */
		st->started = true;
		if (st->a->c.json)
			fputs("[", stdout);
		return 0;
	}
	m = (const Strata__Member *)r->m;
	if (st->a->c.json) {
		json_t *j = domain_row_json(r, !st->a->own);

		fputs(st->count ? ",\n" : "\n", stdout);
		cli_json_dumpf(j, stdout, JSON_COMPACT);
		json_decref(j);
	} else {
		if (!st->count) { /* headers may be translated: padded by display width */
			if (!st->a->own)
				cli_cell(stdout, _("BRANCH"), BRANCH_CELLS, false);
			cli_cell(stdout, _("ID"), 12, false);
			cli_cell(stdout, _("CATEGORY"), 12, false);
			cli_cell(stdout, _("STATUS"), 11, false);
			cli_cell(stdout, _("JOINED"), 10, false);
			cli_cell(stdout, _("NAME"), 0, true);
		}
		if (!st->a->own) {
			const char *dn = node_unit_display_name(st->names, r->branch);
			char cell[BRANCH_SHOWN_SIZE];

			snprintf(cell, sizeof cell, "%s%s%s%s", esc(r->branch), dn ? " (" : "", dn ? esc(dn) : "",
				 dn ? ")" : "");
			cli_cell(stdout, cell, BRANCH_CELLS, false);
		}
		/* a member received from a branch below is untrusted text */
		printf("%-12s %-12s %-11s %-10s %s\n", esc(m->id), member_category_word(m->category),
		       member_status_word(m->status), esc(m->joined), esc(m->name));
	}
	st->count++;
	return 0;
}

static int member_list(int argc, char **argv)
{
	struct member_args a;
	struct list_state st = {.a = &a};
	struct domain_filter q = {.t = &record_member};
	Strata__MemberStatus status;
	Strata__MemberCategory category;
	char words[2][RECORD_INPUT_SIZE];
	struct err e = {0};
	size_t count;
	int ret = parse("member list", argc, argv, &a);

	if (ret)
		return ret - 1000;
	/* list filters on these two only, as it always has; in English or Chinese (正常, 正式党员) */
	for (size_t i = 0; i < 2; i++) {
		const struct record_field *f = record_field_find(&record_member, i ? "category" : "status");

		if (given(&a, f->name))
			a.in.value[f - record_member.fields] =
				record_input_text(&record_member, f, given(&a, f->name), words[i], sizeof words[i]);
	}
	if (given(&a, "status") && member_status_parse(given(&a, "status"), &status, &e) < 0)
		return cli_fail("member list", EXIT_USAGE, "%s", e.msg);
	if (given(&a, "category") && member_category_parse(given(&a, "category"), &category, &e) < 0)
		return cli_fail("member list", EXIT_USAGE, "%s", e.msg);
	q.value[record_field_find(&record_member, "status") - record_member.fields] = given(&a, "status");
	q.value[record_field_find(&record_member, "category") - record_member.fields] = given(&a, "category");
	q.own = a.own;
	if (!a.c.json && !a.own) { /* the branches' display names; without them, org paths alone */
		struct node *n = NULL;

		if (node_open(&n, a.c.dir, NODE_NO_KEY | NODE_RDONLY, &(struct err){0}) == 0 &&
		    node_display_names(n, &st.names, &(struct err){0}) < 0)
			st.names = NULL;
		node_close(&n);
	}
	ret = domain_record_each(a.c.dir, &q, list_one, &st, &count, &e);
	json_decref(st.names);
	if (a.c.json && st.started)
		fputs(st.count ? "\n]\n" : "]\n", stdout);
	else if (!a.c.json && ret == 0)
		printf("%zu member%s\n", st.count, st.count == 1 ? "" : "s");
	return ret < 0 ? cli_fail_err("member list", ret, &e) : EXIT_OK;
}

static int member_show(int argc, char **argv)
{
	struct member_args a;
	struct domain_record r = {0};
	struct err e = {0};
	int ret = parse("member show", argc, argv, &a);

	if (ret)
		return ret - 1000;
	if (!given(&a, "id"))
		return cli_usage("member show", "--id is required");
	if ((ret = domain_record_get(a.c.dir, &a.in, &r, &e)) < 0) {
		domain_record_release(&r);
		return cli_fail_err("member show", ret, &e);
	}
	if (a.c.json) {
		cli_json_print(domain_record_json(&r));
	} else {
		member_print(stdout, (const Strata__Member *)r.m);
		printf("written:   %s #%llu\n", r.feed, (unsigned long long)r.seq);
	}
	domain_record_release(&r);
	return EXIT_OK;
}

int cmd_member_main(int argc, char **argv)
{
	static const struct cli_cmd subs[] = {
		{"add", member_add, NULL},       {"update", member_update, NULL}, {"import", cmd_member_import_main, NULL},
		{"list", member_list, NULL},     {"show", member_show, NULL},     {NULL, NULL, NULL},
	};

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "export") == 0) /* the engine's export: member's columns, as import reads them */
		return cmd_record_main(argc, argv);
	for (const struct cli_cmd *s = subs; s->name; s++)
		if (strcmp(s->name, argv[1]) == 0)
			return s->main(argc - 1, argv + 1);
	return cli_usage("member", "unknown subcommand \"%s\" (add, update, import, export, list, show)", argv[1]);
}
