/* SPDX-License-Identifier: MIT */
/*
 * strata transfer release|accept|refuse|approve|list: moving a member from
 * one branch to another (node/transfer/transfer.h). After each step it takes
 * the steps that follow on this node at once (as its daemon would) and tells
 * a running daemon, which carries the new entries up and down.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/sync/sync.h"
#include "node/transfer/transfer.h"

static void help(FILE *f)
{
	cli_help(f,
		"usage: strata transfer release [-d DIR] --member ID --to ORG/PATH [--date YYYY-MM-DD]\n"
		"                               [--reason TEXT] [--json]\n"
		"       strata transfer accept  [-d DIR] --id TRANSFER --from ORG/PATH [--member-id ID]\n"
		"                               [--date YYYY-MM-DD] [--json]\n"
		"       strata transfer refuse  [-d DIR] --id TRANSFER --from ORG/PATH [--reason TEXT]\n"
		"                               [--date YYYY-MM-DD] [--json]\n"
		"       strata transfer approve [-d DIR] --id TRANSFER --from ORG/PATH [--json]\n"
		"       strata transfer list    [-d DIR] [--incoming] [--json]\n\n"
		"Moves a member from one branch to another, every step a signed entry:\n"
		"  release   the old branch releases an active member to another branch; the\n"
		"            transfer id is MEMBER-YYYYMMDD. The member stays active here until\n"
		"            the new branch accepts. --to is the new branch's org path; one\n"
		"            whose certificate this node does not hold (another street's) is\n"
		"            resolved by the common ancestor, which refuses, without\n"
		"            forwarding, a path that is no unit below it or is revoked.\n"
		"  (forward) the lowest common ancestor of both branches forwards the release to\n"
		"            the new branch, at once, or, with [transfer] approve = manual in its\n"
		"            strata.conf, after `strata transfer approve` there.\n"
		"  accept    the new branch accepts a transfer forwarded to it: the member joins\n"
		"            its registry, active (--member-id: under another id). refuse: the\n"
		"            member stays at the old branch. --from is the old branch's org\n"
		"            path as the forward names it, or its key in hex.\n"
		"  (outcome) the common ancestor passes the decision down; the old branch then\n"
		"            marks the member transferred.\n"
		"The steps in brackets are taken by the daemons (strata serve) as entries arrive.\n"
		"list shows every transfer this node takes part in or oversees, and its state:\n"
		"released, forwarded, accepted, refused, completed; and its side here: outgoing\n"
		"(the old branch and the units up to the common ancestor), via (the common\n"
		"ancestor), incoming (the units down from it to the new branch, and the new\n"
		"branch, which see it from the forward on). --incoming lists only those.\n");
}

enum { O_MEMBER = 256, O_TO, O_DATE, O_REASON, O_ID, O_FROM, O_MEMBER_ID, O_JSON, O_INCOMING };

struct transfer_args {
	struct cli_common c;
	const char *member, *to, *date, *reason, *id, *from, *member_id;
	bool incoming; /* list --incoming */
};

static const struct option opts[] = {
	{"dir", required_argument, NULL, 'd'},          {"member", required_argument, NULL, O_MEMBER},
	{"to", required_argument, NULL, O_TO},          {"date", required_argument, NULL, O_DATE},
	{"reason", required_argument, NULL, O_REASON},  {"id", required_argument, NULL, O_ID},
	{"from", required_argument, NULL, O_FROM},      {"member-id", required_argument, NULL, O_MEMBER_ID},
	{"json", no_argument, NULL, O_JSON},            {"help", no_argument, NULL, 'h'},
	{"incoming", no_argument, NULL, O_INCOMING},
	{NULL, 0, NULL, 0},
};

/* CLI_GO_ON, or the exit code to return at once (help, a usage error). */
static int parse(const char *what, int argc, char **argv, struct transfer_args *a)
{
	int opt;

	memset(a, 0, sizeof *a);
	cli_common_init(&a->c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': a->c.dir = optarg; break;
		case O_MEMBER: a->member = optarg; break;
		case O_TO: a->to = optarg; break;
		case O_DATE: a->date = optarg; break;
		case O_REASON: a->reason = optarg; break;
		case O_ID: a->id = optarg; break;
		case O_FROM: a->from = optarg; break;
		case O_MEMBER_ID: a->member_id = optarg; break;
		case O_JSON: a->c.json = true; break;
		case O_INCOMING: a->incoming = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage(what, "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage(what, "unexpected argument \"%s\"", argv[optind]);
	return CLI_GO_ON;
}

static void on_note(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "strata: transfer: %s\n", msg);
}

/* The steps that follow here, then a word to the daemon. A failure there
 * does not undo the step the person took: the daemon retries. */
static void follow_up(struct node *n)
{
	struct err e = {0};

	if (transfer_process(n, on_note, NULL, &e) < 0)
		fprintf(stderr, _("strata: transfer: a following step was not taken yet: %s\n"), e.msg);
	sync_notify(node_dir(n));
}

static int do_release(int argc, char **argv)
{
	struct transfer_args a;
	struct node *n = NULL;
	struct transfer_release_opts o;
	char id[TRANSFER_ID_MAX + 1];
	struct err e = {0};
	int ret = parse("transfer release", argc, argv, &a);

	if (ret != CLI_GO_ON)
		return ret;
	if (!a.member || !a.to)
		return cli_usage("transfer release", "--member and --to are required");
	if (a.id || a.from || a.member_id)
		return cli_usage("transfer release", "--id, --from and --member-id belong to accept, refuse and approve");
	o = (struct transfer_release_opts){.member = a.member, .to = a.to, .date = a.date, .reason = a.reason};
	if ((ret = node_open(&n, a.c.dir, 0, &e)) < 0 || (ret = transfer_release(n, &o, id, &e)) < 0)
		goto out;
	if (a.c.json)
		cli_json_print(json_pack("{s:s, s:s, s:s, s:s}", "id", id, "member", a.member, "to", a.to, "state",
					 "released"));
	else
		printf(_("released member %s to %s: transfer %s\n"), a.member, a.to, id);
	follow_up(n);
out:
	node_close(&n);
	return ret < 0 ? cli_fail_err("transfer release", ret, &e) : EXIT_OK;
}

static int do_decide(int argc, char **argv, bool accept)
{
	const char *what = accept ? "transfer accept" : "transfer refuse";
	struct transfer_args a;
	struct node *n = NULL;
	struct transfer_decide_opts o;
	char member_id[MEMBER_ID_MAX + 1] = "";
	struct err e = {0};
	int ret = parse(what, argc, argv, &a);

	if (ret != CLI_GO_ON)
		return ret;
	if (!a.id || !a.from)
		return cli_usage(what, "--id and --from are required");
	if (a.member || a.to)
		return cli_usage(what, "--member and --to belong to release");
	if (!accept && a.member_id)
		return cli_usage(what, "--member-id belongs to accept");
	o = (struct transfer_decide_opts){.from = a.from, .id = a.id, .accept = accept, .member_id = a.member_id,
					  .date = a.date, .reason = a.reason};
	if ((ret = node_open(&n, a.c.dir, 0, &e)) < 0 || (ret = transfer_decide(n, &o, member_id, &e)) < 0)
		goto out;
	if (a.c.json) {
		json_t *j = json_pack("{s:s, s:s, s:s}", "id", a.id, "from", a.from, "state", accept ? "accepted" : "refused");

		if (accept)
			json_object_set_new(j, "member", json_string(member_id));
		cli_json_print(j);
	} else if (accept) {
		printf(_("accepted transfer %s from %s: member %s is active here\n"), a.id, a.from, member_id);
	} else {
		printf(_("refused transfer %s from %s\n"), a.id, a.from);
	}
	follow_up(n);
out:
	node_close(&n);
	return ret < 0 ? cli_fail_err(what, ret, &e) : EXIT_OK;
}

static int do_accept(int argc, char **argv)
{
	return do_decide(argc, argv, true);
}

static int do_refuse(int argc, char **argv)
{
	return do_decide(argc, argv, false);
}

static int do_approve(int argc, char **argv)
{
	struct transfer_args a;
	struct node *n = NULL;
	struct err e = {0};
	int ret = parse("transfer approve", argc, argv, &a);

	if (ret != CLI_GO_ON)
		return ret;
	if (!a.id || !a.from)
		return cli_usage("transfer approve", "--id and --from are required");
	if ((ret = node_open(&n, a.c.dir, 0, &e)) < 0 || (ret = transfer_approve(n, a.from, a.id, &e)) < 0)
		goto out;
	if (a.c.json)
		cli_json_print(json_pack("{s:s, s:s, s:s}", "id", a.id, "from", a.from, "state", "forwarded"));
	else
		printf(_("approved and forwarded transfer %s from %s\n"), a.id, a.from);
	follow_up(n);
out:
	node_close(&n);
	return ret < 0 ? cli_fail_err("transfer approve", ret, &e) : EXIT_OK;
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static json_t *view_json(const struct transfer_view *v)
{
	char from[KEY_HEX], to[KEY_HEX];
	json_t *j;

	key_hex(from, v->from);
	key_hex(to, v->to);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", v->id, "member", v->member, "name", v->name,
		      "from", v->from_name, "from_key", from, "to", v->to_name, "to_key", to, "state",
		      transfer_state_word(v->state));
	/* a release by org path only: the new branch's key unknown here until the outcome */
	if (memcmp(v->to, (const uint8_t[KEY_BYTES]){0}, KEY_BYTES) == 0)
		json_object_set_new(j, "to_key", json_null());
	json_object_set_new(j, "via", str_or_null(v->lca_name));
	json_object_set_new(j, "side", str_or_null(transfer_side_word(v->side)));
	json_object_set_new(j, "released", str_or_null(v->released));
	json_object_set_new(j, "forwarded", str_or_null(v->forwarded));
	json_object_set_new(j, "decided", str_or_null(v->decided));
	json_object_set_new(j, "completed", str_or_null(v->completed));
	json_object_set_new(j, "new_member", str_or_null(v->new_member));
	json_object_set_new(j, "reason", str_or_null(v->reason));
	json_object_set_new(j, "answer", str_or_null(v->answer));
	json_object_set_new(j, "approved", json_boolean(v->approved));
	json_object_set_new(j, "awaiting_approval", json_boolean(v->awaiting_approval));
	return j;
}

static void view_header(void)
{
	cli_cell(stdout, _("ID"), 22, false);
	cli_cell(stdout, _("MEMBER"), 12, false);
	cli_cell(stdout, _("FROM"), 26, false);
	cli_cell(stdout, _("TO"), 26, false);
	cli_cell(stdout, _("STATE"), 10, false);
	cli_cell(stdout, _("SIDE"), 10, false);
	cli_cell(stdout, _("RELEASED"), 10, false);
	cli_cell(stdout, _("LAST STEP"), 0, true);
}

static void view_print(const struct transfer_view *v, bool first)
{
	const char *last = v->completed[0] ? v->completed
			   : v->decided[0]  ? v->decided
			   : v->forwarded[0] ? v->forwarded
					     : v->released;

	if (first)
		view_header();
	printf("%-22s %-12s %-26s %-26s ", esc(v->id), esc(v->member), esc(v->from_name), esc(v->to_name));
	cli_cell(stdout, _(transfer_state_word(v->state)), 10, false);
	cli_cell(stdout, v->side ? _(transfer_side_word(v->side)) : "-", 10, false);
	printf("%-10s %s%s\n", v->released[0] ? v->released : "-", last[0] ? last : "-",
	       v->awaiting_approval ? _("  (awaiting approval here)") : "");
}

static int do_list(int argc, char **argv)
{
	struct transfer_args a;
	struct node *n = NULL;
	struct transfer_view *v = NULL;
	size_t count = 0;
	struct err e = {0};
	int ret = parse("transfer list", argc, argv, &a);

	if (ret != CLI_GO_ON)
		return ret;
	if ((ret = node_open(&n, a.c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0 ||
	    (ret = transfer_list(n, &v, &count, &e)) < 0)
		goto out;
	if (a.c.json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < count; i++)
			if (!a.incoming || v[i].side == TRANSFER_SIDE_INCOMING)
				json_array_append_new(arr, view_json(&v[i]));
		cli_json_print(arr);
	} else {
		size_t shown = 0;

		for (size_t i = 0; i < count; i++)
			if (!a.incoming || v[i].side == TRANSFER_SIDE_INCOMING)
				view_print(&v[i], shown++ == 0);
		printf(a.incoming ? _("%zu incoming transfer%s\n") : _("%zu transfer%s\n"), shown, shown == 1 ? "" : "s");
	}
out:
	free(v);
	node_close(&n);
	return ret < 0 ? cli_fail_err("transfer list", ret, &e) : EXIT_OK;
}

int cmd_transfer_main(int argc, char **argv)
{
	static const struct cli_cmd subs[] = {
		{"release", do_release, NULL}, {"accept", do_accept, NULL}, {"refuse", do_refuse, NULL},
		{"approve", do_approve, NULL}, {"list", do_list, NULL},     {NULL, NULL, NULL},
	};

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (const struct cli_cmd *s = subs; s->name; s++)
		if (strcmp(s->name, argv[1]) == 0)
			return s->main(argc - 1, argv + 1);
	return cli_usage("transfer", "unknown subcommand \"%s\" (release, accept, refuse, approve, list)", argv[1]);
}
