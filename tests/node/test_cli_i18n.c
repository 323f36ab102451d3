/* SPDX-License-Identifier: MIT */
/*
 * node_cli_i18n: output for Chinese users through the real binary. Messages
 * in Chinese under a zh_CN locale (help, the CLI's own refusals and the
 * library's reasons), English under C; tables aligned by display width
 * with Chinese text in them; human times in the process's time zone with
 * the offset (JSON unchanged); a root's display name checked at init.
 * The zh_CN locale need not be installed: strata falls back to C.UTF-8 with
 * the language named (node/cli/i18n.c), and these tests rely on that.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "run.h"

TestSuite(node_cli_i18n, .init = test_tmp_make, .fini = test_tmp_remove);

/* Runs strata under the locale (LC_ALL) given; the suite's default is C. */
#define RUN_IN(loc, r, ...)                                                                                  \
	do {                                                                                                 \
		setenv("LC_ALL", (loc), 1);                                                                  \
		run_strata((r), __VA_ARGS__, NULL);                                                          \
		setenv("LC_ALL", "C", 1);                                                                    \
	} while (0)

Test(node_cli_i18n, help_in_the_locales_language)
{
	struct run r;

	RUN_IN("zh_CN.UTF-8", &r, "--help");
	cr_assert_eq(r.status, 0);
	cr_assert(has(r.out, "用法：strata 命令") && has(r.out, "创建节点：密钥文件、存储、配置"), "%s", r.out);
	cr_assert(has(r.out, "退出码"), "the end of the usage is not translated:\n%s", r.out);
	run_free(&r);
	RUN_IN("C", &r, "--help");
	cr_assert(has(r.out, "usage: strata COMMAND") && !has(r.out, "用法"), "%s", r.out);
	run_free(&r);
	/* LANG alone, as a desktop sets it, and a command's own help */
	unsetenv("LC_ALL");
	setenv("LANG", "zh_CN.UTF-8", 1);
	run_strata(&r, "init", "--help", NULL);
	setenv("LC_ALL", "C", 1);
	cr_assert_eq(r.status, 0);
	cr_assert(has(r.out, "用法：strata init") && has(r.out, "--name 组织路径"), "%s", r.out);
	run_free(&r);
}

Test(node_cli_i18n, refusals_in_the_locales_language)
{
	struct run r;
	char missing[256], bad[256];
	struct stat st;

	tmp_path(missing, "none");
	RUN_IN("zh_CN.UTF-8", &r, "status", "-d", missing);
	cr_assert_eq(r.status, 4, "exit %d", r.status);
	cr_assert(has(r.err, "中没有 Strata 节点"), "the library's reason is not translated: %s", r.err);
	run_free(&r);
	RUN_IN("C", &r, "status", "-d", missing);
	cr_assert_eq(r.status, 4);
	cr_assert(has(r.err, "no Strata node in"), "%s", r.err);
	run_free(&r);
	/* a refusal made by the library, with its values in order */
	tmp_path(bad, "bad");
	RUN_IN("zh_CN.UTF-8", &r, "init", "-d", bad, "--name", "Xiamen");
	cr_assert_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_assert(has(r.err, "组织路径“Xiamen”无效"), "%s", r.err);
	cr_assert_neq(stat(bad, &st), 0, "a refused init left %s behind", bad);
	run_free(&r);
	/* the CLI's own usage error */
	RUN_IN("zh_CN.UTF-8", &r, "status", "--bogus");
	cr_assert_eq(r.status, 1);
	cr_assert(has(r.err, "未知选项") && has(r.err, "（见 strata status --help）"), "%s", r.err);
	run_free(&r);
}

/* Terminal cells of UTF-8 text from s up to p: the Chinese characters
 * used here are 3-byte sequences taking two cells. */
static size_t cells(const char *s, const char *p)
{
	size_t w = 0;

	for (; s < p; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0xe3 && c <= 0xef) {
			w += 2;
			s += 2;
		} else {
			w += (c & 0xc0) != 0x80;
		}
	}
	return w;
}

/* The cell at which word starts on the line of out that holds tag. */
static size_t column_of(const char *out, const char *tag, const char *word)
{
	const char *line = strstr(out, tag), *start, *at;

	cr_assert_not_null(line, "no line with %s in:\n%s", tag, out);
	for (start = line; start > out && start[-1] != '\n'; start--)
		;
	at = strstr(start, word);
	cr_assert(at && !memchr(start, '\n', (size_t)(at - start)), "no %s on the line of %s in:\n%s", word, tag, out);
	return cells(start, at);
}

Test(node_cli_i18n, tables_align_by_display_width)
{
	struct run r;
	size_t col;

	node_init("xiamen/huli/hetong");
	run_strata(&r, "member", "add", "-d", test_node, "--id", "M0001", "--name", "郑文君", "--category", "full",
		   "--joined", "2001-07-01", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "meeting", "add", "-d", test_node, "--id", "m1", "--kind", "committee-meeting", "--date",
		   "2026-03-05", "--topic", "支部委员会", "--present", "M0001", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "meeting", "add", "-d", test_node, "--id", "m2", "--kind", "committee-meeting", "--date",
		   "2026-03-06", "--topic", "study", "--present", "M0001", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	/* the column after the topic starts at the same cell on every line */
	RUN_IN("C", &r, "meeting", "list", "-d", test_node);
	cr_assert_eq(r.status, 0, "%s", r.err);
	col = column_of(r.out, "m1 ", "M0001");
	cr_assert_eq(column_of(r.out, "m2 ", "M0001"), col, "rows not aligned:\n%s", r.out);
	/* the header: a kind is wider than its column and pushes the rest
	 * equally, so compare from the topic's column on */
	cr_assert_eq(column_of(r.out, "topic", "present") - column_of(r.out, "topic", "topic"),
		     col - column_of(r.out, "m1 ", "支部委员会"), "header not aligned:\n%s", r.out);
	run_free(&r);
	/* translated headers (two cells a character) line up with the values */
	RUN_IN("zh_CN.UTF-8", &r, "member", "list", "-d", test_node);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(column_of(r.out, "党支部", "类别"), column_of(r.out, "M0001", "full"), "member list:\n%s", r.out);
	cr_assert_eq(column_of(r.out, "党支部", "名称"), column_of(r.out, "M0001", "郑文君"), "member list:\n%s",
		     r.out);
	run_free(&r);
}

Test(node_cli_i18n, human_times_are_local_json_stays_utc)
{
	struct run r;
	json_t *j;
	char want[64];
	time_t s;
	struct tm tm;
	json_int_t ms;

	run_strata(&r, "init", "-d", test_node, "--name", "xiamen", "--root", NULL); /* a root signs at once */
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "log", "-d", test_node, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	j = run_json(&r);
	ms = json_integer_value(json_object_get(json_array_get(j, 0), "time_ms"));
	cr_assert_gt(ms, 0, "no time_ms in the JSON:\n%s", r.out);
	json_decref(j);
	run_free(&r);
	/* UTC+8 without zoneinfo (a POSIX TZ): the wall time 8 hours ahead */
	s = (time_t)(ms / 1000) + 8 * 3600;
	gmtime_r(&s, &tm);
	strftime(want, sizeof want, "%Y-%m-%d %H:%M:%S +0800", &tm);
	setenv("TZ", "CST-8", 1);
	run_strata(&r, "log", "-d", test_node, NULL);
	cr_assert(has(r.out, want), "no %s in:\n%s", want, r.out);
	run_free(&r);
	run_strata(&r, "log", "-d", test_node, "--json", NULL);
	cr_assert(!has(r.out, "+0800"), "the JSON changed with TZ:\n%s", r.out);
	run_free(&r);
	setenv("TZ", "UTC", 1);
	s = (time_t)(ms / 1000);
	gmtime_r(&s, &tm);
	strftime(want, sizeof want, "%Y-%m-%d %H:%M:%S +0000", &tm);
	run_strata(&r, "log", "-d", test_node, NULL);
	cr_assert(has(r.out, want), "no %s in:\n%s", want, r.out);
	run_free(&r);
}

Test(node_cli_i18n, root_display_name_checked_at_init)
{
	struct run r;
	char dir[256];
	struct stat st;
	json_t *j;

	/* a child's comes from its parent; bad text is refused; nothing is made */
	tmp_path(dir, "child");
	run_strata(&r, "init", "-d", dir, "--name", "xiamen/huli", "--display-name", "湖里区", NULL);
	cr_assert_eq(r.status, 2, "exit %d", r.status);
	cr_assert(has(r.err, "strata invite --display-name"), "%s", r.err);
	run_free(&r);
	tmp_path(dir, "tab");
	run_strata(&r, "init", "-d", dir, "--name", "xiamen", "--root", "--display-name", "厦门\t市", NULL);
	cr_assert_eq(r.status, 2, "a tab was accepted");
	cr_assert_neq(stat(dir, &st), 0, "a refused init left %s behind", dir);
	run_free(&r);
	run_strata(&r, "init", "-d", test_node, "--name", "xiamen", "--root", "--display-name", "厦门市", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	run_strata(&r, "status", "-d", test_node, "--json", NULL);
	j = run_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(j, "display_name")), "厦门市");
	json_decref(j);
	run_free(&r);
	run_strata(&r, "status", "-d", test_node, NULL);
	cr_assert(has(r.out, "node:   xiamen (厦门市)"), "%s", r.out);
	run_free(&r);
	run_strata(&r, "id", "-d", test_node, NULL);
	cr_assert(has(r.out, "name: xiamen (厦门市)"), "%s", r.out);
	run_free(&r);
}
