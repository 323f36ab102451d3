/* SPDX-License-Identifier: MIT */
/*
 * strata import: a bundle file into the node, through the same checks as
 * the network (node/bundle).
 */
#include <getopt.h>
#include <stdio.h>

#include "node/bundle/bundle.h"
#include "node/cli/cli.h"
#include "node/report/report.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata import [-d DIR] FILE [--json]\n\n"
		   "Imports a bundle made by strata export. Every entry passes the checks the\n"
		   "network applies (signature, certificate chain, hash chain, records) before it\n"
		   "is stored. Entries already held are skipped, so importing twice is harmless.\n"
		   "At the first bad entry, everything before it stays imported, nothing after it\n"
		   "is read, and the error names the entry, its frame and byte offset and the\n"
		   "reason (exit 2). A file cut short or with a damaged frame keeps every whole\n"
		   "entry before the damage and names the byte where it starts; importing an\n"
		   "intact copy afterwards completes it. The bundle's signed checkpoints are\n"
		   "checked against the entries held and kept (co-signed where this node is\n"
		   "above their author); one whose signature fails, or whose root is not the\n"
		   "tree of the entries held (kept as evidence, the feed frozen), ends the\n"
		   "import with the reason.\n");
}

int cmd_import_main(int argc, char **argv)
{
	struct cli_common c;
	struct bundle_counts cnt;
	struct node *n = NULL;
	struct err e = {0};
	size_t dups = 0;
	int ret;

	if ((ret = cli_parse_common("import", argc, argv, &c, help, 1, "one bundle FILE")) != CLI_GO_ON)
		return ret;
	/* with its key: it co-signs the checkpoints of the feeds it witnesses */
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0) {
		node_close(&n);
		return cli_fail_err("import", ret, &e);
	}
	ret = bundle_import(n, argv[optind], &cnt, &dups, &e);
	if (cnt.entries) {
		/* the reports it brought are checked now, not at the first view */
		struct err fe = {0};

		if (report_checks_fill(n, NULL, &fe) < 0)
			fprintf(stderr, _("strata: import: the reports' checks were not kept (a view will redo them): %s\n"),
				fe.msg);
	}
	node_close(&n);
	if (cnt.entries)
		sync_notify(c.dir);
	if (c.json)
		cli_json_print(json_pack("{s:s, s:b, s:I, s:I, s:I, s:s?}", "file", argv[optind], "complete", ret == 0,
					 "stored", (json_int_t)cnt.entries, "duplicates", (json_int_t)dups, "checkpoints",
					 (json_int_t)cnt.checkpoints, "error", ret < 0 ? e.msg : NULL));
	else
		printf(_("imported %zu new entries from %s; %zu already held\n"), cnt.entries, argv[optind], dups);
	if (ret < 0)
		return cli_fail_err("import", ret, &e);
	return EXIT_OK;
}
