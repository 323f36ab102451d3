/* SPDX-License-Identifier: MIT */
/*
 * strata id: the node's identity: key, org path, root key, and the peer
 * agreements it holds with the roots it pinned.
 */
#include <stdio.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/core/node.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata id [-d DIR] [--json]\n\n"
		   "Prints the node key (64 hex characters; also its id on the network), its\n"
		   "org path (with its display name, if its certificate gives one) and the root\n"
		   "key of its trust domain; then the pinned roots (its\n"
		   "own domain's and, on a peer, its host domain's) and every peer agreement:\n"
		   "on a peer, what it publishes to its host and receives from it; on a host,\n"
		   "the same for each peer it invited.\n");
}

int cmd_id_main(int argc, char **argv)
{
	struct cli_common c;
	struct node *n = NULL;
	json_t *j, *names = NULL;
	const char *dn;
	struct err e = {0};
	char key[KEY_HEX], root[KEY_HEX] = "";
	int ret;

	if ((ret = cli_parse_common("id", argc, argv, &c, help, 0, "")) != CLI_GO_ON)
		return ret;
	if ((ret = node_open(&n, c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0)
		return cli_fail_err("id", ret, &e);
	key_hex(key, node_id(n));
	if (node_root(n))
		key_hex(root, node_root(n));
	j = json_pack("{s:s, s:s}", "key", key, "name", node_name(n));
	json_object_set_new(j, "root", node_root(n) ? json_string(root) : json_null());
	if ((ret = node_agreements_json(n, j, &e)) < 0 || (ret = node_display_names(n, &names, &e)) < 0) {
		json_decref(j);
		node_close(&n);
		return cli_fail_err("id", ret, &e);
	}
	if ((dn = node_unit_display_name(names, node_name(n)))) /* in its certificate: display_names.c */
		json_object_set_new(j, "display_name", json_string(dn));
	json_decref(names);
	if (c.json) {
		cli_json_print(j);
	} else {
		dn = json_string_value(json_object_get(j, "display_name"));
		printf(_("key:  %s\nname: %s%s%s%s\nroot: %s%s\n"), key, node_name(n), dn ? " (" : "", dn ? esc(dn) : "",
		       dn ? ")" : "", node_root(n) ? root : _("none yet"),
		       node_root(n) && strcmp(root, key) == 0 ? _(" (this node)") : "");
		cli_agreements_print(j);
		json_decref(j);
	}
	node_close(&n);
	return EXIT_OK;
}
