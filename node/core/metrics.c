/* SPDX-License-Identifier: MIT */
/*
 * The store's map seen from the node: the log line of a growth, the
 * "store" object of `strata status --json`, and `strata metrics` (the
 * Prometheus text exposition format 0.0.4). There is no metrics endpoint:
 * a scraper runs `strata metrics -d DIR` (node_exporter's textfile
 * collector reads its output as is).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "node/core/admin.h"
#include "node/core/node_internal.h"

#define MIB ((uint64_t)1 << 20)
#define GROWN_LINE_SIZE 160 /* "store: map grown from ... (... ceiling N MiB, by the free disk)" */

void node_on_store_grown(struct node *n, void (*fn)(void *arg, const char *line), void *arg)
{
	n->grown_log = fn;
	n->grown_log_arg = arg;
}

void node_store_grown(void *arg, const struct store_growth *g)
{
	struct node *n = arg;
	char line[GROWN_LINE_SIZE];

	snprintf(line, sizeof line,
		 "store: map grown from %" PRIu64 " MiB to %" PRIu64 " MiB (%" PRIu64 " MiB used, ceiling %" PRIu64
		 " MiB%s)",
		 g->from / MIB, g->to / MIB, g->used / MIB, g->ceiling / MIB,
		 g->ceiling_disk ? " by the free disk" : "");
	if (n->grown_log)
		n->grown_log(n->grown_log_arg, line);
	else
		fprintf(stderr, "strata: %s\n", line);
}

json_t *node_store_json(struct node *n, struct err *e)
{
	struct store_map_info m;

	if (store_map_info(n->store, &m, e) < 0)
		return NULL;
	return json_pack("{s:I, s:I, s:b, s:I, s:I}", "map_bytes", (json_int_t)m.map_bytes, "map_max_bytes",
			 (json_int_t)m.max_bytes, "map_max_from_disk", m.max_from_disk, "used_bytes",
			 (json_int_t)m.used_bytes, "map_grown_total", (json_int_t)m.grown_total);
}

int node_metrics_write(struct node *n, FILE *f, struct err *e)
{
	struct store_map_info m;
	int ret;

	if ((ret = store_map_info(n->store, &m, e)) < 0)
		return ret;
	fprintf(f,
		"# HELP strata_store_map_bytes Size of the store's LMDB map (address space reserved for data.mdb).\n"
		"# TYPE strata_store_map_bytes gauge\n"
		"strata_store_map_bytes %" PRIu64 "\n"
		"# HELP strata_store_map_max_bytes Ceiling the map may grow to ([store] map_max, or what the free disk "
		"allows when it is 0).\n"
		"# TYPE strata_store_map_max_bytes gauge\n"
		"strata_store_map_max_bytes %" PRIu64 "\n"
		"# HELP strata_store_used_bytes Bytes of the store's pages in use.\n"
		"# TYPE strata_store_used_bytes gauge\n"
		"strata_store_used_bytes %" PRIu64 "\n"
		"# HELP strata_store_map_grown_total Times the store's map has grown over its life.\n"
		"# TYPE strata_store_map_grown_total counter\n"
		"strata_store_map_grown_total %" PRIu64 "\n",
		m.map_bytes, m.max_bytes, m.used_bytes, m.grown_total);
	if (fflush(f) != 0 || ferror(f)) {
		ret = -errno;
		err_set(e, "writing the metrics failed");
		return ret ? ret : -EIO;
	}
	return 0;
}
