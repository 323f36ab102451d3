/* SPDX-License-Identifier: MIT */
/*
 * The write fence: a node never signs an entry at a seq it may have used
 * before (DESIGN.md, "Feeds and where they flow"). A store put back from a
 * backup, or a disk put back from a VM snapshot, is behind what its links
 * already hold: its next entry would reuse a seq that a signed entry holds
 * at its parent, and the two together are an equivocation that freezes the
 * feed everywhere. So while the store may be behind, every writer (the CLI
 * and the daemon alike) refuses to sign, and says why and what to do.
 *
 * The fence lives in the store (meta "write_fence": why, and since when),
 * so that it holds for every process and survives a crash. It is set by
 * `strata restore`, by `strata serve` when the machine restarted since the
 * store's heads were last confirmed by a link (the kernel's boot id in
 * meta "heads_boot" differs: the disk may have been put back from a
 * snapshot), and by the daemon whenever a link shows one of the node's own
 * feeds at a higher seq than the store holds. The daemon lifts it once the
 * link that holds its feeds (its parent; without a parent, a child or peer)
 * has said hello and every own entry that link announced is fetched, and
 * records the boot id then. A node that nobody holds feeds of (no parent,
 * no certificate issued) has nobody to ask: it is never fenced.
 * `strata serve --alone` and `strata fence --lift` are the explicit
 * overrides for a node that knows it is alone.
 *
 * Not every start of `serve` fences: a node whose store was copied back by
 * hand (not with `strata restore`) on a machine that did not restart is
 * only caught by replication (its links announce its own newer entries at
 * hello and they are fetched before anything else); a write in the moment
 * before that hello could still fork. Fencing every start would refuse the
 * daemon's own writes (a child's join, a transfer step) until the parent
 * answers, and make a branch whose uplink is down unable to write after a
 * restart: the documented way to put a store back is `strata restore`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "node/core/node_internal.h"
#include "node/records/numbers.h"
#include "node/records/records.h" /* FEED_PRIVATE */

#define FENCE_META "write_fence"  /* "REASON SINCE_MS"; empty: no fence */
#define BOOT_META "heads_boot"    /* boot id under which the heads were last confirmed */
#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"
#define FENCE_POLL_MS 50

/* The kernel's boot id into out (empty if unknown). STRATA_BOOT_ID
 * replaces it: tests use it to play a machine restarted from a snapshot. */
static void boot_id(char out[NODE_BOOT_ID_MAX])
{
	const char *env = getenv("STRATA_BOOT_ID");
	FILE *f;

	out[0] = '\0';
	if (env && *env) {
		snprintf(out, NODE_BOOT_ID_MAX, "%s", env);
		return;
	}
	if (!(f = fopen(BOOT_ID_FILE, "re")))
		return;
	if (!fgets(out, NODE_BOOT_ID_MAX, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

bool node_has_holders(const struct node *n, struct store_txn *t)
{
	struct store_head h;
	struct err ignore = {0};

	if (n->config.has_parent)
		return true;
	return store_head_get(t, n->id, FEED_TRUST, &h, &ignore) == 0 && h.seq > 0;
}

static int meta_text(struct store_txn *t, const char *name, char *out, size_t cap, struct err *e)
{
	const uint8_t *v;
	size_t len;
	struct err why = {0};
	int ret = store_meta_get(t, name, &v, &len, &why);

	out[0] = '\0';
	if (ret == -ENOENT)
		return 0;
	if (ret < 0) {
		*e = why;
		return ret;
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(out, v, len);
	out[len] = '\0';
	return 0;
}

int node_fence_read(const struct node *n, struct store_txn *t, struct node_fence *f, struct err *e)
{
	char text[128], boot[NODE_BOOT_ID_MAX], now[NODE_BOOT_ID_MAX];
	unsigned long long since = 0;
	int ret;

	memset(f, 0, sizeof *f);
	if ((ret = meta_text(t, FENCE_META, text, sizeof text, e)) < 0 ||
	    (ret = meta_text(t, BOOT_META, boot, sizeof boot, e)) < 0)
		return ret;
	if (text[0] && sscanf(text, "%31s %llu", f->reason, &since) >= 1) {
		f->set = true;
		f->since_ms = since;
		return 0;
	}
	boot_id(now);
	if (boot[0] && now[0] && strcmp(boot, now) != 0 && node_has_holders(n, t)) {
		f->set = true;
		snprintf(f->reason, sizeof f->reason, "%s", NODE_FENCE_REBOOTED);
	}
	return 0;
}

int node_fence_put(struct store_txn *t, const char *reason, struct err *e)
{
	char text[128];

	snprintf(text, sizeof text, "%s %llu", reason, (unsigned long long)node_now_ms());
	return store_meta_put(t, FENCE_META, (const uint8_t *)text, strlen(text), e);
}

/* Clears the fence in t and records the boot id: the heads are confirmed. */
static int fence_clear(struct store_txn *t, struct err *e)
{
	char now[NODE_BOOT_ID_MAX];
	int ret = store_meta_put(t, FENCE_META, NULL, 0, e);

	boot_id(now);
	if (ret == 0 && now[0])
		ret = store_meta_put(t, BOOT_META, (const uint8_t *)now, strlen(now), e);
	return ret;
}

/* Runs fn in one write transaction of n's store. */
static int in_txn(struct node *n, int (*fn)(struct node *n, struct store_txn *t, const void *arg, struct err *e),
		  const void *arg, struct err *e)
{
	struct store_txn *t = NULL;
	int ret = store_txn_begin(n->store, true, &t, e);

	if (ret == 0 && (ret = fn(n, t, arg, e)) == 0)
		ret = store_txn_commit(&t, e);
	store_txn_abort(&t);
	return ret;
}

static int do_set(struct node *n, struct store_txn *t, const void *reason, struct err *e)
{
	(void)n;
	return node_fence_put(t, reason, e);
}

static int do_lift(struct node *n, struct store_txn *t, const void *arg, struct err *e)
{
	(void)n;
	(void)arg;
	return fence_clear(t, e);
}

int node_fence_set(struct node *n, const char *reason, struct err *e)
{
	return in_txn(n, do_set, reason, e);
}

/* The fence comes off in the transaction that writes the companion erases
 * this node owes (erase_owed.c: a restored store has fetched its request's
 * erase back, but its contact's erase was in the private feed that nobody
 * else holds), so that no other write comes between: a contact added again
 * right after the lift is not mistaken for the erased one. A node that
 * cannot sign here (opened without its key, an auditor, a frozen private
 * feed, a key rotated meanwhile) just lifts, and so does one whose erases
 * failed (returns 1 with why): a fence nobody could lift would stop every
 * write; strata serve checks again at its next start. */
int node_fence_lift(struct node *n, size_t *erased, struct err *e)
{
	struct node_writer *w = NULL;
	struct store_scrub_counts sc;
	struct err why = {0};
	int ret;

	*erased = 0;
	if (!n->key)
		return in_txn(n, do_lift, NULL, e);
	if ((ret = writer_begin_lifting(n, FEED_PRIVATE, &w, &why)) == -EACCES || ret == -EPERM || ret == -ESTALE)
		return in_txn(n, do_lift, NULL, e);
	if (ret < 0) {
		*e = why;
		return ret;
	}
	if ((ret = fence_clear(node_writer_txn(w), e)) < 0) {
		node_writer_abort(&w);
		return ret;
	}
	if ((ret = erase_owed_write(n, w, erased, &why)) < 0 || (ret = node_writer_commit(&w, NULL, NULL, &why)) < 0) {
		node_writer_abort(&w);
		*erased = 0;
		if ((ret = in_txn(n, do_lift, NULL, e)) < 0)
			return ret;
		err_set(e, "the companion erases this node owes were not written: %s", why.msg);
		return 1;
	}
	if (*erased && node_scrub(n, &sc, &why) == -EAGAIN)
		why = (struct err){0}; /* done at the next scrub */
	return 0;
}

struct start {
	bool alone;
	struct node_fence *out;
};

static int do_start(struct node *n, struct store_txn *t, const void *arg, struct err *e)
{
	const struct start *st = arg;
	struct node_fence *f = st->out;
	char boot[NODE_BOOT_ID_MAX];
	int ret;

	if (st->alone)
		return fence_clear(t, e);
	if (!node_has_holders(n, t))
		return fence_clear(t, e); /* nobody to ask */
	if ((ret = node_fence_read(n, t, f, e)) < 0)
		return ret;
	if (f->set && f->since_ms == 0) /* rebooted: keep it past this daemon */
		return node_fence_put(t, f->reason, e);
	if ((ret = meta_text(t, BOOT_META, boot, sizeof boot, e)) < 0)
		return ret;
	if (!f->set && !boot[0])
		return fence_clear(t, e); /* first start: this boot is the reference */
	return 0;
}

int node_fence_serve_start(struct node *n, bool alone, struct node_fence *out, struct err *e)
{
	struct start st = {.alone = alone, .out = out};

	memset(out, 0, sizeof *out);
	return in_txn(n, do_start, &st, e);
}

const char *node_fence_why(const char *reason)
{
	if (strcmp(reason, NODE_FENCE_RESTORED) == 0)
		return "its store was put back from a backup";
	if (strcmp(reason, NODE_FENCE_REBOOTED) == 0)
		return "its machine restarted since its links last confirmed its heads (a snapshot may have been put back)";
	if (strcmp(reason, NODE_FENCE_BEHIND) == 0)
		return "a link holds newer entries of its own feeds, still being fetched";
	return reason;
}

int node_fence_check(const struct node *n, struct store_txn *t, struct err *e)
{
	struct node_fence f;
	int ret = node_fence_read(n, t, &f, e);

	if (ret < 0 || !f.set)
		return ret;
	err_set(e, "%s signs nothing until its links have told it the heads of its own feeds: %s. "
		   "Run strata serve and let it reach its parent (writes wait for that while it runs); "
		   "a node that knows it is alone runs strata fence --lift",
		n->name, node_fence_why(f.reason));
	return -EBUSY;
}

/* Is a daemon running for n (it holds DIR/serve.lock)? */
static bool daemon_running(const struct node *n)
{
	char path[NODE_PATH_MAX];
	bool held = false;
	int fd;

	snprintf(path, sizeof path, "%s/%s", n->dir, NODE_SERVE_LOCK_FILE);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		held = errno == EWOULDBLOCK;
	close(fd);
	return held;
}

unsigned fence_wait_default(void)
{
	const char *env = getenv("STRATA_FENCE_WAIT");
	uint64_t s;

	if (!env || num_parse(env, 0, 3600, &s) < 0)
		return NODE_FENCE_WAIT_MS;
	return (unsigned)s * 1000;
}

void node_set_fence_wait(struct node *n, unsigned ms)
{
	n->fence_wait_ms = ms;
}

void node_fence_wait(struct node *n)
{
	uint64_t deadline = node_now_ms() + n->fence_wait_ms;

	while (n->fence_wait_ms) {
		struct store_txn *t = NULL;
		struct node_fence f = {0};
		struct err ignore = {0};
		struct timespec ts = {0, FENCE_POLL_MS * 1000000L};

		if (store_txn_begin(n->store, false, &t, &ignore) < 0)
			return;
		if (node_fence_read(n, t, &f, &ignore) < 0)
			f.set = false;
		store_txn_abort(&t);
		if (!f.set || !daemon_running(n) || node_now_ms() >= deadline)
			return;
		nanosleep(&ts, NULL);
	}
}
