/* SPDX-License-Identifier: MIT */
/*
 * storage_mapgrow: a store opened with a small map (STRATA_MAP_SIZE 1 MiB)
 * grows it when written past it (storage/grow.c): with a reader in another
 * thread, with a thread that holds a read transaction while it writes (no
 * deadlock: the growth waits for its next write), with another process
 * writing the same store at once; at its ceiling (map_max) it refuses with
 * a reason naming map_max and changes nothing. Each growth is counted in
 * meta map_grown (store_map_info) and reported to the grow callback.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

TestSuite(storage_mapgrow, .init = test_dir_make, .fini = test_dir_remove);

#define SMALL ((uint64_t)1 << 20)     /* the initial map of every test */
#define HEADROOM ((uint64_t)64 << 10) /* small, so that growth comes soon and a transaction can fill the map */
#define PER_TXN 10

static int grown_calls;
static struct store_growth last_growth;

static void on_grow(void *arg, const struct store_growth *g)
{
	(void)arg;
	__atomic_add_fetch(&grown_calls, 1, __ATOMIC_SEQ_CST);
	last_growth = *g;
}

static struct store *open_small(int flags, uint64_t max, struct err *e)
{
	struct store *s = NULL;
	struct store_map_conf conf = {.max = max, .headroom = HEADROOM};

	setenv("STRATA_MAP_SIZE", "1048576", 1);
	if (store_open_map(&s, test_dir, flags, &conf, e) < 0)
		return NULL;
	store_on_grow(s, on_grow, NULL);
	return s;
}

/* Writes entries from+1..to of author's feed, PER_TXN per transaction. 0 or
 * the first failure. */
static int write_range(struct store *s, const uint8_t author[32], uint64_t from, uint64_t to, struct err *e)
{
	for (uint64_t seq = from + 1; seq <= to;) {
		struct store_txn *t = NULL;
		int ret = store_txn_begin(s, true, &t, e);

		for (int i = 0; ret == 0 && i < PER_TXN && seq <= to; i++, seq++)
			ret = test_append_big(t, author, seq, e);
		if (ret == 0)
			ret = store_txn_commit(&t, e);
		store_txn_abort(&t);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static uint64_t head_of(struct store *s, const uint8_t author[32])
{
	struct store_txn *t = test_begin(s, false);
	struct store_head h;
	int rc = store_head_get(t, author, "big", &h, E());

	store_txn_abort(&t);
	return rc == 0 ? h.seq : 0;
}

static struct store_map_info info_of(struct store *s)
{
	struct store_map_info m;

	cr_assert_eq(store_map_info(s, &m, E()), 0, "%s", test_err.msg);
	return m;
}

Test(storage_mapgrow, grows_past_a_small_map_and_counts_it)
{
	uint8_t a[32];
	struct store *s;

	fake_author(a, 1);
	grown_calls = 0;
	cr_assert_not_null(s = open_small(STORE_CREATE, 0, E()), "%s", test_err.msg);
	cr_assert_eq(info_of(s).map_bytes, SMALL);
	cr_assert_eq(write_range(s, a, 0, 800, E()), 0, "%s", test_err.msg); /* about 3.5 MiB of pages */
	struct store_map_info m = info_of(s);
	cr_assert_gt(m.map_bytes, 2 * SMALL);
	cr_assert_geq(m.map_bytes - m.used_bytes, HEADROOM);
	cr_assert_geq(grown_calls, 1);
	cr_assert_eq(m.grown_total, (uint64_t)grown_calls);
	cr_assert_lt(last_growth.from, last_growth.to);
	cr_assert(last_growth.ceiling_disk);
	cr_assert_eq(head_of(s, a), 800);
	store_close(&s);

	/* the count is in the store: a reader sees it, and the map data.mdb records */
	cr_assert_not_null(s = open_small(STORE_RDONLY, 0, E()), "%s", test_err.msg);
	struct store_map_info r = info_of(s);
	cr_assert_eq(r.grown_total, m.grown_total);
	cr_assert_eq(r.map_bytes, m.map_bytes);
	cr_assert_eq(head_of(s, a), 800);
	store_close(&s);
}

struct reader {
	struct store *s;
	const uint8_t *author;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started;
	int bad, rounds;
};

/* Holds read transactions one after another, each checking entry 1 before
 * and after a pause: a growth under it would leave its pointers dangling. */
static void *read_loop(void *arg)
{
	struct reader *r = arg;
	struct err e = {0};

	for (int i = 0; i < 40; i++) {
		struct store_txn *t = NULL;
		const uint8_t *b;
		size_t len;
		uint8_t want[TEST_BIG_BODY];

		if (store_txn_begin(r->s, false, &t, &e) < 0 || store_log_get(t, r->author, "big", 1, &b, &len, NULL, &e) < 0) {
			r->bad++;
			store_txn_abort(&t);
			continue;
		}
		pthread_mutex_lock(&r->mu);
		r->started = true;
		pthread_cond_signal(&r->cv);
		pthread_mutex_unlock(&r->mu);
		usleep(5000);
		test_big_fill(want, sizeof want, 1);
		if (len != TEST_BIG_BODY || memcmp(b, want, len) != 0)
			r->bad++;
		store_txn_abort(&t);
		r->rounds++;
	}
	return NULL;
}

Test(storage_mapgrow, a_reader_in_another_thread_during_growth)
{
	uint8_t a[32];
	struct reader r = {.author = a, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	pthread_t th;

	fake_author(a, 2);
	grown_calls = 0;
	cr_assert_not_null(r.s = open_small(STORE_CREATE, 0, E()), "%s", test_err.msg);
	cr_assert_eq(write_range(r.s, a, 0, 10, E()), 0, "%s", test_err.msg);
	int before = grown_calls;
	cr_assert_eq(pthread_create(&th, NULL, read_loop, &r), 0);
	pthread_mutex_lock(&r.mu);
	while (!r.started)
		pthread_cond_wait(&r.cv, &r.mu);
	pthread_mutex_unlock(&r.mu);
	/* a reader holds the map: the growths these writes need wait for it */
	cr_assert_eq(write_range(r.s, a, 10, 800, E()), 0, "%s", test_err.msg);
	pthread_join(th, NULL);
	cr_assert_gt(grown_calls, before);
	cr_assert_eq(r.bad, 0, "the reader saw %d bad reads in %d rounds", r.bad, r.rounds);
	cr_assert_eq(r.rounds, 40);
	cr_assert_eq(head_of(r.s, a), 800);
	store_close(&r.s);
}

Test(storage_mapgrow, a_thread_holding_a_read_writes_then_grows_on_retry)
{
	uint8_t a[32];
	struct store *s;
	struct store_txn *r, *w;
	uint64_t seq = 0;
	int rc = 0;

	fake_author(a, 3);
	grown_calls = 0;
	cr_assert_not_null(s = open_small(STORE_CREATE, 0, E()), "%s", test_err.msg);
	r = test_begin(s, false);
	/* holding r, this thread may not grow the map (it would wait for
	 * itself): the write goes on in the map it has, until it is full */
	w = test_begin(s, true);
	while (rc == 0 && seq < 2000)
		if ((rc = test_append_big(w, a, seq + 1, E())) == 0)
			seq++;
	cr_assert_eq(rc, -ENOSPC, "a 1 MiB map took %llu entries of 4 KiB", (unsigned long long)seq);
	cr_assert(strstr(test_err.msg, "retry"), "%s", test_err.msg);
	store_txn_abort(&w);
	cr_assert_eq(grown_calls, 0);
	store_txn_abort(&r);
	/* nothing held: the retry grows the map first, and fits */
	cr_assert_eq(write_range(s, a, 0, seq + 1, E()), 0, "%s", test_err.msg);
	cr_assert_geq(grown_calls, 1);
	cr_assert_eq(head_of(s, a), seq + 1);
	store_close(&s);
}

/* The child of the fork: writes author b's feed into the same store. */
static int child_writes(const uint8_t b[32])
{
	struct err e = {0};
	struct store *s = open_small(0, 0, &e);
	int ret = s ? write_range(s, b, 0, 600, &e) : -1;

	if (ret < 0)
		fprintf(stderr, "child: %s\n", e.msg);
	store_close(&s);
	return ret < 0 ? 1 : 0;
}

Test(storage_mapgrow, another_process_writes_the_same_store_at_once)
{
	uint8_t a[32], b[32];
	struct store *s;
	int st = 0;

	fake_author(a, 4);
	fake_author(b, 5);
	cr_assert_not_null(s = open_small(STORE_CREATE, 0, E()), "%s", test_err.msg);
	store_close(&s); /* LMDB's environment does not survive a fork: each side opens its own */
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(child_writes(b));
	cr_assert_not_null(s = open_small(0, 0, E()), "%s", test_err.msg);
	int rc = write_range(s, a, 0, 600, E());
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert_eq(rc, 0, "%s", test_err.msg);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the other process failed to write (status %d)", st);
	/* this handle reads what the other process wrote past its own map */
	cr_assert_eq(head_of(s, a), 600);
	cr_assert_eq(head_of(s, b), 600);
	store_close(&s);
	cr_assert_not_null(s = open_small(STORE_RDONLY, 0, E()), "%s", test_err.msg);
	struct store_map_info m = info_of(s);
	cr_assert_geq(m.grown_total, 2, "two writers from 1 MiB to %llu MiB grew it %llu times",
		      (unsigned long long)(m.map_bytes >> 20), (unsigned long long)m.grown_total);
	cr_assert_gt(m.map_bytes, m.used_bytes);
	store_close(&s);
}

Test(storage_mapgrow, at_its_ceiling_it_refuses_naming_map_max)
{
	uint8_t a[32];
	struct store *s;
	uint64_t committed = 0;
	int rc = 0;

	fake_author(a, 6);
	grown_calls = 0;
	cr_assert_not_null(s = open_small(STORE_CREATE, 2 * SMALL, E()), "%s", test_err.msg);
	while (rc == 0 && committed < 2000) {
		if ((rc = write_range(s, a, committed, committed + PER_TXN, E())) == 0)
			committed += PER_TXN;
	}
	cr_assert_eq(rc, -ENOSPC, "%s", test_err.msg);
	cr_assert(strstr(test_err.msg, "map_max") && strstr(test_err.msg, "2048 KiB"), "%s", test_err.msg);
	struct store_map_info m = info_of(s);
	cr_assert_eq(m.map_bytes, 2 * SMALL);
	cr_assert_eq(m.max_bytes, 2 * SMALL);
	cr_assert_eq(grown_calls, 1);
	/* the refused transaction changed nothing; a retry is refused alike */
	cr_assert_eq(head_of(s, a), committed);
	cr_assert_eq(write_range(s, a, committed, committed + PER_TXN, E()), -ENOSPC);
	cr_assert(strstr(test_err.msg, "map_max"), "%s", test_err.msg);
	cr_assert_eq(head_of(s, a), committed);
	cr_assert_eq(info_of(s).grown_total, 1);
	store_close(&s);
	/* a size above the ceiling is refused */
	struct store_map_conf bad = {.size = 4 * SMALL, .max = 2 * SMALL};
	cr_assert_eq(store_open_map(&s, test_dir, 0, &bad, E()), -EINVAL);
	cr_assert(strstr(test_err.msg, "map_max"), "%s", test_err.msg);
}
