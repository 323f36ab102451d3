/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the held checkpoints (node/core/checkpoint.c) on a real
 * root node in a temporary directory: signing its own trust feed's
 * checkpoint at the head (once per new size), keeping notes (larger
 * replaces, same size merges signature lines, smaller changes nothing,
 * same size with another root refused and nothing written), the witnessed
 * index, the walk over both, and a node opened without its key.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "node/audit/audit.h"
#include "node/core/checkpoint.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "storage/store.h"
#include "testproc.h"

#define PATH_CAP 512
#define T0 1700000000000ull

static char dir[PATH_CAP];
static struct node *n;
static struct keypair *wit;

static void setup(void)
{
	struct node_init_opts o = {.name = "xm", .root = true};
	struct err e = {{0}};

	snprintf(dir, sizeof dir, "/tmp/strata-ckpt-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	strcat(dir, "/node");
	cr_assert_eq(node_create(dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(keypair_generate(&wit, &e), 0);
}

static void teardown(void)
{
	node_close(&n);
	keypair_destroy(&wit);
	*strrchr(dir, '/') = '\0';
	spawn_remove_tree(dir);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

static char *child_feeds[] = {FEED_UP, FEED_REPORT};

/* One more entry in the root's trust feed: a certificate of a new key. */
static void grow(int i)
{
	struct keypair *k = NULL;
	struct node_writer *w = NULL;
	struct err e = {{0}};
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	char name[32];
	uint8_t buf[512];

	cr_assert_eq(keypair_generate(&k, &e), 0);
	snprintf(name, sizeof name, "xm/u%d", i);
	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)keypair_public(k)};
	c.name = name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = child_feeds;
	c.n_feeds = 2;
	c.issued_ms = T0;
	size_t len = protobuf_c_message_pack(&c.base, buf);
	cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, "cert", keypair_public(k), KEY_BYTES, buf, len, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	keypair_destroy(&k);
}

static struct store_txn *txn(bool write)
{
	struct store_txn *t = NULL;
	struct err e = {{0}};

	cr_assert_eq(store_txn_begin(node_store(n), write, &t, &e), 0, "%s", e.msg);
	return t;
}

/* The held note of (root, trust), parsed; false if none. */
static bool held(bool witnessed, struct note *out, char *text, size_t *len)
{
	struct store_txn *t = txn(false);
	const uint8_t *p;
	struct err e = {{0}};
	int ret = node_checkpoint_get(t, node_id(n), FEED_TRUST, witnessed, &p, len, &e);

	cr_assert(ret == 0 || ret == -ENOENT, "%s", e.msg);
	if (ret == 0) {
		memcpy(text, p, *len);
		cr_assert_eq(note_parse(text, *len, out, &e), 0, "held note: %s", e.msg);
	}
	store_txn_abort(&t);
	return ret == 0;
}

static void sign_own(void)
{
	struct store_txn *t = txn(true);
	struct err e = {{0}};

	cr_assert_eq(node_checkpoint_sign_own(n, t, FEED_TRUST, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0);
}

static int put(const struct note *nt, struct err *e)
{
	struct store_txn *t = txn(true);
	int ret = node_checkpoint_put(t, nt, e);

	cr_assert_eq(store_txn_commit(&t, e), 0);
	return ret;
}

Test(checkpoint, sign_own_at_the_head_once_per_size)
{
	struct note a, b;
	char text[NOTE_MAX], again[NOTE_MAX];
	size_t len, len2;
	struct store_head h;
	uint8_t root[TLOG_HASH_BYTES];
	struct err e = {{0}};

	cr_assert_not(held(false, &a, text, &len));
	grow(1);
	sign_own();
	cr_assert(held(false, &a, text, &len));
	struct store_txn *t = txn(false);
	cr_assert_eq(store_head_get(t, node_id(n), FEED_TRUST, &h, &e), 0);
	cr_assert_eq(store_tree_root(t, node_id(n), FEED_TRUST, h.seq, root, &e), 0);
	store_txn_abort(&t);
	cr_assert_eq(a.cp.size, h.seq);
	cr_assert_arr_eq(a.cp.root, root, TLOG_HASH_BYTES);
	cr_assert_arr_eq(a.cp.author, node_id(n), KEY_BYTES);
	cr_assert_eq(a.n_sigs, 1);
	cr_assert(note_sig_verify(&a, 0));
	cr_assert_not(held(true, &b, again, &len2), "no cosignature: not witnessed");
	sign_own(); /* nothing new to sign: the same note stays */
	cr_assert(held(false, &b, again, &len2));
	cr_assert_eq(len2, len);
	cr_assert_arr_eq(again, text, len);
	grow(2);
	grow(3);
	sign_own();
	cr_assert(held(false, &b, again, &len2));
	cr_assert_eq(b.cp.size, h.seq + 2);
	/* no feed written yet: nothing to sign, no error */
	t = txn(true);
	cr_assert_eq(node_checkpoint_sign_own(n, t, FEED_REPORT, &e), 0, "%s", e.msg);
	const uint8_t *p;
	cr_assert_eq(node_checkpoint_get(t, node_id(n), FEED_REPORT, false, &p, &len, &e), -ENOENT);
	store_txn_abort(&t);
}

/* The rules of signing live in node_checkpoint_sign_own, whoever calls it
 * (links, export, prove): a fenced store and a frozen feed sign nothing. */
Test(checkpoint, sign_own_signs_nothing_under_the_fence_or_in_a_frozen_feed)
{
	struct note a;
	char text[NOTE_MAX];
	size_t len, erased;
	struct store_txn *t;
	struct err e = {{0}};

	grow(1);
	t = txn(true);
	cr_assert_eq(node_fence_put(t, NODE_FENCE_RESTORED, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	sign_own();
	cr_assert_not(held(false, &a, text, &len), "a fenced store signed a checkpoint");
	cr_assert_eq(node_fence_lift(n, &erased, &e), 0, "%s", e.msg);
	t = txn(true);
	cr_assert_eq(store_feed_set_flags(t, node_id(n), FEED_TRUST, STORE_FEED_FROZEN, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	sign_own();
	cr_assert_not(held(false, &a, text, &len), "a frozen feed was signed");
	t = txn(true);
	cr_assert_eq(store_feed_set_flags(t, node_id(n), FEED_TRUST, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	sign_own();
	cr_assert(held(false, &a, text, &len), "signed once the fence is lifted and the feed not frozen");
}

Test(checkpoint, keeping_rules_and_the_witnessed_index)
{
	struct note a, cos, got, old;
	struct note_sig s;
	char text[NOTE_MAX];
	size_t len;
	struct err e = {{0}};

	grow(1);
	sign_own();
	cr_assert(held(false, &old, text, &len));
	grow(2);
	sign_own();
	cr_assert(held(false, &a, text, &len));
	/* a cosigned copy: merged into the newest, and witnessed */
	cos = a;
	cr_assert_eq(note_cosign(wit, &cos, 1700000000, &s, &e), 0);
	cr_assert_eq(note_add_sig(&cos, &s, &e), 0);
	cr_assert_eq(put(&cos, &e), 1, "%s", e.msg);
	cr_assert(held(false, &got, text, &len));
	cr_assert_eq(got.n_sigs, 2);
	cr_assert(held(true, &got, text, &len));
	cr_assert_eq(got.cp.size, a.cp.size);
	cr_assert_eq(got.n_sigs, 2);
	cr_assert_eq(put(&cos, &e), 0, "the same lines again: nothing new");
	/* an older note: nothing changes, in either index */
	struct note oldcos = old;
	cr_assert_eq(note_cosign(wit, &oldcos, 1700000001, &s, &e), 0);
	cr_assert_eq(note_add_sig(&oldcos, &s, &e), 0);
	cr_assert_eq(put(&oldcos, &e), 0);
	cr_assert(held(true, &got, text, &len));
	cr_assert_eq(got.cp.size, a.cp.size);
	/* same size, another root: refused, nothing written */
	struct note fork = a;
	fork.cp.root[0] ^= 1;
	fork.n_sigs = 0;
	cr_assert_eq(note_cosign(wit, &fork, 1700000002, &s, &e), 0);
	cr_assert_eq(note_add_sig(&fork, &s, &e), 0);
	memset(&e, 0, sizeof e);
	cr_assert_eq(put(&fork, &e), -EBADE);
	cr_assert_not_null(strstr(e.msg, "different roots"), "%s", e.msg);
	cr_assert(held(false, &got, text, &len));
	cr_assert_arr_eq(got.cp.root, a.cp.root, TLOG_HASH_BYTES);
	cr_assert_eq(got.n_sigs, 2);
	/* malformed arguments */
	struct note bad = a;
	bad.n_sigs = 0;
	cr_assert_eq(put(&bad, &e), -EINVAL);
}

struct seen {
	int n;
	char feed[8];
	uint64_t size;
};

static int on_note(const uint8_t author[KEY_BYTES], const char *feed, const uint8_t *note, size_t len, void *arg)
{
	struct seen *s = arg;
	struct note nt;

	cr_assert_arr_eq(author, node_id(n), KEY_BYTES);
	cr_assert_eq(note_parse((const char *)note, len, &nt, NULL), 0);
	snprintf(s->feed, sizeof s->feed, "%s", feed);
	s->size = nt.cp.size;
	s->n++;
	return 0;
}

Test(checkpoint, each_walks_one_index)
{
	struct seen all = {0}, wi = {0};
	struct err e = {{0}};

	grow(1);
	sign_own();
	struct store_txn *t = txn(false);
	cr_assert_eq(node_checkpoint_each(t, false, on_note, &all, &e), 0);
	cr_assert_eq(node_checkpoint_each(t, true, on_note, &wi, &e), 0);
	store_txn_abort(&t);
	cr_assert_eq(all.n, 1);
	cr_assert_str_eq(all.feed, FEED_TRUST);
	cr_assert_gt(all.size, 1);
	cr_assert_eq(wi.n, 0);
}

Test(checkpoint, a_node_without_its_key_cannot_sign)
{
	struct node *ro = NULL;
	struct store_txn *t = NULL;
	struct err e = {{0}};

	node_close(&n);
	cr_assert_eq(node_open(&ro, dir, NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(ro), true, &t, &e), 0);
	cr_assert_eq(node_checkpoint_sign_own(ro, t, FEED_TRUST, &e), -EPERM);
	cr_assert_not_null(strstr(e.msg, "without its key"));
	store_txn_abort(&t);
	node_close(&ro);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
}

static void on_failure(const struct verify_failure *f, void *arg)
{
	char *log = arg;

	snprintf(log + strlen(log), 4096 - strlen(log), "%s #%llu: %s\n", f->feed, (unsigned long long)f->seq,
		 f->reason);
}

/* strata verify re-derives the tree a store keeps (what its checkpoints
 * sign): a frontier that is not the tree of the entries fails the feed. */
Test(checkpoint, verify_fails_a_kept_tree_that_is_not_the_tree_of_the_entries)
{
	char log[4096] = "";
	struct verify_hooks h = {.failure = on_failure, .arg = log};
	struct verify_counts c;
	struct err e = {{0}};
	uint8_t key[KEY_BYTES + sizeof FEED_TRUST - 1], val[512];
	MDB_val k = {.mv_size = sizeof key, .mv_data = key}, v;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char store_dir[PATH_CAP + 8];

	for (int i = 0; i < 5; i++)
		grow(i);
	memcpy(key, node_id(n), KEY_BYTES);
	memcpy(key + KEY_BYTES, FEED_TRUST, sizeof FEED_TRUST - 1);
	cr_assert_eq(verify_store(node_store(n), &c, &h, &e), 0, "a clean store verifies: %s %s", e.msg, log);
	node_close(&n);

	snprintf(store_dir, sizeof store_dir, "%s/store", dir);
	cr_assert_eq(mdb_env_create(&env), 0);
	cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
	cr_assert_eq(mdb_env_set_mapsize(env, 1ull << 30), 0);
	cr_assert_eq(mdb_env_open(env, store_dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	cr_assert_eq(mdb_dbi_open(txn, "feeds", 0, &dbi), 0);
	cr_assert_eq(mdb_get(txn, dbi, &k, &v), 0);
	cr_assert(v.mv_size > 44 && v.mv_size <= sizeof val, "a frontier after head | hash | flags");
	memcpy(val, v.mv_data, v.mv_size);
	val[44] ^= 1; /* one bit of the largest subtree's root */
	v.mv_data = val;
	cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(verify_store(node_store(n), &c, &h, &e), -EBADMSG, "%s", e.msg);
	cr_assert(strstr(log, "trust #") && strstr(log, "Merkle tree kept in the store is not the tree of its entries"),
		  "%s", log);
}
