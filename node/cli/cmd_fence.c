/* SPDX-License-Identifier: MIT */
/*
 * strata fence: show, or lift, the write fence (node/core/fence.c).
 */
#include <getopt.h>
#include <stdio.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/core/node.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata fence [-d DIR] [--lift] [--json]\n\n"
		   "A node never signs an entry at a seq it may have used before. After strata\n"
		   "restore, or when the machine restarted since its links last confirmed the\n"
		   "heads of its own feeds (a disk put back from a snapshot looks like that), or\n"
		   "while a link holds newer entries of its own feeds, the node is fenced: it\n"
		   "signs nothing until strata serve has learned those heads from its parent (or,\n"
		   "without a parent, a child) and fetched what it lacks. Prints whether the node\n"
		   "is fenced and why.\n\n"
		   "  --lift  allow writes now. Only for a node that knows no link holds newer\n"
		   "          entries of its feeds (it is alone, or they were lost with the link):\n"
		   "          an entry signed again at a used seq freezes the feed everywhere.\n"
		   "          In the same step it erases again the contact of every request\n"
		   "          this node erased whose contact is still held (its erase was in the\n"
		   "          private feed, lost with a restore), as strata serve does.\n");
}

int cmd_fence_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"lift", no_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct node *n = NULL;
	struct node_fence f = {0};
	struct err e = {0};
	bool lift = false;
	size_t erased = 0;
	int opt, ret, lifted = 0;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'l': lift = true; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("fence", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("fence", "unexpected argument \"%s\"", argv[optind]);
	/* lifting may sign: the companion erases the node owes (node_fence_lift) */
	if ((ret = node_open(&n, c.dir, lift ? 0 : NODE_NO_KEY | NODE_RDONLY, &e)) < 0 ||
	    (lift && (ret = lifted = node_fence_lift(n, &erased, &e)) < 0) ||
	    (ret = node_fence_get(n, &f, &e)) < 0) {
		node_close(&n);
		return cli_fail_err("fence", ret, &e);
	}
	if (lifted == 1) /* lifted, but the owed erases were not written */
		fprintf(stderr, "strata: fence: note: %s\n", e.msg);
	if (c.json)
		cli_json_print(json_pack("{s:b, s:s, s:I, s:I}", "fenced", f.set, "reason", f.set ? f.reason : "",
					 "since_ms", (json_int_t)f.since_ms, "companions_erased", (json_int_t)erased));
	else if (f.set)
		printf("%s is fenced: %s; it signs nothing until strata serve has fetched its own feeds' heads\n",
		       node_name(n), node_fence_why(f.reason));
	else
		printf("%s is not fenced: it may write%s\n", node_name(n), lift ? " (fence lifted)" : "");
	if (erased && !c.json)
		printf("erased again %zu companion record(s) (a request's contact) of records this node had erased\n",
		       erased);
	node_close(&n);
	return EXIT_OK;
}
