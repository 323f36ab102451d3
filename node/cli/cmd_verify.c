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
#include "node/cli/cli.h"
#include "node/core/node.h"

#define MAX_FAILURES_SHOWN 100

struct verify_state {
	struct node *n;
	bool json;
	json_t *failures;
	json_t *erased;
	size_t shown, erased_shown;
};

static void on_erased(const struct verify_erased *x, void *arg)
{
	struct verify_state *st = arg;

	if (st->json)
		json_array_append_new(st->erased, cli_erased_json(x));
	else if (st->erased_shown++ < MAX_FAILURES_SHOWN)
		cli_erased_print(x);
}

static void on_failure(const struct verify_failure *f, void *arg)
{
	struct verify_state *st = arg;
	char author[KEY_HEX] = "";

	if (f->author)
		key_hex(author, f->author);
	if (st->json) {
		json_array_append_new(st->failures,
				      json_pack("{s:s?, s:s, s:I, s:s}", "author", f->author ? author : NULL, "feed",
						f->feed, "seq", (json_int_t)f->seq, "reason", f->reason));
		return;
	}
	if (st->shown++ >= MAX_FAILURES_SHOWN)
		return;
	if (f->author)
		fprintf(stdout, "FAIL %.16s…/%s #%" PRIu64 ": %s\n", author, f->feed, f->seq, f->reason);
	else
		fprintf(stdout, "FAIL store: %s\n", f->reason);
}

static int on_authorize(struct store_txn *t, const uint8_t author[32], const char *feed, struct err *e, void *arg)
{
	return node_authorize(((struct verify_state *)arg)->n, t, author, feed, 0, e);
}

/* An entry signed by a revoked key at or after its revocation fails. */
static int on_entry(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq, uint64_t time_ms,
		    struct err *e, void *arg)
{
	(void)feed;
	(void)seq;
	return node_check_revoked(((struct verify_state *)arg)->n, t, author, time_ms, e);
}

static void on_progress(size_t done, size_t total, void *arg)
{
	(void)arg;
	cli_progress("verifying", done, total);
}

static void help(FILE *f)
{
	fprintf(f, "usage: strata verify [-d DIR] [--json]\n\n"
		   "Re-checks the whole store, trusting nothing it says about itself: every\n"
		   "entry of every feed from seq 1 to its head is present, decodes, is signed\n"
		   "by its author over its exact bytes, chains to the entry before it, has an\n"
		   "author whose certificate chain to the pinned root allows the feed, and\n"
		   "holds only valid records whose values match their hashes; and the current\n"
		   "records equal a replay of the log. A value may be missing only where its\n"
		   "owner erased it (strata erase): those are listed as ERASED, not failures.\n"
		   "Prints what it checked and every failure with its feed and seq. Exit 0\n"
		   "when everything holds, 3 if not.\n");
}

int cmd_verify_main(int argc, char **argv)
{
	struct cli_common c;
	struct verify_state st = {0};
	struct verify_counts cnt;
	struct verify_hooks hooks = {
		.failure = on_failure, .erased = on_erased, .authorize = on_authorize, .entry = on_entry, .progress = on_progress, .arg = &st};
	struct node *n = NULL;
	struct err e = {0};
	int ret;

	if ((ret = cli_parse_common("verify", argc, argv, &c, help, 0, "")) >= 0)
		return ret;
	st.json = c.json;
	if (c.json) {
		st.failures = json_array();
		st.erased = json_array();
	}
	if ((ret = node_open(&n, c.dir, NODE_RDONLY | NODE_NO_KEY, &e)) < 0) {
		json_decref(st.failures);
		json_decref(st.erased);
		return cli_fail_err("verify", ret, &e);
	}
	st.n = n;
	ret = verify_store(node_store(n), &cnt, &hooks, &e);
	cli_progress_done("verifying");
	node_close(&n);
	if (ret < 0 && ret != -EBADMSG) {
		json_decref(st.failures);
		json_decref(st.erased);
		return cli_fail_err("verify", ret, &e);
	}
	if (c.json) {
		cli_json_print(json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "ok", ret == 0, "feeds",
					 (json_int_t)cnt.feeds, "entries", (json_int_t)cnt.entries, "signatures",
					 (json_int_t)cnt.signatures, "ops", (json_int_t)cnt.ops, "values",
					 (json_int_t)cnt.values, "erased_values", (json_int_t)cnt.erased, "state_records",
					 (json_int_t)cnt.state, "erased", st.erased, "failures", st.failures));
	} else {
		if (st.shown > MAX_FAILURES_SHOWN)
			printf("... and %zu more failures\n", st.shown - MAX_FAILURES_SHOWN);
		if (st.erased_shown > MAX_FAILURES_SHOWN)
			printf("... and %zu more erased values\n", st.erased_shown - MAX_FAILURES_SHOWN);
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
