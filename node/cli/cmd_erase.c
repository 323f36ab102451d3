/* SPDX-License-Identifier: MIT */
/*
 * strata erase: remove a record's value from every store that holds it
 * (node_erase, node/core/erase_op.c), then overwrite the freed pages of
 * data.mdb (node_scrub).
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
	size_t n;
	const struct record_type *const *types = record_types(&n);

	cli_help(f, "usage: strata erase [-d DIR] --collection NAME --key KEY [--reason TEXT] [--json]\n\n"
		   "Removes the value of a record this node wrote (a resident's request with a\n"
		   "phone number in it, say) from every store that holds it. An erase request\n"
		   "signed by this node goes into the record's feed, after the record; every node\n"
		   "that receives it (over a link or in a bundle) removes the value from every\n"
		   "entry of that feed that holds it and from its current records, and\n"
		   "overwrites the freed pages of its data.mdb. Signed bodies hold only a\n"
		   "commitment to each value, a hash keyed with a random salt that travels\n"
		   "beside the value and is erased with it: every signature and chain still\n"
		   "verifies, strata verify and strata audit report the value as erased, and\n"
		   "nobody holding the signed bodies can confirm a guessed value. Entries\n"
		   "written by a version before salted commitments hold the value's plain\n"
		   "hash, which is signed and stays: from them a guessed value (a phone\n"
		   "number, say) can still be confirmed; erase says how many there were\n"
		   "(JSON \"unsalted\"). The record itself (its\n"
		   "key, who wrote it, when) stays; listings leave it out, show and update say\n"
		   "it was erased. A later add of the same key writes a new value, which is not\n"
		   "erased. The request keeps the value's residue, only the fields the report\n"
		   "figures read (a member's category, status and join date; a request's\n"
		   "dates; no names, phone numbers or text), so that reports computed over the\n"
		   "value are still recomputed by the levels above (docs/PROTOCOL.md).\n\n"
		   "Only the node that wrote the record may erase it (exit 2 otherwise); a\n"
		   "record that does not exist or is erased already is refused (exit 2), and\n"
		   "a refusal changes nothing. Not erased: copies made outside the stores\n"
		   "(bundle files exported before, backups), other records that copied the\n"
		   "value (a transfer's release copies the member), and disk blocks a\n"
		   "copy-on-write filesystem or an SSD keeps. Erasing a request erases its\n"
		   "resident's contact (request_contact, feed private) with it.\n\n"
		   "  --collection NAME  the record's collection:");
	for (size_t i = 0; i < n; i++)
		if (types[i]->feed && strcmp(types[i]->feed, FEED_TRUST) != 0)
			fprintf(f, " %s", types[i]->collection);
	cli_help(f, "\n"
		   "  --key KEY          the record's key (strata log --ops shows keys)\n"
		   "  --reason TEXT      why, kept in the request (at most 256 bytes)\n");
}

/* What an erase of entries with an unsalted value hash leaves behind. */
static const char *unsalted_warning(void)
{
	return _("they were written before salted commitments, and their signed bodies keep the value's "
		 "plain hash, so a guessed value can still be confirmed from them. Entries written from this "
		 "version on are salted: once erased, their value cannot be confirmed.");
}

int cmd_erase_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'},    {"collection", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},    {"reason", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_common c;
	const struct record_type *rt;
	const char *collection = NULL, *key = NULL, *reason = NULL;
	struct node *n = NULL;
	struct node_erase_result r;
	struct store_scrub_counts sc = {0};
	struct err e = {0};
	int opt, ret, code = EXIT_SYSTEM, scrub;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; break;
		case 'c': collection = optarg; break;
		case 'k': key = optarg; break;
		case 'r': reason = optarg; break;
		case 'j': c.json = true; break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("erase", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage("erase", "unexpected argument \"%s\"", argv[optind]);
	if (!collection || !key || !*key)
		return cli_usage("erase", "--collection NAME and --key KEY are required");
	if (!(rt = record_type_find(collection)))
		return cli_fail("erase", EXIT_REJECTED, "unknown collection \"%s\" (see strata erase --help)", collection);
	if ((ret = node_erase_check(collection, key, reason, &e)) < 0)
		return cli_fail_err("erase", ret, &e);
	if ((ret = node_open(&n, c.dir, 0, &e)) < 0 || (ret = node_erase(n, collection, key, reason, &r, &e)) < 0) {
		code = cli_fail_err("erase", ret, &e);
		goto out;
	}
	sync_notify(node_dir(n));
	/* The value is out of every live record; now out of the file's free pages. */
	scrub = node_scrub(n, &sc, &e);
	if (scrub < 0 && scrub != -EAGAIN) {
		code = cli_fail("erase", EXIT_SYSTEM, "erased, but the old pages were not overwritten: %s", e.msg);
		goto out;
	}
	if (scrub == -EAGAIN)
		fprintf(stderr, _("strata: erase: note: %s (the next erase, import or the daemon does it)\n"), e.msg);
	if (c.json) {
		cli_json_print(json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?, s:I, s:I, s:I, s:I, s:s?}", "collection",
					 collection, "key", key, "feed", r.feed, "seq", (json_int_t)r.seq, "entries",
					 (json_int_t)r.entries, "reason", reason, "scrubbed_pages", (json_int_t)sc.pages,
					 "held_pages", (json_int_t)sc.held, "companion_entries",
					 (json_int_t)r.companion_entries, "unsalted", (json_int_t)r.unsalted, "warning",
					 r.unsalted ? unsalted_warning() : NULL));
	} else {
		printf(_("erased %s %s: its value is gone from %zu entr%s of feed %s (erase request %s #%llu)\n"), _(rt->noun),
		       key, r.entries, r.entries == 1 ? "y" : "ies", r.feed, r.feed, (unsigned long long)r.seq);
		if (r.companion_entries)
			printf(_("and its %s from %zu entr%s of feed %s\n"), _(rt->companion->noun), r.companion_entries,
			       r.companion_entries == 1 ? "y" : "ies", r.companion_feed);
		if (r.unsalted)
			printf(_("warning: %zu entr%s of them committed to the value without a salt: %s\n"), r.unsalted,
			       r.unsalted == 1 ? "y" : "ies", unsalted_warning());
	}
	code = EXIT_OK;
out:
	node_close(&n);
	return code;
}
