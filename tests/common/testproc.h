/* SPDX-License-Identifier: MIT */
/*
 * What every test that runs the real binaries needs: their paths in the
 * build tree, running one without a shell while capturing its output, and
 * removing a test's temporary tree. Used by tests/node (run.h) and
 * tests/sync (net.h), which wrap it in their own fixtures.
 */
#ifndef STRATA_TEST_COMMON_TESTPROC_H
#define STRATA_TEST_COMMON_TESTPROC_H

#include <stdarg.h>
#include <stddef.h>

#define SPAWN_MAX_ARGS 64

/* One finished run: status is the exit code, or 128 + the signal; out and
 * err are NUL-terminated and malloc'd (the caller frees them). */
struct spawn_result {
	int status;
	char *out, *err;
	size_t out_len, err_len;
};

/* "$STRATA_TEST_BUILDDIR/rel" (asserting the variable is set) into buf. */
const char *spawn_build_path(char *buf, size_t cap, const char *rel);

/* Runs argv (argv[0] is a path, no PATH search), stdin from /dev/null;
 * stdout goes to out_file (created 0644) when not NULL, else is captured;
 * stderr is captured. Both pipes are drained together with poll, so a
 * chatty child never blocks on one while we wait on the other. With
 * timeout_ms (0: none) a run that takes longer is killed and fails the
 * test. Asserts that the process could be started. */
void spawn_run(struct spawn_result *r, const char *out_file, char *const argv[], unsigned timeout_ms);

/* The same with stdin read from in_file (NULL: /dev/null). */
void spawn_run_in(struct spawn_result *r, const char *in_file, const char *out_file, char *const argv[],
		  unsigned timeout_ms);

/* A wait status as struct spawn_result.status: the exit code, or 128 + the
 * signal. */
int spawn_status(int st);

/* argv = {prog, arg, ...} from a NULL-terminated va_list (asserting that it
 * fits in SPAWN_MAX_ARGS). */
void spawn_argv(char **argv, const char *prog, const char *arg, va_list ap);

/* Removes path and everything below it (no error if it is missing). */
void spawn_remove_tree(const char *path);

#endif
