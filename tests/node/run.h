/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the node CLI tests: a fresh temporary directory per
 * test, running the real `strata` binary (and the member generator) without
 * a shell while capturing its output, and small readers of what it prints
 * (JSON through jansson) and of the node directory it manages.
 */
#ifndef STRATA_TEST_NODE_RUN_H
#define STRATA_TEST_NODE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* One finished run. out and err are NUL-terminated and owned by the
 * struct (run_free). status is the exit code, or 128 + the signal. */
struct run {
	int status;
	char *out, *err;
	size_t out_len, err_len;
};

/* The test's temporary directory (/tmp/strata-node-XXXXXX) and, inside it,
 * the node directory the tests init ("<tmp>/node"). */
extern char test_tmp[64];
extern char test_node[96];

/* Fixture: makes test_tmp / removes it and everything below it. */
void test_tmp_make(void);
void test_tmp_remove(void);

/* Paths of the binaries under test ($STRATA_TEST_BUILDDIR). */
const char *strata_path(void);
const char *gen_path(void);

/* Runs argv (argv[0] is a path, no PATH search), stdin from /dev/null.
 * If out_file is not NULL stdout goes there (created 0644), else it is
 * captured. Asserts that the process could be started. */
void run_argv(struct run *r, const char *out_file, char *const argv[]);

/* Runs strata with the given arguments (NULL-terminated). */
void run_strata(struct run *r, const char *arg, ...) __attribute__((sentinel));

/* Frees the buffers of r (NULL-safe, idempotent). */
void run_free(struct run *r);

/* Starts strata with args (NULL-terminated) in the background, stdout and
 * stderr to /dev/null; returns its pid. */
pid_t run_strata_bg(const char *arg, ...) __attribute__((sentinel));

/* Parses r->out as JSON, asserting it parses; caller decrefs. */
json_t *run_json(const struct run *r);

/* Does s contain needle? (for messages in assertions: strstr != NULL) */
bool has(const char *s, const char *needle);

/* "<test_tmp>/name" into out (static-size buffer of 256). */
const char *tmp_path(char out[256], const char *name);

/* Writes len bytes to path (asserting), truncating. */
void write_file(const char *path, const void *data, size_t len);
void write_str(const char *path, const char *s);

/* Runs `strata init -d test_node --name NAME`, asserting exit 0. */
void node_init(const char *name);

/* The node key of DIR as 64 hex characters (strata id --json) and bytes. */
void node_key(const char *dir, char hex[65], uint8_t key[32]);

/* Rewrites DIR/strata.conf with [write] ops_per_changeset = n. */
void node_set_ops_per_changeset(const char *dir, unsigned n);

/* Number of entries `strata log --json` prints for DIR (asserting exit 0),
 * and the ops count of each in ops (may be NULL; up to max). */
size_t node_log_len(const char *dir, size_t *ops, size_t max);

/* Number of members `strata member list --json` prints (asserting exit 0). */
size_t node_member_count(const char *dir);

/* `strata verify -d DIR`: its exit status (output dropped). */
int node_verify(const char *dir);

/* Writes N generated members (seed, prefix "M") to path. */
void gen_members(const char *path, unsigned long n, unsigned long seed);

#endif
