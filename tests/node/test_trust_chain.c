/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of certificate chains (node/core/authorize.c, cert_index.c, revoked.c): a root node in a
 * temporary directory, and the trust-feed entries of the keys below it,
 * signed here and put through node_ingest like any received entry:
 *
 *   xm (the node, root) -> xm/siming (city) -> xm/siming/d1 (district)
 *                       -> xm/siming/d1/b1 (branch)
 *
 * Then the chain walk (node_chain_*), node_authorize's verdicts, revocation
 * of an intermediate key, a rotation's successor, a certificate dated after
 * its issuer's revocation, broken and looping chains, and who keeps a key
 * that two issuers certify (the first-issuer rule).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node.h"
#include "node/records/records.h"
#include "testproc.h"

#define T0 1700000000000ull       /* when the certificates are issued */
#define T1 (T0 + 1000000)         /* when a revocation takes effect */
#define CHAIN_INDEX "cert"        /* cert_index.c's index: subject -> issuer | certificate */
#define PATH_CAP 512

/* A key that writes its own trust feed here. */
struct author {
	struct keypair *kp;
	uint64_t seq;
	uint8_t prev[HASH_BYTES];
};

static char dir[PATH_CAP];
static struct node *n;
static struct author city, district, branch;

static const uint8_t *pub(const struct author *a)
{
	return keypair_public(a->kp);
}

static void author_new(struct author *a)
{
	struct err e = {{0}};

	memset(a, 0, sizeof *a);
	cr_assert_eq(keypair_generate(&a->kp, &e), 0, "%s", e.msg);
}

/* The value of a record (malloc'd). */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf = malloc(protobuf_c_message_get_packed_size(m) + 1);

	cr_assert_not_null(buf);
	*len = protobuf_c_message_pack(m, buf);
	return buf;
}

/* A's next trust entry, dated time_ms, putting (collection, key) = m or,
 * with m NULL, deleting it; node_ingest's verdict (e gets its reason). */
static int trust_entry(struct author *a, uint64_t time_ms, const char *collection, const uint8_t key[KEY_BYTES],
		       const ProtobufCMessage *m, struct err *e)
{
	struct changeset_builder *b = NULL;
	struct store_txn *t = NULL;
	uint8_t *env = NULL, *val = NULL, hash[HASH_BYTES];
	size_t env_len, len = 0;
	int ret;

	cr_assert_eq(changeset_builder_new(&b, FEED_TRUST, a->seq + 1, a->seq ? a->prev : NULL, time_ms, e), 0);
	if (m) {
		val = pack(m, &len);
		cr_assert_eq(changeset_builder_put(b, collection, key, KEY_BYTES, val, len, e), 0, "%s", e->msg);
	} else {
		cr_assert_eq(changeset_builder_delete(b, collection, key, KEY_BYTES, e), 0, "%s", e->msg);
	}
	cr_assert_eq(changeset_builder_finish(b, a->kp, &env, &env_len, hash, e), 0, "%s", e->msg);
	changeset_builder_destroy(&b);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, e), 0, "%s", e->msg);
	ret = node_ingest(n, t, env, env_len, e);
	if (ret == 0) {
		cr_assert_eq(store_txn_commit(&t, e), 0, "%s", e->msg);
		a->seq++;
		memcpy(a->prev, hash, HASH_BYTES);
	}
	store_txn_abort(&t);
	free(env);
	free(val);
	return ret;
}

/* The same in this node's (the root's) own trust feed, through its writer. */
static void root_entry(const char *collection, const uint8_t key[KEY_BYTES], const ProtobufCMessage *m)
{
	struct node_writer *w = NULL;
	struct err e = {{0}};
	uint8_t *val;
	size_t len;

	cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	val = pack(m, &len);
	cr_assert_eq(node_writer_put(w, collection, key, KEY_BYTES, val, len, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	free(val);
}

static char *all_feeds[] = {FEED_UP, FEED_REPORT, FEED_DOWN, FEED_TRUST};

static Strata__Certificate cert(const uint8_t subject[KEY_BYTES], const char *name, Strata__Role role,
				uint64_t issued_ms)
{
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;

	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)subject};
	c.name = (char *)name;
	c.role = role;
	c.feeds = all_feeds;
	c.n_feeds = 4;
	c.issued_ms = issued_ms;
	return c;
}

/* BY (NULL: the root) certifies SUBJECT as a child NAME; must be stored. */
static void certify(struct author *by, const uint8_t subject[KEY_BYTES], const char *name, uint64_t issued_ms)
{
	Strata__Certificate c = cert(subject, name, STRATA__ROLE__ROLE_CHILD, issued_ms);
	struct err e = {{0}};

	if (!by)
		root_entry("cert", subject, &c.base);
	else
		cr_assert_eq(trust_entry(by, T0, "cert", subject, &c.base, &e), 0, "%s", e.msg);
}

static Strata__Revocation revocation(const uint8_t subject[KEY_BYTES], uint64_t revoked_ms,
				     const uint8_t *successor)
{
	Strata__Revocation r = STRATA__REVOCATION__INIT;

	r.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)subject};
	r.revoked_ms = revoked_ms;
	if (successor) {
		r.has_successor = true;
		r.successor = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)successor};
	}
	return r;
}

/* node_authorize of KEY for FEED at time_ms; e gets the reason. */
static int authorize(const uint8_t key[KEY_BYTES], const char *feed, uint64_t time_ms, struct err *e)
{
	struct store_txn *t = NULL;
	int ret;

	memset(e, 0, sizeof *e);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, e), 0, "%s", e->msg);
	ret = node_authorize(n, t, key, feed, time_ms, e);
	store_txn_abort(&t);
	return ret;
}

static struct store_txn *reader(void)
{
	struct store_txn *t = NULL;
	struct err e = {{0}};

	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
	return t;
}

static void setup(void)
{
	struct node_init_opts o = {.name = "xm", .root = true};
	struct err e = {{0}};

	snprintf(dir, sizeof dir, "/tmp/strata-trust-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	strcat(dir, "/node");
	cr_assert_eq(node_create(dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	author_new(&city);
	author_new(&district);
	author_new(&branch);
	certify(NULL, pub(&city), "xm/siming", T0);
	certify(&city, pub(&district), "xm/siming/d1", T0);
	certify(&district, pub(&branch), "xm/siming/d1/b1", T0);
}

static void teardown(void)
{
	node_close(&n);
	keypair_destroy(&city.kp);
	keypair_destroy(&district.kp);
	keypair_destroy(&branch.kp);
	*strrchr(dir, '/') = '\0';
	spawn_remove_tree(dir);
}

TestSuite(trust_chain, .init = setup, .fini = teardown);

/* One step of a walk: SUBJECT's certificate NAME, issued by ISSUER. */
static void expect_step(struct store_txn *t, struct node_chain *w, int depth, const uint8_t *subject,
			const uint8_t *issuer, const char *name)
{
	struct err e = {{0}};

	cr_assert_eq(node_chain_next(t, w, &e), 0, "depth %d: %s", depth, e.msg);
	cr_assert_eq(w->depth, depth);
	cr_assert_eq(memcmp(w->subject, subject, KEY_BYTES), 0, "depth %d: another subject", depth);
	cr_assert_eq(memcmp(w->issuer, issuer, KEY_BYTES), 0, "depth %d: another issuer", depth);
	cr_assert_str_eq(w->cert->name, name);
}

Test(trust_chain, walk_goes_from_branch_to_the_self_issued_root)
{
	struct store_txn *t = reader();
	struct node_chain w;
	struct err e = {{0}};

	node_chain_begin(&w, pub(&branch));
	expect_step(t, &w, 0, pub(&branch), pub(&district), "xm/siming/d1/b1");
	expect_step(t, &w, 1, pub(&district), pub(&city), "xm/siming/d1");
	expect_step(t, &w, 2, pub(&city), node_id(n), "xm/siming");
	expect_step(t, &w, 3, node_id(n), node_id(n), "xm");
	cr_assert_eq(w.cert->role, STRATA__ROLE__ROLE_ROOT);
	cr_assert_eq(node_chain_next(t, &w, &e), -ELOOP, "the root's certificate is its own: the walk stops");
	cr_assert_null(w.cert);
	node_chain_end(&w);
	store_txn_abort(&t);
}

Test(trust_chain, every_level_is_authorized_for_its_feeds)
{
	struct err e;

	cr_assert_eq(authorize(pub(&branch), FEED_UP, T0, &e), 0, "%s", e.msg);
	cr_assert_eq(authorize(pub(&district), FEED_REPORT, T0, &e), 0, "%s", e.msg);
	cr_assert_eq(authorize(pub(&city), FEED_TRUST, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(authorize(pub(&branch), FEED_PRIVATE, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "does not allow feed private"), "%s", e.msg);
}

Test(trust_chain, a_key_without_certificate_is_refused)
{
	struct author stranger;
	struct err e;

	author_new(&stranger);
	cr_assert_eq(authorize(pub(&stranger), FEED_UP, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "holds no certificate in this trust domain"), "%s", e.msg);
	certify(NULL, pub(&stranger), "xm/huli", T0);
	cr_assert_eq(authorize(pub(&stranger), FEED_UP, T0, &e), 0, "%s", e.msg);
	keypair_destroy(&stranger.kp);
}

Test(trust_chain, a_missing_issuer_breaks_the_chain)
{
	struct store_txn *t;
	struct node_chain w;
	struct err e = {{0}};

	/* the city withdraws the district's certificate: the branch's chain breaks there */
	cr_assert_eq(trust_entry(&city, T0, "cert", pub(&district), NULL, &e), 0, "%s", e.msg);
	cr_assert_eq(authorize(pub(&branch), FEED_UP, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "breaks at"), "%s", e.msg);
	t = reader();
	node_chain_begin(&w, pub(&branch));
	expect_step(t, &w, 0, pub(&branch), pub(&district), "xm/siming/d1/b1");
	cr_assert_eq(node_chain_next(t, &w, &e), -ENOENT);
	cr_assert_eq(w.depth, 1);
	cr_assert_eq(memcmp(w.subject, pub(&district), KEY_BYTES), 0, "the walk stops at the key without one");
	cr_assert_eq(node_chain_next(t, &w, &e), -ENOENT, "a broken walk stays over");
	node_chain_end(&w);
	store_txn_abort(&t);
}

Test(trust_chain, a_revoked_intermediate_keeps_what_it_certified_before)
{
	Strata__Revocation r = revocation(pub(&city), T1, NULL);
	struct node_revocation got;
	struct store_txn *t;
	struct err e = {{0}};

	root_entry("revocation", pub(&city), &r.base);
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&city), &got, &e), 0, "%s", e.msg);
	cr_assert_eq(got.revoked_ms, T1);
	cr_assert_eq(memcmp(got.by, node_id(n), KEY_BYTES), 0);
	cr_assert_not(got.has_successor);
	store_txn_abort(&t);
	/* the district's certificate was issued before: the branch still writes */
	cr_assert_eq(authorize(pub(&branch), FEED_UP, T1 + 5, &e), 0, "%s", e.msg);
	/* the city itself: before its revocation yes, from it on no */
	cr_assert_eq(authorize(pub(&city), FEED_UP, T1 - 1, &e), 0, "%s", e.msg);
	cr_assert_eq(authorize(pub(&city), FEED_UP, T1, &e), -EACCES);
	cr_assert(strstr(e.msg, "was revoked by xm"), "%s", e.msg);
}

Test(trust_chain, a_certificate_dated_after_its_issuers_revocation_is_refused)
{
	Strata__Revocation r = revocation(pub(&city), T1, NULL);
	struct author late;
	struct err e = {{0}};

	author_new(&late);
	/* signed in an entry dated before the revocation, but dated after it */
	certify(&city, pub(&late), "xm/siming/d2", T1 + 1);
	cr_assert_eq(authorize(pub(&late), FEED_UP, T0, &e), 0, "before the revocation it counts: %s", e.msg);
	root_entry("revocation", pub(&city), &r.base);
	cr_assert_eq(authorize(pub(&late), FEED_UP, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "after that key was revoked"), "%s", e.msg);
	cr_assert_eq(authorize(pub(&district), FEED_UP, T0, &e), 0, "%s", e.msg);
	keypair_destroy(&late.kp);
}

Test(trust_chain, a_rotation_successor_takes_over_as_issuer)
{
	struct author city2;
	Strata__Revocation rot, rd;
	uint8_t keys[4][KEY_BYTES], next[KEY_BYTES];
	struct node_revocation got;
	struct store_txn *t;
	struct err e = {{0}};

	author_new(&city2);
	certify(NULL, pub(&city2), "xm/siming", T1);
	rot = revocation(pub(&city), T1, pub(&city2));
	root_entry("revocation", pub(&city), &rot.base);
	t = reader();
	cr_assert_eq(node_key_successor(t, pub(&city), next), 0);
	cr_assert_eq(memcmp(next, pub(&city2), KEY_BYTES), 0);
	cr_assert_eq(node_key_chain(t, pub(&city2), keys, 4), 2);
	cr_assert_eq(memcmp(keys[1], pub(&city), KEY_BYTES), 0);
	store_txn_abort(&t);
	cr_assert_eq(authorize(pub(&branch), FEED_UP, T1 + 5, &e), 0, "%s", e.msg);
	/* the successor may revoke what its predecessor certified */
	rd = revocation(pub(&district), T1 + 10, NULL);
	cr_assert_eq(trust_entry(&city2, T1 + 10, "revocation", pub(&district), &rd.base, &e), 0, "%s", e.msg);
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&district), &got, &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(got.by, pub(&city2), KEY_BYTES), 0);
	store_txn_abort(&t);
	cr_assert_eq(authorize(pub(&district), FEED_UP, T1 + 10, &e), -EACCES);
	keypair_destroy(&city2.kp);
}

Test(trust_chain, another_key_may_not_revoke)
{
	struct author huli;
	Strata__Revocation r = revocation(pub(&district), T1, NULL);
	struct err e = {{0}};

	author_new(&huli);
	certify(NULL, pub(&huli), "xm/huli", T0);
	cr_assert_eq(trust_entry(&huli, T0, "revocation", pub(&district), &r.base, &e), -EACCES);
	cr_assert(strstr(e.msg, "only the issuer of its certificate may revoke"), "%s", e.msg);
	cr_assert_eq(authorize(pub(&district), FEED_UP, T1 + 1, &e), 0, "%s", e.msg);
	keypair_destroy(&huli.kp);
}

/* Puts SUBJECT's index entry as if ISSUER had certified it (a store
 * tampered with, or a chain no honest issuers can make). */
static void index_put(const uint8_t subject[KEY_BYTES], const uint8_t issuer[KEY_BYTES], const char *name,
		      Strata__Role role)
{
	Strata__Certificate c = cert(subject, name, role, T0);
	struct store_txn *t = NULL;
	struct err e = {{0}};
	uint8_t *val, *rec;
	size_t len;

	val = pack(&c.base, &len);
	cr_assert_not_null(rec = malloc(KEY_BYTES + len));
	memcpy(rec, issuer, KEY_BYTES);
	memcpy(rec + KEY_BYTES, val, len);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, &e), 0, "%s", e.msg);
	cr_assert_eq(store_index_put(t, CHAIN_INDEX, subject, KEY_BYTES, rec, KEY_BYTES + len, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_commit(&t, &e), 0, "%s", e.msg);
	free(rec);
	free(val);
}

Test(trust_chain, a_loop_ends_at_the_depth_bound_and_is_refused)
{
	struct author a, b;
	struct store_txn *t;
	struct node_chain w;
	struct err e = {{0}};
	int steps = 0, ret;

	author_new(&a);
	author_new(&b);
	/* b a "root" so that no link fails the org-path rule first */
	index_put(pub(&a), pub(&b), "xm/x/y", STRATA__ROLE__ROLE_CHILD);
	index_put(pub(&b), pub(&a), "xm/x", STRATA__ROLE__ROLE_ROOT);
	t = reader();
	node_chain_begin(&w, pub(&a));
	while ((ret = node_chain_next(t, &w, &e)) == 0)
		steps++;
	cr_assert_eq(ret, -ELOOP);
	cr_assert_eq(steps, NODE_CHAIN_MAX);
	node_chain_end(&w);
	store_txn_abort(&t);
	cr_assert_eq(authorize(pub(&a), FEED_UP, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "does not reach this domain's root"), "%s", e.msg);
	keypair_destroy(&a.kp);
	keypair_destroy(&b.kp);
}

Test(trust_chain, a_self_issued_key_that_is_not_the_root_is_refused)
{
	struct author self;
	struct err e;

	author_new(&self);
	index_put(pub(&self), pub(&self), "xm/self", STRATA__ROLE__ROLE_CHILD);
	cr_assert_eq(authorize(pub(&self), FEED_UP, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "does not reach this domain's root"), "%s", e.msg);
	keypair_destroy(&self.kp);
}

Test(trust_chain, links_that_may_not_certify_are_refused)
{
	Strata__Certificate pc = cert(NULL, "partner", STRATA__ROLE__ROLE_PEER, T0);
	static char *peer_feeds[] = {FEED_REPORT, FEED_TRUST};
	struct author peer, x, y;
	struct err e = {{0}};

	author_new(&peer);
	author_new(&x);
	author_new(&y);
	pc.subject.data = (uint8_t *)pub(&peer);
	pc.feeds = peer_feeds;
	pc.n_feeds = 2;
	root_entry("cert", pub(&peer), &pc.base);
	certify(&peer, pub(&x), "partner/x", T0);
	cr_assert_eq(authorize(pub(&x), FEED_UP, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "may not certify others"), "%s", e.msg);
	/* a child names its children below itself */
	certify(&city, pub(&y), "xm/huli/y", T0);
	cr_assert_eq(authorize(pub(&y), FEED_UP, T0, &e), -EACCES);
	cr_assert(strstr(e.msg, "which is not below it"), "%s", e.msg);
	keypair_destroy(&peer.kp);
	keypair_destroy(&x.kp);
	keypair_destroy(&y.kp);
}

/* Two issuers certify one key: the first-issuer rule (node_cert_first_wins,
 * docs/PROTOCOL.md "Trust: certificates") gives it to the issuer whose
 * first certificate of it has the smallest issued_ms, ties to the smaller
 * issuer key, whatever order they arrive in; that issuer's later
 * certificates update it. A revocation by the other issuer is accepted (it
 * certified the key) but changes nothing. When the keeping issuer deletes
 * its certificate, the other's is promoted. (Before issue 15 the index kept
 * the first to arrive, and never promoted the second.) */
static void expect_indexed(const uint8_t *key, const uint8_t *issuer, const char *name)
{
	struct store_txn *t = reader();
	Strata__Certificate *c = NULL;
	uint8_t by[KEY_BYTES];
	struct err e = {{0}};

	cr_assert_eq(node_cert_get(t, key, by, &c, &e), 0, "%s", e.msg);
	cr_assert_eq(memcmp(by, issuer, KEY_BYTES), 0, "another issuer is indexed for %s", name);
	cr_assert_str_eq(c->name, name);
	strata__certificate__free_unpacked(c, NULL);
	store_txn_abort(&t);
}

Test(trust_chain, the_first_issuer_by_issued_ms_keeps_a_key)
{
	Strata__Revocation r = revocation(pub(&district), T1, NULL);
	struct author huli;
	struct store_txn *t;
	struct node_revocation got;
	struct err e = {{0}};

	author_new(&huli);
	certify(NULL, pub(&huli), "xm/huli", T0);
	certify(&huli, pub(&district), "xm/huli/d9", T0 + 5); /* later than city's (T0): loses */
	expect_indexed(pub(&district), pub(&city), "xm/siming/d1");
	certify(&city, pub(&district), "xm/siming/d1a", T0 + 10); /* its own issuer may change it */
	expect_indexed(pub(&district), pub(&city), "xm/siming/d1a");
	cr_assert_eq(trust_entry(&huli, T1, "revocation", pub(&district), &r.base, &e), 0, "%s", e.msg);
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&district), &got, &e), -ENOENT, "not the indexed issuer's");
	store_txn_abort(&t);
	cr_assert_eq(trust_entry(&city, T0, "cert", pub(&district), NULL, &e), 0, "%s", e.msg);
	expect_indexed(pub(&district), pub(&huli), "xm/huli/d9"); /* the other certificate is promoted */
	keypair_destroy(&huli.kp);
}

Test(trust_chain, an_earlier_certificate_that_arrives_later_takes_the_key)
{
	struct author huli, k, tie;
	const uint8_t *small, *big;
	Strata__Revocation r;
	struct node_revocation got;
	struct store_txn *t;
	struct err e = {{0}};

	author_new(&huli);
	author_new(&k);
	author_new(&tie);
	certify(NULL, pub(&huli), "xm/huli", T0);
	certify(&huli, pub(&k), "xm/huli/k", T0 + 5);
	expect_indexed(pub(&k), pub(&huli), "xm/huli/k");
	r = revocation(pub(&k), T1, NULL);
	cr_assert_eq(trust_entry(&huli, T1, "revocation", pub(&k), &r.base, &e), 0, "%s", e.msg);
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&k), &got, &e), 0, "the keeper's revocation counts");
	store_txn_abort(&t);
	certify(&city, pub(&k), "xm/siming/k", T0 + 1); /* dated earlier, arrives later: switches */
	expect_indexed(pub(&k), pub(&city), "xm/siming/k");
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&k), &got, &e), -ENOENT, "huli no longer keeps k: its revocation "
		     "does not count, as if city's certificate had come first");
	store_txn_abort(&t);
	certify(&huli, pub(&k), "xm/huli/k2", T0); /* huli's later update dated earlier still: huli's first is T0 now */
	expect_indexed(pub(&k), pub(&huli), "xm/huli/k2");
	/* the same issued_ms: the smaller issuer key keeps it, in either order */
	small = memcmp(pub(&city), pub(&huli), KEY_BYTES) < 0 ? pub(&city) : pub(&huli);
	big = small == pub(&city) ? pub(&huli) : pub(&city);
	certify(big == pub(&city) ? &city : &huli, pub(&tie), big == pub(&city) ? "xm/siming/t" : "xm/huli/t", T0 + 7);
	certify(small == pub(&city) ? &city : &huli, pub(&tie), small == pub(&city) ? "xm/siming/t" : "xm/huli/t",
		T0 + 7);
	expect_indexed(pub(&tie), small, small == pub(&city) ? "xm/siming/t" : "xm/huli/t");
	keypair_destroy(&huli.kp);
	keypair_destroy(&k.kp);
	keypair_destroy(&tie.kp);
}

/* The revocation that counts is chosen by signed data, not by arrival: the
 * earliest revoked_ms (a store and its export, read in another order, agree). */
Test(trust_chain, the_earliest_revocation_counts_whatever_came_first)
{
	Strata__Revocation late = revocation(pub(&city), T1 + 500, NULL);
	Strata__Revocation early = revocation(pub(&city), T1, NULL);
	struct node_revocation got;
	struct store_txn *t;
	struct err e = {{0}};

	root_entry("revocation", pub(&city), &late.base);
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&city), &got, &e), 0, "%s", e.msg);
	cr_assert_eq(got.revoked_ms, T1 + 500);
	store_txn_abort(&t);
	cr_assert_eq(authorize(pub(&city), FEED_UP, T1 + 10, &e), 0, "%s", e.msg);

	root_entry("revocation", pub(&city), &early.base);
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&city), &got, &e), 0, "%s", e.msg);
	cr_assert_eq(got.revoked_ms, T1, "the earlier revocation, written second, counts");
	store_txn_abort(&t);
	cr_assert_eq(authorize(pub(&city), FEED_UP, T1 + 10, &e), -EACCES);

	/* a later one after it changes nothing */
	root_entry("revocation", pub(&city), &late.base);
	t = reader();
	cr_assert_eq(node_revocation_get(t, pub(&city), &got, &e), 0, "%s", e.msg);
	cr_assert_eq(got.revoked_ms, T1);
	store_txn_abort(&t);
}
