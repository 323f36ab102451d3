/* SPDX-License-Identifier: MIT */
/*
 * Scrubbing: overwriting what LMDB no longer uses, so that an erased value
 * is gone from data.mdb's bytes. LMDB never writes a page in place: a
 * commit writes new copies and puts the old pages on its free list (the
 * free database, dbi 0, txnid -> page numbers), where they keep their
 * bytes until a later write happens to reuse them. A free page is safe to
 * overwrite once no snapshot can read it: LMDB itself reuses the pages
 * freed by transaction T only when every reader is past T, and so do we,
 * while holding the writer lock so that no writer reuses them under us.
 * The pages' content matters to nobody: a reused page is written whole.
 *
 * Live pages carry old bytes too: a branch or leaf page keeps its records
 * at both ends and leaves the middle (from mp_lower to mp_upper) unused,
 * and LMDB fills a page it copies from a recycled page buffer without
 * clearing that middle, so bytes of pages the process handled earlier end
 * up there. Readers never read it, so it is zeroed in every page with a
 * valid header, free or live. The walk goes through the file page by page
 * (skipping the continuation pages of a live overflow run), so a scrub
 * reads the whole data.mdb once.
 */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "storage/store_internal.h"

#define SCRUB_CHUNK (1u << 20)

/* LMDB's page header (lmdb 0.9, mdb.c): pgno (size_t), pad (u16), flags
 * (u16), lower and upper (u16 each) or, for an overflow page, the number of
 * pages of its run (u32); offsets count from the page's start. */
#define PG_HDR (sizeof(size_t) + 8)
#define PG_BRANCH 0x01
#define PG_LEAF 0x02
#define PG_OVERFLOW 0x04
#define PG_META 0x08
#define PG_LEAF2 0x20

struct free_page {
	size_t pgno;
	bool safe; /* no snapshot can read it */
};

static int free_cmp(const void *a, const void *b)
{
	const struct free_page *x = a, *y = b;

	return x->pgno < y->pgno ? -1 : x->pgno > y->pgno;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The oldest snapshot any reader slot holds, from mdb_reader_list's lines
 * "pid thread txnid" ("-" for a slot between transactions). */
static int oldest_reader(const char *msg, void *ctx)
{
	size_t *oldest = ctx;
	unsigned long long txnid;
	size_t tid;
	int pid;

	if (sscanf(msg, "%d %zx %llu", &pid, &tid, &txnid) == 3 && (size_t)txnid < *oldest)
		*oldest = (size_t)txnid;
	return 0;
}

static int zero_range(int fd, const uint8_t *zeros, off_t at, size_t len, const char *dir, struct err *e)
{
	while (len) {
		size_t n = len < SCRUB_CHUNK ? len : SCRUB_CHUNK;
		ssize_t w = pwrite(fd, zeros, n, at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? errno : EIO;
			err_set(e, "store %s: overwriting free pages of data.mdb: %s", dir, strerror(err));
			return -err;
		}
		at += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Commits a write so that what the caller's last commit freed becomes free
 * for every snapshot after it. */
static int bump(struct store *s, struct err *e)
{
	struct store_txn *t = NULL;
	uint8_t when[8];
	int ret;

	if ((ret = store_txn_begin(s, true, &t, e)) < 0)
		return ret;
	be64_put(when, (uint64_t)time(NULL));
	if ((ret = store_meta_put(t, "scrubbed", when, sizeof when, e)) < 0) {
		store_txn_abort(&t);
		return ret;
	}
	return store_txn_commit(&t, e);
}

/* One pass over pages 2..last: safe free pages zeroed whole, the unused
 * middle of every branch and leaf page zeroed. */
static int walk_pages(int fd, const uint8_t *zeros, size_t psize, size_t last, const struct free_page *fp,
		      size_t nfree, struct store_scrub_counts *c, const char *dir, struct err *e)
{
	uint8_t *page = malloc(psize);
	size_t f = 0;
	int ret = 0;

	if (!page) {
		err_set(e, "store %s: out of memory", dir);
		return -ENOMEM;
	}
	for (size_t pg = 2; pg <= last && ret == 0; pg++) {
		size_t pgno;
		uint16_t flags, lower, upper;
		uint32_t run;
		ssize_t got;
		bool is_free, safe = false;

		while (f < nfree && fp[f].pgno < pg)
			f++;
		is_free = f < nfree && fp[f].pgno == pg;
		if (is_free)
			safe = fp[f].safe;
		if (safe) {
			if ((ret = zero_range(fd, zeros, (off_t)(pg * psize), psize, dir, e)) == 0)
				c->pages++;
			continue;
		}
		do
			got = pread(fd, page, psize, (off_t)(pg * psize));
		while (got < 0 && errno == EINTR);
		if (got != (ssize_t)psize) {
			err_set(e, "store %s: reading page %zu of data.mdb: %s", dir, pg,
				got < 0 ? strerror(errno) : "short read");
			ret = got < 0 ? -errno : -EIO;
			break;
		}
		memcpy(&pgno, page, sizeof pgno);
		memcpy(&flags, page + sizeof(size_t) + 2, 2);
		memcpy(&lower, page + sizeof(size_t) + 4, 2);
		memcpy(&upper, page + sizeof(size_t) + 6, 2);
		memcpy(&run, page + sizeof(size_t) + 4, 4);
		if (pgno != pg)
			continue; /* no header: a free page's old bytes, held by a reader */
		if ((flags & PG_OVERFLOW) && !is_free) {
			if (run > 1)
				pg += run - 1; /* its continuation pages hold a live value */
			continue;
		}
		if (!(flags & (PG_BRANCH | PG_LEAF)) || (flags & (PG_META | PG_LEAF2 | PG_OVERFLOW)) ||
		    lower < PG_HDR || lower > upper || upper > psize || all_zero(page + lower, upper - lower))
			continue;
		if ((ret = zero_range(fd, zeros, (off_t)(pg * psize + lower), upper - lower, dir, e)) == 0)
			c->gaps++;
	}
	free(page);
	return ret;
}

/* One scrub: the writer lock (w, nothing written until the end), a read
 * transaction beside it for the free list (r), and what was read. */
struct scrub {
	struct store *s;
	struct store_scrub_counts *c;
	MDB_txn *w, *r;
	size_t oldest;  /* the oldest snapshot a reader holds */
	size_t bumped;  /* the transaction of the bump: what it freed is live data */
	MDB_stat st;
	MDB_envinfo info;
	int fd;         /* data.mdb */
	uint8_t *zeros; /* SCRUB_CHUNK (at least a page) of zeros */
	struct free_page *fp;
	size_t nfree, capfree;
};

/* Takes the writer lock and a read snapshot beside it, finds the oldest
 * reader, the page size and the file. */
static int scrub_begin(struct scrub *sc, struct err *e)
{
	struct store *s = sc->s;
	int dead = 0, ret;

	if ((ret = lmdb_err(mdb_txn_begin(s->env, NULL, 0, &sc->w), e, "store %s: scrubbing", s->dir)) < 0) {
		sc->w = NULL;
		return ret;
	}
	/* The free database can only be read in a read transaction; MDB_NOTLS
	 * lets this thread hold one beside the write transaction. */
	if ((ret = lmdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &sc->r), e, "store %s: scrubbing", s->dir)) < 0) {
		sc->r = NULL;
		return ret;
	}
	sc->bumped = sc->oldest = mdb_txn_id(sc->w) - 1;
	/* A reader slot left by a process that died would hold pages forever. */
	if ((ret = lmdb_err(mdb_reader_check(s->env, &dead), e, "store %s: clearing stale readers", s->dir)) < 0 ||
	    (ret = lmdb_err(mdb_reader_list(s->env, oldest_reader, &sc->oldest), e, "store %s: listing readers",
			    s->dir)) < 0 ||
	    (ret = lmdb_err(mdb_env_stat(s->env, &sc->st), e, "store %s", s->dir)) < 0 ||
	    (ret = lmdb_err(mdb_env_info(s->env, &sc->info), e, "store %s", s->dir)) < 0 ||
	    (ret = lmdb_err(mdb_env_get_fd(s->env, &sc->fd), e, "store %s", s->dir)) < 0)
		return ret;
	if (!(sc->zeros = calloc(1, SCRUB_CHUNK > sc->st.ms_psize ? SCRUB_CHUNK : sc->st.ms_psize))) {
		err_set(e, "store %s: out of memory", s->dir);
		return -ENOMEM;
	}
	return 0;
}

/* Adds the N pages of one free list record (freed by TXNID) to sc->fp. */
static int free_pages_add(struct scrub *sc, size_t txnid, const size_t *ids, size_t n, struct err *e)
{
	/* Pages the bump freed hold only what is live now; pages a reader
	 * may still see are left whole (their unused middles are zeroed). */
	if (txnid < sc->bumped && txnid >= sc->oldest)
		sc->c->held += n;
	if (sc->nfree + n > sc->capfree) {
		size_t cap = 2 * (sc->nfree + n) + 64;
		struct free_page *p = realloc(sc->fp, cap * sizeof *p);

		if (!p) {
			err_set(e, "store %s: out of memory", sc->s->dir);
			return -ENOMEM;
		}
		sc->fp = p;
		sc->capfree = cap;
	}
	for (size_t i = 1; i <= n; i++) {
		memcpy(&sc->fp[sc->nfree].pgno, &ids[i], sizeof sc->fp[sc->nfree].pgno);
		sc->fp[sc->nfree++].safe = txnid < sc->oldest && txnid < sc->bumped;
	}
	return 0;
}

/* Reads the free database (txnid -> count, then page numbers) into sc->fp. */
static int free_list_read(struct scrub *sc, struct err *e)
{
	const char *dir = sc->s->dir;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, ret;

	if ((ret = lmdb_err(mdb_cursor_open(sc->r, 0, &cur), e, "store %s: reading the free list", dir)) < 0)
		return ret;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == MDB_SUCCESS) {
		size_t txnid, n;
		const size_t *ids = v.mv_data; /* count, then page numbers */

		if (k.mv_size != sizeof txnid || v.mv_size < sizeof *ids) {
			err_set(e, "store %s: the free list is malformed: data.mdb is corrupt", dir);
			ret = -EIO;
			goto out;
		}
		memcpy(&txnid, k.mv_data, sizeof txnid);
		memcpy(&n, ids, sizeof n);
		if (n > v.mv_size / sizeof *ids - 1) {
			err_set(e, "store %s: the free list is malformed: data.mdb is corrupt", dir);
			ret = -EIO;
			goto out;
		}
		if ((ret = free_pages_add(sc, txnid, ids, n, e)) < 0)
			goto out;
	}
	ret = 0;
	if (rc != MDB_NOTFOUND)
		ret = lmdb_err(rc, e, "store %s: reading the free list", dir);
out:
	mdb_cursor_close(cur);
	return ret;
}

/* Zeroes what lies past the last page (what an aborted, spilled
 * transaction wrote), then syncs data.mdb. */
static int scrub_tail(struct scrub *sc, struct err *e)
{
	const char *dir = sc->s->dir;
	off_t end = (off_t)(sc->info.me_last_pgno + 1) * sc->st.ms_psize;
	struct stat sb;
	int ret;

	if (fstat(sc->fd, &sb) < 0) {
		ret = -errno;
		err_set(e, "store %s: data.mdb: %s", dir, strerror(errno));
		return ret;
	}
	if (sb.st_size > end) {
		if ((ret = zero_range(sc->fd, sc->zeros, end, (size_t)(sb.st_size - end), dir, e)) < 0)
			return ret;
		sc->c->tail = (size_t)(sb.st_size - end);
	}
	if (fdatasync(sc->fd) < 0) {
		ret = -errno;
		err_set(e, "store %s: syncing data.mdb: %s", dir, strerror(errno));
		return ret;
	}
	return 0;
}

int store_scrub(struct store *s, struct store_scrub_counts *c, struct err *e)
{
	struct scrub sc = {.s = s, .c = c};
	int ret;

	if (!s || !c) {
		err_set(e, "store_scrub: bad arguments");
		return -EINVAL;
	}
	memset(c, 0, sizeof *c);
	if (s->flags & STORE_RDONLY) {
		err_set(e, "store %s: opened read-only, cannot scrub", s->dir);
		return -EROFS;
	}
	/* This process's recycled page buffers still hold copies of pages from
	 * before the erase, and LMDB copies a page into one without clearing
	 * its unused middle: drop them, so that what is written from here on
	 * (the bump, and later writes) carries no old bytes. */
	if ((ret = store_reopen(s, e)) < 0 || (ret = bump(s, e)) < 0)
		return ret;
	store_lock_shared(s); /* its two transactions hold the map as ours do (grow.c) */
	if ((ret = scrub_begin(&sc, e)) < 0 || (ret = free_list_read(&sc, e)) < 0)
		goto out;
	/* The caller comes back once the reader is done: one walk then. */
	if (c->held)
		goto out;
	if (sc.nfree)
		qsort(sc.fp, sc.nfree, sizeof *sc.fp, free_cmp);
	if ((ret = walk_pages(sc.fd, sc.zeros, sc.st.ms_psize, sc.info.me_last_pgno, sc.fp, sc.nfree, c, s->dir,
			      e)) < 0)
		goto out;
	ret = scrub_tail(&sc, e);
out:
	if (sc.r)
		mdb_txn_abort(sc.r);
	if (sc.w)
		mdb_txn_abort(sc.w);
	store_unlock_shared(s);
	free(sc.zeros);
	free(sc.fp);
	return ret;
}
