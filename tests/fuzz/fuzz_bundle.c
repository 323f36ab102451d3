/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for `strata import`: the bytes are a bundle file, imported
 * with bundle_import into the scratch node (made once; it keeps what it
 * stored, as a real node does). The same file is then read again the way
 * an audit reads it, evidence records included, and every evidence pair is
 * checked. Every refusal must come with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/bundle/bundle.h"
#include "tests/fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void write_file(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

/* Reads the whole bundle with evidence records, as bundle_audit does. */
static void read_all(const char *path)
{
	struct bundle_reader *r = NULL;
	struct err e = {{0}};
	const Strata__Evidence *ev;
	const uint8_t *env;
	size_t len;
	int ret;

	if (bundle_open(&r, path, &e) < 0) {
		if (!e.msg[0])
			abort();
		return;
	}
	if (bundle_header(r)->node.len != KEY_BYTES)
		abort();
	for (;;) {
		ev = NULL;
		if ((ret = bundle_next(r, &env, &len, &ev, &e)) <= 0)
			break;
		if (ev) {
			struct changeset *cs = NULL;
			struct err ee = {{0}};

			if (node_evidence_check(ev->first.data, ev->first.len, ev->second.data, ev->second.len, &cs,
						&ee) < 0 && !ee.msg[0])
				abort();
			changeset_destroy(&cs);
		} else if (bundle_entry_index(r) == 0) {
			abort();
		}
	}
	if (ret < 0 && !e.msg[0])
		abort();
	bundle_close(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct node *node = scratch_node();
	struct bundle_counts stored;
	struct err e = {{0}};
	size_t dups = 0;
	char path[512];

	snprintf(path, sizeof path, "%s/input.bundle", scratch_dir());
	write_file(path, d, n);
	if (bundle_import(node, path, &stored, &dups, &e) < 0 && !e.msg[0])
		abort(); /* every refusal has a reason */
	read_all(path);
	return 0;
}
