/* SPDX-License-Identifier: MIT */
/*
 * strata rotate-key: replace this node's key; its parent certifies the new
 * one and revokes the old one (node/sync/rotate.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata rotate-key [-d DIR] [--timeout SECONDS] [--json]\n\n"
		   "Replaces this node's key while its parent runs strata serve (stop this\n"
		   "node's own strata serve first, and start it again afterwards). A new key\n"
		   "pair is made; the old key writes a rotation record naming it; the parent\n"
		   "certifies the new key with the same org path, role, feeds and display name\n"
		   "and revokes the old key from now on, in one entry of its trust feed. The\n"
		   "node then signs with the new key, in new feeds; everything the old key\n"
		   "signed before stays valid and audits clean, and the old key can no longer\n"
		   "connect. The unit keeps its records: what the old key wrote is shown,\n"
		   "updated, erased and reported by the new key, and counted once above. The\n"
		   "old secret key is overwritten and removed. If it stops half-way, run it\n"
		   "again: it resumes.\n\n"
		   "It is also the way out of a feed frozen by an equivocation (the node's\n"
		   "directory put back from an old copy): see docs/OPERATIONS.md.\n\n"
		   "  --timeout SECONDS  how long to wait for the parent (default 15)\n");
}

int cmd_rotate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"timeout", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct sync_rotation r;
	struct node *n = NULL;
	struct err e = {0};
	char old_hex[KEY_HEX], new_hex[KEY_HEX];
	uint64_t timeout_s = 15;
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 't':
			if (num_parse(optarg, CLI_TIMEOUT_MIN_S, CLI_TIMEOUT_MAX_S, &timeout_s) < 0)
				return cli_usage("rotate-key", "--timeout must be a number of seconds from %d to %d, not \"%s\"",
						 CLI_TIMEOUT_MIN_S, CLI_TIMEOUT_MAX_S, optarg);
			break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("rotate-key", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("rotate-key", "unexpected argument \"%s\"", argv[optind]);
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0 || (ret = sync_rotate(n, (int)timeout_s * 1000, &r, &e)) < 0) {
		node_close(&n);
		return cli_fail_err("rotate-key", ret, &e);
	}
	node_close(&n);
	key_hex(old_hex, r.old_key);
	key_hex(new_hex, r.new_key);
	if (c.json)
		cli_json_print(json_pack("{s:s, s:s, s:s, s:b}", "name", r.name, "old_key", old_hex, "new_key", new_hex,
					 "resumed", r.resumed));
	else
		printf("rotated the key of %s%s\n  old key %s (revoked)\n  new key %s\nstart strata serve again.\n",
		       r.name, r.resumed ? " (an interrupted rotation, finished)" : "", old_hex, new_hex);
	return EXIT_OK;
}
