/* SPDX-License-Identifier: MIT */
/*
 * storage_crash: a writer process killed with SIGKILL loses at most its
 * open transaction; the store reopens with every committed entry, nothing
 * beyond the head, and the next writer gets the lock (LMDB's robust mutex),
 * whether the survivor had the store open all along or opens it afresh.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

TestSuite(storage_crash, .init = test_dir_make, .fini = test_dir_remove);

#define PER_TXN 50

static uint8_t A[32];

static int append_one(struct store_txn *t, uint64_t seq)
{
	char key[32];
	snprintf(key, sizeof key, "k%llu", (unsigned long long)seq);
	struct store_op op = {.kind = STORE_PUT, .collection = "docs", .key = (const uint8_t *)key,
			      .key_len = strlen(key), .value = (const uint8_t *)key,
			      .value_len = strlen(key)};
	struct test_entry te;
	test_entry_make(&te, A, "posts", seq, 0, &op, 1);
	return store_append(t, &te.en, NULL);
}

/* The child: from the current head on, commits PER_TXN entries per
 * transaction and reports the committed head after each commit, until
 * killed. Never returns. */
static void writer(int fd)
{
	struct store *s = NULL;
	struct store_txn *t = NULL;
	struct store_head h;
	if (store_open(&s, test_dir, 0, NULL) < 0)
		_exit(2);
	if (store_txn_begin(s, false, &t, NULL) < 0)
		_exit(3);
	int rc = store_head_get(t, A, "posts", &h, NULL);
	if (rc < 0 && rc != -ENOENT)
		_exit(4);
	store_txn_abort(&t);
	uint64_t n = h.seq;
	while (n < 10000000) {
		if (store_txn_begin(s, true, &t, NULL) < 0)
			_exit(5);
		for (int i = 0; i < PER_TXN; i++)
			if (append_one(t, n + 1 + (uint64_t)i) < 0)
				_exit(6);
		if (store_txn_commit(&t, NULL) < 0)
			_exit(7);
		n += PER_TXN;
		if (write(fd, &n, sizeof n) != sizeof n)
			_exit(8);
	}
	_exit(0);
}

static bool read_u64(int fd, uint64_t *v)
{
	uint8_t buf[8];
	size_t got = 0;
	while (got < sizeof buf) {
		ssize_t r = read(fd, buf + got, sizeof buf - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	memcpy(v, buf, sizeof buf);
	return true;
}

static int count_seq(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len,
		     void *arg)
{
	(void)hash;
	(void)bytes;
	(void)len;
	uint64_t *n = arg;
	CHECK(seq == *n + 1, "log has a hole before #%llu", (unsigned long long)seq);
	*n = seq;
	return 0;
}

/* Checks the store after the kill and writes to it; returns the head. */
static uint64_t check_after_kill(struct store *s, uint64_t reported)
{
	struct store_txn *t = test_begin(s, false);
	struct store_head h;
	int rc = store_head_get(t, A, "posts", &h, E());
	uint64_t head = rc == -ENOENT ? 0 : h.seq;
	cr_assert(rc == 0 || rc == -ENOENT, "%s", test_err.msg);
	cr_assert(head == reported || head == reported + PER_TXN,
		  "head #%llu, child reported %llu committed", (unsigned long long)head,
		  (unsigned long long)reported);
	cr_log_info("killed: head #%llu, last reported %llu", (unsigned long long)head,
		    (unsigned long long)reported);
	uint64_t n = 0;
	cr_assert_eq(store_log_each(t, A, "posts", 0, 0, count_seq, &n, E()), 0, "%s", test_err.msg);
	cr_assert_eq(n, head, "log ends at #%llu, head #%llu", (unsigned long long)n,
		     (unsigned long long)head);
	const uint8_t *b;
	size_t len;
	cr_assert_eq(store_log_get(t, A, "posts", head + 1, &b, &len, NULL, E()), -ENOENT);
	size_t count = 0;
	cr_assert_eq(store_state_count(t, "docs", A, &count, E()), 0);
	cr_assert_eq(count, head, "state has %zu records for %llu entries", count,
		     (unsigned long long)head);
	store_txn_abort(&t);

	/* a new write transaction gets the writer lock */
	t = test_begin(s, true);
	for (uint64_t seq = head + 1; seq <= head + 5; seq++)
		cr_assert_eq(append_one(t, seq), 0);
	test_commit(&t);
	return head;
}

static pid_t spawn(void (*fn)(int), int *rfd)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		/* no Criterion asserts in the child: they talk to the runner */
		close(p[0]);
		fn(p[1]);
		_exit(0);
	}
	cr_assert_gt(pid, 0, "fork: %s", strerror(errno));
	close(p[1]);
	*rfd = p[0];
	return pid;
}

static void kill_child(pid_t pid)
{
	int status = 0;
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		  "child ended otherwise: status %d", status);
}

Test(storage_crash, sigkill_during_appends)
{
	fake_author(A, 1);
	struct store *s = test_open(STORE_CREATE);
	/* s stays open in this process while the child writes, as a daemon's
	 * store does while a CLI process writes and dies; several rounds, so
	 * that some kills land inside a write transaction */
	uint64_t head = 0;
	for (int round = 0; round < 5; round++) {
		int fd;
		pid_t pid = spawn(writer, &fd);
		uint64_t last = 0, v;
		while (last < head + (uint64_t)(3 + round) * PER_TXN) {
			cr_assert(read_u64(fd, &v), "writer stopped early");
			last = v;
		}
		kill_child(pid);
		while (read_u64(fd, &v)) /* counts written before the kill */
			last = v;
		close(fd);
		head = check_after_kill(s, last) + 5;
	}
	store_close(&s);

	/* and a fresh open sees the same */
	s = test_open(0);
	struct store_txn *t = test_begin(s, false);
	struct store_head h;
	cr_assert_eq(store_head_get(t, A, "posts", &h, E()), 0);
	cr_assert_eq(h.seq, head);
	store_txn_abort(&t);
	store_close(&s);
}

/* The child: commits PER_TXN entries after the head, then holds a read
 * transaction and an open write transaction with more entries, reports the
 * committed head, and waits to die. */
static void holder(int fd)
{
	struct store *s = NULL;
	struct store_txn *r = NULL, *t = NULL;
	struct store_head h;
	if (store_open(&s, test_dir, 0, NULL) < 0)
		_exit(2);
	if (store_txn_begin(s, true, &t, NULL) < 0)
		_exit(3);
	int rc = store_head_get(t, A, "posts", &h, NULL);
	if (rc < 0 && rc != -ENOENT)
		_exit(4);
	uint64_t head = h.seq;
	for (uint64_t seq = head + 1; seq <= head + PER_TXN; seq++)
		if (append_one(t, seq) < 0)
			_exit(5);
	if (store_txn_commit(&t, NULL) < 0)
		_exit(6);
	head += PER_TXN;
	if (store_txn_begin(s, false, &r, NULL) < 0 || store_txn_begin(s, true, &t, NULL) < 0)
		_exit(7);
	for (uint64_t seq = head + 1; seq <= head + 2 * PER_TXN; seq++)
		if (append_one(t, seq) < 0)
			_exit(8);
	if (write(fd, &head, sizeof head) != sizeof head)
		_exit(9);
	for (;;)
		pause();
}

Test(storage_crash, sigkill_holding_write_lock)
{
	fake_author(A, 1);
	struct store *s = test_open(STORE_CREATE);
	int fd;
	pid_t pid = spawn(holder, &fd);
	uint64_t last = 0;
	cr_assert(read_u64(fd, &last), "holder failed");
	cr_assert_eq(last, PER_TXN);
	kill_child(pid);
	close(fd);

	/* the dead child held the writer mutex: this must not hang (meson's
	 * timeout catches it; Criterion's .timeout leaks in its runner) */
	uint64_t head = check_after_kill(s, last);
	cr_assert_eq(head, PER_TXN, "the open transaction was dropped");
	store_close(&s);

	/* a second crash, now with no survivor holding the store open */
	pid = spawn(holder, &fd);
	cr_assert(read_u64(fd, &last), "holder failed");
	cr_assert_eq(last, 2 * PER_TXN + 5);
	kill_child(pid);
	close(fd);
	s = test_open(0);
	head = check_after_kill(s, last);
	cr_assert_eq(head, last);
	store_close(&s);
}
