/* SPDX-License-Identifier: MIT */
/*
 * strata serve: run the node's daemon (node/sync) in the foreground.
 */
#include <getopt.h>
#include <stdio.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/report/report.h"
#include "node/sync/sync.h"
#include "node/transfer/transfer.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata serve [-d DIR] [--verbose] [--alone]\n\n"
		   "Runs the node: accepts its children and peers on the listen endpoint of\n"
		   "strata.conf, connects to its parent if it has one, and replicates feeds both\n"
		   "ways, verifying every entry before it is stored. Logs to stderr; prints a line\n"
		   "with \"ready\" once it accepts connections. Stops cleanly on SIGTERM or SIGINT.\n"
		   "One daemon per node directory.\n\n"
		   "At every hello it reads the heads its links hold of this node's own feeds and\n"
		   "fetches what its store lacks (a store put back from a backup is behind). After\n"
		   "strata restore, or when the machine restarted since the links last confirmed\n"
		   "those heads, writes wait until the parent (without a parent: a child) has\n"
		   "confirmed them (see strata fence).\n\n"
		   "  --verbose  log every batch sent and received\n"
		   "  --alone    lift the write fence at start: only for a node that knows no link\n"
		   "             holds newer entries of its feeds\n");
}

int cmd_serve_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},
		{"alone", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct sync_serve_opts so = {0};
	struct node *n = NULL;
	struct err e = {0};
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'v': so.verbose = true; break;
		case 'a': so.alone = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("serve", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("serve", "unexpected argument \"%s\"", argv[optind]);
	setvbuf(stderr, NULL, _IOLBF, 0);
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0)
		return cli_fail_err("serve", ret, &e);
	/* what the domain does with entries the daemon stores, in this order */
	if ((ret = transfer_observe(n)) < 0 || (ret = report_observe(n)) < 0) {
		node_close(&n);
		return cli_fail("serve", ret, "cannot register the observers: out of memory");
	}
	ret = sync_serve(n, &so, &e);
	node_close(&n);
	return ret < 0 ? cli_fail_err("serve", ret, &e) : EXIT_OK;
}
