/* SPDX-License-Identifier: MIT */
/*
 * strata revoke: withdraw the certificate this node issued for an org path
 * (node_revoke, node/core/revoke.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "node/sync/sync.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata revoke [-d DIR] --name ORG/PATH [--reason TEXT] [--json]\n\n"
		   "Revokes the key this node certified for ORG/PATH (a child, peer or auditor):\n"
		   "a revocation goes into this node's trust feed and reaches the whole trust\n"
		   "domain. Every node then refuses that key's entries dated from now on, the\n"
		   "certificates it would issue from now on, and its connections; what it signed\n"
		   "before stays valid and audits clean. Only the node that issued the\n"
		   "certificate may revoke it (exit 2 otherwise). A revocation is final: the\n"
		   "node rejoins with a new key (strata invite, strata join).\n\n"
		   "  --name ORG/PATH  the org path of the certificate to revoke\n"
		   "  --reason TEXT    why, kept in the record (at most 256 bytes)\n");
}

int cmd_revoke_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"name", required_argument, NULL, 'n'},
		{"reason", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct node *n = NULL;
	struct node_revoke_result r;
	struct err e = {0};
	const char *name = NULL, *reason = NULL;
	char hex[KEY_HEX];
	json_t *keys;
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'n': name = optarg; break;
		case 'r': reason = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("revoke", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("revoke", "unexpected argument \"%s\"", argv[optind]);
	if (!name || !org_path_valid(name))
		return cli_usage("revoke", "--name ORG/PATH is required and must be a valid org path");
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0 || (ret = node_revoke(n, name, reason, &r, &e)) < 0) {
		node_close(&n);
		return cli_fail_err("revoke", ret, &e);
	}
	sync_notify(node_dir(n));
	node_close(&n);
	if (c.json) {
		keys = json_array();
		for (size_t i = 0; i < r.n; i++) {
			key_hex(hex, r.keys[i]);
			json_array_append_new(keys, json_string(hex));
		}
		cli_json_print(json_pack("{s:s, s:o, s:s?, s:I}", "name", name, "keys", keys, "reason", reason,
					 "revoked_ms", (json_int_t)r.revoked_ms));
	} else {
		for (size_t i = 0; i < r.n; i++) {
			key_hex(hex, r.keys[i]);
			printf("revoked %s: key %s\n", name, hex);
		}
	}
	return EXIT_OK;
}
