/* SPDX-License-Identifier: MIT */
/*
 * A map that grows (store.h "Growth of the map"). LMDB reserves address
 * space for data.mdb up front (the map) and refuses a write past it with
 * MDB_MAP_FULL. Its rules for a larger map (lmdb.h, mdb_env_set_mapsize):
 *   - this process may change its map only while it has no transaction
 *     open (LMDB unmaps and maps the file again: every pointer into the
 *     old map, a reader's included, would dangle);
 *   - a process whose map is smaller than the data another process wrote
 *     gets MDB_MAP_RESIZED from mdb_txn_begin, and adopts the size the
 *     file's meta page records with mdb_env_set_mapsize(env, 0).
 * So every transaction of a store holds s->grow_lock shared from its begin
 * to its end (txn.c), and growing holds it exclusive. A thread that holds
 * a transaction and begins another (a read beside a write: MDB_NOTLS allows
 * it) takes the lock shared twice: glibc's rwlocks prefer readers (the
 * default kind, set explicitly below), so that never waits for a grower
 * that waits for it; and a thread never grows while it holds a transaction
 * of the same store (held_by_me: a thread-local count per store), it leaves
 * the growth to its next begin with nothing held. A grower waits at most
 * STORE_GROW_WAIT_S for the other threads' transactions to end, then gives
 * up this growth (a later write tries again) rather than hang the node.
 *
 * When: before a write transaction, if the map's free room (map size minus
 * the pages in use) is under its headroom (an eighth of the map, at least
 * conf.headroom, 512 MiB by default: more than one bounded write
 * transaction uses, NODE_BYTES_PER_TXN); and after a transaction failed
 * with MDB_MAP_FULL (lmdb_err calls store_map_full, which marks the store),
 * at the next write transaction's begin, so that a retry succeeds. How
 * much: doubled until the headroom fits, at most the ceiling. The ceiling
 * is conf.max, or with max 0 what the free disk allows (the file may grow
 * while its filesystem keeps STORE_DISK_KEEP_MAX or 5 % free, whichever
 * is smaller).
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "storage/store_internal.h"

#define MIB ((uint64_t)1 << 20)
#define STORE_DISK_KEEP_MAX ((uint64_t)1 << 30) /* free disk a disk-bound ceiling keeps, at most */
#define STORE_DISK_KEEP_DIV 20                  /* or 1/20 (5 %) of the filesystem, if smaller */
#define STORE_HELD_MAX 8 /* stores a thread holds transactions of at once, tracked one by one */
#define STORE_META_GROWN "map_grown" /* meta: u64 BE, the growths of the map so far */
#define STORE_GROW_WAIT_S 10 /* longest wait for this process's transactions to end before growing */

/* The transactions this thread holds, per store. */
struct held {
	const struct store *s;
	unsigned n;
};
static _Thread_local struct held held[STORE_HELD_MAX];
static _Thread_local unsigned held_lost; /* holds beyond STORE_HELD_MAX: then assume held */
_Thread_local struct store *store_tl_writer;

int store_grow_lock_init(struct store *s)
{
	pthread_rwlockattr_t a;
	int rc;

	if (pthread_rwlockattr_init(&a) != 0)
		return -ENOMEM;
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_READER_NP);
	rc = pthread_rwlock_init(&s->grow_lock, &a);
	pthread_rwlockattr_destroy(&a);
	return rc ? -rc : 0;
}

bool store_held_by_me(const struct store *s)
{
	if (held_lost)
		return true;
	for (size_t i = 0; i < STORE_HELD_MAX; i++)
		if (held[i].s == s && held[i].n)
			return true;
	return false;
}

void store_lock_shared(struct store *s)
{
	struct held *slot = NULL;

	pthread_rwlock_rdlock(&s->grow_lock);
	for (size_t i = 0; i < STORE_HELD_MAX; i++) {
		if (held[i].s == s && held[i].n) {
			held[i].n++;
			return;
		}
		if (!held[i].n && !slot)
			slot = &held[i];
	}
	if (slot) {
		slot->s = s;
		slot->n = 1;
	} else {
		held_lost++;
	}
}

void store_unlock_shared(struct store *s)
{
	size_t i;

	for (i = 0; i < STORE_HELD_MAX; i++) {
		if (held[i].s == s && held[i].n) {
			if (--held[i].n == 0)
				held[i].s = NULL;
			break;
		}
	}
	if (i == STORE_HELD_MAX && held_lost)
		held_lost--;
	pthread_rwlock_unlock(&s->grow_lock);
}

/* Takes s->grow_lock exclusive, waiting at most STORE_GROW_WAIT_S: a
 * thread of this process that holds a transaction while it waits for the
 * thread that grows (no path of Strata's is known to, but a deadlock would
 * stop the node) only costs the growth, not the node. 0 or ETIMEDOUT. */
static int lock_exclusive(struct store *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += STORE_GROW_WAIT_S;
	return pthread_rwlock_timedwrlock(&s->grow_lock, &ts);
}

/* This process's map size and the bytes of the pages in use (the last page
 * of the newest snapshot, shared by every process). */
static int map_now(struct store *s, uint64_t *map, uint64_t *used, uint64_t *psize)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if ((rc = mdb_env_info(s->env, &info)) || (rc = mdb_env_stat(s->env, &st)))
		return rc;
	*map = info.me_mapsize;
	*used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	*psize = st.ms_psize;
	return 0;
}

uint64_t store_map_ceiling(const struct store *s, uint64_t used)
{
	struct statvfs sv;

	if (s->conf.max)
		return s->conf.max;
	if (statvfs(s->dir, &sv) < 0)
		return used;
	uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize, total = (uint64_t)sv.f_blocks * sv.f_frsize;
	uint64_t keep = total / STORE_DISK_KEEP_DIV < STORE_DISK_KEEP_MAX ? total / STORE_DISK_KEEP_DIV : STORE_DISK_KEEP_MAX;
	return used + (avail > keep ? avail - keep : 0);
}

static uint64_t headroom(const struct store *s, uint64_t map)
{
	return map / 8 > s->conf.headroom ? map / 8 : s->conf.headroom;
}

/* Adds one growth to meta map_grown, in a transaction of its own (the
 * caller holds none of s). On failure it stays counted in memory and the
 * next growth writes it. */
static void count_growth(struct store *s)
{
	struct store_txn *t = NULL;
	struct err ignore = {0};
	const uint8_t *v;
	size_t len;
	uint8_t buf[8];
	uint64_t n = 0;

	atomic_fetch_add(&s->grown_unsaved, 1);
	if (store_txn_begin_raw(s, true, &t, &ignore) < 0)
		return;
	if (store_meta_get(t, STORE_META_GROWN, &v, &len, &ignore) == 0 && len == sizeof buf)
		n = be64_get(v);
	uint64_t add = atomic_load(&s->grown_unsaved);
	be64_put(buf, n + add);
	if (store_meta_put(t, STORE_META_GROWN, buf, sizeof buf, &ignore) == 0 &&
	    store_txn_commit(&t, &ignore) == 0)
		atomic_fetch_sub(&s->grown_unsaved, add);
	store_txn_abort(&t);
}

/* Grows s's map, the caller holding no transaction of s in this thread:
 * forced (after MDB_MAP_FULL) at least doubles it, else only when its free
 * room is under the headroom. Stops at the ceiling. 0 or an LMDB code. */
static int grow(struct store *s, bool forced)
{
	struct store_growth g = {0};
	uint64_t map, used, psize, target;
	int rc;

	if (lock_exclusive(s) != 0) {
		if (forced)
			atomic_store(&s->grow_wanted, true); /* the next write tries again */
		return 0;
	}
	atomic_store(&s->grow_wanted, false);
	/* used may pass map when another process wrote past it: the next
	 * begin adopts its size (MDB_MAP_RESIZED) */
	if ((rc = map_now(s, &map, &used, &psize)) || map == 0 || used >= map ||
	    (!forced && map - used >= headroom(s, map)))
		goto out;
	uint64_t ceiling = store_map_ceiling(s, used) / psize * psize;
	target = map;
	do
		target *= 2;
	while (target < ceiling && (target < used || target - used < headroom(s, target)));
	if (ceiling && target > ceiling)
		target = ceiling;
	if (target <= map)
		goto out; /* at the ceiling: a write that does not fit is refused (store_map_full) */
	if ((rc = mdb_env_set_mapsize(s->env, (size_t)target)))
		goto out;
	s->map = NULL; /* store_map_release finds the new mapping */
	s->map_len = 0;
	g = (struct store_growth){.from = map, .to = target, .used = used, .ceiling = ceiling,
				  .ceiling_disk = s->conf.max == 0};
out:
	pthread_rwlock_unlock(&s->grow_lock);
	if (g.to) {
		count_growth(s);
		if (s->on_grow)
			s->on_grow(s->on_grow_arg, &g);
	}
	return rc;
}

int store_map_before_write(struct store *s)
{
	uint64_t map, used, psize;

	if (store_held_by_me(s))
		return 0; /* this thread's next begin with nothing held grows */
	if (atomic_load(&s->grow_wanted))
		return grow(s, true);
	/* the meta pages live in the map: read them holding it, as a
	 * transaction does, so that no other thread remaps it meanwhile */
	store_lock_shared(s);
	bool roomy = map_now(s, &map, &used, &psize) == 0 && (used >= map || map - used >= headroom(s, map));
	store_unlock_shared(s);
	return roomy ? 0 : grow(s, false);
}

int store_map_adopt(struct store *s)
{
	int rc;

	if (lock_exclusive(s) != 0)
		return MDB_MAP_RESIZED; /* the caller says: retry */
	rc = mdb_env_set_mapsize(s->env, 0); /* the size another process recorded in the meta page */
	s->map = NULL;
	s->map_len = 0;
	pthread_rwlock_unlock(&s->grow_lock);
	return rc;
}

int store_map_full(const char *ctx, struct err *e)
{
	struct store *s = store_tl_writer;
	uint64_t map = 0, used = 0, psize = 0;

	if (!s) {
		err_set(e, "%s: the store's map is full (MDB_MAP_FULL)", ctx);
		return -ENOSPC;
	}
	atomic_store(&s->grow_wanted, true);
	(void)map_now(s, &map, &used, &psize);
	uint64_t ceiling = store_map_ceiling(s, used);
	if (map < ceiling && ceiling - map >= psize)
		err_set(e, "%s: the store's map of %" PRIu64 " MiB filled within this transaction; it grows before "
			   "the next write transaction: retry (MDB_MAP_FULL)",
			ctx, map / MIB);
	else if (s->conf.max)
		err_set(e, "%s: the store is full: its map reached the ceiling of %" PRIu64 " KiB set by [store] "
			   "map_max in strata.conf; raise map_max (MDB_MAP_FULL)",
			ctx, s->conf.max / 1024);
	else
		err_set(e, "%s: the store is full: its map of %" PRIu64 " MiB may not grow further, as the disk "
			   "must keep 1 GiB or 5%% free ([store] map_max = 0 in strata.conf); free disk space "
			   "(MDB_MAP_FULL)",
			ctx, map / MIB);
	return -ENOSPC;
}

void store_on_grow(struct store *s, store_grow_fn *fn, void *arg)
{
	s->on_grow = fn;
	s->on_grow_arg = arg;
}

int store_map_info(struct store *s, struct store_map_info *m, struct err *e)
{
	struct store_txn *t = NULL;
	uint64_t psize;
	const uint8_t *v;
	size_t len;
	struct err ignore = {0};
	int ret;

	memset(m, 0, sizeof *m);
	/* a reader (strata metrics, status) shows the size data.mdb records,
	 * the largest a writer set, rather than its own */
	if ((s->flags & STORE_RDONLY) && !store_held_by_me(s))
		(void)store_map_adopt(s);
	if ((ret = store_txn_begin(s, false, &t, e)) < 0)
		return ret;
	/* inside a read transaction: the map is stable */
	if ((ret = lmdb_err(map_now(s, &m->map_bytes, &m->used_bytes, &psize), e, "store %s", s->dir)) == 0) {
		m->max_bytes = store_map_ceiling(s, m->used_bytes);
		m->max_from_disk = s->conf.max == 0;
		if (store_meta_get(t, STORE_META_GROWN, &v, &len, &ignore) == 0 && len == 8)
			m->grown_total = be64_get(v);
		m->grown_total += atomic_load(&s->grown_unsaved);
	}
	store_txn_abort(&t);
	return ret;
}
