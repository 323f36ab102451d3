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
#include "node/bundle/bundle.h"
#include "node/core/node.h"

struct broken {
	uint8_t author[KEY_BYTES];
	char feed[LIMIT_NAME_BYTES + 1];
};

static bool is_broken(const struct broken *b, size_t n, const struct changeset *cs)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(b[i].author, cs->author, KEY_BYTES) == 0 && strcmp(b[i].feed, cs->feed) == 0)
			return true;
	return false;
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
			snprintf(reason, sizeof reason, "bundle entry %zu: %s", bundle_entry_index(r), why.msg);
			report(h, c, NULL, "", 0, reason);
			continue;
		}
		if (is_broken(broken, nbroken, cs)) {
			report(h, c, cs->author, cs->feed, cs->seq, "cannot be verified: it follows a bad entry of its feed");
		} else if ((ret = node_ingest_changeset(n, t, cs, 0, &why)) < 0 && ret != -EALREADY) {
			struct broken *b;

			if (ret == -ENOSPC || ret == -EIO || ret == -ENOMEM) {
				err_set(e, "%s", why.msg);
				changeset_destroy(&cs);
				break;
			}
			snprintf(reason, sizeof reason, "bundle entry %zu: %s", bundle_entry_index(r), why.msg);
			report(h, c, cs->author, cs->feed, cs->seq, reason);
			if ((b = realloc(broken, (nbroken + 1) * sizeof *b))) {
				broken = b;
				memcpy(broken[nbroken].author, cs->author, KEY_BYTES);
				snprintf(broken[nbroken].feed, sizeof broken[nbroken].feed, "%s", cs->feed);
				nbroken++;
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
	if ((ret = ingest_all(n, path, &ingest, &hooks, e)) < 0) {
		c->failures = ingest.failures; /* a damaged bundle: its failures were reported, count them */
		goto out;
	}
	ret = verify_store(node_store(n), &store_counts, &hooks, e);
	if (ret < 0 && ret != -EBADMSG)
		goto out;
	*c = store_counts;
	c->failures += ingest.failures;
	ret = c->failures ? -EBADMSG : 0;
out:
	node_close(&n);
	remove_scratch(dir);
	return ret;
}
