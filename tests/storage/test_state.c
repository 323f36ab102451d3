/* SPDX-License-Identifier: MIT */
/* storage_state: state records written by appended ops, read and walked. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static uint8_t A[32], B[32];
static struct store *S;

static void setup(void)
{
	test_dir_make();
	fake_author(A, 1);
	fake_author(B, 2);
	S = test_open(STORE_CREATE);
}

static void teardown(void)
{
	store_close(&S);
	test_dir_remove();
}

TestSuite(storage_state, .init = setup, .fini = teardown);

static struct store_op put(const char *coll, const char *key, const char *val)
{
	return (struct store_op){.kind = STORE_PUT, .collection = coll,
				 .key = (const uint8_t *)key, .key_len = strlen(key),
				 .value = (const uint8_t *)val, .value_len = val ? strlen(val) : 0};
}

static struct store_op del(const char *coll, const char *key)
{
	return (struct store_op){.kind = STORE_DELETE, .collection = coll,
				 .key = (const uint8_t *)key, .key_len = strlen(key)};
}

static void append(struct store_txn *t, const uint8_t *author, const char *feed, uint64_t seq,
		   const struct store_op *ops, size_t n)
{
	struct test_entry te;
	test_entry_make(&te, author, feed, seq, 0, ops, n);
	int rc = store_append(t, &te.en, E());
	cr_assert_eq(rc, 0, "append %s #%llu: %d %s", feed, (unsigned long long)seq, rc,
		     test_err.msg);
}

/* Asserts (coll, owner, key) = val from (feed, seq); val NULL: absent. */
static void expect(struct store_txn *t, const char *coll, const uint8_t *owner, const char *key,
		   const char *val, const char *feed, uint64_t seq)
{
	const uint8_t *v;
	size_t len;
	struct store_origin o;
	int rc = store_state_get(t, coll, owner, (const uint8_t *)key, strlen(key), &v, &len, &o,
				 E());
	if (!val) {
		cr_assert_eq(rc, -ENOENT, "%s/%s: %d", coll, key, rc);
		return;
	}
	cr_assert_eq(rc, 0, "%s/%s: %d %s", coll, key, rc, test_err.msg);
	cr_assert_eq(len, strlen(val), "%s/%s", coll, key);
	cr_assert_eq(memcmp(v, val, len), 0);
	cr_assert_str_eq(o.feed, feed);
	cr_assert_eq(o.seq, seq);
}

Test(storage_state, put_overwrite_delete)
{
	struct store_txn *t = test_begin(S, true);
	struct store_op e1[] = {put("docs", "k1", "v1"), put("docs", "k2", "v2"),
				put("notes", "k1", "n1")};
	append(t, A, "posts", 1, e1, 3);
	expect(t, "docs", A, "k1", "v1", "posts", 1);
	expect(t, "docs", A, "k2", "v2", "posts", 1);
	expect(t, "notes", A, "k1", "n1", "posts", 1);
	expect(t, "docs", B, "k1", NULL, NULL, 0);

	struct store_op e2[] = {put("docs", "k1", "v1b"), del("docs", "k2"), del("docs", "missing"),
				put("docs", "k3", "x"), del("docs", "k3")};
	append(t, A, "posts", 2, e2, 5);
	test_commit(&t);

	t = test_begin(S, false);
	expect(t, "docs", A, "k1", "v1b", "posts", 2);
	expect(t, "docs", A, "k2", NULL, NULL, 0);
	expect(t, "docs", A, "k3", NULL, NULL, 0); /* ops apply in order */
	expect(t, "notes", A, "k1", "n1", "posts", 1);
	const uint8_t *v;
	size_t len;
	cr_assert_eq(store_state_get(t, "docs", A, (const uint8_t *)"k1", 2, &v, &len, NULL, E()), 0);
	cr_assert_eq(store_state_get(t, "", A, (const uint8_t *)"k1", 2, &v, &len, NULL, E()),
		     -EINVAL);
	cr_assert_eq(store_state_get(t, "docs", A, (const uint8_t *)"k2", 2, &v, &len, NULL, E()),
		     -ENOENT);
	store_txn_abort(&t);
}

Test(storage_state, owner_is_author)
{
	struct store_txn *t = test_begin(S, true);
	struct store_op a[] = {put("docs", "k", "from A")};
	struct store_op b[] = {put("docs", "k", "from B")};
	append(t, A, "posts", 1, a, 1);
	append(t, B, "other", 1, b, 1);
	expect(t, "docs", A, "k", "from A", "posts", 1);
	expect(t, "docs", B, "k", "from B", "other", 1);
	/* B deleting k only touches B's record */
	struct store_op d[] = {del("docs", "k")};
	append(t, B, "other", 2, d, 1);
	expect(t, "docs", A, "k", "from A", "posts", 1);
	expect(t, "docs", B, "k", NULL, NULL, 0);
	test_commit(&t);
}

Test(storage_state, erased_and_binary_values)
{
	struct store_txn *t = test_begin(S, true);
	static const uint8_t key[] = {0, 1, 0, 2};
	static const uint8_t val[] = {0, 0, 0xff, 0};
	struct store_op ops[] = {
		{.kind = STORE_PUT, .collection = "bin", .key = key, .key_len = 4, .value = val,
		 .value_len = 4},
		{.kind = STORE_PUT, .collection = "bin", .key = key, .key_len = 3, .value = NULL,
		 .value_len = 0},
		{.kind = STORE_PUT, .collection = "bin", .key = NULL, .key_len = 0, .value = val,
		 .value_len = 1},
	};
	append(t, A, "f", 1, ops, 3);
	const uint8_t *v;
	size_t len;
	struct store_origin o;
	cr_assert_eq(store_state_get(t, "bin", A, key, 4, &v, &len, &o, E()), 0, "%s", test_err.msg);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(v, val, 4), 0);
	cr_assert_str_eq(o.feed, "f");
	cr_assert_eq(store_state_get(t, "bin", A, key, 3, &v, &len, &o, E()), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(store_state_get(t, "bin", A, NULL, 0, &v, &len, &o, E()), 0);
	cr_assert_eq(len, 1);
	size_t n = 0;
	cr_assert_eq(store_state_count(t, "bin", A, &n, E()), 0);
	cr_assert_eq(n, 3);
	test_commit(&t);
}

struct seen {
	int n;
	int stop_at;
	char keys[16][32];
	uint8_t owner0[16];
};

static int collect(const struct store_record *r, void *arg)
{
	struct seen *s = arg;
	cr_assert_lt(s->n, 16);
	cr_assert_lt(r->key_len, 32);
	memcpy(s->keys[s->n], r->key, r->key_len);
	s->keys[s->n][r->key_len] = '\0';
	s->owner0[s->n] = r->owner[0];
	/* the value is "<key>@<feed>" and the origin says where it came from */
	char want[64];
	snprintf(want, sizeof want, "%.31s@%.20s", s->keys[s->n], r->origin.feed);
	cr_assert_eq(r->value_len, strlen(want));
	cr_assert_eq(memcmp(r->value, want, r->value_len), 0);
	s->n++;
	return s->n == s->stop_at ? -123 : 0;
}

Test(storage_state, each_order_owner_filter_stop)
{
	struct store_txn *t = test_begin(S, true);
	/* out of order, and collections that share a prefix with "docs" */
	struct store_op b1[] = {put("docs", "m", "m@fb"), put("docs", "a", "a@fb"),
				put("docs2", "z", "z@fb"), put("doc", "z", "z@fb")};
	struct store_op a1[] = {put("docs", "z", "z@fa"), put("docs", "b", "b@fa"),
				put("docs", "bb", "bb@fa"), put("docsx", "q", "q@fa"),
				put("doc", "a", "a@fa")};
	append(t, B, "fb", 1, b1, 4);
	append(t, A, "fa", 1, a1, 5);
	test_commit(&t);

	t = test_begin(S, false);
	struct seen s = {0};
	cr_assert_eq(store_state_each(t, "docs", NULL, collect, &s, E()), 0, "%s", test_err.msg);
	cr_assert_eq(s.n, 5);
	/* owner A (1) first, then B (2), each in key order */
	const char *order[] = {"b", "bb", "z", "a", "m"};
	const uint8_t owners[] = {1, 1, 1, 2, 2};
	for (int i = 0; i < 5; i++) {
		cr_assert_str_eq(s.keys[i], order[i]);
		cr_assert_eq(s.owner0[i], owners[i]);
	}

	struct seen sb = {0};
	cr_assert_eq(store_state_each(t, "docs", B, collect, &sb, E()), 0);
	cr_assert_eq(sb.n, 2);
	cr_assert_str_eq(sb.keys[0], "a");
	cr_assert_str_eq(sb.keys[1], "m");

	struct seen sd = {0};
	cr_assert_eq(store_state_each(t, "doc", NULL, collect, &sd, E()), 0);
	cr_assert_eq(sd.n, 2);

	struct seen stop = {.stop_at = 2};
	cr_assert_eq(store_state_each(t, "docs", NULL, collect, &stop, E()), -123);
	cr_assert_eq(stop.n, 2);

	struct seen none = {0};
	cr_assert_eq(store_state_each(t, "nothing", NULL, collect, &none, E()), 0);
	cr_assert_eq(none.n, 0);
	uint8_t C[32];
	fake_author(C, 3);
	cr_assert_eq(store_state_each(t, "docs", C, collect, &none, E()), 0);
	cr_assert_eq(none.n, 0);

	size_t n = 99;
	cr_assert_eq(store_state_count(t, "docs", NULL, &n, E()), 0);
	cr_assert_eq(n, 5);
	cr_assert_eq(store_state_count(t, "docs", A, &n, E()), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(store_state_count(t, "docs2", NULL, &n, E()), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(store_state_count(t, "nothing", NULL, &n, E()), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_state_count(t, "", NULL, &n, E()), -EINVAL);
	store_txn_abort(&t);
}

/* A successor key's write removes its predecessor's record of that key and
 * marks it; other keys and other owners are untouched. */
Test(storage_state, supersede_removes_and_marks)
{
	struct store_txn *t;
	uint8_t by[32], C[32];
	struct store_op a[] = {put("member", "m1", "one"), put("member", "m2", "two")};

	fake_author(C, 3);
	cr_assert_eq(store_txn_begin(S, true, &t, E()), 0);
	append(t, A, "up", 1, a, 2);
	cr_assert_eq(store_state_superseded(t, "member", A, (const uint8_t *)"m1", 2, by), 0);
	cr_assert_eq(store_state_supersede(t, "member", A, (const uint8_t *)"m1", 2, B, E()), 0, "%s", test_err.msg);
	/* a key never written is marked as well (its late put must not count) */
	cr_assert_eq(store_state_supersede(t, "member", A, (const uint8_t *)"m9", 2, B, E()), 0, "%s", test_err.msg);
	expect(t, "member", A, "m1", NULL, NULL, 0);
	expect(t, "member", A, "m2", "two", "up", 1);
	cr_assert_eq(store_state_superseded(t, "member", A, (const uint8_t *)"m1", 2, by), 1);
	cr_assert_eq(memcmp(by, B, 32), 0, "the mark does not name the successor");
	cr_assert_eq(store_state_superseded(t, "member", A, (const uint8_t *)"m9", 2, NULL), 1);
	cr_assert_eq(store_state_superseded(t, "member", A, (const uint8_t *)"m2", 2, NULL), 0);
	cr_assert_eq(store_state_superseded(t, "dues", A, (const uint8_t *)"m1", 2, NULL), 0);
	cr_assert_eq(store_state_superseded(t, "member", C, (const uint8_t *)"m1", 2, NULL), 0);
	cr_assert_eq(store_txn_commit(&t, E()), 0);
	/* read-only: a mark is read, never written */
	cr_assert_eq(store_txn_begin(S, false, &t, E()), 0);
	cr_assert_eq(store_state_superseded(t, "member", A, (const uint8_t *)"m1", 2, NULL), 1);
	cr_assert_neq(store_state_supersede(t, "member", A, (const uint8_t *)"m2", 2, B, E()), 0);
	store_txn_abort(&t);
}
