/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the record engine (node/records/fields.c) and of the domain
 * operations (node/domain): the library functions every front end calls,
 * on real stores in a temporary directory, no binary run.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "node/core/node.h"
#include "node/domain/domain.h"
#include "node/records/records.h"
#include "tests/node/run.h"

#define TEXT_CAP 1024
#define TMP_PATH_CAP 256 /* tmp_path's buffer */

/* --- the field engine --- */

/* A new message of t with fields set from name=value pairs (NULL-ended);
 * asserts each set succeeds. */
static ProtobufCMessage *make(const struct record_type *t, const char *const *kv)
{
	ProtobufCMessage *m = record_new(t);
	struct err e = {0};

	cr_assert_not_null(m);
	for (; kv[0]; kv += 2) {
		const struct record_field *f = record_field_find(t, kv[0]);

		cr_assert_not_null(f, "%s has no field %s", t->collection, kv[0]);
		cr_assert_eq(record_set(t, m, f, kv[1], &e), 0, "%s=%s: %s", kv[0], kv[1], e.msg);
	}
	return m;
}

/* record_set of one field: its return and e.msg. */
static int set_one(const struct record_type *t, ProtobufCMessage *m, const char *name, const char *v, struct err *e)
{
	memset(e, 0, sizeof *e);
	return record_set(t, m, record_field_find(t, name), v, e);
}

static const char *text_of(const struct record_type *t, const ProtobufCMessage *m, const char *name, char *buf)
{
	record_get_text(t, m, record_field_find(t, name), buf, TEXT_CAP);
	return buf;
}

static int check(const struct record_type *t, const ProtobufCMessage *m, struct err *e)
{
	memset(e, 0, sizeof *e);
	return record_check_fields(t, m, NULL, 0, e);
}

Test(fields, text_and_date)
{
	const char *kv[] = {"member", "M1", "period", "2026-02", "amount", "500", "method", "cash", "paid", "2026-02-03",
			    NULL};
	ProtobufCMessage *m = make(&record_dues, kv);
	char buf[TEXT_CAP], big[40];
	struct err e;

	cr_assert_eq(check(&record_dues, m, &e), 0, "%s", e.msg);
	cr_assert_str_eq(text_of(&record_dues, m, "method", buf), "cash");
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cr_assert_eq(set_one(&record_dues, m, "method", big, &e), 0);
	cr_assert_eq(check(&record_dues, m, &e), -EINVAL, "33+ bytes of a 32-byte field passed");
	cr_assert(has(e.msg, "method must be 1-32 bytes of text"), "%s", e.msg);
	cr_assert_eq(set_one(&record_dues, m, "method", "a\x01", &e), 0);
	cr_assert_eq(check(&record_dues, m, &e), -EINVAL, "a control byte passed");
	cr_assert_eq(set_one(&record_dues, m, "method", "", &e), 0, "\"\" clears an optional field");
	cr_assert_eq(record_get_text(&record_dues, m, record_field_find(&record_dues, "method"), buf, sizeof buf), 0);
	cr_assert_eq(set_one(&record_dues, m, "paid", "2026-02-29", &e), 0);
	cr_assert_eq(check(&record_dues, m, &e), -EINVAL, "2026 has no 29 February");
	cr_assert(has(e.msg, "is not a real date"), "%s", e.msg);
	cr_assert_eq(set_one(&record_dues, m, "paid", "2024-02-29", &e), 0);
	cr_assert_eq(check(&record_dues, m, &e), 0, "%s", e.msg);
	cr_assert_eq(set_one(&record_dues, m, "period", "2026-13", &e), 0);
	cr_assert_eq(check(&record_dues, m, &e), -EINVAL, "month 13 passed");
	cr_assert(has(e.msg, "is not a period (YYYY-MM)"), "%s", e.msg);
	record_free(m);
}

/* A long text is checked and shown whole: a notice body of 4,094 bytes
 * and a 3-byte character (the old 4,096-byte copy cut it inside the
 * character and refused a valid body), a control byte past 4,096 refused,
 * and the JSON holding all of it. */
Test(fields, long_text_whole)
{
	static char body[RECORD_TEXT_MAX + 2];
	const char *kv[] = {"id", "N1", "title", "Year-end review", NULL};
	ProtobufCMessage *m = make(&record_notice, kv);
	struct err e;
	json_t *j;

	memset(body, 'a', 4094);
	strcpy(body + 4094, "\xe9\x80\x9a"); /* 通 */
	cr_assert_eq(set_one(&record_notice, m, "body", body, &e), 0, "%s", e.msg);
	cr_assert_eq(check(&record_notice, m, &e), 0, "a 4,097-byte body ending in 通: %s", e.msg);
	j = record_json(&record_notice, m);
	cr_assert_eq(strlen(json_string_value(json_object_get(j, "body"))), 4097, "the JSON cut the body");
	json_decref(j);
	memset(body, 'a', 5000);
	body[4500] = '\x01';
	body[5000] = '\0';
	cr_assert_eq(set_one(&record_notice, m, "body", body, &e), 0);
	cr_assert_eq(check(&record_notice, m, &e), -EINVAL, "a control byte at 4,500 passed");
	memset(body, 'a', RECORD_TEXT_MAX + 1);
	body[RECORD_TEXT_MAX + 1] = '\0';
	cr_assert_eq(set_one(&record_notice, m, "body", body, &e), 0);
	cr_assert_eq(check(&record_notice, m, &e), -EINVAL, "20,001 bytes passed");
	record_free(m);
}

Test(fields, numbers_at_their_edges)
{
	const char *kv[] = {"member", "M1", "period", "2026-02", "amount", "0", NULL};
	const char *pkv[] = {"member", "M1", "period", "2026-02", "points", "0", "reason", "r", NULL};
	ProtobufCMessage *m = make(&record_dues, kv), *p = make(&record_points, pkv);
	char v[32];
	struct err e;

	cr_assert_eq(check(&record_dues, m, &e), 0, "%s", e.msg);
	/* amounts are typed in yuan (issue 14): the largest is RECORD_AMOUNT_MAX fen */
	snprintf(v, sizeof v, "%lld", RECORD_AMOUNT_MAX / 100);
	cr_assert_eq(set_one(&record_dues, m, "amount", v, &e), 0);
	cr_assert_eq(check(&record_dues, m, &e), 0, "the largest amount: %s", e.msg);
	cr_assert_eq(((Strata__Dues *)m)->amount, RECORD_AMOUNT_MAX);
	snprintf(v, sizeof v, "%lld.01", RECORD_AMOUNT_MAX / 100);
	cr_assert_eq(set_one(&record_dues, m, "amount", v, &e), -EINVAL, "an amount over the range was set");
	cr_assert(has(e.msg, "out of range"), "%s", e.msg);
	((Strata__Dues *)m)->amount = RECORD_AMOUNT_MAX + 1; /* as a received record could hold */
	cr_assert_eq(check(&record_dues, m, &e), -EINVAL, "an amount over the range passed");
	cr_assert(has(e.msg, "out of range"), "%s", e.msg);
	((Strata__Dues *)m)->amount = -1;
	cr_assert_eq(check(&record_dues, m, &e), -EINVAL, "a negative amount passed");
	cr_assert_eq(set_one(&record_dues, m, "amount", "-1", &e), -EINVAL, "a negative amount was set");
	cr_assert(has(e.msg, "may not be negative"), "%s", e.msg);
	cr_assert_eq(set_one(&record_dues, m, "amount", "12x", &e), -EINVAL, "not a number was set");
	cr_assert(has(e.msg, "is not an amount in yuan"), "%s", e.msg);
	cr_assert_eq(set_one(&record_dues, m, "amount", "99999999999999999999", &e), -EINVAL, "overflow was set");
	snprintf(v, sizeof v, "%lld", -RECORD_POINTS_MAX);
	cr_assert_eq(set_one(&record_points, p, "points", v, &e), 0);
	cr_assert_eq(check(&record_points, p, &e), 0, "the largest deduction: %s", e.msg);
	snprintf(v, sizeof v, "%lld", -RECORD_POINTS_MAX - 1);
	cr_assert_eq(set_one(&record_points, p, "points", v, &e), 0);
	cr_assert_eq(check(&record_points, p, &e), -EINVAL, "a deduction over the range passed");
	record_free(m);
	record_free(p);
}

Test(fields, enum_members_notes_and_key)
{
	const char *kv[] = {"id", "MT1", "kind", "party-lecture", "date", "2026-01-05", "topic", "t", NULL};
	ProtobufCMessage *m = make(&record_meeting, kv);
	char buf[TEXT_CAP], key[DOMAIN_KEY_CAP];
	struct err e;

	cr_assert_str_eq(text_of(&record_meeting, m, "kind", buf), "party-lecture");
	cr_assert_eq(set_one(&record_meeting, m, "kind", "lecture", &e), -EINVAL, "an unknown word was set");
	cr_assert(has(e.msg, "kind \"lecture\" is not one of branch-congress"), "%s", e.msg);
	cr_assert_eq(set_one(&record_meeting, m, "present", "M1, M2,,M3", &e), 0);
	cr_assert_str_eq(text_of(&record_meeting, m, "present", buf), "M1,M2,M3");
	cr_assert_eq(set_one(&record_meeting, m, "present", "M4", &e), 0, "a list is replaced");
	cr_assert_str_eq(text_of(&record_meeting, m, "present", buf), "M4");
	cr_assert_eq(set_one(&record_meeting, m, "notes", "first", &e), 0);
	cr_assert_eq(set_one(&record_meeting, m, "notes", "second", &e), 0);
	cr_assert_str_eq(text_of(&record_meeting, m, "notes", buf), "first | second", "notes are appended");
	cr_assert_eq(set_one(&record_meeting, m, "notes", "", &e), -EINVAL, "an empty note was appended");
	cr_assert_eq(set_one(&record_meeting, m, "absent", "M 1", &e), 0);
	cr_assert_eq(check(&record_meeting, m, &e), -EINVAL, "\"M 1\" passed as a member id");
	cr_assert_eq(record_key(&record_meeting, m, key, sizeof key, &e), 0, "%s", e.msg);
	cr_assert_str_eq(key, "MT1");
	record_free(m);
}

Test(fields, key_of_several_fields)
{
	const char *kv[] = {"member", "M1", "period", "2026-02", "amount", "1", NULL};
	ProtobufCMessage *m = make(&record_dues, kv);
	char key[DOMAIN_KEY_CAP];
	struct err e = {0};

	cr_assert_eq(record_key(&record_dues, m, key, sizeof key, &e), 0, "%s", e.msg);
	cr_assert_str_eq(key, "M1/2026-02");
	cr_assert_eq(record_check_fields(&record_dues, m, (const uint8_t *)"M1/2026-02", 10, &e), 0, "%s", e.msg);
	cr_assert_eq(record_check_fields(&record_dues, m, (const uint8_t *)"M1/2026-03", 10, &e), -EINVAL,
		     "a record stored under another key passed");
	cr_assert_eq(set_one(&record_dues, m, "member", "M/1", &e), 0);
	cr_assert_eq(record_key(&record_dues, m, key, sizeof key, &e), -EINVAL, "a '/' in a key field passed");
	record_free(m);
	m = record_new(&record_dues);
	memset(&e, 0, sizeof e);
	cr_assert_eq(record_key(&record_dues, m, key, sizeof key, &e), -EINVAL, "a key without its fields");
	cr_assert(has(e.msg, "member is missing"), "%s", e.msg);
	record_free(m);
}

Test(fields, member_keeps_its_own_rules)
{
	const char *kv[] = {"id", "M1", "name", "Li Wei", "category", "probationary", "joined", "2001-07-01",
			    "phone", "+86 592-1234", "gender", "other", NULL};
	ProtobufCMessage *m = make(&record_member, kv);
	char buf[TEXT_CAP];
	struct err e;

	cr_assert_eq(check(&record_member, m, &e), 0, "%s", e.msg);
	cr_assert_str_eq(text_of(&record_member, m, "category", buf), "probationary");
	cr_assert_str_eq(text_of(&record_member, m, "status", buf), "active", "status defaults to active");
	cr_assert_str_eq(text_of(&record_member, m, "gender", buf), "other");
	cr_assert_eq(set_one(&record_member, m, "gender", "", &e), 0, "\"\" clears an optional enum");
	cr_assert_eq(((Strata__Member *)m)->has_gender, 0);
	cr_assert_eq(set_one(&record_member, m, "status", "retired", &e), -EINVAL);
	cr_assert_str_eq(e.msg, "status \"retired\" is not one of active, lapsed, deceased, transferred");
	cr_assert_eq(set_one(&record_member, m, "phone", "12", &e), 0);
	cr_assert_eq(check(&record_member, m, &e), -EINVAL, "a two-digit phone passed");
	cr_assert_str_eq(e.msg, "member M1: phone \"12\" is not a phone number");
	cr_assert_eq(set_one(&record_member, m, "phone", "", &e), 0);
	cr_assert_eq(set_one(&record_member, m, "birth", "2002-01-01", &e), 0);
	cr_assert_eq(check(&record_member, m, &e), -EINVAL, "birth after joining passed");
	cr_assert_str_eq(e.msg, "member M1: birth date 2002-01-01 is after joined date 2001-07-01");
	cr_assert(phone_valid("+86 592-1234") && !phone_valid("86+1234") && !phone_valid(""));
	record_free(m);
}

/* --- the domain operations on a real store --- */

static void node_fixture(void)
{
	struct node_init_opts o = {.name = "demo/branch"};
	struct err e = {0};

	cr_assert_eq(keys_init(), 0);
	test_tmp_make();
	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
}

static int add_member(const char *id, const char *name, const char *joined, struct err *e)
{
	struct domain_input in = {.t = &record_member};
	struct domain_record r;
	int ret;

	in.value[0] = id;
	in.value[1] = name;
	in.value[2] = "full";
	in.value[4] = joined;
	ret = domain_record_add(test_node, &in, &r, e);
	domain_record_release(&r);
	return ret;
}

/* The head of this node's feed up (0 before its first entry). */
static uint64_t up_head(void)
{
	struct node *n = NULL;
	struct store_txn *t = NULL;
	struct store_head h = {0};
	struct err e = {0};

	cr_assert_eq(node_open(&n, test_node, NODE_RDONLY | NODE_NO_KEY, &e), 0, "%s", e.msg);
	cr_assert_eq(store_txn_begin(node_store(n), false, &t, &e), 0, "%s", e.msg);
	if (store_head_get(t, node_id(n), FEED_UP, &h, &e) < 0)
		h.seq = 0;
	store_txn_abort(&t);
	node_close(&n);
	return h.seq;
}

static int count_row(const struct domain_row *r, void *arg)
{
	(void)r;
	(void)arg;
	return 0;
}

/* How many records of t this node lists. */
static size_t count(const struct record_type *t)
{
	struct domain_filter q = {.t = t};
	struct err e = {0};
	size_t n = 0;

	cr_assert_eq(domain_record_each(test_node, &q, count_row, NULL, &n, &e), 0, "%s", e.msg);
	return n;
}

Test(domain, add_get_update, .init = node_fixture, .fini = test_tmp_remove)
{
	struct domain_input in = {.t = &record_member};
	struct domain_record r;
	struct err e = {0};

	cr_assert_eq(add_member("M1", "Li Wei", "2001-07-01", &e), 0, "%s", e.msg);
	cr_assert_eq(add_member("M1", "Li Wei", "2001-07-01", &e), -EEXIST, "a second add of M1 passed");
	cr_assert_str_eq(e.msg, "member M1 already exists (use strata member update)");
	cr_assert_eq(add_member("M2", "Wang", "2999-01-01", &e), -EINVAL, "a joined date in the future passed");
	cr_assert(has(e.msg, "is in the future"), "%s", e.msg);
	in.value[0] = "M1";
	in.value[1] = "Li Wei Jr";
	cr_assert_eq(domain_record_update(test_node, &in, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.seq, 2);
	cr_assert_str_eq(r.feed, "up");
	domain_record_release(&r);
	in.value[1] = NULL;
	cr_assert_eq(domain_record_get(test_node, &in, &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(((Strata__Member *)r.m)->name, "Li Wei Jr");
	cr_assert_eq(r.seq, 2);
	domain_record_release(&r);
	in.value[0] = "M9";
	cr_assert_eq(domain_record_get(test_node, &in, &r, &e), -ESRCH);
	cr_assert_str_eq(e.msg, "no member with id M9 in this node's registry");
	cr_assert_eq(domain_record_update(test_node, &in, &r, &e), -ESRCH);
	cr_assert_eq(up_head(), 2, "a refused write signed an entry");
}

Test(domain, record_names_a_member_of_the_registry, .init = node_fixture, .fini = test_tmp_remove)
{
	struct domain_input in = {.t = &record_dues};
	struct domain_record r;
	struct err e = {0};

	in.value[0] = "M1";
	in.value[1] = "2026-01";
	in.value[2] = "500";
	cr_assert_eq(domain_record_add(test_node, &in, &r, &e), -ESRCH, "dues of a member not in the registry");
	cr_assert_str_eq(e.msg, "member M1 is not in this branch's registry");
	cr_assert_eq(add_member("M1", "Li Wei", "2001-07-01", &e), 0, "%s", e.msg);
	cr_assert_eq(domain_record_add(test_node, &in, &r, &e), 0, "%s", e.msg);
	cr_assert_str_eq(r.key, "M1/2026-01");
	cr_assert_eq(r.seq, 2);
	domain_record_release(&r);
	cr_assert_eq(count(&record_dues), 1);
}

static int import(const struct record_type *t, const char *csv, bool dry, struct domain_import_result *r,
		  struct err *e)
{
	struct domain_import_opts o = {.dry_run = dry};
	char path[256];
	int ret;

	tmp_path(path, "in.csv");
	write_str(path, csv);
	memset(e, 0, sizeof *e);
	ret = domain_import(test_node, t, path, &o, r, e);
	return ret;
}

static const char members_csv[] = "id,name,category,joined\n"
				  "M1,Li Wei,full,2001-07-01\n"
				  "M2,Wang Fang,probationary,2024-03-15\n";

Test(domain, member_import_all_or_nothing, .init = node_fixture, .fini = test_tmp_remove)
{
	struct domain_import_result r;
	struct err e;

	cr_assert_eq(import(&record_member, "id,name,category,joined\nM1,Li,full,2001-07-01\nM2,Wang,fulll,2001-07-01\n"
					    "M1,Li,full,2001-07-01\n",
			    false, &r, &e),
		     -EINVAL);
	cr_assert_eq(r.nbad, 2, "bad rows: %zu", r.nbad);
	cr_assert_eq(r.bad[0].line, 3);
	cr_assert_str_eq(r.bad[1].msg, "duplicate id M1 (first on line 2)");
	cr_assert(has(e.msg, "2 bad rows; nothing imported"), "%s", e.msg);
	domain_import_result_release(&r);
	cr_assert_eq(up_head(), 0, "a refused import wrote");
	cr_assert_eq(import(&record_member, members_csv, true, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.rows, 2);
	cr_assert_eq(r.written, 0);
	cr_assert_eq(up_head(), 0, "a dry run wrote");
	cr_assert_eq(import(&record_member, members_csv, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 2);
	cr_assert_eq(r.head, 1);
	cr_assert_eq(import(&record_member, members_csv, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 0, "a second import wrote again");
	cr_assert_eq(r.unchanged, 2);
	cr_assert_eq(up_head(), 1);
	cr_assert_eq(count(&record_member), 2);
}

Test(domain, record_import_all_or_nothing, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char good[] = "member,period,amount\nM1,2026-01,500\nM2,2026-01,300\n";
	struct domain_import_result r;
	struct err e;

	cr_assert_eq(import(&record_member, members_csv, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(import(&record_dues, "member,period,amount\nM1,2026-01,500\nM3,2026-01,1\nM2,2026-13,1\n", false,
			    &r, &e),
		     -EINVAL);
	cr_assert_eq(r.nbad, 2);
	cr_assert_eq(r.bad[0].line, 3, "sorted by line");
	cr_assert_str_eq(r.bad[0].msg, "member M3 is not in this branch's registry");
	domain_import_result_release(&r);
	cr_assert_eq(up_head(), 1, "a refused import wrote");
	cr_assert_eq(import(&record_dues, good, true, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 0);
	cr_assert_eq(up_head(), 1, "a dry run wrote");
	cr_assert_eq(import(&record_dues, good, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 2);
	cr_assert_eq(r.changesets, 1);
	cr_assert_eq(import(&record_dues, good, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 0, "a second import wrote again");
	cr_assert_eq(r.unchanged, 2);
	cr_assert_eq(up_head(), 2);
	cr_assert_eq(import(&record_dues, "member,period,amount\nM1,2026-01,501\n", false, &r, &e), -EINVAL);
	cr_assert(has(r.bad[0].msg, "already exists with other values"), "%s", r.bad[0].msg);
	domain_import_result_release(&r);
}

/* The unified importer (domain_import): the type's data picks the strategy. */

Test(domain, import_writes_companions_in_their_feed, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char csv[] = "id,title,opened,status,contact\n"
				  "R1,Broken lamp,2026-01-05,open,Li Wei 13800000000\n"
				  "R2,Leak,2026-01-06,open,\n";
	struct domain_input in = {.t = &record_request, .value = {"R1"}};
	struct domain_record got;
	struct domain_import_result r;
	struct err e;

	cr_assert_eq(import(&record_request, csv, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 2);
	cr_assert_eq(count(&record_request), 2);
	cr_assert_eq(domain_record_get(test_node, &in, &got, &e), 0, "%s", e.msg);
	cr_assert_not_null(got.cm, "R1's contact was not written");
	domain_record_release(&got);
	in.value[0] = "R2";
	cr_assert_eq(domain_record_get(test_node, &in, &got, &e), 0, "%s", e.msg);
	cr_assert_null(got.cm, "R2 had no contact");
	domain_record_release(&got);
	cr_assert_eq(import(&record_request, csv, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.unchanged, 2, "companions compared as stored");
	cr_assert_eq(import(&record_request,
			    "id,title,opened,status,contact\nR1,Broken lamp,2026-01-05,open,Wang 139\n", false, &r, &e),
		     -EINVAL, "another contact is another value");
	cr_assert_str_eq(r.bad[0].msg,
			 "service request R1 already exists with other values (use strata request update, or import --update)");
	domain_import_result_release(&r);
}

/* A CSV of n members M00001.. (descending: the file is not in key order). */
static char *members_file(size_t n, bool descending)
{
	static const char header[] = "id,name,category,joined\n";
	size_t cap = sizeof header + n * 64, used;
	char *s = malloc(cap);

	cr_assert_not_null(s);
	used = (size_t)snprintf(s, cap, "%s", header);
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(s + used, cap - used, "M%05zu,Name %zu,full,2001-07-01\n",
					 descending ? n - i : i + 1, i);
	return s;
}

static void count_progress(size_t done, size_t total, void *arg)
{
	(void)done;
	(void)total;
	(*(size_t *)arg)++;
}

Test(domain, large_import_goes_through_the_bulk_writer, .init = node_fixture, .fini = test_tmp_remove)
{
	char *csv = members_file(2500, true), path[TMP_PATH_CAP];
	size_t calls = 0;
	struct domain_import_opts o = {.progress = count_progress, .arg = &calls};
	struct domain_import_result r;
	struct err e = {0};

	tmp_path(path, "big.csv");
	write_str(path, csv);
	free(csv);
	cr_assert_eq(domain_import(test_node, &record_member, path, &o, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 2500);
	cr_assert_eq(r.changesets, 3, "change sets of 1,000: %zu", r.changesets);
	cr_assert_eq(r.head, 3);
	cr_assert_eq(calls, 3, "every 1,000 written and at the end: %zu", calls);
	cr_assert_eq(count(&record_member), 2500);
	cr_assert_eq(domain_import(test_node, &record_member, path, &o, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.unchanged, 2500);
	cr_assert_eq(r.written, 0);
	cr_assert_eq(up_head(), 3);
}

/* Another writer (a child process adding M01500 with other values) runs
 * while the import checks and writes: whichever gets in first, exactly one
 * of them stores M01500, and a refused import stores nothing. */
Test(domain, import_and_another_writer_never_both_win, .init = node_fixture, .fini = test_tmp_remove)
{
	char *csv = members_file(2000, false), path[TMP_PATH_CAP];
	struct domain_import_result r;
	struct err e = {0};
	int status, ret;
	pid_t pid;

	tmp_path(path, "race.csv");
	write_str(path, csv);
	free(csv);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		ret = add_member("M01500", "Other Name", "2001-07-01", &e);
		_exit(ret == 0 ? 0 : ret == -EEXIST ? 1 : 2);
	}
	ret = domain_import(test_node, &record_member, path, NULL, &r, &e);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) < 2, "the other writer failed");
	if (ret == 0) {
		cr_assert_eq(WEXITSTATUS(status), 1, "both wrote M01500");
		cr_assert_eq(count(&record_member), 2000);
	} else {
		cr_assert_eq(ret, -EINVAL, "%s", e.msg);
		cr_assert_eq(WEXITSTATUS(status), 0);
		cr_assert_str_eq(r.bad[0].msg,
				 "member M01500 already exists with other values (use strata member update, or import --update)");
		cr_assert_eq(count(&record_member), 1, "a refused import wrote");
	}
	domain_import_result_release(&r);
}

/* The CSV export, read back by the import: every row already present. */
Test(domain, export_reads_back, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char dues[] = "member,period,amount,paid,method\n"
				   "M1,2026-01,500,2026-01-03,\"cash, \"\"in person\"\"\"\n"
				   "M2,2026-01,300,,\n";
	/* what Excel opens as UTF-8 (BOM, CRLF), amounts in yuan (issue 14) */
	static const char exported[] = "\xef\xbb\xbfmember,period,amount,paid,method\r\n"
				       "M1,2026-01,500.00,2026-01-03,\"cash, \"\"in person\"\"\"\r\n"
				       "M2,2026-01,300.00,,\r\n";
	struct domain_filter q = {.t = &record_dues, .own = true};
	struct domain_import_result r;
	struct err e = {0};
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f;

	cr_assert_eq(import(&record_member, members_csv, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(import(&record_dues, dues, false, &r, &e), 0, "%s", e.msg);
	cr_assert_not_null(f = open_memstream(&buf, &len));
	cr_assert_eq(domain_export(test_node, &q, f, NULL, &n, &e), 0, "%s", e.msg);
	fclose(f);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(buf, exported, "the export is not the file imported:\n%s", buf);
	cr_assert_eq(import(&record_dues, buf, false, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.unchanged, 2, "the export read back as other values");
	free(buf);
	q.own = false;
	q.value[0] = "M2";
	cr_assert_eq(domain_record_each(test_node, &q, count_row, NULL, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 1, "the filter on member");
}
