/* SPDX-License-Identifier: MIT */
/*
 * node_cli_verify: `strata verify` through the real binary, on a clean store
 * (exit 0, counts equal to what was written) and on stores tampered with
 * directly through the storage API: one flipped byte in an entry's body, in
 * a value, in a signature; entries appended behind the node's back; state
 * that differs from the log; a schema newer than this build.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/core/node.h"
#include "node/records/records.h"
#include "protocol/protocol.h"
#include "run.h"

static void setup(void)
{
	cr_assert_eq(keys_init(), 0);
	test_tmp_make();
	node_init("xiamen/huli/hetong");
}

TestSuite(node_cli_verify, .init = setup, .fini = test_tmp_remove);

static struct err test_err;

static struct err *E(void)
{
	memset(&test_err, 0, sizeof test_err);
	return &test_err;
}

static struct store *store_of_node(int flags)
{
	char dir[256];
	struct store *s = NULL;
	int rc;

	snprintf(dir, sizeof dir, "%s/store", test_node);
	rc = store_open(&s, dir, flags, E());
	cr_assert_eq(rc, 0, "store_open: %d %s", rc, test_err.msg);
	return s;
}

static struct store_txn *begin(struct store *s, bool write)
{
	struct store_txn *t = NULL;
	int rc = store_txn_begin(s, write, &t, E());

	cr_assert_eq(rc, 0, "store_txn_begin: %d %s", rc, test_err.msg);
	return t;
}

static void commit(struct store_txn **t)
{
	int rc = store_txn_commit(t, E());

	cr_assert_eq(rc, 0, "store_txn_commit: %d %s", rc, test_err.msg);
}

/* 5 entries of 100 members each in feed up. */
static void import_500(void)
{
	char csv[256];
	struct run r;

	node_set_ops_per_changeset(test_node, 100);
	gen_members(tmp_path(csv, "m.csv"), 500, 21);
	run_strata(&r, "member", "import", "-d", test_node, csv, NULL);
	cr_assert_eq(r.status, 0, "import: %s", r.err);
	run_free(&r);
	cr_assert_eq(node_verify(test_node), 0, "the untouched store does not verify");
}

/* Runs verify (text and JSON), asserts exit 3, that the text names up #seq
 * and that every failure at an entry is one of up #seq..#last (failures of
 * a whole feed or store, seq 0, may follow from them). */
static void assert_fails_at(uint64_t seq, uint64_t last, const char *reason)
{
	char want[64];
	struct run r;
	json_t *j, *f;
	bool at_seq = false;

	run_strata(&r, "verify", "-d", test_node, NULL);
	cr_assert_eq(r.status, 3, "verify: exit %d: %s %s", r.status, r.out, r.err);
	snprintf(want, sizeof want, "/up #%llu: ", (unsigned long long)seq);
	cr_assert(has(r.out, "FAIL "), "%s", r.out);
	cr_assert(has(r.out, want), "verify does not name up #%llu: %s", (unsigned long long)seq, r.out);
	if (reason)
		cr_assert(has(r.out, reason), "verify does not say \"%s\": %s", reason, r.out);
	cr_assert(has(r.out, "FAILED: "), "%s", r.out);
	run_free(&r);

	run_strata(&r, "verify", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 3, "verify --json: exit %d", r.status);
	j = run_json(&r);
	cr_assert(json_is_false(json_object_get(j, "ok")));
	f = json_object_get(j, "failures");
	cr_assert_gt(json_array_size(f), 0, "%s", r.out);
	for (size_t i = 0; i < json_array_size(f); i++) {
		json_t *x = json_array_get(f, i);
		uint64_t s = (uint64_t)json_integer_value(json_object_get(x, "seq"));

		if (s == 0)
			continue;
		cr_assert_str_eq(json_string_value(json_object_get(x, "feed")), "up", "%s", r.out);
		cr_assert(s >= seq && s <= last, "failure at #%llu, expected #%llu..#%llu: %s", (unsigned long long)s,
			  (unsigned long long)seq, (unsigned long long)last, r.out);
		at_seq |= s == seq;
	}
	cr_assert(at_seq, "no failure at #%llu: %s", (unsigned long long)seq, r.out);
	json_decref(j);
	run_free(&r);
}

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

enum where { IN_BODY, IN_VALUE, IN_SIGNATURE };

/* Flips one byte of entry seq of this node's feed up and stores it back
 * (keeping the stored hash), as a disk or a person might. */
static void flip(uint64_t seq, enum where w)
{
	uint8_t key[32], *copy;
	char hex[65];
	struct store *s;
	struct store_txn *t;
	struct changeset *cs = NULL;
	const uint8_t *bytes, *at = NULL;
	size_t len;
	int rc;

	node_key(test_node, hex, key);
	s = store_of_node(0);
	t = begin(s, true);
	rc = store_log_get(t, key, FEED_UP, seq, &bytes, &len, NULL, E());
	cr_assert_eq(rc, 0, "store_log_get #%llu: %s", (unsigned long long)seq, test_err.msg);
	cr_assert_eq(changeset_decode(&cs, bytes, len, E()), 0, "%s", test_err.msg);
	copy = malloc(len);
	memcpy(copy, bytes, len);
	switch (w) {
	case IN_BODY: {
		/* a byte of prev: the body still decodes, its signature fails */
		const uint8_t *body = find(copy, len, cs->body, cs->body_len);

		cr_assert_not_null(body);
		at = find(body, cs->body_len, cs->prev, HASH_BYTES);
		cr_assert_not_null(at, "prev not found in the body");
		at += 7;
		break;
	}
	case IN_VALUE:
		cr_assert_gt(cs->n_ops, 0);
		cr_assert_not_null(cs->ops[0].value);
		at = find(copy, len, cs->ops[0].value, cs->ops[0].value_len);
		cr_assert_not_null(at, "value not found in the envelope");
		at += cs->ops[0].value_len / 2;
		break;
	case IN_SIGNATURE:
		at = find(copy, len, cs->signature, SIG_BYTES);
		cr_assert_not_null(at, "signature not found in the envelope");
		at += 10;
		break;
	}
	copy[at - copy] ^= 0x01;
	rc = store_log_replace(t, key, FEED_UP, seq, copy, len, E());
	cr_assert_eq(rc, 0, "store_log_replace: %s", test_err.msg);
	commit(&t);
	store_close(&s);
	changeset_destroy(&cs);
	free(copy);
}

Test(node_cli_verify, clean_store_counts_what_was_written)
{
	char csv[256];
	struct run r;
	json_t *j;

	node_set_ops_per_changeset(test_node, 100);
	gen_members(tmp_path(csv, "m.csv"), 250, 4);
	run_strata(&r, "member", "import", "-d", test_node, csv, NULL); /* 3 entries, 250 ops */
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "member", "add", "-d", test_node, "--id", "X1", "--name", "Wang", "--category", "full",
		   "--joined", "2020-01-01", NULL); /* 1 entry, 1 op */
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "member", "update", "-d", test_node, "--id", "M000001", "--status", "lapsed", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err); /* 1 entry, 1 op, same key: state 251 */
	run_free(&r);

	run_strata(&r, "verify", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "exit %d: %s %s", r.status, r.out, r.err);
	j = run_json(&r);
	cr_assert(json_is_true(json_object_get(j, "ok")), "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "feeds")), 1, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "entries")), 5, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "signatures")), 5, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "ops")), 252, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "values")), 252, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(j, "state_records")), 251, "%s", r.out);
	cr_assert_eq(json_array_size(json_object_get(j, "failures")), 0, "%s", r.out);
	json_decref(j);
	run_free(&r);

	run_strata(&r, "verify", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0);
	cr_assert(has(r.out, "verified: 1 feed, 5 entries, 5 signatures, 252 ops, 252 values, 251 state records; "
			     "0 failures"),
		  "%s", r.out);
	run_free(&r);
}

Test(node_cli_verify, empty_store_verifies)
{
	struct run r;
	json_t *j;

	run_strata(&r, "verify", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "entries")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "feeds")), 0);
	json_decref(j);
	run_free(&r);
}

Test(node_cli_verify, flipped_byte_in_a_body_fails_at_its_seq)
{
	import_500();
	flip(3, IN_BODY);
	/* the next entry's prev no longer matches either */
	assert_fails_at(3, 4, NULL);
}

Test(node_cli_verify, flipped_byte_in_a_value_fails_at_its_seq)
{
	import_500();
	flip(2, IN_VALUE);
	assert_fails_at(2, 2, NULL);
}

Test(node_cli_verify, flipped_byte_in_a_signature_fails_at_its_seq)
{
	import_500();
	flip(4, IN_SIGNATURE);
	assert_fails_at(4, 4, "signature");
}

Test(node_cli_verify, flipped_byte_in_the_last_entry_fails)
{
	import_500();
	flip(5, IN_SIGNATURE);
	assert_fails_at(5, 5, NULL);
	/* a read of the log still works and says to run verify for nothing else */
	cr_assert_eq(node_log_len(test_node, NULL, 0), 5);
}

/* Reads the head (seq, hash) of this node's feed up. */
static void head_of_up(const uint8_t key[32], uint64_t *seq, uint8_t hash[32])
{
	struct store *s = store_of_node(STORE_RDONLY);
	struct store_txn *t = begin(s, false);
	struct store_head h;

	cr_assert_eq(store_head_get(t, key, FEED_UP, &h, E()), 0, "%s", test_err.msg);
	*seq = h.seq;
	memcpy(hash, h.hash, 32);
	store_txn_abort(&t);
	store_close(&s);
}

/* Appends one entry to up straight through storage, skipping ingest. */
static void append_raw(const uint8_t key[32], uint64_t seq, const uint8_t prev[32], const uint8_t hash[32],
		       const uint8_t *bytes, size_t len, const struct store_op *ops, size_t n_ops)
{
	struct store *s = store_of_node(0);
	struct store_txn *t = begin(s, true);
	struct store_entry en = {.author = key, .feed = FEED_UP, .seq = seq, .prev = prev, .hash = hash,
				 .bytes = bytes, .len = len, .n_ops = n_ops, .ops = ops};
	int rc = store_append(t, &en, E());

	cr_assert_eq(rc, 0, "store_append #%llu: %d %s", (unsigned long long)seq, rc, test_err.msg);
	commit(&t);
	store_close(&s);
}

/* A packed valid member. Caller frees. */
static uint8_t *member_value(const char *id, const char *name, size_t *len)
{
	Strata__Member m = STRATA__MEMBER__INIT;
	uint8_t *buf;

	m.id = (char *)id;
	m.name = (char *)name;
	m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m.joined = "2020-01-01";
	*len = strata__member__get_packed_size(&m);
	buf = malloc(*len);
	strata__member__pack(&m, buf);
	return buf;
}

/* Builds and signs an envelope of up at seq after prev with one put of
 * member id = value (or no op if value is NULL). Caller frees *env. */
static void build(const struct keypair *kp, uint64_t seq, const uint8_t prev[32], const char *id,
		  const uint8_t *value, size_t value_len, uint8_t **env, size_t *len, uint8_t hash[32])
{
	struct changeset_builder *b = NULL;

	cr_assert_eq(changeset_builder_new(&b, FEED_UP, seq, prev, 1700000000000ull, E()), 0, "%s", test_err.msg);
	if (value)
		cr_assert_eq(changeset_builder_put(b, "member", (const uint8_t *)id, strlen(id), value, value_len, E()),
			     0, "%s", test_err.msg);
	cr_assert_eq(changeset_builder_finish(b, kp, env, len, hash, E()), 0, "%s", test_err.msg);
	changeset_builder_destroy(&b);
}

static struct keypair *node_keypair(void)
{
	char p[256];
	struct keypair *kp = NULL;

	snprintf(p, sizeof p, "%s/node.key", test_node);
	cr_assert_eq(keypair_load(&kp, p, E()), 0, "%s", test_err.msg);
	return kp;
}

Test(node_cli_verify, garbage_entry_appended_fails_at_its_seq)
{
	static const uint8_t junk[] = "this is not an envelope at all";
	uint8_t key[32], prev[32], hash[32];
	char hex[65];
	uint64_t head;

	import_500();
	node_key(test_node, hex, key);
	head_of_up(key, &head, prev);
	cr_assert_eq(head, 5);
	hash_blake2b(hash, junk, sizeof junk);
	append_raw(key, head + 1, prev, hash, junk, sizeof junk, NULL, 0);
	assert_fails_at(6, 6, NULL);
}

Test(node_cli_verify, entry_signed_by_another_key_fails_at_its_seq)
{
	uint8_t key[32], prev[32], hash[32], *env, *val;
	struct keypair *other = NULL;
	struct store_op op;
	char hex[65];
	uint64_t head;
	size_t len, vlen;

	import_500();
	node_key(test_node, hex, key);
	head_of_up(key, &head, prev);
	cr_assert_eq(keypair_generate(&other, E()), 0);
	val = member_value("EVIL1", "Mallory", &vlen);
	build(other, head + 1, prev, "EVIL1", val, vlen, &env, &len, hash);
	op = (struct store_op){.kind = STORE_PUT, .collection = "member", .key = (const uint8_t *)"EVIL1",
			       .key_len = 5, .value = val, .value_len = vlen};
	append_raw(key, head + 1, prev, hash, env, len, &op, 1);
	assert_fails_at(6, 6, NULL);
	keypair_destroy(&other);
	free(env);
	free(val);
}

/* A genuine entry (signed by the node's own key), but state got another
 * value than the one logged: the state replay must catch it. */
Test(node_cli_verify, state_that_differs_from_the_log_fails_at_its_seq)
{
	uint8_t key[32], prev[32], hash[32], *env, *logged, *stored;
	struct keypair *kp;
	struct store_op op;
	char hex[65];
	uint64_t head;
	size_t len, llen, slen;
	struct run r;

	import_500();
	kp = node_keypair();
	node_key(test_node, hex, key);
	head_of_up(key, &head, prev);
	logged = member_value("NEW1", "Logged Name", &llen);
	stored = member_value("NEW1", "Stored Name", &slen);
	build(kp, head + 1, prev, "NEW1", logged, llen, &env, &len, hash);
	op = (struct store_op){.kind = STORE_PUT, .collection = "member", .key = (const uint8_t *)"NEW1",
			       .key_len = 4, .value = stored, .value_len = slen};
	append_raw(key, head + 1, prev, hash, env, len, &op, 1);

	/* the store serves the tampered value... */
	run_strata(&r, "member", "show", "-d", test_node, "--id", "NEW1", NULL);
	cr_assert(has(r.out, "Stored Name"), "%s %s", r.out, r.err);
	run_free(&r);
	/* ...and verify says where it came from */
	assert_fails_at(6, 6, "differs from the logged value");
	keypair_destroy(&kp);
	free(env);
	free(logged);
	free(stored);
}

/* The same genuine entry appended with its true value verifies: the test
 * above fails for the value, not for the way it was appended. */
Test(node_cli_verify, genuine_entry_appended_directly_verifies)
{
	uint8_t key[32], prev[32], hash[32], *env, *val;
	struct keypair *kp;
	struct store_op op;
	char hex[65];
	uint64_t head;
	size_t len, vlen;

	import_500();
	kp = node_keypair();
	node_key(test_node, hex, key);
	head_of_up(key, &head, prev);
	val = member_value("NEW1", "Logged Name", &vlen);
	build(kp, head + 1, prev, "NEW1", val, vlen, &env, &len, hash);
	op = (struct store_op){.kind = STORE_PUT, .collection = "member", .key = (const uint8_t *)"NEW1",
			       .key_len = 4, .value = val, .value_len = vlen};
	append_raw(key, head + 1, prev, hash, env, len, &op, 1);
	cr_assert_eq(node_verify(test_node), 0);
	cr_assert_eq(node_member_count(test_node), 501);
	keypair_destroy(&kp);
	free(env);
	free(val);
}

/* A record in state that no logged op wrote (the envelope has no ops). */
Test(node_cli_verify, state_record_no_entry_wrote_fails)
{
	uint8_t key[32], prev[32], hash[32], *env, *val;
	struct keypair *kp;
	struct store_op op;
	char hex[65];
	uint64_t head;
	size_t len, vlen;
	struct run r;
	json_t *j;

	import_500();
	kp = node_keypair();
	node_key(test_node, hex, key);
	head_of_up(key, &head, prev);
	val = member_value("GHOST", "Nobody", &vlen);
	build(kp, head + 1, prev, NULL, NULL, 0, &env, &len, hash);
	op = (struct store_op){.kind = STORE_PUT, .collection = "member", .key = (const uint8_t *)"GHOST",
			       .key_len = 5, .value = val, .value_len = vlen};
	append_raw(key, head + 1, prev, hash, env, len, &op, 1);

	run_strata(&r, "verify", "-d", test_node, NULL);
	cr_assert_eq(r.status, 3, "exit %d: %s", r.status, r.out);
	cr_assert(has(r.out, "FAIL store: state holds 1 record(s) that no log entry wrote"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "verify", "-d", test_node, "--json", NULL);
	j = run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "entries")), 6);
	cr_assert_eq(json_array_size(json_object_get(j, "failures")), 1, "%s", r.out);
	json_decref(j);
	run_free(&r);
	keypair_destroy(&kp);
	free(env);
	free(val);
}

Test(node_cli_verify, newer_schema_refuses_every_command)
{
	static const uint8_t schema99[4] = {0, 0, 0, 99};
	char csv[256];
	struct store *s;
	struct store_txn *t;
	struct run r;
	static const char *const cmds[][12] = {
		{"id"},
		{"log"},
		{"verify"},
		{"member", "list"},
		{"member", "show", "--id", "M1"},
		{"member", "add", "--id", "M2", "--name", "Li", "--category", "full", "--joined", "2020-01-01"},
		{"member", "update", "--id", "M1", "--name", "Li"},
		{"member", "import", NULL},
	};

	run_strata(&r, "member", "add", "-d", test_node, "--id", "M1", "--name", "Wang", "--category", "full",
		   "--joined", "2020-01-01", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	tmp_path(csv, "m.csv");
	write_str(csv, "id,name,category,joined\nM3,Zhao,full,2020-01-01\n");

	s = store_of_node(0);
	t = begin(s, true);
	cr_assert_eq(store_meta_put(t, "schema", schema99, 4, E()), 0, "%s", test_err.msg);
	commit(&t);
	store_close(&s);

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		char *argv[20] = {(char *)strata_path()};
		size_t n = 1;

		for (size_t k = 0; k < 12 && cmds[i][k]; k++)
			argv[n++] = (char *)cmds[i][k];
		if (!strcmp(cmds[i][0], "member") && !strcmp(cmds[i][1], "import"))
			argv[n++] = csv;
		argv[n++] = "-d";
		argv[n++] = test_node;
		argv[n] = NULL;
		run_argv(&r, NULL, argv);
		cr_assert_eq(r.status, 4, "%s %s: exit %d: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "", r.status,
			     r.err);
		cr_assert(has(r.err, "schema 99"), "%s %s: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "", r.err);
		cr_assert(has(r.err, "upgrade Strata"), "%s", r.err);
		run_free(&r);
	}
	/* nothing was written: the schema is still 99 and the store opens read-only */
	{
		char dir[256];
		struct store *ro = NULL;

		snprintf(dir, sizeof dir, "%s/store", test_node);
		cr_assert_eq(store_open(&ro, dir, STORE_RDONLY, E()), -EPROTONOSUPPORT, "%s", test_err.msg);
	}
}
