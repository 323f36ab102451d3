/* SPDX-License-Identifier: MIT */
/*
 * strata export: the node's feeds into a bundle file (node/bundle).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/bundle/bundle.h"
#include "node/cli/cli.h"
#include "node/records/records.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata export [-d DIR] -o FILE [--feeds up,report,...] [--since HEADS.json] [--json]\n\n"
		   "Writes the signed feeds this node holds into a bundle file, for a node with\n"
		   "no network (strata import) or for an auditor. Trust feeds come first, so the\n"
		   "receiver meets every certificate before the entries it vouches for. After\n"
		   "the entries come the signed checkpoints of each feed (its size and Merkle\n"
		   "root, with its witnesses' cosignatures), this node's own signed fresh at\n"
		   "their heads (not while its writes are fenced after a restore), so that an\n"
		   "auditor can tell a complete feed from a cut one. The file\n"
		   "is written under a temporary name and renamed when complete.\n\n"
		   "  -o FILE             the bundle to write\n"
		   "  --feeds LIST        only these feeds, with the trust feeds of their authors'\n"
		   "                      chains (so that the bundle verifies on its own);\n"
		   "                      without it every feed but %s (residents' contacts,\n"
		   "                      which leave the node only when named here)\n"
		   "  --since HEADS.json  only what the receiver lacks: HEADS.json is the output of\n"
		   "                      strata status --json on the receiving node\n",
		 FEED_PRIVATE);
}

static int since(const uint8_t author[KEY_BYTES], const char *feed, uint64_t *seq, void *arg)
{
	json_t *feeds = json_object_get(arg, "feeds"), *v;
	char hex[KEY_HEX];
	size_t i;

	key_hex(hex, author);
	json_array_foreach(feeds, i, v) {
		const char *a = json_string_value(json_object_get(v, "author"));
		const char *fd = json_string_value(json_object_get(v, "feed"));

		if (a && fd && strcmp(a, hex) == 0 && strcmp(fd, feed) == 0) {
			*seq = (uint64_t)json_integer_value(json_object_get(v, "seq"));
			return 0;
		}
	}
	return -ENOENT;
}

/* --feeds (comma-separated, cut in place) or every feed but the private
 * one, into flt->feeds; EXIT_OK or the error's exit code. */
static int feed_list(char *feeds, struct bundle_filter *flt)
{
	if (feeds) {
		size_t cap = 1;

		for (char *p = feeds; *p; p++)
			cap += *p == ',';
		if (!(flt->feeds = calloc(cap, sizeof *flt->feeds)))
			return cli_fail("export", EXIT_SYSTEM, "out of memory");
		for (char *tok = strtok(feeds, ","); tok; tok = strtok(NULL, ",")) {
			if (!feed_name_known(tok)) {
				free(flt->feeds);
				return cli_usage("export", "unknown feed \"%s\" (%s, %s, %s, %s, %s)", tok, FEED_UP,
						 FEED_REPORT, FEED_DOWN, FEED_TRUST, FEED_PRIVATE);
			}
			flt->feeds[flt->n_feeds++] = tok;
		}
	} else { /* personal data leaves only when asked for */
		static const char *const all[] = {FEED_TRUST, FEED_UP, FEED_REPORT, FEED_DOWN};

		if (!(flt->feeds = calloc(4, sizeof *flt->feeds)))
			return cli_fail("export", EXIT_SYSTEM, "out of memory");
		for (size_t i = 0; i < 4; i++)
			flt->feeds[flt->n_feeds++] = (char *)all[i];
	}
	return EXIT_OK;
}

int cmd_export_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},   {"output", required_argument, NULL, 'o'},
		{"feeds", required_argument, NULL, 'f'}, {"since", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	struct bundle_filter flt = {0};
	struct bundle_counts cnt;
	struct node *n = NULL;
	struct err e = {0};
	const char *out = NULL, *since_path = NULL;
	char *feeds = NULL;
	json_t *heads = NULL;
	json_error_t je;
	int opt, ret, code = EXIT_OK;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'o': out = optarg; break;
		case 'f': feeds = optarg; break;
		case 's': since_path = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("export", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("export", "unexpected argument \"%s\"", argv[optind]);
	if (!out)
		return cli_usage("export", "-o FILE is required");
	if ((code = feed_list(feeds, &flt)) != EXIT_OK)
		return code;
	if (since_path) {
		if (!(heads = json_load_file(since_path, 0, &je)) || !json_is_array(json_object_get(heads, "feeds"))) {
			code = cli_fail("export", EXIT_REJECTED, "%s:%d: not the output of strata status --json (%s)",
					since_path, je.line, heads ? "no feeds" : je.text);
			goto out;
		}
		flt.since = since;
		flt.arg = heads;
	}
	/* with its key, to sign fresh checkpoints of its own feeds; a store it
	 * cannot write exports the checkpoints it holds */
	if (node_open(&n, c.dir, 0, &(struct err){0}) < 0)
		node_close(&n);
	if ((!n && (ret = node_open(&n, c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0) ||
	    (ret = bundle_export(n, &flt, out, &cnt, &e)) < 0) {
		code = cli_fail_err("export", ret, &e);
		goto out;
	}
	if (c.json)
		cli_json_print(json_pack("{s:s, s:I, s:I, s:I, s:I}", "file", out, "feeds", (json_int_t)cnt.feeds, "entries",
					 (json_int_t)cnt.entries, "checkpoints", (json_int_t)cnt.checkpoints, "bytes",
					 (json_int_t)cnt.bytes));
	else
		printf(_("exported %zu entries of %zu feeds (%zu bytes) to %s\n"), cnt.entries, cnt.feeds, cnt.bytes, out);
out:
	json_decref(heads);
	free(flt.feeds);
	node_close(&n);
	return code;
}
