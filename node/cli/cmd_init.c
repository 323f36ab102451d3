/* SPDX-License-Identifier: MIT */
/*
 * strata init: create a node directory (key file 0600, store, config).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata init [-d DIR] --name ORG/PATH [--root [--display-name TEXT]] [--listen ENDPOINT]\n"
		   "                   [--level LEVEL] [--json]\n\n"
		   "Creates a new node in DIR: a fresh Ed25519 key (DIR/node.key, mode 0600),\n"
		   "an empty store (DIR/store) and a config file (DIR/strata.conf). DIR and\n"
		   "the folders above it are created (mode 0700) if missing.\n\n"
		   "  --name ORG/PATH    the org path, lowercase segments joined by '/',\n"
		   "                     e.g. xiamen/huli/hetong\n"
		   "  --root             this node is the root of its trust domain (a city, say);\n"
		   "                     other nodes join a parent later (strata join)\n"
		   "  --display-name TEXT  with --root: the unit's name for people, e.g. 厦门市,\n"
		   "                     shown beside its org path (at most 64 bytes); a child's\n"
		   "                     is given by its parent: strata invite --display-name\n"
		   "  --listen ENDPOINT  where children and peers connect, e.g. tcp://0.0.0.0:7400\n"
		   "  --level LEVEL      the level this node serves: branch, street, district,\n"
		   "                     city, province or national (支部, 街道, 区, 市, 省, 全国);\n"
		   "                     its profile sets how far records travel up ([node]\n"
		   "                     up_depth) and residents' contacts ([privacy]\n"
		   "                     contact_levels): see docs/OPERATIONS.md \"Deployment\n"
		   "                     profiles\". Without it, records travel to the root\n"
		   "  --json             print the result as JSON\n\n"
		   "Then it says what the node will hold: whose records (feed up) reach it, from\n"
		   "how many levels below (as the units below are set up by their own level),\n"
		   "the reports and certificates of its subtree, and how far its own go.\n");
}

/* How many levels below: "up to N levels below it", or the words for 0, 1
 * and no limit. */
static void print_below(const char *what, unsigned n)
{
	if (n == NODE_HOLDS_ALL)
		printf(_("  %s: its own and those of its whole subtree\n"), what);
	else if (n == 0)
		printf(_("  %s: only its own\n"), what);
	else if (n == 1)
		printf(_("  %s: its own and those of the units one level below it\n"), what);
	else
		printf(_("  %s: its own and those of the units up to %u levels below it\n"), what, n);
}

/* What node_holds_get says, for people: a few lines. */
static void print_holds(const struct node_holds *h)
{
	if (h->profile)
		printf(_("level: %s (%s): up_depth = %u, contact_levels = %u\n"), h->profile->word, h->profile->zh,
		       h->up_depth, h->contact_levels);
	else
		printf(_("level: none (up_depth = %u, contact_levels = %u)\n"), h->up_depth, h->contact_levels);
	printf(h->profile ? _("it will hold, if the units below it use their level's profile:\n")
			  : _("it will hold, if the units below it keep the defaults:\n"));
	print_below(_("records (feed up)"), h->up_below);
	printf(_("  reports: its own and every report of its subtree\n"));
	printf(_("  certificates: its chain up to the root, its own and its whole subtree's\n"));
	print_below(_("residents' contacts (feed private)"), h->contacts_below);
	if (h->root)
		printf(_("as a root it sends nothing up\n"));
	else if (h->up_depth == 1)
		printf(_("its records go to its parent only; its reports reach the root\n"));
	else if (h->up_depth)
		printf(_("its records go up to %u levels above it; its reports reach the root\n"), h->up_depth);
	else
		printf(_("its records and its reports reach the root\n"));
	if (!h->profile)
		printf(_("hint: choose a level with --level %s (docs/OPERATIONS.md \"Deployment profiles\")\n"),
		       "branch|street|district|city|province|national");
}

int cmd_init_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"name", required_argument, NULL, 'n'},
		{"root", no_argument, NULL, 'r'},      {"listen", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
		{"display-name", required_argument, NULL, 'D'}, {"level", required_argument, NULL, 'L'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct node_init_opts o = {0};
	struct node *n = NULL;
	struct node_holds h;
	struct err e = {0};
	char hex[KEY_HEX];
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'n': o.name = optarg; break;
		case 'r': o.root = true; break;
		case 'l': o.listen = optarg; break;
		case 'D': o.display_name = optarg; break;
		case 'L': o.level = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("init", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("init", "unexpected argument \"%s\"", argv[optind]);
	if (!o.name)
		return cli_usage("init", "--name ORG/PATH is required");
	if ((ret = node_create(c.dir, &o, &e)) < 0)
		return cli_fail_err("init", ret, &e);
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0)
		return cli_fail_err("init", ret, &e);
	key_hex(hex, node_id(n));
	node_holds_get(node_config(n), o.root, &h);
	if (c.json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:s?}", "dir", c.dir, "name", node_name(n), "key", hex,
				      "root", o.root, "display_name", o.display_name);

		json_object_update_new(j, node_holds_json(&h)); /* level, up_depth, contact_levels, holds, sends */
		cli_json_print(j);
	} else {
		printf(_("created node %s%s%s%s in %s\nkey: %s\n%s"), node_name(n), o.display_name ? " (" : "",
		       o.display_name ? o.display_name : "", o.display_name ? ")" : "", c.dir, hex,
		       o.root ? _("root: this node (the root of its trust domain)\n")
			      : _("root: none yet (join a parent to enter its trust domain)\n"));
		print_holds(&h);
	}
	node_close(&n);
	return EXIT_OK;
}
