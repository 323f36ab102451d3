/* SPDX-License-Identifier: MIT */
/*
 * Erasure of salted values (issue 15): after `strata erase` and the scrub,
 * neither the value's bytes nor its salt are anywhere in data.mdb, and
 * with every remaining signed body and the true value nothing confirms it:
 * not its plain BLAKE2b-256, not a hash keyed with any 32 bytes of the
 * file. Entries written before salted commitments (value_hash; built here
 * with changeset_test_salts' old form) still erase, and `strata erase`
 * says, text and JSON, how many committed without a salt and that a
 * guessed value can still be confirmed from them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "node/core/admin.h"
#include "node/core/node.h"
#include "run.h"

#define ERASED_ID "M0003"
#define ID_CAP 16
#define PHONE_CAP 16
#define SALTS_MAX 8

static void setup(void)
{
	cr_assert_eq(keys_init(), 0);
	test_tmp_make();
}

TestSuite(erase_salt, .init = setup, .fini = test_tmp_remove);

/* The salts the builders drew, in order (random, and kept here). */
static uint8_t salts[SALTS_MAX][SALT_BYTES];
static size_t n_salts;

static void keep_salt(void *ctx, size_t op, uint8_t salt[SALT_BYTES])
{
	(void)ctx;
	(void)op;
	randombytes_buf(salt, SALT_BYTES);
	cr_assert_lt(n_salts, SALTS_MAX);
	memcpy(salts[n_salts++], salt, SALT_BYTES);
}

static struct node *open_node(void)
{
	struct node *n = NULL;
	struct err e = {0};

	cr_assert_eq(node_open(&n, test_node, 0, &e), 0, "%s", e.msg);
	node_set_fence_wait(n, 0);
	return n;
}

/* Member id with phone, packed into *value (malloc'd) and put in one commit. */
static size_t put_member(struct node *n, const char *id, const char *phone, uint8_t **value)
{
	Strata__Member m = STRATA__MEMBER__INIT;
	struct node_writer *w = NULL;
	struct err e = {0};
	size_t len;

	m.id = (char *)id;
	m.name = "resident";
	m.category = STRATA__MEMBER_CATEGORY__CATEGORY_FULL;
	m.status = STRATA__MEMBER_STATUS__STATUS_ACTIVE;
	m.joined = "2021-07-01";
	m.phone = (char *)phone;
	len = strata__member__get_packed_size(&m);
	cr_assert_not_null(*value = malloc(len));
	strata__member__pack(&m, *value);
	cr_assert_eq(node_writer_begin(n, FEED_UP, &w, &e), 0, "%s", e.msg);
	cr_assert_eq(node_writer_put_msg(w, "member", (const uint8_t *)id, strlen(id), (const ProtobufCMessage *)&m,
					 &e),
		     0, "%s", e.msg);
	cr_assert_eq(node_writer_commit(&w, NULL, NULL, &e), 0, "%s", e.msg);
	return len;
}

/* data.mdb, read raw; caller frees. */
static uint8_t *store_file(size_t *len)
{
	char path[256];
	FILE *f;
	long size;
	uint8_t *buf;

	snprintf(path, sizeof path, "%s/store/data.mdb", test_node);
	cr_assert_not_null(f = fopen(path, "rb"), "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	cr_assert_geq(size = ftell(f), 0);
	rewind(f);
	cr_assert_not_null(buf = malloc((size_t)size + 1));
	*len = fread(buf, 1, (size_t)size, f);
	fclose(f);
	return buf;
}

static bool holds(const uint8_t *p, size_t n, const void *needle, size_t nl)
{
	for (size_t i = 0; i + nl <= n; i++)
		if (memcmp(p + i, needle, nl) == 0)
			return true;
	return false;
}

/* The commitments of ERASED_ID's puts, read from the stored entries. */
struct commits {
	uint8_t c[SALTS_MAX][HASH_BYTES];
	size_t n, present, unsalted;
};

static int on_entry(const struct changeset *cs, uint64_t seq, const struct err *why, void *arg)
{
	struct commits *k = arg;

	cr_assert_not_null(cs, "entry #%llu: %s", (unsigned long long)seq, why->msg);
	for (size_t i = 0; i < cs->n_ops; i++) {
		const struct op *o = &cs->ops[i];

		if (o->kind != OP_PUT || strcmp(o->collection, "member") || o->key_len != strlen(ERASED_ID) ||
		    memcmp(o->key, ERASED_ID, o->key_len))
			continue;
		cr_assert_lt(k->n, SALTS_MAX);
		memcpy(k->c[k->n++], o->value_hash, HASH_BYTES);
		k->present += o->value != NULL;
		k->unsalted += !o->salted;
		cr_assert(o->value || !o->salt, "an erased value kept its salt");
	}
	return 0;
}

static void commits_read(struct commits *k)
{
	struct node *n = NULL;
	struct err e = {0};

	memset(k, 0, sizeof *k);
	cr_assert_eq(node_open(&n, test_node, NODE_RDONLY, &e), 0, "%s", e.msg);
	cr_assert_eq(node_log_each(n, FEED_UP, on_entry, k, &e), 0, "%s", e.msg);
	node_close(&n);
}

/* Nothing without the salt opens commitment c to value: not the plain
 * hash, not a hash keyed with any 32 bytes found in the file. */
static void unconfirmable(const uint8_t c[HASH_BYTES], const uint8_t *value, size_t vlen, const uint8_t *file,
			  size_t flen)
{
	static const uint8_t zero[SALT_BYTES];
	uint8_t h[HASH_BYTES];

	crypto_generichash(h, sizeof h, value, vlen, NULL, 0);
	cr_assert(memcmp(h, c, HASH_BYTES) != 0, "the plain hash confirms the erased value");
	for (size_t i = 0; i + SALT_BYTES <= flen; i++) {
		if (memcmp(file + i, zero, SALT_BYTES) == 0)
			continue;
		crypto_generichash(h, sizeof h, value, vlen, file + i, SALT_BYTES);
		cr_assert(memcmp(h, c, HASH_BYTES) != 0, "32 bytes at offset %zu of data.mdb open the commitment", i);
	}
}

Test(erase_salt, the_salt_leaves_the_file_and_nothing_confirms_the_value)
{
	struct node *n;
	struct node_erase_result r;
	struct store_scrub_counts sc;
	struct commits k;
	struct err e = {0};
	uint8_t *v1, *v2, *v0, *file;
	size_t l1, l2, l0, flen;

	node_init("root");
	n = open_node();
	l0 = put_member(n, "M0002", "13800000002", &v0);
	changeset_test_salts(keep_salt, NULL, false);
	l1 = put_member(n, ERASED_ID, "13800000003", &v1);
	l2 = put_member(n, ERASED_ID, "13900000003", &v2); /* an update: two entries hold a value */
	changeset_test_salts(NULL, NULL, false);
	cr_assert_eq(n_salts, 2);
	file = store_file(&flen);
	cr_assert(holds(file, flen, salts[0], SALT_BYTES) && holds(file, flen, salts[1], SALT_BYTES),
		  "the salts were never stored");
	free(file);
	cr_assert_eq(node_erase(n, "member", ERASED_ID, "moved away", &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.entries, 2);
	cr_assert_eq(r.unsalted, 0);
	cr_assert_geq(node_scrub(n, &sc, &e), 0, "%s", e.msg);
	node_close(&n);

	file = store_file(&flen);
	cr_assert(holds(file, flen, v0, l0), "a value that was not erased is gone");
	cr_assert_not(holds(file, flen, "13800000003", 11) || holds(file, flen, "13900000003", 11),
		      "the erased phone numbers are still in data.mdb");
	for (size_t i = 0; i < n_salts; i++)
		cr_assert_not(holds(file, flen, salts[i], SALT_BYTES), "erased value %zu's salt is still in data.mdb",
			      i);
	commits_read(&k);
	cr_assert_eq(k.n, 2);
	cr_assert_eq(k.present, 0);
	cr_assert_eq(k.unsalted, 0);
	/* with the salt (as before the erase) the commitment opened */
	uint8_t h[HASH_BYTES];
	crypto_generichash(h, sizeof h, v1, l1, salts[0], SALT_BYTES);
	cr_assert_arr_eq(h, k.c[0], HASH_BYTES);
	unconfirmable(k.c[0], v1, l1, file, flen);
	unconfirmable(k.c[1], v2, l2, file, flen);
	free(file);
	free(v0);
	free(v1);
	free(v2);
}

/* An old entry (value_hash) and a salted update of the same member: both
 * erased, one counted unsalted, and erase warns, text and JSON; the old
 * entry's hash still confirms the value (the limit the warning states),
 * and the store still verifies. */
Test(erase_salt, old_unsalted_entries_are_counted_and_warned_about)
{
	struct node *n;
	struct commits k;
	struct run r;
	uint8_t *v[3], h[HASH_BYTES];
	size_t l0;
	json_t *j;

	node_init("root");
	n = open_node();
	changeset_test_salts(NULL, NULL, true); /* as a version before salted commitments wrote */
	l0 = put_member(n, ERASED_ID, "13800000003", &v[0]);
	put_member(n, "M0004", "13800000004", &v[1]);
	changeset_test_salts(NULL, NULL, false);
	put_member(n, ERASED_ID, "13900000003", &v[2]);
	node_close(&n);

	run_strata(&r, "erase", "-d", test_node, "--collection", "member", "--key", ERASED_ID, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	cr_assert_eq(json_integer_value(json_object_get(j, "entries")), 2);
	cr_assert_eq(json_integer_value(json_object_get(j, "unsalted")), 1);
	cr_assert(has(json_string_value(json_object_get(j, "warning")), "a guessed value can still be confirmed"),
		  "%s", r.out);
	json_decref(j);
	run_free(&r);
	run_strata(&r, "erase", "-d", test_node, "--collection", "member", "--key", "M0004", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "warning: 1 entry of them committed to the value without a salt") &&
			  has(r.out, "a guessed value can still be confirmed") &&
			  has(r.out, "Entries written from this version on are salted"),
		  "%s", r.out);
	run_free(&r);

	commits_read(&k);
	cr_assert_eq(k.n, 2);
	cr_assert_eq(k.present, 0);
	cr_assert_eq(k.unsalted, 1);
	crypto_generichash(h, sizeof h, v[0], l0, NULL, 0);
	cr_assert_arr_eq(h, k.c[0], HASH_BYTES, "the old entry's signed hash is the value's plain hash");
	run_strata(&r, "verify", "-d", test_node, NULL);
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	run_free(&r);
	for (int i = 0; i < 3; i++)
		free(v[i]);
}
