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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/audit/audit.h"
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
	char p[4200];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if (unlink(p) < 0)
			rmdir(p);
	}
	rmdir(dir);
}

/* Takes every entry of the bundle into the scratch node. */
static int ingest_all(struct node *n, const char *path, struct verify_counts *c, const struct verify_hooks *h,
		      struct err *e)
{
	struct bundle_reader *r = NULL;
	struct store_txn *t = NULL;
	struct broken *broken = NULL;
	size_t nbroken = 0, in_txn = 0;
	const uint8_t *env;
	size_t len;
	int ret;

	if ((ret = bundle_open(&r, path, e)) < 0)
		return ret;
	for (;;) {
		struct changeset *cs = NULL;
		struct broken *b;
		struct err why = {0};
		char reason[700];

		if ((ret = bundle_next(r, &env, &len, NULL, &why)) <= 0) {
			if (ret < 0)
				report(h, c, NULL, "", 0, why.msg);
			break;
		}
		if (!t && (ret = store_txn_begin(node_store(n), true, &t, e)) < 0)
			break;
		if (changeset_decode(&cs, env, len, &why) < 0) {
			uint8_t author[KEY_BYTES];
			char feed[LIMIT_NAME_BYTES + 1];
			uint64_t seq;

			snprintf(reason, sizeof reason, "bundle entry %zu: %s", bundle_entry_index(r), why.msg);
			if (!claimed_place(env, len, author, feed, &seq)) {
				report(h, c, NULL, "", 0, reason);
				continue;
			}
			report(h, c, author, feed, seq, reason);
			if ((ret = add_broken(&broken, &nbroken, author, feed, 0, seq)) < 0)
				break;
			continue;
		}
		if ((b = find_broken(broken, nbroken, cs->author, cs->feed))) {
			if (cs->seq == b->missing) {
				snprintf(reason, sizeof reason,
					 "bundle entry %zu: entry #%llu comes after #%llu: entries out of order",
					 bundle_entry_index(r), (unsigned long long)cs->seq, (unsigned long long)b->seen);
				report(h, c, cs->author, cs->feed, cs->seq, reason);
			} else {
				report(h, c, cs->author, cs->feed, cs->seq,
				       "cannot be verified: it follows a bad entry of its feed");
			}
		} else if ((ret = node_ingest_changeset(n, t, cs, 0, &why)) < 0 && ret != -EALREADY) {
			struct store_head hd;
			struct err ignore = {0};
			uint64_t missing = 0, at = cs->seq;

			if (ret == -ENOSPC || ret == -EIO || ret == -ENOMEM) {
				err_set(e, "%s", why.msg);
				changeset_destroy(&cs);
				break;
			}
			if (ret == -ERANGE && store_head_get(t, cs->author, cs->feed, &hd, &ignore) >= -ENOENT) {
				/* a gap: name the entry that is missing, not the one after it */
				missing = at = hd.seq + 1;
				snprintf(reason, sizeof reason, "bundle entry %zu: entry #%llu is missing: the next entry of "
					 "this feed in the bundle is #%llu", bundle_entry_index(r),
					 (unsigned long long)missing, (unsigned long long)cs->seq);
			} else {
				snprintf(reason, sizeof reason, "bundle entry %zu: %s%s", bundle_entry_index(r),
					 ret == -EBADE ? "equivocation: " : "", why.msg);
			}
			report(h, c, cs->author, cs->feed, at, reason);
			if ((ret = add_broken(&broken, &nbroken, cs->author, cs->feed, missing, cs->seq)) < 0) {
				changeset_destroy(&cs);
				break;
			}
			ret = 0;
		} else if (++in_txn >= 512) {
			if ((ret = store_txn_commit(&t, e)) < 0) {
				changeset_destroy(&cs);
				break;
			}
			in_txn = 0;
		}
		changeset_destroy(&cs);
	}
	if (ret >= 0 && t)
		ret = store_txn_commit(&t, e);
	store_txn_abort(&t);
	free(broken);
	bundle_close(&r);
	return ret < 0 ? ret : 0;
}

/* The caller's hooks, with certificate chains checked in the scratch node. */
struct scratch_hooks {
	const struct verify_hooks *outer;
	struct node *n;
};

static void fwd_failure(const struct verify_failure *f, void *arg)
{
	const struct scratch_hooks *s = arg;

	if (s->outer && s->outer->failure)
		s->outer->failure(f, s->outer->arg);
}

static void fwd_progress(size_t done, size_t total, void *arg)
{
	const struct scratch_hooks *s = arg;

	if (s->outer && s->outer->progress)
		s->outer->progress(done, total, s->outer->arg);
}

static int scratch_authorize(struct store_txn *t, const uint8_t author[32], const char *feed, struct err *e, void *arg)
{
	return node_authorize(((const struct scratch_hooks *)arg)->n, t, author, feed, 0, e);
}

static int scratch_entry(struct store_txn *t, const uint8_t author[32], const char *feed, uint64_t seq,
			 uint64_t time_ms, struct err *e, void *arg)
{
	(void)feed;
	(void)seq;
	return node_check_revoked(((const struct scratch_hooks *)arg)->n, t, author, time_ms, e);
}

int audit_bundle(const char *path, const uint8_t root[32], struct verify_counts *c, const struct verify_hooks *h,
		 struct err *e)
{
	return audit_bundle_history(path, root, c, NULL, h, e);
}

int audit_bundle_history(const char *path, const uint8_t root[32], struct verify_counts *c,
			 struct audit_history_counts *x, const struct verify_hooks *h, struct err *e)
{
	struct scratch_hooks sh = {.outer = h};
	struct verify_hooks hooks = {
		.failure = fwd_failure, .authorize = scratch_authorize, .entry = scratch_entry, .progress = fwd_progress, .arg = &sh};
	char dir[] = "/tmp/strata-audit-XXXXXX";
	struct node_init_opts o = {.name = "auditor"};
	struct verify_counts store_counts, ingest = {0};
	struct node *n = NULL;
	int ret;

	memset(c, 0, sizeof *c);
	if (!mkdtemp(dir)) {
		err_set(e, "cannot create a scratch directory: %s", strerror(errno));
		return -errno;
	}
	if ((ret = node_create(dir, &o, e)) < 0 || (ret = node_open(&n, dir, NODE_NO_KEY, e)) < 0)
		goto out;
	node_pin_root(n, root);
	sh.n = n;
	if ((ret = ingest_all(n, path, &ingest, &hooks, e)) < 0)
		goto out;
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
	node_close(&n);
	remove_scratch(dir);
	return ret;
}
