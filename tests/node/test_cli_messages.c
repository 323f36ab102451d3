/* SPDX-License-Identifier: MIT */
/*
 * node_cli_messages: messages name the real cause and exit codes follow the
 * README (issue 12, item 9): a node directory another user owns and a store
 * the user cannot write are system errors (exit 4) saying "Permission
 * denied", not "no Strata node" or a rejected input (exit 2); an erase names
 * what it erased. As root (who reads everything), the permission cases run
 * strata as the user nobody through setpriv.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

TestSuite(node_cli_messages, .init = test_tmp_make, .fini = test_tmp_remove);

#define NOBODY "65534"
#define SETPRIV "/usr/bin/setpriv"

/* Runs strata with args as a user other than the node's owner: as root,
 * as nobody; otherwise as this user, for whom the test took the rights
 * away. */
static void run_other(struct run *r, const char *arg, ...) __attribute__((sentinel));
static void run_other(struct run *r, const char *arg, ...)
{
	char *argv[24];
	size_t n = 0;
	va_list ap;

	if (geteuid() == 0) {
		argv[n++] = SETPRIV;
		argv[n++] = "--reuid=" NOBODY;
		argv[n++] = "--regid=" NOBODY;
		argv[n++] = "--clear-groups";
	}
	argv[n++] = (char *)strata_path();
	va_start(ap, arg);
	for (const char *a = arg; a && n < sizeof argv / sizeof argv[0] - 1; a = va_arg(ap, const char *))
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	run_argv(r, NULL, argv);
}

static void skip_without_setpriv(void)
{
	if (geteuid() == 0 && access(SETPRIV, X_OK) != 0)
		cr_skip_test("running as root without %s: cannot act as another user", SETPRIV);
}

Test(node_cli_messages, another_users_node_is_a_permission_error_not_no_node)
{
	struct run r;

	skip_without_setpriv();
	node_init("xiamen/huli");
	cr_assert_eq(chmod(test_tmp, 0755), 0);
	if (geteuid() != 0)
		cr_assert_eq(chmod(test_node, 0), 0);
	else
		cr_assert_eq(chmod(test_node, 0700), 0);
	run_other(&r, "status", "-d", test_node, NULL);
	if (geteuid() != 0)
		chmod(test_node, 0700);
	cr_assert_eq(r.status, 4, "exit %d (expected 4, a system error): %s", r.status, r.err);
	cr_assert(has(r.err, "Permission denied") && !has(r.err, "no Strata node"), "%s", r.err);
	run_free(&r);
}

Test(node_cli_messages, store_the_user_cannot_write_is_a_system_error)
{
	char p[512];
	struct run r;

	skip_without_setpriv();
	node_init("xiamen/huli");
	cr_assert_eq(chmod(test_tmp, 0755), 0);
	if (geteuid() == 0) /* the node is nobody's, its store read-only even to nobody */
		for (const char *const *f = (const char *const[]){"", "/node.key", "/strata.conf", "/store",
								   "/store/data.mdb", "/store/lock.mdb", NULL};
		     *f; f++) {
			snprintf(p, sizeof p, "%s%s", test_node, *f);
			cr_assert_eq(chown(p, 65534, 65534), 0, "chown %s", p);
		}
	snprintf(p, sizeof p, "%s/store/data.mdb", test_node);
	cr_assert_eq(chmod(p, 0400), 0);
	run_other(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Wang", "--category", "full", "--joined",
		  "2020-01-01", NULL);
	cr_assert_eq(r.status, 4, "exit %d (expected 4, a system error): %s", r.status, r.err);
	cr_assert(has(r.err, "Permission denied"), "%s", r.err);
	run_free(&r);
	chmod(p, 0600);
}

Test(node_cli_messages, erase_names_what_it_erased)
{
	struct run r;

	node_init("xiamen/huli");
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Wang", "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "member add: %s", r.err);
	run_free(&r);
	run_strata(&r, "erase", "-d", test_node, "--collection", "member", "--key", "M1", NULL);
	cr_assert_eq(r.status, 0, "erase: exit %d: %s", r.status, r.err);
	cr_assert(has(r.out, "erased member M1") && !has(r.out, "(null)"), "erase said: %s", r.out);
	run_free(&r);
	run_strata(&r, "erase", "-d", test_node, "--collection", "member", "--key", "M1", NULL);
	cr_assert(r.status == 2 && has(r.err, "member M1 is erased already"), "second erase: exit %d: %s", r.status,
		  r.err);
	run_free(&r);
}

/* Files the user may not read or write, named on the command line: the
 * same system error (exit 4), not a rejected input (exit 2). */
Test(node_cli_messages, unreadable_or_unwritable_files_are_system_errors)
{
	char csv[256], out[300], locked[256];
	struct run r;

	skip_without_setpriv();
	cr_assert_eq(chmod(test_tmp, 0777), 0);
	run_other(&r, "init", "-d", test_node, "--name", "xiamen/huli", NULL); /* the other user's own node */
	cr_assert_eq(r.status, 0, "init: exit %d: %s", r.status, r.err);
	run_free(&r);
	write_str(tmp_path(csv, "members.csv"), "id,name,category,joined\nM1,Wang,full,2020-01-01\n");
	cr_assert_eq(chmod(csv, geteuid() == 0 ? 0600 : 0), 0);
	run_other(&r, "member", "import", "-d", test_node, csv, NULL);
	cr_assert(r.status == 4 && has(r.err, "Permission denied"), "import of an unreadable file: exit %d: %s", r.status,
		  r.err);
	run_free(&r);
	cr_assert_eq(mkdir(tmp_path(locked, "locked"), 0700), 0);
	if (geteuid() != 0)
		cr_assert_eq(chmod(locked, 0500), 0);
	snprintf(out, sizeof out, "%s/x.bundle", locked);
	run_other(&r, "export", "-d", test_node, "-o", out, NULL);
	cr_assert(r.status == 4 && has(r.err, "Permission denied"), "export into a folder it may not write: exit %d: %s",
		  r.status, r.err);
	run_free(&r);
	chmod(locked, 0700);
	chmod(csv, 0600);
}
