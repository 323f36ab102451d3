/* SPDX-License-Identifier: MIT */
/*
 * The peer agreements and pinned roots of a node, as `strata id` and
 * `strata status` show them (text and JSON).
 */
#include <stdio.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"

static json_t *feed_list(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static int add_one(const struct node_agreement *a, void *arg)
{
	json_t *arr = arg, *o;
	char hex[KEY_HEX];

	key_hex(hex, a->key);
	o = json_pack("{s:s, s:s, s:s}", "as", a->this_is_peer ? "peer" : "host", "with", a->name, "key", hex);
	if (a->this_is_peer) {
		key_hex(hex, a->host_root);
		json_object_set_new(o, "host_root", json_string(hex));
	}
	json_object_set_new(o, "publishes", a->cert ? feed_list(a->cert->feeds, a->cert->n_feeds) : json_null());
	json_object_set_new(o, "receives", a->cert ? feed_list(a->cert->receive, a->cert->n_receive) : json_null());
	json_array_append_new(arr, o);
	return 0;
}

int cli_agreements_add(json_t *j, struct node *n, struct store_txn *t, struct err *e)
{
	json_t *agreements = json_array(), *roots = json_array();
	char hex[KEY_HEX];
	int ret;

	if ((ret = node_agreements_each(n, t, add_one, agreements, e)) < 0) {
		json_decref(agreements);
		json_decref(roots);
		return ret;
	}
	if (node_root(n)) {
		key_hex(hex, node_root(n));
		json_array_append_new(roots, json_pack("{s:s, s:s}", "key", hex, "domain", "own"));
	}
	if (node_peer_root(n)) {
		key_hex(hex, node_peer_root(n));
		json_array_append_new(roots, json_pack("{s:s, s:s}", "key", hex, "domain", "host"));
	}
	json_object_set_new(j, "pinned_roots", roots);
	json_object_set_new(j, "agreements", agreements);
	return 0;
}

static void print_feeds(json_t *a)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a)) {
		printf("(not arrived yet)");
		return;
	}
	if (json_array_size(a) == 0)
		printf("nothing");
	json_array_foreach(a, i, v) printf("%s%s", i ? "," : "", json_string_value(v));
}

void cli_agreements_print(json_t *j)
{
	json_t *v;
	size_t i;

	printf("pinned roots:");
	if (json_array_size(json_object_get(j, "pinned_roots")) == 0)
		printf(" none yet\n");
	else
		printf("\n");
	json_array_foreach(json_object_get(j, "pinned_roots"), i, v)
		printf("  %s  %s\n", json_string_value(json_object_get(v, "key")),
		       strcmp(json_string_value(json_object_get(v, "domain")), "own") == 0
			       ? "this node's own domain"
			       : "its host's domain (this node is a peer there)");
	printf("peer agreements:%s\n", json_array_size(json_object_get(j, "agreements")) ? "" : " none");
	json_array_foreach(json_object_get(j, "agreements"), i, v) {
		bool peer = strcmp(json_string_value(json_object_get(v, "as")), "peer") == 0;

		printf("  %s %s (%.16s…): %s publishes ", peer ? "peer of" : "host of",
		       json_string_value(json_object_get(v, "with")), json_string_value(json_object_get(v, "key")),
		       peer ? "this node" : "it");
		print_feeds(json_object_get(v, "publishes"));
		printf(", receives ");
		print_feeds(json_object_get(v, "receives"));
		printf("\n");
	}
}
