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
		   "                   [--json]\n\n"
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
		   "  --json             print the result as JSON\n");
}

int cmd_init_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"name", required_argument, NULL, 'n'},
		{"root", no_argument, NULL, 'r'},      {"listen", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
		{"display-name", required_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct node_init_opts o = {0};
	struct node *n = NULL;
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
	if (c.json)
		cli_json_print(json_pack("{s:s, s:s, s:s, s:b, s:s?}", "dir", c.dir, "name", node_name(n), "key", hex,
					 "root", o.root, "display_name", o.display_name));
	else
		printf(_("created node %s%s%s%s in %s\nkey: %s\n%s"), node_name(n), o.display_name ? " (" : "",
		       o.display_name ? o.display_name : "", o.display_name ? ")" : "", c.dir, hex,
		       o.root ? _("root: this node (the root of its trust domain)\n")
			      : _("root: none yet (join a parent to enter its trust domain)\n"));
	node_close(&n);
	return EXIT_OK;
}
