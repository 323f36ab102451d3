/* SPDX-License-Identifier: MIT */
/*
 * Auditing a bundle with nothing but the root's public key: a scratch node
 * in a temporary directory trusts only that key, takes the bundle's entries
 * through node_ingest (the network's checks, in the network's order), and
 * is then verified like any store. Unlike `strata import`, a bad entry does
 * not end the audit: it is reported where it stands, the rest of its feed
 * cannot be verified and is reported so, and the other feeds go on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "node/audit/audit.h"
#include "node/audit/evidence_frames.h"
#include "node/audit/completeness.h"
#include "node/audit/history.h"
#include "node/bundle/bundle.h"
#include "node/core/node.h"

/* A feed whose entries after a bad one cannot be verified; missing is the
 * seq the bundle skipped (0 if none), so that it is named if it comes late. */
struct broken {
	uint8_t author[KEY_BYTES];
	char feed[LIMIT_NAME_BYTES + 1];
	uint64_t missing, seen;
};

static struct broken *find_broken(struct broken *b, size_t n, const uint8_t *author, const char *feed)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(b[i].author, author, KEY_BYTES) == 0 && strcmp(b[i].feed, feed) == 0)
			return &b[i];
	return NULL;
}

static int add_broken(struct broken **b, size_t *n, const uint8_t *author, const char *feed, uint64_t missing,
		      uint64_t seen)
{
	struct broken *x;

	if (find_broken(*b, *n, author, feed))
		return 0;
	if (!(x = realloc(*b, (*n + 1) * sizeof *x)))
		return -ENOMEM;
	*b = x;
	x = &x[(*n)++];
	memcpy(x->author, author, KEY_BYTES);
	snprintf(x->feed, sizeof x->feed, "%s", feed);
	x->missing = missing;
	x->seen = seen;
	return 0;
}

/* The place an envelope that does not decode claims, if its body says:
 * author, feed (LIMIT_NAME_BYTES + 1) and seq; false if it does not. */
static bool claimed_place(const uint8_t *env, size_t len, uint8_t author[KEY_BYTES], char *feed, uint64_t *seq)
{
	Strata__Envelope *ev = strata__envelope__unpack(NULL, len, env);
	Strata__ChangeSetBody *b = ev ? strata__change_set_body__unpack(NULL, ev->body.len, ev->body.data) : NULL;
	bool ok = b && b->author.len == KEY_BYTES && b->feed && strlen(b->feed) <= LIMIT_NAME_BYTES && b->seq;

	if (ok) {
		memcpy(author, b->author.data, KEY_BYTES);
		strcpy(feed, b->feed);
		*seq = b->seq;
	}
	if (b)
		strata__change_set_body__free_unpacked(b, NULL);
	if (ev)
		strata__envelope__free_unpacked(ev, NULL);
	return ok;
}

static void report(const struct verify_hooks *h, struct verify_counts *c, const uint8_t *author, const char *feed,
		   uint64_t seq, const char *reason)
{
	struct verify_failure f = {.author = author, .feed = feed, .seq = seq, .reason = reason};

	c->failures++;
	if (h && h->failure)
		h->failure(&f, h->arg);
}

static void remove_scratch(const char *dir)
{
	static const char *const files[] = {"store/data.mdb", "store/lock.mdb", "store", "node.key", "strata.conf"};
	char p[NODE_PATH_MAX];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if (unlink(p) < 0)
			rmdir(p);
	}
	rmdir(dir);
}

/* Entries are read in batches; what needs no store (decoding, the
 * signature, the records' rules) is prepared on two cores, as node/sync
 * prepares a batch from a link, then each entry is stored in bundle order. */
#define BATCH 1024
#define COMMIT_EVERY 8192

struct batch {
	uint8_t *env[BATCH];
	size_t len[BATCH], cap[BATCH], index[BATCH];
	struct changeset *cs[BATCH];
	int res[BATCH];
	struct err why[BATCH];
	size_t n;
};

struct prep_job {
	struct batch *b;
	size_t from, step;
};

static void *prepare(void *arg)
{
	struct prep_job *j = arg;
	struct batch *b = j->b;

	for (size_t i = j->from; i < b->n; i += j->step) {
		memset(&b->why[i], 0, sizeof b->why[i]);
		if ((b->res[i] = changeset_decode(&b->cs[i], b->env[i], b->len[i], &b->why[i])) < 0)
			continue;
		if (changeset_verify(b->cs[i], &b->why[i]) < 0)
			b->res[i] = -EBADMSG;
		else if (node_check_records(b->cs[i], &b->why[i]) < 0)
			b->res[i] = -EINVAL;
		else
			b->res[i] = -EAGAIN; /* to store */
	}
	return NULL;
}

static void prepare_batch(struct batch *b)
{
	struct prep_job one = {b, 0, 2}, two = {b, 1, 2};
	pthread_t worker;

	if (b->n < 2 || pthread_create(&worker, NULL, prepare, &two) != 0) {
		one.step = 1;
		prepare(&one);
		return;
	}
	prepare(&one);
	pthread_join(worker, NULL);
}

static void batch_clear(struct batch *b, bool all)
{
	for (size_t i = 0; i < b->n; i++)
		changeset_destroy(&b->cs[i]);
	b->n = 0;
	if (all)
		for (size_t i = 0; i < BATCH; i++)
			free(b->env[i]);
}

/* Fills b from r: 1 with entries, 0 at the end, or -EBADMSG (the reason in
 * why; entries read before it are in b), -ENOMEM. Evidence frames go to ev. */
static int batch_read(struct batch *b, struct bundle_reader *r, struct audit_ev_frames *evs, struct err *why)
{
	const Strata__Evidence *ev = NULL;
	const uint8_t *env;
	size_t len;
	int ret = 0;

	while (b->n < BATCH && (ret = bundle_next(r, &env, &len, &ev, why)) > 0) {
		size_t i = b->n;

		if (ev) {
			size_t frame;
			uint64_t at;

			bundle_entry_place(r, &frame, &at);
			if (audit_ev_keep(evs, ev, frame, at) < 0)
				return -ENOMEM;
			ev = NULL;
			continue;
		}

		if (b->cap[i] < len) {
			uint8_t *p = realloc(b->env[i], len);

			if (!p)
				return -ENOMEM;
			b->env[i] = p;
			b->cap[i] = len;
		}
		memcpy(b->env[i], env, len);
		b->len[i] = len;
		b->index[i] = bundle_entry_index(r);
		b->cs[i] = NULL;
		b->n++;
	}
	return ret < 0 ? ret : b->n > 0;
}

/* Stores entry i of b, or reports why not at its place. 0, or a negative
 * code that ends the audit (e filled). */
static int ingest_one(struct node *n, struct store_txn *t, struct batch *b, size_t i, struct broken **broken,
		      size_t *nbroken, struct verify_counts *c, const struct verify_hooks *h, struct err *e)
{
	struct changeset *cs = b->cs[i];
	struct broken *x;
	struct err *why = &b->why[i];
	char reason[AUDIT_REASON_SIZE];
	int ret = b->res[i];

	if (!cs) {
		uint8_t author[KEY_BYTES];
		char feed[LIMIT_NAME_BYTES + 1];
		uint64_t seq;

		snprintf(reason, sizeof reason, "bundle entry %zu: %s", b->index[i], why->msg);
		if (!claimed_place(b->env[i], b->len[i], author, feed, &seq)) {
			report(h, c, NULL, "", 0, reason);
			return 0;
		}
		report(h, c, author, feed, seq, reason);
		return add_broken(broken, nbroken, author, feed, 0, seq);
	}
	if ((x = find_broken(*broken, *nbroken, cs->author, cs->feed))) {
		if (cs->seq == x->missing) {
			snprintf(reason, sizeof reason, "bundle entry %zu: entry #%llu comes after #%llu: entries out of order",
				 b->index[i], (unsigned long long)cs->seq, (unsigned long long)x->seen);
			report(h, c, cs->author, cs->feed, cs->seq, reason);
		} else {
			report(h, c, cs->author, cs->feed, cs->seq, "cannot be verified: it follows a bad entry of its feed");
		}
		return 0;
	}
	if (ret == -EAGAIN)
		ret = node_ingest_changeset(n, t, cs, NODE_SIG_CHECKED | NODE_RECORDS_CHECKED, why);
	if (ret == 0 || ret == -EALREADY) {
		c->entries++;
		return 0;
	}
	if (ret == -ENOSPC || ret == -EIO || ret == -ENOMEM) {
		err_set(e, "%s", why->msg);
		return ret;
	}
	{
		struct store_head hd;
		struct err ignore = {0};
		uint64_t missing = 0, at = cs->seq;
		int hr;

		if (ret == -ERANGE && ((hr = store_head_get(t, cs->author, cs->feed, &hd, &ignore)) == 0 || hr == -ENOENT)) {
			/* a gap: name the entry that is missing, not the one after it */
			missing = at = hd.seq + 1;
			snprintf(reason, sizeof reason, "bundle entry %zu: entry #%llu is missing: the next entry of this "
				 "feed in the bundle is #%llu", b->index[i], (unsigned long long)missing,
				 (unsigned long long)cs->seq);
		} else {
			snprintf(reason, sizeof reason, "bundle entry %zu: %s%s", b->index[i],
				 ret == -EBADE ? "equivocation: " : "", why->msg);
		}
		report(h, c, cs->author, cs->feed, at, reason);
		return add_broken(broken, nbroken, cs->author, cs->feed, missing, cs->seq);
	}
}

/* Takes every entry of the bundle into the scratch node. */
static int ingest_all(struct node *n, const char *path, struct audit_notes *carried, struct verify_counts *c,
		      const struct verify_hooks *h, struct err *e)
{
	struct bundle_reader *r = NULL;
	struct store_txn *t = NULL;
	struct broken *broken = NULL;
	struct audit_ev_frames evs = {0};
	struct batch *b = calloc(1, sizeof *b);
	size_t nbroken = 0, in_txn = 0;
	int ret, rd;

	if (!b) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	if ((ret = bundle_open(&r, path, e)) == -EINVAL) {
		/* not a bundle, another version, a bad header: the audit fails (exit 3) */
		report(h, c, NULL, "", 0, e->msg);
		memset(e, 0, sizeof *e);
		ret = 0;
		goto out;
	}
	if (ret < 0)
		goto out;
	if (carried) /* its checkpoints, for audit_completeness */
		bundle_on_checkpoint(r, audit_notes_collect, carried);
	do {
		struct err why = {0};

		if ((rd = batch_read(b, r, &evs, &why)) == -ENOMEM) {
			err_set(e, "out of memory reading the bundle");
			ret = -ENOMEM;
			break;
		}
		prepare_batch(b);
		if (b->n && !t && (ret = store_txn_begin(node_store(n), true, &t, e)) < 0)
			break;
		for (size_t i = 0; i < b->n && ret >= 0; i++)
			if ((ret = ingest_one(n, t, b, i, &broken, &nbroken, c, h, e)) == -ENOMEM)
				err_set(e, "out of memory");
		in_txn += b->n;
		batch_clear(b, false);
		if (ret >= 0 && t && in_txn >= COMMIT_EVERY) {
			ret = store_txn_commit(&t, e);
			in_txn = 0;
		}
		if (rd < 0)
			report(h, c, NULL, "", 0, why.msg);
	} while (rd > 0 && ret >= 0);
	if (ret >= 0 && t)
		ret = store_txn_commit(&t, e);
	if (ret >= 0)
		ret = audit_ev_check(n, &evs, c, h, e);
out:
	store_txn_abort(&t);
	audit_ev_free(&evs);
	batch_clear(b, true);
	free(b);
	free(broken);
	bundle_close(&r);
	return ret < 0 ? ret : 0;
}

/* While the scratch store is read back (verify_store walks every entry and
 * every state record once), a thread drops the store's mapped pages every
 * 20 ms: they stay in the page cache and fault back when read again, so the
 * audit's resident memory stays bounded whatever the bundle's size. */
struct trimmer {
	struct store *s;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	pthread_t th;
	bool running;
};

static void *trim(void *arg)
{
	struct trimmer *tr = arg;
	struct timespec ts;

	pthread_mutex_lock(&tr->mu);
	while (!tr->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&tr->cv, &tr->mu, &ts);
		store_map_release(tr->s);
	}
	pthread_mutex_unlock(&tr->mu);
	return NULL;
}

static void trimmer_start(struct trimmer *tr, struct store *s)
{
	tr->s = s;
	pthread_mutex_init(&tr->mu, NULL);
	pthread_cond_init(&tr->cv, NULL);
	tr->running = pthread_create(&tr->th, NULL, trim, tr) == 0;
}

static void trimmer_stop(struct trimmer *tr)
{
	if (!tr->s)
		return;
	if (tr->running) {
		pthread_mutex_lock(&tr->mu);
		tr->stop = true;
		pthread_cond_signal(&tr->cv);
		pthread_mutex_unlock(&tr->mu);
		pthread_join(tr->th, NULL);
	}
	pthread_cond_destroy(&tr->cv);
	pthread_mutex_destroy(&tr->mu);
	tr->s = NULL;
}

int audit_bundle(const char *path, const uint8_t root[32], struct verify_counts *c, const struct verify_hooks *h,
		 struct err *e)
{
	return audit_bundle_history(path, root, c, NULL, h, e);
}

int audit_bundle_history(const char *path, const uint8_t root[32], struct verify_counts *c,
			 struct audit_history_counts *x, const struct verify_hooks *h, struct err *e)
{
	struct audit_trust_hooks th;
	struct verify_hooks hooks;
	char dir[] = "/tmp/strata-audit-XXXXXX";
	struct node_init_opts o = {.name = "auditor"};
	struct verify_counts store_counts, ingest = {0};
	struct trimmer tr = {0};
	struct node *n = NULL;
	int ret;

	memset(c, 0, sizeof *c);
	if (!mkdtemp(dir)) {
		int err = errno;

		err_set(e, "cannot create a scratch directory: %s", strerror(err));
		return err_os(err);
	}
	if ((ret = node_create(dir, &o, e)) < 0 || (ret = node_open(&n, dir, NODE_NO_KEY | NODE_NOSYNC, e)) < 0)
		goto out;
	node_pin_root(n, root);
	/* certificate chains checked in the scratch node; signatures were
	 * verified by ingest_all, once each */
	hooks = audit_trust_hooks_init(&th, n, h);
	hooks.signatures_verified = true;
	if ((ret = ingest_all(n, path, hooks.complete ? &hooks.complete->carried : NULL, &ingest, &hooks, e)) < 0) {
		c->failures = ingest.failures; /* a damaged bundle: its failures were reported, count them */
		goto out;
	}
	store_map_release(node_store(n));
	trimmer_start(&tr, node_store(n));
	ret = verify_store(node_store(n), &store_counts, &hooks, e);
	if (ret < 0 && ret != -EBADMSG)
		goto out;
	*c = store_counts;
	c->failures += ingest.failures;
	if (x) {
		ret = audit_history(n, x, &hooks, e);
		if (ret < 0 && ret != -EBADMSG)
			goto out;
	}
	ret = c->failures || (x && x->failures) ? -EBADMSG : 0;
out:
	trimmer_stop(&tr);
	node_close(&n);
	remove_scratch(dir);
	return ret;
}
