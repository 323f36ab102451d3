/* SPDX-License-Identifier: MIT */
/*
 * node_cli_race: writers at the same time, through the real binary, truly
 * concurrently (both started, then both waited for). The rule an import
 * checks ("already present with the same values: skip; with other values:
 * refuse") must hold under any interleaving: two imports of the same file
 * store each member once, two imports of conflicting files store one of
 * them and refuse the other, never a silent overwrite.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run.h"

extern char **environ;

#define ROUNDS 4
#define ROWS 3000

static void setup(void)
{
	test_tmp_make();
}

TestSuite(node_cli_race, .init = setup, .fini = test_tmp_remove);

struct job {
	pid_t pid;
	char out[256], err[256];
	int status;
	char *out_text, *err_text;
};

static char *slurp(const char *path)
{
	enum { CAP = 1 << 20 };
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, CAP);
	size_t n;

	cr_assert(f && buf, "cannot read %s", path);
	n = fread(buf, 1, CAP - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Starts `strata member import -d DIR CSV`, output to files named by tag. */
static void start_import(struct job *j, const char *dir, const char *csv, const char *tag)
{
	char *argv[] = {(char *)strata_path(), "member", "import", "-d", (char *)dir, (char *)csv, NULL};
	posix_spawn_file_actions_t fa;
	char name[64];
	int rc;

	snprintf(name, sizeof name, "%s.out", tag);
	tmp_path(j->out, name);
	snprintf(name, sizeof name, "%s.err", tag);
	tmp_path(j->err, name);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, j->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, j->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	rc = posix_spawn(&j->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "cannot start strata: %s", strerror(rc));
}

static void finish(struct job *j)
{
	int st;

	cr_assert_eq(waitpid(j->pid, &st, 0), j->pid);
	j->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	j->out_text = slurp(j->out);
	j->err_text = slurp(j->err);
}

static void job_free(struct job *j)
{
	free(j->out_text);
	free(j->err_text);
}

/* A fresh node for each round. */
static void fresh_node(char dir[256], int round)
{
	char name[32];
	struct run r;

	snprintf(name, sizeof name, "node%d", round);
	tmp_path(dir, name);
	run_strata(&r, "init", "-d", dir, "--name", "xiamen/huli", NULL);
	cr_assert_eq(r.status, 0, "init: %s", r.err);
	run_free(&r);
}

static size_t ops_in_log(const char *dir)
{
	size_t ops[64], n = node_log_len(dir, ops, 64), sum = 0;

	cr_assert(n <= 64);
	for (size_t i = 0; i < n; i++)
		sum += ops[i];
	return sum;
}

/* The name member list --json shows for id. */
static char *member_name(const char *dir, const char *id)
{
	struct run r;
	json_t *j, *m;
	size_t i;
	char *name = NULL;

	run_strata(&r, "member", "list", "-d", dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	json_array_foreach(j, i, m)
		if (strcmp(json_string_value(json_object_get(m, "id")), id) == 0)
			name = strdup(json_string_value(json_object_get(m, "name")));
	json_decref(j);
	run_free(&r);
	cr_assert(name, "no member %s", id);
	return name;
}

/* The name of id in a generated CSV. */
static char *csv_name(const char *csv, const char *id)
{
	char *text = slurp(csv), *p = strstr(text, id), *end, *name;

	cr_assert(p, "%s not in %s", id, csv);
	p += strlen(id) + 1;
	end = strchr(p, ',');
	name = strndup(p, (size_t)(end - p));
	free(text);
	return name;
}

Test(node_cli_race, same_file_twice_at_once_stores_each_member_once)
{
	char csv[256], dir[256];

	gen_members(tmp_path(csv, "m.csv"), ROWS, 5);
	for (int round = 0; round < ROUNDS; round++) {
		struct job a, b;

		fresh_node(dir, round);
		start_import(&a, dir, csv, "a");
		start_import(&b, dir, csv, "b");
		finish(&a);
		finish(&b);
		/* both succeed: one imports, the other finds everything present */
		cr_assert_eq(a.status, 0, "round %d: a exit %d: %s", round, a.status, a.err_text);
		cr_assert_eq(b.status, 0, "round %d: b exit %d: %s", round, b.status, b.err_text);
		cr_assert((has(a.out_text, "imported 3000 members") && has(b.out_text, "3000 already present")) ||
				  (has(b.out_text, "imported 3000 members") && has(a.out_text, "3000 already present")),
			  "round %d: a: %s b: %s", round, a.out_text, b.out_text);
		cr_assert_eq(ops_in_log(dir), ROWS, "round %d: every member once in the feed", round);
		cr_assert_eq(node_member_count(dir), ROWS);
		cr_assert_eq(node_verify(dir), 0);
		job_free(&a);
		job_free(&b);
	}
}

Test(node_cli_race, conflicting_files_at_once_one_wins_the_other_is_refused)
{
	char csv_a[256], csv_b[256], dir[256];

	gen_members(tmp_path(csv_a, "a.csv"), ROWS, 5);
	gen_members(tmp_path(csv_b, "b.csv"), ROWS, 6); /* the same ids, other values */
	for (int round = 0; round < ROUNDS; round++) {
		struct job a, b;
		char *name, *want;

		fresh_node(dir, round);
		start_import(&a, dir, csv_a, "a");
		start_import(&b, dir, csv_b, "b");
		finish(&a);
		finish(&b);
		cr_assert((a.status == 0) != (b.status == 0), "round %d: exactly one succeeds: a %d (%s) b %d (%s)", round,
			  a.status, a.err_text, b.status, b.err_text);
		struct job *won = a.status == 0 ? &a : &b, *lost = a.status == 0 ? &b : &a;

		cr_assert_eq(lost->status, 2, "round %d: %s", round, lost->err_text);
		cr_assert(has(lost->err_text, "already exists with other values"), "round %d: %s", round, lost->err_text);
		cr_assert(has(lost->err_text, "nothing imported"), "round %d: %s", round, lost->err_text);
		cr_assert(has(won->out_text, "imported 3000 members"), "%s", won->out_text);
		cr_assert_eq(ops_in_log(dir), ROWS, "round %d: one file's members, once", round);
		/* the stored values are the winner's, first row and last */
		for (int k = 0; k < 2; k++) {
			const char *id = k ? "M003000" : "M000001";

			name = member_name(dir, id);
			want = csv_name(won == &a ? csv_a : csv_b, id);
			cr_assert_str_eq(name, want, "round %d: %s", round, id);
			free(name);
			free(want);
		}
		job_free(&a);
		job_free(&b);
	}
}
