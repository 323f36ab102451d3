/* SPDX-License-Identifier: MIT */
/*
 * Scrubbing after erases (erase.c applies them). LMDB copies pages on
 * write: the old bytes stay in data.mdb's free pages after the commit, and
 * in page buffers LMDB recycles. So an applied erase bumps meta scrub_due
 * (until a complete scrub) and erase_gen (for ever), and node_scrub, called
 * after commits, overwrites them (store_scrub) in this process, and in
 * every other process with the store open once it sees erase_gen move,
 * and at the latest when that process closes the node (erase_scrub_close):
 * its writes between the erase and its own scrub carry old bytes too.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "node/core/node_internal.h"

#define SCRUB_TRIES 5
#define SCRUB_WAIT_US 20000

static uint64_t meta_u64(struct store_txn *t, const char *name)
{
	const uint8_t *v;
	size_t len;
	uint64_t x = 0;
	struct err ignore = {0};

	if (store_meta_get(t, name, &v, &len, &ignore) == 0 && len == 8)
		x = be64_get(v);
	return x;
}

static int meta_put_u64(struct store_txn *t, const char *name, uint64_t x, struct err *e)
{
	uint8_t buf[8];

	be64_put(buf, x);
	return store_meta_put(t, name, buf, sizeof buf, e);
}

/* meta scrub_due: erases applied since the last complete scrub (reset by
 * it); meta erase_gen: erases ever applied here, so that every process
 * with the store open learns that it must scrub too (node_scrub). */
int erase_mark_scrub_due(struct store_txn *t, struct err *e)
{
	int ret = meta_put_u64(t, "scrub_due", meta_u64(t, "scrub_due") + 1, e);

	return ret < 0 ? ret : meta_put_u64(t, "erase_gen", meta_u64(t, "erase_gen") + 1, e);
}

int node_erase_gen(struct node *n, uint64_t *gen, struct err *e)
{
	struct store_txn *t = NULL;
	int ret = store_txn_begin(n->store, false, &t, e);

	if (ret == 0)
		*gen = meta_u64(t, "erase_gen");
	store_txn_abort(&t);
	return ret;
}

int node_scrub(struct node *n, struct store_scrub_counts *c, struct err *e)
{
	struct store_scrub_counts one, sum = {0};
	struct store_txn *t = NULL;
	uint64_t due, gen;
	int ret;

	if (c)
		memset(c, 0, sizeof *c);
	if (!n->scrub_due) /* opened read-only */
		return 0;
	if ((ret = store_txn_begin(n->store, false, &t, e)) < 0)
		return ret;
	due = meta_u64(t, "scrub_due");
	gen = meta_u64(t, "erase_gen");
	store_txn_abort(&t);
	/* Nothing left by a crash, and no erase since this process opened the
	 * store or last scrubbed: its page buffers hold no erased bytes. */
	if (due == 0 && gen == n->erase_gen)
		return 0;
	/* A read transaction of another process (a link pump, a listing) may
	 * hold old pages for a moment: try again shortly. */
	for (int i = 0; i < SCRUB_TRIES; i++) {
		if ((ret = store_scrub(n->store, &one, e)) < 0)
			return ret;
		sum.pages += one.pages;
		sum.gaps += one.gaps;
		sum.tail += one.tail;
		sum.held = one.held;
		if (one.held == 0)
			break;
		usleep(SCRUB_WAIT_US);
	}
	n->erase_gen = gen; /* reopened since: later writes carry no old bytes */
	if (c)
		*c = sum;
	if (sum.held) {
		err_set(e, "%zu free page(s) of data.mdb are still readable by an open read transaction; "
			   "they are overwritten at the next scrub",
			sum.held);
		return -EAGAIN;
	}
	if (due == 0)
		return 1;
	/* Done, unless another erase came in meanwhile. */
	if ((ret = store_txn_begin(n->store, true, &t, e)) < 0)
		return ret;
	if (meta_u64(t, "scrub_due") == due &&
	    ((ret = meta_put_u64(t, "scrub_due", 0, e)) < 0 || (ret = store_txn_commit(&t, e)) < 0)) {
		store_txn_abort(&t);
		return ret;
	}
	store_txn_abort(&t);
	return 1;
}

/* Why closing scrubs. LMDB hands a write transaction a recycled page buffer
 * without clearing it, and a page it copies into one keeps the buffer's
 * old middle: a process that had the store open while another one erased
 * holds pages from before the erase in those buffers, and each write it
 * commits before its own scrub may put the erased bytes back into data.mdb,
 * after the eraser's scrub. A daemon scrubs in its sweep within a second of
 * seeing erase_gen move, but it writes the links' state when it stops, and
 * a stop within that second left the value on disk (sync_rotate_records,
 * intermittently; tests/node/test_erase_close.c every time). So the last
 * thing a writable handle does is that scrub: nothing when no erase was
 * applied since it opened or last scrubbed. When a reader holds pages or
 * the scrub fails, meta scrub_due is bumped, so that the next daemon sweep,
 * erase or command that scrubs finishes it (a store that can no longer be
 * written keeps what it has: the next erase's scrub covers it). */
void erase_scrub_close(struct node *n)
{
	struct store_scrub_counts c;
	struct store_txn *t = NULL;
	struct err e = {0};

	if (!n->scrub_due || !n->store || node_scrub(n, &c, &e) >= 0)
		return;
	e = (struct err){0};
	if (store_txn_begin(n->store, true, &t, &e) == 0 &&
	    meta_put_u64(t, "scrub_due", meta_u64(t, "scrub_due") + 1, &e) == 0 && store_txn_commit(&t, &e) == 0)
		return;
	store_txn_abort(&t);
}
