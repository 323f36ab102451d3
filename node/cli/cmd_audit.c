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
#include "node/audit/history.h"
#include "node/cli/cli.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata audit -d DIR --root ROOTKEY [--json]\n"
		   "       strata audit BUNDLE --root ROOTKEY [--json]\n"
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
		   "Prints what it checked, every failure with its feed and seq, and every\n"
		   "proof of equivocation (EVIDENCE).\n\n"
		   "Exit codes: 0 everything holds; 3 any failure (a file that is not a\n"
		   "bundle, of another version or with a damaged header included); 1 a usage\n"
		   "error; 4 the node or the file cannot be read.\n\n"
		   "  --root ROOTKEY  the trust domain's root key, 64 hex (strata id at the root)\n");
}

int cmd_audit_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"dir", required_argument, NULL, 'd'}, {"root", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
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
	what = bundle ? bundle : c.dir;
	ret = bundle ? audit_bundle_history(bundle, root, &cnt, &hist, &hooks, &e)
		     : audit_node(c.dir, root, &cnt, &hist, &hooks, &e);
	cli_progress_done("auditing");
	if (ret < 0 && ret != -EBADMSG) {
		cli_check_print_free(&st);
		return cli_fail_err("audit", ret, &e);
	}
	if (c.json) {
		cli_json_print(json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, "
					 "s:o, s:o}",
					 "audited", what, "kind", bundle ? "bundle" : "store", "root", root_hex, "ok",
					 ret == 0, "feeds", (json_int_t)cnt.feeds, "entries", (json_int_t)cnt.entries,
					 "signatures", (json_int_t)cnt.signatures, "certificates",
					 (json_int_t)hist.certificates, "values", (json_int_t)cnt.values, "erased_values",
					 (json_int_t)cnt.erased, "state_records", (json_int_t)cnt.state, "transfers",
					 (json_int_t)hist.transfers, "reports", (json_int_t)hist.reports,
					 "reports_unchecked", (json_int_t)hist.reports_unchecked, "failure_count",
					 (json_int_t)(cnt.failures + hist.failures), "erased", st.erased, "failures",
					 st.failures, "evidence", st.evidence));
	} else {
		cli_check_print_more(&st);
		char erased[48] = "";

		if (cnt.erased)
			snprintf(erased, sizeof erased, ", %zu erased", cnt.erased);
		printf("%s %s %s against root %.16s…: %zu feeds (authors certified), %zu entries, %zu signatures, "
		       "%zu certificates, %zu values%s, %zu state records, %zu transfer steps, %zu reports recomputed",
		       ret == 0 ? "audited" : "AUDIT FAILED:", bundle ? "bundle" : "store", what, root_hex, cnt.feeds,
		       cnt.entries, cnt.signatures, hist.certificates, cnt.values, erased, cnt.state, hist.transfers,
		       hist.reports);
		if (hist.reports_unchecked)
			printf(" (%zu not: their up feed is not held here, or a value they counted was erased "
			       "without a residue)",
			       hist.reports_unchecked);
		printf("; %zu failure%s\n", cnt.failures + hist.failures, cnt.failures + hist.failures == 1 ? "" : "s");
	}
	return ret == 0 ? EXIT_OK : EXIT_VERIFY;
}
