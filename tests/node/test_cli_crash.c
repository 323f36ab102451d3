/* SPDX-License-Identifier: MIT */
/*
 * node_cli_crash: `strata member import` killed with SIGKILL in the middle
 * of a bulk write. The writer commits every NODE_OPS_PER_TXN (16,000) ops,
 * here every 160 change sets of 100, so the store must hold whole
 * checkpoints only, verify clean,
 * hold exactly the members of the entries it has, and the same import run
 * again must finish the job.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "node/core/node.h"
#include "run.h"

#define ROWS 60000
#define PER_CS 100
#define CHANGESETS (ROWS / PER_CS)

static pid_t importer; /* the running import, if a failed assertion left one */

static void setup(void)
{
	test_tmp_make();
	node_init("xiamen/huli/hetong");
	node_set_ops_per_changeset(test_node, PER_CS);
}

static void teardown(void)
{
	if (importer > 0) {
		kill(importer, SIGKILL);
		waitpid(importer, NULL, 0);
		importer = 0;
	}
	test_tmp_remove();
}

TestSuite(node_cli_crash, .init = setup, .fini = teardown);

/* The committed head of this node's feed up, as a reader sees it now. */
static uint64_t head_now(struct store *s, const uint8_t key[32])
{
	struct store_txn *t = NULL;
	struct store_head h;
	struct err e = {0};
	int rc;

	cr_assert_eq(store_txn_begin(s, false, &t, &e), 0, "%s", e.msg);
	rc = store_head_get(t, key, FEED_UP, &h, &e);
	cr_assert(rc == 0 || rc == -ENOENT, "store_head_get: %s", e.msg);
	store_txn_abort(&t);
	return rc == 0 ? h.seq : 0;
}

/* Starts the import, waits until the committed head reaches `at`, kills the
 * importer and checks the store; then runs the import again to the end. */
static void kill_import_at(uint64_t at, unsigned long seed)
{
	char csv[256], dir[256], hex[65], want[128];
	uint8_t key[32];
	struct store *s = NULL;
	struct err e = {0};
	struct run r;
	uint64_t seen = 0, head;
	int status = 0;
	pid_t pid;

	gen_members(tmp_path(csv, "m.csv"), ROWS, seed);
	node_key(test_node, hex, key);
	snprintf(dir, sizeof dir, "%s/store", test_node);
	cr_assert_eq(store_open(&s, dir, STORE_RDONLY, &e), 0, "%s", e.msg);

	importer = pid = run_strata_bg("member", "import", "-d", test_node, csv, NULL);
	/* a busy machine must not let the import finish between two polls */
	setpriority(PRIO_PROCESS, (id_t)pid, 5);
	for (;;) {
		struct timespec ts = {0, 200000};

		seen = head_now(s, key);
		if (seen >= at)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid)
			importer = 0;
		cr_assert_eq(importer, pid,
			     "the import ended (status %d) before the head reached #%llu (at #%llu)", status,
			     (unsigned long long)at, (unsigned long long)seen);
		nanosleep(&ts, NULL);
	}
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	importer = 0;
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "the import was not killed mid-way (status %d, head #%llu)", status, (unsigned long long)seen);
	head = head_now(s, key);
	store_close(&s);

	cr_assert_geq(head, seen);
	cr_assert(head % (NODE_OPS_PER_TXN / PER_CS) == 0 || head == CHANGESETS,
		  "head #%llu is not a whole checkpoint", (unsigned long long)head);
	cr_assert_eq(node_verify(test_node), 0, "the store does not verify after the kill at #%llu",
		     (unsigned long long)head);
	cr_assert_eq(node_member_count(test_node), PER_CS * head, "head #%llu", (unsigned long long)head);
	cr_assert_eq(node_log_len(test_node, NULL, 0), head);

	/* the same import again finishes the job */
	run_strata(&r, "member", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 0, "re-import: exit %d: %s", r.status, r.err);
	snprintf(want, sizeof want, "imported %llu members", (unsigned long long)(ROWS - PER_CS * head));
	cr_assert(has(r.out, want), "expected \"%s\": %s", want, r.out);
	snprintf(want, sizeof want, "; %llu already present", (unsigned long long)(PER_CS * head));
	cr_assert(has(r.out, want), "expected \"%s\": %s", want, r.out);
	snprintf(want, sizeof want, "(up head #%d)", CHANGESETS);
	cr_assert(has(r.out, want), "expected \"%s\": %s", want, r.out);
	run_free(&r);
	cr_assert_eq(node_member_count(test_node), ROWS);
	cr_assert_eq(node_verify(test_node), 0);

	/* and once more: nothing left to do */
	run_strata(&r, "member", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "imported 0 members"), "%s", r.out);
	run_free(&r);
}

Test(node_cli_crash, kill_early, .timeout = 240)
{
	kill_import_at(32, 1);
}

Test(node_cli_crash, kill_midway, .timeout = 240)
{
	kill_import_at(240, 2);
}

Test(node_cli_crash, kill_late, .timeout = 240)
{
	kill_import_at(450, 3);
}
