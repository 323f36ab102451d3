/* SPDX-License-Identifier: MIT */
/*
 * The time rules of docs/PROTOCOL.md ("Time rules"), as node_ingest applies
 * them to received entries: a root node in a temporary directory certifies
 * a branch at T0; the branch's up entries, signed here, go through
 * node_ingest like any received entry.
 *   - an entry dated before its author's certificate was issued is accepted;
 *   - time going backwards within a feed is accepted (order is seq and prev);
 *   - a revocation at T1 refuses entries dated T1 and later, and keeps
 *     those dated before it, whatever order they arrive in.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node.h"
#include "node/records/records.h"
#include "testproc.h"

#define T0 1700000000000ull /* the branch's certificate is issued */
#define T1 (T0 + 1000000)   /* its revocation takes effect */
#define PATH_CAP 512
#define ID_SIZE 16

static char dir[PATH_CAP];
static struct node *n;
static struct keypair *branch;
static uint64_t seq;
static uint8_t prev[HASH_BYTES];
static char *feeds[] = {FEED_UP, FEED_TRUST};

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf = malloc(protobuf_c_message_get_packed_size(m) + 1);

	cr_assert_not_null(buf);
	*len = protobuf_c_message_pack(m, buf);
	return buf;
}

/* A put in the root's (this node's) trust feed, through its writer. */
static void root_put(const char *collection, const uint8_t key[KEY_BYTES], const ProtobufCMessage *m)
{
	struct node_writer *w = NULL;
	struct err e = {{0}};
	size_t len;
	uint8_t *val = pack(m, &len);

	cr_assert_eq(node_writer_begin(n, FEED_TRUST, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put(w, collection, key, KEY_BYTES, val, len, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	free(val);
}

/* The branch's next up entry, dated time_ms, putting member ID; node_ingest's verdict. */
static int branch_entry(uint64_t time_ms, const char *id, struct err *e)
{
	Strata__Member m = STRATA__MEMBER__INIT;
	struct changeset_builder *b = NULL;
	struct store_txn *t = NULL;
	uint8_t *env = NULL, *val, hash[HASH_BYTES];
	size_t env_len, len;
	int ret;

	m.id = (char *)id;
	m.name = "Li";
	m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m.joined = "2020-07-01";
	val = pack(&m.base, &len);
	memset(e, 0, sizeof *e);
	cr_assert_eq(changeset_builder_new(&b, FEED_UP, seq + 1, seq ? prev : NULL, time_ms, e), 0);
	cr_assert_eq(changeset_builder_put(b, "member", (const uint8_t *)id, strlen(id), val, len, e), 0, "%s", e->msg);
	cr_assert_eq(changeset_builder_finish(b, branch, &env, &env_len, hash, e), 0, "%s", e->msg);
	changeset_builder_destroy(&b);
	cr_assert_eq(store_txn_begin(node_store(n), true, &t, e), 0, "%s", e->msg);
	if ((ret = node_ingest(n, t, env, env_len, e)) == 0) {
		cr_assert_eq(store_txn_commit(&t, e), 0, "%s", e->msg);
		seq++;
		memcpy(prev, hash, HASH_BYTES);
	}
	store_txn_abort(&t);
	free(env);
	free(val);
	return ret;
}

static void setup(void)
{
	struct node_init_opts o = {.name = "xm", .root = true};
	Strata__Certificate c = STRATA__CERTIFICATE__INIT;
	struct err e = {{0}};

	snprintf(dir, sizeof dir, "/tmp/strata-time-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	strcat(dir, "/node");
	cr_assert_eq(node_create(dir, &o, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, dir, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(keypair_generate(&branch, &e), 0, "%s", e.msg);
	c.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)keypair_public(branch)};
	c.name = "xm/b1";
	c.role = STRATA__ROLE__ROLE_CHILD;
	c.feeds = feeds;
	c.n_feeds = 2;
	c.issued_ms = T0;
	root_put("cert", keypair_public(branch), &c.base);
	seq = 0;
}

static void teardown(void)
{
	node_close(&n);
	keypair_destroy(&branch);
	*strrchr(dir, '/') = '\0';
	spawn_remove_tree(dir);
}

TestSuite(time_rules, .init = setup, .fini = teardown);

Test(time_rules, entries_before_the_certificate_and_backwards_are_accepted)
{
	struct err e;

	/* dated a day before its author's certificate was issued */
	cr_assert_eq(branch_entry(T0 - 86400000, "M1", &e), 0, "%s", e.msg);
	/* then later, then back again, then 0: the feed's order is its seqs */
	cr_assert_eq(branch_entry(T0 + 5000, "M2", &e), 0, "%s", e.msg);
	cr_assert_eq(branch_entry(T0 + 1000, "M3", &e), 0, "%s", e.msg);
	cr_assert_eq(branch_entry(0, "M4", &e), 0, "%s", e.msg);
	cr_assert_eq(seq, 4);
}

Test(time_rules, a_revocation_boundary_is_inclusive)
{
	Strata__Revocation r = STRATA__REVOCATION__INIT;
	struct err e;

	cr_assert_eq(branch_entry(T1 + 10, "M1", &e), 0, "%s", e.msg); /* before the revocation is known */
	r.subject = (ProtobufCBinaryData){KEY_BYTES, (uint8_t *)keypair_public(branch)};
	r.revoked_ms = T1;
	root_put("revocation", keypair_public(branch), &r.base);
	cr_assert_eq(branch_entry(T1, "M2", &e), -EACCES, "an entry dated at the revocation is refused");
	cr_assert(strstr(e.msg, "revoked"), "%s", e.msg);
	cr_assert_eq(branch_entry(T1 + 20, "M2", &e), -EACCES);
	/* dated before it (a clock behind, or backdated): accepted, after an entry dated later */
	cr_assert_eq(branch_entry(T1 - 1, "M2", &e), 0, "%s", e.msg);
	cr_assert_eq(seq, 2);
}
