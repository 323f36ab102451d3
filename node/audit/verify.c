/* SPDX-License-Identifier: MIT */
/*
 * `strata verify`: re-derive everything a store claims. For every feed, each
 * entry from seq 1 to the head must be present, decode within limits, carry
 * a valid signature by its author over its exact bytes, chain to the entry
 * before it, hash to the hash stored beside it, and hold only valid records.
 * The materialized state must equal a replay of the log: every put that is
 * a key's latest op is in state with the same value and origin, every key
 * whose latest op is a delete is absent, and state holds nothing else.
 * A proof of equivocation the store keeps fails its feed (equivocation.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/audit/audit.h"
#include "node/audit/keyset.h"
#include "node/core/node.h" /* the certificate index and its rule */
#include "node/records/records.h"

#define VERIFY_REASON_SIZE 600 /* one failure's reason, as handed to the hooks */
#include "protocol/protocol.h"
#include "crypto/tlog.h"

struct walk {
	struct store_txn *t;
	struct verify_counts *c;
	const struct verify_hooks *h;
	const struct store_head *head;
	uint64_t expect_seq;
	uint8_t prev[HASH_BYTES];
	bool chain_known;    /* false right after a hole in the log */
	struct tlog_frontier tree; /* the feed's Merkle tree, from the entries read */
	size_t matched;      /* state records that a log op accounts for */
	size_t done, total;
	struct keyset pending; /* puts absent from state: must be deleted later */
	char reason[VERIFY_REASON_SIZE];
	int fatal;
};

static void fail(struct walk *w, const uint8_t *author, const char *feed, uint64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void fail(struct walk *w, const uint8_t *author, const char *feed, uint64_t seq, const char *fmt, ...)
{
	struct verify_failure f = {.author = author, .feed = feed, .seq = seq, .reason = w->reason};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->reason, sizeof w->reason, fmt, ap);
	va_end(ap);
	w->c->failures++;
	if (w->h && w->h->failure)
		w->h->failure(&f, w->h->arg);
}

/* The pending-set key of (collection, key) within the current feed. */
static size_t pending_key(uint8_t *buf, size_t cap, const struct op *op)
{
	size_t cl = strlen(op->collection) + 1;

	if (cl + op->key_len > cap)
		return 0;
	memcpy(buf, op->collection, cl);
	memcpy(buf + cl, op->key, op->key_len);
	return cl + op->key_len;
}

/* Compares one op with what state holds for its key. */
static void check_state(struct walk *w, const struct changeset *cs, size_t i)
{
	const struct op *op = &cs->ops[i];
	uint8_t pk[LIMIT_NAME_BYTES + 1 + LIMIT_KEY_BYTES];
	size_t pkl = pending_key(pk, sizeof pk, op);
	const uint8_t *val;
	size_t val_len;
	struct store_origin o;
	struct err e = {0};
	int ret = store_state_get(w->t, op->collection, cs->author, op->key, op->key_len, &val, &val_len, &o, &e);

	keyset_remove(&w->pending, pk, pkl);
	if (ret < 0 && ret != -ENOENT) {
		fail(w, cs->author, cs->feed, cs->seq, "op %zu: cannot read state: %s", i, e.msg);
		return;
	}
	if (ret == -ENOENT) {
		/* a successor of the author by rotation wrote this key since */
		if (store_state_superseded(w->t, op->collection, cs->author, op->key, op->key_len, NULL))
			return;
		if (op->kind == OP_PUT && keyset_add(&w->pending, pk, pkl) < 0)
			w->fatal = -ENOMEM;
		return;
	}
	if (strcmp(o.feed, cs->feed) != 0) {
		fail(w, cs->author, cs->feed, cs->seq, "op %zu: state of %s \"%.*s\" was written by feed %s", i,
		     op->collection, (int)op->key_len, (const char *)op->key, o.feed);
		return;
	}
	if (o.seq > cs->seq)
		return; /* a later entry wrote it again: checked there */
	if (o.seq < cs->seq) {
		fail(w, cs->author, cs->feed, cs->seq,
		     "op %zu: state of %s \"%.*s\" still holds the value of seq %llu", i, op->collection,
		     (int)op->key_len, (const char *)op->key, (unsigned long long)o.seq);
		return;
	}
	if (op->kind == OP_DELETE) {
		fail(w, cs->author, cs->feed, cs->seq, "op %zu: %s \"%.*s\" was deleted but is in state", i,
		     op->collection, (int)op->key_len, (const char *)op->key);
		return;
	}
	w->c->state++;
	w->matched++;
	if (op->value ? (val_len != op->value_len || memcmp(val, op->value, val_len) != 0) : val_len != 0)
		fail(w, cs->author, cs->feed, cs->seq, "op %zu: state of %s \"%.*s\" differs from the logged value",
		     i, op->collection, (int)op->key_len, (const char *)op->key);
}

/* A put without its value: erased by its owner, or a failure. */
static void check_erased(struct walk *w, const struct changeset *cs, size_t i)
{
	const struct op *op = &cs->ops[i];
	char ekey[LIMIT_KEY_BYTES + 1];
	const uint8_t *v;
	size_t vl;
	struct store_origin o;
	struct err e = {0};
	int ret;

	uint8_t by[KEY_BYTES];
	bool later = false;

	/* The erase request is the author's, or (a record of a key rotated
	 * away from) its successor's: docs/PROTOCOL.md. */
	if (erase_key_make(ekey, sizeof ekey, op->collection, op->key, op->key_len, &e) >= 0 &&
	    store_state_superseded(w->t, record_erase.collection, cs->author, (const uint8_t *)ekey, strlen(ekey), by))
		later = store_state_get(w->t, record_erase.collection, by, (const uint8_t *)ekey, strlen(ekey), &v, &vl, &o,
					&e) == 0;
	if (!later &&
	    (erase_key_make(ekey, sizeof ekey, op->collection, op->key, op->key_len, &e) < 0 ||
	     (ret = store_state_get(w->t, record_erase.collection, cs->author, (const uint8_t *)ekey, strlen(ekey), &v, &vl,
				    &o, &e)) < 0 ||
	     strcmp(o.feed, cs->feed) != 0 || o.seq <= cs->seq)) {
		fail(w, cs->author, cs->feed, cs->seq, "op %zu: the value of %s \"%.*s\" is missing without an erase request",
		     i, op->collection, (int)op->key_len, (const char *)op->key);
		return;
	}
	w->c->erased++;
	if (w->h && w->h->erased) {
		struct verify_erased x = {.author = cs->author, .feed = cs->feed, .seq = cs->seq,
					  .collection = op->collection, .key = op->key, .key_len = op->key_len,
					  .erase_seq = o.seq};

		w->h->erased(&x, w->h->arg);
	}
}

static int on_entry(uint64_t seq, const uint8_t hash[32], const uint8_t *bytes, size_t len, void *arg)
{
	struct walk *w = arg;
	const struct store_head *hd = w->head;
	struct changeset *cs = NULL;
	struct err e = {0};

	w->c->entries++;
	if (w->h && w->h->progress && (++w->done & 1023) == 0)
		w->h->progress(w->done, w->total, w->h->arg);
	if (seq != w->expect_seq) {
		fail(w, hd->author, hd->feed, w->expect_seq, "entries %llu to %llu are missing from the log",
		     (unsigned long long)w->expect_seq, (unsigned long long)seq - 1);
		w->chain_known = false; /* the chain cannot be followed across the hole */
	}
	w->expect_seq = seq + 1;
	{
		/* the tree over the stored entry hashes (each checked against
		 * its body below: a tampered body fails at its own seq, not
		 * again at the tree) */
		uint8_t leaf[TLOG_HASH_BYTES];

		tlog_leaf_hash(leaf, hash);
		tlog_frontier_push(&w->tree, leaf);
	}
	if (changeset_decode(&cs, bytes, len, &e) < 0) {
		fail(w, hd->author, hd->feed, seq, "%s", e.msg);
		memcpy(w->prev, hash, HASH_BYTES);
		w->chain_known = true;
		return 0;
	}
	if (memcmp(cs->author, hd->author, KEY_BYTES) != 0 || strcmp(cs->feed, hd->feed) != 0 || cs->seq != seq)
		fail(w, hd->author, hd->feed, seq, "entry claims feed %s seq %llu of another author or place",
		     cs->feed, (unsigned long long)cs->seq);
	else if (!(w->h && w->h->signatures_verified) && changeset_verify(cs, &e) < 0)
		fail(w, hd->author, hd->feed, seq, "%s", e.msg);
	else
		w->c->signatures++;
	if (w->h && w->h->entry) {
		memset(&e, 0, sizeof e);
		if (w->h->entry(w->t, cs->author, cs->feed, seq, cs->time_ms, &e, w->h->arg) != 0)
			fail(w, hd->author, hd->feed, seq, "%s", e.msg);
	}
	if (memcmp(cs->hash, hash, HASH_BYTES) != 0)
		fail(w, hd->author, hd->feed, seq, "stored entry hash does not match the entry");
	if (w->chain_known && memcmp(cs->prev, w->prev, HASH_BYTES) != 0)
		fail(w, hd->author, hd->feed, seq, "prev does not match the hash of entry %llu: the chain is broken",
		     (unsigned long long)seq - 1);
	memcpy(w->prev, cs->hash, HASH_BYTES);
	w->chain_known = true;
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *op = &cs->ops[i];

		w->c->ops++;
		if (op->kind == OP_PUT && !op->value)
			check_erased(w, cs, i);
		if (op->kind == OP_PUT && op->value) {
			memset(&e, 0, sizeof e);
			if (record_check(op->collection, cs->feed, op->key, op->key_len, op->value, op->value_len,
					 &e) < 0)
				fail(w, hd->author, hd->feed, seq, "op %zu: %s", i, e.msg);
			else
				w->c->values++;
		}
		check_state(w, cs, i);
	}
	changeset_destroy(&cs);
	return w->fatal;
}

static void report_pending(const void *key, size_t len, void *arg)
{
	struct walk *w = arg;
	size_t cl = strlen(key);

	fail(w, w->head->author, w->head->feed, 0, "%s \"%.*s\" is missing from state", (const char *)key,
	     (int)(len - cl - 1), (const char *)key + cl + 1);
}

static int count_total(const struct store_head *h, void *arg)
{
	((struct walk *)arg)->total += h->seq;
	return 0;
}

/* The tree the store keeps for the feed (its frontier, which checkpoints
 * sign) against the tree of the entries just read: a store claims it too. */
static void check_tree(struct walk *w, const struct store_head *h)
{
	uint8_t kept[TLOG_HASH_BYTES], read[TLOG_HASH_BYTES];
	struct err e = {0};

	if (!h->seq || w->tree.size != h->seq)
		return;
	tlog_frontier_root(&w->tree, read);
	if (store_tree_root(w->t, h->author, h->feed, h->seq, kept, &e) < 0)
		fail(w, h->author, h->feed, h->seq, "the feed's Merkle tree cannot be read: %s", e.msg);
	else if (memcmp(kept, read, TLOG_HASH_BYTES) != 0)
		fail(w, h->author, h->feed, h->seq,
		     "the feed's Merkle tree kept in the store is not the tree of its entries: a checkpoint "
		     "signed from it would not match");
}

static int on_feed(const struct store_head *h, void *arg)
{
	struct walk *w = arg;
	struct err e = {0};
	int ret;

	w->c->feeds++;
	w->head = h;
	if (w->h && w->h->authorize && w->h->authorize(w->t, h->author, h->feed, &e, w->h->arg) != 0) {
		fail(w, h->author, h->feed, 0, "%s", e.msg);
		memset(&e, 0, sizeof e);
	}
	w->expect_seq = 1;
	memset(w->prev, 0, sizeof w->prev);
	w->chain_known = true;
	tlog_frontier_init(&w->tree);
	ret = store_log_each(w->t, h->author, h->feed, 1, h->seq, on_entry, w, &e);
	if (ret < 0 && !w->fatal) {
		fail(w, h->author, h->feed, w->expect_seq, "cannot read the log: %s", e.msg);
		return 0;
	}
	if (w->fatal)
		return w->fatal;
	if (w->expect_seq <= h->seq)
		fail(w, h->author, h->feed, w->expect_seq, "entries %llu to %llu (the head) are missing from the log",
		     (unsigned long long)w->expect_seq, (unsigned long long)h->seq);
	else
		check_tree(w, h);
	keyset_each(&w->pending, report_pending, w);
	keyset_clear(&w->pending);
	return 0;
}

static int count_state(struct store_txn *t, size_t *total, struct err *e)
{
	size_t n = 0, ntypes = 0;
	const struct record_type *const *types = record_types(&ntypes);
	int ret;

	/* Every collection this build knows; an unknown one would have failed ingest. */
	*total = 0;
	for (size_t i = 0; i < ntypes; i++) {
		if ((ret = store_state_count(t, types[i]->collection, NULL, &n, e)) < 0)
			return ret;
		*total += n;
	}
	return 0;
}

/* The certificate index must hold, for every key, the certificate the
 * first-issuer rule picks (node_cert_first_wins): every author above was
 * judged by it. */
static void on_bad_cert(const uint8_t subject[KEY_BYTES], const uint8_t *indexed, const uint8_t *rule, void *arg)
{
	struct walk *w = arg;
	char a[KEY_HEX] = "none", b[KEY_HEX] = "none";

	if (indexed)
		key_hex(a, indexed);
	if (rule)
		key_hex(b, rule);
	fail(w, subject, FEED_TRUST, 0,
	     "the certificate index gives this key to issuer %.16s…, the first-issuer rule to %.16s… (an index kept "
	     "in arrival order by an older version): its entries were judged by the wrong certificate", a, b);
}

int verify_store(struct store *s, struct verify_counts *c, const struct verify_hooks *h, struct err *e)
{
	struct walk w = {.c = c, .h = h};
	size_t state_total = 0;
	int ret;

	memset(c, 0, sizeof *c);
	if ((ret = store_txn_begin(s, false, &w.t, e)) < 0)
		return ret;
	if ((ret = store_heads_each(w.t, count_total, &w, e)) < 0 ||
	    (ret = store_heads_each(w.t, on_feed, &w, e)) < 0 || (ret = count_state(w.t, &state_total, e)) < 0 ||
	    (ret = verify_evidence(w.t, c, h, e)) < 0 || (ret = node_cert_index_check(w.t, on_bad_cert, &w, e)) < 0)
		goto out;
	if (state_total != w.matched) {
		w.head = NULL;
		fail(&w, NULL, "", 0, "state holds %zu record(s) that no log entry wrote",
		     state_total > w.matched ? state_total - w.matched : 0);
	}
	if (h && h->progress)
		h->progress(w.total, w.total, h->arg);
	ret = c->failures ? -EBADMSG : 0;
out:
	keyset_clear(&w.pending);
	store_txn_abort(&w.t);
	return ret;
}
