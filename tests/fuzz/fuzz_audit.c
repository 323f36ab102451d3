/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for `strata audit BUNDLE --root KEY`: the bytes are a bundle
 * audited with audit_bundle against the scratch keys' root (which makes
 * and removes its own scratch node per audit, as the command does). Every
 * failure must come with a reason, an audit that passes must have found
 * no failure, and one that fails must count at least one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/audit/audit.h"
#include "tests/fuzz/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static char path[64];
static uint8_t root[KEY_BYTES];

static void cleanup(void)
{
	unlink(path);
}

static void on_failure(const struct verify_failure *f, void *arg)
{
	(void)arg;
	if (!f->reason || !f->reason[0])
		abort(); /* every failure has a reason */
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct verify_hooks h = {.failure = on_failure};
	struct verify_counts c;
	struct err e = {{0}};
	FILE *f;
	int ret;

	if (!path[0]) {
		int fd;

		snprintf(path, sizeof path, "/tmp/strata-fuzz-audit-XXXXXX");
		if ((fd = mkstemp(path)) < 0)
			abort();
		close(fd);
		atexit(cleanup);
		scratch_public(SCRATCH_ROOT, root);
	}
	if (!(f = fopen(path, "wb")) || (n && fwrite(d, 1, n, f) != n) || fclose(f) != 0)
		abort();
	ret = audit_bundle(path, root, &c, &h, &e);
	if (ret == 0 && c.failures)
		abort();
	if (ret < 0 && ret != -EBADMSG && !e.msg[0])
		abort();
	if (ret == -EBADMSG && !c.failures)
		abort(); /* a failed audit counts its failures (the CLI prints the count) */
	return 0;
}
