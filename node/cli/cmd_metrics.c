/* SPDX-License-Identifier: MIT */
/*
 * strata metrics: the node's metrics in the Prometheus text exposition
 * format 0.0.4 (node_metrics_write, node/core/metrics.c).
 */
#include <stdio.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/core/node.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata metrics [-d DIR]\n\n"
		   "Prints the node's metrics in the Prometheus text format (version 0.0.4),\n"
		   "for a scraper or node_exporter's textfile collector:\n"
		   "  strata_store_map_bytes        the store's map size (the space LMDB reserves)\n"
		   "  strata_store_map_max_bytes    the ceiling it may grow to: [store] map_max,\n"
		   "                                or what the free disk allows when it is 0\n"
		   "  strata_store_used_bytes       bytes of the store's pages in use\n"
		   "  strata_store_map_grown_total  times the map has grown by itself\n"
		   "It only reads the store; a running daemon goes on.\n");
}

int cmd_metrics_main(int argc, char **argv)
{
	struct cli_common c;
	struct node *n = NULL;
	struct err e = {0};
	int ret;

	if ((ret = cli_parse_common("metrics", argc, argv, &c, help, 0, "")) != CLI_GO_ON)
		return ret;
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0 ||
	    (ret = node_metrics_write(n, stdout, &e)) < 0) {
		node_close(&n);
		return cli_fail_err("metrics", ret, &e);
	}
	node_close(&n);
	return EXIT_OK;
}
