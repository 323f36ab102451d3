/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the node CLI tests (see run.h): processes are started
 * with posix_spawn, never through a shell, and both output pipes are
 * drained together with poll so that a chatty child cannot block on a full
 * pipe while we wait on the other one.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "run.h"
#include "testproc.h"

extern char **environ;

#define MAX_ARGS SPAWN_MAX_ARGS

char test_tmp[64];
char test_node[96];

void test_tmp_make(void)
{
	strcpy(test_tmp, "/tmp/strata-node-XXXXXX");
	cr_assert_not_null(mkdtemp(test_tmp), "mkdtemp: %s", strerror(errno));
	snprintf(test_node, sizeof test_node, "%s/node", test_tmp);
	/* every run passes -d; a STRATA_DIR from outside must not matter */
	unsetenv("STRATA_DIR");
	unsetenv("STRATA_MAP_SIZE");
}

void test_tmp_remove(void)
{
	if (test_tmp[0])
		spawn_remove_tree(test_tmp);
	test_tmp[0] = '\0';
}

const char *strata_path(void)
{
	static char p[4096];

	return spawn_build_path(p, sizeof p, "node/strata");
}

const char *gen_path(void)
{
	static char p[4096];

	return spawn_build_path(p, sizeof p, "bench/strata-gen-members");
}

void run_argv(struct run *r, const char *out_file, char *const argv[])
{
	struct spawn_result sr;

	spawn_run(&sr, out_file, argv, 0);
	r->status = sr.status;
	r->out = sr.out;
	r->err = sr.err;
	r->out_len = sr.out_len;
	r->err_len = sr.err_len;
}

/* Builds argv = {strata, arg, ...} from a NULL-terminated va_list. */
static void strata_argv(char **argv, const char *arg, va_list ap)
{
	spawn_argv(argv, strata_path(), arg, ap);
}

void run_strata(struct run *r, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;

	va_start(ap, arg);
	strata_argv(argv, arg, ap);
	va_end(ap);
	run_argv(r, NULL, argv);
}

pid_t run_strata_bg(const char *arg, ...)
{
	char *argv[MAX_ARGS];
	posix_spawn_file_actions_t fa;
	va_list ap;
	pid_t pid;
	int rc;

	va_start(ap, arg);
	strata_argv(argv, arg, ap);
	va_end(ap);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "cannot start %s: %s", argv[0], strerror(rc));
	return pid;
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

json_t *run_json(const struct run *r)
{
	json_error_t je;
	json_t *j = json_loadb(r->out, r->out_len, 0, &je);

	cr_assert_not_null(j, "stdout is not JSON (%s, line %d): %s\nstderr: %s", je.text, je.line, r->out, r->err);
	return j;
}

bool has(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

const char *tmp_path(char out[256], const char *name)
{
	snprintf(out, 256, "%s/%s", test_tmp, name);
	return out;
}

void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "cannot create %s: %s", path, strerror(errno));
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

void write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s));
}

void node_init(const char *name)
{
	struct run r;

	run_strata(&r, "init", "-d", test_node, "--name", name, NULL);
	cr_assert_eq(r.status, 0, "init: exit %d: %s", r.status, r.err);
	run_free(&r);
}

void node_key(const char *dir, char hex[65], uint8_t key[32])
{
	struct run r;
	json_t *j;
	const char *k;

	run_strata(&r, "id", "-d", dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "id: exit %d: %s", r.status, r.err);
	j = run_json(&r);
	k = json_string_value(json_object_get(j, "key"));
	cr_assert(k && strlen(k) == 64, "id --json has no 64-hex key: %s", r.out);
	memcpy(hex, k, 65);
	if (key)
		cr_assert_eq(hex_decode(key, 32, k), 0, "key %s is not hex", k);
	json_decref(j);
	run_free(&r);
}

void node_set_ops_per_changeset(const char *dir, unsigned n)
{
	char path[512], text[128];

	snprintf(path, sizeof path, "%s/strata.conf", dir);
	snprintf(text, sizeof text, "[write]\nops_per_changeset = %u\n", n);
	write_str(path, text);
}

size_t node_log_len(const char *dir, size_t *ops, size_t max)
{
	struct run r;
	json_t *j;
	size_t n;

	run_strata(&r, "log", "-d", dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "log: exit %d: %s", r.status, r.err);
	j = run_json(&r);
	cr_assert(json_is_array(j), "log --json is not an array: %s", r.out);
	n = json_array_size(j);
	for (size_t i = 0; ops && i < n && i < max; i++)
		ops[i] = json_array_size(json_object_get(json_array_get(j, i), "ops"));
	json_decref(j);
	run_free(&r);
	return n;
}

size_t node_member_count(const char *dir)
{
	struct run r;
	json_t *j;
	size_t n;

	run_strata(&r, "member", "list", "-d", dir, "--json", NULL);
	cr_assert_eq(r.status, 0, "member list: exit %d: %s", r.status, r.err);
	j = run_json(&r);
	cr_assert(json_is_array(j), "member list --json is not an array");
	n = json_array_size(j);
	json_decref(j);
	run_free(&r);
	return n;
}

int node_verify(const char *dir)
{
	struct run r;
	int st;

	run_strata(&r, "verify", "-d", dir, NULL);
	st = r.status;
	run_free(&r);
	return st;
}

void gen_members(const char *path, unsigned long n, unsigned long seed)
{
	char count[32], s[32];
	char *argv[] = {(char *)gen_path(), "--count", count, "--seed", s, NULL};
	struct run r;

	snprintf(count, sizeof count, "%lu", n);
	snprintf(s, sizeof s, "%lu", seed);
	run_argv(&r, path, argv);
	cr_assert_eq(r.status, 0, "strata-gen-members: exit %d: %s", r.status, r.err);
	run_free(&r);
}
