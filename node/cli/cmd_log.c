/* SPDX-License-Identifier: MIT */
/*
 * strata log: the signed history as stored, entry by entry.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/cli/cli.h"
#include "node/core/admin.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "protocol/protocol.h"

struct log_state {
	struct cli_common c;
	const char *feed;
	bool ops;
	size_t count;
	int bad;
};

/* A record key as text if it is text (member ids), else as hex (keys). */
static const char *key_text(char *buf, size_t cap, const struct op *op)
{
	if (text_valid((const char *)op->key, op->key_len) && op->key_len < cap) {
		memcpy(buf, op->key, op->key_len);
		buf[op->key_len] = '\0';
	} else {
		size_t n = op->key_len < (cap - 1) / 2 ? op->key_len : (cap - 1) / 2;

		hex_encode(buf, op->key, n);
	}
	return buf;
}

static json_t *entry_json(const struct changeset *cs)
{
	char author[KEY_HEX], prev[2 * HASH_BYTES + 1], hash[2 * HASH_BYTES + 1], sig[2 * SIG_BYTES + 1];
	json_t *ops = json_array();

	key_hex(author, cs->author);
	hex_encode(prev, cs->prev, HASH_BYTES);
	hex_encode(hash, cs->hash, HASH_BYTES);
	hex_encode(sig, cs->signature, SIG_BYTES);
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];
		char vh[2 * HASH_BYTES + 1], key[2 * LIMIT_KEY_BYTES + 1];
		json_t *o = json_pack("{s:s, s:s, s:s}", "kind", op->kind == OP_PUT ? "put" : "delete", "collection",
				      op->collection, "key", key_text(key, sizeof key, op));

		if (op->kind == OP_PUT) {
			/* the signed commitment, under the field name the body gives it */
			hex_encode(vh, op->value_hash, HASH_BYTES);
			json_object_set_new(o, op->salted ? "value_commit" : "value_hash", json_string(vh));
			json_object_set_new(o, "value", op->value ? json_string("present") : json_string("erased"));
		}
		json_array_append_new(ops, o);
	}
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:I, s:o}", "author", author, "feed", cs->feed, "seq",
			 (json_int_t)cs->seq, "prev", prev, "hash", hash, "time_ms", (json_int_t)cs->time_ms,
			 "signature", sig, "bytes", (json_int_t)cs->envelope_len, "ops", ops);
}

static int on_entry(const struct changeset *cs, uint64_t seq, const struct err *why, void *arg)
{
	struct log_state *st = arg;
	char when[CLI_TIME_SIZE], author[CLI_KEY_SHORT_SIZE], h[17];

	if (!cs) {
		fprintf(stderr, "strata: log: entry #%" PRIu64 ": %s (run strata verify)\n", seq, why->msg);
		st->bad = 1;
		return 0;
	}
	if (st->c.json) {
		json_t *j = entry_json(cs);

		fputs(st->count ? ",\n" : "\n", stdout);
		cli_json_dumpf(j, stdout, JSON_COMPACT);
		json_decref(j);
	} else {
		cli_time_local(when, cs->time_ms); /* --json keeps time_ms */
		cli_key_short(author, cs->author);
		hex_encode(h, cs->hash, 8);
		printf("%-8s #%-8" PRIu64 " %s  %5zu op%s  %zu bytes  hash %s  by %s\n", cs->feed, cs->seq, when,
		       cs->n_ops, cs->n_ops == 1 ? " " : "s", cs->envelope_len, h, author);
		for (size_t i = 0; st->ops && i < cs->n_ops; i++) {
			const struct op *op = &cs->ops[i];
			char key[2 * LIMIT_KEY_BYTES + 1];

			printf("    %-6s %s %s%s\n", op->kind == OP_PUT ? "put" : "delete", op->collection,
			       esc(key_text(key, sizeof key, op)),
			       op->kind == OP_PUT && !op->value ? " (value erased)" : "");
		}
	}
	st->count++;
	return 0;
}

static void help(FILE *f)
{
	cli_help(f, "usage: strata log [-d DIR] [--feed NAME] [--ops] [--json]\n\n"
		   "Prints every stored entry, feed by feed in seq order: feed, seq, time,\n"
		   "op count, size, entry hash and author.\n\n"
		   "  --feed NAME  only this feed (up, report, down, trust)\n"
		   "  --ops        also list each entry's ops\n"
		   "  --json       a JSON array with every field, the signature and each op\n");
}

int cmd_log_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"feed", required_argument, NULL, 'f'},
		{"ops", no_argument, NULL, 'o'},       {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
	};
	struct log_state st = {0};
	struct node *n = NULL;
	struct err e = {0};
	int opt, ret;

	cli_common_init(&st.c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': st.c.dir = optarg; break;
		case 'f': st.feed = optarg; break;
		case 'o': st.ops = true; break;
		case 'j': st.c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("log", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("log", "unexpected argument \"%s\"", argv[optind]);
	if ((ret = node_open(&n, st.c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0)
		return cli_fail_err("log", ret, &e);
	if (st.c.json)
		fputs("[", stdout);
	ret = node_log_each(n, st.feed, on_entry, &st, &e);
	if (st.c.json)
		fputs(st.count ? "\n]\n" : "]\n", stdout);
	node_close(&n);
	if (ret < 0)
		return cli_fail_err("log", ret, &e);
	return st.bad ? EXIT_VERIFY : EXIT_OK;
}
