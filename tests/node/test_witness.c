/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of node_checkpoint_ingest (node/core/witness.c) on a real
 * store: a root node in a temporary directory, a city key it certified and
 * a branch key the city certified, whose trust feed (three certificates of
 * keys below it) is the feed checkpointed. Notes are signed here with the
 * test's keys; the expected roots are computed here from the entry hashes
 * (tlog_frontier), not by the store.
 *
 *   the root node (witness: on the branch's chain) -> xm/siming (city) -> xm/siming/b1 (branch)
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/checkpoint.h"
#include "node/core/node.h"
#include "node/records/records.h"
#include "testproc.h"

#define T0 1700000000000ull
#define PATH_CAP 512
#define BRANCH_ENTRIES 3

struct author {
	struct keypair *kp;
	uint64_t seq;
	uint8_t prev[HASH_BYTES];
};

static char dir[PATH_CAP];
static struct node *n;
static struct author city, branch;

static const uint8_t *pub(const struct author *a)
{
	return keypair_public(a->kp);
}

static char *all_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST};

/* BY (NULL: the root node) puts m under (collection, subject) in its trust feed. */
static void trust_put(struct author *by, const char *collection, const uint8_t subject[KEY_BYTES],
		      const ProtobufCMessage *m)
{
	struct err e = {{0}};
	uint8_t *val = NULL, *env = NULL, hash[HASH_BYTES];
	size_t len, env_len;

	val = malloc(protobuf_c_message_get_packed_size(m) + 1);
	len = protobuf_c_message_pack(m, val);
	if (!by) {
		struct node_writer *w = NULL;

		cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
		cr_assert_eq(node_writer_put(w, collection, subject, KEY_BYTES, val, len, &e), 0, "%s", e.msg);
		cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	} else {
		struct changeset_builder *b = NULL;
		struct store_txn *t = NULL;

		cr_assert_eq(changeset_builder_new(&b, FEED_TRUST, by->seq + 1, by->seq ? by->prev : NULL, T0, &e), 0);
		cr_assert_eq(changeset_builder_put(b, collection, subject, KEY_BYTES, val, len, &e), 0, "%s", e.msg);
		cr_assert_eq(changeset_builder_finish(b, by->kp, &env, &env_len, hash, &e), 0, "%s", e.msg);
		changeset_builder_destroy(&b);
		cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
		cr_assert_eq(node_ingest(n, t, env, env_len, &e), 0, "%s", e.msg);
		cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
		by->seq++;
		memcpy(by->prev, hash, HASH_BYTES);
	}
	free(env);
	free(val);
}

/* BY (NULL: the root node) certifies SUBJECT as the child NAME. */
static void certify(struct author *by, const uint8_t subject[KEY_BYTES], const char *name)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;

	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)subject};
	c.name = (char *)name;
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = all_feeds;
	c.n_feeds = 4;
	c.issued_ms = T0;
	trust_put(by, "cert", subject, &c.base);
}

static void setup(void)
{
	struct node_init_opts o = {.name = "xm", .root = true};
	struct err e = {{0}};

	snprintf(dir, sizeof dir, "/tmp/strata-witness-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	strcat(dir, "/node");
	cr_assert_eq(node_create(dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(keypair_generate(&city.kp, &e), 0);
	cr_assert_eq(keypair_generate(&branch.kp, &e), 0);
	city.seq = branch.seq = 0;
	certify(NULL, pub(&city), "xm/siming");
	certify(&city, pub(&branch), "xm/siming/b1");
	for (int i = 0; i < BRANCH_ENTRIES; i++) { /* the branch's trust feed: the feed checkpointed */
		struct keypair *k = NULL;
		char name[64];

		cr_assert_eq(keypair_generate(&k, &e), 0);
		snprintf(name, sizeof name, "xm/siming/b1/k%d", i);
		certify(&branch, keypair_public(k), name);
		keypair_destroy(&k);
	}
}

static void teardown(void)
{
	node_close(&n);
	keypair_destroy(&city.kp);
	keypair_destroy(&branch.kp);
	*strrchr(dir, '/') = '\0';
	spawn_remove_tree(dir);
}

TestSuite(witness, .init = setup, .fini = teardown, .timeout = 60);

/* The tree of the branch's first size trust entries, from their hashes. */
static void expected_root(uint64_t size, uint8_t root[TLOG_HASH_BYTES])
{
	struct tlog_frontier f;
	struct store_txn *t = NULL;
	struct err e = {{0}};

	tlog_frontier_init(&f);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0);
	for (uint64_t s = 1; s <= size; s++) {
		const uint8_t *b;
		size_t len;
		uint8_t h[HASH_BYTES], leaf[TLOG_HASH_BYTES];

		cr_assert_eq(store_log_get(t, pub(&branch), FEED_TRUST, s, &b, &len, h, &e), 0, "%s", e.msg);
		tlog_leaf_hash(leaf, h);
		tlog_frontier_push(&f, leaf);
	}
	store_txn_abort(&t);
	tlog_frontier_root(&f, root);
}

/* A note by KP of the branch's trust feed at size with ROOT (NULL: the right one). */
static size_t signed_note(struct keypair *kp, uint64_t size, const uint8_t *root, char out[NOTE_MAX])
{
	struct checkpoint cp = {0};
	struct err e = {{0}};
	size_t len;

	memcpy(cp.author, pub(&branch), KEY_BYTES);
	snprintf(cp.feed, sizeof cp.feed, "%s", FEED_TRUST);
	cp.size = size;
	if (root)
		memcpy(cp.root, root, TLOG_HASH_BYTES);
	else
		expected_root(size, cp.root);
	cr_assert_eq(note_sign_checkpoint(kp, &cp, out, &len, &e), 0, "%s", e.msg);
	return len;
}

/* Adds a cosignature by KP to the note in buf. */
static size_t cosigned(struct keypair *kp, char buf[NOTE_MAX], size_t len)
{
	struct note nt;
	struct note_sig s;
	struct err e = {{0}};

	cr_assert_eq(note_parse(buf, len, &nt, &e), 0, "%s", e.msg);
	cr_assert_eq(note_cosign(kp, &nt, T0 / 1000, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(note_add_sig(&nt, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(note_format(&nt, buf, &len, &e), 0, "%s", e.msg);
	return len;
}

static int ingest(const char *note, size_t len, enum node_ckpt_outcome *out, struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	memset(e, 0, sizeof *e);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, e), 0, "%s", e->msg);
	ret = node_checkpoint_ingest(n, t, (const uint8_t *)note, len, true, out, e);
	if (ret == 0)
		cr_assert_eq(store_txn_commit(&t, e), 0, "%s", e->msg);
	store_txn_abort(&t);
	return ret;
}

/* The held note of the branch's trust feed (witnessed or newest), parsed; false if none. */
static bool held(bool witnessed, struct note *nt)
{
	struct store_txn *t = NULL;
	struct err e = {{0}};
	const uint8_t *b;
	size_t len;
	bool ok;

	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0);
	ok = node_checkpoint_get(t, pub(&branch), FEED_TRUST, witnessed, &b, &len, &e) == 0;
	if (ok)
		cr_assert_eq(note_parse((const char *)b, len, nt, &e), 0, "%s", e.msg);
	store_txn_abort(&t);
	return ok;
}

static bool signed_by(const struct note *nt, uint8_t alg, const uint8_t *key)
{
	for (size_t i = 0; i < nt->n_sigs; i++)
		if (nt->sigs[i].alg == alg && memcmp(nt->sigs[i].key, key, KEY_BYTES) == 0)
			return true;
	return false;
}

static uint32_t feed_flags(void)
{
	struct store_txn *t = NULL;
	struct store_head h;
	struct err e = {{0}};

	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0);
	cr_assert_eq(store_head_get(t, pub(&branch), FEED_TRUST, &h, &e), 0, "%s", e.msg);
	store_txn_abort(&t);
	return h.flags;
}

Test(witness, kept_and_cosigned_by_a_witness_once)
{
	char note[NOTE_MAX];
	size_t len = signed_note(branch.kp, 2, NULL, note);
	enum node_ckpt_outcome out;
	struct note nt;
	struct err e;

	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(out, NODE_CKPT_STORED);
	cr_assert(held(false, &nt));
	cr_assert_eq(nt.cp.size, 2);
	cr_assert(signed_by(&nt, NOTE_ALG_ED25519, pub(&branch)));
	cr_assert(signed_by(&nt, NOTE_ALG_COSIGNATURE, node_id(n)), "the root is on the branch's chain: it co-signs");
	cr_assert(held(true, &nt), "a note co-signed by a witness is the witnessed one");
	cr_assert_eq(nt.cp.size, 2);
	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(out, NODE_CKPT_KNOWN, "the same note again brings nothing");
	len = signed_note(branch.kp, 1, NULL, note);
	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert(held(false, &nt));
	cr_assert_eq(nt.cp.size, 2, "an older note does not replace a newer one");
}

Test(witness, ahead_of_the_entries_is_not_kept)
{
	char note[NOTE_MAX];
	uint8_t any[TLOG_HASH_BYTES] = {1};
	size_t len = signed_note(branch.kp, BRANCH_ENTRIES + 2, any, note);
	enum node_ckpt_outcome out;
	struct note nt;
	struct err e;

	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(out, NODE_CKPT_AHEAD);
	cr_assert_not(held(false, &nt));
	cr_assert_eq(feed_flags() & STORE_FEED_FROZEN, 0, "a note ahead is no evidence of anything");
}

struct ev_seen {
	bool checkpoint;
	uint64_t seq;
	size_t n;
};

static int on_ev(const struct node_evidence_key *k, const uint8_t *val, size_t len, void *arg)
{
	struct ev_seen *s = arg;
	Strata__Evidence *ev = strata__evidence__unpack(NULL, len, val);

	cr_assert_not_null(k);
	cr_assert_not_null(ev);
	cr_assert(ev->has_checkpoint && ev->checkpoint, "kept as checkpoint evidence");
	strata__evidence__free_unpacked(ev, NULL);
	s->checkpoint = k->checkpoint;
	s->seq = k->seq;
	s->n++;
	return 0;
}

Test(witness, inconsistent_root_is_evidence_never_cosigned)
{
	char note[NOTE_MAX];
	uint8_t wrong[TLOG_HASH_BYTES];
	size_t len;
	enum node_ckpt_outcome out;
	struct ev_seen seen = {0};
	struct store_txn *t = NULL;
	struct note nt;
	struct err e;

	expected_root(BRANCH_ENTRIES, wrong);
	wrong[0] ^= 1;
	len = signed_note(branch.kp, BRANCH_ENTRIES, wrong, note);
	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(out, NODE_CKPT_INCONSISTENT);
	cr_assert_neq(feed_flags() & STORE_FEED_FROZEN, 0, "the feed is frozen like an equivocation");
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0);
	cr_assert_eq(node_evidence_each(t, on_ev, &seen, &e), 0, "%s", e.msg);
	store_txn_abort(&t);
	cr_assert_eq(seen.n, 1);
	cr_assert(seen.checkpoint);
	cr_assert_eq(seen.seq, BRANCH_ENTRIES, "kept under the note's size");
	cr_assert_not(held(false, &nt), "an inconsistent note is not kept as a checkpoint");
	/* the right note of that size now: kept, but a frozen feed is not co-signed */
	len = signed_note(branch.kp, BRANCH_ENTRIES, NULL, note);
	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert(held(false, &nt));
	cr_assert_not(signed_by(&nt, NOTE_ALG_COSIGNATURE, node_id(n)), "no cosignature on a frozen feed");
}

Test(witness, bad_signatures_refuse_the_note)
{
	char note[NOTE_MAX], *p;
	size_t len = signed_note(branch.kp, 2, NULL, note);
	enum node_ckpt_outcome out;
	struct note nt;
	struct err e;

	/* the author's signature altered: a base64 character inside the signature's bytes */
	p = note + len - 10;
	*p = *p == 'A' ? 'B' : 'A';
	cr_assert_lt(ingest(note, len, &out, &e), 0, "an altered signature is refused");
	cr_assert(strstr(e.msg, "does not verify"), "%s", e.msg);
	cr_assert_not(held(false, &nt));
}

Test(witness, cosignatures_checked_or_dropped)
{
	char note[NOTE_MAX];
	struct keypair *stranger = NULL;
	enum node_ckpt_outcome out;
	struct note nt;
	struct err e = {{0}};
	size_t len = signed_note(branch.kp, 2, NULL, note);

	cr_assert_eq(keypair_generate(&stranger, &e), 0);
	len = cosigned(city.kp, note, len);      /* a witness: the city issued the branch */
	len = cosigned(stranger, note, len);     /* no witness of the branch: dropped */
	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert(held(true, &nt));
	cr_assert(signed_by(&nt, NOTE_ALG_COSIGNATURE, pub(&city)));
	cr_assert_not(signed_by(&nt, NOTE_ALG_COSIGNATURE, keypair_public(stranger)), "a stranger's line is dropped");
	/* a witness's cosignature altered: the note is refused */
	len = signed_note(branch.kp, 3, NULL, note);
	len = cosigned(city.kp, note, len);
	note[len - 10] = note[len - 10] == 'A' ? 'B' : 'A';
	cr_assert_lt(ingest(note, len, &out, &e), 0);
	cr_assert(held(false, &nt));
	cr_assert_eq(nt.cp.size, 2, "nothing of the refused note was kept");
	keypair_destroy(&stranger);
}

Test(witness, unknown_author_refused)
{
	struct keypair *stranger = NULL;
	struct checkpoint cp = {0};
	char note[NOTE_MAX];
	size_t len;
	enum node_ckpt_outcome out;
	struct err e = {{0}};

	cr_assert_eq(keypair_generate(&stranger, &e), 0);
	memcpy(cp.author, keypair_public(stranger), KEY_BYTES);
	snprintf(cp.feed, sizeof cp.feed, "%s", FEED_UP);
	cp.size = 1;
	cr_assert_eq(note_sign_checkpoint(stranger, &cp, note, &len, &e), 0, "%s", e.msg);
	cr_assert_lt(ingest(note, len, &out, &e), 0, "a key without a chain to the root is refused");
	keypair_destroy(&stranger);
}

Test(witness, revoked_author_is_not_cosigned)
{
	Strata__Revocation r = STRATA__REVOCATION__INIT;
	char note[NOTE_MAX];
	size_t len;
	enum node_ckpt_outcome out;
	struct note nt;
	struct err e;

	r.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)pub(&branch)};
	r.revoked_ms = T0 + 1000;
	trust_put(&city, "revocation", pub(&branch), &r.base);
	len = signed_note(branch.kp, 2, NULL, note);
	cr_assert_eq(ingest(note, len, &out, &e), 0, "%s", e.msg);
	cr_assert_eq(out, NODE_CKPT_STORED, "a revoked key's note over the entries held is kept (they verify)");
	cr_assert(held(false, &nt));
	cr_assert_not(signed_by(&nt, NOTE_ALG_COSIGNATURE, node_id(n)), "a witness co-signs no revoked key's note");
}

static int evidence(const char *a, size_t alen, const char *b, size_t blen, bool *fresh, struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	memset(e, 0, sizeof *e);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, e), 0, "%s", e->msg);
	ret = node_checkpoint_evidence(n, t, (const uint8_t *)a, alen, (const uint8_t *)b, blen, fresh, e);
	if (ret == 0)
		cr_assert_eq(store_txn_commit(&t, e), 0, "%s", e->msg);
	store_txn_abort(&t);
	return ret;
}

Test(witness, evidence_of_two_notes_of_one_size)
{
	char a[NOTE_MAX], b[NOTE_MAX];
	uint8_t other[TLOG_HASH_BYTES];
	size_t alen, blen;
	bool fresh = false;
	struct err e;

	alen = signed_note(branch.kp, 2, NULL, a);
	/* the same note twice proves nothing */
	cr_assert_eq(evidence(a, alen, a, alen, &fresh, &e), -EINVAL);
	cr_assert(strstr(e.msg, "not evidence"), "%s", e.msg);
	/* a note that matches the entries, alone, proves nothing either */
	cr_assert_eq(evidence(a, alen, NULL, 0, &fresh, &e), -EINVAL);
	cr_assert_eq(feed_flags() & STORE_FEED_FROZEN, 0);
	/* two notes of size 2 with different roots, both by the author: evidence anyone can check */
	expected_root(2, other);
	other[5] ^= 0x10;
	blen = signed_note(branch.kp, 2, other, b);
	cr_assert_eq(evidence(a, alen, b, blen, &fresh, &e), 0, "%s", e.msg);
	cr_assert(fresh);
	cr_assert_neq(feed_flags() & STORE_FEED_FROZEN, 0);
	cr_assert_eq(evidence(a, alen, b, blen, &fresh, &e), 0, "%s", e.msg);
	cr_assert_not(fresh, "held already");
}
