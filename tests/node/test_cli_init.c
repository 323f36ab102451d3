/* SPDX-License-Identifier: MIT */
/*
 * node_cli_init: `strata init` and `strata id` through the real binary, and
 * what every command shares: --help, usage errors (exit 1), a directory
 * without a node (exit 4), strata.conf errors, STRATA_DIR.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"

TestSuite(node_cli_init, .init = test_tmp_make, .fini = test_tmp_remove);

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	cr_assert_not_null(f, "cannot open %s", path);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

Test(node_cli_init, creates_key_config_and_store)
{
	char p[512];
	struct stat sb;
	struct run r;
	json_t *j;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen/huli/hetong", "--json", NULL);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	j = run_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "xiamen/huli/hetong");
	cr_assert(is_hex64(json_string_value(json_object_get(j, "key"))), "key: %s", r.out);
	cr_assert(json_is_false(json_object_get(j, "root")));
	json_decref(j);
	run_free(&r);

	snprintf(p, sizeof p, "%s/node.key", test_node);
	cr_assert_eq(stat(p, &sb), 0, "no node.key");
	cr_assert(S_ISREG(sb.st_mode));
	cr_assert_eq(sb.st_mode & 07777, 0600, "node.key has mode %o", sb.st_mode & 07777);
	snprintf(p, sizeof p, "%s/strata.conf", test_node);
	cr_assert_eq(stat(p, &sb), 0, "no strata.conf");
	cr_assert(S_ISREG(sb.st_mode));
	snprintf(p, sizeof p, "%s/store", test_node);
	cr_assert_eq(stat(p, &sb), 0, "no store/");
	cr_assert(S_ISDIR(sb.st_mode));
	snprintf(p, sizeof p, "%s/store/data.mdb", test_node);
	cr_assert_eq(stat(p, &sb), 0, "no store/data.mdb");

	/* a fresh node has an empty log and verifies */
	cr_assert_eq(node_log_len(test_node, NULL, 0), 0);
	cr_assert_eq(node_member_count(test_node), 0);
	cr_assert_eq(node_verify(test_node), 0);
}

Test(node_cli_init, root_flag_sets_root_to_own_key)
{
	struct run r;
	json_t *j;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen", "--root", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "id", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "root")), json_string_value(json_object_get(j, "key")));
	json_decref(j);
	run_free(&r);
}

Test(node_cli_init, id_text_and_json_print_the_same_key)
{
	char hex[65], line[80];
	struct run r;
	json_t *j;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen/huli", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	node_key(test_node, hex, NULL);
	cr_assert(is_hex64(hex), "key %s", hex);

	run_strata(&r, "id", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(line, sizeof line, "key:  %s\n", hex);
	cr_assert(has(r.out, line), "text id does not print %s: %s", hex, r.out);
	cr_assert(has(r.out, "name: xiamen/huli\n"), "%s", r.out);
	cr_assert(has(r.out, "root: none yet"), "%s", r.out);
	run_free(&r);

	run_strata(&r, "id", "-d", test_node, "--json", NULL);
	j = run_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "xiamen/huli");
	cr_assert(json_is_null(json_object_get(j, "root")));
	json_decref(j);
	run_free(&r);
}

Test(node_cli_init, init_twice_fails_and_keeps_the_first_node)
{
	char hex1[65], hex2[65], p[512], key1[256], key2[256];
	size_t n1, n2;
	struct run r;

	node_init("first");
	node_key(test_node, hex1, NULL);
	snprintf(p, sizeof p, "%s/node.key", test_node);
	n1 = read_file(p, key1, sizeof key1);
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Wang", "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);

	run_strata(&r, "init", "-d", test_node, "--name", "second", NULL);
	cr_assert_eq(r.status, 2, "second init: exit %d", r.status);
	cr_assert(has(r.err, "already holds a Strata node"), "%s", r.err);
	run_free(&r);

	n2 = read_file(p, key2, sizeof key2);
	cr_assert(n1 == n2 && memcmp(key1, key2, n1) == 0, "node.key changed");
	node_key(test_node, hex2, NULL);
	cr_assert_str_eq(hex1, hex2);
	run_strata(&r, "id", "-d", test_node, NULL);
	cr_assert(has(r.out, "name: first\n"), "%s", r.out);
	run_free(&r);
	cr_assert_eq(node_member_count(test_node), 1);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);
	cr_assert_eq(node_verify(test_node), 0);

	/* the first node can still write: its key still matches its store */
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M2", "--name", "Li", "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
}

Test(node_cli_init, bad_names_are_rejected_and_leave_nothing)
{
	static const char *const bad[] = {"Xiamen", "xiamen/Huli", "a//b", "/a", "a/", "", "a b", "a.b", "a/b/"};
	char p[512];
	struct run r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		run_strata(&r, "init", "-d", test_node, "--name", bad[i], NULL);
		cr_assert_eq(r.status, 2, "--name \"%s\": exit %d: %s", bad[i], r.status, r.err);
		cr_assert(has(r.err, "is not valid"), "--name \"%s\": %s", bad[i], r.err);
		run_free(&r);
		snprintf(p, sizeof p, "%s/node.key", test_node);
		cr_assert_neq(access(p, F_OK), 0, "--name \"%s\" left node.key behind", bad[i]);
		snprintf(p, sizeof p, "%s/store", test_node);
		cr_assert_neq(access(p, F_OK), 0, "--name \"%s\" left store/ behind", bad[i]);
	}
	/* and a valid one of the longest length works */
	char longest[256];
	memset(longest, 'a', 255);
	longest[255] = '\0';
	longest[100] = '/';
	run_strata(&r, "init", "-d", test_node, "--name", longest, NULL);
	cr_assert_eq(r.status, 0, "255-byte name: %s", r.err);
	run_free(&r);
}

Test(node_cli_init, name_too_long_is_rejected)
{
	char name[257];
	struct run r;

	memset(name, 'a', 256);
	name[256] = '\0';
	run_strata(&r, "init", "-d", test_node, "--name", name, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	run_free(&r);
}

Test(node_cli_init, missing_name_is_a_usage_error)
{
	struct run r;

	run_strata(&r, "init", "-d", test_node, NULL);
	cr_assert_eq(r.status, 1, "exit %d", r.status);
	cr_assert(has(r.err, "--name"), "%s", r.err);
	cr_assert(has(r.err, "--help"), "%s", r.err);
	run_free(&r);
	cr_assert_neq(access(test_node, F_OK), 0, "a node dir was created");
}

Test(node_cli_init, every_command_has_help)
{
	static const char *const cmds[][3] = {
		{"--help"},           {"help"},           {"help", "member"},  {"init", "--help"},
		{"id", "--help"},     {"log", "--help"},  {"verify", "--help"}, {"member", "--help"},
		{"member", "add", "--help"},  {"member", "update", "--help"}, {"member", "import", "--help"},
		{"member", "list", "--help"}, {"member", "show", "--help"},
	};
	struct run r;

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *argv[5] = {(char *)strata_path()};
		size_t n = 1;

		for (size_t k = 0; k < 3 && cmds[i][k]; k++)
			argv[n++] = (char *)cmds[i][k];
		argv[n] = NULL;
		/* no node anywhere: help must not need one */
		run_argv(&r, NULL, argv);
		cr_assert_eq(r.status, 0, "%s %s: exit %d: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "", r.status,
			     r.err);
		cr_assert(has(r.out, "usage:"), "%s %s: no usage: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
			  r.out);
		run_free(&r);
	}
	run_strata(&r, "--version", NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(has(r.out, "strata "), "%s", r.out);
	run_free(&r);
}

Test(node_cli_init, usage_errors_exit_1)
{
	static const char *const cmds[][4] = {
		{"init", "--bogus"},
		{"id", "--bogus"},
		{"log", "--bogus"},
		{"verify", "--bogus"},
		{"member", "add", "--bogus"},
		{"member", "update", "--bogus"},
		{"member", "import", "--bogus"},
		{"member", "list", "--bogus"},
		{"member", "show", "--bogus"},
		{"id", "extra"},
		{"verify", "extra"},
		{"member", "nosuch"},
		{"member"},
		{"nosuch"},
		{"member", "import"},
		{"member", "import", "a.csv", "b.csv"},
		{"member", "show"},
		{"member", "update", "--id", "M1"},
		{"member", "add", "--id", "M1"},
		{"member", "list", "--status", "bogus"},
		{"member", "list", "--category", "bogus"},
	};
	struct run r;
	char *none[] = {(char *)strata_path(), NULL};

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *argv[8] = {(char *)strata_path()};
		size_t n = 1;

		for (size_t k = 0; k < 4 && cmds[i][k]; k++)
			argv[n++] = (char *)cmds[i][k];
		argv[n++] = "-d";
		argv[n++] = test_tmp;
		argv[n] = NULL;
		run_argv(&r, NULL, argv);
		cr_assert_eq(r.status, 1, "%s %s %s: exit %d: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
			     cmds[i][1] && cmds[i][2] ? cmds[i][2] : "", r.status, r.err);
		cr_assert(has(r.err, "strata"), "no message: %s", r.err);
		cr_assert_eq(r.out_len, 0, "usage error printed to stdout: %s", r.out);
		run_free(&r);
	}
	run_argv(&r, NULL, none);
	cr_assert_eq(r.status, 1);
	cr_assert(has(r.err, "usage:"), "%s", r.err);
	run_free(&r);
}

Test(node_cli_init, no_node_is_a_system_error)
{
	char csv[256];
	static const char *const cmds[][10] = {
		{"id"},
		{"log"},
		{"verify"},
		{"member", "list"},
		{"member", "show", "--id", "M1"},
		{"member", "add", "--id", "M1", "--name", "Wang", "--category", "full", "--joined", "2020-01-01"},
		{"member", "update", "--id", "M1", "--name", "Li"},
		{"member", "import", NULL},
	};
	struct run r;

	tmp_path(csv, "m.csv");
	write_str(csv, "id,name,category,joined\nM1,Wang,full,2020-01-01\n");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *argv[16] = {(char *)strata_path()};
		size_t n = 1;

		for (size_t k = 0; k < 10 && cmds[i][k]; k++)
			argv[n++] = (char *)cmds[i][k];
		if (!strcmp(cmds[i][0], "member") && !strcmp(cmds[i][1], "import"))
			argv[n++] = csv;
		argv[n++] = "-d";
		argv[n++] = test_tmp;
		argv[n] = NULL;
		run_argv(&r, NULL, argv);
		cr_assert_eq(r.status, 4, "%s %s: exit %d: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "", r.status,
			     r.err);
		cr_assert(has(r.err, "no Strata node"), "%s %s: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
			  r.err);
		run_free(&r);
	}
	/* nothing was created by trying */
	cr_assert_neq(access(test_node, F_OK), 0);
	char p[512];
	snprintf(p, sizeof p, "%s/store", test_tmp);
	cr_assert_neq(access(p, F_OK), 0, "a command created store/ in a dir without a node");
}

Test(node_cli_init, strata_dir_is_the_default_dir)
{
	char hex[65];
	struct run r;

	node_init("envdir");
	node_key(test_node, hex, NULL);
	cr_assert_eq(setenv("STRATA_DIR", test_node, 1), 0);
	run_strata(&r, "id", "--json", NULL);
	unsetenv("STRATA_DIR");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, hex), "%s", r.out);
	run_free(&r);
}

Test(node_cli_init, bad_config_is_rejected_with_its_line)
{
	char p[512];
	struct run r;

	node_init("conf");
	snprintf(p, sizeof p, "%s/strata.conf", test_node);
	write_str(p, "[write]\nops_per_changeset = 100\nops_per_changset = 5\n");
	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "strata.conf:3"), "%s", r.err);
	cr_assert(has(r.err, "unknown setting"), "%s", r.err);
	run_free(&r);

	write_str(p, "[write]\nops_per_changeset = 0\n");
	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "strata.conf:2"), "%s", r.err);
	cr_assert(has(r.err, "ops_per_changeset"), "%s", r.err);
	run_free(&r);

	/* the first error is the line that is no INI, not the setting after it */
	write_str(p, "garbage\n[node]\ncolour = blue\n");
	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "strata.conf:1: not an INI line"), "%s", r.err);
	run_free(&r);

	write_str(p, "[write]\nops_per_changeset = 10000\n");
	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	run_free(&r);
}

static void add_member(struct run *r, const char *id)
{
	run_strata(r, "member", "add", "-d", test_node, "--id", id, "--name", "Wang", "--category", "full", "--joined",
		   "2020-01-01", NULL);
}

/* Reading needs no key; writing refuses a missing key, another node's key
 * and a key file others can read, and writes nothing. */
Test(node_cli_init, key_file_problems_refuse_writes_only)
{
	char key[512], moved[512], other[512];
	struct run r;

	node_init("keys");
	add_member(&r, "M1");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	snprintf(key, sizeof key, "%s/node.key", test_node);
	snprintf(moved, sizeof moved, "%s/node.key.saved", test_tmp);
	cr_assert_eq(rename(key, moved), 0);

	add_member(&r, "M2");
	cr_assert_eq(r.status, 4, "missing key: exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "node.key"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_member_count(test_node), 1);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);
	cr_assert_eq(node_verify(test_node), 0);
	run_strata(&r, "member", "show", "-d", test_node, "--id", "M1", NULL);
	cr_assert_eq(r.status, 0, "show without a key: %s", r.err);
	run_free(&r);
	run_strata(&r, "id", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "id without a key: %s", r.err);
	run_free(&r);

	/* another node's key */
	snprintf(other, sizeof other, "%s/other", test_tmp);
	run_strata(&r, "init", "-d", other, "--name", "other", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	snprintf(other, sizeof other, "%s/other/node.key", test_tmp);
	cr_assert_eq(rename(other, key), 0);
	add_member(&r, "M2");
	cr_assert_neq(r.status, 0, "a foreign key wrote");
	cr_assert(has(r.err, "does not hold the key"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);

	/* the node's own key, readable by others */
	cr_assert_eq(rename(moved, key), 0);
	cr_assert_eq(chmod(key, 0644), 0);
	add_member(&r, "M2");
	cr_assert_neq(r.status, 0, "a key file of mode 0644 was used");
	cr_assert(has(r.err, "chmod 600"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_log_len(test_node, NULL, 0), 1);

	cr_assert_eq(chmod(key, 0600), 0);
	add_member(&r, "M2");
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	cr_assert_eq(node_verify(test_node), 0);
}

Test(node_cli_init, truncated_store_is_a_system_error)
{
	char csv[256], data[512];
	struct run r;

	node_init("trunc");
	gen_members(tmp_path(csv, "m.csv"), 2000, 1);
	run_strata(&r, "member", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	snprintf(data, sizeof data, "%s/store/data.mdb", test_node);
	cr_assert_eq(truncate(data, 8192), 0);
	run_strata(&r, "verify", "-d", test_node, NULL);
	cr_assert_eq(r.status, 4, "verify: exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "truncated"), "%s", r.err);
	run_free(&r);
	run_strata(&r, "member", "list", "-d", test_node, NULL);
	cr_assert_eq(r.status, 4, "list: exit %d: %s", r.status, r.err);
	run_free(&r);
	add_member(&r, "X1");
	cr_assert_eq(r.status, 4, "add: exit %d: %s", r.status, r.err);
	run_free(&r);
}
