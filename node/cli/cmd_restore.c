/* SPDX-License-Identifier: MIT */
/*
 * strata restore: put a backup back as the node's store, fenced.
 */
#include <getopt.h>
#include <stdio.h>

#include "node/cli/cli.h"
#include "node/core/node.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata restore [-d DIR] -i PATH\n\n"
		   "Replaces the node's store by the backup file PATH (made by strata backup of\n"
		   "this node: a backup of another key is refused). Stop strata serve first. The\n"
		   "old store is replaced in one step; on any failure it stays as it was.\n\n"
		   "A restored store is behind what its links hold: entries it signed after the\n"
		   "backup are at its parent. So it signs nothing until it has learned the heads\n"
		   "of its own feeds: start strata serve; once its parent (or, without a parent,\n"
		   "a child) has said hello and every newer entry of its own feeds is fetched,\n"
		   "writes are allowed again. Until then writes wait while strata serve runs, and\n"
		   "are refused (exit 4) otherwise. A node that knows no link holds its feeds\n"
		   "runs strata fence --lift (or strata serve --alone).\n\n"
		   "Feed private (residents' contacts) is held by no link unless [privacy]\n"
		   "contact_levels sends it up: contacts written after the backup are lost. An\n"
		   "erase made after the backup is not: the request's erase comes back from the\n"
		   "links, and when the fence is lifted the node erases the request's contact\n"
		   "again (a new erase request in feed private).\n\n"
		   "  -i, --input PATH  the backup file\n");
}

int cmd_restore_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"input", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct err e = {0};
	const char *in = NULL;
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:i:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'i': in = optarg; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("restore", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("restore", "unexpected argument \"%s\"", argv[optind]);
	if (!in)
		return cli_usage("restore", "give the backup file with -i PATH");
	if ((ret = node_restore(c.dir, in, &e)) < 0)
		return cli_fail_err("restore", ret, &e);
	printf("store of %s restored from %s; writes wait until strata serve has fetched what its links "
	       "hold of its own feeds\n", c.dir, in);
	fprintf(stderr, "strata: restore: note: feed private (residents' contacts) comes back from no link unless "
			"[privacy] contact_levels sends it up: contacts written after this backup are lost\n");
	return EXIT_OK;
}
