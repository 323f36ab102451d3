/* SPDX-License-Identifier: MIT */
/*
 * strata join: enroll this node with its parent, using the parent's token.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	fprintf(f, "usage: strata join [-d DIR] TOKEN [--timeout SECONDS] [--json]\n\n"
		   "Enrolls this node with the parent that made TOKEN (strata invite): proves it\n"
		   "holds its key, receives its certificate, pins the trust domain's root key and\n"
		   "writes the parent's endpoint and key into strata.conf. The parent must be\n"
		   "running strata serve. Then start this node with strata serve.\n\n"
		   "  --timeout SECONDS  how long to wait for the parent (default 15)\n");
}

int cmd_join_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"timeout", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct node *n = NULL;
	struct err e = {0};
	int opt, ret, timeout = 15;
	char root[KEY_HEX];

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 't':
			timeout = atoi(optarg);
			if (timeout < 1 || timeout > 3600)
				return cli_usage("join", "--timeout must be 1 to 3600 seconds");
			break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("join", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage("join", "give exactly one TOKEN");
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0 || (ret = sync_join(n, argv[optind], timeout * 1000, &e)) < 0) {
		node_close(&n);
		return cli_fail_err("join", ret, &e);
	}
	node_close(&n);
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0)
		return cli_fail_err("join", ret, &e);
	key_hex(root, node_root(n));
	if (c.json)
		cli_json_print(json_pack("{s:s, s:s, s:s}", "name", node_name(n), "root", root, "parent",
					 node_config(n)->parent_endpoint));
	else
		printf("joined: %s is certified by its parent at %s\nroot: %s\nnext: strata serve -d %s\n",
		       node_name(n), node_config(n)->parent_endpoint, root, c.dir);
	node_close(&n);
	return EXIT_OK;
}
