/* SPDX-License-Identifier: MIT */
/*
 * strata backup: a consistent copy of the live store, to one file.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "node/cli/cli.h"
#include "node/core/node.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata backup [-d DIR] -o PATH [--json]\n\n"
		   "Writes a consistent copy of the node's store to the new file PATH (mode 0600;\n"
		   "an existing file is never overwritten). It may run while strata serve and\n"
		   "other commands write: the copy is one snapshot of the store (LMDB's own copy,\n"
		   "compacted). The key file (DIR/node.key) is not in it: keep it apart, as\n"
		   "secret as the backup holds personal data. Put it back with strata restore.\n\n"
		   "  -o, --output PATH  the backup file to create\n");
}

int cmd_backup_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct node *n = NULL;
	struct err e = {0};
	const char *out = NULL;
	uint64_t bytes = 0;
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'o': out = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("backup", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("backup", "unexpected argument \"%s\"", argv[optind]);
	if (!out)
		return cli_usage("backup", "give the backup file with -o PATH");
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0 ||
	    (ret = node_backup(n, out, &bytes, &e)) < 0) {
		node_close(&n);
		return cli_fail_err("backup", ret, &e);
	}
	if (c.json)
		cli_json_print(json_pack("{s:s, s:I}", "path", out, "bytes", (json_int_t)bytes));
	else
		printf("backup of %s written to %s (%" PRIu64 " bytes)\n", node_name(n), out, bytes);
	node_close(&n);
	return EXIT_OK;
}
