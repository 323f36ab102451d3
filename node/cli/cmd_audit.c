/* SPDX-License-Identifier: MIT */
/*
 * strata audit: check a node's store, or a bundle file on a machine with no
 * node, against a root key the auditor pins, trusting nothing else.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node/audit/audit.h"
#include "node/audit/completeness.h"
#include "node/audit/history.h"
#include "node/cli/cli.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata audit -d DIR --root ROOTKEY [--checkpoint FILE]... [--json]\n"
		   "       strata audit BUNDLE --root ROOTKEY [--checkpoint FILE]... [--json]\n"
		   "       strata audit PROOF --root ROOTKEY [--json]   (a file of strata prove)\n\n"
		   "Checks a node's store, or a bundle file (no node needed), trusting only the\n"
		   "root key given: every signature over the exact bytes, every hash chain from\n"
		   "seq 1, every author's certificate chain to ROOTKEY allowing its feed, every\n"
		   "record against its rules and its value hash, the records against a replay of\n"
		   "the log, no equivocation, transfers (every acceptance and forward names a\n"
		   "real release, no member active at two branches at once) and every report\n"
		   "recomputed from the heads it names. A value erased by its owner (strata\n"
		   "erase) is listed as ERASED, not a failure; a report that counted it is\n"
		   "recomputed from the residue its erase request keeps (the fields the figures\n"
		   "read); any other missing value fails. Kept evidence of equivocation fails\n"
		   "its feed, as in strata verify; so does an Evidence frame of a bundle that\n"
		   "proves two entries at one seq by a certified author, and one that proves\n"
		   "nothing fails the bundle. A bundle's unsigned framing must be exact: an\n"
		   "unknown field, a wrong count or bytes after the end record fail it.\n"
		   "Completeness: every signed checkpoint the bundle carries (or the store\n"
		   "holds, or given with --checkpoint) is checked against the entries: a feed\n"
		   "holding fewer entries than a checkpoint of it says, or other ones (another\n"
		   "root), fails. Per feed it names the newest checkpoint and the newest one\n"
		   "co-signed by a witness; a feed without any is listed as not checked.\n"
		   "Prints what it checked, every failure with its feed and seq, and every\n"
		   "proof of equivocation (EVIDENCE).\n\n"
		   "Exit codes: 0 everything holds; 3 any failure (a file that is not a\n"
		   "bundle, of another version or with a damaged header included); 1 a usage\n"
		   "error; 4 the node or the file cannot be read.\n\n"
		   "  --root ROOTKEY     the trust domain's root key, 64 hex (strata id at the root)\n"
		   "  --checkpoint FILE  a signed checkpoint (a note, as strata status --json\n"
		   "                     or a branch gave it) the audit must hold; repeatable\n");
}

/* "NAME/FEED" of a feed object of audit_completeness's JSON. */
static void feed_label(json_t *f, char *out, size_t cap)
{
	const char *name = json_string_value(json_object_get(f, "name"));

	snprintf(out, cap, "%.200s/%s", name && name[0] ? name : json_string_value(json_object_get(f, "author")),
		 json_string_value(json_object_get(f, "feed")));
}

/* One checkpoint's signers: "NAME, NAME" (a key's hex prefix when unknown). */
static void print_signers(json_t *list)
{
	size_t i;
	json_t *s;

	json_array_foreach(list, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));

		printf("%s%.*s", i ? ", " : "", name && name[0] ? 200 : 16,
		       name && name[0] ? name : json_string_value(json_object_get(s, "key")));
	}
}

/* Per feed the newest checkpoint and the newest witnessed one, then the
 * feeds whose completeness could not be checked. */
static void print_completeness(const struct audit_completeness *x)
{
	char label[300];
	size_t i;
	json_t *f;

	json_array_foreach(x->feeds, i, f) {
		json_t *cp = json_object_get(f, "checkpoint"), *w = json_object_get(f, "witnessed");

		feed_label(f, label, sizeof label);
		printf("  checkpoint %s: %" JSON_INTEGER_FORMAT " entries held; newest at size %" JSON_INTEGER_FORMAT
		       " signed by ",
		       label, json_integer_value(json_object_get(f, "entries")), json_integer_value(json_object_get(cp, "size")));
		print_signers(json_object_get(cp, "signed_by"));
		if (json_is_object(w)) {
			printf("; witnessed at size %" JSON_INTEGER_FORMAT " by ", json_integer_value(json_object_get(w, "size")));
			print_signers(json_object_get(w, "witnesses"));
			printf("\n");
		} else {
			printf("; not witnessed\n");
		}
	}
	if (json_array_size(x->unchecked)) {
		printf("  completeness not checked (no checkpoint) for %zu feed%s:", json_array_size(x->unchecked),
		       json_array_size(x->unchecked) == 1 ? "" : "s");
		json_array_foreach(x->unchecked, i, f) {
			feed_label(f, label, sizeof label);
			printf("%s %s", i ? "," : "", label);
		}
		printf("\n");
	}
}

/* What an audit prints at its end: the JSON object, or the summary line
 * and the checkpoints per feed. */
struct audit_result {
	bool json, ok, bundle;
	const char *what, *root_hex;
	const struct verify_counts *cnt;
	const struct audit_history_counts *hist;
	struct check_print *st;
	const struct audit_completeness *complete;
};

static void print_result(const struct audit_result *r)
{
	if (r->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
					 "s:o, s:o}",
					 "audited", r->what, "kind", r->bundle ? "bundle" : "store", "root", r->root_hex, "ok",
					 r->ok, "feeds", (json_int_t)r->cnt->feeds, "entries", (json_int_t)r->cnt->entries,
					 "signatures", (json_int_t)r->cnt->signatures, "certificates",
					 (json_int_t)r->hist->certificates, "values", (json_int_t)r->cnt->values, "erased_values",
					 (json_int_t)r->cnt->erased, "state_records", (json_int_t)r->cnt->state, "transfers",
					 (json_int_t)r->hist->transfers, "reports", (json_int_t)r->hist->reports,
					 "reports_unchecked", (json_int_t)r->hist->reports_unchecked, "failure_count",
					 (json_int_t)(r->cnt->failures + r->hist->failures), "erased", r->st->erased, "failures",
					 r->st->failures, "evidence", r->st->evidence);

		json_object_set_new(j, "checkpoints",
				    r->complete->feeds ? json_incref(r->complete->feeds) : json_array());
		json_object_set_new(j, "feeds_unchecked",
				    r->complete->unchecked ? json_incref(r->complete->unchecked) : json_array());
		cli_json_print(j);
	} else {
		cli_check_print_more(r->st);
		char erased[48] = "";

		if (r->cnt->erased)
			snprintf(erased, sizeof erased, ", %zu erased", r->cnt->erased);
		printf("%s %s %s against root %.16s…: %zu feeds (authors certified), %zu entries, %zu signatures, "
		       "%zu certificates, %zu values%s, %zu state records, %zu transfer steps, %zu reports recomputed",
		       r->ok ? "audited" : "AUDIT FAILED:", r->bundle ? "bundle" : "store", r->what, r->root_hex,
		       r->cnt->feeds, r->cnt->entries, r->cnt->signatures, r->hist->certificates, r->cnt->values, erased,
		       r->cnt->state, r->hist->transfers, r->hist->reports);
		if (r->hist->reports_unchecked)
			printf(" (%zu not: their up feed is not held here, or a value they counted was erased "
			       "without a residue)",
			       r->hist->reports_unchecked);
		printf("; %zu failure%s\n", r->cnt->failures + r->hist->failures,
		       r->cnt->failures + r->hist->failures == 1 ? "" : "s");
		print_completeness(r->complete);
	}
}

int cmd_audit_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"root", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
		{"checkpoint", required_argument, NULL, 'c'}, {NULL, 0, NULL, 0},
	};
	struct audit_completeness complete = {0};
	struct cli_common c;
	struct check_print st;
	struct verify_counts cnt = {0};
	struct audit_history_counts hist = {0};
	struct verify_hooks hooks;
	struct err e = {0};
	uint8_t root[KEY_BYTES];
	const char *root_hex = NULL, *bundle = NULL, *what;
	bool dir_given = false;
	int opt, ret;

	cli_common_init(&c);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': c.dir = optarg; dir_given = true; break;
		case 'r': root_hex = optarg; break;
		case 'j': c.json = true; break;
		case 'c':
			if ((ret = audit_notes_file(&complete.given, optarg, &e)) < 0) {
				audit_completeness_free(&complete);
				return ret == -EINVAL ? cli_usage("audit", "%s", e.msg) : cli_fail_err("audit", ret, &e);
			}
			break;
		case 'h': help(stdout); return EXIT_OK;
		default: return cli_usage("audit", "unknown option");
		}
	}
	if (argc - optind > 1 || (argc - optind == 1 && dir_given))
		return cli_usage("audit", "give either -d DIR or one BUNDLE file");
	if (argc - optind == 1)
		bundle = argv[optind];
	if (!root_hex)
		return cli_usage("audit", "--root ROOTKEY is required: the auditor pins the root");
	if (hex_decode(root, KEY_BYTES, root_hex) < 0)
		return cli_usage("audit", "--root must be 64 hex characters");
	if (bundle && cli_is_proof_file(bundle)) /* a light proof (strata prove): cmd_prove.c */
		return cli_audit_proof(bundle, root, root_hex, c.json);
	hooks = cli_check_print_init(&st, c.json, "auditing", "");
	hooks.complete = &complete;
	what = bundle ? bundle : c.dir;
	ret = bundle ? audit_bundle_history(bundle, root, &cnt, &hist, &hooks, &e)
		     : audit_node(c.dir, root, &cnt, &hist, &hooks, &e);
	cli_progress_done("auditing");
	if (ret < 0 && ret != -EBADMSG) {
		cli_check_print_free(&st);
		audit_completeness_free(&complete);
		return cli_fail_err("audit", ret, &e);
	}
	print_result(&(struct audit_result){.json = c.json, .ok = ret == 0, .what = what, .bundle = bundle != NULL,
					    .root_hex = root_hex, .cnt = &cnt, .hist = &hist, .st = &st,
					    .complete = &complete});
	audit_completeness_free(&complete);
	return ret == 0 ? EXIT_OK : EXIT_VERIFY;
}
