/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the files people bring from Excel (issue 14): GBK, a BOM
 * and CRLF, rows of commas, Chinese column names and enum words, dates as
 * 2026/3/5, amounts in yuan; every export read back into a fresh store as
 * the same state; import --update and --dry-run; a record erased earlier
 * imported again. Library calls (node/records, node/domain) on real stores
 * in a temporary directory.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "node/core/admin.h"
#include "node/core/node.h"
#include "node/domain/domain.h"
#include "node/records/records.h"
#include "tests/node/run.h"

#define PATH_CAP 256 /* tmp_path's buffer */

static void node_fixture(void)
{
	struct node_init_opts o = {.name = "demo/branch"};
	struct err e = {0};

	cr_assert_eq(keys_init(), 0);
	test_tmp_make();
	cr_assert_eq(node_create(test_node, &o, &e), 0, "%s", e.msg);
}

/* Writes data (len bytes) to <tmp>/name and imports it into dir. */
static int import_bytes(const char *dir, const struct record_type *t, const char *name, const char *data, size_t len,
			const struct domain_import_opts *o, struct domain_import_result *r, struct err *e)
{
	char path[PATH_CAP];

	write_file(tmp_path(path, name), data, len);
	memset(e, 0, sizeof *e);
	return domain_import(dir, t, path, o, r, e);
}

static int import_str(const struct record_type *t, const char *data, const struct domain_import_opts *o,
		      struct domain_import_result *r, struct err *e)
{
	return import_bytes(test_node, t, "in.csv", data, strlen(data), o, r, e);
}

/* utf8 as GB18030 bytes (malloc'd), what Chinese Excel saves as "CSV". */
static char *to_gb18030(const char *utf8, size_t *len)
{
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	size_t il = strlen(utf8), ol = 4 * il + 4;
	char *out = malloc(ol), *ip = (char *)utf8, *op = out;

	cr_assert(cd != (iconv_t)-1 && out);
	cr_assert_neq(iconv(cd, &ip, &il, &op, &ol), (size_t)-1, "iconv: %s", strerror(errno));
	iconv_close(cd);
	*len = (size_t)(op - out);
	return out;
}

/* This unit's record of t under key (record_free), asserted present. */
static ProtobufCMessage *get(const char *dir, const struct record_type *t, const char *const *key_values)
{
	struct domain_input in = {.t = t};
	struct domain_record r;
	struct err e = {0};
	ProtobufCMessage *m;
	size_t k = 0;

	for (size_t i = 0; i < t->n_fields; i++)
		if (t->fields[i].flags & FIELD_KEY)
			in.value[i] = key_values[k++];
	cr_assert_eq(domain_record_get(dir, &in, &r, &e), 0, "%s", e.msg);
	m = r.m;
	r.m = NULL;
	domain_record_release(&r);
	return m;
}

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

Test(csv_excel, gbk_file_with_chinese_headers_and_values, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char members[] = "编号,姓名,类别,入党日期,性别\r\n"
				      "M1,李伟,正式党员,2001/7/1,男\r\n"
				      "M2,王芳,预备党员,2024年3月15日,女\r\n";
	static const char dues[] = "党员编号,月份,金额,缴纳日期,缴纳方式\r\nM1,2026/1,12.5,2026-1-3,现金\r\n";
	struct domain_import_result r;
	struct err e;
	size_t len;
	char *gb = to_gb18030(members, &len);
	Strata__Member *m;
	Strata__Dues *d;

	cr_assert_eq(import_bytes(test_node, &record_member, "gbk.csv", gb, len, NULL, &r, &e), 0, "%s", e.msg);
	free(gb);
	cr_assert(r.gb18030, "the file was not said to be read as GB18030");
	cr_assert_eq(r.written, 2);
	m = (Strata__Member *)get(test_node, &record_member, (const char *const[]){"M2"});
	cr_assert_str_eq(m->name, "王芳");
	cr_assert_eq(m->category, STRATA__MEMBER_CATEGORY__CATEGORY_PROBATIONARY);
	cr_assert_str_eq(m->joined, "2024-03-15");
	cr_assert(m->has_gender && m->gender == STRATA__GENDER__GENDER_FEMALE);
	record_free(&m->base);
	gb = to_gb18030(dues, &len);
	cr_assert_eq(import_bytes(test_node, &record_dues, "gbk-dues.csv", gb, len, NULL, &r, &e), 0, "%s", e.msg);
	free(gb);
	cr_assert(r.gb18030);
	d = (Strata__Dues *)get(test_node, &record_dues, (const char *const[]){"M1", "2026-01"});
	cr_assert_eq(d->amount, 1250, "12.5 yuan is 1250 fen, not %lld", (long long)d->amount);
	cr_assert_str_eq(d->paid, "2026-01-03");
	cr_assert_str_eq(d->method, "现金");
	record_free(&d->base);
	/* the same file in UTF-8 reads as the same records: nothing to write */
	cr_assert_eq(import_str(&record_member, members, NULL, &r, &e), 0, "%s", e.msg);
	cr_assert(!r.gb18030);
	cr_assert_eq(r.unchanged, 2);
}

Test(csv_excel, neither_utf8_nor_gb18030_is_refused_whole, .init = node_fixture, .fini = test_tmp_remove)
{
	/* 0xFF is no lead byte of GB18030; "\xfc," no pair */
	static const char bad[] = "id,name,category,joined\nM1,Li,full,2001-07-01\nM2,M\xfc,full,2001-07-01\n\xff\n";
	struct domain_import_result r;
	struct err e;

	cr_assert_eq(import_bytes(test_node, &record_member, "bad.csv", bad, sizeof bad - 1, NULL, &r, &e), -EINVAL);
	cr_assert(has(e.msg, "bad.csv:3: the file is neither UTF-8 nor GB18030"), "%s", e.msg);
	cr_assert(has(e.msg, "CSV UTF-8"), "the fix is not named: %s", e.msg);
	cr_assert_eq(import_bytes(test_node, &record_dues, "bad.csv", bad, sizeof bad - 1, NULL, &r, &e), -EINVAL);
	cr_assert_eq(up_head(), 0, "a refused file wrote");
	domain_import_result_release(&r);
}

Test(csv_excel, bom_crlf_and_rows_of_commas, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char csv[] = "\xef\xbb\xbfid,name,category,joined\r\n"
				  ",,,\r\n"
				  "M1,Li,full,2001-07-01\r\n"
				  ",,,\r\n"
				  "\r\n"
				  "M2,Wang,full,2002-01-01\r\n"
				  ",,,\r\n,,,\r\n\r\n";
	struct domain_import_result r;
	struct err e;

	cr_assert_eq(import_str(&record_member, csv, NULL, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.rows, 2, "rows of commas were read as data: %zu rows", r.rows);
	cr_assert_eq(r.written, 2);
	/* a row with one cell filled is data, and bad */
	cr_assert_eq(import_str(&record_member, "id,name,category,joined\r\n,,x,\r\n", NULL, &r, &e), -EINVAL);
	cr_assert_eq(r.nbad, 1);
	cr_assert_eq(r.bad[0].line, 2);
	domain_import_result_release(&r);
}

Test(csv_excel, dates_as_people_write_them)
{
	static const char *const same[] = {"2026-03-05", "2026/3/5", "2026-3-5", "2026.3.5", "2026年3月5日", "2026/03/05"};
	const struct record_field *date = record_field_find(&record_meeting, "date");
	const struct record_field *period = record_field_find(&record_dues, "period");
	char buf[RECORD_INPUT_SIZE];

	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		cr_assert_str_eq(record_input_text(&record_meeting, date, same[i], buf, sizeof buf), "2026-03-05", "%s",
				 same[i]);
	cr_assert_str_eq(record_input_text(&record_dues, period, "2026/3", buf, sizeof buf), "2026-03");
	cr_assert_str_eq(record_input_text(&record_dues, period, "2026年3月", buf, sizeof buf), "2026-03");
	/* not such a form: left as typed, for the check to name */
	cr_assert_str_eq(record_input_text(&record_meeting, date, "3/5/2026", buf, sizeof buf), "3/5/2026");
	cr_assert_str_eq(record_input_text(&record_meeting, date, "2026/3/5/1", buf, sizeof buf), "2026/3/5/1");
	cr_assert(!date_valid(record_input_text(&record_meeting, date, "2026/2/30", buf, sizeof buf)));
	cr_assert_str_eq(record_input_text(&record_meeting, record_field_find(&record_meeting, "kind"), "组织生活会", buf,
					   sizeof buf),
			 "branch-congress");
	cr_assert_str_eq(record_field_named(&record_member, "入党日期")->name, "joined");
	cr_assert_null(record_field_named(&record_member, "入党时间"));
}

Test(csv_excel, amounts_in_yuan)
{
	static const struct {
		const char *typed;
		long long fen;
	} ok[] = {{"12.5", 1250}, {"12.50", 1250}, {"12", 1200}, {"0.01", 1}, {"0", 0}, {"1000000", 100000000}};
	static const struct {
		const char *typed, *why;
	} bad[] = {
		{"12.505", "more than 2 decimals"}, {"-1", "may not be negative"},   {"1000000.01", "out of range"},
		{"12.", "not an amount"},           {"1,250", "not an amount"},      {"99999999999999999999", "out of range"},
		{"", "not an amount"},              {"1e3", "not an amount"},
	};
	const struct record_field *f = record_field_find(&record_dues, "amount");
	ProtobufCMessage *m = record_new(&record_dues);
	char buf[RECORD_YUAN_SIZE];
	struct err e = {0};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cr_assert_eq(record_set(&record_dues, m, f, ok[i].typed, &e), 0, "%s: %s", ok[i].typed, e.msg);
		cr_assert_eq(((Strata__Dues *)m)->amount, ok[i].fen, "%s", ok[i].typed);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		if (!bad[i].typed[0]) /* "" clears an optional field; amount is required */
			continue;
		cr_assert_eq(record_set(&record_dues, m, f, bad[i].typed, &e), -EINVAL, "%s was set", bad[i].typed);
		cr_assert(has(e.msg, bad[i].why), "%s: %s", bad[i].typed, e.msg);
	}
	((Strata__Dues *)m)->amount = 1250;
	record_get_text(&record_dues, m, f, buf, sizeof buf);
	cr_assert_str_eq(buf, "12.50", "shown in yuan");
	record_free(m);
}

static int count_row(const struct domain_row *r, void *arg)
{
	(void)r;
	(void)arg;
	return 0;
}

/* import --update: rows that differ change the records (and say how),
 * --dry-run writes nothing; without --update they stay refused. */
Test(csv_excel, import_update_prints_and_applies_changes, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char members[] = "id,name,category,joined\nM1,Li,full,2001-07-01\nM2,Wang,full,2002-01-01\n";
	static const char dues[] = "member,period,amount\nM1,2026-01,12.5\nM2,2026-01,10\n";
	static const char changed[] = "member,period,amount,paid\nM1,2026-01,13,2026-01-05\nM2,2026-01,10,\n";
	struct domain_import_opts up = {.update = true}, dry = {.update = true, .dry_run = true};
	struct domain_import_result r;
	struct err e;
	Strata__Dues *d;
	uint64_t head;

	cr_assert_eq(import_str(&record_member, members, NULL, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(import_str(&record_dues, dues, NULL, &r, &e), 0, "%s", e.msg);
	head = up_head();
	cr_assert_eq(import_str(&record_dues, changed, NULL, &r, &e), -EINVAL, "a changed row passed without --update");
	cr_assert(has(r.bad[0].msg, "or import --update"), "%s", r.bad[0].msg);
	domain_import_result_release(&r);
	cr_assert_eq(import_str(&record_dues, changed, &dry, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.updated, 1);
	cr_assert_eq(r.nchanges, 1);
	cr_assert_str_eq(r.changes[0].key, "M1/2026-01");
	cr_assert_eq(r.changes[0].line, 2);
	cr_assert_str_eq(r.changes[0].what, "amount: 12.50 → 13.00; paid: (none) → 2026-01-05");
	domain_import_result_release(&r);
	cr_assert_eq(up_head(), head, "a dry run wrote");
	cr_assert_eq(import_str(&record_dues, changed, &up, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 1);
	cr_assert_eq(r.unchanged, 1);
	domain_import_result_release(&r);
	{ /* list filters read values as input does */
		struct domain_filter q = {.t = &record_dues, .own = true, .value = {NULL, "2026/1", "13"}};
		size_t n;

		cr_assert_eq(domain_record_each(test_node, &q, count_row, NULL, &n, &e), 0, "%s", e.msg);
		cr_assert_eq(n, 1, "the filter 2026/1, 13 yuan found %zu", n);
	}
	d = (Strata__Dues *)get(test_node, &record_dues, (const char *const[]){"M1", "2026-01"});
	cr_assert_eq(d->amount, 1300);
	cr_assert_str_eq(d->paid, "2026-01-05");
	record_free(&d->base);
	/* members (the bulk writer's type) update the same way */
	cr_assert_eq(import_str(&record_member, "id,name,category,joined\nM2,Wang Fang,probationary,2002-01-01\n", &up, &r,
				&e),
		     0, "%s", e.msg);
	cr_assert_eq(r.nchanges, 1);
	cr_assert_str_eq(r.changes[0].what, "name: Wang → Wang Fang; category: full → probationary");
	domain_import_result_release(&r);
	/* an update is checked as input like a new row: nothing written */
	head = up_head();
	cr_assert_eq(import_str(&record_dues, "member,period,amount\nM1,2026-01,12.505\n", &up, &r, &e), -EINVAL);
	domain_import_result_release(&r);
	cr_assert_eq(up_head(), head);
}

/* A member erased (strata erase) may be imported again, as add allows; the
 * other rows of the file are already present. */
Test(csv_excel, import_of_a_member_erased_earlier, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char members[] = "id,name,category,joined\nM1,Li,full,2001-07-01\nM2,Wang,full,2002-01-01\n";
	struct node_erase_result er;
	struct domain_import_result r;
	struct node *n = NULL;
	struct err e = {0};
	Strata__Member *m;

	cr_assert_eq(import_str(&record_member, members, NULL, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(node_open(&n, test_node, 0, &e), 0, "%s", e.msg);
	cr_assert_eq(node_erase(n, "member", "M1", "test", &er, &e), 0, "%s", e.msg);
	node_close(&n);
	cr_assert_eq(import_str(&record_member, members, NULL, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(r.written, 1);
	cr_assert_eq(r.unchanged, 1);
	m = (Strata__Member *)get(test_node, &record_member, (const char *const[]){"M1"});
	cr_assert_str_eq(m->name, "Li");
	record_free(&m->base);
}

/* --- every export read back into a fresh store --- */

/* A file of records of every type with CSV columns, Chinese and English,
 * slashed dates, amounts in yuan, quotes, notes. */
static const struct {
	const char *collection, *csv;
} sample[] = {
	{"member", "编号,姓名,类别,入党日期,性别,家庭住址\nM1,李伟,正式党员,2001/7/1,男,\"厦门, 湖里\"\n"
		   "M2,王芳,预备党员,2024年3月15日,女,\n"},
	{"dues", "member,period,amount,paid,method\nM1,2026-01,12.5,2026/1/3,\"cash, \"\"现金\"\"\"\nM2,2026-01,12,,\n"},
	{"meeting", "id,kind,date,topic,present,absent,notes\nMT1,党课,2026-3-5,\"学习, 讨论\",\"M1\",M2,出差 | 请假\n"},
	{"study", "id,member,course,minutes,score,date\nS1,M1,党章,60,95,2026-11-04\nS2,M2,党史,45,,2026-11-05\n"},
	{"points", "member,period,points,reason\nM1,2026-11,-5,缺席\n"},
	{"request", "id,title,description,opened,status,notes,closed,contact\n"
		    "R1,路灯,3号楼,2026-11-02,已办结,2026-11-06: 已修好,2026-11-06,王先生 139\nR2,漏水,,2026-11-08,办理中,,,\n"},
	{"notice", "id,title,body,due\nN1,通知,\"第一段, \"\"引用\"\"\",2026-11-20\n"},
	{"appraisal", "year,subject,grade,votes_excellent,votes_qualified,votes_basically_qualified,votes_unqualified,"
		      "date\n2026,M1,优秀,5,1,0,0,2026/1/10\n"},
};

static const char *sample_of(const char *collection)
{
	for (size_t i = 0; i < sizeof sample / sizeof sample[0]; i++)
		if (strcmp(sample[i].collection, collection) == 0)
			return sample[i].csv;
	return NULL;
}

/* Appends each record (and its companion) packed, to the stream in arg. */
static int pack_row(const struct domain_row *r, void *arg)
{
	uint8_t buf[LIMIT_VALUE_BYTES];

	if (!r)
		return 0;
	fwrite(buf, 1, protobuf_c_message_pack(r->m, buf), arg);
	if (r->cm)
		fwrite(buf, 1, protobuf_c_message_pack(r->cm, buf), arg);
	return 0;
}

/* The state of this unit's records of t at dir, as bytes (malloc'd). */
static char *state_of(const char *dir, const struct record_type *t, size_t *len, size_t *n)
{
	struct domain_filter q = {.t = t, .own = true};
	struct err e = {0};
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	cr_assert_eq(domain_record_each(dir, &q, pack_row, f, n, &e), 0, "%s", e.msg);
	fclose(f);
	return buf;
}

/* Is t another type's companion (exported and imported with it)? */
static bool is_companion(const struct record_type *t)
{
	size_t n;
	const struct record_type *const *all = record_types(&n);

	for (size_t i = 0; i < n; i++)
		if (all[i]->companion == t)
			return true;
	return false;
}

Test(csv_excel, every_export_reimports_as_the_same_state, .init = node_fixture, .fini = test_tmp_remove)
{
	struct node_init_opts fo = {.name = "demo/fresh"};
	char fresh[PATH_CAP], path[PATH_CAP];
	size_t n, tested = 0;
	const struct record_type *const *all = record_types(&n);
	struct domain_import_result r;
	struct err e = {0};

	tmp_path(fresh, "fresh");
	cr_assert_eq(node_create(fresh, &fo, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < n; i++) { /* member first: the registry order */
		const struct record_type *t = all[i];
		struct domain_filter q = {.t = t, .own = true};
		struct domain_export_opts xo = {.zh = i % 2};
		size_t la, lb, na, nb, rows;
		char *a, *b, name[PATH_CAP];
		FILE *f;

		/* an ack names a notice received from above: a fresh store holds none */
		if (!t->fields || !t->summary || is_companion(t) || t == &record_ack)
			continue;
		cr_assert_not_null(sample_of(t->collection), "no sample rows for %s: add them to sample[]", t->collection);
		cr_assert_eq(import_str(t, sample_of(t->collection), NULL, &r, &e), 0, "%s: %s", t->collection, e.msg);
		snprintf(name, sizeof name, "export-%s.csv", t->collection);
		cr_assert_not_null(f = fopen(tmp_path(path, name), "w"));
		cr_assert_eq(domain_export(test_node, &q, f, &xo, &rows, &e), 0, "%s", e.msg);
		cr_assert_eq(fclose(f), 0);
		memset(&e, 0, sizeof e);
		cr_assert_eq(domain_import(fresh, t, path, NULL, &r, &e), 0, "%s export: %s", t->collection, e.msg);
		cr_assert_eq(r.written, rows);
		a = state_of(test_node, t, &la, &na);
		b = state_of(fresh, t, &lb, &nb);
		cr_assert(na == nb && la == lb && memcmp(a, b, la) == 0, "%s: the export re-imports as other records",
			  t->collection);
		/* the other language's export reads as the same records */
		xo.zh = !xo.zh;
		cr_assert_not_null(f = fopen(path, "w"));
		cr_assert_eq(domain_export(test_node, &q, f, &xo, &rows, &e), 0, "%s", e.msg);
		cr_assert_eq(fclose(f), 0);
		cr_assert_eq(domain_import(fresh, t, path, NULL, &r, &e), 0, "%s export: %s", t->collection, e.msg);
		cr_assert_eq(r.unchanged, rows, "%s: the %s export read as other values", t->collection,
			     xo.zh ? "Chinese" : "English");
		free(a);
		free(b);
		tested++;
	}
	cr_assert_eq(tested, sizeof sample / sizeof sample[0], "a sample was not tested");
	/* an export of every branch names the branch: refused, with the way */
	{
		struct domain_filter q = {.t = &record_member};
		FILE *f = fopen(tmp_path(path, "all.csv"), "w");

		cr_assert_not_null(f);
		cr_assert_eq(domain_export(test_node, &q, f, NULL, &n, &e), 0, "%s", e.msg);
		cr_assert_eq(fclose(f), 0);
		cr_assert_eq(domain_import(fresh, &record_member, path, NULL, &r, &e), -EINVAL);
		cr_assert(has(e.msg, "export with --own"), "%s", e.msg);
	}
}

/* import --update beside another writer (a child adding the same dues
 * record): whichever commits first, the other sees it; the import's
 * values win either way and its changes say whether it found the child's. */
Test(csv_excel, import_update_beside_another_writer, .init = node_fixture, .fini = test_tmp_remove)
{
	static const char dues[] = "member,period,amount\nM1,2026-02,20\n";
	struct domain_import_opts up = {.update = true};
	struct domain_import_result r;
	struct err e = {0};
	Strata__Dues *d;
	int status;
	pid_t pid;

	cr_assert_eq(import_str(&record_member, "id,name,category,joined\nM1,Li,full,2001-07-01\n", NULL, &r, &e), 0,
		     "%s", e.msg);
	cr_assert_neq(pid = fork(), -1);
	if (pid == 0) {
		struct domain_input in = {.t = &record_dues, .value = {"M1", "2026-02", "10"}};
		struct domain_record w;
		int ret = domain_record_add(test_node, &in, &w, &e);

		_exit(ret == 0 ? 0 : ret == -EEXIST ? 1 : 2);
	}
	cr_assert_eq(import_str(&record_dues, dues, &up, &r, &e), 0, "%s", e.msg);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) < 2, "the other writer failed");
	if (WEXITSTATUS(status) == 0) /* the child first: the import changed its record */
		cr_assert(r.nchanges == 1 && has(r.changes[0].what, "amount: 10.00 → 20.00"), "%zu changes", r.nchanges);
	else
		cr_assert_eq(r.nchanges, 0);
	domain_import_result_release(&r);
	d = (Strata__Dues *)get(test_node, &record_dues, (const char *const[]){"M1", "2026-02"});
	cr_assert_eq(d->amount, 2000);
	record_free(&d->base);
}

/* What the CLI prints around it (the library's results are above): the
 * encoding on stderr, each change of --update, an export in Chinese. */
Test(csv_excel, the_cli_says_what_it_read_and_changed, .init = node_fixture, .fini = test_tmp_remove)
{
	size_t len;
	char *gb = to_gb18030("编号,姓名,类别,入党日期\r\nM1,李伟,正式党员,2001/7/1\r\n", &len), path[PATH_CAP];
	struct run r;

	write_file(tmp_path(path, "gbk.csv"), gb, len);
	free(gb);
	run_strata(&r, "member", "import", "-d", test_node, path, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.err, "gbk.csv is not UTF-8: read as GB18030"), "%s", r.err);
	run_free(&r);
	write_str(tmp_path(path, "new.csv"), "编号,姓名,类别,入党日期\nM1,李伟伟,预备党员,2001-07-01\n");
	run_strata(&r, "member", "import", "-d", test_node, path, "--update", "--dry-run", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(has(r.out, "would update M1 (line 2): name: 李伟 → 李伟伟; category: full → probationary"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "member", "import", "-d", test_node, path, NULL);
	cr_assert_eq(r.status, 2, "a changed row without --update: %s", r.out);
	run_free(&r);
	run_strata(&r, "member", "export", "-d", test_node, "--own", "--header", "zh", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strncmp(r.out, "\xef\xbb\xbf编号,姓名,类别,状态,入党日期", strlen("\xef\xbb\xbf编号,姓名,类别,状态,入党日期")) == 0,
		  "%s", r.out);
	cr_assert(has(r.out, "\r\nM1,李伟,正式党员,正常,2001-07-01,,,,\r\n"), "the dry run wrote, or: %s", r.out);
	run_free(&r);
	run_strata(&r, "dues", "add", "-d", test_node, "--member", "M1", "--period", "2026-01", "--amount", "12.505", NULL);
	cr_assert_eq(r.status, 2);
	cr_assert(has(r.err, "amount 12.505 has more than 2 decimals"), "%s", r.err);
	run_free(&r);
}
