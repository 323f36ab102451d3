/* SPDX-License-Identifier: MIT */
/*
 * strata verify: re-check every signature, chain, value and state record
 * of the store (node/audit), printing each failure with its exact place.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "node/audit/audit.h"
#include "node/audit/history.h"
#include "node/cli/cli.h"

static void help(FILE *f)
{
	cli_help(f, "usage: strata verify [-d DIR] [--json]\n\n"
		   "Re-checks the whole store, trusting nothing it says about itself: every\n"
		   "entry of every feed from seq 1 to its head is present, decodes, is signed\n"
		   "by its author over its exact bytes, chains to the entry before it, has an\n"
		   "author whose certificate chain to the pinned root allows the feed, and\n"
		   "holds only valid records whose values match their hashes; and the current\n"
		   "records equal a replay of the log. A value may be missing only where its\n"
		   "owner erased it (strata erase): those are listed as ERASED, not failures.\n"
		   "A proof of equivocation the store keeps (two signed entries for one seq,\n"
		   "strata status lists it) fails its feed at that seq, as in strata audit.\n"
		   "Prints what it checked, every failure with its feed and seq, and every\n"
		   "proof of equivocation (EVIDENCE).\n\n"
		   "Exit codes: 0 everything holds; 3 any failure; 1 a usage error; 4 no\n"
		   "node in DIR, or its store cannot be read.\n");
}

int cmd_verify_main(int argc, char **argv)
{
	struct cli_common c;
	struct check_print st;
	struct verify_counts cnt;
	struct verify_hooks hooks;
	struct err e = {0};
	int ret;

	if ((ret = cli_parse_common("verify", argc, argv, &c, help, 0, "")) != CLI_GO_ON)
		return ret;
	hooks = cli_check_print_init(&st, c.json, "verifying", "store: ");
	ret = verify_node(c.dir, &cnt, &hooks, &e);
	cli_progress_done("verifying");
	if (ret < 0 && ret != -EBADMSG) {
		cli_check_print_free(&st);
		return cli_fail_err("verify", ret, &e);
	}
	if (c.json) {
		cli_json_print(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "ok", ret == 0, "feeds",
					 (json_int_t)cnt.feeds, "entries", (json_int_t)cnt.entries, "signatures",
					 (json_int_t)cnt.signatures, "ops", (json_int_t)cnt.ops, "values",
					 (json_int_t)cnt.values, "erased_values", (json_int_t)cnt.erased, "state_records",
					 (json_int_t)cnt.state, "erased", st.erased, "failures", st.failures,
					 "evidence", st.evidence));
	} else {
		cli_check_print_more(&st);
		char erased[48] = "";

		if (cnt.erased) /* only then: the line stays as it was for stores without */
			snprintf(erased, sizeof erased, ", %zu erased", cnt.erased);
		printf("%s: %zu feed%s, %zu entries, %zu signatures, %zu ops, %zu values%s, %zu state records; "
		       "%zu failure%s\n",
		       ret == 0 ? "verified" : "FAILED", cnt.feeds, cnt.feeds == 1 ? "" : "s", cnt.entries,
		       cnt.signatures, cnt.ops, cnt.values, erased, cnt.state, cnt.failures,
		       cnt.failures == 1 ? "" : "s");
	}
	return ret == 0 ? EXIT_OK : EXIT_VERIFY;
}
