/* SPDX-License-Identifier: MIT */
/*
 * The peer agreements and pinned roots of a node, as `strata id` and
 * `strata status` print them (the JSON is node_agreements_add's).
 */
#include <stdio.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"

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
