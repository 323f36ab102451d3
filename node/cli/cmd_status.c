/* SPDX-License-Identifier: MIT */
/*
 * strata status: the node's links (from its running daemon), its feed heads
 * and any evidence of equivocation it holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node/cli/cli.h"
#include "node/core/node.h"
#include "node/sync/sync.h"

struct status {
	struct node *n;
	struct store_txn *t;
	json_t *feeds, *evidence;
};

static int on_head(const struct store_head *h, void *arg)
{
	struct status *st = arg;
	char name[256], hex[KEY_HEX];

	node_key_name(st->n, st->t, h->author, name);
	key_hex(hex, h->author);
	json_array_append_new(st->feeds, json_pack("{s:s, s:s, s:s, s:I, s:b}", "author", hex, "name", name, "feed",
						   h->feed, "seq", (json_int_t)h->seq, "frozen",
						   (h->flags & STORE_FEED_FROZEN) != 0));
	return 0;
}

static int on_evidence(const uint8_t *key, size_t key_len, const uint8_t *val, size_t len, void *arg)
{
	struct status *st = arg;
	char name[256], hex[KEY_HEX], feed[64];
	uint64_t seq = 0;
	size_t fl;

	(void)val;
	(void)len;
	if (key_len < KEY_BYTES + 1 || key_len != KEY_BYTES + 1 + (fl = key[KEY_BYTES]) + 8 || fl >= sizeof feed)
		return 0;
	memcpy(feed, key + KEY_BYTES + 1, fl);
	feed[fl] = '\0';
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | key[KEY_BYTES + 1 + fl + i];
	node_key_name(st->n, st->t, key, name);
	key_hex(hex, key);
	json_array_append_new(st->evidence, json_pack("{s:s, s:s, s:s, s:I}", "author", hex, "name", name, "feed", feed,
						      "seq", (json_int_t)seq));
	return 0;
}

static void print_human(json_t *j)
{
	json_t *daemon = json_object_get(j, "daemon"), *v;
	size_t i;

	printf("node:   %s (%.16s…)\n", json_string_value(json_object_get(j, "name")),
	       json_string_value(json_object_get(j, "key")));
	v = json_object_get(j, "root");
	printf("root:   %s\n", json_is_string(v) ? json_string_value(v) : "none yet");
	if (!json_is_object(daemon)) {
		printf("daemon: not running\n");
	} else {
		printf("daemon: running, pid %d%s%s\n", (int)json_integer_value(json_object_get(daemon, "pid")),
		       *json_string_value(json_object_get(daemon, "listen")) ? ", listening on " : "",
		       json_string_value(json_object_get(daemon, "listen")));
		json_array_foreach(json_object_get(daemon, "links"), i, v) {
			const char *err = json_string_value(json_object_get(v, "last_error"));

			printf("  %-6s %-32s %-12s lag %-6" JSON_INTEGER_FORMAT " sent %-8" JSON_INTEGER_FORMAT
			       " received %-8" JSON_INTEGER_FORMAT "%s%s\n",
			       json_string_value(json_object_get(v, "kind")), esc(json_string_value(json_object_get(v, "name"))),
			       json_is_true(json_object_get(v, "connected")) ? "connected" : "disconnected",
			       json_integer_value(json_object_get(v, "lag")),
			       json_integer_value(json_object_get(v, "entries_sent")),
			       json_integer_value(json_object_get(v, "entries_received")), err && *err ? "  last error: " : "",
			       err ? esc(err) : ""); /* a peer's words: escaped */
		}
	}
	printf("feeds:\n  %-32s %-8s %8s\n", "AUTHOR", "FEED", "HEAD");
	json_array_foreach(json_object_get(j, "feeds"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		char shown[64];

		snprintf(shown, sizeof shown, "%s", esc(*name ? name : json_string_value(json_object_get(v, "author"))));
		printf("  %-32s %-8s %8" JSON_INTEGER_FORMAT "%s\n", shown, json_string_value(json_object_get(v, "feed")),
		       json_integer_value(json_object_get(v, "seq")),
		       json_is_true(json_object_get(v, "frozen")) ? "  FROZEN (equivocation)" : "");
	}
	if (json_array_size(json_object_get(j, "evidence")) == 0) {
		printf("evidence: none\n");
		return;
	}
	printf("evidence of equivocation (two signed entries for one seq):\n");
	json_array_foreach(json_object_get(j, "evidence"), i, v)
		printf("  %s (%.16s…) %s #%" JSON_INTEGER_FORMAT "\n", esc(json_string_value(json_object_get(v, "name"))),
		       json_string_value(json_object_get(v, "author")), json_string_value(json_object_get(v, "feed")),
		       json_integer_value(json_object_get(v, "seq")));
}

static void help(FILE *f)
{
	fprintf(f, "usage: strata status [-d DIR] [--json]\n\n"
		   "Shows the node's identity; if its daemon runs, every link (connected or\n"
		   "not, entries behind = lag, counts, last error); the head of every feed it\n"
		   "holds; and any evidence of equivocation.\n");
}

int cmd_status_main(int argc, char **argv)
{
	struct cli_common c;
	struct status st = {0};
	struct err e = {0};
	json_t *daemon = NULL, *j;
	char key[KEY_HEX], root[KEY_HEX];
	int ret;

	if ((ret = cli_parse_common("status", argc, argv, &c, help, 0, "")) >= 0)
		return ret;
	if ((ret = node_open(&st.n, c.dir, NODE_NO_KEY | NODE_RDONLY, &e)) < 0 ||
	    (ret = store_txn_begin(node_store(st.n), false, &st.t, &e)) < 0) {
		node_close(&st.n);
		return cli_fail_err("status", ret, &e);
	}
	st.feeds = json_array();
	st.evidence = json_array();
	if ((ret = store_heads_each(st.t, on_head, &st, &e)) < 0 ||
	    (ret = store_index_each(st.t, "evidence", on_evidence, &st, &e)) < 0) {
		json_decref(st.feeds);
		json_decref(st.evidence);
		store_txn_abort(&st.t);
		node_close(&st.n);
		return cli_fail_err("status", ret, &e);
	}
	store_txn_abort(&st.t);
	memset(&e, 0, sizeof e);
	if (sync_status(c.dir, 2000, &daemon, &e) < 0)
		daemon = json_null();
	key_hex(key, node_id(st.n));
	if (node_root(st.n))
		key_hex(root, node_root(st.n));
	j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "name", node_name(st.n), "key", key, "root",
		      node_root(st.n) ? json_string(root) : json_null(), "daemon", daemon, "feeds", st.feeds, "evidence",
		      st.evidence);
	node_close(&st.n);
	if (c.json)
		cli_json_print(j);
	else {
		print_human(j);
		json_decref(j);
	}
	return EXIT_OK;
}
