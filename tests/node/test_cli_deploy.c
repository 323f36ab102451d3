/* SPDX-License-Identifier: MIT */
/*
 * node_cli_deploy: the documented install steps (deploy/systemd/strata@.service,
 * docs/OPERATIONS.md) work as written, and the unit stays locked down
 * (issue 12, item 11): `strata init` makes the folders above the node
 * directory, and `systemd-analyze security --offline=yes` rates the unit 2.0
 * or lower. The systemd checks are skipped where systemd-analyze is missing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

TestSuite(node_cli_deploy, .init = test_tmp_make, .fini = test_tmp_remove);

#define SYSTEMD_ANALYZE "/usr/bin/systemd-analyze"
#define EXPOSURE_MAX 2.0

Test(node_cli_deploy, init_makes_the_folders_above_the_node)
{
	char dir[256], p[300];
	struct stat st;
	struct run r;

	snprintf(dir, sizeof dir, "%s/var/lib/strata/huli", test_tmp);
	run_strata(&r, "init", "-d", dir, "--name", "xiamen/huli", NULL);
	cr_assert_eq(r.status, 0, "init in a folder that does not exist yet: exit %d: %s", r.status, r.err);
	run_free(&r);
	snprintf(p, sizeof p, "%s/var/lib/strata", test_tmp);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700, "%s has mode %o", p, st.st_mode & 07777);
	snprintf(p, sizeof p, "%s/node.key", dir);
	cr_assert_eq(stat(p, &st), 0, "no node.key in %s", dir);
	run_strata(&r, "status", "-d", dir, NULL);
	cr_assert_eq(r.status, 0, "status: exit %d: %s", r.status, r.err);
	run_free(&r);
}

static const char *unit_path(char out[512])
{
	const char *src = getenv("STRATA_TEST_SRCDIR");

	cr_assert_not_null(src, "STRATA_TEST_SRCDIR is not set (run through meson test)");
	snprintf(out, 512, "%s/deploy/systemd/strata@.service", src);
	return out;
}

Test(node_cli_deploy, systemd_unit_exposure_is_at_most_2)
{
	char unit[512];
	const char *at;
	double level;
	struct run r;

	if (access(SYSTEMD_ANALYZE, X_OK) != 0)
		cr_skip_test("no %s (package systemd)", SYSTEMD_ANALYZE);
	{
		char *argv[] = {SYSTEMD_ANALYZE, "security", "--offline=yes", (char *)unit_path(unit), NULL};

		run_argv(&r, NULL, argv);
	}
	at = strstr(r.out, "Overall exposure level for");
	cr_assert_not_null(at, "systemd-analyze security said (exit %d): %s%s", r.status, r.out, r.err);
	at = strchr(at, ':');
	cr_assert(at && sscanf(at + 1, "%lf", &level) == 1, "no exposure level in: %s", r.out);
	cr_assert_leq(level, EXPOSURE_MAX, "the unit's exposure is %.1f (%.1f at most):\n%s", level, EXPOSURE_MAX, r.out);
	run_free(&r);
}

/* `systemd-analyze verify` of the unit as an instance, with ExecStart
 * pointing at the binary under test (verify checks that it exists). */
Test(node_cli_deploy, systemd_unit_verifies)
{
	char unit[512], inst[300], *text, *at;
	struct run r;
	FILE *f;

	if (access(SYSTEMD_ANALYZE, X_OK) != 0)
		cr_skip_test("no %s (package systemd)", SYSTEMD_ANALYZE);
	f = fopen(unit_path(unit), "r");
	cr_assert_not_null(f, "cannot open %s", unit);
	text = calloc(1, 1 << 16);
	cr_assert_not_null(text);
	fread(text, 1, (1 << 16) - 1, f);
	fclose(f);
	at = strstr(text, "ExecStart=/usr/local/bin/strata ");
	cr_assert_not_null(at, "the unit runs no /usr/local/bin/strata");
	snprintf(inst, sizeof inst, "%s/strata@huli.service", test_tmp);
	f = fopen(inst, "w");
	cr_assert_not_null(f);
	fprintf(f, "%.*sExecStart=%s %s", (int)(at - text), text, strata_path(),
		at + strlen("ExecStart=/usr/local/bin/strata "));
	fclose(f);
	free(text);
	{
		char *argv[] = {SYSTEMD_ANALYZE, "verify", inst, NULL};

		run_argv(&r, NULL, argv);
	}
	cr_assert_eq(r.status, 0, "systemd-analyze verify: exit %d: %s%s", r.status, r.out, r.err);
	run_free(&r);
}
